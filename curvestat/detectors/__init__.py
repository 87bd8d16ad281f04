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

__all__ = ["Detector", "REGISTRY", "ALIASES", "PATHOLOGY_OF", "get_detector", "available_detectors"]


@runtime_checkable
class Detector(Protocol):
    """The interface every detector implements."""

    name: str

    def detect(self, run: "Run", config: "Config") -> "Sequence[Finding] | Skipped":
        """Test ``run``; return findings (possibly none) or a Skipped with a reason."""
        ...


#: Built-in detectors: name -> "module:attribute", in the order analyze() runs them.
#: Each is named after the pathology it tests, so that text, JSON and CSV
#: outputs use one name per pathology.
#: Explosion runs first because the others restrict themselves to the part of
#: the run before an explosion's onset; periodic runs before non-convergence,
#: which then judges the loss averaged over whole periods (one root cause,
#: one finding).
REGISTRY: dict[str, str] = {
    "explosion": ".explosion:detector",
    "periodic": ".periodic:detector",
    "non_convergence": ".nonconvergence:detector",
    "overfitting": ".overfitting:detector",
    "metric_contradiction": ".contradiction:detector",
}

#: Earlier names of built-in detectors, still accepted on input (``detectors=``, ``get_detector``).
ALIASES: dict[str, str] = {"nonconvergence": "non_convergence", "contradiction": "metric_contradiction"}

#: The pathology each built-in detector tests (used for FDR control across runs).
PATHOLOGY_OF: dict[str, str] = {
    "explosion": "explosion",
    "non_convergence": "non_convergence",
    "metric_contradiction": "metric_contradiction",
    "overfitting": "overfitting",
    "periodic": "periodic",
}

_LOADED: dict[str, Detector] = {}


def available_detectors() -> list[str]:
    """Names of the built-in detectors, in run order."""
    return list(REGISTRY)


def get_detector(name: str) -> Detector:
    """Load a built-in detector by name (a pathology name; the earlier names in :data:`ALIASES` also work).

    Raises
    ------
    ParameterError
        If no detector has that name.
    """
    from ..errors import ParameterError

    name = ALIASES.get(name, name)
    if name not in REGISTRY:
        raise ParameterError(f"unknown detector {name!r}; available: {available_detectors()}")
    if name not in _LOADED:
        module, attr = REGISTRY[name].split(":")
        _LOADED[name] = getattr(importlib.import_module(module, __name__), attr)
    return _LOADED[name]
