"""TensorBoard reader: event files written by TensorBoard's own writers, read back.

Two real writers are used:

* ``tensorboard.summary.writer.event_file_writer.EventFileWriter`` with legacy
  ``simple_value`` summaries: the record writer and summary form that
  PyTorch's ``SummaryWriter`` (and so Hugging Face and Lightning) use;
* ``tensorboard.summary.Writer``: TensorBoard's framework-free writer, which
  stores scalars as tensors with the ``scalars`` plugin (the TF2 form).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("tensorboard", reason="the TensorBoard reader tests need the 'tensorboard' package (curvestat[tensorboard])")

from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.summary import Writer  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402

from curvestat.errors import (  # noqa: E402
    InputError,
    CurvestatError,
    EmptySeriesError,
    MissingDependencyError,
    ParseError,
    StepRestartWarning,
    TruncatedSourceWarning,
)
from curvestat.io import expand_sources, read, sniff_format  # noqa: E402
from curvestat.io.tensorboard import find_run_dirs, read_tensorboard, read_tensorboard_scalars  # noqa: E402
from curvestat.run import Role  # noqa: E402



def write_simple(logdir: Path, points: list[tuple[str, int, float]], *, wall0: float = 1.7e9, suffix: str = "") -> Path:
    """Write legacy simple_value scalars (PyTorch SummaryWriter's form); return the event file."""
    logdir.mkdir(parents=True, exist_ok=True)
    w = EventFileWriter(str(logdir), filename_suffix=suffix)
    for i, (tag, step, value) in enumerate(points):
        summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        w.add_event(event_pb2.Event(wall_time=wall0 + i, step=step, summary=summ))
    w.close()
    files = sorted(logdir.glob(f"events.out.tfevents.*{suffix}"))
    return files[-1]


def write_tensor(logdir: Path, points: list[tuple[str, int, float]], *, wall0: float = 1.7e9) -> None:
    """Write scalars with tensorboard.summary.Writer (tensor form, 'scalars' plugin)."""
    w = Writer(str(logdir))
    for i, (tag, step, value) in enumerate(points):
        w.add_scalar(tag, value, step, wall_time=wall0 + i)
    w.close()


def hf_like_points(n: int = 40, spe: int = 25) -> list[tuple[str, int, float]]:
    pts = []
    for k in range(1, n + 1):
        step = 5 * k
        pts += [("train/loss", step, 2.0 * np.exp(-step / 80)), ("train/learning_rate", step, 1e-3), ("train/epoch", step, step / spe)]
        if k % 10 == 0:
            pts += [("eval/loss", step, 2.2 * np.exp(-step / 100)), ("eval/accuracy", step, 0.5 + step / 1000), ("train/epoch", step, step / spe)]
    pts += [("train/train_runtime", 200, 12.5), ("train/train_loss", 200, 0.9)]
    return pts


# --- round trips with real writers ------------------------------------------------------


def test_simple_value_file_round_trip(tmp_path: Path) -> None:
    f = write_simple(tmp_path / "run1", hf_like_points())
    assert sniff_format(f) == "tensorboard"
    run = read(f)
    assert run.names == ["train/loss", "train/learning_rate", "eval/loss", "eval/accuracy"]
    assert run.train_loss.name == "train/loss" and run.val_loss.name == "eval/loss"
    assert run["eval/accuracy"].role is Role.METRIC and run.lr.name == "train/learning_rate"
    assert_allclose(run["train/loss"].steps, np.arange(5, 201, 5))
    # TensorBoard stores float32
    assert_allclose(run["train/loss"].values, 2.0 * np.exp(-np.arange(5, 201, 5) / 80), rtol=1e-6)
    assert run["eval/loss"].steps.tolist() == [50, 100, 150, 200]
    # train/epoch is the epoch axis (not a series); the HF summary tags are dropped
    assert run.steps_per_epoch == 25
    assert run.run_id == "run1" and run.source == str(f)


def test_run_directory_equals_its_file(tmp_path: Path) -> None:
    write_simple(tmp_path / "run1", hf_like_points())
    assert sniff_format(tmp_path / "run1") == "tensorboard"
    by_dir, by_file = read(tmp_path / "run1"), read(next((tmp_path / "run1").iterdir()))
    assert by_dir.names == by_file.names
    for s in by_dir:
        assert_allclose(s.values, by_file[s.name].values)


def test_tensor_scalars_and_wall_times(tmp_path: Path) -> None:
    pts = [("loss", s, 1.0 / (s + 1)) for s in range(20)] + [("val/loss", s, 1.5 / (s + 1)) for s in range(0, 20, 5)]
    write_tensor(tmp_path / "tf2", pts, wall0=1.6e9)
    run = read_tensorboard(tmp_path / "tf2")
    assert run.train_loss.name == "loss" and run.val_loss.name == "val/loss"
    assert_allclose(run["loss"].values, 1.0 / (np.arange(20) + 1), rtol=1e-6)
    traces = read_tensorboard_scalars(tmp_path / "tf2")
    assert_allclose(traces["loss"].wall_times, 1.6e9 + np.arange(20))
    assert traces["val/loss"].steps.tolist() == [0, 5, 10, 15]


def test_non_scalar_summaries_are_skipped(tmp_path: Path) -> None:
    d = tmp_path / "mixed"
    d.mkdir()
    w = EventFileWriter(str(d))
    text_meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    from tensorboard.util import tensor_util

    text = summary_pb2.Summary.Value(tag="args/text_summary", metadata=text_meta, tensor=tensor_util.make_tensor_proto("lr=1e-3"))
    w.add_event(event_pb2.Event(wall_time=1.0, step=0, summary=summary_pb2.Summary(value=[text])))
    hist = summary_pb2.Summary.Value(tag="weights", tensor=tensor_util.make_tensor_proto(np.ones((3, 3), np.float32)))
    w.add_event(event_pb2.Event(wall_time=2.0, step=0, summary=summary_pb2.Summary(value=[hist])))
    w.close()
    with pytest.raises(EmptySeriesError, match="no scalar summary"):
        read(d)
    write_simple(d, [("loss", s, 1.0) for s in range(3)], suffix=".b")
    assert read(d).names == ["loss"]


def test_keras_train_validation_subdirs_are_one_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "fit" / "20240101-120000"
    write_tensor(run_dir / "train", [("epoch_loss", e, 1.0 / (e + 1)) for e in range(8)] + [("epoch_accuracy", e, e / 10) for e in range(8)])
    write_tensor(run_dir / "validation", [("epoch_loss", e, 1.2 / (e + 1)) for e in range(8)])
    assert find_run_dirs(tmp_path) == [run_dir]
    run = read(run_dir)
    assert sorted(run.names) == ["train/epoch_accuracy", "train/epoch_loss", "validation/epoch_loss"]
    assert run.train_loss.name == "train/epoch_loss" and run.val_loss.name == "validation/epoch_loss"
    assert run.steps_per_epoch == 1  # Keras epoch_* tags are logged once per epoch


def test_restart_files_merge_newest_wins(tmp_path: Path) -> None:
    d = tmp_path / "resumed"
    write_simple(d, [("loss", s, 10.0 + s) for s in range(10)], wall0=1000.0, suffix=".first")
    # resumed from the checkpoint at step 5: steps 5..14 again, with other values
    write_simple(d, [("loss", s, 100.0 + s) for s in range(5, 15)], wall0=2000.0, suffix=".second")
    with pytest.warns(StepRestartWarning, match="restart"):
        run = read(d)
    loss = run["loss"]
    assert loss.steps.tolist() == list(range(15))
    assert_allclose(loss.values, [10.0 + s for s in range(5)] + [100.0 + s for s in range(5, 15)])


def test_log_root_expands_to_one_source_per_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for name in ("a", "b"):
        write_simple(root / name, [("train/loss", s, 1.0 / (s + 1)) for s in range(5)])
    write_tensor(root / "keras" / "train", [("epoch_loss", e, 1.0) for e in range(3)])
    write_tensor(root / "keras" / "validation", [("epoch_loss", e, 1.0) for e in range(3)])
    (root / "a" / "hparams.json").write_text('{"loss": [1.0, 0.5, 0.25]}')
    sources = expand_sources(root)
    assert sources == sorted([root / "a", root / "a" / "hparams.json", root / "b", root / "keras"])
    runs = [read(s) for s in sources]
    assert [r.run_id for r in runs] == ["a", "hparams", "b", "keras"]


# --- bad and partial files ---------------------------------------------------------------


def test_truncated_file_reads_complete_records_with_warning(tmp_path: Path) -> None:
    f = write_simple(tmp_path / "cut", [("loss", s, float(s)) for s in range(50)])
    data = f.read_bytes()
    f.write_bytes(data[:-7])  # the last record loses its tail
    with pytest.warns(TruncatedSourceWarning, match=rf"truncated or corrupt after byte \d+ of {len(data) - 7}"):
        run = read(f)
    assert run["loss"].steps.tolist() == list(range(49))


def test_corrupt_record_stops_the_read_with_warning(tmp_path: Path) -> None:
    f = write_simple(tmp_path / "flip", [("loss", s, float(s)) for s in range(20)])
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF  # fails a CRC in the middle
    f.write_bytes(bytes(data))
    with pytest.warns(TruncatedSourceWarning):
        run = read(f)
    assert 0 < len(run["loss"]) < 20


def test_file_without_complete_record_is_an_error(tmp_path: Path) -> None:
    f = write_simple(tmp_path / "stub", [("loss", 0, 1.0)])
    f.write_bytes(f.read_bytes()[:10])
    with pytest.raises(ParseError, match=r"no complete TensorBoard record \(10 bytes\)") as info:
        read(f)
    assert str(f) in str(info.value)


def test_not_an_event_file(tmp_path: Path) -> None:
    f = tmp_path / "events.out.tfevents.123.host"
    f.write_text("step,loss\n0,1.0\n")
    with pytest.raises(ParseError, match="not an event file"):
        read(f)


def test_empty_event_file(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "events.out.tfevents.1.host").write_bytes(b"")
    with pytest.raises(EmptySeriesError, match="no scalar summary"):
        read(tmp_path / "r")


def test_missing_tensorboard_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = write_simple(tmp_path / "r", [("loss", 0, 1.0), ("loss", 1, 0.5)])
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'curvestat\[tensorboard\]'") as info:
        read(f)
    assert isinstance(info.value, CurvestatError) and isinstance(info.value, ImportError)


def test_import_curvestat_does_not_import_tensorboard_or_mlflow() -> None:
    code = "import sys, curvestat, curvestat.io; print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorboard', 'mlflow', 'google'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the real event files of the wild corpus ----------------------------------------------


def test_wild_event_files(wild_of) -> None:
    files = {f.name.split("__")[0]: f for f in wild_of("tensorboard")}
    assert len(files) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of them is truncated or restarts
        hf = read(files["aryan1112003"])  # Hugging Face Trainer, PyTorch SummaryWriter
        hf_small = read(files["AguLeon"])
        pl = read(files["CooperBigFoot"])  # PyTorch Lightning TensorBoardLogger
    assert (hf.train_loss.name, len(hf.train_loss)) == ("train/loss", 300)
    assert (hf.val_loss.name, len(hf.val_loss)) == ("eval/loss", 2)
    assert "train/train_loss" not in hf and "train/epoch" not in hf  # summary and epoch axis
    assert hf.steps_per_epoch == 1500  # from train/epoch, agrees with its trainer_state.json
    assert len(hf_small["eval/accuracy"]) == 12 and hf_small["eval/accuracy"].role is Role.METRIC
    assert hf_small.steps_per_epoch == 6750
    assert (len(pl["val_loss"]), len(pl["train_loss"])) == (40, 14)
    assert pl.val_loss.name == "val_loss" and pl.lr.name == "lr-Adam"
    assert pl["val_loss"].steps[:3].tolist() == [17, 35, 53]
    assert pl.steps_per_epoch == 18 and "epoch" not in pl


def test_wild_event_files_match_tensorboards_own_accumulator(wild_of) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for f in wild_of("tensorboard"):
        acc = EventAccumulator(str(f), size_guidance={"scalars": 0})
        acc.Reload()
        traces = read_tensorboard_scalars(f)
        for tag in acc.Tags()["scalars"]:
            ref = acc.Scalars(tag)
            # TensorBoard keeps every event; we keep the last value of a step logged twice
            last = {e.step: e.value for e in ref}
            assert traces[tag].steps.tolist() == sorted(last), (f.name, tag)
            assert_allclose(traces[tag].values, [last[s] for s in sorted(last)], rtol=1e-7, err_msg=f"{f.name} {tag}")


def test_event_files_collected_from_several_runs(tmp_path: Path) -> None:
    # a folder of event files copied from different runs and renamed with a
    # prefix each (as in a corpus of logs gathered from many repositories)
    # is not one run: a scan gives one run per file, read() refuses the folder
    folder = tmp_path / "collected"
    for name, scale in (("repoA__runs__", 1.0), ("repoB__logs__", 3.0)):
        f = write_simple(tmp_path / name, [("loss", s, scale / (s + 1)) for s in range(10)])
        folder.mkdir(exist_ok=True)
        f.rename(folder / (name + f.name))
    found = find_run_dirs(folder)
    assert [p.name.split("events")[0] for p in found] == ["repoA__runs__", "repoB__logs__"]
    assert expand_sources(folder) == found
    assert [read(p)["loss"].values[0] for p in found] == [1.0, 3.0]
    with pytest.raises(InputError, match="directory"):
        read(folder)
    with pytest.raises(InputError, match="2 different runs"):
        read_tensorboard(folder)
    # a resumed run (same prefix, here none) stays one run directory
    resumed = tmp_path / "resumed"
    write_simple(resumed, [("loss", s, 1.0 / (s + 1)) for s in range(10)], suffix=".a")
    write_simple(resumed, [("loss", s, 1.0 / (s + 1)) for s in range(10, 20)], suffix=".b", wall0=1.8e9)
    assert find_run_dirs(tmp_path / "resumed") == [resumed]
    assert len(read(resumed)["loss"].steps) == 20
