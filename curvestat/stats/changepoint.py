"""Change points: CUSUM screen, PELT, binary segmentation, penalties.

Convention: a change point is **the first index of the new segment**. A
signal with one shift between x[99] and x[100] has change point 100. (ruptures
returns segment *ends* and always appends n; drop the n to get ours.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._numeric import clip_lag1
from ..errors import InsufficientDataError, ParameterError
from ._util import _alternative, _finite, _positive_int
from .noise import diff_noise_scale

__all__ = [
    "CusumResult",
    "ChangePointResult",
    "cusum",
    "pelt",
    "binary_segmentation",
    "bic_penalty",
    "mbic_penalty",
    "ar_noise_variance",
    "LocalShiftResult",
    "local_shift_test",
]

_MODELS = {"l2": 0, "normal": 1}
#: The rules a penalty may name; 'bic_ar' is the default of pelt and binary_segmentation.
_PENALTY_RULES = ("bic", "mbic", "bic_ar")
#: Clip of the residuals' lag-1 autocorrelation in the 'bic_ar' rule (a random
#: walk has 1 and an infinite long-run variance); the clip of _lag1_autocorr.
_AR_CLIP = 0.99
#: Fixed-point iterations of the 'bic_ar' rule at most (it settles in 2-5 on
#: the TCPD series; a cycle stops it at the first repeated segmentation).
_AR_MAX_ITER = 10
#: the costs of kernels.linear_changepoint
_LINEAR_MODELS = ("linear",)
#: costs we do not implement, delegated to ruptures' own (``ruptures.costs``):
#: least absolute deviation, Gaussian-kernel (any change of distribution),
#: AR(``order``) coefficients, rank-based, continuous piecewise-linear
_RUPTURES_MODELS = ("l1", "rbf", "ar", "rank", "clinear")
_ALL_MODELS = (*_LINEAR_MODELS, *_MODELS, *_RUPTURES_MODELS)
#: ruptures' own minimum segment length of each cost (the ruptures costs' come
#: from ruptures itself)
_COST_MIN_SIZE = {"l2": 1, "normal": 2, "linear": 2}
#: BIC's count of parameters per change point of each cost (the location, and
#: the mean; the mean and the variance; the intercept and the slope)
_BIC_PARAMS = {"l2": 2.0, "normal": 3.0, "linear": 3.0}
#: Default minimum segment length of each cost (``min_size=None``): 2 for the
#: mean costs (as before), 3 for a line (one residual degree of freedom, so
#: that a segment cannot swallow two outliers at no cost)
_DEFAULT_MIN_SIZE = {"l2": 2, "normal": 2, "linear": 3, **{m: 2 for m in _RUPTURES_MODELS}}


@dataclass(frozen=True, slots=True)
class CusumResult:
    """Result of :func:`cusum`.

    Attributes
    ----------
    statistic : float
        Largest standardised cumulative deviation in the direction of
        ``alternative`` (see Notes of :func:`cusum`).
    pvalue : float
        Asymptotic p-value from the Brownian-bridge supremum.
    location : int
        First index of the shifted part (the argmax/argmin of the cumulative
        sum), 1 <= location <= n - 1.
    sigma : float
        Noise scale used for standardising.
    n : int
        Number of points.
    alternative : str
        'greater' (upward shift), 'less' or 'two-sided'.
    """

    statistic: float
    pvalue: float
    location: int
    sigma: float
    n: int
    alternative: str


def cusum(x: Any, *, alternative: str = "greater", sigma: float | None = None) -> CusumResult:
    """CUSUM screen for a single shift in mean.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series, at least 3 points (e.g. log loss).
    alternative : {'greater', 'increasing', 'less', 'decreasing', 'two-sided'}
        'greater' looks for an upward shift (default), 'less' a downward one.
    sigma : float, optional
        Noise scale; default :func:`diff_noise_scale` of ``x`` (robust to the
        shift itself).

    Returns
    -------
    CusumResult
        ``statistic``, ``pvalue``, ``location``, ``sigma``, ``n``,
        ``alternative``.

    Raises
    ------
    ParameterError
        On NaN/Inf, an unknown alternative, or ``sigma <= 0``.
    InsufficientDataError
        If ``x`` has fewer than 3 points.

    Notes
    -----
    With ``C_k = sum_{i<k} (x_i - xbar)`` (k = 0..n, C_0 = C_n = 0) and
    ``B_k = C_k / (sigma sqrt(n))``, an upward shift at index tau pulls C down
    to its minimum at k = tau. The statistic is ``max(0, max_k(-B_k))``
    ('greater'), ``max(0, max_k B_k)`` ('less') or ``max_k |B_k|``
    ('two-sided'), over k = 1..n-1; under H0 (iid
    noise, constant mean) B converges to a Brownian bridge, so ``P(sup B >
    b) = exp(-2 b^2)`` (one-sided) and the two-sided p-value is the
    Kolmogorov distribution's ``kstwobign.sf(b)``. ``location`` is the
    minimising (maximising) k: the first index of the shifted part. If the
    noise scale is 0 (constant differences) the statistic is 0 and p = 1
    unless the series is not constant, in which case the statistic is inf
    and p = 0. Autocorrelated noise inflates the statistic: treat p as a
    screen, not a calibrated test, on raw loss curves. O(n).

    References
    ----------
    Page (1954) Biometrika 41:100; Csörgő & Horváth (1997) Limit Theorems in
    Change-Point Analysis.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import cusum
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, 100), rng.normal(3, 1, 50)]
    >>> res = cusum(x)
    >>> res.location, bool(res.pvalue < 1e-6)
    (100, True)
    """
    alt = _alternative(alternative)
    arr = _finite(x, min_n=3, what="cusum")
    n = arr.shape[0]
    if sigma is None:
        sigma = diff_noise_scale(arr)
    else:
        sigma = float(sigma)
        if not (math.isfinite(sigma) and sigma > 0):
            raise ParameterError(f"sigma must be a positive finite number, got {sigma!r}")
    c = np.concatenate(([0.0], np.cumsum(arr - arr.mean())))
    inner = c[1:n]
    if alt == "greater":
        k = int(np.argmin(inner)) + 1
        raw = -inner[k - 1]
    elif alt == "less":
        k = int(np.argmax(inner)) + 1
        raw = inner[k - 1]
    else:
        k = int(np.argmax(np.abs(inner))) + 1
        raw = abs(inner[k - 1])
    raw = max(float(raw), 0.0)
    if sigma <= 0.0:
        stat = 0.0 if raw <= 1e-12 * (np.abs(arr).max() + 1.0) * n else math.inf
    else:
        stat = raw / (sigma * math.sqrt(n))
    if alt == "two-sided":
        from scipy.special import kolmogorov  # kstwobign.sf without scipy.stats' per-call overhead

        p = float(kolmogorov(stat))
    else:
        p = math.exp(-2.0 * stat * stat)
    return CusumResult(float(stat), float(min(1.0, p)), k, float(sigma), int(n), alt)


@dataclass(frozen=True, slots=True)
class ChangePointResult:
    """Result of :func:`pelt` and :func:`binary_segmentation`.

    Attributes
    ----------
    breakpoints : ndarray of int
        Sorted change points, each the **first index of a new segment**
        (0 < b < n). Empty when no change is found.
    segment_means : ndarray
        Mean of each of the ``len(breakpoints) + 1`` segments.
    segment_starts : ndarray of int
        First index of every segment (0 followed by ``breakpoints``).
    cost : float
        Total cost of the segmentation (sum of segment costs, no penalty).
    penalty : float
        Penalty per change point used (NaN when ``n_bkps`` was given).
    model : str
        'linear', 'l2', 'normal' or a ruptures cost ('l1', 'rbf', 'ar', 'rank', 'clinear').
    min_size : int
        Minimum segment length actually used.
    n : int
        Number of points.
    method : str
        'pelt' or 'binseg'.
    """

    breakpoints: NDArray[np.int64]
    segment_means: NDArray[np.float64]
    segment_starts: NDArray[np.int64]
    cost: float
    penalty: float
    model: str
    min_size: int
    n: int
    method: str


def _prefix(arr: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # centre on the median so that prefix sums of squares do not cancel
    centred = arr - np.median(arr)
    s1 = np.concatenate(([0.0], np.cumsum(centred)))
    s2 = np.concatenate(([0.0], np.cumsum(centred * centred)))
    return s1, s2


def _linear_prefix(arr: NDArray[np.float64]):
    """Prefix sums of the 'linear' cost (kernels.linear_changepoint), median-centred x, centred times."""
    n = arr.shape[0]
    xc = arr - np.median(arr)
    t0 = 0.5 * (n - 1)
    t = np.arange(n, dtype=np.float64) - t0
    sx = np.concatenate(([0.0], np.cumsum(xc)))
    sxx = np.concatenate(([0.0], np.cumsum(xc * xc)))
    stx = np.concatenate(([0.0], np.cumsum(t * xc)))
    return sx, sxx, stx, float(t0)


def _ruptures_cost(model: str):
    import ruptures

    return ruptures.costs.cost_factory(model)


def _ruptures_search(method: str, arr: NDArray[np.float64], model: str, eff: int, jump: int, penalty: Any,
                     n_bkps: int | None = None) -> tuple[list[int], float, float]:
    """Change points, penalty and total cost from ruptures' own search and cost (our convention: no final n)."""
    import ruptures
    from ruptures.exceptions import BadSegmentationParameters, NotEnoughPoints

    if n_bkps is None:
        if isinstance(penalty, str):
            raise ParameterError(
                f"the penalty rules {_PENALTY_RULES} are in squared-error units; give a number for model={model!r}"
            )
        pen = _penalty_value(arr, penalty, model)
        predict: dict[str, Any] = {"pen": pen}
    else:
        pen, predict = math.nan, {"n_bkps": n_bkps}
    try:
        algo = getattr(ruptures, method)(model=model, min_size=eff, jump=jump).fit(arr)
        ends = algo.predict(**predict)
        cost = float(np.sum(algo.cost.sum_of_costs(ends)))
    except (BadSegmentationParameters, NotEnoughPoints) as exc:  # bare Exception subclasses
        why = str(exc) or f"{type(exc).__name__}: {arr.shape[0]} points do not fit that segmentation"
        raise ParameterError(f"ruptures {method}(model={model!r}, min_size={eff}, jump={jump}): {why}") from None
    return [int(e) for e in ends[:-1]], pen, cost


