"""Kernels of penalised change-point search (PELT, binary segmentation).

Segment costs follow ruptures 1.1 exactly:

* ``model 0`` ("l2"):     cost(a, b) = sum_{a <= i < b} (x_i - mean)^2
* ``model 1`` ("normal"): cost(a, b) = (b - a) * log(var + 1e-6), var the
  population variance of x[a:b] (ruptures' CostNormal with add_small_diag)

computed in O(1) from prefix sums ``s1`` (of x) and ``s2`` (of x^2), both of
length n + 1 with a leading 0. These kernels are compiled without fastmath so
that sums are formed in the order ruptures forms them.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit_exact

NORMAL_EPS = 1e-6


@jit_exact
def segment_cost(s1, s2, a, b, model):
    """Cost of the segment ``[a, b)`` (see module docstring)."""
    m = b - a
    d1 = s1[b] - s1[a]
    if model == 0:
        c = (s2[b] - s2[a]) - d1 * d1 / m
        if c < 0.0:
            c = 0.0
        return c
    mean = d1 / m
    var = (s2[b] - s2[a]) / m - mean * mean
    if var < 0.0:
        var = 0.0
    return m * np.log(var + NORMAL_EPS)


@jit_exact
def pelt_search(s1, s2, model, pen, min_size, jump, last):
    """PELT with ruptures' candidate set and pruning rule.

    Fills ``last[e]`` with the start of the last segment of the optimal
    partition of ``[0, e)`` for every admissible end ``e`` (others stay -1) and
    returns the optimal total cost of ``[0, n)``. Candidates are 0 and the
    multiples of ``jump`` that are >= ``min_size``; a candidate ``t`` is
    dropped for good once ``F(t) + cost(t, e) > F(e)`` (ruptures' rule, whose
    ``+ pen`` on both sides cancels). Ties go to the smallest ``t``.
    """
    n = s1.shape[0] - 1
    F = np.full(n + 1, np.inf)
    F[0] = 0.0
    cand = np.empty(n + 1, dtype=np.int64)
    vals = np.empty(n + 1)
    n_cand = 0
    e = 0
    while True:
        # next admissible end: multiples of jump >= min_size, then n
        if e == 0:
            e = ((min_size + jump - 1) // jump) * jump
            if e >= n:
                e = n
        elif e < n:
            e += jump
            if e >= n:
                e = n
        # ruptures appends floor((e - min_size) / jump) * jump every round, even
        # one it pruned before; a t in (0, min_size) has no partition and is
        # ignored. A repeat of the newest candidate changes nothing.
        new_t = ((e - min_size) // jump) * jump
        if new_t == 0 or new_t >= min_size:
            if n_cand == 0 or cand[n_cand - 1] != new_t:
                cand[n_cand] = new_t
                n_cand += 1
        best = np.inf
        best_t = -1
        for c in range(n_cand):
            t = cand[c]
            v = F[t] + (segment_cost(s1, s2, t, e, model) + pen)
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
def _best_split(s1, s2, a, b, model, min_size, jump):
    """ruptures' Binseg.single_bkp: (bkp, gain), bkp -1 when none is admissible.

    Largest gain wins; among equal gains the largest bkp (ruptures takes
    ``max`` of ``(gain, bkp)`` tuples).
    """
    whole = segment_cost(s1, s2, a, b, model)
    best_gain = -np.inf
    best_bkp = -1
    for bkp in range(a, b, jump):
        if bkp - a >= min_size and b - bkp >= min_size:
            gain = whole - segment_cost(s1, s2, a, bkp, model) - segment_cost(s1, s2, bkp, b, model)
            if gain >= best_gain:
                best_gain = gain
                best_bkp = bkp
    if best_bkp < 0:
        return -1, 0.0
    return best_bkp, best_gain


@jit_exact
def binseg_search(s1, s2, model, pen, n_bkps, min_size, jump, out):
    """Greedy binary segmentation with ruptures' stopping and tie rules.

    Stops when the best gain is not > ``pen`` (if ``n_bkps < 0``) or when
    ``n_bkps`` change points were found. Writes the sorted change points
    (first indices of new segments) into ``out`` and returns how many.
    """
    n = s1.shape[0] - 1
    # segments are [bounds[k], bounds[k+1]); cached best split per segment
    bounds = np.empty(n + 2, dtype=np.int64)
    seg_bkp = np.empty(n + 1, dtype=np.int64)
    seg_gain = np.empty(n + 1)
    bounds[0] = 0
    bounds[1] = n
    n_seg = 1
    b0, g0 = _best_split(s1, s2, 0, n, model, min_size, jump)
    seg_bkp[0] = b0
    seg_gain[0] = g0
    found = 0
    while True:
        # first segment with the largest gain (ruptures: max(..., key=gain))
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
        # split segment k_best at bkp
        a = bounds[k_best]
        b = bounds[k_best + 1]
        for k in range(n_seg, k_best, -1):
            bounds[k + 1] = bounds[k]
        for k in range(n_seg - 1, k_best, -1):
            seg_bkp[k + 1] = seg_bkp[k]
            seg_gain[k + 1] = seg_gain[k]
        bounds[k_best + 1] = bkp
        n_seg += 1
        bl, gl = _best_split(s1, s2, a, bkp, model, min_size, jump)
        br, gr = _best_split(s1, s2, bkp, b, model, min_size, jump)
        seg_bkp[k_best] = bl
        seg_gain[k_best] = gl
        seg_bkp[k_best + 1] = br
        seg_gain[k_best + 1] = gr
        found += 1
    for k in range(n_seg - 1):
        out[k] = bounds[k + 1]
    return n_seg - 1
