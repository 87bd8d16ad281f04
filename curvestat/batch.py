"""Batch scoring: :func:`analyze_many` over many runs, with false-discovery-rate control.

One row per run, in input order. A run that cannot be read or analysed
becomes an *error row* (its error type and message); the batch goes on and
loses nothing. Runs are analysed in parallel on local processes, or on a Dask
cluster when one is given.

False-discovery rate
--------------------
Scoring 10,000 healthy runs at ``alpha = 0.01`` would flag about 100 of them
by chance. :func:`analyze_many` therefore applies the Benjamini-Hochberg
procedure across runs, separately for each pathology: the m tests are the runs
on which that pathology's detector ran (not skipped), and each run's p-value
for the pathology is the smallest p-value among its findings of that
pathology. Findings without a p-value (a NaN loss) are certain and always kept.

Detectors report a finding only when ``p <= alpha``; every unreported p-value
is therefore larger than ``alpha``. With ``fdr <= alpha`` the BH rejections
and the adjusted p-values (q-values) below ``alpha`` computed from the
reported p-values alone are exactly those of the full procedure.
"""

from __future__ import annotations

import csv
import json
import math
import os
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .analyze import _resolve_config, _resolve_detectors, run_detectors
from .config import Config
from .errors import CurvestatError, ParameterError
from .io import expand_sources, read
from .report import Report, Severity

__all__ = ["analyze_many", "BatchResult", "benjamini_hochberg"]


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray, *, m: int | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values).

    Parameters
    ----------
    pvalues : array_like of float
        p-values in [0, 1].
    m : int, optional
        Total number of tests, when only the smallest p-values are given
        (defaults to ``len(pvalues)``). Must be at least ``len(pvalues)``.

    Returns
    -------
    ndarray
        ``q[i] = min_{j : p_j >= p_i} min(1, m p_j / rank_j)``, in input order.

    Raises
    ------
    ParameterError
        If a p-value lies outside [0, 1] or ``m < len(pvalues)``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.2]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ParameterError("pvalues must be 1-D")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ParameterError("p-values must lie in [0, 1]")
    n = p.size
    m = n if m is None else int(m)
    if m < n:
        raise ParameterError(f"m ({m}) must be at least the number of p-values ({n})")
    if n == 0:
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


@dataclass
class BatchResult:
    """The outcome of :func:`analyze_many`: one row per run, in input order.

    Attributes
    ----------
    rows : list of dict
        Per run: ``run_id``, ``source``, ``status`` (``"ok"`` or ``"error"``),
        ``healthy``, ``pathologies`` (after FDR control), ``findings`` (each
        with its ``q_value`` and ``fdr_rejected``), ``skipped``, ``error_type``,
        ``error``.
    fdr : float or None
        The false-discovery rate applied across runs (None when off).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    fdr: float | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The error rows."""
        return [r for r in self.rows if r["status"] == "error"]

    @property
    def flagged(self) -> list[dict[str, Any]]:
        """Rows with at least one pathology after FDR control."""
        return [r for r in self.rows if r["status"] == "ok" and not r["healthy"]]

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text of all rows (written to ``path`` when given)."""
        text = json.dumps({"fdr": self.fdr, "rows": self.rows}, indent=2)
        if path is not None:
            Path(path).write_text(text)
        return text

    def table_rows(self) -> list[dict[str, Any]]:
        """Flat rows (one per run) for CSV or DataFrame export."""
        flat = []
        for r in self.rows:
            first = r["findings"][0] if r["findings"] else {}
            flat.append(
                {
                    "run_id": r["run_id"],
                    "source": r["source"],
                    "status": r["status"],
                    "healthy": r["healthy"],
                    "pathologies": ";".join(r["pathologies"]),
                    "n_findings": sum(1 for f in r["findings"] if f.get("fdr_rejected", True)),
                    "top_kind": first.get("kind"),
                    "top_onset_step": first.get("onset_step"),
                    "top_p_value": first.get("p_value"),
                    "top_q_value": first.get("q_value"),
                    "error_type": r["error_type"],
                    "error": r["error"],
                }
            )
        return flat

    def to_csv(self, path: str | Path) -> None:
        """Write :meth:`table_rows` as CSV."""
        rows = self.table_rows()
        with Path(path).open("w", newline="") as fh:
            fieldnames = list(rows[0]) if rows else ["run_id"]
            w = csv.DictWriter(fh, fieldnames=fieldnames)
            w.writeheader()
            w.writerows(rows)

    def to_dataframe(self) -> Any:
        """:meth:`table_rows` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - optional dependency
            raise CurvestatError("to_dataframe() needs pandas: pip install curvestat[pandas]") from None
        return pd.DataFrame(self.table_rows())

    def summary(self) -> str:
        """One line per run plus a count line."""
        lines = []
        for r in self.rows:
            if r["status"] == "error":
                lines.append(f"{r['run_id']}: ERROR {r['error_type']}: {r['error']}")
            elif r["healthy"]:
                lines.append(f"{r['run_id']}: healthy")
            else:
                parts = []
                for f in r["findings"]:
                    if f["severity"] == "info" or not f.get("fdr_rejected", True):
                        continue
                    at = f" @ step {f['onset_step']}" if f["onset_step"] is not None else ""
                    parts.append(f"{f['pathology']}/{f['kind']}{at}")
                lines.append(f"{r['run_id']}: " + ", ".join(parts))
        n_err = len(self.errors)
        n_flag = len(self.flagged)
        fdr = f" (FDR {self.fdr:g} across runs)" if self.fdr else ""
        lines.append(f"{len(self.rows)} runs: {len(self.rows) - n_err - n_flag} healthy, {n_flag} flagged{fdr}, {n_err} errors")
        return "\n".join(lines)


