"""Text that reads at a glance: one name per pathology, readable numbers, epochs as epochs, strict JSON, CSV columns that agree."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pytest

import curvestat
from curvestat import Finding, Report, analyze_many
from curvestat import _format as fmt
from curvestat.cli import main
from curvestat.detectors import ALIASES, available_detectors, get_detector

PATHOLOGIES = {"non_convergence", "explosion", "metric_contradiction", "overfitting", "periodic"}


def _strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def examples_text():
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        main(["analyze", "--examples"])
    return buf.getvalue()


# ---------------------------------------------------------------- names


def test_builtin_detectors_are_named_after_their_pathology():
    assert set(available_detectors()) == PATHOLOGIES
    for name in available_detectors():
        assert get_detector(name).name == name
    for old, new in ALIASES.items():  # earlier names still work on input
        assert get_detector(old) is get_detector(new)
    rep = curvestat.analyze({"loss": np.linspace(1, 0.1, 100), "val_acc": np.linspace(0.5, 0.9, 100)},
                            detectors=["contradiction", "nonconvergence"])
    assert sorted(rep.detectors) == ["metric_contradiction", "non_convergence"]  # run in pipeline order


def test_skipped_lines_and_json_use_pathology_names(examples_text, capsys):
    skipped = re.findall(r"\[skipped\] (\S+):", examples_text)
    assert skipped and set(skipped) <= PATHOLOGIES
    assert "nonconvergence" not in examples_text and "[skipped] contradiction" not in examples_text
    main(["analyze", "--examples", "--json"])
    for rep in _strict_loads(capsys.readouterr().out):
        assert set(rep["detectors"]) <= PATHOLOGIES
        assert {s["detector"] for s in rep["skipped"]} <= PATHOLOGIES
        assert all(f["detector"] == f["pathology"] for f in rep["findings"])


# ---------------------------------------------------------------- numbers


def test_messages_use_readable_numbers(examples_text):
    assert "final gap" not in examples_text
    assert "total decrease of 0 " not in examples_text and "improvement -" not in examples_text
    assert not re.search(r"\bx\d", examples_text)  # "jumps 41x", not "jumps x41.3"
    assert "jumps 41x" in examples_text
    assert re.search(r"val_loss is \d+x train_loss", examples_text)
    # one p-value format: the heading and the message never disagree ("p < 1e-16" vs "p = 2.5e-20")
    assert not re.search(r"p = [0-9.]+e-(1[7-9]|[2-9]\d|\d{3})", examples_text)
    assert not re.search(r"p = 0(?![.\d])", examples_text)


def test_format_helpers():
    assert fmt.p_text(0.0) == "p < 1e-16" and fmt.p_text(0.0312) == "p = 0.031" and fmt.p_text(None) == ""
    assert [fmt.ratio(x) for x in (1.04, 3.14159, 31.76, 4213.0)] == ["1x", "3.1x", "32x", "4200x"]
    assert fmt.ratio(math.inf) == "an unbounded factor"
    assert fmt.growth(0.5) == "50 %" and fmt.growth(11.2) == "12x"
    assert fmt.change(-0.041) == "4.1 % higher at the end than at the start"
    assert fmt.in_epochs("Step 3: every 4 steps (= 4 epochs)") == "Epoch 3: every 4 epochs"
    assert fmt.in_epochs("no step_like kind") == "no step_like kind"


def test_a_keras_log_speaks_in_epochs(tmp_path, capsys):
    e = np.arange(40)
    loss = 1.5 * np.exp(-e / 8) + 0.05
    val = (0.6 + 0.3 * np.exp(-e / 5) + np.where(e > 15, 0.03 * (e - 15), 0)) * (1 + 0.01 * np.random.default_rng(0).standard_normal(40))
    path = tmp_path / "training_log.csv"  # Keras CSVLogger: one row per epoch, no step column
    path.write_text("epoch,loss,val_loss\n" + "".join(f"{a},{b:.5f},{c:.5f}\n" for a, b, c in zip(e, loss, val)))
    assert main(["analyze", str(path)]) == 1
    out = capsys.readouterr().out
    assert "overfitting/u_turn in val_loss from epoch" in out
    msg = next(line for line in out.splitlines() if "turned up" in line)
    assert "at epoch" in msg and "stop early at epoch" in msg and "step" not in msg
    # a log indexed by steps keeps its steps
    path2 = tmp_path / "steps.csv"
    path2.write_text("step,loss,val_loss\n" + "".join(f"{a},{b:.5f},{c:.5f}\n" for a, b, c in zip(e, loss, val)))
    main(["analyze", str(path2)])
    assert "from step" in capsys.readouterr().out


# ---------------------------------------------------------------- status words


def test_healthy_with_only_info_notes_says_so():
    note = Finding("overfitting", "growing_gap", "val_loss", p_value=1e-4, severity="info", onset_step=20, message="m")
    rep = Report(findings=[note], detectors=["overfitting"], run_id="r")
    head = rep.summary().splitlines()[0]
    assert head == "run r: healthy (1 note)"
    assert rep.healthy and rep.status == "healthy"


def test_scan_run_line_counts_notes_and_groups_repeated_findings():
    from curvestat.batch import BatchRow, _run_line

    info = {"pathology": "overfitting", "kind": "growing_gap", "severity": "info", "onset_step": 3, "fdr_rejected": True}
    row = BatchRow(index=0, run_id="a", source=None, status="ok", healthy=True, findings=(info,), detectors=("overfitting",))
    assert _run_line(row) == "a: healthy (1 note)"
    f = {"pathology": "overfitting", "kind": "split_mismatch", "severity": "critical", "onset_step": 0, "fdr_rejected": True}
    row = BatchRow(index=0, run_id="b", source=None, status="ok", healthy=False, findings=(f,) * 3, detectors=("overfitting",))
    assert _run_line(row) == "b: overfitting/split_mismatch @ step 0 in 3 series"


def test_a_file_that_is_not_a_training_log_is_not_judged_with_cli_hints(tmp_path, capsys):
    path = tmp_path / "package.json"
    path.write_text('{"name": "x", "version": 3, "items": [1, 2]}')
    assert main(["analyze", str(path)]) == 3
    out = capsys.readouterr().out
    assert "not judged" in out.splitlines()[0] and "healthy" not in out
    assert "--role NAME=train_loss" in out
    main(["analyze", str(tmp_path)])
    assert "curvestat scan" in capsys.readouterr().err


# ---------------------------------------------------------------- JSON and CSV


class _InfDetector:
    """A detector whose effect sizes are not finite (a ratio over a zero denominator)."""

    name = "inf_check"
    pathology = "explosion"

    def detect(self, run, config):
        return [Finding("explosion", "spike", "loss", p_value=1e-5, statistic=math.inf,
                        effect={"ratio": math.inf, "other": math.nan}, onset_step=3, message="m", detector=self.name)]


def test_json_outputs_are_strict_and_hold_no_inf_or_nan(tmp_path):
    runs = [{"loss": np.linspace(1, 0.1, 50)}, {"loss": np.linspace(1, 0.2, 50)}]
    res = analyze_many(runs, detectors=[_InfDetector()])
    text = res.to_json()
    doc = _strict_loads(text)
    f = doc["rows"][0]["findings"][0]
    assert f["statistic"] is None and f["effect"] == {"ratio": None, "other": None}
    assert not re.search(r'"-?(inf|nan)"|Infinity|NaN', text)
    out = tmp_path / "rows.jsonl"
    analyze_many(runs, detectors=[_InfDetector()], out=out)
    for line in out.read_text().splitlines():
        assert "Infinity" not in line and "NaN" not in line
        _strict_loads(line)
    res.to_csv(tmp_path / "rows.csv")
    for row in csv.DictReader((tmp_path / "rows.csv").open()):
        _strict_loads(row["findings"])


def test_examples_json_is_strict(capsys):
    main(["analyze", "--examples", "--json"])
    text = capsys.readouterr().out
    _strict_loads(text)
    assert not re.search(r'"-?(inf|nan)"', text)


def test_csv_n_findings_and_top_columns_agree(tmp_path):
    from curvestat.examples import EXAMPLES, example_path

    sources = [example_path(n) for n in EXAMPLES]
    (tmp_path / "nan.csv").write_text("step,loss\n" + "".join(f"{i},{'nan' if i > 30 else 1 / (i + 1)}\n" for i in range(40)))
    (tmp_path / "short.csv").write_text("step,loss\n0,1\n1,0.9\n")
    (tmp_path / "empty.csv").write_text("")
    res = analyze_many(sources + sorted(tmp_path.glob("*.csv")))
    res.to_csv(tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert len(rows) == len(sources) + 3
    for r, full in zip(rows, res):
        kept = [f for f in full.findings if f["fdr_rejected"] and f["severity"] != "info"]
        n = int(r["n_findings"]) if r["n_findings"] else 0
        assert n == len(kept)
        assert (r["top_kind"] == "") == (n == 0) == (r["top_pathology"] == "")
        if n:
            assert (r["top_pathology"], r["top_kind"]) == (kept[0]["pathology"], kept[0]["kind"])
            assert r["top_pathology"] in r["pathologies"].split(";")
            assert r["healthy"] == "False"
        elif r["status"] == "ok":
            assert r["healthy"] == "True"


def test_wild_logs_give_strict_json_and_pathology_names(shared_data, tmp_path, capsys):
    out = tmp_path / "wild.json"
    main(["-q", "scan", str(shared_data / "wild"), "--jobs", "1", "--no-progress", "--json", str(out)])
    text = out.read_text()
    doc = _strict_loads(text)
    assert not re.search(r'"-?(inf|nan)"', text)
    for row in doc["rows"]:
        assert set(row["detectors"]) <= PATHOLOGIES
        assert {s["detector"] for s in row["skipped"]} <= PATHOLOGIES
    summary = capsys.readouterr().out
    assert "nonconvergence" not in summary


def test_scan_takes_roles_in_cli_syntax(tmp_path, capsys):
    # the hint the readers give ("--role NAME=train_loss") works for scan too
    for i in range(2):
        (tmp_path / f"r{i}.csv").write_text("step,objective\n" + "".join(f"{s},{'nan' if s > 40 else 1 / (s + 1)}\n" for s in range(60)))
    assert main(["scan", str(tmp_path), "--jobs", "1", "--no-progress"]) == 3  # not judged is not healthy
    assert "2 not judged" in capsys.readouterr().out
    assert main(["scan", str(tmp_path), "--jobs", "1", "--no-progress", "--role", "objective=train_loss"]) == 1
    assert "flagged per pathology: explosion 2" in capsys.readouterr().out


def test_scan_lines_and_table_count_epochs_on_epoch_logs(tmp_path, capsys):
    # a Keras CSVLogger log (the x-axis is the epoch) that overfits
    import csv

    import curvestat

    rows = [(e, 1.0 * 0.8**e, 0.5 + 0.02 * max(0, e - 5) ** 1.5) for e in range(20)]
    path = tmp_path / "training_log.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "loss", "val_loss"])
        w.writerows(rows)
    res = curvestat.analyze_many([path])
    (row,) = res.rows
    assert row.step_unit == "epoch"
    flat = res.table_rows()[0]
    assert flat["step_unit"] == "epoch"
    assert not row.healthy
    from curvestat.batch import _run_line

    assert " @ epoch " in _run_line(row) and " @ step " not in _run_line(row)
    # round trip through the table keeps the unit
    from curvestat.batch import _unflat

    assert _unflat({k: ("" if v is None else v) for k, v in flat.items()}).step_unit == "epoch"