def _check_model(model: Any) -> None:
    if model not in _ALL_MODELS:
        raise ParameterError(f"model must be one of {_ALL_MODELS}, got {model!r}")


def _check_common(x: Any, model: str, min_size: Any, jump: Any, what: str):
    _check_model(model)
    min_size = _DEFAULT_MIN_SIZE[model] if min_size is None else _positive_int(min_size, "min_size")
    jump = _positive_int(jump, "jump")
    arr = _finite(x, min_n=1, what=what)
    eff = max(min_size, _COST_MIN_SIZE[model] if model in _COST_MIN_SIZE else _ruptures_cost(model).min_size)
    if arr.shape[0] < eff:
        raise InsufficientDataError(
            f"{what} with model={model!r} needs at least min_size={eff} points, got {arr.shape[0]}"
        )
    return arr, eff, jump


def _penalty_value(arr: NDArray[np.float64], penalty: Any, model: str) -> float:
    """A numeric penalty or the value of a fixed rule ('bic_ar' is resolved by _bic_ar)."""
    if isinstance(penalty, str):
        if penalty == "bic":
            return bic_penalty(arr, model=model)
        if penalty == "mbic":
            return mbic_penalty(arr, model=model)
        raise ParameterError(f"penalty must be a number >= 0 or one of {_PENALTY_RULES}, got {penalty!r}")
    try:
        pen = float(penalty)
    except (TypeError, ValueError):
        raise ParameterError(f"penalty must be a number >= 0 or one of {_PENALTY_RULES}, got {penalty!r}") from None
    if not (math.isfinite(pen) and pen >= 0.0):
        raise ParameterError(f"penalty must be finite and >= 0, got {penalty!r}")
    return pen


