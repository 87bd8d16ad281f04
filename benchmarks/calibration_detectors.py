"""False-positive rate of every detector on independent healthy curves.

Draws ``--n`` healthy runs from :mod:`benchmarks._nulls` (a generator written
independently of :mod:`curvestat.bench.synthetic`: AR(1) noise up to 0.95,
Student-t(3) innovations, every common learning-rate schedule with ``lr``
logged, 50 to 100,000 steps, HF Trainer / Keras / per-step logging, validation
losses and saturating, quantised metrics), runs :func:`curvestat.analyze`
(public API, default ``Config``, alpha 0.01) on each, and prints per detector

* FPR: the share of runs (among those the detector ran on) with a ``warning``
  or ``critical`` finding from that detector, and
* p<=a: the share with any finding (any severity) whose p-value is <= alpha,

each with its exact Clopper-Pearson 95 % interval; then the breakdown by null
family and by finding kind, so a detector developer sees which healthy curves
it flags.

    PYTHONPATH=. python benchmarks/calibration_detectors.py [--n 5000] [--seed 0]
        [--workers 2] [--json OUT] [--save-flagged DIR] [--mk-size]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import beta

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _nulls import FACTORS, length_bucket, make_null, points_bucket  # noqa: E402

import curvestat  # noqa: E402
from curvestat.detectors import available_detectors  # noqa: E402

ALPHA = 0.01
TARGET = 0.015


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval for a binomial proportion k / n."""
    if n == 0:
        return (0.0, 1.0)
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def _family(nr) -> dict[str, str]:
    fam = dict(nr.family)
    train = next(iter(nr.data.values()))
    fam["steps"] = length_bucket(int(nr.params["n_steps"]))
    fam["points"] = points_bucket(int(train[0].size))
    return fam


def _one(args: tuple[int, int]) -> dict[str, Any]:
    seed, i = args
    nr = make_null(seed, i)
    t0 = time.perf_counter()
    rep = curvestat.analyze(nr.data, alpha=ALPHA)
    dt = time.perf_counter() - t0
    return {
        "index": i,
        "family": _family(nr),
        "n_steps": int(nr.params["n_steps"]),
        "seconds": dt,
        "params": {k: v for k, v in nr.params.items() if isinstance(v, (int, float, str))},
        "ran": list(rep.detectors),
        "skipped": [s.detector for s in rep.skipped],
        "findings": [
            {"detector": f.detector, "kind": f.kind, "severity": f.severity.value, "series": f.series,
             "p": None if f.p_value is None else float(f.p_value)}
            for f in rep.findings
        ],
    }


def _flagged(rec: dict[str, Any], det: str) -> bool:
    return any(f["detector"] == det and f["severity"] != "info" for f in rec["findings"])


def _p_hit(rec: dict[str, Any], det: str) -> bool:
    return any(f["detector"] == det and f["p"] is not None and f["p"] <= ALPHA for f in rec["findings"])


def _rate(k: int, n: int) -> str:
    lo, hi = clopper_pearson(k, n)
    return f"{k / n if n else 0:7.4f} [{lo:.4f}, {hi:.4f}]"


