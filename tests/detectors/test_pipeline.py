"""The detector pipeline: declared requirements, order invariance, one call path."""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pytest

import curvestat
from curvestat.analyze import run_detectors
from curvestat.bench import synthetic
from curvestat.bench.runner import _detect_one
from curvestat.config import Config
from curvestat.detectors import REGISTRY, available_detectors, get_detector
from curvestat.detectors.pipeline import (
    _STYLES,
    Prior,
    call_detector,
    explosion_onset,
    order_detectors,
    pathology_of,
    requires_of,
)
from curvestat.errors import CurvestatError, ParameterError
from curvestat.examples import EXAMPLES, example_path
from curvestat.report import Finding, Pathology, Skipped
from curvestat.testing import check_detector


def _key(report):
    return (
        [f.to_dict() for f in report.findings],
        [s.to_dict() for s in report.skipped],
        list(report.detectors),
    )


def _runs():
    runs = [curvestat.io.read(example_path(n)) for n in EXAMPLES]
    # a few synthetic runs of each kind the generator draws (seeded)
    corpus = synthetic(60, seed=3)
    seen: dict[str, int] = {}
    for item in corpus:
        label = ",".join(sorted(item.truth.labels)) or "healthy"
        if seen.get(label, 0) < 2:
            seen[label] = seen.get(label, 0) + 1
            runs.append(item.run)
    return runs


RUNS = _runs()


def test_every_builtin_detector_declares_name_pathology_and_requires():
    for name in available_detectors():
        det = get_detector(name)
        assert det.name == name
        assert isinstance(pathology_of(det), Pathology)
        assert all(r in REGISTRY for r in requires_of(det))
    assert {pathology_of(get_detector(n)) for n in available_detectors()} == set(Pathology)


def test_every_permutation_of_the_builtins_runs_in_one_order():
    dets = [get_detector(n) for n in available_detectors()]
    want = [d.name for d in order_detectors(dets)]
    assert want == available_detectors()
    for perm in itertools.permutations(dets):
        assert [d.name for d in order_detectors(list(perm))] == want
    # and each detector comes after what it requires, in any subset
    for k in range(1, len(dets) + 1):
        for sub in itertools.combinations(dets, k):
            got = [d.name for d in order_detectors(list(reversed(sub)))]
            for i, n in enumerate(got):
                assert not set(requires_of(get_detector(n))) & set(got[i + 1:])


@pytest.mark.parametrize("index", range(len(RUNS)))
def test_the_order_of_detectors_never_changes_a_report(index):
    run = RUNS[index]
    names = available_detectors()
    rng = np.random.default_rng(index)
    perms = [list(reversed(names))] + [list(rng.permutation(names)) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _key(curvestat.analyze(run))
        for perm in perms:
            assert _key(curvestat.analyze(run, detectors=perm)) == want, perm
        # pairs whose order the requirements decide
        for pair in (["nonconvergence", "periodic"], ["overfitting", "explosion"], ["contradiction", "explosion"]):
            a = _key(curvestat.analyze(run, detectors=pair))
            assert _key(curvestat.analyze(run, detectors=pair[::-1])) == a, pair


class _Mine:
    """A user's detector: the two-argument protocol, nothing declared."""

    name = "mine"

    def __init__(self):
        self.calls = 0

    def detect(self, run, config):
        self.calls += 1
        if run.train_loss is None:
            return Skipped(self.name, "no train loss")
        return [Finding("periodic", "custom", run.train_loss.name, p_value=0.01, message="found")]


class _ReadsExplosion:
    """A user's detector that requires the explosion detector and reads its findings."""

    name = "after_explosion"
    requires = ("explosion",)

    def __init__(self):
        self.seen: list[Prior] = []

    def detect(self, run, config, prior=None):
        self.seen.append(prior)
        return []


def test_a_two_argument_detector_keeps_working_and_its_signature_is_inspected_once():
    det = _Mine()
    r = curvestat.analyze([1.0, 0.5, 0.25], detectors=[det])
    assert r.detectors == ("mine",) and r.findings[0].kind == "custom"
    assert _STYLES[_Mine.detect] == "config"
    # bench and testing call it the same way
    hits, skipped, err, _ = _detect_one(det, r.run, Config())
    assert err is None and not skipped and len(hits) == 1
    check_detector(det)


def test_a_type_error_inside_a_detector_is_not_retried():
    class Broken:
        name = "broken"

        def detect(self, run, config):
            raise TypeError("takes 1 positional argument but 2 were given")

    with pytest.raises(TypeError):
        curvestat.analyze([1.0, 0.5], detectors=[Broken()])
    _, _, err, _ = _detect_one(Broken(), curvestat.Run.from_dict({"loss": [1.0, 0.5]}), Config())
    assert err is not None and err.startswith("TypeError")


def test_a_one_argument_detector_is_called_with_the_run():
    class RunOnly:
        name = "run_only"

        def detect(self, run):
            return Skipped(self.name, f"{len(run.names)} series")

    out = call_detector(RunOnly(), curvestat.Run.from_dict({"loss": [1.0, 0.5]}), Config())
    assert out == Skipped("run_only", "1 series")


def test_a_user_detector_receives_the_findings_it_requires():
    det = _ReadsExplosion()
    run = curvestat.io.read(example_path("explosion"))
    r = curvestat.analyze(run, detectors=[det, "periodic", "explosion"])
    assert r.detectors[0] == "explosion" and r.detectors[-1] == "after_explosion"
    (prior,) = det.seen
    assert isinstance(prior, Prior) and set(prior.findings) == {"explosion"}  # not periodic's: not required
    assert prior.of("explosion") and sorted(f.message for f in prior.of("explosion")) == sorted(
        f.message for f in r.findings if f.detector == "explosion")
    assert explosion_onset(prior) is not None
    # without the explosion detector it runs with an empty prior
    det2 = _ReadsExplosion()
    curvestat.analyze(run, detectors=[det2])
    assert det2.seen == [Prior()] and explosion_onset(det2.seen[0]) is None


def test_the_prior_is_frozen():
    p = Prior({"explosion": []})
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.findings = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.findings["explosion"] = ()  # type: ignore[index]
    assert p.of("explosion") == () and p.of("periodic") == () and "explosion" in p


def test_cycles_and_duplicate_names_are_errors():
    class A:
        name = "a"
        requires = ("b",)

        def detect(self, run, config):
            return []

    class B:
        name = "b"
        requires = ("a",)

        def detect(self, run, config):
            return []

    with pytest.raises(CurvestatError, match="cycle"):
        curvestat.analyze([1.0, 0.5], detectors=[A(), B()])
    with pytest.raises(ParameterError, match="unique"):
        curvestat.analyze([1.0, 0.5], detectors=["explosion", "explosion"])
    with pytest.raises(ParameterError, match="requires"):
        order_detectors([type("C", (), {"name": "c", "requires": 3, "detect": lambda self, run, config: []})()])


def test_user_detectors_order_by_name_after_the_builtins():
    class Z(_Mine):
        name = "z"

    class A(_Mine):
        name = "a"

    dets = [Z(), get_detector("explosion"), A()]
    assert [d.name for d in order_detectors(dets)] == ["explosion", "a", "z"]
    assert [d.name for d in order_detectors(dets[::-1])] == ["explosion", "a", "z"]


def test_run_detectors_orders_what_it_is_given():
    run = curvestat.io.read(example_path("periodic"))
    dets = [get_detector(n) for n in available_detectors()]
    assert _key(run_detectors(run, Config(), dets[::-1])) == _key(run_detectors(run, Config(), dets))
