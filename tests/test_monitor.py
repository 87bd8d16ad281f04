"""Live monitoring: what a Monitor reports on a prefix is what analyze() finds on that prefix."""

import numpy as np
import pytest

import curvestat
from curvestat import Monitor
from curvestat.errors import CurvestatError
from curvestat.examples import EXAMPLES, example_path
from curvestat.io import read


def _replay(run, mon, *, stride=1):
    """Log ``run`` step by step into ``mon``; yield after every check."""
    steps = np.unique(np.concatenate([s.steps for s in run]))
    index = {s.name: dict(zip(s.steps.tolist(), s.values.tolist())) for s in run}
    for step in steps.tolist()[::stride]:
        mon.log(step, **{name: vals[step] for name, vals in index.items() if step in vals})
        if mon.should_check(step):
            new = mon.check()
            yield step, new


def _prefix(run, step):
    return curvestat.Run([curvestat.Series(s.name, s.steps[s.steps <= step], s.values[s.steps <= step], s.role)
                          for s in run if (s.steps <= step).any()], steps_per_epoch=run.steps_per_epoch)


def _keys(findings):
    return {(f.pathology.value, f.kind, f.series, f.severity.value) for f in findings}


@pytest.mark.parametrize("name", EXAMPLES)
def test_replayed_examples_agree_with_analyze_on_every_prefix(name):
    run = read(example_path(name))
    mon = Monitor(every=400, roles={s.name: s.role.value for s in run}, steps_per_epoch=run.steps_per_epoch)
    reported = set()
    n = 0
    for step, new in _replay(run, mon):
        expected = curvestat.analyze(_prefix(run, step))
        assert _keys(mon.last_report.findings) == _keys(expected.findings)
        assert [f.to_dict() for f in mon.last_report.findings] == [f.to_dict() for f in expected.findings]
        # each finding once, and only findings analyze() makes on this prefix
        assert not (_keys(new) & reported)
        assert _keys(new) <= _keys(expected.findings)
        reported |= _keys(new)
        n += 1
    assert n >= 6
    final = curvestat.analyze(run)
    # the pathology of every pathological example is caught while the run trains
    flagged = {k[0] for k in reported if k in _keys([f for f in final.findings if f.severity.value != "info"])}
    assert flagged == {p.value for p in final.pathologies}


def test_non_finite_loss_is_reported_at_once_and_only_once():
    mon = Monitor(every=50)
    for step in range(300):
        mon.log(step, loss=1.0 / (1 + step / 30))
        if mon.should_check(step):
            assert mon.check() == []
    mon.log(300, loss=float("nan"))
    new = mon.check()
    assert [(f.kind, f.onset_step) for f in new] == [("non_finite", 300)]
    mon.log(301, loss=float("nan"))
    assert all(f.kind != "non_finite" for f in mon.check())


def test_a_p_value_finding_needs_two_consecutive_checks():
    rng = np.random.default_rng(0)
    mon = Monitor(every=10_000, confirm=2)
    steps = np.arange(400)
    flat = 2.3 + 0.05 * rng.standard_normal(400)  # a loss that never trains
    for s, v in zip(steps, flat):
        mon.log(int(s), loss=float(v))
    first = mon.check()
    assert first == [] and mon.last_report is not None and not mon.last_report.healthy
    second = mon.check()
    assert {f.pathology.value for f in second} == {"non_convergence"}
    assert mon.check() == []  # once


def test_checks_are_spaced():
    mon = Monitor(every=100)
    due = []
    for step in range(1000):
        mon.log(step, loss=1.0)
        if step % 250 == 249:
            mon.log(step, val_loss=1.0)
        if mon.should_check(step):
            due.append(step)
            mon.check()
    # every 100 training steps, and at each of the 4 evaluations
    assert due[:3] == [99, 199, 249] and 499 in due and 999 in due and len(due) <= 14


def test_memory_is_bounded_and_old_history_is_merged():
    mon = Monitor(max_points=1000)
    for step in range(10_000):
        mon.log(step, loss=1.0 + step)
    run = mon.run()
    s = run["loss"]
    assert len(s) <= 1000 and s.steps[-1] == 9999
    assert np.all(np.diff(s.steps) > 0)
    # the newest points are kept as logged
    np.testing.assert_array_equal(s.values[-400:], 1.0 + np.arange(9600, 10_000))


def test_state_dict_resumes_without_reporting_again():
    mon = Monitor(every=50)
    for step in range(200):
        mon.log(step, loss=1.0 / (1 + step / 30))
    mon.log(200, loss=float("inf"))
    assert mon.check()
    other = Monitor(every=50)
    other.load_state_dict(mon.state_dict())
    other.log(201, loss=float("inf"))
    assert all(f.kind != "non_finite" for f in other.check())
    assert len(other.run()["loss"]) == 202


@pytest.mark.parametrize("bad", [dict(every=0), dict(confirm=0), dict(max_points=3), dict(config="x")])
def test_bad_parameters(bad):
    with pytest.raises(CurvestatError):
        Monitor(**bad)


def test_bad_logs():
    mon = Monitor()
    mon.log(5, loss=1.0)
    with pytest.raises(CurvestatError, match="steps must increase"):
        mon.log(4, loss=1.0)
    with pytest.raises(CurvestatError, match="expected a number"):
        mon.log(6, loss="abc")
    with pytest.raises(CurvestatError):
        mon.log(-1, loss=1.0)
    with pytest.raises(CurvestatError):
        Monitor().run()


def test_replayed_real_runs_agree_with_analyze_on_every_prefix():
    # a fixed sample of the shipped real corpus (every 16th run: all formats
    # and pathologies), replayed step by step
    from curvestat.bench import real_corpus

    sample = list(real_corpus("all"))[::16]
    assert len(sample) >= 30
    for item in sample:
        run = item.run
        mon = Monitor(every=300, roles={s.name: s.role.value for s in run}, steps_per_epoch=run.steps_per_epoch)
        for step, _ in _replay(run, mon):
            expected = curvestat.analyze(_prefix(run, step))
            assert [f.to_dict() for f in mon.last_report.findings] == [f.to_dict() for f in expected.findings], run.run_id
