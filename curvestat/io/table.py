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

from ..errors import EmptySeriesError, ParseError
from ..run import Role, Run
from ._common import (
    EPOCH_COLUMNS,
    STEP_COLUMNS,
    PointCollector,
    as_step,
    infer_steps_per_epoch,
    is_blank,
    open_text,
    parse_number,
    pick_column,
)

LONG_NAME_COLUMNS = ("name", "metric", "key", "tag", "series")
LONG_VALUE_COLUMNS = ("value", "val", "y")


def _rows(path: Path, text: str) -> list[list[str]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
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
    rows = [r for r in _rows(path, text)]
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
