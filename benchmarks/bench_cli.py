"""Command-line latency and batch throughput, against reading the same files with pandas.

    python benchmarks/bench_cli.py                       # 2,000 runs of 1,000 steps
    python benchmarks/bench_cli.py --runs 500 --repeats 3
    python benchmarks/bench_cli.py --tree /path/to/other/checkout --tree .   # before/after, interleaved
    python benchmarks/bench_cli.py --cold                # also the first-ever (empty numba cache) times

For each source tree (``--tree``, default this repository; each is put first on
``PYTHONPATH`` of the child processes) it times, as wall-clock medians of
``--repeats`` fresh processes, after one untimed warm-up call that fills the
numba cache:

* ``python -c pass`` (the interpreter's own start-up, for reference);
* ``curvestat --version``;
* ``curvestat analyze FILE`` on one 1,000-step CSV run;
* ``curvestat scan`` of 10 such files (one process);
* ``curvestat scan DIR --jobs 2`` of ``--runs`` files (``bench_batch.py``'s
  corpus: 3 % unreadable files), in runs per second;
* and, once, ``pandas.read_csv`` of the same files in one process: the issue's
  yardstick is a scan no slower than 1.5x merely reading the files.

With ``--cold`` each tree also runs ``analyze FILE`` and the big scan once
with an empty ``CURVESTAT_CACHE_DIR`` (every kernel compiled). Trees are
measured interleaved, repeat by repeat, so that a loaded machine slows all
alike. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    # from a neutral directory: ``python -m`` puts the working directory
    # first on sys.path, ahead of the tree on PYTHONPATH
    t = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=3600)
    return time.perf_counter() - t


def _env(tree: Path, cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if cache is not None:
        env["CURVESTAT_CACHE_DIR"] = str(cache)
    return env


def _pandas_read_all(files: list[Path]) -> float:
    import pandas as pd

    t = time.perf_counter()
    for f in files:
        try:
            pd.read_csv(f)
        except Exception:  # noqa: BLE001 - the unreadable files fail for pandas too
            pass
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tree", action="append", type=Path, help="source tree to measure (repeatable); default: this repository")
    ap.add_argument("--cold", action="store_true", help="also time the first-ever runs (empty numba cache)")
    args = ap.parse_args()
    trees = [t.resolve() for t in (args.tree or [HERE.parent])]
    py = sys.executable
    from bench_batch import make_corpus

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        make_corpus(tmp / "runs", args.runs)
        files = sorted((tmp / "runs").rglob("*.csv"))
        ten = tmp / "ten"
        ten.mkdir()
        good = [f for f in files if f.stat().st_size > 1000][:10]
        for f in good:
            (ten / f.name).write_bytes(f.read_bytes())
        one = good[0]
        commands = {
            "python_startup": [py, "-c", "pass"],
            "version": [py, "-m", "curvestat.cli", "--version"],
            "analyze_file": [py, "-m", "curvestat.cli", "analyze", str(one)],
            "scan_10_files": [py, "-m", "curvestat.cli", "-q", "scan", str(ten)],
        }
        big = [py, "-m", "curvestat.cli", "-q", "scan", str(tmp / "runs"), "--jobs", "2"]
        results: dict[str, dict[str, object]] = {str(t): {} for t in trees}
        for t in trees:  # warm the numba cache of each tree
            _timed(commands["analyze_file"], _env(t))
        times: dict[str, dict[str, list[float]]] = {str(t): {k: [] for k in [*commands, "scan_big"]} for t in trees}
        for _ in range(args.repeats):
            for t in trees:
                for k, cmd in commands.items():
                    times[str(t)][k].append(_timed(cmd, _env(t)))
        for _ in range(max(1, args.repeats // 3)):
            for t in trees:
                times[str(t)]["scan_big"].append(_timed(big, _env(t)))
        read_s = min(_pandas_read_all(files) for _ in range(2))
        for t in trees:
            r = results[str(t)]
            for k, v in times[str(t)].items():
                r[k + "_s"] = round(float(np.median(v)), 3)
            r["scan_runs_per_s"] = round(args.runs / float(r["scan_big_s"]), 1)
            r["scan_over_pandas_read"] = round(float(r["scan_big_s"]) / read_s, 2)
            if args.cold:
                cold = tmp / f"cold-{abs(hash(str(t)))}"
                r["analyze_file_cold_s"] = round(_timed(commands["analyze_file"], _env(t, cold / "a")), 3)
                r["scan_big_cold_s"] = round(_timed(big, _env(t, cold / "b")), 3)
    out = {"runs": args.runs, "repeats": args.repeats, "pandas_read_all_s": round(read_s, 3), "load_average": os.getloadavg(), "trees": results}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
