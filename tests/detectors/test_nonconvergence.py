"""Non-convergence detector: flat, bouncing, rising, chance level; fast-drop plateaus are healthy.

Every finding's p-value tests H0 = healthy ("the loss improved by at least
min_improvement", "it ended clearly below chance level"), so a flat run has a
small p-value and survives Benjamini-Hochberg across runs.
"""

from __future__ import annotations

import numpy as np
import pytest

import curvestat
from curvestat import Config, Run, Skipped
from curvestat.detectors import get_detector

DET = get_detector("nonconvergence")


def _ar1(n, phi, sigma, seed):
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    z = rng.standard_normal(n) * sigma
    for t in range(1, n):
        e[t] = phi * e[t - 1] + z[t]
    return e


def _kinds(data, prior=None):
    out = DET.detect(Run.from_dict(data), Config(), prior=prior)
    assert not isinstance(out, Skipped)
    return [f.kind for f in out]


def test_flat_loss():
    y = 2.3 * np.exp(_ar1(1000, 0.5, 0.01, 0))
    out = DET.detect(Run.from_dict({"loss": y}), Config())
    assert [f.kind for f in out] == ["flat"]
    assert out[0].pathology.value == "non_convergence" and abs(out[0].effect["improvement"]) < 0.05
    assert "does not decrease" in out[0].message


def test_bouncing_loss_suggests_a_lower_learning_rate():
    y = 2.3 * np.exp(_ar1(1000, 0.2, 0.5, 1))
    out = DET.detect(Run.from_dict({"loss": y}), Config())
    assert [f.kind for f in out] == ["bouncing"]
    assert "learning rate" in out[0].remedies[0]


def test_rising_loss():
    t = np.linspace(0, 1, 800)
    y = 1.0 * (1 + 0.4 * t) * np.exp(_ar1(800, 0.3, 0.02, 2))
    assert _kinds({"loss": y}) == ["rising"]


@pytest.mark.parametrize("seed", range(4))
def test_fast_drop_then_long_plateau_is_healthy(seed):
    t = np.arange(5000)
    y = (0.2 + 2.0 * np.exp(-t / 50)) * np.exp(_ar1(5000, 0.8, 0.03, seed))
    assert _kinds({"loss": y}) == []


def test_loss_rounded_to_zero_has_converged():
    # Hugging Face logs the loss with 4 decimals: a loss that went to ~0 is
    # logged as 0.0 from some step on. That run trained; a flat one at 0.5
    # with zeros mixed in (a degenerate log) did not.
    t = np.arange(300)
    y = np.round(0.85 * np.exp(-t / 3.0) * np.exp(_ar1(300, 0.3, 0.1, 3)), 4)
    assert (y == 0).sum() > 200
    assert _kinds({"loss": y}) == []
    flat = np.round(0.5 * np.exp(_ar1(1000, 0.3, 0.02, 4)), 4)
    flat[::7] = 0.0
    assert _kinds({"loss": flat}) != []  # not trained (flat, bouncing or rising)


@pytest.mark.parametrize("phi", [0.0, 0.6, 0.95])
def test_decreasing_loss_with_autocorrelated_noise_is_healthy(phi):
    t = np.arange(3000)
    y = (0.3 + 1.5 * np.exp(-t / 800)) * np.exp(_ar1(3000, phi, 0.05 * np.sqrt(1 - phi**2), 3))
    assert _kinds({"loss": y}) == []


def test_short_per_epoch_run():
    assert _kinds({"loss": [2.3, 1.9, 1.5, 1.3, 1.2, 1.1, 1.05, 1.0, 0.98, 0.97]}) == []
    assert _kinds({"loss": [2.3, 2.31, 2.29, 2.3, 2.32, 2.3, 2.29, 2.31, 2.3, 2.3]}) == ["flat"]


def test_judged_before_an_explosion_only():
    t = np.arange(2000)
    y = (0.3 + 2 * np.exp(-t / 300)) * np.exp(_ar1(2000, 0.3, 0.02, 4))
    y[1500:] *= 40  # the loss improved, then exploded: not a non-convergence
    r = curvestat.analyze({"loss": y})
    assert [f.pathology.value for f in r.findings] == ["explosion"]
    flat = 2.0 * np.exp(_ar1(2000, 0.3, 0.02, 5))
    flat[1500:] *= 40
    r = curvestat.analyze({"loss": flat})
    nc = [f for f in r.findings if f.pathology.value == "non_convergence"]
    assert nc and "before the explosion at step 1500" in nc[0].message


