"""Kernels of rank trend tests: inversion counting and pairwise slopes.

An *inversion* of ``v`` is a pair of positions p < q with ``v[p] >= v[q]``
(ties count). The counting kernels take ``order``, any argsort of ``v``
(``np.argsort``: numpy's sort is several times faster than one compiled by
numba or a merge sort written here), give every position its rank with ties
broken by *descending* position, and count the inversions with a Fenwick
(binary indexed) tree in O(n log n): with those ranks u, ``v[p] >= v[q]``
for p < q exactly when ``u[p] > u[q]``. ``select_inversions`` walks the same
sweep, so its ordinals (inversions numbered by q, then by ``u[p]``) refer to
exactly the inversions that ``count_inversions`` counts.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_exact


@jit
def _heap_sort(a, ids):
    """Sort ``a`` ascending in place, permuting ``ids`` alike (O(L log L)).

    Written out because numba compiles its own ``np.sort``/``np.argsort``
    slowly (seconds per dtype): this keeps the cold start short. Only used
    on runs of ties/colliding keys, which are short or rare.
    """
    size = a.shape[0]
    for start in range(size // 2 - 1, -1, -1):
        _sift_down(a, ids, start, size)
    for end in range(size - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        ids[0], ids[end] = ids[end], ids[0]
        _sift_down(a, ids, 0, end)


@jit
def _sift_down(a, ids, root, end):
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and a[child] < a[child + 1]:
            child += 1
        if not a[root] < a[child]:
            return
        a[root], a[child] = a[child], a[root]
        ids[root], ids[child] = ids[child], ids[root]
        root = child


@jit
def pack_keys(v, shift, out):
    """``out[i]``: the top ``64 - shift`` bits of an order-preserving integer
    image of ``v[i]`` (-0.0 and 0.0 alike), with ``i`` in the low ``shift``
    bits (``2**shift >= len(v)``). numpy sorts these integers several times
    faster than it argsorts floats; :func:`order_from_keys` then repairs the
    order where truncated keys collide."""
    n = v.shape[0]
    bits = v.view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    sh = np.uint64(shift)
    for i in range(n):
        b = bits[i]
        if v[i] == 0.0:
            b = np.uint64(0)
        k = ~b if b & sign else b | sign
        out[i] = ((k >> sh) << sh) | np.uint64(i)


@jit
def order_from_keys(keys, v, shift, order):
    """An argsort of ``v`` from the sorted output of :func:`pack_keys`: the
    positions in key order, each run of equal truncated keys re-sorted by
    value (ties keep ascending position)."""
    n = keys.shape[0]
    sh = np.uint64(shift)
    mask = (np.uint64(1) << sh) - np.uint64(1)
    for r in range(n):
        order[r] = np.int64(keys[r] & mask)
    start = 0
    for r in range(1, n + 1):
        if r == n or (keys[r] >> sh) != (keys[start] >> sh):
            size = r - start
            if size > 1:
                vals = np.empty(size)
                for k in range(size):
                    vals[k] = v[order[start + k]]
                ok = True
                for k in range(1, size):
                    if vals[k] < vals[k - 1]:
                        ok = False
                        break
                if not ok:
                    run = order[start:r].copy()
                    _heap_sort(vals, run)
                    for k in range(size):
                        order[start + k] = run[k]
            start = r


@jit
def _fix_ties(v, order, perm):
    """``perm`` <- ``order`` with each run of equal values put in descending
    position order; returns the number of tied pairs."""
    n = v.shape[0]
    ties = np.int64(0)
    start = 0
    for r in range(1, n + 1):
        if r == n or v[order[r]] != v[order[start]]:
            size = r - start
            if size > 1:
                ties += size * (size - 1) // 2
                run = order[start:r].copy()
                ascending = True
                for k in range(1, size):
                    if run[k] < run[k - 1]:
                        ascending = False
                        break
                if not ascending:  # (an unstable argsort) sort the positions
                    _heap_sort(run, np.empty(size, dtype=np.int64))
                for k in range(size):
                    perm[start + k] = run[size - 1 - k]
            else:
                perm[start] = order[start]
            start = r
    return ties


@jit
def _ranks_of(perm):
    n = perm.shape[0]
    u = np.empty(n, dtype=np.int64)
    for r in range(n):
        u[perm[r]] = r
    return u


@jit
def _fenwick_prefix(tree, i):
    """Sum of the Fenwick tree's counts at indices 1..i."""
    s = 0
    while i > 0:
        s += tree[i]
        i -= i & (-i)
    return s


