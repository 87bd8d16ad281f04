"""Kernels of penalised change-point search for the piecewise-linear cost.

``cost(a, b)`` is the residual sum of squares of the least-squares line of
``x[a:b]`` on the time index (ruptures 1.1's ``CostLinear`` with covariates
``[1, t]``), O(1) from prefix sums of the median-centred series ``sx`` (of
x), ``sxx`` (of x^2) and ``stx`` (of ``(t - t0) x``, times centred on ``t0``),
each of length n + 1 with a leading 0. With ``m = b - a``::

    Sxx = sum (x - xbar)^2,  Stx = sum (t - tbar) x,  Stt = m (m^2 - 1) / 12,
    cost = Sxx - Stx^2 / Stt        (0 for m <= 2: the line is exact)

``Stt`` is in closed form because the times are consecutive integers, so the
short segments PELT prices most lose no precision to cancellation. The
searches are those of :mod:`curvestat.kernels.changepoint` (ruptures'
candidate set, pruning rule and tie-breaking) with this cost.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit_exact


@jit_exact
def linear_cost(sx, sxx, stx, t0, a, b):
    """Cost of the segment ``[a, b)`` (see module docstring)."""
    m = b - a
    if m <= 2:
        return 0.0
    d1 = sx[b] - sx[a]
    cxx = (sxx[b] - sxx[a]) - d1 * d1 / m
    tbar = 0.5 * (a + b - 1) - t0
    ctx = (stx[b] - stx[a]) - tbar * d1
    ctt = m * (m * m - 1.0) / 12.0
    c = cxx - ctx * ctx / ctt
    if c < 0.0:
        c = 0.0
    return c


@jit_exact
def pelt_search_linear(sx, sxx, stx, t0, pen, min_size, jump, last):
    """PELT with the linear cost; fills ``last`` as ``changepoint.pelt_search`` does."""
    n = sx.shape[0] - 1
    F = np.full(n + 1, np.inf)
    F[0] = 0.0
    cand = np.empty(n + 1, dtype=np.int64)
    vals = np.empty(n + 1)
    n_cand = 0
    e = 0
    while True:
        if e == 0:
            e = ((min_size + jump - 1) // jump) * jump
            if e >= n:
                e = n
        elif e < n:
            e += jump
            if e >= n:
                e = n
        new_t = ((e - min_size) // jump) * jump
        if new_t == 0 or new_t >= min_size:
            if n_cand == 0 or cand[n_cand - 1] != new_t:
                cand[n_cand] = new_t
                n_cand += 1
        best = np.inf
        best_t = -1
        for c in range(n_cand):
            t = cand[c]
            v = F[t] + (linear_cost(sx, sxx, stx, t0, t, e) + pen)
            vals[c] = v
            if v < best:
                best = v
                best_t = t
        F[e] = best
        last[e] = best_t
        if e == n:
            break
        keep = 0
        for c in range(n_cand):
            if vals[c] <= best + pen:
                cand[keep] = cand[c]
                keep += 1
        n_cand = keep
    return F[n]


@jit_exact
def _best_split_linear(sx, sxx, stx, t0, a, b, min_size, jump):
    """(bkp, gain) of the best split of ``[a, b)``; bkp -1 when none is admissible."""
    whole = linear_cost(sx, sxx, stx, t0, a, b)
    best_gain = -np.inf
    best_bkp = -1
    for bkp in range(a, b, jump):
        if bkp - a >= min_size and b - bkp >= min_size:
            gain = whole - linear_cost(sx, sxx, stx, t0, a, bkp) - linear_cost(sx, sxx, stx, t0, bkp, b)
            if gain >= best_gain:
                best_gain = gain
                best_bkp = bkp
    if best_bkp < 0:
        return -1, 0.0
    return best_bkp, best_gain


@jit_exact
def binseg_search_linear(sx, sxx, stx, t0, pen, n_bkps, min_size, jump, out):
    """Binary segmentation with the linear cost, as ``changepoint.binseg_search``."""
    n = sx.shape[0] - 1
    bounds = np.empty(n + 2, dtype=np.int64)
    seg_bkp = np.empty(n + 1, dtype=np.int64)
    seg_gain = np.empty(n + 1)
    bounds[0] = 0
    bounds[1] = n
    n_seg = 1
    b0, g0 = _best_split_linear(sx, sxx, stx, t0, 0, n, min_size, jump)
    seg_bkp[0] = b0
    seg_gain[0] = g0
    found = 0
    while True:
        k_best = 0
        for k in range(1, n_seg):
            if seg_gain[k] > seg_gain[k_best]:
                k_best = k
        bkp = seg_bkp[k_best]
        gain = seg_gain[k_best]
        if bkp < 0:
            break
        if n_bkps >= 0:
            if found >= n_bkps:
                break
        elif not (gain > pen):
            break
        a = bounds[k_best]
        b = bounds[k_best + 1]
        for k in range(n_seg, k_best, -1):
            bounds[k + 1] = bounds[k]
        for k in range(n_seg - 1, k_best, -1):
            seg_bkp[k + 1] = seg_bkp[k]
            seg_gain[k + 1] = seg_gain[k]
        bounds[k_best + 1] = bkp
        n_seg += 1
        bl, gl = _best_split_linear(sx, sxx, stx, t0, a, bkp, min_size, jump)
        br, gr = _best_split_linear(sx, sxx, stx, t0, bkp, b, min_size, jump)
        seg_bkp[k_best] = bl
        seg_gain[k_best] = gl
        seg_bkp[k_best + 1] = br
        seg_gain[k_best + 1] = gr
        found += 1
    for k in range(n_seg - 1):
        out[k] = bounds[k + 1]
    return n_seg - 1
