"""Batch scoring: many runs, one row each, with false-discovery-rate control across runs.

:func:`iter_analyze` yields one :class:`BatchRow` per run as the runs finish;
:func:`analyze_many` collects them (or streams them to a file with ``out=``)
and applies the Benjamini-Hochberg procedure once every p-value is known.

Rows out = sources in, always. A run that cannot be read or analysed becomes
an *error row* (its error type and message). A worker process that dies
(a segfault in a native reader, an out-of-memory kill, ``os._exit`` in a
user's detector) makes its run a ``WorkerDied`` error row and is replaced; a
run that exceeds ``timeout`` seconds becomes a ``RunTimeout`` error row. The
batch goes on.

False-discovery rate
--------------------
The unit of testing is one detector on one run: its null hypothesis is "this
run is healthy with respect to this detector". Its p-value is the smallest
p-value among the detector's non-``info`` findings on that run. A detector
that ran and reported nothing has a p-value above ``alpha`` that it does not
report; it is counted as ``p = 1``. This keeps Benjamini-Hochberg valid and
only makes it conservative (a larger p-value can never create a rejection),
and it lets BH run over *all* ``m`` tests at any level ``fdr``, also above
``alpha``. Findings without a p-value (a NaN loss) are certain: they are not
tests and are always kept. A finding whose test is not rejected stays in its
row, marked ``"suppressed by FDR (q = ...)"``. See ``docs/batch.rst``.
"""

from __future__ import annotations

import csv
import heapq
import io as _io
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
import traceback
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .analyze import _resolve_config, run_detectors
from .config import Config
from .detectors.pipeline import resolve_detectors
from .errors import CurvestatError, ParameterError, UnreadableSourceError
from .io import expand_sources, read
from .report import Report, _json_safe
from .stats.multitest import benjamini_hochberg

__all__ = [
    "analyze_many",
    "iter_analyze",
    "apply_fdr",
    "BatchRow",
    "BatchResult",
    "BatchStats",
    "ScanInterrupted",
    "benjamini_hochberg",
    "read_rows",
    "check_writable",
    "DEFAULT_FDR",
]

#: Default false-discovery rate across runs (``alpha`` stays the per-run level).
DEFAULT_FDR = 0.05

_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


# ---------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One run of a batch.

    Rows are immutable: :func:`apply_fdr` returns new rows. Item access
    (``row["status"]``) is kept for code written against the dictionaries of
    earlier releases.

    Attributes
    ----------
    index : int
        Position of the source in the input (the final table's order).
    run_id : str or None
        Unique within a scan: the path relative to the scanned root (without
        the log suffix), or the run's own id for in-memory sources.
    source : str or None
        The path read (None for in-memory sources).
    status : str
        ``"ok"`` or ``"error"``.
    healthy : bool or None
        No kept ``warning``/``critical`` finding (None for an error row).
    pathologies : tuple of str
        Distinct pathologies among the kept non-info findings.
    findings : tuple of dict
        :meth:`curvestat.Finding.to_dict` plus ``q_value``, ``fdr``
        (``"kept"``, ``"suppressed"``, ``"certain"``, ``"info"``, ``"pending"``
        or ``"off"``), ``fdr_rejected`` (True when the finding stands) and
        ``fdr_note``.
    skipped : tuple of dict
        Skipped detectors with their reasons.
    detectors : tuple of str
        Detectors that ran; each one is one test in the FDR family.
    error_type, error : str or None
        For an error row: the exception's class name (``WorkerDied``,
        ``RunTimeout``, ``ParseError``, ...) and its message.
    warnings : tuple of str
        Warnings raised while reading or analysing the run.
    fdr_q : float or None
        The FDR level applied to this row; None while FDR is pending or off.
    step_unit : str
        The unit of the run's x-axis and of every ``onset_step``: ``"epoch"``
        for logs counted in epochs (Keras), else ``"step"``.
    """

    index: int
    run_id: str | None
    source: str | None
    status: str
    healthy: bool | None = None
    pathologies: tuple[str, ...] = ()
    findings: tuple[dict[str, Any], ...] = ()
    skipped: tuple[dict[str, Any], ...] = ()
    detectors: tuple[str, ...] = ()
    error_type: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    fdr_q: float | None = None
    step_unit: str = "step"

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    @property
    def key(self) -> str:
        """What ``resume`` matches on: the source path, else ``#`` + the run id."""
        return self.source if self.source is not None else f"#{self.run_id}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (one line of a JSON Lines output)."""
        return {
            "index": self.index,
            "run_id": self.run_id,
            "source": self.source,
            "status": self.status,
            "healthy": self.healthy,
            "pathologies": list(self.pathologies),
            "findings": [dict(f) for f in self.findings],
            "skipped": [dict(s) for s in self.skipped],
            "detectors": list(self.detectors),
            "error_type": self.error_type,
            "error": self.error,
            "warnings": list(self.warnings),
            "fdr_q": self.fdr_q,
            "step_unit": self.step_unit,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BatchRow:
        """Inverse of :meth:`to_dict`."""
        return cls(
            index=int(d.get("index", -1) if d.get("index") is not None else -1),
            run_id=d.get("run_id"),
            source=d.get("source"),
            status=str(d["status"]),
            healthy=d.get("healthy"),
            pathologies=tuple(d.get("pathologies") or ()),
            findings=tuple(dict(f) for f in d.get("findings") or ()),
            skipped=tuple(dict(s) for s in d.get("skipped") or ()),
            detectors=tuple(d.get("detectors") or ()),
            error_type=d.get("error_type"),
            error=d.get("error"),
            warnings=tuple(d.get("warnings") or ()),
            fdr_q=d.get("fdr_q"),
            step_unit=str(d.get("step_unit") or "step"),
        )

    # ranking for the summary's "worst runs"
    def _worst_key(self) -> tuple[int, float]:
        kept = [f for f in self.findings if f.get("fdr_rejected", True) and f["severity"] != "info"]
        if not kept:
            return (9, 1.0)
        sev = min(_SEVERITY_RANK.get(f["severity"], 2) for f in kept)
        # a certain finding (no p-value) ranks before any q-value
        qs = [float(f["q_value"]) if isinstance(f.get("q_value"), (int, float)) else -1.0 for f in kept]
        return (sev, min(qs))


def _row_from_report(index: int, report: Report, source: str | None, pathology_of: Mapping[str, str], warns: tuple[str, ...]) -> BatchRow:
    d = report.to_dict()
    ran = tuple(d["detectors"])
    by_pathology: dict[str, list[str]] = {}
    for name in dict.fromkeys(ran):
        if name in pathology_of:
            by_pathology.setdefault(pathology_of[name], []).append(name)
    findings = []
    for f in d["findings"]:
        f = dict(f)
        if not f.get("detector"):
            # a user detector that left Finding.detector empty: attribute the
            # finding to the one detector that tests its pathology, so that it
            # is not counted as an extra test
            cands = by_pathology.get(f["pathology"], [])
            f["detector"] = cands[0] if len(cands) == 1 else ""
        f.update(q_value=None, fdr="pending", fdr_rejected=True, fdr_note="")
        findings.append(f)
    return BatchRow(
        index=index,
        run_id=report.run_id,
        source=source if source is not None else report.source,
        status="ok",
        # a run no detector could judge has no finding: in the batch table it is
        # not flagged (the summary counts it apart, as "not judged")
        healthy=report.status != "flagged",
        pathologies=tuple(p.value for p in report.pathologies),
        findings=tuple(findings),
        skipped=tuple(d["skipped"]),
        detectors=ran,
        warnings=warns,
        step_unit=report.step_unit,
    )


def _error_row(index: int, source: str | None, run_id: str | None, error_type: str, message: str, warns: tuple[str, ...] = ()) -> BatchRow:
    return BatchRow(index=index, run_id=run_id, source=source, status="error", error_type=error_type, error=message, warnings=warns)


def _exception_row(index: int, source: str | None, run_id: str | None, exc: BaseException, internal: bool, warns: tuple[str, ...]) -> BatchRow:
    if internal:
        message = f"{''.join(traceback.format_exception_only(type(exc), exc)).strip()} (internal error; please report it)"
    else:
        message = str(exc)
    return _error_row(index, source, run_id, type(exc).__name__, message, warns)


# ---------------------------------------------------------------------------- FDR


def _test_key(f: Mapping[str, Any]) -> str:
    return f.get("detector") or f"pathology:{f['pathology']}"


def _is_test_finding(f: Mapping[str, Any]) -> bool:
    p = f.get("p_value")
    return f["severity"] != "info" and isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p)


