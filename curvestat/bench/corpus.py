"""Labelled corpora: ground truth that travels with the data.

A labelled corpus is a list of :class:`LabelledRun` (a :class:`~curvestat.run.Run`
plus its :class:`Truth`). On disk it is a directory holding one CSV file per run
and one ``labels.json``::

    corpus/
      labels.json            {run_id: {"labels": [...], "onset_step": ..., "period_steps": ...}, ...}
      runs/<run_id>.csv      wide CSV: a ``step`` column, one column per series,
                             an empty cell where a series was not logged

Only ``labels`` is required in each entry (an empty list means *healthy*).
Optional keys: ``onset_step`` (int), ``period_steps`` (float), ``kind``,
``family``, ``effect_size``, ``difficulty``, ``onset_resolution`` (float), ``steps_per_epoch`` (int, passed to
the run), ``split`` (``"dev"``/``"test"``: :meth:`Corpus.split` selects one)
and ``roles`` (``{series_name: role}`` for series whose names do not
say what they are); other keys (``recipe``, ``format``, ``seed``) are ignored. Run files may sit anywhere under the directory; a file is
matched to its entry by its stem (``runs/abc.csv`` is run ``abc``). Files with
no entry in ``labels.json`` are ignored. A zip archive of such a directory
is read the same way, in memory (:func:`real_corpus` reads the real corpus
packaged with curvestat like this).

This is the format :meth:`Corpus.save` writes and :func:`load_corpus` reads,
so a saved synthetic corpus reloads identically (same series, steps, values,
roles and truth), and users can benchmark detectors on their own labelled runs.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError, UnreadableSourceError
from ..report import Pathology
from ..run import Run

__all__ = ["Truth", "LabelledRun", "Corpus", "load_corpus", "real_corpus", "LABELS_FILE", "REAL_ENV"]

#: Name of the labels file inside a corpus directory.
LABELS_FILE = "labels.json"

_RUN_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")


def _opt_float(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, str):
        if x.lower() in {"nan", "none", ""}:
            return None
        x = float(x)
    f = float(x)
    return None if math.isnan(f) else f


@dataclass(frozen=True, slots=True)
class Truth:
    """The ground truth of one labelled run.

    Attributes
    ----------
    labels : frozenset of Pathology
        Pathologies present; empty for a healthy run. A run may carry several.
    onset_step : int or None
        First step of the pathology when it has one (explosion onset, the
        validation minimum of a U-turn); None when the pathology is present
        from the start (flat loss, split mismatch, stuck recall).
    period_steps : float or None
        Period of a periodic pattern, in steps.
    kind : str
        Sub-kind (``"spike"``, ``"u_turn"``, ...) or, for healthy runs, the
        hard-negative feature (``"warm_restarts"``, ``"small_spikes"``, ...).
    effect_size : float or None
        Size of the effect in the units documented for ``kind`` in
        :mod:`curvestat.bench.synthetic` (e.g. the loss ratio of an explosion).
    family : str
        Generator family: the learning-rate schedule for synthetic runs, the
        dataset/cause for real runs.
    difficulty : float or None
        The synthetic difficulty knob in [0, 1] (0 = strongest effect).
    onset_resolution : float or None
        Spacing, in steps, of the series the onset is read on when it is
        coarser than the logging of the loss: the evaluation interval for an
        onset on the validation loss (an overfitting U-turn or growing gap).
        The onset window of :func:`~curvestat.bench.scoring.score` is then at
        least two of these intervals.
    split : str
        The corpus half the run belongs to (``"dev"`` for looking and tuning,
        ``"test"`` for reporting once); empty when the corpus is not split.
    """

    labels: frozenset[Pathology] = field(default_factory=frozenset)
    onset_step: int | None = None
    period_steps: float | None = None
    kind: str = ""
    effect_size: float | None = None
    family: str = ""
    difficulty: float | None = None
    onset_resolution: float | None = None
    split: str = ""

    def __post_init__(self) -> None:
        try:
            labels = frozenset(Pathology(p) for p in self.labels)
        except ValueError as exc:
            raise ParameterError(f"Truth.labels: {exc}; expected names from {[p.value for p in Pathology]}") from None
        object.__setattr__(self, "labels", labels)
        if self.onset_step is not None:
            object.__setattr__(self, "onset_step", int(self.onset_step))
        object.__setattr__(self, "period_steps", _opt_float(self.period_steps))
        object.__setattr__(self, "effect_size", _opt_float(self.effect_size))
        object.__setattr__(self, "difficulty", _opt_float(self.difficulty))
        object.__setattr__(self, "onset_resolution", _opt_float(self.onset_resolution))

    @property
    def healthy(self) -> bool:
        """True when the run carries no pathology."""
        return not self.labels

    def to_dict(self) -> dict[str, Any]:
        """The ``labels.json`` entry of this truth (sorted labels, JSON-safe numbers)."""
        return {
            "labels": sorted(p.value for p in self.labels),
            "onset_step": self.onset_step,
            "period_steps": self.period_steps,
            "kind": self.kind,
            "effect_size": self.effect_size,
            "family": self.family,
            "difficulty": self.difficulty,
            "onset_resolution": self.onset_resolution,
            **({"split": self.split} if self.split else {}),
        }

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any], *, where: str = "labels") -> Truth:
        """Build a truth from a ``labels.json`` entry.

        Raises
        ------
        InputError
            If ``labels`` is missing or not a list of pathology names.
        """
        if not isinstance(entry, Mapping) or "labels" not in entry:
            raise InputError(f"{where}: each entry needs a 'labels' list (empty for a healthy run)")
        labels = entry["labels"]
        if isinstance(labels, str) or not isinstance(labels, Iterable):
            raise InputError(f"{where}: 'labels' must be a list of pathology names, got {labels!r}")
        try:
            return cls(
                labels=frozenset(labels),
                onset_step=entry.get("onset_step"),
                period_steps=entry.get("period_steps"),
                kind=str(entry.get("kind") or ""),
                effect_size=entry.get("effect_size"),
                family=str(entry.get("family") or ""),
                difficulty=entry.get("difficulty"),
                onset_resolution=entry.get("onset_resolution"),
                split=str(entry.get("split") or ""),
            )
        except (ParameterError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}") from None


@dataclass(frozen=True, slots=True)
class LabelledRun:
    """A run and its ground truth.

    Attributes
    ----------
    run : Run
        The curves; ``run.run_id`` is the key in ``labels.json``.
    truth : Truth
        What is wrong with it (if anything).
    """

    run: Run
    truth: Truth

    @property
    def run_id(self) -> str:
        """The run's identifier."""
        return str(self.run.run_id)


