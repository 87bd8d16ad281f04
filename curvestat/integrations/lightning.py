"""PyTorch Lightning callback: curvestat's tests while ``Trainer.fit`` trains.

The step loss comes from ``outputs`` of ``on_train_batch_end`` (what
``training_step`` returned), validation values from
``trainer.callback_metrics`` at ``on_validation_end``, the learning rate from
the first optimiser's first parameter group. A stop request goes through
``trainer.strategy.reduce_boolean_decision`` so that every process of a
distributed run stops together. ``state_dict``/``load_state_dict`` keep the
monitor's history in checkpoints, so a resumed run does not report again what
it reported before.

Examples
--------
>>> from curvestat.integrations.lightning import CurvestatCallback   # doctest: +SKIP
>>> trainer = lightning.Trainer(callbacks=[CurvestatCallback(action="stop")])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError

try:
    try:
        from lightning.pytorch.callbacks import Callback
    except ImportError:
        from pytorch_lightning.callbacks import Callback  # type: ignore[assignment]  # the older package name
except ImportError as exc:  # pragma: no cover - only without lightning
    raise MissingDependencyError(f"curvestat.integrations.lightning needs lightning or pytorch_lightning ({exc})") from exc

from ..report import Finding, Report
from ._common import Guard, to_float

__all__ = ["CurvestatCallback"]


def _step_loss(outputs: Any) -> float | None:
    if isinstance(outputs, dict):
        outputs = outputs.get("loss")
    return to_float(outputs)


class CurvestatCallback(Callback):
    """Monitor a Lightning ``fit`` with curvestat.

    Parameters
    ----------
    action : {"warn", "stop", "raise"}
        What a warning/critical finding does: warn (and log), also ask the
        trainer to stop, or raise :class:`~curvestat.errors.TrainingPathologyError`.
    every : int
        Check every ``every`` optimiser steps (and after every validation); default 500.
    confirm, alpha, config, roles, stop_on
        As in :class:`curvestat.Monitor`.
    """

    def __init__(self, *, action: str = "warn", every: int = 500, confirm: int = 2, alpha: float | None = None,
                 config: Any = None, roles: Any = None, stop_on: str = "critical") -> None:
        super().__init__()
        self.guard = Guard(action=action, every=every, confirm=confirm, alpha=alpha, config=config, roles=roles,
                           stop_on=stop_on, framework_logger="lightning.pytorch")

    @property
    def findings(self) -> list[Finding]:
        """Every finding reported so far."""
        return list(self.guard.findings)

    def report(self) -> Report:
        """The full report of the run so far."""
        return self.guard.report()

    @staticmethod
    def _step(trainer: Any) -> int:
        # global_step has already counted this batch's optimiser step; the
        # loss belongs to the step before (where Lightning's own loggers put it)
        return max(int(trainer.global_step) - 1, 0)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        step = self._step(trainer)
        values: dict[str, Any] = {"train_loss": _step_loss(outputs)}
        try:
            values["lr"] = trainer.optimizers[0].param_groups[0]["lr"]
        except (AttributeError, IndexError, KeyError, TypeError):
            pass
        self.guard.log(step, values)
        self._decide(trainer, self.guard.maybe_check(step))

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        metrics = {k: v for k, v in dict(trainer.callback_metrics).items() if not k.startswith("train")}
        self.guard.log(self._step(trainer), metrics)
        self._decide(trainer, self.guard.maybe_check(self._step(trainer), force=True))

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.guard.maybe_check(force=True)

    def _decide(self, trainer: Any, new: list[Finding]) -> None:
        stop = self.guard.stop_requested
        strategy = getattr(trainer, "strategy", None)
        if strategy is not None and hasattr(strategy, "reduce_boolean_decision"):
            stop = bool(strategy.reduce_boolean_decision(stop, all=False))
        if stop:
            trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return self.guard.monitor.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.guard.monitor.load_state_dict(state_dict)
