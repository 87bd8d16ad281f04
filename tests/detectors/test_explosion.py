"""Explosion detector: each sub-kind with its onset, the hard negatives, tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

import curvestat
import curvestat.examples
from curvestat import Config, Skipped
from curvestat.detectors import get_detector

DET = get_detector("explosion")


def _healthy(n=2000, sigma=0.03, seed=0, floor=0.3, amp=2.0, tau=None):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    tau = tau or n / 5
    return (floor + amp * np.exp(-t / tau)) * np.exp(sigma * rng.standard_normal(n))


def _find(run, kind=None):
    out = DET.detect(run if isinstance(run, curvestat.Run) else curvestat.Run.from_dict(run), Config())
    assert not isinstance(out, Skipped)
    return [f for f in out if (kind is None or f.kind == kind) and f.severity.value != "info"]


def test_divergence_onset_is_exact():
    y = _healthy()
    y[1234:] *= 20
    f = _find({"loss": y}, "divergence")
    assert len(f) == 1
    assert f[0].onset_step == 1234 and f[0].effect["ratio"] == pytest.approx(20, rel=0.1)
    assert f[0].severity.value == "critical" and f[0].p_value < 1e-3
    assert "step 1234" in f[0].message


def test_ramp_divergence_onset_at_the_start_of_the_ramp():
    y = _healthy(seed=1)
    ramp = np.clip((np.arange(y.size) - 900) / 40, 0, 1)
    y = y * np.exp(np.log(30) * ramp)
    f = _find({"loss": y}, "divergence")
    assert len(f) == 1 and abs(f[0].onset_step - 900) <= 3


def test_spike_reports_recovery():
    y = _healthy(seed=2)
    y[700:706] *= np.array([12, 8, 5, 3, 2, 1.5])
    f = _find({"loss": y})
    assert [x.kind for x in f] == ["spike"]
    assert f[0].onset_step == 700 and 701 <= f[0].effect["recovery_step"] <= 706
    assert f[0].effect["peak_ratio"] == pytest.approx(12, rel=0.15)


def test_steps_are_reported_in_logged_units():
    y = _healthy(seed=3)
    y[1500:] *= 10
    f = _find({"loss": (np.arange(y.size) * 50, y)}, "divergence")
    assert f[0].onset_step == 1500 * 50


def test_non_finite_and_divergence_before_it():
    y = _healthy(seed=4)
    y[1000:] *= 30
    y[1500:] = np.nan
    kinds = {f.kind: f.onset_step for f in _find({"loss": y})}
    assert kinds == {"divergence": 1000, "non_finite": 1500}


@pytest.mark.parametrize("seed", range(5))
def test_healthy_curves_are_not_flagged(seed):
    assert _find({"loss": _healthy(seed=seed, sigma=0.1)}) == []


def test_downward_steps_are_never_explosions():
    y = _healthy(seed=5)
    y[600:] *= 0.3  # learning-rate decay drop
    y[1300:] *= 0.5
    assert _find({"loss": y}) == []


def test_heavy_tailed_noise_is_not_an_explosion():
    rng = np.random.default_rng(6)
    hits = 0
    for i in range(20):
        y = _healthy(seed=100 + i) * np.exp(0.05 * rng.standard_t(3, 2000))
        hits += bool(_find({"loss": y}))
    assert hits <= 1


def test_ar1_noise_is_not_an_explosion():
    rng = np.random.default_rng(7)
    e = np.zeros(3000)
    for t in range(1, e.size):
        e[t] = 0.95 * e[t - 1] + 0.03 * rng.standard_normal()
    y = _healthy(n=3000, sigma=0.0) * np.exp(e)
    assert _find({"loss": y}) == []


def test_warm_restart_bumps_are_explained_by_the_logged_lr():
    n, cycles = 3000, 4
    x = (np.arange(n) * cycles / n) % 1.0
    lr = 1e-3 * (0.5 * (1 + np.cos(np.pi * x)) + 1e-3)
    y = _healthy(n=n, seed=8, sigma=0.02)
    y = y * np.where(x < 0.05, 3.0, 1.0)  # the loss jumps at each restart
    out = DET.detect(curvestat.Run.from_dict({"loss": y, "lr": lr}), Config())
    assert all(f.severity.value == "info" and f.kind == "explained_by_lr" for f in out)
    assert len(out) >= 1


def test_regular_recurrent_jumps_are_left_to_the_periodic_detector():
    n, period = 4000, 400
    y = _healthy(n=n, seed=9, sigma=0.02) * np.where(np.arange(n) % period < 20, 4.0, 1.0)
    assert _find({"loss": y}) == []


def test_negative_losses_only_get_the_non_finite_scan():
    y = -np.linspace(1, 2, 100)
    y[50] = np.inf
    assert [f.kind for f in _find({"loss": y})] == ["non_finite"]


def test_tiny_and_missing_inputs():
    assert _find({"loss": [1.0, 50.0, 60.0]}) == []  # too short for change points, no crash
    out = DET.detect(curvestat.Run.from_dict({"val_acc": [0.1, 0.2, 0.3]}), Config())
    assert isinstance(out, Skipped) and "no loss" in out.reason


def test_bundled_example_is_found_at_its_documented_onset():
    r = curvestat.analyze(curvestat.examples.example_path("explosion"), detectors=["explosion"])
    div = [f for f in r.findings if f.kind == "divergence"]
    assert div and abs(div[0].onset_step - 1230) <= 3


def test_a_jump_on_the_last_logged_point_is_judged_as_an_outlier():
    # heavy-tailed minibatch noise; the run's last logged point is a partial
    # batch of a few samples whose loss is 8x the level: nothing shows that it
    # stays up, so it must stand out as far as a one-point spike must
    y = _healthy(sigma=0.25, seed=3)
    y[-1] *= 8
    assert _find({"loss": y}) == []
    # a last point far beyond anything the noise makes is still reported
    y[-1] *= 1e4
    assert len(_find({"loss": y}, "divergence")) == 1
