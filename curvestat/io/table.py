"""Delimited text logs: wide CSV (one column per metric) and long CSV (``step, name, value``).

Wide CSV is what PyTorch Lightning's ``CSVLogger``, Keras' ``CSVLogger`` and
most hand-written loggers produce: a step column (``step``, ``global_step``,
``_step``, ...; else ``epoch``; else the row number) and one column per
metric, empty where the metric was not logged on that row.

Rules
-----
* An empty cell means "not logged here"; ``nan``, ``inf``, ``-inf``,
  ``Infinity`` (any case) are values and are kept.
* A column whose every non-empty cell is text (a timestamp, a model name, a
  phase label) is a label column and is ignored. A stray text cell in an
  otherwise numeric column is a :class:`~curvestat.errors.ParseError` naming the
  line and the column.
* The same step twice in one series keeps the last value (with a warning); a
  step that goes backwards is an error (see ``PointCollector``).
* Weights & Biases exports: ``run.history()`` CSVs use ``_step`` as the axis
  (``_runtime`` and ``_timestamp`` are not curves); the UI's panel export
  names columns ``"<run> - <metric>"`` and adds ``<metric>__MIN`` /
  ``<metric>__MAX`` band columns, which are ignored; with one run in the
  file the ``"<run> - "`` prefix is dropped from the series names. Step
  columns other than the chosen axis (``trainer/global_step`` next to
  ``_step``) are not curves either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import EmptySeriesError, ParseError
from ..run import Role, Run
from ._common import (
    EPOCH_COLUMNS,
    STEP_COLUMNS,
    PointCollector,
    as_step,
    build_run,
    infer_steps_per_epoch,
    is_blank,
    open_text,
    parse_number,
    pick_column,
)

LONG_NAME_COLUMNS = ("name", "metric", "key", "tag", "series")
LONG_VALUE_COLUMNS = ("value", "val", "y")


def _delimiter(path: Path, text: str) -> str:
    """The delimiter ``csv.Sniffer`` picks from the first 4 KiB (``,``, ``;`` or tab), else by suffix.

    The common case is decided without the sniffer, with the same answer: with
    no quote character in the sample, the sniffer settles on the first ten
    non-empty lines and returns the one candidate found there the same
    (non-zero) number of times on every line.
    """
    sample = text[:4096]
    if '"' not in sample and "'" not in sample:
        lines = [line for line in sample.split("\n") if line][:10]
        found = [d for d in ",;\t" if any(d in line for line in lines)]
        if len(found) == 1 and len({line.count(found[0]) for line in lines}) == 1:
            return found[0]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return "\t" if path.suffix.lower() == ".tsv" else ","


def _rows(path: Path, text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise ParseError(f"{path}: malformed CSV ({exc})") from None


def is_long_header(header: list[str]) -> bool:
    """True when a header names step, name and value columns (long format)."""
    return (
        pick_column(header, STEP_COLUMNS + EPOCH_COLUMNS) is not None
        and pick_column(header, LONG_NAME_COLUMNS) is not None
        and pick_column(header, LONG_VALUE_COLUMNS) is not None
    )


def read_csv(
    path: Path,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read a wide or long CSV/TSV file into a :class:`~curvestat.run.Run`.

    Raises
    ------
    EmptySeriesError
        If the file is empty, has a header only, or no numeric column.
    ParseError
        On a non-numeric cell in a numeric column, or a row longer than the header.
    InvalidStepsError
        On negative, non-integer or backwards steps.
    """
    text = open_text(path)
    delimiter = _delimiter(path, text)
    fast = _read_wide_fast(path, text, delimiter, roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id)
    if fast is not None:
        return fast
    rows = _rows(path, text, delimiter)
    # drop fully blank lines but keep line numbers for messages
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise EmptySeriesError(f"{path}: file is empty")
    header = [h.strip() for h in numbered[0][1]]
    body = numbered[1:]
    if not body:
        raise EmptySeriesError(f"{path}: has a header but no data rows")
    if is_long_header(header):
        return _read_long(path, header, body, roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id)
    return _read_wide(path, header, body, roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id)


