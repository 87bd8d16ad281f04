"""Run detectors over a labelled corpus and score them side by side.

:func:`run_benchmark` runs every detector on every run of a corpus (in
parallel over runs when ``workers > 1``), keeps the counted detections, and
scores each detector with :func:`~curvestat.bench.scoring.score`. The result,
:class:`BenchResult`, prints as a text table and serialises to JSON.

Detector specifications
-----------------------
``"curvestat"`` means all built-in detectors of
:data:`curvestat.detectors.REGISTRY`, run through
:func:`curvestat.analyze.run_detectors` (while the registry is empty it finds
nothing, and the table shows that). ``"sagemaker"``, ``"lightning"``,
``"keras"`` and ``"naive"`` are the peer baselines of
:mod:`curvestat.bench.baselines`. Any object with ``name`` and
``detect(run, config)`` is accepted too (it must be picklable when
``workers > 1``).

A detector that raises on a run is recorded (``errors`` in the result, the
first messages kept) and scored as not detecting on that run, so that one bug
does not hide the numbers of the others.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..detectors.pipeline import call_detector
from ..errors import InsufficientDataError, ParameterError
from ..report import Pathology, Skipped
from .baselines import BASELINES
from .corpus import Corpus, LabelledRun
from .scoring import CALIBRATION_LEVELS, Detection, as_detections, score

__all__ = ["run_benchmark", "BenchResult", "DEFAULT_DETECTORS", "ProgressBar"]

#: Detectors compared by default, ours first.
DEFAULT_DETECTORS: tuple[str, ...] = ("curvestat", "sagemaker", "lightning", "keras", "naive")


class _Curvestat:
    """All registered curvestat detectors behind the one-detector protocol."""

    name = "curvestat"

    def __init__(self) -> None:
        from ..detectors import available_detectors, get_detector

        self._dets = [get_detector(n) for n in available_detectors()]

    def detect(self, run, config):
        from ..analyze import run_detectors

        report = run_detectors(run, config, self._dets)
        if not report.detectors and report.skipped:
            return Skipped(self.name, "; ".join(f"{s.detector}: {s.reason}" for s in report.skipped))
        return report.findings


def _resolve(spec: Any):
    if isinstance(spec, str):
        if spec == "curvestat":
            return _Curvestat()
        if spec in BASELINES:
            return BASELINES[spec]()
        if ":" in spec:
            # a user's detector by import path, e.g. "mypkg.checks:my_detector"
            import importlib

            module, _, attr = spec.partition(":")
            try:
                obj = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ParameterError(f"cannot load detector {spec!r}: {exc}") from None
            obj = obj() if isinstance(obj, type) else obj
            if hasattr(obj, "detect") and hasattr(obj, "name"):
                return obj
            raise ParameterError(f"{spec!r} has no .name and .detect(run, config)")
        raise ParameterError(
            f"unknown detector {spec!r}; expected 'curvestat', one of {sorted(BASELINES)}, "
            "an import path 'module:object', or an object with .name and .detect(run, config)"
        )
    if hasattr(spec, "detect") and hasattr(spec, "name"):
        return spec
    raise ParameterError(f"a detector must be a name or have .name and .detect(run, config), got {spec!r}")


def _span(run) -> float:
    lo = min(int(s.steps[0]) for s in run)
    hi = max(int(s.steps[-1]) for s in run)
    return float(hi - lo)


def _detect_one(det, run, config) -> tuple[list[Detection], bool, str | None, float]:
    t0 = time.perf_counter()
    try:
        out = call_detector(det, run, config)
    except InsufficientDataError:
        return [], True, None, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - recorded, see module docstring
        return [], False, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0
    skipped = isinstance(out, Skipped)
    return as_detections(out), skipped, None, time.perf_counter() - t0


def _work(args):
    specs, runs, config = args
    dets = [_resolve(s) for s in specs]
    res = []
    for run in runs:
        res.append([_detect_one(d, run, config) for d in dets])
    return res


class ProgressBar:
    """A plain stderr progress bar; silent when ``stream`` is not a TTY or ``enabled`` is False."""

    def __init__(self, total: int, *, label: str = "bench", enabled: bool | None = None, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.total = max(int(total), 1)
        self.label = label
        self.done = 0
        self.t0 = time.perf_counter()
        self.enabled = (getattr(self.stream, "isatty", lambda: False)()) if enabled is None else bool(enabled)

    def update(self, k: int = 1) -> None:
        self.done += k
        if not self.enabled:
            return
        frac = min(1.0, self.done / self.total)
        width = 30
        bar = "#" * int(round(frac * width))
        el = time.perf_counter() - self.t0
        self.stream.write(f"\r{self.label} [{bar:<{width}}] {self.done}/{self.total} {el:5.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class BenchResult:
    """Scores of several detectors on one corpus.

    Attributes
    ----------
    corpus : str
        Corpus name.
    counts : dict
        Runs per label in the corpus.
    scores : dict
        ``{detector: score dict}`` (see :func:`~curvestat.bench.scoring.score`),
        plus ``errors`` (count and first messages) and ``seconds`` per detector.
    wall_seconds : float
        Wall time of the whole benchmark.
    meta : dict
        Corpus metadata (generator parameters), workers, config alpha.
    """

    corpus: str
    counts: dict[str, int]
    scores: dict[str, dict[str, Any]]
    wall_seconds: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; NaN becomes ``null``."""
        return _jsonable({"corpus": self.corpus, "counts": self.counts, "wall_seconds": self.wall_seconds,
                          "meta": self.meta, "scores": self.scores})

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON (written to ``path`` when given)."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def table(self) -> str:
        """The side-by-side text table."""
        return format_table(self)

    def __str__(self) -> str:
        return self.table()


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return None if (math.isnan(f) or math.isinf(f)) else f
    if isinstance(x, np.integer):
        return int(x)
    return x


