"""Batch scoring at scale: faults, streaming memory, Dask, interrupt and resume.

    python benchmarks/bench_batch.py                 # 10,000 runs (the issue's numbers)
    python benchmarks/bench_batch.py --runs 1000     # smaller, while developing
    python benchmarks/bench_batch.py --parts local,rss --runs 2000

What it does, in a temporary directory:

* writes N runs of 1,000 steps as CSV (train loss every step, validation
  loss and accuracy every 50 steps; a mix of healthy and pathological runs),
  3 % of them unreadable (empty, a non-numeric cell, binary junk), and one run
  whose detector kills its worker process (``os._exit``) on purpose;
* ``local``: scans them on 2 local worker processes with ``out=rows.jsonl``
  in a child process, and checks the table: N rows, one per source, the
  unreadable files as their error rows, the killed run as the one
  ``WorkerDied`` row, nothing else lost; it reports the time and the peak RSS
  of the scanning process and of its largest worker;
* ``rss``: the same scan of the first N/10 runs, for peak RSS at N/10 vs N;
* ``dask``: the same N runs through a 2-worker ``LocalCluster(processes=True)``
  on loopback; its table must equal the local pool's;
* ``resume``: a scan of N/10 runs interrupted by SIGINT after ~a third of the
  runs, resumed, and compared with the uninterrupted table.

Prints one JSON document (and a short text summary on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
KILL_ID = "kill_me"


class KillOn:
    """A user's detector that kills its worker on one run (a segfault, an OOM kill)."""

    name = "kill_on"
    pathology = "periodic"

    def __init__(self, run_id: str = KILL_ID) -> None:
        self.run_id = run_id

    def detect(self, run, config):  # noqa: ANN001, ANN201
        if run.run_id and run.run_id.endswith(self.run_id):
            os._exit(7)
        return []


def _detectors():
    from curvestat.detectors import available_detectors

    return [*available_detectors(), KillOn()]


def make_corpus(root: Path, n: int, seed: int = 0) -> dict[str, str]:
    """Write n runs; return {run file name: expected error type or ''}."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    n_bad = round(0.03 * n)
    bad = set(rng.choice(n, size=n_bad, replace=False).tolist())
    kill = next(i for i in range(n // 2, n) if i not in bad)
    steps = np.arange(1000)
    vs = np.arange(0, 1000, 50)
    expected: dict[str, str] = {}
    for i in range(n):
        name = f"{i // 1000:02d}/run{i:05d}" + ("_" + KILL_ID if i == kill else "")
        path = root / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        if i in bad:
            kind = i % 3
            if kind == 0:
                path.write_text("")
                expected[name] = "EmptySeriesError"
            elif kind == 1:
                path.write_text("step,loss\n0,1.0\n1,oops\n2,0.8\n")
                expected[name] = "ParseError"
            else:
                path.write_bytes(bytes(rng.integers(0, 256, size=300, dtype=np.uint8)))
                expected[name] = "*"  # any reader error
            continue
        tau = rng.uniform(80, 400)
        loss = np.exp(-steps / tau) + 0.1 + 0.02 * rng.standard_normal(1000)
        val = np.exp(-vs / (tau * 1.1)) + 0.15 + 0.005 * rng.standard_normal(vs.size)
        kind = i % 10
        if kind == 1:  # explosion
            loss[600:] *= 30
        elif kind == 2:  # overfitting
            val = val + np.maximum(0, vs - 500) / 500
        elif kind == 3:  # non-convergence
            loss = 1.0 + 0.05 * rng.standard_normal(1000)
        acc = np.clip(0.5 + 0.4 * (1 - np.exp(-vs / tau)) + 0.01 * rng.standard_normal(vs.size), 0, 1)
        lines = ["step,loss,val_loss,val_accuracy"]
        j = 0
        for s in range(1000):
            if j < vs.size and vs[j] == s:
                lines.append(f"{s},{loss[s]:.5g},{val[j]:.5g},{acc[j]:.4g}")
                j += 1
            else:
                lines.append(f"{s},{loss[s]:.5g},,")
        path.write_text("\n".join(lines) + "\n")
        expected[name] = "WorkerDied" if i == kill else ""
    return expected


def _child_scan(src: str, out: str, resume: bool) -> int:
    """Run in a child process, so that its peak RSS is the scan's own."""
    from curvestat.batch import ScanInterrupted, analyze_many

    t0 = time.perf_counter()
    try:
        res = analyze_many(src, detectors=_detectors(), n_jobs=2, out=out, resume=resume)
    except ScanInterrupted as exc:
        print(json.dumps({"interrupted": True, "done": exc.done, "total": exc.total}))
        return 130
    wall = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": wall, "rows": res.stats.n_runs, "errors": res.stats.errors_by_type, "peak_rss_mb": me / 1024, "peak_worker_rss_mb": kids / 1024}))
    return 0


