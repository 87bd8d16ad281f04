"""Validation and robust helpers shared by the statistical tests.

Public helpers (re-exported by :mod:`curvestat.stats`): :func:`block_means`,
:func:`median1d`, :func:`normal_pvalue`, :func:`safe_log`; the noise scales
live in :mod:`curvestat.stats.noise`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InsufficientDataError, ParameterError

__all__ = ["BlockMeans", "block_means", "median1d", "normal_pvalue", "safe_log"]

#: 1 / Phi^{-1}(3/4): makes the MAD a consistent estimator of a normal sigma
MAD_CONSISTENCY = 1.482602218505602

_ALTERNATIVES = {
    "two-sided": "two-sided",
    "greater": "greater",
    "increasing": "greater",
    "less": "less",
    "decreasing": "less",
}


def _alternative(alternative: Any) -> str:
    try:
        return _ALTERNATIVES[alternative]
    except (KeyError, TypeError):
        raise ParameterError(
            f"alternative must be one of {sorted(_ALTERNATIVES)}, got {alternative!r}"
        ) from None


def normal_pvalue(z: float, alternative: str) -> float:
    """Standard normal tail p-value of ``z`` for a canonical ``alternative``.

    ``scipy.special.ndtr(-z)`` is exactly what ``scipy.stats.norm.sf(z)``
    evaluates (the survival function, never ``1 - cdf``), without its
    ~50-100 us of per-call argument handling.
    """
    from scipy.special import ndtr

    if alternative == "two-sided":
        return float(min(1.0, 2.0 * ndtr(-abs(z))))
    if alternative == "greater":
        return float(ndtr(-z))
    return float(ndtr(z))


def _t_sf(t: float, df: float) -> float:
    """``scipy.stats.t.sf(t, df)`` for a scalar: the ``stdtr(df, -t)`` it evaluates (NaN, ±Inf, df <= 0 alike).

    Without importing :mod:`scipy.stats` (a second of a command's start-up)
    or paying its per-call argument handling.
    """
    from scipy.special import stdtr

    return float(stdtr(df, -t))


def _t_cdf(t: float, df: float) -> float:
    """``scipy.stats.t.cdf(t, df)`` for a scalar: the ``stdtr(df, t)`` it evaluates."""
    from scipy.special import stdtr

    return float(stdtr(df, t))


def _as_1d(x: Any, name: str = "x") -> NDArray[np.float64]:
    """Contiguous 1-D float64 copy-free view of ``x`` (ParameterError otherwise)."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be a 1-D array of numbers: {exc}") from None
    if arr.ndim != 1:
        arr = np.squeeze(arr)
        if arr.ndim != 1:
            raise ParameterError(f"{name} must be 1-D, got shape {np.shape(x)}")
    return np.ascontiguousarray(arr)


def _finite(x: Any, name: str = "x", *, min_n: int = 1, what: str = "this test") -> NDArray[np.float64]:
    """1-D float array that must be entirely finite and hold at least ``min_n`` points."""
    arr = _as_1d(x, name)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ParameterError(
            f"{name} holds {bad} non-finite value(s) (NaN/Inf); {what} needs finite values: "
            "drop or interpolate them first"
        )
    if arr.shape[0] < min_n:
        raise InsufficientDataError(f"{what} needs at least {min_n} points in {name}, got {arr.shape[0]}")
    return arr


def _drop_nan(x: Any, name: str = "x", *, min_n: int, what: str):
    """Drop NaNs (keeping the positions of the rest); ±Inf raises ParameterError."""
    arr = _as_1d(x, name)
    if np.isinf(arr).any():
        raise ParameterError(
            f"{name} holds infinite values; {what} drops NaNs but rejects ±Inf "
            "(an infinite loss is a finding of its own, not a point of a trend)"
        )
    keep = ~np.isnan(arr)
    pos = np.flatnonzero(keep)
    vals = arr[keep] if pos.shape[0] != arr.shape[0] else arr
    if vals.shape[0] < min_n:
        raise InsufficientDataError(
            f"{what} needs at least {min_n} non-NaN points in {name}, got {vals.shape[0]}"
        )
    return np.ascontiguousarray(vals), pos


