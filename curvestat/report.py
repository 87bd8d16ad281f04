"""What a diagnosis returns: :class:`Finding`, :class:`Skipped` and :class:`Report`.

These are plain frozen dataclasses with a stable dictionary form
(:meth:`Report.to_dict`) so that batch tables and JSON outputs keep the same
keys from release to release.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from ._format import p_text
from .errors import ParameterError

__all__ = ["Pathology", "Severity", "Finding", "Skipped", "Report"]


class Pathology(str, Enum):
    """The five pathologies curvestat tests for."""

    NON_CONVERGENCE = "non_convergence"
    EXPLOSION = "explosion"
    METRIC_CONTRADICTION = "metric_contradiction"
    OVERFITTING = "overfitting"
    PERIODIC = "periodic"

    def __str__(self) -> str:
        return self.value


class Severity(str, Enum):
    """How urgently a finding needs attention.

    ``info`` findings are explained or benign observations (a loss bump that a
    logged learning-rate warm restart explains); they do not make a run
    unhealthy.
    """

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    def __str__(self) -> str:
        return self.value


def format_pvalue(p: float | None, *, prefix: str = "", suffix: str = "") -> str:
    """``"p = 0.0031"``, ``"p < 1e-16"`` (below double precision's resolution), or ``""`` for None.

    Examples
    --------
    >>> format_pvalue(0.00312), format_pvalue(0.0), format_pvalue(None)
    ('p = 0.0031', 'p < 1e-16', '')
    """
    text = p_text(p)
    return f"{prefix}{text}{suffix}" if text else ""


def _json_number(x: Any) -> Any:
    """A JSON number, or None (``null``) for NaN and infinities: the output stays strict JSON.

    A non-finite effect size or statistic (a ratio whose denominator is 0) has
    no JSON number; ``null`` says "no finite value", and the finding's
    message carries the words.
    """
    if x is None:
        return None
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return int(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    if not math.isfinite(f):
        return None
    if float(f).is_integer() and hasattr(x, "dtype") and getattr(x.dtype, "kind", "") in "iu":
        return int(f)
    return f


def _json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None, recursively (dicts, lists, tuples)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected pathology in one run.

    Attributes
    ----------
    pathology : Pathology
        Which of the five pathologies.
    kind : str
        Sub-kind, e.g. ``"spike"``, ``"divergence"``, ``"non_finite"``,
        ``"flat"``, ``"bouncing"``, ``"rising"``, ``"u_turn"``,
        ``"split_mismatch"``, ``"degenerate"``.
    series : str
        Name of the series the finding is about (``"val_loss"``, ``"recall"``,
        or several joined by ``","``).
    p_value : float or None
        p-value of the test behind the finding (None for deterministic findings
        such as a NaN loss).
    statistic : float or None
        The test statistic.
    effect : mapping of str to float
        Named effect sizes (e.g. ``{"ratio": 12.5}``), read-only.
    onset_step : int or None
        First step of the pathology, when it can be located.
    period_steps : float or None
        Period of a periodic pattern, in steps.
    severity : Severity
        ``info``, ``warning`` or ``critical``.
    message : str
        One plain sentence with the numbers.
    remedies : tuple of str
        What a practitioner would try, most likely first.
    detector : str
        Name of the detector that produced the finding.

    Notes
    -----
    Findings are immutable and hashable (a set of findings, a finding as a
    dictionary key); :func:`dataclasses.replace` makes a changed copy.
    """

    pathology: Pathology
    kind: str
    series: str
    p_value: float | None = None
    statistic: float | None = None
    effect: Mapping[str, float] = field(default_factory=dict)
    onset_step: int | None = None
    period_steps: float | None = None
    severity: Severity = Severity.WARNING
    message: str = ""
    remedies: Sequence[str] = ()
    detector: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "pathology", Pathology(self.pathology))
            object.__setattr__(self, "severity", Severity(self.severity))
        except ValueError as exc:
            raise ParameterError(f"Finding: {exc}") from None
        if self.p_value is not None and not (0.0 <= float(self.p_value) <= 1.0):
            raise ParameterError(f"Finding.p_value must lie in [0, 1], got {self.p_value!r}")
        object.__setattr__(self, "effect", MappingProxyType(dict(self.effect)))
        object.__setattr__(self, "remedies", tuple(self.remedies))
        if self.onset_step is not None:
            object.__setattr__(self, "onset_step", int(self.onset_step))
        if self.period_steps is not None:
            object.__setattr__(self, "period_steps", float(self.period_steps))

    def _key(self) -> tuple[Any, ...]:
        return (self.pathology, self.kind, self.series, self.p_value, self.statistic,
                tuple(sorted((str(k), v) for k, v in self.effect.items())), self.onset_step, self.period_steps,
                self.severity, self.message, self.remedies, self.detector)

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        # the read-only effect view does not pickle; its dict does
        return (Finding, (self.pathology, self.kind, self.series, self.p_value, self.statistic, dict(self.effect),
                          self.onset_step, self.period_steps, self.severity, self.message, self.remedies, self.detector))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form with stable keys."""
        return {
            "pathology": self.pathology.value,
            "kind": self.kind,
            "series": self.series,
            "p_value": _json_number(self.p_value),
            "statistic": _json_number(self.statistic),
            "effect": {str(k): _json_number(v) for k, v in self.effect.items()},
            "onset_step": self.onset_step,
            "period_steps": _json_number(self.period_steps),
            "severity": self.severity.value,
            "message": self.message,
            "remedies": list(self.remedies),
            "detector": self.detector,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A detector that could not run on this run, and why.

    Attributes
    ----------
    detector : str
        Name of the detector.
    reason : str
        Plain sentence, e.g. ``"no validation-loss series"``.
    """

    detector: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form with stable keys."""
        return {"detector": self.detector, "reason": self.reason}


_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Report:
    """The diagnosis of one run.

    Attributes
    ----------
    findings : tuple of Finding
        Everything detected, most severe first.
    skipped : tuple of Skipped
        Detectors that could not run, with reasons.
    run_id : str or None
        The run's identifier.
    source : str or None
        Where the run was read from.
    detectors : tuple of str
        Detectors that ran (whether or not they found anything).
    series : dict
        Name, role and length of each series in the run.
    run : Run or None
        The run that was diagnosed (kept for :meth:`plot`; not part of
        :meth:`to_dict` or of equality).
    """

    findings: Sequence[Finding] = ()
    skipped: Sequence[Skipped] = ()
    run_id: str | None = None
    source: str | None = None
    detectors: Sequence[str] = ()
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    run: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = sorted(self.findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.onset_step if f.onset_step is not None else -1))
        object.__setattr__(self, "findings", tuple(ordered))
        object.__setattr__(self, "skipped", tuple(self.skipped))
        object.__setattr__(self, "detectors", tuple(self.detectors))

    @property
    def judged(self) -> bool:
        """True when at least one detector ran (a run too short for every test, or a file that is no training log, is not judged)."""
        return bool(self.detectors)

    @property
    def healthy(self) -> bool:
        """True when the run was judged and no finding of severity ``warning`` or ``critical`` was made.

        ``info`` notes never make a run unhealthy. A detector that was
        skipped does not count as evidence of health (see :attr:`skipped`),
        and a run on which no detector could run is not healthy but *not
        judged* (:attr:`status`).
        """
        return self.judged and not any(f.severity is not Severity.INFO for f in self.findings)

    @property
    def status(self) -> str:
        """``"healthy"``, ``"flagged"`` (a warning or critical finding) or ``"not_judged"`` (no detector ran)."""
        if any(f.severity is not Severity.INFO for f in self.findings):
            return "flagged"
        return "healthy" if self.judged else "not_judged"

    @property
    def pathologies(self) -> list[Pathology]:
        """Distinct pathologies among the non-info findings, most severe first."""
        seen: list[Pathology] = []
        for f in self.findings:
            if f.severity is not Severity.INFO and f.pathology not in seen:
                seen.append(f.pathology)
        return seen

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form with stable keys."""
        return {
            "run_id": self.run_id,
            "source": self.source,
            "healthy": self.healthy,
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "detectors": list(self.detectors),
            "series": {k: dict(v) for k, v in self.series.items()},
            "status": self.status,
        }

    @property
    def step_unit(self) -> str:
        """``"epoch"`` when the run's x-axis is the epoch (``steps_per_epoch == 1``, as the Keras readers set it), else ``"step"``."""
        return "epoch" if getattr(self.run, "steps_per_epoch", None) == 1 else "step"

    def _series_line(self) -> str:
        if not self.series:
            return ""
        used: list[str] = []
        ignored: list[str] = []
        for name, info in self.series.items():
            role = info.get("role", "other")
            primary = ", primary" if info.get("primary") else ""
            (ignored if role == "other" else used).append(f"{name} ({role.replace('_', ' ')}{primary}, {info.get('n', '?')} points)"
                                                         if role != "other" else name)
        line = "  series: " + ", ".join(used) if used else "  series: none with a known role"
        if ignored:
            shown = ", ".join(ignored[:6]) + (f" and {len(ignored) - 6} more" if len(ignored) > 6 else "")
            line += f"; not analysed: {shown}"
        return line

    def summary(self) -> str:
        """A human-readable multi-line summary: status, the series analysed, each finding, skipped detectors."""
        title = f"run {self.run_id}" if self.run_id else "run"
        status = self.status
        if status == "flagged":
            flagged = [f for f in self.findings if f.severity is not Severity.INFO]
            names = ", ".join(p.value for p in self.pathologies)
            head = f"{title}: flagged, {len(flagged)} finding{'s' if len(flagged) != 1 else ''}: {names}"
        elif status == "healthy":
            notes = len(self.findings)  # only info notes: they never make a run unhealthy
            extra = [f"{notes} note{'s' if notes != 1 else ''}"] if notes else []
            if self.skipped:
                ran = len(self.detectors)
                extra.append(f"{ran} of {ran + len(self.skipped)} detectors could run")
            head = f"{title}: healthy" + (f" ({'; '.join(extra)})" if extra else "")
        else:
            head = f"{title}: not judged (no detector could run on it)"
        lines = [head]
        series = self._series_line()
        if series:
            lines.append(series)
        unit = self.step_unit
        for f in self.findings:
            where = f" from {unit} {f.onset_step}" if f.onset_step is not None else ""
            lines.append(f"  [{f.severity.value}] {f.pathology.value}/{f.kind} in {f.series}{where}{format_pvalue(f.p_value, prefix=' (', suffix=')')}")
            lines.append(f"      {f.message}")
            for r in f.remedies:
                lines.append(f"      - {r}")
        for s in self.skipped:
            lines.append(f"  [skipped] {s.detector}: {s.reason}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Any = None) -> Any:
        """Draw the run with every finding where it happens; return the matplotlib Figure.

        See :func:`curvestat.plot.plot_report` (needs ``matplotlib``).

        Raises
        ------
        ParameterError
            If the report does not hold its run (built by hand, or read back
            from JSON).
        """
        if self.run is None:
            raise ParameterError("this report does not hold its run; draw it with curvestat.plot(source)")
        from .plot import plot_report

        return plot_report(self, self.run, ax=ax)