def ar_noise_variance(resid: Any) -> tuple[float, float]:
    """Robust long-run variance of AR(1)-like noise: ``s^2 (1 + phi) / (1 - phi)``.

    Parameters
    ----------
    resid : array_like, 1-D
        Residuals in time order (e.g. of a piecewise-constant fit).

    Returns
    -------
    (variance, phi) : tuple of float
        ``s`` is the MAD scale of the residuals and ``phi = 1 -
        MAD(diff r)^2 / (2 s^2)`` the lag-1 autocorrelation that makes the
        first differences' robust scale consistent with ``s`` (for AR(1)
        noise ``var(r_t - r_{t-1}) = 2 s^2 (1 - phi)``), clipped to
        ``[0, 0.99]``. Both scales are medians, so a few outliers and the
        steps of a missed level shift barely move them.

    Raises
    ------
    ParameterError
        On NaN or Inf.
    InsufficientDataError
        With fewer than 2 residuals.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import ar_noise_variance
    >>> var, phi = ar_noise_variance(np.random.default_rng(0).normal(0, 2, 20000))
    >>> round(var, 1), round(phi, 2)
    (4.0, 0.0)
    """
    from .noise import mad_scale

    r = _finite(resid, min_n=2, what="ar_noise_variance")
    s = mad_scale(r)
    if s <= 0.0:
        return 0.0, 0.0
    sd = mad_scale(np.diff(r))
    phi = float(min(max(1.0 - sd * sd / (2.0 * s * s), 0.0), _AR_CLIP))
    return s * s * (1.0 + phi) / (1.0 - phi), phi


def _bic_ar(arr: NDArray[np.float64], model: str, search) -> tuple[list[int], float]:
    """The 'bic_ar' rule: BIC on the long-run noise variance of the fit's own residuals.

    ``search(pen)`` returns the change points at penalty ``pen``. Starting
    from the BIC penalty with the whole series taken as noise (the fewest
    changes), refit until the segmentation repeats.
    """
    n = arr.shape[0]
    k = _BIC_PARAMS[model]
    # the whole series taken as noise around the model's one-segment fit
    var0 = float(np.var(arr - _fitted(arr, [], model)))
    pen = k * math.log(max(n, 2)) * (1.0 if model == "normal" else var0)
    seen: set[tuple[int, ...]] = set()
    bkps = search(pen)
    for _ in range(_AR_MAX_ITER):
        key = tuple(bkps)
        if key in seen or n < 3:
            break
        seen.add(key)
        lrv, phi = ar_noise_variance(arr - _fitted(arr, bkps, model))
        if model != "normal":
            if lrv <= 0.0:
                break  # noiseless residuals: the fit is exact, nothing to re-weigh
            new = k * lrv * math.log(n)
        else:
            new = k * math.log(n) * (1.0 + phi) / (1.0 - phi)
        if new == pen:
            break
        pen = new
        bkps = search(pen)
    return list(bkps), float(pen)


