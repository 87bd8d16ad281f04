"""What every framework callback shares: a Monitor, the action taken on a finding, the message."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from typing import Any

from ..errors import LiveFindingWarning, ParameterError, TrainingPathologyError
from ..monitor import Monitor
from ..report import Finding, Report, Severity, format_pvalue

ACTIONS = ("warn", "stop", "raise")

logger = logging.getLogger("curvestat")


def describe(f: Finding) -> str:
    """One line: what was found, the statistic, the onset step and the first remedy."""
    where = f" from step {f.onset_step}" if f.onset_step is not None else ""
    stat = "" if f.statistic is None or not math.isfinite(f.statistic) else f", statistic {f.statistic:.3g}"
    p = format_pvalue(f.p_value, prefix=", ")
    remedy = f" Try: {f.remedies[0]}" if f.remedies else ""
    return f"curvestat: [{f.severity.value}] {f.pathology.value}/{f.kind} in {f.series}{where}{p}{stat}. {f.message}{remedy}"


def to_float(x: Any) -> float | None:
    """A framework value (Python number, numpy or torch scalar) as a float; None if it is none."""
    if x is None:
        return None
    item = getattr(x, "item", None)
    if callable(item):
        try:
            x = item()
        except (TypeError, ValueError, RuntimeError):  # not a one-element tensor
            return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


class Guard:
    """A Monitor plus the action taken on each new finding."""

    def __init__(self, *, action: str = "warn", every: int = 500, confirm: int = 2, alpha: float | None = None,
                 config: Any = None, roles: Mapping[str, str] | None = None, steps_per_epoch: int | None = None,
                 stop_on: str = "critical", framework_logger: str | None = None) -> None:
        if action not in ACTIONS:
            raise ParameterError(f"action must be one of {ACTIONS}, got {action!r}")
        if stop_on not in ("warning", "critical"):
            raise ParameterError(f"stop_on must be 'warning' or 'critical', got {stop_on!r}")
        self.action = action
        self.stop_on = Severity(stop_on)
        self.monitor = Monitor(config=config, alpha=alpha, every=every, confirm=confirm, roles=roles,
                               steps_per_epoch=steps_per_epoch)
        self.findings: list[Finding] = []
        self.stop_requested = False
        # findings go to curvestat's logger and to the framework's own
        self._loggers = [logger] + ([logging.getLogger(framework_logger)] if framework_logger else [])

    def log(self, step: int, values: Mapping[str, Any]) -> None:
        clean = {str(k): v for k, v in ((k, to_float(v)) for k, v in values.items()) if v is not None}
        if clean:
            self.monitor.log(int(step), **clean)

    def maybe_check(self, step: int | None = None, *, force: bool = False) -> list[Finding]:
        if not (force or self.monitor.should_check(step)):
            return []
        return self._act(self.monitor.check())

    def _act(self, new: list[Finding]) -> list[Finding]:
        for f in new:
            self.findings.append(f)
            text = describe(f)
            if f.severity is Severity.INFO:
                for log in self._loggers:
                    log.info(text)
                continue
            for log in self._loggers:
                log.warning(text)
            severe = f.severity is Severity.CRITICAL or self.stop_on is Severity.WARNING
            if self.action == "raise" and severe:
                raise TrainingPathologyError(text, finding=f)
            if self.action == "stop" and severe:
                self.stop_requested = True
            warnings.warn(text, LiveFindingWarning, stacklevel=3)
        return new

    def report(self) -> Report:
        from ..analyze import run_detectors
        from ..detectors.pipeline import resolve_detectors

        return run_detectors(self.monitor.run(), self.monitor.config, resolve_detectors(None))