def _row_tests(row: BatchRow) -> dict[str, float]:
    """The row's tests (one per detector that ran) with their p-values (1 when nothing was found)."""
    if row.status != "ok":
        return {}
    tests = {name: 1.0 for name in row.detectors}
    for f in row.findings:
        if _is_test_finding(f):
            k = _test_key(f)
            tests[k] = min(tests.get(k, 1.0), float(f["p_value"]))
    return tests


class _FdrFamily:
    """All p-values of a batch, compact: only those below 1 are stored (the rest only count in m)."""

    def __init__(self) -> None:
        self.m = 0
        self._keys: list[tuple[str, str]] = []
        self._p: list[float] = []
        self._q: dict[tuple[str, str], float] | None = None

    def add(self, row: BatchRow) -> None:
        tests = _row_tests(row)
        self.m += len(tests)
        for k, p in tests.items():
            if p < 1.0:
                self._keys.append((row.key, k))
                self._p.append(p)

    def qvalues(self) -> dict[tuple[str, str], float]:
        if self._q is None:
            q = benjamini_hochberg(self._p, m=max(self.m, len(self._p)))
            self._q = {k: float(v) for k, v in zip(self._keys, q)}
        return self._q


def _fdr_row(row: BatchRow, qmap: Mapping[tuple[str, str], float] | None, q: float | None) -> BatchRow:
    """A new row with FDR decisions (``qmap is None``: FDR off)."""
    if row.status != "ok":
        return replace(row, fdr_q=q)
    findings = []
    for f in row.findings:
        f = dict(f)
        if f["severity"] == "info":
            f.update(q_value=None, fdr="info", fdr_rejected=True, fdr_note="")
        elif qmap is None:
            f.update(q_value=None, fdr="off", fdr_rejected=True, fdr_note="")
        elif not _is_test_finding(f):
            f.update(q_value=None, fdr="certain", fdr_rejected=True, fdr_note="certain (no p-value): kept")
        else:
            qv = qmap.get((row.key, _test_key(f)), 1.0)
            kept = q is not None and qv <= q
            f.update(
                q_value=qv,
                fdr="kept" if kept else "suppressed",
                fdr_rejected=kept,
                fdr_note="" if kept else f"suppressed by FDR (q = {qv:.3g} > {q:g})",
            )
        findings.append(f)
    kept_f = [f for f in findings if f["fdr_rejected"] and f["severity"] != "info"]
    return replace(
        row,
        findings=tuple(findings),
        healthy=not kept_f,
        pathologies=tuple(dict.fromkeys(f["pathology"] for f in kept_f)),
        fdr_q=q,
    )


def apply_fdr(rows: Iterable[BatchRow], fdr: float = DEFAULT_FDR) -> list[BatchRow]:
    """Benjamini-Hochberg across runs: new rows with q-values and FDR decisions.

    Parameters
    ----------
    rows : iterable of BatchRow
        Rows as :func:`iter_analyze` yields them (or rows already decided:
        their decisions are recomputed from the raw p-values).
    fdr : float, optional
        The false-discovery rate (default 0.05), in (0, 1).

    Returns
    -------
    list of BatchRow
        New rows in the given order; the input rows are not changed.
    """
    q = _check_fdr(fdr)
    rows = list(rows)
    fam = _FdrFamily()
    for r in rows:
        fam.add(r)
    qmap = fam.qvalues()
    return [_fdr_row(r, qmap, q) for r in rows]


def _check_fdr(fdr: Any) -> float:
    try:
        q = float(fdr)
    except (TypeError, ValueError):
        raise ParameterError(f"fdr must be a number in (0, 1), True or False, got {fdr!r}") from None
    if not 0 < q < 1:
        raise ParameterError(f"fdr must lie in (0, 1), got {fdr!r}")
    return q


# ---------------------------------------------------------------------------- sources


_LOG_SUFFIXES = {".csv", ".tsv", ".txt", ".log", ".jsonl", ".ndjson", ".json"}


def _magic_root(pattern: str) -> Path:
    parts = Path(pattern).parts
    root: list[str] = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        root.append(part)
    return Path(*root) if root else Path(".")


def _rel_id(path: Path, root: Path, keep_suffix: bool) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = path
    if rel == Path("."):
        rel = Path(path.name)
    if rel.name == "trainer_state.json" and not keep_suffix:
        return (rel.parent if rel.parent != Path(".") else Path(path.parent.name)).as_posix()
    if not keep_suffix and rel.suffix.lower() in _LOG_SUFFIXES:
        rel = rel.with_suffix("")
    return rel.as_posix()


