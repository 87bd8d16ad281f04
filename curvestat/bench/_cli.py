"""``curvestat bench``: score curvestat and the peer baselines on a labelled corpus.

Wired into the main CLI as a sub-command through :func:`add_arguments` and
:func:`main`::

    curvestat bench [--corpus synthetic|real|PATH] [--n N] [--seed S]
                    [--detectors curvestat,sagemaker,lightning,keras,naive]
                    [--json OUT] [--workers W] [--quiet]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import CurvestatError, UnreadableSourceError

__all__ = ["add_arguments", "main", "real_corpus_path"]

#: Environment variable naming the real corpus directory (overrides the default location).
REAL_ENV = "CURVESTAT_REAL_CORPUS"


def real_corpus_path() -> Path:
    """Where ``--corpus real`` is read from.

    ``$CURVESTAT_REAL_CORPUS`` if set, else ``benchmarks/data/real`` in the
    source checkout next to the package (it is generated data, not shipped in
    the wheel).
    """
    env = os.environ.get(REAL_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "real"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser``."""
    parser.add_argument("--corpus", default="synthetic",
                        help="'synthetic' (default, generated), 'real' (benchmarks/data/real), or a corpus directory "
                             "holding labels.json and run files")
    parser.add_argument("--n", type=int, default=1000, help="runs in the synthetic corpus (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus (default 0)")
    parser.add_argument("--difficulty", type=float, default=None,
                        help="fixed synthetic difficulty in [0, 1] (default: drawn per run, for power curves)")
    parser.add_argument("--detectors", default="curvestat,sagemaker,lightning,keras,naive",
                        help="comma-separated: curvestat, sagemaker, lightning, keras, naive, or your own "
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
    from .corpus import load_corpus
    from .runner import run_benchmark
    from .synthetic import synthetic

    try:
        dets = [d.strip() for d in str(args.detectors).split(",") if d.strip()]
        if args.corpus == "synthetic":
            corpus = synthetic(args.n, seed=args.seed, difficulty=args.difficulty)
        elif args.corpus == "real":
            path = real_corpus_path()
            if not (path / "labels.json").is_file():
                raise UnreadableSourceError(
                    f"real corpus not found at {path}; set ${REAL_ENV} or pass --corpus PATH "
                    "(regenerate with benchmarks/real_runs/generate.py)")
            corpus = load_corpus(path, name="real")
        else:
            corpus = load_corpus(args.corpus)
        if args.save_corpus:
            corpus.save(args.save_corpus)
        cfg = Config() if args.alpha is None else Config(alpha=args.alpha)
        res = run_benchmark(corpus, dets, config=cfg, workers=args.workers, progress=False if args.quiet else None)
    except CurvestatError as exc:
        print(f"curvestat bench: error: {exc}", file=sys.stderr)
        return 2
    print(res.table())
    if args.json_out:
        res.to_json(args.json_out)
    return 0


def _standalone(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="curvestat bench", description="Score detectors on a labelled corpus.")
    add_arguments(ap)
    return main(ap.parse_args(argv))


if __name__ == "__main__":  # python -m curvestat.bench._cli
    raise SystemExit(_standalone())
