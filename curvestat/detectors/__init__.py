"""Detectors: one module per pathology, behind one small protocol.

A detector is any object with a ``name`` and a ``detect(run, config)`` method
returning a list of :class:`~curvestat.report.Finding` (empty when the run
passed the test) or a :class:`~curvestat.report.Skipped` when the run lacks
what the test needs. Peer baselines in :mod:`curvestat.bench` and users' own
detectors implement the same protocol. A detector may also declare the
``pathology`` it tests (its findings then take part in per-pathology FDR
control and in the per-head diagnosis) and the detectors whose findings it
``requires``; a ``detect(run, config, prior=...)`` then receives them as a
frozen :class:`~curvestat.detectors.pipeline.Prior`, and
:func:`~curvestat.detectors.pipeline.order_detectors` runs it after them
(see :mod:`curvestat.detectors.pipeline`).

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

__all__ = ["Detector", "REGISTRY", "ALIASES", "get_detector", "available_detectors"]


@runtime_checkable
class Detector(Protocol):
    """The interface every detector implements.

    Optional attributes: ``pathology`` (a :class:`~curvestat.report.Pathology`
    or its value) and ``requires`` (a tuple of detector names); a ``detect``
    with a ``prior`` parameter receives a
    :class:`~curvestat.detectors.pipeline.Prior`.
    """

    name: str

    def detect(self, run: Run, config: Config) -> Sequence[Finding] | Skipped:
        """Test ``run``; return findings (possibly none) or a Skipped with a reason."""
        ...


#: Built-in detectors: name -> "module:attribute". Each declares the detectors
#: it requires (the order they run in follows from those; this order breaks
#: ties): explosion first, because the others restrict themselves to the part
#: of the run before an explosion's onset; periodic before non-convergence,
#: which then judges the loss averaged over whole periods (one root cause,
#: one finding). Each is named after the pathology it tests, so that text,
#: JSON and CSV outputs use one name per pathology.
REGISTRY: dict[str, str] = {
    "explosion": ".explosion:detector",
    "periodic": ".periodic:detector",
    "non_convergence": ".nonconvergence:detector",
    "overfitting": ".overfitting:detector",
    "metric_contradiction": ".contradiction:detector",
}

#: Earlier names of built-in detectors, still accepted on input (``detectors=``, ``get_detector``).
ALIASES: dict[str, str] = {"nonconvergence": "non_convergence", "contradiction": "metric_contradiction"}

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
