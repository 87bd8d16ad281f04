"""Speed of curvestat.stats against the peer implementations.

For each test and n in 1e3, 1e4, 1e5, 1e6 (``--quick``: 1e3, 1e4, 1e5) it
prints the median wall time of curvestat and of the peer library measured in
the same process on the same seeded data, their ratio, and the fitted log-log
exponent of curvestat's time in n. Peers whose predicted time exceeds
``--peer-budget`` seconds (O(n^2) ones: pymannkendall, ruptures) are skipped
and marked. Change-point rows also check that the breakpoints are identical.
Finally it measures cold-start cost: a fresh process with an empty numba
cache (compile) and a second one reusing the on-disk cache.

The corrected Mann-Kendall test runs two independent passes side by side on
a second thread for series of 20,000 points or more (see
``curvestat/stats/_threads.py``); the "same, 1 thread" row times it with
``CURVESTAT_THREADS=1``.

    PYTHONPATH=. python benchmarks/bench_kernels.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Callable

import numpy as np

from curvestat import stats


def _median_time(fn: Callable[[], object], budget: float = 1.0, max_reps: int = 15) -> float:
    times = []
    start = time.perf_counter()
    while len(times) < max_reps:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget and len(times) >= 1:
            break
    return float(np.median(times))


def _curve(n: int, seed: int = 0) -> np.ndarray:
    """A noisy decreasing log-loss-like curve with AR(1) noise."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    t = np.arange(n)
    noise = lfilter([1.0], [1.0, -0.5], rng.normal(0, 0.05, n))
    return np.log(2.0) * np.exp(-3.0 * t / n) + noise


