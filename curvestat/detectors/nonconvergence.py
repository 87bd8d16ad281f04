"""Non-convergence: "my model won't train" (a shortfall test and chance level).

H0 (healthy): the loss improves by at least the practical minimum
``min_improvement`` over the run, and, when the loss is a recognised
cross-entropy or standardised MSE, it ends clearly below chance level.
A flat run therefore gets a *small* p-value, like every other finding, so
Benjamini-Hochberg across runs keeps it.

The loss ``y`` (the primary train loss; the validation loss when no train
loss is logged) is judged on the part of the run before an explosion found by
the explosion detector, so that one root cause gives one finding.

* **Shortfall test** (equivalence-style, one-sided). ``D`` is the decrease
  of the log loss from the start level (median of the first 2 %, at least 3
  points) to the end level (median of the last 10 %); the run improved by
  ``min_improvement`` when ``D >= d0 = -log(1 - min_improvement)``. H0:
  ``D >= d0``; H1: ``D < d0``; ``t = (D_hat - d0) / se`` referred to Student's
  t. The standard error treats the noise as AR(1): marginal variance and lag-1
  autocorrelation from the second half of the run around a least-squares
  line (robust MAD scale; the autocorrelation corrected for its small-sample
  bias and raised by two standard errors, the marginal variance corrected
  for the share the line absorbs), the variance of each window's median is
  ``pi / 2`` times that of the mean of ``k`` AR(1) points, and the start
  window's spread beyond that noise (a fast drop inside it) is added. Size on
  the boundary of H0, AR(1) up to 0.95 with Gaussian or t(3) innovations:
  <= 1.3 % from 100 points on, <= 3 % on 20-60 points (nominal 1 %; see
  ``docs/detectors/nonconvergence.rst``). For a noisy loss (step-to-step
  noise ``>= bouncing_min_noise`` log units) healthy training must also
  dominate its noise: the margin is ``max(d0, noise / bouncing_ratio)``.
* **Chance level.** A cross-entropy loss (named so, or any loss of a run that
  logs a classification metric) of ``K`` classes starts at or a little above
  ``ln K`` (``K = round(exp(y_0 - 0.1))``, see :func:`_chance_level`); a
  model that only learned the label prior ends near the prior's entropy, at
  most ``ln K``. A standardised MSE (named ``mse``, starting between 0.8 and
  1.5) has chance level 1. H0: the end level is at least ``chance_margin``
  below chance level; a one-sided t-test of the end level with the same
  AR(1) standard error.

Both p-values are combined by Simes' rule (``min(2 p_(1), p_(2))``, valid
for these positively dependent one-sided tests) when a chance level is known
and the loss never went clearly below it (a loss that trained and came back
up, after a spike that stays high, is not "at chance"). The run is flagged
when the combined p-value is at most ``alpha``:

* ``rising`` (critical) when, in addition, the loss trends significantly
  *upward* (Mann-Kendall with the Hamed-Rao correction on block means of the
  log loss) and ends at least ``min_improvement`` above its start (no jump:
  jumps are explosions),
* ``chance_level`` (warning) when the chance-level test is the significant
  one: the loss sits at the level of guessing the label prior, whatever its
  relative drop (shuffled labels, a learning rate far too small),
* ``bouncing`` (warning) when the noise dominates the decrease
  (``noise >= bouncing_min_noise`` and ``noise >= bouncing_ratio * D``): the
  optimiser bounces around in parameter space, typically a too-high learning
  rate,
* ``flat`` (warning) otherwise.

The finding's ``effect`` keeps the Mann-Kendall trend evidence (``tau``,
``p_trend_decreasing``, ``p_trend_increasing``, Sen's slope) beside the
shortfall (``decrease``, ``required_decrease``, ``decrease_se``) and, for a
recognised loss, ``chance_level`` (the reference line a figure draws).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _format as _fmt
from .._numeric import EPS, MAX_LAG1
from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Run, Series
from .pipeline import Prior, explosion_onset

__all__ = ["NonConvergenceDetector", "detector", "REMEDIES"]

REMEDIES = (
    "Validate the data: check that every example matches the schema and look for NaNs and outliers.",
    "Check that the features carry signal: correlate them with the labels.",
    "Make the model reach a very small loss on about 10 easy examples before training on the full data.",
    "Lower the learning rate so that the optimiser stops bouncing around in parameter space.",
    "Simplify the model, make sure it beats a simple baseline, then add complexity step by step.",
)

_REMEDY_ORDER = {
    "chance_level": (1, 0, 2, 3, 4),
    "bouncing": (3, 0, 1, 2, 4),
    "rising": (3, 0, 2, 1, 4),
    "flat": (0, 1, 2, 4, 3),
}


#: the AR(1) noise model is estimated from at least this many points (the whole
#: of a shorter run: a trend left in them only widens the test)
_NOISE_MIN_POINTS = 20
#: the noise's lag-1 autocorrelation is raised by this many standard errors
#: (boundary size at phi = 0.95 on 30-60 points: 5.7 % with 1, 3.0 % with 2)
_PHI_SE_UP = 2.0
#: upper limit of the autocorrelation used in the standard error (a random walk has no level)
_MAX_PHI = MAX_LAG1
#: the typical excess of a classifier's first loss over ln K, in nats
#: (random initial logits; torch MLPs on digits 0-0.05, linear models 0.15-0.22)
_INIT_EXCESS = 0.1
#: ... and the share by which it may lie below ln K (majority-favouring logits)
_INIT_BELOW_CHANCE = 0.05
#: a cross-entropy start above ln(_MAX_CLASSES) is not read as a class count
_MAX_CLASSES = 100_000
#: the share of the noise variance a fitted line leaves is floored here
#: (fdcfe6e: a line fitted to few AR(1) points absorbs most of it)
_KEEP_FLOOR = 0.1
#: degrees of freedom of a MAD scale of m dependent points: _DF_SHARE m, at
#: least 2 (fdcfe6e, as the slope test of ``_trend.noise_scale``)
_DF_SHARE = 0.3
#: an MSE loss starting in this range is that of predicting the mean of
#: standardised targets: its chance level is 1 (fdcfe6e)
_MSE_CHANCE_START = (0.8, 1.5)
#: a loss rounded to exact zeros is floored at this share of its smallest
#: positive value (c610d0e: it stays on the log scale)
_ZERO_LOSS_SHARE = 0.5
#: the practical minimum improvement, capped below 100 % in log units (fdcfe6e)
_MAX_IMPROVEMENT = 0.999


def _periodic_period(prior: Prior | None, series_name: str) -> float | None:
    if prior is None:
        return None
    for f in prior.of("periodic"):
        if f.series == series_name and f.period_steps and f.severity is not Severity.INFO:
            return float(f.period_steps)
    return None


def _ar1_mean_factor(phi: float, k: int) -> float:
    """``var(mean of k AR(1) points) / marginal variance``."""
    if k <= 1:
        return 1.0
    if phi <= 0.0:
        return 1.0 / k
    h = np.arange(1, k, dtype=np.float64)
    return float(1.0 + 2.0 * np.sum((1.0 - h / k) * phi**h)) / k


def _ar1_line_factor(phi: float, m: int) -> float:
    """Share of the marginal variance absorbed by a least-squares line through m AR(1) points.

    ``tr(H Sigma) / m`` for the hat matrix ``H`` of ``[1, t]`` and the AR(1)
    correlation matrix ``Sigma``: ``E[RSS] = gamma0 (m - tr(H Sigma))``. The
    slope part ``t' Sigma t / t' t`` (``t`` centred) uses the closed-form lag
    sums of a centred ramp.
    """
    if m <= 2:
        return 1.0
    mean_part = _ar1_mean_factor(phi, m)  # 1' Sigma 1 / m^2
    c = 0.5 * (m - 1)
    tt = m * (m * m - 1) / 12.0
    if phi <= 0.0:
        return mean_part + 1.0 / m
    h = np.arange(1, m, dtype=np.float64)
    w = phi**h
    keep = w > EPS
    h, w = h[keep], w[keep]
    big_m = m - 1 - h  # sum over i = 0 .. M of (i - c)(i + h - c)
    s1 = (big_m + 1) * (big_m / 2.0 - c)
    s2 = big_m * (big_m + 1) * (2 * big_m + 1) / 6.0 - c * big_m * (big_m + 1) + (big_m + 1) * c * c
    lag_sums = s2 + h * s1
    slope_part = (tt + 2.0 * float(w @ lag_sums)) / tt
    return mean_part + slope_part / m


def _ar1_noise(z: np.ndarray, k_last: int) -> tuple[float, float, int]:
    """(marginal variance, lag-1 autocorrelation, points used) of the noise of ``z``.

    Estimated on the second half of the run (at least the end window and 20
    points), where a loss that trains has slowed down and one that does not is
    all noise, around a least-squares line (a steady drift, up or down, is no
    noise). The scale is the MAD of the residuals (curvature left in them
    inflates it: conservative). The autocorrelation is corrected for its
    small-sample bias ``(2 + 4 phi) / m`` and raised by two standard errors
    ``sqrt((1 - phi^2) / m)``: a short segment of strongly autocorrelated
    noise reads too little dependence, and that made the test reject 6-10 %
    at a nominal 1 % on 30-100 points with phi = 0.95. The marginal variance
    is corrected for the share of it that the line absorbs
    (:func:`_ar1_line_factor`).
    """
    from ..stats import mad_scale

    m = int(min(z.size, max(k_last, _NOISE_MIN_POINTS, z.size // 2)))
    seg = z[-m:]
    t = np.arange(m, dtype=np.float64) - 0.5 * (m - 1)
    slope = float(t @ (seg - seg.mean())) / float(t @ t) if m > 2 else 0.0
    resid = seg - seg.mean() - slope * t
    sigma = mad_scale(resid) if np.ptp(resid) > 0 else 0.0
    rc = resid - resid.mean()
    den = float(rc @ rc)
    phi = float(rc[:-1] @ rc[1:]) / den if den > 0 else 0.0
    phi = max(0.0, phi + (2.0 + 4.0 * phi) / m)
    phi = min(_MAX_PHI, phi + _PHI_SE_UP * math.sqrt(max(1.0 - phi * phi, 0.0) / m))
    keep = 1.0 - _ar1_line_factor(phi, m)
    return sigma * sigma / max(keep, _KEEP_FLOOR), phi, m


def _t_df(m: int) -> float:
    # the precision of a MAD scale of m dependent points, as a variance's
    # degrees of freedom (0.3 m, as the slope test of ``_trend.noise_scale``)
    return max(2.0, _DF_SHARE * m)


def _shortfall_pvalue(z: np.ndarray, k_first: int, k_last: int, margin: float) -> tuple[float, float, float]:
    """(p, D_hat, se) of H0 ``start - end >= margin`` against ``< margin``.

    ``D_hat = median(z[:k_first]) - median(z[-k_last:])``; small p when the
    decrease falls significantly short of ``margin``.
    """
    from ..stats import mad_scale
    from ..stats._util import _t_cdf

    d = float(np.median(z[:k_first]) - np.median(z[-k_last:]))
    g0, phi, m = _ar1_noise(z, k_last)
    s0 = mad_scale(z[:k_first]) ** 2 if k_first >= 3 and np.ptp(z[:k_first]) > 0 else 0.0
    # the start window's spread beyond the noise (a fast drop inside it)
    # widens its median's variance as that of k independent points
    extra = max(0.0, s0 - g0) / k_first
    var = math.pi / 2 * (g0 * (_ar1_mean_factor(phi, k_first) + _ar1_mean_factor(phi, k_last)) + extra)
    if not var > 0:
        return (0.0 if d < margin else 1.0), d, 0.0
    se = math.sqrt(var)
    return _t_cdf((d - margin) / se, _t_df(m)), d, se


def _end_above_pvalue(z: np.ndarray, k_last: int, bound: float) -> float:
    """p of H0 ``end level <= bound`` against ``> bound`` (end level = median of the last ``k_last``)."""
    from ..stats._util import _t_sf

    e = float(np.median(z[-k_last:]))
    g0, phi, m = _ar1_noise(z, k_last)
    var = math.pi / 2 * g0 * _ar1_mean_factor(phi, k_last)
    if not var > 0:
        return 0.0 if e > bound else 1.0
    return _t_sf((e - bound) / math.sqrt(var), _t_df(m))


_CE_TOKENS = frozenset({"nll", "xent", "crossentropy", "ce", "bce", "logloss", "cce", "nlll"})
_MSE_TOKENS = frozenset({"mse", "l2"})
_CLASSIFICATION_METRICS = frozenset(
    {"acc", "accuracy", "top1", "top5", "bacc", "balancedaccuracy", "f1", "f1score", "fscore", "precision", "recall", "auc", "auroc", "rocauc", "mcc"}
)


def _chance_level(run: Run, name: str, y: np.ndarray, start_fraction: float) -> tuple[float, str] | None:
    """(chance level of the loss, how it was found), or None when the loss is not recognised.

    Cross-entropy: the loss is named so, or the run logs a classification
    metric; its first level ``y_0`` (the median of the first 3 points, or of
    the first 2 % when higher) gives ``K = round(exp(y_0 - 0.1))``: a classifier starts at ``ln K`` or
    above it (random logits of variance s^2 add about s^2 / 2 nats: MLPs on
    digits start at 2.29-2.35 = ln 10 + 0-0.05, linear models on
    standardised digits at 2.45-2.52 = ln 10 + 0.15-0.22), rarely a little
    below (logits that favour the majority class: breast_cancer 0.65-0.69);
    a start more than 5 % below ``ln K`` is no class count. ``K`` is
    ambiguous by a class or so for K ~ 10 (ln 10 and ln 11 differ by 4 %):
    the digits MLPs above read as 9 or 10 classes, the linear models as 11.
    Standardised MSE: a loss named ``mse`` starting between 0.8 and 1.5 (the
    target variance plus the initial output variance) has chance level 1, the
    loss of predicting the mean.
    """
    from ..run import name_tokens

    toks = set(name_tokens(name))
    # the first level: the median of the first 3 points, or of the start
    # window (2 %) when that is higher (a noisy first few points)
    k_first = max(min(3, y.size), int(math.ceil(start_fraction * y.size)))
    y0 = max(float(np.median(y[: min(3, y.size)])), float(np.median(y[:k_first])))
    if toks & _MSE_TOKENS and not toks & _CE_TOKENS:
        return (1.0, "MSE of predicting the mean of standardised targets") if _MSE_CHANCE_START[0] <= y0 <= _MSE_CHANCE_START[1] else None
    metrics = [m for m in run.metrics if set(name_tokens(m.name)) & _CLASSIFICATION_METRICS]
    if not (toks & _CE_TOKENS or metrics):
        return None
    # K is the class count whose ln K lies nearest the first loss less the
    # typical excess of an initialisation (random logits of variance s^2 add
    # about s^2 / 2 nats); a start far below ln K is no class count
    if not y0 - _INIT_EXCESS <= math.log(_MAX_CLASSES):
        return None
    k = int(round(math.exp(y0 - _INIT_EXCESS)))
    if k < 2 or y0 < (1.0 - _INIT_BELOW_CHANCE) * math.log(k):
        return None
    level, how = math.log(k), f"ln {k} (cross-entropy of {k} classes at uniform guessing)"
    return level, how


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
        ``"non_convergence"`` (the pathology it tests).

    Notes
    -----
    See the module docstring and ``docs/detectors/nonconvergence.rst``;
    thresholds are in :class:`curvestat.config.NonConvergenceConfig`.
    """

    name = "non_convergence"
    pathology = Pathology.NON_CONVERGENCE
    #: the run is judged before a sustained explosion, and a periodic loss by
    #: its means over whole periods
    requires = ("explosion", "periodic")

    def detect(self, run: Run, config: Config, prior: Prior | None = None) -> Sequence[Finding] | Skipped:
        """Test whether the loss of ``run`` decreased; return findings or a Skipped."""
        cfg = config.nonconvergence
        series: Series | None = run.train_loss or run.val_loss
        if series is None:
            return Skipped(self.name, "no loss series (give one its role: --role NAME=train_loss, or roles={NAME: 'train_loss'} in Python)")
        onset = explosion_onset(prior)
        keep = np.isfinite(series.values)
        note = ""
        if onset is not None:
            keep &= series.steps < onset
            note = f" before the explosion at step {onset}"
        y = series.values[keep]
        steps = series.steps[keep]
        period = _periodic_period(prior, series.name)
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
        return self._judge(series.name, steps, y, config, note, run if cfg.chance_margin < 1 else None)

    def _judge(
        self, name: str, steps: np.ndarray, y: np.ndarray, config: Config, note: str, run: Run | None = None
    ) -> list[Finding]:
        from ..stats import diff_noise_scale, mann_kendall, sens_slope

        cfg = config.nonconvergence
        # A loss logged as exactly 0 (rounded: Hugging Face logs 4 decimals)
        # is below the logging resolution, not absent: a non-negative loss
        # keeps the log scale with zeros raised to half the smallest positive
        # value logged. Only a loss with negative values (a log-likelihood,
        # an ELBO) is judged on its own scale.
        positive = bool(np.min(y) >= 0 and np.max(y) > 0)
        if positive:
            y = np.maximum(y, _ZERO_LOSS_SHARE * float(np.min(y[y > 0])))
        z = np.log(y) if positive else y
        # The start level is the median of the first few points (2 %, at least
        # 3): a loss that drops within the first 10 % of the run still has a
        # high start. The end level is the median of the last 10 % (also at
        # least 3: a median of 1 or 2 points is no level on a short run).
        k_first = max(min(3, y.size), int(math.ceil(cfg.start_fraction * y.size)))
        k_last = max(min(3, y.size), int(math.ceil(cfg.edge_fraction * y.size)))
        first, last = float(np.median(y[:k_first])), float(np.median(y[-k_last:]))
        if positive:
            improvement = 1.0 - last / first
            d0 = -math.log1p(-min(cfg.min_improvement, _MAX_IMPROVEMENT))  # the practical minimum in log units
        else:
            # on its own scale: relative to the curve's size
            scale = max(abs(first), float(np.ptp(y)), EPS)
            z = y / scale
            improvement = (first - last) / scale
            d0 = cfg.min_improvement
        noise = float(diff_noise_scale(z)) if z.size >= 3 else 0.0
        chance = _chance_level(run, name, y, cfg.start_fraction) if run is not None and positive else None
        # Healthy training improves by the practical minimum; a noisy loss
        # must also improve by more than its noise dominates (bouncing).
        noisy = noise >= cfg.bouncing_min_noise
        margin = max(d0, noise / cfg.bouncing_ratio) if noisy else d0
        p_short, decrease, se = _shortfall_pvalue(z, k_first, k_last, margin)
        # the Mann-Kendall trend evidence: a test of its own for a rising loss,
        # the kind and the effect
        zb = _block_means(z, cfg.max_blocks)
        if np.ptp(zb) == 0:
            p_dec, p_inc, tau, slope = 1.0, 1.0, 0.0, 0.0
        else:
            down = mann_kendall(zb, alternative="decreasing", correction="hamed_rao", lag=cfg.hamed_rao_lags)
            # the opposite one-sided p-value from the same continuity-corrected z
            p_dec, p_inc, tau = float(down.pvalue), 0.5 * math.erfc(float(down.z) / math.sqrt(2.0)), float(down.tau)
            slope = float(sens_slope(zb).slope)
        # Sen's line through the blocks (intercept: the median of zb - slope i),
        # its ends placed at the steps of the first and last block centres and
        # returned on the loss's own scale, for the figure's trend line
        i_b = np.arange(zb.size, dtype=np.float64)
        icpt = float(np.median(zb - slope * i_b))
        centre = (np.arange(zb.size) + 0.5) * (z.size / zb.size) - 0.5
        line_steps = np.interp(centre[[0, -1]], np.arange(z.size), steps.astype(np.float64))
        line_z = np.array([icpt, icpt + slope * (zb.size - 1)])
        line_levels = np.exp(line_z) if positive else line_z * scale
        # H0 (healthy) is rejected by either of: a shortfall of the decrease,
        # an end at chance level. (A rising loss falls short of the decrease
        # too; the Mann-Kendall test only names the kind: as a third test it
        # cost a factor 3 on every run.)
        tests = [p_short]
        p_chance = math.nan
        if chance is not None:
            bound = math.log(chance[0]) + math.log1p(-cfg.chance_margin)
            # "at chance" means it never trained: a loss whose level (medians
            # of windows as long as the end window) was once clearly below
            # chance and came back (a spike that stays high, a divergence) is
            # the other detectors' finding, not this one's
            n_win = z.size // k_last
            lowest = float(np.min(np.median(z[: n_win * k_last].reshape(n_win, k_last), axis=1))) if n_win else math.inf
            if lowest >= bound:
                p_chance = _end_above_pvalue(z, k_last, bound)
                tests.append(p_chance)
            else:
                chance = None
        # Simes over the tests that apply: valid here, where both are one-sided
        # and driven by the same end level (positively dependent), and never
        # larger than Bonferroni's k * min
        k_tests = len(tests)
        ranked = sorted(tests)
        p = min(1.0, min(k_tests * q / (i + 1) for i, q in enumerate(ranked)))
        if p > config.alpha:
            return []
        span = int(steps[-1] - steps[0])
        unit = "log units" if positive else "units of the loss's scale"
        if improvement <= -cfg.min_improvement and p_inc <= config.alpha:
            # a practically relevant rise (at least the practical minimum)
            # with a significant upward trend; a smaller one is flat
            kind = "rising"
            what = (
                f"{name} drifts upward{note}: {_fmt.change(improvement)} "
                f"({_fmt.p_text(p)} for an improvement of at least {cfg.min_improvement:.0%}; Mann-Kendall {_fmt.p_text(p_inc)} for a rising trend)."
            )
        elif chance is not None and p_chance <= config.alpha:
            kind = "chance_level"
            what = (
                f"{name} ends at chance level{note}: {last:.4g} against {chance[0]:.4g} = {chance[1]}, "
                f"less than {cfg.chance_margin:.0%} below it ({_fmt.change(improvement)}, over {span} steps; {_fmt.p_text(p)}): "
                f"the model learned no more than the label prior."
            )
        elif noisy and noise >= cfg.bouncing_ratio * max(decrease, 0.0):
            kind = "bouncing"
            what = (
                f"{name} bounces around instead of decreasing{note}: step-to-step noise {noise:.2g} {unit} against "
                + (f"a total decrease of only {decrease:.2g}" if decrease > 0 else "no decrease overall")
                + f" ({_fmt.change(improvement)}; {_fmt.p_text(p)} for a decrease of at least {margin:.2g})."
            )
        else:
            kind = "flat"
            what = (
                f"{name} does not decrease{note}: {_fmt.change(improvement)}, over {span} steps "
                f"({_fmt.p_text(p)} for an improvement of at least {cfg.min_improvement:.0%})."
            )
        effect = {
            "improvement": improvement,
            "decrease": decrease,
            "required_decrease": margin,
            "decrease_se": se,
            "p_shortfall": p_short,
            "tau": tau,
            "p_trend_decreasing": p_dec,
            "p_trend_increasing": p_inc,
            "sen_slope_per_block": slope,
            "noise": noise,
            "noise_to_decrease": noise / decrease if decrease > 0 else math.inf,
            "n_points": float(y.size),
            "start_level": first,
            "end_level": last,
            "trend_start_step": float(line_steps[0]),
            "trend_start_level": float(line_levels[0]),
            "trend_end_step": float(line_steps[1]),
            "trend_end_level": float(line_levels[1]),
        }
        if chance is not None:
            effect["chance_level"] = chance[0]
            effect["end_to_chance"] = last / chance[0]
            effect["p_chance"] = p_chance
        order = _REMEDY_ORDER[kind]
        return [
            Finding(
                pathology=Pathology.NON_CONVERGENCE,
                kind=kind,
                series=name,
                p_value=p,
                statistic=(decrease - margin) / se if se > 0 else -math.inf,
                effect=effect,
                onset_step=int(steps[0]),
                severity=Severity.CRITICAL if kind == "rising" else Severity.WARNING,
                message=what,
                remedies=tuple(REMEDIES[i] for i in order),
                detector=self.name,
            )
        ]


detector = NonConvergenceDetector()