def _run_child(src: Path, out: Path, resume: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(HERE.parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, str(HERE), "_child", str(src), str(out)] + (["--resume"] if resume else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 130):
        raise SystemExit(f"child scan failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_table(rows, expected: dict[str, str]) -> dict:
    """Every source one row; error rows exactly the expected ones."""
    by_id = {r.run_id: r for r in rows}
    problems = []
    if len(rows) != len(expected) or set(by_id) != set(expected):
        problems.append(f"{len(rows)} rows for {len(expected)} sources")
    for rid, want in expected.items():
        r = by_id.get(rid)
        if r is None:
            continue
        if want == "" and r.status != "ok":
            problems.append(f"{rid}: unexpected {r.error_type}: {r.error}")
        elif want == "*" and r.status != "error":
            problems.append(f"{rid}: junk file read as a run")
        elif want not in ("", "*") and r.error_type != want:
            problems.append(f"{rid}: expected {want}, got {r.error_type or r.status}")
    return {"rows": len(rows), "sources": len(expected), "problems": problems[:10], "n_problems": len(problems)}


def part_local(tmp: Path, n: int, expected: dict[str, str]) -> dict:
    from curvestat.batch import read_rows

    out = tmp / "local.jsonl"
    res = _run_child(tmp / "runs", out)
    res["check"] = check_table(list(read_rows(out)), expected)
    res["runs_per_s"] = n / res["seconds"]
    return res


def part_rss(tmp: Path, n: int) -> dict:
    small = tmp / "runs_small"
    small.mkdir()
    m = max(1, n // 10)
    exp = make_corpus(small, m, seed=1)
    res = _run_child(small, tmp / "small.jsonl")
    res["runs"] = m
    res["expected_errors"] = sum(1 for v in exp.values() if v)
    return res


def part_dask(tmp: Path, n: int, expected: dict[str, str]) -> dict:
    import cloudpickle
    import dask
    import distributed

    from curvestat.batch import analyze_many, read_rows

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    out = tmp / "dask.jsonl"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                t0 = time.perf_counter()
                res = analyze_many(tmp / "runs", detectors=_detectors(), client=client, out=out)
                wall = time.perf_counter() - t0
    rows = list(read_rows(out))
    local = tmp / "local.jsonl"
    same = None
    if local.exists():
        # equal row for row; a WorkerDied row's message says how the worker was lost (exit code vs lost twice)
        def norm(rs):
            return [r.to_dict() | ({"error": None} if r.error_type == "WorkerDied" else {}) for r in rs]

        same = norm(rows) == norm(read_rows(local))
    return {"seconds": wall, "runs_per_s": n / wall, "rows": res.stats.n_runs, "errors": res.stats.errors_by_type, "check": check_table(rows, expected), "equal_to_local_pool": same}


def part_resume(tmp: Path, n: int) -> dict:
    from curvestat.batch import read_rows

    src = tmp / "runs_resume"
    m = max(30, n // 10)
    make_corpus(src, m, seed=2)
    ref = tmp / "resume_ref.jsonl"
    _run_child(src, ref)
    out = tmp / "resume.jsonl"
    env = dict(os.environ, PYTHONPATH=str(HERE.parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # SIGINT back to its default in the child: a shell ignores it in background jobs, and the child would inherit that
    proc = subprocess.Popen(
        [sys.executable, str(HERE), "_child", str(src), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    while proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= m // 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate()
    interrupted = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
    partial_rows = sum(1 for _ in read_rows(out))
    resumed = _run_child(src, out, resume=True)
    same = list(read_rows(out)) == list(read_rows(ref))
    return {"runs": m, "exit_code": proc.returncode, "interrupted": interrupted, "rows_on_disk_at_interrupt": partial_rows, "resumed_seconds": resumed["seconds"], "final_equal_to_uninterrupted": same}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        return _child_scan(argv[1], argv[2], "--resume" in argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--parts", default="local,rss,dask,resume")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR instead of a temporary directory")
    args = ap.parse_args(argv)
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory(prefix="curvestat-bench-batch-") as d:
        tmp = Path(args.keep or d)
        tmp.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        expected = make_corpus(tmp / "runs", args.runs)
        result: dict = {"runs": args.runs, "unreadable": sum(1 for v in expected.values() if v not in ("", "WorkerDied")), "killed": 1, "corpus_seconds": time.perf_counter() - t0}
        print(f"corpus: {args.runs} runs in {result['corpus_seconds']:.0f} s", file=sys.stderr)
        for part in parts:
            fn = {"local": lambda: part_local(tmp, args.runs, expected), "rss": lambda: part_rss(tmp, args.runs), "dask": lambda: part_dask(tmp, args.runs, expected), "resume": lambda: part_resume(tmp, args.runs)}[part]
            result[part] = fn()
            print(f"{part}: {json.dumps(result[part])}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
