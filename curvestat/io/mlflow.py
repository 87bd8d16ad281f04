"""MLflow tracking stores: a run, an experiment, or a whole store -> one Run per MLflow run.

Sources
-------
==============================  ===================================================
``mlflow:runs/<run_id>``        one run
``mlflow:<experiment>``         every run of an experiment, by name or by id
``mlflow:`` or ``mlflow:*``     every run of every (active) experiment
``sqlite:///mlflow.db``,        a tracking URI on its own: every run in that store
``file:///.../mlruns``
==============================  ===================================================

The store is named by ``tracking_uri=`` (a local ``file:`` store, a ``sqlite:``
database, or a server); without it MLflow's own default applies
(``MLFLOW_TRACKING_URI``). Metrics are read with
:meth:`mlflow.tracking.MlflowClient.get_metric_history`; ``mlflow`` is
imported only when such a source is read (``pip install 'curvestat[mlflow]'``).

Steps
-----
Each metric's points are taken in logging order (timestamp, then step) and
merged with the :class:`~curvestat.io._common.PointCollector` policy of the
file readers: a step logged twice keeps its last value, a step going
backwards is a restart whose newest segment wins. A metric logged several
times without a step (MLflow then stores step 0 for every point) is indexed by
logging order, 0, 1, 2, ... A metric named ``epoch`` is the epoch axis: it is
not a series and gives ``steps_per_epoch``.

MLflow 3 refuses to open ``file:`` stores unless ``MLFLOW_ALLOW_FILE_STORE=true``
is set; the error says so, and curvestat does not set it behind your back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import EmptySeriesError, InputError, MissingDependencyError, UnreadableSourceError
from ..run import Role, Run
from ._common import EPOCH_COLUMNS, PointCollector, infer_steps_per_epoch

__all__ = ["MlflowRunRef", "is_mlflow_source", "list_mlflow_runs", "read_mlflow", "read_mlflow_run"]

PREFIX = "mlflow:"
_STORE_SCHEMES = ("sqlite:", "file:")
_INSTALL_HINT = "reading MLflow runs needs the 'mlflow' package: pip install 'curvestat[mlflow]'"


@dataclass(frozen=True)
class MlflowRunRef:
    """A pointer to one MLflow run, read lazily by :func:`curvestat.io.read`.

    :func:`curvestat.io.expand_sources` returns these for an MLflow
    experiment, so that a batch reads each run in its own task and a run that
    cannot be read becomes one error row instead of failing the whole batch.

    Attributes
    ----------
    run_id : str
        MLflow run id.
    tracking_uri : str or None
        Store holding the run; None means MLflow's default.
    """

    run_id: str
    tracking_uri: str | None = None

    def __str__(self) -> str:
        return f"{PREFIX}runs/{self.run_id}"


def is_mlflow_source(source: Any) -> bool:
    """Tell whether ``source`` names MLflow runs rather than a file.

    Parameters
    ----------
    source : object
        Anything handed to :func:`curvestat.io.read`.

    Returns
    -------
    bool
        True for an :class:`MlflowRunRef`, a string starting with ``mlflow:``,
        or a ``sqlite:`` or ``file:`` tracking URI.

    Examples
    --------
    >>> is_mlflow_source("mlflow:my-experiment"), is_mlflow_source("sqlite:///mlflow.db"), is_mlflow_source("log.csv")
    (True, True, False)
    """
    if isinstance(source, MlflowRunRef):
        return True
    return isinstance(source, str) and source.startswith((PREFIX, *_STORE_SCHEMES))


def _mlflow() -> tuple[Any, Any]:
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise MissingDependencyError(f"{_INSTALL_HINT} ({exc})") from None
    return MlflowClient, MlflowException


@contextlib.contextmanager
def _translated(where: str) -> Iterator[None]:
    """Turn MLflow's exceptions (which derive from bare Exception) into CurvestatErrors."""
    _, MlflowException = _mlflow()
    try:
        yield
    except MlflowException as exc:
        msg = getattr(exc, "message", None) or str(exc)
        raise UnreadableSourceError(f"{where}: {msg}") from None


def _client(tracking_uri: str | None) -> Any:
    MlflowClient, _ = _mlflow()
    with _translated(f"MLflow tracking URI {tracking_uri or '(default)'}"):
        return MlflowClient(tracking_uri=tracking_uri)