@jit
def _fenwick_add_one(tree, i):
    """Add 1 at index i (1-based) of a Fenwick tree of size len(tree) - 1."""
    n = tree.shape[0] - 1
    while i <= n:
        tree[i] += 1
        i += i & (-i)


@jit
def _top_bit(n):
    """Largest power of two <= n (the first step of a Fenwick descent)."""
    top = 1
    while 2 * top <= n:
        top *= 2
    return top


@jit
def order_ties(v, order, perm):
    """``perm`` <- the positions sorted by ``v`` ascending, ties in descending
    position order; returns the number of tied pairs. ``order`` is any
    argsort of ``v``."""
    return _fix_ties(v, order, perm)


@jit
def count_ranked_inversions(perm):
    """Inversion count of the ``v`` that ``perm`` sorts (``perm`` as written
    by :func:`order_ties`): pairs p < q with ``v[p] >= v[q]``, O(n log n)."""
    n = perm.shape[0]
    u = _ranks_of(perm)
    tree = np.zeros(n + 1, dtype=np.int32)
    total = np.int64(0)
    for q in range(n):
        total += q - _fenwick_prefix(tree, u[q])  # minus earlier positions ranked below q
        _fenwick_add_one(tree, u[q] + 1)
    return total


@jit
def count_order_ties(v, order, perm):
    """Inversion count of ``v`` (pairs p < q with ``v[p] >= v[q]``), the
    number of tied pairs, and in ``perm`` the positions sorted by ``v``
    ascending with ties in descending position order. ``order`` is any
    argsort of ``v``."""
    ties = _fix_ties(v, order, perm)
    return count_ranked_inversions(perm), ties


@jit
def count_inversions(v, order):
    """Number of pairs p < q with ``v[p] >= v[q]`` (ties count), O(n log n);
    ``order`` is any argsort of ``v``."""
    perm = np.empty(v.shape[0], dtype=np.int64)
    total, _ = count_order_ties(v, order, perm)
    return total


@jit
def _sweep_start(v, order):
    """What both selection sweeps start from: the tie-fixed order ``perm``,
    the rank ``u`` of each position, an empty Fenwick tree and the first
    step of its descent."""
    n = v.shape[0]
    perm = np.empty(n, dtype=np.int64)
    _fix_ties(v, order, perm)
    return perm, _ranks_of(perm), np.zeros(n + 1, dtype=np.int32), _top_bit(n)


@jit
def select_inversions(v, order, ids, ranks, out_first, out_second):
    """Write the pairs of the inversions whose ordinal is in ``ranks``.

    Inversions (p < q, ``v[p] >= v[q]``) are numbered by q, then by the rank
    of ``v[p]`` (ties by descending p), and reported as ``(ids[p], ids[q])``.
    ``order`` is any argsort of ``v``; ``ranks`` must be sorted ascending
    (repeats allowed) and below the inversion count. Returns the number of
    pairs written. O((n + len(ranks)) log n).
    """
    n = v.shape[0]
    perm, u, tree, top = _sweep_start(v, order)
    n_ranks = ranks.shape[0]
    total = np.int64(0)
    r = 0
    for q in range(n):
        s = _fenwick_prefix(tree, u[q])
        c = q - s  # inversions (p, q): the earlier positions ranked above q
        while r < n_ranks and ranks[r] < total + c:
            # the (s + off + 1)-th smallest rank inserted so far
            rem = s + (ranks[r] - total) + 1
            pos = 0
            step = top
            while step > 0:
                if pos + step <= n and tree[pos + step] < rem:
                    pos += step
                    rem -= tree[pos]
                step //= 2
            out_first[r] = ids[perm[pos]]
            out_second[r] = ids[q]
            r += 1
        if r == n_ranks:
            break  # the rest of the sweep would only count
        total += c
        _fenwick_add_one(tree, u[q] + 1)
    return r