class Corpus(Sequence[LabelledRun]):
    """An ordered, indexable collection of labelled runs.

    Parameters
    ----------
    items : iterable of LabelledRun
        Runs with unique ``run_id``.
    name : str, optional
        Shown in benchmark tables (``"synthetic"``, ``"real"``, a path).
    meta : mapping, optional
        How the corpus was made (generator parameters); saved alongside.

    Raises
    ------
    InputError
        If two runs share a ``run_id`` or a run has none.
    """

    def __init__(self, items: Iterable[LabelledRun], *, name: str = "corpus", meta: Mapping[str, Any] | None = None) -> None:
        self._items = list(items)
        seen: set[str] = set()
        for it in self._items:
            if not isinstance(it, LabelledRun):
                raise InputError(f"Corpus expects LabelledRun items, got {type(it).__name__}")
            if it.run.run_id is None:
                raise InputError("every run of a corpus needs a run_id")
            if it.run_id in seen:
                raise InputError(f"two runs of the corpus share run_id {it.run_id!r}")
            seen.add(it.run_id)
        self.name = name
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return Corpus(self._items[i], name=self.name, meta=self.meta)
        return self._items[i]

    def __iter__(self) -> Iterator[LabelledRun]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"Corpus({self.name!r}, n={len(self)}, {self.counts()})"

    @property
    def runs(self) -> list[Run]:
        """The runs, in order."""
        return [it.run for it in self._items]

    @property
    def truths(self) -> list[Truth]:
        """The truths, in order."""
        return [it.truth for it in self._items]

    def splits(self) -> list[str]:
        """The split names its runs carry (``["dev", "test"]``), sorted; empty for an unsplit corpus."""
        return sorted({t.split for t in self.truths if t.split})

    def split(self, name: str) -> Corpus:
        """The runs of one split (``"dev"``, ``"test"``); ``"all"`` returns the whole corpus.

        Raises
        ------
        ParameterError
            If no run carries that split.
        """
        if name in ("all", "", None):
            return self
        items = [it for it in self._items if it.truth.split == name]
        if not items:
            raise ParameterError(f"corpus {self.name!r} has no run in split {name!r} (splits: {self.splits() or 'none'})")
        return Corpus(items, name=f"{self.name} ({name})", meta={**self.meta, "split": name})

    def counts(self) -> dict[str, int]:
        """Number of runs per label (``"healthy"`` for unlabelled runs)."""
        out: dict[str, int] = {"healthy": 0}
        out.update({p.value: 0 for p in Pathology})
        for t in self.truths:
            if t.healthy:
                out["healthy"] += 1
            for p in t.labels:
                out[p.value] += 1
        return out

    def save(self, directory: str | Path) -> Path:
        """Write the corpus as ``directory/labels.json`` + ``directory/runs/<run_id>.csv``.

        Values are written with Python's shortest round-trip float repr, so
        :func:`load_corpus` returns the same numbers bit for bit. Series that
        are not logged at a step leave an empty cell.

        Returns
        -------
        Path
            The directory.
        """
        root = Path(directory)
        (root / "runs").mkdir(parents=True, exist_ok=True)
        labels: dict[str, Any] = {}
        for it in self._items:
            _write_wide_csv(it.run, root / "runs" / f"{it.run_id}.csv")
            entry = it.truth.to_dict()
            if it.run.steps_per_epoch is not None:
                entry["steps_per_epoch"] = it.run.steps_per_epoch
            entry["roles"] = {s.name: s.role.value for s in it.run}
            labels[it.run_id] = entry
        doc = {"_meta": {"name": self.name, **self.meta}} if self.meta or self.name else {}
        doc.update(labels)
        with (root / LABELS_FILE).open("w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=False, allow_nan=False)
            fh.write("\n")
        return root


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def _write_wide_csv(run: Run, path: Path) -> None:
    series = run.series
    all_steps = np.unique(np.concatenate([s.steps for s in series]))
    cols: list[list[str]] = []
    for s in series:
        col = [""] * all_steps.size
        idx = np.searchsorted(all_steps, s.steps)
        vals = s.values.tolist()
        for j, v in zip(idx.tolist(), vals):
            col[j] = _fmt(v)
        cols.append(col)
    names = [s.name for s in series]
    if any("," in n or '"' in n or n.strip().lower() == "step" for n in names):
        raise InputError(f"run {run.run_id!r}: series names {names} cannot be written to a wide CSV (comma, quote or 'step')")
    lines = ["step," + ",".join(names)]
    steps = all_steps.tolist()
    for i, st in enumerate(steps):
        lines.append(str(st) + "," + ",".join(c[i] for c in cols))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class _ZipMember:
    """A file inside a zip archive, with the path attributes the readers use.

    The readers of :mod:`curvestat.io` need ``read_bytes()``, ``name``,
    ``suffix``, ``stem`` and ``parent.name``; a corpus archive is read this
    way without being extracted.
    """

    __slots__ = ("_zf", "_name", "_label")

    def __init__(self, zf: zipfile.ZipFile, name: str, label: str) -> None:
        self._zf = zf
        self._name = name
        self._label = label

    @property
    def name(self) -> str:
        return PurePosixPath(self._name).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self._name).suffix

    @property
    def stem(self) -> str:
        return PurePosixPath(self._name).stem

    @property
    def parent(self) -> PurePosixPath:
        return PurePosixPath(self._name).parent

    def read_bytes(self) -> bytes:
        return self._zf.read(self._name)

    def __str__(self) -> str:
        return f"{self._label}/{self._name}"


