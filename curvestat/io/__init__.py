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
==================  ==============================================================
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
from .table import read_csv

__all__ = ["read", "expand_sources", "sniff_format", "READERS"]

Reader = Callable[..., Run]

#: Path readers by format name. Extra readers (TensorBoard, MLflow) register here.
READERS: dict[str, Reader] = {"csv": read_csv, "jsonl": read_jsonl, "json": read_json}

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
    if p.is_dir():
        raise UnknownFormatError(f"{p}: is a directory; use curvestat.analyze_many or expand_sources for many runs")
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
) -> Run:
    """Read one run from any supported source.

    Parameters
    ----------
    source : path, Run, mapping, array_like or pandas.DataFrame
        A log file; a Run (returned with ``roles``/metadata applied); a
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


def expand_sources(source: str | Path) -> list[Path]:
    """List the run files named by a file, a directory (recursively) or a glob pattern.

    Files whose format cannot be sniffed from the suffix are left out of a
    directory listing; a glob keeps whatever it matches so that bad files
    surface as errors in batch mode.

    Raises
    ------
    UnreadableSourceError
        If nothing matches.
    """
    s = str(source)
    p = Path(s)
    if p.is_file():
        return [p]
    if p.is_dir():
        found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES)
        if not found:
            raise UnreadableSourceError(f"{p}: directory holds no run file ({sorted(set(_SUFFIXES))})")
        return found
    if any(ch in s for ch in "*?["):
        found = sorted(Path(f) for f in _glob.glob(s, recursive=True) if Path(f).is_file())
        if not found:
            raise UnreadableSourceError(f"{s}: the pattern matches no file")
        return found
    raise UnreadableSourceError(f"{s}: no such file or directory")
