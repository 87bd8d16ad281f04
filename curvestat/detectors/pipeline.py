"""The detector pipeline: declared dependencies, one call path, a frozen prior.

Every detector declares its ``name``, the ``pathology`` it tests and the
detectors whose findings it ``requires`` (built-in ones: explosion first,
since the others judge the run before a sustained explosion; periodic before
non-convergence, which judges a periodic loss by its means over whole
periods). :func:`order_detectors` sorts the chosen detectors topologically,
so that the order a caller lists them in never changes a result, and
:func:`call_detector` is the one way a detector is called, by
:func:`curvestat.analyze.run_detectors` (hence ``analyze``, ``analyze_many``,
the monitor and ``curvestat bench``) and by :func:`curvestat.testing.check_detector`.

A detector whose ``detect`` has a parameter named ``prior`` receives a
:class:`Prior`: the findings of the detectors it requires that ran before it
on this run. A detector with the two-argument protocol ``detect(run,
config)`` (a user's) is called with those two arguments; its signature is
inspected once per function.
"""

from __future__ import annotations

import heapq
import inspect
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from ..report import Finding, Pathology, Severity, Skipped

if TYPE_CHECKING:
    from ..config import Config
    from ..run import Run
    from . import Detector

__all__ = [
    "Prior",
    "explosion_onset",
    "pathology_of",
    "requires_of",
    "resolve_detectors",
    "order_detectors",
    "call_detector",
    "run_chain",
]


@dataclass(frozen=True, slots=True)
class Prior:
    """What a detector may read of the detectors that ran before it on the same run.

    Attributes
    ----------
    findings : Mapping of str to tuple of Finding
        Read-only ``{detector name: its findings}`` for each required
        detector that ran (a detector that was skipped is absent; one that
        ran and found nothing maps to an empty tuple).
    """

    findings: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {str(k): tuple(v) for k, v in dict(self.findings).items()}
        object.__setattr__(self, "findings", MappingProxyType(frozen))

    def of(self, name: str) -> tuple[Finding, ...]:
        """Findings of detector ``name`` (empty when it did not run or found nothing)."""
        return self.findings.get(name, ())

    def __contains__(self, name: object) -> bool:
        return name in self.findings


#: The prior of a detector none of whose requirements ran.
EMPTY_PRIOR = Prior()


def explosion_onset(prior: Prior | None) -> int | None:
    """Earliest onset of a *sustained* explosion found earlier in this run, or None.

    Spikes recover and explained (info) jumps are not explosions of the run,
    so they do not cut it; a divergence or a non-finite loss does: the other
    detectors judge the run before it (one root cause, one finding).
    """
    if prior is None:
        return None
    onsets = [
        f.onset_step
        for f in prior.of("explosion")
        if f.onset_step is not None and f.kind != "spike" and f.severity is not Severity.INFO
    ]
    return min(onsets) if onsets else None


def pathology_of(det: Any) -> Pathology | None:
    """The pathology ``det`` declares (None when it declares none, or one curvestat does not know)."""
    declared = getattr(det, "pathology", None)
    if declared is None:
        return None
    try:
        return Pathology(declared)
    except ValueError:
        return None


def requires_of(det: Any) -> tuple[str, ...]:
    """Names of the detectors ``det`` declares it requires (none by default).

    Raises
    ------
    ParameterError
        If ``requires`` is not a string or an iterable of strings.
    """
    req = getattr(det, "requires", ())
    if isinstance(req, str):
        return (req,)
    try:
        out = tuple(req)
    except TypeError:
        raise ParameterError(f"detector {getattr(det, 'name', det)!r}: requires must be detector names, got {req!r}") from None
    if not all(isinstance(r, str) for r in out):
        raise ParameterError(f"detector {getattr(det, 'name', det)!r}: requires must be detector names, got {req!r}")
    return out


def resolve_detectors(detectors: Iterable[Any] | None) -> list[Detector]:
    """Detector objects for names (built-in) or objects, in the caller's order.

    Raises
    ------
    ParameterError
        On an unknown name or an object without ``name`` and ``detect``.
    """
    from . import Detector, available_detectors, get_detector

    if detectors is None:
        return [get_detector(n) for n in available_detectors()]
    out: list[Detector] = []
    for d in detectors:
        if isinstance(d, str):
            out.append(get_detector(d))
        elif isinstance(d, Detector):
            out.append(d)
        else:
            raise ParameterError(f"a detector must be a name or have .name and .detect(run, config), got {d!r}")
    return out


