"""Live monitoring: whole-run false-alarm rate on healthy runs, detection delay, cost per logged step.

A :class:`curvestat.Monitor` tests the same run again and again while it
trains; this script replays labelled runs step by step into a monitor and
measures what that costs in false alarms (share of healthy runs on which the
monitor ever reports a warning or critical finding), in detection (share of
pathological runs whose pathology it reports, and the delay from the labelled
onset to the report) and in time (microseconds per logged step, checks
included)::

    python benchmarks/bench_monitor.py --n 300 --every 250

The runs come from the synthetic corpus (``curvestat.bench.synthetic``) and,
with ``--corpus DIR``, from a corpus directory (the real corpus).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

import curvestat
from curvestat import Monitor
from curvestat.bench import load_corpus, synthetic


def _replay(item):
    run, labels, onset, every, confirm = item
    mon = Monitor(every=every, confirm=confirm, roles={s.name: s.role.value for s in run},
                  steps_per_epoch=run.steps_per_epoch)
    steps = np.unique(np.concatenate([s.steps for s in run]))
    cols = {s.name: dict(zip(s.steps.tolist(), s.values.tolist())) for s in run}
    first: dict[str, int] = {}
    t0 = time.perf_counter()
    for step in steps.tolist():
        mon.log(step, **{n: c[step] for n, c in cols.items() if step in c})
        if mon.should_check(step):
            for f in mon.check():
                if f.severity.value != "info":
                    first.setdefault(f.pathology.value, step)
    for f in mon.check():  # the end of training
        if f.severity.value != "info":
            first.setdefault(f.pathology.value, int(steps[-1]))
    dt = time.perf_counter() - t0
    # what analyze() finds on the finished log, and where it puts the onset
    final: dict[str, int] = {}
    for f in curvestat.analyze(run).findings:
        if f.severity.value != "info":
            o = f.onset_step if f.onset_step is not None else int(steps[0])
            final[f.pathology.value] = min(final.get(f.pathology.value, o), o)
    return labels, onset, first, dt, steps.size, mon.n_checks, final


def _ci(k: int, n: int) -> str:
    if n == 0:
        return "-"
    lo, hi = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]"


def overhead(n_steps: int, every: int) -> tuple[float, int]:
    """Microseconds per logged step (checks included) on a healthy run of ``n_steps`` with an evaluation every 1,000 steps."""
    rng = np.random.default_rng(0)
    t = np.arange(n_steps)
    loss = 0.3 + 2.0 * np.exp(-t / max(n_steps / 5, 1)) * np.exp(0.05 * rng.standard_normal(n_steps))
    warm = Monitor()
    for i in range(300):
        warm.log(i, train_loss=float(loss[i % n_steps]), val_loss=1.0 if i % 50 == 49 else None)
    warm.check()  # numba's cached kernels load on the first analysis: not a per-step cost
    mon = Monitor(every=every)
    t0 = time.perf_counter()
    for i in range(n_steps):
        mon.log(i, train_loss=float(loss[i]), lr=1e-3)
        if i % 1000 == 999:
            mon.log(i, val_loss=float(loss[i]) + 0.05)
        if mon.should_check(i):
            mon.check()
    return 1e6 * (time.perf_counter() - t0) / n_steps, mon.n_checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="synthetic runs (default 300)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", default=None, help="a corpus directory to replay instead of the synthetic corpus")
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--confirm", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--overhead", type=int, nargs="*", default=None, metavar="STEPS",
                    help="only measure the per-step overhead at these run lengths (e.g. 1000 100000 1000000)")
    args = ap.parse_args(argv)
    if args.overhead is not None:
        for n in args.overhead or [1_000, 100_000, 1_000_000]:
            us, checks = overhead(n, args.every)
            print(f"{n:>9d} logged steps: {us:8.1f} us per step ({checks} checks, every {args.every} steps and at each evaluation)")
        return 0
    corpus = load_corpus(args.corpus) if args.corpus else synthetic(args.n, seed=args.seed, max_points=20_000)
    print(f"corpus {corpus.name}: {len(corpus)} runs; checks every {args.every} steps and at every evaluation")
    for confirm in args.confirm:
        items = [(it.run, frozenset(p.value for p in it.truth.labels), it.truth.onset_step, args.every, confirm)
                 for it in corpus]
        with ProcessPoolExecutor(args.workers) as pool:
            res = list(pool.map(_replay, items, chunksize=4))
        healthy = [r for r in res if not r[0]]
        fa = sum(bool(r[2]) for r in healthy)
        det, pos, delays = 0, 0, []
        for labels, onset, first, *_ in res:
            for p in labels:
                pos += 1
                if p in first:
                    det += 1
                    if onset is not None:
                        delays.append(first[p] - onset)
        per: dict[str, list[int]] = {}
        missed: dict[str, int] = {}
        for labels, onset, first, _, _, _, final in res:
            for p, o in final.items():
                if p in first:
                    per.setdefault(p, []).append(first[p] - o)
                else:
                    missed[p] = missed.get(p, 0) + 1
        us = [1e6 * r[3] / r[4] for r in res]
        checks = [r[5] for r in res]
        print(f"\nconfirm = {confirm}")
        print(f"  whole-run false-alarm rate on healthy runs: {_ci(fa, len(healthy))} ({fa} of {len(healthy)})")
        print(f"  pathologies reported while training:        {_ci(det, pos)}")
        if delays:
            print(f"  delay from onset to report (steps): median {np.median(delays):.0f}, 90th percentile {np.percentile(delays, 90):.0f}")
        print(f"  cost: median {np.median(us):.0f} us per logged step (checks included), median {np.median(checks):.0f} checks per run")
        print("  delay against analyze() on the finished log (report step - its onset), per pathology:")
        for p in sorted(set(per) | set(missed)):
            d = per.get(p, [])
            med = f"median {np.median(d):.0f}, 90th percentile {np.percentile(d, 90):.0f} steps" if d else "-"
            print(f"    {p:22s} {len(d):4d} reported while training, {missed.get(p, 0):3d} only at the end or not: {med}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