def _fitted(arr: NDArray[np.float64], bkps: Any, model: str) -> NDArray[np.float64]:
    """The segmentation's fit: segment means, or segment least-squares lines ('linear')."""
    n = arr.shape[0]
    edges = [0, *[int(b) for b in bkps], n]
    out = np.empty(n)
    for a, b in zip(edges[:-1], edges[1:]):
        seg = arr[a:b]
        mean = float(seg.mean())
        if model == "linear" and b - a >= 2:
            tc = np.arange(b - a, dtype=np.float64) - 0.5 * (b - a - 1)
            out[a:b] = mean + (float(tc @ (seg - mean)) / float(tc @ tc)) * tc
        else:
            out[a:b] = mean
    return out


def _result(arr, bkps, model, pen, eff, method, cost: float | None = None) -> ChangePointResult:
    n = arr.shape[0]
    bkps = np.asarray(bkps, dtype=np.int64)
    starts = np.concatenate(([0], bkps)).astype(np.int64)
    ends = np.concatenate((bkps, [n])).astype(np.int64)
    csum = np.concatenate(([0.0], np.cumsum(arr)))
    means = (csum[ends] - csum[starts]) / (ends - starts)
    if cost is not None:
        pass  # a ruptures cost, summed by ruptures
    elif model in _MODELS:
        from ..kernels.changepoint import segment_cost

        s1, s2 = _prefix(arr)
        code = _MODELS[model]
        cost = float(sum(segment_cost(s1, s2, int(a), int(b), code) for a, b in zip(starts, ends)))
    else:
        from ..kernels.linear_changepoint import linear_cost

        pre = _linear_prefix(arr)
        cost = float(sum(linear_cost(*pre, int(a), int(b)) for a, b in zip(starts, ends)))  # type: ignore[call-arg]
    return ChangePointResult(bkps, means, starts, cost, float(pen), model, int(eff), int(n), method)