def _read_doc(text: str, where: str) -> dict:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(doc, Mapping):
        raise InputError(f"{where}: expected an object {{run_id: {{'labels': [...]}}}}")
    return dict(doc)


def _build(doc: Mapping[str, Any], files: Mapping[str, Any], where: str, root: str, reader, *,
           name: str | None, default_name: str, split: str | None) -> Corpus:
    meta = dict(doc.get("_meta") or {})
    items = []
    for run_id, entry in doc.items():
        if run_id == "_meta":
            continue
        w = f"{where}: entry {run_id!r}"
        truth = Truth.from_dict(entry, where=w)
        if split not in (None, "", "all") and truth.split != split:
            continue
        path = files.get(str(run_id))
        if path is None:
            raise UnreadableSourceError(f"{w}: no run file named {run_id}.<csv|jsonl|json> under {root}")
        roles = entry.get("roles") or None
        spe = entry.get("steps_per_epoch")
        run = reader(path, roles=roles, steps_per_epoch=spe, run_id=str(run_id))
        items.append(LabelledRun(run, truth))
    cname = name or str(meta.pop("name", default_name))
    if split not in (None, "", "all"):
        if not items:
            raise ParameterError(f"{where}: no run in split {split!r}")
        cname = f"{cname} ({split})" if name is None else cname
        meta["split"] = split
    return Corpus(items, name=cname, meta=meta)