def summarise(records: list[dict[str, Any]], dets: list[str]) -> tuple[str, dict[str, Any]]:
    out: list[str] = []
    summary: dict[str, Any] = {"alpha": ALPHA, "n": len(records), "detectors": {}}
    out.append(f"False-positive rates on {len(records)} healthy runs, alpha = {ALPHA}, "
               f"exact 95 % Clopper-Pearson intervals; target FPR <= {TARGET} (upper bound <= 0.02)\n")
    hdr = f"{'detector':<15}{'ran':>6}{'FPR (warning/critical)':>32}{'p<=alpha (any severity)':>34}  verdict"
    out.append(hdr)
    out.append("-" * len(hdr))
    for d in dets + ["(any)"]:
        if d == "(any)":
            ran = records
            k = sum(any(f["severity"] != "info" for f in r["findings"]) for r in ran)
            kp = sum(any(f["p"] is not None and f["p"] <= ALPHA for f in r["findings"]) for r in ran)
        else:
            ran = [r for r in records if d in r["ran"]]
            k = sum(_flagged(r, d) for r in ran)
            kp = sum(_p_hit(r, d) for r in ran)
        n = len(ran)
        lo, hi = clopper_pearson(k, n)
        if d == "(any)":
            verdict = ""
        elif k / max(n, 1) > TARGET:
            verdict = "FAIL"
        else:  # within the target, but is the evidence enough?
            verdict = "ok" if hi <= 0.02 else "n too small"
        out.append(f"{d:<15}{n:>6}{_rate(k, n):>32}{_rate(kp, n):>34}  {verdict}")
        summary["detectors"][d] = {"ran": n, "flagged": k, "fpr": k / n if n else None, "fpr_ci": [lo, hi],
                                   "p_le_alpha": kp, "p_rate": kp / n if n else None,
                                   "p_ci": list(clopper_pearson(kp, n))}
    out.append("\nFPR over all runs (skipped counts as not flagged): " + ", ".join(
        f"{d} {sum(_flagged(r, d) for r in records) / len(records):.4f}" for d in dets))

    # by finding kind
    out.append("\nFlagging findings by kind (runs with >= 1 such warning/critical finding; share of all runs)")
    kinds: Counter[tuple[str, str, str]] = Counter()
    for r in records:
        seen = {(f["detector"], f["kind"], f["severity"]) for f in r["findings"] if f["severity"] != "info"}
        kinds.update(seen)
    info: Counter[tuple[str, str]] = Counter()
    for r in records:
        info.update({(f["detector"], f["kind"]) for f in r["findings"] if f["severity"] == "info"})
    for (d, kd, sev), c in sorted(kinds.items(), key=lambda kv: -kv[1]):
        out.append(f"  {d + '/' + kd:<40}{sev:<10}{c:>6}  {c / len(records):.4f}")
    out.append("Info findings (do not count as false positives), runs per kind:")
    out.append("  " + ", ".join(f"{d}/{kd} {c}" for (d, kd), c in sorted(info.items(), key=lambda kv: -kv[1])))
    summary["kinds"] = {f"{d}/{kd}/{sev}": c for (d, kd, sev), c in kinds.items()}
    summary["info_kinds"] = {f"{d}/{kd}": c for (d, kd), c in info.items()}

    # by family: FPR per detector (among runs it ran on) for each factor level
    out.append("\nBreakdown by null family: FPR % of each detector among the runs it ran on "
               "(flagged/ran); 'any' = any warning/critical finding")
    summary["families"] = {}
    for fac in FACTORS:
        levels = sorted({r["family"][fac] for r in records})
        head = f"{fac + ':':<22}{'n':>6}" + "".join(f"{d[:13]:>16}" for d in dets) + f"{'any':>12}"
        out.append("\n" + head)
        summary["families"][fac] = {}
        for lv in levels:
            sub = [r for r in records if r["family"][fac] == lv]
            cells = []
            row: dict[str, Any] = {"n": len(sub)}
            for d in dets:
                ran = [r for r in sub if d in r["ran"]]
                k = sum(_flagged(r, d) for r in ran)
                cells.append(f"{100 * k / len(ran):6.2f} ({k:>3}/{len(ran):>4})" if ran else f"{'-':>16}")
                row[d] = [k, len(ran)]
            ka = sum(any(f["severity"] != "info" for f in r["findings"]) for r in sub)
            row["any"] = [ka, len(sub)]
            summary["families"][fac][lv] = row
            out.append(f"  {lv:<20}{len(sub):>6}" + "".join(f"{c:>16}" for c in cells) + f"{100 * ka / len(sub):>11.2f}%")

    # the worst cells: family levels with the highest FPR per detector (>= 30 runs)
    out.append("\nWorst family levels per detector (>= 30 runs the detector ran on)")
    for d in dets:
        cells = []
        for fac in FACTORS:
            for lv, row in summary["families"][fac].items():
                k, n = row[d]
                if n >= 30:
                    cells.append((k / n, fac, lv, k, n))
        cells.sort(reverse=True)
        out.append(f"  {d:<15}" + "; ".join(f"{fac}={lv} {100 * p:.1f}% ({k}/{n})" for p, fac, lv, k, n in cells[:5]))
    return "\n".join(out), summary


