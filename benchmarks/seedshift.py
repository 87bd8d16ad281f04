"""pytest plugin: re-run the seeded tests under other seeds (seed robustness, issue 16 item 6).

Every integer seed passed to ``numpy.random.default_rng`` from a test file (or from
the corpus generators a test calls: ``curvestat.bench``, ``curvestat.testing``)
becomes ``[seed, 7919, SEEDSHIFT]``; the library's own internal generators
(stats, detectors, kernels, batch, examples) are left alone. ``SEEDSHIFT=0`` (or
unset) changes nothing.

Usage (one run per shift; a test that fails on some shift is a borderline
fixture or a detector weakness)::

    for s in $(seq 1 20); do
      PYTHONPATH=benchmarks:. SEEDSHIFT=$s python -m pytest tests/detectors tests/stats \\
          -q -p no:cacheprovider -p seedshift -rf --tb=line | grep -E '^FAILED|passed|failed'
    done
"""

from __future__ import annotations

import os
import sys

import numpy as np

_ORIGINAL = np.random.default_rng
SHIFT = int(os.environ.get("SEEDSHIFT", "0"))
#: callers whose generators are part of the method, not of a fixture
_LIBRARY = ("/curvestat/stats/", "/curvestat/detectors/", "/curvestat/kernels/", "/curvestat/batch.py",
            "/curvestat/examples/")


def _shift(seed):
    if isinstance(seed, (int, np.integer)):
        return [int(seed), 7919, SHIFT]
    if isinstance(seed, (list, tuple)):
        return [*seed, 7919, SHIFT]
    return seed


def default_rng(seed=None):
    if SHIFT and seed is not None and not isinstance(seed, (np.random.Generator, np.random.BitGenerator,
                                                            np.random.SeedSequence)):
        caller = sys._getframe(1).f_code.co_filename
        if not any(part in caller for part in _LIBRARY):
            seed = _shift(seed)
    return _ORIGINAL(seed)


np.random.default_rng = default_rng
