"""Generated logs in the exact shapes the ecosystem's loggers write, and their broken variants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from curvestat.errors import CurvestatError, EmptySeriesError, ParseError, UnknownFormatError
from curvestat.io import expand_sources, read, sniff_format
from curvestat.run import Role


# --- Keras -----------------------------------------------------------------------------


def test_keras_history_json(tmp_path: Path) -> None:
    n = 12
    hist = {
        "loss": list(np.exp(-np.arange(n) / 4)),
        "accuracy": list(np.linspace(0.5, 0.9, n)),
        "val_loss": list(1.1 * np.exp(-np.arange(n) / 5)),
        "val_accuracy": list(np.linspace(0.45, 0.85, n)),
        "learning_rate": [1e-3] * n,
    }
    f = tmp_path / "history.json"
    f.write_text(json.dumps(hist))  # json.dump(model.fit(...).history, fh)
    run = read(f)
    assert run.steps_per_epoch == 1 and run.run_id == "history"
    assert run.train_loss.name == "loss" and run.val_loss.name == "val_loss" and run.lr.name == "learning_rate"
    assert run["val_accuracy"].role is Role.METRIC
    assert run["loss"].steps.tolist() == list(range(n))
    assert_allclose(run["val_loss"].values, hist["val_loss"])
    # nested with metadata, as some scripts save {"history": ..., "params": ...}
    f2 = tmp_path / "nested.json"
    f2.write_text(json.dumps({"history": hist, "params": {"epochs": n, "verbose": 1}, "model": "cnn"}))
    assert read(f2).names == run.names


def test_keras_csvlogger(tmp_path: Path) -> None:
    f = tmp_path / "training_log.csv"
    rows = ["epoch,accuracy,loss,val_accuracy,val_loss"] + [f"{e},{0.5 + e / 40},{1 / (e + 1)},{0.5 + e / 50},{1.2 / (e + 1)}" for e in range(10)]
    f.write_text("\n".join(rows) + "\n")
    run = read(f)
    assert run.steps_per_epoch == 1 and "epoch" not in run
    assert run["val_loss"].steps.tolist() == list(range(10))


# --- PyTorch Lightning -------------------------------------------------------------------


def lightning_metrics_csv(epochs: int = 4, spe: int = 50, every: int = 10) -> str:
    """What CSVLogger writes: one sparse row per log call, columns sorted by name."""
    rows = ["epoch,lr-Adam,step,train_loss_epoch,train_loss_step,val_acc,val_loss"]
    for e in range(epochs):
        rows.append(f"{e},0.001,{e * spe},,,,")  # LearningRateMonitor
        for k in range(every - 1, spe, every):
            step = e * spe + k
            rows.append(f"{e},,{step},,{2 * np.exp(-step / 100):.6f},,")
        end = (e + 1) * spe - 1
        rows.append(f"{e},,{end},,,{0.6 + e / 20},{2.2 * np.exp(-end / 120):.6f}")
        rows.append(f"{e},,{end},{2 * np.exp(-end / 100):.6f},,,")
    return "\n".join(rows) + "\n"


def test_lightning_sparse_metrics_csv(tmp_path: Path) -> None:
    f = tmp_path / "lightning_logs" / "version_0" / "metrics.csv"
    f.parent.mkdir(parents=True)
    f.write_text(lightning_metrics_csv())
    run = read(f)
    assert run.steps_per_epoch == 50  # from the epoch column: epochs end at steps 49, 99, 149, 199
    assert run.train_loss.name == "train_loss_step" and len(run.train_loss) == 20
    assert run["train_loss_epoch"].steps.tolist() == [49, 99, 149, 199]
    assert run.val_loss.name == "val_loss" and run["val_loss"].steps.tolist() == [49, 99, 149, 199]
    assert run.lr.name == "lr-Adam" and run["lr-Adam"].steps.tolist() == [0, 50, 100, 150]
    assert "epoch" not in run and "step" not in run
    assert expand_sources(tmp_path) == [f]


# --- Weights & Biases --------------------------------------------------------------------


def test_wandb_history_csv(tmp_path: Path) -> None:
    # run.history().to_csv(): a pandas index column, W&B's _step/_runtime/_timestamp,
    # and Lightning's WandbLogger extras (epoch, trainer/global_step)
    rows = [",_step,_runtime,_timestamp,epoch,train/loss,trainer/global_step,val/loss"]
    for i in range(30):
        val = f"{0.9 * np.exp(-i / 30):.5f}" if i % 5 == 4 else ""
        rows.append(f"{i},{i},{1.5 * i},{1.7e9 + i},{i // 10},{np.exp(-i / 10):.5f},{10 * i},{val}")
    f = tmp_path / "wandb_history.csv"
    f.write_text("\n".join(rows) + "\n")
    run = read(f)
    assert sorted(run.names) == ["train/loss", "val/loss"]  # no _runtime, _timestamp, step counters
    assert run["train/loss"].steps.tolist() == list(range(30))  # _step is the axis
    assert run["val/loss"].steps.tolist() == [4, 9, 14, 19, 24, 29]
    assert run.steps_per_epoch == 10


def test_wandb_ui_panel_export(tmp_path: Path) -> None:
    f = tmp_path / "wandb_export_2024.csv"
    lines = ['"Step","fancy-sun-12 - train/loss","fancy-sun-12 - train/loss__MIN","fancy-sun-12 - train/loss__MAX"']
    lines += [f'"{10 * i}","{1 / (i + 1)}","{1 / (i + 1)}","{1 / (i + 1)}"' for i in range(8)]
    f.write_text("\n".join(lines) + "\n")
    run = read(f)
    assert run.names == ["train/loss"] and run.train_loss.steps.tolist() == list(range(0, 80, 10))
    # two runs in one panel export keep their run names
    f2 = tmp_path / "two_runs.csv"
    f2.write_text('Step,"a - val/loss","a - val/loss__MIN","a - val/loss__MAX","b - val/loss","b - val/loss__MIN","b - val/loss__MAX"\n0,1,1,1,2,2,2\n1,0.5,0.5,0.5,1,1,1\n')
    assert sorted(read(f2).names) == ["a - val/loss", "b - val/loss"]


def test_wandb_json_exports(tmp_path: Path) -> None:
    recs = [{"_step": i, "_runtime": 1.5 * i, "_timestamp": 1.7e9 + i, "train/loss": float(np.exp(-i / 10))} for i in range(20)]
    for r in recs[4::5]:
        r["val/loss"] = 0.5
    # scan_history() dumped as a list, as JSON lines, and DataFrame.to_json() (column-oriented)
    (tmp_path / "records.json").write_text(json.dumps(recs))
    (tmp_path / "history.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    cols: dict[str, dict[str, float]] = {}
    for i, r in enumerate(recs):
        for k, v in r.items():
            cols.setdefault(k, {})[str(i)] = v
    (tmp_path / "columns.json").write_text(json.dumps(cols))
    for name in ("records.json", "history.jsonl", "columns.json"):
        run = read(tmp_path / name)
        assert sorted(run.names) == ["train/loss", "val/loss"], name
        assert run["val/loss"].steps.tolist() == [4, 9, 14, 19], name
        assert run.train_loss.name == "train/loss" and run.val_loss.name == "val/loss"


# --- Hugging Face Trainer ----------------------------------------------------------------


def trainer_state(n: int = 20, spe: int = 37, every: int = 5, *, round_epochs: bool = False) -> dict:
    hist = []
    for k in range(1, n + 1):
        step = every * k
        epoch = round(step / spe, 2) if round_epochs else step / spe
        hist.append({"epoch": epoch, "grad_norm": 1.0, "learning_rate": 5e-5, "loss": float(np.exp(-step / 50)), "step": step})
        if k % 5 == 0:
            hist.append({"epoch": epoch, "eval_loss": float(1.1 * np.exp(-step / 60)), "eval_accuracy": 0.8, "eval_runtime": 1.2, "step": step})
    hist.append({"epoch": n * every / spe, "step": n * every, "total_flos": 1e12, "train_loss": 0.4, "train_runtime": 60.0, "train_samples_per_second": 10.0, "train_steps_per_second": 1.0})
    return {"best_metric": None, "epoch": n * every / spe, "global_step": n * every, "log_history": hist, "max_steps": n * every}


def test_hf_trainer_state(tmp_path: Path) -> None:
    d = tmp_path / "checkpoint-100"
    d.mkdir()
    (d / "trainer_state.json").write_text(json.dumps(trainer_state()))
    run = read(d / "trainer_state.json")
    assert run.run_id == "checkpoint-100" and run.steps_per_epoch == 37
    assert run.train_loss.name == "loss" and len(run.train_loss) == 20
    assert run["eval_loss"].steps.tolist() == [25, 50, 75, 100]
    assert "train_loss" not in run and "train_runtime" not in run and "eval_runtime" in run
    (d / "trainer_state.json").write_text(json.dumps(trainer_state(round_epochs=True)))
    assert read(d / "trainer_state.json").steps_per_epoch == 37  # older transformers round epoch to 2 decimals


def test_hf_trainer_state_without_log_history(tmp_path: Path) -> None:
    state = trainer_state()
    del state["log_history"]
    f = tmp_path / "trainer_state.json"
    f.write_text(json.dumps(state))
    with pytest.raises(ParseError, match="without a 'log_history' key") as info:
        read(f)
    assert str(f) in str(info.value)


def test_hf_trainer_state_truncated(tmp_path: Path) -> None:
    f = tmp_path / "trainer_state.json"
    text = json.dumps(trainer_state(), indent=2)
    f.write_text(text[: len(text) // 2])  # the process died while writing
    with pytest.raises(ParseError, match=r"invalid JSON at line \d+") as info:
        read(f)
    assert str(f) in str(info.value)


@pytest.mark.parametrize(
    ("log_history", "error", "message"),
    [
        ({"loss": 1.0}, ParseError, "'log_history' must be a list"),
        ([], EmptySeriesError, "holds no training record"),
        ([{"train_runtime": 1.0, "train_loss": 0.5, "step": 10}], EmptySeriesError, "holds no training record"),
        ([{"loss": 1.0, "epoch": 0.1}, {"loss": 0.5, "step": 20}], ParseError, r"log_history\[0\] has no 'step' key"),
        ([{"loss": "n/a", "step": 10}], EmptySeriesError, "no numeric series found"),  # text values are labels
    ],
)
def test_hf_trainer_state_bad_records(tmp_path: Path, log_history, error, message) -> None:
    f = tmp_path / "trainer_state.json"
    f.write_text(json.dumps({"global_step": 10, "log_history": log_history}))
    with pytest.raises(error, match=message):
        read(f)


def test_unrecognised_json_is_a_curvestat_error(tmp_path: Path) -> None:
    f = tmp_path / "config.json"
    f.write_text(json.dumps({"model": "bert", "layers": 12}))
    with pytest.raises(UnknownFormatError):
        read(f)
    assert sniff_format(f) == "json"
    assert issubclass(UnknownFormatError, CurvestatError)
