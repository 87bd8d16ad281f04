"""The Mann-Kendall trend test as the detectors run it on short series."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..stats import mann_kendall, normal_pvalue
from ..stats._util import _t_sf

# noise_scale: re-exported for the overfitting detector
from ..stats.noise import smooth_noise_scale as noise_scale  # noqa: F401

#: below this many points the trend tests use the exact null distribution of
#: the plain Mann-Kendall score: the Hamed-Rao autocorrelation estimate needs
#: a longer series (lag autocorrelations of a handful of points are noise, and
#: its +-1.96/sqrt(n) cut keeps almost none of them) and the normal
#: approximation overstates short-series p-values (1/120 exact, 0.014 normal,
#: for 5 monotone points)
EXACT_BELOW = 10



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
        return normal_pvalue(z, r.alternative), z
    return float(r.pvalue), float(r.z)


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
