"""HAC (Newey-West) tests of a mean and of an end level, and robust smoothing of noisy curves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ParameterError
from . import _fixed_b_tables as _fb
from ._util import _alternative, _finite, _positive_int, normal_pvalue

__all__ = [
    "HacMeanResult",
    "HacLevelResult",
    "SmoothedMinimum",
    "hac_mean_test",
    "hac_end_level_test",
    "robust_smooth",
    "smoothed_argmin",
]


@dataclass(frozen=True, slots=True)
class HacMeanResult:
    """Result of :func:`hac_mean_test`.

    Attributes
    ----------
    statistic : float
        ``(mean - mu0) / se``.
    pvalue : float
        Normal p-value for ``alternative``.
    mean : float
        Sample mean.
    se : float
        Newey-West standard error of the mean.
    maxlags : int
        Bartlett truncation lag L used.
    n : int
        Number of points.
    alternative : str
        'two-sided', 'greater' or 'less'.
    use_correction : bool
        Whether the ``n / (n - 1)`` small-sample factor was applied.
    use_t : bool
        Whether the p-value is from Student's t with n - 1 degrees of freedom.
    fixed_b : bool
        Whether the p-value is from the fixed-b reference distribution.
    """

    statistic: float
    pvalue: float
    mean: float
    se: float
    maxlags: int
    n: int
    alternative: str
    use_correction: bool
    use_t: bool = False
    fixed_b: bool = False


def hac_mean_test(
    x: Any,
    *,
    mu0: float = 0.0,
    maxlags: int | None = None,
    alternative: str = "greater",
    use_correction: bool = False,
    use_t: bool = False,
    fixed_b: bool = False,
) -> HacMeanResult:
    """Test of a mean with a Newey-West (Bartlett kernel) HAC standard error.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series (e.g. the gap validation - train loss), at least 2
        points.
    mu0 : float
        Mean under H0 (default 0).
    maxlags : int, optional
        Truncation lag L >= 0; default ``floor(4 (n/100)^(2/9))`` (the rule
        of ``statsmodels.stats.sandwich_covariance.S_hac_simple``), capped at
        n - 1.
    alternative : {'greater', 'less', 'two-sided'}
        Default 'greater' (mean > mu0: validation worse than train).
    use_correction : bool
        Multiply the variance by ``n / (n - 1)`` (statsmodels'
        ``use_correction=True``). Default False, as statsmodels' OLS HAC.
    use_t : bool
        p-values from Student's t with n - 1 degrees of freedom instead of
        the normal (statsmodels' ``use_t=True``). Default False. Short
        series want both corrections: see Notes.
    fixed_b : bool
        p-values from the fixed-b reference distribution of Kiefer &
        Vogelsang (2005) at ``b = (L + 1) / n`` instead of the normal or t
        (``use_t`` is then ignored). Default False. The normal and t
        references treat the HAC variance as known; on tens of points it is
        a noisy estimate, and the fixed-b reference accounts for that: see
        Notes.

    Returns
    -------
    HacMeanResult
        ``statistic``, ``pvalue``, ``mean``, ``se``, ``maxlags``, ``n``,
        ``alternative``, ``use_correction``.

    Raises
    ------
    ParameterError
        On NaN/Inf, a bad ``maxlags`` or ``alternative``.
    InsufficientDataError
        If ``x`` has fewer than 2 points.

    Notes
    -----
    With ``u_t = x_t - xbar`` and Bartlett weights ``w_l = 1 - l/(L+1)``,
    ``S = sum u_t^2 + 2 sum_{l=1}^{L} w_l sum_t u_t u_{t-l}`` and ``se =
    sqrt(S) / n``. This equals ``statsmodels.api.OLS(x, ones).fit(
    cov_type='HAC', cov_kwds={'maxlags': L})`` (``bse``, ``tvalues``,
    ``pvalues``), whose defaults are ``use_correction=False`` and normal
    (not t) p-values (``use_t=False``); we follow both. A constant series
    has se = 0: the statistic is then 0 (p = 1 two-sided, 0.5 one-sided)
    when mean == mu0 and ±inf otherwise. O(n L).

    Fixed-b reference: with the bandwidth ratio ``b = (L + 1) / n`` held
    fixed, the statistic converges to ``W(1) / sqrt(Q_b)``, a functional of
    Brownian motion that does not depend on the noise's autocorrelation
    (Kiefer & Vogelsang 2005). Its quantiles are tabulated by simulation
    (``python -m curvestat.stats._make_fixed_b_tables``: n = 256, 200,000 draws per b, b =
    0.02 ... 1.00) and interpolated linearly in b and in the log tail
    probability; they agree with Kiefer and Vogelsang's cubic critical-value
    polynomials to about 1 %. Tail probabilities below 0.0005 are
    extrapolated. Simulated size at a nominal 1 %, one-sided, 10 points
    (:doc:`/stats`): see the table there.

    References
    ----------
    Newey & West (1987) Econometrica 55:703; Andrews (1991) Econometrica
    59:817.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import hac_mean_test
    >>> gap = 0.2 + np.random.default_rng(0).normal(0, 0.1, 50)
    >>> bool(hac_mean_test(gap).pvalue < 1e-6)
    True
    """
    alt = _alternative(alternative)
    arr = _finite(x, min_n=2, what="hac_mean_test")
    n = arr.shape[0]
    maxlags = _bartlett_lags(n, maxlags)
    mean = float(arr.mean())
    s = float(_long_run_cov((arr - mean)[:, None], maxlags)[0, 0])
    if use_correction:
        s *= n / (n - 1.0)
    se = math.sqrt(max(s, 0.0)) / n
    stat, p = _t_test(mean - float(mu0), se, n - 1, alt, use_t, _FIXED_B_MEAN if fixed_b else None, (maxlags + 1.0) / n)
    return HacMeanResult(float(stat), p, mean, float(se), int(maxlags), int(n), alt, bool(use_correction), bool(use_t),
                         bool(fixed_b))


@dataclass(frozen=True, slots=True)
class HacLevelResult:
    """Result of :func:`hac_end_level_test`.

    Attributes
    ----------
    statistic : float
        ``(level - mu0) / se``.
    pvalue : float
        Normal p-value for ``alternative``.
    level : float
        Level of the fitted line at the last point.
    slope : float
        Slope of the fitted line per point.
    se : float
        Newey-West standard error of ``level``.
    maxlags : int
        Bartlett truncation lag L used.
    n : int
        Number of points.
    alternative : str
        'two-sided', 'greater' or 'less'.
    use_correction : bool
        Whether the ``n / (n - 2)`` small-sample factor was applied.
    use_t : bool
        Whether the p-value is from Student's t with n - 2 degrees of freedom.
    fixed_b : bool
        Whether the p-value is from the fixed-b reference distribution.
    """

    statistic: float
    pvalue: float
    level: float
    slope: float
    se: float
    maxlags: int
    n: int
    alternative: str
    use_correction: bool
    use_t: bool = False
    fixed_b: bool = False


def hac_end_level_test(
    x: Any,
    *,
    mu0: float = 0.0,
    maxlags: int | None = None,
    alternative: str = "greater",
    use_correction: bool = False,
    use_t: bool = False,
    fixed_b: bool = False,
) -> HacLevelResult:
    """Test of the level a trending series has reached at its last point.

    Fits the line ``x_t = a + b (t - (n - 1)) + u_t`` by least squares and
    tests ``a`` -- the fitted level at the last point -- against ``mu0`` with a
    Newey-West (Bartlett kernel) HAC standard error.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series in time order, at least 3 points (equally spaced: only
        the order matters).
    mu0 : float
        Level under H0 (default 0).
    maxlags : int, optional
        Truncation lag L >= 0; default ``floor(4 (n/100)^(2/9))``, as
        :func:`hac_mean_test`, capped at n - 1.
    alternative : {'greater', 'less', 'two-sided'}
        Default 'greater' (the series ends above ``mu0``).
    use_correction : bool
        Multiply the covariance by ``n / (n - 2)`` (statsmodels'
        ``use_correction=True``). Default False, as statsmodels' OLS HAC.
    use_t : bool
        p-values from Student's t with n - 2 degrees of freedom instead of
        the normal (statsmodels' ``use_t=True``). Default False.
    fixed_b : bool
        p-values from the fixed-b reference distribution at ``b = (L + 1) /
        n`` (as :func:`hac_mean_test`; ``use_t`` is then ignored).

    Returns
    -------
    HacLevelResult
        ``statistic``, ``pvalue``, ``level``, ``slope``, ``se``, ``maxlags``,
        ``n``, ``alternative``, ``use_correction``.

    Raises
    ------
    ParameterError
        On NaN/Inf, a bad ``maxlags`` or ``alternative``.
    InsufficientDataError
        If ``x`` has fewer than 3 points.

    Notes
    -----
    Why not the mean: a series that grows during the window (a widening
    validation/train gap) has a mean well below where it ends, and its
    trend, left in the residuals of a mean, inflates the HAC variance; the
    end level of a fitted line answers "is it above ``mu0`` now" with the
    trend taken out. A curved trend leaves curvature in the residuals, which
    the HAC variance absorbs; a convex (accelerating) series ends above its
    line, so the test is then conservative.

    With ``X = [1, t - (n - 1)]``, residuals ``u`` and scores ``g_t = X_t
    u_t``, ``S = sum_t g_t g_t' + sum_{l=1}^{L} w_l sum_t (g_t g_{t-l}' +
    g_{t-l} g_t')`` with Bartlett weights ``w_l = 1 - l/(L+1)``, and ``cov =
    (X'X)^-1 S (X'X)^-1``. This equals ``statsmodels.api.OLS(x, X).fit(
    cov_type='HAC', cov_kwds={'maxlags': L})`` (``params[0]``, ``bse[0]``,
    ``tvalues[0]``, ``pvalues[0]``, normal p-values). O(n L).

    References
    ----------
    Newey & West (1987) Econometrica 55:703.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import hac_end_level_test
    >>> gap = np.linspace(-0.05, 0.4, 8) + np.random.default_rng(0).normal(0, 0.02, 8)
    >>> bool(hac_end_level_test(gap).pvalue < 0.01)
    True
    """
    alt = _alternative(alternative)
    arr = _finite(x, min_n=3, what="hac_end_level_test")
    n = arr.shape[0]
    maxlags = _bartlett_lags(n, maxlags)
    t = np.arange(n, dtype=np.float64) - (n - 1.0)
    design = np.column_stack([np.ones(n), t])
    xtx_inv = np.linalg.inv(design.T @ design)
    coef = xtx_inv @ (design.T @ arr)
    s = _long_run_cov(design * (arr - design @ coef)[:, None], maxlags)
    if use_correction:
        s *= n / (n - 2.0)
    se = math.sqrt(max(float((xtx_inv @ s @ xtx_inv)[0, 0]), 0.0))
    level = float(coef[0])
    stat, p = _t_test(level - float(mu0), se, n - 2, alt, use_t, _FIXED_B_END_LEVEL if fixed_b else None,
                      (maxlags + 1.0) / n)
    return HacLevelResult(float(stat), p, level, float(coef[1]), se, int(maxlags), int(n), alt, bool(use_correction),
                          bool(use_t), bool(fixed_b))


def _bartlett_lags(n: int, maxlags: int | None) -> int:
    """Truncation lag: ``floor(4 (n/100)^(2/9))`` by default (statsmodels' rule), at most n - 1."""
    if maxlags is None:
        maxlags = int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))
    else:
        maxlags = _positive_int(maxlags, "maxlags", minimum=0)
    return min(maxlags, n - 1)


def _long_run_cov(g: NDArray[np.float64], maxlags: int) -> NDArray[np.float64]:
    """Newey-West sum ``sum_t g_t g_t' + sum_{l<=L} w_l sum_t (g_t g_{t-l}' + g_{t-l} g_t')`` of scores g (n x k)."""
    s = g.T @ g
    for lag in range(1, maxlags + 1):
        c = g[lag:].T @ g[:-lag]
        s += (1.0 - lag / (maxlags + 1.0)) * (c + c.T)
    return s


#: the fixed-b tables as arrays, converted once: bandwidth grid, the log upper
#: tail probabilities of the tabulated quantiles, and one quantile row per b
_FIXED_B_GRID = np.asarray(_fb.B_GRID)
_FIXED_B_LOG_TAIL = np.log1p(-np.asarray(_fb.LEVELS))
_FIXED_B_MEAN = np.asarray(_fb.MEAN)
_FIXED_B_END_LEVEL = np.asarray(_fb.END_LEVEL)


def _t_test(diff: float, se: float, df: int, alternative: str, use_t: bool,
            fixed_b: NDArray[np.float64] | None = None, b: float = 0.0) -> tuple[float, float]:
    """(statistic, p-value) of ``diff / se``; a zero se gives 0 (no difference) or +-inf.

    The reference is the fixed-b quantile table ``fixed_b`` at bandwidth
    ratio ``b`` when given, else Student's t (``use_t``) or the normal.
    """
    if se > 0.0:
        stat = diff / se
    else:
        stat = 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    if fixed_b is not None:
        return stat, _fixed_b_pvalue(stat, b, fixed_b, alternative)
    return stat, (_t_pvalue(stat, df, alternative) if use_t else normal_pvalue(stat, alternative))


def _fixed_b_pvalue(stat: float, b: float, table: NDArray[np.float64], alternative: str) -> float:
    """p-value of a HAC t-statistic from a fixed-b quantile table (symmetric null).

    Linear interpolation in b between the tabulated ratios (clipped to the
    grid) and, along a row, of the log upper-tail probability against the
    quantile; beyond the last tabulated quantile the last segment is
    extrapolated.
    """
    if math.isnan(stat):
        return math.nan
    grid = _FIXED_B_GRID
    bb = min(max(b, grid[0]), grid[-1])
    j = int(np.clip(np.searchsorted(grid, bb) - 1, 0, grid.size - 2))
    f = (bb - grid[j]) / (grid[j + 1] - grid[j])
    q = (1.0 - f) * table[j] + f * table[j + 1]
    log_tail = _FIXED_B_LOG_TAIL

    def upper(x: float) -> float:
        """P(T > x) for x >= 0."""
        if math.isinf(x):
            return 0.0
        if x <= q[-1]:
            return float(math.exp(np.interp(x, q, log_tail)))
        slope = (log_tail[-1] - log_tail[-2]) / (q[-1] - q[-2])
        return float(math.exp(min(log_tail[-1] + slope * (x - q[-1]), 709.0)))

    if alternative == "two-sided":
        return min(1.0, 2.0 * upper(abs(stat)))
    s = stat if alternative == "greater" else -stat
    return upper(s) if s >= 0.0 else 1.0 - upper(-s)


def _t_pvalue(stat: float, df: int, alternative: str) -> float:
    """Student-t tail p-value (scipy.special.stdtr, what scipy.stats.t.sf evaluates)."""
    from scipy.special import stdtr

    if alternative == "two-sided":
        return float(min(1.0, 2.0 * stdtr(df, -abs(stat))))
    if alternative == "greater":
        return float(stdtr(df, -stat))
    return float(stdtr(df, stat))


def robust_smooth(x: Any, window: int = 5) -> NDArray[np.float64]:
    """Running median followed by a 3-point running mean.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series.
    window : int
        Odd width of the running median (>= 1; 1 returns a 3-point mean
        only). Default 5.

    Returns
    -------
    ndarray
        Smoothed series, same length. Edges use the nearest value
        (``mode='nearest'``), so the ends are not pulled towards zero.

    Raises
    ------
    ParameterError
        On NaN/Inf or an even/non-positive window.

    Notes
    -----
    The running median removes isolated spikes (up to ``window // 2`` in a
    row) without shifting a minimum; the short mean breaks the plateaus a
    median leaves on noisy data (Tukey's 3RSS-like "median then Hanning").
    O(n window).

    Examples
    --------
    >>> from curvestat.stats import robust_smooth
    >>> robust_smooth([1.0, 1.0, 9.0, 1.0, 1.0], window=3).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    arr = _finite(x, min_n=1, what="robust_smooth")
    window = _positive_int(window, "window")
    if window % 2 == 0:
        raise ParameterError(f"window must be odd, got {window}")
    if window <= _SMOOTH_KERNEL_MAX_WINDOW:
        from ..kernels.smooth import robust_smooth as smooth

        # scipy.ndimage's median_filter then uniform_filter1d (mode='nearest'),
        # value for value, in one kernel call
        out = np.empty(arr.shape[0])
        smooth(arr, window, out)
        return out
    from scipy.ndimage import median_filter, uniform_filter1d

    med = median_filter(arr, size=window, mode="nearest")
    return uniform_filter1d(med, size=3, mode="nearest")


#: widest running median done by the kernel (an insertion sort per point,
#: O(n window^2)); wider ones go to scipy.ndimage (O(n log window)). Measured
#: on 300-10,000 points: the kernel is 1.5-10x faster at window 5, slower
#: from window 9 on series of 1,000 points or more
_SMOOTH_KERNEL_MAX_WINDOW = 7


@dataclass(frozen=True, slots=True)
class SmoothedMinimum:
    """Result of :func:`smoothed_argmin`.

    Attributes
    ----------
    index : int
        Index of the minimum of the smoothed curve (first one if tied).
    value : float
        Smoothed value there.
    smooth : ndarray
        The smoothed curve.
    """

    index: int
    value: float
    smooth: NDArray[np.float64]


def smoothed_argmin(x: Any, window: int = 5) -> SmoothedMinimum:
    """Location of the minimum of a noisy curve after :func:`robust_smooth`.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series (e.g. validation loss at evaluation steps).
    window : int
        Running-median width (odd), default 5.

    Returns
    -------
    SmoothedMinimum
        ``index``, ``value``, ``smooth``.

    Raises
    ------
    ParameterError
        As :func:`robust_smooth`.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import smoothed_argmin
    >>> v = (np.arange(21.0) - 12.0) ** 2 / 100 + 1.0
    >>> v[3] = 0.0   # a single glitch does not fool it
    >>> smoothed_argmin(v).index
    12
    """
    sm = robust_smooth(x, window)
    k = int(np.argmin(sm))
    return SmoothedMinimum(k, float(sm[k]), sm)