def _load_zip(source: Any, *, name: str | None, split: str | None, label: str) -> Corpus:
    from ..io import _SUFFIXES as SUFFIX_FORMATS
    from ..io import READERS

    try:
        zf = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UnreadableSourceError(f"{label}: not a readable zip archive ({exc})") from None
    with zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        lab = next((n for n in names if PurePosixPath(n).name == LABELS_FILE), None)
        if lab is None:
            raise UnreadableSourceError(f"{label}: no {LABELS_FILE} in the archive")
        doc = _read_doc(zf.read(lab).decode("utf-8"), f"{label}/{lab}")
        files: dict[str, _ZipMember] = {}
        for n in sorted(names):
            suf = PurePosixPath(n).suffix.lower()
            if suf in _RUN_SUFFIXES and PurePosixPath(n).name != LABELS_FILE:
                files.setdefault(PurePosixPath(n).stem, _ZipMember(zf, n, label))

        def reader(member: _ZipMember, **kw):
            return READERS[SUFFIX_FORMATS[member.suffix.lower()]](member, **kw)

        return _build(doc, files, f"{label}/{lab}", label, reader, name=name,
                      default_name=PurePosixPath(label).stem, split=split)


def load_corpus(directory: str | Path | Any, *, name: str | None = None, split: str | None = None) -> Corpus:
    """Read a labelled corpus: a directory (or a zip archive) of runs plus ``labels.json``.

    Parameters
    ----------
    directory : str, Path, or a file object
        A directory holding ``labels.json`` and the run files (any format
        :func:`curvestat.io.read` reads, matched by file stem), or a ``.zip``
        archive holding the same (read in memory, not extracted), or an open
        binary file object of such an archive.
    name : str, optional
        Name shown in tables; defaults to the ``_meta.name`` saved with the
        corpus, else the directory name.
    split : str, optional
        Keep only the runs of this split (``"dev"``, ``"test"``); ``"all"``
        or None keeps every run.

    Returns
    -------
    Corpus
        Runs in the order of ``labels.json``.

    Raises
    ------
    UnreadableSourceError
        If the directory or ``labels.json`` is missing, or a labelled run has no file.
    InputError
        If ``labels.json`` is malformed.
    ParameterError
        If ``split`` names a split no run carries.
    """
    from ..io import read

    if not isinstance(directory, (str, Path)):
        return _load_zip(directory, name=name, split=split, label=str(getattr(directory, "name", "archive")))
    root = Path(directory)
    if root.is_file() and zipfile.is_zipfile(root):
        return _load_zip(root, name=name, split=split, label=str(root))
    lab = root / LABELS_FILE
    if not root.is_dir():
        raise UnreadableSourceError(f"{root}: not a directory (expected a corpus directory holding {LABELS_FILE}, or a zip of one)")
    if not lab.is_file():
        raise UnreadableSourceError(f"{root}: no {LABELS_FILE} in the corpus directory")
    doc = _read_doc(lab.read_text(encoding="utf-8"), str(lab))
    files: dict[str, Path] = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix.lower() in _RUN_SUFFIXES and f.name != LABELS_FILE:
            files.setdefault(f.stem, f)
    return _build(doc, files, str(lab), str(root), read, name=name, default_name=root.name, split=split)