def pelt(
    x: Any,
    *,
    model: str = "linear",
    penalty: float | str = "bic_ar",
    min_size: int | None = None,
    jump: int = 1,
) -> ChangePointResult:
    """Optimal penalised segmentation by PELT (pruned exact linear time).

    Parameters
    ----------
    x : array_like, 1-D
        Finite series (e.g. log loss).
    model : {'linear', 'l2', 'normal'}
        Segment cost: 'linear' (default) = residual sum of squares of the
        segment's least-squares line on time (changes of level and/or
        slope; ruptures' ``CostLinear`` with covariates ``[1, t]``); 'l2' =
        sum of squared deviations from the segment mean (shifts in mean);
        'normal' = ``len * log(var + 1e-6)`` (shifts in mean and/or
        variance), exactly as ruptures' ``CostL2``/``CostNormal``. The
        ruptures costs we do not implement ('l1', 'rbf', 'ar', 'rank',
        'clinear') run on ruptures' own ``Pelt`` with a numeric ``penalty``
        (their units are not squared errors, so no rule applies).
    penalty : float or {'bic_ar', 'bic', 'mbic'}
        Penalty per change point, >= 0, in the units of the cost; or a rule.
        'bic_ar' (default): BIC (``3 v log n`` for 'linear', ``2 v log n``
        for 'l2', ``3 log n (1 + phi) / (1 - phi)`` for 'normal') on the
        long-run noise variance ``v`` of the segmentation's own residuals
        (:func:`ar_noise_variance`), found by a fixed-point iteration (see
        Notes). 'bic' and 'mbic': :func:`bic_penalty`, :func:`mbic_penalty`
        on the noise scale of the first differences.
    min_size : int, optional
        Minimum segment length; default 3 for 'linear' (one residual degree
        of freedom), 2 otherwise. Raised to ruptures' own minimum of the
        cost (2 for 'normal' and 'linear').
    jump : int
        Only multiples of ``jump`` are candidate change points (default 1:
        every index).

    Returns
    -------
    ChangePointResult
        ``breakpoints`` (first indices of new segments), ``segment_means``,
        ``segment_starts``, ``cost``, ``penalty``, ``model``, ``min_size``,
        ``n``, ``method='pelt'``.

    Raises
    ------
    ParameterError
        On NaN/Inf, an unknown model, a negative/non-finite penalty or bad
        ``min_size``/``jump``.
    InsufficientDataError
        If ``x`` is shorter than the minimum segment length.

    Notes
    -----
    Minimises ``sum_segments cost + penalty * n_changes`` (Jackson et al.
    2005 optimal partitioning) with PELT's pruning (Killick et al. 2012): a
    candidate start t is discarded once ``F(t) + cost(t, s) > F(s)``. The
    minimum is exact for ``min_size=1``; with a larger minimum the pruning
    argument (``[s, s')`` may be too short to follow) no longer holds and,
    rarely, the optimum is lost, as in ruptures, whose rule is kept. The candidate set, pruning rule and tie-breaking (smallest
    start) are those of ``ruptures.Pelt(model, min_size=min_size,
    jump=jump).fit(x).predict(pen=penalty)``, so the change points are the
    same (ruptures' list minus its final n) at a numeric penalty.

    The defaults model the series as piecewise-linear (a level and a
    slope per segment) plus stationary AR(1)-like noise: real series
    (economic and sensor data, training losses) trend, and their
    neighbours are correlated. BIC charges a change ``k sigma^2 log n``
    (k = 3: level, slope and location; 2 for 'l2'); with autocorrelated
    noise the right sigma^2 is the long-run variance of the noise, which
    the first differences underestimate by ``1 - phi`` and the plain
    variance overestimates by the changes themselves. The rule 'bic_ar'
    starts from ``k v0 log n`` with ``v0`` the residual variance of one
    segment (the whole series taken as noise: few changes), segments, estimates the long-run variance of the residuals
    robustly (:func:`ar_noise_variance`) and re-segments with the new
    penalty, until a segmentation repeats (at most 10 rounds). No constant
    is fitted to data: k is BIC's count of parameters, 0.99 only keeps a
    random walk's variance finite and a line needs 3 points for one
    residual degree of freedom. On the 22 univariate series of the TCPD
    benchmark (van den Burg and Williams 2020; ``benchmarks/tcpd.py``) the
    annotation F1 of the default is 0.795 (was 0.41 with 'l2' and 'bic';
    R changepoint's default PELT: 0.664). The result's
    ``penalty`` is the final penalty. Segment costs are O(1) from
    prefix sums (numba), so the run time is O(n) when the number of changes
    grows with n, O(n^2) in the worst case (no change at all and a large
    penalty keeps every candidate alive).

    References
    ----------
    Killick, Fearnhead & Eckley (2012) JASA 107:1590; Truong, Oudre &
    Vayatis (2020) Signal Processing 167 (ruptures).

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import pelt
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, 100), rng.normal(5, 1, 100)]
    >>> pelt(x, penalty="bic").breakpoints.tolist()
    [100]
    """
    arr, eff, jump = _check_common(x, model, min_size, jump, "pelt")
    n = arr.shape[0]
    if eff > n:
        raise InsufficientDataError(f"pelt needs at least {eff} points")
    if model in _RUPTURES_MODELS:
        bkps, pen, cost = _ruptures_search("Pelt", arr, model, eff, jump, penalty)
        return _result(arr, bkps, model, pen, eff, "pelt", cost=cost)
    if model == "linear":
        from ..kernels.linear_changepoint import pelt_search_linear

        pre = _linear_prefix(arr)

        def search_linear(pen: float) -> list[int]:
            last = np.full(n + 1, -1, dtype=np.int64)
            pelt_search_linear(*pre, pen, eff, jump, last)  # type: ignore[call-arg]  # numba dispatcher
            return _backtrack(last, n)

        return _pelt_finish(arr, model, penalty, eff, search_linear)
    from ..kernels.changepoint import pelt_search

    s1, s2 = _prefix(arr)

    def search(pen: float) -> list[int]:
        last = np.full(n + 1, -1, dtype=np.int64)
        pelt_search(s1, s2, _MODELS[model], pen, eff, jump, last)
        return _backtrack(last, n)

    return _pelt_finish(arr, model, penalty, eff, search)


def _backtrack(last: NDArray[np.int64], n: int) -> list[int]:
    bkps = []
    e = n
    while e > 0:
        e = int(last[e])
        if e > 0:
            bkps.append(e)
    return sorted(bkps)


def _pelt_finish(arr, model, penalty, eff, search) -> ChangePointResult:
    if isinstance(penalty, str) and penalty == "bic_ar":
        bkps, pen = _bic_ar(arr, model, search)
    else:
        pen = _penalty_value(arr, penalty, model)
        bkps = search(pen)
    return _result(arr, bkps, model, pen, eff, "pelt")


