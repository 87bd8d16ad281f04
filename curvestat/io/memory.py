"""In-memory sources: mappings of arrays, bare arrays, and pandas DataFrames."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import EmptySeriesError, InputError
from ..run import Role, Run, Series, _apply_roles
from ._common import EPOCH_COLUMNS, STEP_COLUMNS, infer_steps_per_epoch


def from_array(
    values: Any,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """A bare 1-D array is a train-loss curve logged at steps ``0 .. n-1``.

    Raises
    ------
    InputError
        If the array is not 1-D.
    EmptySeriesError
        If it is empty.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(
            f"a bare array must be 1-D (one train-loss curve), got shape {arr.shape}; "
            "pass a dict {name: values} for several curves"
        )
    if arr.size == 0:
        raise EmptySeriesError("the array is empty")
    role = (roles or {}).get("loss", Role.TRAIN_LOSS)
    return Run([Series("loss", np.arange(arr.size), arr, role)], steps_per_epoch=steps_per_epoch, run_id=run_id)


def is_dataframe(obj: Any) -> bool:
    """Duck-typed pandas check that does not import pandas."""
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns") and hasattr(obj, "to_numpy")


def from_dataframe(
    df: Any,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read a wide DataFrame: a step column (else ``epoch``, else the index) and one column per metric.

    pandas cannot tell "not logged" from "logged NaN" in a float column, so
    here a NaN cell means *not logged* (pandas' own convention for missing
    data) while ``+-inf`` is kept. To keep NaN losses as evidence, pass a dict
    ``{name: (steps, values)}`` instead. Non-numeric columns are ignored.

    Raises
    ------
    EmptySeriesError
        If the frame has no row or no numeric column.
    InputError
        If the step column is not integer-valued.
    """
    if len(df) == 0:
        raise EmptySeriesError("the DataFrame has no row")
    cols = [str(c) for c in df.columns]
    low = [c.lower() for c in cols]
    step_name = next((cols[low.index(c)] for c in STEP_COLUMNS if c in low), None)
    epoch_name = next((cols[low.index(c)] for c in EPOCH_COLUMNS if c in low), None)
    axis_name = step_name or epoch_name
    if axis_name is not None:
        axis = np.asarray(df[df.columns[cols.index(axis_name)]].to_numpy(), dtype=np.float64)
    else:
        try:
            axis = np.asarray(df.index.to_numpy(), dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("the DataFrame has no step column and its index is not numeric") from None
    series = []
    for c, name in zip(df.columns, cols):
        if name in (step_name, epoch_name):
            continue
        col = df[c]
        if getattr(col.dtype, "kind", "O") not in "fiub":
            continue  # labels, timestamps
        vals = np.asarray(col.to_numpy(), dtype=np.float64)
        keep = ~np.isnan(vals) & ~np.isnan(axis)
        if not keep.any():
            continue
        series.append(Series(name, axis[keep], vals[keep]))
    if not series:
        raise EmptySeriesError(f"the DataFrame has no numeric metric column (columns: {cols})")
    if steps_per_epoch is None and step_name and epoch_name:
        e = np.asarray(df[df.columns[cols.index(epoch_name)]].to_numpy(), dtype=np.float64)
        steps_per_epoch = infer_steps_per_epoch(axis, e)
    elif steps_per_epoch is None and epoch_name and not step_name:
        steps_per_epoch = 1
    return Run(_apply_roles(series, roles), steps_per_epoch=steps_per_epoch, run_id=run_id, source="DataFrame")


def from_mapping(
    data: Mapping[str, Any],
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """``{name: values}`` (steps 0..n-1) or ``{name: (steps, values)}``; see :meth:`Run.from_dict`."""
    if not data:
        raise EmptySeriesError("the mapping holds no series")
    return Run.from_dict(data, roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id)