@jit
def select_inversions_from_end(v, order, ids, ranks, n_inv, out_first, out_second):
    """:func:`select_inversions` sweeping from the last position back.

    Same ordinals and output as :func:`select_inversions` (``n_inv`` is the
    inversion count of ``v``), but ``ranks`` must be sorted *descending*: the
    sweep visits q = n-1, ..., 0 holding the ranks of the positions after q
    in the tree, so that two threads can split the ordinals, one from each
    end. At q the inversions (p, q) come from the earlier positions, the
    complement of that set: with ``e0`` earlier positions ranked below q, the
    j-th inversion (0-based, by rank) is the ``(e0 + 2 + j)``-th smallest rank
    outside the tree (q itself is the ``(e0 + 1)``-th), found by a descent on
    ``node size - node count``.
    """
    n = v.shape[0]
    perm, u, tree, top = _sweep_start(v, order)
    n_ranks = ranks.shape[0]
    after = np.int64(0)  # inversions (p, q') with q' > q
    r = 0
    for q in range(n - 1, -1, -1):
        below_later = _fenwick_prefix(tree, u[q])  # later positions ranked below q
        later = n - 1 - q
        c = (n - 1 - u[q]) - (later - below_later)  # earlier positions ranked above q
        first = n_inv - after - c  # ordinal of q's first inversion
        e0 = u[q] - below_later
        while r < n_ranks and ranks[r] >= first:
            rem = e0 + 2 + (ranks[r] - first)
            pos = 0
            step = top
            while step > 0:
                if pos + step <= n:
                    free = step - tree[pos + step]
                    if free < rem:
                        pos += step
                        rem -= free
                step //= 2
            out_first[r] = ids[perm[pos]]
            out_second[r] = ids[q]
            r += 1
        if r == n_ranks:
            break
        after += c
        _fenwick_add_one(tree, u[q] + 1)
    return r


@jit
def average_ranks(v, order):
    """Ranks 1..n of ``v`` with ties given their average rank (as
    ``scipy.stats.rankdata(v)``); ``order`` is any argsort of ``v``."""
    n = v.shape[0]
    out = np.empty(n)
    start = 0
    for r in range(1, n + 1):
        if r == n or v[order[r]] != v[order[start]]:
            rank = 0.5 * (start + 1 + r)  # mean of start+1 .. r
            for k in range(start, r):
                out[order[k]] = rank
            start = r
    return out


@jit_exact  # slopes as in pairwise_slopes (no "arcp")
def enumerate_slopes(v, ids, x, t, out):
    """Slopes of all inversions of ``v``: for p < q with ``v[p] >= v[q]``,
    ``(x[j] - x[i]) / (t[j] - t[i])`` with ``i, j = ids[p], ids[q]``.

    Insertion sort: O(n + k) time for k inversions, meant for nearly sorted
    ``v`` (y^hi in the order of y^lo: the inversions are the slopes in the
    bracket (lo, hi]). Writes into ``out`` and returns k, or -1 as soon as
    there are more than ``len(out)`` inversions.
    """
    n = v.shape[0]
    cap = out.shape[0]
    # the values and times travel with the keys: sequential reads instead of
    # a random gather per inversion (1.2-1.8x faster at ~1e6 inversions)
    a = v.copy()
    xa = np.empty(n)
    ta = np.empty(n)
    for k in range(n):
        xa[k] = x[ids[k]]
        ta[k] = t[ids[k]]
    r = 0
    for q in range(1, n):
        key = a[q]
        xj = xa[q]
        tj = ta[q]
        pos = q
        while pos > 0 and a[pos - 1] >= key:
            if r == cap:
                return -1
            xi = xa[pos - 1]
            ti = ta[pos - 1]
            out[r] = (xj - xi) / (tj - ti)
            r += 1
            a[pos] = a[pos - 1]
            xa[pos] = xi
            ta[pos] = ti
            pos -= 1
        a[pos] = key
        xa[pos] = xj
        ta[pos] = tj
    return r


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


