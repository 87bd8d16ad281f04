"""Speed of the detectors and of analyze(), against the peer pipeline, in one run.

Run from the repository root::

    python benchmarks/bench_detectors.py [--quick]

For each run length n it times (median of repeated calls, after a warm-up
call so that numba compilation is excluded):

* each built-in detector on a healthy run (train loss every step, lr every
  step, validation loss and accuracy every n/100 steps) and on an exploding
  one;
* ``analyze()`` end to end (all five detectors, Run already in memory);
* the *peer pipeline* on the same train loss: what a user assembles today
  from the reference libraries to run the same tests: ``ruptures`` PELT (L2,
  min_size 1) on log loss with the same penalty, ``pymannkendall``'s
  Hamed-Rao test, and ``statsmodels``' Ljung-Box test, and prints the ratio.

The peers are O(n^2) (ruptures' PELT on a trending curve, pymannkendall), so
they are timed only up to ``--peer-max`` points; larger sizes print "-".
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from curvestat import analyze
from curvestat.config import Config
from curvestat.detectors import available_detectors, get_detector
from curvestat.detectors.pipeline import Prior, call_detector
from curvestat.run import Run


def _run(n: int, explode: bool, seed: int = 0) -> Run:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    e = np.zeros(n)
    z = 0.05 * rng.standard_normal(n)
    for i in range(1, n):  # AR(1) noise, as real curves have
        e[i] = 0.6 * e[i - 1] + z[i]
    y = (0.3 + 2.0 * np.exp(-t / (n / 5))) * np.exp(e)
    if explode:
        y[int(0.7 * n) :] *= 20.0
    ev = np.unique(np.linspace(n // 100, n - 1, 100).astype(int))
    val = y[ev] * 1.05
    acc = np.clip(0.9 - 0.5 * np.exp(-ev / (n / 5)), 0, 1)
    return Run.from_dict(
        {"loss": y, "lr": np.full(n, 1e-3), "val_loss": (ev, val), "val_accuracy": (ev, acc)},
        steps_per_epoch=max(1, n // 10),
    )


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def _peer_pipeline(y: np.ndarray) -> None:
    import pymannkendall
    import ruptures
    from statsmodels.stats.diagnostic import acorr_ljungbox

    z = np.log(y)
    sigma = np.median(np.abs(np.diff(z) - np.median(np.diff(z)))) * 1.4826 / math.sqrt(2)
    ruptures.Pelt(model="l2", min_size=1, jump=1).fit(z).predict(pen=3 * sigma**2 * math.log(z.size))
    pymannkendall.hamed_rao_modification_test(z)
    acorr_ljungbox(np.diff(z), lags=[20])


def _ours_same_tests(y: np.ndarray) -> None:
    from curvestat.stats import diff_noise_scale, ljung_box, mann_kendall, pelt

    z = np.log(y)
    sigma = diff_noise_scale(z)
    pelt(z, model="l2", penalty=3 * sigma**2 * math.log(z.size), min_size=1)
    mann_kendall(z, alternative="decreasing", correction="hamed_rao")
    ljung_box(np.diff(z), 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 1e3 and 1e4 only, fewer repeats")
    parser.add_argument("--peer-max", type=int, default=3000, help="largest n at which the peers are timed")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sizes = [1_000, 10_000] if args.quick else [1_000, 3_000, 10_000, 100_000]
    cfg = Config()
    names = available_detectors()
    header = f"{'n':>7} {'run':>9} " + " ".join(f"{n[:9]:>9}" for n in names) + f" {'analyze':>9}"
    print("median ms per call (warm)")
    print(header)
    print("-" * len(header))
    for n in sizes:
        reps = 5 if n >= 100_000 else (10 if args.quick else 30)
        for explode in (False, True):
            run = _run(n, explode)
            cells = []
            for name in names:
                det = get_detector(name)
                prior = Prior({"explosion": get_detector("explosion").detect(run, cfg)})
                cells.append(_median_ms(lambda: call_detector(det, run, cfg, prior), reps))
            total = _median_ms(lambda: analyze(run), reps)
            label = "explode" if explode else "healthy"
            print(f"{n:>7} {label:>9} " + " ".join(f"{c:9.2f}" for c in cells) + f" {total:9.2f}")
    print()
    print("same tests (PELT-L2 on log loss, Mann-Kendall + Hamed-Rao, Ljung-Box) vs the peer pipeline;")
    print("analyze(): the whole healthy run (all five detectors), against the same peer time")
    print(f"{'n':>7} {'curvestat ms':>13} {'analyze ms':>11} {'peers ms':>10} {'speed-up':>9} {'peers/analyze':>14}")
    for n in sizes:
        run = _run(n, False)
        y = run.train_loss.values
        ours = _median_ms(lambda: _ours_same_tests(y), 3 if n >= 100_000 else 10)
        whole = _median_ms(lambda: analyze(run), 5 if n >= 100_000 else 20)
        if n <= args.peer_max:
            peer = _median_ms(lambda: _peer_pipeline(y), 2)
            print(f"{n:>7} {ours:13.2f} {whole:11.2f} {peer:10.1f} {peer / ours:8.0f}x {peer / whole:13.0f}x")
        else:
            print(f"{n:>7} {ours:13.2f} {whole:11.2f} {'-':>10} {'-':>9} {'-':>14}")


if __name__ == "__main__":
    main()
