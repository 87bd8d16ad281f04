"""Run and Series: validation, role inference, primary series."""

from __future__ import annotations

import numpy as np
import pytest

from curvestat import Role, Run, Series
from curvestat.errors import (
    CurvestatError,
    EmptySeriesError,
    InputError,
    InvalidStepsError,
    LengthMismatchError,
    MissingSeriesError,
    ParameterError,
    ParseError,
)
from curvestat.run import infer_role, metric_direction


@pytest.mark.parametrize(
    "name, role",
    [
        ("loss", Role.TRAIN_LOSS),
        ("train_loss", Role.TRAIN_LOSS),
        ("train/loss", Role.TRAIN_LOSS),
        ("train_loss_step", Role.TRAIN_LOSS),
        ("epoch_loss", Role.TRAIN_LOSS),
        ("trainLoss", Role.TRAIN_LOSS),
        ("val_loss", Role.VAL_LOSS),
        ("eval_loss", Role.VAL_LOSS),
        ("valid/loss", Role.VAL_LOSS),
        ("validation-loss", Role.VAL_LOSS),
        ("test_loss", Role.VAL_LOSS),
        ("valLoss", Role.VAL_LOSS),
        ("val_recall", Role.METRIC),
        ("recall", Role.METRIC),
        ("accuracy", Role.METRIC),
        ("val_acc", Role.METRIC),
        ("precision", Role.METRIC),
        ("f1", Role.METRIC),
        ("auc", Role.METRIC),
        ("eval_wer", Role.METRIC),
        ("lr", Role.LR),
        ("learning_rate", Role.LR),
        ("lr-Adam", Role.LR),
        ("train/learning_rate", Role.LR),
        ("grad_norm", Role.OTHER),
        ("epoch_time", Role.OTHER),
        ("", Role.OTHER),
    ],
)
def test_infer_role(name, role):
    assert infer_role(name) is role


def test_metric_direction():
    assert metric_direction("val_accuracy") == 1
    assert metric_direction("train_mae") == -1
    assert metric_direction("tokens_per_sec") == 0


def test_series_keeps_non_finite_values():
    s = Series("loss", [0, 1, 2, 3], [1.0, np.nan, np.inf, -np.inf])
    assert s.role is Role.TRAIN_LOSS
    assert s.n_finite == 1
    assert np.isnan(s.values[1]) and np.isposinf(s.values[2]) and np.isneginf(s.values[3])


def test_series_is_read_only():
    s = Series("loss", [0, 1], [1.0, 0.5])
    with pytest.raises(ValueError):
        s.values[0] = 3.0


@pytest.mark.parametrize(
    "steps, values, exc, fragment",
    [
        ([], [], EmptySeriesError, "empty"),
        ([0, 2, 1], [1, 2, 3], InvalidStepsError, "unsorted"),
        ([0, 1, 1], [1, 2, 3], InvalidStepsError, "duplicate"),
        ([-1, 0, 1], [1, 2, 3], InvalidStepsError, "negative"),
        ([0, 1.5, 2], [1, 2, 3], InvalidStepsError, "integer"),
        ([0, 1, 2], [1, 2], LengthMismatchError, "3 steps but 2 values"),
        ([0, 1, 2], [1, "x", 3], ParseError, "'x'"),
        ([[0, 1]], [[1, 2]], InputError, "1-D"),
        ([0, np.nan], [1, 2], InvalidStepsError, "finite"),
        (["a", "b"], [1, 2], ParseError, "numbers"),
    ],
)
def test_series_rejects_bad_input(steps, values, exc, fragment):
    with pytest.raises(exc, match=fragment) as info:
        Series("loss", steps, values)
    assert "'loss'" in str(info.value)  # names the series
    assert isinstance(info.value, CurvestatError)


def test_run_from_dict_both_shapes():
    run = Run.from_dict({"loss": [3.0, 2.0, 1.0], "val_loss": ([0, 2], [3.5, 1.5])}, run_id="r1")
    assert run.names == ["loss", "val_loss"]
    assert run.train_loss.steps.tolist() == [0, 1, 2]
    assert run.val_loss.steps.tolist() == [0, 2]
    assert run.run_id == "r1"


def test_run_primary_series_is_densest():
    run = Run.from_dict({"train_loss_epoch": ([99, 199], [1.0, 0.5]), "train_loss_step": np.linspace(2, 0.4, 200)})
    assert run.train_loss.name == "train_loss_step"
    assert [s.name for s in run.by_role("train_loss")] == ["train_loss_epoch", "train_loss_step"]


def test_run_roles_override():
    run = Run.from_dict({"objective": [3, 2, 1], "holdout": [3, 3, 3]}, roles={"objective": "train_loss", "holdout": Role.VAL_LOSS})
    assert run.train_loss.name == "objective" and run.val_loss.name == "holdout"


def test_run_roles_for_absent_series():
    with pytest.raises(MissingSeriesError, match="absent"):
        Run.from_dict({"loss": [1, 2]}, roles={"nope": "train_loss"})


def test_run_unknown_role():
    with pytest.raises(ParameterError, match="unknown role"):
        Run.from_dict({"loss": [1, 2]}, roles={"loss": "banana"})


@pytest.mark.parametrize(
    "data, exc, fragment",
    [
        ({}, EmptySeriesError, "no series"),
        ({"loss": [np.nan, np.nan]}, EmptySeriesError, "finite"),
        ({"loss": ([0, 1, 2], [1.0, 2.0])}, LengthMismatchError, "3 steps but 2 values"),
        ({"loss": np.ones((3, 2))}, InputError, "1-D"),
    ],
)
def test_run_rejects_bad_dicts(data, exc, fragment):
    with pytest.raises(exc, match=fragment):
        Run.from_dict(data)


def test_run_keeps_all_nan_series_next_to_data():
    # An all-NaN metric next to a real loss is evidence, not a reason to fail.
    run = Run.from_dict({"loss": [1.0, 0.5], "val_recall": [np.nan, np.nan]})
    assert run["val_recall"].n_finite == 0


def test_run_missing_series_message():
    run = Run.from_dict({"loss": [1.0, 0.5]})
    with pytest.raises(MissingSeriesError, match="no series named 'x'"):
        run["x"]


@pytest.mark.parametrize("spe", [0, -3, 2.5, True])
def test_run_rejects_bad_steps_per_epoch(spe):
    with pytest.raises(InputError, match="steps_per_epoch"):
        Run.from_dict({"loss": [1.0, 0.5]}, steps_per_epoch=spe)
