"""curvestat: formal statistical diagnosis of machine-learning training curves.

>>> import curvestat
>>> report = curvestat.analyze("metrics.csv")      # doctest: +SKIP
>>> print(report.summary())                        # doctest: +SKIP
"""

from ._version import __version__
from .analyze import analyze
from .batch import BatchResult, BatchRow, analyze_many, iter_analyze
from .config import Config
from .errors import CurvestatError, CurvestatWarning
from .report import Finding, Pathology, Report, Severity, Skipped
from .run import Role, Run, Series
from .monitor import Monitor
from .plot import plot

__all__ = [
    "__version__",
    "analyze",
    "analyze_many",
    "iter_analyze",
    "BatchResult",
    "BatchRow",
    "Config",
    "CurvestatError",
    "CurvestatWarning",
    "Finding",
    "Monitor",
    "Pathology",
    "plot",
    "Report",
    "Role",
    "Run",
    "Series",
    "Severity",
    "Skipped",
]