def _split(source: str | MlflowRunRef, tracking_uri: str | None) -> tuple[str, str | None]:
    """Return (selector, tracking_uri): selector is 'runs/<id>', an experiment, or '*'."""
    if isinstance(source, MlflowRunRef):
        return f"runs/{source.run_id}", source.tracking_uri or tracking_uri
    if not isinstance(source, str):
        raise InputError(f"an MLflow source must be a string or MlflowRunRef, got {type(source).__name__}")
    if source.startswith(PREFIX):
        sel = source[len(PREFIX):].strip()
        return (sel or "*"), tracking_uri
    if source.startswith(_STORE_SCHEMES):
        if tracking_uri is not None and tracking_uri != source:
            raise InputError(f"{source} is itself a tracking URI; do not also pass tracking_uri={tracking_uri!r}")
        return "*", source
    raise InputError(f"{source!r} is not an MLflow source; expected 'mlflow:runs/<run_id>', 'mlflow:<experiment>' or a tracking URI")


def list_mlflow_runs(source: str | MlflowRunRef, *, tracking_uri: str | None = None) -> list[MlflowRunRef]:
    """Resolve an MLflow source to its runs, without reading any metric.

    Parameters
    ----------
    source : str or MlflowRunRef
        ``mlflow:runs/<run_id>``, ``mlflow:<experiment name or id>``,
        ``mlflow:`` (all experiments), or a tracking URI (``sqlite:...``,
        ``file:...``) for all runs in that store.
    tracking_uri : str, optional
        The store; MLflow's default when omitted.

    Returns
    -------
    list of MlflowRunRef
        One per run, newest first (MLflow's search order).

    Raises
    ------
    MissingDependencyError
        If ``mlflow`` is not installed.
    UnreadableSourceError
        If the store cannot be opened, or the run or experiment does not exist.
    EmptySeriesError
        If the experiment (or store) holds no run.
    """
    sel, uri = _split(source, tracking_uri)
    where = f"MLflow {str(source)!r} (tracking URI {uri or '(default)'})"
    client = _client(uri)
    with _translated(where):
        if sel.startswith("runs/"):
            run_id = sel[len("runs/"):].strip("/")
            if not run_id:
                raise InputError(f"{where}: empty run id; expected mlflow:runs/<run_id>")
            try:
                client.get_run(run_id)
            except Exception as exc:  # RESOURCE_DOES_NOT_EXIST and friends
                raise UnreadableSourceError(f"{where}: no run with id {run_id!r} ({_short(exc)})") from None
            return [MlflowRunRef(run_id, uri)]
        if sel == "*":
            experiments = client.search_experiments()
            names = "all experiments"
        else:
            exp = _find_experiment(client, sel)
            if exp is None:
                known = [e.name for e in client.search_experiments()][:20]
                raise UnreadableSourceError(f"{where}: no experiment named or numbered {sel!r}; the store has {known}")
            experiments = [exp]
            names = f"experiment {exp.name!r} (id {exp.experiment_id})"
        ids = [e.experiment_id for e in experiments]
        refs: list[MlflowRunRef] = []
        token = None
        while ids:
            page = client.search_runs(ids, max_results=1000, page_token=token)
            refs += [MlflowRunRef(r.info.run_id, uri) for r in page]
            token = getattr(page, "token", None)
            if not token:
                break
    if not refs:
        raise EmptySeriesError(f"{where}: {names} holds no run")
    return refs


def _find_experiment(client: Any, sel: str) -> Any:
    exp = client.get_experiment_by_name(sel)
    if exp is None and sel.isdigit():
        try:
            exp = client.get_experiment(sel)
        except Exception:
            exp = None
    return exp


def _short(exc: Exception) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    return msg.splitlines()[0][:200] if msg else type(exc).__name__


