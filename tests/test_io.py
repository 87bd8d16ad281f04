"""Readers: round trips on generated files, every bad-input case, the wild corpus."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import curvestat
from curvestat.errors import (
    CurvestatError,
    DuplicateStepsWarning,
    EmptySeriesError,
    InputError,
    InvalidStepsError,
    ParseError,
    StepRestartWarning,
    UnknownFormatError,
    UnreadableSourceError,
)
from curvestat.examples.generate import write_csv
from curvestat.io import expand_sources, read, sniff_format
from curvestat.run import Role


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# --- wide CSV ---------------------------------------------------------------------------


def test_wide_csv_with_gaps_and_nonfinite_spellings(tmp_path):
    p = _write(
        tmp_path,
        "m.csv",
        "step,epoch,train_loss,val_loss,val_recall,model\n"
        "0,0,2.0,,,resnet\n"
        "1,0,1.5,,,resnet\n"
        "2,0,NaN,,,resnet\n"
        "3,1,INF,1.9,0.0,resnet\n"
        "4,1,-Infinity,,,resnet\n"
        "5,1,nan,1.7,0.0,resnet\n",
    )
    run = read(p)
    assert run.names == ["train_loss", "val_loss", "val_recall"]  # label column "model" ignored
    tl = run["train_loss"]
    assert tl.steps.tolist() == [0, 1, 2, 3, 4, 5]
    assert tl.values[0] == 2.0 and math.isnan(tl.values[2]) and tl.values[3] == math.inf and tl.values[4] == -math.inf
    assert run["val_loss"].steps.tolist() == [3, 5]
    assert run["val_recall"].role is Role.METRIC
    assert run.run_id == "m" and run.source == str(p)


def test_wide_csv_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    data = {
        "train_loss": (np.arange(400), np.exp(-np.arange(400) / 100) + rng.random(400) * 0.01),
        "val_loss": (np.arange(99, 400, 100), rng.random(4)),
        "lr": (np.arange(400), np.full(400, 1e-3)),
    }
    data["train_loss"][1][17] = np.nan
    p = tmp_path / "rt.csv"
    write_csv(p, data)
    run = read(p)
    for name, (s, v) in data.items():
        np.testing.assert_array_equal(run[name].steps, s)
        np.testing.assert_allclose(run[name].values, v, rtol=1e-5)  # 6 significant digits written
    assert run.steps_per_epoch == 200  # inferred from the step and epoch columns


def test_csv_without_step_column_uses_epoch(tmp_path):
    p = _write(tmp_path, "k.csv", "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.3,1.8,0.5,1.3\n1,0.6,1.1,0.7,0.9\n")
    run = read(p)
    assert run.train_loss.steps.tolist() == [0, 1]
    assert run.steps_per_epoch == 1


def test_csv_without_any_axis_uses_row_number(tmp_path):
    p = _write(tmp_path, "r.csv", "loss,acc\n1.0,0.1\n0.8,0.2\n0.7,0.3\n")
    assert read(p).train_loss.steps.tolist() == [0, 1, 2]


def test_tsv(tmp_path):
    p = _write(tmp_path, "t.tsv", "step\tloss\n0\t1.0\n1\t0.5\n")
    assert read(p).train_loss.values.tolist() == [1.0, 0.5]


# --- long CSV / JSONL / JSON ---------------------------------------------------------------


def test_long_csv(tmp_path):
    p = _write(tmp_path, "long.csv", "step,name,value\n0,loss,2.0\n0,lr,0.1\n1,loss,1.0\n10,val_loss,1.5\n2,loss,nan\n")
    run = read(p)
    assert run["loss"].steps.tolist() == [0, 1, 2] and math.isnan(run["loss"].values[2])
    assert run["val_loss"].role is Role.VAL_LOSS


def test_jsonl_long_and_wide(tmp_path):
    long = _write(tmp_path, "a.jsonl", '{"step": 0, "name": "loss", "value": 1.0}\n\n{"step": 1, "name": "loss", "value": "NaN"}\n')
    run = read(long)
    assert run["loss"].steps.tolist() == [0, 1] and math.isnan(run["loss"].values[1])
    wide = _write(tmp_path, "b.jsonl", '{"_step": 0, "train/loss": 1.0, "_runtime": 3.2}\n{"_step": 5, "train/loss": 0.5, "eval/loss": 0.7}\n')
    run = read(wide)
    assert run.names == ["train/loss", "eval/loss"]  # _runtime is W&B bookkeeping
    assert run.train_loss.steps.tolist() == [0, 5] and run.val_loss.steps.tolist() == [5]


def test_hf_trainer_state(tmp_path):
    state = {
        "log_history": [
            {"epoch": 0.5, "loss": 0.9, "learning_rate": 1e-4, "step": 50},
            {"epoch": 1.0, "loss": 0.7, "learning_rate": 5e-5, "step": 100},
            {"epoch": 1.0, "eval_loss": 0.8, "eval_accuracy": 0.6, "step": 100},
            {"epoch": 1.0, "step": 100, "train_loss": 0.8, "train_runtime": 12.0, "total_flos": 1e12},
        ]
    }
    p = tmp_path / "run1" / "trainer_state.json"
    p.parent.mkdir()
    p.write_text(json.dumps(state))
    run = read(p)
    assert run.run_id == "run1"
    assert "train_loss" not in run  # the closing average is not a curve
    assert run.train_loss.name == "loss" and run.lr.name == "learning_rate"
    assert run.steps_per_epoch == 100


def test_keras_history(tmp_path):
    p = _write(tmp_path, "h.json", json.dumps({"history": {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8]}, "params": {"epochs": 3}}))
    run = read(p)
    assert run.names == ["loss", "val_loss"] and run.val_loss.values.tolist() == [1.1, 0.7, 0.8]


def test_json_without_curves(tmp_path):
    p = _write(tmp_path, "x.json", json.dumps({"model": "resnet", "params": {"lr": 0.1}}))
    with pytest.raises(UnknownFormatError, match="no curve"):
        read(p)


def test_invalid_json(tmp_path):
    p = _write(tmp_path, "bad.json", '{"loss": [1, 2,')
    with pytest.raises(ParseError, match="invalid JSON at line 1"):
        read(p)


# --- in-memory ------------------------------------------------------------------------------


def test_bare_array_is_train_loss():
    run = read(np.array([3.0, 2.0, 1.0]))
    assert run.train_loss.name == "loss" and run.train_loss.values.tolist() == [3.0, 2.0, 1.0]


def test_two_dimensional_array_is_rejected():
    with pytest.raises(InputError, match="1-D"):
        read(np.ones((5, 2)))


def test_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"step": [0, 1, 2, 3], "loss": [1.0, 0.8, np.inf, 0.5], "val_loss": [np.nan, 0.9, np.nan, 0.7], "tag": list("abcd")})
    run = read(df)
    assert run.names == ["loss", "val_loss"]
    assert run.val_loss.steps.tolist() == [1, 3]  # NaN = not logged in a DataFrame
    assert np.isposinf(run.train_loss.values[2])  # Inf is kept


def test_unsupported_object():
    with pytest.raises(InputError, match="cannot read a set"):
        read({1, 2})


# --- bad files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, exc, fragment",
    [
        ("empty.csv", "", EmptySeriesError, "empty"),
        ("blank.csv", "\n\n  \n", EmptySeriesError, "empty"),
        ("header.csv", "step,loss,val_loss\n", EmptySeriesError, "header but no data"),
        ("text.csv", "step,loss\n0,1.0\n1,abc\n", ParseError, r"line 3, column 'loss': 'abc'"),
        ("noaxis.csv", "step,loss\n0,1.0\n,0.5\n", ParseError, "empty 'step'"),
        ("neg.csv", "step,loss\n-1,1.0\n0,0.5\n", InvalidStepsError, "negative"),
        ("frac.csv", "step,loss\n0.5,1.0\n", InvalidStepsError, "not an integer"),
        ("wide.csv", "step,loss\n0,1.0,7\n", ParseError, "line 2 has 3 cells but the header has 2"),
        ("labels.csv", "name,comment\na,b\n", EmptySeriesError, "no numeric"),
        ("allnan.csv", "step,loss\n0,nan\n1,NaN\n", EmptySeriesError, "finite"),
        ("long.csv", "step,name,value\n0,loss,oops\n", ParseError, "line 2, series 'loss'"),
        ("bad.jsonl", '{"step": 0, "loss": 1}\n{"step": 1, "loss": \n', ParseError, "line 2 is not valid JSON"),
        ("str.jsonl", '{"step": 0, "loss": [1]}\n', EmptySeriesError, "no numeric"),
        ("empty.json", "", EmptySeriesError, "empty"),
        ("hf.json", '{"log_history": {"loss": 1}}', ParseError, "'log_history' must be a list"),
    ],
)
def test_bad_files(tmp_path, name, text, exc, fragment):
    p = _write(tmp_path, name, text)
    with pytest.raises(exc, match=fragment) as info:
        curvestat.analyze(p)
    assert str(p) in str(info.value) or name.startswith(("allnan",))  # names the file


def test_unsorted_steps_in_a_file_are_restarts(tmp_path):
    p = _write(tmp_path, "resume.csv", "step,loss\n0,3\n1,2\n2,1.5\n3,1.4\n2,1.45\n3,1.3\n4,1.2\n")
    with pytest.warns(StepRestartWarning, match="restart"):
        run = read(p)
    # the resumed segment overwrites steps >= 2, as TensorBoard does
    assert run.train_loss.steps.tolist() == [0, 1, 2, 3, 4]
    assert run.train_loss.values.tolist() == [3, 2, 1.45, 1.3, 1.2]


def test_shuffled_file_is_an_error(tmp_path):
    rows = "\n".join(f"{s},{s / 10}" for s in [5, 1, 7, 2, 9, 3, 8, 0, 6, 4])
    p = _write(tmp_path, "shuffled.csv", "step,loss\n" + rows + "\n")
    with pytest.raises(InvalidStepsError, match="not in step order"):
        read(p)


def test_duplicate_steps_last_wins_with_warning(tmp_path):
    p = _write(tmp_path, "dup.csv", "step,loss\n0,3\n1,2\n1,1.9\n2,1.5\n")
    with pytest.warns(DuplicateStepsWarning, match="last value"):
        run = read(p)
    assert run.train_loss.values.tolist() == [3, 1.9, 1.5]


def test_binary_file(tmp_path):
    p = tmp_path / "weights.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UnreadableSourceError, match="binary"):
        curvestat.analyze(p)


def test_non_utf8_file(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("step,loss\n0,1.0\n1,é\n".encode("latin-1"))
    with pytest.raises(UnreadableSourceError, match="not UTF-8"):
        curvestat.analyze(p)


def test_unknown_suffix(tmp_path):
    p = tmp_path / "run.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    with pytest.raises(UnknownFormatError, match="unknown format"):
        curvestat.analyze(p)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableSourceError, match="no such file"):
        curvestat.analyze(tmp_path / "nope.csv")


def test_directory_is_not_one_run(tmp_path):
    with pytest.raises(UnknownFormatError, match="directory"):
        curvestat.analyze(tmp_path)


def test_sniff_without_suffix(tmp_path):
    a = _write(tmp_path, "history", '{"loss": [1, 0.5]}')
    b = _write(tmp_path, "log", '{"step": 0, "loss": 1}\n{"step": 1, "loss": 0.5}\n')
    assert sniff_format(a) == "json" and sniff_format(b) == "jsonl"


def test_expand_sources(tmp_path):
    (tmp_path / "a").mkdir()
    _write(tmp_path / "a", "m.csv", "step,loss\n0,1\n")
    _write(tmp_path, "b.jsonl", '{"step": 0, "loss": 1}\n')
    _write(tmp_path, "notes.md", "# not a run\n")
    found = expand_sources(tmp_path)
    assert sorted(p.name for p in found) == ["b.jsonl", "m.csv"]  # notes.md is not a run
    assert [p.name for p in expand_sources(str(tmp_path / "*.jsonl"))] == ["b.jsonl"]
    with pytest.raises(UnreadableSourceError, match="matches no file"):
        expand_sources(str(tmp_path / "*.parquet"))


# --- robustness: no bare exception escapes on arbitrary text -------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("0123456789,.-\n\t ;steplosnaifNIE\"{}[]:")), max_size=200),
       suffix=st.sampled_from([".csv", ".jsonl", ".json"]))
def test_arbitrary_text_gives_report_or_curvestat_error(tmp_path, text, suffix):
    p = tmp_path / f"fuzz{suffix}"
    p.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", curvestat.CurvestatWarning)
        try:
            report = curvestat.analyze(p)
        except CurvestatError:
            return
    assert isinstance(report, curvestat.Report)


# --- the wild corpus: real logs from public repositories ---------------------------------------------

_WILD_TEXT_FORMATS = ("hf_trainer_state", "lightning_csv", "keras_csv", "keras_history_json", "other")


def test_every_wild_text_log_reads(shared_data):
    files = [f for d in _WILD_TEXT_FORMATS for f in sorted((shared_data / "wild" / d).iterdir())]
    assert len(files) >= 60
    for f in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", curvestat.CurvestatWarning)
            run = read(f)
        assert run.train_loss is not None or run.val_loss is not None, f
        assert run.source == str(f)


def test_wild_lightning_sparse_columns(shared_data):
    f = shared_data / "wild" / "lightning_csv" / "0Xero7__slm_training__lightning_logs__version_0__metrics.csv"
    run = read(f)
    assert run.train_loss.name == "train_loss_step" and len(run.train_loss) == 2814
    assert run.val_loss.name == "val_loss" and len(run.val_loss) == 10
    assert run.steps_per_epoch is not None and run.steps_per_epoch > 1000


def test_wild_keras_csv_with_appended_runs(shared_data):
    f = shared_data / "wild" / "keras_csv" / "Farru049__Handwritten-Digit-Recognition__training_log.csv"
    with pytest.warns(StepRestartWarning):
        run = read(f)
    assert run.train_loss.steps[0] == 0 and np.all(np.diff(run.train_loss.steps) == 1)