def test_uses_validation_loss_when_no_train_loss():
    y = 1.0 * np.exp(_ar1(40, 0.0, 0.005, 6))
    out = DET.detect(Run.from_dict({"val_loss": y}), Config())
    assert [(f.kind, f.series) for f in out] == [("flat", "val_loss")]


def test_too_short_and_missing():
    out = DET.detect(Run.from_dict({"loss": [2.0, 1.0, 0.5]}), Config())
    assert isinstance(out, Skipped) and "need 8" in out.reason
    out = DET.detect(Run.from_dict({"acc": [0.1, 0.2]}), Config())
    assert isinstance(out, Skipped) and "no loss" in out.reason


def test_false_alarm_rate_on_healthy_synthetic_curves():
    # Healthy curves of the benchmark generator (all schedules and noise kinds):
    # the flag rate must stay at the 2 % level the issue asks for.
    from curvestat.bench import synthetic

    corpus = synthetic(n=300, seed=11, healthy_fraction=1.0)
    flagged = 0
    for item in corpus:
        out = DET.detect(item.run, Config())
        flagged += bool(out) and not isinstance(out, Skipped)
    assert flagged / len(corpus) <= 0.03


def _t3_ar1(n, phi, rng):
    # AR(1) with unit marginal sd and Student-t(3) innovations
    e = rng.standard_t(3, n) / np.sqrt(3.0)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x * np.sqrt(1 - phi**2)


@pytest.mark.parametrize("seed", range(3))
def test_flat_run_gets_a_small_p_value(seed):
    # H0 is healthy behaviour: the flatter and longer the run, the smaller p
    y = 2.0 * np.exp(_ar1(2000, 0.5, 0.02, seed))
    (f,) = DET.detect(Run.from_dict({"loss": y}), Config())
    assert f.kind == "flat" and f.p_value < 1e-4
    assert f.effect["required_decrease"] == pytest.approx(-np.log(0.95))
    # the Mann-Kendall trend evidence stays in the effect
    assert {"tau", "p_trend_decreasing", "p_trend_increasing", "sen_slope_per_block"} <= set(f.effect)


def test_benjamini_hochberg_keeps_a_flat_run_among_healthy_ones():
    # issue 15 class 11: with "p for a decrease" BH could never keep it
    t = np.arange(1000)
    runs = [{"loss": (0.2 + 2 * np.exp(-t / 100)) * np.exp(_ar1(1000, 0.3, 0.03, s))} for s in range(9)]
    runs.append({"loss": 2.0 * np.exp(_ar1(1000, 0.3, 0.01, 99))})
    res = curvestat.analyze_many(runs, fdr=0.01)
    flagged = [i for i, r in enumerate(res.rows) if "non_convergence" in r["pathologies"]]
    assert flagged == [9]


def test_shortfall_test_holds_its_level_on_the_boundary():
    # a loss that improves by exactly the practical minimum (5 %) under AR(1)
    # phi = 0.9 noise with t(3) innovations: H0 holds, p <= 0.01 must be rare
    from curvestat.detectors.nonconvergence import _shortfall_pvalue

    rng = np.random.default_rng(0)
    n, d0 = 200, -np.log(0.95)
    k_first, k_last = 4, 20
    base = -np.arange(n) / (n - 1)
    base *= d0 / (np.median(base[:k_first]) - np.median(base[-k_last:]))
    p = np.array([_shortfall_pvalue(base + 0.01 * _t3_ar1(n, 0.9, rng), k_first, k_last, d0)[0] for _ in range(300)])
    assert (p <= 0.01).mean() <= 0.03
    # ... while a flat loss with the same noise is found (power)
    q = np.array([_shortfall_pvalue(0.01 * _t3_ar1(n, 0.9, rng), k_first, k_last, d0)[0] for _ in range(100)])
    assert (q <= 0.01).mean() >= 0.3  # 0.44 measured: the 4-point start window of a 200-point run is noisy


@pytest.mark.parametrize("seed", range(3))
def test_shuffled_labels_plateau_at_ln_k_is_chance_level(seed):
    # issue 15 class 10, the shape of a linear model on digits with shuffled
    # labels (or a learning rate 1e4 too small): the loss falls 6-9 % from its
    # initialisation and plateaus at ln 10, i.e. learns the label prior only
    rng = np.random.default_rng(seed)
    t = np.arange(640)
    y = (2.28 + 0.19 * np.exp(-t / 60)) * np.exp(0.03 * _t3_ar1(640, 0.3, rng))
    ev = t[::64]
    run = {"loss": y, "val_loss": (ev, np.full(ev.size, 2.31)), "val_accuracy": (ev, 0.1 + 0.02 * rng.standard_normal(ev.size))}
    (f,) = DET.detect(Run.from_dict(run), Config())
    assert 0.05 < f.effect["improvement"] < 0.1  # above the 5 % practical minimum
    assert f.kind == "chance_level" and f.p_value < 1e-3
    # K from the initial loss (2.47, a linear model on standardised digits):
    # round(exp(2.47 - 0.1)) = 11, ambiguous by a class (10-12)
    assert round(np.exp(f.effect["chance_level"])) in (10, 11, 12)
    assert "chance level" in f.message and "features carry signal" in f.remedies[0]


