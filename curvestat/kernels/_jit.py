"""The one place kernels get their numba decorators."""

from __future__ import annotations

import numba

from ..config import NUMBA_FASTMATH

_FASTMATH = set(NUMBA_FASTMATH)

#: serial kernels where reassociation is harmless (integer counting, sums that
#: are compared against references with a tolerance)
jit = numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)

#: kernels that must reproduce a reference library's floating-point order
#: exactly (PELT and binary segmentation decide by comparing sums of costs,
#: so a reassociated sum could flip a near-tie that ruptures does not flip)
jit_exact = numba.njit(cache=True, fastmath=False, nogil=True)
