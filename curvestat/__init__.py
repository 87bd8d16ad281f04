"""curvestat: formal statistical diagnosis of machine-learning training curves.

>>> import curvestat
>>> report = curvestat.analyze("metrics.csv")      # doctest: +SKIP
>>> print(report.summary())                        # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import CurvestatError, CurvestatWarning

if TYPE_CHECKING:  # the public names, for type checkers and IDEs
    from .analyze import analyze
    from .batch import BatchResult, BatchRow, analyze_many, iter_analyze
    from .config import Config
    from .monitor import Monitor
    from .plot import plot
    from .report import Finding, Pathology, Report, Severity, Skipped
    from .run import Role, Run, Series

# The public names are imported on first use (PEP 562), so that ``import
# curvestat`` (and every ``curvestat`` command, ``--version`` first) does not
# pay for numpy, scipy and numba before it needs them.
_LAZY = {
    "analyze": ".analyze",
    "analyze_many": ".batch",
    "iter_analyze": ".batch",
    "BatchResult": ".batch",
    "BatchRow": ".batch",
    "Config": ".config",
    "Finding": ".report",
    "Pathology": ".report",
    "Report": ".report",
    "Severity": ".report",
    "Skipped": ".report",
    "Role": ".run",
    "Run": ".run",
    "Series": ".run",
    "Monitor": ".monitor",
    "plot": ".plot",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """``curvestat.analyze`` and ``curvestat.plot`` are functions, though submodules of those names exist.

    Importing a submodule binds it on the package, over the function of the
    same name; this keeps the function in front, as the eager imports did.
    """

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if (name == "analyze" or name == "plot") and isinstance(value, types.ModuleType):
            return getattr(value, name)
        return value


sys.modules[__name__].__class__ = _Package

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
