"""analyze_many on a real Dask cluster: two worker processes on loopback, started here.

Few and fast: one cluster for the module, three batches.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from curvestat import analyze_many

distributed = pytest.importorskip("distributed")


class KillOnce:
    """Kills the worker process the first time it sees the marked run (a preempted node), then behaves."""

    name = "kill_once"
    pathology = "periodic"

    def __init__(self, marker, always=False):
        self.marker, self.always = str(marker), always

    def detect(self, run, config):
        if run.run_id.startswith("bad") and (self.always or not os.path.exists(self.marker)):
            open(self.marker, "w").close()
            os._exit(1)
        return []


@pytest.fixture(scope="module")
def client():
    import cloudpickle
    import dask

    # the detectors above travel by value (the workers cannot import this test module)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # one death fails the task at once; analyze_many does the retry itself
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster, distributed.Client(cluster) as c:
            yield c
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _runs(tmp_path, n, bad=()):
    for i in range(n):
        loss = np.exp(-np.arange(40) / (4 + i % 7)) + 0.1
        if i % 5 == 3:
            loss[25] = np.inf
        name = f"bad{i:02d}" if i in bad else f"r{i:02d}"
        (tmp_path / f"{name}.csv").write_text("step,loss\n" + "\n".join(f"{s},{v}" for s, v in enumerate(loss)) + "\n")
    (tmp_path / "broken.csv").write_text("step,loss\n0,zz\n")
    return tmp_path


def test_rows_equal_the_local_pool(tmp_path, client):
    src = _runs(tmp_path, 12)
    # the detector cheapest to warm up: a fresh Dask worker spends ~2 s on the first call of each other one
    cheap = ["periodic"]
    res = analyze_many(src, client=client, chunk_size=3, detectors=cheap)
    assert res.rows == analyze_many(src, n_jobs=2, detectors=cheap).rows
    assert sum(r.status == "error" for r in res) == 1


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path, client):
    src = _runs(tmp_path, 10, bad={4})
    res = analyze_many(src, client=client, detectors=[KillOnce(tmp_path / "marker")], chunk_size=3)
    assert (tmp_path / "marker").exists()  # a worker did die
    assert len(res) == 11 and [r.status for r in res].count("error") == 1  # only broken.csv


def test_a_run_that_kills_every_worker_is_an_error_row_after_one_retry(tmp_path, client):
    src = _runs(tmp_path, 6, bad={1})
    res = analyze_many(src, client=client, detectors=[KillOnce(tmp_path / "marker", always=True)], chunk_size=3)
    rows = {r.run_id: r for r in res}
    assert rows["bad01"].error_type == "WorkerDied" and "lost twice" in rows["bad01"].error
    assert rows["bad01"].source.endswith("bad01.csv")
    assert sum(r.status == "ok" for r in res) == 5


def test_scan_reaches_an_existing_scheduler(tmp_path, client, capsys):
    from curvestat.cli import main

    src = _runs(tmp_path, 4)
    assert main(["scan", str(src), "--dask-scheduler", client.scheduler.address, "--out", str(tmp_path / "rows.csv")]) == 1
    out = capsys.readouterr().out
    assert "5 runs: 3 healthy, 1 flagged" in out and "1 errors" in out