def mk_size(seed: int, reps: int) -> str:
    """Size at alpha of the Mann-Kendall tests on trend-free AR(1) / t(3) noise.

    Columns: ``curvestat.stats.mann_kendall`` with the Hamed-Rao correction
    (all lags, as pymannkendall), two-sided; the detectors' shared
    ``curvestat.detectors._trend.trend_test`` (exact below 10 points, then
    Hamed-Rao; ``floor_factor=True`` as the detectors call it) one-sided
    'decreasing' and 'increasing'. Noise: stationary AR(1) with Gaussian or
    Student-t(3) innovations.
    """
    from scipy.signal import lfilter

    from curvestat.stats import mann_kendall

    try:  # a private helper: another tree may have moved or changed it
        from curvestat.detectors._trend import trend_test

        trend_test(np.arange(12.0), "decreasing", floor_factor=True)
    except (ImportError, TypeError):
        def trend_test(x, alternative, **_):  # type: ignore[no-redef]
            return (float("nan"), 0.0)

    rng = np.random.default_rng([seed, 999])
    lines = [f"\nMann-Kendall size at alpha = {ALPHA} on trend-free noise, {reps} reps per cell "
             f"(exact 95 % Clopper-Pearson intervals)"]
    lines.append(f"  {'noise':<16}{'n':>6}{'stats HR two-sided':>28}{'trend_test decreasing':>28}{'trend_test increasing':>28}")
    for innov in ("gauss", "t3"):
        for phi in (0.0, 0.5, 0.9, 0.95):
            for n in (12, 50, 200, 1000):
                k2 = kd = ku = 0
                for _ in range(reps):
                    e = rng.standard_t(3, size=n) if innov == "t3" else rng.standard_normal(n)
                    if phi:
                        e[0] /= math.sqrt(1 - phi * phi)  # stationary start
                        x = lfilter([1.0], [1.0, -phi], e)
                    else:
                        x = e
                    k2 += mann_kendall(x, correction="hamed_rao").pvalue <= ALPHA
                    kd += trend_test(x, "decreasing", floor_factor=True)[0] <= ALPHA
                    ku += trend_test(x, "increasing", floor_factor=True)[0] <= ALPHA
                lines.append(f"  {innov + f' AR {phi:.2f}':<16}{n:>6}{_rate(k2, reps):>28}{_rate(kd, reps):>28}{_rate(ku, reps):>28}")
    # the HAC (Newey-West) mean test behind the gap level, on zero-mean noise
    try:
        from curvestat.stats import hac_mean_test
    except ImportError:  # pragma: no cover
        return "\n".join(lines)
    lines.append(f"\nHAC mean test (mean > 0) size at alpha = {ALPHA} on zero-mean AR(1) noise, {reps} reps per cell")
    lines.append(f"  {'noise':<16}{'n':>6}{'normal reference':>28}{'fixed-b reference':>28}")
    for innov in ("gauss", "t3"):
        for phi in (0.0, 0.5, 0.9, 0.95):
            for n in (12, 50, 200):
                kn = kb = 0
                for _ in range(reps):
                    e = rng.standard_t(3, size=n) if innov == "t3" else rng.standard_normal(n)
                    if phi:
                        e[0] /= math.sqrt(1 - phi * phi)
                        e = lfilter([1.0], [1.0, -phi], e)
                    kn += hac_mean_test(e).pvalue <= ALPHA
                    kb += hac_mean_test(e, fixed_b=True).pvalue <= ALPHA
                lines.append(f"  {innov + f' AR {phi:.2f}':<16}{n:>6}{_rate(kn, reps):>28}{_rate(kb, reps):>28}")
    return "\n".join(lines)


def save_flagged(records: list[dict[str, Any]], seed: int, dets: list[str], directory: Path, per: int) -> int:
    """Write up to ``per`` flagged nulls per detector/kind as a curvestat corpus (empty labels)."""
    from curvestat.bench.corpus import Corpus, LabelledRun, Truth

    picked: dict[int, str] = {}
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in records:
        for f in r["findings"]:
            if f["severity"] != "info":
                by_kind[(f["detector"], f["kind"])].append(r["index"])
    for (d, kd), idx in sorted(by_kind.items()):
        for i in sorted(set(idx))[:per]:
            picked.setdefault(i, f"flagged:{d}/{kd}")
    items = []
    for i, why in sorted(picked.items()):
        nr = make_null(seed, i)
        fam = _family(nr)
        run = curvestat.Run.from_dict(nr.data, run_id=nr.run_id)
        items.append(LabelledRun(run, Truth(labels=frozenset(), kind=why, family=" ".join(f"{k}={v}" for k, v in fam.items()))))
    Corpus(items, name="null_flagged", meta={"seed": seed, "generator": "benchmarks/_nulls.py",
                                             "note": "healthy by construction; kind = which detector flagged it"}).save(directory)
    return len(items)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="number of healthy runs (default 5000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--json", metavar="OUT", help="write per-run records and the summary as JSON")
    ap.add_argument("--save-flagged", metavar="DIR", help="save flagged nulls as a corpus directory")
    ap.add_argument("--per-kind", type=int, default=6, help="flagged runs saved per detector/kind (default 6)")
    ap.add_argument("--mk-size", action="store_true", help="also measure the Mann-Kendall (Hamed-Rao) size")
    ap.add_argument("--mk-reps", type=int, default=1000)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    dets = available_detectors()
    jobs = [(args.seed, i) for i in range(args.n)]
    if args.workers > 1:
        with get_context("fork" if os.name == "posix" else "spawn").Pool(args.workers) as pool:
            records = list(pool.imap(_one, jobs, chunksize=25))
    else:
        records = [_one(j) for j in jobs]
    wall = time.perf_counter() - t0
    text, summary = summarise(records, dets)
    secs = np.array([r["seconds"] for r in records])
    slow = max(records, key=lambda r: r["seconds"])
    print(f"curvestat {curvestat.__version__} from {Path(curvestat.__file__).parent}; seed {args.seed}, "
          f"{args.workers} worker(s)\n")
    print(text)
    if args.mk_size:
        print(mk_size(args.seed, args.mk_reps))
    print(f"\nanalyze time per run: median {1e3 * np.median(secs):.1f} ms, max {1e3 * secs.max():.0f} ms "
          f"(run {slow['index']}, {slow['n_steps']} steps); wall time {time.perf_counter() - t0:.1f} s "
          f"(generation + analysis {wall:.1f} s)")
    summary["wall_seconds"] = wall
    if args.save_flagged:
        k = save_flagged(records, args.seed, dets, Path(args.save_flagged), args.per_kind)
        print(f"saved {k} flagged null runs to {args.save_flagged}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": records}, indent=None) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
