"""Autocorrelation function (FFT) and the Ljung-Box portmanteau test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InsufficientDataError, ParameterError
from ._util import _finite, _positive_int

__all__ = ["LjungBoxResult", "acf", "ljung_box"]


#: longest series whose autocorrelation is summed directly: below this the
#: O(n^2) sum takes a few microseconds, the FFT's set-up some tens
_ACF_DIRECT_MAX_N = 256


def acf_values(y: NDArray[np.float64], nlags: int) -> NDArray[np.float64]:
    """Autocorrelation of a finite float64 array (demeaned, divided by n) for lags 0..nlags.

    The unvalidated core of :func:`acf` (direct sum or FFT), for callers that
    already hold a clean array (the Hamed-Rao correction of :func:`mann_kendall`).
    """
    n = y.shape[0]
    d = y - y.mean()
    if n <= _ACF_DIRECT_MAX_N:
        acov = np.correlate(d, d, "full")[n - 1 : n + nlags]
    else:
        from scipy import fft as sfft

        nfft = sfft.next_fast_len(2 * n - 1, real=True)
        spec = sfft.rfft(d, nfft)
        acov = sfft.irfft(spec.real**2 + spec.imag**2, nfft)[: nlags + 1]
    if acov[0] <= 0.0:
        out = np.zeros(nlags + 1)
        out[0] = 1.0
        return out
    return acov / acov[0]


def acf(x: Any, nlags: int | None = None) -> NDArray[np.float64]:
    """Sample autocorrelation function for lags 0..nlags, computed by FFT.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series in time order, at least 2 points.
    nlags : int, optional
        Largest lag (default ``min(10 log10(n), n - 1)`` as statsmodels).
        Must be <= n - 1.

    Returns
    -------
    ndarray, shape (nlags + 1,)
        ``r_0 = 1, r_1, ..., r_nlags`` with ``r_k = c_k / c_0``, ``c_k =
        (1/n) sum_{t<n-k} (x_t - xbar)(x_{t+k} - xbar)``. A constant series
        has ``c_0 = 0``; its ACF is defined here as ``[1, 0, ..., 0]``.

    Raises
    ------
    ParameterError
        If ``x`` holds NaN/Inf or ``nlags`` is out of range.
    InsufficientDataError
        If ``x`` has fewer than 2 points.

    Notes
    -----
    Matches ``statsmodels.tsa.stattools.acf(x, nlags=nlags, adjusted=False,
    fft=True)`` (demeaned, divided by n, so the sequence is positive
    semi-definite). O(n log n): zero-padded real FFT of length >= 2n - 1.
    NaN policy: non-finite values raise; drop or interpolate them first.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import acf
    >>> acf(np.array([1.0, 2.0, 3.0, 4.0]), nlags=2).round(3)
    array([ 1.  ,  0.25, -0.3 ])
    """
    arr = _finite(x, min_n=2, what="acf")
    n = arr.shape[0]
    if nlags is None:
        nlags = int(min(int(10 * np.log10(n)), n - 1))
    else:
        nlags = _positive_int(nlags, "nlags", minimum=0)
        if nlags > n - 1:
            raise ParameterError(f"nlags must be <= n - 1 = {n - 1}, got {nlags}")
    return acf_values(arr, nlags)


@dataclass(frozen=True, slots=True)
class LjungBoxResult:
    """Result of :func:`ljung_box`.

    Attributes
    ----------
    statistic : float
        Ljung-Box Q at the largest lag.
    pvalue : float
        ``chi2.sf(statistic, df)`` (computed as ``scipy.special.chdtrc``).
    df : int
        Degrees of freedom ``lags - model_df``.
    lags : int
        Largest lag tested.
    n : int
        Number of points.
    statistic_by_lag : ndarray
        Q for lags 1..lags.
    pvalue_by_lag : ndarray
        p-values for lags 1..lags (NaN where ``k - model_df <= 0``, as
        statsmodels).
    acf : ndarray
        Autocorrelations r_1..r_lags.
    """

    statistic: float
    pvalue: float
    df: int
    lags: int
    n: int
    statistic_by_lag: NDArray[np.float64]
    pvalue_by_lag: NDArray[np.float64]
    acf: NDArray[np.float64]


def ljung_box(x: Any, lags: int = 10, *, model_df: int = 0) -> LjungBoxResult:
    """Ljung-Box test that the first ``lags`` autocorrelations are all zero.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series (or residuals) in time order.
    lags : int
        Largest lag included (1 <= lags <= n - 1), default 10.
    model_df : int
        Degrees of freedom used up by a fitted model (e.g. p + q of an
        ARMA), subtracted from ``lags`` (default 0).

    Returns
    -------
    LjungBoxResult
        ``statistic``, ``pvalue``, ``df``, ``lags``, ``n``,
        ``statistic_by_lag``, ``pvalue_by_lag``, ``acf``.

    Raises
    ------
    ParameterError
        If ``x`` holds NaN/Inf, or ``lags``/``model_df`` are out of range
        (``lags - model_df`` must be >= 1).
    InsufficientDataError
        If ``x`` has fewer than ``lags + 1`` points.

    Notes
    -----
    H0: the series is white noise up to lag ``lags``. ``Q = n (n + 2)
    sum_{k=1}^{lags} r_k^2 / (n - k)`` is asymptotically chi-squared with
    ``lags - model_df`` degrees of freedom. Matches
    ``statsmodels.stats.diagnostic.acorr_ljungbox(x, lags=lags,
    model_df=model_df)`` (columns ``lb_stat``, ``lb_pvalue``). O(n log n).

    References
    ----------
    Ljung & Box (1978) Biometrika 65:297.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import ljung_box
    >>> x = np.random.default_rng(0).normal(size=500)
    >>> bool(ljung_box(x, lags=10).pvalue > 0.01)
    True
    """
    lags = _positive_int(lags, "lags")
    model_df = _positive_int(model_df, "model_df", minimum=0)
    if lags - model_df < 1:
        raise ParameterError(f"lags - model_df must be >= 1, got lags={lags}, model_df={model_df}")
    arr = _finite(x, min_n=2, what="ljung_box")
    n = arr.shape[0]
    if n < lags + 1:
        raise InsufficientDataError(f"ljung_box with lags={lags} needs at least {lags + 1} points, got {n}")
    from scipy.special import chdtrc  # chi2.sf without scipy.stats' per-call overhead


    r = acf_values(arr, lags)[1:]
    k = np.arange(1, lags + 1)
    q = n * (n + 2.0) * np.cumsum(r**2 / (n - k))
    df = k - model_df
    p = np.full(lags, np.nan)
    ok = df > 0
    p[ok] = chdtrc(df[ok], q[ok])
    return LjungBoxResult(
        statistic=float(q[-1]),
        pvalue=float(p[-1]),
        df=int(df[-1]),
        lags=lags,
        n=int(n),
        statistic_by_lag=q,
        pvalue_by_lag=p,
        acf=r,
    )