def _row_from_report(report: Report, source: str | None) -> dict[str, Any]:
    d = report.to_dict()
    return {
        "run_id": report.run_id,
        "source": source if source is not None else report.source,
        "status": "ok",
        "healthy": report.healthy,
        "pathologies": [p.value for p in report.pathologies],
        "findings": d["findings"],
        "skipped": d["skipped"],
        "detectors": d["detectors"],
        "error_type": None,
        "error": None,
    }


def _error_row(source: Any, run_id: str | None, exc: BaseException, internal: bool) -> dict[str, Any]:
    message = str(exc) if not internal else f"{exc!r} (internal error; please report it) " + "".join(traceback.format_exception_only(exc)).strip()
    return {
        "run_id": run_id,
        "source": str(source) if isinstance(source, (str, Path)) else None,
        "status": "error",
        "healthy": None,
        "pathologies": [],
        "findings": [],
        "skipped": [],
        "detectors": [],
        "error_type": type(exc).__name__,
        "error": message,
    }


def _default_run_id(source: Any, index: int) -> str:
    if isinstance(source, (str, Path)):
        p = Path(source)
        return p.parent.name if p.name == "trainer_state.json" else p.stem
    rid = getattr(source, "run_id", None)
    return str(rid) if rid else f"run{index}"


def _analyze_one(task: tuple[int, Any, dict[str, Any], Config, list[Any]]) -> dict[str, Any]:
    """Worker: read and analyse one source; never raises."""
    index, source, read_kw, config, detectors = task
    run_id = _default_run_id(source, index)
    try:
        run = read(source, **read_kw)
        if run.run_id is None:
            run = run.replace(run_id=run_id)
        report = run_detectors(run, config, _resolve_detectors(detectors))
        return _row_from_report(report, str(source) if isinstance(source, (str, Path)) else None)
    except CurvestatError as exc:
        return _error_row(source, run_id, exc, internal=False)
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the batch
        return _error_row(source, run_id, exc, internal=True)


def _expand(sources: Any, tracking_uri: str | None) -> list[Any]:
    if isinstance(sources, (str, Path)):
        return list(expand_sources(sources, tracking_uri=tracking_uri))
    if isinstance(sources, Mapping):
        raise ParameterError("analyze_many expects several sources; for one mapping use analyze()")
    items: list[Any] = []
    for s in sources:
        # directories, globs and MLflow experiments expand to many runs; a
        # missing file stays one item so that it becomes one error row
        expandable = isinstance(s, (str, Path)) and (
            Path(s).is_dir() or any(ch in str(s) for ch in "*?[") or str(s).startswith(("mlflow:", "sqlite:", "file:"))
        )
        if expandable:
            items.extend(expand_sources(s, tracking_uri=tracking_uri))
        else:
            items.append(s)
    return items


