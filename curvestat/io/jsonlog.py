"""JSON logs: JSON Lines records, Hugging Face ``trainer_state.json``, Keras ``History`` dicts.

Recognised shapes
-----------------
* **JSON Lines** (``.jsonl``, ``.ndjson``): one object per line, either a long
  record ``{"step": 10, "name": "loss", "value": 0.5}`` or a wide record
  ``{"step": 10, "loss": 0.5, "lr": 1e-3}`` (W&B ``run.history()`` exports
  use ``_step``). Without a step key the line number (0-based) is the step.
* **Hugging Face** ``trainer_state.json``: the ``log_history`` list of wide
  records; the closing summary record (the one with ``train_runtime``, whose
  ``train_loss`` is an average over the whole run) is left out. A record
  without ``step`` (``Trainer.predict`` results) takes the step of the record
  before it. ``steps_per_epoch`` comes from ``step / epoch``;
  older ``transformers`` round ``epoch`` to 2 decimals, which the inference
  allows for.
* **Keras** ``History.history``: ``{"loss": [...], "val_loss": [...]}`` with
  one value per epoch (step = epoch index), possibly nested under a
  ``"history"`` key or next to metadata keys, which are ignored.
* A JSON list of wide records, read like JSON Lines (W&B ``scan_history()``
  dumps and ``DataFrame.to_json(orient="records")`` of ``run.history()``),
  or a column-oriented ``DataFrame.to_json()`` dump ``{col: {"0": v}}``.
  W&B's ``_step`` is the step; ``_runtime``, ``_timestamp`` and other
  ``_``-prefixed keys are not curves.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmptySeriesError, ParseError, UnknownFormatError
from ..run import Role, Run, Series, _apply_roles
from ._common import (
    EPOCH_COLUMNS,
    STEP_COLUMNS,
    PointCollector,
    as_float,
    as_step,
    build_run,
    infer_steps_per_epoch,
    open_text,
)

_HF_SUMMARY_KEYS = frozenset({"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos"})


def _load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text, parse_constant=lambda c: {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[c])
    except json.JSONDecodeError as exc:
        raise ParseError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _collect_records(
    src: str,
    records: list[tuple[str, Any]],
    *,
    skip_keys: frozenset[str] = frozenset(),
) -> tuple[PointCollector | _Collected, list[int], list[float]]:
    """Feed wide or long records into a collector; return (step, epoch) pairs too."""
    fast = _collect_wide_fast(src, records, skip_keys)
    if fast is not None:
        return fast
    collector = PointCollector(src)
    pairs_step: list[int] = []
    pairs_epoch: list[float] = []
    # keys that carry a number somewhere are curves: a text value there is an error
    numeric_keys = {
        k
        for _, rec in records
        if isinstance(rec, Mapping)
        for k, v in rec.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    for idx, (where, rec) in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ParseError(f"{src}: {where}: expected an object, got {type(rec).__name__}")
        keys = {str(k).lower(): k for k in rec}
        step_key = next((keys[c] for c in STEP_COLUMNS if c in keys), None)
        epoch_key = next((keys[c] for c in EPOCH_COLUMNS if c in keys), None)
        if step_key is not None:
            step = as_step(rec[step_key], where=f"{src}: {where}")
        elif epoch_key is not None and "name" not in keys:
            step = as_step(rec[epoch_key], where=f"{src}: {where}")
        else:
            step = idx
        if "name" in keys and "value" in keys:  # long record
            name = str(rec[keys["name"]])
            collector.add(name, step, as_float(rec[keys["value"]], where=f"{src}: {where}, series {name!r}"), where)
            continue
        if epoch_key is not None and step_key is not None:
            try:
                epoch = float(rec[epoch_key])
            except (TypeError, ValueError):
                pass  # (a pair is kept whole or not at all)
            else:
                pairs_step.append(step)
                pairs_epoch.append(epoch)
        for key, value in rec.items():
            if key in (step_key, epoch_key) or key in skip_keys or str(key).startswith("_") or str(key).lower() in STEP_COLUMNS:
                continue
            if isinstance(value, str) and not _numeric_string(value):
                if key in numeric_keys:
                    raise ParseError(f"{src}: {where}, key {key!r}: {value!r} is not a number")
                continue  # a label key (model name, phase, timestamp)
            if isinstance(value, (Mapping, list)):
                continue  # nested objects and lists are not curves
            if isinstance(value, bool) or value is None:
                continue
            collector.add(str(key), step, as_float(value, where=f"{src}: {where}, key {key!r}"), where)
    return collector, pairs_step, pairs_epoch


class _Collected:
    """Series gathered by :func:`_collect_wide_fast`, built like ``PointCollector.build``."""

    def __init__(self, src: str, points: dict[str, tuple[list[int], list[float]]]) -> None:
        self.source = src
        self._points = points

    def build(self, **kwargs: Any) -> Run:
        return build_run(self.source, ((k, s, v) for k, (s, v) in self._points.items()), **kwargs)


def _collect_wide_fast(
    src: str, records: list[tuple[str, Any]], skip_keys: frozenset[str]
) -> tuple[_Collected, list[int], list[float]] | None:
    """:func:`_collect_records` for wide records with increasing steps; None when it needs the general loop.

    Records share a few key layouts (a Trainer's training, evaluation and
    prediction records), so what each key is (step, epoch, skipped, a curve)
    is decided once per layout; integer and float values go straight into
    per-series lists. Long records, non-object records, steps that are not
    plain non-negative integers, a step logged twice or going backwards are
    left to the general loop, which owns those messages and warnings.
    """
    columns = _collect_wide_columns(src, records, skip_keys)
    if columns is not None:
        return columns
    plans: dict[tuple[Any, ...], tuple[Any, Any, Any, list[tuple[Any, str]]]] = {}
    points: dict[str, tuple[list[int], list[float]]] = {}
    pairs_step: list[int] = []
    pairs_epoch: list[float] = []
    numeric_keys: set[Any] | None = None
    for idx, (where, rec) in enumerate(records):
        if type(rec) is not dict:
            return None
        layout = tuple(rec)
        plan = plans.get(layout)
        if plan is None:
            plan = _plan(rec, skip_keys)
            if plan is None:
                return None  # a long (name, value) record: the general loop reads it
            plans[layout] = plan
        step_key, epoch_key, axis, value_keys = plan
        if axis is None:
            step = idx
        else:
            step = rec[axis]
            if type(step) is not int or not 0 <= step < 2**53:
                step = as_step(step, where=f"{src}: {where}")
        if epoch_key is not None and step_key is not None:
            try:
                epoch = float(rec[epoch_key])
            except (TypeError, ValueError):
                pass  # (a pair is kept whole or not at all)
            else:
                pairs_step.append(step)
                pairs_epoch.append(epoch)
        for key, name in value_keys:
            value = rec[key]
            t = type(value)
            if t is not float and t is not int:
                if isinstance(value, str) and not _numeric_string(value):
                    if numeric_keys is None:
                        numeric_keys = {
                            k
                            for _, r in records
                            if isinstance(r, Mapping)
                            for k, v in r.items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)
                        }
                    if key in numeric_keys:
                        raise ParseError(f"{src}: {where}, key {key!r}: {value!r} is not a number")
                    continue
                if isinstance(value, (Mapping, list)) or isinstance(value, bool) or value is None:
                    continue
                value = as_float(value, where=f"{src}: {where}, key {key!r}")
            series = points.get(name)
            if series is None:
                points[name] = ([step], [float(value)])
            elif step > series[0][-1]:
                series[0].append(step)
                series[1].append(float(value))
            else:
                return None  # a repeated or backwards step
    return _Collected(src, points), pairs_step, pairs_epoch


def _plan(rec: dict, skip_keys: frozenset[str]) -> tuple[Any, Any, Any, list[tuple[Any, str]]] | None:
    """(step key, epoch key, axis key, [(value key, series name)]) of a wide record's layout; None for a long one."""
    keys = {str(k).lower(): k for k in rec}
    if "name" in keys and "value" in keys:
        return None
    step_key = next((keys[c] for c in STEP_COLUMNS if c in keys), None)
    epoch_key = next((keys[c] for c in EPOCH_COLUMNS if c in keys), None)
    value_keys = [
        (k, str(k))
        for k in rec
        if not (k in (step_key, epoch_key) or k in skip_keys or str(k).startswith("_") or str(k).lower() in STEP_COLUMNS)
    ]
    axis_key = step_key if step_key is not None else epoch_key if "name" not in keys else None
    return step_key, epoch_key, axis_key, value_keys


