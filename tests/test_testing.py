"""The detector contract suite: every built-in detector and baseline passes; broken ones are caught."""

from __future__ import annotations

import pytest

from curvestat import Finding, Skipped
from curvestat.bench import BASELINES
from curvestat.detectors import available_detectors, get_detector
from curvestat.testing import check_detector, contract_runs


@pytest.mark.parametrize("name", available_detectors())
def test_builtin_detectors_pass_the_contract(name):
    results = check_detector(get_detector(name))
    assert set(results) == set(contract_runs())


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_peer_baselines_pass_the_contract(name):
    check_detector(BASELINES[name]())


class _Raises:
    name = "raises"

    def detect(self, run, config):
        return [run.series[99]]  # IndexError: a bug


class _BadOnset:
    name = "badonset"

    def detect(self, run, config):
        return [Finding("explosion", "x", run.names[0], onset_step=10**9, message="m")]


class _Flaky:
    name = "flaky"
    calls = 0

    def detect(self, run, config):
        self.calls += 1
        return [Finding("periodic", "x", run.names[0], message="m")] if self.calls % 2 else []


class _NoReason:
    name = "noreason"

    def detect(self, run, config):
        return Skipped(self.name, "")


@pytest.mark.parametrize(
    "det, fragment",
    [(_Raises(), "raised IndexError"), (_BadOnset(), "outside the run's steps"), (_Flaky(), "second call"), (_NoReason(), "without a reason")],
)
def test_broken_detectors_are_caught(det, fragment):
    with pytest.raises(AssertionError, match=fragment):
        check_detector(det)
    seen = []
    check_detector(det, on_failure=seen.append)
    assert seen and any(fragment in m for m in seen)


def test_missing_name():
    class NoName:
        def detect(self, run, config):
            return []

    with pytest.raises(AssertionError, match="name"):
        check_detector(NoName())
