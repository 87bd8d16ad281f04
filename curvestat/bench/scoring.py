"""Scoring detections against ground truth, river-style.

Unit of scoring: a (run, pathology) pair. A detector *detects* pathology P on
a run when it returns at least one finding of P with severity ``warning`` or
``critical`` (``info`` findings are explained observations, not detections).
Runs may carry several labels; each pathology is scored on its own.

Matching with a tolerance window
--------------------------------
When the truth has exactly one label and an onset step, and the detector's
findings of that pathology carry onsets, the detection only counts if one of
them lies within ``onset_tolerance x span`` steps of the true onset (``span`` =
last - first logged step of the run; default 5 %; at least 1 step; at least
two grid intervals when the truth gives an ``onset_resolution``, the
evaluation interval of an onset read on the validation loss). A finding
without an onset is accepted (the detector says "somewhere"). A detection
outside the window is a *misplaced* detection: it counts as a false positive
**and** the truth as a miss, as in river's drift-detection scores.

Per pathology P (NaN when undefined, never 0 by convention)
-----------------------------------------------------------
* ``precision = TP / (TP + FP)`` (NaN when the detector never fires),
  ``recall = TP / (TP + FN)`` (NaN without positive runs),
  ``f1 = 2TP / (2TP + FP + FN)`` (NaN only when there is neither a positive run
  nor a detection: a detector that never fires on a corpus with positives gets
  F1 = 0, not NaN);
* ``false_alarm_rate``: share of *healthy* runs (no label) on which P was
  detected;
* onset error over positive runs where both the truth (single label) and a
  finding have an onset: the finding closest to the truth; median absolute
  error in steps and in % of the span, median signed error (detection delay),
  and the share within the tolerance window;
* period error over detected positives with a true and a found period:
  median relative error ``|found - true| / true`` and share within 10 %;
* power: detection rate of positive runs by difficulty tercile (synthetic) and
  by effect-size quartile within each kind;
* calibration: empirical false-positive rate on healthy runs of findings with
  ``p_value <= a`` for each level ``a`` (NaN when the detector reports no
  p-value). A calibrated test at level ``a`` shows a rate at most ``a`` (plus
  sampling error ``sqrt(a(1-a)/n)``).

``macro_f1`` is the mean F1 over the pathologies that have positive runs in
the corpus; ``false_alarm_any`` the share of healthy runs with any detection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..report import Finding, Pathology, Severity, Skipped
from .corpus import Truth

__all__ = ["Detection", "score", "as_detections", "CALIBRATION_LEVELS"]

#: Significance levels at which p-value calibration is reported.
CALIBRATION_LEVELS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.05)


@dataclass(frozen=True, slots=True)
class Detection:
    """The part of a :class:`~curvestat.report.Finding` that scoring needs."""

    pathology: Pathology
    onset_step: int | None = None
    period_steps: float | None = None
    p_value: float | None = None
    kind: str = ""

    @classmethod
    def from_finding(cls, f: Any) -> Detection:
        return cls(Pathology(f.pathology), f.onset_step, f.period_steps, f.p_value, getattr(f, "kind", ""))


def as_detections(out: Any) -> list[Detection]:
    """Turn a detector's output (findings, a Report or a Skipped) into counted detections.

    Only ``warning`` and ``critical`` findings count.
    """
    if out is None or isinstance(out, Skipped):
        return []
    findings = getattr(out, "findings", out)
    res = []
    for f in findings:
        if isinstance(f, Detection):
            res.append(f)
            continue
        sev = getattr(f, "severity", Severity.WARNING)
        if Severity(sev) is Severity.INFO:
            continue
        res.append(Detection.from_finding(f))
    return res


def _nan_div(a: float, b: float) -> float:
    return float(a) / float(b) if b else math.nan


def _median(x: list[float]) -> float:
    return float(np.median(x)) if x else math.nan


def score(
    truths: Sequence[Truth],
    detections: Sequence[Sequence[Detection | Finding]],
    spans: Sequence[float],
    *,
    onset_tolerance: float = 0.05,
    calibration_levels: Sequence[float] = CALIBRATION_LEVELS,
    skipped: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """Score one detector's detections on a labelled corpus.

    Parameters
    ----------
    truths : sequence of Truth
        Ground truth, one per run.
    detections : sequence of sequences of Detection or Finding
        What the detector found on each run (info findings are dropped).
    spans : sequence of float
        Each run's span in steps (last - first logged step), for the onset window.
    onset_tolerance : float, default 0.05
        Half-width of the onset window as a share of the span (at least two
        ``Truth.onset_resolution`` intervals when the truth gives one).
    calibration_levels : sequence of float
        Levels ``a`` of the p-value calibration.
    skipped : sequence of bool, optional
        Whether the detector skipped each run (reported, scored as no detection).

    Returns
    -------
    dict
        ``{"pathologies": {name: {...}}, "macro_f1", "false_alarm_any",
        "n_runs", "n_healthy", "skipped_rate"}``; see the module docstring.

    Raises
    ------
    ParameterError
        If the lengths differ or ``onset_tolerance`` is negative.

    Examples
    --------
    >>> from curvestat.bench import Truth, Detection, score
    >>> from curvestat import Pathology
    >>> t = [Truth({Pathology.EXPLOSION}, onset_step=50), Truth()]
    >>> s = score(t, [[Detection(Pathology.EXPLOSION, 52)], []], spans=[100, 100])
    >>> s["pathologies"]["explosion"]["f1"], s["false_alarm_any"]
    (1.0, 0.0)
    """
    n = len(truths)
    if len(detections) != n or len(spans) != n:
        raise ParameterError(f"score: {n} truths but {len(detections)} detection lists and {len(spans)} spans")
    if onset_tolerance < 0:
        raise ParameterError(f"onset_tolerance must be >= 0, got {onset_tolerance!r}")
    dets = [as_detections(d) for d in detections]
    healthy = np.array([t.healthy for t in truths], dtype=bool)
    n_healthy = int(healthy.sum())
    any_det = np.array([bool(d) for d in dets], dtype=bool)
    uses_p = any(x.p_value is not None for d in dets for x in d)
    out: dict[str, Any] = {"n_runs": n, "n_healthy": n_healthy, "pathologies": {}}
    f1s = []
    for p in Pathology:
        tp = fp = fn = misplaced = 0
        fa = 0
        on_abs: list[float] = []
        on_pct: list[float] = []
        on_signed: list[float] = []
        on_hit = 0
        per_err: list[float] = []
        det_flag: list[bool] = []
        diffs: list[float] = []
        kinds: list[str] = []
        effects: list[float] = []
        cal = {a: 0 for a in calibration_levels}
        n_pos = 0
        for i, (t, d) in enumerate(zip(truths, dets)):
            mine = [x for x in d if x.pathology is p]
            pos = p in t.labels
            if not pos:
                if mine:
                    fp += 1
                    if t.healthy:
                        fa += 1
                if t.healthy and uses_p:
                    ps = [x.p_value for x in mine if x.p_value is not None]
                    for a in calibration_levels:
                        if ps and min(ps) <= a:
                            cal[a] += 1
                continue
            n_pos += 1
            det_flag.append(bool(mine))
            diffs.append(t.difficulty if t.difficulty is not None else math.nan)
            kinds.append(t.kind)
            effects.append(t.effect_size if t.effect_size is not None else math.nan)
            if not mine:
                fn += 1
                continue
            # an onset read on a coarser grid (evaluations) cannot be placed
            # closer than that grid: the window is at least two intervals of
            # it, the onset accuracy the overfitting detector is held to
            tol = max(onset_tolerance * float(spans[i]), 2.0 * (t.onset_resolution or 0.0), 1.0)
            matched = True
            if t.onset_step is not None and len(t.labels) == 1:
                onsets = [x.onset_step for x in mine if x.onset_step is not None]
                if onsets:
                    errs = [o - t.onset_step for o in onsets]
                    e = min(errs, key=abs)
                    on_abs.append(abs(e))
                    on_signed.append(e)
                    on_pct.append(100.0 * abs(e) / max(float(spans[i]), 1.0))
                    within = abs(e) <= tol
                    on_hit += int(within)
                    matched = within or len(onsets) < len(mine)
            if matched:
                tp += 1
            else:
                fp += 1
                fn += 1
                misplaced += 1
            if t.period_steps:
                found = [x.period_steps for x in mine if x.period_steps]
                if found:
                    per_err.append(min(abs(f - t.period_steps) / t.period_steps for f in found))
        f1 = _nan_div(2 * tp, 2 * tp + fp + fn)
        if n_pos:
            f1s.append(f1)
        rec = {
            "n_pos": n_pos,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "misplaced": misplaced,
            "precision": _nan_div(tp, tp + fp),
            "recall": _nan_div(tp, tp + fn),
            "f1": f1,
            "false_alarm_rate": _nan_div(fa, n_healthy),
            "onset_n": len(on_abs),
            "onset_median_abs_steps": _median(on_abs),
            "onset_median_abs_pct": _median(on_pct),
            "onset_median_signed_steps": _median(on_signed),
            "onset_within_tolerance": _nan_div(on_hit, len(on_abs)),
            "period_n": len(per_err),
            "period_median_rel_error": _median(per_err),
            "period_within_10pct": _nan_div(sum(e <= 0.1 for e in per_err), len(per_err)),
            "power_by_difficulty": _power_by_difficulty(det_flag, diffs),
            "power_by_effect": _power_by_effect(det_flag, kinds, effects),
            "calibration": {str(a): (_nan_div(cal[a], n_healthy) if uses_p else math.nan) for a in calibration_levels},
        }
        out["pathologies"][p.value] = rec
    out["macro_f1"] = float(np.nanmean(f1s)) if f1s and not all(math.isnan(x) for x in f1s) else math.nan
    out["macro_over"] = [p.value for p in Pathology if out["pathologies"][p.value]["n_pos"]]
    out["false_alarm_any"] = _nan_div(int((any_det & healthy).sum()), n_healthy)
    out["skipped_rate"] = float(np.mean(skipped)) if skipped is not None and len(skipped) else 0.0
    return out


_TERCILES = (("easy", 0.0, 1 / 3), ("medium", 1 / 3, 2 / 3), ("hard", 2 / 3, 1.0 + 1e-9))


def _power_by_difficulty(flags: list[bool], diffs: list[float]) -> dict[str, Any]:
    f = np.asarray(flags, dtype=bool)
    d = np.asarray(diffs, dtype=float)
    res = {}
    for name, lo, hi in _TERCILES:
        m = (d >= lo) & (d < hi)
        res[name] = {"n": int(m.sum()), "rate": float(f[m].mean()) if m.any() else math.nan}
    return res


def _power_by_effect(flags: list[bool], kinds: list[str], effects: list[float]) -> dict[str, list[dict[str, float]]]:
    """Detection rate in effect-size quartile bins, per kind (kinds with >= 8 finite effects)."""
    f = np.asarray(flags, dtype=bool)
    e = np.asarray(effects, dtype=float)
    k = np.asarray(kinds, dtype=object)
    res: dict[str, list[dict[str, float]]] = {}
    for kind in sorted(set(kinds)):
        m = (k == kind) & np.isfinite(e)
        if m.sum() < 8:
            continue
        ek, fk = e[m], f[m]
        edges = np.quantile(ek, [0, 0.25, 0.5, 0.75, 1.0])
        rows = []
        for j in range(4):
            lo, hi = edges[j], edges[j + 1]
            sel = (ek >= lo) & ((ek <= hi) if j == 3 else (ek < hi))
            rows.append({"effect_lo": float(lo), "effect_hi": float(hi), "n": int(sel.sum()),
                         "rate": float(fk[sel].mean()) if sel.any() else math.nan})
        res[kind] = rows
    return res
