"""Speed and calibration of the overfitting and metric-contradiction detectors.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_detectors_gap.py [--sims 1000]

Prints

* cost: median milliseconds per run of each detector on a run with 10,000
  train steps and 100 evaluations (healthy and pathological variants), after
  a warm-up call (numba compilation excluded);
* simulated false-alarm rates on healthy runs: the synthetic generator's
  healthy kinds (all, and the hard negatives noisy_val, saturated_metric,
  quantised_metric, ar1, heavy_tail), ``--sims`` runs per kind;
* the hardest negative of the overfitting detector, a validation loss that
  *wanders* (AR(1) noise) around its plateau while the train loss keeps
  falling: U-turn rate by number of evaluations, AR coefficient and noise sd;
* overfitting onset accuracy on the synthetic corpus: share of detections
  within 2 evaluation intervals of the true onset.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.signal import lfilter

from curvestat.bench.synthetic import HEALTHY_KINDS, _make_healthy, synthetic
from curvestat.config import Config
from curvestat.detectors.contradiction import detector as contradiction
from curvestat.detectors.overfitting import detector as overfitting
from curvestat.report import Pathology, Severity, Skipped
from curvestat.run import Run


def _cost_runs():
    rng = np.random.default_rng(0)
    t = np.arange(10_000)
    ev = np.arange(99, 10_000, 100)
    y = (0.2 + np.exp(-t / 2000)) * np.exp(0.1 * rng.standard_normal(t.size))
    healthy_v = (0.22 + np.exp(-ev / 2000)) * np.exp(0.01 * rng.standard_normal(ev.size))
    uturn_v = healthy_v + 0.3 * np.clip((ev - 5000) / 5000, 0, None)
    acc = np.clip(0.5 + 0.4 * (1 - np.exp(-ev / 2000)) + 0.01 * rng.standard_normal(ev.size), 0, 1)
    return {
        "healthy": Run.from_dict({"loss": y, "val_loss": (ev, healthy_v), "val_accuracy": (ev, acc)}),
        "pathological": Run.from_dict({"loss": y, "val_loss": (ev, uturn_v), "val_accuracy": (ev, acc),
                                        "val_recall": (ev, np.zeros(ev.size))}),
    }


def cost(repeats: int = 300) -> None:
    cfg = Config()
    print("cost: median ms per run (10,000 train steps, 100 evaluations)")
    for name, run in _cost_runs().items():
        for det in (overfitting, contradiction):
            det.detect(run, cfg)
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                det.detect(run, cfg)
                ts.append(time.perf_counter() - t0)
            print(f"  {det.name:<14} {name:<13} {1000 * np.median(ts):6.3f} ms")


def _fires(det, run, cfg, pathology) -> bool:
    out = det.detect(run, cfg)
    if isinstance(out, Skipped):
        return False
    return any(f.pathology is pathology and f.severity is not Severity.INFO for f in out)


def false_alarms(sims: int) -> None:
    cfg = Config()
    print(f"simulated false-alarm rate on healthy runs (alpha {cfg.alpha}, {sims} runs per kind; tested = not skipped)")
    print(f"  {'kind':<18} {'overfit FA/tested':>18} {'contra FA/tested':>18}")
    tot = {"o": [0, 0], "c": [0, 0]}
    for kind in HEALTHY_KINDS:
        res = {"o": [0, 0], "c": [0, 0]}
        for i in range(sims):
            rng = np.random.default_rng([12345, HEALTHY_KINDS.index(kind), i])
            run, _ = _make_healthy(rng, f"h{i}", kind, 20_000, 0.0, None)
            for key, det, p in (("o", overfitting, Pathology.OVERFITTING), ("c", contradiction, Pathology.METRIC_CONTRADICTION)):
                out = det.detect(run, cfg)
                if isinstance(out, Skipped):
                    continue
                res[key][1] += 1
                res[key][0] += any(f.pathology is p and f.severity is not Severity.INFO for f in out)
        for k in tot:
            tot[k][0] += res[k][0]
            tot[k][1] += res[k][1]
        o, c = res["o"], res["c"]
        print(f"  {kind:<18} {o[0]:>6}/{o[1]:<6} {o[0] / max(o[1], 1):5.3f} {c[0]:>6}/{c[1]:<6} {c[0] / max(c[1], 1):5.3f}")
    o, c = tot["o"], tot["c"]
    print(f"  {'all':<18} {o[0]:>6}/{o[1]:<6} {o[0] / max(o[1], 1):5.3f} {c[0]:>6}/{c[1]:<6} {c[0] / max(c[1], 1):5.3f}")


def wandering_plateau(sims: int) -> None:
    """U-turn rate on a wandering validation plateau under a falling train loss.

    Per evaluation (one per epoch of 20 steps): validation loss
    ``(0.5 + 0.5 exp(-i / tau)) exp(e_i)`` with ``e`` AR(1) of coefficient
    phi and marginal sd sigma, ``tau`` uniform in [1, 3] evaluations; train
    loss ``(0.45 + 0.6 exp(-i / tau)) 0.96^i``, still falling, so the gap
    grows and only the U-turn test of the validation loss stands between the
    wander and a false alarm.
    """
    cfg = Config()
    print(f"wandering validation plateau, train loss falling 4 % per evaluation ({sims} runs per cell): U-turn rate")
    print(f"  {'evaluations':>11} {'phi':>4} {'sd':>5} {'rate':>12}")
    for n in (7, 9, 12, 16, 25):
        for phi in (0.0, 0.5):
            for sd in (0.01, 0.03):
                rng = np.random.default_rng([777, n, int(phi * 10), int(sd * 100)])
                hits = 0
                for _ in range(sims):
                    i = np.arange(n, dtype=float)
                    tau = rng.uniform(1, 3)
                    e = lfilter([1.0], [1.0, -phi], rng.standard_normal(n + 20))[20:] * sd * np.sqrt(1 - phi**2)
                    val = (0.5 + 0.5 * np.exp(-i / tau)) * np.exp(e)
                    train = (0.45 + 0.6 * np.exp(-i / tau)) * 0.96**i
                    run = Run.from_dict({"loss": np.repeat(train, 20), "val_loss": (np.arange(19, 20 * n, 20), val)})
                    out = overfitting.detect(run, cfg)
                    hits += not isinstance(out, Skipped) and any(f.kind == "u_turn" for f in out)
                print(f"  {n:>11} {phi:>4} {sd:>5} {hits:>5}/{sims:<5} {hits / sims:5.3f}")


def onset_accuracy(n: int, seed: int) -> None:
    cfg = Config()
    ok, total = 0, 0
    for it in synthetic(n, seed=seed):
        tr = it.truth
        if tr.labels != frozenset({Pathology.OVERFITTING}) or tr.onset_step is None:
            continue
        out = overfitting.detect(it.run, cfg)
        if isinstance(out, Skipped) or not out:
            continue
        ev = it.run.val_loss.steps
        j_true = int(np.searchsorted(ev, tr.onset_step))
        j_found = int(np.searchsorted(ev, out[0].onset_step))
        total += 1
        ok += abs(j_true - j_found) <= 2
    print(f"overfitting onset within 2 evaluation intervals: {ok}/{total} = {ok / max(total, 1):.3f} "
          f"(synthetic n={n}, seed={seed}, single-label runs with an onset)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=300, help="healthy runs per kind (default 300)")
    ap.add_argument("--n", type=int, default=1000, help="synthetic runs for the onset accuracy (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cost()
    false_alarms(args.sims)
    wandering_plateau(args.sims)
    onset_accuracy(args.n, args.seed)


if __name__ == "__main__":
    main()
