"""Explosion: "my loss exploded" (non-finite values and upward level shifts).

H0: the train loss stays finite and its log has no upward level shift.

Two pieces of evidence, in this order:

1. **Non-finite scan.** The first NaN or +-Inf value of a loss series is a
   deterministic finding (``kind="non_finite"``) at its step.
2. **Upward level shifts of log loss.** PELT with an L2 cost segments
   ``z = log(loss)`` (finite points before the first non-finite value) with a
   BIC-type penalty ``c * sigma^2 * log(n)``, where ``sigma`` is a robust,
   tail-aware noise scale of ``z`` around its running median. Each upward
   change is measured *locally*: the median of ``z`` just after the change
   minus the median just before it. A change is an explosion when

   * the jump ``J`` exceeds the practical minimum ``log(min_ratio)`` (the
     loss at least doubles by default), and
   * ``J`` exceeds ``min_jump_sigmas`` noise scales (a jump within the noise
     of a heavy-tailed curve is not an explosion).

   The p-value is a Bonferroni-corrected one-sided z-test of the local shift
   (normal noise with scale ``sigma`` and autocorrelation-deflated local
   sample sizes); it ranks findings across runs, the decision rests on both
   gates above. An excursion that falls back below half the jump within
   ``recovery_window`` points is a ``spike`` (its recovery step is
   reported), otherwise a ``divergence``. A jump that coincides with a logged
   learning-rate increase (warm-up, warm restart) is reported as
   ``explained_by_lr`` with severity ``info``.

Downward shifts (fast early learning, learning-rate decay) are never
explosions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Role, Run, Series

__all__ = ["ExplosionDetector", "detector", "REMEDIES_NON_FINITE", "REMEDIES_JUMP"]

REMEDIES_NON_FINITE = (
    "Inspect the batches just before the onset step for NaNs, infinities and anomalous values in inputs and labels.",
    "Guard divisions and logarithms in the loss (log of zero or of a negative number, division by zero).",
    "Clip gradients and lower the learning rate if the loss grew before it became non-finite.",
    "Shuffle the data so that outliers are spread across batches.",
)

REMEDIES_JUMP = (
    "Inspect the batches around the onset step for anomalous values, NaNs and outliers in inputs and labels.",
    "Clip gradients (e.g. to a global norm of 1.0) and lower the learning rate.",
    "Guard divisions and logarithms in the loss against zero and negative arguments.",
    "Shuffle the data so that outliers are spread evenly across batches.",
)


def _first_non_finite(series: Series) -> int | None:
    bad = np.flatnonzero(~np.isfinite(series.values))
    return int(bad[0]) if bad.size else None


def non_finite_finding(series: Series, detector_name: str = "explosion") -> Finding | None:
    """Finding for the first NaN/Inf of ``series``, or None when every value is finite."""
    i = _first_non_finite(series)
    if i is None:
        return None
    value = series.values[i]
    what = "NaN" if np.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    n_bad = int(np.count_nonzero(~np.isfinite(series.values[i:])))
    tail = len(series) - i
    last_finite = series.values[:i][np.isfinite(series.values[:i])]
    before = f" after a last finite value of {last_finite[-1]:.4g}" if last_finite.size else " from the first logged step"
    return Finding(
        pathology=Pathology.EXPLOSION,
        kind="non_finite",
        series=series.name,
        p_value=None,
        statistic=None,
        effect={"non_finite_count": float(n_bad), "non_finite_share_after_onset": n_bad / tail},
        onset_step=int(series.steps[i]),
        severity=Severity.CRITICAL,
        message=(
            f"{series.name} becomes {what} at step {int(series.steps[i])}{before}; "
            f"{n_bad} of the {tail} values from there on are non-finite."
        ),
        remedies=REMEDIES_NON_FINITE,
        detector=detector_name,
    )


# --- level shifts -------------------------------------------------------------------------


def _log_loss(values: np.ndarray) -> np.ndarray | None:
    """log of a positive loss; None when the loss takes negative values (no ratio scale)."""
    from ..stats import safe_log

    if np.min(values) > 0:
        return safe_log(values)
    if np.min(values) == 0:
        positive = values[values > 0]
        if positive.size == 0:
            return None
        return safe_log(values, floor=1e-3 * float(np.median(positive)))
    return None


def _residuals(z: np.ndarray, window: int) -> np.ndarray:
    """Residuals of ``z`` around its running median (robust to jumps and trends)."""
    from ..stats import robust_smooth

    return z - robust_smooth(z, window=window)


def _noise_scale(r: np.ndarray) -> float:
    """Tail-aware noise scale of residuals ``r``.

    The larger of the MAD scale and a *tail scale*: the median, over ten
    blocks, of each block's largest absolute residual, divided by the value a
    Gaussian block maximum has (so that both agree for Gaussian noise).
    Heavy-tailed noise raises the tail scale, so a jump must clear the noise
    the curve actually has; a localised excursion lands in one or two blocks
    and cannot inflate the median of ten. Callers pass the residuals *before*
    a candidate jump: the chaos after an explosion is not the null's noise.
    """
    from scipy.special import ndtri

    from ..stats import mad_scale

    if r.size < 3:
        return 1e-12
    dev = np.abs(r - np.median(r))
    s_mad = mad_scale(r)
    n_blocks = 10
    m = dev.size // n_blocks
    s_tail = 0.0
    if m >= 10:
        block_max = dev[: m * n_blocks].reshape(n_blocks, m).max(axis=1)
        # median of the maximum of m half-normal draws: P(max <= q) = 1/2
        # (ndtri is the normal quantile without scipy.stats' per-call overhead)
        gauss_max = float(-ndtri(0.5 * (1 - 0.5 ** (1.0 / m))))
        s_tail = float(np.median(block_max)) / gauss_max
    return max(s_mad, s_tail, 1e-12)


def _lag1(r: np.ndarray) -> float:
    if r.size < 4:
        return 0.0
    rc = r - r.mean()
    den = float(np.dot(rc, rc))
    return float(np.clip(np.dot(rc[:-1], rc[1:]) / den, 0.0, 0.99)) if den > 0 else 0.0


def _lr_explanation(lr: Series | None, step_lo: int, step_hi: int) -> float:
    """Factor by which a *scheduled* learning-rate rise within [step_lo, step_hi] explains a jump.

    Returns the largest rise of the logged learning rate inside the window
    (1.0 when there is none or no ``lr`` series). A rise counts as scheduled
    (warm-up, warm restart, cyclic schedule) only when the learning rate it
    reaches stays within the range the schedule already visited before the
    window (at most 1.1 times the earlier maximum), or when the learning rate
    has only been rising so far (warm-up). A spike to a learning rate never
    seen before is itself the anomaly, and explains nothing: the jump it
    causes is an explosion.
    """
    if lr is None:
        return 1.0
    s, v = lr.steps, lr.values
    ok = np.isfinite(v) & (v > 0)
    s, v = s[ok], v[ok]
    if v.size < 2:
        return 1.0
    i0 = max(0, int(np.searchsorted(s, step_lo, side="right")) - 1)
    i1 = int(np.searchsorted(s, step_hi, side="right"))
    seg = v[i0 : max(i1, i0 + 1)]
    if seg.size < 2:
        return 1.0
    rise = float(np.max(seg / np.minimum.accumulate(seg)))
    earlier = v[:i0]
    # warm-up: the learning rate has been rising since the start of the run,
    # and had already risen before the window (a constant rate that suddenly
    # spikes is no warm-up)
    warming_up = i0 > 0 and v[i0] > v[0] and bool(np.all(np.diff(v[: i0 + 1]) >= 0))
    within_range = earlier.size > 0 and float(np.max(seg)) <= 1.1 * float(np.max(earlier))
    return rise if (warming_up or within_range) else 1.0


class ExplosionDetector:
    """Detect exploding losses: non-finite values, then upward level shifts of log loss.

    Attributes
    ----------
    name : str
        ``"explosion"``.

    Notes
    -----
    See the module docstring and ``docs/detectors/explosion.rst`` for the
    model and decision rule; thresholds are in :class:`curvestat.config.ExplosionConfig`.
    """

    name = "explosion"
    pathology = Pathology.EXPLOSION

    def detect(self, run: Run, config: Config, **_: Any) -> Sequence[Finding] | Skipped:
        """Scan the loss series of ``run``; return findings or a Skipped with the reason."""
        losses = run.by_role(Role.TRAIN_LOSS) + run.by_role(Role.VAL_LOSS)
        if not losses:
            return Skipped(self.name, "no loss series (name one with roles={'name': 'train_loss'})")
        # One root cause, one finding: a loss that turns non-finite after
        # another one already did repeats the same event.
        non_finite = [f for f in (non_finite_finding(s, self.name) for s in losses) if f is not None]
        findings: list[Finding] = [min(non_finite, key=lambda f: f.onset_step or 0)] if non_finite else []
        primary = run.train_loss or run.val_loss
        assert primary is not None  # losses is non-empty
        findings.extend(self._level_shifts(primary, run.lr, config))
        return findings

    # ------------------------------------------------------------------------------------
    def _level_shifts(self, series: Series, lr: Series | None, config: Config) -> list[Finding]:
        from ..stats import pelt

        cfg = config.explosion
        stop = _first_non_finite(series)
        values = series.values[: stop if stop is not None else len(series)]
        steps = series.steps[: values.size]
        if values.size < cfg.min_points:
            return []
        z = _log_loss(values)
        if z is None:
            return []  # losses below zero have no ratio scale; only the non-finite scan applies
        n = z.size
        # Long series: segment block *maxima* of at most cfg.max_segment_points
        # blocks. Maxima keep every upward excursion, a one-point spike
        # included, at full height (block means would dilute it), and keep
        # PELT fast on long smooth trends, where its pruning is weak. The
        # onset is refined on the full-resolution series.
        block = max(1, math.ceil(n / cfg.max_segment_points))
        if block > 1:
            m = n // block
            head = z[: m * block].reshape(m, block).max(axis=1)
            zb = np.append(head, z[m * block :].max()) if n > m * block else head
        else:
            zb = z
        window = int(min(max(5, (zb.size // 20) | 1), 101))
        resid = _residuals(zb, window)
        sigma_all = _noise_scale(resid)
        penalty = cfg.penalty_factor * sigma_all**2 * math.log(max(zb.size, 3))
        cp = pelt(zb, model="l2", penalty=penalty, min_size=1)
        min_ratio_log = math.log(cfg.min_ratio)
        out: list[Finding] = []
        starts = [int(v) for v in cp.segment_starts] + [zb.size]
        means = cp.segment_means
        # A rise is often a ramp that PELT cuts into a staircase: merge runs of
        # consecutive upward changes separated by short segments into one
        # episode, measured from the level before its first change to the
        # level after its last one. A downward change ends an episode, so a
        # spike (up, then down) stays a short excursion.
        gap = max(cfg.local_window, zb.size // 50)
        k = 1
        while k < len(starts) - 1:
            if means[k] <= means[k - 1]:
                k += 1
                continue
            first = k
            while k + 1 < len(starts) - 1 and means[k + 1] > means[k] and starts[k + 1] - starts[k] <= gap:
                k += 1
            last = k
            k += 1
            b = starts[first]
            # the level before: the median of the local_window points before
            # the change, across segment boundaries, so that a short dip
            # (a downward outlier PELT isolated) is not taken for the level
            w_before = min(b, cfg.local_window)
            if b < cfg.min_baseline_points:
                continue  # no level to jump from yet (the first few logged points)
            b_end = starts[last]
            w_after = min(starts[last + 1] - b_end, cfg.local_window)
            before = float(np.median(zb[b - w_before : b]))
            after = float(np.median(zb[b_end : b_end + w_after]))
            jump = after - before
            if jump < min_ratio_log:
                continue
            # the noise the jump must clear is that of the run before it
            prior = resid[: max(b, 3)]
            sigma = _noise_scale(prior) if b >= 20 else sigma_all
            if jump < cfg.min_jump_sigmas * sigma:
                continue
            phi = _lag1(prior)
            # z-test of the local shift with AR(1)-deflated sample sizes, Bonferroni over n
            deflate = (1 - phi) / (1 + phi)
            se = sigma * math.sqrt(1.0 / max(w_before * deflate, 1.0) + 1.0 / max(w_after * deflate, 1.0))
            zstat = jump / se
            from scipy.special import ndtr

            p = float(min(1.0, ndtr(-zstat) * zb.size))
            # Onset: the first point of the rise at full resolution (PELT puts
            # the first stair of a ramp at its start; step back over points of
            # a block that already rose).
            i = b * block
            half = before + 0.5 * jump
            while i > 0 and i > (b - w_before) * block and z[i - 1] > half:
                i -= 1
            # Recovery: the first point after the top of the rise back below
            # half the jump; a spike recovers within recovery_window points.
            top = b_end * block
            rec = np.flatnonzero(z[top + 1 :] <= half)
            recovery_idx = int(top + 1 + rec[0]) if rec.size else None
            recovered = recovery_idx is not None and (recovery_idx - i) <= cfg.recovery_window * block
            ratio = math.exp(jump)
            peak_ratio = math.exp(float(np.max(z[i : (recovery_idx if recovered else n)])) - before)
            onset_step = int(steps[i])
            lr_rise = _lr_explanation(lr, int(steps[max(0, i - max(1, cfg.local_window * block))]), onset_step)
            effect = {
                "ratio": ratio,
                "peak_ratio": peak_ratio,
                "jump_log": jump,
                "jump_sigmas": jump / sigma,
                "level_before": math.exp(before),
            }
            if lr_rise >= cfg.lr_explains_ratio:
                out.append(
                    Finding(
                        pathology=Pathology.EXPLOSION,
                        kind="explained_by_lr",
                        series=series.name,
                        p_value=p,
                        statistic=zstat,
                        effect={**effect, "lr_ratio": lr_rise},
                        onset_step=onset_step,
                        severity=Severity.INFO,
                        message=(
                            f"{series.name} jumps x{ratio:.3g} at step {onset_step}, right after the logged "
                            f"learning rate rose x{lr_rise:.3g} (warm-up or warm restart): expected, not an explosion."
                        ),
                        remedies=(),
                        detector=self.name,
                    )
                )
                continue
            if recovered and peak_ratio < cfg.min_spike_ratio:
                continue  # a short bump of this size is within what healthy runs show
            # the points the excursion was seen on: until its recovery, or
            # until the end of the run (whether it would have stayed up is
            # then unknown; a last, partial batch of a few samples logs one)
            seen = (recovery_idx if recovered and recovery_idx is not None else n) - i
            if seen <= block and jump < cfg.single_point_sigmas * sigma:
                # one logged point: heavy-tailed noise makes such outliers,
                # so it must stand out further than a sustained excursion
                continue
            if recovered:
                assert recovery_idx is not None
                kind = "spike"
                effect["recovery_step"] = float(steps[recovery_idx])
                effect["duration_steps"] = float(steps[recovery_idx] - steps[i])
                message = (
                    f"{series.name} spikes x{peak_ratio:.3g} at step {onset_step} and recovers at step "
                    f"{int(steps[recovery_idx])} (jump of {jump / sigma:.1f} noise scales, p = {p:.2g})."
                )
                severity = Severity.WARNING
            else:
                kind = "divergence"
                message = (
                    f"{series.name} jumps x{ratio:.3g} at step {onset_step} and stays up "
                    f"(peak x{peak_ratio:.3g}; {jump / sigma:.1f} noise scales, p = {p:.2g})."
                )
                severity = Severity.CRITICAL
            out.append(
                Finding(
                    pathology=Pathology.EXPLOSION,
                    kind=kind,
                    series=series.name,
                    p_value=p,
                    statistic=zstat,
                    effect=effect,
                    onset_step=onset_step,
                    severity=severity,
                    message=message,
                    remedies=REMEDIES_JUMP,
                    detector=self.name,
                )
            )
        return _drop_regular_recurrences(out, cfg.min_recurrences)


def _drop_regular_recurrences(findings: list[Finding], min_recurrences: int) -> list[Finding]:
    """Jumps that recur at a regular interval are a periodic pattern, not an explosion.

    Unshuffled data ordered by class makes the loss jump up at the start of
    every epoch; those jumps belong to the periodic detector. When at least
    ``min_recurrences`` jumps are spaced regularly (coefficient of variation
    of the spacing below 0.1) *and* the loss falls back by at least half a
    jump between them (unlike a divergence that climbs in steps), they are
    dropped here.
    """
    jumps = sorted((f for f in findings if f.kind in ("spike", "divergence")), key=lambda f: f.onset_step or 0)
    if len(jumps) < min_recurrences:
        return findings
    onsets = np.array([f.onset_step for f in jumps], dtype=np.float64)
    gaps = np.diff(onsets)
    levels = np.log([f.effect["level_before"] for f in jumps])
    sizes = np.array([f.effect["jump_log"] for f in jumps])
    regular = np.mean(gaps) > 0 and np.std(gaps) / np.mean(gaps) < 0.1
    # between two recurrences the loss falls back by at least half a jump
    falls_back = np.mean(levels[1:] <= levels[:-1] + 0.5 * sizes[:-1]) >= 0.8
    if regular and falls_back:
        return [f for f in findings if f.kind not in ("spike", "divergence")]
    return findings


detector = ExplosionDetector()