def order_detectors(detectors: Sequence[Detector]) -> list[Detector]:
    """Sort ``detectors`` so that each runs after the detectors it requires.

    A stable topological sort over a canonical order (the built-in
    detectors in :data:`~curvestat.detectors.REGISTRY` order, then other
    detectors by name), so that any permutation of the same detectors gives
    the same order. A requirement that is not among ``detectors`` orders
    nothing (the detector then sees no findings of it).

    Raises
    ------
    ParameterError
        If two detectors share a name, or the requirements form a cycle.
    """
    from . import REGISTRY

    names = [str(getattr(d, "name", type(d).__name__)) for d in detectors]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ParameterError(f"detector names must be unique in one analysis, got {dup} more than once")
    builtin = {n: i for i, n in enumerate(REGISTRY)}
    rank = {n: (builtin.get(n, len(builtin)), n) for n in names}
    by_name = dict(zip(names, detectors))
    needs = {n: {r for r in requires_of(by_name[n]) if r in by_name} for n in names}
    users: dict[str, list[str]] = {n: [] for n in names}
    for n, reqs in needs.items():
        for r in reqs:
            users[r].append(n)
    waiting = {n: len(reqs) for n, reqs in needs.items()}
    ready = [(rank[n], n) for n in names if waiting[n] == 0]
    heapq.heapify(ready)
    out: list[Detector] = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(by_name[n])
        for u in users[n]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, (rank[u], u))
    if len(out) != len(names):
        cycle = sorted(n for n in names if waiting[n] > 0)
        raise ParameterError(f"the requirements of detectors {cycle} form a cycle")
    return out


# How each detect function takes its arguments, inspected once per function:
# "prior" (run, config, prior=...), "config" (run, config) or "run" (run).
_STYLES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _style_of(meth: Any) -> str:
    try:
        sig = inspect.signature(meth)
    except (TypeError, ValueError):  # a builtin without a signature: the protocol
        return "config"
    params = list(sig.parameters.values())
    if "prior" in sig.parameters and sig.parameters["prior"].kind is not inspect.Parameter.POSITIONAL_ONLY:
        return "prior"
    positional = [p for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2 and not any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return "run"
    return "config"


def _call_style(det: Any) -> str:
    meth = det.detect
    key = getattr(meth, "__func__", None)
    if key is None:
        return _style_of(meth)
    style = _STYLES.get(key)
    if style is None:
        style = _STYLES[key] = _style_of(meth)
    return style


def call_detector(det: Any, run: Run, config: Config, prior: Prior | None = None) -> Sequence[Finding] | Skipped:
    """Call ``det`` on ``run`` the way its ``detect`` is declared.

    ``detect(run, config, prior=...)`` receives ``prior`` (an empty one when
    None); ``detect(run, config)`` the two arguments; ``detect(run)`` the run.
    """
    style = _call_style(det)
    if style == "prior":
        return det.detect(run, config, prior=EMPTY_PRIOR if prior is None else prior)
    if style == "run":
        return det.detect(run)
    return det.detect(run, config)


def run_chain(
    run: Run,
    config: Config,
    detectors: Sequence[Detector],
    known: Mapping[str, Sequence[Finding]] | None = None,
) -> tuple[list[Finding], list[Skipped], list[str], dict[str, tuple[Finding, ...]]]:
    """Run ``detectors`` on ``run`` in dependency order.

    Parameters
    ----------
    run, config
        What each detector is called with.
    detectors : sequence of Detector
        Sorted by :func:`order_detectors` here.
    known : mapping of str to sequence of Finding, optional
        Findings already known for this run (of detectors not among
        ``detectors``), offered to the detectors that require them.

    Returns
    -------
    findings, skipped, ran, by_name
        All findings in run order, the skipped detectors, the names of the
        detectors that ran, and ``{name: findings}`` of those (with ``known``).

    Raises
    ------
    ParameterError
        If a detector returns something other than findings or a Skipped.
    """
    from ..errors import InsufficientDataError

    by_name: dict[str, tuple[Finding, ...]] = {k: tuple(v) for k, v in (known or {}).items()}
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    ran: list[str] = []
    for det in order_detectors(detectors):
        name = getattr(det, "name", type(det).__name__)
        prior = Prior({r: by_name[r] for r in requires_of(det) if r in by_name})
        try:
            out = call_detector(det, run, config, prior)
        except InsufficientDataError as exc:
            skipped.append(Skipped(name, str(exc)))
            continue
        if isinstance(out, Skipped):
            skipped.append(out)
            continue
        if not isinstance(out, Iterable):
            raise ParameterError(f"detector {name!r} returned {type(out).__name__}, expected a list of Finding or a Skipped")
        got = tuple(out)
        for f in got:
            if not isinstance(f, Finding):
                raise ParameterError(f"detector {name!r} returned {type(f).__name__}, expected Finding")
        ran.append(name)
        findings.extend(got)
        by_name[name] = got
    return findings, skipped, ran, by_name
