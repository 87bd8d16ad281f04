"""The one place kernels get their numba decorators.

Where compiled kernels are cached
---------------------------------
numba caches compiled kernels beside their source by default, i.e. inside the
installed package (``site-packages/curvestat/kernels/__pycache__``): files pip
does not record, which outlive ``pip uninstall`` and then turn the leftover
``curvestat/`` folder into an empty namespace package. curvestat's kernels are
therefore cached in a user cache directory instead: ``$CURVESTAT_CACHE_DIR``
if set, else ``$XDG_CACHE_HOME/curvestat`` (``~/.cache/curvestat``), in a
sub-folder per installation. ``$NUMBA_CACHE_DIR`` still takes precedence, as
numba documents; where no cache directory is writable, numba's own rules
apply.
"""

from __future__ import annotations

import os
from pathlib import Path

import numba

from ..config import NUMBA_FASTMATH

_FASTMATH = set(NUMBA_FASTMATH)
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def cache_dir() -> Path:
    """The directory curvestat's compiled kernels are cached in."""
    env = os.environ.get("CURVESTAT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "curvestat"


def _install_cache_locator() -> None:
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - a numba without the caching module
        return

    class _CurvestatCacheLocator(caching.UserWideCacheLocator):  # type: ignore[misc,name-defined]
        """numba's user-wide locator, rooted at :func:`cache_dir`, for curvestat's own modules only."""

        def __init__(self, py_func, py_file):  # noqa: ANN001 - numba's signature
            super().__init__(py_func, py_file)
            self._cache_path = os.path.join(str(cache_dir()), self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):  # noqa: ANN001
            if not os.path.abspath(py_file).startswith(_PACKAGE_DIR + os.sep):
                return None
            return super().from_function(py_func, py_file)

    classes = getattr(getattr(caching, "CacheImpl", None), "_locator_classes", None)
    if not isinstance(classes, list) or any(c.__name__ == "_CurvestatCacheLocator" for c in classes):
        return
    # after numba's NUMBA_CACHE_DIR locator (a user's explicit choice), before the in-tree one
    user_first = [i for i, c in enumerate(classes) if c.__name__ == "UserProvidedCacheLocator"]
    classes.insert(user_first[0] + 1 if user_first else 0, _CurvestatCacheLocator)


_install_cache_locator()

#: serial kernels where reassociation is harmless (integer counting, sums that
#: are compared against references with a tolerance)
jit = numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)

#: kernels that must reproduce a reference library's floating-point order
#: exactly (PELT and binary segmentation decide by comparing sums of costs,
#: so a reassociated sum could flip a near-tie that ruptures does not flip)
jit_exact = numba.njit(cache=True, fastmath=False, nogil=True)
