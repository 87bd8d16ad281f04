"""Side-by-side passes for the longest series.

A few tests make several independent O(n log n) passes over a long series
(the Mann-Kendall score and the counting passes of Sen's slope). The numba
kernels release the GIL (``nogil=True``) and so does numpy's sort, so two
such passes can run on two cores from plain Python threads.

Only series of at least :data:`PARALLEL_MIN_N` points use a second thread:
below that a pass takes well under a millisecond and the hand-over costs
more than it saves. The detectors test block means of at most a few
hundred points, so batch scoring (one process per core) never starts these
threads. ``CURVESTAT_THREADS=1`` in the environment turns them off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

__all__ = ["PARALLEL_MIN_N", "side_threads", "run_beside"]

#: fewest points for which a pass is handed to a second thread (a counting
#: pass over 20,000 points takes ~1 ms; a hand-over ~50 us)
PARALLEL_MIN_N = 20_000

T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = -1


def side_threads() -> int:
    """Number of extra threads a long series may use (0 or 1).

    1 when the process may run on at least two CPUs and the environment
    variable ``CURVESTAT_THREADS`` is not set to ``1`` (or ``0``).
    """
    env = os.environ.get("CURVESTAT_THREADS", "").strip()
    if env:
        try:
            if int(env) <= 1:
                return 0
        except ValueError:
            return 0  # a setting we cannot read: the safe choice
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return 1 if cpus >= 2 else 0


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        # a forked child inherits the pool object but not its threads: make
        # a new one there, or a submitted task would never run
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="curvestat")
            _pool_pid = os.getpid()
        return _pool


class _Ready(Generic[T]):
    """A computed value with the ``result()`` method of a future."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def result(self) -> T:
        return self._value


def run_beside(n: int, fn: Callable[..., T], *args: Any) -> Future[T] | _Ready[T]:
    """Start ``fn(*args)`` on the side thread when a series of ``n`` points is
    long enough, else run it now; either way ``.result()`` gives its value.

    Only the calling (main) thread may call this, never a task running on
    the side thread: the side thread is single, so a task waiting there for
    another task would wait forever.
    """
    if n >= PARALLEL_MIN_N and side_threads():
        return _executor().submit(fn, *args)
    return _Ready(fn(*args))
