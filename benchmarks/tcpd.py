"""The change-point core against human annotations: TCPD, scored as TCPDBench scores.

Runs :func:`curvestat.stats.pelt` and :func:`curvestat.stats.binary_segmentation`
at their **default** penalty on the univariate series of the Turing Change Point
Dataset behind TCPDBench's published "default" averages (van den Burg and Williams
2020: the series of ``../shared/data/tcpd`` whose data file is stored, without the
``quality_control_*`` check set and ``uk_coal_employ``: 22 series), and prints the
F1 (margin 5, precision over the pooled annotations, recall averaged over the
annotators, index 0 counted) and covering beside the published numbers of the
methods of the default experiment on the same series.

Each series is standardised first (mean 0, sd 1), as TCPDBench does. The default
rule has no constant fitted to TCPD; the dev / test halves (alternate series in
name order) are printed so that a later tuning can be judged on the half it was
not tuned on.

Usage::

    PYTHONPATH=. python benchmarks/tcpd.py [--root ../shared/data/tcpd] [--per-series] [--penalty RULE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from curvestat.bench.tcpd import covering, f_measure, load_tcpd
from curvestat.stats import binary_segmentation, pelt

ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tcpd"
#: TCPDBench's names of the R changepoint defaults (PELT and BinSeg, MBIC penalty,
#: normal mean model) and of the other methods of its default experiment
PUBLISHED = ("pelt", "binseg", "amoc", "segneigh", "bocpd", "zero")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(ROOT))
    ap.add_argument("--per-series", action="store_true", help="print each series' F1")
    ap.add_argument("--penalty", default=None, help="a penalty rule instead of the default (e.g. bic)")
    ap.add_argument("--model", default=None, help="a cost instead of the default (l2, normal, linear)")
    args = ap.parse_args(argv)
    root = Path(args.root)
    series = load_tcpd(root)
    published = json.loads((root / "published_default_scores.json").read_text())
    names = [s.name for s in series]
    dev = set(names[0::2])
    kw = {k: v for k, v in (("penalty", args.penalty), ("model", args.model)) if v is not None}
    tag = "".join(f" ({k}={v})" for k, v in kw.items())

    ours: dict[str, dict[str, list[float]]] = {}
    t0 = time.perf_counter()
    for label, fn in (("curvestat pelt", pelt), ("curvestat binseg", binary_segmentation)):
        f1s, covs = [], []
        for s in series:
            bkps = fn(s.standardised(), **kw).breakpoints.tolist()
            f1s.append(f_measure(s.annotations, bkps)[0])
            covs.append(covering(s.annotations, bkps, s.n))
        ours[label] = {"f1": f1s, "cover": covs}
    wall = time.perf_counter() - t0

    def row(label: str, f1s: list[float], covs: list[float]) -> str:
        f = np.asarray(f1s)
        d = np.array([n in dev for n in names])
        return f"{label:28s} {f.mean():6.3f} {np.mean(covs):8.3f} {f[d].mean():8.3f} {f[~d].mean():8.3f}"

    print(f"TCPD default experiment, {len(series)} univariate series ({len(dev)} dev / {len(series) - len(dev)} test)")
    print(f"{'method':28s} {'F1':>6s} {'cover':>8s} {'F1 dev':>8s} {'F1 test':>8s}")
    for label, sc in ours.items():
        print(row(label + tag, sc["f1"], sc["cover"]))
    for m in PUBLISHED:
        f1s = [published["f1"][n][m] for n in names]
        covs = [published["cover"][n][m] for n in names]
        print(row(f"published {m}", f1s, covs))
    print(f"(curvestat wall time {wall:.2f} s; published: TCPDBench default_f1/cover_scores.json)")
    if args.per_series:
        print()
        print(f"{'series':20s} {'n':>5s} {'pelt':>6s} {'binseg':>7s} {'R pelt':>7s} {'zero':>6s}")
        for i, s in enumerate(series):
            p = published["f1"][s.name]
            print(f"{s.name:20s} {s.n:5d} {ours['curvestat pelt']['f1'][i]:6.3f} "
                  f"{ours['curvestat binseg']['f1'][i]:7.3f} {p['pelt']:7.3f} {p['zero']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
