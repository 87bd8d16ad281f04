"""Multiple testing: Holm's step-down, Simes' global test, Benjamini-Hochberg.

One home for the corrections the detectors and the batch apply: Holm over the
metrics of one run (:mod:`curvestat.detectors.contradiction`), Simes over two
views of one loss trend, Benjamini-Hochberg across the runs of a batch
(:mod:`curvestat.batch`). Each takes p-values and returns adjusted p-values
(or one combined p-value); the decision against a level stays with the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..errors import ParameterError

__all__ = ["holm", "simes", "benjamini_hochberg"]


def _pvalues(pvalues: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ParameterError("pvalues must be 1-D")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ParameterError("p-values must lie in [0, 1]")
    return p


def holm(pvalues: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (family-wise error control).

    Parameters
    ----------
    pvalues : array_like of float
        p-values in [0, 1].

    Returns
    -------
    ndarray
        ``q[(i)] = max_{j <= i} min(1, (m - j + 1) p_(j))`` over the sorted
        p-values, in input order. Rejecting ``q <= alpha`` controls the
        family-wise error rate at ``alpha`` under any dependence.

    Raises
    ------
    ParameterError
        If a p-value lies outside [0, 1] or the input is not 1-D.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics 6, 65-70.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = _pvalues(pvalues)
    m = p.size
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p[i])))
        adj[i] = running
    return adj


def simes(pvalues: Sequence[float] | NDArray[np.float64]) -> float:
    """Simes' combined p-value of the global null (every hypothesis true).

    Parameters
    ----------
    pvalues : array_like of float
        p-values in [0, 1], at least one.

    Returns
    -------
    float
        ``min(1, min_i m p_(i) / i)``. Valid under independence and positive
        regression dependence (Sarkar 1998), and uniformly more powerful than
        Bonferroni's ``m p_(1)``; it equals the smallest Benjamini-Hochberg
        q-value.

    Raises
    ------
    ParameterError
        If no p-value is given or one lies outside [0, 1].

    References
    ----------
    Simes, R. J. (1986). An improved Bonferroni procedure for multiple tests
    of significance. Biometrika 73, 751-754.

    Examples
    --------
    >>> simes([0.02, 0.03])
    0.03
    """
    p = _pvalues(pvalues)
    if p.size == 0:
        raise ParameterError("simes needs at least one p-value")
    m = p.size
    ranked = np.sort(p) * m / np.arange(1, m + 1)
    return float(min(1.0, float(ranked.min())))


def benjamini_hochberg(pvalues: Sequence[float] | NDArray[np.float64], *, m: int | None = None) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values).

    Parameters
    ----------
    pvalues : array_like of float
        p-values in [0, 1].
    m : int, optional
        Total number of tests, when only the smallest p-values are given
        (defaults to ``len(pvalues)``). Must be at least ``len(pvalues)``.
        The missing ``m - len(pvalues)`` tests are taken as ``p = 1``, which
        leaves the q-values of the given p-values exact.

    Returns
    -------
    ndarray
        ``q[i] = min_{j : p_j >= p_i} min(1, m p_j / rank_j)``, in input order.

    Raises
    ------
    ParameterError
        If a p-value lies outside [0, 1] or ``m < len(pvalues)``.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery
    rate. Journal of the Royal Statistical Society B 57, 289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.2]
    """
    p = _pvalues(pvalues)
    n = p.size
    m = n if m is None else int(m)
    if m < n:
        raise ParameterError(f"m ({m}) must be at least the number of p-values ({n})")
    if n == 0:
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(q_sorted, 1.0)
    return q
