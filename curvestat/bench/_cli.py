"""``curvestat bench``: score curvestat and the peer baselines on a labelled corpus.

Wired into the main CLI as a sub-command through :func:`add_arguments` and
:func:`main`::

    curvestat bench [--corpus synthetic|real|PATH] [--split dev|test|all|both]
                    [--n N] [--seed S]
                    [--detectors curvestat,sagemaker,lightning,keras,naive]
                    [--json OUT] [--workers W] [--quiet]

``--corpus real`` reads the real corpus packaged with curvestat (a zip
archive inside ``curvestat.bench``, read in memory) or
``$CURVESTAT_REAL_CORPUS``; a split corpus is scored per split, the dev
half and the test half in separate tables, unless ``--split`` picks one
(``all``: one table over every run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import CurvestatError

__all__ = ["add_arguments", "main", "real_corpus_path"]



def real_corpus_path():
    """Where ``--corpus real`` is read from.

    ``$CURVESTAT_REAL_CORPUS`` if set (a corpus directory or a zip of one),
    else the archive ``curvestat/bench/data/real_runs.zip`` shipped in the
    package (see :func:`curvestat.bench.real_corpus`).
    """
    from .corpus import real_corpus_source

    return real_corpus_source()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser``."""
    parser.add_argument("--corpus", default="synthetic",
                        help="'synthetic' (default, generated), 'real' (the real corpus packaged with curvestat, "
                             "or $CURVESTAT_REAL_CORPUS), or a corpus directory (or zip) holding labels.json and run files")
    parser.add_argument("--split", default="both", choices=["both", "dev", "test", "all"],
                        help="for a corpus split into dev and test halves: 'both' (default) prints one table per "
                             "split, 'dev'/'test' one of them, 'all' one table over every run")
    parser.add_argument("--n", type=int, default=1000, help="runs in the synthetic corpus (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus (default 0)")
    parser.add_argument("--difficulty", type=float, default=None,
                        help="fixed synthetic difficulty in [0, 1] (default: drawn per run, for power curves)")
    parser.add_argument("--detectors", default="curvestat,sagemaker,lightning,keras,naive",
                        help="comma-separated: curvestat, sagemaker, lightning, keras, naive, statsmodels, or your own "
                             "detector as an import path 'module:object' (an object or class with .name and "
                             ".detect(run, config))")
    parser.add_argument("--alpha", type=float, default=None, help="significance level passed to curvestat (default 0.01)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write the full results as JSON")
    parser.add_argument("--save-corpus", default=None, metavar="DIR", help="write the corpus used (CSV + labels.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run the benchmark described by ``args``; print the table; return an exit code."""
    from ..config import Config
    from .corpus import load_corpus, real_corpus
    from .runner import run_benchmark
    from .synthetic import synthetic

    try:
        dets = [d.strip() for d in str(args.detectors).split(",") if d.strip()]
        split = getattr(args, "split", "both")
        if args.corpus == "synthetic":
            corpus = synthetic(args.n, seed=args.seed, difficulty=args.difficulty)
        elif args.corpus == "real":
            corpus = real_corpus()
        else:
            corpus = load_corpus(args.corpus)
        if args.save_corpus:
            corpus.save(args.save_corpus)
        splits = corpus.splits()
        if split == "both":
            parts = [corpus.split(sp) for sp in splits] if len(splits) > 1 else [corpus]
        else:
            parts = [corpus.split(split)]
        cfg = Config() if args.alpha is None else Config(alpha=args.alpha)
        results = [run_benchmark(part, dets, config=cfg, workers=args.workers,
                                 progress=False if args.quiet else None) for part in parts]
    except CurvestatError as exc:
        print(f"curvestat bench: error: {exc}", file=sys.stderr)
        return 2
    print("\n\n".join(res.table() for res in results))
    if args.json_out:
        if len(results) == 1:
            results[0].to_json(args.json_out)
        else:
            import json

            doc = {str(res.meta.get("split", i)): res.to_dict() for i, res in enumerate(results)}
            Path(args.json_out).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


def _standalone(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="curvestat bench", description="Score detectors on a labelled corpus.")
    add_arguments(ap)
    return main(ap.parse_args(argv))


if __name__ == "__main__":  # python -m curvestat.bench._cli
    raise SystemExit(_standalone())
