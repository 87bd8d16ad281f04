"""MLflow reader: a real local tracking store written with mlflow's fluent API, read back.

One SQLite store is built per module (MLflow creates its schema once, ~3 s):
experiment ``curves`` holds a healthy run (train/val loss, an ``epoch``
metric), a run that logged without steps and a run with parameters only;
experiment ``solo`` holds one run. A ``file:`` store is tested on its own.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

mlflow = pytest.importorskip("mlflow", reason="the MLflow reader tests need the 'mlflow' package (curvestat[mlflow])")

from curvestat.errors import EmptySeriesError, InputError, MissingDependencyError, UnreadableSourceError  # noqa: E402
from curvestat.io import MlflowRunRef, expand_sources, read, read_mlflow  # noqa: E402
from curvestat.run import Role, Run  # noqa: E402

SPE = 10
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SQLAlchemy deprecations inside MLflow


def _log_healthy() -> str:
    with mlflow.start_run(run_name="healthy") as r:
        for s in range(40):
            mlflow.log_metrics({"train_loss": float(np.exp(-s / 15)), "epoch": s // SPE, "learning_rate": 1e-3}, step=s)
            if s % SPE == SPE - 1:
                mlflow.log_metrics({"val_loss": float(1.1 * np.exp(-s / 20)), "val_accuracy": 0.5 + s / 100}, step=s)
    return r.info.run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    ids = {}
    curves = mlflow.create_experiment("curves")
    mlflow.set_experiment(experiment_id=curves)
    ids["healthy"] = _log_healthy()
    with mlflow.start_run(run_name="nostep") as r:
        for v in (3.0, 2.0, 1.5, 1.2):
            mlflow.log_metric("loss", v)  # no step: MLflow stores step 0 each time
        ids["nostep"] = r.info.run_id
    with mlflow.start_run(run_name="params-only") as r:
        mlflow.log_param("lr", 1e-3)
        ids["empty"] = r.info.run_id
    solo = mlflow.create_experiment("solo")
    mlflow.set_experiment(experiment_id=solo)
    with mlflow.start_run(run_name="only") as r:
        mlflow.log_metrics({"loss": 1.0}, step=0)
        mlflow.log_metrics({"loss": 0.5}, step=1)
        ids["solo"] = r.info.run_id
    mlflow.set_tracking_uri(None)
    return {"uri": uri, "ids": ids, "curves": curves, "solo": solo}


def test_single_run_by_id(store) -> None:
    rid = store["ids"]["healthy"]
    run = read(f"mlflow:runs/{rid}", tracking_uri=store["uri"])
    assert isinstance(run, Run) and run.run_id == rid and run.source == f"mlflow:runs/{rid}"
    assert sorted(run.names) == ["learning_rate", "train_loss", "val_accuracy", "val_loss"]  # epoch is the axis
    assert run.train_loss.name == "train_loss" and run.val_loss.name == "val_loss" and run.lr.name == "learning_rate"
    assert run["val_accuracy"].role is Role.METRIC
    assert run["train_loss"].steps.tolist() == list(range(40))
    assert_allclose(run["train_loss"].values, np.exp(-np.arange(40) / 15))
    assert run["val_loss"].steps.tolist() == [9, 19, 29, 39]
    assert run.steps_per_epoch == SPE


def test_experiment_expands_to_lazy_run_refs(store) -> None:
    refs = expand_sources("mlflow:curves", tracking_uri=store["uri"])
    assert all(isinstance(r, MlflowRunRef) and r.tracking_uri == store["uri"] for r in refs)
    assert {r.run_id for r in refs} == {store["ids"][k] for k in ("healthy", "nostep", "empty")}
    # by experiment id too
    assert {r.run_id for r in expand_sources(f"mlflow:{store['curves']}", tracking_uri=store["uri"])} == {r.run_id for r in refs}
    by_id = {r.run_id: r for r in refs}
    # each ref is read on its own: the params-only run is one clear error, the others read
    with pytest.raises(EmptySeriesError, match=rf"{store['ids']['empty']}.*'params-only'.*logged no metric"):
        read(by_id[store["ids"]["empty"]])
    nostep = read(by_id[store["ids"]["nostep"]])
    assert nostep["loss"].steps.tolist() == [0, 1, 2, 3]  # logging order
    assert_allclose(nostep["loss"].values, [3.0, 2.0, 1.5, 1.2])


def test_read_of_a_multi_run_experiment_asks_for_a_batch(store) -> None:
    with pytest.raises(InputError, match="holds 3 runs"):
        read("mlflow:curves", tracking_uri=store["uri"])
    solo = read("mlflow:solo", tracking_uri=store["uri"])
    assert solo.run_id == store["ids"]["solo"] and solo["loss"].values.tolist() == [1.0, 0.5]


def test_read_mlflow_returns_runs(store) -> None:
    runs = read_mlflow("mlflow:solo", tracking_uri=store["uri"])
    assert [r.run_id for r in runs] == [store["ids"]["solo"]]
    with pytest.raises(EmptySeriesError, match="logged no metric"):
        read_mlflow("mlflow:curves", tracking_uri=store["uri"])


def test_tracking_uri_as_source_lists_every_run(store) -> None:
    refs = expand_sources(store["uri"])
    assert {r.run_id for r in refs} == set(store["ids"].values())
    # a list of sources mixes Runs, refs and store queries
    mixed = expand_sources([Run.from_dict({"loss": [1.0, 0.5]}), "mlflow:solo"], tracking_uri=store["uri"])
    assert isinstance(mixed[0], Run) and mixed[1].run_id == store["ids"]["solo"]


def test_unknown_experiment_and_run(store) -> None:
    with pytest.raises(UnreadableSourceError, match=r"no experiment named or numbered 'nope'.*'curves'"):
        expand_sources("mlflow:nope", tracking_uri=store["uri"])
    with pytest.raises(UnreadableSourceError, match="deadbeef"):
        read("mlflow:runs/deadbeef", tracking_uri=store["uri"])


def test_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps file stores behind this switch
    try:
        mlflow.set_tracking_uri(uri)
        exp = mlflow.create_experiment("filed")
        with mlflow.start_run(experiment_id=exp) as r:
            for s in range(5):
                mlflow.log_metric("train/loss", 1.0 / (s + 1), step=10 * s)
    finally:
        mlflow.set_tracking_uri(None)
    run = read(f"mlflow:runs/{r.info.run_id}", tracking_uri=uri)
    assert run.train_loss.name == "train/loss" and run["train/loss"].steps.tolist() == [0, 10, 20, 30, 40]
    assert [x.run_id for x in expand_sources(uri)] == [r.info.run_id]


def test_file_store_refused_by_mlflow_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.store.tracking import file_store

    if not hasattr(file_store, "_ALLOW_FILE_STORE_ENV") and "MLFLOW_ALLOW_FILE_STORE" not in Path(file_store.__file__).read_text():
        pytest.skip("this MLflow version opens file stores without opt-in")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    (tmp_path / "mlruns").mkdir()
    with pytest.raises(UnreadableSourceError, match="MLFLOW_ALLOW_FILE_STORE"):
        expand_sources("mlflow:", tracking_uri=(tmp_path / "mlruns").as_uri())


def test_missing_mlflow_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'curvestat\[mlflow\]'"):
        read("mlflow:runs/abc", tracking_uri="sqlite:///nowhere.db")