@jit
def _splitmix64(state):
    """One step of SplitMix64 (Steele, Lea & Flood 2014): (new state, output)."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@jit_exact  # slopes as in pairwise_slopes (no "arcp")
def sample_pair_slopes(x, t, m, seed, out):
    """Slopes of ``m`` pairs drawn by stratified sampling of the pair ordinals.

    The n(n-1)/2 pairs i < j are numbered row by row (i, then j); stratum r
    covers the ordinals ``[r T / m, (r + 1) T / m)`` and one ordinal is drawn
    uniformly inside it. Every pair has probability m / T of being drawn and
    the empirical distribution of the sample has no more variance than an iid
    sample of the same size (stratification only removes the between-strata
    part). Deterministic for a given ``seed``.
    """
    n = x.shape[0]
    total = n * (n - 1) // 2
    width = total / m
    state = np.uint64(seed)
    two_n_1 = 2.0 * n - 1.0
    for r in range(m):
        state, z = _splitmix64(state)
        u = (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        k = np.int64((r + u) * width)
        if k >= total:
            k = total - 1
        # row i holds ordinals off(i) .. off(i) + n - 2 - i with
        # off(i) = i (2n - i - 1) / 2: invert the quadratic, then fix rounding
        i = np.int64((two_n_1 - np.sqrt(two_n_1 * two_n_1 - 8.0 * k)) * 0.5)
        if i < 0:
            i = 0
        while i > 0 and i * (2 * n - i - 1) // 2 > k:
            i -= 1
        while (i + 1) * (2 * n - i - 2) // 2 <= k:
            i += 1
        j = k - i * (2 * n - i - 1) // 2 + i + 1
        out[r] = (x[j] - x[i]) / (t[j] - t[i])


#: longest run of equal radix keys that is sorted in place by insertion; a
#: longer run of distinct values (values crowded into a tiny part of the
#: range by an extreme outlier) makes :func:`radix_argsort` give up
_RADIX_RUN_MAX = 32


@jit
def radix_argsort(v, order):
    """Write an argsort of ``v`` (finite values) into ``order``; return True,
    or False when the values are too crowded for it (then ``order`` is junk
    and the caller sorts another way).

    Each value is mapped to a 32-bit key ``floor((v - min) * s)`` with ``s =
    (2**32 - 4096) / (max - min)``: the map is non-decreasing (subtracting a
    constant, scaling by a positive one and truncating all keep the order
    under rounding), so sorting the keys sorts the values up to runs of
    equal keys. Keys are sorted by an LSD radix sort (digits of 11, 11 and 10
    bits, stable), O(n); runs of equal keys are then sorted by value by
    insertion when short, which is the rule: with 2**32 keys over the range a
    run holds distinct values only when they lie within (max - min) / 4e9 of
    each other. Measured 1.5 ms against 2.7-3.4 ms for a packed-key numpy
    sort at n = 100,000.
    """
    n = v.shape[0]
    if n == 0:
        return True
    lo = v[0]
    hi = v[0]
    for i in range(n):
        x = v[i]
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    if not np.isfinite(hi - lo):
        return False  # the range overflows a double: no scaled keys
    keys = np.empty(n, dtype=np.uint32)
    if hi > lo:
        scale = 4294963200.0 / (hi - lo)
        for i in range(n):
            keys[i] = np.uint32((v[i] - lo) * scale)
    else:
        keys[:] = 0
    c0 = np.zeros(2049, dtype=np.int64)
    c1 = np.zeros(2049, dtype=np.int64)
    c2 = np.zeros(1025, dtype=np.int64)
    for i in range(n):
        k = keys[i]
        c0[(k & np.uint32(2047)) + 1] += 1
        c1[((k >> np.uint32(11)) & np.uint32(2047)) + 1] += 1
        c2[(k >> np.uint32(22)) + 1] += 1
    for b in range(2048):
        c0[b + 1] += c0[b]
        c1[b + 1] += c1[b]
    for b in range(1024):
        c2[b + 1] += c2[b]
    tmp = np.empty(n, dtype=np.int64)
    for i in range(n):
        b = keys[i] & np.uint32(2047)
        order[c0[b]] = i
        c0[b] += 1
    for r in range(n):
        i = order[r]
        b = (keys[i] >> np.uint32(11)) & np.uint32(2047)
        tmp[c1[b]] = i
        c1[b] += 1
    for r in range(n):
        i = tmp[r]
        b = keys[i] >> np.uint32(22)
        order[c2[b]] = i
        c2[b] += 1
    start = 0
    for r in range(1, n + 1):
        if r == n or keys[order[r]] != keys[order[start]]:
            size = r - start
            if size > _RADIX_RUN_MAX:
                # a long run is fine only if already in value order (ties)
                for a in range(start + 1, r):
                    if v[order[a]] < v[order[a - 1]]:
                        return False
            elif size > 1:
                for a in range(start + 1, r):
                    j = order[a]
                    x = v[j]
                    b = a
                    while b > start and v[order[b - 1]] > x:
                        order[b] = order[b - 1]
                        b -= 1
                    order[b] = j
            start = r
    return True
