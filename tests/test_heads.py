"""Every train/validation pair of a run is diagnosed (multi-task heads, several evaluation sets)."""

import numpy as np
import pytest

import curvestat
from curvestat.heads import head_run, heads
from curvestat.run import Run


def _train(rng, n=2000, floor=0.05):
    steps = np.arange(n)
    return steps, floor + 2.0 * np.exp(-steps / 300) * np.exp(0.05 * rng.standard_normal(n))


def _val(rng, eval_steps, *, u_turn: bool):
    t = eval_steps / eval_steps[-1]
    v = 0.3 + 1.8 * np.exp(-eval_steps / 300)
    if u_turn:
        v = v + 0.6 * np.clip(t - 0.35, 0, None)  # rises about 100 % after its minimum
    return v * np.exp(0.01 * rng.standard_normal(eval_steps.size))


def test_heads_pair_by_task_and_ignore_loss_components():
    rng = np.random.default_rng(0)
    s, y = _train(rng)
    ev = s[49::50]
    run = Run.from_dict({
        "cls_loss": (s, y), "reg_loss": (s, y * 2), "kl_loss": (s, y / 3),
        "cls_val_loss": (ev, _val(rng, ev, u_turn=False)), "reg_val_loss": (ev, _val(rng, ev, u_turn=False)),
        "cls_val_accuracy": (ev, np.linspace(0.5, 0.9, ev.size)), "reg_val_mae": (ev, np.linspace(1, 0.2, ev.size)),
    })
    hs = heads(run)
    assert hs[0].primary and hs[0].train_loss is run.train_loss and hs[0].val_loss is run.val_loss
    assert sorted(h.label for h in hs) == ["cls_loss / cls_val_loss", "reg_loss / reg_val_loss"]
    sub = head_run(run, next(h for h in hs if not h.primary))
    assert sorted(sub.names) == ["reg_loss", "reg_val_loss", "reg_val_mae"]


def test_evaluation_sets_share_the_training_loss():
    rng = np.random.default_rng(1)
    s, y = _train(rng)
    ev = s[49::50]
    data = {"loss": (s, y)}
    data.update({f"eval_g{g}_loss": (ev, _val(rng, ev, u_turn=False)) for g in range(6)})
    hs = heads(Run.from_dict(data))
    assert len(hs) == 6
    assert {h.val_loss.name for h in hs} == {f"eval_g{g}_loss" for g in range(6)}
    assert all(h.train_loss.name == "loss" for h in hs)


def test_a_single_pair_is_one_head():
    rng = np.random.default_rng(2)
    s, y = _train(rng)
    ev = s[49::50]
    run = Run.from_dict({"loss": (s, y), "val_loss": (ev, _val(rng, ev, u_turn=False)), "train_loss_epoch": (ev, y[ev])})
    assert len(heads(run)) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_second_head_is_diagnosed(seed):
    rng = np.random.default_rng(seed)
    s, y = _train(rng)
    ev = s[49::50]
    run = {"cls_loss": (s, y), "cls_val_loss": (ev, _val(rng, ev, u_turn=False)),
           "reg_loss": (s, y * 1.5), "reg_val_loss": (ev, 1.5 * _val(rng, ev, u_turn=True))}
    report = curvestat.analyze(run)
    over = [f for f in report.findings if f.pathology.value == "overfitting" and f.severity.value != "info"]
    assert [f.series for f in over] == ["reg_val_loss"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_of_six_evaluation_sets_overfits(seed):
    rng = np.random.default_rng(10 + seed)
    s, y = _train(rng)
    ev = s[49::50]
    data = {"loss": (s, y)}
    data.update({f"eval_g{g}_loss": (ev, _val(rng, ev, u_turn=(g == 4))) for g in range(6)})
    report = curvestat.analyze(data)
    over = [f for f in report.findings if f.pathology.value == "overfitting" and f.severity.value != "info"]
    assert [f.series for f in over] == ["eval_g4_loss"]


def test_shared_training_loss_findings_are_not_repeated():
    rng = np.random.default_rng(3)
    s, y = _train(rng)
    y = y.copy()
    y[1500:] = np.nan  # one explosion of the shared training loss
    ev = s[49::50]
    data = {"loss": (s, y)}
    data.update({f"eval_g{g}_loss": (ev, _val(rng, ev, u_turn=False)) for g in range(3)})
    report = curvestat.analyze(data)
    explosions = [f for f in report.findings if f.pathology.value == "explosion"]
    assert len(explosions) == 1 and explosions[0].onset_step == 1500