def _positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class BlockMeans:
    """Result of :func:`block_means`.

    Attributes
    ----------
    means : ndarray
        Mean of each block.
    block_size : int
        Points per block ``b`` (the last block may hold up to ``2b - 1``).
    starts : ndarray of int
        Index in the input of the first point of each block.
    """

    means: NDArray[np.float64]
    block_size: int
    starts: NDArray[np.int64]


def block_means(x: Any, max_points: int) -> BlockMeans:
    """Aggregate a long series into at most ``max_points`` block means.

    Parameters
    ----------
    x : array_like, 1-D
        Series of finite values, in time order.
    max_points : int
        Largest number of blocks wanted (>= 1).

    Returns
    -------
    BlockMeans
        ``means``, ``block_size``, ``starts``.

    Raises
    ------
    ParameterError
        If ``x`` is not 1-D, holds non-finite values, or ``max_points < 1``.
    InsufficientDataError
        If ``x`` is empty.

    Notes
    -----
    Rule: block size ``b = ceil(n / max_points)``; the series is cut into
    ``floor(n / b)`` consecutive blocks of ``b`` points starting at index 0,
    and the ``n mod b`` trailing points (fewer than ``b``) are **merged into
    the last block**, so no point (and in particular not the end of a run) is
    dropped. When ``n <= max_points`` the series is returned unchanged
    (``b = 1``). Means of consecutive blocks of a stationary series are again
    stationary, so trend tests on block means stay valid (with less power and,
    for autocorrelated noise, weaker residual autocorrelation).

    Examples
    --------
    >>> from curvestat.stats import block_means
    >>> block_means([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 3).means
    array([2. , 5.5])
    """
    arr = _finite(x, min_n=1, what="block_means")
    max_points = _positive_int(max_points, "max_points")
    n = arr.shape[0]
    b = -(-n // max_points)
    n_blocks = n // b
    starts = np.arange(n_blocks, dtype=np.int64) * b
    if b == 1:
        return BlockMeans(arr.copy(), 1, starts)
    full = arr[: n_blocks * b].reshape(n_blocks, b).mean(axis=1)
    if n_blocks * b < n:
        full[-1] = arr[(n_blocks - 1) * b :].mean()
    return BlockMeans(full, int(b), starts)


def median1d(a: NDArray[np.float64]) -> float:
    """Median of a finite 1-D array; ``np.median`` without its generic overhead.

    The detectors take a few dozen medians of short arrays per run, where
    ``np.median``'s dispatch costs more than the partition (about 15 us
    against 3 us). Same value: the middle element, or the mean of the two
    middle ones.
    """
    n = a.shape[0]
    if n == 0:
        return math.nan
    k = n // 2
    if n % 2:
        return float(np.partition(a, k)[k])
    p = np.partition(a, (k - 1, k))
    return float(0.5 * (p[k - 1] + p[k]))


def safe_log(x: Any, *, floor: float | None = None) -> NDArray[np.float64]:
    """Natural log that refuses non-positive values instead of returning -inf/NaN.

    Parameters
    ----------
    x : array_like
        Values to transform. NaN and +Inf pass through (NaN -> NaN, +Inf ->
        +Inf): they are evidence, not errors.
    floor : float, optional
        If given (> 0), values below ``floor`` (including zeros and negatives)
        are replaced by ``floor`` before taking the log.

    Returns
    -------
    ndarray
        ``log(x)``, float64.

    Raises
    ------
    ParameterError
        If ``floor`` is None and some value is <= 0 or -Inf (message gives the
        count and the first index), or if ``floor`` is not a positive finite
        number.

    Examples
    --------
    >>> from curvestat.stats import safe_log
    >>> safe_log([1.0, 0.0], floor=1e-12).round(3)
    array([  0.   , -27.631])
    """
    arr = np.asarray(x, dtype=np.float64)
    if floor is not None:
        floor = float(floor)
        if not (math.isfinite(floor) and floor > 0.0):
            raise ParameterError(f"floor must be a positive finite number, got {floor!r}")
        arr = np.where(arr < floor, floor, arr)  # NaN < floor is False: NaN kept
        return np.log(arr)
    bad = arr <= 0.0
    if bad.any():
        idx = np.flatnonzero(bad.ravel())
        raise ParameterError(
            f"safe_log: {idx.shape[0]} value(s) <= 0 (first at flat index {idx[0]}, value "
            f"{arr.ravel()[idx[0]]!r}); the log of a loss needs positive values: pass floor= "
            "or shift the series"
        )
    return np.log(arr)