def binary_segmentation(
    x: Any,
    *,
    model: str = "linear",
    penalty: float | str | None = None,
    n_bkps: int | None = None,
    min_size: int | None = None,
    jump: int = 1,
) -> ChangePointResult:
    """Greedy binary segmentation with a penalty or a fixed number of changes.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series.
    model : {'linear', 'l2', 'normal'}
        Segment cost, as in :func:`pelt` (default 'linear').
    penalty : float or {'bic_ar', 'bic', 'mbic'}, optional
        Stop when the best split gains no more than this (a rule as in
        :func:`pelt`). At most one of ``penalty`` and ``n_bkps`` may be
        given; with neither, the default rule 'bic_ar' of :func:`pelt`.
    n_bkps : int, optional
        Number of change points to find (fewer if no admissible split is
        left).
    min_size : int, optional
        Minimum segment length, as in :func:`pelt`.
    jump : int
        Candidate split points are ``start + k * jump`` within each segment.

    Returns
    -------
    ChangePointResult
        As :func:`pelt`, with ``method='binseg'`` (``penalty`` NaN when
        ``n_bkps`` was given).

    Raises
    ------
    ParameterError
        Bad options, both ``penalty`` and ``n_bkps``, or an
        impossible configuration (``n_bkps * ceil(min_size/jump) * jump +
        min_size > n``, ruptures' sanity check).
    InsufficientDataError
        If ``x`` is shorter than the minimum segment length.

    Notes
    -----
    Repeatedly splits the segment whose best split point reduces the cost
    most (gain = cost(a, b) - cost(a, t) - cost(t, b)); the same candidates,
    stopping rule (gain > penalty) and tie rules (largest split index within
    a segment, leftmost segment across segments) as
    ``ruptures.Binseg(model, min_size, jump).fit(x).predict(pen=... or
    n_bkps=...)``. O(n log n) for balanced splits (each split rescans only
    the two new segments), O(n k) for k changes in the worst case.

    References
    ----------
    Scott & Knott (1974) Biometrics 30:507; Truong, Oudre & Vayatis (2020).

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import binary_segmentation
    >>> rng = np.random.default_rng(1)
    >>> x = np.r_[rng.normal(0, 1, 80), rng.normal(4, 1, 60), rng.normal(0, 1, 60)]
    >>> binary_segmentation(x, n_bkps=2).breakpoints.tolist()
    [80, 140]
    """
    if penalty is not None and n_bkps is not None:
        raise ParameterError("give at most one of penalty and n_bkps")
    arr, eff, jump = _check_common(x, model, min_size, jump, "binary_segmentation")
    n = arr.shape[0]
    if model in _RUPTURES_MODELS:
        k_rpt = None if n_bkps is None else _positive_int(n_bkps, "n_bkps", minimum=0)
        bkps, pen, cost = _ruptures_search("Binseg", arr, model, eff, jump, "bic_ar" if penalty is None and n_bkps is None else penalty, k_rpt)
        return _result(arr, bkps, model, pen, eff, "binseg", cost=cost)
    if model == "linear":
        from ..kernels.linear_changepoint import binseg_search_linear

        pre = _linear_prefix(arr)

        def search(pen: float, k: int = -1) -> list[int]:
            out = np.empty(n + 1, dtype=np.int64)
            got = binseg_search_linear(*pre, 0.0 if k >= 0 else pen, k, eff, jump, out)  # type: ignore[call-arg]
            return np.sort(out[:got]).tolist()

    else:
        from ..kernels.changepoint import binseg_search

        s1, s2 = _prefix(arr)

        def search(pen: float, k: int = -1) -> list[int]:
            out = np.empty(n + 1, dtype=np.int64)
            got = binseg_search(s1, s2, _MODELS[model], 0.0 if k >= 0 else pen, k, eff, jump, out)
            return np.sort(out[:got]).tolist()

    if n_bkps is not None:
        k = _positive_int(n_bkps, "n_bkps", minimum=0)
        if k > n // jump or k * (-(-eff // jump)) * jump + eff > n:
            raise ParameterError(
                f"n_bkps={k} change points with min_size={eff}, jump={jump} do not fit in {n} points"
            )
        return _result(arr, search(0.0, k), model, math.nan, eff, "binseg")
    if penalty is None or (isinstance(penalty, str) and penalty == "bic_ar"):
        bkps, pen = _bic_ar(arr, model, search)
    else:
        pen = _penalty_value(arr, penalty, model)
        bkps = search(pen)
    return _result(arr, bkps, model, pen, eff, "binseg")


def bic_penalty(x: Any, *, model: str = "l2", sigma: float | None = None) -> float:
    """BIC penalty per change point on a robust noise scale.

    Parameters
    ----------
    x : array_like, 1-D
        The series to be segmented (for n and the noise scale).
    model : {'l2', 'linear', 'normal'}
        Cost the penalty is for.
    sigma : float, optional
        Noise scale; default :func:`diff_noise_scale` of ``x``.

    Returns
    -------
    float
        'l2': ``2 sigma^2 log(n)`` (a change adds a mean and a location; the L2
        cost is ``sigma^2`` times -2 log-likelihood); 'linear': ``3 sigma^2
        log(n)`` (a level, a slope and a location). 'normal': ``3 log(n)``
        (mean, variance and location; that cost is already -2 log-likelihood
        up to a constant, so sigma does not enter).

    Raises
    ------
    ParameterError, InsufficientDataError
        As :func:`diff_noise_scale`; ParameterError for an unknown model.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import bic_penalty
    >>> round(bic_penalty(np.zeros(100), model="normal"), 3)
    13.816
    """
    return _penalty(x, model, sigma, 2.0, 3.0)


