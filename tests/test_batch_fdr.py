"""False-discovery control across runs, streaming to a file, resume, and the scan command's checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import curvestat
from curvestat import Finding, analyze_many
from curvestat.batch import apply_fdr, iter_analyze, read_rows
from curvestat.cli import main
from curvestat.examples import EXAMPLES, example_path


class Weak:
    """Reports p = 0.0005 on runs that start at 2.0 (a user detector without Finding.detector)."""

    name = "weak"
    pathology = "periodic"

    def detect(self, run, config):
        if run.train_loss.values[0] == 2.0:
            return [Finding("periodic", "custom", "loss", p_value=0.0005, message="weak")]
        return []


class Silent:
    name = "silent"
    pathology = "overfitting"

    def detect(self, run, config):
        return []


class Certain:
    name = "certain"
    pathology = "explosion"

    def detect(self, run, config):
        return [Finding("explosion", "non_finite", "loss", p_value=None, severity="critical", detector="certain")]


def _curves(n, n_marked):
    return [np.linspace(2.0 if i < n_marked else 1.0, 0.1, 20) for i in range(n)]


def test_every_test_that_ran_counts_in_m():
    # 40 runs x 2 detectors = 80 tests; the silent detector's 40 tests count as p = 1
    res = analyze_many(_curves(40, 1), detectors=[Weak(), Silent()])
    f = res.rows[0].findings[0]
    assert f["q_value"] == pytest.approx(0.0005 * 80) and f["fdr"] == "kept"
    assert res.stats.n_tests == 80


def test_a_suppressed_finding_stays_in_the_row_marked():
    res = analyze_many(_curves(200, 1), detectors=[Weak()])
    row = res.rows[0]
    assert row.healthy and row.pathologies == ()
    (f,) = row.findings
    assert f["fdr"] == "suppressed" and f["fdr_rejected"] is False
    assert f["fdr_note"] == "suppressed by FDR (q = 0.1 > 0.05)"
    assert res.stats.n_suppressed == 1 and res.stats.n_unhealthy_before_fdr == 1
    assert "suppressed by FDR" in res.summary()


def test_fdr_above_alpha_is_allowed_and_keeps_more():
    res = analyze_many(_curves(200, 1), detectors=[Weak()], fdr=0.2)
    assert not res.rows[0].healthy


def test_certain_findings_are_always_kept():
    res = analyze_many(_curves(300, 0), detectors=[Certain(), Weak()])
    assert all(not r.healthy and r.findings[0]["fdr"] == "certain" for r in res)


def test_apply_fdr_returns_new_rows_and_leaves_the_streamed_ones_alone():
    raw = list(iter_analyze(_curves(200, 1), detectors=[Weak()]))
    assert raw[0].findings[0]["fdr"] == "pending" and not raw[0].healthy
    decided = apply_fdr(raw, 0.05)
    assert decided[0].healthy and decided[0] is not raw[0]
    assert raw[0].findings[0]["fdr"] == "pending" and not raw[0].healthy


@pytest.mark.parametrize("name", EXAMPLES)
def test_scan_of_one_file_keeps_every_finding_of_analyze(name):
    # one run, five detectors: BH at q = 0.05 keeps any p <= alpha = 0.01 (m p / rank <= 5 alpha)
    path = example_path(name)
    rep = curvestat.analyze(path)
    (row,) = analyze_many([path]).rows
    significant = {(f.pathology.value, f.kind) for f in rep.findings if f.severity.value != "info" and (f.p_value is None or f.p_value <= 0.01)}
    kept = {(f["pathology"], f["kind"]) for f in row.findings if f["fdr_rejected"] and f["severity"] != "info"}
    assert significant <= kept


def _tree(tmp_path):
    root = tmp_path / "lightning_logs"
    for i in range(6):
        d = root / f"version_{i}"
        d.mkdir(parents=True)
        loss = np.exp(-np.arange(40) / (5 + i)) + 0.1
        if i == 2:
            loss[20] = np.nan
        (d / "metrics.csv").write_text("step,loss\n" + "\n".join(f"{s},{v}" for s, v in enumerate(loss)) + "\n")
    (root / "version_5" / "metrics.csv").write_text("step,loss\n0,abc\n")
    return root


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_out_file_holds_the_same_rows_in_input_order(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    root = _tree(tmp_path)
    mem = analyze_many(root)
    out = tmp_path / f"rows{suffix}"
    streamed = analyze_many(root, out=out, n_jobs=2)
    assert streamed._rows is None  # rows live in the file, not in memory
    assert list(read_rows(out)) == mem.rows
    assert [r.run_id for r in streamed] == [f"version_{i}/metrics" for i in range(6)]
    assert streamed.stats.n_errors == 1 and streamed.stats.flagged_by_pathology == {"explosion": 1}


def test_resume_after_a_cut_record_and_new_runs(tmp_path):
    root = _tree(tmp_path)
    out = tmp_path / "rows.jsonl"
    full = analyze_many(root).rows
    # a scan killed hard: three rows in completion order, the last one cut mid-record
    lines = [json.dumps(r.to_dict()) + "\n" for r in list(iter_analyze(root))[:3]]
    out.write_text("".join(lines[:2]) + lines[2][:25])
    analyze_many(root, out=out, resume=True)
    assert list(read_rows(out)) == full


def test_resume_skips_what_is_done(tmp_path):
    root = _tree(tmp_path)
    out = tmp_path / "rows.csv"
    analyze_many(root, out=out)

    class Boom:
        name = "boom"

        def detect(self, run, config):
            raise AssertionError("a finished source was analysed again")

    res = analyze_many(root, out=out, resume=True, detectors=[Boom()])
    assert res.stats.n_runs == 6 and res.stats.n_errors == 1


def test_bad_output_path_fails_before_the_scan(tmp_path, capsys):
    root = _tree(tmp_path)
    code = main(["scan", str(root), "--csv", str(tmp_path / "no" / "such" / "dir.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    assert main(["scan", str(root), "--out", str(tmp_path / "rows.xlsx")]) == 2
    assert main(["scan", str(root), "--resume"]) == 2


def test_scan_one_line_errors(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "nonexistent")]) == 2
    assert "nonexistent: no such file or directory" in capsys.readouterr().err
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("This folder holds notes, not logs.\nSee the wiki.\n")
    assert main(["scan", str(tmp_path / "docs")]) == 2
    err = capsys.readouterr().err
    assert "no log files found" in err and err.count("\n") == 1


def test_txt_tables_are_still_found(tmp_path):
    (tmp_path / "run.txt").write_text("step\tloss\n0\t1.0\n1\t0.9\n2\t0.8\n")
    (tmp_path / "readme.txt").write_text("notes\n")
    assert [r.run_id for r in analyze_many(tmp_path)] == ["run"]


def test_scan_summary_and_only_flagged(tmp_path, capsys):
    root = _tree(tmp_path)
    out = tmp_path / "rows.jsonl"
    assert main(["scan", str(root), "--out", str(out), "-j", "2"]) == 1
    text = capsys.readouterr().out
    assert "6 runs: 4 healthy, 1 flagged after FDR q = 0.05" in text
    assert "errors by type: EmptySeriesError 1" in text and "worst runs" in text
    assert "version_2/metrics: explosion/non_finite" in text
    assert "version_0/metrics" not in text  # the healthy runs are not listed without --verbose
    assert main(["scan", str(root), "--only-flagged", "--json", str(tmp_path / "f.json")]) == 1
    text = capsys.readouterr().out
    assert "version_0/metrics" not in text.split("6 runs")[0]
    assert [r["run_id"] for r in json.loads((tmp_path / "f.json").read_text())["rows"]] == ["version_2/metrics"]


def test_progress_is_silent_off_a_terminal_and_plain_without_tqdm(tmp_path, capsys):
    import io

    from curvestat.cli import _Progress

    root = _tree(tmp_path)
    main(["scan", str(root), "-j", "1"])
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: no bar
    buf = io.StringIO()
    bar = _Progress(buf)
    bar._tqdm = None  # the plain fallback
    for i in range(1, 11):
        bar(i, 10)
    bar.close()
    last = buf.getvalue().rstrip("\n").split("\r")[-1]
    assert "10/10 runs" in last and "runs/s" in last and "ETA" in last


def test_a_source_given_twice_is_two_rows_also_in_a_file(tmp_path):
    root = _tree(tmp_path)
    src = [root / "version_0" / "metrics.csv", root / "version_1" / "metrics.csv", root / "version_0" / "metrics.csv"]
    out = tmp_path / "rows.jsonl"
    res = analyze_many(src, out=out)
    assert [r.source for r in read_rows(out)] == [str(s) for s in src] and len(res) == 3
    analyze_many(src, out=out, resume=True)
    assert len(list(read_rows(out))) == 3
