"""Periodic / step-like loss: "my model gets stuck" (data not shuffled).

H0: the detrended train loss has no periodic component (its spectrum is
smooth: trend leakage plus autocorrelated noise of any colour).

Pipeline (details, assumptions and defaults in ``docs/detectors/periodic.rst``):

1. **Prepare.** Train loss on a regular step grid (linear interpolation if the
   logging interval varies; interior NaN interpolated, a NaN tail cut), log
   scale when positive, block means of ``b`` points when longer than
   ``Config.max_points`` (periods under ``4 b`` points are then out of reach).
2. **Spectrum.** Periodogram of the *first differences* (removes the trend,
   the fast initial decay and step-decay drops without the ripple a
   smoother's high-pass edge leaves), recoloured by the exact transfer
   ``4 sin^2(pi k / n)`` of differencing, divided by a robust noise spectrum
   (running median of 33 ordinates / ln 2). Under H0 the ratios ``Z_k`` are
   close to iid Exp(1) whatever the noise colour, so AR(1) noise with phi up
   to 0.97 does not false-alarm the way a raw Fisher test does.
3. **Tests.** Blind: Fisher's g = max Z / sum Z over periods from 4 points to
   ``n / min_cycles`` with its exact p-value, and the F-ratio check of the
   same peak (``Z_max ~ F(2, 2 nu)``, Sidak over the band) that carries the
   error of the estimated noise spectrum; the blind p is the larger of the
   two. Epoch (when the epoch length is known): the mean of ``Z`` at the
   first J harmonics of the epoch frequency ``~ F(2J, 2 nu)``, J in
   {1, 2, 4, 8}, Bonferroni over J. Decision p: Bonferroni over the two.
4. **Period.** The fundamental, searched from the epoch (when its own test
   is significant) or from the refined blind peak by nested line tests: a
   longer period ``d P`` when the lines only it has are significant (the ACF
   choosing among the d), a shorter ``P / q`` when the lines only ``P`` has
   are absent and its profile keeps 90 % of the share; snapped to the epoch
   (or a simple fraction/multiple) within 5 %.
5. **Effect.** Share of the residual variance (log loss minus a robust running
   median spanning ``n / min_cycles`` points) carried by the mean profile over
   one period, bias-corrected; reported with the epoch ratio and Ljung-Box Q.
6. **Explained.** When a logged learning rate repeats with the same period
   (or the period divides the lr's cycle), the finding is ``explained_by_lr``
   with severity ``info``.
7. **Staircase.** At the epoch, an epoch x phase decomposition tells a shape
   that repeats within every epoch (data order, warning) from a staircase --
   each epoch lower than the last, the drop at the boundary, no repeating
   shape, and (with a validation loss) a decline the validation loss does not
   share: multi-epoch memorisation, ``epoch_staircase`` (info).
8. **One step.** A pattern carried by one phase of the cycle (the rest
   measured against its own mean) is the partial last batch,
   ``one_step_per_cycle`` (info).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _format as _fmt
from .._numeric import TINY, ULP_TOL
from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Run, Series
from ..stats import acf, fisher_g_pvalue, ljung_box, robust_smooth
from ..stats.spectral import (
    MIN_PERIOD_POINTS,
    NormalisedSpectrum,
    SpectralPeakResult,
    harmonic_test,
    line_test,
    normalised_spectrum,
    spectral_peak_test,
)

__all__ = ["PeriodicDetector", "detector", "REMEDIES", "REMEDIES_LR", "REMEDIES_ONE_STEP", "REMEDIES_STAIRCASE", "REMEDIES_MEMORISED_TOO"]

REMEDIES = (
    "Shuffle the training data every epoch (e.g. DataLoader(shuffle=True) or dataset.shuffle with a buffer "
    "larger than a class block).",
    "Check the data loader's sampler and ordering: data sorted by class, source, length or time repeats the "
    "same sequence of batches every epoch.",
    "If the steps sit at epoch boundaries, check for per-epoch effects (memorisation across epochs, "
    "state reset at epoch start, evaluation mode left on).",
)

REMEDIES_ONE_STEP = (
    "Nothing to fix in the data order: one step per epoch has a different loss. Usually it is the last, "
    "partial batch (the dataset size is not a multiple of the batch size), whose few samples give a noisier "
    "or biased loss; use drop_last=True or log epoch means if it matters.",
)

REMEDIES_STAIRCASE = (
    "Nothing to fix in the data order: the loss drops at each epoch boundary and the pattern within an epoch does "
    "not repeat, so the model is memorising the examples it saw in earlier epochs (multi-epoch memorisation, the "
    "overfitting story). If the validation loss rises, train for fewer epochs (stop at the validation minimum), add "
    "regularisation (weight decay, dropout, augmentation) or use more data.",
)

REMEDIES_MEMORISED_TOO = (
    "The drops at the epoch boundaries, while the validation loss does not follow, are multi-epoch memorisation "
    "(the overfitting story): train for fewer epochs (stop at the validation minimum) or add regularisation.",
)

REMEDIES_LR = (
    "Nothing to fix if the learning-rate schedule is intended (warm restarts, cyclic schedules make the loss "
    "repeat with them).",
)

#: Shortest period searched, in points (4 points = 2 ordinates below Nyquist).
_MIN_PERIOD_POINTS = MIN_PERIOD_POINTS
#: A logged lr explains a period when its folded profile carries this share of its variance.
_LR_EXPLAINS = 0.5
#: Points the lr is reduced to (block means) before its profile is computed.
_LR_POINTS = 2000
#: Shortest period (points) on which a pattern carried by one phase is told
#: apart from one that spans the cycle. Was 8 (one step at most 1/8 of the
#: cycle); small scikit-learn data sets give epochs of 4-7 steps (wine: 142
#: samples in batches of 32 -> 5 steps, the last of 14 samples), where every
#: partial-batch run then came out as a data-order warning.
_ONE_STEP_MIN_PERIOD = 4
#: "One step carries it": the other phases keep less than this share of the
#: profile's variance share (real partial batches: 0-15 %; class-sorted
#: fine-tunes logged every 4 steps, one block dominating: 36 %).
_ONE_STEP_REST = 0.25
#: A staircase needs this share of its epochs below the previous one ("each
#: epoch lower than the last", one in four may fail by noise).
_STAIRCASE_DECLINING = 0.75
#: A staircase keeps at least this part of each boundary drop as net progress
#: from one epoch to the next (real memorisation fine-tunes: 0.45-0.65; a
#: data-order sawtooth on a converging curve: ~0.1).
_STAIRCASE_NET = 1.0 / 3.0
#: A staircase is memorisation when the validation loss shares less than this
#: part of the train loss's decline over the evaluations (real memorisation
#: fine-tunes: < 0; healthy synthetic curves with a data-order sawtooth: ~1).
_MEMORISED = 0.5
#: A shorter period replaces a longer one only when its profile keeps this
#: share of the longer one's explained variance (20 seeds of 4 class blocks
#: with random offsets: 2 of 20 went to half the epoch without this rule).
_SHORTER_SHARE = 0.9
#: Simple fractions and multiples of the epoch a period is matched against.
_FRACTIONS = (1, 2, 3, 4, 5, 6, 8, 10)
_MULTIPLES = (2, 3, 4)
#: A period within this relative distance of the epoch (or a fraction or
#: multiple of it) is that epoch (3180837, with the detector).
_EPOCH_TOL = 0.02
#: ... and an estimated period within this one is snapped to it (3180837).
_SNAP_TOL = 0.05
#: The trend's running median is taken over block medians of 1/_DETREND_BLOCKS
#: of its window (62cf35f: O(n), the same edges within one block).
_DETREND_BLOCKS = 16
#: Phase bins of a folded profile: round(period), within these bounds (3180837).
_MIN_BINS = 4
_MAX_BINS = 64
#: Multiples of a period tried as the fundamental, and the ACF tolerance
#: within which the shortest of the best is taken (0c99336, aa3cd3b: a
#: 100-step pattern in a 200-step epoch, 6/20 -> 20/20 seeds).
_MAX_MULTIPLE = 12
_ACF_TOL = 0.15
#: Divisors of a period tried as a shorter one; one is considered only when
#: its ACF keeps this share of the period's (0c99336, aa3cd3b).
_DIVISORS = (2, 3, 5, 7)
_DIVISOR_ACF = 0.5
#: A profile is step-like when one step between consecutive phases spans
#: this share of its range (3180837).
_STEP_SHARE = 0.5
#: Ljung-Box lags: round(period) within these bounds (3180837).
_LB_MIN_LAGS = 10
_LB_MAX_LAGS = 200
#: The lr explains a loss period within _LR_REL of a multiple of it, up to
#: _LR_MAX_MULTIPLE cycles (62cf35f), or within _LR_DIVISOR_TOL of a divisor
#: of the lr's own ACF period (61d7342, seen in at least _LR_ACF_MIN_POINTS points).
_LR_REL = (1.0, 0.98, 1.02, 0.96, 1.04)
_LR_MAX_MULTIPLE = 8
_LR_DIVISOR_TOL = 0.1
_LR_ACF_MIN_POINTS = 12


@dataclass
class _Prepared:
    y: NDArray[np.float64]  # regular grid, log scale if positive
    first_step: int
    dt: float  # steps per point
    log: bool
    block: int  # points of the original grid per point (block means)
    n_raw: int


def _finite_values(s: Series) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Steps and values with trailing non-finite values cut and interior ones interpolated."""
    v = np.asarray(s.values, dtype=np.float64)
    st = np.asarray(s.steps, dtype=np.int64)
    ok = np.isfinite(v)
    if ok.all():
        return st, v
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return st[:0], v[:0]
    last = idx[-1] + 1
    st, v, ok = st[:last], v[:last].copy(), ok[:last]
    first = idx[0]
    st, v, ok = st[first:], v[first:], ok[first:]
    if not ok.all():
        v[~ok] = np.interp(st[~ok], st[ok], v[ok])
    return st, v


