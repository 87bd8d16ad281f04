"""Noise scales: four robust estimators of the noise around a curve.

* :func:`mad_scale` -- the MAD of the values (normal-consistent);
* :func:`diff_noise_scale` -- the MAD of first differences (around a slowly
  varying or piecewise-constant mean);
* :func:`smooth_noise_scale` -- the MAD of second or third differences, with
  the degrees of freedom of a variance of the same precision (around a
  smooth, curving mean: the slope and trend tests of short series);
* :func:`tail_noise_scale` -- the larger of the MAD and a block-maximum tail
  scale (residuals with heavy tails: the level-shift test of explosions).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._numeric import EPS
from ._util import MAD_CONSISTENCY, _drop_nan, median1d

__all__ = ["mad_scale", "diff_noise_scale", "smooth_noise_scale", "tail_noise_scale"]

#: smooth_noise_scale uses third differences from this many points on: on
#: fewer, their MAD is too unstable to hold the slope test's level (iid, 6
#: points: 1.3 % at a nominal 1 %)
_THIRD_DIFFERENCES_FROM = 8
#: the tail noise scale: the median of the maxima of this many blocks, each
#: of at least _TAIL_BLOCK_POINTS points (ecb306b: a localised excursion
#: lands in one or two blocks and cannot move the median of ten)
_TAIL_BLOCKS = 10
_TAIL_BLOCK_POINTS = 10


def mad_scale(x: Any) -> float:
    """Robust scale: ``1.4826 * median(|x - median(x)|)``.

    Parameters
    ----------
    x : array_like, 1-D
        Finite values (NaNs are ignored).

    Returns
    -------
    float
        The normal-consistent median absolute deviation (0.0 for a series whose
        majority is constant).

    Raises
    ------
    InsufficientDataError
        If no non-NaN value is left.
    ParameterError
        If ``x`` holds ±Inf.

    Examples
    --------
    >>> from curvestat.stats import mad_scale
    >>> round(mad_scale([1.0, 2.0, 3.0, 4.0, 100.0]), 4)
    1.4826
    """
    arr, _ = _drop_nan(x, min_n=1, what="mad_scale")
    if arr.shape[0] <= _MAD_KERNEL_MAX_N:
        from ..kernels.smooth import mad

        # one kernel call for the two medians (the value of the numpy version:
        # the outer median is of absolute values, so no zero's sign can differ)
        return float(mad(arr, MAD_CONSISTENCY))
    med = median1d(arr)
    return float(MAD_CONSISTENCY * median1d(np.abs(arr - med)))


#: longest series whose MAD the kernel takes: numba's partition is slower
#: than numpy's introselect on long arrays (measured 2x at 10,000 points),
#: while below ~2,000 points numpy's per-call overhead dominates
_MAD_KERNEL_MAX_N = 2_000


def diff_noise_scale(x: Any) -> float:
    """Noise scale from first differences: ``mad_scale(diff(x)) / sqrt(2)``.

    Parameters
    ----------
    x : array_like, 1-D
        Series in time order (NaNs are dropped first).

    Returns
    -------
    float
        Estimate of the standard deviation of the white noise around a slowly
        varying (or piecewise-constant) mean.

    Raises
    ------
    InsufficientDataError
        If fewer than 2 non-NaN points remain.
    ParameterError
        If ``x`` holds ±Inf.

    Notes
    -----
    For ``x_t = mu_t + e_t`` with iid ``e_t ~ N(0, sigma^2)``,
    ``x_t - x_{t-1} = (mu_t - mu_{t-1}) + (e_t - e_{t-1})`` has standard
    deviation ``sigma * sqrt(2)`` wherever the mean is locally constant, and
    the MAD (centred at the median difference, which absorbs a linear drift)
    ignores the few differences that straddle a level shift. Positively
    autocorrelated noise makes it an underestimate.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import diff_noise_scale
    >>> x = np.random.default_rng(0).normal(0.0, 2.0, 5000)
    >>> round(diff_noise_scale(x), 1)
    2.0
    """
    arr, _ = _drop_nan(x, min_n=2, what="diff_noise_scale")
    return mad_scale(np.diff(arr)) / math.sqrt(2.0)


def smooth_noise_scale(x: NDArray[np.float64], differences: int = 3) -> tuple[float, float]:
    """(sd, degrees of freedom) of the noise around a smooth curve.

    From 8 points on: ``MAD(third differences) / sqrt(20)`` with
    ``0.3 (n - 3)`` degrees of freedom; on 4-7 points, or with
    ``differences=2``, ``MAD(second differences) / sqrt(6)`` with
    ``0.37 (n - 2)``. A local line cancels in a
    second difference and a local parabola in a third, so a steep but smooth
    descent does not pass for noise; iid noise of sd s gives k-th differences
    of sd ``s sqrt(C(2k, k))``. The third difference matters on the
    exponential-like descent of a loss: its curvature changes fast, and the
    spread of the second differences it leaves behind (on a 10-evaluation run
    that halves its loss per evaluation) reads several times the real noise.
    The degrees of freedom are those of a sample variance of the same
    precision (simulated); with them the slope test below keeps its level on
    iid normal series of 6-30 points (0.5-0.85 % at a nominal 1 %).
    """
    n = x.shape[0]
    if n < 4:
        return 0.0, 0.0
    if differences == 3 and n >= _THIRD_DIFFERENCES_FROM:
        return mad_scale(np.diff(x, 3)) / math.sqrt(20.0), max(1.0, 0.3 * (n - 3))
    return mad_scale(np.diff(x, 2)) / math.sqrt(6.0), max(1.0, 0.37 * (n - 2))


def tail_noise_scale(r: NDArray[np.float64]) -> float:
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

    if r.size < 3:
        return EPS
    dev = np.abs(r - np.median(r))
    s_mad = mad_scale(r)
    n_blocks = _TAIL_BLOCKS
    m = dev.size // n_blocks
    s_tail = 0.0
    if m >= _TAIL_BLOCK_POINTS:
        block_max = dev[: m * n_blocks].reshape(n_blocks, m).max(axis=1)
        # median of the maximum of m half-normal draws: P(max <= q) = 1/2
        # (ndtri is the normal quantile without scipy.stats' per-call overhead)
        gauss_max = float(-ndtri(0.5 * (1 - 0.5 ** (1.0 / m))))
        s_tail = float(np.median(block_max)) / gauss_max
    return max(s_mad, s_tail, EPS)
