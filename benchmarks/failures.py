"""List what curvestat gets wrong on a labelled corpus, grouped by class.

``curvestat bench`` scores a corpus; this script says *which* runs make up the
misses and false alarms, grouped by the run's recipe (its ``kind``/``family``
in labels.json) and by the finding kind that fired, so that a failure can be
traced to its cause in the curve::

    python benchmarks/failures.py --corpus real --split test
    python benchmarks/failures.py --corpus path/to/corpus_dir

A run counts as flagged for a pathology when the report holds a ``warning`` or
``critical`` finding of it (``info`` never flags a run). Onsets are not
checked here (``curvestat bench`` scores them).
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from concurrent.futures import ProcessPoolExecutor

import curvestat
from curvestat.bench import load_corpus


def _recipe(run_id: str) -> str:
    # run ids end in the repeat's seed ("real-h-digits-adam-3"): the recipe is the rest
    return re.sub(r"[-_]\d+$", "", run_id)


def _one(item):
    run, labels = item
    try:
        rep = curvestat.analyze(run)
    except curvestat.CurvestatError as exc:
        return run.run_id, labels, None, f"{type(exc).__name__}: {exc}"
    flagged = {}
    for f in rep.findings:
        if f.severity.value != "info":
            flagged.setdefault(f.pathology.value, []).append(f"{f.kind}({f.severity.value[0]})")
    return run.run_id, labels, flagged, None


def _load(corpus: str, split: str | None):
    if corpus == "real":
        from curvestat.bench import real_corpus

        return real_corpus(split=None if split in (None, "all") else split)  # the shipped corpus
    c = load_corpus(corpus)
    if split and split != "all":
        c = type(c)([it for it in c if getattr(it.truth, "split", None) == split], name=f"{c.name}-{split}")
    return c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="real", help="'real' or a corpus directory")
    ap.add_argument("--split", default=None, help="dev, test or all (corpora that carry a split)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    corpus = _load(args.corpus, args.split)
    items = [(it.run, frozenset(p.value for p in it.truth.labels)) for it in corpus]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(_one, items, chunksize=8))
    false_alarms: dict[str, list[str]] = collections.defaultdict(list)
    misses: dict[str, list[str]] = collections.defaultdict(list)
    extra: dict[str, list[str]] = collections.defaultdict(list)
    n_healthy = n_fa = 0
    for run_id, labels, flagged, err in results:
        if err is not None:
            print(f"error {run_id}: {err}")
            continue
        if not labels:
            n_healthy += 1
            n_fa += bool(flagged)
        for p, kinds in flagged.items():
            if p not in labels:
                (false_alarms if not labels else extra)[f"{p}/{'+'.join(sorted(set(kinds)))}"].append(run_id)
        for p in labels - set(flagged):
            misses[p].append(run_id)
    print(f"corpus {corpus.name}: {len(results)} runs, {n_healthy} healthy, "
          f"false alarms on healthy runs {n_fa} ({n_fa / max(n_healthy, 1):.1%})")
    for title, table in (("false alarms on healthy runs", false_alarms),
                         ("extra pathologies on labelled runs", extra), ("misses", misses)):
        print(f"\n{title}:")
        if not table:
            print("  none")
        for key, ids in sorted(table.items(), key=lambda kv: -len(kv[1])):
            recipes = collections.Counter(_recipe(r) for r in ids)
            print(f"  {key}: {len(ids)}  " + ", ".join(f"{r} x{c}" for r, c in recipes.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
