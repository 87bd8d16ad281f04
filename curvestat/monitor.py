"""Live monitoring: the tests of :func:`curvestat.analyze` while a model trains.

:class:`Monitor` is framework-free and incremental: the training loop (or a
callback of Keras, PyTorch Lightning or the Hugging Face Trainer, see
:mod:`curvestat.integrations`) logs values with :meth:`Monitor.log`, and
:meth:`Monitor.check` returns the findings that are new since the last check,
each once, as the same :class:`~curvestat.Finding` objects that
:func:`curvestat.analyze` returns.

What a check means
------------------
A check runs :func:`curvestat.analyze` on the history logged so far, so every
finding a monitor reports is one that ``analyze()`` makes on that prefix of
the run. Two rules keep a live monitor from crying wolf although it tests the
same run again and again:

* **confirmation**: a finding that rests on a p-value is reported only once
  ``confirm`` consecutive checks (default 2) have made it; a single check's
  chance rejection does not stop a run. Deterministic evidence (a NaN or
  infinite loss) needs no confirmation and is reported at once.
* **checks are spaced**: :meth:`should_check` says when a check is due: on
  every evaluation (a validation value was logged) and every ``every``
  training steps (default 500), so the number of checks grows with the run's
  length over ``every``, not with the number of logged steps.

The per-check level is ``config.alpha``; the whole-run false-alarm rate that
results on healthy runs is measured by ``benchmarks/bench_monitor.py`` and
stated in ``docs/monitor.rst``.

Memory is bounded: a series longer than ``max_points`` (default 200,000) has
its oldest half merged into means of pairs of points (each merge halves the
resolution of old history, never of the latest ``max_points / 2`` points);
from then on the findings are those ``analyze()`` makes on that history. The
detectors aggregate long series into block means themselves
(:attr:`curvestat.Config.max_points`), so this changes little.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Config
from .errors import InputError, ParameterError
from .report import Finding, Report
from .run import Role, Run, Series, infer_role

__all__ = ["Monitor"]


def _key(f: Finding) -> tuple[str, str, str, str]:
    # a finding "is the same" across checks when it names the same pathology,
    # kind, series and severity; its p-value and onset move as the run grows.
    # A note that becomes a warning is news: the severity is part of the key.
    return (f.pathology.value, f.kind, f.series, f.severity.value)


class _Growing:
    """An append-only (step, value) buffer with amortised O(1) appends and pairwise compaction."""

    __slots__ = ("steps", "values", "n", "max_points")

    def __init__(self, max_points: int) -> None:
        self.steps = np.empty(1024, dtype=np.int64)
        self.values = np.empty(1024, dtype=np.float64)
        self.n = 0
        self.max_points = max_points

    def append(self, step: int, value: float) -> None:
        if self.n and step <= self.steps[self.n - 1]:
            if step == self.steps[self.n - 1]:
                self.values[self.n - 1] = value  # the last value of a step wins, as in the readers
                return
            raise InputError(f"steps must increase: got step {step} after step {int(self.steps[self.n - 1])}")
        if self.n == self.steps.size:
            self.steps = np.concatenate([self.steps, np.empty_like(self.steps)])
            self.values = np.concatenate([self.values, np.empty_like(self.values)])
        self.steps[self.n] = step
        self.values[self.n] = value
        self.n += 1
        if self.n > self.max_points:
            self._compact()

    def _compact(self) -> None:
        # merge pairs in the oldest half: mean value (NaN/Inf kept: a pair with
        # a non-finite value stays non-finite), the pair's last step
        half = (self.n // 2) // 2 * 2
        old_v = self.values[:half].reshape(-1, 2)
        old_s = self.steps[:half].reshape(-1, 2)
        with np.errstate(invalid="ignore", over="ignore"):
            merged_v = old_v.mean(axis=1)
        merged_s = old_s[:, 1]
        k = merged_v.size
        rest = self.n - half
        self.values[:k] = merged_v
        self.steps[:k] = merged_s
        self.values[k:k + rest] = self.values[half:self.n].copy()
        self.steps[k:k + rest] = self.steps[half:self.n].copy()
        self.n = k + rest

    def series(self, name: str, role: Role) -> Series:
        return Series(name, self.steps[: self.n].copy(), self.values[: self.n].copy(), role)


@dataclass(frozen=True, slots=True)
class _Pending:
    count: int
    finding: Finding


class Monitor:
    """Run curvestat's tests on a run while it trains.

    Parameters
    ----------
    config : Config, optional
        Thresholds (``config.alpha`` is the level of each check's tests).
    alpha : float, optional
        Shortcut for ``config.replace(alpha=...)``.
    roles : mapping of str to str, optional
        Roles of series whose names do not say what they are.
    steps_per_epoch : int, optional
        Optimiser steps per epoch, when known.
    every : int
        A check is due every ``every`` training steps (and on every
        evaluation); default 500.
    confirm : int
        Consecutive checks that must make a p-value finding before it is
        reported (default 2; 1 reports at once).
    max_points : int
        Points kept per series before old history is merged pairwise
        (default 200,000).
    detectors : iterable of str or Detector, optional
        As in :func:`curvestat.analyze`.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat import Monitor
    >>> mon = Monitor(every=100)
    >>> for step in range(600):
    ...     mon.log(step, train_loss=1.0 / (1 + step / 50))
    ...     if mon.should_check(step):
    ...         new = mon.check()
    >>> mon.log(600, train_loss=float("nan"))
    >>> [f.kind for f in mon.check()]
    ['non_finite']
    """

    def __init__(
        self,
        *,
        config: Config | None = None,
        alpha: float | None = None,
        roles: Mapping[str, str] | None = None,
        steps_per_epoch: int | None = None,
        every: int = 500,
        confirm: int = 2,
        max_points: int = 200_000,
        detectors: Any = None,
        run_id: str | None = None,
    ) -> None:
        if config is not None and not isinstance(config, Config):
            raise ParameterError(f"config must be a curvestat.Config, got {type(config).__name__}")
        cfg = config or Config()
        self.config = cfg if alpha is None else cfg.replace(alpha=float(alpha))
        for name, value, low in (("every", every, 1), ("confirm", confirm, 1), ("max_points", max_points, 64)):
            if isinstance(value, bool) or int(value) != value or int(value) < low:
                raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}")
        self.every = int(every)
        self.confirm = int(confirm)
        self.max_points = int(max_points)
        self.roles = {str(k): str(v) for k, v in (roles or {}).items()}
        self.steps_per_epoch = steps_per_epoch
        self.run_id = run_id
        self._detectors = detectors
        self._buffers: dict[str, _Growing] = {}
        self._reported: dict[tuple[str, str, str, str], Finding] = {}
        self._pending: dict[tuple[str, str, str, str], _Pending] = {}
        self._last_check_step: int | None = None
        self._last_step: int | None = None
        self._dirty = False
        self._eval_since_check = False
        self.n_checks = 0
        self.last_report: Report | None = None

    # logging ------------------------------------------------------------------------
    def log(self, step: int, /, **values: float | None) -> None:
        """Append the values logged at ``step`` (``None`` values are ignored).

        Raises
        ------
        InputError
            If ``step`` is not a non-negative integer, goes back in time for a
            series, or a value is not a number.
        """
        if isinstance(step, bool) or int(step) != step or int(step) < 0:
            raise InputError(f"step must be a non-negative integer, got {step!r}")
        step = int(step)
        for name, value in values.items():
            if value is None:
                continue
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{name}: expected a number at step {step}, got {value!r}") from None
            buf = self._buffers.get(name)
            if buf is None:
                buf = self._buffers[name] = _Growing(self.max_points)
            buf.append(step, v)
            if self._role(name) is Role.VAL_LOSS or (self._role(name) is Role.METRIC and _is_eval(name)):
                self._eval_since_check = True
        self._last_step = step if self._last_step is None else max(self._last_step, step)
        self._dirty = True

    def _role(self, name: str) -> Role:
        return Role(self.roles[name]) if name in self.roles else infer_role(name)

    def should_check(self, step: int | None = None) -> bool:
        """True when a check is due: an evaluation was logged, or ``every`` steps passed since the last check."""
        if not self._dirty:
            return False
        if self._eval_since_check:
            return True
        now = self._last_step if step is None else int(step)
        if now is None:
            return False
        last = -1 if self._last_check_step is None else self._last_check_step
        return now - last >= self.every

    # checking -----------------------------------------------------------------------
    def run(self) -> Run:
        """The history logged so far as a :class:`~curvestat.Run`."""
        series = [b.series(name, self._role(name)) for name, b in self._buffers.items() if b.n]
        if not series:
            raise InputError("nothing logged yet")
        return Run(series, steps_per_epoch=self.steps_per_epoch, run_id=self.run_id, source="monitor")

    def check(self) -> list[Finding]:
        """Analyse the history so far; return the findings new since the last check.

        Returns
        -------
        list of Finding
            Findings reported for the first time: deterministic ones at once,
            p-value ones once ``confirm`` consecutive checks have made them.
            ``info`` notes are reported like the others (they never call for
            stopping a run).
        """
        from .analyze import run_detectors
        from .detectors.pipeline import resolve_detectors

        if not self._buffers:
            return []
        self._dirty = False
        self._eval_since_check = False
        self._last_check_step = self._last_step
        self.n_checks += 1
        report = run_detectors(self.run(), self.config, resolve_detectors(self._detectors))
        self.last_report = report
        new: list[Finding] = []
        seen_now = set()
        for f in report.findings:
            key = _key(f)
            seen_now.add(key)
            if key in self._reported:
                continue
            count = self._pending[key].count + 1 if key in self._pending else 1
            if f.p_value is None or count >= self.confirm:
                self._reported[key] = f
                self._pending.pop(key, None)
                new.append(f)
            else:
                self._pending[key] = _Pending(count, f)
        # confirmation means *consecutive* checks
        for key in [k for k in self._pending if k not in seen_now]:
            del self._pending[key]
        return new

    @property
    def findings(self) -> list[Finding]:
        """Every finding reported so far, in the order reported."""
        return [f for f in self._reported.values() if f is not None]

    # resumption ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The monitor's state as plain Python and numpy values (for checkpoints)."""
        return {
            "series": {n: (b.steps[: b.n].copy(), b.values[: b.n].copy()) for n, b in self._buffers.items()},
            "reported": [list(k) for k in self._reported],
            "pending": [[*k, p.count] for k, p in self._pending.items()],
            "last_check_step": self._last_check_step,
            "n_checks": self.n_checks,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` (the findings reported before are not reported again)."""
        try:
            self._buffers = {}
            for name, (steps, values) in state["series"].items():
                buf = _Growing(self.max_points)
                for s, v in zip(np.asarray(steps).tolist(), np.asarray(values, dtype=float).tolist()):
                    buf.append(int(s), float(v))
                self._buffers[str(name)] = buf
            # the finding objects are not kept; their keys suffice to report each once
            self._reported = {tuple(k): None for k in state["reported"]}  # type: ignore[misc]
            self._pending = {}
            self._last_check_step = state["last_check_step"]
            self.n_checks = int(state["n_checks"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a curvestat Monitor state: {exc}") from None
        steps = [int(b.steps[b.n - 1]) for b in self._buffers.values() if b.n]
        self._last_step = max(steps) if steps else None
        self._dirty = True


def _is_eval(name: str) -> bool:
    from .run import name_tokens

    return any(t in {"val", "valid", "validation", "eval", "evaluation", "test", "dev", "holdout"} for t in name_tokens(name))

