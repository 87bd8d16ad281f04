"""Bad input, everywhere: analyze() and every reader raise nothing but a CurvestatError (or return a Report).

Hypothesis draws float arrays built from the values that break numerical code
(+-1e308, subnormals, +-inf, NaN, constants, negatives; lengths 0-5 and long)
and byte strings (random, and valid logs truncated at any byte) for every reader.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import curvestat
from curvestat.errors import CurvestatError
from curvestat.examples import example_path
from curvestat.io import read
from curvestat.report import Report

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324, 2.2e-308, np.inf, -np.inf, np.nan, 1e-300, 3.0]

special = st.sampled_from(SPECIAL)
anyfloat = st.floats(allow_nan=True, allow_infinity=True, width=64)
element = st.one_of(special, anyfloat)


@st.composite
def float_arrays(draw):
    kind = draw(st.sampled_from(["short", "long", "constant", "curve_with_specials"]))
    if kind == "short":
        return np.array(draw(st.lists(element, min_size=0, max_size=5)), dtype=float)
    if kind == "constant":
        return np.full(draw(st.integers(1, 300)), draw(element))
    n = draw(st.integers(40, 400))
    if kind == "long":
        return np.array(draw(st.lists(element, min_size=n, max_size=n)), dtype=float)
    # a plausible decreasing curve with a few special values planted in it
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = np.exp(-np.arange(n) / (n / 4)) + 0.05 * rng.standard_normal(n) + 0.1
    base *= draw(st.sampled_from([1.0, -1.0, 1e300, 1e-300]))
    for _ in range(draw(st.integers(1, 4))):
        base[draw(st.integers(0, n - 1))] = draw(special)
    return base


def _analyze_ok(source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = curvestat.analyze(source)
        except CurvestatError:
            return
    assert isinstance(out, Report)


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(float_arrays())
def test_analyze_any_float_array(arr):
    _analyze_ok(arr)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(float_arrays(), float_arrays())
def test_analyze_any_train_validation_pair(train, val):
    k = max(1, len(val))
    steps = np.unique(np.linspace(0, max(len(train) - 1, 0), k).astype(int))
    _analyze_ok({"loss": (np.arange(len(train)), train), "val_loss": (steps, val[: steps.size]) if steps.size == min(len(val), steps.size) else (steps, np.resize(val, steps.size))})


def test_explosion_near_the_float_limit():
    # found by the property test: math.exp of the log-jump of a finite 1e308 overflowed
    loss = np.exp(-np.arange(40) / 10) + 0.1
    loss[17] = 1e308
    _analyze_ok(loss)


def test_overfitting_on_a_subnormal_train_loss():
    # found by the property test: the train/validation ratio overflowed a float
    _analyze_ok({"loss": (np.arange(6), np.full(6, 5e-324)), "val_loss": (np.arange(6), np.ones(6))})


def _valid_logs():
    csv_bytes = example_path("overfitting").read_bytes()
    rows = [{"step": i, "loss": float(np.exp(-i / 20)), "val_loss": float(np.exp(-i / 25)) if i % 5 == 0 else None} for i in range(60)]
    jsonl = "".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows).encode()
    state = json.dumps(
        {"log_history": [{"step": 10 * i, "loss": 1.0 / (i + 1), "epoch": i / 5} for i in range(1, 30)] + [{"step": 50 * i, "eval_loss": 1.1 / i} for i in range(1, 6)]}
    ).encode()
    keras = json.dumps({"loss": [1.0 / (i + 1) for i in range(20)], "val_loss": [1.2 / (i + 1) for i in range(20)]}).encode()
    return {".csv": csv_bytes, ".jsonl": jsonl, ".json": state, "keras.json": keras}


VALID = _valid_logs()
NAMES = {".csv": "run.csv", ".tsv": "run.tsv", ".txt": "run.txt", ".jsonl": "run.jsonl", ".json": "trainer_state.json", "keras.json": "history.json", "tb": "events.out.tfevents.1.host"}


def _read_ok(name, data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                run = read(p)
            except CurvestatError:
                return
            try:
                curvestat.analyze(run)
            except CurvestatError:
                return


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(NAMES)), st.binary(max_size=600))
def test_every_reader_on_random_bytes(kind, data):
    _read_ok(NAMES[kind], data)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.data())
def test_every_reader_on_truncated_logs(kind, data):
    full = VALID[kind]
    cut = data.draw(st.integers(0, len(full)))
    _read_ok(NAMES[kind], full[:cut])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_tensorboard_reader_on_truncated_and_corrupted_event_files(data):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    with tempfile.TemporaryDirectory() as d:
        w = EventFileWriter(d)
        for i in range(30):
            summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=float(np.exp(-i / 9)))])
            w.add_event(event_pb2.Event(wall_time=1.7e9 + i, step=i, summary=summ))
        w.close()
        full = next(Path(d).glob("events.out.tfevents.*")).read_bytes()
    cut = data.draw(st.integers(0, len(full)))
    blob = bytearray(full[:cut])
    if blob and data.draw(st.booleans()):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    _read_ok(NAMES["tb"], bytes(blob))


def test_bare_arrays_of_different_lengths_are_ambiguous():
    with pytest.raises(CurvestatError) as info:
        curvestat.analyze({"loss": np.linspace(1, 0.1, 100), "val_loss": np.linspace(1, 0.2, 10)})
    msg = str(info.value)
    assert "100" in msg and "10" in msg and "(steps, values)" in msg