@pytest.mark.parametrize("seed", range(3))
def test_binary_cross_entropy_at_ln_2_is_chance_level(seed):
    # tiny-learning-rate SGD on breast_cancer: 0.71 -> 0.67 over 150 steps
    rng = np.random.default_rng(seed)
    t = np.arange(150)
    y = (0.665 + 0.06 * np.exp(-t / 30)) * np.exp(0.03 * _t3_ar1(150, 0.2, rng))
    (f,) = DET.detect(Run.from_dict({"train/bce_loss": y}), Config())
    assert f.kind == "chance_level" and f.effect["chance_level"] == pytest.approx(np.log(2))


@pytest.mark.parametrize("seed", range(3))
def test_hard_but_learning_tasks_are_not_at_chance(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(800)
    # 10 classes, 2.30 -> 1.9: a hard task that learns
    y = (1.9 + 0.4 * np.exp(-t / 200)) * np.exp(0.03 * _t3_ar1(800, 0.5, rng))
    assert _kinds({"loss": y, "val_accuracy": (t[::80], np.linspace(0.1, 0.3, 10))}) == []
    # binary, 0.693 -> 0.6
    y = (0.6 + 0.093 * np.exp(-t / 200)) * np.exp(0.02 * _t3_ar1(800, 0.5, rng))
    assert _kinds({"nll": y}) == []


def test_chance_level_needs_a_recognised_loss():
    # a loss of unknown kind at 2.3 that improves 8 %: no chance level to
    # compare with, and above the practical minimum: not flagged
    rng = np.random.default_rng(4)
    t = np.arange(600)
    y = (2.30 + 0.2 * np.exp(-t / 40)) * np.exp(0.01 * rng.standard_normal(600))
    assert _kinds({"loss": y}) == []
    assert _kinds({"cross_entropy": y}) == ["chance_level"]


def test_standardised_mse_at_the_target_variance_is_chance_level():
    rng = np.random.default_rng(5)
    t = np.arange(500)
    y = (0.99 + 0.07 * np.exp(-t / 50)) * np.exp(0.02 * rng.standard_normal(500))
    (f,) = DET.detect(Run.from_dict({"mse_loss": y}), Config())
    assert f.kind == "chance_level" and f.effect["chance_level"] == 1.0
    # the same MSE learning to 0.5 is healthy
    assert _kinds({"mse_loss": 0.5 + 0.5 * np.exp(-t / 50) * np.exp(0.02 * rng.standard_normal(500))}) == []


def test_chance_level_can_be_turned_off():
    from dataclasses import replace

    rng = np.random.default_rng(6)
    t = np.arange(600)
    y = (2.30 + 0.2 * np.exp(-t / 40)) * np.exp(0.01 * rng.standard_normal(600))
    cfg = replace(Config(), nonconvergence=replace(Config().nonconvergence, chance_margin=1.0))
    assert DET.detect(Run.from_dict({"cross_entropy": y}), cfg) == []


def test_four_class_fine_tune_flat_at_ln_4_is_chance_level():
    # the shape of a public LoRA fine-tune on AG News (4 classes): 12 logged
    # losses flat at 1.395, ln 4 = 1.386
    rng = np.random.default_rng(7)
    y = 1.395 * np.exp(0.002 * rng.standard_normal(12))
    (f,) = DET.detect(Run.from_dict({"loss": y, "eval_accuracy": (np.arange(12), np.full(12, 0.25))}), Config())
    assert f.kind == "chance_level" and f.effect["chance_level"] == pytest.approx(np.log(4))


def test_a_loss_that_trained_and_came_back_is_not_at_chance():
    # a spike that stays high returns the loss to about ln 10 after it had
    # trained to 0.3: the explosion's run (issue 15 class 7), not chance level
    rng = np.random.default_rng(8)
    t = np.arange(1000)
    y = (0.3 + 2.0 * np.exp(-t / 50)) * np.exp(0.02 * rng.standard_normal(1000))
    y[600:] = 2.25 * np.exp(0.02 * rng.standard_normal(400))
    out = DET.detect(Run.from_dict({"cross_entropy": y}), Config())
    assert "chance_level" not in [f.kind for f in out]
