"""Change-point scores against human annotations, as TCPDBench computes them.

The Turing Change Point Dataset (TCPD; van den Burg and Williams 2020) holds
real series with the change points that five annotators marked on each.
TCPDBench scores a method's change points on a series by

* **F1 with a margin**: a predicted point within ``margin`` (5) indices of an
  annotated one is a true positive, each predicted point matching at most one
  annotated point (the closest first). Precision is over the *union* of the
  annotators' points, recall is the mean of the per-annotator recalls, and
  index 0 is added to every set, predicted and annotated (so a method that
  reports nothing still scores its "start of series" point).
* **Covering** (Arbelaez et al. 2011): for each annotator, the share-weighted
  best Jaccard overlap of each annotated segment with a predicted segment,
  averaged over the annotators.

This module holds the two scores and the loader of the stored copy of TCPD
(``../shared/data/tcpd``); ``benchmarks/tcpd.py`` runs :func:`curvestat.stats.pelt`
and :func:`curvestat.stats.binary_segmentation` on it.

Convention: a change point is an index in ``[0, n - 1]``; curvestat reports
the first index of the new segment, as the annotators' clicks do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import MissingSeriesError, ParameterError, UnreadableSourceError

__all__ = [
    "TCPD_EXCLUDED",
    "TcpdSeries",
    "covering",
    "f_measure",
    "load_tcpd",
    "true_positives",
]

#: Series TCPDBench leaves out of its published averages: the simulated
#: ``quality_control_*`` check set and ``uk_coal_employ`` (missing values);
#: multivariate series are left out by :func:`load_tcpd` itself.
TCPD_EXCLUDED = frozenset({f"quality_control_{i}" for i in range(1, 6)} | {"uk_coal_employ"})


def true_positives(truth: Iterable[int], predicted: Iterable[int], *, margin: int = 5) -> set[int]:
    """Annotated points matched by a predicted point within ``margin``.

    Each predicted point is used at most once; an annotated point takes the
    closest predicted point still unused (ties: the smaller index).

    Parameters
    ----------
    truth, predicted : iterable of int
        Change-point indices.
    margin : int
        Largest distance ``|t - p|`` of a match (default 5).

    Returns
    -------
    set of int
        The matched annotated points.
    """
    left = sorted({int(p) for p in predicted})
    out: set[int] = set()
    for t in sorted({int(v) for v in truth}):
        best = None
        for p in left:
            d = abs(t - p)
            if d <= margin and (best is None or d < abs(t - best)):
                best = p
        if best is not None:
            out.add(t)
            left.remove(best)
    return out


def f_measure(
    annotations: Mapping[object, Iterable[int]],
    predicted: Iterable[int],
    *,
    margin: int = 5,
) -> tuple[float, float, float]:
    """TCPDBench's F1 of predicted change points against several annotators.

    Parameters
    ----------
    annotations : mapping annotator -> iterable of int
        Each annotator's change points (0-based).
    predicted : iterable of int
        The method's change points (0-based).
    margin : int
        Match margin in indices (default 5).

    Returns
    -------
    (f1, precision, recall) : tuple of float
        Precision = matched points of the pooled annotations / predicted
        points; recall = mean over annotators of matched / annotated; index 0
        is added to every set first.

    Raises
    ------
    ParameterError
        Without any annotator, or with a negative margin.

    Examples
    --------
    >>> round(f_measure({1: [], 2: [10], 3: [50]}, [10])[0], 4)
    0.9091
    """
    if not annotations:
        raise ParameterError("f_measure needs at least one annotator")
    if margin < 0:
        raise ParameterError(f"margin must be >= 0, got {margin!r}")
    sets = [{int(v) for v in a} | {0} for a in annotations.values()]
    x = {int(v) for v in predicted} | {0}
    pooled = set().union(*sets)
    precision = len(true_positives(pooled, x, margin=margin)) / len(x)
    recall = float(np.mean([len(true_positives(s, x, margin=margin)) / len(s) for s in sets]))
    f1 = 0.0 if precision + recall == 0 else 2.0 * precision * recall / (precision + recall)
    return f1, precision, recall


def _segments(points: Iterable[int], n: int) -> list[tuple[int, int]]:
    cuts = sorted({int(p) for p in points if 0 < int(p) < n})
    edges = [0, *cuts, n]
    return list(pairwise(edges))


def _jaccard(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def covering(annotations: Mapping[object, Iterable[int]], predicted: Iterable[int], n: int) -> float:
    """Mean over annotators of the covering of their segmentation by the predicted one.

    Parameters
    ----------
    annotations : mapping annotator -> iterable of int
        Each annotator's change points (0-based, in ``[0, n - 1]``).
    predicted : iterable of int
        The method's change points.
    n : int
        Length of the series.

    Returns
    -------
    float
        ``mean_k sum_{A in S_k} |A| / n * max_{P in S_pred} J(A, P)`` with
        ``J`` the Jaccard index of two segments (Arbelaez et al. 2011, eq. 8).

    Raises
    ------
    ParameterError
        Without any annotator, or with ``n < 1``.

    Examples
    --------
    >>> round(covering({1: [], 2: [10], 3: [40]}, [], 45), 4)
    0.8189
    """
    if not annotations:
        raise ParameterError("covering needs at least one annotator")
    if n < 1:
        raise ParameterError(f"n must be >= 1, got {n!r}")
    pred = _segments(predicted, n)
    scores = []
    for ann in annotations.values():
        segs = _segments(ann, n)
        scores.append(sum((b - a) * max(_jaccard((a, b), p) for p in pred) for a, b in segs) / n)
    return float(np.mean(scores))


@dataclass(frozen=True, slots=True)
class TcpdSeries:
    """One univariate TCPD series with its annotations.

    Attributes
    ----------
    name : str
        Dataset name (e.g. ``'well_log'``).
    values : ndarray
        The raw series (float64, NaN for a missing value).
    annotations : dict
        Annotator id -> tuple of 0-based change points.
    """

    name: str
    values: NDArray[np.float64]
    annotations: Mapping[str, tuple[int, ...]]

    @property
    def n(self) -> int:
        return int(self.values.size)

    def standardised(self) -> NDArray[np.float64]:
        """The series scaled to mean 0 and sd 1 (ddof 1, as R's ``scale``), as TCPDBench feeds it."""
        v = self.values
        sd = float(np.nanstd(v, ddof=1))
        return (v - np.nanmean(v)) / (sd if sd > 0 else 1.0)


def load_tcpd(
    root: str | Path,
    *,
    names: Iterable[str] | None = None,
    exclude: Iterable[str] = TCPD_EXCLUDED,
) -> list[TcpdSeries]:
    """Load the univariate TCPD series stored under ``root`` that have their data file.

    Parameters
    ----------
    root : path
        Folder with ``annotations.json`` and ``datasets/<name>/<name>.json``.
    names : iterable of str, optional
        Only these series (default: every univariate series present).
    exclude : iterable of str
        Series left out (default :data:`TCPD_EXCLUDED`, as the published averages).

    Returns
    -------
    list of TcpdSeries
        Sorted by name. Series whose data file is absent (TCPD does not
        redistribute some) are skipped.

    Raises
    ------
    UnreadableSourceError
        If ``root`` has no ``annotations.json``.
    MissingSeriesError
        If a requested name is absent.
    """
    root = Path(root)
    ann_path = root / "annotations.json"
    if not ann_path.is_file():
        raise UnreadableSourceError(f"no TCPD annotations at {ann_path}")
    annotations = json.loads(ann_path.read_text())
    wanted = None if names is None else set(names)
    skip = set(exclude)
    out = []
    for name in sorted(annotations):
        if name in skip or (wanted is not None and name not in wanted):
            continue
        path = root / "datasets" / name / f"{name}.json"
        if not path.is_file():
            continue
        data = json.loads(path.read_text())
        if int(data["n_dim"]) != 1:
            continue
        raw = data["series"][0]["raw"]
        values = np.array([math.nan if v is None else float(v) for v in raw], dtype=np.float64)
        ann = {str(k): tuple(int(i) for i in v) for k, v in annotations[name].items()}
        out.append(TcpdSeries(name, values, ann))
    if wanted is not None:
        missing = wanted - {s.name for s in out}
        if missing:
            raise MissingSeriesError(f"TCPD series not found under {root}: {sorted(missing)}")
    return out
