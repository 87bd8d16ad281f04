"""Numeric guards shared by the detectors: one home for the tiny constants.

They keep a division or a logarithm finite; none of them is a tuned
threshold (those live in :class:`curvestat.config.Config` or as named
constants of the module that uses them).
"""

from __future__ import annotations

import math

__all__ = ["EPS", "TINY", "ULP_TOL", "MAX_LAG1", "clip_lag1", "safe_exp", "safe_expm1"]

#: the floor of a noise or data scale (and of a weight or determinant taken
#: as non-zero): far below any scale of a loss curve, far above round-off
EPS = 1e-12
#: the smallest positive number a log or a division may see (near the
#: smallest normal double, 2.2e-308); also the floor of a printed p-value
TINY = 1e-300
#: tolerance of a comparison between values computed in floating point
#: that are equal in exact arithmetic (a phase of 1/period, a grid step)
ULP_TOL = 1e-9
#: upper clip of a lag-1 autocorrelation estimate: a random walk (phi = 1)
#: has no level, so a variance formula that divides by 1 - phi stays finite
MAX_LAG1 = 0.99


def clip_lag1(phi: float, upper: float = MAX_LAG1) -> float:
    """A lag-1 autocorrelation estimate clipped to ``[0, upper]`` (negative ones read as none)."""
    return min(max(phi, 0.0), upper)


def safe_exp(x: float) -> float:
    """``exp(x)``, or ``inf`` where it overflows.

    A finite loss near the float limit has a log whose exp overflows; the
    ratio is then infinitely large, which is what a message should say.
    """
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def safe_expm1(x: float) -> float:
    """``expm1(x)``, or ``inf`` where it overflows (a log ratio beyond the float range)."""
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf
