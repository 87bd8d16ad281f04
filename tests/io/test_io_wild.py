"""Every file of the wild corpus (real logs from public repositories) reads, with checkable facts.

The facts below were read off the files themselves (column names, row counts,
the step at which each epoch ends), not off curvestat's output.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from curvestat.errors import DuplicateStepsWarning, StepRestartWarning
from curvestat.io import read
from curvestat.run import Role, Run

FORMATS = ["hf_trainer_state", "lightning_csv", "keras_csv", "keras_history_json", "other", "tensorboard"]

# Files whose quirks (documented in the corpus README) must surface as warnings, and no other.
EXPECTED_WARNINGS = {
    "AkshatSharma5": {StepRestartWarning},  # several Keras runs appended to one CSVLogger file
    "Farru049": {StepRestartWarning},
    "AndyZhao2023": {DuplicateStepsWarning},
    "PirxTion": {DuplicateStepsWarning},
    "ruapotato": {StepRestartWarning, DuplicateStepsWarning},
}


def _read_quiet(path: Path) -> tuple[Run, set[type]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = read(path)
    return run, {w.category for w in caught}


def _by_prefix(files: list[Path], prefix: str) -> Path:
    match = [f for f in files if f.name.startswith(prefix)]
    assert len(match) == 1, (prefix, match)
    return match[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_wild_file_reads(wild_of, fmt: str) -> None:
    files = wild_of(fmt)
    assert files, fmt
    for f in files:
        run, warned = _read_quiet(f)
        owner = f.name.split("__")[0]
        allowed = EXPECTED_WARNINGS.get(owner, set())
        assert warned <= allowed, (f.name, warned)
        assert run.source == str(f)
        # every real log holds a loss the detectors can use
        assert run.train_loss is not None or run.val_loss is not None, f.name
        for s in run:
            assert np.all(np.diff(s.steps) > 0)


def test_wild_quirks_do_warn(wild_of) -> None:
    seen = {}
    for fmt in FORMATS:
        for f in wild_of(fmt):
            owner = f.name.split("__")[0]
            if owner in EXPECTED_WARNINGS:
                seen.setdefault(owner, set()).update(_read_quiet(f)[1])
    assert seen == EXPECTED_WARNINGS


def test_wild_hf_trainer_state(wild_of) -> None:
    files = wild_of("hf_trainer_state")
    assert len(files) == 25
    w = read(_by_prefix(files, "P4P4N1CK"))
    assert (len(w["loss"]), len(w["eval_loss"])) == (200, 5)
    assert w["eval_wer"].role is Role.METRIC and w.lr.name == "learning_rate"
    assert w.steps_per_epoch == 131
    d = read(_by_prefix(files, "DiegoArteagaMendoza"))
    assert len(d.train_loss) == 542 and {len(d[k]) for k in ("eval_loss", "eval_recall", "eval_f1")} == {10}
    assert d.steps_per_epoch == 542
    # epochs rounded to 2 decimals: 9411 max_steps over 3 epochs
    assert read(_by_prefix(files, "NijatZeynalov")).steps_per_epoch == 3137
    # streaming datasets: the epoch counter is not linear in the step, no inference
    assert read(_by_prefix(files, "CoralReefFish")).steps_per_epoch is None
    assert read(_by_prefix(files, "anthonyrathe")).steps_per_epoch is None
    # predict_* records carry no step: they belong to the evaluation logged just before
    j = read(_by_prefix(files, "Jaong"))
    assert j["predict_loss"].steps.tolist() == j["eval_loss"].steps.tolist()[: len(j["predict_loss"])]
    assert j["predict_loss"].steps[0] == 549
    # the closing summary record (train_runtime, whole-run train_loss) is never a series
    for f in files:
        assert not {"train_runtime", "total_flos", "train_loss"} & set(read(f).names), f.name


def test_wild_lightning_steps_per_epoch(wild_of) -> None:
    files = wild_of("lightning_csv")
    assert len(files) == 15
    # last `step` of each `epoch` in the file: epoch 0 ends at 31, epoch 1 at 63, ...
    expected = {
        "Macro1027": 32,
        "DiogoFerreira7": 2,  # epoch 24 at step 49, epoch 49 at step 99
        "Awritrojit__AIOPS_learning_mnist__lightning_logs__version_18": 750,  # 5 epochs end at step 3749
        "CooperBigFoot__CAMELS-CH__lightning_logs__version_17": 2699,  # 10 epochs end at 26989
        "RaduTuodr__NN-Classification---Forest-Cover-Type__lightning_logs__version_12": 341,
        "0Xero7__slm_training__lightning_logs__version_8": None,  # a single (unfinished) epoch
        "Melissasssss": None,
    }
    for prefix, spe in expected.items():
        assert read(_by_prefix(files, prefix)).steps_per_epoch == spe, prefix
    slm = read(_by_prefix(files, "0Xero7__slm_training__lightning_logs__version_0"))
    assert (slm.train_loss.name, len(slm.train_loss)) == ("train_loss_step", 2814)  # the dense per-step curve
    assert len(slm["train_loss_epoch"]) == 10 and slm.val_loss.name == "val_loss"
    cam = read(_by_prefix(files, "CooperBigFoot__CAMELS-CH__lightning_logs__version_17"))
    assert cam.lr.name == "lr-Adam" and len(cam["val_loss"]) == 10 and "epoch" not in cam and "step" not in cam


def test_wild_keras(wild_of) -> None:
    csvs, jsons = wild_of("keras_csv"), wild_of("keras_history_json")
    assert (len(csvs), len(jsons)) == (7, 7)
    for f in csvs + jsons:
        assert _read_quiet(f)[0].steps_per_epoch == 1, f.name  # one row / value per epoch
    a = read(_by_prefix(csvs, "AnggaMarcelio"))
    assert sorted(a.names) == ["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    assert len(a.train_loss) == 63 and a["loss"].steps[0] == 0
    g = read(_by_prefix(jsons, "GalexyBrain__Plant-disease-detection__Augmented"))
    assert {(s.name, s.role, len(s)) for s in g} == {
        ("train_loss", Role.TRAIN_LOSS, 50),
        ("val_loss", Role.VAL_LOSS, 50),
        ("train_acc", Role.METRIC, 50),
        ("val_acc", Role.METRIC, 50),
        ("lr", Role.LR, 50),
    }
    h = read(_by_prefix(jsons, "065010-AmanMalhi"))
    assert (len(h["reg_loss"]), len(h["cls_loss"])) == (30, 19)
    restarted, _ = _read_quiet(_by_prefix(csvs, "AkshatSharma5"))
    assert len(restarted.train_loss) == 5  # the newest of the appended runs


def test_wild_other_csv(wild_of) -> None:
    files = wild_of("other")
    andy, _ = _read_quiet(_by_prefix(files, "AndyZhao2023"))
    assert andy.train_loss.name == "train/loss" and andy.val_loss.name == "eval/loss"
    isl = read(_by_prefix(files, "AdityaT-19"))
    assert isl.steps_per_epoch == 1 and len(isl.train_loss) == 100 and isl.lr.name == "lr"
