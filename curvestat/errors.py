"""Exceptions and warnings raised by curvestat.

Every error curvestat raises on bad input or bad parameters is a subclass of
:class:`CurvestatError`, so one ``except CurvestatError`` catches them all.
Where a Python built-in fits, the specific classes also derive from it
(``ValueError``, ``TypeError``, ``LookupError``, ``OSError``) so that code
written against the built-ins keeps working.

Warnings derive from :class:`CurvestatWarning`, itself a ``RuntimeWarning``.
"""

from __future__ import annotations

__all__ = [
    "CurvestatError",
    "InputError",
    "EmptySeriesError",
    "InvalidStepsError",
    "LengthMismatchError",
    "ParseError",
    "UnknownFormatError",
    "UnreadableSourceError",
    "MissingSeriesError",
    "ParameterError",
    "InsufficientDataError",
    "MissingDependencyError",
    "CurvestatWarning",
    "DuplicateStepsWarning",
    "StepRestartWarning",
    "TruncatedSourceWarning",
    "TrainingPathologyError",
    "LiveFindingWarning",
]


class CurvestatError(Exception):
    """Root of every error raised by curvestat."""


class InputError(CurvestatError, ValueError):
    """The data handed to curvestat cannot be turned into a valid run."""


class EmptySeriesError(InputError):
    """A series (or a whole source) holds no usable point."""


class InvalidStepsError(InputError):
    """Steps are not strictly increasing non-negative integers."""


class LengthMismatchError(InputError):
    """Steps and values (or columns of a mapping) differ in length."""


class ParseError(InputError):
    """A file or cell could not be parsed (non-numeric cell, malformed line, ...)."""


class UnknownFormatError(InputError):
    """The format of a source could not be recognised."""


class UnreadableSourceError(CurvestatError, OSError):
    """A path does not exist, is not readable, or is not a text file."""


class MissingSeriesError(CurvestatError, LookupError):
    """A series that was asked for (by name or role) is not in the run."""

    def __str__(self) -> str:  # LookupError would repr() the message
        return str(self.args[0]) if self.args else ""


class ParameterError(CurvestatError, ValueError):
    """A function argument is out of its documented domain."""


class InsufficientDataError(CurvestatError, ValueError):
    """A statistical test got fewer points than it needs."""


class MissingDependencyError(CurvestatError, ImportError):
    """An optional dependency needed for this source is not installed (the message names the extra)."""


class CurvestatWarning(RuntimeWarning):
    """Root of every warning emitted by curvestat."""


class DuplicateStepsWarning(CurvestatWarning):
    """A file logged the same step twice for one series; the last value was kept."""


class StepRestartWarning(CurvestatWarning):
    """A file's steps went backwards (a resumed or appended run); the newest segment was kept."""


class TruncatedSourceWarning(CurvestatWarning):
    """A log ends in an incomplete or corrupt record; the complete records before it were read."""


class TrainingPathologyError(CurvestatError, RuntimeError):
    """A live-monitoring callback with ``action="raise"`` found a pathology; ``.finding`` holds it."""

    def __init__(self, message: str, *, finding: object = None) -> None:
        super().__init__(message)
        self.finding = finding


class LiveFindingWarning(CurvestatWarning):
    """A live-monitoring callback found a pathology while the model trains."""
