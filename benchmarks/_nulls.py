"""Healthy training curves for detector calibration (the null corpus).

This generator is written independently of :mod:`curvestat.bench.synthetic`
(it neither imports nor mirrors it): it models healthy training the way a
practitioner sees it in a logger, so that a false-positive rate measured on it
does not inherit the assumptions the detectors were tuned on.

One run is drawn from a handful of independent *families* (each a factor of
the breakdown printed by ``calibration_detectors.py``):

``shape``      noise-free train-loss shape as a function of training progress
               ``p`` in [0, 1] (the cumulative learning rate, normalised):
               ``exponential``, ``power_law``, ``two_phase`` (fast + slow
               exponential), ``slow_saturating`` (near-linear, bending late),
               ``plateau_drop`` (flat at the initial loss, then a drop).
``schedule``   learning-rate schedule, always logged as ``lr`` except for half
               of the constant ones: ``constant``, ``step`` (decay by 0.1-0.5
               at 1-3 milestones), ``cosine``, ``cosine_restarts`` (SGDR),
               ``warmup_linear``, ``warmup_cosine``, ``one_cycle``,
               ``inverse_sqrt``.
``innovation`` ``gauss`` or ``t3`` (Student-t with 3 degrees of freedom, scaled
               to unit variance: single x2-x7 spikes that recover at once).
``ar``         AR(1) coefficient of the logged train-loss noise, in buckets
               ``iid`` (0), ``low`` (0-0.5), ``mid`` (0.5-0.9), ``high`` (0.9-0.95).
``scale``      ``mult`` (noise on the log loss) or ``add`` (on the loss,
               floored at 30 % of the noise-free loss: a loss is positive).
``profile``    ``stays`` (noise scale constant) or ``shrinks`` (noise scale
               proportional to ``(L/L_end)**g``, ``g`` in [0.3, 1]).
``logging``    ``per_step`` (every step, or every 10/50 steps as Lightning
               logs it), ``hf`` (HF Trainer: the train loss averaged over
               ``logging_steps``, eval every k logging steps), ``keras`` (one
               row per epoch: epoch-mean train loss, validation at epoch end;
               the step axis is the epoch index).
``content``    ``train`` (train loss only), ``train_val``, ``train_val_metrics``.
``val_gap``    ``none``, ``<1.15x``, ``1.15-1.8x``: the final validation/train ratio
               of a validation loss that tracks the train loss; ``plateau``
               (15 %): a memorisation plateau, the validation loss holds its
               level (within 3 %) once the train loss has 10-50 % of its fall
               left, while the train loss keeps falling.

The mini-batch noise is drawn per optimiser step; the marginal sd of its log
is log-uniform in [0.005, 0.3] (at most 0.15 when phi >= 0.5), one step's
excursion is capped at x7 up and /3 down, and HF/Keras logs average it over
the logging window. Parameter ranges and the reasoning are in
``docs/calibration.rst``.

What makes every run *healthy* (by construction, checked on the noise-free
curves):

* the train loss falls by 30-98 % (``L_end / L_0`` log-uniform in [0.02, 0.7])
  and the total log drop is at least 4 noise standard deviations of the
  logged series, so the improvement is visible by eye;
* the learning rate only modulates the loss through progress and a lagged
  excess term ``1 + kappa * lr_smooth / lr_max`` (``kappa`` <= 0.3), so a step
  decay drops the loss at the step and a warm restart bumps it, both
  explained by the logged ``lr``;
* the validation loss follows the noise-free train loss, ``V = L exp(g (1 - s))``:
  equal to it at initialisation, the gap builds up with what has been learned
  and stops growing when the loss stops falling (``val_gap``: ``none``,
  g < 0.02, a quarter of the runs; otherwise g up to ``log 1.8`` and below
  ``0.8 (1 - Lf / L0)``, which keeps V falling wherever L falls: no U-turn);
  its noise is iid with a relative standard deviation ``c / sqrt(n_val)``
  (``n_val`` log-uniform in 100-20,000, ``c`` in [0.2, 1]);
* metrics are increasing functions of the noise-free validation progress,
  ``m = m_hi - (m_hi - m_lo) * q**beta`` with ``q`` the remaining fraction of
  the validation loss's fall, ``beta`` in [0.3, 2] (``beta`` < 1: the metric
  saturates before the loss stops improving), ceilings below 1; accuracy is a
  count over ``n_val`` (binomial spread times ``c`` in [0.3, 1]: the validation
  set is fixed, so counts move less than fresh samples would), recall a count
  over the ``n_pos`` positives,
  precision and f1 follow from the same counts; auc is continuous;
* no periodic component, no explosion, no non-finite value.

Reproducible: run ``i`` of seed ``s`` depends only on ``(s, i)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import lfilter

__all__ = ["NullRun", "make_null", "FACTORS", "length_bucket", "points_bucket"]

SHAPES = ("exponential", "power_law", "two_phase", "slow_saturating", "plateau_drop")
SCHEDULES = ("constant", "step", "cosine", "cosine_restarts", "warmup_linear", "warmup_cosine", "one_cycle", "inverse_sqrt")
LOGGINGS = ("per_step", "hf", "keras")
CONTENTS = ("train", "train_val", "train_val_metrics")
AR_BUCKETS = {"iid": (0.0, 0.0), "low": (0.0, 0.5), "mid": (0.5, 0.9), "high": (0.9, 0.95)}

#: factors of the breakdown, in print order (keys of ``NullRun.family``)
FACTORS = ("innovation", "ar", "scale", "profile", "schedule", "shape", "steps", "points", "logging", "content", "val_gap")

MIN_STEPS, MAX_STEPS = 50, 100_000


@dataclass
class NullRun:
    """One healthy run: ``data`` for :func:`curvestat.analyze` plus how it was drawn."""

    index: int
    data: dict[str, tuple[np.ndarray, np.ndarray]]
    family: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return f"null{self.index:06d}"


def length_bucket(n: int) -> str:
    for hi, name in ((200, "50-200"), (1000, "200-1k"), (10_000, "1k-10k")):
        if n < hi:
            return name
    return "10k-100k"


def points_bucket(n: int) -> str:
    for hi, name in ((30, "<30"), (100, "30-100"), (1000, "100-1k"), (10_000, "1k-10k")):
        if n < hi:
            return name
    return ">=10k"


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


# --- learning-rate schedules ---------------------------------------------------------

def _schedule(rng: np.random.Generator, name: str, n: int) -> tuple[np.ndarray, dict[str, Any]]:
    t = np.arange(n, dtype=float)
    lr_max = _loguniform(rng, 1e-5, 1e-1)
    p: dict[str, Any] = {"lr_max": lr_max}
    if name == "constant":
        f = np.ones(n)
    elif name == "step":
        k = int(rng.integers(1, 4))
        gamma = float(rng.choice([0.1, 0.2, 0.5]))
        marks = np.sort(rng.uniform(0.25, 0.9, size=k))
        marks = np.round(marks * n).astype(int)
        f = gamma ** np.searchsorted(marks, t, side="right")
        p.update(gamma=gamma, milestones=marks.tolist())
    elif name == "cosine":
        floor = rng.choice([0.0, 0.01, 0.1])
        f = floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * t / n))
    elif name == "cosine_restarts":
        cycles = int(rng.integers(2, 7))
        mult = int(rng.choice([1, 2]))
        lens = np.array([mult**i for i in range(cycles)], dtype=float)
        lens = np.maximum(1, np.round(lens / lens.sum() * n)).astype(int)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        f = np.empty(n)
        for s, ln in zip(starts, lens):
            e = min(n, s + ln) if s != starts[-1] else n
            if s >= n:
                break
            tt = np.arange(e - s, dtype=float)
            f[s:e] = 0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * tt / max(1, e - s)))
        p.update(cycles=cycles, t_mult=mult)
    elif name in ("warmup_linear", "warmup_cosine"):
        w = max(1, int(round(rng.uniform(0.01, 0.1) * n)))
        up = np.minimum(1.0, (t + 1) / w)
        u = np.clip((t - w) / max(1, n - w), 0, 1)
        down = 1 - u if name == "warmup_linear" else 0.5 * (1 + np.cos(np.pi * u))
        f = np.where(t < w, up, down)
        f = np.maximum(f, 1e-3)
        p.update(warmup=w)
    elif name == "one_cycle":
        pct = rng.uniform(0.2, 0.4)
        w = max(1, int(round(pct * n)))
        div, final = 25.0, 1e4
        up = 1 / div + (1 - 1 / div) * 0.5 * (1 - np.cos(np.pi * np.minimum(t / w, 1)))
        u = np.clip((t - w) / max(1, n - w), 0, 1)
        down = 1 / final + (1 - 1 / final) * 0.5 * (1 + np.cos(np.pi * u))
        f = np.where(t < w, up, down)
        p.update(pct=pct)
    elif name == "inverse_sqrt":
        w = max(1, int(round(rng.uniform(0.005, 0.05) * n)))
        f = np.where(t < w, (t + 1) / w, np.sqrt(w / np.maximum(t, 1)))
        p.update(warmup=w)
    else:  # pragma: no cover
        raise ValueError(name)
    return lr_max * f, p


# --- train-loss shapes ------------------------------------------------------------------

def _shape(rng: np.random.Generator, name: str) -> tuple[Any, dict[str, Any]]:
    """Return ``s(p)`` decreasing from 1 at p=0 (before the floor) and its parameters."""
    if name == "exponential":
        tau = _loguniform(rng, 0.03, 0.5)
        return (lambda q: np.exp(-q / tau)), {"tau": tau}
    if name == "power_law":
        a = rng.uniform(0.3, 2.0)
        q0 = _loguniform(rng, 0.005, 0.2)
        return (lambda q: (1 + q / q0) ** (-a)), {"a": a, "q0": q0}
    if name == "two_phase":
        w = rng.uniform(0.3, 0.8)
        t1 = _loguniform(rng, 0.01, 0.05)
        t2 = _loguniform(rng, 0.2, 1.0)
        return (lambda q: w * np.exp(-q / t1) + (1 - w) * np.exp(-q / t2)), {"w": w, "tau1": t1, "tau2": t2}
    if name == "slow_saturating":
        tau = _loguniform(rng, 0.5, 3.0)
        return (lambda q: (np.exp(-q / tau) - math.exp(-1 / tau)) / (1 - math.exp(-1 / tau))), {"tau": tau}
    if name == "plateau_drop":
        qp = rng.uniform(0.02, 0.2)
        width = rng.uniform(0.005, 0.03)
        tau = _loguniform(rng, 0.05, 0.3)
        def s(q: np.ndarray) -> np.ndarray:
            # smooth knee: softplus of (q - qp) keeps the curve flat then exponential
            z = width * np.logaddexp(0.0, (q - qp) / width)
            return np.exp(-z / tau)
        return s, {"q_plateau": qp, "tau": tau}
    raise ValueError(name)  # pragma: no cover


def _ar1(rng: np.random.Generator, n: int, phi: float, innovation: str) -> np.ndarray:
    if innovation == "t3":
        e = rng.standard_t(3, size=n) / math.sqrt(3.0)
    else:
        e = rng.standard_normal(n)
    if phi == 0.0 or n < 2:
        return e
    e = e * math.sqrt(1 - phi * phi)
    e[0] /= math.sqrt(1 - phi * phi)  # stationary start, unit marginal variance
    return lfilter([1.0], [1.0, -phi], e)


def _window_mean(x: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean of x over (previous end, end] for each logged step (HF/Keras averaging)."""
    c = np.concatenate([[0.0], np.cumsum(x)])
    starts = np.concatenate([[-1], ends[:-1]])
    return (c[ends + 1] - c[starts + 1]) / (ends - starts)