def mbic_penalty(x: Any, *, model: str = "l2", sigma: float | None = None) -> float:
    """Modified-BIC-style penalty: ``3 sigma^2 log(n)`` ('l2') or ``4 log(n)`` ('normal').

    One more ``log n`` per change than :func:`bic_penalty` (Zhang & Siegmund
    2007 use 3 log n per mean change for the l2 cost in sigma^2 units); fewer
    false alarms on long, slightly autocorrelated curves. Parameters, Returns
    and Raises as :func:`bic_penalty`.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.stats import mbic_penalty
    >>> round(mbic_penalty(np.zeros(100), model="normal"), 3)
    18.421
    """
    return _penalty(x, model, sigma, 3.0, 4.0)


def _penalty(x: Any, model: str, sigma: float | None, k_l2: float, k_normal: float) -> float:
    if model not in _BIC_PARAMS:
        raise ParameterError(f"penalty rules exist for the costs {tuple(_BIC_PARAMS)}, got model={model!r}")
    if model == "linear":
        k_l2 += 1.0  # a slope per segment besides the level
    arr = _finite(x, min_n=2, what="the penalty rule")
    n = arr.shape[0]
    if model == "normal":
        return k_normal * math.log(n)
    if sigma is None:
        sigma = diff_noise_scale(arr)
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ParameterError(f"sigma must be finite and >= 0, got {sigma!r}")
    return k_l2 * sigma * sigma * math.log(n)


@dataclass(frozen=True, slots=True)
class LocalShiftResult:
    """Result of :func:`local_shift_test`.

    Attributes
    ----------
    statistic : float
        Observed local shift ``median(x[b:b+w_after]) - median(x[b-w_before:b])``.
    pvalue : float
        Bonferroni-corrected (over ``n_tests`` positions) upper-tail p-value.
    tail_index : float
        Tail index ``nu`` of the noise (Hill estimate on the residuals,
        lowered to its one-standard-error bound, within [2, 30]).
    df : float
        Degrees of freedom of the Student-t reference of the statistic.
    se : float
        Standard error of the statistic under H0.
    phi : float
        Lag-1 autocorrelation of the residuals used to deflate the windows.
    """

    statistic: float
    pvalue: float
    tail_index: float
    df: float
    se: float
    phi: float


#: Tail-index range of the reference: 2 (heavier than any noise we expect;
#: the t(2) has no variance) to 30 (practically normal).
_TAIL_INDEX_RANGE = (2.0, 30.0)


#: The Hill estimate is lowered by this many standard errors (alpha / sqrt(k)).
_HILL_SE_FACTOR = 1.0


