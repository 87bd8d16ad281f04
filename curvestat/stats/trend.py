"""Mann-Kendall trend test (plain, Hamed-Rao, Yue-Wang); Sen's slope is in :mod:`curvestat.stats.sen`."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ParameterError
from ._sort import argsort as _argsort
from ._util import _alternative, _drop_nan, _positive_int, normal_pvalue
from .autocorr import acf_values
from .sen import SEN_EXACT_MAX_N, SensSlopeResult, sen_median, sens_slope

# the Sen estimator lives in .sen; these names stay importable from here
__all__ = ["MannKendallResult", "SensSlopeResult", "mann_kendall", "sens_slope", "SEN_EXACT_MAX_N"]

_CORRECTIONS = (None, "hamed_rao", "yue_wang")
#: two-sided 95% normal quantile that pymannkendall (default alpha=0.05) uses
#: to call a rank autocorrelation significant in the Hamed-Rao correction
_Z975 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class MannKendallResult:
    """Result of :func:`mann_kendall`.

    Attributes
    ----------
    statistic : float
        Mann-Kendall score ``S = sum_{i<j} sign(x_j - x_i)``.
    pvalue : float
        p-value for ``alternative``: from the normal approximation, or from
        the exact permutation distribution of S when ``method == 'exact'``.
    z : float
        Continuity-corrected standard score.
    var_s : float
        Variance of S used for ``z`` (tie-corrected, times ``variance_factor``).
    tau : float
        Kendall's tau-a: ``S / (n (n - 1) / 2)``.
    n : int
        Number of points used (after dropping NaNs).
    alternative : str
        'two-sided', 'greater' (increasing) or 'less' (decreasing).
    correction : str or None
        None, 'hamed_rao' or 'yue_wang'.
    variance_factor : float
        Factor ``n / n*`` applied to the tie-corrected variance (1.0 for the
        plain test).
    method : str
        'asymptotic' (normal approximation) or 'exact'.
    """

    statistic: float
    pvalue: float
    z: float
    var_s: float
    tau: float
    n: int
    alternative: str
    correction: str | None
    variance_factor: float
    method: str = "asymptotic"


def _mk_score(x: NDArray[np.float64]) -> tuple[int, NDArray[np.int64]]:
    """S in O(n log n) and the tie-group sizes of x."""
    from ..kernels.trend import count_inversions

    n = x.shape[0]
    order = _argsort(x)
    inv = int(count_inversions(x, order))  # pairs i<j with x_i >= x_j: discordant + tied
    # tie-group sizes from the same sort (np.unique would sort a second time)
    srt = x[order]
    edges = np.flatnonzero(srt[1:] != srt[:-1]) + 1
    counts = np.diff(np.concatenate(([0], edges, [n])))
    ties = int((counts * (counts - 1) // 2).sum())
    total = n * (n - 1) // 2
    return total - 2 * inv + ties, counts


def _var_s(n: int, counts: NDArray[np.int64]) -> float:
    c = counts.astype(np.float64)
    return (n * (n - 1) * (2 * n + 5) - float((c * (c - 1) * (2 * c + 5)).sum())) / 18.0


def _z_score(s: float, var_s: float) -> float:
    if s == 0 or var_s <= 0.0:
        return 0.0
    return (s - 1.0) / math.sqrt(var_s) if s > 0 else (s + 1.0) / math.sqrt(var_s)


def mann_kendall(
    x: Any,
    *,
    alternative: str = "two-sided",
    correction: str | None = None,
    lag: int | None = None,
    method: str = "asymptotic",
) -> MannKendallResult:
    """Mann-Kendall test for a monotonic trend.

    Parameters
    ----------
    x : array_like, 1-D
        Series in time order (equally spaced or not: only the order matters).
    alternative : {'two-sided', 'increasing', 'decreasing', 'greater', 'less'}
        Alternative hypothesis; 'greater' = 'increasing', 'less' = 'decreasing'.
    correction : {None, 'hamed_rao', 'yue_wang'}
        Variance correction for autocorrelation. None is the plain test
        (pymannkendall ``original_test``); 'hamed_rao' follows pymannkendall
        ``hamed_rao_modification_test`` and 'yue_wang' its
        ``yue_wang_modification_test``.
    lag : int, optional
        Only with a correction: number of autocorrelation lags used (default
        all, ``n - 1``, as pymannkendall; Hamed and Rao suggest 3, Yue and
        Wang 1).
    method : {'asymptotic', 'exact', 'auto'}
        How the p-value is computed. 'asymptotic' (default, as pymannkendall)
        uses the normal approximation. 'exact' uses the exact permutation
        distribution of S (all ``n!`` orders equally likely: iid data); it
        needs the plain test (``correction=None``), no ties and at most
        ``EXACT_MAX_N`` points. 'auto' is 'exact' where that applies and
        'asymptotic' elsewhere.

    Returns
    -------
    MannKendallResult
        ``statistic`` (S), ``pvalue``, ``z``, ``var_s``, ``tau``, ``n``,
        ``alternative``, ``correction``, ``variance_factor``, ``method``.

    Raises
    ------
    InsufficientDataError
        If fewer than 3 non-NaN values remain.
    ParameterError
        On an unknown ``alternative``/``correction``/``method``, a bad
        ``lag``, ±Inf in ``x``, or ``method='exact'`` where it does not apply
        (a correction, ties, more than ``EXACT_MAX_N`` points).

    Notes
    -----
    H0: the values are independent and identically distributed (plain test) or
    a stationary series without trend (corrected tests). S counts concordant
    minus discordant pairs, computed in O(n log n) by counting inversions
    (Knight 1966; one sort, then a Fenwick tree). ``Var(S) = [n(n-1)(2n+5) -
    sum_g t_g(t_g-1)(2t_g+5)] / 18`` over tie groups g, and ``z = (S - sign(S)) / sqrt(Var)``
    (0 when S = 0). p-values use the normal survival function
    (``scipy.special.ndtr(-z)``, what ``scipy.stats.norm.sf`` computes).

    *Hamed-Rao*: x is detrended with Sen's slope, ranked, and the
    autocorrelations r_k of the ranks (FFT, O(n log n)) that fall outside
    ``+-1.96/sqrt(n)`` enter ``n/n* = 1 + 2/(n(n-1)(n-2)) sum_k (n-k)(n-k-1)
    (n-k-2) r_k``. *Yue-Wang*: the autocorrelations of the detrended values
    (all lags, not only significant ones) enter ``n/n* = 1 + 2 sum_k (1 - k/n)
    r_k``. ``var_s`` is the tie-corrected variance times ``n/n*``. Caution:
    with all lags (the default, as pymannkendall) Yue-Wang is badly
    anti-conservative (size ~0.45 at alpha = 0.05 under iid noise, because
    the sample autocorrelations of a demeaned series sum to -1/2); use
    ``lag=1`` with it. Hamed-Rao with all lags is mildly anti-conservative
    (~0.09); see ``benchmarks/calibration_trend.py``. If the
    factor is not positive (strong negative autocorrelation) it is not
    applied: ``variance_factor`` is then 1.0.

    NaN policy: NaNs are dropped (as pymannkendall does). For the corrected
    tests Sen's slope is computed on the original positions of the remaining
    points, while the detrending subtracts ``slope * (1..n)`` over the
    retained points, exactly as pymannkendall 1.4.3 does (a slight
    inconsistency when NaNs were dropped, kept so that results match). ±Inf
    raises. A series whose values are all equal has S = 0 and Var(S) = 0; the
    rule ``S = 0 -> z = 0, p = 1`` applies (no trend can be seen).

    *Exact p-values*: without ties ``S = n(n-1)/2 - 2D`` with D the number of
    discordant pairs (inversions), whose null distribution over the ``n!``
    equally likely orders is the Mahonian distribution (Kendall 1975, ch. 4),
    built by the recursion ``P_k(d) = (1/k) sum_{j<k} P_{k-1}(d - j)``
    (O(n^4) at most 60 points: under 10 ms; cached per n). ``P(S >= s)`` is the
    'greater' p-value; the distribution is symmetric, so the two-sided p is
    ``min(1, 2 P(S >= |s|))``, as ``scipy.stats.kendalltau(method='exact')``.
    The normal approximation is poor for short series: five increasing points
    have exact one-sided p = 1/120 = 0.0083 but normal p = 0.014. The exact
    null holds for exchangeable data only; it does not correct for
    autocorrelation.

    Complexity O(n log n) for all three variants (Sen's slope by randomised
    selection above 300 points).

    References
    ----------
    Mann (1945) Econometrica 13:245; Kendall (1975) Rank Correlation Methods;
    Hamed & Rao (1998) J. Hydrol. 204:182; Yue & Wang (2004) Water Resour.
    Manag. 18:201; Hussain & Mahmud (2019) pyMannKendall, JOSS 4:1556.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import mann_kendall
    >>> rng = np.random.default_rng(0)
    >>> x = 1.0 - 0.01 * np.arange(100) + rng.normal(0, 0.1, 100)
    >>> res = mann_kendall(x, alternative="decreasing")
    >>> res.statistic < 0 and res.pvalue < 1e-6
    True
    """
    alt = _alternative(alternative)
    if correction not in _CORRECTIONS:
        raise ParameterError(f"correction must be one of {_CORRECTIONS}, got {correction!r}")
    if method not in _METHODS:
        raise ParameterError(f"method must be one of {_METHODS}, got {method!r}")
    xs, pos = _drop_nan(x, min_n=3, what="mann_kendall")
    n = xs.shape[0]
    if method == "exact":
        if correction is not None:
            raise ParameterError("method='exact' is the plain test's null distribution; use correction=None")
        if n > EXACT_MAX_N:
            raise ParameterError(f"method='exact' takes at most {EXACT_MAX_N} points, got {n}")
    if lag is not None:
        if correction is None:
            raise ParameterError("lag is only used with correction='hamed_rao' or 'yue_wang'")
        lag = _positive_int(lag, "lag")
    factor = 1.0
    if correction is None or xs.max() == xs.min():
        # (all values equal: S = 0 and Var(S) = 0, nothing to correct)
        s, counts = _mk_score(xs)
        var_s = _var_s(n, counts)
    else:
        from ._threads import run_beside

        nlags = n - 1 if lag is None else min(lag, n - 1)
        slope = sen_median(xs, pos.astype(np.float64))  # itself uses two threads on long series
        # the score and the autocorrelation of the detrended series are
        # independent passes: side by side on two threads for a long series
        score = run_beside(n, _mk_score, xs)
        # As pymannkendall: the slope comes from the original positions but
        # the detrending uses 1..n over the retained points (the two differ
        # only when NaNs were dropped). Times start at 1, not 0, because the
        # rounding of x - slope * t decides which nearly tied detrended values
        # tie exactly, and so the ranks.
        detrended = xs - np.arange(1.0, n + 1.0) * slope
        if correction == "hamed_rao":
            from ..kernels.trend import average_ranks

            r = acf_values(average_ranks(detrended, _argsort(detrended)), nlags)[1:]
            k = np.arange(1, nlags + 1, dtype=np.float64)
            bound = _Z975 / math.sqrt(n)
            sig = (r > bound) | (r < -bound)
            w = (n - k) * (n - k - 1) * (n - k - 2)
            factor = 1.0 + 2.0 / (n * (n - 1.0) * (n - 2.0)) * float((w * r)[sig].sum())
        else:
            r = acf_values(detrended, nlags)[1:]
            k = np.arange(1, nlags + 1, dtype=np.float64)
            factor = 1.0 + 2.0 * float(((1.0 - k / n) * r).sum())
        if not factor > 0.0:
            factor = 1.0
        s, counts = score.result()
        var_s = _var_s(n, counts) * factor
    z = _z_score(s, var_s)
    exact = method != "asymptotic" and correction is None and n <= EXACT_MAX_N and counts.size == n
    if method == "exact" and not exact:
        raise ParameterError("method='exact' needs a series without ties")
    if exact:
        p = _exact_pvalue(int(s), n, alt)
    else:
        p = 1.0 if s == 0 else normal_pvalue(z, alt)
    tau = s / (0.5 * n * (n - 1))
    return MannKendallResult(
        statistic=float(s),
        pvalue=p,
        z=float(z),
        var_s=float(var_s),
        tau=float(tau),
        n=int(n),
        alternative=alt,
        correction=correction,
        variance_factor=float(factor),
        method="exact" if exact else "asymptotic",
    )


#: longest series whose exact null distribution of S ``method='exact'`` builds
EXACT_MAX_N = 60
_METHODS = ("asymptotic", "exact", "auto")


@functools.lru_cache(maxsize=64)
def _inversion_cdf(n: int) -> NDArray[np.float64]:
    """P(D <= d), d = 0 .. n(n-1)/2, for the inversions D of a random permutation of n."""
    pmf = np.ones(1)
    for k in range(2, n + 1):
        # inserting the k-th element adds 0 .. k-1 inversions, uniformly:
        # P_k(d) = (1/k) sum_{j=0}^{k-1} P_{k-1}(d - j), a moving sum of width k
        pmf = np.convolve(pmf, np.full(k, 1.0 / k))
    cdf = np.minimum(np.cumsum(pmf), 1.0)
    cdf.setflags(write=False)
    return cdf


def _exact_pvalue(s: int, n: int, alternative: str) -> float:
    """Exact p-value of the Mann-Kendall score ``s`` of n untied values."""
    cdf = _inversion_cdf(n)
    pairs = n * (n - 1) // 2

    def upper(score: int) -> float:  # P(S >= score) = P(D <= (pairs - score) / 2)
        d = (pairs - score) // 2
        return 1.0 if d >= pairs else (0.0 if d < 0 else float(cdf[d]))

    if alternative == "greater":
        return upper(s)
    if alternative == "less":
        return upper(-s)
    return min(1.0, 2.0 * upper(abs(s)))
