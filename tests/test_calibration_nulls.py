"""The independent null generator of benchmarks/calibration_detectors.py.

Seeded and reproducible, valid curvestat runs of the promised lengths and
roles, healthy by the generator's own construction criteria, and the script
runs end to end on a handful of runs.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _nulls  # noqa: E402
import calibration_detectors as calib  # noqa: E402

from curvestat import Role, Run  # noqa: E402

N = 120


@pytest.fixture(scope="module")
def nulls():
    return [_nulls.make_null(3, i) for i in range(N)]


def test_seeded_and_reproducible():
    for i in (0, 7, 41):
        a, b = _nulls.make_null(5, i), _nulls.make_null(5, i)
        assert a.family == b.family and a.params == b.params
        assert a.data.keys() == b.data.keys()
        for k in a.data:
            np.testing.assert_array_equal(a.data[k][0], b.data[k][0])
            np.testing.assert_array_equal(a.data[k][1], b.data[k][1])
    # another seed (or index) gives another run
    c, d = _nulls.make_null(5, 7), _nulls.make_null(6, 7)
    assert c.params != d.params


def test_valid_runs_with_promised_roles(nulls):
    for nr in nulls:
        run = Run.from_dict(nr.data, run_id=nr.run_id)
        fam, par = nr.family, nr.params
        assert _nulls.MIN_STEPS - 1 <= par["n_steps"] <= _nulls.MAX_STEPS + 1
        tl = run.train_loss
        assert tl is not None
        assert np.all(np.isfinite(tl.values)) and np.all(tl.values > 0)
        if fam["logging"] == "keras":
            assert len(tl) == par["epochs"]
        elif fam["logging"] == "hf":
            assert len(tl) == par["n_steps"] // par["logging_steps"]
            assert np.all(np.diff(tl.steps) == par["logging_steps"])
        else:
            assert tl.steps[-1] <= par["n_steps"] - 1
        assert (run.lr is not None) == (fam["lr_logged"] == "yes")
        if fam["schedule"] != "constant":
            assert run.lr is not None
        has_val = fam["content"] != "train"
        assert (run.val_loss is not None) == has_val
        assert bool(run.metrics) == (fam["content"] == "train_val_metrics")
        if has_val:
            assert len(run.val_loss) >= 3
            assert set(run.val_loss.steps) <= set(tl.steps)
        for m in run.metrics:
            assert m.role is Role.METRIC
            assert np.all((m.values >= 0) & (m.values <= 1))


def test_healthy_by_construction(nulls):
    for nr in nulls:
        y = next(iter(nr.data.values()))[1]
        # trains meaningfully: the noise-free curve loses >= 25 % between the
        # first and the last tenth, and the logged curve clearly falls too
        assert nr.params["improvement"] >= 0.25
        k = max(1, y.size // 10)
        assert np.median(y[-k:]) < 0.9 * np.median(y[:k])
        # no explosion: a batch spike is capped at x7 the noise-free loss, so
        # no logged point is 10x the median of the five before it
        if y.size > 5:
            prev = np.median(np.lib.stride_tricks.sliding_window_view(y[:-1], 5), axis=1)
            assert np.all(y[5:] <= 10 * prev)
        if nr.family["content"] != "train":
            v = [val for name, val in nr.data.items() if "val" in name or "eval" in name][0][1]
            # no U-turn built in: the validation loss does not end above its
            # first evaluation by more than 4 sd of the difference of two
            # evaluation noises (relative sd <= 1 / sqrt(n_val) each)
            assert v[-1] < v[0] * np.exp(4 * np.sqrt(2.0 / nr.params["n_val"]))
            assert np.max(v) <= v[0] * np.exp(5 * np.sqrt(2.0 / nr.params["n_val"]))


def test_families_cover_the_promised_space():
    many = [_nulls.make_null(11, i) for i in range(400)]
    for fac, levels in (
        ("schedule", _nulls.SCHEDULES), ("shape", _nulls.SHAPES), ("logging", _nulls.LOGGINGS),
        ("content", _nulls.CONTENTS), ("ar", tuple(_nulls.AR_BUCKETS)), ("innovation", ("gauss", "t3")),
    ):
        seen = Counter(nr.family[fac] for nr in many)
        assert set(seen) == set(levels), fac
    steps = np.array([nr.params["n_steps"] for nr in many])
    assert steps.min() < 100 and steps.max() > 20_000  # log-uniform over 50 .. 100,000
    phis = np.array([nr.params["phi"] for nr in many])
    assert phis.max() > 0.93 and phis.max() <= 0.95


def test_clopper_pearson_matches_scipy():
    for k, n in ((0, 50), (3, 200), (17, 1000), (50, 50)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        lo, hi = calib.clopper_pearson(k, n)
        assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)


def test_script_runs_on_tiny_n(tmp_path, capsys):
    out = tmp_path / "calib.json"
    flagged = tmp_path / "flagged"
    assert calib.main(["--n", "12", "--seed", "1", "--workers", "1", "--json", str(out), "--save-flagged", str(flagged)]) == 0
    text = capsys.readouterr().out
    assert "False-positive rates on 12 healthy runs" in text and "wall time" in text
    doc = json.loads(out.read_text())
    assert doc["summary"]["n"] == 12 and len(doc["runs"]) == 12
    for d in ("explosion", "non_convergence", "periodic", "overfitting", "metric_contradiction"):
        row = doc["summary"]["detectors"][d]
        assert 0.0 <= row["fpr_ci"][0] <= row["fpr_ci"][1] <= 1.0
    assert (flagged / "labels.json").is_file()