# --- one run -----------------------------------------------------------------------------

def make_null(seed: int, index: int) -> NullRun:
    """Draw healthy run ``index`` of corpus ``seed`` (deterministic in both)."""
    rng = np.random.default_rng([int(seed), int(index), 15])
    n = int(round(_loguniform(rng, MIN_STEPS, MAX_STEPS)))
    fam: dict[str, str] = {
        "shape": str(rng.choice(SHAPES)),
        "schedule": str(rng.choice(SCHEDULES)),
        "innovation": str(rng.choice(["gauss", "t3"])),
        "ar": str(rng.choice(list(AR_BUCKETS), p=[0.2, 0.25, 0.3, 0.25])),
        "scale": str(rng.choice(["mult", "add"])),
        "profile": str(rng.choice(["stays", "shrinks"])),
        "logging": str(rng.choice(LOGGINGS)),
        "content": str(rng.choice(CONTENTS, p=[0.25, 0.35, 0.4])),
    }
    lo, hi = AR_BUCKETS[fam["ar"]]
    phi = 0.0 if hi == 0 else float(rng.uniform(lo, hi))
    par: dict[str, Any] = {"n_steps": n, "phi": phi}

    # noise-free per-step train loss
    lr, sp = _schedule(rng, fam["schedule"], n)
    par.update({f"lr_{k}": v for k, v in sp.items()})
    progress = np.cumsum(lr) / lr.sum()
    progress = np.concatenate([[0.0], progress[:-1]])
    kappa = 0.0 if fam["schedule"] == "constant" else float(rng.uniform(0.0, 0.3))
    tau_lr = max(1.0, rng.uniform(0.002, 0.02) * n)
    a = math.exp(-1.0 / tau_lr)
    lr_smooth = lfilter([1 - a], [1, -a], lr / lr.max(), zi=[a * lr[0] / lr.max()])[0]
    # The excess ("noise ball") term falls when the lr decays and returns at a
    # warm restart; before the lr first peaks (warm-up, one-cycle ramp) it is
    # held at the peak's level, because early in training the large gradients
    # make progress even at a small lr and a healthy loss does not rise there.
    peak = int(np.argmax(lr_smooth))
    lr_eff = lr_smooth.copy()
    lr_eff[:peak] = lr_smooth[peak]
    excess = (1 + kappa * lr_eff) / (1 + kappa * lr_eff[0])
    l0 = _loguniform(rng, 0.05, 8.0)  # MSE-ish to cross-entropy over 1000s of classes
    # Draw the shape until the run trains meaningfully: the median of the last
    # 10 % of steps at least 25 % below the median of the first 10 % (a fast
    # exponential that is done within the first 10 % is redrawn, so that no
    # null looks like a run that fell a few percent and then stalled).
    for _ in range(50):
        shape, shp = _shape(rng, fam["shape"])
        s = shape(progress)
        s = (s - s[-1]) / (s[0] - s[-1]) if s[0] > s[-1] else np.linspace(1, 0, n)
        ratio = _loguniform(rng, 0.02, 0.7)  # L_end / L_0
        lf = l0 * ratio
        clean = (lf + (l0 - lf) * s) * excess
        tenth = max(1, n // 10)
        impr = 1 - float(np.median(clean[-tenth:]) / np.median(clean[:tenth]))
        if impr >= 0.25:
            break
    par.update(shp)
    par.update(improvement=impr)
    par.update(l0=l0, ratio=ratio, kappa=kappa)

    # logging grid of the train loss
    if fam["logging"] == "keras":
        epochs = int(round(_loguniform(rng, 5, min(300, n))))
        epochs = max(5, min(epochs, n))
        spe = n // epochs
        ends = (np.arange(1, epochs + 1) * spe) - 1
        ends[-1] = n - 1
        train_vals = _window_mean(clean, ends)
        train_steps = np.arange(epochs)
        par.update(epochs=epochs, steps_per_epoch=spe)
    elif fam["logging"] == "hf":
        m = int(round(_loguniform(rng, 10, 2000)))
        ls = max(1, int(round(n / m)))
        ends = np.arange(ls - 1, n, ls)
        train_vals = _window_mean(clean, ends)
        train_steps = ends + 1  # HF counts optimiser steps from 1
        par.update(logging_steps=ls)
    else:
        every = 1 if (n <= 5000 or rng.random() < 0.5) else int(rng.choice([10, 50]))
        ends = np.arange(0, n, every)
        train_vals = clean[ends]
        train_steps = ends
        par.update(log_every=every)
    m_log = ends.size

    # Mini-batch noise is drawn per optimiser step and then logged the way
    # the framework logs it: the value of the step (per_step) or the mean over
    # the logging window (HF, Keras), so averaged logs are smoother, as they
    # are in practice. Its marginal log-scale sd is log-uniform in
    # [0.005, 0.3]; a strongly autocorrelated per-step loss is a smoothed one
    # (a running mean over batches), whose spread is smaller: sd <= 0.15 when
    # phi >= 0.5. The log drop of the noise-free logged curve is at least
    # 4 noise sd, so the improvement is visible by eye.
    tenth = max(1, m_log // 10)
    drop = math.log(np.median(train_vals[:tenth]) / np.median(train_vals[-tenth:]))
    sigma = min(_loguniform(rng, 0.005, 0.3), 0.15 if phi >= 0.5 else 0.3, drop / 4)
    z = _ar1(rng, n, phi, fam["innovation"])
    g = 0.0 if fam["profile"] == "stays" else float(rng.uniform(0.3, 1.0))
    prof = (clean / clean[-1]) ** g
    if fam["profile"] == "shrinks":
        prof = prof / prof.max()  # the noise never exceeds sigma; it shrinks as the loss falls
    # A heavy-tailed batch is a hard batch: x2-x7 the loss, not x1000 (an
    # unbounded t(3) on the log scale would make explosions, not noise), so a
    # step's excursion is capped at x7 up and /3 down.
    if fam["scale"] == "mult":
        y_step = clean * np.exp(np.clip(sigma * prof * z, -math.log(3.0), math.log(7.0)))
    else:
        y_step = np.clip(clean + sigma * clean[-1] * prof * z, clean / 3.0, 7.0 * clean)
    y = y_step[ends] if fam["logging"] == "per_step" else _window_mean(y_step, ends)
    par.update(sigma=sigma, noise_g=g)

    names = {"per_step": ("train_loss", "val_loss", "lr"), "hf": ("loss", "eval_loss", "learning_rate"), "keras": ("loss", "val_loss", "lr")}[fam["logging"]]
    data: dict[str, tuple[np.ndarray, np.ndarray]] = {names[0]: (train_steps.astype(np.int64), y)}
    log_lr = not (fam["schedule"] == "constant" and rng.random() < 0.5)
    if log_lr:
        data[names[2]] = (train_steps.astype(np.int64), lr[ends])
    fam["lr_logged"] = "yes" if log_lr else "no"
    fam["val_gap"] = "-"

    if fam["content"] != "train":
        # evaluation grid: every k logged points (Keras: every epoch)
        if fam["logging"] == "keras":
            k = 1
        else:
            n_eval = int(round(_loguniform(rng, 4, min(200, m_log))))
            k = max(1, m_log // max(1, n_eval))
        idx = np.arange(k - 1, m_log, k)
        if idx.size < 3:
            idx = np.linspace(0, m_log - 1, 3).round().astype(int)
        e_steps = ends[idx]
        lv_clean = clean[e_steps]
        # The gap builds up with what has been learned (0 at initialisation,
        # where both splits see the same random model) and stops growing when
        # the train loss stops falling: log(V / L) = g * (1 - s). g < 1 - r
        # keeps V decreasing wherever L decreases (no U-turn, ever).
        # a quarter of the runs see (nearly) the train distribution again
        # (one pass over a large data set, LLM pretraining): no gap
        gmax = min(math.log(1.8), 0.8 * (1 - ratio))
        gap = float(rng.uniform(0.0, 0.02) if rng.random() < 0.25 else rng.uniform(0.0, gmax))
        fam["val_gap"] = "none" if gap < 0.02 else ("<1.15x" if gap < math.log(1.15) else "1.15-1.8x")
        v_clean = lv_clean * np.exp(gap * (1 - s[e_steps]))
        # 15 % of the runs (own stream, so the other draws stay as they were):
        # a memorisation plateau. Once the train loss has 10-50 % of its fall
        # left (s < s_p), the validation loss stops following it and holds its
        # level, improving by at most 3 % more, while the train loss keeps
        # falling: healthy (no U-turn), at most a note that later epochs are
        # wasted.
        rp = np.random.default_rng([int(seed), int(index), 16])
        if rp.random() < 0.15:
            s_p = float(rp.uniform(0.1, 0.5))
            d = float(rp.uniform(0.0, 0.03))
            se = s[e_steps]
            held = (lf + (l0 - lf) * s_p) * excess[e_steps] * math.exp(gap * (1 - s_p)) * (1 - d * (s_p - se) / s_p)
            v_clean = np.where(se < s_p, held, v_clean)
            fam["val_gap"] = "plateau"
            par.update(plateau_s=s_p, plateau_more=d)
        n_val = int(round(_loguniform(rng, 100, 20_000)))
        c = rng.uniform(0.2, 1.0)
        v = v_clean * np.exp(c / math.sqrt(n_val) * rng.standard_normal(idx.size))
        data[names[1]] = (train_steps[idx].astype(np.int64), v)
        par.update(n_eval=int(idx.size), log_gap=gap, n_val=n_val)
        if fam["content"] == "train_val_metrics":
            v0 = clean[0]
            q = np.clip((v_clean - v_clean.min()) / max(v0 - v_clean.min(), 1e-12), 0, 1)
            prefix = {"per_step": "val_", "hf": "eval_", "keras": "val_"}[fam["logging"]]
            data.update(_metrics(rng, q, n_val, train_steps[idx].astype(np.int64), prefix, par))
    return NullRun(index=index, data=data, family=fam, params=par)


def _curve(rng: np.random.Generator, q: np.ndarray, lo: float, hi: float, par: dict[str, Any], name: str) -> np.ndarray:
    beta = rng.uniform(0.3, 2.0)
    # share of the metric's gain (init -> end) still to come at the first evaluation
    par[f"{name}_left_at_first_eval"] = float(q[0] ** beta)
    par[f"{name}_beta"] = float(beta)
    return hi - (hi - lo) * q**beta


def _count(rng: np.random.Generator, n: int | np.ndarray, p: np.ndarray, c: float) -> np.ndarray:
    """A count out of ``n`` with mean ``n p``: binomial spread times ``c`` (<= 1).

    The validation set is fixed, so between evaluations a count moves only as
    far as the model's predictions change: at most the binomial spread of a
    fresh sample (c = 1), usually less.
    """
    mean = n * p
    k = np.rint(mean + c * np.sqrt(np.maximum(mean * (1 - p), 0.0)) * rng.standard_normal(np.shape(p)))
    return np.clip(k, 0, n).astype(np.int64)


def _metrics(rng: np.random.Generator, q: np.ndarray, n_val: int, steps: np.ndarray, prefix: str, par: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    c = float(rng.uniform(0.3, 1.0))
    kinds = ["accuracy"] + [m for m in ("recall", "precision", "f1", "auc") if rng.random() < 0.4]
    n_classes = int(rng.choice([2, 2, 3, 10, 100]))
    chance = 1.0 / n_classes
    if "accuracy" in kinds:
        hi = rng.uniform(max(0.6, chance + 0.2), 0.99)
        lo = chance + rng.uniform(0, 0.3) * (hi - chance)
        acc = _curve(rng, q, lo, hi, par, "accuracy")
        out[prefix + "accuracy"] = (steps, _count(rng, n_val, acc, c) / n_val)
    if any(m in kinds for m in ("recall", "precision", "f1")):
        prev = rng.uniform(0.05, 0.5)
        n_pos = max(20, int(round(prev * n_val)))
        n_neg = max(20, n_val - n_pos)
        r_hi = rng.uniform(0.6, 0.99)
        rec = _curve(rng, q, rng.uniform(0.1, 0.6) * r_hi, r_hi, par, "recall")
        p_hi = rng.uniform(0.6, 0.99)
        prec = _curve(rng, q, rng.uniform(0.3, 0.8) * p_hi, p_hi, par, "precision")
        tp = _count(rng, n_pos, rec, c)
        fpr = np.clip(tp * (1 - prec) / prec / n_neg, 0, 1)
        fp = _count(rng, n_neg, fpr, c)
        fn = n_pos - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            if "recall" in kinds:
                out[prefix + "recall"] = (steps, tp / n_pos)
            if "precision" in kinds:
                out[prefix + "precision"] = (steps, np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0))
            if "f1" in kinds:
                out[prefix + "f1"] = (steps, 2 * tp / np.maximum(2 * tp + fp + fn, 1))
        par.update(n_pos=n_pos)
    if "auc" in kinds:
        hi = rng.uniform(0.8, 0.999)
        auc = _curve(rng, q, rng.uniform(0.5, hi - 0.15), hi, par, "auc")  # moves by >= 0.15 from init to end
        out[prefix + "auc"] = (steps, np.clip(auc + 0.5 / math.sqrt(n_val) * 0.3 * rng.standard_normal(q.size), 0, 1))
    par["metrics"] = ",".join(k for k in kinds)
    return out
