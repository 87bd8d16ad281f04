"""Kernels of the small robust helpers the detectors call dozens of times per run.

A median, a MAD and a running-median smoother of a few hundred points cost
microseconds; through numpy and ``scipy.ndimage`` each paid 10-40 us of call
overhead. These give the same values: order statistics are elements of the
input, and the 3-point running mean forms its sums in the order
``scipy.ndimage.uniform_filter1d`` forms them (a running sum updated by
``new - old``, divided by 3). Compiled without fastmath.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit_exact


@jit_exact
def median(a):
    """Median of a finite 1-D float array (NaN for an empty one): the middle
    element, or half the sum of the two middle ones (``np.median``'s value)."""
    n = a.shape[0]
    if n == 0:
        return np.nan
    k = n // 2
    p = np.partition(a, k)
    if n % 2:
        return p[k]
    lower = p[0]
    for i in range(1, k):
        if p[i] > lower:
            lower = p[i]
    return 0.5 * (lower + p[k])


@jit_exact
def mad(a, consistency):
    """``consistency * median(|a - median(a)|)`` of a finite, non-empty 1-D float array."""
    med = median(a)
    return consistency * median(np.abs(a - med))


@jit_exact
def robust_smooth(a, window, out):
    """``out`` <- ``uniform_filter1d(median_filter(a, window), 3)``, both with ``mode='nearest'``.

    ``window`` is odd and positive (1: no median); ``a`` finite and non-empty.
    """
    n = a.shape[0]
    h = window // 2
    med = np.empty(n)
    if window == 1:
        med[:] = a
    else:
        buf = np.empty(window)
        for i in range(n):
            # the window, edges extended by their nearest value, insertion-sorted
            for j in range(window):
                idx = min(max(i - h + j, 0), n - 1)
                x = a[idx]
                b = j
                while b > 0 and buf[b - 1] > x:
                    buf[b] = buf[b - 1]
                    b -= 1
                buf[b] = x
            med[i] = buf[h]
    # a running sum from 0.0, updated by (new - old), over the series extended
    # by one copy of each end value: uniform_filter1d's own order of
    # operations (starting from +0.0 also gives its sign of a zero mean)
    s = 0.0
    s += med[0]
    s += med[0]
    s += med[min(1, n - 1)]
    out[0] = s / 3.0
    for i in range(1, n):
        s += med[min(i + 1, n - 1)] - med[max(i - 2, 0)]
        out[i] = s / 3.0
