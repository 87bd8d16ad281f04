"""TensorBoard event files: one file, a run directory, or a log root with many runs.

Records are read with the ``tensorboard`` package's own record loader
(:class:`tensorboard.backend.event_processing.event_file_loader.RawEventFileLoader`,
checksums included) and decoded with its ``Event`` protobuf; nothing of
TensorBoard is imported until an event file is actually read, so
``import curvestat`` stays fast and works without the extra installed.

What is a run
-------------
* A file whose name contains ``events.out.tfevents`` is read on its own.
* A **run directory** is a directory holding event files. All its event files
  (a run resumed from a checkpoint writes a new file into the same directory)
  are merged into one :class:`~curvestat.run.Run`, oldest file first, with the
  :class:`~curvestat.io._common.PointCollector` policy: where a newer file
  logs a step again, the newer segment wins (a
  :class:`~curvestat.errors.StepRestartWarning` says so).
* Keras writes ``<run>/train/`` and ``<run>/validation/`` subdirectories with
  the same tag names (``epoch_loss``); a subdirectory named after a data split
  (``train``, ``validation``, ``val``, ``eval``, ``test``, ...) belongs to its
  parent run, and its tags are prefixed with the split name
  (``validation/epoch_loss``) so that role inference tells them apart.
* A folder of event files *collected* from several runs, renamed with
  different prefixes (``runA__events.out.tfevents...``,
  ``runB__events.out.tfevents...``), is not a run directory: a directory scan
  gives one run per file, and reading the folder as one run is an error.
* A **log root** with many run directories is expanded by
  :func:`find_run_dirs` (used by :func:`curvestat.io.expand_sources`): one
  source per run directory.

What is read
------------
Scalar summaries only: the legacy ``simple_value`` form (PyTorch's
``SummaryWriter``, tensorboardX, Hugging Face, Lightning) and the tensor form
of TensorFlow 2 / ``tensorboard.summary.Writer`` (a numeric scalar tensor whose
tag carries the ``scalars`` plugin or no plugin). Text, histograms, images and
hparams are skipped. Tags named ``epoch`` (or ending in ``/epoch``, as the
Hugging Face ``train/epoch``) are the epoch axis: they are not series, they
give ``steps_per_epoch`` with the rule of
:func:`~curvestat.io._common.infer_steps_per_epoch`. When every tag is a
Keras ``epoch_*`` tag, steps are epochs and ``steps_per_epoch`` is 1. The
Hugging Face end-of-training summary tags (``train/train_loss``, an average
over the whole run, ``train/train_runtime``, ...) are left out, as in
``trainer_state.json``.

Truncated files
---------------
A file that ends in an incomplete record (a run killed while writing), or
whose checksum fails part-way, is read up to the last complete record and a
:class:`~curvestat.errors.TruncatedSourceWarning` names the file and the byte
offset; a file with no complete record at all raises
:class:`~curvestat.errors.ParseError`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import (
    EmptySeriesError,
    InputError,
    InvalidStepsError,
    MissingDependencyError,
    ParseError,
    TruncatedSourceWarning,
    UnreadableSourceError,
)
from ..run import Role, Run
from ._common import PointCollector, infer_steps_per_epoch

__all__ = [
    "ScalarTrace",
    "find_run_dirs",
    "is_event_file",
    "is_run_dir",
    "read_tensorboard",
    "read_tensorboard_scalars",
]

#: Subdirectory names that are a data split of their parent run (the Keras layout).
SPLIT_DIRS = frozenset({"train", "training", "validation", "val", "valid", "eval", "evaluation", "test", "dev"})

# Hugging Face Trainer's end-of-training summary, logged once under "train/".
_HF_SUMMARY_TAGS = frozenset(
    {"train/train_runtime", "train/train_samples_per_second", "train/train_steps_per_second", "train/total_flos", "train/train_loss"}
)

_INSTALL_HINT = "reading TensorBoard event files needs the 'tensorboard' package: pip install 'curvestat[tensorboard]'"


@dataclass(frozen=True)
class ScalarTrace:
    """One scalar tag of a TensorBoard run, after merging its files.

    Attributes
    ----------
    tag : str
        Tag as logged (prefixed with the split directory, e.g. ``validation/epoch_loss``).
    steps : ndarray of int64
        Strictly increasing steps.
    values : ndarray of float64
        Values at those steps (float32 precision, as TensorBoard stores them).
    wall_times : ndarray of float64
        Seconds since the Unix epoch at which each value was written.
    """

    tag: str
    steps: NDArray[np.int64]
    values: NDArray[np.float64]
    wall_times: NDArray[np.float64]


def is_event_file(path: str | Path) -> bool:
    """Tell whether ``path`` names a TensorBoard event file (``events.out.tfevents.*``).

    Parameters
    ----------
    path : str or Path
        Any path; only the file name is looked at.

    Returns
    -------
    bool
        True when the name contains ``events.out.tfevents``.

    Examples
    --------
    >>> is_event_file("runs/a/events.out.tfevents.1700000000.host.1.0")
    True
    >>> is_event_file("metrics.csv")
    False
    """
    return "events.out.tfevents" in Path(path).name


def _event_files_in(directory: Path) -> list[Path]:
    try:
        return [f for f in directory.iterdir() if is_event_file(f) and f.is_file()]
    except OSError:
        return []


def _origin(path: Path) -> str:
    """The text before ``events.out.tfevents`` in a file name ('' as written)."""
    return path.name.split("events.out.tfevents", 1)[0]


def _collected(directory: Path) -> list[Path]:
    """The event files of ``directory`` when they come from different runs.

    TensorBoard writes ``events.out.tfevents.<time>.<host>...``; a run
    resumed in the same directory adds files of the same form. Files renamed
    with *different* prefixes (``runA__events.out.tfevents...``,
    ``runB__events.out.tfevents...``: event files collected from several
    runs into one folder) are not one run: each is read on its own. Empty
    list when the directory is an ordinary run directory.
    """
    files = _event_files_in(directory)
    return sorted(files) if len({_origin(f) for f in files}) > 1 else []


def _split_subdirs(directory: Path) -> list[Path]:
    try:
        return sorted(d for d in directory.iterdir() if d.is_dir() and d.name.lower() in SPLIT_DIRS and _event_files_in(d))
    except OSError:
        return []


def is_run_dir(path: str | Path) -> bool:
    """Tell whether ``path`` is a TensorBoard run directory.

    Parameters
    ----------
    path : str or Path
        A directory.

    Returns
    -------
    bool
        True when the directory holds event files itself, or has split
        subdirectories (``train/``, ``validation/``, ...) that do.
    """
    p = Path(path)
    return p.is_dir() and not _collected(p) and bool(_event_files_in(p) or _split_subdirs(p))


def find_run_dirs(root: str | Path) -> list[Path]:
    """List the TensorBoard runs under a log root, one directory per run.

    Parameters
    ----------
    root : str or Path
        A log directory (``runs/``, ``lightning_logs/``, ``logs/fit/``) or a
        single run directory.

    Returns
    -------
    list of Path
        Sorted run directories. A split subdirectory (``train/``,
        ``validation/``, ...) is folded into its parent run. A folder of
        event files collected from several runs (file names with different
        prefixes before ``events.out.tfevents``) gives its files, one run
        each.

    Examples
    --------
    >>> find_run_dirs("/nonexistent")
    []
    """
    r = Path(root)
    if not r.is_dir():
        return []
    runs: set[Path] = set()
    for d in [r, *r.rglob("*")]:
        if not d.is_dir() or not _event_files_in(d):
            continue
        collected = _collected(d)
        if collected:
            runs.update(collected)
            continue
        if d.name.lower() in SPLIT_DIRS and d != r:
            runs.add(d.parent)
        else:
            runs.add(d)
    return sorted(runs)


def _import_tensorboard() -> tuple[Any, Any, Any, Any]:
    try:
        from google.protobuf.message import DecodeError
        from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
        from tensorboard.compat.proto import event_pb2
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise MissingDependencyError(f"{_INSTALL_HINT} ({exc})") from None
    return RawEventFileLoader, event_pb2, tensor_util, DecodeError


_NAME_TIME = re.compile(r"tfevents\.(\d+)")


@dataclass
class _FilePoints:
    path: Path
    prefix: str
    first_wall: float
    points: list[tuple[str, int, float, float]]  # (tag, step, value, wall_time)
    epochs: list[tuple[str, int, float, float]]  # epoch-axis tags, same layout
    plugin_skipped: set[str]


def _read_event_file(path: Path, prefix: str, plugins: dict[str, str]) -> _FilePoints:
    """Decode the scalar points of one event file; warn or raise on a truncated tail."""
    RawEventFileLoader, event_pb2, tensor_util, DecodeError = _import_tensorboard()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableSourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    out = _FilePoints(path, prefix, math.inf, [], [], set())
    consumed = 0
    n_records = 0
    try:
        loader = RawEventFileLoader(str(path))
        for record in loader.Load():
            offset = consumed
            consumed += len(record) + 16  # 8-byte length, 4-byte length CRC, data, 4-byte data CRC
            n_records += 1
            try:
                event = event_pb2.Event.FromString(record)
            except DecodeError:
                raise ParseError(f"{path}: record {n_records} at byte {offset} is not a TensorBoard Event") from None
            if out.first_wall == math.inf:
                out.first_wall = float(event.wall_time)
            if not event.HasField("summary"):
                continue
            for v in event.summary.value:
                tag = prefix + v.tag
                plugin = v.metadata.plugin_data.plugin_name
                if plugin:
                    plugins.setdefault(tag, plugin)
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    value = float(v.simple_value)
                elif kind == "tensor" and plugins.get(tag, "scalars") == "scalars":
                    try:
                        arr = tensor_util.make_ndarray(v.tensor)
                    except Exception:  # a tensor dtype TensorBoard itself cannot decode
                        out.plugin_skipped.add(tag)
                        continue
                    if arr.size != 1 or arr.dtype.kind not in "fiu":
                        out.plugin_skipped.add(tag)
                        continue
                    value = float(arr.reshape(-1)[0])
                else:
                    out.plugin_skipped.add(tag)
                    continue
                step = int(event.step)
                if step < 0:
                    raise InvalidStepsError(f"{path}: tag {tag!r} has negative step {step}; steps must be >= 0")
                point = (tag, step, value, float(event.wall_time))
                if tag.rsplit("/", 1)[-1].lower() in ("epoch", "epochs"):
                    out.epochs.append(point)
                else:
                    out.points.append(point)
    except OSError as exc:
        raise UnreadableSourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if consumed < size:
        if n_records == 0:
            raise ParseError(
                f"{path}: no complete TensorBoard record ({size} bytes): the file is truncated, "
                "corrupt, or not an event file"
            )
        warnings.warn(
            f"{path}: truncated or corrupt after byte {consumed} of {size} (a run stopped while writing?); "
            f"read the {n_records} complete records before it and ignored the rest",
            TruncatedSourceWarning,
            stacklevel=4,
        )
    return out


def _run_files(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [("", path)]
    files = [("", f) for f in _event_files_in(path)]
    for sub in _split_subdirs(path):
        files += [(sub.name + "/", f) for f in _event_files_in(sub)]
    return files


def _name_time(path: Path) -> int:
    m = _NAME_TIME.search(path.name)
    return int(m.group(1)) if m else 0


def _collect(path: Path) -> tuple[PointCollector, PointCollector, list[tuple[str, int, float, float]], list[str]]:
    if not path.exists():
        raise UnreadableSourceError(f"{path}: no such file or directory")
    files = _run_files(path)
    if not files:
        raise EmptySeriesError(f"{path}: holds no TensorBoard event file (events.out.tfevents.*)")
    collected = _collected(path) if path.is_dir() else []
    if collected:
        names = ", ".join(f.name for f in collected[:3]) + (", ..." if len(collected) > 3 else "")
        raise InputError(
            f"{path}: holds event files of {len(collected)} different runs ({names}); "
            "read one file, or scan the directory to get one run per file"
        )
    plugins: dict[str, str] = {}
    parsed = [_read_event_file(f, prefix, plugins) for prefix, f in files]
    # oldest file first: a resumed run's newer file then overrides the steps it logs again
    parsed.sort(key=lambda fp: (fp.first_wall, _name_time(fp.path), fp.path.name))
    src = str(path)
    values = PointCollector(src)
    walls = PointCollector(src)  # same add() sequence, so the same points survive
    epochs: list[tuple[str, int, float, float]] = []
    skipped: set[str] = set()
    for fp in parsed:
        where = fp.path.name
        for tag, step, value, wall in fp.points:
            values.add(tag, step, value, where)
            walls.add(tag, step, wall, where)
        epochs += fp.epochs
        skipped |= fp.plugin_skipped
    return values, walls, epochs, sorted(skipped)


def _dropped(names: list[str]) -> set[str]:
    return set(names) & _HF_SUMMARY_TAGS if "train/train_runtime" in names else set()


def _default_run_id(path: Path) -> str:
    if path.is_file() and path.name.startswith("events.out.tfevents"):
        return path.parent.name or path.name
    return path.name


def read_tensorboard(
    path: str | Path,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read the scalars of a TensorBoard event file or run directory into a Run.

    Parameters
    ----------
    path : str or Path
        An event file (``events.out.tfevents.*``) or a run directory (its
        event files are merged, newest segment first; ``train/`` and
        ``validation/`` subdirectories are folded in with their name as a
        tag prefix).
    roles : mapping of str to Role or str, optional
        Explicit roles by tag, overriding the inferred ones.
    steps_per_epoch : int, optional
        Overrides the value inferred from an ``epoch`` tag.
    run_id : str, optional
        Defaults to the run directory's name.

    Returns
    -------
    Run
        One series per scalar tag, roles inferred from the tag
        (``train/loss``, ``loss``, ``epoch_loss`` -> train loss;
        ``val/loss``, ``eval/loss``, ``validation/epoch_loss`` -> validation
        loss; ...), ``source`` set to ``path``.

    Raises
    ------
    MissingDependencyError
        If the ``tensorboard`` package is not installed.
    UnreadableSourceError
        If the path does not exist or cannot be read.
    ParseError
        If an event file holds no complete record (truncated at the start, or
        not an event file at all).
    EmptySeriesError
        If the run holds no scalar summary.

    Warns
    -----
    TruncatedSourceWarning
        When a file ends in an incomplete or corrupt record; the complete
        records before it are kept.
    StepRestartWarning
        When a newer file (or a later part of one) logs steps again.

    Examples
    --------
    >>> run = read_tensorboard("runs/exp1")                  # doctest: +SKIP
    >>> run.train_loss.name, run.val_loss.name               # doctest: +SKIP
    ('train/loss', 'eval/loss')
    """
    p = Path(path)
    values, _, epochs, skipped = _collect(p)
    names = values.names()
    if not names:
        what = f" (only non-scalar tags: {skipped[:5]})" if skipped else ""
        raise EmptySeriesError(f"{p}: no scalar summary in the TensorBoard log{what}")
    drop = _dropped(names)
    if steps_per_epoch is None:
        if len(epochs) >= 2:
            steps_per_epoch = infer_steps_per_epoch([e[1] for e in epochs], [e[2] for e in epochs])
        elif all(n.rsplit("/", 1)[-1].startswith("epoch_") for n in names if n not in drop):
            steps_per_epoch = 1  # Keras epoch_* tags: the step is the epoch
    return values.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id or _default_run_id(p), drop=drop)


