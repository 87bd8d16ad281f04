"""Shared pieces of the readers: cell parsing, point accumulation, file access."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (
    DuplicateStepsWarning,
    EmptySeriesError,
    InvalidStepsError,
    ParseError,
    StepRestartWarning,
    UnreadableSourceError,
)
from ..naming import is_axis_name
from ..run import Role, Run, Series

# Spellings of non-finite numbers seen in real logs (case-insensitive).
_NONFINITE = {
    "nan": math.nan,
    "+nan": math.nan,
    "-nan": math.nan,
    "inf": math.inf,
    "+inf": math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-inf": -math.inf,
    "-infinity": -math.inf,
}

#: Column names that are preferred as the step axis, best first.
STEP_COLUMNS = ("step", "global_step", "_step", "trainer/global_step", "steps", "iteration", "iter", "it")
EPOCH_COLUMNS = ("epoch", "epochs", "_epoch")


def parse_number(cell: str) -> float | None:
    """Parse one cell: a float, a non-finite spelling, or None when empty/non-numeric.

    Returns ``None`` for text that is not a number; the caller decides whether
    that is an error (a stray string in a numeric column) or a text column.
    """
    s = cell.strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        pass
    low = s.lower()
    if low in _NONFINITE:
        return _NONFINITE[low]
    if low in {"true", "false"}:
        return None
    return None


def is_blank(cell: Any) -> bool:
    """True for an empty CSV cell (not logged at this row)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def as_float(value: Any, *, where: str) -> float:
    """Convert a JSON scalar to float, mapping non-finite spellings; raise ParseError otherwise."""
    if isinstance(value, bool):
        raise ParseError(f"{where}: boolean {value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        v = parse_number(value)
        if v is not None:
            return v
    if value is None:
        return math.nan
    raise ParseError(f"{where}: {value!r} is not a number")


def as_step(value: Any, *, where: str) -> int:
    """Convert a step cell/scalar to a non-negative int; raise a clear error otherwise."""
    if isinstance(value, bool):
        raise ParseError(f"{where}: step {value!r} is not a number")
    if isinstance(value, str):
        v = parse_number(value)
        if v is None:
            raise ParseError(f"{where}: step {value!r} is not a number")
        value = v
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParseError(f"{where}: step {value!r} is not a number")
    f = float(value)
    if not math.isfinite(f) or f != round(f):
        raise InvalidStepsError(f"{where}: step {value!r} is not an integer")
    if f < 0:
        raise InvalidStepsError(f"{where}: step {int(f)} is negative; steps must be >= 0")
    if f >= 2.0**63:
        raise InvalidStepsError(f"{where}: step {value!r} does not fit in a 64-bit integer")
    return int(f)


class PointCollector:
    """Accumulates ``(step, value)`` points per series name, in file order.

    Policy for files (documented in ``docs/io.rst``):

    * the same step logged twice in one series keeps the *last* value, with one
      :class:`~curvestat.errors.DuplicateStepsWarning` per series;
    * a step that goes *backwards* is read as a **restart** (a run resumed
      from a checkpoint, or a new run appended to the same file): the points
      the new segment overwrites (steps >= the restart step) are discarded,
      as TensorBoard does, with one :class:`~curvestat.errors.StepRestartWarning`;
    * more than ``max(3, 1 %)`` restarts in one series is not a resumed run but
      an unordered file, and raises :class:`~curvestat.errors.InvalidStepsError`.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._points: dict[str, tuple[list[int], list[float], list[str]]] = {}
        self._duplicates: dict[str, int] = {}
        self._restarts: dict[str, list[str]] = {}

    def add(self, name: str, step: int, value: float, where: str) -> None:
        steps, values, wheres = self._points.setdefault(name, ([], [], []))
        if steps and step <= steps[-1]:
            if step == steps[-1]:
                values[-1] = value
                wheres[-1] = where
                self._duplicates[name] = self._duplicates.get(name, 0) + 1
                return
            self._restarts.setdefault(name, []).append(f"step {step} at {where} after step {steps[-1]}")
            cut = bisect.bisect_left(steps, step)
            del steps[cut:], values[cut:], wheres[cut:]
        steps.append(step)
        values.append(value)
        wheres.append(where)

    def _check_restarts(self) -> None:
        for name, events in self._restarts.items():
            n_points = len(self._points[name][0]) + len(events)
            if len(events) > max(3, n_points // 100):
                raise InvalidStepsError(
                    f"{self.source}: series {name!r}: steps go backwards {len(events)} times "
                    f"(first: {events[0]}); the file is not in step order. Sort it by step, "
                    "or split it into one file per run."
                )
        if self._restarts:
            name, events = next(iter(self._restarts.items()))
            warnings.warn(
                f"{self.source}: steps restart in {len(self._restarts)} series (first: {name!r}, "
                f"{len(events)} time(s), {events[0]}); kept the newest segment of each overlapping step range",
                StepRestartWarning,
                stacklevel=4,
            )
        if self._duplicates:
            name, count = next(iter(self._duplicates.items()))
            warnings.warn(
                f"{self.source}: {len(self._duplicates)} series log some step twice (first: {name!r}, "
                f"{count} step(s)); the last value of each was kept",
                DuplicateStepsWarning,
                stacklevel=4,
            )

    def names(self) -> list[str]:
        return list(self._points)

    def build(
        self,
        *,
        roles: Mapping[str, Role | str] | None = None,
        steps_per_epoch: int | None = None,
        run_id: str | None = None,
        drop: set[str] | frozenset[str] = frozenset(),
    ) -> Run:
        self._check_restarts()
        named = ((name, steps, values) for name, (steps, values, _) in self._points.items())
        return build_run(self.source, named, roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id, drop=drop)


def build_run(
    source: str,
    named: Any,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
    drop: set[str] | frozenset[str] = frozenset(),
) -> Run:
    """A Run from ``(name, steps, values)`` triples in series order (the readers' common last step)."""
    series = []
    for name, steps, values in named:
        if name in drop or is_axis_name(name):
            continue
        role = roles.get(name) if roles else None
        series.append(Series(name, np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=np.float64), role))
    if not series:
        raise EmptySeriesError(f"{source}: no numeric series found")
    if roles:
        from ..run import _apply_roles

        series = _apply_roles(series, {k: v for k, v in roles.items()})
    return Run(series, steps_per_epoch=steps_per_epoch, run_id=run_id, source=source)


def infer_steps_per_epoch(steps: list[int] | np.ndarray, epochs: list[float] | np.ndarray) -> int | None:
    """Infer optimiser steps per epoch from paired (step, epoch) observations.

    Uses the ratio ``step / epoch`` where the epoch is fractional (Hugging Face
    logs ``epoch = step / steps_per_epoch``), otherwise the spacing of the last
    step logged in each integer epoch (Lightning). Returns None when the pairs
    do not agree on one integer within 2 %.
    """
    s = np.asarray(steps, dtype=np.float64)
    e = np.asarray(epochs, dtype=np.float64)
    ok = np.isfinite(s) & np.isfinite(e)
    s, e = s[ok], e[ok]
    if s.size < 2:
        return None
    frac = e != np.round(e)
    if np.count_nonzero(frac) >= 2:
        r = s[frac & (e > 0)] / e[frac & (e > 0)]
        est = float(np.median(r))
        if est >= 1 and np.all(np.abs(r - est) <= 0.02 * est + 1):
            return int(round(est))
        return None
    # integer epochs: the spacing of the last step logged in each epoch, else
    # of the first (a partial last epoch spoils one of the two, sparse logging
    # the other); with only two epochs both must agree
    ue = np.unique(e)
    if ue.size < 2:
        return None
    gaps = np.diff(ue)
    first = np.diff(np.array([s[e == u].min() for u in ue])) / gaps
    last = np.diff(np.array([s[e == u].max() for u in ue])) / gaps
    if ue.size == 2:
        if abs(first[0] - last[0]) <= 0.02 * last[0] + 1 and last[0] >= 1:
            return int(round(last[0]))
        return None
    for d in (last, first):
        est = float(np.median(d))
        if est >= 1 and np.mean(np.abs(d - est) <= 0.02 * est + 1) >= 0.8:
            return int(round(est))
    return None


def open_text(path: Path) -> str:
    """Read a text file, turning OS and decoding problems into clear errors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableSourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableSourceError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise UnreadableSourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in raw[:8192]:
        raise UnreadableSourceError(f"{path}: looks like a binary file, not a text log")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableSourceError(f"{path}: not UTF-8 text (byte {exc.start} is invalid)") from None


def pick_column(header: list[str], candidates: tuple[str, ...]) -> int | None:
    """Index of the first header cell matching one of ``candidates`` (case-insensitive)."""
    low = [h.strip().lower() for h in header]
    for c in candidates:
        if c in low:
            return low.index(c)
    return None