def _read_wide(path, header, body, *, roles, steps_per_epoch, run_id) -> Run:
    src = str(path)
    step_col = pick_column(header, STEP_COLUMNS)
    epoch_col = pick_column(header, EPOCH_COLUMNS)
    axis_col = step_col if step_col is not None else epoch_col
    ncol = len(header)

    # First pass: classify columns as numeric or label (all non-empty cells are text).
    numeric_cells = [0] * ncol
    text_cells = [0] * ncol
    for lineno, row in body:
        if len(row) > ncol and any(c.strip() for c in row[ncol:]):
            raise ParseError(f"{src}: line {lineno} has {len(row)} cells but the header has {ncol} columns")
        for j in range(min(ncol, len(row))):
            if is_blank(row[j]):
                continue
            if parse_number(row[j]) is None:
                text_cells[j] += 1
            else:
                numeric_cells[j] += 1
    label_cols = {j for j in range(ncol) if numeric_cells[j] == 0}
    if axis_col is not None and axis_col in label_cols:
        raise ParseError(f"{src}: step column {header[axis_col]!r} holds no number")
    metric_cols = [j for j in range(ncol) if j not in label_cols and j != step_col and j != epoch_col and header[j]]
    if epoch_col is not None and step_col is None:
        metric_cols = [j for j in metric_cols if j != epoch_col]
    metric_cols = [j for j in metric_cols if not header[j].endswith(_WANDB_BANDS) and header[j].lower() not in STEP_COLUMNS]
    names = _strip_run_prefix(header, metric_cols)
    if not metric_cols:
        raise EmptySeriesError(f"{src}: no numeric metric column (columns: {header})")

    collector = PointCollector(src)
    pairs_step: list[int] = []
    pairs_epoch: list[float] = []
    for idx, (lineno, row) in enumerate(body):
        where = f"line {lineno}"
        if axis_col is None:
            step = idx
        else:
            cell = row[axis_col] if axis_col < len(row) else ""
            if is_blank(cell):
                if any(not is_blank(row[j]) for j in metric_cols if j < len(row)):
                    raise ParseError(f"{src}: {where} has values but an empty {header[axis_col]!r} cell")
                continue
            step = as_step(cell, where=f"{src}: {where}, column {header[axis_col]!r}")
        if step_col is not None and epoch_col is not None and epoch_col < len(row):
            e = parse_number(row[epoch_col])
            if e is not None:
                pairs_step.append(step)
                pairs_epoch.append(e)
        for j in metric_cols:
            if j >= len(row) or is_blank(row[j]):
                continue
            v = parse_number(row[j])
            if v is None:
                raise ParseError(f"{src}: {where}, column {header[j]!r}: {row[j].strip()!r} is not a number")
            collector.add(names[j], step, v, where)
    if steps_per_epoch is None:
        if step_col is None and epoch_col is not None:
            steps_per_epoch = 1  # the step axis *is* the epoch
        elif pairs_step:
            steps_per_epoch = infer_steps_per_epoch(pairs_step, pairs_epoch)
    return collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id or path.stem)


