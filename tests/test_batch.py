"""analyze_many and `curvestat scan`: error rows, order, parallelism, Benjamini-Hochberg."""

from __future__ import annotations

import json

import numpy as np
import pytest

import curvestat
from curvestat import Finding, analyze_many
from curvestat.batch import benjamini_hochberg
from curvestat.cli import main
from curvestat.errors import ParameterError, UnreadableSourceError


def _corpus(tmp_path):
    (tmp_path / "a.csv").write_text("step,loss\n0,1.0\n1,0.8\n2,0.7\n")
    (tmp_path / "b.csv").write_text("step,loss\n0,1.0\n1,nan\n")
    (tmp_path / "c.csv").write_text("")  # bad: empty
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.jsonl").write_text('{"step": 0, "loss": 1}\n{"step": 1, "loss": "x"}\n')  # bad cell
    return tmp_path


def test_benjamini_hochberg_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=80), rng.uniform(0, 0.001, size=20)])
    ours = benjamini_hochberg(p)
    ref = multipletests(p, method="fdr_bh")[1]  # statsmodels 0.15 multipletests fdr_bh
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_benjamini_hochberg_partial_list_is_exact_below_alpha():
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.uniform(size=500), rng.uniform(0, 1e-4, size=10)])
    alpha = 0.01
    full = benjamini_hochberg(p)
    small = p <= alpha
    partial = benjamini_hochberg(p[small], m=p.size)
    below = full[small] < alpha
    np.testing.assert_allclose(partial[below], full[small][below], rtol=1e-12)


def test_benjamini_hochberg_validation():
    with pytest.raises(ParameterError):
        benjamini_hochberg([0.5, 1.5])
    with pytest.raises(ParameterError):
        benjamini_hochberg([0.1, 0.2], m=1)


def test_bad_runs_become_error_rows_and_nothing_is_lost(tmp_path):
    res = analyze_many(_corpus(tmp_path))
    # run ids are paths relative to the scanned root, without the log suffix
    assert [r["run_id"] for r in res] == ["a", "b", "c", "sub/d"]
    status = {r["run_id"]: r["status"] for r in res}
    assert status == {"a": "ok", "b": "ok", "c": "error", "sub/d": "error"}
    err = {r["run_id"]: r for r in res.errors}
    assert err["c"]["error_type"] == "EmptySeriesError" and "c.csv" in err["c"]["error"]
    assert err["sub/d"]["error_type"] == "ParseError" and "line 2" in err["sub/d"]["error"]
    assert [r["run_id"] for r in res.flagged] == ["b"]  # NaN loss is certain, kept by FDR


def test_parallel_matches_serial(tmp_path):
    src = _corpus(tmp_path)
    serial = analyze_many(src, n_jobs=1)
    parallel = analyze_many(src, n_jobs=2)
    assert serial.rows == parallel.rows


def test_mixed_iterable_and_exports(tmp_path):
    res = analyze_many([np.linspace(1, 0.1, 20), {"loss": [1.0, np.inf]}, tmp_path / "missing.csv"])
    assert [r["status"] for r in res] == ["ok", "ok", "error"]
    assert res.rows[2]["error_type"] == "UnreadableSourceError"
    res.to_csv(tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().count("\n") == 4
    assert len(json.loads(res.to_json())["rows"]) == 3


def test_fdr_filters_a_weak_finding_among_many_runs():
    # A user detector that reports p = 0.008 on one run in 50: significant at
    # alpha = 0.01 on its own, but BH across the 50 runs gives q = 0.4.
    class Weak:
        name = "weak"
        pathology = "periodic"

        def detect(self, run, config):
            if run.train_loss.values[0] == 2.0:
                return [Finding("periodic", "custom", "loss", p_value=0.008, message="weak")]
            return []

    runs = [np.linspace(2.0 if i == 0 else 1.0, 0.1, 20) for i in range(50)]
    raw = analyze_many(runs, detectors=[Weak()], fdr=False)
    assert [r["healthy"] for r in raw].count(False) == 1
    res = analyze_many(runs, detectors=[Weak()])
    assert all(r["healthy"] for r in res)
    f = res.rows[0]["findings"][0]
    assert f["q_value"] == pytest.approx(0.008 * 50) and f["fdr_rejected"] is False


def test_fdr_keeps_findings_that_survive():
    class Strong:
        name = "strong"
        pathology = "periodic"

        def detect(self, run, config):
            return [Finding("periodic", "custom", "loss", p_value=1e-6, message="strong")] if run.train_loss.values[0] == 2.0 else []

    runs = [np.linspace(2.0 if i < 3 else 1.0, 0.1, 20) for i in range(50)]
    res = analyze_many(runs, detectors=[Strong()])
    assert [r["healthy"] for r in res].count(False) == 3
    assert res.rows[0]["findings"][0]["q_value"] == pytest.approx(1e-6 * 50 / 3)


def test_bad_arguments(tmp_path):
    with pytest.raises(ParameterError, match="fdr"):
        analyze_many([np.ones(3)], fdr=1.5)
    with pytest.raises(ParameterError, match="n_jobs"):
        analyze_many([np.ones(3), np.ones(3)], n_jobs=0)
    with pytest.raises(UnreadableSourceError):
        analyze_many(tmp_path / "nothing-here")


def test_scan_cli(tmp_path, capsys):
    src = _corpus(tmp_path)
    out_csv, out_json = tmp_path / "rows.csv", tmp_path / "rows.json"
    code = main(["scan", str(src), "--verbose", "--csv", str(out_csv), "--json", str(out_json)])
    text = capsys.readouterr().out
    assert code == 1
    assert "c: ERROR EmptySeriesError" in text and "b: explosion/non_finite @ step 1" in text
    assert "a: not judged" in text  # three points: too short for every test
    assert "4 runs: 0 healthy, 1 flagged" in text and "1 not judged" in text and "2 errors" in text
    assert "errors by type: " in text and "EmptySeriesError 1" in text
    assert out_csv.exists() and len(json.loads(out_json.read_text())["rows"]) == 4


def test_scan_cli_all_bad_exits_2(tmp_path, capsys):
    (tmp_path / "e.csv").write_text("")
    assert main(["scan", str(tmp_path / "e.csv")]) == 2
