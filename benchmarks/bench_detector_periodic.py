"""Speed of the periodic detector: median wall time per run at 1e3, 1e4 and 1e5 steps.

Seeded runs (a decaying log loss with AR(1) noise, half of them with a
per-epoch sawtooth, all with a logged constant learning rate and a known
epoch length). Budget (issue 7): <= 3 ms median at 10,000 steps and
<= 40 ms at 100,000 steps. Usage::

    PYTHONPATH=. python benchmarks/bench_detector_periodic.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.signal import lfilter

from curvestat.config import Config
from curvestat.detectors.periodic import detector
from curvestat.run import Run


def make_run(n: int, seed: int, periodic: bool) -> Run:
    rng = np.random.default_rng([n, seed])
    t = np.arange(n)
    e = lfilter([1.0], [1.0, -0.8], rng.standard_normal(n)) * 0.6
    logy = np.log(0.2 + 2.0 * np.exp(-t / (0.2 * n))) + 0.05 * e
    spe = max(8, n // 20)
    if periodic:
        logy = logy + 0.05 * ((t % spe) / spe - 0.5)
    return Run.from_dict({"loss": np.exp(logy), "lr": np.full(n, 1e-3)}, steps_per_epoch=spe)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    cfg = Config()
    detector.detect(make_run(1000, 0, True), cfg)  # warm-up: imports
    print(f"{'steps':>8} {'median ms':>10} {'p90 ms':>8} {'detected':>9}")
    for n in (1_000, 10_000, 100_000):
        times, hits = [], 0
        for i in range(args.repeats):
            run = make_run(n, i, periodic=bool(i % 2))
            t0 = time.perf_counter()
            out = detector.detect(run, cfg)
            times.append(time.perf_counter() - t0)
            hits += bool(out)
        ms = 1000 * np.asarray(times)
        print(f"{n:>8} {np.median(ms):>10.2f} {np.percentile(ms, 90):>8.2f} {hits:>5}/{args.repeats}")


if __name__ == "__main__":
    main()
