"""Kernels of rank trend tests: inversion counting and pairwise slopes.

``count_inversions`` and ``select_inversions`` share one bottom-up merge sort so
that the order in which inversions are met is identical in both: a rank
handed to ``select_inversions`` refers to the same pair that the counting pass
counted at that position.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_exact


_RUN = 16  # insertion-sorted base runs before merging


@jit
def _sort_count(a, ia, b, ib, ranks, out_first, out_second, emit):
    """Merge sort ``a`` (carrying ids ``ia``) and count inversions.

    An inversion is a pair of positions p < q with ``a[p] >= a[q]`` (ties
    count). Sorting is stable with ties placed in *descending* position order
    (an element moves in front of equal earlier ones). When ``emit`` is true,
    the inversions whose ordinal (the order this procedure meets them) is in
    the sorted ``ranks`` are written as ``(ia[p], ia[q])``. Returns (count,
    number of pairs written, flag whether the sorted data ended in ``b``).
    """
    n = a.shape[0]
    total = np.int64(0)
    n_ranks = ranks.shape[0]
    r = 0
    # insertion sort of runs of _RUN
    lo = 0
    while lo < n:
        hi = min(lo + _RUN, n)
        for j in range(lo + 1, hi):
            key = a[j]
            kid = ia[j]
            pos = j
            while pos > lo and a[pos - 1] >= key:
                pos -= 1
            block = j - pos
            if emit:
                while r < n_ranks and ranks[r] < total + block:
                    off = ranks[r] - total
                    out_first[r] = ia[pos + off]
                    out_second[r] = kid
                    r += 1
            total += block
            for k in range(j, pos, -1):
                a[k] = a[k - 1]
                ia[k] = ia[k - 1]
            a[pos] = key
            ia[pos] = kid
        lo = hi
    width = _RUN
    swapped = False
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                if a[i] < a[j]:
                    b[k] = a[i]
                    ib[k] = ia[i]
                    i += 1
                else:
                    block = mid - i  # every remaining left element is >= a[j]
                    if emit:
                        while r < n_ranks and ranks[r] < total + block:
                            off = ranks[r] - total
                            out_first[r] = ia[i + off]
                            out_second[r] = ia[j]
                            r += 1
                    total += block
                    b[k] = a[j]
                    ib[k] = ia[j]
                    j += 1
                k += 1
            while i < mid:
                b[k] = a[i]
                ib[k] = ia[i]
                i += 1
                k += 1
            while j < hi:
                b[k] = a[j]
                ib[k] = ia[j]
                j += 1
                k += 1
            lo = hi
        a, b = b, a
        ia, ib = ib, ia
        swapped = not swapped
        width *= 2
    return total, r, swapped


@jit
def count_inversions(v):
    """Number of pairs p < q with ``v[p] >= v[q]`` (ties count), O(n log n)."""
    n = v.shape[0]
    a = v.copy()
    ia = np.empty(n, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    total, _, _ = _sort_count(a, ia, np.empty_like(a), np.empty_like(ia), none, none, none, False)
    return total


@jit
def count_order_ties(v, perm):
    """Inversion count of ``v`` (as :func:`count_inversions`), the number of
    tied pairs of ``v``, and in ``perm`` the positions sorted by ``v``
    ascending with ties in descending position order."""
    n = v.shape[0]
    a = v.copy()
    b = np.empty_like(a)
    ia = np.arange(n)
    ib = np.empty_like(ia)
    none = np.empty(0, dtype=np.int64)
    total, _, swapped = _sort_count(a, ia, b, ib, none, none, none, False)
    srt = b if swapped else a
    ids = ib if swapped else ia
    ties = np.int64(0)
    run = np.int64(1)
    for k in range(n):
        perm[k] = ids[k]
        if k > 0:
            if srt[k] == srt[k - 1]:
                run += 1
            else:
                ties += run * (run - 1) // 2
                run = 1
    ties += run * (run - 1) // 2
    return total, ties


@jit
def select_inversions(v, ids, ranks, out_first, out_second):
    """Write the pairs of the inversions whose ordinal is in ``ranks``.

    Inversions (p < q, ``v[p] >= v[q]``) are numbered in the order the sort
    of :func:`count_inversions` meets them and reported as ``(ids[p],
    ids[q])``. ``ranks`` must be sorted ascending (repeats allowed). Returns
    the number of pairs written.
    """
    a = v.copy()
    ia = ids.copy()
    _, got, _ = _sort_count(a, ia, np.empty_like(a), np.empty_like(ia), ranks, out_first, out_second, True)
    return got


@jit_exact  # no fastmath: "arcp" could turn a/b into a*(1/b) and change slopes by an ulp
def pairwise_slopes(x, t):
    """All n(n-1)/2 slopes ``(x[j] - x[i]) / (t[j] - t[i])`` for i < j, row by row."""
    n = x.shape[0]
    out = np.empty(n * (n - 1) // 2)
    k = 0
    for i in range(n - 1):
        xi = x[i]
        ti = t[i]
        for j in range(i + 1, n):
            out[k] = (x[j] - xi) / (t[j] - ti)
            k += 1
    return out


@jit_exact
def slopes_of_pairs(x, t, first, second):
    """Slopes of the given pairs (first[k] < second[k] in time)."""
    m = first.shape[0]
    out = np.empty(m)
    for k in range(m):
        i = first[k]
        j = second[k]
        out[k] = (x[j] - x[i]) / (t[j] - t[i])
    return out