def _hill_tail_index(r: NDArray[np.float64]) -> float:
    """Hill estimate of the tail index of ``|r - median(r)|``, lowered to its one-SE bound."""
    dev = np.sort(np.abs(r - np.median(r)))[::-1]
    m = dev.size
    k = int(min(max(10, m // 20), m // 2))
    if k < 5 or dev[k] <= 0:
        return _TAIL_INDEX_RANGE[0]
    hill = float(np.mean(np.log(dev[:k] / dev[k])))
    nu = (1.0 / hill if hill > 0 else _TAIL_INDEX_RANGE[1]) * (1.0 - _HILL_SE_FACTOR / math.sqrt(k))
    return float(min(max(nu, _TAIL_INDEX_RANGE[0]), _TAIL_INDEX_RANGE[1]))


def _lag1_autocorr(r: NDArray[np.float64]) -> float:
    if r.size < 4:
        return 0.0
    rc = r - r.mean()
    den = float(np.dot(rc, rc))
    return clip_lag1(float(np.dot(rc[:-1], rc[1:]) / den)) if den > 0 else 0.0


def local_shift_test(
    x: Any,
    location: int,
    w_before: int,
    w_after: int,
    *,
    resid: Any,
    sigma: float | None = None,
    n_tests: int | None = None,
    after_start: int | None = None,
) -> LocalShiftResult:
    """Tail-aware test of an upward local shift of ``x`` at ``location``.

    Parameters
    ----------
    x : array_like, 1-D
        Finite series (e.g. log loss).
    location : int
        First index of the shifted part, ``w_before <= location <= n - w_after``.
    w_before, w_after : int
        Points on each side used by the statistic (>= 1). ``w_after = 1``
        tests a single point against the median before it.
    resid : array_like, 1-D
        Residuals of the healthy stretch (e.g. of ``x`` around a running
        median, before the change): their scale, lag-1 autocorrelation and
        tail index define the null.
    sigma : float, optional
        Noise scale; default the MAD scale of ``resid``.
    n_tests : int, optional
        Positions the location was selected from (Bonferroni factor); default n.
    after_start : int, optional
        First index of the window after the change (default ``location``):
        a rise in stairs compares the level after its last stair with the
        level before its first.

    Returns
    -------
    LocalShiftResult
        ``statistic``, ``pvalue``, ``tail_index``, ``df``, ``se``, ``phi``.

    Notes
    -----
    The statistic is a difference of two window medians. Under H0 (no
    shift) each window holds ``w_eff = w (1 - phi) / (1 + phi)`` effectively
    independent points of noise with scale ``sigma`` and tail index ``nu``
    (the Hill estimate of the residuals' tail, lowered to its one-SE bound:
    about 3 for Student-t(3) noise, large for Gaussian noise). The median of
    ``w`` independent draws has the tail index ``nu * ceil(w / 2)`` (all of
    the upper half must be large) and, for ``w > 1``, a variance of about
    ``pi / 2 * sigma^2 / w``; the statistic is referred to a Student-t with
    ``df = min(30, nu * ceil(w_after_eff / 2))`` and that standard error,
    scaled so that its MAD matches. So a single point (``w_after = 1``) is
    judged against the heavy tail of the noise itself, a sustained shift
    against the much lighter tail of a window median; autocorrelation both
    widens the standard error and, through ``w_eff``, makes a window inherit
    the noise's tail. Residuals around a short running median miss the slow
    part of strongly autocorrelated noise, so the AR(1) noise is also fitted
    (MAD scale, lag-1 autocorrelation) on ``x`` detrended by a running
    median over ``2 (w_before + w_after) + 1`` points, away from the tested
    change, and the larger standard error is used. Bonferroni over
    ``n_tests`` positions. O(n (w_before + w_after)).
    """
    from scipy.special import stdtr, stdtrit

    from .noise import mad_scale

    arr = _finite(x, min_n=3, what="local_shift_test")
    n = arr.shape[0]
    b, wb, wa = int(location), int(w_before), int(w_after)
    a = b if after_start is None else int(after_start)
    if wb < 1 or wa < 1 or b < wb or a < b or a + wa > n:
        raise ParameterError(f"windows [{b - wb}, {b}) and [{a}, {a + wa}) do not fit in {n} points")
    r = _finite(resid, min_n=3, what="local_shift_test residuals")
    stat = float(np.median(arr[a : a + wa]) - np.median(arr[b - wb : b]))
    s = float(sigma) if sigma is not None else mad_scale(r)
    s = max(s, 1e-12)
    phi = _lag1_autocorr(r)
    nu = _hill_tail_index(r) if r.size >= 30 else _TAIL_INDEX_RANGE[0]
    deflate = (1.0 - phi) / (1.0 + phi)
    wb_eff = max(1.0, wb * deflate)
    wa_eff = max(1.0, wa * deflate)

    def var_factor(w_eff: float, w: int) -> float:
        return (math.pi / 2.0 if w > 1 else 1.0) / w_eff

    se = s * math.sqrt(var_factor(wb_eff, wb) + var_factor(wa_eff, wa))
    df = float(min(_TAIL_INDEX_RANGE[1], nu * math.ceil(wa_eff / 2.0)))
    # Residuals around a short running median lose the slow part of strongly
    # autocorrelated noise (their phi and scale are too small). Refit the
    # AR(1) noise on the series detrended at the scale of the windows
    # (running median over 2 (w_before + w_after) + 1 points: the descent of
    # a learning curve is no noise, the wander of autocorrelated noise at the
    # windows' scale stays), away from the tested change (the smoother's lag
    # there), and keep the larger standard error.
    w_trend = min(n, 2 * (wb + wa) + 1)
    w_trend = w_trend if w_trend % 2 else w_trend - 1
    if w_trend >= 5:
        from .gap import robust_smooth

        xd = arr - robust_smooth(arr, window=w_trend)
        lo, hi = max(0, b - wb - w_trend // 2), min(n, a + wa + w_trend // 2)
        xn = np.concatenate((xd[:lo], xd[hi:]))
        if xn.size < 30:
            # a short series: all but the tested windows (the smoother's lag
            # around the change inflates the refit, which only makes p larger)
            xn = np.concatenate((xd[: b - wb], xd[a + wa :]))
        if xn.size >= 10:
            phi_d = _lag1_autocorr(xn)
            s_d = max(mad_scale(xn), 1e-12)
            defl_d = (1.0 - phi_d) / (1.0 + phi_d)
            wa_eff_d = max(1.0, wa * defl_d)
            se_d = s_d * math.sqrt(var_factor(max(1.0, wb * defl_d), wb) + var_factor(wa_eff_d, wa))
            if se_d > se:
                se, phi = se_d, max(phi, phi_d)
                df = float(min(df, nu * math.ceil(wa_eff_d / 2.0)))
    # a t_df scaled to the MAD-consistent sigma: its MAD is stdtrit(df, .75)
    scale = 0.6744897501960817 / float(stdtrit(df, 0.75))
    nt = n if n_tests is None else max(1, int(n_tests))
    p = float(min(1.0, nt * stdtr(df, -(stat / se) / scale)))
    return LocalShiftResult(stat, p, float(nu), df, float(se), float(phi))
