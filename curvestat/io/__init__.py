"""Readers: turn any supported source into a :class:`~curvestat.run.Run`.

:func:`read` takes one source (a path, a mapping, an array, a DataFrame or a
Run) and returns one Run; :func:`expand_sources` turns a directory or a glob
into the list of run files inside it, for batch scoring.

Formats are sniffed from the suffix, then from the content:

==================  ==============================================================
format              recognised by
==================  ==============================================================
``csv``             ``.csv``, ``.tsv``, ``.txt``; wide or long decided by the header
``jsonl``           ``.jsonl``, ``.ndjson``
``json``            ``.json`` (HF ``trainer_state.json``, Keras history, records)
``tensorboard``     ``events.out.tfevents.*`` files; a directory holding them (a run)
``mlflow``          ``mlflow:runs/<id>``, ``mlflow:<experiment>``, ``sqlite:``/``file:`` URIs
==================  ==============================================================

A directory given to :func:`expand_sources` yields its log files and one
source per TensorBoard run directory; an MLflow experiment yields one
:class:`~curvestat.io.mlflow.MlflowRunRef` per run (read lazily by
:func:`read`), and a list of sources (paths, Runs, references) is expanded
item by item.
"""

from __future__ import annotations

import glob as _glob
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UnknownFormatError, UnreadableSourceError
from ..run import Role, Run
from .jsonlog import read_json, read_jsonl
from .memory import from_array, from_dataframe, from_mapping, is_dataframe
from .mlflow import MlflowRunRef, is_mlflow_source, list_mlflow_runs, read_mlflow, read_mlflow_one
from .table import read_csv
from .tensorboard import find_run_dirs, is_event_file, is_run_dir, read_tensorboard

__all__ = ["read", "read_mlflow", "read_tensorboard", "expand_sources", "sniff_format", "READERS", "MlflowRunRef"]

Reader = Callable[..., Run]

#: Path readers by format name. Extra readers (TensorBoard, MLflow) register here.
READERS: dict[str, Reader] = {"csv": read_csv, "jsonl": read_jsonl, "json": read_json, "tensorboard": read_tensorboard}

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".log": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


def sniff_format(path: str | Path) -> str:
    """Name the format of a file from its suffix, falling back to its first bytes.

    Raises
    ------
    UnreadableSourceError
        If the path does not exist or cannot be read.
    UnknownFormatError
        If neither the suffix nor the content is recognised.
    """
    p = Path(path)
    if not p.exists():
        raise UnreadableSourceError(f"{p}: no such file or directory")
    if is_event_file(p) or is_run_dir(p):
        return "tensorboard"
    if p.is_dir():
        raise UnknownFormatError(f"{p}: is a directory; score many runs with `curvestat scan DIR` (curvestat.analyze_many in Python)")
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt:
        return fmt
    try:
        with p.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise UnreadableSourceError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    stripped = head.lstrip()
    if stripped.startswith(b"{") and b"\n{" in stripped:
        return "jsonl"
    if stripped[:1] in (b"{", b"["):
        return "json"
    raise UnknownFormatError(
        f"{p}: unknown format (suffix {p.suffix or '(none)'!r}); expected one of "
        f"{sorted(set(_SUFFIXES))} or a format name in {sorted(READERS)}"
    )


