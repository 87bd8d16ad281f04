"""Regenerate the bundled example runs: ``python -m curvestat.examples.generate``.

Each example is a realistic, seeded curve set with the pathology built in by
its usual cause, written as a wide CSV (``step, epoch, <metrics>``) with
metrics left empty on rows where they were not logged:

* ``healthy``: exponential decay to a floor under cosine LR decay, AR(1)
  noise; validation every epoch tracking train loss; accuracy rising.
* ``non_convergence``: a loss that bounces around its starting level (the
  learning rate is far too high): no downward trend.
* ``explosion``: a healthy start, then at step 1,230 the loss jumps ~40x and
  stays up, and turns NaN at step 1,610.
* ``metric_contradiction``: a loss that improves steadily while validation
  recall is exactly 0 throughout (99:1 imbalance, threshold 0.5).
* ``overfitting``: validation loss reaches its minimum at epoch 7 and climbs
  while train loss keeps falling.
* ``periodic``: data sorted by class and never shuffled: the loss repeats a
  step-like pattern every epoch (200 steps).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

STEPS_PER_EPOCH = 200
N_EPOCHS = 12
N_STEPS = STEPS_PER_EPOCH * N_EPOCHS
SEED = 20261121


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    e = rng.standard_normal(n) * sigma
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


def _cosine_lr(n: int, base: float = 1e-3) -> np.ndarray:
    return base * 0.5 * (1 + np.cos(np.pi * np.arange(n) / n))


def _healthy_loss(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n)
    clean = 0.25 + 2.0 * np.exp(-t / 350.0)
    return clean * np.exp(_ar1(rng, n, 0.6, 0.04))


def _eval_steps() -> np.ndarray:
    return np.arange(1, N_EPOCHS + 1) * STEPS_PER_EPOCH - 1


def _val_from_train(rng: np.random.Generator, train: np.ndarray, offset: float = 0.05) -> np.ndarray:
    # the validation loss is evaluated with the weights at the end of each
    # epoch: it tracks the train loss *there* (the mean of the epoch's last
    # tenth of steps, which only smooths the batch noise), not the epoch mean,
    # which lags a falling curve by half an epoch
    ev = _eval_steps()
    tail = max(1, STEPS_PER_EPOCH // 10)
    level = np.array([train[max(0, s - tail + 1) : s + 1].mean() for s in ev])
    return level + offset + rng.normal(0, 0.01, ev.size)


def make(name: str, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return ``{series: (steps, values)}`` for example ``name``."""
    steps = np.arange(N_STEPS)
    ev = _eval_steps()
    lr = _cosine_lr(N_STEPS)
    if name == "healthy":
        train = _healthy_loss(rng, N_STEPS)
        val = _val_from_train(rng, train)
        acc = np.clip(0.95 - 0.35 * (val - val.min()) / np.ptp(val) - 0.02 + rng.normal(0, 0.005, ev.size), 0, 1)
        return {"train_loss": (steps, train), "val_loss": (ev, val), "val_accuracy": (ev, acc), "lr": (steps, lr)}
    if name == "non_convergence":
        train = 2.3 * np.exp(_ar1(rng, N_STEPS, 0.3, 0.35))
        val = 2.3 + rng.normal(0, 0.05, ev.size)
        acc = 0.1 + rng.normal(0, 0.01, ev.size)
        return {"train_loss": (steps, train), "val_loss": (ev, val), "val_accuracy": (ev, acc), "lr": (steps, np.full(N_STEPS, 0.5))}
    if name == "explosion":
        train = _healthy_loss(rng, N_STEPS)
        onset, nan_at = 1230, 1610
        train[onset:] *= 40.0 * np.exp(np.linspace(0, 1.5, N_STEPS - onset))
        train[nan_at:] = np.nan
        val = _val_from_train(rng, np.nan_to_num(train, nan=np.nan))
        return {"train_loss": (steps, train), "val_loss": (ev, val), "lr": (steps, lr)}
    if name == "metric_contradiction":
        train = 0.08 + 0.6 * np.exp(-steps / 500.0)
        train = train * np.exp(_ar1(rng, N_STEPS, 0.5, 0.03))
        val = _val_from_train(rng, train, 0.01)
        recall = np.zeros(ev.size)
        acc = np.full(ev.size, 0.99)
        return {"train_loss": (steps, train), "val_loss": (ev, val), "val_recall": (ev, recall), "val_accuracy": (ev, acc), "lr": (steps, lr)}
    if name == "overfitting":
        train = 0.02 + 2.0 * np.exp(-steps / 400.0)
        train = train * np.exp(_ar1(rng, N_STEPS, 0.6, 0.03))
        e = np.arange(1, N_EPOCHS + 1)
        val = 0.55 + 1.2 * np.exp(-e / 1.6) + 0.045 * np.clip(e - 7, 0, None) ** 1.3 + rng.normal(0, 0.008, e.size)
        acc = np.clip(0.9 - 0.3 * np.exp(-e / 1.5) - 0.006 * np.clip(e - 7, 0, None), 0, 1)
        return {"train_loss": (steps, train), "val_loss": (ev, val), "val_accuracy": (ev, acc), "lr": (steps, np.full(N_STEPS, 1e-3))}
    if name == "periodic":
        train = _healthy_loss(rng, N_STEPS)
        # 4 classes in order within each epoch: each block of 50 steps sees one class
        phase = (steps % STEPS_PER_EPOCH) // (STEPS_PER_EPOCH // 4)
        train = train * np.array([0.75, 1.3, 0.9, 1.15])[phase]
        val = _val_from_train(rng, _healthy_loss(rng, N_STEPS))
        return {"train_loss": (steps, train), "val_loss": (ev, val), "lr": (steps, lr)}
    raise ValueError(name)


def write_csv(path: Path, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write ``{series: (steps, values)}`` as a sparse wide CSV with step and epoch columns."""
    names = list(data)
    all_steps = sorted(set().union(*(set(s.tolist()) for s, _ in data.values())))
    lookup = {n: dict(zip(s.tolist(), v.tolist())) for n, (s, v) in data.items()}
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "epoch", *names])
        for st in all_steps:
            row = [st, st // STEPS_PER_EPOCH]
            for n in names:
                v = lookup[n].get(st)
                row.append("" if v is None else ("nan" if v != v else f"{v:.6g}"))
            w.writerow(row)


def main() -> None:
    from . import EXAMPLES

    out = Path(__file__).resolve().parent
    for i, name in enumerate(EXAMPLES):
        rng = np.random.default_rng([SEED, i])
        write_csv(out / f"{name}.csv", make(name, rng))
        print(f"wrote {out / (name + '.csv')}")


if __name__ == "__main__":
    main()
