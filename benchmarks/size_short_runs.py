"""Size of the overfitting detector's fine-tuning test on healthy short runs.

Healthy fine-tunes evaluated 3-8 times: the validation loss is flat (the
least favourable healthy case) or descends by up to 40 % towards a plateau,
with relative noise of sd 2-10 % (iid normal or Student-t(3) scaled to that
sd); the train loss is logged per step and falls to ~0 with mini-batch noise.
Prints, per cell, the share of runs with a warning or critical overfitting
finding (nominal: ``alpha`` = 1 %), with its exact 95 % interval. The test
assumes a relative noise sd of at most ``short_run_val_noise`` (5 %) on three
evaluations, so the cells above 5 % show what happens when that assumption is
broken.

Run: ``python benchmarks/size_short_runs.py [--reps 300] [--seed 0]``
"""
from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import beta

import curvestat
from curvestat import Severity
from curvestat.detectors.overfitting import OverfittingDetector


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    lo = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return lo, hi


def healthy_run(rng: np.random.Generator, n: int, sd: float, shape: str, noise: str) -> curvestat.Run:
    every = 16
    ev = np.arange(1, n + 1) * every - 1
    t = np.arange(ev[-1] + 1)
    tau = rng.uniform(0.05, 1.0) * t.size
    train = (0.02 + 1.5 * np.exp(-t / tau)) * np.exp(0.3 * rng.standard_normal(t.size))
    drop = 0.0 if shape == "flat" else rng.uniform(0.0, 0.4)
    clean = rng.uniform(0.3, 1.0) * (1.0 - drop * (1.0 - np.exp(-(ev + 1) / tau)))
    e = rng.standard_normal(n) if noise == "normal" else rng.standard_t(3, n) / np.sqrt(3.0)
    return curvestat.Run.from_dict({"loss": train, "val_loss": (ev, clean * np.exp(sd * e))})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = curvestat.Config()
    det = OverfittingDetector()
    rng = np.random.default_rng(args.seed)
    print(f"warning/critical overfitting findings on healthy short runs, {args.reps} runs per cell, alpha {cfg.alpha}")
    print(f"{'shape':<8}{'noise':<8}{'sd':>5}" + "".join(f"{'n=' + str(n):>22}" for n in (3, 4, 5, 6, 8)))
    for shape in ("flat", "descent"):
        for noise in ("normal", "t3"):
            for sd in (0.02, 0.05, 0.10):
                cells = []
                for n in (3, 4, 5, 6, 8):
                    k = 0
                    for _ in range(args.reps):
                        out = det.detect(healthy_run(rng, n, sd, shape, noise), cfg)
                        k += isinstance(out, list) and any(f.severity is not Severity.INFO for f in out)
                    lo, hi = clopper_pearson(k, args.reps)
                    cells.append(f"{100 * k / args.reps:5.1f} [{100 * lo:4.1f},{100 * hi:5.1f}]")
                print(f"{shape:<8}{noise:<8}{sd:>5.2f}" + "".join(f"{c:>22}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
