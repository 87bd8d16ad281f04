"""analyze(): the contract, user detectors, no bare exceptions on bad input."""

from __future__ import annotations

import numpy as np
import pytest

import curvestat
from curvestat import Config, Finding, Report, Skipped
from curvestat.detectors import Detector, available_detectors
from curvestat.errors import CurvestatError, InsufficientDataError, ParameterError


def test_analyze_wide_csv_with_gaps(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("step,loss,val_loss\n0,2.0,\n1,1.5,\n2,1.2,1.4\n3,1.0,\n4,0.9,1.1\n")
    r = curvestat.analyze(str(p))
    d = r.to_dict()
    assert d["run_id"] == "x" and d["series"]["val_loss"] == {"role": "val_loss", "n": 2, "first_step": 2, "last_step": 4}
    assert isinstance(r, Report)


def test_analyze_accepts_run_dict_array():
    loss = np.linspace(2, 0.5, 50)
    for src in (loss, {"loss": loss}, curvestat.Run.from_dict({"loss": loss})):
        assert curvestat.analyze(src).healthy


def test_alpha_reaches_the_detectors():
    seen = {}

    class Spy:
        name = "spy"

        def detect(self, run, config):
            seen["alpha"] = config.alpha
            return []

    curvestat.analyze([1.0, 0.5], alpha=0.05, detectors=[Spy()])
    assert seen["alpha"] == 0.05
    curvestat.analyze([1.0, 0.5], config=Config(alpha=0.02), detectors=[Spy()])
    assert seen["alpha"] == 0.02


def test_user_detector_and_skipped():
    class AlwaysFinds:
        name = "mine"

        def detect(self, run, config):
            return [Finding("periodic", "custom", run.train_loss.name, p_value=0.001, message="found")]

    class NeedsMore:
        name = "picky"

        def detect(self, run, config):
            raise InsufficientDataError("needs 100 points, got 2")

    class ReturnsSkipped:
        name = "polite"

        def detect(self, run, config):
            return Skipped(self.name, "no metric series")

    assert isinstance(AlwaysFinds(), Detector)
    r = curvestat.analyze([1.0, 0.5], detectors=[AlwaysFinds(), NeedsMore(), ReturnsSkipped()])
    assert not r.healthy and r.findings[0].kind == "custom"
    assert [(s.detector, s.reason) for s in r.skipped] == [("picky", "needs 100 points, got 2"), ("polite", "no metric series")]
    assert r.detectors == ("mine",)


def test_bad_detector_arguments():
    with pytest.raises(ParameterError, match="unknown detector"):
        curvestat.analyze([1.0], detectors=["nope"])
    with pytest.raises(ParameterError):
        curvestat.analyze([1.0], detectors=[object()])
    with pytest.raises(ParameterError, match="config"):
        curvestat.analyze([1.0], config={"alpha": 0.1})


def test_builtin_detectors_are_listed():
    assert "explosion" in available_detectors()


@pytest.mark.parametrize(
    "source",
    [
        [],
        np.ones((4, 2)),
        {"loss": ([0, 1], [1.0])},
        {"loss": ([1, 0], [1.0, 2.0])},
        {"loss": ([0, 0], [1.0, 2.0])},
        {"loss": ([-1, 0], [1.0, 2.0])},
        {"loss": ["a", "b"]},
        {"loss": [np.nan, np.nan]},
        {},
        42,
        None,
    ],
)
def test_bad_input_only_raises_curvestat_errors(source):
    with pytest.raises(CurvestatError):
        curvestat.analyze(source)


def test_non_finite_loss_is_found_with_its_step():
    r = curvestat.analyze({"loss": ([0, 10, 20, 30], [1.0, 0.9, np.inf, np.nan])})
    f = r.findings[0]
    assert (f.pathology.value, f.kind, f.onset_step, f.severity.value) == ("explosion", "non_finite", 20, "critical")
    assert "+Inf at step 20" in f.message