def _f(x: float, nd: int = 2) -> str:
    return "  -" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


_ABBR = {"non_convergence": "nonconv", "explosion": "explos", "metric_contradiction": "contra",
         "overfitting": "overfit", "periodic": "period"}


def format_table(res: BenchResult) -> str:
    """Render a :class:`BenchResult` as text: a summary, then per-pathology detail."""
    c = res.counts
    lines = []
    npos = ", ".join(f"{k} {v}" for k, v in c.items())
    lines.append(f"corpus: {res.corpus} ({res.meta.get('n_runs', '?')} runs: {npos})")
    lines.append(f"wall time {res.wall_seconds:.1f} s, workers {res.meta.get('workers', 1)}, alpha {res.meta.get('alpha')}, "
                 f"onset window +-{100 * res.meta.get('onset_tolerance', 0.05):.0f}% of run span (at least 2 evaluation intervals for onsets on the validation loss)")
    lines.append("")
    head = f"{'detector':<11} {'macro-F1':>8} {'FAR(any)':>8} " + " ".join(f"{_ABBR[p.value]:>7}" for p in Pathology) + f" {'skipped':>7} {'errors':>6} {'s':>6}"
    lines.append("F1 per pathology; FAR = false-alarm rate on healthy runs")
    lines.append(head)
    lines.append("-" * len(head))
    for det, s in res.scores.items():
        f1s = " ".join(f"{_f(s['pathologies'][p.value]['f1']):>7}" for p in Pathology)
        lines.append(f"{det:<11} {_f(s['macro_f1']):>8} {_f(s['false_alarm_any']):>8} {f1s} "
                     f"{_f(s['skipped_rate']):>7} {s['errors']['count']:>6} {s['seconds']:>6.1f}")
    lines.append("")
    head2 = (f"{'pathology':<8} {'detector':<10} {'n':>4} {'prec':>5} {'recall':>6} {'F1':>5} {'FAR':>5} "
             f"{'onset|err|%':>11} {'in-win':>6} {'period err':>10} {'power e/m/h':>14} {'FPR@a':>6}")
    lines.append("per pathology: onset |err| = median % of run span; power = detection rate easy/medium/hard; FPR@a = healthy "
                 "false-positive rate of findings with p <= alpha")
    lines.append(head2)
    lines.append("-" * len(head2))
    alpha = res.meta.get("alpha")
    for p in Pathology:
        for det, s in res.scores.items():
            r = s["pathologies"][p.value]
            pw = r["power_by_difficulty"]
            pws = "/".join(_f(pw[k]["rate"], 2).strip() for k in ("easy", "medium", "hard"))
            cal = r["calibration"].get(str(alpha), math.nan) if alpha is not None else math.nan
            lines.append(
                f"{_ABBR[p.value]:<8} {det:<10} {r['n_pos']:>4} {_f(r['precision']):>5} {_f(r['recall']):>6} {_f(r['f1']):>5} "
                f"{_f(r['false_alarm_rate']):>5} {_f(r['onset_median_abs_pct'], 1):>11} {_f(r['onset_within_tolerance']):>6} "
                f"{_f(r['period_median_rel_error']):>10} {pws:>14} {_f(cal, 3):>6}"
            )
    lines.extend(_legend(res))
    return "\n".join(lines)


#: The rule behind each peer baseline, with its documented defaults (see curvestat.bench.baselines).
_BASELINE_RULES = {
    "sagemaker": "SageMaker Debugger built-in rules: LossNotDecreasing (loss >= loss num_steps earlier), Overfit "
                 "((val - train)/train > 0.1), Overtraining (no new optimum for patience), ExplodingTensor (NaN/Inf), "
                 "UnchangedTensor (loss allclose over 3 saved steps)",
    "lightning": "PyTorch Lightning callbacks: EarlyStopping on val loss (patience 3, min_delta 0, stops on a non-finite value) and "
                 "SpikeDetection (a step at least 2x the running mean of the last 10)",
    "keras": "Keras callbacks: TerminateOnNaN and EarlyStopping on val loss (patience 0 / min_delta 0 defaults)",
    "naive": "naive thresholds a practitioner writes by hand (see curvestat.bench.NaiveThresholds)",
}


