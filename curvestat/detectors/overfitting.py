"""Overfitting: "testing loss is too damn high".

H0: the validation loss tracks the train loss -- after its (smoothed) minimum
the validation loss does not rise, the gap between validation and train loss
does not grow, and the gap is not large.

The detector aligns the train loss to the evaluation steps, forms the gap on
the log-ratio scale and combines three formal tests (see
``docs/detectors/overfitting.rst``):

(a) *U-turn*: Mann-Kendall test (Hamed-Rao autocorrelation correction) for an
    increasing trend of the validation loss after its robustly smoothed
    minimum s*;
(b) *growing gap*: the same test on the gap after s*;
(c) *gap level*: a Newey-West (HAC) t-test that a growing gap ends above
    the healthy band ``log(1 + min_gap)`` (the end level of a line fitted
    after s*);
(d) *held-out reference*: the validation loss against the train loss on
    data not trained on yet (progressive validation), for a split mismatch.

Fewer than 10 points after s* are tested with the exact null of the plain
Mann-Kendall score (a Hamed-Rao correction cannot be estimated on them);
three or four points, which no rank test can call significant at 1 %, by
their least-squares slope against the noise of the whole curve.

Decision (intersection-union tests, so the reported p-value is the largest
p-value of the tests that make up a kind). Overfitting means the validation
loss gets worse; severity comes from how much worse (``warning_rise``,
``critical_rise``) and ``info`` never makes a run unhealthy:

* ``u_turn`` (3 or more evaluations from s* on; with 3-4, the rise must not
  be the last evaluation's alone): (a) and (b) significant and the
  validation loss rose at least ``min_rise`` above its minimum, at least
  half of it (log scale) as a growth of the gap (the train loss did not
  follow); p = max(p_a, p_b). ``info`` below ``warning_rise`` (10 %).
* ``u_turn`` on 3-9 evaluations whose first is the lowest (the fine-tuning
  picture): the mean later log validation loss above the first, against the
  noise the later evaluations show or at least ``short_run_val_noise``,
  intersected with the train loss's decreasing trend.
* ``growing_gap`` (memorisation, ``info``): (b) significant, the gap grew by
  at least ``min_gap_growth`` after s*, (c) shows a positive gap after s*,
  and the validation loss no longer falls significantly; the note's
  early-stopping step is s*, the start of the validation loss's flat bottom.
* ``split_mismatch``: the validation loss is significantly above the train
  loss on data the model had not trained on yet (the first epoch, or the
  untrained model's first values when the epoch length is unknown) by more
  than ``min_gap``, while the train loss falls; p from a z-test of that
  excess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from .. import _format as _fmt
from .._numeric import EPS, TINY, clip_lag1
from .._numeric import safe_expm1 as _expm1
from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Run, Series, align_to_steps
from ..stats import block_means, hac_end_level_test, robust_smooth
from ..stats.noise import smooth_noise_scale as noise_scale
from ._trend import slope_test, trend_test
from .pipeline import Prior, explosion_onset

__all__ = ["OverfittingDetector", "detector", "align_to_steps", "REMEDIES_OVERFITTING", "REMEDIES_SPLIT_MISMATCH"]

REMEDIES_OVERFITTING = (
    "Stop training early, at the recommended early-stopping step (the validation minimum).",
    "Add regularisation (weight decay, dropout, data augmentation).",
    "Reduce the model's capacity (fewer or smaller layers).",
    "Check that the training and validation splits are statistically equivalent.",
)
REMEDIES_SPLIT_MISMATCH = (
    "Check that the training and validation splits are statistically equivalent "
    "(same distribution, same preprocessing, no leakage or shift).",
    "Compare the loss on a random held-out part of the training data with the validation loss.",
    "If the splits are equivalent, reduce the model's capacity or add regularisation.",
)

#: longest aligned series tested as is; longer ones are reduced to block means
_MAX_EVAL_POINTS = 400
#: fewest points after the minimum for the growing-gap tests (five increasing
#: points are the shortest run whose exact Mann-Kendall p-value, 1/120, is
#: below 1 %)
_MIN_TAIL = 5
#: the U-turn's broken-curve fit covers its search range and this many
#: smoothing windows after it (real corpus, 14 U-turns: onsets within 2
#: evaluations 0.71 -> 0.86; synthetic, 270: 0.944 -> 0.941)
_ONSET_FIT_WINDOWS = 4
#: fewest points after the minimum for a U-turn: three, when they rise far
#: beyond the noise of the whole curve (the slope test of ``_mk``)
_MIN_SHORT_TAIL = 3
#: upper clip of the end block's AR(1) coefficient in the level test of a U-turn (its variance factor is then 39)
_AR_LEVEL_CAP = 0.95

#: runs with fewer evaluations than this also get the fine-tuning test (the
#: validation loss lowest at the first evaluation, higher after) when the
#: rank tests find nothing: the exact Mann-Kendall test on 6-9 points loses
#: its significance to one point out of order
_SHORT_FALLBACK_BELOW = 10
#: share of ``alpha`` the fine-tuning test spends on the first evaluation
#: being the lowest (the commonest picture); the rest is shared by the later
#: positions of the minimum (a weighted Bonferroni correction for choosing it)
_SHORT_FIRST_WEIGHT = 2.0 / 3.0

#: the HAC tests run on tens of evaluations, where the normal reference and
#: the uncorrected Newey-West variance reject far too often (at 1 %, 10
#: iid points: 5 % and 9 % for the mean and end-level tests); the fixed-b
#: reference and the n / (n - k) factor bring that to 0.9 % and 1.3 % (2.6 %
#: and 5 % with Student's t instead; docs/stats.rst)
_SMALL_SAMPLE = {"fixed_b": True, "use_correction": True}


#: tails of this many evaluations or more get the autocorrelation check of
#: the U-turn's rise test (``_ar_widened``); shorter ones carry no estimate
_AR_CHECK_FROM = 8
#: largest lag-1 autocorrelation the check corrects for (variance factor 9)
_AR_CAP = 0.8
#: ... and only rises (log scale) below this many third-difference noise sd:
#: a compromise (flat validation plateau, AR(1) 0.8 noise of sd 5 %, train
#: loss to ~0, 25 evaluations: U-turn warnings 14 % unwidened, 6 % at 10,
#: 1.7 % at 15; but at 15 three synthetic U-turns of 35 % rises, 11-13 noise
#: sd, seed 0, were lost: their curved rise reads as autocorrelation)
_AR_RISE_NOISE = 10.0




def _ar_widened(x: NDArray[np.float64], z: float) -> float:
    """p-value of a trend z-statistic widened for the lag-1 autocorrelation of x's residuals.

    ``r = 1 + 2 acf1(diff x)`` (floored at 0, capped at ``_AR_CAP``) estimates
    the AR(1) coefficient of the noise; ``(1 + r) / (1 - r)`` is the
    variance factor of a sum of such a series, by which the statistic's
    variance is widened (``z / sqrt(factor)``, one-sided normal).
    """
    # first differences: AR(1) with coefficient phi gives them a lag-1
    # autocorrelation of -(1 - phi) / 2 whatever the (smooth) trend, so
    # phi = 1 + 2 acf1(diff)
    d = np.diff(x)
    d = d - d.mean()
    ss = float(d @ d)
    if ss <= 0.0:
        return 0.0
    r = min(_AR_CAP, max(0.0, 1.0 + 2.0 * float(d[1:] @ d[:-1]) / ss))
    return float(ndtr(-z / math.sqrt((1.0 + r) / (1.0 - r))))



def _level_u_turn(lv: NDArray[np.float64]) -> tuple[float, float, float, int] | None:
    """A rise from a sharp minimum to a higher plateau, tested on levels: (p, z, rise, index of the minimum).

    The running median that places s* (up to 9 points wide) fills in a
    minimum a few evaluations wide, and a rank test over a rise that then
    levels off is weak once widened for autocorrelation. Here the level of
    the last quarter of the evaluations (at least 5) is compared with the
    mean of the 3 points around the minimum of a 3-point running median
    found before it. H0 (healthy): after the minimum the validation loss
    stays at its level, with the end block's own noise. The variance of each
    block mean carries an AR(1) factor from the end block (bias-corrected
    and raised by two standard errors: 20 points estimate it poorly), and
    the minimum's block is corrected for having been selected as the lowest
    of the candidates (the expected minimum of that many block means,
    ``sqrt(2 log N)`` standard errors below their level).
    """
    n = lv.size
    m_end = max(_MIN_TAIL, n // 4)
    search = n - m_end - 1
    if search < 3:
        return None
    sm3 = robust_smooth(lv, 3)
    k3 = int(np.argmin(sm3[:search]))
    block = lv[max(0, k3 - 1): k3 + 2]
    end = lv[n - m_end:]
    e = end - end.mean()
    ss = float(e @ e)
    if ss <= 0.0:
        return None
    s2 = ss / (m_end - 1)
    phi = float(e[1:] @ e[:-1]) / ss
    phi = phi + (1.0 + 3.0 * phi) / m_end + 2.0 * math.sqrt(max(1.0 - phi * phi, 0.0) / m_end)
    phi = min(max(phi, 0.0), _AR_LEVEL_CAP)
    f = (1.0 + phi) / (1.0 - phi)
    var_block = s2 * f / block.size
    var_end = s2 * f / m_end
    bias = math.sqrt(var_block) * math.sqrt(2.0 * math.log(search))
    d = float(end.mean() - block.mean())
    z = (d - bias) / math.sqrt(var_block + var_end)
    return float(ndtr(-z)), z, _expm1(d), k3

def _end_gap(val: str, train: str, final_gap: float, log_scale: bool) -> str:
    """The gap at the end in words: a ratio of the losses on the log scale, else their difference."""
    if log_scale:
        return f"at the end {val} is {_fmt.ratio(1.0 + final_gap)} {train}"
    return f"at the end {val} is {final_gap:.3g} above {train}"


def _end_level(x: NDArray[np.float64], sm: NDArray[np.float64]) -> float:
    """The smoothed curve's last value by Tukey's end-point rule.

    A running median cannot follow a trend into the last point: on a
    validation loss still rising at the end it returns a level a window
    behind (a rise of 17 % from the minimum read as 9 %). Tukey's rule
    (Exploratory Data Analysis, 1977) takes the median of the last value, the
    smoothed value before it, and ``3 sm[-2] - 2 sm[-3]`` (the smoothed
    values before the end, themselves a little behind a trend, extrapolated):
    on a trend the last value, on a level the smoothed value; one outlying
    last point is outvoted.
    """
    if x.size < 3:
        return float(sm[-1])
    return float(np.median([x[-1], sm[-2], 3.0 * sm[-2] - 2.0 * sm[-3]]))


def _rise_severity(rise: float, cfg: Any) -> Severity:
    """Severity of a significant rise of the validation loss from its practical size.

    ``info`` below ``warning_rise`` (significant but marginal: early stopping
    would act on it, the run is not unhealthy), ``critical`` from
    ``critical_rise``, ``warning`` between.
    """
    if rise >= cfg.critical_rise:
        return Severity.CRITICAL
    return Severity.WARNING if rise >= cfg.warning_rise else Severity.INFO


def _window(n: int) -> int:
    """Running-median width for n evaluations: 3 up to 31 points, then 5, 7, 9."""
    return int(min(9, max(3, 2 * (n // 16) + 1)))


def _mk(x: NDArray[np.float64], alternative: str, noise: tuple[float, float] | None = None) -> tuple[float, float]:
    """(p-value, z) of a trend test on a tail of the series.

    Mann-Kendall: exact below 10 points, Hamed-Rao (all lags, the variance
    factor floored at 1) from there on. Three or four points, given the
    ``noise`` (sd, degrees of freedom) of the whole series: the slope t-test
    against that noise instead. No rank test can call three or four points
    significant at 1 % (their smallest exact p-values are 1/6 and 1/24)
    however far they rise beyond the noise.
    """
    if noise is not None and 3 <= x.shape[0] < _MIN_TAIL:
        return slope_test(x, noise[0], noise[1], alternative)
    # the Hamed-Rao correction may only widen the null: a variance factor
    # below 1 comes from negative rank autocorrelations that are significant
    # by chance, and would let a wandering plateau pass for a rise
    return trend_test(x, alternative, floor_factor=True)


def _hinge_break(y: NDArray[np.float64], lo: int, hi: int, upward: bool = False) -> int:
    """Break index tau in [lo, hi] of a least-squares broken curve.

    Fits ``y_i = a + b i + c (i - tau)_+ + d (i - tau)_+^2`` (a line, then a
    bend that may steepen: an overfitting gap grows faster and faster as the
    train loss approaches its floor) for every candidate tau at once. With
    ``R`` the hinge columns and ``r_y`` the residuals of y after projecting
    out (1, i), ``RSS(tau) = RSS_0 - r_y' R (R'R)^-1 R' r_y``; the best tau
    maximises the second term. O(n (hi - lo)).

    With ``upward=True`` the slope may not drop at the break (``c >= 0``;
    where the free fit has ``c < 0`` the curve is refitted with the
    quadratic term alone). Without it an early tau followed by a small dip
    and a steep parabola imitates a gap that starts to grow later.
    """
    n = y.shape[0]
    lo, hi = max(0, lo), min(hi, n - 3)
    if hi <= lo:
        return max(0, min(lo, n - 1))
    i = np.arange(n, dtype=np.float64)
    taus = np.arange(lo, hi + 1, dtype=np.float64)
    h1 = np.maximum(i[None, :] - taus[:, None], 0.0)
    h2 = h1 * h1 / max(1.0, n - lo)
    q = np.column_stack([np.ones(n), i - i.mean()])
    q /= np.sqrt((q * q).sum(axis=0))
    ry = y - q @ (q.T @ y)
    r1 = h1 - (h1 @ q) @ q.T
    r2 = h2 - (h2 @ q) @ q.T
    a11 = np.einsum("ij,ij->i", r1, r1)
    a12 = np.einsum("ij,ij->i", r1, r2)
    a22 = np.einsum("ij,ij->i", r2, r2)
    b1, b2 = r1 @ ry, r2 @ ry
    det = a11 * a22 - a12 * a12
    ok = det > EPS * np.maximum(a11 * a22, TINY)
    safe = np.where(ok, det, 1.0)
    gain = np.where(ok, (a22 * b1 * b1 - 2 * a12 * b1 * b2 + a11 * b2 * b2) / safe, -np.inf)
    if upward:
        c = (a22 * b1 - a12 * b2) / safe
        quad_only = np.where(a22 > 0, b2 * b2 / np.where(a22 > 0, a22, 1.0), -np.inf)
        gain = np.where(ok & (c < 0), quad_only, gain)
    return int(taus[int(np.argmax(gain))])


@dataclass(frozen=True)
class _Aligned:
    steps: NDArray[np.int64]
    val: NDArray[np.float64]
    train: NDArray[np.float64]
    gap: NDArray[np.float64]  # log(val / train), or (val - train) / scale
    log_scale: bool
    block: int


def _align(train: Series, val: Series, max_points: int) -> _Aligned:
    vf = np.isfinite(val.values)
    vs, vv = val.steps[vf], val.values[vf]
    tv = align_to_steps(train.steps, train.values, vs)
    ok = np.isfinite(tv)
    vs, vv, tv = vs[ok], vv[ok], tv[ok]
    block = 1
    if vs.size > max_points:
        bm = block_means(vv, max_points)
        block = bm.block_size
        vv, tv = bm.means, block_means(tv, max_points).means
        vs = vs[np.minimum(bm.starts + block - 1, vs.size - 1)]
    log_scale = bool(vv.size and vv.min() > 0 and tv.min() > 0)
    if log_scale:
        gap = np.log(vv) - np.log(tv)
    else:
        scale = (float(np.median(np.abs(tv))) if tv.size else 1.0) or 1.0
        gap = (vv - tv) / scale
    return _Aligned(vs, vv, tv, gap, log_scale, block)


class OverfittingDetector:
    """Detect overfitting from a train-loss and a validation-loss series.

    Attributes
    ----------
    name : str
        ``"overfitting"``.
    """

    name = "overfitting"
    pathology = Pathology.OVERFITTING
    #: the run is judged before a sustained explosion (a diverging or
    #: non-finite loss is not overfitting)
    requires = ("explosion",)

    def detect(self, run: Run, config: Config, prior: Prior | None = None) -> Sequence[Finding] | Skipped:
        """Test ``run``; return at most one finding, or a Skipped with the reason."""
        cfg = config.overfitting
        alpha = config.alpha
        val, train = run.val_loss, run.train_loss
        if val is None:
            return Skipped(self.name, "no validation-loss series")
        if train is None:
            return Skipped(self.name, "no train-loss series")
        a = _align(train, val, _MAX_EVAL_POINTS)
        cut = explosion_onset(prior)
        if cut is not None:
            keep = a.steps < cut
            if int(keep.sum()) >= cfg.min_evaluations:
                a = _Aligned(a.steps[keep], a.val[keep], a.train[keep], a.gap[keep], a.log_scale, a.block)
        n = a.steps.size
        if n < cfg.min_evaluations:
            # a fine-tune evaluated 3-5 times: only its commonest overfitting
            # picture can be judged (the validation loss rises from the first
            # evaluation on while the train loss falls); anything else is
            # untested, not healthy
            out = self._short(a, val, train, cfg, alpha) if n >= _MIN_SHORT_TAIL else None
            if out is None:
                return Skipped(self.name, f"only {n} evaluations with a finite validation and train loss; need "
                               f"{cfg.min_evaluations} (fewer are tested only for a validation loss that rises "
                               "after its lowest evaluation)")
            return [out]
        out = self._test(a, val, train, cfg, alpha, run.steps_per_epoch)
        if (out is None or out.severity is Severity.INFO) and n < _SHORT_FALLBACK_BELOW:
            # 6-9 evaluations whose first is the lowest: a rank test over them
            # is weak (one point out of order), the fine-tuning test is not
            short = self._short(a, val, train, cfg, alpha)
            if short is not None and (out is None or short.severity is not Severity.INFO):
                out = short
        return [out] if out is not None else []

    # ------------------------------------------------------------------
    def _short(self, a: _Aligned, val: Series, train: Series, cfg: Any, alpha: float) -> Finding | None:
        """The fine-tuning picture on 3-9 evaluations: v rises after its lowest evaluation, y falls.

        The lowest evaluation ``j`` is the first (the commonest picture: the
        best model was the first evaluated) or a later one before the last
        (one or two evaluations of descent, then a rise that at least two
        evaluations carry, the one before the last already ``min_rise`` above
        the lowest). Each position is
        tested as in :meth:`_short_from`, whose p-value is valid for that
        position fixed in advance; the position chosen by the data is paid
        for by a weighted Bonferroni correction over the positions that could
        have been chosen: two thirds of ``alpha`` for the first evaluation, the
        other third shared by the ``n - 2`` later ones.
        """
        if not a.log_scale:
            return None
        lv = np.log(a.val)
        n = lv.size
        j = int(np.argmin(lv))
        if j > 0 and (j >= n - 2 or lv[-2] - lv[j] < math.log1p(cfg.min_rise)):
            # a later minimum: the rise must be carried by two evaluations
            # (one last point is an outlier as often as a turn: the rank
            # tests' rule), and the noise is the assumed one only (the stretch
            # after it is too short to show its own)
            return None
        weight = _SHORT_FIRST_WEIGHT if j == 0 else (1.0 - _SHORT_FIRST_WEIGHT) / (n - 2)
        return self._short_from(a, j, weight, val, train, cfg, alpha)

    def _short_from(self, a: _Aligned, j: int, weight: float, val: Series, train: Series, cfg: Any,
                    alpha: float) -> Finding | None:
        """The rise test from evaluation ``j``, the lowest, on; p-value divided by ``weight``.

        H0 (healthy): the validation loss does not rise in expectation, its
        evaluation-to-evaluation noise having a relative sd of at most
        ``cfg.short_run_val_noise`` (three points carry no estimate of their
        own noise). Statistics: the mean of ``log v`` over the later
        evaluations minus its first value, ``z = d / (sd sqrt(1 + 1/(n-1)))``
        (a step up), and the least-squares slope of ``log v`` over the
        evaluations, ``z = b sqrt(Sxx) / sd`` (a steady rise), one-sided
        normal, Bonferroni over the two. It is intersected with two events: the first
        evaluation is the lowest and the last lies above it (the picture; an
        intersection only lowers the size), and the train loss's own
        decreasing trend (Mann-Kendall on its logged points, or, on fewer than
        five, a fall to half its first value, a fact rather than a test).
        """
        whole = np.log(a.val)
        lv, gap = whole[j:], a.gap[j:]
        n = lv.size
        if not lv[-1] > lv[0]:
            return None
        excess = float(np.mean(lv[1:]) - lv[0])
        # practical size: the typical later evaluation above the lowest
        rise = _expm1(float(np.median(lv[1:]) - lv[0]))
        growth = _expm1(float(np.median(gap[1:]) - gap[0]))
        # the train loss did not follow (at least half of the rise, log scale,
        # is a growth of the gap)
        if rise < cfg.min_rise or math.log1p(growth) < 0.5 * math.log1p(rise):
            return None
        # the noise: the assumed sd, or what the data show when they can --
        # from 4 evaluations on the scatter of the later evaluations, the
        # smaller of their sd and their successive-difference (von Neumann)
        # estimate (a rise inflates both: a steady one the first, a
        # saturating one the second), and the second-difference noise of the
        # whole curve from 6 on
        sd = cfg.short_run_val_noise
        if n >= 4:
            later = lv[1:]
            sd = max(sd, min(math.sqrt(0.5 * float(np.mean(np.diff(later) ** 2))), float(np.std(later, ddof=1))))
        if whole.size >= 6:
            sd = max(sd, noise_scale(whole, differences=2)[0])
        z_step = excess / (sd * math.sqrt(1.0 + 1.0 / (n - 1)))
        # two alternatives, two statistics: the mean excess is the test of a
        # step up after the first evaluation (then level), the least-squares
        # slope the test of a steady rise, which the mean excess dilutes (its
        # first later points are still low); Bonferroni over the two. The
        # slope's noise is the larger of the assumed sd and the residual sd
        # around the line (a steady rise does not pass for noise there).
        x = np.arange(n, dtype=np.float64) - 0.5 * (n - 1)
        sxx = float(x @ x)
        slope = float(x @ (lv - lv.mean())) / sxx
        sd_line = cfg.short_run_val_noise
        if n >= 4:
            resid = lv - lv.mean() - slope * x
            sd_line = max(sd_line, math.sqrt(float(resid @ resid) / (n - 2)))
        if whole.size >= 6:
            sd_line = max(sd_line, noise_scale(whole, differences=2)[0])
        z_slope = slope * math.sqrt(sxx) / sd_line if n >= 3 else z_step
        z_rise = max(z_step, z_slope)
        # two statistics (one when only one evaluation follows the lowest)
        p_rise = min(1.0, (2.0 if n >= 3 else 1.0) * float(ndtr(-z_rise)) / weight)
        ty = train.values[np.isfinite(train.values) & (train.steps <= a.steps[-1])]
        if ty.size >= _MIN_TAIL and ty.min() > 0:
            p_train, _ = trend_test(np.log(ty), "decreasing", floor_factor=True)
        else:
            p_train = 0.0 if ty.size >= 2 and ty[-1] <= 0.5 * ty[0] else 1.0
        p = max(p_rise, p_train)
        if p > alpha:
            return None
        onset = int(a.steps[j])
        sev = _rise_severity(rise, cfg)
        eff = {
            "val_min": float(a.val[j]),
            "relative_rise": rise,
            "final_gap": _expm1(float(a.gap[-1])),
            "gap_growth": growth,
            "evaluations_after_min": float(n),
            "p_rise": p_rise,
            "p_train_decrease": p_train,
        }
        where = "the first" if j == 0 else f"evaluation {j + 1}"
        best = "the first evaluated" if j == 0 else f"the one evaluated at step {onset}"
        msg = (
            f"{val.name} is lowest at {where} of its {whole.size} evaluations and {_fmt.pct(rise)} above it "
            f"after (median), while {train.name} kept falling: the best model was {best}; "
            f"stop (or save) at step {onset}."
        )
        return self._finding("u_turn", val, p, z_rise, eff, onset, sev, msg, REMEDIES_OVERFITTING)

    # ------------------------------------------------------------------
    def _test(self, a: _Aligned, val: Series, train: Series, cfg: Any, alpha: float,
              spe: int | None = None) -> Finding | None:
        n = a.steps.size
        w = _window(n)
        lv = np.log(a.val) if a.log_scale else a.val / (float(np.median(np.abs(a.val))) or 1.0)
        sm = robust_smooth(lv, w)
        k_min = int(np.argmin(sm))
        # s*: where the smoothed validation loss first comes within noise of
        # its minimum (the start of a flat bottom; the minimum itself if the
        # curve turns up sharply)
        # noise sd from second differences (a local line cancels, so a steep
        # descent does not pass for noise). The slope test of short tails
        # below uses third differences; the band that places s* takes this
        # wider estimate: a generous band starts the tail earlier, on the
        # plateau rather than on the selected low points around the minimum
        # (with third differences the U-turn rate on the hardest wandering
        # plateau rose from 5.0 % to 6.7 %)
        se = noise_scale(lv, differences=2)[0] / math.sqrt(w)
        flat = math.log1p(cfg.plateau_tolerance) if a.log_scale else cfg.plateau_tolerance
        k = int(np.flatnonzero(sm[: k_min + 1] <= sm[k_min] + max(4.0 * se, flat))[0])
        k_on = int(np.flatnonzero(sm[: k_min + 1] <= sm[k_min] + max(2.0 * se, flat))[0])
        tail = slice(k, n)
        m = n - k
        gsm = robust_smooth(a.gap, w)
        to_ratio = _expm1 if a.log_scale else (lambda x: x)
        rise = to_ratio(float(_end_level(lv, sm) - sm[k_min]))
        growth = to_ratio(float(gsm[-1] - gsm[k]))
        final_gap = to_ratio(float(gsm[-1]))
        if m >= _MIN_SHORT_TAIL and (rise >= cfg.min_rise or (m >= _MIN_TAIL and growth >= cfg.min_gap_growth)):
            # the tests run only when an effect of practical size is there
            # (cheaper, and the decision needs both anyway)
            p_gap, z_gap = _mk(a.gap[tail], "increasing", noise_scale(a.gap) if m < _MIN_TAIL else None)
            if p_gap > alpha:
                return self._split(a, val, train, cfg, alpha, spe)
            span = max(1, int(a.steps[-1] - a.steps[k]))
            # onset: where the gap starts to grow (broken-curve fit), searched
            # from s* (the first evaluation within 4 se of the minimum) or half
            # a smoothing window before the start of the flat bottom (within
            # 2 se), whichever is earlier -- a long, slowly flattening bottom
            # puts the 2-se start well after the point where the gap begins to
            # open -- up to the smoothed minimum (or half a window past the
            # start of the flat bottom, whichever is later)
            # The fit ends where the smoothed gap has made half its growth:
            # the later course (a learning-rate step, a gap that saturates)
            # says nothing about where the growth began and would bend a
            # global fit away from it.
            lo, hi = min(k, k_on - w // 2), max(k_on + w // 2, k_min)
            half = np.flatnonzero(gsm[hi:] >= gsm[k] + 0.5 * (gsm[-1] - gsm[k]))
            end = min(n, max(hi + int(half[0]) if half.size else n, hi + w) + 1)
            j = _hinge_break(a.gap[:end], lo, hi, upward=True)
            onset = int(a.steps[j])
            base = {
                "val_min": float(_expm1(sm[k_min]) + 1.0 if a.log_scale else sm[k_min]),
                "relative_rise": rise,
                "final_gap": final_gap,
                "gap_growth": growth,
                "gap_growth_per_1k_steps": growth / (span / 1000.0),
                "evaluations_after_min": float(m),
                "p_gap_trend": p_gap,
            }
            # the train loss did not follow: at least half of the validation
            # loss's rise since s* (on the log scale) is a growth of the gap.
            # A train loss that rises with it is a run that gets worse as a
            # whole (non-convergence, instability), not overfitting.
            shared = a.log_scale and math.log1p(growth) < 0.5 * math.log1p(rise)
            # a tail too short for a rank test is judged against the noise of
            # the whole curve, which one last evaluation can fool: the rise
            # must be there without it (two evaluations above the minimum by
            # the practical margin), as a jump on the last point is a
            # one-point outlier for the explosion detector too
            carried = m >= _MIN_TAIL or to_ratio(float(lv[-2] - lv[k:-1].min())) >= cfg.min_rise
            if rise >= cfg.min_rise and not shared and carried:
                # noise sd of log v for the slope test of short tails: from
                # third differences (a local parabola cancels: the fast
                # changing curvature of an exponential-like descent does not
                # pass for noise either)
                lv_noise = noise_scale(lv)
                # The rise is tested on up to three stretches, the first
                # that passes counts (each with the autocorrelation check
                # below):
                # (1) the evaluations from s* on;
                # (2) few evaluations from s* on: the descent onto a flat
                # bottom, or the low points around the minimum, dilute a rank
                # test (one point out of order costs five increasing points
                # their significance); test again past the running-median
                # window that made the minimum -- not from inside it: those
                # points were selected for being low, and a tail that starts
                # on them rises by construction (on wandering plateaus that
                # doubled the false alarms);
                # (3) a large rise (``critical_rise``, 20 %) from the minimum
                # itself: the selection bias of starting on the lowest point
                # matters for a wander of a few %, not for a rise of this
                # size (real: a validation loss up 32 % over six evaluations
                # before an outlier batch made the run explode, one point out
                # of order).
                # A wander is not a rise: the validation loss of a model that
                # drifts through parameter space (SGD noise, a small
                # validation set) is autocorrelated, and 10-25 such points
                # after a selected minimum rise significantly for the rank
                # test far more often than alpha. On 8 or more points and a
                # rise within ``_AR_RISE_NOISE`` noise sd the test is widened
                # by the AR(1) variance factor of the stretch (the Hamed-Rao
                # screen misses it on so few points); far larger, smooth
                # rises are not (their differences carry their curvature,
                # which the estimate would read as autocorrelation).
                after_min = k_min + w // 2 + 1
                stretches = [lv[tail]]
                if n - after_min >= _MIN_SHORT_TAIL:
                    stretches.append(lv[after_min:])
                if rise >= cfg.critical_rise and n - k_min >= _MIN_TAIL:
                    stretches.append(lv[k_min:])
                p_rise, z_rise = 1.0, 0.0
                for seg in stretches:
                    p_s, z_s = _mk(seg, "increasing", lv_noise)
                    if p_s <= alpha and seg.size >= _AR_CHECK_FROM and math.log1p(rise) < _AR_RISE_NOISE * lv_noise[0]:
                        p_s = max(p_s, _ar_widened(seg, z_s))
                    if seg is stretches[0] or p_s <= alpha:
                        p_rise, z_rise = p_s, z_s
                    if p_s <= alpha:
                        break
                level_onset = None
                if p_rise > alpha and n >= 3 * _MIN_TAIL:
                    # a rise from a sharp minimum to a higher plateau: tested
                    # on levels, Bonferroni with the rank tests above
                    lvl = _level_u_turn(lv)
                    if lvl is not None and lvl[2] >= cfg.warning_rise and 2.0 * lvl[0] <= alpha:
                        p_rise, z_rise = min(1.0, 2.0 * lvl[0]), lvl[1]
                        rise = max(rise, lvl[2])
                        level_onset = int(a.steps[lvl[3]])
                base["p_rise"] = p_rise
                if p_rise <= alpha:
                    # a U-turn: the early-stopping step is where the
                    # validation loss itself bends up -- the break of the
                    # broken curve fitted to log v from half a window before
                    # the flat bottom on (the steep early descent would pull
                    # a global line off), searched from the flat bottom to
                    # half a window past the smoothed minimum (a slowly
                    # starting rise moves the smoothed minimum either way)
                    lo = max(0, k_on - w // 2)
                    # The fit ends _ONSET_FIT_WINDOWS smoothing windows past
                    # the search range: far from the bend, the shape of the
                    # rise (a real U-turn often climbs fast, then saturates)
                    # says nothing about where it began and pulls a global
                    # fit's bend late
                    end = min(n, k_min + w // 2 + _ONSET_FIT_WINDOWS * w + 1)
                    onset = int(a.steps[lo + _hinge_break(lv[lo:end], k_on - lo, k_min + w // 2 - lo)])
                    if int(np.argmin(lv)) == 0:
                        # the first evaluation is the lowest: the best model
                        # was the first one evaluated (a bend fitted to a
                        # rise from the first point can only land after it)
                        onset = int(a.steps[0])
                    if level_onset is not None:
                        onset = level_onset  # the minimum the level test started from
                    p = max(p_rise, p_gap)
                    sev = _rise_severity(rise, cfg)
                    msg = (
                        f"{val.name} turned up after its minimum at step {onset}: it rose {_fmt.pct(rise)} above "
                        f"the minimum over the last {m} evaluations while {train.name} did not follow "
                        f"(the gap grew {_fmt.growth(growth)}; {_end_gap(val.name, train.name, final_gap, a.log_scale)}); stop early at step {onset}."
                    )
                    # a validation loss that was worse than the held-out train
                    # loss from the first epoch on is a split mismatch first
                    # (labels or preprocessing of the validation data), even
                    # when it then rises as the model grows confident
                    split = self._split(a, val, train, cfg, alpha, spe)
                    if split is not None:
                        return split
                    return self._finding("u_turn", val, p, min(z_rise, z_gap), base, onset, sev, msg, REMEDIES_OVERFITTING)
            if growth >= cfg.min_gap_growth and m >= _MIN_TAIL:
                # (c) on the level the gap has reached, not its mean over the
                # tail: a widening gap averages its early, near-zero part in,
                # and its trend, left in the deviations from a mean, inflates
                # the HAC variance
                # ... and above the healthy band: validation losses sit up to
                # ``min_gap`` above train (the split-mismatch margin), so a gap
                # that grew from -10 % to +15 % is no memorisation
                margin = math.log1p(cfg.min_gap) if a.log_scale else cfg.min_gap
                p_level = hac_end_level_test(a.gap[tail], mu0=margin, alternative="greater", **_SMALL_SAMPLE).pvalue
                base["p_gap_level"] = p_level
                # a validation loss that still falls significantly after s*
                # wastes no epochs: nothing to note
                p_down, _ = _mk(lv[tail], "decreasing")
                base["p_val_decrease"] = p_down
                if p_level <= alpha and p_down > alpha:
                    p = max(p_gap, p_level)
                    # memorisation: the validation loss did not get worse (it
                    # would be a U-turn), the train loss only falls further
                    # below it. Overfitting means the validation loss gets
                    # worse; this is a note that the epochs after the
                    # validation minimum are wasted (``growing_gap_severity``,
                    # info by default), and its early-stopping step is that
                    # minimum -- not where the gap began to open, which lies
                    # on the descent when the train loss outpaces the
                    # validation loss early. On a flat bottom the smoothed
                    # minimum itself is placed by noise (and the minimum of a
                    # smoothed noisy plateau lies below its level); the step
                    # is where the bottom starts, s*: the first evaluation
                    # within ``max(4 se, plateau_tolerance)`` of the minimum
                    # (an early stop with that ``min_delta`` stops there).
                    # A validation loss still falling significantly after s*
                    # gets no note at all (above).
                    onset = int(a.steps[k])
                    sev = Severity(cfg.growing_gap_severity)
                    msg = (
                        f"{val.name} has stayed within {_fmt.pct(max(rise, 0.0))} of its minimum since step {onset} "
                        f"while {train.name} kept falling: the model memorises the training data (the "
                        f"validation/train gap grew {_fmt.growth(growth)} over the last {m} evaluations; "
                        f"{_end_gap(val.name, train.name, final_gap, a.log_scale)}); the validation loss did not get worse, but the epochs after "
                        f"step {onset} were not needed."
                    )
                    # a validation loss that never got below what the train
                    # loss was on unseen data is a split mismatch, not memorisation
                    split = self._split(a, val, train, cfg, alpha, spe)
                    if split is not None:
                        return split
                    return self._finding("growing_gap", val, p, z_gap, base, onset, sev, msg, REMEDIES_OVERFITTING)
        return self._split(a, val, train, cfg, alpha, spe)

    def _split(self, a: _Aligned, val: Series, train: Series, cfg: Any, alpha: float,
               spe: int | None) -> Finding | None:
        """Split mismatch: the validation loss is worse than the train loss was on data not yet trained on.

        While the model has not seen a training example, its train loss on
        it is a held-out loss (progressive validation): during the first
        epoch the logged train loss estimates the generalisation loss of the
        model at that step, and a healthy validation loss, evaluated later,
        is no higher (the generalisation loss does not rise before
        overfitting, and an interval mean over a falling curve lies above its
        end). H0: ``log v_k <= log R_k`` for the reference ``R_k``, the train
        loss over the part of the first epoch up to ``s_k``: the evaluation
        interval itself when it lies in the first epoch, else the whole first
        epoch (``steps_per_epoch`` known) or, when the epoch length is
        unknown, the first logged train values (at most 5: the untrained
        model's loss, the chance level). A gap after the first epoch that
        the train loss opens by fitting the data, however large from the
        first evaluation on, is memorisation and never rejects this H0.
        """
        if not a.log_scale:
            return None
        ok = np.isfinite(train.values) & (train.values > 0)
        ts, ty = train.steps[ok], train.values[ok]
        if ty.size == 0:
            return None
        lty = np.log(ty)
        # noise of the log train loss where the reference is taken: the
        # residuals of a parabola over its first points (a tenth of the
        # series, 10 to 200), inflated for their lag-1 autocorrelation. Local,
        # because mini-batch noise shrinks as the loss falls (the series' own
        # MAD reads the late, small noise), and not from differences, which
        # read only the innovation of autocorrelated noise and let one
        # correlated excursion at the start pass for a gap.
        m0 = int(min(ty.size, max(10, min(200, ty.size // 10))))
        if m0 >= 5:
            i = np.arange(m0, dtype=np.float64) / m0
            res = lty[:m0] - np.polyval(np.polyfit(i, lty[:m0], 2), i)
            sd_loc = float(np.sqrt(res @ res / (m0 - 3)))
            rho = clip_lag1(float((res[1:] @ res[:-1]) / (res @ res))) if res @ res > 0 else 0.0
        else:
            sd_loc, rho = 0.0, 0.0

        def se_mean(k: int) -> float:
            """Standard error of the mean of k consecutive log train values (at most their sd)."""
            return sd_loc * min(1.0, math.sqrt((1.0 + rho) / ((1.0 - rho) * k)))

        lv = np.log(a.val)
        sd_v = max(noise_scale(lv)[0], cfg.short_run_val_noise if lv.size < 8 else 0.0)
        if spe is not None:
            # every evaluation in the first epoch against the train loss of its
            # own interval (the whole first epoch for a first evaluation after it)
            e1 = int(ts[0]) + int(spe) - 1
            first = np.flatnonzero(a.steps <= e1)
            ks = first if first.size else np.array([0])
            d = np.empty(ks.size)
            se_r = np.empty(ks.size)
            prev = -np.inf
            for j, kk in enumerate(ks):
                hi = min(int(a.steps[kk]), e1)
                w = ty[(ts > prev) & (ts <= hi)] if a.steps[kk] <= e1 else ty[ts <= e1]
                if w.size == 0:
                    w = ty[:1]
                prev = a.steps[kk]
                # the log of the arithmetic mean (>= the mean of the log): the
                # conservative side for a reference that must not be too low
                d[j] = math.log(a.val[kk]) - math.log(float(w.mean()))
                se_r[j] = se_mean(w.size)
            excess = float(d.mean())
            se = math.sqrt(sd_v * sd_v / ks.size + float(np.mean(se_r * se_r)))
            nxt = int(ks[-1]) + 1
            if nxt < lv.size and float(np.mean(a.gap[ks])) - float(a.gap[nxt]) > math.log(2.0):
                # the gap halves (log scale) at the next evaluation: the first
                # epoch's validation loss was a glitch (evaluation-mode
                # BatchNorm statistics not settled yet), not another data set,
                # which does not go away
                return None
        else:
            # epoch length unknown: only the first logged train values are
            # surely on unseen data (the untrained model: the chance level),
            # the first five at most, and only if they lie in the first 1 %
            # of the run (a first value logged later is the mean of a window
            # -- HF's logging_steps -- that may span several epochs of a small
            # data set, already memorised). Every healthy validation loss
            # lies below it (one evaluation next to one noisy train value is
            # no evidence: the whole curve must stay above it)
            early = ts <= max(1.0, 0.01 * float(ts[-1]))
            if not early[0]:
                return None
            q = int(min(5, int(early.sum())))
            e1 = int(ts[q - 1])
            ks = np.arange(lv.size)
            # the best validation loss (smoothed: one low evaluation does not
            # save it; the minimum of a smoothed curve lies below its level,
            # the conservative side) never got below the untrained model's:
            # nothing transferred. Not the median: an overconfident model's
            # validation loss can end above the chance level after a U-turn
            w_ = _window(lv.size)
            excess = float(robust_smooth(lv, w_).min() - math.log(float(ty[:q].mean())))
            se = math.sqrt(se_mean(q) ** 2 + sd_v * sd_v / w_)
        margin = math.log1p(cfg.min_gap)
        if excess < margin:
            return None
        # the model learns its training data: the train loss ends at least the
        # margin below the first epoch's (else the reference says nothing; a
        # run that gets worse as a whole is non-convergence or an explosion)
        tail_y = ty[ts >= ts[0] + 0.9 * (ts[-1] - ts[0])]
        if math.log(float(ty[ts <= e1].mean())) - math.log(float(np.median(tail_y))) < margin:
            return None
        z = (excess - margin) / se if se > 0 else math.inf
        pvalue = float(ndtr(-z))  # upper normal tail, precise for small p
        if pvalue > alpha:
            return None
        ref_gap = _expm1(excess)
        w_ = _window(a.steps.size)
        gsm = robust_smooth(a.gap, w_)
        eff = {
            "reference_gap": ref_gap,
            "early_gap": _expm1(float(np.median(a.gap[: max(3, a.steps.size // 10)]))),
            "final_gap": _expm1(float(gsm[-1])),
            "evaluations_in_reference": float(ks.size),
        }
        sev = Severity.CRITICAL if ref_gap >= cfg.critical_gap else Severity.WARNING
        where = "in the first epoch" if spe is not None else "at the first logged steps (the untrained model)"
        msg = (
            f"{val.name} is {100 * ref_gap:.0f} % above {train.name} {where}, where the train loss is still "
            f"measured on data the model has not trained on (step {int(a.steps[ks[0]])}): fitting the training data "
            "cannot explain that gap, which points at different train and validation data."
        )
        return self._finding("split_mismatch", val, pvalue, z, eff, int(a.steps[ks[0]]), sev, msg,
                             REMEDIES_SPLIT_MISMATCH)

    def _finding(self, kind, val, p, stat, effect, onset, sev, msg, remedies) -> Finding:
        return Finding(
            pathology=Pathology.OVERFITTING,
            kind=kind,
            series=val.name,
            p_value=float(min(1.0, max(0.0, p))),
            statistic=float(stat),
            effect={k: float(v) for k, v in effect.items()},
            onset_step=onset,
            severity=sev,
            message=msg,
            remedies=remedies,
            detector=self.name,
        )


detector = OverfittingDetector()
