"""Detectors: one module per pathology, behind one small protocol.

A detector is any object with a ``name`` and a ``detect(run, config)`` method
returning a list of :class:`~curvestat.report.Finding` (empty when the run
passed the test) or a :class:`~curvestat.report.Skipped` when the run lacks
what the test needs. Peer baselines in :mod:`curvestat.bench` and users' own
detectors implement the same protocol.

The built-in detectors are listed in :data:`REGISTRY` by import path and loaded
lazily, so that ``import curvestat`` compiles and imports nothing heavy.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..config import Config
    from ..report import Finding, Skipped
    from ..run import Run

__all__ = ["Detector", "REGISTRY", "PATHOLOGY_OF", "get_detector", "available_detectors"]


@runtime_checkable
class Detector(Protocol):
    """The interface every detector implements."""

    name: str

    def detect(self, run: "Run", config: "Config") -> "Sequence[Finding] | Skipped":
        """Test ``run``; return findings (possibly none) or a Skipped with a reason."""
        ...


#: Built-in detectors: name -> "module:attribute", in the order analyze() runs them.
#: Explosion runs first because the others restrict themselves to the part of
#: the run before an explosion's onset; periodic runs before non-convergence,
#: which then judges the loss averaged over whole periods (one root cause,
#: one finding).
REGISTRY: dict[str, str] = {
    "explosion": ".explosion:detector",
    "periodic": ".periodic:detector",
    "nonconvergence": ".nonconvergence:detector",
    "overfitting": ".overfitting:detector",
    "contradiction": ".contradiction:detector",
}

#: The pathology each built-in detector tests (used for FDR control across runs).
PATHOLOGY_OF: dict[str, str] = {
    "explosion": "explosion",
    "nonconvergence": "non_convergence",
    "contradiction": "metric_contradiction",
    "overfitting": "overfitting",
    "periodic": "periodic",
}

_LOADED: dict[str, Detector] = {}


def available_detectors() -> list[str]:
    """Names of the built-in detectors, in run order."""
    return list(REGISTRY)


def get_detector(name: str) -> Detector:
    """Load a built-in detector by name.

    Raises
    ------
    ParameterError
        If no detector has that name.
    """
    from ..errors import ParameterError

    if name not in REGISTRY:
        raise ParameterError(f"unknown detector {name!r}; available: {available_detectors()}")
    if name not in _LOADED:
        module, attr = REGISTRY[name].split(":")
        _LOADED[name] = getattr(importlib.import_module(module, __name__), attr)
    return _LOADED[name]
