"""Reading speed: curvestat's readers against pandas (and pyarrow) on the same files.

    python benchmarks/bench_io.py            # 1,000-row files, 200 of each
    python benchmarks/bench_io.py --rows 10000 --files 50

Writes, in a temporary directory, the files of ``bench_batch.py``'s corpus
(step, loss every step, val_loss and val_accuracy every 50 steps: what a
Lightning/Keras CSV logger writes), a Hugging Face ``trainer_state.json``
(training record every step, evaluation every 50), a Keras history JSON and a
JSON Lines log, and times per file, in one process and interleaved:
``curvestat.io.read`` (a full :class:`~curvestat.run.Run`), ``pandas.read_csv``
/ ``pandas.read_json`` (a DataFrame only) and ``pyarrow.csv.read_csv``.
Prints one JSON document: median milliseconds per file and ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _write(root: Path, rows: int, files: int, seed: int = 0) -> dict[str, list[Path]]:
    rng = np.random.default_rng(seed)
    out: dict[str, list[Path]] = {"csv": [], "trainer_state": [], "keras": [], "jsonl": []}
    for i in range(files):
        steps = np.arange(rows)
        loss = np.exp(-steps / rng.uniform(80, 400)) + 0.1 + 0.02 * rng.standard_normal(rows)
        lines = ["step,loss,val_loss,val_accuracy"]
        for s in range(rows):
            lines.append(f"{s},{loss[s]:.5g},{loss[s] + 0.05:.5g},{0.9 - loss[s] / 10:.4g}" if s % 50 == 0 else f"{s},{loss[s]:.5g},,")
        p = root / f"run{i}.csv"
        p.write_text("\n".join(lines) + "\n")
        out["csv"].append(p)
        hist = []
        for s in range(1, rows + 1):
            hist.append({"epoch": s / 250, "grad_norm": float(rng.random()), "learning_rate": 1e-4, "loss": float(loss[s - 1]), "step": s})
            if s % 50 == 0:
                hist.append({"epoch": s / 250, "eval_loss": float(loss[s - 1] + 0.05), "eval_accuracy": 0.8, "eval_runtime": 1.5, "step": s})
        d = root / f"hf{i}"
        d.mkdir()
        (d / "trainer_state.json").write_text(json.dumps({"global_step": rows, "log_history": hist}, indent=2))
        out["trainer_state"].append(d / "trainer_state.json")
        k = root / f"keras{i}.json"
        k.write_text(json.dumps({"loss": loss.tolist(), "val_loss": (loss + 0.05).tolist(), "accuracy": (1 - loss / 2).tolist()}))
        out["keras"].append(k)
        j = root / f"run{i}.jsonl"
        j.write_text("".join(json.dumps({"step": s, "loss": float(loss[s]), "lr": 1e-3}) + "\n" for s in range(rows)))
        out["jsonl"].append(j)
    return out


def _median_ms(fns: dict[str, object], paths: list[Path], rounds: int = 3) -> dict[str, float]:
    """Median ms per file of each reader, interleaved file by file (the machine's load hits all alike)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for p in paths:
            for k, fn in fns.items():
                t = time.perf_counter()
                fn(p)  # type: ignore[operator]
                times[k].append(time.perf_counter() - t)
    return {k: round(1e3 * float(np.median(v)), 3) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--files", type=int, default=200)
    args = ap.parse_args()

    import pandas as pd

    from curvestat.io import read

    try:
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover
        pacsv = None
    with tempfile.TemporaryDirectory() as tmp:
        files = _write(Path(tmp), args.rows, args.files)
        for p in files["csv"][:3]:  # warm up imports and caches
            read(p), pd.read_csv(p)
        csv_fns = {"curvestat": read, "pandas": pd.read_csv}
        if pacsv is not None:
            csv_fns["pyarrow"] = pacsv.read_csv
        result = {"rows": args.rows, "files": args.files, "csv": _median_ms(csv_fns, files["csv"])}

        def hf_pandas(p: Path) -> object:
            return pd.DataFrame(json.loads(p.read_text())["log_history"])

        result["trainer_state"] = _median_ms({"curvestat": read, "pandas": hf_pandas, "json.loads": lambda p: json.loads(p.read_text())}, files["trainer_state"])
        result["keras"] = _median_ms({"curvestat": read, "pandas": pd.read_json, "json.loads": lambda p: json.loads(p.read_text())}, files["keras"])
        result["jsonl"] = _median_ms({"curvestat": read, "pandas": lambda p: pd.read_json(p, lines=True)}, files["jsonl"])
    for k in ("csv", "trainer_state", "keras", "jsonl"):
        result[k]["curvestat_over_pandas"] = round(result[k]["curvestat"] / result[k]["pandas"], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
