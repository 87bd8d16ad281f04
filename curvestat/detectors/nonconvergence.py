"""Non-convergence: "my model won't train" (trend test and practical improvement).

H0: the train loss has no downward trend.

The loss ``y`` (the primary train loss; the validation loss when no train
loss is logged) is judged on the part of the run before an explosion found by
the explosion detector, so that one root cause gives one finding. Two pieces
of evidence:

* **Trend.** The Mann-Kendall test for a decreasing trend, with the
  Hamed-Rao autocorrelation correction (lags up to 3), on block means of
  ``log y`` (at most ``max_blocks`` blocks; block means keep a monotone trend
  monotone and shorten the autocorrelation the correction has to absorb).
  Sen's slope gives the trend's size.
* **Improvement.** ``1 - median(last 10 %) / median(first 2 %)`` of the
  loss (the start uses at least 3 points): whether the loss decreased
  *meaningfully* over the run, however fast. A loss that drops quickly and
  then plateaus has converged. A robust z-test that the start level exceeds
  the end level (noise scale from the end segment, inflated for its lag-1
  autocorrelation) complements the trend test for exactly that shape.

The run has trained when the decrease is significant (Bonferroni over the
two tests: ``2 * min(p_trend, p_start_end) <= alpha``) *and* the improvement is
at least ``min_improvement``; otherwise it is flagged:

* ``rising`` when the loss trends significantly *upward* (no jump: jumps are
  explosions),
* ``bouncing`` when the step-to-step noise of the loss is large
  (``noise >= bouncing_min_noise`` in log units) and dominates the decrease
  (``noise >= bouncing_ratio * decrease``): the optimiser bounces around in
  parameter space, typically a too-high learning rate,
* ``flat`` otherwise.

The reported p-value is that of the test of H0 "no decrease" (the
Bonferroni-combined one above; for ``rising``, the Mann-Kendall p-value of an
upward trend). A flat or bouncing run has a *large* one or a negligible
improvement: the p-value says how weak the evidence of training is; it is not
the probability of a false flag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Run, Series
from ._context import explosion_onset

__all__ = ["NonConvergenceDetector", "detector", "REMEDIES"]

REMEDIES = (
    "Validate the data: check that every example matches the schema and look for NaNs and outliers.",
    "Check that the features carry signal: correlate them with the labels.",
    "Make the model reach a very small loss on about 10 easy examples before training on the full data.",
    "Lower the learning rate so that the optimiser stops bouncing around in parameter space.",
    "Simplify the model, make sure it beats a simple baseline, then add complexity step by step.",
)

_REMEDY_ORDER = {
    "bouncing": (3, 0, 1, 2, 4),
    "rising": (3, 0, 2, 1, 4),
    "flat": (0, 1, 2, 4, 3),
}


def _periodic_period(context: dict[str, Any] | None, series_name: str) -> float | None:
    if not context:
        return None
    for f in context.get("periodic", []):
        if f.series == series_name and f.period_steps and f.severity is not Severity.INFO:
            return float(f.period_steps)
    return None


def _edge_decrease_pvalue(z: np.ndarray, k_first: int, k_last: int) -> float:
    """One-sided p-value that the start level of ``z`` exceeds its end level.

    Robust z-test of ``median(z[:k_first]) - median(z[-k_last:])``: the noise
    scale is the MAD scale of the end segment around its running median,
    inflated by ``sqrt((1 + phi) / (1 - phi))`` for its lag-1
    autocorrelation, and each median's variance is ``pi / 2`` times a mean's.
    """
    from ..stats import mad_scale

    if z.size < 6 or k_last < 3:
        return 1.0
    end = z[-k_last:]
    resid = end - np.median(end)
    sigma = mad_scale(resid) if np.ptp(resid) > 0 else 0.0
    rc = resid - resid.mean()
    den = float(np.dot(rc, rc))
    phi = float(np.clip(np.dot(rc[:-1], rc[1:]) / den, 0.0, 0.95)) if den > 0 else 0.0
    sigma_lr = sigma * math.sqrt((1 + phi) / (1 - phi))
    diff = float(np.median(z[:k_first]) - np.median(end))
    if sigma_lr == 0:
        return 0.0 if diff > 0 else 1.0
    se = sigma_lr * math.sqrt(math.pi / 2 * (1.0 / k_first + 1.0 / k_last))
    return 0.5 * math.erfc(diff / se / math.sqrt(2.0))


def _block_means(x: np.ndarray, max_blocks: int) -> np.ndarray:
    if x.size <= max_blocks:
        return x
    from ..stats import block_means

    return np.asarray(block_means(x, max_blocks).means)


class NonConvergenceDetector:
    """Detect a loss that does not go down.

    Attributes
    ----------
    name : str
        ``"nonconvergence"``.

    Notes
    -----
    See the module docstring and ``docs/detectors/nonconvergence.rst``;
    thresholds are in :class:`curvestat.config.NonConvergenceConfig`.
    """

    name = "nonconvergence"
    pathology = Pathology.NON_CONVERGENCE
    uses_context = True

    def detect(self, run: Run, config: Config, context: dict[str, Any] | None = None, **_: Any) -> Sequence[Finding] | Skipped:
        """Test whether the loss of ``run`` decreased; return findings or a Skipped."""
        cfg = config.nonconvergence
        series: Series | None = run.train_loss or run.val_loss
        if series is None:
            return Skipped(self.name, "no loss series (name one with roles={'name': 'train_loss'})")
        onset = explosion_onset(context)
        keep = np.isfinite(series.values)
        note = ""
        if onset is not None:
            keep &= series.steps < onset
            note = f" before the explosion at step {onset}"
        y = series.values[keep]
        steps = series.steps[keep]
        period = _periodic_period(context, series.name)
        if period is not None and y.size:
            # A loss that repeats a pattern every `period` steps (unshuffled
            # data) is judged on its means over whole periods: the pattern is
            # the periodic detector's finding, not a trend.
            idx = (steps - steps[0]) // max(1, int(round(period)))
            n_full = int(idx[-1])  # drop the last, partial period
            if n_full >= cfg.min_points:
                sums = np.bincount(idx, weights=y)[:n_full]
                counts = np.bincount(idx)[:n_full]
                firsts = steps[np.searchsorted(idx, np.arange(n_full))]
                y, steps = sums / counts, firsts
                note += f" (averaged over periods of {period:g} steps)"
        if y.size < cfg.min_points:
            if onset is not None:
                return []  # the explosion is the root cause; nothing to judge before it
            return Skipped(self.name, f"{series.name} has {y.size} finite points; need {cfg.min_points}")
        return self._judge(series.name, steps, y, config, note)

    def _judge(self, name: str, steps: np.ndarray, y: np.ndarray, config: Config, note: str) -> list[Finding]:
        from ..stats import diff_noise_scale, mann_kendall, sens_slope

        cfg = config.nonconvergence
        # A loss logged as exactly 0 (rounded: Hugging Face logs 4 decimals)
        # is below the logging resolution, not absent: a non-negative loss
        # keeps the log scale with zeros raised to half the smallest positive
        # value logged. Only a loss with negative values (a log-likelihood,
        # an ELBO) is judged on its own scale.
        positive = bool(np.min(y) >= 0 and np.max(y) > 0)
        if positive:
            y = np.maximum(y, 0.5 * float(np.min(y[y > 0])))
        z = np.log(y) if positive else y
        # The start level is the median of the first few points (2 %, at least
        # 3): a loss that drops within the first 10 % of the run still has a
        # high start. The end level is the median of the last 10 %.
        k_first = max(min(3, y.size), int(math.ceil(cfg.start_fraction * y.size)))
        k_last = max(1, int(math.ceil(cfg.edge_fraction * y.size)))
        first, last = float(np.median(y[:k_first])), float(np.median(y[-k_last:]))
        if positive:
            improvement = 1.0 - last / first
            decrease = math.log(first / last)  # in log units
        else:
            scale = max(abs(first), float(np.ptp(y)), 1e-12)
            improvement = (first - last) / scale
            decrease = improvement
        zb = _block_means(z, cfg.max_blocks)
        if np.ptp(zb) == 0:
            p_dec, p_inc, tau, slope = 1.0, 1.0, 0.0, 0.0
        else:
            down = mann_kendall(zb, alternative="decreasing", correction="hamed_rao", lag=cfg.hamed_rao_lags)
            # the opposite one-sided p-value from the same continuity-corrected z
            p_dec, p_inc, tau = float(down.pvalue), 0.5 * math.erfc(float(down.z) / math.sqrt(2.0)), float(down.tau)
            slope = float(sens_slope(zb).slope)
        p_edge = _edge_decrease_pvalue(z, k_first, k_last)
        # Bonferroni over the two tests of a decrease: a monotone trend over
        # the run (Mann-Kendall), or a start level above the end level (a
        # fast drop followed by a long plateau has no trend over most of the run)
        p_trained = min(1.0, 2.0 * min(p_dec, p_edge))
        if p_trained <= config.alpha and improvement >= cfg.min_improvement:
            return []
        noise = float(diff_noise_scale(z)) if z.size >= 3 else 0.0
        if p_inc <= config.alpha and improvement < 0:
            kind = "rising"
            what = f"{name} drifts upward{note}: {abs(improvement):.1%} higher at the end than at the start (Mann-Kendall p = {p_inc:.2g} for a rising trend)."
        elif noise >= cfg.bouncing_min_noise and noise >= cfg.bouncing_ratio * max(decrease, 0.0):
            kind = "bouncing"
            unit = "log units" if positive else "units"
            what = (
                f"{name} bounces around instead of decreasing{note}: step-to-step noise {noise:.2g} {unit} "
                f"against a total decrease of {max(decrease, 0.0):.2g} (improvement {improvement:.1%}, "
                f"p = {p_trained:.2g} for a decrease)."
            )
        else:
            kind = "flat"
            what = (
                f"{name} does not decrease{note}: improvement {improvement:.1%} over {int(steps[-1] - steps[0])} steps "
                f"(p = {p_trained:.2g} for a decrease)."
            )
        order = _REMEDY_ORDER[kind]
        return [
            Finding(
                pathology=Pathology.NON_CONVERGENCE,
                kind=kind,
                series=name,
                p_value=p_inc if kind == "rising" else p_trained,
                statistic=tau,
                effect={
                    "improvement": improvement,
                    "sen_slope_per_block": slope,
                    "noise": noise,
                    "noise_to_decrease": noise / decrease if decrease > 0 else math.inf,
                    "n_points": float(y.size),
                },
                onset_step=int(steps[0]),
                severity=Severity.CRITICAL if kind == "rising" else Severity.WARNING,
                message=what,
                remedies=tuple(REMEDIES[i] for i in order),
                detector=self.name,
            )
        ]


detector = NonConvergenceDetector()
