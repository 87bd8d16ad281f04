"""Hugging Face Trainer callback: curvestat's tests while ``Trainer.train`` runs.

``on_log`` receives what the Trainer logs every ``logging_steps`` (the train
loss averaged over those steps, ``learning_rate``, ``grad_norm``),
``on_evaluate`` the evaluation metrics (``eval_loss``, ``eval_*``); a stop
request sets ``control.should_training_stop``.

The Trainer's default ``logging_nan_inf_filter=True`` replaces a NaN or
infinite step loss by the mean of the finite ones before it is logged, so no
log (and no callback) ever sees it; the callback warns once when the option is
on, because an explosion to NaN then shows only as a loss that stops moving.

Examples
--------
>>> from curvestat.integrations.transformers import CurvestatCallback   # doctest: +SKIP
>>> trainer = Trainer(model=model, args=args, callbacks=[CurvestatCallback(action="stop")])  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from typing import Any

from ..errors import CurvestatWarning, MissingDependencyError

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - only without transformers
    raise MissingDependencyError(f"curvestat.integrations.transformers needs transformers ({exc})") from exc

from ..report import Finding, Report
from ._common import Guard

__all__ = ["CurvestatCallback"]

_NOT_CURVES = ("epoch", "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second")


class CurvestatCallback(TrainerCallback):
    """Monitor a Hugging Face ``Trainer`` with curvestat.

    Parameters
    ----------
    action : {"warn", "stop", "raise"}
        What a warning/critical finding does: warn (and log), also set
        ``control.should_training_stop``, or raise
        :class:`~curvestat.errors.TrainingPathologyError`.
    every : int
        Check every ``every`` optimiser steps (and after every evaluation); default 500.
    confirm, alpha, config, roles, stop_on
        As in :class:`curvestat.Monitor`.
    """

    def __init__(self, *, action: str = "warn", every: int = 500, confirm: int = 2, alpha: float | None = None,
                 config: Any = None, roles: Any = None, stop_on: str = "critical") -> None:
        self.guard = Guard(action=action, every=every, confirm=confirm, alpha=alpha, config=config, roles=roles,
                           stop_on=stop_on, framework_logger="transformers")
        self._warned_filter = False

    @property
    def findings(self) -> list[Finding]:
        """Every finding reported so far."""
        return list(self.guard.findings)

    def report(self) -> Report:
        """The full report of the run so far."""
        return self.guard.report()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if getattr(args, "logging_nan_inf_filter", False) and not self._warned_filter:
            self._warned_filter = True
            warnings.warn(
                "curvestat: TrainingArguments.logging_nan_inf_filter=True (the default) replaces NaN/Inf losses "
                "before they are logged, so no log shows an explosion to NaN; set logging_nan_inf_filter=False",
                CurvestatWarning, stacklevel=2)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        values = {k: v for k, v in (logs or {}).items() if k not in _NOT_CURVES and not k.startswith("eval_")}
        self.guard.log(int(state.global_step), values)
        self._decide(control, self.guard.maybe_check(int(state.global_step)))

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
        values = {k: v for k, v in (metrics or {}).items()
                  if k.startswith("eval_") and not k.endswith(("_runtime", "_per_second"))}
        self.guard.log(int(state.global_step), values)
        self._decide(control, self.guard.maybe_check(int(state.global_step), force=True))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.guard.maybe_check(force=True)

    def _decide(self, control: Any, new: list[Finding]) -> None:
        if self.guard.stop_requested:
            control.should_training_stop = True
