"""Slow, obviously-correct twins of curvestat's kernels and statistics.

Each function here is a direct transcription of a textbook definition, with
no attempt at speed, so that the fast implementations can be checked against
something whose correctness is evident by reading it.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np


def count_inversions(v):
    """#pairs p < q with v[p] >= v[q]."""
    v = np.asarray(v, dtype=float)
    n = v.shape[0]
    return int(sum(int((v[p] >= v[p + 1 :]).sum()) for p in range(n - 1)))


def average_ranks(v):
    """Rank of each value: 1 + #smaller + (#equal - 1) / 2."""
    v = np.asarray(v, dtype=float)
    return np.array([1 + (v < a).sum() + ((v == a).sum() - 1) / 2 for a in v])


def mk_score(x):
    """S = sum_{i<j} sign(x_j - x_i), vectorised by rows."""
    x = np.asarray(x, dtype=float)
    return int(sum(int(np.sign(x[i + 1 :] - x[i]).sum()) for i in range(x.shape[0] - 1)))


def mk_var_s(x):
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    v = n * (n - 1) * (2 * n + 5)
    for value in set(x.tolist()):
        t = int((x == value).sum())
        v -= t * (t - 1) * (2 * t + 5)
    return v / 18.0


def pairwise_slopes(x, t):
    """All slopes (x_j - x_i) / (t_j - t_i), i < j, in row order."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    return [(x[j] - x[i]) / (t[j] - t[i]) for i, j in combinations(range(x.shape[0]), 2)]


def sens_slope(x, t=None):
    x = np.asarray(x, dtype=float)
    t = np.arange(x.shape[0], dtype=float) if t is None else np.asarray(t, dtype=float)
    slopes = [(x[j] - x[i]) / (t[j] - t[i]) for i, j in combinations(range(x.shape[0]), 2)]
    return float(np.median(slopes))


def acf(x, nlags):
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    d = x - x.mean()
    c0 = sum(d[t] * d[t] for t in range(n)) / n
    return np.array([sum(d[t] * d[t + k] for t in range(n - k)) / n / c0 for k in range(nlags + 1)])


def ljung_box_q(x, lags):
    n = len(x)
    r = acf(x, lags)
    return n * (n + 2) * sum(r[k] ** 2 / (n - k) for k in range(1, lags + 1))


def periodogram_density(x, fs=1.0):
    """Explicit DFT of the demeaned series, one-sided density."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    d = x - x.mean()
    out = []
    for k in range(n // 2 + 1):
        re = sum(d[t] * math.cos(2 * math.pi * k * t / n) for t in range(n))
        im = sum(d[t] * math.sin(2 * math.pi * k * t / n) for t in range(n))
        p = (re * re + im * im) / (fs * n)
        if k != 0 and not (n % 2 == 0 and k == n // 2):
            p *= 2
        out.append(p)
    return np.array(out)


def fisher_g_pvalue(g, m):
    """Fisher's series with exact rational binomials and high-precision floats."""
    from fractions import Fraction

    gf = Fraction(g)
    total = Fraction(0)
    for j in range(1, m + 1):
        base = 1 - j * gf
        if base <= 0:
            break
        total += (-1) ** (j - 1) * math.comb(m, j) * base ** (m - 1)
    return float(total)


def segment_cost(x, a, b, model):
    seg = np.asarray(x[a:b], dtype=float)
    if model == "l2":
        return float(((seg - seg.mean()) ** 2).sum())
    if model == "linear":  # residual sum of squares of the least-squares line on time
        if b - a <= 2:
            return 0.0
        t = np.arange(b - a, dtype=float)
        coef = np.polyfit(t, seg, 1)
        return float(((seg - np.polyval(coef, t)) ** 2).sum())
    return float((b - a) * math.log(seg.var() + 1e-6))


def optimal_partition(x, pen, model, min_size):
    """Exact optimal partitioning (no pruning), O(n^2): (cost incl. penalties, bkps)."""
    n = len(x)
    F = [0.0] + [math.inf] * n
    last = [0] * (n + 1)
    for e in range(min_size, n + 1):
        for t in [0] + list(range(min_size, e - min_size + 1)):
            if e - t < min_size:
                continue
            v = F[t] + segment_cost(x, t, e, model) + pen
            if v < F[e]:
                F[e], last[e] = v, t
    bkps, e = [], n
    while e > 0:
        e = last[e]
        if e > 0:
            bkps.append(e)
    return F[n], sorted(bkps)


def binseg(x, model, min_size, pen=None, n_bkps=None):
    """Greedy binary segmentation, recomputing every segment's best split each round."""
    n = len(x)
    bkps = [n]
    while True:
        best = None  # (gain, bkp)
        for a, b in zip([0] + bkps[:-1], bkps):
            whole = segment_cost(x, a, b, model)
            cand = [
                (whole - segment_cost(x, a, t, model) - segment_cost(x, t, b, model), t)
                for t in range(a, b)
                if t - a >= min_size and b - t >= min_size
            ]
            seg_best = max(cand) if cand else (0.0, None)
            if best is None or seg_best[0] > best[0]:
                best = seg_best
        gain, bkp = best
        if bkp is None:
            break
        if n_bkps is not None and len(bkps) - 1 >= n_bkps:
            break
        if pen is not None and not gain > pen:
            break
        bkps = sorted(bkps + [bkp])
    return bkps[:-1]


def cusum_min(x):
    """(location, -min C_k) with C_k = sum_{i<k}(x_i - mean), k = 1..n-1."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    xbar = x.mean()
    best_k, best = None, math.inf
    for k in range(1, n):
        c = sum(x[i] - xbar for i in range(k))
        if c < best:
            best, best_k = c, k
    return best_k, -best


def hac_se(x, maxlags):
    x = np.asarray(x, dtype=float)
    n = len(x)
    u = x - x.mean()
    s = sum(u[t] * u[t] for t in range(n))
    for lag in range(1, maxlags + 1):
        w = 1 - lag / (maxlags + 1)
        s += 2 * w * sum(u[t] * u[t - lag] for t in range(lag, n))
    return math.sqrt(s) / n


def mk_exact_pvalue_greater(x):
    """P(S >= s) by enumerating all n! orders of x (untied x, n <= 8)."""
    from itertools import permutations

    s = mk_score(x)
    x = list(x)
    hits = total = 0
    for perm in permutations(x):
        total += 1
        hits += mk_score(perm) >= s
    return hits / total
