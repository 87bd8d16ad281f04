"""The ``curvestat`` command.

Exit codes
----------
0  every analysed run is healthy
1  at least one run has a finding of severity warning or critical (``scan``:
   or at least one run could not be read; it is listed as an error row)
2  bad input or bad arguments (one clear line on stderr; ``--debug`` for the
   traceback); ``scan``: no run at all could be read
3  no run was flagged (``scan``: and no error row), but some run could not be
   judged (too little data for every test, or a file that holds no training curve)
130  interrupted (Ctrl-C); ``scan --out FILE`` keeps the rows done in FILE and
   ``--resume`` finishes the scan

Warnings print as one line each, ``curvestat: warning: <message>``; ``-q``
silences them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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

    sc = sub.add_parser(
        "scan",
        help="diagnose many runs (files, directories, globs) with FDR control across runs",
        description="Diagnose many runs in parallel; one row per run, FDR control across runs, "
        "fault-tolerant (a crashed or hung run is an error row), streaming and resumable with --out.",
    )
    sc.add_argument("sources", nargs="+", metavar="PATH", help="log files, directories (searched recursively) or glob patterns")
    sc.add_argument("--jobs", "-j", type=int, default=-1, metavar="N", help="worker processes (default -1: all cores)")
    sc.add_argument("--out", metavar="FILE", help="stream one row per run to FILE (.csv, .jsonl, .parquet) as runs finish")
    sc.add_argument("--resume", action="store_true", help="with --out: skip the sources already in FILE")
    sc.add_argument("--timeout", type=float, metavar="S", help="seconds one run may take before it becomes an error row")
    sc.add_argument("--dask-scheduler", metavar="ADDRESS", help="run on an existing Dask scheduler (tcp://host:8786)")
    sc.add_argument("--verbose", "-v", action="store_true", help="list every run, then the summary")
    sc.add_argument("--only-flagged", action="store_true", help="list (and export with --csv/--json) only the flagged runs")
    sc.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown only on a terminal)")
    sc.add_argument("--alpha", type=float, metavar="A", help="significance level of each detector's test per run (default 0.01)")
    sc.add_argument("--fdr", type=float, metavar="Q", help="false-discovery rate across runs (default 0.05)")
    sc.add_argument("--no-fdr", action="store_true", help="report every finding at alpha, without FDR control")
    sc.add_argument("--steps-per-epoch", type=int, metavar="N", help="optimiser steps per epoch")
    sc.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI for mlflow: sources")
    sc.add_argument("--csv", metavar="OUT", help="write one row per run to this CSV file at the end")
    sc.add_argument("--json", metavar="OUT", help="write every row with its findings to this JSON file at the end")
    sc.add_argument("--report", metavar="HTML", help="write one self-contained HTML page: summary, sortable table, "
                    "a figure per flagged run (needs matplotlib for the figures)")
    sc.add_argument("--report-thumbnails", type=int, default=None, metavar="N",
                    help="with --report: draw figures for at most N flagged runs, the worst first (default 20; 0: none)")
    sc.add_argument("--role", action="append", metavar="NAME=ROLE", help="set a series' role in every run (repeatable)")
    sc.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    # The benchmark pulls in its generators (scipy.signal: over a second);
    # only a command line that asks for it pays for the import.
    wants_bench = argv is not None and "bench" in argv
    bench_cli: Any = None
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
        from .report import _json_safe

        print(json.dumps(_json_safe(payload), indent=2, allow_nan=False))
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


class _Progress:
    """Runs done, runs/s and ETA on stderr: tqdm when installed, else one plain line redrawn."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.start = time.monotonic()
        self.last = 0.0
        self.bar: Any = None
        self._tqdm: Any = None
        try:
            from tqdm import tqdm  # optional: pip install 'curvestat[progress]'

            self._tqdm = tqdm
        except ImportError:
            pass

    def __call__(self, done: int, total: int) -> None:
        if self._tqdm is not None:
            if self.bar is None:
                self.bar = self._tqdm(total=total, unit="run", file=self.stream, dynamic_ncols=True, smoothing=0.1)
            self.bar.update(done - self.bar.n)
            return
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        eta = (total - done) / rate if rate > 0 else float("inf")
        width = 30
        filled = int(width * done / max(total, 1))
        eta_s = f"{int(eta // 60)}m{int(eta % 60):02d}s" if eta != float("inf") else "?"
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs  {rate:.1f} runs/s  ETA {eta_s} ")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.last:
            self.stream.write("\n")
            self.stream.flush()


