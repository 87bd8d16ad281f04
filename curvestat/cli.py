"""The ``curvestat`` command.

Exit codes
----------
0  every analysed run is healthy
1  at least one run has a finding of severity warning or critical (``scan``:
   or at least one run could not be read; it is listed as an error row)
2  bad input or bad arguments (one clear line on stderr; ``--debug`` for the
   traceback); ``scan``: no run at all could be read
3  ``analyze``/``plot``: no run was flagged, but some run could not be judged
   (too little data for every test, or a file that holds no training curve)

Warnings print as one line each, ``curvestat: warning: <message>``; ``-q``
silences them.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from ._version import __version__
from .errors import CurvestatError

EXIT_HEALTHY, EXIT_FINDINGS, EXIT_ERROR, EXIT_NOT_JUDGED = 0, 1, 2, 3


def _check_level(args: argparse.Namespace) -> None:
    for opt in ("alpha", "fdr"):
        value = getattr(args, opt, None)
        if value is not None and not 0.0 < value < 1.0:
            raise _UsageError(f"--{opt} must lie in (0, 1), a level such as 0.01 or 0.05; got {value:g}")


def _exit_code(reports: Sequence[Any]) -> int:
    if any(r.status == "flagged" for r in reports):
        return EXIT_FINDINGS
    return EXIT_NOT_JUDGED if any(r.status == "not_judged" for r in reports) else EXIT_HEALTHY


def _one_line_warnings(quiet: bool) -> None:
    import warnings

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        print(f"curvestat: warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    if quiet:
        warnings.simplefilter("ignore")


def _parse_roles(items: Sequence[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    roles: dict[str, str] = {}
    for item in items:
        name, sep, role = item.rpartition("=")
        if not sep or not name or not role:
            raise _UsageError(f"--role expects NAME=ROLE (e.g. objective=train_loss), got {item!r}")
        roles[name] = role
    return roles


class _UsageError(Exception):
    pass


def _build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curvestat",
        description="Diagnose machine-learning training curves with formal statistics.",
    )
    parser.add_argument("--version", action="version", version=f"curvestat {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("-q", "--quiet", dest="quiet_warnings", action="store_true", help="do not print warnings")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("analyze", help="diagnose one run (a log file) or the bundled examples")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "path",
        nargs="?",
        help="a log file (CSV, TSV, JSONL, JSON, TensorBoard events), a TensorBoard run directory, or mlflow:runs/<id>",
    )
    src.add_argument("--example", metavar="NAME", help="analyse one bundled example run")
    src.add_argument("--examples", action="store_true", help="analyse every bundled example run")
    p.add_argument("--json", action="store_true", help="print the report(s) as JSON")
    p.add_argument("--steps-per-epoch", type=int, metavar="N", help="optimiser steps per epoch")
    p.add_argument("--alpha", type=float, metavar="A", help="significance level per detector (default 0.01)")
    p.add_argument("--role", action="append", metavar="NAME=ROLE", help="set a series' role (repeatable)")
    p.add_argument("--plot", metavar="FIG", help="also draw the annotated figure to FIG (.png, .svg, .pdf; "
                   "with several runs, FIG's stem gets the run id appended)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    pl = sub.add_parser("plot", help="draw one run with its findings (needs matplotlib)")
    pl.add_argument("path", help="a log file, a TensorBoard run directory, or mlflow:runs/<id>")
    pl.add_argument("-o", "--output", metavar="FIG", help="figure file (.png, .svg, .pdf; default: <run>.png here)")
    pl.add_argument("--steps-per-epoch", type=int, metavar="N", help="optimiser steps per epoch")
    pl.add_argument("--alpha", type=float, metavar="A", help="significance level per detector (default 0.01)")
    pl.add_argument("--role", action="append", metavar="NAME=ROLE", help="set a series' role (repeatable)")
    pl.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    sc = sub.add_parser("scan", help="diagnose many runs (files, directories, globs) with FDR control across runs")
    sc.add_argument("sources", nargs="+", help="log files, directories (searched recursively) or glob patterns")
    sc.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="worker processes (-1: all cores)")
    sc.add_argument("--alpha", type=float, metavar="A", help="significance level per detector (default 0.01)")
    sc.add_argument("--fdr", type=float, metavar="Q", help="false-discovery rate across runs (default: alpha)")
    sc.add_argument("--no-fdr", action="store_true", help="report every finding at alpha, without FDR control")
    sc.add_argument("--steps-per-epoch", type=int, metavar="N", help="optimiser steps per epoch")
    sc.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI for mlflow: sources")
    sc.add_argument("--csv", metavar="OUT", help="write one row per run to this CSV file")
    sc.add_argument("--json", metavar="OUT", help="write every row with its findings to this JSON file")
    sc.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    # The benchmark pulls in its generators (scipy.signal: over a second);
    # only a command line that asks for it pays for the import.
    wants_bench = argv is not None and "bench" in argv
    bench_cli = None
    if wants_bench:
        try:
            from .bench import _cli as bench_cli
        except ImportError:
            bench_cli = None
    if bench_cli is not None:
        b = sub.add_parser("bench", help="score detectors on a labelled corpus, side by side with peer baselines")
        bench_cli.add_arguments(b)
        b.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        b.set_defaults(_bench=bench_cli)
    else:
        sub.add_parser("bench", help="score detectors on a labelled corpus, side by side with peer baselines")
    return parser


def _analyze(args: argparse.Namespace) -> int:
    from .analyze import analyze
    from .examples import EXAMPLES, example_path

    if args.examples:
        sources: list[Any] = [example_path(n) for n in EXAMPLES]
    elif args.example:
        sources = [example_path(args.example)]
    else:
        sources = [args.path]
    roles = _parse_roles(args.role)
    reports = [analyze(s, roles=roles, steps_per_epoch=args.steps_per_epoch, alpha=args.alpha) for s in sources]
    if args.json:
        payload: Any = [r.to_dict() for r in reports] if len(reports) > 1 else reports[0].to_dict()
        print(json.dumps(payload, indent=2))
    else:
        print("\n\n".join(r.summary() for r in reports))
    if args.plot:
        from pathlib import Path

        target = Path(args.plot)
        for r in reports:
            out = target if len(reports) == 1 else target.with_name(f"{target.stem}-{r.run_id}{target.suffix}")
            _save_figure(r.plot(), out)
    return _exit_code(reports)


def _save_figure(fig: Any, out: Any) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(out, dpi=120)
    except (OSError, ValueError) as exc:
        raise _UsageError(f"cannot write the figure to {out}: {exc}") from None
    finally:
        plt.close(fig)
    print(f"figure written to {out}", file=sys.stderr)


def _plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .analyze import analyze

    report = analyze(args.path, roles=_parse_roles(args.role), steps_per_epoch=args.steps_per_epoch, alpha=args.alpha)
    out = Path(args.output) if args.output else Path(f"{report.run_id or 'run'}.png")
    _save_figure(report.plot(), out)
    return _exit_code([report])


def _scan(args: argparse.Namespace) -> int:
    from .batch import analyze_many

    fdr: float | bool = False if args.no_fdr else (args.fdr if args.fdr is not None else True)
    result = analyze_many(
        args.sources,
        alpha=args.alpha,
        fdr=fdr,
        n_jobs=args.jobs,
        steps_per_epoch=args.steps_per_epoch,
        tracking_uri=args.tracking_uri,
    )
    print(result.summary())
    if args.csv:
        result.to_csv(args.csv)
    if args.json:
        result.to_json(args.json)
    if len(result.errors) == len(result):
        return EXIT_ERROR
    return EXIT_FINDINGS if (result.flagged or result.errors) else EXIT_HEALTHY


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser(argv)
    args = parser.parse_args(argv)
    _one_line_warnings(getattr(args, "quiet_warnings", False))
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        _check_level(args)
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "scan":
            return _scan(args)
        if args.command == "plot":
            return _plot(args)
        if args.command == "bench":
            return int(args._bench.main(args))
        parser.error(f"unknown command {args.command!r}")
    except (CurvestatError, _UsageError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"curvestat: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("curvestat: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `curvestat analyze ... | head`: the reader left; exit quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_HEALTHY
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