def _legend(res: BenchResult) -> list[str]:
    out = [
        "",
        "columns: P/R/F1 = precision/recall/F1 of flagging the pathology on a run (a warning or critical finding; info never",
        "  flags); FAR = share of healthy runs flagged; onset |err|% = median distance of the reported onset from the true one,",
        "  in % of the run's span; in-win = share of onsets within the tolerance window; period err = median relative error",
        "  of the period; power e/m/h = detection rate by difficulty (synthetic corpora); FPR@a = share of healthy runs with",
        "  a finding whose p-value <= alpha; skipped = share of runs some detector could not judge; s = seconds",
    ]
    named = [d for d in res.scores if d in _BASELINE_RULES]
    if named:
        out.append("baselines (rules with their documented defaults, replayed post hoc on the log):")
        out.extend(f"  {d}: {_BASELINE_RULES[d]}" for d in named)
    return out


def run_benchmark(
    corpus: Corpus | Sequence[LabelledRun],
    detectors: Iterable[Any] = DEFAULT_DETECTORS,
    *,
    config: Config | None = None,
    workers: int | None = 1,
    progress: bool | None = None,
    onset_tolerance: float = 0.05,
    chunk_size: int = 25,
) -> BenchResult:
    """Run detectors over a labelled corpus and score them side by side.

    Parameters
    ----------
    corpus : Corpus or sequence of LabelledRun
        From :func:`~curvestat.bench.synthetic`, :func:`~curvestat.bench.load_corpus`, ...
    detectors : iterable of str or Detector, default DEFAULT_DETECTORS
        ``"curvestat"``, baseline names, or detector objects.
    config : Config, optional
        Passed to every detector; its ``alpha`` is the calibration level shown.
    workers : int or None, default 1
        Processes to spread the runs over (``None``: ``os.cpu_count()``).
    progress : bool or None
        Show a progress bar on stderr; None shows it only on a TTY.
    onset_tolerance : float, default 0.05
        Onset window, as a share of each run's span.
    chunk_size : int, default 25
        Runs per task when ``workers > 1``.

    Returns
    -------
    BenchResult

    Raises
    ------
    ParameterError
        On an unknown detector name or a bad ``workers``.
    """
    t_start = time.perf_counter()
    cfg = config or Config()
    items = list(corpus)
    specs = list(detectors)
    dets = [_resolve(s) for s in specs]  # validate names early
    names = [d.name for d in dets]
    if len(set(names)) != len(names):
        raise ParameterError(f"detector names must be unique, got {names}")
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or int(workers) < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    workers = int(workers)
    runs = [it.run for it in items]
    bar = ProgressBar(len(runs), enabled=progress)
    results: list[list[tuple]] = []
    if workers == 1 or len(runs) <= chunk_size:
        for run in runs:
            results.append([_detect_one(d, run, cfg) for d in dets])
            bar.update()
    else:
        # ship names (rebuilt in the worker) for built-ins, the objects otherwise
        wspecs = [s if isinstance(s, str) else d for s, d in zip(specs, dets)]
        chunks = [runs[i:i + chunk_size] for i in range(0, len(runs), chunk_size)]
        with ProcessPoolExecutor(max_workers=workers) as ex:
            for res in ex.map(_work, [(wspecs, ch, cfg) for ch in chunks]):
                results.extend(res)
                bar.update(len(res))
    bar.close()
    truths = [it.truth for it in items]
    spans = [_span(r) for r in runs]
    scores: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(names):
        col = [r[j] for r in results]
        s = score(truths, [c[0] for c in col], spans, onset_tolerance=onset_tolerance,
                  skipped=[c[1] for c in col], calibration_levels=sorted(set(CALIBRATION_LEVELS) | {cfg.alpha}))
        errs = [c[2] for c in col if c[2]]
        s["errors"] = {"count": len(errs), "first": sorted(set(errs))[:5]}
        s["seconds"] = float(sum(c[3] for c in col))
        scores[name] = s
    cname = getattr(corpus, "name", "corpus")
    counts = corpus.counts() if isinstance(corpus, Corpus) else Corpus(items).counts()
    meta = dict(getattr(corpus, "meta", {}) or {})
    meta.update({"n_runs": len(items), "workers": workers, "alpha": cfg.alpha, "onset_tolerance": onset_tolerance,
                 "detectors": names})
    return BenchResult(cname, counts, scores, time.perf_counter() - t_start, meta)