def _steps(n: int, seed: int = 0) -> np.ndarray:
    """Piecewise-constant signal, a level change every ~200 points, unit noise."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(-5, 5, n // 200 + 1)
    return np.repeat(levels, 200)[:n] + rng.normal(size=n)


def _cases():
    import pymannkendall as pymk
    import ruptures as rpt
    import statsmodels.api as sm
    from scipy.signal import periodogram as sp_periodogram
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.tsa.stattools import acf as sm_acf

    def rpt_pelt(x):
        pen = stats.bic_penalty(x)
        return rpt.Pelt(model="l2", min_size=2, jump=1).fit(x).predict(pen=pen)[:-1]

    def rpt_binseg(x):
        pen = stats.bic_penalty(x)
        return rpt.Binseg(model="l2", min_size=2, jump=1).fit(x).predict(pen=pen)[:-1]

    def sm_hac(x):
        n = len(x)
        lags = int(np.floor(4 * (n / 100) ** (2 / 9)))
        return sm.OLS(x, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": lags}).pvalues

    def one_thread(fn):
        """fn with the side thread of long series turned off (CURVESTAT_THREADS=1)."""

        def run(x):
            old = os.environ.get("CURVESTAT_THREADS")
            os.environ["CURVESTAT_THREADS"] = "1"
            try:
                return fn(x)
            finally:
                if old is None:
                    del os.environ["CURVESTAT_THREADS"]
                else:
                    os.environ["CURVESTAT_THREADS"] = old

        return run

    # name, data maker, ours, peer (or None), peer complexity exponent, check
    return [
        ("mann_kendall", _curve, lambda x: stats.mann_kendall(x), lambda x: pymk.original_test(x), 2, None),
        ("mk + hamed_rao", _curve, lambda x: stats.mann_kendall(x, correction="hamed_rao"),
         lambda x: pymk.hamed_rao_modification_test(x), 2, None),
        ("  same, 1 thread", _curve, one_thread(lambda x: stats.mann_kendall(x, correction="hamed_rao")),
         lambda x: pymk.hamed_rao_modification_test(x), 2, None),
        ("sens_slope", _curve, lambda x: stats.sens_slope(x), lambda x: pymk.sens_slope(x), 2, None),
        ("acf (100 lags)", _curve, lambda x: stats.acf(x, 100), lambda x: sm_acf(x, nlags=100, fft=True), 1, None),
        ("ljung_box (20)", _curve, lambda x: stats.ljung_box(x, 20), lambda x: acorr_ljungbox(x, lags=20), 2, None),
        ("periodogram", _curve, lambda x: stats.periodogram(x), lambda x: sp_periodogram(x), 1, None),
        ("fisher_g", _curve, lambda x: stats.fisher_g(x), None, 1, None),
        ("cusum", _steps, lambda x: stats.cusum(x), None, 1, None),
        ("pelt l2 (bic)", _steps, lambda x: stats.pelt(x, model="l2", penalty="bic").breakpoints.tolist(), rpt_pelt, 1, "bkps"),
        ("binseg l2 (bic)", _steps, lambda x: stats.binary_segmentation(x, model="l2", penalty="bic").breakpoints.tolist(),
         rpt_binseg, 1.3, "bkps"),
        ("hac_mean_test", _curve, lambda x: stats.hac_mean_test(x), sm_hac, 1, None),
    ]


def _cold_start() -> tuple[float, float]:
    code = (
        "import time; t0 = time.perf_counter()\n"
        "import numpy as np\n"
        "from curvestat import stats\n"
        "x = np.random.default_rng(0).normal(size=3000)\n"
        "stats.mann_kendall(x, correction='hamed_rao'); stats.sens_slope(x)\n"
        "stats.pelt(x, model='l2', penalty='bic'); stats.binary_segmentation(x, model='l2', penalty='bic')\n"
        "print(time.perf_counter() - t0)\n"
    )
    out = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out.append(float(res.stdout.strip().splitlines()[-1]))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1e3..1e5 only")
    ap.add_argument("--peer-budget", type=float, default=10.0, help="skip a peer predicted slower than this (s)")
    args = ap.parse_args()
    sizes = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    warnings.simplefilter("ignore")

    print(f"curvestat.stats speed (median wall time), python {sys.version.split()[0]}, numpy {np.__version__}\n")
    head = f"{'test':<18}{'n':>9}{'curvestat':>12}{'peer':>14}{'speed-up':>10}  note"
    print(head)
    print("-" * (len(head) + 20))
    for name, make, ours, peer, peer_exp, check in _cases():
        ours(make(500))  # compile outside the timings ...
        ours(make(2_500))  # ... including those used only above 2,000 points (packed-key sorts)
        t_ours = []
        last_peer = None  # (n, seconds)
        for n in sizes:
            x = make(n)
            to = _median_time(lambda: ours(x))
            t_ours.append(to)
            note = ""
            tp_txt = "-"
            ratio = ""
            if peer is not None:
                predicted = last_peer[1] * (n / last_peer[0]) ** peer_exp if last_peer else 0.0
                if predicted > args.peer_budget:
                    tp_txt = f"~{predicted:.0f} s*"
                    ratio = f"~{predicted / to:.0f}x*"
                    note = f"peer skipped: extrapolated O(n^{peer_exp:g})"
                else:
                    tp = _median_time(lambda: peer(x), budget=2.0, max_reps=5)
                    last_peer = (n, tp)
                    tp_txt = f"{tp * 1e3:.2f} ms"
                    ratio = f"{tp / to:.1f}x"
                    if check == "bkps":
                        same = ours(x) == peer(x)
                        note = "identical breakpoints" if same else "BREAKPOINTS DIFFER"
            print(f"{name:<18}{n:>9}{to * 1e3:>10.2f} ms{tp_txt:>14}{ratio:>10}  {note}")
        exp = np.polyfit(np.log(sizes), np.log(t_ours), 1)[0] if len(sizes) > 1 else math.nan
        fit_from = 1 if len(sizes) > 2 else 0  # small n is dominated by call overhead
        exp_tail = np.polyfit(np.log(sizes[fit_from:]), np.log(t_ours[fit_from:]), 1)[0]
        print(f"{'':<18}{'':>9}  log-log exponent: {exp:.2f} (all n), {exp_tail:.2f} (n >= {sizes[fit_from]:g})")
    cold, warm = _cold_start()
    print(f"\ncold start (fresh process: import + numba compile of MK/Sen/PELT/Binseg kernels + calls, n=3000): {cold:.2f} s")
    print(f"second process reusing the on-disk numba cache:                                        {warm:.2f} s")
    print("* extrapolated from the largest size the peer was timed at, not measured")


if __name__ == "__main__":
    main()
