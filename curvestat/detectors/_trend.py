"""The Mann-Kendall trend test as the detectors run it on short series."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from ..stats import mad_scale, mann_kendall
from ..stats._util import _normal_pvalue, _t_sf

#: below this many points the trend tests use the exact null distribution of
#: the plain Mann-Kendall score: the Hamed-Rao autocorrelation estimate needs
#: a longer series (lag autocorrelations of a handful of points are noise, and
#: its +-1.96/sqrt(n) cut keeps almost none of them) and the normal
#: approximation overstates short-series p-values (1/120 exact, 0.014 normal,
#: for 5 monotone points)
EXACT_BELOW = 10

#: the noise scale uses third differences from this many points on: on fewer,
#: their MAD is too unstable to hold the slope test's level (iid, 6 points:
#: 1.3 % at a nominal 1 %)
_THIRD_DIFFERENCES_FROM = 8


def trend_test(
    x: NDArray[np.float64], alternative: str, *, lag: int | None = None, floor_factor: bool = False
) -> tuple[float, float]:
    """(p-value, z) of a Mann-Kendall trend test; (1, 0) when untestable.

    Below ``EXACT_BELOW`` points: the plain test with its exact p-value (the
    normal approximation for a tied series). From there on: the Hamed-Rao
    correction with ``lag`` lags (all when None). With ``floor_factor`` the
    correction may only *widen* the null: a variance factor below 1 comes from
    negative rank autocorrelations that are significant by chance (on iid
    noise the sample autocorrelations are biased negative) and would let
    noise pass for a trend, so the plain variance is used instead.
    """
    if x.shape[0] < 3 or np.ptp(x) == 0.0:
        return 1.0, 0.0
    if x.shape[0] < EXACT_BELOW:
        r = mann_kendall(x, alternative=alternative, method="auto")
        return float(r.pvalue), float(r.z)
    r = mann_kendall(x, alternative=alternative, correction="hamed_rao", lag=lag)
    if floor_factor and r.variance_factor < 1.0 and r.statistic != 0.0:
        # the plain test: the same score over the uncorrected variance
        z = (r.statistic - math.copysign(1.0, r.statistic)) / math.sqrt(r.var_s / r.variance_factor)
        return _normal_pvalue(z, r.alternative), z
    return float(r.pvalue), float(r.z)


def noise_scale(x: NDArray[np.float64], differences: int = 3) -> tuple[float, float]:
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


def slope_test(x: NDArray[np.float64], scale: float, df: float, alternative: str) -> tuple[float, float]:
    """(p-value, t) of the least-squares slope of ``x`` against a known noise sd.

    ``t = b / (scale / sqrt(Sxx))`` referred to Student's t with ``df``
    degrees of freedom (the precision of ``scale``, estimated from a longer
    stretch of the series than ``x``). Unlike a rank test, its p-value can be
    small on three or four points when they rise far beyond the noise.
    ``(1, 0)`` when ``scale`` is 0 or ``x`` has fewer than 3 points.
    """
    m = x.shape[0]
    if m < 3 or not scale > 0.0:
        return 1.0, 0.0
    i = np.arange(m, dtype=np.float64) - 0.5 * (m - 1)
    sxx = float(i @ i)
    t = float(i @ (x - x.mean())) / sxx / (scale / math.sqrt(sxx))
    if alternative == "decreasing":
        t = -t
    return _t_sf(t, df), t