def _plain_numbers(values: list[Any]) -> bool:
    return all(type(v) is float or type(v) is int for v in values)


def _collect_wide_columns(
    src: str, records: list[tuple[str, Any]], skip_keys: frozenset[str]
) -> tuple[_Collected, list[int], list[float]] | None:
    """:func:`_collect_wide_fast` column by column, for records whose every value is a plain number.

    Records are grouped by key layout and each key's values gathered in one
    pass; a series logged by several layouts is put back in record order.
    Anything but int/float values and plain integer steps, or a step that
    does not increase, returns None (the record-by-record loop decides).
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for idx, (_, rec) in enumerate(records):
        if type(rec) is not dict:
            return None
        groups.setdefault(tuple(rec), []).append(idx)
    parts: dict[str, list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]] = {}
    pair_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for idxs in groups.values():
        recs = [records[i][1] for i in idxs]
        plan = _plan(recs[0], skip_keys)
        if plan is None:
            return None
        step_key, epoch_key, axis, value_keys = plan
        where = np.asarray(idxs, dtype=np.int64)
        if axis is None:
            steps = where
        else:
            raw = [r[axis] for r in recs]
            if not all(type(v) is int for v in raw) or min(raw) < 0 or max(raw) >= 2**53:
                return None
            steps = np.asarray(raw, dtype=np.int64)
        if epoch_key is not None and step_key is not None:
            ep = [r[epoch_key] for r in recs]
            if not _plain_numbers(ep):
                return None
            pair_parts.append((where, steps, np.asarray(ep, dtype=np.float64)))
        for pos, (key, name) in enumerate(value_keys):
            vals = [r[key] for r in recs]
            if not _plain_numbers(vals):
                return None
            try:
                arr = np.asarray(vals, dtype=np.float64)
            except OverflowError:
                return None
            parts.setdefault(name, []).append((idxs[0], pos, where, steps, arr))
    points: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    # series in the order the record-by-record loop creates them: by first record, then key position
    def first(segs: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]) -> tuple[int, int]:
        seg = min(segs, key=lambda s: s[0])
        return seg[0], seg[1]

    for name, segs in sorted(parts.items(), key=lambda kv: first(kv[1])):
        if len(segs) == 1:
            s_arr, v_arr = segs[0][3], segs[0][4]
        else:
            order = np.argsort(np.concatenate([s[2] for s in segs]), kind="stable")
            s_arr = np.concatenate([s[3] for s in segs])[order]
            v_arr = np.concatenate([s[4] for s in segs])[order]
        if s_arr.size > 1 and not np.all(s_arr[1:] > s_arr[:-1]):
            return None  # a repeated or backwards step
        points[name] = (s_arr, v_arr)
    if len(pair_parts) == 1:
        ps, pe = pair_parts[0][1], pair_parts[0][2]
    elif pair_parts:
        order = np.argsort(np.concatenate([p[0] for p in pair_parts]), kind="stable")
        ps = np.concatenate([p[1] for p in pair_parts])[order]
        pe = np.concatenate([p[2] for p in pair_parts])[order]
    else:
        ps, pe = np.empty(0, dtype=np.int64), np.empty(0)
    return _Collected(src, points), ps.tolist(), pe.tolist()  # type: ignore[arg-type]


def _numeric_string(s: str) -> bool:
    from ._common import parse_number

    return parse_number(s) is not None


def read_jsonl(
    path: Path,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read a JSON Lines log (long or wide records).

    Raises
    ------
    EmptySeriesError
        If the file has no record.
    ParseError
        If a line is not valid JSON or a value is not a number.
    """
    text = open_text(path)
    records: list[tuple[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(f"{path}: line {lineno} is not valid JSON ({exc.msg})") from None
        records.append((f"line {lineno}", rec))
    if not records:
        raise EmptySeriesError(f"{path}: file is empty")
    collector, ps, pe = _collect_records(str(path), records)
    if steps_per_epoch is None and ps:
        steps_per_epoch = infer_steps_per_epoch(ps, pe)
    return collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id or path.stem)


def read_json(
    path: Path,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read a JSON log: HF ``trainer_state.json``, a Keras history dict, or a list of records.

    Raises
    ------
    EmptySeriesError
        If the file is empty or holds no numeric curve.
    ParseError
        If the file is not valid JSON or a value is not a number.
    UnknownFormatError
        If the JSON holds none of the recognised shapes.
    """
    text = open_text(path)
    if not text.strip():
        raise EmptySeriesError(f"{path}: file is empty")
    data = _load_json(path, text)
    src = str(path)
    default_id = path.parent.name if path.name == "trainer_state.json" else path.stem
    rid = run_id or default_id
    if isinstance(data, Mapping) and "log_history" in data:
        history = data["log_history"]
        if not isinstance(history, list):
            raise ParseError(f"{src}: 'log_history' must be a list, got {type(history).__name__}")
        records = [
            (f"log_history[{i}]", rec)
            for i, rec in enumerate(history)
            if not ((type(rec) is dict or isinstance(rec, Mapping)) and not _HF_SUMMARY_KEYS.isdisjoint(rec))
        ]
        if not records:
            raise EmptySeriesError(f"{src}: 'log_history' holds no training record")
        records = _inherit_steps(src, records)
        collector, ps, pe = _collect_records(src, records)
        if steps_per_epoch is None and ps:
            steps_per_epoch = infer_steps_per_epoch(ps, pe) or _rounded_epoch_steps_per_epoch(ps, pe)
        return collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=rid)
    if isinstance(data, Mapping) and (path.name == "trainer_state.json" or {"global_step", "best_model_checkpoint"} <= set(data)):
        raise ParseError(
            f"{src}: Hugging Face trainer state without a 'log_history' key (keys: {sorted(map(str, data))[:8]}); "
            "the file is truncated or was not written by transformers.Trainer"
        )
    if isinstance(data, list):
        if not data:
            raise EmptySeriesError(f"{src}: empty JSON list")
        collector, ps, pe = _collect_records(src, [(f"record {i}", r) for i, r in enumerate(data)])
        if steps_per_epoch is None and ps:
            steps_per_epoch = infer_steps_per_epoch(ps, pe)
        return collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=rid)
    if isinstance(data, Mapping):
        columns = _pandas_columns(data)
        if columns is not None:  # DataFrame.to_json() of W&B's run.history()
            collector, ps, pe = _collect_records(src, columns)
            if steps_per_epoch is None and ps:
                steps_per_epoch = infer_steps_per_epoch(ps, pe)
            return collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=rid)
        return _read_history_dict(src, data, roles=roles, steps_per_epoch=steps_per_epoch, run_id=rid)
    raise UnknownFormatError(f"{src}: JSON top level is a {type(data).__name__}; expected an object or a list")


def _pandas_columns(data: Mapping[str, Any]) -> list[tuple[str, Any]] | None:
    """Rows of a column-oriented ``DataFrame.to_json()`` dump (``{col: {"0": v, ...}}``), else None."""
    if not data or not all(isinstance(v, Mapping) and v for v in data.values()):
        return None
    index: set[str] = set()
    for col in data.values():
        index.update(map(str, col))
    if not all(k.isdigit() for k in index):
        return None
    rows = []
    for k in sorted(index, key=int):
        rec = {c: col[k] for c, col in data.items() if k in col and col[k] is not None}
        rows.append((f"row {k}", rec))
    return rows


def _inherit_steps(src: str, records: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Give a step-less ``log_history`` record the step of the record before it.

    ``Trainer.predict`` results (``predict_loss``, ...) are logged without a
    step, right after the evaluation of the step they belong to.
    """
    out: list[tuple[str, Any]] = []
    last: Any = None
    for where, rec in records:
        if type(rec) is dict or isinstance(rec, Mapping):
            if "step" in rec:
                last = rec["step"]
            elif last is None:
                raise ParseError(f"{src}: {where} has no 'step' key and no earlier record gives one (keys: {sorted(map(str, rec))[:8]})")
            else:
                rec = {**rec, "step": last}
        out.append((where, rec))
    return out


def _rounded_epoch_steps_per_epoch(steps: list[int], epochs: list[float], *, decimals: int = 2) -> int | None:
    """Steps per epoch from (step, epoch) pairs whose epoch was rounded to ``decimals``.

    Each pair bounds ``steps_per_epoch`` to ``[step / (epoch + h), step / (epoch - h)]``
    with ``h`` one unit of the last decimal (rounding, and the Trainer counting
    epochs in batches, not optimiser steps); the bounds of all pairs must
    overlap (a streaming dataset's epoch counter is not linear in the step,
    and gives None). Returns the least-squares slope clipped into the overlap.
    """
    s = np.asarray(steps, dtype=np.float64)
    e = np.asarray(epochs, dtype=np.float64)
    h = 10.0**-decimals  # half a unit of rounding, plus the Trainer counting epochs in batches
    ok = np.isfinite(s) & np.isfinite(e) & (e > h)
    s, e = s[ok], e[ok]
    if s.size < 2:
        return None
    lo = float(np.max(s / (e + h)))
    hi = float(np.min(s / (e - h)))
    if lo > hi:
        return None
    est = float(np.sum(s * e) / np.sum(e * e))
    est = min(max(est, lo), hi)
    return int(round(est)) if est >= 1 else None


def _read_history_dict(src: str, data: Mapping[str, Any], *, roles, steps_per_epoch, run_id) -> Run:
    # Keras History.history, possibly nested ({"history": {...}, "params": {...}}).
    if isinstance(data.get("history"), Mapping):
        data = data["history"]
    epoch_axis = None
    for key in ("epoch", "epochs"):
        if isinstance(data.get(key), list):
            epoch_axis = data[key]
    series = []
    for key, value in data.items():
        if key in ("epoch", "epochs") or not isinstance(value, list) or not value:
            continue
        if all(type(v) is float or type(v) is int for v in value):
            vals = [float(v) for v in value]  # what as_float gives, without a message per value
        else:
            if not all(isinstance(v, (int, float, str)) or v is None for v in value):
                continue  # a list of records or nested lists is metadata, not a curve
            if all(isinstance(v, str) and not _numeric_string(v) for v in value):
                continue  # a list of labels
            vals = [as_float(v, where=f"{src}: {key}[{i}]") for i, v in enumerate(value)]
        if epoch_axis is not None and len(epoch_axis) == len(vals):
            if all(type(e) is int and 0 <= e < 2**53 for e in epoch_axis):
                steps = list(epoch_axis)
            else:
                steps = [as_step(e, where=f"{src}: epoch[{i}]") for i, e in enumerate(epoch_axis)]
        else:
            steps = list(range(len(vals)))
        series.append(Series(str(key), steps, vals))
    if not series:
        raise UnknownFormatError(
            f"{src}: no curve found; expected 'log_history' (Hugging Face) or lists of numbers per metric (Keras History)"
        )
    return Run(_apply_roles(series, roles), steps_per_epoch=steps_per_epoch or 1, run_id=run_id, source=src)