def read(
    source: Any,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
    format: str | None = None,
    tracking_uri: str | None = None,
) -> Run:
    """Read one run from any supported source.

    Parameters
    ----------
    source : path, Run, mapping, array_like, pandas.DataFrame or MLflow source
        A log file or TensorBoard run directory; ``mlflow:runs/<run_id>`` (or
        ``mlflow:<experiment>`` holding a single run, or an
        :class:`~curvestat.io.mlflow.MlflowRunRef`); a Run (returned with ``roles``/metadata applied); a
        mapping ``{name: values}`` or ``{name: (steps, values)}``; a bare 1-D
        array (a train-loss curve); or a wide DataFrame.
    roles : mapping of str to Role or str, optional
        Explicit roles that override the ones inferred from names.
    steps_per_epoch : int, optional
        Overrides the value inferred from the source.
    run_id : str, optional
        Defaults to the file's stem.
    format : str, optional
        Force a format from :data:`READERS` instead of sniffing.
    tracking_uri : str, optional
        MLflow store for an ``mlflow:`` source (``sqlite:///mlflow.db``,
        ``file:///path/mlruns``); MLflow's default when omitted.

    Returns
    -------
    Run

    Raises
    ------
    CurvestatError
        A subclass naming the file, series, row or step at fault.
    """
    kw: dict[str, Any] = {"roles": roles, "steps_per_epoch": steps_per_epoch, "run_id": run_id}
    if isinstance(source, Run):
        run = source.with_roles(roles) if roles else source
        changes = {k: v for k, v in (("steps_per_epoch", steps_per_epoch), ("run_id", run_id)) if v is not None}
        return run.replace(**changes) if changes else run
    if is_mlflow_source(source):
        return read_mlflow_one(source, tracking_uri=tracking_uri, **kw)
    if isinstance(source, (str, Path)):
        path = Path(source)
        fmt = format or sniff_format(path)
        if fmt not in READERS:
            raise UnknownFormatError(f"unknown format {fmt!r}; known formats are {sorted(READERS)}")
        return READERS[fmt](path, **kw)
    if isinstance(source, Mapping):
        return from_mapping(source, **kw)
    if is_dataframe(source):
        return from_dataframe(source, **kw)
    if isinstance(source, (np.ndarray, list, tuple)):
        return from_array(source, **kw)
    raise InputError(
        f"cannot read a {type(source).__name__}; expected a path, a Run, a mapping, an array or a pandas DataFrame"
    )


def _looks_like_log(path: Path) -> bool:
    """In a directory listing, keep a ``.txt``/``.log`` file only when it starts like a table.

    A ``readme.txt`` or a console log beside the metrics is not a run; a file
    named ``.csv``/``.json``/... is always kept, so that a broken one becomes
    an error row rather than vanishing.
    """
    if path.suffix.lower() not in (".txt", ".log"):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # unreadable: let the reader report it as an error row
    lines = [ln for ln in head.decode("utf-8", "replace").splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    for delim in (",", "\t", ";"):
        n = len(lines[0].split(delim))
        if n >= 2 and len(lines[1].split(delim)) == n:
            return any(_is_number(c) for c in lines[1].split(delim))
    return False


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip())
    except ValueError:
        return cell.strip().lower() in ("nan", "inf", "-inf")
    return True


def expand_sources(source: Any, *, tracking_uri: str | None = None) -> list[Any]:
    """List the runs named by a file, a directory, a glob, an MLflow source, or a list of these.

    Parameters
    ----------
    source : path, glob, MLflow source, Run, or list of these
        A file; a directory (searched recursively for log files and for
        TensorBoard run directories); a glob pattern; ``mlflow:<experiment>``
        or a ``sqlite:``/``file:`` tracking URI; a Run; or a list/tuple of any of
        these, expanded item by item.
    tracking_uri : str, optional
        MLflow store for ``mlflow:`` sources.

    Returns
    -------
    list of Path, Run or MlflowRunRef
        Each item is one run that :func:`read` accepts: log files and
        TensorBoard run directories as Paths, Runs as given, and one
        :class:`~curvestat.io.mlflow.MlflowRunRef` per MLflow run (read
        lazily, so that a bad run is one error row in a batch).

    Notes
    -----
    Files whose format cannot be sniffed from the suffix are left out of a
    directory listing (event files are covered by their run directory); a
    glob keeps whatever it matches so that bad files surface as errors in
    batch mode.

    Raises
    ------
    UnreadableSourceError
        If nothing matches.
    """
    if isinstance(source, Run):
        return [source]
    if isinstance(source, (list, tuple)):
        if not source:
            raise InputError("expand_sources got an empty list of sources")
        return [item for src in source for item in expand_sources(src, tracking_uri=tracking_uri)]
    if is_mlflow_source(source):
        return list(list_mlflow_runs(source, tracking_uri=tracking_uri))
    s = str(source)
    p = Path(s)
    if p.is_file():
        return [p]
    if p.is_dir():
        files = [f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES and _looks_like_log(f)]
        found = sorted(files + find_run_dirs(p))
        if not found:
            raise UnreadableSourceError(
                f"{p}: no log files found (looked for {', '.join(sorted(set(_SUFFIXES)))} and TensorBoard event files)"
            )
        return found
    if any(ch in s for ch in "*?["):
        found = sorted(Path(f) for f in _glob.glob(s, recursive=True) if Path(f).is_file() or is_run_dir(f))
        if not found:
            raise UnreadableSourceError(f"{s}: the pattern matches no file")
        return found
    raise UnreadableSourceError(f"{s}: no such file or directory")
