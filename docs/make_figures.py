"""Regenerate every figure of the documentation (``docs/_static/figures/*.png``).

Each figure is :meth:`curvestat.Report.plot` on a real run: a bundled example
(``curvestat analyze --examples``) or a run of the real corpus shipped with
curvestat (:func:`curvestat.bench.real_corpus`, dev split). Deterministic:
the Agg backend, fixed sizes and dpi, no timestamps in the PNG metadata.

Run from the repository root::

    python docs/make_figures.py            # all figures
    python docs/make_figures.py --check    # only report what would change

"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import curvestat  # noqa: E402
from curvestat.examples import example_path  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static" / "figures"
DPI = 100
#: figure name -> (source, run id); source "example" = a bundled example,
#: "real" = a run of the real corpus's dev split.
FIGURES: dict[str, tuple[str, str]] = {
    # quickstart and README
    "example_overfitting": ("example", "overfitting"),
    "example_explosion": ("example", "explosion"),
    # non-convergence: a learning rate 1e4 too small (at chance level); a bouncing loss
    "nonconvergence_chance_level": ("real", "real-nc-tiny-lr-0"),
    "nonconvergence_bouncing": ("example", "non_convergence"),
    # explosion: an lr spike that sends the loss up x1e4; a spike that recovers
    "explosion_divergence": ("real", "real-ex-lr-spike-0"),
    "explosion_spike": ("real", "real-ex-lm-spike-lightning-0"),
    # metric contradiction: recall exactly 0 on a 99:1 task; per-class recalls of never-predicted classes
    "contradiction_recall_zero": ("real", "real-mc-imbalance-0"),
    "contradiction_per_class": ("real", "real-mc-longtail-per-class-0"),
    # overfitting: label noise memorised (critical U-turn); a 14 % rise on a tiny train set (warning)
    "overfitting_u_turn": ("real", "real-of-label-noise-0"),
    "overfitting_small_rise": ("real", "real-of-tiny-train-0"),
    # periodic: class-sorted, unshuffled data; a partial last batch (an info note on a healthy run)
    "periodic_sorted": ("real", "real-pe-sorted-adam-lightning-1"),
    "periodic_last_batch": ("real", "real-h-partial-last-batch-0"),
}


def _report(source: str, run_id: str, corpus: dict[str, curvestat.Run]) -> curvestat.Report:
    if source == "example":
        return curvestat.analyze(example_path(run_id))
    return curvestat.analyze(corpus[run_id])


def render(report: curvestat.Report) -> bytes:
    """The PNG bytes of ``report.plot()`` (fixed width, no metadata)."""
    fig = report.plot()
    try:
        fig.set_size_inches(8.0, fig.get_figheight() * 8.0 / fig.get_figwidth())
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a figure would change")
    ap.add_argument("names", nargs="*", help="only these figures (default: all)")
    args = ap.parse_args(argv)
    names = args.names or list(FIGURES)
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        ap.error(f"unknown figure(s): {', '.join(unknown)}")
    corpus: dict[str, curvestat.Run] = {}
    if any(FIGURES[n][0] == "real" for n in names):
        from curvestat.bench import real_corpus

        corpus = {lr.run_id: lr.run for lr in real_corpus("dev")}
    OUT.mkdir(parents=True, exist_ok=True)
    changed = []
    warnings.simplefilter("ignore")
    for name in names:
        source, run_id = FIGURES[name]
        png = render(_report(source, run_id, corpus))
        path = OUT / f"{name}.png"
        if path.exists() and path.read_bytes() == png:
            continue
        changed.append(name)
        if not args.check:
            path.write_bytes(png)
        print(f"{'would change' if args.check else 'wrote'} {path} ({len(png) // 1024} KB)")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