def read_tensorboard_scalars(path: str | Path) -> dict[str, ScalarTrace]:
    """Read every scalar tag of an event file or run directory, with wall times.

    The lower-level companion of :func:`read_tensorboard`: the same files,
    merging policy and truncation handling, but nothing is dropped or
    interpreted (``epoch`` tags and Hugging Face summary tags are kept).

    Parameters
    ----------
    path : str or Path
        An event file or a run directory.

    Returns
    -------
    dict of str to ScalarTrace
        By tag, in first-logged order; each trace has ``steps``, ``values``
        and ``wall_times``.

    Raises
    ------
    MissingDependencyError, UnreadableSourceError, ParseError, EmptySeriesError
        As :func:`read_tensorboard`.
    """
    p = Path(path)
    values, walls, epochs, _ = _collect(p)
    values._check_restarts()
    # epoch tags are kept here, through collectors of their own (an epoch tag
    # logged twice at one step, as Hugging Face does, is not worth a warning)
    ep_values, ep_walls = PointCollector(str(p)), PointCollector(str(p))
    for tag, step, value, wall in epochs:
        ep_values.add(tag, step, value, "epoch")
        ep_walls.add(tag, step, wall, "epoch")
    out: dict[str, ScalarTrace] = {}
    for vals, wcol in ((values, walls), (ep_values, ep_walls)):
        for tag, (steps, v, _) in vals._points.items():
            w = wcol._points[tag][1]
            out[tag] = ScalarTrace(
                tag, np.asarray(steps, dtype=np.int64), np.asarray(v, dtype=np.float64), np.asarray(w, dtype=np.float64)
            )
    if not out:
        raise EmptySeriesError(f"{p}: no scalar summary in the TensorBoard log")
    return out
