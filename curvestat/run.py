"""The canonical in-memory form of a training run: :class:`Series` and :class:`Run`.

Every reader turns its source into a :class:`Run`; every detector reads one.
A run is a set of named series; each series has its own strictly increasing,
non-negative integer steps and float values (non-finite values are kept: a NaN
loss is evidence, not noise) and a *role* that tells the detectors what it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import (
    EmptySeriesError,
    InputError,
    InvalidStepsError,
    LengthMismatchError,
    MissingSeriesError,
    ParameterError,
    ParseError,
)

# role inference lives in .naming; its names stay importable from here
from .naming import Role, infer_role, is_axis_name, metric_direction, name_tokens, task_of

__all__ = ["Role", "Series", "Run", "infer_role", "metric_direction", "task_of", "align_to_steps", "name_tokens",
           "is_axis_name"]

# --- Series ------------------------------------------------------------------------


def _as_role(role: Role | str) -> Role:
    try:
        return role if isinstance(role, Role) else Role(str(role))
    except ValueError:
        raise ParameterError(f"unknown role {role!r}; expected one of {[r.value for r in Role]}") from None


def _steps_array(steps: ArrayLike, name: str) -> NDArray[np.int64]:
    arr = np.asarray(steps)
    if arr.ndim != 1:
        raise InputError(f"series {name!r}: steps must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        raise ParseError(f"series {name!r}: steps must be integers, got booleans")
    if arr.dtype.kind in "USO":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ParseError(f"series {name!r}: steps must be numbers, got {arr.dtype} values") from None
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise InvalidStepsError(f"series {name!r}: step at position {bad} is {arr[bad]!r}; steps must be finite integers")
        if not np.all(arr == np.round(arr)):
            bad = int(np.flatnonzero(arr != np.round(arr))[0])
            raise InvalidStepsError(f"series {name!r}: step at position {bad} is {arr[bad]!r}; steps must be integers")
    elif arr.dtype.kind not in "iu":
        raise ParseError(f"series {name!r}: steps must be integers, got dtype {arr.dtype}")
    out = arr.astype(np.int64)
    if out.size and out.min() < 0:
        bad = int(np.flatnonzero(out < 0)[0])
        raise InvalidStepsError(f"series {name!r}: step at position {bad} is negative ({out[bad]}); steps must be >= 0")
    if out.size > 1:
        d = np.diff(out)
        if np.any(d <= 0):
            bad = int(np.flatnonzero(d <= 0)[0]) + 1
            what = "duplicate" if d[bad - 1] == 0 else "unsorted"
            raise InvalidStepsError(
                f"series {name!r}: {what} steps: step {out[bad]} at position {bad} follows step {out[bad - 1]}; "
                "steps must be strictly increasing"
            )
    return out


def _values_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"series {name!r}: values must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64)
    out = np.empty(arr.shape, dtype=np.float64)
    for i, v in enumerate(arr.tolist()):
        try:
            out[i] = float(v) if v is not None else np.nan
        except (TypeError, ValueError):
            raise ParseError(f"series {name!r}: value at position {i} is {v!r}, not a number") from None
    return out


@dataclass(frozen=True, eq=False)
class Series:
    """One logged curve: integer steps, float values and a role.

    Parameters
    ----------
    name : str
        Name as logged.
    steps : array_like of int
        Strictly increasing, non-negative integer steps.
    values : array_like of float
        Values at those steps; NaN and +-Inf are kept.
    role : Role or str, optional
        Inferred from ``name`` when omitted.

    Raises
    ------
    EmptySeriesError
        If the series has no point.
    InvalidStepsError
        If steps are not strictly increasing non-negative integers.
    LengthMismatchError
        If steps and values differ in length.
    ParseError
        If a value is not a number.
    """

    name: str
    steps: NDArray[np.int64]
    values: NDArray[np.float64]
    role: Role = field(default=Role.OTHER)

    def __init__(self, name: str, steps: ArrayLike, values: ArrayLike, role: Role | str | None = None) -> None:
        name = str(name)
        s = _steps_array(steps, name)
        v = _values_array(values, name)
        if s.shape != v.shape:
            raise LengthMismatchError(f"series {name!r}: {s.size} steps but {v.size} values")
        if s.size == 0:
            raise EmptySeriesError(f"series {name!r} is empty")
        s.setflags(write=False)
        v.setflags(write=False)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", s)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "role", infer_role(name) if role is None else _as_role(role))

    def __len__(self) -> int:
        return int(self.steps.size)

    @property
    def finite(self) -> NDArray[np.bool_]:
        """Boolean mask of finite values."""
        return np.isfinite(self.values)

    @property
    def n_finite(self) -> int:
        """Number of finite values."""
        return int(np.count_nonzero(self.finite))

    def __repr__(self) -> str:
        return f"Series({self.name!r}, role={self.role.value}, n={len(self)}, steps={self.steps[0]}..{self.steps[-1]})"


# --- Run -----------------------------------------------------------------------------


class Run:
    """A training run: named series with roles, plus optional metadata.

    Parameters
    ----------
    series : iterable of Series
        The run's curves; names must be unique.
    steps_per_epoch : int, optional
        Optimiser steps per epoch, when known.
    run_id : str, optional
        Identifier shown in reports (defaults to the source's stem).
    source : str, optional
        Where the run was read from.

    Raises
    ------
    EmptySeriesError
        If there is no series, or every series is all-NaN.
    InputError
        If two series share a name, or ``steps_per_epoch`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> run = Run.from_dict({"loss": np.exp(-np.arange(50) / 10), "val_acc": ([9, 19, 29], [0.5, 0.6, 0.7])})
    >>> run.train_loss.name, run.names
    ('loss', ['loss', 'val_acc'])
    """

    __slots__ = ("_series", "steps_per_epoch", "run_id", "source")

    def __init__(
        self,
        series: Any,
        *,
        steps_per_epoch: int | None = None,
        run_id: str | None = None,
        source: str | None = None,
    ) -> None:
        items = list(series.values()) if isinstance(series, Mapping) else list(series)
        by_name: dict[str, Series] = {}
        for s in items:
            if not isinstance(s, Series):
                raise InputError(f"Run expects Series objects, got {type(s).__name__}")
            if s.name in by_name:
                raise InputError(f"two series are named {s.name!r}")
            by_name[s.name] = s
        where = f" in {source}" if source else ""
        if not by_name:
            raise EmptySeriesError(f"no series{where}: nothing to analyse")
        if all(s.n_finite == 0 for s in by_name.values()):
            raise EmptySeriesError(f"no series{where} has a finite value (all NaN/Inf): nothing to analyse")
        if steps_per_epoch is not None:
            if isinstance(steps_per_epoch, bool) or int(steps_per_epoch) != steps_per_epoch or int(steps_per_epoch) < 1:
                raise InputError(f"steps_per_epoch must be a positive integer, got {steps_per_epoch!r}")
            steps_per_epoch = int(steps_per_epoch)
        self._series = by_name
        self.steps_per_epoch = steps_per_epoch
        self.run_id = run_id
        self.source = source

    # construction -----------------------------------------------------------------
    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        roles: Mapping[str, Role | str] | None = None,
        steps_per_epoch: int | None = None,
        run_id: str | None = None,
        source: str | None = None,
    ) -> Run:
        """Build a run from ``{name: values}`` or ``{name: (steps, values)}``.

        Plain value arrays share the implicit steps ``0, 1, ..., n-1``; plain
        arrays of different lengths are ambiguous and rejected (give the
        sparser ones as ``(steps, values)``).
        Non-finite values are kept; a run in which no series has a single
        finite value is rejected.

        Raises
        ------
        LengthMismatchError
            If a ``(steps, values)`` pair differs in length, or plain arrays
            (without steps) differ in length.
        InputError
            If a value is not 1-D, or ``roles`` names an absent series.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"expected a mapping of series, got {type(data).__name__}")
        # bare arrays of different lengths share no step axis: aligning them
        # from step 0 would silently misplace the shorter ones
        bare = {str(k): len(v) for k, v in data.items() if not (isinstance(v, tuple) and len(v) == 2) and np.ndim(v) == 1}
        if len(set(bare.values())) > 1:
            longest = max(bare, key=bare.get)  # type: ignore[arg-type]
            shortest = min(bare, key=bare.get)  # type: ignore[arg-type]
            lengths = ", ".join(f"{k!r}: {n}" for k, n in bare.items())
            raise LengthMismatchError(
                f"series of different lengths without steps ({lengths}): which steps {shortest!r} was logged at is "
                f"ambiguous. Pass {{name: (steps, values)}} for the sparser ones, e.g. "
                f"{{{longest!r}: values, {shortest!r}: (np.arange(0, {bare[longest]}, {max(1, bare[longest] // max(bare[shortest], 1))}), values)}}"
            )
        series = []
        for name, item in data.items():
            name = str(name)
            if isinstance(item, tuple) and len(item) == 2:
                steps, values = item
                if np.ndim(steps) != 1 or np.ndim(values) != 1:
                    raise InputError(f"series {name!r}: (steps, values) must both be 1-D")
                if len(steps) != len(values):
                    raise LengthMismatchError(f"series {name!r}: {len(steps)} steps but {len(values)} values")
            else:
                values = np.asarray(item) if not isinstance(item, np.ndarray) else item
                if values.ndim != 1:
                    raise InputError(f"series {name!r}: values must be 1-D, got shape {np.shape(values)}")
                steps = np.arange(len(values))
            series.append(Series(name, steps, values))
        return cls(_apply_roles(series, roles), steps_per_epoch=steps_per_epoch, run_id=run_id, source=source)

    # access --------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Series names, in insertion order."""
        return list(self._series)

    @property
    def series(self) -> list[Series]:
        """All series, in insertion order."""
        return list(self._series.values())

    def __getitem__(self, name: str) -> Series:
        try:
            return self._series[name]
        except KeyError:
            raise MissingSeriesError(f"no series named {name!r}; the run has {self.names}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._series

    def __iter__(self) -> Iterator[Series]:
        return iter(self._series.values())

    def __len__(self) -> int:
        return len(self._series)

    def by_role(self, role: Role | str) -> list[Series]:
        """All series with ``role``, in insertion order."""
        r = _as_role(role)
        return [s for s in self._series.values() if s.role is r]

    def _primary(self, role: Role) -> Series | None:
        cands = self.by_role(role)
        return densest(cands) if cands else None

    @property
    def train_loss(self) -> Series | None:
        """The primary train-loss series (the densest), or None."""
        return self._primary(Role.TRAIN_LOSS)

    @property
    def val_loss(self) -> Series | None:
        """The primary validation-loss series (the densest), or None."""
        return self._primary(Role.VAL_LOSS)

    @property
    def lr(self) -> Series | None:
        """The primary learning-rate series, or None."""
        return self._primary(Role.LR)

    @property
    def metrics(self) -> list[Series]:
        """All metric series."""
        return self.by_role(Role.METRIC)

    def with_roles(self, roles: Mapping[str, Role | str]) -> Run:
        """Return a copy with the roles of some series replaced."""
        return Run(_apply_roles(self.series, roles), steps_per_epoch=self.steps_per_epoch, run_id=self.run_id, source=self.source)

    def replace(self, **changes: Any) -> Run:
        """Return a copy with ``steps_per_epoch``, ``run_id`` or ``source`` changed."""
        allowed = {"steps_per_epoch", "run_id", "source"}
        unknown = set(changes) - allowed
        if unknown:
            raise ParameterError(f"Run.replace got unknown fields {sorted(unknown)}; allowed: {sorted(allowed)}")
        kw = {k: getattr(self, k) for k in allowed}
        kw.update(changes)
        return Run(self.series, **kw)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s.name}:{s.role.value}[{len(s)}]" for s in self)
        rid = f"{self.run_id!r}, " if self.run_id else ""
        return f"Run({rid}{parts})"


def densest(cands: list[Series]) -> Series:
    """The primary series among ``cands``: the one with most finite (or infinite) points, the first logged on ties.

    Lightning logs both ``train_loss_step`` (every step) and ``train_loss_epoch``;
    the per-step curve carries the evidence.
    """
    return max(cands, key=lambda s: (s.n_finite + int(np.count_nonzero(np.isinf(s.values))), -cands.index(s)))


def _apply_roles(series: list[Series], roles: Mapping[str, Role | str] | None) -> list[Series]:
    if not roles:
        return series
    names = {s.name for s in series}
    missing = [k for k in roles if k not in names]
    if missing:
        raise MissingSeriesError(f"roles given for absent series {missing}; the run has {sorted(names)}")
    return [Series(s.name, s.steps, s.values, roles[s.name]) if s.name in roles else s for s in series]


def align_to_steps(steps: NDArray[np.int64], values: NDArray[np.float64], at: NDArray[np.int64]) -> NDArray[np.float64]:
    """Align a (dense) curve to the steps ``at`` of a sparser one.

    Rule: the value at ``at[k]`` is the mean of the finite values logged in
    the interval ``(at[k-1], at[k]]`` (``[first step, at[0]]`` for k = 0),
    i.e. the average over each evaluation interval -- what an epoch-mean train
    loss is. An interval in which nothing was logged (the other series is
    denser, or has gaps) takes the linear interpolation of the finite values
    at ``at[k]`` (the nearest value beyond either end). An interval whose
    logged values are all non-finite (a NaN loss) is NaN: the value there is
    unknown, not interpolated.
    """
    fin = np.isfinite(values)
    st, v = steps[fin], values[fin]
    out = np.full(at.shape[0], np.nan)
    if st.size == 0:
        return out
    cs = np.concatenate([[0.0], np.cumsum(v)])
    hi = np.searchsorted(st, at, side="right")
    lo = np.concatenate([[0], hi[:-1]])
    cnt = hi - lo
    ok = cnt > 0
    out[ok] = (cs[hi[ok]] - cs[lo[ok]]) / cnt[ok]
    if not ok.all():
        hi_all = np.searchsorted(steps, at, side="right")
        lo_all = np.concatenate([[0], hi_all[:-1]])
        empty = ~ok & (hi_all == lo_all)  # nothing logged at all in the interval
        out[empty] = np.interp(at[empty].astype(np.float64), st.astype(np.float64), v)
    return out