def _prepare(s: Series, config: Config, max_points: int | None = None) -> _Prepared | str:
    pc = config.periodic
    max_points = config.max_points if max_points is None else max_points
    st, v = _finite_values(s)
    n = int(v.size)
    if n < pc.min_points:
        return f"{s.name} has {n} finite points; need {pc.min_points}"
    d = np.diff(st)
    dt = float(np.median(d))
    if not np.all(d == d[0]):
        # irregular logging: resample on the median spacing (linear interpolation)
        grid = st[0] + dt * np.arange(int((st[-1] - st[0]) // dt) + 1)
        v = np.interp(grid, st.astype(np.float64), v)
    log = bool(np.min(v) > 0)
    y = np.log(v) if log else v.astype(np.float64)
    block = 1
    if y.size > max_points:
        # block means of b points (a boxcar low-pass before decimation: periods
        # under ~4 b points are out of reach); the tail that does not fill a
        # block is dropped so that the points stay equally spaced
        block = -(-y.size // max_points)
        nb = y.size // block
        y = y[: nb * block].reshape(nb, block).mean(axis=1)
    if y.size < pc.min_points:
        return f"{s.name} has {y.size} usable points; need {pc.min_points}"
    return _Prepared(y=np.ascontiguousarray(y, dtype=np.float64), first_step=int(st[0]), dt=dt * block, log=log, block=block, n_raw=n)


def _odd(x: float, lo: int = 3) -> int:
    k = max(lo, int(round(x)))
    return k if k % 2 else k + 1


def _detrend(y: NDArray[np.float64], min_cycles: float) -> NDArray[np.float64]:
    """Residual of ``y`` around a robust running median spanning ``n / min_cycles`` points.

    For speed the running median is taken over block medians (blocks of
    ``w / 16`` points, so the window still spans ~17 blocks) with
    :func:`~curvestat.stats.robust_smooth` and interpolated back linearly:
    O(n) instead of O(n log w), and the same edge-preserving behaviour at
    step-decay drops to within one block.
    """
    n = y.size
    w = min(n, n / min_cycles)
    b = max(1, int(w // _DETREND_BLOCKS))
    if b == 1:
        return y - robust_smooth(y, window=_odd(min(n - (1 - n % 2), w)))
    nb = n // b
    med = np.median(y[: nb * b].reshape(nb, b), axis=1)
    if nb * b < n:
        med = np.append(med, np.median(y[nb * b :]))
        centres = np.append(np.arange(nb) * b + (b - 1) / 2.0, (nb * b + n - 1) / 2.0)
    else:
        centres = np.arange(nb) * b + (b - 1) / 2.0
    win = _odd(min(med.size - (1 - med.size % 2), w / b))
    trend = np.interp(np.arange(n, dtype=np.float64), centres, robust_smooth(med, window=win))
    return y - trend


def _unbiased_acf(r: NDArray[np.float64], nlags: int) -> NDArray[np.float64]:
    a = acf(r, nlags=nlags)
    n = r.size
    return a * n / (n - np.arange(nlags + 1))


def _acf_at(ac: NDArray[np.float64], p: float) -> float:
    """Largest unbiased ACF value within 5 % (at least one lag) of lag ``p``."""
    lo = max(1, int(math.floor(p - max(1.0, 0.05 * p))))
    hi = min(ac.size - 1, int(math.ceil(p + max(1.0, 0.05 * p))))
    return float(np.max(ac[lo : hi + 1])) if hi >= lo else -1.0


def _fundamental(
    y: NDArray[np.float64], r: NDArray[np.float64], spec: NormalisedSpectrum, period: float, min_cycles: float, alpha: float
) -> float:
    """The fundamental period (points) of the pattern first seen at ``period``.

    A periodogram peak may be a harmonic of the pattern (step-like shapes put
    power in harmonics) and a significant epoch may be a multiple of it (the
    same block pattern twice per epoch). Both directions are tested on the
    spectrum, each confirmed by the ACF of the detrended residual ``r``:

    * **longer**: the candidates ``d * period`` (d = 2..12, at least
      ``min_cycles`` cycles) whose extra lines (harmonics ``j`` of their
      frequency with ``j`` not divisible by ``d``, which ``period`` lacks) are
      significant at ``alpha`` (Bonferroni over the d tried); among them the
      ACF decides: the shortest lag whose ACF reaches 85 % of the best
      candidate's, if that best beats the ACF at ``period`` (this is what
      reports a square wave at its fundamental rather than its 3rd harmonic;
      the spectral gate keeps a noisy ACF from doubling a period). Repeated
      from the new period (peaks beyond the 12th harmonic);
    * **shorter**: ``period / q`` (q = 2, 3, 5, 7, repeatedly) when the lines
      only ``period`` has show no power (p > ``alpha``), the lines of
      ``period / q`` do (p <= ``alpha``), the ACF at the shorter lag
      reaches half its value at ``period`` and the profile over the shorter
      period explains at least 90 % of the variance the longer one explains
      (a pattern that nearly repeats within the epoch -- class blocks whose
      offsets happen to pair up -- stays at the epoch).

    The fundamental of a pattern is the shortest period whose harmonics carry
    all its lines: a period 100 pattern is not reported as a 200-step epoch,
    nor a spike train every 8 points as 16.
    """
    n = r.size
    max_lag = int(min(n - 1, math.floor(n / min_cycles)))
    if max_lag < 2:
        return period
    ac = _unbiased_acf(r, max_lag)
    while True:
        tried = [d for d in range(2, _MAX_MULTIPLE + 1) if n / (d * period) >= min_cycles]
        a0 = _acf_at(ac, period)
        acfs = {d: _acf_at(ac, d * period) for d in tried}
        # x - 0.15 |x| increases with x: a d below a0 - 0.15 |a0| can be neither
        # the best (which must beat a0) nor within 15 % of it, so its
        # (costlier) line test is skipped; the Bonferroni count keeps all d
        sig = [
            d
            for d in tried
            if acfs[d] >= a0 - _ACF_TOL * abs(a0) and line_test(y, d * period, d, min_cycles=min_cycles).pvalue_extra * len(tried) <= alpha
        ]
        if not sig:
            break
        acfs = {d: acfs[d] for d in sig}
        best = max(acfs.values())
        if best <= a0:
            break
        period = next(d for d in sig if acfs[d] >= best - _ACF_TOL * abs(best)) * period
    changed = True
    while changed:
        changed = False
        share_p = None
        for q in _DIVISORS:
            if period / q < _MIN_PERIOD_POINTS or _acf_at(ac, period / q) < _DIVISOR_ACF * _acf_at(ac, period):
                continue
            if share_p is None:
                # autocorrelated noise gives more of itself to the wider
                # phase bins of the longer period: correct both for it
                phi1 = float(min(max(ac[1], 0.0), 0.99))
                share_p = _profile_share(r, period, phi=phi1)
            if _profile_share(r, period / q, phi=phi1) < _SHORTER_SHARE * share_p:
                continue
            lines = line_test(y, period, q, min_cycles=min_cycles)
            if lines.pvalue_extra > alpha and lines.pvalue_kept <= alpha:
                period = period / q
                changed = True
                break
    return period


def _refine_k(y: NDArray[np.float64], k: int) -> float:
    """Fractional Fourier index of the peak at ordinate ``k`` (Jacobsen's three-bin estimator).

    Uses the DFT of the first differences at ordinates k-1, k, k+1; the bias
    of the estimator for a boxcar window is below ~0.1 ordinate at the
    signal-to-noise ratios that pass the test.
    """
    d = np.diff(y)
    d = d - d.mean()
    n = d.size
    if k < 1 or k + 1 > n // 2:
        return float(k)
    x = np.fft.rfft(d)[k - 1 : k + 2]
    den = 2 * x[1] - x[0] - x[2]
    if abs(den) == 0:
        return float(k)
    delta = float(np.real((x[0] - x[2]) / den))
    return float(k + max(-0.5, min(0.5, delta)))


def _phase_means(r: NDArray[np.float64], period: float, bins: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Points and mean of ``r`` in each of ``bins`` phase bins of one period (mean 0 for an empty bin)."""
    phase = np.minimum(np.floor((np.arange(r.size) % period) / period * bins).astype(np.int64), bins - 1)
    cnt = np.bincount(phase, minlength=bins)
    return cnt, np.bincount(phase, weights=r, minlength=bins) / np.maximum(cnt, 1)


def _profile_share(
    r: NDArray[np.float64], period: float, max_bins: int = _MAX_BINS, *, drop_top: bool = False, phi: float = 0.0
) -> float:
    """Share of the variance of ``r`` carried by its mean profile over one period (bias-corrected).

    With ``drop_top`` the one phase bin that carries most of the profile is
    left out (its mean set to the overall mean): the share the other phases
    explain. ``phi`` is the lag-1 autocorrelation of the noise: a bin holds
    ``c = period / bins`` consecutive points per cycle, whose mean has the
    variance of ``c / f`` independent ones, ``f = 1 + 2 sum_k (1 - k/c) phi^k``.
    """
    n = r.size
    bins = int(min(max_bins, max(2, round(period))))
    if period < 2 or n < 2 * period or (drop_top and bins < 3):
        return 0.0
    rc = r - r.mean()
    vt = float(rc @ rc) / n
    if vt <= 0:
        return 0.0
    cnt, mu = _phase_means(r, period, bins)
    contrib = cnt * (mu - r.mean()) ** 2  # each phase's part of n * Var(profile)
    free = bins - 1
    if drop_top:
        # the other phases are measured against their own mean: an odd step
        # of size D shifts the overall mean by D / bins, which on a short
        # cycle (6 points) alone would leave 12 % of the variance to "the
        # rest" and make a partial last batch a data-order warning
        top = int(np.argmax(contrib))
        keep = np.arange(bins) != top
        ref = float(cnt[keep] @ mu[keep]) / max(float(cnt[keep].sum()), 1.0)
        contrib = np.where(keep, cnt * (mu - ref) ** 2, 0.0)
        free -= 1
    # noise alone gives about free / n of the variance to the profile (times
    # the variance inflation of a bin's consecutive points under AR(1) noise)
    infl = 1.0
    if phi > 0.0:
        c = period / bins
        infl += 2.0 * sum((1.0 - k / c) * phi**k for k in range(1, int(math.ceil(c))))
    share = (float(contrib.sum()) / n - vt * free * infl / n) / vt
    return float(min(1.0, max(0.0, share)))


def _staircase(
    y: NDArray[np.float64], r: NDArray[np.float64], period: float, offset: float | None = None
) -> dict[str, float] | None:
    """Epoch-level decomposition of ``y`` (log loss) at an epoch of ``period`` points.

    Two stories make a loss periodic at the epoch. Unshuffled data replays the
    same batches, so a *within-epoch shape repeats* every epoch (class blocks,
    a fixed sequence of easy and hard batches). Multi-epoch memorisation
    (shuffled data, the model memorises what it has seen) makes a
    *staircase*: each epoch's level below the last, the drop at the epoch
    boundary, a within-epoch profile that does not repeat (the order is new
    every epoch) apart from a smooth drift (forgetting, slow generalisation).

    The run is cut into whole epochs at ``offset`` (points; from the step
    numbering when the epoch length is known, else the phase where the folded
    detrended residual drops most), each epoch
    gets its own level and slope, and the repeating within-epoch shape is the
    mean over epochs of what the lines leave (a two-way layout epoch x phase;
    its noise part is estimated from the epoch x phase interaction). Returns
    ``within_epoch_share`` (that shape's share of the variance of the
    detrended residual ``r``, bias-corrected), ``boundary_drop`` (median log
    drop from the end of an epoch's line to the start of the next),
    ``within_epoch_change`` (median change along an epoch's line),
    ``epoch_decline`` (median drop of the level from one epoch to the next),
    ``declining_epochs`` (share of epochs whose level is below the previous
    one's) and ``shape_pvalue`` (F test of the shape, white-noise reference).
    None when fewer than 3 whole epochs of at least 4 points fit.
    """
    from scipy.special import fdtrc

    n = y.size
    if period < _MIN_PERIOD_POINTS or n / period < 3:
        return None
    idx = np.arange(n, dtype=np.float64)

    def fit(o: float) -> tuple[float, Any]:
        # every piece between boundaries (the partial first and last ones
        # too) gets its own line; the first point after a boundary is left out: with
        # window-averaged logs (HF Trainer's logging_steps) it straddles the
        # boundary and carries part of the drop
        seg = np.floor((idx - o) / period).astype(np.int64)
        seg -= seg[0]
        S = int(seg[-1]) + 1
        ph = (idx - o) / period - np.floor((idx - o) / period)
        w = (ph >= 1.0 / period - ULP_TOL).astype(np.float64)
        cnt = np.bincount(seg, w, S)
        c1 = np.maximum(cnt, 1.0)
        xm = np.bincount(seg, w * ph, S) / c1
        ym = np.bincount(seg, w * y, S) / c1
        dx = ph - xm[seg]
        sxx = np.bincount(seg, w * dx * dx, S)
        b = np.where(sxx > 0, np.bincount(seg, w * dx * (y - ym[seg]), S) / np.maximum(sxx, TINY), 0.0)
        res = (y - ym[seg] - b[seg] * dx) * w
        return float(res @ res), (seg, ph, res, ym, xm, b, cnt, w)

    if offset is None:
        # the boundary is where the folded residual drops most (a staircase,
        # detrended, is a sawtooth whose reset is the boundary)
        nb = int(min(_MAX_BINS, max(_MIN_BINS, round(period))))
        _, mu = _phase_means(r, period, nb)
        kmin = int(np.argmin(np.roll(mu, -1) - mu))
        offset = ((kmin + 1) % nb) * period / nb
    best = fit(float(offset) % period)[1]
    seg, ph, res, a, xm, b, cnt, w = best
    # whole epochs only: a piece is whole when it holds (nearly) a full period of points
    whole = cnt >= math.floor(period) - 1 - ULP_TOL
    whole[0] &= ph[0] < 1.0 / period
    whole[-1] &= ph[-1] > 1.0 - 1.0 / period
    keep = whole[seg] & (w > 0)
    E = int(whole.sum())
    if E < 3:
        return None
    ph, res = ph[keep], res[keep]
    a, xm, b = a[whole], xm[whole], b[whole]
    bins = int(min(_MAX_BINS, max(_MIN_BINS, round(period))))
    k = np.minimum((ph * bins).astype(np.int64), bins - 1)
    kc = np.bincount(k, minlength=bins).astype(np.float64)
    c = np.bincount(k, res, bins) / np.maximum(kc, 1.0)
    ss_c = float(kc @ (c * c))
    inter = res - c[k]
    df1 = int(np.count_nonzero(kc)) - 2
    df2 = res.size - 2 * E - df1
    s2 = float(inter @ inter) / df2 if df2 > 0 else 0.0
    vt = float(np.var(r))
    share = (ss_c - df1 * s2) / (res.size * vt) if vt > 0 and df1 > 0 else 0.0
    f = ss_c / df1 / s2 if s2 > 0 and df1 > 0 else math.inf
    start_lv = a - b * xm  # each epoch's line at phase 0 and at phase 1
    end_lv = a + b * (1.0 - xm)
    jumps = start_lv[1:] - end_lv[:-1]
    return {
        "within_epoch_share": float(min(1.0, max(0.0, share))),
        "boundary_drop": float(-np.median(jumps)),
        "within_epoch_change": float(np.median(b)),
        "declining_epochs": float(np.mean(np.diff(a) < 0)),
        "epoch_decline": float(-np.median(np.diff(a))),
        "shape_pvalue": float(fdtrc(df1, df2, f)) if df1 > 0 and df2 > 0 and math.isfinite(f) else (1.0 if df1 <= 0 else 0.0),
    }


def _generalisation_ratio(run: Run, prep: _Prepared, period: float) -> float | None:
    """How much of the train loss's decline the validation loss shares, over the evaluations.

    Memorisation is the part of the train loss's progress that does not
    generalise: the train loss falls by a drop at every epoch while the
    validation loss stays flat or rises. Ordered data on an otherwise healthy
    run (a sawtooth or class blocks riding on a falling curve) keeps the
    validation loss falling with the train loss. Returns
    ``(log v_last - log v_first) / (T_last - T_first)``, where ``T`` is the
    mean log train loss over the ``period`` points (one epoch) up to an
    evaluation step: about 1 when the validation loss keeps up, <= 0 when it
    stays flat or rises. None without a positive validation loss evaluated at
    least 3 times after the first epoch, or when the train loss does not fall.
    """
    v = run.val_loss
    if v is None or not prep.log:
        return None
    st, vv = _finite_values(v)
    if vv.size == 0 or np.min(vv) <= 0:
        return None
    idx = (st - prep.first_step) / (prep.dt)  # evaluation steps on the train grid
    ok = (idx >= period - 1) & (idx <= prep.y.size - 1)
    if int(ok.sum()) < 3:
        return None
    idx, lv = idx[ok], np.log(vv[ok])
    P = max(1, int(round(period)))

    def level(i: float) -> float:
        j = int(math.floor(i))
        return float(np.mean(prep.y[max(0, j - P + 1) : j + 1]))

    dt = level(idx[-1]) - level(idx[0])
    if not dt < 0:
        return None
    return float((lv[-1] - lv[0]) / dt)


def _lr_share(run: Run, period_steps: float, min_cycles: float, config: Config) -> float | None:
    """Largest share of the logged lr's residual variance carried by its profile at ``d * period`` (d = 1..8).

    A loss pattern at period P is explained by the learning rate when the lr
    repeats with period P or with a multiple of it (the loss pattern is then a
    harmonic of the lr cycle, e.g. warm restarts every 5 epochs seen at the
    epoch frequency); periods within 4 % of ``d * period`` are tried, and the
    lr's own period (first ACF peak, unbiased value >= 0.5) within 10 % of
    ``d * period`` also counts. None when no usable, non-constant lr is logged.
    """
    lr = run.lr
    if lr is None:
        return None
    st, v = _finite_values(lr)
    if v.size < config.periodic.min_points or np.ptp(v) <= 0:
        return None
    # the lr is smooth: 2,000 block means resolve any period the loss test can report
    prep = _prepare(Series(lr.name, st, v, "lr"), config, max_points=_LR_POINTS)
    if isinstance(prep, str):
        return None
    r = _detrend(prep.y, 2.0)
    # a cycle of the lr around its mean counts too: on 4-5 cycles the running
    # median (2 cycles wide, shrinking at the ends) eats much of a
    # warm-restart shape (real nulls: 0.30 of the lr's variance left to the
    # profile around the trend, 0.55-0.72 around the mean)
    centred = prep.y - prep.y.mean()
    p = period_steps / prep.dt
    best = 0.0
    for d in range(1, _LR_MAX_MULTIPLE + 1):
        if d * p > r.size / 2.0:
            break
        for rel in _LR_REL:  # the loss period is estimated: allow 4 %
            best = max(best, _profile_share(r, d * p * rel), _profile_share(centred, d * p * rel))
    if best >= _LR_EXPLAINS:
        return best
    # the loss period may be a rougher estimate than 4 %: compare with the lr's
    # own period (its first ACF peak after the first negative value)
    q, strength = _acf_period(r)
    if q is not None and strength >= _LR_EXPLAINS:
        for d in range(1, _LR_MAX_MULTIPLE + 1):
            if abs(d * p / q - 1.0) <= _LR_DIVISOR_TOL:
                return max(best, strength)
    return best


def _acf_period(r: NDArray[np.float64]) -> tuple[float | None, float]:
    """Period (points) of a deterministic-looking cycle: its first ACF peak after the ACF turns negative.

    Only a cycle seen at least 3 times whose ACF (unbiased) is high at one and
    at two periods counts; the strength returned is the smaller of the two.
    """
    n = r.size
    if n < _LR_ACF_MIN_POINTS:
        return None, 0.0
    ac = acf(r, nlags=n - 1) * n / (n - np.arange(n))
    neg = np.flatnonzero(ac[: n // 3 + 1] < 0)
    if neg.size == 0:
        return None, 0.0
    j0 = int(neg[0])
    j = j0 + int(np.argmax(ac[j0 : n // 3 + 1]))
    if j < 2 or 2 * j >= n - 1:
        return None, 0.0
    return float(j), float(min(ac[j], np.max(ac[max(1, 2 * j - 2) : 2 * j + 3])))


def _fmt_steps(x: float) -> str:
    return f"{x:.0f}" if x >= 20 else f"{x:.3g}"


class PeriodicDetector:
    """Detect periodic / step-like train loss (data ordered, not shuffled).

    Attributes
    ----------
    name : str
        ``"periodic"``.
    """

    name = "periodic"
    pathology = Pathology.PERIODIC
    requires: tuple[str, ...] = ()

    def detect(self, run: Run, config: Config) -> Sequence[Finding] | Skipped:
        """Test the train loss of ``run`` for a periodic component; return findings or a Skipped."""
        s = run.train_loss
        if s is None:
            return Skipped(self.name, "no train-loss series (give one its role: --role NAME=train_loss, or roles={NAME: 'train_loss'} in Python)")
        prep = _prepare(s, config)
        if isinstance(prep, str):
            return Skipped(self.name, prep)
        pc = config.periodic
        y = prep.y
        n = y.size
        if n / _MIN_PERIOD_POINTS < pc.min_cycles:
            return Skipped(self.name, f"{s.name} is too short for {pc.min_cycles:g} cycles")
        r = _detrend(y, pc.min_cycles)
        spec = normalised_spectrum(y, min_cycles=pc.min_cycles)
        test = _periodicity_test(y, spec, run.steps_per_epoch, prep.dt, pc.min_cycles)
        if not (test.pvalue <= config.alpha):
            return []
        period = _estimate_period(y, r, spec, test, pc.min_cycles, config.alpha)
        share = _profile_share(r, period)
        if share < pc.min_variance_share:
            return []
        shape = _shape_evidence(run, prep, r, period, config)
        verdict = _decide(shape, share, period, pc, config.alpha)
        return [_periodic_finding(s, run, prep, r, test, period, share, shape, verdict, self.name)]


@dataclass(frozen=True, slots=True)
class _Periodicity:
    """The periodicity tests: the blind spectral search and the epoch's harmonic test."""

    peak: SpectralPeakResult
    p_ep: float  # the epoch's harmonic test (1 without an epoch length)
    ep_period: float | None  # the epoch in points, when it was tested
    steps_per_epoch: int | None
    pvalue: float  # Bonferroni over the two tests


def _periodicity_test(y: NDArray[np.float64], spec: NormalisedSpectrum, spe: int | None, dt: float,
                      min_cycles: float) -> _Periodicity:
    peak = spectral_peak_test(spec)
    p_ep, ep_period = 1.0, None
    if spe is not None:
        ep_period = spe / dt
        epoch = harmonic_test(y, ep_period, min_cycles=min_cycles)
        p_ep = epoch.pvalue
        if epoch.harmonics == 0:
            ep_period = None
    n_tests = 2 if ep_period is not None else 1
    p = min(1.0, n_tests * min(peak.pvalue, p_ep))
    return _Periodicity(peak, p_ep, ep_period, spe, p)


def _estimate_period(y: NDArray[np.float64], r: NDArray[np.float64], spec: NormalisedSpectrum, test: _Periodicity,
                     min_cycles: float, alpha: float) -> float:
    """The fundamental of the pattern, in points.

    Searched from the epoch when its own test is significant (a
    pre-specified candidate: the blind peak is often a harmonic of it whose
    climb back the line tests alone cannot always confirm), else from the
    refined blind peak; a period within 5 % of the epoch or a simple
    fraction/multiple is snapped to it.
    """
    ep_period = test.ep_period
    if ep_period is not None and (test.p_ep <= test.peak.pvalue or 2 * test.p_ep <= alpha):
        start = ep_period
    else:
        start = spec.n / _refine_k(spec.y, test.peak.k_peak)
    period = _fundamental(y, r, spec, start, min_cycles, alpha)
    if ep_period is not None and period != ep_period:
        period = _snap(period, ep_period, y.size, min_cycles)
    return _integer_period(r, period)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the pattern looks like: the evidence the kind of finding is decided on."""

    step_like: bool
    lr_share: float | None  # variance share of the logged learning rate at the period
    staircase: dict[str, float] | None  # :func:`_staircase`, when tested (at the epoch)
    stairs: bool  # each epoch lower than the last, the drop at the boundary
    gen: float | None  # validation share of the train decline (stairs only)
    rest: float | None  # variance share without the top step (when tested)


def _is_stairs(st: dict[str, float]) -> bool:
    return bool(
        st["declining_epochs"] >= _STAIRCASE_DECLINING
        and st["boundary_drop"] > 0
        and st["boundary_drop"] >= abs(st["within_epoch_change"])
        # the drop is progress, not the reset of a ramp: a data-order
        # sawtooth climbs back within the epoch, memorisation keeps
        # most of each drop (its forgetting ramp undoes a part)
        and st["epoch_decline"] >= _STAIRCASE_NET * st["boundary_drop"]
    )


def _staircase_verdict(st: dict[str, float] | None, stairs: bool, gen: float | None, pc: Any,
                       alpha: float) -> str | None:
    """``"staircase"`` (memorisation only), ``"both"`` (a repeating shape and memorisation) or None."""
    if st is None or not stairs:
        return None
    repeats = st["within_epoch_share"] >= pc.min_variance_share and st["shape_pvalue"] <= alpha
    # with a validation loss, memorisation also means the train loss's
    # drops do not generalise
    memorised = gen is None or gen < _MEMORISED
    if not memorised:
        return None
    # a repeating within-epoch shape needs significance and magnitude;
    # without it the staircase is the whole story
    return "both" if repeats else "staircase"


def _shape_evidence(run: Run, prep: _Prepared, r: NDArray[np.float64], period: float, config: Config) -> _Shape:
    pc = config.periodic
    period_steps = period * prep.dt
    spe = run.steps_per_epoch
    lr_share = _lr_share(run, period_steps, pc.min_cycles, config)
    explained = lr_share is not None and lr_share >= _LR_EXPLAINS
    at_epoch = spe is None or abs(period_steps / spe - 1.0) <= _EPOCH_TOL
    st, stairs, gen = None, False, None
    if not explained and at_epoch:
        # epoch boundaries from the step numbering when the epoch is known
        off = None if spe is None else ((-prep.first_step) % spe) / prep.dt
        st = _staircase(prep.y, r, period, off)
        if st is not None:
            stairs = _is_stairs(st)
            if stairs:
                gen = _generalisation_ratio(run, prep, period)
    rest = None
    if not explained and _staircase_verdict(st, stairs, gen, pc, config.alpha) != "staircase" \
            and period >= _ONE_STEP_MIN_PERIOD:
        rest = _profile_share(r, period, drop_top=True)
    return _Shape(_step_like(r, period), lr_share, st, stairs, gen, rest)


@dataclass(frozen=True, slots=True)
class _Verdict:
    kind: str
    severity: Severity
    remedies: tuple[str, ...]
    memo_note: bool  # a repeating shape *and* multi-epoch memorisation


def _decide(shape: _Shape, share: float, period: float, pc: Any, alpha: float) -> _Verdict:
    """The kind of a significant pattern, from its shape (a pure function of the evidence)."""
    if shape.lr_share is not None and shape.lr_share >= _LR_EXPLAINS:
        return _Verdict("explained_by_lr", Severity.INFO, REMEDIES_LR, False)
    kind = "step_like" if shape.step_like else "oscillation"
    severity, memo = Severity.WARNING, False
    remedies: tuple[str, ...] = REMEDIES
    stair = _staircase_verdict(shape.staircase, shape.stairs, shape.gen, pc, alpha)
    if stair == "staircase":
        return _Verdict("epoch_staircase", Severity.INFO, REMEDIES_STAIRCASE, False)
    if stair == "both":
        # both: the shape repeats (data order) and the drops at the
        # boundaries are memorisation
        memo, remedies = True, REMEDIES + REMEDIES_MEMORISED_TOO
    # one logged step per cycle differs and the rest of the cycle is
    # flat: not data order (a sorted or unshuffled epoch moves the
    # loss across the cycle) but one odd batch per epoch -- in
    # practice the last, partial one
    if shape.rest is not None and shape.rest < min(pc.min_variance_share, _ONE_STEP_REST * share):
        return _Verdict("one_step_per_cycle", Severity.INFO, REMEDIES_ONE_STEP, False)
    return _Verdict(kind, severity, remedies, memo)


def _periodic_finding(s: Series, run: Run, prep: _Prepared, r: NDArray[np.float64], test: _Periodicity,
                      period: float, share: float, shape: _Shape, verdict: _Verdict, detector_name: str) -> Finding:
    n = prep.y.size
    period_steps = period * prep.dt
    spe = test.steps_per_epoch
    g, p = test.peak.statistic, test.pvalue
    lb = ljung_box(r, lags=int(min(max(_LB_MIN_LAGS, round(period)), n - 1, _LB_MAX_LAGS)))
    effect: dict[str, float] = {
        "variance_share": share,
        "fisher_g": g,
        "fisher_g_pvalue": fisher_g_pvalue(g, test.peak.m) if math.isnan(test.peak.fisher_pvalue) else test.peak.fisher_pvalue,
        "peak_f_pvalue": test.peak.f_pvalue,
        "ljung_box_q": lb.statistic,
        "ljung_box_pvalue": lb.pvalue,
        "cycles": n / period,
    }
    epoch_txt = ""
    if spe is not None:
        ratio = period_steps / spe
        effect["epoch_ratio"] = ratio
        effect["epoch_pvalue"] = test.p_ep
        epoch_txt = _epoch_words(ratio)
    if shape.lr_share is not None:
        effect["lr_variance_share"] = shape.lr_share
    if shape.staircase is not None:
        effect.update(shape.staircase)
        if shape.gen is not None:
            effect["val_share_of_train_decline"] = shape.gen
    if shape.rest is not None:
        effect["variance_share_without_top_step"] = shape.rest
    kind = verdict.kind
    msg = (
        f"{s.name} repeats every {_fmt_steps(period_steps)} steps{epoch_txt}, explaining {100 * share:.0f}% of the "
        f"residual variance (Fisher's g = {g:.3g}, {_fmt.p_text(p)})"
    )
    if kind == "explained_by_lr":
        assert run.lr is not None
        msg += f"; the logged learning rate {run.lr.name} repeats with the same period and explains it"
    elif kind == "epoch_staircase":
        msg += (
            "; it is a staircase (each epoch lower than the last, the drop at the epoch boundary, no repeating "
            "shape within the epoch): multi-epoch memorisation, not the data order"
        )
    elif verdict.memo_note:
        msg += (
            "; besides the shape that repeats within each epoch, the loss drops at every epoch boundary while the "
            "validation loss does not follow (multi-epoch memorisation)"
        )
    elif kind == "one_step_per_cycle":
        msg += "; one step per cycle carries it (the rest of the cycle is flat): an odd batch per epoch, not the data order"
    msg += "."
    return Finding(
        pathology=Pathology.PERIODIC,
        kind=kind,
        series=s.name,
        p_value=p,
        statistic=g,
        effect=effect,
        onset_step=int(s.steps[0]),
        period_steps=period_steps,
        severity=verdict.severity,
        message=msg,
        remedies=verdict.remedies,
        detector=detector_name,
    )


def _integer_period(r: NDArray[np.float64], period: float) -> float:
    """``round(period)`` when the folded profile explains at least as much there.

    A pattern tied to the logged steps (one odd batch per epoch, an epoch of
    whole steps) has a whole number of points per cycle; the refined blind
    estimate (e.g. 7.99) would let such a pattern drift across the phase bins
    over a long run and smear its profile.
    """
    k = float(round(period))
    if k == period or k < _MIN_PERIOD_POINTS:
        return period
    return k if _profile_share(r, k) >= _profile_share(r, period) else period


def _snap(period: float, ep_period: float, n: int, min_cycles: float) -> float:
    """The epoch length, or a simple fraction or multiple of it, when ``period`` is within 5 % of it."""
    for target in [ep_period / f for f in _FRACTIONS] + [ep_period * m for m in _MULTIPLES]:
        if n / target >= min_cycles and abs(period - target) <= _SNAP_TOL * target:
            return target
    return period


def _epoch_words(ratio: float) -> str:
    for frac in _FRACTIONS:
        if abs(ratio * frac - 1) <= _EPOCH_TOL:
            return " (= 1 epoch)" if frac == 1 else f" (= 1/{frac} epoch)"
    for mult in _MULTIPLES:
        if abs(ratio / mult - 1) <= _EPOCH_TOL:
            return f" (= {mult} epochs)"
    return f" ({ratio:.2f} epochs)"


def _step_like(r: NDArray[np.float64], period: float) -> bool:
    """A profile with a jump: the largest step between consecutive phases is large against its range."""
    _, mu = _phase_means(r, period, int(min(_MAX_BINS, max(_MIN_BINS, round(period)))))
    rng = float(np.ptp(mu))
    if rng <= 0:
        return False
    jumps = np.abs(np.diff(np.concatenate([mu, mu[:1]])))
    return bool(jumps.max() >= _STEP_SHARE * rng)


detector = PeriodicDetector()