#: Environment variable naming a real corpus (a directory or a zip) that replaces the packaged one.
REAL_ENV = "CURVESTAT_REAL_CORPUS"
#: The packaged real corpus, inside ``curvestat.bench``.
REAL_ARCHIVE = "data/real_runs.zip"


def real_corpus_source():
    """Where :func:`real_corpus` reads from: ``$CURVESTAT_REAL_CORPUS``, else the packaged archive.

    Returns
    -------
    Path or importlib.resources.abc.Traversable
    """
    env = os.environ.get(REAL_ENV)
    if env:
        return Path(env)
    from importlib.resources import files

    return files("curvestat.bench").joinpath(REAL_ARCHIVE)


def real_corpus(split: str = "all") -> Corpus:
    """The real corpus shipped with curvestat: small PyTorch runs with verified labels.

    Made by ``benchmarks/real_runs/generate.py`` (see :doc:`/bench`): MLPs,
    a CNN, two-head models, character-level language models and fine-tunes,
    logged as Hugging Face ``trainer_state.json``, Keras ``CSVLogger``,
    Lightning ``metrics.csv`` and per-step CSV files. Every recipe was run
    with four seeds, two in the ``dev`` split and two in the ``test`` split.

    Parameters
    ----------
    split : {"all", "dev", "test"}
        Tune on ``dev``; report ``test`` once.

    Returns
    -------
    Corpus
        Named ``"real"`` (``"real (dev)"``, ``"real (test)"`` for a split).

    Raises
    ------
    UnreadableSourceError
        If the archive (or ``$CURVESTAT_REAL_CORPUS``) is missing.

    Examples
    --------
    >>> from curvestat.bench import real_corpus
    >>> dev = real_corpus("dev")           # doctest: +SKIP
    >>> sorted(set(dev.splits()))          # doctest: +SKIP
    ['dev']
    """
    if split not in ("all", "dev", "test"):
        raise ParameterError(f"split must be 'all', 'dev' or 'test', got {split!r}")
    src = real_corpus_source()
    if isinstance(src, Path):
        if not src.exists():
            raise UnreadableSourceError(f"real corpus not found at {src} (${REAL_ENV})")
        return load_corpus(src, name="real" if split == "all" else f"real ({split})", split=split)
    if not src.is_file():
        raise UnreadableSourceError(
            f"the packaged real corpus {REAL_ARCHIVE} is missing from this installation of curvestat; "
            f"set ${REAL_ENV} to a corpus directory or archive")
    data = io.BytesIO(src.read_bytes())
    return _load_zip(data, name="real" if split == "all" else f"real ({split})", split=split, label="real_runs.zip")