def _expand(sources: Any, tracking_uri: str | None) -> tuple[list[Any], list[str | None]]:
    """Items and their run ids (None: let the reader or the run decide)."""
    if isinstance(sources, Mapping):
        raise ParameterError("analyze_many expects several sources; for one mapping use analyze()")
    single = isinstance(sources, (str, Path))
    pairs: list[tuple[Any, Path | None]] = []
    for s in [sources] if single else sources:
        if isinstance(s, (str, Path)):
            st = str(s)
            if st.startswith(("mlflow:", "sqlite:", "file:")):
                pairs.extend((x, None) for x in expand_sources(s, tracking_uri=tracking_uri))
            elif Path(s).is_dir():
                pairs.extend((x, Path(s)) for x in expand_sources(s, tracking_uri=tracking_uri))
            elif any(ch in st for ch in "*?["):
                root = _magic_root(st)
                pairs.extend((x, root) for x in expand_sources(s, tracking_uri=tracking_uri))
            elif single:
                pairs.extend((x, Path(s).parent) for x in expand_sources(s, tracking_uri=tracking_uri))
            else:
                # a missing file stays one item, so that it becomes one error row
                pairs.append((Path(s), Path(s).parent))
        else:
            pairs.append((s, None))
    items = [x for x, _ in pairs]
    ids: list[str | None] = []
    for x, base in pairs:
        ids.append(_rel_id(Path(x), base, keep_suffix=False) if base is not None and isinstance(x, (str, Path)) else None)
    # unique ids: a collision keeps the suffix, then the full path
    counts = Counter(i for i in ids if i is not None)
    if any(c > 1 for c in counts.values()):
        for j, (x, base) in enumerate(pairs):
            rid = ids[j]
            if rid is not None and base is not None and counts[rid] > 1:
                ids[j] = _rel_id(Path(x), base, keep_suffix=True)
        counts = Counter(i for i in ids if i is not None)
        for j, (x, _) in enumerate(pairs):
            rid = ids[j]
            if rid is not None and counts[rid] > 1:
                ids[j] = Path(x).as_posix()
    return items, ids


# ---------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class _Payload:
    read_kw: dict[str, Any]
    config: Config
    detectors: list[Any] | None
    pathology_of: dict[str, str]


def _source_str(source: Any) -> str | None:
    return str(source) if isinstance(source, (str, Path)) else None


def _analyze_one(task: tuple[int, Any, str | None], payload: _Payload, detectors: list[Any]) -> BatchRow:
    """Read and analyse one source; never raises (except on interrupt)."""
    index, source, run_id = task
    src = _source_str(source)
    fallback_id = run_id if run_id is not None else (getattr(source, "run_id", None) or f"run{index}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            kw = dict(payload.read_kw)
            if run_id is not None:
                kw["run_id"] = run_id
            run = read(source, **kw)
            if run.run_id is None:
                run = run.replace(run_id=str(fallback_id))
            report = run_detectors(run, payload.config, detectors)
        except CurvestatError as exc:
            report = None
            err: tuple[BaseException, bool] = (exc, False)
        except Exception as exc:  # noqa: BLE001 - one broken run must not stop the batch
            report = None
            err = (exc, True)
    warns = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    if report is not None:
        return _row_from_report(index, report, src, payload.pathology_of, warns)
    return _exception_row(index, src, str(fallback_id), err[0], err[1], warns)


def _worker_main(conn: Any, payload: _Payload) -> None:  # pragma: no cover - runs in a child process
    # Ctrl-C goes to the whole process group: the parent decides, workers go on
    # until it stops them
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    detectors = resolve_detectors(payload.detectors)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        for task in msg:
            conn.send(_analyze_one(task, payload, detectors))


def _analyze_chunk(tasks: list[tuple[int, Any, str | None]], payload: _Payload) -> list[BatchRow]:
    """A Dask task: a chunk of runs."""
    detectors = resolve_detectors(payload.detectors)
    return [_analyze_one(t, payload, detectors) for t in tasks]


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        how = f"was killed by {name}{hint}"
    else:
        how = f"exited with code {exitcode}"
    return f"the worker process {how} while analysing this run; the pool was replaced and the batch went on"


class _Worker:
    __slots__ = ("proc", "conn", "pending", "deadline")

    def __init__(self, ctx: Any, payload: _Payload) -> None:
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, payload), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.pending: deque[tuple[int, Any, str | None]] = deque()
        self.deadline = math.inf

    def stop(self, force: bool) -> None:
        if not force and self.proc.is_alive():
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


def _mp_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    chosen = os.environ.get("CURVESTAT_START_METHOD")
    if chosen:
        if chosen not in methods:
            raise ParameterError(f"CURVESTAT_START_METHOD={chosen!r}: this platform has {methods}")
        return multiprocessing.get_context(chosen)
    # fork: workers inherit the imported modules and numba's compiled kernels,
    # so a replaced worker is ready in milliseconds (a process with threads of
    # its own may prefer CURVESTAT_START_METHOD=forkserver or spawn)
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


_WARM = False


