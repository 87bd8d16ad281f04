"""The column-wise fast CSV path gives exactly what the point-by-point reader gives.

``read_csv`` first tries ``_read_wide_fast`` and falls back to the general
reader when the file is not plain; these tests generate files around the
edges of "plain" (blank cells, spaces, text cells, label columns, CRLF,
ragged rows, quotes, duplicate and backwards steps, W&B names, epochs) and
compare both paths: the same series (names, order, roles, bitwise steps and
values), ``steps_per_epoch`` and run id, or the same error and warnings.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curvestat.errors import CurvestatError
from curvestat.io import table
from curvestat.io.table import _delimiter, read_csv

_NAMES = ["step", "epoch", "loss", "val_loss", "val_accuracy", "lr", "model", "_runtime", "loss__MIN", "", "Step", "r1 - loss"]
_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e6, 1e6).map(lambda v: f"{v:.5g}"),
    st.integers(-3, 2000).map(str),
    st.sampled_from(["", "", "", " ", "nan", "NaN", "-inf", "Infinity", "1e3", " 2.5 ", "abc", "true", "1_0", "2024-01-01"]),
)
_PLAIN = st.one_of(st.floats(-1e6, 1e6).map(lambda v: f"{v:.5g}"), st.just(""), st.sampled_from(["nan", "inf", "1e-3", "7"]))


def _outcome(path: Path, fast: bool):
    saved = table._read_wide_fast
    if not fast:
        table._read_wide_fast = lambda *a, **k: None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                run = read_csv(path)
            except CurvestatError as exc:
                return ("error", type(exc).__name__, str(exc)), [str(w.message) for w in caught]
    finally:
        table._read_wide_fast = saved
    series = [(s.name, s.role, s.steps.tolist(), s.values.tobytes()) for s in run.series]
    return ("run", series, run.steps_per_epoch, run.run_id, run.source), [(w.category, str(w.message)) for w in caught]


def _same(path: Path) -> None:
    assert _outcome(path, fast=True) == _outcome(path, fast=False)


@st.composite
def _csv_texts(draw):
    ncol = draw(st.integers(1, 5))
    header = draw(st.lists(st.sampled_from(_NAMES), min_size=ncol, max_size=ncol))
    nrow = draw(st.integers(0, 12))
    monotone = draw(st.booleans())
    rows = []
    for i in range(nrow):
        cells = draw(st.lists(_PLAIN if monotone and draw(st.integers(0, 9)) else _CELLS, min_size=ncol, max_size=ncol))
        if monotone:  # mostly well-formed files, so that the fast path is taken too
            for j, h in enumerate(header):
                if h.lower() in ("step", "epoch"):
                    cells[j] = str(3 * i + (j if h == "epoch" else 0))
        if draw(st.integers(0, 15)) == 0:
            cells = cells[: draw(st.integers(0, ncol))] + draw(st.lists(_CELLS, max_size=2))
        rows.append(cells)
    delim = draw(st.sampled_from([",", ",", ";", "\t"]))
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = eol.join(delim.join(r) for r in [header, *rows])
    text += draw(st.sampled_from(["", "\n", "\n\n", "\n  \n", eol]))
    if draw(st.integers(0, 20)) == 0:
        text = text.replace("abc", '"a,b"')
    return text


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=_csv_texts())
def test_fast_path_matches_general_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.csv"
    path.write_bytes(text.encode())
    _same(path)


def test_fast_path_is_taken_on_a_plain_logger_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["step,epoch,loss,val_loss,val_accuracy,phase"]
    for s in range(300):
        val = f"{rng.random():.4g},{rng.random():.4g}" if s % 50 == 0 else ","
        lines.append(f"{s},{s // 100},{rng.random():.6g},{val},train")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(lines) + "\n")
    run = table._read_wide_fast(path, path.read_text(), ",", roles=None, steps_per_epoch=None, run_id=None)
    assert run is not None and run.names == ["loss", "val_loss", "val_accuracy"]
    assert run.steps_per_epoch == 100
    _same(path)


@pytest.mark.parametrize(
    "body",
    [
        "step,loss\n0,1\n1,oops\n",  # a stray text cell
        "step,loss\n0,1\n0,2\n1,3\n",  # a duplicate step (a warning)
        "step,loss\n0,1\n5,2\n3,3\n",  # a restart (a warning)
        "step,loss\n0,1\n1,2,3\n",  # a row longer than the header
        "step,loss\n0,1\n\n2,3\n",  # a blank line
        "loss\n1\n\n2\n",  # a blank line without a step column
        "step,loss\n0,1\n-1,2\n",  # a negative step
        "step,loss\n0.5,1\n",  # a fractional step
        "step,loss\n0,1\n,2\n",  # a value without a step
        "step,model\n0,a\n1,b\n",  # no numeric metric
        "step,loss\n",  # a header only
        "step,loss,loss\n0,1,2\n",  # two columns of one name
        "step;loss;val_loss\n0;1;\n1;2;3\n",
        "step,loss\r\n0,1\r\n1,2\r\n",
        "step,loss\n0,1\r1,2\n",  # a stray carriage return
        'step,"loss"\n0,1\n',
    ],
)
def test_fast_path_edge_cases(tmp_path: Path, body: str) -> None:
    path = tmp_path / "run.csv"
    path.write_bytes(body.encode())
    _same(path)


@settings(max_examples=300, deadline=None)
@given(text=_csv_texts())
def test_delimiter_shortcut_agrees_with_the_sniffer(text: str) -> None:
    try:
        expected = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        expected = ","
    assert _delimiter(Path("x.csv"), text) == expected


# --- JSON records --------------------------------------------------------------------

_KEYS = ["step", "epoch", "loss", "eval_loss", "learning_rate", "_runtime", "model", "name", "Step", "global_step", "value"]
_VALUES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-2, 50),
    st.sampled_from([True, None, "0.5", "nan", "abc", [1, 2], {"a": 1}, "", 2**60]),
)


@st.composite
def _records(draw):
    layouts = draw(st.lists(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=4, unique=True), min_size=1, max_size=3))
    records = []
    monotone = draw(st.booleans())
    for i in range(draw(st.integers(0, 10))):
        rec = {k: draw(_VALUES) for k in draw(st.sampled_from(layouts))}
        if monotone:
            for k in rec:
                if k in ("step", "Step", "global_step"):
                    rec[k] = 2 * i
                elif k == "epoch":
                    rec[k] = i / 4
                elif k not in ("model", "name") and draw(st.integers(0, 3)):
                    rec[k] = draw(st.floats(-10, 10))
        records.append(rec)
    if draw(st.integers(0, 10)) == 0:
        records.append(draw(st.sampled_from([3, "x", [1]])))
    return records


def _json_outcome(path: Path, fast: bool, columns: bool = True):
    from curvestat.io import jsonlog

    saved, saved_columns = jsonlog._collect_wide_fast, jsonlog._collect_wide_columns
    if not fast:
        jsonlog._collect_wide_fast = lambda *a, **k: None
    if not columns:
        jsonlog._collect_wide_columns = lambda *a, **k: None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                run = jsonlog.read_jsonl(path) if path.suffix == ".jsonl" else jsonlog.read_json(path)
            except CurvestatError as exc:
                return ("error", type(exc).__name__, str(exc)), [str(w.message) for w in caught]
    finally:
        jsonlog._collect_wide_fast, jsonlog._collect_wide_columns = saved, saved_columns
    series = [(s.name, s.role, s.steps.tolist(), s.values.tobytes()) for s in run.series]
    return ("run", series, run.steps_per_epoch, run.run_id), [(w.category, str(w.message)) for w in caught]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=_records(), shape=st.sampled_from(["trainer_state.json", "records.json", "run.jsonl", "history.json"]))
def test_json_fast_path_matches_general_reader(tmp_path: Path, records: list, shape: str) -> None:
    import json

    path = tmp_path / shape
    if shape == "trainer_state.json":
        path.write_text(json.dumps({"log_history": records}))
    elif shape == "records.json":
        path.write_text(json.dumps(records))
    elif shape == "run.jsonl":
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    else:  # a Keras history: one list per key
        cols: dict = {}
        for r in records:
            if isinstance(r, dict):
                for k, v in r.items():
                    cols.setdefault(k, []).append(v)
        path.write_text(json.dumps(cols))
    general = _json_outcome(path, fast=False)
    assert _json_outcome(path, fast=True) == general
    assert _json_outcome(path, fast=True, columns=False) == general
