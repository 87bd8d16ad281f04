"""Seeded synthetic training curves with exact ground truth.

:func:`synthetic` draws a :class:`~curvestat.bench.corpus.Corpus` of runs that
look like what a practitioner sees in a logger: a per-step (or per-epoch)
train loss, a validation loss and one or two validation metrics every few
hundred steps, and the learning rate that produced them. Each run is built in
three layers:

1. **A healthy model of training.** A learning-rate schedule ``lr(t)`` (constant,
   exponential, step decay, cosine, linear warm-up + cosine, cosine with warm
   restarts, cyclic, linear decay) drives the optimisation progress
   ``P(t) ∝ Σ lr``; the clean loss is
   ``floor + A·decay(P(t)) + κ·floor·lr(t)/max(lr)`` with ``decay`` exponential
   or power-law and the last term the "noise ball" that makes the loss fall when
   the learning rate drops and rise at a warm restart. Noise is multiplicative
   (so heteroscedastic), AR(1) with coefficient φ, Gaussian or Student-t(3),
   and scales with the learning rate. Validation loss sits slightly above the
   train loss (relative gap 0-15 %) and keeps falling; metrics rise as the
   validation loss falls (optionally quantised or saturating at exactly 1).
2. **A pathology**, made by the mechanism that makes it in practice (below).
3. **Non-finite values** last, so that NaN stays NaN.

Kinds and their ``effect_size`` (the ``difficulty`` knob in [0, 1] moves each
effect from strongest at 0 to weakest at 1)::

    non_convergence  flat        loss level with a relative improvement of 0-4 %   effect = improvement
                     bouncing    the same under heavy noise (log-sd 0.3-0.8)     effect = improvement
                     rising      slow drift up, no jump                          effect = relative rise (1.0 .. 0.05)
    explosion        divergence  sustained jump of the loss at onset             effect = loss ratio (50 .. 1.5)
                     spike       transient jump that recovers within 5-20 points  effect = loss ratio (50 .. 2)
                     non_finite  NaN to the end, or one NaN/Inf value           effect = None
    metric_contradiction
                     recall_zero      val recall exactly 0 while the loss improves   effect = loss improvement
                     metric_constant  val accuracy stuck at chance (1/K)         effect = loss improvement
                     metric_flat      val f1 flat with noise, no trend           effect = loss improvement
                     metric_opposite  val precision falls as the loss improves   effect = loss improvement
    overfitting      u_turn      val loss turns up at onset, train keeps falling  effect = relative rise (1.0 .. 0.10)
                     growing_gap drawn, but labelled healthy (``memorisation``): the val loss
                                 plateaus at onset, the train loss falls on (a combination
                                 with another pathology takes ``u_turn`` instead)
                     split_mismatch val loss far above train from the start     effect = relative gap (2.0 .. 0.15)
    periodic         class_blocks data sorted by class: a jump at each class      effect = amplitude / noise sd
                                 block then adaptation, repeating every epoch   (5 .. 0.3)
                     sawtooth    within-epoch ramp, reset at each epoch          effect = amplitude / noise sd

A run labelled with both overfitting and explosion shows both: its U-turn or
growing gap develops its full effect over at least 6 evaluations, and the
explosion starts after that (a run that diverges one or two evaluations after
the validation minimum shows no overfitting worth the label).

Healthy hard negatives (``Truth.kind`` of healthy runs): ``plain``,
``warm_restarts`` and ``cyclic`` (periodic loss explained by the logged
learning rate), ``step_decay`` (sudden drops), ``small_spikes`` (isolated bumps
of 1.1-1.5x), ``heavy_tail`` (Student-t(3) noise), ``ar1`` (φ 0.8-0.97),
``epoch_staircase`` (2-3 epochs with a drop at each epoch boundary, as in
multi-epoch fine-tuning), ``saturated_metric`` (accuracy reaching exactly 1),
``quantised_metric`` (accuracy on a small validation set), ``noisy_val``
(validation loss with 3-8 % noise around its plateau), ``memorisation`` (the
overfitting generator's growing gap: the validation loss holds its plateau
within 0-2 % while the train loss falls on), ``scaled`` (loss
multiplied by 1e-3..1e3). Lengths run from 20 points (per-epoch Keras-style
logs) to 100,000 points; most runs have a few hundred to a few thousand.

Every run is generated from ``numpy.random.default_rng([seed, index])``, so a
run does not depend on the others: ``synthetic(n=10, seed=1)[3]`` equals
``synthetic(n=1000, seed=1)[3]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from ..errors import ParameterError
from ..report import Pathology
from ..run import Run, Series
from .corpus import Corpus, LabelledRun, Truth

__all__ = ["synthetic", "synthetic_run", "PATHOLOGY_KINDS", "HEALTHY_KINDS", "SCHEDULES"]

PATHOLOGY_KINDS: dict[Pathology, tuple[str, ...]] = {
    Pathology.NON_CONVERGENCE: ("flat", "bouncing", "rising"),
    Pathology.EXPLOSION: ("divergence", "spike", "non_finite"),
    Pathology.METRIC_CONTRADICTION: ("recall_zero", "metric_constant", "metric_flat", "metric_opposite"),
    Pathology.OVERFITTING: ("u_turn", "growing_gap", "split_mismatch"),
    Pathology.PERIODIC: ("class_blocks", "sawtooth"),
}

HEALTHY_KINDS: tuple[str, ...] = (
    "plain",
    "warm_restarts",
    "cyclic",
    "step_decay",
    "small_spikes",
    "heavy_tail",
    "ar1",
    "epoch_staircase",
    "saturated_metric",
    "quantised_metric",
    "noisy_val",
    "scaled",
)

SCHEDULES: tuple[str, ...] = (
    "constant",
    "exp_decay",
    "step_decay",
    "cosine",
    "warmup_cosine",
    "warm_restarts",
    "cyclic",
    "linear_decay",
)
# Schedules whose periodic learning rate makes the loss periodic (explained).
_PERIODIC_SCHEDULES = ("warm_restarts", "cyclic")

# Pairs of pathologies that co-occur in practice (multi-label runs).
_COMBOS: tuple[tuple[Pathology, Pathology], ...] = (
    (Pathology.PERIODIC, Pathology.OVERFITTING),
    (Pathology.METRIC_CONTRADICTION, Pathology.OVERFITTING),
    (Pathology.PERIODIC, Pathology.METRIC_CONTRADICTION),
    (Pathology.OVERFITTING, Pathology.EXPLOSION),
)


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _lerp_log(lo: float, hi: float, w: float) -> float:
    """Geometric interpolation: w=0 -> lo, w=1 -> hi."""
    return float(math.exp(math.log(lo) + w * (math.log(hi) - math.log(lo))))


# --- layout: steps, epochs, evaluations ---------------------------------------------------


@dataclass
class _Layout:
    n: int  # logged train points
    log_every: int
    steps: NDArray[np.int64]
    spe: int  # steps per epoch
    eval_idx: NDArray[np.int64]  # indices into steps where evaluation happens
    per_epoch: bool  # Keras-style log: one point per epoch

    @property
    def eval_steps(self) -> NDArray[np.int64]:
        return self.steps[self.eval_idx]


def _draw_n(rng: np.random.Generator, max_points: int, long_fraction: float) -> tuple[int, bool]:
    u = rng.random()
    if u < long_fraction:
        n = _loguniform(rng, 20_000, max(20_001, max_points))
    elif u < long_fraction + 0.06:
        n = _loguniform(rng, 5_000, 20_000)
    elif u < long_fraction + 0.16:
        return int(rng.integers(20, 151)), True  # per-epoch log
    else:
        n = _loguniform(rng, 150, 5_000)
    return int(min(max_points, round(n))), False


def _layout(
    rng: np.random.Generator,
    *,
    max_points: int,
    long_fraction: float,
    min_points: int = 20,
    min_epochs: int = 3,
    max_epochs: int = 60,
    min_per_epoch: int = 1,
    allow_per_epoch: bool = True,
    min_evals: int = 5,
) -> _Layout:
    n, per_epoch = _draw_n(rng, max_points, long_fraction)
    if per_epoch and not allow_per_epoch:
        n, per_epoch = int(round(_loguniform(rng, 150, 3000))), False
    n = int(min(max_points, max(n, min_points)))
    if per_epoch:
        steps = np.arange(n, dtype=np.int64)
        return _Layout(n, 1, steps, 1, np.arange(n, dtype=np.int64), True)
    log_every = 1 if (n > 3000 or rng.random() < 0.6) else int(rng.choice([2, 5, 10, 25]))
    steps = np.arange(n, dtype=np.int64) * log_every
    hi = max(min_epochs, min(max_epochs, n // max(min_per_epoch, 4)))
    n_epochs = int(rng.integers(min_epochs, hi + 1))
    per = max(1, n // n_epochs)  # points per epoch
    spe = per * log_every
    # evaluation: once per epoch when that gives enough evaluations, else a fixed count
    if n_epochs >= 8 and rng.random() < 0.6:
        k = per
    else:
        n_evals = int(rng.integers(max(min_evals, 8), 61))
        k = max(1, n // n_evals)
    eval_idx = np.arange(k - 1, n, k, dtype=np.int64)
    if eval_idx.size < min_evals:
        k = max(1, n // min_evals)
        eval_idx = np.arange(k - 1, n, k, dtype=np.int64)
    return _Layout(n, log_every, steps, spe, eval_idx, False)


# --- learning-rate schedules ----------------------------------------------------------------


def _schedule(rng: np.random.Generator, name: str, x: NDArray[np.float64], lay: _Layout) -> NDArray[np.float64]:
    """Relative learning rate (max 1) at run fractions ``x`` in [0, 1]."""
    if name == "constant":
        lr = np.ones_like(x)
    elif name == "exp_decay":
        lr = np.exp(-x * rng.uniform(1.0, 4.0))
    elif name == "step_decay":
        ms = sorted(rng.choice([0.3, 0.5, 0.6, 0.75, 0.9], size=int(rng.integers(1, 4)), replace=False))
        lr = np.ones_like(x)
        for m in ms:
            lr = np.where(x >= m, lr * 0.1, lr)
    elif name == "cosine":
        lr = 0.5 * (1 + np.cos(np.pi * x)) + 1e-3
    elif name == "warmup_cosine":
        w = rng.uniform(0.02, 0.1)
        lr = np.where(x < w, (x + 1e-3) / w, 0.5 * (1 + np.cos(np.pi * (x - w) / (1 - w))) + 1e-3)
    elif name == "warm_restarts":
        cycles = int(rng.integers(3, 9))
        ph = (x * cycles) % 1.0
        lr = 0.5 * (1 + np.cos(np.pi * ph)) + 1e-3
    elif name == "cyclic":
        cycles = int(rng.integers(3, 9))
        ph = (x * cycles) % 1.0
        lr = 0.1 + 0.9 * (1 - np.abs(2 * ph - 1))
    elif name == "linear_decay":
        w = rng.uniform(0.0, 0.06)
        lr = np.where(x < w, (x + 1e-3) / max(w, 1e-3), np.maximum(1 - (x - w) / (1 - w), 1e-3))
    else:  # pragma: no cover - guarded by callers
        raise ParameterError(f"unknown schedule {name!r}")
    return np.clip(lr, 1e-4, None) / max(float(np.max(lr)), 1e-12)


# --- noise ---------------------------------------------------------------------------------


def _ar1(rng: np.random.Generator, n: int, phi: float, heavy: bool) -> NDArray[np.float64]:
    """Unit-variance AR(1) noise with Gaussian or Student-t(3) innovations."""
    z = rng.standard_t(3, size=n) / math.sqrt(3.0) if heavy else rng.standard_normal(n)
    if phi <= 0:
        return z
    # e[t] = phi e[t-1] + sqrt(1 - phi^2) z[t], started in the stationary law (e[-1] ~ N(0, 1))
    e, _ = lfilter([math.sqrt(1 - phi * phi)], [1.0, -phi], z, zi=[phi * rng.standard_normal()])
    return np.asarray(e, dtype=np.float64)


# --- the healthy model ---------------------------------------------------------------------


@dataclass
class _Curves:
    lay: _Layout
    lr: NDArray[np.float64]  # relative lr at train points
    lr0: float
    schedule: str
    P: NDArray[np.float64]  # progress at train points
    y: NDArray[np.float64]  # clean train loss
    v: NDArray[np.float64] | None  # clean val loss at eval points
    floor: float
    A: float
    sigma: float
    phi: float
    heavy: bool
    sigma_v: float
    metrics: dict[str, NDArray[np.float64]]  # name -> clean metric at eval points
    metric_names: list[str]
    m_lo: float
    m_hi: float
    quantise: int | None = None
    exact: frozenset[str] = frozenset()  # metrics logged without noise (stuck exactly)
    chance_after: int | None = None  # eval index from which metrics collapse to chance


def _decay_fn(rng: np.random.Generator):
    if rng.random() < 0.5:
        return lambda P: np.exp(-P)
    alpha = rng.uniform(0.5, 2.0)
    return lambda P: (1.0 + P) ** (-alpha)


def _healthy_curves(
    rng: np.random.Generator,
    lay: _Layout,
    *,
    schedule: str,
    with_val: bool = True,
    n_metrics: int | None = None,
    scale: float = 1.0,
) -> _Curves:
    x = lay.steps / max(1, lay.steps[-1])
    lr = _schedule(rng, schedule, x, lay)
    lr0 = _loguniform(rng, 1e-4, 1e-1)
    ptot = rng.uniform(3.0, 9.0)
    cum = np.cumsum(lr)
    P = ptot * cum / cum[-1]
    decay = _decay_fn(rng)
    floor = scale * rng.uniform(0.02, 0.5)
    A = scale * rng.uniform(0.5, 3.0)
    kappa = rng.uniform(0.02, 0.3)
    d = decay(P)
    y = floor + A * d + kappa * floor * lr
    if lay.per_epoch:
        sigma = _loguniform(rng, 0.003, 0.03)
    else:
        sigma = _loguniform(rng, 0.01, 0.25)
    phi = rng.uniform(0.0, 0.9)
    v = None
    metrics: dict[str, NDArray[np.float64]] = {}
    names: list[str] = []
    m_lo, m_hi = rng.uniform(0.1, 0.5), rng.uniform(0.7, 0.99)
    sigma_v = _loguniform(rng, 0.003, 0.03)
    if with_val:
        ei = lay.eval_idx
        g0, g1 = rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.1)
        v = floor * (1 + g0) + A * (1 + g1) * d[ei] + 0.5 * kappa * floor * lr[ei]
        if n_metrics is None:
            n_metrics = int(rng.choice([0, 1, 1, 1, 2]))
        pool = ["val_accuracy", "val_f1", "val_recall", "val_auc", "val_precision"]
        names = [str(s) for s in rng.choice(pool, size=n_metrics, replace=False)] if n_metrics else []
    c = _Curves(lay, lr, lr0, schedule, P, y, v, floor, A, sigma, phi, False, sigma_v, metrics, names, m_lo, m_hi)
    _refresh_metrics(c)
    return c


def _refresh_metrics(c: _Curves) -> None:
    """Metrics rise as the clean validation loss falls."""
    if c.v is None:
        return
    v = c.v
    vmin, v0 = float(np.min(v)), float(v[0])
    span = max(v0 - vmin, 1e-12)
    excess = np.clip((v - vmin) / span, 0.0, 1.0)
    for i, name in enumerate(c.metric_names):
        hi = c.m_hi - 0.03 * i
        c.metrics[name] = c.m_lo + (hi - c.m_lo) * (1 - excess)


# --- assembling a Run ------------------------------------------------------------------------


def _observe(rng: np.random.Generator, c: _Curves, *, lr_noise: bool = True) -> dict[str, Any]:
    """Apply noise; return series data {name: (steps, values)}."""
    lay = c.lay
    e = _ar1(rng, lay.n, c.phi, c.heavy)
    sig = c.sigma * (0.6 + 0.4 * c.lr) if lr_noise else np.full(lay.n, c.sigma)
    y = c.y * np.exp(sig * e)
    # series in the order a logger's CSV yields them (per-step columns first)
    out: dict[str, Any] = {"loss": (lay.steps, y), "lr": (lay.steps, c.lr0 * c.lr)}
    if c.v is not None:
        ev = c.v * np.exp(c.sigma_v * rng.standard_normal(c.v.size))
        out["val_loss"] = (lay.eval_steps, ev)
        for name in c.metric_names:
            if name in c.exact:
                out[name] = (lay.eval_steps, c.metrics[name].copy())
                continue
            m = c.metrics[name] + rng.normal(0, rng.uniform(0.003, 0.02), c.v.size)
            m = np.clip(m, 0.0, 1.0)
            if c.quantise:
                m = np.round(m * c.quantise) / c.quantise
            out[name] = (lay.eval_steps, m)
    return out


def _to_run(data: dict[str, Any], run_id: str, spe: int | None) -> Run:
    series = [Series(k, s, v) for k, (s, v) in data.items()]
    return Run(series, steps_per_epoch=spe, run_id=run_id)


# --- pathologies -----------------------------------------------------------------------------


def _onset_index(rng: np.random.Generator, n: int, lo: float = 0.25, hi: float = 0.8) -> int:
    return int(rng.integers(max(2, int(lo * n)), max(3, int(hi * n))))


def _make_healthy(rng, run_id, kind, max_points, long_fraction, difficulty):
    schedule = str(rng.choice([s for s in SCHEDULES if s not in _PERIODIC_SCHEDULES]))
    if kind in ("warm_restarts", "cyclic", "step_decay"):
        schedule = kind
    scale = _loguniform(rng, 1e-3, 1e3) if kind == "scaled" else 1.0
    if kind == "epoch_staircase":
        lay = _layout(rng, max_points=max_points, long_fraction=0.0, min_points=200, min_epochs=2, max_epochs=3, allow_per_epoch=False)
    else:
        lay = _layout(rng, max_points=max_points, long_fraction=long_fraction)
    with_val = rng.random() < 0.85 or kind in ("saturated_metric", "quantised_metric", "noisy_val")
    n_metrics = 1 if kind in ("saturated_metric", "quantised_metric") else None
    c = _healthy_curves(rng, lay, schedule=schedule, with_val=with_val, n_metrics=n_metrics, scale=scale)
    if kind == "heavy_tail":
        c.heavy = True
    elif kind == "ar1":
        c.phi = rng.uniform(0.8, 0.97)
    elif kind == "epoch_staircase" and lay.spe < lay.steps[-1]:
        drop = rng.uniform(0.05, 0.2)
        epoch = lay.steps // lay.spe
        c.y = c.y * (1 - drop) ** epoch
    elif kind == "saturated_metric":
        c.m_hi = 1.06  # clipped at exactly 1 once converged
        _refresh_metrics(c)
    elif kind == "quantised_metric":
        c.quantise = int(rng.integers(20, 200))
    elif kind == "noisy_val":
        c.sigma_v = rng.uniform(0.03, 0.08)
    data = _observe(rng, c)
    if kind == "small_spikes" and lay.n >= 20:
        y = data["loss"][1].copy()
        k = int(rng.integers(1, 6))
        for i in rng.choice(np.arange(5, lay.n), size=min(k, lay.n - 5), replace=False):
            y[i] *= rng.uniform(1.1, 1.5)
        data["loss"] = (lay.steps, y)
    truth = Truth(frozenset(), None, None, kind, None, schedule, difficulty)
    return _to_run(data, run_id, lay.spe), truth


def _positive(rng: np.random.Generator, labels: Sequence[Pathology], kinds: dict[Pathology, str], d: float,
              run_id: str, max_points: int, long_fraction: float) -> tuple[Run, Truth]:
    s = 1.0 - d  # strength
    labels = list(labels)
    has = set(labels)
    need_val = bool(has & {Pathology.OVERFITTING, Pathology.METRIC_CONTRADICTION})
    periodic = Pathology.PERIODIC in has
    allowed = [x for x in SCHEDULES if x not in _PERIODIC_SCHEDULES]
    if Pathology.NON_CONVERGENCE in has:
        allowed = ["constant", "constant", "exp_decay", "cosine", "warmup_cosine", "step_decay"]
    schedule = str(rng.choice(allowed))
    if periodic:
        lay = _layout(rng, max_points=max_points, long_fraction=long_fraction, min_points=200, min_epochs=4,
                      max_epochs=40, min_per_epoch=8, allow_per_epoch=False)
    else:
        lay = _layout(rng, max_points=max_points, long_fraction=long_fraction, min_points=30,
                      min_evals=10 if Pathology.OVERFITTING in has else 5)
    n_metrics = None
    c = _healthy_curves(rng, lay, schedule=schedule, with_val=need_val or rng.random() < 0.85, n_metrics=n_metrics)
    onset: int | None = None
    onset_res: float | None = None  # evaluation interval, for an onset on the validation loss
    period: float | None = None
    effect: float | None = None
    nonfinite: tuple[int, str] | None = None
    kind_parts = []

    # --- non-convergence replaces the healthy trend
    if Pathology.NON_CONVERGENCE in has:
        k = kinds[Pathology.NON_CONVERGENCE]
        kind_parts.append(k)
        x = lay.steps / max(1, lay.steps[-1])
        level = rng.choice([math.log(2), math.log(3), math.log(10), math.log(100)]) if rng.random() < 0.5 else _loguniform(rng, 0.05, 20.0)
        c.A = 0.0
        if k in ("flat", "bouncing"):
            impr = 0.04 * d
            ramp = 1 - np.exp(-x * rng.uniform(1, 10))
            c.y = level * (1 - impr * ramp / max(ramp[-1], 1e-12))
            effect = impr
            if k == "bouncing":
                c.sigma = rng.uniform(0.3, 0.8)
                c.phi = rng.uniform(0.0, 0.5)
        else:  # rising
            rise = _lerp_log(1.0, 0.05, d)
            c.y = level * (1 + rise * x ** rng.uniform(0.7, 1.5))
            effect = rise
        if c.v is not None:
            ev = lay.eval_idx
            c.v = c.y[ev] * (1 + rng.uniform(0.0, 0.1))
            c.m_hi = c.m_lo + rng.uniform(0.0, 0.02)
            _refresh_metrics(c)
            for name in c.metric_names:
                c.metrics[name] = np.full(ev.size, c.m_lo)

    # --- metric contradiction: the loss must improve clearly
    if Pathology.METRIC_CONTRADICTION in has:
        k = kinds[Pathology.METRIC_CONTRADICTION]
        kind_parts.append(k)
        ratio = _lerp_log(0.3, 5.0, s)  # A / floor: the loss improvement
        c.A = c.floor * ratio
        d_ = np.exp(-c.P)
        c.y = c.floor + c.A * d_ + 0.1 * c.floor * c.lr
        ev = lay.eval_idx
        c.v = c.floor * 1.05 + c.A * d_[ev]
        effect = float(1 - c.y[-1] / c.y[0])
        n_ev = ev.size
        others = [m for m in c.metric_names if m not in ("val_recall", "val_accuracy", "val_f1", "val_precision")]
        c.metric_names = others[:1] + (["val_auc"] if rng.random() < 0.5 and "val_auc" not in others else [])
        _refresh_metrics(c)
        if k == "recall_zero":
            name, m = "val_recall", np.zeros(n_ev)
        elif k == "metric_constant":
            # at chance (1/K): a constant accuracy near its best (0.9-0.99) is a
            # plateau practitioners call healthy (issue 15), not a contradiction
            name, m = "val_accuracy", np.full(n_ev, 1.0 / float(rng.choice([2, 3, 4, 5, 10])))
        elif k == "metric_flat":
            name, m = "val_f1", np.full(n_ev, rng.uniform(0.05, 0.4))
        else:  # opposite
            name = "val_precision"
            m = rng.uniform(0.5, 0.8) - rng.uniform(0.05, 0.3) * (np.arange(n_ev) / max(1, n_ev - 1))
        c.metric_names.append(name)
        c.metrics[name] = m
        if k in ("recall_zero", "metric_constant"):
            c.exact = frozenset({name})
        c.quantise = None

    # --- overfitting acts on the validation curve
    exp_t0: int | None = None  # explosion onset index, drawn here when both are labelled
    if Pathology.OVERFITTING in has:
        k = kinds[Pathology.OVERFITTING]
        kind_parts.append(k)
        ev = lay.eval_idx
        ne = ev.size
        assert c.v is not None
        # the overfitting develops fully by ``end`` (an evaluation index): the
        # last evaluation, or, when the run also explodes, the last one before
        # the explosion -- a run labelled with both shows both, the
        # overfitting with its full effect and at least 6 evaluations long
        # before the explosion takes over
        end = ne - 1
        if k != "split_mismatch" and Pathology.EXPLOSION in has:
            hi_j = max(2, ne - 8)
        else:
            hi_j = ne
        if k == "u_turn":
            j = min(int(rng.integers(max(2, int(0.25 * ne)), max(3, int(0.7 * ne)))), hi_j)
        elif k == "growing_gap":
            j = min(int(rng.integers(max(2, int(0.2 * ne)), max(3, int(0.6 * ne)))), hi_j)
        if k != "split_mismatch" and Pathology.EXPLOSION in has:
            lo_e = min(j + 7, ne - 1)
            je = int(rng.integers(lo_e, max(lo_e + 1, int(0.9 * ne))))
            exp_t0 = int(ev[je - 1]) + 1
            end = je - 1
        if k == "u_turn":
            rise = _lerp_log(0.10, 1.0, s)  # from 10 %: smaller rises are marginal (info), not unhealthy
            r = np.clip((ev[j:] - ev[j]) / max(1, ev[end] - ev[j]), 0.0, 1.0)
            v = c.v.copy()
            v[j:] = c.v[j] * (1 + rise * r ** rng.uniform(0.7, 1.5))
            c.v = v
            onset = int(lay.steps[ev[j]])
            onset_res = float(np.median(np.diff(lay.steps[ev])))
            effect = rise
            if Pathology.METRIC_CONTRADICTION not in has:
                _hold_metrics(c, j)
        elif k == "growing_gap":
            t0 = ev[j]
            t_end = lay.n - 1 if end == ne - 1 else ev[end]
            h = np.clip((np.arange(lay.n) - t0) / max(1, t_end - t0), 0, 1)
            depth = _lerp_log(0.3, 0.95, s)  # share of the floor memorised away
            c.y = c.y - depth * c.floor * h
            v = c.v.copy()
            v[j:] = c.v[j] * (1 + 0.02 * s * np.clip((ev[j:] - t0) / max(1, ev[end] - t0), 0.0, 1.0))
            c.v = v
            onset = int(lay.steps[t0])
            onset_res = float(np.median(np.diff(lay.steps[ev])))
            effect = float(c.v[-1] / c.y[ev[-1]])
            if Pathology.METRIC_CONTRADICTION not in has:
                _hold_metrics(c, j)
        else:  # split_mismatch
            gap = _lerp_log(0.15, 2.0, s)
            c.v = c.v * (1 + gap)
            effect = gap

    # --- explosion on top of the clean curves
    if Pathology.EXPLOSION in has:
        k = kinds[Pathology.EXPLOSION]
        kind_parts.append(k)
        lo = 0.25
        if onset is not None:  # after an overfitting onset, so both are visible
            lo = max(lo, float(np.searchsorted(lay.steps, onset)) / lay.n + 0.1)
        if exp_t0 is not None:  # drawn with the overfitting, after it has developed
            t0 = min(exp_t0, lay.n - 2)
        else:
            t0 = _onset_index(rng, lay.n, min(lo, 0.85), 0.9 if lo > 0.75 else 0.8)
        exp_onset = int(lay.steps[t0])
        ev = lay.eval_idx
        if k == "divergence":
            ratio = _lerp_log(1.5, 50.0, s)
            w = int(rng.integers(1, max(2, lay.n // 100) + 1))
            ramp = np.clip((np.arange(lay.n) - t0 + 1) / w, 0, 1)
            drift = 1 + rng.uniform(0, 0.5) * np.clip((np.arange(lay.n) - t0) / max(1, lay.n - t0), 0, 1)
            c.y = c.y * np.exp(math.log(ratio) * ramp) * np.where(ramp > 0, drift, 1.0)
            if c.v is not None:
                c.v = c.v * np.exp(math.log(ratio) * ramp[ev])
                c.chance_after = int(np.searchsorted(ev, t0))
            effect = ratio
        elif k == "spike":
            ratio = _lerp_log(2.0, 50.0, s)
            # at least 5 points, so that two or more lie above half the
            # log-jump: a one-step blip that recovers at once is what
            # heavy-tailed minibatch noise makes, not an explosion (issue 15)
            w = int(rng.integers(5, 21))
            tau = max(0.5, w / 3)
            kk = np.arange(lay.n) - t0
            shape = np.where(kk >= 0, np.exp(-np.maximum(kk, 0) / tau), 0.0)
            shape[kk >= w] = 0.0
            c.y = c.y * np.exp(math.log(ratio) * shape)
            effect = ratio
        else:
            nonfinite = (t0, str(rng.choice(["nan_to_end", "nan_to_end", "nan_to_end", "single_inf", "single_nan"])))
            effect = None
        # Truth carries one onset: the earliest pathology's (an overfitting
        # onset precedes the explosion drawn after it).
        if onset is None:
            onset = exp_onset

    # --- periodic: the data is ordered by class and not shuffled
    if periodic:
        k = kinds[Pathology.PERIODIC]
        kind_parts.append(k)
        per = lay.spe // lay.log_every  # points per epoch
        pos = np.arange(lay.n) % per
        if k == "class_blocks":
            K = int(rng.integers(2, min(10, max(2, per // 4)) + 1))
            block = np.minimum(pos * K // per, K - 1)
            offs = rng.standard_normal(K)
            blen = per / K
            inb = pos - np.floor(block * blen)
            tau = rng.uniform(0.1, 0.5) * blen
            adapt = rng.uniform(0.5, 2.0) * np.exp(-inb / max(tau, 0.5))
            pat = offs[block] + adapt
        else:
            ph = pos / per
            pat = (ph - 0.5) * (1 if rng.random() < 0.5 else -1)
        one = pat[:per]
        pat = (pat - one.mean()) / max(float(one.std()), 1e-12)
        snr = _lerp_log(0.3, 5.0, s)
        c.y = c.y * np.exp(snr * c.sigma * pat)
        period = float(lay.spe)
        effect = snr if len(labels) == 1 else effect

    if c.chance_after is not None and c.v is not None:
        for name in c.metric_names:
            m = c.metrics[name].copy()
            m[c.chance_after:] = c.m_lo
            c.metrics[name] = m

    data = _observe(rng, c)
    if nonfinite is not None:
        t0, how = nonfinite
        y = data["loss"][1].copy()
        if how == "nan_to_end":
            y[t0:] = np.nan
            if "val_loss" in data:
                es, evv = data["val_loss"]
                evv = evv.copy()
                evv[es >= lay.steps[t0]] = np.nan
                data["val_loss"] = (es, evv)
                for name in c.metric_names:
                    ms, mv = data[name]
                    mv = mv.copy()
                    mv[ms >= lay.steps[t0]] = c.m_lo if name != "val_recall" else 0.0
                    data[name] = (ms, mv)
        elif how == "single_inf":
            y[t0] = np.inf
        else:
            y[t0] = np.nan
        data["loss"] = (lay.steps, y)
        kind_parts[-1] = "non_finite"
    kind = "+".join(kind_parts)
    truth = Truth(frozenset(labels), onset, period, kind, effect, schedule, d, onset_res)
    return _to_run(data, run_id, lay.spe), truth


def _hold_metrics(c: _Curves, j: int) -> None:
    """After the validation minimum, metrics stop improving (they plateau, slightly eroding)."""
    for name in c.metric_names:
        m = c.metrics[name].copy()
        m[j:] = m[j] - 0.01 * np.linspace(0, 1, m.size - j)
        c.metrics[name] = m


# --- public ---------------------------------------------------------------------------------


def _resolve_difficulty(difficulty: Any) -> tuple[float, float]:
    if difficulty is None:
        return 0.0, 1.0
    if isinstance(difficulty, (int, float)) and not isinstance(difficulty, bool):
        d = float(difficulty)
        if not 0.0 <= d <= 1.0:
            raise ParameterError(f"difficulty must lie in [0, 1], got {difficulty!r}")
        return d, d
    try:
        lo, hi = (float(v) for v in difficulty)
    except (TypeError, ValueError):
        raise ParameterError(f"difficulty must be None, a float in [0, 1] or a (low, high) pair, got {difficulty!r}") from None
    if not (0.0 <= lo <= hi <= 1.0):
        raise ParameterError(f"difficulty range must satisfy 0 <= low <= high <= 1, got {difficulty!r}")
    return lo, hi


def _resolve_pathologies(pathologies: Iterable[Pathology | str] | None) -> list[Pathology]:
    if pathologies is None:
        return list(Pathology)
    try:
        out = [Pathology(p) for p in pathologies]
    except ValueError as exc:
        raise ParameterError(f"pathologies: {exc}; expected names from {[p.value for p in Pathology]}") from None
    return out


def synthetic_run(
    index: int,
    *,
    seed: int = 0,
    difficulty: Any = None,
    pathologies: Iterable[Pathology | str] | None = None,
    healthy_fraction: float = 0.4,
    combo_fraction: float = 0.1,
    max_points: int = 100_000,
    long_fraction: float = 0.02,
) -> LabelledRun:
    """Generate run number ``index`` of the corpus ``synthetic(seed=seed, ...)``.

    Same parameters as :func:`synthetic`; the run depends only on ``seed``,
    ``index`` and the parameters, never on the other runs.
    """
    lo, hi = _resolve_difficulty(difficulty)
    paths = _resolve_pathologies(pathologies)
    rng = np.random.default_rng([int(seed), int(index)])
    d = float(rng.uniform(lo, hi))
    run_id = f"syn{int(seed)}-{int(index):05d}"
    if rng.random() < healthy_fraction or not paths:
        kind = str(rng.choice(HEALTHY_KINDS))
        run, truth = _make_healthy(rng, run_id, kind, max_points, long_fraction, None)
        return LabelledRun(run, truth)
    combos = [c for c in _COMBOS if c[0] in paths and c[1] in paths]
    if combos and rng.random() < combo_fraction:
        labels: tuple[Pathology, ...] = combos[int(rng.integers(len(combos)))]
    else:
        labels = (paths[int(rng.integers(len(paths)))],)
    kinds = {p: str(rng.choice(PATHOLOGY_KINDS[p])) for p in labels}
    if Pathology.OVERFITTING in labels and Pathology.PERIODIC in labels:
        kinds[Pathology.OVERFITTING] = "u_turn"
    if kinds.get(Pathology.OVERFITTING) == "growing_gap" and len(labels) > 1:
        kinds[Pathology.OVERFITTING] = "u_turn"
    run, truth = _positive(rng, labels, kinds, d, run_id, max_points, long_fraction)
    if kinds.get(Pathology.OVERFITTING) == "growing_gap":
        # the validation loss stays within 0-2 % of its plateau while the
        # train loss memorises: healthy (overfitting means the validation
        # loss gets worse; issue 15), a hard negative of its own
        truth = Truth(frozenset(), None, None, "memorisation", None, truth.family, None)
    return LabelledRun(run, truth)


def synthetic(
    n: int = 1000,
    *,
    seed: int = 0,
    difficulty: Any = None,
    pathologies: Iterable[Pathology | str] | None = None,
    healthy_fraction: float = 0.4,
    combo_fraction: float = 0.1,
    max_points: int = 100_000,
    long_fraction: float = 0.02,
) -> Corpus:
    """Draw a labelled corpus of synthetic training runs.

    Parameters
    ----------
    n : int, default 1000
        Number of runs.
    seed : int, default 0
        Seed; run ``i`` is drawn from ``numpy.random.default_rng([seed, i])``.
    difficulty : None, float or (float, float), optional
        The effect-size knob in [0, 1]: 0 gives the strongest effect of each
        kind, 1 the weakest (see the module docstring for each kind's range).
        None (default) draws it uniformly in [0, 1] per run, which is what
        power curves need; a pair draws it uniformly in that range.
    pathologies : iterable of Pathology or str, optional
        Which pathologies to generate (default: all five).
    healthy_fraction : float, default 0.4
        Share of healthy runs (hard negatives included).
    combo_fraction : float, default 0.1
        Share of pathological runs that carry two pathologies.
    max_points : int, default 100000
        Longest run, in logged points.
    long_fraction : float, default 0.02
        Share of runs with 20,000 points or more.

    Returns
    -------
    Corpus
        ``n`` labelled runs named ``syn<seed>-<index>``.

    Raises
    ------
    ParameterError
        On a parameter outside its domain.

    Examples
    --------
    >>> from curvestat.bench import synthetic
    >>> corpus = synthetic(20, seed=1)
    >>> len(corpus), corpus[0].run_id
    (20, 'syn1-00000')
    >>> synthetic(5, seed=1)[3].truth == corpus[3].truth
    True
    """
    if isinstance(n, bool) or int(n) != n or int(n) < 0:
        raise ParameterError(f"n must be a non-negative integer, got {n!r}")
    if not 0.0 <= float(healthy_fraction) <= 1.0:
        raise ParameterError(f"healthy_fraction must lie in [0, 1], got {healthy_fraction!r}")
    if not 0.0 <= float(combo_fraction) <= 1.0:
        raise ParameterError(f"combo_fraction must lie in [0, 1], got {combo_fraction!r}")
    if int(max_points) < 200:
        raise ParameterError(f"max_points must be at least 200, got {max_points!r}")
    if not 0.0 <= float(long_fraction) <= 1.0:
        raise ParameterError(f"long_fraction must lie in [0, 1], got {long_fraction!r}")
    _resolve_difficulty(difficulty)
    paths = _resolve_pathologies(pathologies)
    kw = dict(seed=seed, difficulty=difficulty, pathologies=paths, healthy_fraction=healthy_fraction,
              combo_fraction=combo_fraction, max_points=int(max_points), long_fraction=long_fraction)
    items = [synthetic_run(i, **kw) for i in range(int(n))]
    meta: dict[str, Any] = {"generator": "curvestat.bench.synthetic", **kw, "pathologies": [p.value for p in paths], "n": int(n)}
    if isinstance(meta.get("difficulty"), tuple):
        meta["difficulty"] = list(meta["difficulty"])
    return Corpus(items, name="synthetic", meta=meta)