def _apply_fdr(rows: list[dict[str, Any]], fdr: float, pathology_of: Mapping[str, str]) -> None:
    by_pathology: dict[str, list[tuple[int, float]]] = {}
    tested: dict[str, int] = {}
    PATHOLOGY_OF = pathology_of

    for i, r in enumerate(rows):
        if r["status"] != "ok":
            continue
        ran = set(r["detectors"])
        for det, pathology in PATHOLOGY_OF.items():
            if det in ran:
                tested[pathology] = tested.get(pathology, 0) + 1
        best: dict[str, float] = {}
        for f in r["findings"]:
            p = f["p_value"]
            if isinstance(p, (int, float)) and f["severity"] != "info":
                best[f["pathology"]] = min(best.get(f["pathology"], 1.0), float(p))
        for pathology, p in best.items():
            by_pathology.setdefault(pathology, []).append((i, p))
    qvals: dict[tuple[int, str], float] = {}
    for pathology, items in by_pathology.items():
        m = max(tested.get(pathology, 0), len(items))
        q = benjamini_hochberg([p for _, p in items], m=m)
        for (i, _), qi in zip(items, q):
            qvals[(i, pathology)] = float(qi)
    for i, r in enumerate(rows):
        if r["status"] != "ok":
            continue
        for f in r["findings"]:
            if isinstance(f["p_value"], (int, float)) and f["severity"] != "info":
                q = qvals.get((i, f["pathology"]), 1.0)
                f["q_value"] = q
                f["fdr_rejected"] = q <= fdr
            else:
                f["q_value"] = None
                f["fdr_rejected"] = True  # certain findings (NaN loss) and info notes
        kept = [f for f in r["findings"] if f["fdr_rejected"] and f["severity"] != "info"]
        r["healthy"] = not kept
        r["pathologies"] = list(dict.fromkeys(f["pathology"] for f in kept))


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
    tracking_uri: str | None = None,
) -> BatchResult:
    """Diagnose many runs; one row per run, bad runs as error rows.

    Parameters
    ----------
    sources : path, glob, or iterable of sources
        A directory (searched recursively for log files), a glob pattern, or
        an iterable of anything :func:`curvestat.analyze` accepts.
    roles, steps_per_epoch, alpha, config, detectors
        As in :func:`curvestat.analyze`, applied to every run.
    fdr : float or bool, optional
        False-discovery rate controlled across runs per pathology with
        Benjamini-Hochberg. ``True`` (default) uses ``alpha``; a float sets it
        (at most ``alpha``); ``False`` turns FDR control off.
    n_jobs : int, optional
        Local worker processes (default 1: in-process; -1: all cores).
    client : dask.distributed.Client, optional
        Run on this Dask cluster instead of local processes.
    tracking_uri : str, optional
        MLflow tracking URI for ``mlflow:`` sources.

    Returns
    -------
    BatchResult

    Raises
    ------
    ParameterError
        On bad arguments (never because of one bad run).
    UnreadableSourceError
        If a directory or glob matches no file.
    """
    cfg = _resolve_config(config, alpha)
    q: float | None
    if fdr is True:
        q = cfg.alpha
    elif fdr is False or fdr is None:
        q = None
    else:
        q = float(fdr)
        if not 0 < q < 1:
            raise ParameterError(f"fdr must lie in (0, 1) or be None, got {fdr!r}")
        if q > cfg.alpha:
            raise ParameterError(
                f"fdr ({q:g}) must not exceed alpha ({cfg.alpha:g}): detectors only report p <= alpha, "
                "so a larger FDR could not be controlled exactly"
            )
    det_list = list(detectors) if detectors is not None else None
    resolved = _resolve_detectors(det_list)  # validate early, in the caller's process
    from .detectors import PATHOLOGY_OF

    # which pathology each detector tests, so that runs where it ran and found
    # nothing count among the m tests of Benjamini-Hochberg
    pathology_of = {}
    for d in resolved:
        declared = getattr(d, "pathology", None) or PATHOLOGY_OF.get(d.name)
        if declared is not None:
            pathology_of[d.name] = str(getattr(declared, "value", declared))
    items = _expand(sources, tracking_uri)
    read_kw: dict[str, Any] = {"roles": roles, "steps_per_epoch": steps_per_epoch}
    if tracking_uri is not None:
        read_kw["tracking_uri"] = tracking_uri
    tasks = [(i, s, read_kw, cfg, det_list) for i, s in enumerate(items)]
    if client is not None:
        futures = client.map(_analyze_one, tasks, pure=False)
        rows = client.gather(futures)
    elif n_jobs == 1 or len(tasks) < 2:
        rows = [_analyze_one(t) for t in tasks]
    else:
        workers = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
        if workers < 1:
            raise ParameterError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
        chunk = max(1, math.ceil(len(tasks) / (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_analyze_one, tasks, chunksize=chunk))
    if q is not None:
        _apply_fdr(rows, q, pathology_of)
    return BatchResult(rows=rows, fdr=q)
