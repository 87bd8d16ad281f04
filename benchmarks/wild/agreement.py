"""Agreement between curvestat and blind expert labels on real public training logs.

Runs :func:`curvestat.analyze` with the default configuration on every labelled
log of the "wild" corpus (real logs committed to public GitHub repositories,
see ``../shared/data/wild/README.md``) and compares the set of pathologies it
flags (findings of severity ``warning`` or ``critical``; ``info`` never flags)
with the labels in ``labels.json``, which were made blind, by looking at plots
of the raw series (see ``README.md`` beside this file).

Printed:

* exact set agreement: curvestat's flagged set equals the expert's label set
  (``{"healthy"}`` = the empty set);
* healthy-vs-flagged agreement: both call the run healthy, or both call it
  unhealthy (whatever the pathology);
* both on the ``clear`` logs and on all logs, with the counts;
* a table of every disagreement: file, expert labels, curvestat's findings
  (``pathology/kind[severity]`` for every finding, info included, so that one
  sees what was demoted) and the expert's one-line reason.

Usage (from the repository root; the code measured is whatever ``curvestat``
imports, so set ``PYTHONPATH`` to the tree under test)::

    PYTHONPATH=$PWD python benchmarks/wild/agreement.py
    PYTHONPATH=$PWD python benchmarks/wild/agreement.py --data /work/shared/data/wild \\
        --labels benchmarks/wild/labels.json --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "wild"
DEFAULT_LABELS = HERE / "labels.json"

PATHOLOGIES = ("non_convergence", "explosion", "metric_contradiction", "overfitting", "periodic")
HEALTHY = "healthy"


def expert_set(entry: dict[str, Any]) -> frozenset[str]:
    """The expert's pathologies as a set (healthy = empty set)."""
    return frozenset(x for x in entry["labels"] if x != HEALTHY)


def diagnose(path: Path) -> tuple[frozenset[str] | None, list[str], list[str], str | None]:
    """Run curvestat on one log: (flagged set, finding strings, messages, error).

    The flagged set is None when the log could not be analysed at all.
    """
    import curvestat
    from curvestat.report import Severity

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = curvestat.analyze(str(path))
    except Exception as exc:  # a reader or detector crash is a result, not a stop
        return None, [], [], f"{type(exc).__name__}: {exc}"
    flagged = frozenset(str(f.pathology) for f in report.findings if f.severity is not Severity.INFO)
    shown = [f"{f.pathology}/{f.kind}[{f.severity}]" for f in report.findings]
    messages = [f"{f.pathology}/{f.kind}[{f.severity}] on {f.series}: {f.message}" for f in report.findings]
    return flagged, shown, messages, None


def fmt(s: frozenset[str] | None) -> str:
    if s is None:
        return "ERROR"
    return ",".join(sorted(s)) if s else HEALTHY


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    exact = sum(r["exact"] for r in rows)
    binary = sum(r["binary"] for r in rows)
    exp_h = [r for r in rows if not r["expert"]]
    exp_u = [r for r in rows if r["expert"]]
    return {
        "n": n,
        "exact": exact,
        "binary": binary,
        "exact_rate": exact / n if n else float("nan"),
        "binary_rate": binary / n if n else float("nan"),
        # false alarms: expert healthy, curvestat flags; misses: expert unhealthy, curvestat healthy
        "false_alarms": sum(bool(r["flagged"]) for r in exp_h),
        "expert_healthy": len(exp_h),
        "misses": sum(not r["flagged"] for r in exp_u),
        "expert_unhealthy": len(exp_u),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the wild corpus directory (holds MANIFEST.json)")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="expert labels (labels.json)")
    ap.add_argument("--json", type=Path, default=None, help="also write per-log results and scores to this JSON file")
    ap.add_argument("--quiet", action="store_true", help="print only the scores")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each disagreement's finding messages too")
    args = ap.parse_args(argv)

    import curvestat

    labels: dict[str, dict[str, Any]] = json.loads(args.labels.read_text())
    if not args.data.is_dir():
        print(f"no data directory {args.data}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    missing = []
    for rel, entry in sorted(labels.items()):
        path = args.data / rel
        if not path.exists():
            missing.append(rel)
            continue
        flagged, shown, messages, err = diagnose(path)
        exp = expert_set(entry)
        got = flagged if flagged is not None else frozenset({"<error>"})
        rows.append(
            {
                "file": rel,
                "expert": sorted(exp),
                "confidence": entry["confidence"],
                "why": entry["why"],
                "flagged": sorted(got),
                "findings": shown,
                "messages": messages,
                "error": err,
                "exact": got == exp,
                "binary": (len(got) > 0) == (len(exp) > 0) and flagged is not None,
            }
        )
    elapsed = time.perf_counter() - t0

    clear = [r for r in rows if r["confidence"] == "clear"]
    scores = {"clear": score(clear), "all": score(rows)}
    print(f"curvestat {getattr(curvestat, '__version__', '?')} from {Path(curvestat.__file__).parent}")
    print(f"{len(rows)} labelled logs analysed in {elapsed:.1f} s ({len(missing)} labelled files missing under {args.data})")
    for name in ("clear", "all"):
        s = scores[name]
        print(
            f"  {name:5s} n={s['n']:2d}  exact set agreement {s['exact']}/{s['n']} = {s['exact_rate']:.1%}"
            f"   healthy-vs-flagged {s['binary']}/{s['n']} = {s['binary_rate']:.1%}"
            f"   false alarms {s['false_alarms']}/{s['expert_healthy']} expert-healthy"
            f"   misses {s['misses']}/{s['expert_unhealthy']} expert-unhealthy"
        )
    # per pathology: how often each label is matched (on all logs)
    print("  per pathology (all logs): expert-labelled / curvestat-flagged / both")
    for p in PATHOLOGIES:
        e = sum(p in r["expert"] for r in rows)
        c = sum(p in r["flagged"] for r in rows)
        b = sum(p in r["expert"] and p in r["flagged"] for r in rows)
        print(f"    {p:21s} {e:3d} / {c:3d} / {b:3d}")

    if not args.quiet:
        bad = [r for r in rows if not r["exact"]]
        print(f"\nDisagreements ({len(bad)}; * = clear):")
        for r in bad:
            star = "*" if r["confidence"] == "clear" else " "
            exp = ",".join(r["expert"]) or HEALTHY
            got = r["error"] or (", ".join(r["findings"]) or "no findings")
            print(f"{star} {r['file']}\n    expert: {exp:30s} curvestat: {got}\n    why: {r['why']}")
            if args.verbose:
                for m in r["messages"]:
                    print(f"      - {m}")
    if args.json:
        args.json.write_text(json.dumps({"scores": scores, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