def read_mlflow_run(
    run: str | MlflowRunRef,
    *,
    tracking_uri: str | None = None,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read the metric histories of one MLflow run into a Run.

    Parameters
    ----------
    run : str or MlflowRunRef
        A run id, ``mlflow:runs/<run_id>``, or a reference from
        :func:`list_mlflow_runs`.
    tracking_uri : str, optional
        The store (ignored when ``run`` is a reference that names its own).
    roles : mapping of str to Role or str, optional
        Explicit roles by metric key.
    steps_per_epoch : int, optional
        Overrides the value inferred from an ``epoch`` metric.
    run_id : str, optional
        Defaults to the MLflow run id.

    Returns
    -------
    Run
        One series per metric key; ``source`` is ``mlflow:runs/<run_id>``.

    Raises
    ------
    MissingDependencyError
        If ``mlflow`` is not installed.
    UnreadableSourceError
        If the store cannot be opened or the run does not exist.
    EmptySeriesError
        If the run logged no metric (parameters or artifacts only).
    """
    if isinstance(run, MlflowRunRef):
        rid, uri = run.run_id, run.tracking_uri or tracking_uri
    else:
        rid = run[len(PREFIX) + len("runs/"):] if run.startswith(PREFIX + "runs/") else run
        uri = tracking_uri
    src = f"{PREFIX}runs/{rid}"
    where = f"MLflow run {rid} (tracking URI {uri or '(default)'})"
    client = _client(uri)
    with _translated(where):
        try:
            info = client.get_run(rid)
        except Exception as exc:
            raise UnreadableSourceError(f"{where}: no such run ({_short(exc)})") from None
        keys = list(info.data.metrics)
        name = info.info.run_name
        if not keys:
            raise EmptySeriesError(
                f"{where}, named {name!r} in experiment {info.info.experiment_id}: logged no metric "
                "(only parameters, tags or artifacts); nothing to analyse"
            )
        collector = PointCollector(f"{src} ({name})" if name else src)
        epochs: list[tuple[int, float]] = []
        for key in keys:
            history = sorted(client.get_metric_history(rid, key), key=lambda m: (m.timestamp, m.step))
            steps = [int(m.step) for m in history]
            if len(history) > 1 and len(set(steps)) == 1:
                steps = list(range(len(history)))  # logged without a step: index by logging order
            if key.lower() in EPOCH_COLUMNS:
                epochs += [(s, float(m.value)) for s, m in zip(steps, history)]
                continue
            for s, m in zip(steps, history):
                collector.add(key, s, float(m.value), f"{key}@{m.timestamp}")
    if steps_per_epoch is None and len(epochs) >= 2:
        steps_per_epoch = infer_steps_per_epoch([s for s, _ in epochs], [e for _, e in epochs])
    if not collector.names():
        raise EmptySeriesError(f"{where}: logged only an epoch counter, no metric curve")
    out = collector.build(roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id or rid)
    return out.replace(source=src)


def read_mlflow(
    source: str | MlflowRunRef,
    *,
    tracking_uri: str | None = None,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
) -> list[Run]:
    """Read every run named by an MLflow source.

    Parameters
    ----------
    source : str or MlflowRunRef
        ``mlflow:runs/<run_id>``, ``mlflow:<experiment name or id>``,
        ``mlflow:`` (every experiment), or a tracking URI such as
        ``sqlite:///mlflow.db`` (every run in it).
    tracking_uri : str, optional
        The store; MLflow's default (``MLFLOW_TRACKING_URI``) when omitted.
    roles : mapping of str to Role or str, optional
        Explicit roles by metric key, applied to every run.
    steps_per_epoch : int, optional
        Applied to every run; inferred from an ``epoch`` metric otherwise.

    Returns
    -------
    list of Run
        One per MLflow run, with ``run_id`` the MLflow run id.

    Raises
    ------
    MissingDependencyError
        If ``mlflow`` is not installed.
    UnreadableSourceError
        If the store, experiment or run cannot be found or opened.
    EmptySeriesError
        If the experiment holds no run, or a run logged no metric (read runs
        one by one with :func:`list_mlflow_runs` and :func:`read_mlflow_run`,
        or use ``analyze_many``, to keep going past such runs).

    Examples
    --------
    >>> runs = read_mlflow("mlflow:my-experiment", tracking_uri="sqlite:///mlflow.db")  # doctest: +SKIP
    >>> [r.run_id for r in runs]                                                       # doctest: +SKIP
    ['3f2a...', '9bc1...']
    """
    refs = list_mlflow_runs(source, tracking_uri=tracking_uri)
    return [read_mlflow_run(ref, roles=roles, steps_per_epoch=steps_per_epoch) for ref in refs]


def read_mlflow_one(
    source: str | MlflowRunRef,
    *,
    tracking_uri: str | None = None,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    run_id: str | None = None,
) -> Run:
    """Read an MLflow source that names exactly one run (the path of :func:`curvestat.io.read`).

    Parameters
    ----------
    source : str or MlflowRunRef
        ``mlflow:runs/<run_id>``, a reference, or ``mlflow:<experiment>``
        holding a single run.
    tracking_uri : str, optional
        The store; MLflow's default when omitted.
    roles, steps_per_epoch, run_id
        As :func:`read_mlflow_run`.

    Returns
    -------
    Run

    Raises
    ------
    InputError
        If the source names several runs; use :func:`read_mlflow` or a batch.
    MissingDependencyError, UnreadableSourceError, EmptySeriesError
        As :func:`read_mlflow_run`.
    """
    refs = list_mlflow_runs(source, tracking_uri=tracking_uri)
    if len(refs) > 1:
        raise InputError(
            f"MLflow source {str(source)!r} holds {len(refs)} runs; read one with 'mlflow:runs/<run_id>', "
            "all with curvestat.io.read_mlflow, or score them with analyze_many / `curvestat scan`"
        )
    return read_mlflow_run(refs[0], roles=roles, steps_per_epoch=steps_per_epoch, run_id=run_id)
