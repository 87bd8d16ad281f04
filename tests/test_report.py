"""Finding, Skipped, Report: validation, ordering, stable JSON form."""

from __future__ import annotations

import json
import math

import pytest

from curvestat import Config, Finding, Pathology, Report, Severity, Skipped
from curvestat.errors import ParameterError


def _finding(**kw):
    base = dict(pathology="explosion", kind="spike", series="loss", p_value=1e-5, statistic=12.0,
                effect={"ratio": 8.0}, onset_step=120, severity="critical", message="m", remedies=["clip"])
    base.update(kw)
    return Finding(**base)


def test_finding_coerces_enums_and_validates():
    f = _finding()
    assert f.pathology is Pathology.EXPLOSION and f.severity is Severity.CRITICAL
    with pytest.raises(ParameterError):
        _finding(pathology="sadness")
    with pytest.raises(ParameterError):
        _finding(severity="meh")
    with pytest.raises(ParameterError, match="p_value"):
        _finding(p_value=1.5)


def test_pathology_values_are_the_contract():
    assert [p.value for p in Pathology] == ["non_convergence", "explosion", "metric_contradiction", "overfitting", "periodic"]
    assert Pathology("periodic") == "periodic"


def test_report_healthy_and_ordering():
    info = _finding(severity="info", onset_step=5, kind="explained")
    warn = _finding(severity="warning", pathology="overfitting", onset_step=50)
    crit = _finding(onset_step=300)
    r = Report(findings=[info, warn, crit], detectors=["explosion"])
    assert [f.severity.value for f in r.findings] == ["critical", "warning", "info"]
    assert not r.healthy
    assert r.pathologies == [Pathology.EXPLOSION, Pathology.OVERFITTING]
    assert Report(findings=[info], detectors=["explosion"]).healthy  # info does not make a run unhealthy
    assert Report(findings=[info], detectors=["explosion"]).status == "healthy"
    assert Report(findings=[info], detectors=["explosion"]).summary().splitlines()[0] == "run: healthy (1 note)"
    not_judged = Report(skipped=[Skipped("overfitting", "too short")])
    assert not not_judged.healthy and not_judged.status == "not_judged"
    assert "not judged" in not_judged.summary().splitlines()[0]


def test_report_to_dict_is_json_with_stable_keys():
    r = Report(findings=[_finding(statistic=math.inf, effect={"ratio": math.nan})],
               skipped=[Skipped("overfitting", "no validation-loss series")], run_id="r", detectors=["explosion"])
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert list(d) == ["run_id", "source", "healthy", "findings", "skipped", "detectors", "series", "status"]
    assert d["status"] == "flagged"
    f = d["findings"][0]
    assert list(f) == ["pathology", "kind", "series", "p_value", "statistic", "effect", "onset_step",
                       "period_steps", "severity", "message", "remedies", "detector"]
    # non-finite numbers are null: strict JSON, and no "inf"/"nan" strings
    assert f["statistic"] is None and f["effect"]["ratio"] is None
    assert d["skipped"] == [{"detector": "overfitting", "reason": "no validation-loss series"}]


def test_summary_mentions_everything():
    r = Report(findings=[_finding()], skipped=[Skipped("periodic", "series too short")], run_id="r7", detectors=["explosion"])
    text = r.summary()
    assert "run r7" in text and "explosion/spike" in text and "step 120" in text and "clip" in text
    assert "[skipped] periodic: series too short" in text


def test_config_replace_and_validation():
    cfg = Config().replace(alpha=0.05, explosion={"min_ratio": 3.0})
    assert cfg.alpha == 0.05 and cfg.explosion.min_ratio == 3.0 and Config().explosion.min_ratio != 3.0
    with pytest.raises(ParameterError):
        Config(alpha=0)
    with pytest.raises(ParameterError, match="no field"):
        Config().replace(beta=1)
    with pytest.raises(ParameterError, match="explosion"):
        Config().replace(explosion={"nope": 1})
    assert json.dumps(Config().to_dict())


def test_series_line_names_the_primary_of_several_train_losses():
    import numpy as np

    from curvestat import Run, analyze

    rng = np.random.default_rng(0)
    y = np.exp(-np.arange(200) / 60) + 0.05 * rng.random(200)
    run = Run.from_dict(
        {"loss": y, "aux_loss": (np.arange(0, 200, 10), y[::10])},
        roles={"loss": "train_loss", "aux_loss": "train_loss"},
    )
    report = analyze(run)
    assert report.series["loss"].get("primary") is True  # the densest of the two
    assert "primary" not in report.series["aux_loss"]
    line = [ln for ln in str(report).splitlines() if ln.strip().startswith("series:")][0]
    assert "loss (train loss, primary, 200 points)" in line
    # one series of a role needs no mark
    single = analyze(Run.from_dict({"loss": y}))
    assert "primary" not in str(single)


def test_findings_and_reports_are_immutable_and_hashable():
    import dataclasses
    import pickle

    import pytest

    from curvestat import Finding, Pathology, Report, Severity

    f = Finding(Pathology.EXPLOSION, "spike", "loss", p_value=0.001, effect={"ratio": 12.5}, onset_step=10)
    with pytest.raises(TypeError):
        f.effect["ratio"] = 1.0  # a read-only view
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.kind = "divergence"  # type: ignore[misc]
    same = Finding(Pathology.EXPLOSION, "spike", "loss", p_value=0.001, effect={"ratio": 12.5}, onset_step=10)
    assert f == same and hash(f) == hash(same) and len({f, same}) == 1
    other = dataclasses.replace(f, severity=Severity.INFO)
    assert other != f and len({f, other}) == 2 and other.effect == f.effect
    back = pickle.loads(pickle.dumps(f))
    assert back == f and dict(back.effect) == {"ratio": 12.5}
    rep = Report(findings=[other, f], skipped=[], detectors=["explosion"])
    assert isinstance(rep.findings, tuple) and isinstance(rep.skipped, tuple) and rep.detectors == ("explosion",)
    assert rep.findings[0] is f  # most severe first
    assert pickle.loads(pickle.dumps(rep)).findings == rep.findings