def _warm_up(payload: _Payload) -> None:
    """Compile the built-in detectors' kernels once in this process, before forking workers.

    Each worker would otherwise pay the first-call cost (numba kernels, lazy
    imports: ~2-4 s) itself, and again after every replacement. Only built-in
    detectors run here: a user's detector may have side effects (or kill its
    process) and runs only in workers.
    """
    global _WARM
    if _WARM:
        return
    from .detectors import _LOADED, available_detectors, get_detector

    builtin = {id(get_detector(n)) for n in available_detectors()} | {id(d) for d in _LOADED.values()}
    chosen = [d for d in resolve_detectors(payload.detectors) if id(d) in builtin]
    if not chosen:
        return
    rng = np.random.default_rng(0)
    steps = np.arange(0, 400, 10)
    demo = {
        "loss": np.exp(-np.arange(400) / 60) + 0.01 * rng.standard_normal(400) + 0.1,
        "val_loss": (steps, np.exp(-steps / 60) + 0.15 + 0.005 * rng.standard_normal(steps.size)),
        "val_accuracy": (steps, np.linspace(0.5, 0.9, steps.size)),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_detectors(read(demo), payload.config, chosen)
    except Exception:  # noqa: BLE001 - warming up is an optimisation only
        return
    _WARM = True


def _local_rows(
    tasks: Iterator[tuple[int, Any, str | None]],
    n_tasks: int,
    n_workers: int,
    payload: _Payload,
    timeout: float | None,
) -> Iterator[BatchRow]:
    """Rows from local worker processes, as they finish; exact attribution of deaths and timeouts."""
    ctx = _mp_context()
    chunk = max(1, min(16, n_tasks // (n_workers * 16)))
    requeued: deque[tuple[int, Any, str | None]] = deque()

    def assign(w: _Worker) -> None:
        batch: list[tuple[int, Any, str | None]] = []
        while len(batch) < chunk:
            if requeued:
                batch.append(requeued.popleft())
                continue
            t = next(tasks, None)
            if t is None:
                break
            batch.append(t)
        if batch:
            w.pending.extend(batch)
            w.deadline = time.monotonic() + timeout if timeout else math.inf
            w.conn.send(batch)

    def fail(w: _Worker, error_type: str, message: str) -> BatchRow:
        index, source, run_id = w.pending.popleft()
        requeued.extendleft(reversed(w.pending))
        w.pending.clear()
        return _error_row(index, _source_str(source), run_id if run_id is not None else getattr(source, "run_id", None) or f"run{index}", error_type, message)

    if ctx.get_start_method() == "fork":
        _warm_up(payload)
    workers = [_Worker(ctx, payload) for _ in range(n_workers)]
    clean = False
    try:
        for w in workers:
            assign(w)
        while any(w.pending for w in workers):
            active = [w for w in workers if w.pending]
            wait_for = None
            if timeout:
                wait_for = max(0.0, min(w.deadline for w in active) - time.monotonic()) + 0.01
            multiprocessing.connection.wait([w.conn for w in active] + [w.proc.sentinel for w in active], timeout=wait_for)
            for j, w in enumerate(workers):
                if not w.pending:
                    continue
                broken = False
                while w.pending:
                    try:
                        if not w.conn.poll():
                            break
                        row = w.conn.recv()
                    except (EOFError, OSError):
                        broken = True
                        break
                    w.pending.popleft()
                    w.deadline = time.monotonic() + timeout if timeout else math.inf
                    yield row
                if not w.pending:
                    assign(w)
                    continue
                if broken or not w.proc.is_alive():
                    w.proc.join(timeout=5)
                    row = fail(w, "WorkerDied", _death_message(w.proc.exitcode))
                elif time.monotonic() > w.deadline:
                    w.proc.kill()
                    w.proc.join(timeout=5)
                    row = fail(w, "RunTimeout", f"the run took longer than timeout={timeout:g} s; its worker was stopped")
                else:
                    continue
                w.stop(force=True)
                workers[j] = _Worker(ctx, payload)
                yield row
                assign(workers[j])
            # runs handed back by a replaced worker also go to idle ones
            for w in workers:
                if requeued and not w.pending:
                    assign(w)
        clean = True
    finally:
        for w in workers:
            w.stop(force=not clean)


def _dask_rows(client: Any, tasks: list[tuple[int, Any, str | None]], payload: _Payload, chunk: int | None) -> Iterator[BatchRow]:
    """Rows from a Dask cluster: chunks of runs; a chunk lost with its worker is retried once run by run."""
    try:
        from distributed import as_completed
    except ImportError:  # pragma: no cover - optional dependency
        raise ParameterError("client= needs dask.distributed: pip install 'curvestat[dask]'") from None
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    except Exception:  # noqa: BLE001 - a scheduler that does not tell
        n_workers = 1
    size = chunk or max(1, min(64, len(tasks) // (n_workers * 8)))
    chunks = deque(tasks[i : i + size] for i in range(0, len(tasks), size))
    retries: deque[tuple[int, Any, str | None]] = deque()
    max_in_flight = 4 * n_workers
    meta: dict[Any, tuple[list[Any], int]] = {}
    ac = as_completed()

    def submit() -> None:
        # A lost worker fails every chunk queued on it, not only the one that
        # killed it. Its runs are retried one run per task and one task at a
        # time, with no other chunk in flight: a retry lost again is then the
        # run that kills its worker, and it alone becomes an error row.
        if retries:
            if not meta:
                t = retries.popleft()
                fut = client.submit(_analyze_chunk, [t], payload, pure=False)
                meta[fut] = ([t], 1)
                ac.add(fut)
            return
        while chunks and len(meta) < max_in_flight:
            part = chunks.popleft()
            fut = client.submit(_analyze_chunk, part, payload, pure=False)
            meta[fut] = (part, 0)
            ac.add(fut)

    submit()
    try:
        while meta:
            fut = next(ac)
            part, attempt = meta.pop(fut)
            try:
                rows = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost connection, ...
                if attempt == 0:
                    retries.extend(part)
                else:
                    for index, source, run_id in part:
                        yield _error_row(
                            index,
                            _source_str(source),
                            run_id if run_id is not None else f"run{index}",
                            "WorkerDied",
                            f"the Dask worker running this run was lost twice ({type(exc).__name__}: {exc})",
                        )
            else:
                yield from rows
            fut.release()
            submit()
    finally:
        for fut in list(meta):
            fut.cancel()


def iter_analyze(
    sources: Any,
    *,
    roles: Mapping[str, str] | None = None,
    steps_per_epoch: int | None = None,
    alpha: float | None = None,
    config: Config | None = None,
    detectors: Iterable[Any] | None = None,
    n_jobs: int = 1,
    client: Any = None,
    timeout: float | None = None,
    tracking_uri: str | None = None,
    skip: Iterable[str] | None = None,
    chunk_size: int | None = None,
) -> Iterator[BatchRow]:
    """Diagnose many runs, yielding one :class:`BatchRow` per run as each finishes.

    Rows arrive in completion order (``row.index`` is the input position) and
    carry each detector's findings at the per-run level ``alpha``; their FDR
    decision is ``"pending"``. False-discovery control needs every p-value of
    the batch: pass the rows to :func:`apply_fdr`, or use
    :func:`analyze_many`, which does both. FDR only ever *removes* findings, so
    a run that a streamed row shows as healthy stays healthy.

    Parameters
    ----------
    sources : path, glob, or iterable of sources
        As in :func:`analyze_many`.
    roles, steps_per_epoch, alpha, config, detectors
        As in :func:`curvestat.analyze`, applied to every run.
    n_jobs : int, optional
        Local worker processes (default 1: in this process; -1: all cores).
        With worker processes a run whose process dies is a ``WorkerDied``
        error row and the process is replaced.
    client : dask.distributed.Client, optional
        Run on this Dask cluster, in chunks of runs.
    timeout : float, optional
        Seconds one run may take (local worker processes; ``n_jobs=1`` then
        uses one worker process). A run over it is a ``RunTimeout`` error row.
    tracking_uri : str, optional
        MLflow tracking URI for ``mlflow:`` sources.
    skip : iterable of str, optional
        :attr:`BatchRow.key` values to leave out (used by ``resume``).
    chunk_size : int, optional
        Runs per Dask task (default: a few per worker).

    Yields
    ------
    BatchRow

    Raises
    ------
    ParameterError
        On bad arguments (never because of one bad run).
    UnreadableSourceError
        If a directory or glob matches no file.
    """
    items, ids, payload, n_workers = _prepare(sources, roles, steps_per_epoch, alpha, config, detectors, n_jobs, client, timeout, tracking_uri)
    skip_set = set(skip or ())
    tasks = [
        (i, s, rid)
        for i, (s, rid) in enumerate(zip(items, ids))
        if not skip_set or (_source_str(s) if _source_str(s) is not None else f"#{rid if rid is not None else getattr(s, 'run_id', None) or f'run{i}'}") not in skip_set
    ]
    yield from _run_tasks(tasks, payload, n_workers, client, timeout, chunk_size)


def _prepare(sources, roles, steps_per_epoch, alpha, config, detectors, n_jobs, client, timeout, tracking_uri):  # type: ignore[no-untyped-def]
    cfg = _resolve_config(config, alpha)
    det_list = list(detectors) if detectors is not None else None
    resolved = resolve_detectors(det_list)  # validate early, in the caller's process
    pathologies: dict[str, str] = {}
    for d in resolved:
        declared = getattr(d, "pathology", None)
        if declared is not None:
            pathologies[d.name] = str(getattr(declared, "value", declared))
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or (n_jobs < 1 and n_jobs != -1):
        raise ParameterError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    n_workers = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
    if timeout is not None:
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ParameterError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if client is not None:
            raise ParameterError(
                "timeout= is enforced by stopping a local worker process; a Dask worker's thread cannot be stopped. "
                "Use local processes (n_jobs) for timeouts"
            )
    items, ids = _expand(sources, tracking_uri)
    read_kw: dict[str, Any] = {"roles": roles, "steps_per_epoch": steps_per_epoch}
    if tracking_uri is not None:
        read_kw["tracking_uri"] = tracking_uri
    return items, ids, _Payload(read_kw, cfg, det_list, pathologies), n_workers


def _run_tasks(tasks, payload, n_workers, client, timeout, chunk_size):  # type: ignore[no-untyped-def]
    if not tasks:
        return
    if client is not None:
        yield from _dask_rows(client, tasks, payload, chunk_size)
    elif n_workers == 1 and timeout is None:
        detectors = resolve_detectors(payload.detectors)
        for t in tasks:
            yield _analyze_one(t, payload, detectors)
    else:
        yield from _local_rows(iter(tasks), len(tasks), max(1, min(n_workers, len(tasks))), payload, timeout)


# ---------------------------------------------------------------------------- files


_FLAT = [
    "run_id",
    "source",
    "status",
    "healthy",
    "pathologies",
    "n_findings",
    "n_suppressed",
    "top_pathology",
    "top_kind",
    "top_severity",
    "top_onset_step",
    "step_unit",
    "top_p_value",
    "top_q_value",
    "error_type",
    "error",
    "fdr_q",
    "index",
    "detectors",
    "findings",
    "skipped",
    "warnings",
]


def _flat(row: BatchRow) -> dict[str, Any]:
    kept = [f for f in row.findings if f.get("fdr_rejected", True) and f["severity"] != "info"]
    first = kept[0] if kept else {}
    return {
        "run_id": row.run_id,
        "source": row.source,
        "status": row.status,
        "healthy": row.healthy,
        "pathologies": ";".join(row.pathologies),
        "n_findings": len(kept),
        "n_suppressed": sum(1 for f in row.findings if f.get("fdr") == "suppressed"),
        "top_pathology": first.get("pathology"),
        "top_kind": first.get("kind"),
        "top_severity": first.get("severity"),
        "top_onset_step": first.get("onset_step"),
        "step_unit": row.step_unit,
        "top_p_value": first.get("p_value"),
        "top_q_value": first.get("q_value"),
        "error_type": row.error_type,
        "error": row.error,
        "fdr_q": row.fdr_q,
        "index": row.index,
        "detectors": ";".join(row.detectors),
        "findings": json.dumps(_json_safe(list(row.findings)), separators=(",", ":"), allow_nan=False),
        "skipped": json.dumps(list(row.skipped), separators=(",", ":")),
        "warnings": json.dumps(list(row.warnings), separators=(",", ":")),
    }


def _unflat(d: Mapping[str, Any]) -> BatchRow:
    def opt(v: Any) -> Any:
        return None if v is None or v == "" else v

    def boolean(v: Any) -> bool | None:
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return v
        return str(v) == "True"

    fq = opt(d.get("fdr_q"))
    return BatchRow(
        index=int(opt(d.get("index")) if opt(d.get("index")) is not None else -1),
        run_id=opt(d.get("run_id")),
        source=opt(d.get("source")),
        status=str(d["status"]),
        healthy=boolean(d.get("healthy")),
        pathologies=tuple(x for x in str(d.get("pathologies") or "").split(";") if x),
        findings=tuple(json.loads(d.get("findings") or "[]")),
        skipped=tuple(json.loads(d.get("skipped") or "[]")),
        detectors=tuple(x for x in str(d.get("detectors") or "").split(";") if x),
        error_type=opt(d.get("error_type")),
        error=opt(d.get("error")),
        warnings=tuple(json.loads(d.get("warnings") or "[]")),
        fdr_q=float(fq) if fq is not None else None,
        step_unit=str(opt(d.get("step_unit")) or "step"),
    )


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ParameterError(f"out={str(path)!r}: the suffix must be .csv, .jsonl (JSON Lines) or .parquet")


def _csv_line(values: Sequence[Any]) -> bytes:
    buf = _io.StringIO()
    # one record = one physical line, so that offsets, resume and truncation work by lines
    csv.writer(buf, lineterminator="\n").writerow(
        ["" if v is None else str(v).replace("\r", " ").replace("\n", " ") for v in values]
    )
    return buf.getvalue().encode()


def _encode(row: BatchRow, fmt: str) -> bytes:
    if fmt == "csv":
        flat = _flat(row)
        return _csv_line([flat[k] for k in _FLAT])
    return (json.dumps(_json_safe(row.to_dict()), separators=(",", ":"), allow_nan=False) + "\n").encode()


def _decode(line: bytes, fmt: str) -> BatchRow:
    if fmt == "csv":
        values = next(csv.reader([line.decode()]))
        return _unflat(dict(zip(_FLAT, values)))
    return BatchRow.from_dict(json.loads(line))


def check_writable(path: str | Path) -> Path:
    """Raise a one-line :class:`ParameterError` unless ``path`` can be written (checked before a scan)."""
    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"{p}: is a directory, not an output file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ParameterError(f"{p}: cannot write here: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ParameterError(f"{p}: cannot write here: permission denied")
    return p


class _Journal:
    """The file rows are streamed into, line by line, with each row's offset for the final pass."""

    def __init__(self, path: Path, fmt: str, resume: bool) -> None:
        self.path, self.fmt = path, fmt
        # row key -> (offset, length) of each of its rows, in file order (a
        # source given twice has two rows)
        self.where: dict[str, list[tuple[int, int]]] = {}
        self.order: list[tuple[str, tuple[int, int]]] = []  # every row, in file order
        if resume and path.exists():
            self._scan_existing()
            self.fh = path.open("ab")
        else:
            self.fh = path.open("wb")
            if fmt == "csv":
                self.fh.write(_csv_line(_FLAT))
        self.fh.flush()

    def _scan_existing(self) -> None:
        good_end = 0
        with self.path.open("rb") as fh:
            offset = 0
            first = True
            for line in fh:
                n = len(line)
                if not line.endswith(b"\n"):
                    break  # a record cut by a hard kill: dropped and rewritten
                if first and self.fmt == "csv":
                    first = False
                    if line.rstrip(b"\n").split(b",")[0] != b"run_id":
                        raise ParameterError(f"{self.path}: cannot resume: not a curvestat scan output (no header)")
                    offset += n
                    good_end = offset
                    continue
                first = False
                if line.strip():
                    try:
                        row = _decode(line, self.fmt)
                    except (ValueError, KeyError, StopIteration) as exc:
                        raise ParameterError(f"{self.path}: cannot resume: a row at byte {offset} is not a curvestat row ({exc})") from None
                    self._note(row.key, (offset, n))
                offset += n
                good_end = offset
        if self.fmt == "csv" and good_end == 0:
            with self.path.open("wb") as fh:
                fh.write(_csv_line(_FLAT))
            return
        with self.path.open("r+b") as fh:
            fh.truncate(good_end)

    def _note(self, key: str, loc: tuple[int, int]) -> None:
        self.where.setdefault(key, []).append(loc)
        self.order.append((key, loc))

    def read(self, loc: tuple[int, int], fh: Any) -> BatchRow:
        offset, n = loc
        fh.seek(offset)
        return _decode(fh.read(n), self.fmt)

    def write(self, row: BatchRow) -> None:
        data = _encode(row, self.fmt)
        offset = self.fh.tell()
        self.fh.write(data)
        self.fh.flush()
        self._note(row.key, (offset, len(data)))

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


def read_rows(path: str | Path) -> Iterator[BatchRow]:
    """Read the rows of a scan output (CSV, JSON Lines or Parquet written by ``out=``), in file order."""
    p = Path(path)
    fmt = _format_of(p)
    if not p.exists():
        raise UnreadableSourceError(f"{p}: no such file")
    if fmt == "parquet":
        pq = _pyarrow_parquet()
        table = pq.read_table(p)
        for d in table.to_pylist():
            yield _unflat({k: ("" if v is None else v) for k, v in d.items()})
        return
    with p.open("rb") as fh:
        first = True
        for line in fh:
            if first and fmt == "csv":
                first = False
                continue
            if line.strip() and line.endswith(b"\n"):
                yield _decode(line, fmt)


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:
        from .errors import MissingDependencyError

        raise MissingDependencyError("Parquet output needs pyarrow: pip install 'curvestat[parquet]'") from None
    return pq


# ---------------------------------------------------------------------------- results


@dataclass
class BatchStats:
    """Counts of a finished batch (what the end summary of ``curvestat scan`` prints).

    Attributes
    ----------
    n_runs, n_healthy, n_flagged, n_errors : int
        Runs, and how they ended after FDR control.
    flagged_by_pathology : dict of str to int
        Runs flagged per pathology after FDR.
    errors_by_type : dict of str to int
        Error rows per error type.
    n_tests : int
        ``m``: the (run, detector) tests in the FDR family.
    n_suppressed, n_runs_suppressed : int
        Findings (and runs with at least one) significant at ``alpha`` but
        suppressed by FDR.
    n_unhealthy_before_fdr : int
        Runs that would be flagged at ``alpha`` without FDR control.
    worst : list of BatchRow
        The flagged runs with the most severe kept finding and smallest q-value, at most 10.
    """

    n_runs: int = 0
    n_healthy: int = 0
    n_not_judged: int = 0
    n_flagged: int = 0
    n_errors: int = 0
    flagged_by_pathology: dict[str, int] = field(default_factory=dict)
    errors_by_type: dict[str, int] = field(default_factory=dict)
    n_tests: int = 0
    n_suppressed: int = 0
    n_runs_suppressed: int = 0
    n_unhealthy_before_fdr: int = 0
    worst: list[BatchRow] = field(default_factory=list)
    _heap: list[Any] = field(default_factory=list, repr=False)

    def add(self, row: BatchRow) -> None:
        self.n_runs += 1
        if row.status != "ok":
            self.n_errors += 1
            self.errors_by_type[row.error_type or "?"] = self.errors_by_type.get(row.error_type or "?", 0) + 1
            return
        sup = sum(1 for f in row.findings if f.get("fdr") == "suppressed")
        self.n_suppressed += sup
        self.n_runs_suppressed += bool(sup)
        if any(f["severity"] != "info" for f in row.findings):
            self.n_unhealthy_before_fdr += 1
        if row.healthy:
            if row.detectors:
                self.n_healthy += 1
            else:
                self.n_not_judged += 1
            return
        self.n_flagged += 1
        for p in row.pathologies:
            self.flagged_by_pathology[p] = self.flagged_by_pathology.get(p, 0) + 1
        sev, q = row._worst_key()
        item = (-sev, -q, -self.n_runs, row)
        if len(self._heap) < 10:
            heapq.heappush(self._heap, item)
        else:
            heapq.heappushpop(self._heap, item)
        self.worst = [x[3] for x in sorted(self._heap, reverse=True)]


@dataclass
class BatchResult:
    """The outcome of :func:`analyze_many`: one row per run, in input order.

    With ``out=`` the rows live in the file (memory stays flat in the number
    of runs) and are read back when iterated; otherwise they are held in
    :attr:`rows`.

    Attributes
    ----------
    rows : list of BatchRow
        Every row, in input order (read from :attr:`path` on first access when
        the batch was streamed to a file).
    fdr : float or None
        The false-discovery rate applied across runs (None when off).
    stats : BatchStats
        Counts and the worst runs.
    path : Path or None
        The output file, for ``out=``.
    """

    _rows: list[BatchRow] | None = None
    fdr: float | None = None
    stats: BatchStats = field(default_factory=BatchStats)
    path: Path | None = None

    @property
    def rows(self) -> list[BatchRow]:
        if self._rows is None:
            self._rows = list(read_rows(self.path)) if self.path is not None else []
        return self._rows

    def __len__(self) -> int:
        return len(self._rows) if self._rows is not None else self.stats.n_runs

    def __iter__(self) -> Iterator[BatchRow]:
        if self._rows is None and self.path is not None:
            return read_rows(self.path)
        return iter(self.rows)

    @property
    def errors(self) -> list[BatchRow]:
        """The error rows."""
        return [r for r in self if r.status == "error"]

    @property
    def flagged(self) -> list[BatchRow]:
        """Rows with at least one pathology after FDR control."""
        return [r for r in self if r.status == "ok" and not r.healthy]

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text of all rows (written to ``path`` when given)."""
        text = json.dumps(_json_safe({"fdr": self.fdr, "rows": [r.to_dict() for r in self]}), indent=2, allow_nan=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    def table_rows(self) -> list[dict[str, Any]]:
        """Flat rows (one per run) for CSV or DataFrame export.

        ``n_findings`` counts the findings that make the run flagged: severity
        ``warning`` or ``critical`` and kept by FDR (info notes and suppressed
        findings are not counted; ``n_suppressed`` counts the latter). The
        ``top_*`` columns describe the first of those same findings, the most
        severe (then earliest); they are empty exactly when ``n_findings`` is 0.
        Non-finite numbers inside ``findings`` are ``null``.
        """
        return [_flat(r) for r in self]

    def to_csv(self, path: str | Path) -> None:
        """Write :meth:`table_rows` as CSV."""
        with Path(path).open("wb") as fh:
            fh.write(_csv_line(_FLAT))
            for r in self:
                fh.write(_encode(r, "csv"))

    def to_dataframe(self) -> Any:
        """:meth:`table_rows` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - optional dependency
            raise CurvestatError("to_dataframe() needs pandas: pip install curvestat[pandas]") from None
        return pd.DataFrame(self.table_rows())

    def run_lines(self, only_flagged: bool = False) -> list[str]:
        """One line per run (``curvestat scan --verbose``)."""
        lines = []
        for r in self:
            if only_flagged and (r.status == "error" or r.healthy):
                continue
            lines.append(_run_line(r))
        return lines

    def summary(self, verbose: bool = True, only_flagged: bool = False) -> str:
        """The end summary; with ``verbose`` one line per run first."""
        lines = self.run_lines(only_flagged) if verbose else []
        lines.extend(_summary_lines(self.stats, self.fdr))
        return "\n".join(lines)


def _run_line(r: BatchRow) -> str:
    if r.status == "error":
        return f"{r.run_id}: ERROR {r.error_type}: {r.error}"
    labels: Counter[str] = Counter()
    for f in r.findings:
        if f["severity"] == "info" or not f.get("fdr_rejected", True):
            continue
        at = f" @ {r.step_unit} {f['onset_step']}" if f["onset_step"] is not None else ""
        labels[f"{f['pathology']}/{f['kind']}{at}"] += 1
    # the same finding on several series (the evaluation sets of one run) is one entry
    parts = [label if n == 1 else f"{label} in {n} series" for label, n in labels.items()]
    sup = [f for f in r.findings if f.get("fdr") == "suppressed"]
    note = ""
    if sup:
        note = " [" + "; ".join(f"{f['pathology']}/{f['kind']} {f['fdr_note']}" for f in sup) + "]"
    notes = sum(1 for f in r.findings if f["severity"] == "info")
    healthy = "healthy" + (f" ({notes} note{'s' if notes != 1 else ''})" if notes else "")
    verdict = ", ".join(parts) if parts else (healthy if r.detectors else "not judged (no detector could run)")
    return f"{r.run_id}: {verdict}{note}"


def _summary_lines(s: BatchStats, fdr: float | None) -> list[str]:
    n_ok = s.n_runs - s.n_errors
    how = f" after FDR q = {fdr:g} over {s.n_tests} tests" if fdr is not None else " (no FDR control)"
    judged = f", {s.n_not_judged} not judged (no detector could run)" if s.n_not_judged else ""
    lines = [f"{s.n_runs} runs: {s.n_healthy} healthy, {s.n_flagged} flagged{how}{judged}, {s.n_errors} errors"]
    if s.flagged_by_pathology:
        lines.append("  flagged per pathology: " + ", ".join(f"{k} {v}" for k, v in sorted(s.flagged_by_pathology.items(), key=lambda kv: -kv[1])))
    if s.n_suppressed:
        lines.append(
            f"  suppressed by FDR: {s.n_suppressed} finding(s) in {s.n_runs_suppressed} run(s) significant at alpha alone "
            f"({s.n_unhealthy_before_fdr} of {n_ok} runs would be flagged without FDR)"
        )
    if s.errors_by_type:
        lines.append("  errors by type: " + ", ".join(f"{k} {v}" for k, v in sorted(s.errors_by_type.items(), key=lambda kv: -kv[1])))
    if s.worst:
        lines.append("  worst runs (severity, q-value):")
        for r in s.worst:
            sev, q = r._worst_key()
            sev_name = {0: "critical", 1: "warning"}.get(sev, "info")
            qs = "certain" if q < 0 else f"q={q:.2g}"
            lines.append(f"    {sev_name:<8} {qs:<10} {_run_line(r)}")
    return lines


class ScanInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`analyze_many`: what was done is kept.

    Attributes
    ----------
    done, total : int
        Rows written (or collected) and rows expected.
    path : Path or None
        The output file holding the ``done`` rows (FDR pending), for ``out=``.
    partial : BatchResult or None
        Without ``out=``: the rows done, FDR not applied.
    """

    def __init__(self, done: int, total: int, path: Path | None, partial: BatchResult | None) -> None:
        super().__init__(f"interrupted after {done} of {total} runs")
        self.done, self.total, self.path, self.partial = done, total, path, partial


def analyze_many(
    sources: Any,
    *,
    roles: Mapping[str, str] | None = None,
    steps_per_epoch: int | None = None,
    alpha: float | None = None,
    config: Config | None = None,
    detectors: Iterable[Any] | None = None,
    fdr: float | bool = True,
    n_jobs: int = 1,
    client: Any = None,
    timeout: float | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    tracking_uri: str | None = None,
    chunk_size: int | None = None,
) -> BatchResult:
    """Diagnose many runs; one row per run, bad runs as error rows, FDR across runs.

    Parameters
    ----------
    sources : path, glob, or iterable of sources
        A directory (searched recursively for log files), a glob pattern, or
        an iterable of anything :func:`curvestat.analyze` accepts.
    roles, steps_per_epoch, alpha, config, detectors
        As in :func:`curvestat.analyze`, applied to every run; ``alpha`` stays
        the per-run level of each detector's test.
    fdr : float or bool, optional
        False-discovery rate controlled across runs with Benjamini-Hochberg
        over every (run, detector) test. ``True`` (default) uses
        :data:`DEFAULT_FDR` (0.05); a float in (0, 1) sets it; ``False``
        turns FDR control off.
    n_jobs : int, optional
        Local worker processes (default 1: in-process; -1: all cores).
    client : dask.distributed.Client, optional
        Run on this Dask cluster instead of local processes.
    timeout : float, optional
        Seconds per run before it becomes a ``RunTimeout`` error row (local processes only).
    out : path, optional
        Stream the rows to this file as they finish (``.csv``, ``.jsonl`` or
        ``.parquet``, the latter with pyarrow), then rewrite it in input order
        with the FDR decisions. Memory then stays flat in the number of runs.
    resume : bool, optional
        With ``out``: skip the sources already in that file, keep their rows.
    progress : callable, optional
        Called as ``progress(done, total)`` after each row.
    tracking_uri : str, optional
        MLflow tracking URI for ``mlflow:`` sources.
    chunk_size : int, optional
        Runs per Dask task.

    Returns
    -------
    BatchResult

    Raises
    ------
    ParameterError
        On bad arguments or an output path that cannot be written (before any
        run is analysed; never because of one bad run).
    UnreadableSourceError
        If a directory or glob matches no file.
    ScanInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``): the rows done are in ``out``.
    """
    q: float | None
    if fdr is True:
        q = DEFAULT_FDR
    elif fdr is False or fdr is None:
        q = None
    else:
        q = _check_fdr(fdr)
    if resume and out is None:
        raise ParameterError("resume=True needs out=PATH (the file to resume)")
    out_path = fmt = None
    if out is not None:
        out_path = check_writable(out)
        fmt = _format_of(out_path)
        if fmt == "parquet":
            _pyarrow_parquet()
    items, ids, payload, n_workers = _prepare(sources, roles, steps_per_epoch, alpha, config, detectors, n_jobs, client, timeout, tracking_uri)
    keys = [
        _source_str(s) if _source_str(s) is not None else f"#{rid if rid is not None else getattr(s, 'run_id', None) or f'run{i}'}"
        for i, (s, rid) in enumerate(zip(items, ids))
    ]
    total = len(items)
    if out_path is None:
        return _collect_in_memory(items, ids, keys, payload, n_workers, client, timeout, chunk_size, q, progress, total)
    return _stream_to_file(items, ids, keys, payload, n_workers, client, timeout, chunk_size, q, progress, total, out_path, fmt, resume)  # type: ignore[arg-type]


def _collect_in_memory(items, ids, keys, payload, n_workers, client, timeout, chunk_size, q, progress, total):  # type: ignore[no-untyped-def]
    tasks = [(i, s, rid) for i, (s, rid) in enumerate(zip(items, ids))]
    rows: list[BatchRow | None] = [None] * total
    done = 0
    if progress is not None:
        progress(0, total)
    try:
        for row in _run_tasks(tasks, payload, n_workers, client, timeout, chunk_size):
            rows[row.index] = row
            done += 1
            if progress is not None:
                progress(done, total)
    except KeyboardInterrupt:
        partial = [r for r in rows if r is not None]
        raise ScanInterrupted(done, total, None, BatchResult(_rows=partial, fdr=None)) from None
    final = [r for r in rows if r is not None]
    stats = BatchStats()
    if q is not None:
        fam = _FdrFamily()
        for r in final:
            fam.add(r)
        qmap = fam.qvalues()
        final = [_fdr_row(r, qmap, q) for r in final]
        stats.n_tests = fam.m
    else:
        final = [_fdr_row(r, None, None) for r in final]
    for r in final:
        stats.add(r)
    return BatchResult(_rows=final, fdr=q, stats=stats)


def _stream_to_file(items, ids, keys, payload, n_workers, client, timeout, chunk_size, q, progress, total, out_path, fmt, resume):  # type: ignore[no-untyped-def]
    journal_path = out_path if fmt != "parquet" else out_path.with_name(out_path.name + ".partial.jsonl")
    jfmt = fmt if fmt != "parquet" else "jsonl"
    if fmt == "parquet" and resume and out_path.exists() and not journal_path.exists():
        # a finished Parquet table: its rows seed the journal
        with journal_path.open("wb") as fh:
            for r in read_rows(out_path):
                fh.write(_encode(r, "jsonl"))
    journal = _Journal(journal_path, jfmt, resume)
    # resume: a source is done as many times as it has rows in the file
    in_file = Counter({k: len(v) for k, v in journal.where.items()})
    tasks = []
    for i, (s, rid, k) in enumerate(zip(items, ids, keys)):
        if in_file[k] > 0:
            in_file[k] -= 1
        else:
            tasks.append((i, s, rid))
    done = total - len(tasks)
    if progress is not None:
        progress(done, total)  # the bar shows before the first run is done
    try:
        for row in _run_tasks(tasks, payload, n_workers, client, timeout, chunk_size):
            journal.write(row)
            done += 1
            if progress is not None:
                progress(done, total)
    except KeyboardInterrupt:
        journal.close()
        raise ScanInterrupted(done, total, journal_path, None) from None
    journal.close()
    # final pass: FDR over every p-value, rows rewritten in input order (rows
    # of sources no longer given, from an earlier scan, follow at the end)
    queues = {k: deque(v) for k, v in journal.where.items()}
    order: list[tuple[int, int]] = [queues[k].popleft() for k in keys if queues.get(k)]
    left = {loc for q_ in queues.values() for loc in q_}
    order += [loc for _, loc in journal.order if loc in left]
    stats = BatchStats()
    fam = _FdrFamily()
    with journal_path.open("rb") as fh:
        if q is not None:
            for k in order:
                fam.add(journal.read(k, fh))
            qmap: dict[tuple[str, str], float] | None = fam.qvalues()
            stats.n_tests = fam.m
        else:
            qmap = None
        tmp = out_path.with_name(out_path.name + ".tmp")
        writer = _final_writer(tmp, fmt)
        try:
            for pos, k in enumerate(order):
                row = journal.read(k, fh)
                row = _fdr_row(replace(row, index=pos), qmap, q)
                stats.add(row)
                writer.write(row)
        except BaseException:
            # interrupted while rewriting: the streamed rows stay as they were
            writer.close()
            tmp.unlink(missing_ok=True)
            raise
        writer.close()
    os.replace(tmp, out_path)
    if journal_path != out_path:
        journal_path.unlink()
    return BatchResult(_rows=None, fdr=q, stats=stats, path=out_path)


class _final_writer:
    def __init__(self, path: Path, fmt: str) -> None:
        self.fmt = fmt
        if fmt == "parquet":
            import pyarrow as pa

            self.pa, self.pq = pa, _pyarrow_parquet()
            self.schema = pa.schema([(k, pa.string()) for k in _FLAT])
            self.pw = self.pq.ParquetWriter(str(path), self.schema)
            self.buf: list[dict[str, Any]] = []
        else:
            self.fh = path.open("wb")
            if fmt == "csv":
                self.fh.write(_csv_line(_FLAT))

    def write(self, row: BatchRow) -> None:
        if self.fmt == "parquet":
            flat = _flat(row)
            self.buf.append({k: None if flat[k] is None else str(flat[k]) for k in _FLAT})
            if len(self.buf) >= 2000:
                self._flush()
        else:
            self.fh.write(_encode(row, self.fmt))

    def _flush(self) -> None:
        if self.buf:
            self.pw.write_table(self.pa.Table.from_pylist(self.buf, schema=self.schema))
            self.buf = []

    def close(self) -> None:
        if self.fmt == "parquet":
            self._flush()
            self.pw.close()
        else:
            self.fh.close()
