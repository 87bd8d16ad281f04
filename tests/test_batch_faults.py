"""Faults in batch scoring, for real: a worker that dies, a run that hangs, Ctrl-C on `curvestat scan`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from curvestat import analyze_many
from curvestat.batch import iter_analyze, read_rows

ROOT = Path(__file__).resolve().parents[1]


def _runs(tmp_path, n, bad=()):
    for i in range(n):
        name = "bad" if i in bad else f"r{i:02d}"
        loss = np.exp(-np.arange(30) / 10) + 0.1
        (tmp_path / f"{name}_{i:02d}.csv").write_text("step,loss\n" + "\n".join(f"{s},{v:.6f}" for s, v in enumerate(loss)) + "\n")
    return tmp_path


class ExitOnBad:
    """A user's detector that kills its own process on one run."""

    name = "exit_on_bad"
    pathology = "periodic"

    def __init__(self, how="exit"):
        self.how = how

    def detect(self, run, config):
        if run.run_id.startswith("bad"):
            if self.how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return []


class SleepOnBad:
    name = "sleep_on_bad"
    pathology = "periodic"

    def detect(self, run, config):
        if run.run_id.startswith("bad"):
            time.sleep(60)
        return []


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_a_dying_worker_is_its_runs_error_row_and_the_batch_goes_on(tmp_path, how):
    src = _runs(tmp_path, 8, bad={2, 5})
    res = analyze_many(src, detectors=[ExitOnBad(how)], n_jobs=2)
    assert len(res) == 8
    died = [r for r in res if r.status == "error"]
    assert [r.run_id for r in died] == ["bad_02", "bad_05"]
    assert all(r.error_type == "WorkerDied" and r.source.endswith(".csv") for r in died)
    assert ("exited with code 3" if how == "exit" else "killed by SIGKILL") in died[0].error
    assert all(r.status == "ok" for r in res if not r.run_id.startswith("bad"))
    assert [r.index for r in res] == list(range(8))


def test_a_hung_run_becomes_a_timeout_row(tmp_path):
    src = _runs(tmp_path, 5, bad={1})
    t0 = time.monotonic()
    res = analyze_many(src, detectors=[SleepOnBad()], n_jobs=2, timeout=1.0)
    assert time.monotonic() - t0 < 20
    rows = {r.run_id: r for r in res}
    assert rows["bad_01"].error_type == "RunTimeout" and "timeout=1" in rows["bad_01"].error
    assert sum(r.status == "ok" for r in res) == 4


def test_timeout_in_process_uses_one_worker(tmp_path):
    src = _runs(tmp_path, 2, bad={0})
    res = analyze_many(src, detectors=[SleepOnBad()], n_jobs=1, timeout=0.5)
    assert [r.error_type for r in res] == ["RunTimeout", None]


def test_iter_analyze_streams_every_row_once(tmp_path):
    src = _runs(tmp_path, 6, bad={3})
    rows = list(iter_analyze(src, detectors=[ExitOnBad()], n_jobs=2))
    assert sorted(r.index for r in rows) == list(range(6))
    assert all(r.findings == () or r.findings[0]["fdr"] == "pending" for r in rows)


_SLOW_SCAN = textwrap.dedent(
    """
    import sys, time
    import curvestat.detectors as d

    class Slow:
        name = "slow"
        pathology = "periodic"
        def detect(self, run, config):
            time.sleep(0.05)
            return []

    slow = Slow()
    # only the slow detector: no numba warm-up in the subprocess
    d.REGISTRY.clear()
    d.REGISTRY["slow"] = "__main__:slow"
    from curvestat.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


class Slow:
    name = "slow"
    pathology = "periodic"

    def detect(self, run, config):
        time.sleep(0.05)
        return []


def test_ctrl_c_on_scan_keeps_the_rows_done_and_resume_finishes(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    runs.mkdir()
    _runs(runs, 40)
    out = tmp_path / "rows.csv"
    script = tmp_path / "slow_scan.py"
    script.write_text(_SLOW_SCAN)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, str(script), "scan", str(runs), "-j", "2", "--out", str(out)]
    # SIGINT at its default in the child even when this test runs in a background job (which ignores it)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count("\n") >= 6:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "scan interrupted: partial" in stderr and "--resume" in stderr
    partial = list(read_rows(out))
    assert 5 <= len(partial) < 40
    assert all(r.fdr_q is None for r in partial)  # FDR not applied to a partial scan
    # resume: only the missing runs are analysed; the final table is the full one
    # (in this process, with the same slow detector, to save a start-up)
    import curvestat.detectors as d
    from curvestat.cli import main

    monkeypatch.setattr(d, "REGISTRY", {"slow": "unused:slow"})
    monkeypatch.setitem(d._LOADED, "slow", Slow())
    assert main(cmd[2:] + ["--resume"]) == 0
    final = list(read_rows(out))
    assert [r.run_id for r in final] == sorted(p.stem for p in runs.glob("*.csv"))
    assert all(r.fdr_q == 0.05 for r in final)
