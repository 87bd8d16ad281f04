"""Detector-accuracy benchmark: curvestat vs the peer baselines, synthetic and real corpora.

Prints the side-by-side tables of ``curvestat bench`` for the default synthetic
corpus (1,000 seeded runs) and for the real-training corpus stored in
``benchmarks/data/real`` (see ``benchmarks/real_runs/generate.py``), with the
wall time of each. Accuracy, not speed: ground truth travels with the data.

Usage::

    PYTHONPATH=. python benchmarks/bench_accuracy.py [--n 1000] [--seed 0] [--workers 2] [--json-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from curvestat.bench import DEFAULT_DETECTORS, load_corpus, run_benchmark, synthetic


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--real", default=str(Path(__file__).resolve().parent / "data" / "real"))
    ap.add_argument("--json-dir", default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    syn = synthetic(args.n, seed=args.seed)
    gen = time.perf_counter() - t0
    res = run_benchmark(syn, DEFAULT_DETECTORS, workers=args.workers, progress=None)
    print(res.table())
    print(f"\n(synthetic corpus generated in {gen:.1f} s; total {time.perf_counter() - t0:.1f} s)\n")
    results = {"synthetic": res}
    real = Path(args.real)
    if (real / "labels.json").is_file():
        t1 = time.perf_counter()
        corpus = load_corpus(real, name="real")
        rr = run_benchmark(corpus, DEFAULT_DETECTORS, workers=1, progress=None)
        print(rr.table())
        print(f"\n(real corpus loaded and scored in {time.perf_counter() - t1:.1f} s)")
        results["real"] = rr
    else:
        print(f"no real corpus at {real}; generate it with benchmarks/real_runs/generate.py", file=sys.stderr)
    if args.json_dir:
        d = Path(args.json_dir)
        d.mkdir(parents=True, exist_ok=True)
        for k, r in results.items():
            r.to_json(d / f"accuracy_{k}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