def _check_scan_sources(sources: Sequence[str]) -> None:
    """One-line errors for a missing path, before anything runs."""
    from pathlib import Path

    for s in sources:
        if s.startswith(("mlflow:", "sqlite:", "file:")) or any(ch in s for ch in "*?["):
            continue
        if not Path(s).exists():
            raise _UsageError(f"{s}: no such file or directory")


def _scan(args: argparse.Namespace) -> int:
    from .batch import BatchResult, ScanInterrupted, analyze_many, check_writable

    if args.resume and not args.out:
        raise _UsageError("--resume needs --out FILE (the file to resume)")
    for out in (args.out, args.csv, args.json, args.report):
        if out:
            check_writable(out)
    from .html_report import DEFAULT_MAX_THUMBNAILS, require_matplotlib

    n_thumbs = DEFAULT_MAX_THUMBNAILS if args.report_thumbnails is None else args.report_thumbnails
    if args.report_thumbnails is not None and not args.report:
        raise _UsageError("--report-thumbnails needs --report FILE.html")
    if n_thumbs < 0:
        raise _UsageError(f"--report-thumbnails must be 0 or more, got {n_thumbs}")
    if args.report and n_thumbs:
        require_matplotlib()  # before the scan, not after it
    roles = _parse_roles(args.role)
    _check_scan_sources(args.sources)
    fdr: float | bool = False if args.no_fdr else (args.fdr if args.fdr is not None else True)
    client = None
    if args.dask_scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise _UsageError("--dask-scheduler needs dask.distributed: pip install 'curvestat[dask]'") from None
        try:
            client = Client(args.dask_scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise _UsageError(f"cannot reach the Dask scheduler at {args.dask_scheduler}: {exc}") from None
    progress = None if args.no_progress or not _isatty(sys.stderr) else _Progress(sys.stderr)
    try:
        result = analyze_many(
            args.sources,
            alpha=args.alpha,
            fdr=fdr,
            n_jobs=args.jobs,
            client=client,
            timeout=args.timeout,
            out=args.out,
            resume=args.resume,
            progress=progress,
            steps_per_epoch=args.steps_per_epoch,
            tracking_uri=args.tracking_uri,
            roles=roles,
        )
    except ScanInterrupted as exc:
        if progress is not None:
            progress.close()
        where = (
            f"; they are in {exc.path} (FDR not applied yet): run the same command with --resume to finish"
            if exc.path is not None
            else " (not saved: use --out FILE to keep rows as they finish)"
        )
        print(f"curvestat: scan interrupted: partial: {exc.done} of {exc.total} runs done{where}", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    if progress is not None:
        progress.close()
    print(result.summary(verbose=args.verbose or args.only_flagged, only_flagged=args.only_flagged))
    if args.out:
        print(f"rows written to {args.out}")
    if args.csv or args.json:
        export = BatchResult(_rows=[r for r in result if not args.only_flagged or (r.status == "ok" and not r.healthy)], fdr=result.fdr)
        if args.csv:
            export.to_csv(args.csv)
        if args.json:
            export.to_json(args.json)
    if args.report:
        from .html_report import write_html_report

        write_html_report(result, args.report, max_thumbnails=n_thumbs, roles=roles,
                          steps_per_epoch=args.steps_per_epoch, tracking_uri=args.tracking_uri,
                          n_jobs=1 if client is not None else args.jobs)
        print(f"report written to {args.report}")
    st = result.stats
    if st.n_runs and st.n_errors == st.n_runs:
        return EXIT_ERROR
    if st.n_flagged or st.n_errors:
        return EXIT_FINDINGS
    return EXIT_NOT_JUDGED if st.n_not_judged else EXIT_HEALTHY


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


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
