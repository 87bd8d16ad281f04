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
(c) *gap level*: Newey-West (HAC) t-tests -- that a growing gap ends above
    the healthy band ``log(1 + min_gap)`` (the end level of a line fitted
    after s*), and that a split
    mismatch's mean gap exceeds a practical margin.

Fewer than 10 points after s* are tested with the exact null of the plain
Mann-Kendall score (a Hamed-Rao correction cannot be estimated on them);
three or four points, which no rank test can call significant at 1 %, by
their least-squares slope against the noise of the whole curve.

Decision (intersection-union tests, so the reported p-value is the largest
p-value of the tests that make up a kind):

* ``u_turn`` (3 or more evaluations from s* on; with 3-4, the rise must not
  be the last evaluation's alone): (a) and (b) significant and the
  validation loss rose at least
  ``min_rise`` above its minimum, at least half of it (log scale) as a growth
  of the gap (the train loss did not follow); p = max(p_a, p_b).
* ``growing_gap``: (b) significant, the gap grew by at least
  ``min_gap_growth`` after s* and (c) shows a positive gap after s*;
  p = max(p_b, p_c). A warning when the validation loss stalled (s* before
  the last ``min_stalled_fraction`` of the run, no significant decrease and
  no jump of 10 % or more above the minimum after it) while the train loss fell by at least
  ``min_absolute_gap_growth`` of the validation level; else
  ``growing_gap_severity`` (info).
* ``split_mismatch``: no growth, but the gap is at least ``min_gap`` from the
  first evaluations on and (c) rejects ``mean gap <= log(1 + min_gap)``;
  p = p_c.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Run, Series, align_to_steps
from ..stats import block_means, hac_end_level_test, hac_mean_test, robust_smooth
from ._context import explosion_onset
from ._trend import noise_scale, slope_test, trend_test

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

#: a validation loss that ends this far above its minimum without a
#: significant rising trend jumped; it did not stall
_MAX_STALL_RISE = 0.10
#: the HAC tests run on tens of evaluations, where the normal reference and
#: the uncorrected Newey-West variance reject far too often (at 1 %, 10
#: iid points: 5 % and 9 % for the mean and end-level tests); the fixed-b
#: reference and the n / (n - k) factor bring that to 0.9 % and 1.3 % (2.6 %
#: and 5 % with Student's t instead; docs/stats.rst)
_SMALL_SAMPLE = {"fixed_b": True, "use_correction": True}


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
    ok = det > 1e-12 * np.maximum(a11 * a22, 1e-300)
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
    #: reads the explosion detector's findings: the run is judged before a
    #: sustained explosion (a diverging or non-finite loss is not overfitting)
    uses_context = True

    def detect(self, run: Run, config: Config, context: dict | None = None, **_: Any) -> Sequence[Finding] | Skipped:
        """Test ``run``; return at most one finding, or a Skipped with the reason."""
        cfg = config.overfitting
        alpha = config.alpha
        val, train = run.val_loss, run.train_loss
        if val is None:
            return Skipped(self.name, "no validation-loss series")
        if train is None:
            return Skipped(self.name, "no train-loss series")
        a = _align(train, val, _MAX_EVAL_POINTS)
        cut = explosion_onset(context)
        if cut is not None:
            keep = a.steps < cut
            if int(keep.sum()) >= cfg.min_evaluations:
                a = _Aligned(a.steps[keep], a.val[keep], a.train[keep], a.gap[keep], a.log_scale, a.block)
        n = a.steps.size
        if n < cfg.min_evaluations:
            return Skipped(self.name, f"only {n} evaluations with a finite validation and train loss; need {cfg.min_evaluations}")
        out = self._test(a, val, train, cfg, alpha)
        return [out] if out is not None else []

    # ------------------------------------------------------------------
    def _test(self, a: _Aligned, val: Series, train: Series, cfg: Any, alpha: float) -> Finding | None:
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
        to_ratio = math.expm1 if a.log_scale else (lambda x: x)
        rise = to_ratio(float(sm[-1] - sm[k_min]))
        growth = to_ratio(float(gsm[-1] - gsm[k]))
        final_gap = to_ratio(float(gsm[-1]))
        if m >= _MIN_SHORT_TAIL and (rise >= cfg.min_rise or (m >= _MIN_TAIL and growth >= cfg.min_gap_growth)):
            # the tests run only when an effect of practical size is there
            # (cheaper, and the decision needs both anyway)
            p_gap, z_gap = _mk(a.gap[tail], "increasing", noise_scale(a.gap) if m < _MIN_TAIL else None)
            if p_gap > alpha:
                return self._split(a, val, train, cfg, alpha, gsm, to_ratio)
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
                "val_min": float(math.exp(sm[k_min]) if a.log_scale else sm[k_min]),
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
                p_rise, z_rise = _mk(lv[tail], "increasing", lv_noise)
                # few evaluations from s* on: the descent onto a flat bottom,
                # or the low points around the minimum, dilute a rank test
                # (one point out of order costs five increasing points their
                # significance); test again past the running-median window
                # that made the minimum -- not from inside it: those points
                # were selected for being low, and a tail that starts on them
                # rises by construction (on wandering plateaus that doubled
                # the false alarms)
                after_min = k_min + w // 2 + 1
                if p_rise > alpha and n - after_min >= _MIN_SHORT_TAIL:
                    p_rise, z_rise = _mk(lv[after_min:], "increasing", lv_noise)
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
                    p = max(p_rise, p_gap)
                    sev = Severity.CRITICAL if rise >= cfg.critical_rise else Severity.WARNING
                    msg = (
                        f"{val.name} turned up after its minimum at step {onset}: it rose {100 * rise:.1f} % above "
                        f"the minimum over the last {m} evaluations while {train.name} did not follow "
                        f"(the gap grew {100 * growth:.1f} %, final gap {100 * final_gap:.1f} %); stop early at step {onset}."
                    )
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
                if p_level <= alpha:
                    p = max(p_gap, p_level)
                    # the validation loss did not get worse: the model stopped
                    # generalising better and only memorises -- worth knowing
                    # (stop early), not a pathology by itself
                    sev = Severity(cfg.growing_gap_severity)
                    # the validation loss stopped improving for a sustained
                    # stretch: s* lies well before the end and there is no
                    # significant decrease after it -- the extra training only
                    # memorises (a warning). A validation loss that still
                    # creeps down, its minimum near the end, is info.
                    # and the train loss fell by a practical share of the
                    # validation loss meanwhile (absolute gap growth over the
                    # validation level at s*): a train loss that is already
                    # near zero can double its log-ratio gap by falling a
                    # negligible amount
                    p_down, _ = _mk(lv[tail], "decreasing")
                    dg = robust_smooth(a.val - a.train, w)
                    vk = abs(float(robust_smooth(a.val, w)[k])) or 1.0
                    abs_growth = float(dg[-1] - dg[k]) / vk
                    base["p_val_decrease"] = p_down
                    base["absolute_gap_growth"] = abs_growth
                    # (stalled, not jumped: a validation loss that ended
                    # 10 % or more above its minimum without a
                    # significant rising trend is a spike or a jump, not a
                    # plateau; a drift of a few % above the minimum without a
                    # significant trend either way is still a stall)
                    if (m >= max(_MIN_TAIL, math.ceil(cfg.min_stalled_fraction * n)) and p_down > alpha
                            and rise < _MAX_STALL_RISE and abs_growth >= cfg.min_absolute_gap_growth):
                        sev = Severity.CRITICAL if growth >= cfg.critical_gap_growth else Severity.WARNING
                    msg = (
                        f"{val.name} stopped improving at step {onset} while {train.name} kept falling: the "
                        f"validation/train gap grew {100 * growth:.1f} % over the last {m} evaluations "
                        f"(final gap {100 * final_gap:.1f} %); stop early at step {onset}."
                    )
                    return self._finding("growing_gap", val, p, z_gap, base, onset, sev, msg, REMEDIES_OVERFITTING)
        return self._split(a, val, train, cfg, alpha, gsm, to_ratio)

    def _split(self, a: _Aligned, val: Series, train: Series, cfg: Any, alpha: float, gsm, to_ratio) -> Finding | None:
        n = a.steps.size
        final_gap = to_ratio(float(gsm[-1]))
        # split mismatch: a large gap from the first evaluations on, not growing
        thr = math.log1p(cfg.min_gap) if a.log_scale else cfg.min_gap
        head = max(3, n // 10)
        early = float(np.median(a.gap[:head]))
        level = a.gap
        if a.log_scale and a.block == 1 and n >= 5 and train.steps.size >= 2 * val.steps.size:
            # the train loss is an interval mean that lags a falling curve,
            # which hides part of the gap while the loss falls fast; the
            # geometric mean of the interval means before and after an
            # evaluation is centred on it (exact for an exponential decay).
            # The first interval, which holds the very first steps, is left
            # out. The level test below uses the same centred gap: the raw
            # gap of the first evaluations is biased low (often negative), and
            # that bias pulled the mean of a constant gap under its true value.
            lt = np.log(a.train)
            gc = np.log(a.val[1:-1]) - 0.5 * (lt[1:-1] + lt[2:])
            early = max(early, float(np.median(gc[:head])))
            level = gc
        # (half the margin: the train loss averaged over an early evaluation
        # interval still holds the fast initial descent, which hides part of
        # the gap there)
        if early < 0.5 * thr:
            return None
        # not growing: at least half of the final gap (log-ratio scale) was
        # there from the first evaluations on, i.e. the gap is mainly a level
        # difference between the splits. A gap that mostly built up during
        # training is memorisation, which the growing-gap and U-turn tests
        # judge, not a split mismatch.
        if float(gsm[-1]) > 2.0 * early:
            return None
        res = hac_mean_test(level, mu0=thr, alternative="greater", **_SMALL_SAMPLE)
        if res.pvalue > alpha:
            return None
        p_trend, _ = _mk(a.gap, "increasing")
        mean_gap = to_ratio(res.mean)
        early_gap = to_ratio(early)
        eff = {
            "mean_gap": mean_gap,
            "early_gap": early_gap,
            "final_gap": final_gap,
            "gap_growth": to_ratio(float(gsm[-1] - gsm[0])),
            "p_gap_trend": p_trend,
        }
        sev = Severity.CRITICAL if mean_gap >= cfg.critical_gap else Severity.WARNING
        what = "above" if a.log_scale else "above (in units of the median train loss)"
        msg = (
            f"{val.name} is {100 * mean_gap:.0f} % {what} {train.name} on average, and already "
            f"{100 * early_gap:.0f} % from the first evaluations on (step {int(a.steps[0])}): the gap did not "
            "build up during training, which points at different train and validation data."
        )
        return self._finding("split_mismatch", val, float(res.pvalue), float(res.statistic), eff, int(a.steps[0]), sev, msg,
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
