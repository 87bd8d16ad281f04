"""Keras 3 callback: curvestat's tests while ``model.fit`` trains.

Keras reports, in the logs of ``on_train_batch_end``, the *running mean* of
each metric over the epoch so far; the callback de-averages them
(``x_k = k m_k - (k - 1) m_{k-1}``) so that the monitor sees each batch's
loss, as a per-step logger would. Epoch-end logs (``val_loss``, ``val_*``)
are logged at the epoch's last step.

Examples
--------
>>> from curvestat.integrations.keras import CurvestatCallback   # doctest: +SKIP
>>> model.fit(x, y, validation_split=0.2, callbacks=[CurvestatCallback(action="stop")])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError

try:
    import keras
except ImportError as exc:  # pragma: no cover - only without keras
    raise MissingDependencyError(f"curvestat.integrations.keras needs keras 3 ({exc})") from exc

from ..report import Finding, Report
from ._common import Guard

__all__ = ["CurvestatCallback"]


class CurvestatCallback(keras.callbacks.Callback):
    """Monitor a Keras ``fit`` with curvestat.

    Parameters
    ----------
    action : {"warn", "stop", "raise"}
        What a warning/critical finding does: warn (and log), also set
        ``model.stop_training``, or raise :class:`~curvestat.errors.TrainingPathologyError`.
    every : int
        Check every ``every`` batches (and at every epoch end); default 500.
    confirm, alpha, config, roles, stop_on
        As in :class:`curvestat.Monitor` and :class:`curvestat.integrations._common.Guard`.
    """

    def __init__(self, *, action: str = "warn", every: int = 500, confirm: int = 2, alpha: float | None = None,
                 config: Any = None, roles: Any = None, stop_on: str = "critical") -> None:
        super().__init__()
        self.guard = Guard(action=action, every=every, confirm=confirm, alpha=alpha, config=config, roles=roles,
                           stop_on=stop_on, framework_logger="keras")
        self._epoch = 0
        self._steps_per_epoch: int | None = None
        self._running: dict[str, float] = {}
        self._step = -1

    @property
    def findings(self) -> list[Finding]:
        """Every finding reported so far."""
        return list(self.guard.findings)

    def report(self) -> Report:
        """The full report of the run so far."""
        return self.guard.report()

    def on_train_begin(self, logs: Any = None) -> None:
        steps = (self.params or {}).get("steps")
        self._steps_per_epoch = int(steps) if steps else None
        self.guard.monitor.steps_per_epoch = self._steps_per_epoch

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._epoch = int(epoch)
        self._running = {}

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        k = int(batch) + 1
        self._step += 1
        values: dict[str, float] = {}
        for name, mean in (logs or {}).items():
            from ._common import to_float

            m = to_float(mean)
            if m is None:
                continue
            prev = self._running.get(name)
            values[name] = m if prev is None or k == 1 else k * m - (k - 1) * prev
            self._running[name] = m
        self.guard.log(self._step, values)
        self._after_check(self.guard.maybe_check(self._step))

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        evals = {k: v for k, v in (logs or {}).items() if k.startswith("val_")}
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if lr is not None:
            from ._common import to_float

            evals["learning_rate"] = to_float(lr)
        self.guard.log(max(self._step, 0), evals)
        self._after_check(self.guard.maybe_check(self._step, force=True))

    def on_train_end(self, logs: Any = None) -> None:
        self._after_check(self.guard.maybe_check(self._step, force=True))

    def _after_check(self, new: list[Finding]) -> None:
        if self.guard.stop_requested and self.model is not None:
            self.model.stop_training = True