def _read_wide_fast(path: Path, text: str, delimiter: str, *, roles, steps_per_epoch, run_id) -> Run | None:
    """:func:`_read_wide` for a plain numeric file, column by column; None when the file needs the general path.

    Plain means: no quote character, no NUL or stray carriage return, no blank
    or ragged row, a numeric step column in strictly increasing order, and
    metric columns that are all numbers (or all text: label columns). Such a
    file splits on newlines and the delimiter exactly as :mod:`csv` splits it,
    ``float`` parses each cell as :func:`parse_number` does, and the series come
    out in the order the point-by-point reader creates them. Anything else
    (errors, duplicate or backwards steps, blank cells that hold spaces) is
    left to the general path, so messages and warnings stay its own.
    """
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    text = text.rstrip("\n " if delimiter == "\t" else "\n \t")
    cut = text.find("\n")
    if cut < 0 or not text[:cut].strip():
        return None
    limit = csv.field_size_limit()
    if len(text) > limit and max(map(len, text.split("\n"))) > limit:
        return None
    header = [h.strip() for h in text[:cut].split(delimiter)]
    if is_long_header(header):
        return None
    ncol = len(header)
    body = text[cut + 1 :]
    n = body.count("\n") + 1
    # every row has exactly ncol - 1 delimiters: the separators, in file
    # order, are ncol - 1 delimiters then a newline, n times over
    raw = np.frombuffer(body.encode(), dtype=np.uint8)
    seps = raw[(raw == 10) | (raw == ord(delimiter))]
    if seps.size != n * ncol - 1 or (ncol > 1 and not np.all(seps[ncol - 1 :: ncol] == 10)):
        return None
    flat = body.replace("\n", delimiter).split(delimiter)
    cols = [flat[j::ncol] for j in range(ncol)]
    step_col = pick_column(header, STEP_COLUMNS)
    epoch_col = pick_column(header, EPOCH_COLUMNS)
    axis_col = step_col if step_col is not None else epoch_col
    if axis_col is None and any(not "".join(flat[k * ncol : (k + 1) * ncol]).strip() for k in range(n)):
        return None  # a blank row has no row number
    metric_cols = [
        j
        for j in range(ncol)
        if j != step_col
        and j != epoch_col
        and header[j]
        and not header[j].endswith(_WANDB_BANDS)
        and header[j].lower() not in STEP_COLUMNS
    ]
    parsed: dict[int, tuple[list[int] | None, list[float]]] = {}
    for j in [c for c in (axis_col, epoch_col) if c is not None] + metric_cols:
        if j in parsed:
            continue
        col = cols[j]
        blanks = col.count("")
        if blanks == n:
            continue  # no number: a label column
        idx = None if blanks == 0 else [i for i, c in enumerate(col) if c]
        try:
            parsed[j] = (idx, list(map(float, col)) if idx is None else [float(col[i]) for i in idx])
        except ValueError:
            if any(parse_number(c) is not None for c in col if c):
                return None  # a stray text cell, or a blank cell of spaces
    if axis_col is None:
        steps = np.arange(n, dtype=np.int64)
    else:
        if axis_col not in parsed or parsed[axis_col][0] is not None:
            return None
        a = np.asarray(parsed[axis_col][1], dtype=np.float64)
        if not (np.all(np.isfinite(a)) and np.all(a == np.round(a)) and np.all(a >= 0) and np.all(a < 2.0**53)):
            return None
        steps = a.astype(np.int64)
        if n > 1 and not np.all(steps[1:] > steps[:-1]):
            return None
    metric_cols = [j for j in metric_cols if j in parsed]
    if not metric_cols:
        return None
    names = _strip_run_prefix(header, metric_cols)
    if len({names[j] for j in metric_cols}) < len(metric_cols):
        return None
    # the point-by-point reader creates a series at its first value: row order, then column order
    def first_row(j: int) -> tuple[int, int]:
        rows = parsed[j][0]
        return (0 if rows is None else rows[0], j)

    order = sorted(metric_cols, key=first_row)
    named = []
    for j in order:
        idx, vals = parsed[j]
        named.append((names[j], steps if idx is None else steps[idx], vals))
    if steps_per_epoch is None:
        if step_col is None and epoch_col is not None:
            steps_per_epoch = 1
        elif step_col is not None and epoch_col is not None and epoch_col in parsed:
            idx, ep = parsed[epoch_col]
            ps = steps if idx is None else steps[idx]
            if ps.size:
                steps_per_epoch = infer_steps_per_epoch(ps, ep)
    return build_run(str(path), named, roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id or path.stem)


_WANDB_BANDS = ("__MIN", "__MAX")
_RUN_PREFIX = re.compile(r"^(.+?) - (.+)$")


def _strip_run_prefix(header: list[str], cols: list[int]) -> dict[int, str]:
    """Series names by column: W&B UI exports say ``"<run> - <metric>"``; with one run, keep ``<metric>``."""
    matches = [_RUN_PREFIX.match(header[j]) for j in cols]
    if cols and all(matches) and len({m.group(1) for m in matches if m}) == 1:
        return {j: m.group(2) for j, m in zip(cols, matches) if m}
    return {j: header[j] for j in cols}


def _read_long(path, header, body, *, roles, steps_per_epoch, run_id) -> Run:
    src = str(path)
    step_col = pick_column(header, STEP_COLUMNS + EPOCH_COLUMNS)
    name_col = pick_column(header, LONG_NAME_COLUMNS)
    value_col = pick_column(header, LONG_VALUE_COLUMNS)
    assert step_col is not None and name_col is not None and value_col is not None  # is_long_header
    collector = PointCollector(src)
    need = max(step_col, name_col, value_col)
    for lineno, row in body:
        where = f"line {lineno}"
        if len(row) <= need:
            raise ParseError(f"{src}: {where} has {len(row)} cells, expected at least {need + 1}")
        name = row[name_col].strip()
        if not name:
            raise ParseError(f"{src}: {where}: empty series name")
        step = as_step(row[step_col], where=f"{src}: {where}")
        v = parse_number(row[value_col])
        if v is None:
            raise ParseError(f"{src}: {where}, series {name!r}: value {row[value_col].strip()!r} is not a number")
        collector.add(name, step, v, where)
    return collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id or path.stem)
