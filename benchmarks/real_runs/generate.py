"""Train small models for real and store their curves as a labelled corpus.

Every run trains a small PyTorch model (CPU, one thread) on data that ships
with scikit-learn or with Python itself, and writes the log the way a
framework would write it. Each pathology is induced by its real cause, and
each label is verified on the *logged* curves (what a reader of the file
sees) by the symptom checks documented below; runs whose symptom is absent or
ambiguous are dropped and counted in ``_meta.dropped``.

Models and data
---------------
* MLPs on digits, breast_cancer, wine, iris and ``make_classification``
  tasks (balanced, imbalanced but learnable, 99:1);
* a small CNN on the 8x8 digits images;
* a two-head MLP (``cls_*`` classification head, ``reg_*`` regression head)
  on digits (the regression target is the image's ink, standardised);
* character-level GRU/LSTM language models on the docstrings of Python
  standard-library modules (extracted with :mod:`ast` from the installed
  interpreter; no network): losses in nats, perplexity logged; chance level
  ``ln 96``;
* fine-tunes: an MLP pretrained on digits 0-4 (not logged), then fine-tuned
  on a small subset of digits 5-9 with 3-10 evaluations.

Log formats (the run file of run X is ``X.csv`` or ``X.json``)
--------------------------------------------------------------
``wide``       plain per-step CSV: ``step,loss,lr,val_loss,val_accuracy,...``
               (evaluations on the rows of their step, empty cells elsewhere)
``hf``         Hugging Face ``trainer_state.json``: ``log_history`` records;
               train ``loss`` averaged over ``logging_steps`` and rounded to
               4 decimals, ``learning_rate``, ``grad_norm``, ``epoch``
               (``step / steps_per_epoch``), ``eval_loss``/``eval_*`` every
               ``eval_steps`` (steps start at 1), the closing summary record
``keras``      Keras ``CSVLogger``: one row per epoch, ``epoch`` then the
               sorted keys (epoch-mean ``loss`` and ``accuracy``,
               ``learning_rate``, ``val_loss``, ``val_accuracy``, ...)
``lightning``  Lightning ``CSVLogger`` ``metrics.csv``: sorted columns
               ``epoch,lr-<Opt>,step,train_loss_step,[train_loss_epoch],val_*``;
               train rows every ``log_every_n_steps``, a validation row per
               evaluation, steps 0-based

Causes
------
=====================  ==========================================================
pathology              cause
=====================  ==========================================================
non_convergence        shuffled labels (the loss falls to the label prior,
                       ln K, and stays); a learning rate 1e4 times too small
                       (also for a char-LM: flat at ln 96)
explosion              a learning-rate spike at a known step (MLP, CNN; in a
                       char-LM +1..+4 nats recovering over hundreds of steps);
                       an outlier batch (features x 1e3, wrong labels); a NaN
                       batch; log of zero (a hand-written BCE on unscaled
                       features); Adam/RMSprop spikes once the train loss is
                       near 0 (recipe ``auto``: labelled by the check)
metric_contradiction   99:1 imbalance with threshold 0.5 (recall exactly 0 at
                       every evaluation, 3-6 evaluations in the HF runs);
                       minority classes of a 10-class task never predicted
                       (their per-class recall exactly 0); a char-LM whose
                       accuracy is computed with integer division (always 0)
overfitting            tiny train set + large unregularised MLP/CNN/GRU; heavy
                       label noise memorised; fine-tunes on 30-60 examples whose
                       validation loss rises from the first evaluation; one head
                       of a two-head model (or one of two evaluation sets)
                       overfitting; a validation set from a shifted
                       distribution (split mismatch)
periodic               data sorted by class and never shuffled
healthy                shuffled data, sane learning rates, SGD/Adam/AdamW/RMSprop,
                       constant/cosine/step/one-cycle/warm-restart schedules,
                       tiny batches, small validation sets (quantised metrics),
                       imbalanced but learnable tasks, memorisation plateaus,
                       partial last batches, unshuffled (not sorted) data,
                       two heads, two evaluation sets, per-class metrics
=====================  ==========================================================

Symptom checks (on the logged curves; constants below)
------------------------------------------------------
``impr``: 1 - median(last 10 % of the train loss) / median(first 10 %) (first
and last point with fewer than 10 points). ``rise`` of a validation loss:
last value over its minimum - 1, both 3-point smoothed when the series has at
least 7 points, raw otherwise; the minimum must lie before the last two
evaluations. ``chance``: the entropy of the train labels in nats (ln K for
balanced K-class data, ln 96 for the char-LMs). An *excursion* of the train
loss: any non-finite value; three consecutive logged points at least 3x the
90th percentile of the 50 points before and above 10 % of the initial loss;
one point 30x that percentile and above the initial loss; for the NLL of a
char-LM also three consecutive points at least 1 nat above the median of the
20 points before. An *ambiguous* excursion: three points x2 (char-LM: +0.5
nat), one point x10 above half the initial loss (char-LM: one point +1 nat).
A mini-batch loss near a memorised floor is heavy-tailed, hence the upper
percentile and the floor: single x2-x7 noise points are no excursion.

* **healthy**: every value finite; ``impr >= 0.2``; final train loss below
  0.8 x chance; every validation loss ``rise < 0.06`` (a rise of up to 6 %
  is the practically marginal wobble early stopping absorbs); no excursion,
  not even an ambiguous one; per-step logs: lag-``steps_per_epoch``
  autocorrelation of the detrended log loss below 0.3 (the last step of each epoch left out for
  partial-last-batch runs); every accuracy/recall/precision/f1 metric
  above 0 at the last evaluation.
* **non_convergence**: finite; ``impr < 0.05`` or the final train loss at
  least 0.9 x chance; no excursion; validation accuracy at most the
  majority-class rate + 0.1.
* **explosion**: an excursion starting within 3 logged points (plus the
  length of an LR spike) of the known step of the intervention; the onset is
  that step in the file's units (the first non-finite value for log-of-zero,
  the first excursion for ``auto`` recipes).
* **metric_contradiction**: finite; ``impr >= 0.1``; the recipe's metric
  (recall, the minority per-class recalls, the LM accuracy) exactly 0 at every
  one of at least 3 evaluations.
* **overfitting**: finite, ``impr >= 0.3`` and some validation loss with
  ``rise >= 0.10`` (onset: the step of its minimum); split mismatch: either
  that, or validation over train loss >= 3 at the end with at least half of
  that log gap present after the second epoch.
* **periodic**: finite, autocorrelation at lag ``steps_per_epoch`` >= 0.3.

Every run that is not an overfitting recipe is also checked for a
validation U-turn (before the known step of an explosion): ``rise >= 0.10``
adds the overfitting label, ``0.06 <= rise < 0.10`` drops the run as
ambiguous (a non-converging run with ``rise >= 0.06`` is dropped). Overfitting and contradiction runs are also checked for
excursions: an explosion-size excursion adds the explosion label, an
ambiguous one drops the run. ``auto`` recipes (Adam/RMSprop long after the
train loss reached ~0) are labelled by the checks alone: explosion for an
excursion, overfitting for a U-turn, healthy when neither (and dropped when
ambiguous). A recipe none of whose runs of one split was kept is dropped from
the other split too.

Split
-----
Every recipe is trained with 4 seeds: repeats 0 and 1 are ``dev``, 2 and 3
``test`` (``"split"`` in each labels.json entry).

Usage (the command that produced the shipped corpus)::

    nice -n 10 python benchmarks/real_runs/generate.py --jobs 2 --cache /tmp/realcache \\
        --out /work/corpus/real_all --split-dirs /work/corpus \\
        --archive curvestat/bench/data/real_runs.zip

Needs ``torch`` (CPU) and ``scikit-learn``: ``pip install curvestat[bench-real]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import pickle
import platform
import shutil
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

try:
    import sklearn
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
except ImportError as exc:  # pragma: no cover
    sys.exit(f"the real-run generator needs torch and scikit-learn ({exc}); pip install 'curvestat[bench-real]'")

torch.set_num_threads(1)

REPEATS = 4
#: repeats 0..DEV_REPEATS-1 are the dev split, the rest the test split
DEV_REPEATS = 2

#: a validation loss that ends this far above its (smoothed) minimum turned up
UTURN_RISE = 0.10
#: ... one that ends within this of it did not (healthy); in between: ambiguous, dropped
HEALTHY_RISE = 0.06
#: train-loss excursions: ratio to the 90th percentile of the 50 points before (one point, above the initial loss) ...
SPIKE_SINGLE = 30.0
#: ... (three consecutive points, above SPIKE_FLOOR of the initial loss)
SPIKE_SUSTAINED = 3.0
#: ... and, for the NLL of a language model, nats above it
NATS_SINGLE = 1.0
NATS_SUSTAINED_HEALTHY = 0.5
#: an excursion counts only above this share of the initial loss
SPIKE_FLOOR = 0.1
PERIODIC_ACF = 0.3


# --- data --------------------------------------------------------------------------------


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


def load_tabular(name: str, seed: int, *, scale=True, n_train=None, n_val=None, shift_val=0.0, weights=None):
    y2 = None
    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
    elif name == "digits_multi":  # two heads: class and standardised ink
        X, y = datasets.load_digits(return_X_y=True)
        y2 = X.sum(1)
    elif name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    elif name == "wine":
        X, y = datasets.load_wine(return_X_y=True)
    elif name == "iris":
        X, y = datasets.load_iris(return_X_y=True)
    elif name == "make_classification":
        X, y = datasets.make_classification(n_samples=3000, n_features=40, n_informative=8, n_classes=3,
                                            n_clusters_per_class=2, random_state=seed)
    elif name == "binary":
        X, y = datasets.make_classification(n_samples=3000, n_features=20, n_informative=6, class_sep=1.0,
                                            random_state=seed)
    elif name == "imbalanced":  # 99:1, barely separable: the model learns the prior
        X, y = datasets.make_classification(n_samples=4000, n_features=20, n_informative=3, weights=[0.99],
                                            class_sep=0.5, flip_y=0.0, random_state=seed)
    elif name == "imbalanced_learnable":  # 90:10, separable: recall rises
        X, y = datasets.make_classification(n_samples=3000, n_features=20, n_informative=6, weights=weights or [0.9],
                                            class_sep=1.5, flip_y=0.0, random_state=seed)
    elif name == "longtail":  # 10 classes, three of them at 0.4 %
        w = [0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.068, 0.004, 0.004, 0.004]
        X, y = datasets.make_classification(n_samples=5000, n_features=30, n_informative=10, n_classes=10,
                                            weights=w, class_sep=1.0, n_clusters_per_class=1, random_state=seed)
    else:
        raise ValueError(name)
    idx = np.arange(len(y))
    tr, va = train_test_split(idx, test_size=0.25, random_state=seed, stratify=y)
    if n_train is not None:
        tr = tr[:n_train]
    if n_val is not None:
        va = va[:n_val]
    Xtr, Xva, ytr, yva = X[tr], X[va], y[tr], y[va]
    if scale:
        sc = StandardScaler().fit(Xtr)
        Xtr, Xva = sc.transform(Xtr), sc.transform(Xva)
    if shift_val:
        rng = np.random.default_rng(seed)
        Xva = Xva + shift_val * rng.standard_normal(Xva.shape[1])
    out = {"Xtr": _t(Xtr), "ytr": torch.tensor(ytr), "Xva": _t(Xva), "yva": torch.tensor(yva), "k": int(len(np.unique(y)))}
    if y2 is not None:
        m, s = y2[tr].mean(), y2[tr].std()
        out["rtr"], out["rva"] = _t((y2[tr] - m) / s), _t((y2[va] - m) / s)
    return out


_TEXT_MODULES = ["argparse", "textwrap", "difflib", "csv", "string", "calendar", "fractions", "statistics", "heapq",
                 "shlex", "configparser", "tarfile", "zipfile", "inspect", "pathlib", "logging/__init__", "pickle",
                 "random", "datetime", "functools", "collections/__init__", "typing"]
_VAL_MODULES = ["contextlib", "dataclasses", "enum", "abc"]
VOCAB = 96  # printable ASCII 32..126 and "\n"


def _docstrings(mod: str) -> str:
    import sysconfig

    p = Path(sysconfig.get_paths()["stdlib"]) / f"{mod}.py"
    tree = ast.parse(p.read_text(encoding="utf-8"))
    docs = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            d = ast.get_docstring(node)
            if d:
                docs.append(d)
    return "\n\n".join(docs)


def _encode(text: str) -> torch.Tensor:
    codes = [(ord(c) - 31 if 32 <= ord(c) <= 126 else 0) if c != "\n" else 0 for c in text]
    return torch.tensor(codes, dtype=torch.long)


_TEXT_CACHE: dict = {}


def load_text(n_train_chars: int | None = None):
    if "t" not in _TEXT_CACHE:
        _TEXT_CACHE["t"] = ("\n\n".join(_docstrings(m) for m in _TEXT_MODULES),
                            "\n\n".join(_docstrings(m) for m in _VAL_MODULES))
    tr, va = _TEXT_CACHE["t"]
    if n_train_chars:
        tr = tr[:n_train_chars]
    return _encode(tr), _encode(va[:20000])


# --- models -------------------------------------------------------------------------------


def mlp(d_in, d_out, hidden=(64,)):
    layers, d = [], d_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class CNN(nn.Module):
    def __init__(self, k, width=8):
        super().__init__()
        self.c1 = nn.Conv2d(1, width, 3, padding=1)
        self.c2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.fc = nn.Linear(2 * width * 4 * 4, k)

    def forward(self, x):
        x = x.view(-1, 1, 8, 8)
        x = F.relu(self.c1(x))
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(x.flatten(1))


class TwoHead(nn.Module):
    def __init__(self, d_in, k, hidden=(128,)):
        super().__init__()
        self.body = mlp(d_in, hidden[-1], hidden[:-1]) if len(hidden) > 1 else nn.Sequential(nn.Linear(d_in, hidden[0]))
        self.cls = nn.Linear(hidden[-1], k)
        self.reg = nn.Sequential(nn.Linear(hidden[-1], 256), nn.ReLU(), nn.Linear(256, 1))

    def forward(self, x):
        h = F.relu(self.body(x))
        return self.cls(h), self.reg(h).squeeze(-1)


class CharLM(nn.Module):
    def __init__(self, hidden=64, cell="gru"):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32)
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(32, hidden, batch_first=True)
        self.out = nn.Linear(hidden, VOCAB)

    def forward(self, x):
        return self.out(self.rnn(self.emb(x))[0])


# --- recipes ------------------------------------------------------------------------------


@dataclass
class Recipe:
    name: str
    labels: list  # [] healthy, or pathology names, or ["auto"] (decided by the check)
    kind: str
    dataset: str
    model: str = "mlp"  # mlp | cnn | twohead | gru | lstm | finetune
    fmt: str = "wide"  # wide | hf | keras | lightning
    epochs: int = 20
    max_steps: int | None = None  # language models: steps instead of epochs
    batch: int = 32
    lr: float = 1e-3
    opt: str = "adam"
    schedule: str = "constant"
    hidden: tuple = (64,)
    weight_decay: float = 0.0
    shuffle: bool = True
    sort_by_class: bool = False
    shuffle_labels: bool = False
    n_train: int | None = None
    n_val: int | None = None
    label_noise: float = 0.0
    scale: bool = True
    shift_val: float = 0.0
    lr_spike: tuple | None = None  # (step fraction, factor, length)
    bad_batch: tuple | None = None  # (step fraction, "outlier"|"nan")
    manual_bce: bool = False
    eval_every: int | None = None  # optimiser steps; None: at each epoch end
    log_every: int = 1  # HF logging_steps, Lightning log_every_n_steps
    per_class: bool = False
    two_evals: bool = False  # a second evaluation set (a shifted copy)
    second_shift: float = 0.0
    sum_loss: bool = False  # loss = sum / nominal batch size: the partial last batch logs lower
    broken_acc: bool = False
    seq_len: int = 32
    text_chars: int | None = None
    lm_hidden: int = 64
    ft_n: int = 60  # fine-tune: examples of digits 5-9
    ft_freeze: bool = False
    ft_task: str = "new_classes"  # or "same" (see _finetune_data)
    epoch_loss_too: bool = False  # Lightning: also train_loss_epoch
    clip: float | None = None
    metric: str = ""  # contradiction: comma-separated suffixes of the metrics stuck at 0
    reg_noise: float = 0.0  # two heads: noise added to the train regression target (memorised)
    rep: int = 0
    seed: int = 0

    @property
    def run_id(self) -> str:
        return f"real-{self.name}-{self.rep}"

    @property
    def split(self) -> str:
        return "dev" if self.rep < DEV_REPEATS else "test"


def _opt(r: Recipe, params):
    if r.opt == "sgd":
        return torch.optim.SGD(params, lr=r.lr, momentum=0.9, weight_decay=r.weight_decay)
    if r.opt == "sgd_plain":
        return torch.optim.SGD(params, lr=r.lr, weight_decay=r.weight_decay)
    if r.opt == "adamw":
        return torch.optim.AdamW(params, lr=r.lr, weight_decay=r.weight_decay or 1e-2)
    if r.opt == "rmsprop":
        return torch.optim.RMSprop(params, lr=r.lr, weight_decay=r.weight_decay)
    return torch.optim.Adam(params, lr=r.lr, weight_decay=r.weight_decay)


def _sched(r: Recipe, opt, total):
    if r.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if r.schedule == "step":
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[int(total * 0.5), int(total * 0.75)], gamma=0.1)
    if r.schedule == "steplr":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, total // 3), gamma=0.2)
    if r.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=r.lr, total_steps=total)
    if r.schedule == "restarts":
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=max(1, total // 4))
    if r.schedule == "warmup_linear":  # the HF default
        w = max(1, total // 10)
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / w, max(0.0, (total - s) / (total - w))))
    return None


# --- one training run ---------------------------------------------------------------------------


def _binary_metrics(prob, y, thr=0.5):
    pred = (prob > thr).long()
    tp = int(((pred == 1) & (y == 1)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    return {"recall": tp / max(1, tp + fn), "precision": tp / (tp + fp) if tp + fp else 0.0,
            "accuracy": float((pred == y).float().mean())}


def _optimiser_step(r: Recipe, loss, params, opt, sched, step: int, logs) -> None:
    """One optimiser step (gradient clipping when the recipe asks), and what a logger records of it."""
    steps, losses, lrs, gnorms = logs
    opt.zero_grad()
    loss.backward()
    gn = float(torch.nn.utils.clip_grad_norm_(params, r.clip if r.clip else float("inf")))
    opt.step()
    if sched is not None:
        sched.step()
    steps.append(step)
    losses.append(float(loss.detach()))
    lrs.append(float(opt.param_groups[0]["lr"]))
    gnorms.append(gn)


def train(r: Recipe) -> dict:
    """Train one run; return the raw per-step log and the evaluations.

    Raw steps are 0-based optimiser steps; an evaluation after step t is
    stored with t. ``chance`` is the entropy of the train labels (nats).
    """
    torch.manual_seed(r.seed)
    rng = np.random.default_rng(r.seed)
    if r.model in ("gru", "lstm"):
        return _train_lm(r, rng)
    if r.model == "finetune":
        d = _finetune_data(r)
    else:
        d = load_tabular(r.dataset, r.seed, scale=r.scale, n_train=r.n_train, n_val=r.n_val, shift_val=r.shift_val)
    Xtr, ytr, Xva, yva, k = d["Xtr"], d["ytr"], d["Xva"], d["yva"], d["k"]
    evalsets = {"": (Xva, yva, d.get("rva"))}
    if r.two_evals:
        g = np.random.default_rng(r.seed + 7)
        evalsets["shifted"] = (Xva + r.second_shift * _t(g.standard_normal(Xva.shape[1])), yva, None)
    if r.shuffle_labels:
        ytr = ytr[torch.tensor(rng.permutation(len(ytr)))]
    if r.label_noise:
        noisy = rng.random(len(ytr)) < r.label_noise
        ytr = ytr.clone()
        ytr[torch.tensor(noisy)] = torch.tensor(rng.integers(0, k, int(noisy.sum())))
    rtr = d.get("rtr")
    if rtr is not None and r.reg_noise:
        rtr = rtr + r.reg_noise * _t(rng.standard_normal(len(rtr)))
    if r.sort_by_class:
        order = torch.argsort(ytr, stable=True)
        Xtr, ytr = Xtr[order], ytr[order]
        rtr = rtr[order] if rtr is not None else None
    prior = np.bincount(ytr.numpy(), minlength=k) / len(ytr)
    chance = float(-(prior[prior > 0] * np.log(prior[prior > 0])).sum())
    chance_acc = float(prior.max())
    binary = k == 2 and r.model != "twohead"
    if r.model == "cnn":
        model = CNN(k)
    elif r.model == "twohead":
        model = TwoHead(Xtr.shape[1], k, r.hidden)
    elif r.model == "finetune":
        model = d["model"]
    else:
        model = mlp(Xtr.shape[1], 1 if binary else k, r.hidden)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _opt(r, params)
    n = len(ytr)
    spe = math.ceil(n / r.batch)
    total = spe * r.epochs
    sched = _sched(r, opt, total)

    def loss_fn(out, y, reduction="mean"):
        if binary:
            z = out.squeeze(-1)
            yf = y.float()
            if r.manual_bce:
                p = torch.sigmoid(z)
                lv = -(yf * torch.log(p) + (1 - yf) * torch.log(1 - p))
            else:
                lv = F.binary_cross_entropy_with_logits(z, yf, reduction="none")
        else:
            lv = F.cross_entropy(out, y, reduction="none")
        return lv.sum() / r.batch if reduction == "sum_nominal" else lv.mean()

    spike_at = int(r.lr_spike[0] * total) if r.lr_spike else None
    bad_at = int(r.bad_batch[0] * total) if r.bad_batch else None
    base_lrs = [g["lr"] for g in opt.param_groups]
    steps, losses, lrs, gnorms, extra = [], [], [], [], {}
    evals = []  # (raw step, epoch float, {name: value})
    step = 0

    def evaluate(epoch_f):
        model.eval()
        rec = {}
        with torch.no_grad():
            for tag, (Xe, ye, re_) in evalsets.items():
                pre = f"{tag}_" if tag else ""
                out = model(Xe)
                if r.model == "twohead":
                    lc = float(F.cross_entropy(out[0], ye))
                    lr_ = float(F.mse_loss(out[1], re_))
                    rec["cls_loss"], rec["reg_loss"] = lc, lr_
                    rec["loss"] = lc + lr_
                    rec["cls_accuracy"] = float((out[0].argmax(-1) == ye).float().mean())
                    rec["reg_mae"] = float((out[1] - re_).abs().mean())
                    continue
                rec[pre + "loss"] = float(loss_fn(out, ye))
                if binary:
                    m = _binary_metrics(torch.sigmoid(out.squeeze(-1)), ye)
                    for kk, vv in m.items():
                        rec[pre + kk] = vv
                else:
                    pred = out.argmax(-1)
                    rec[pre + "accuracy"] = float((pred == ye).float().mean())
                    if r.per_class:
                        for c in range(k):
                            sel = ye == c
                            rec[f"{pre}recall_class{c}"] = float((pred[sel] == c).float().mean()) if int(sel.sum()) else 0.0
        model.train()
        evals.append((step - 1, epoch_f, rec))

    model.train()
    for epoch in range(r.epochs):
        idx = torch.tensor(rng.permutation(n)) if r.shuffle else torch.arange(n)
        for b in range(spe):
            bi = idx[b * r.batch:(b + 1) * r.batch]
            xb, yb = Xtr[bi], ytr[bi]
            if bad_at is not None and step == bad_at:
                xb = xb.clone()
                if r.bad_batch[1] == "nan":
                    xb[0, 0] = float("nan")
                else:
                    xb = xb * 1e3
                    yb = (yb + 1) % k
            if spike_at is not None:
                factor = r.lr_spike[1] if spike_at <= step < spike_at + r.lr_spike[2] else 1.0
                for g, b0 in zip(opt.param_groups, base_lrs):
                    g["lr"] = b0 * factor
            out = model(xb)
            if r.model == "twohead":
                lc = F.cross_entropy(out[0], yb)
                lrg = F.mse_loss(out[1], rtr[bi])
                loss = lc + lrg
                extra.setdefault("cls_loss", []).append(float(lc.detach()))
                extra.setdefault("reg_loss", []).append(float(lrg.detach()))
            else:
                loss = loss_fn(out, yb, "sum_nominal" if r.sum_loss else "mean")
                pred = (out.squeeze(-1) > 0).long() if binary else out.argmax(-1)
                extra.setdefault("accuracy", []).append(float((pred == yb).float().mean()))
            _optimiser_step(r, loss, params, opt, sched, step, (steps, losses, lrs, gnorms))
            step += 1
            if r.eval_every and step % r.eval_every == 0:
                evaluate(step / spe)
        if not r.eval_every:
            evaluate(float(epoch + 1))
    return {"steps": np.array(steps), "loss": np.array(losses), "lr": np.array(lrs), "grad_norm": np.array(gnorms),
            "extra": {k2: np.array(v) for k2, v in extra.items()}, "evals": evals, "spe": spe, "k": k,
            "chance": chance, "chance_acc": chance_acc, "spike_at": spike_at, "bad_at": bad_at, "nats": False, "opt_name": type(opt).__name__}


def _finetune_data(r: Recipe) -> dict:
    """Pretrain an MLP (not logged); return it with the fine-tuning data.

    ``ft_task="new_classes"``: pretrained on digits 0-4, a fresh head for
    digits 5-9; ``"same"``: pretrained on half of the digits (all classes),
    fine-tuned on a small subset of the other half with the same head.
    """
    X, y = datasets.load_digits(return_X_y=True)
    X = X / 16.0
    g = torch.Generator().manual_seed(r.seed)
    if r.ft_task == "same":
        a, b = train_test_split(np.arange(len(y)), test_size=0.5, random_state=r.seed, stratify=y)
        pre, k_pre = a, 10
        Xf, yf = X[b], y[b]
    else:
        pre, k_pre = np.flatnonzero(y < 5), 5
        Xf, yf = X[y >= 5], y[y >= 5] - 5
    body = mlp(64, r.hidden[-1], r.hidden[:-1]) if len(r.hidden) > 1 else nn.Linear(64, r.hidden[0])
    head0 = nn.Linear(r.hidden[-1], k_pre)
    net0 = nn.Sequential(body, nn.ReLU(), head0)
    opt = torch.optim.Adam(net0.parameters(), lr=1e-3)
    Xp, yp = _t(X[pre]), torch.tensor(y[pre])
    for _ in range(8):
        perm = torch.randperm(len(yp), generator=g)
        for i in range(0, len(yp), 32):
            bi = perm[i:i + 32]
            lo = F.cross_entropy(net0(Xp[bi]), yp[bi])
            opt.zero_grad()
            lo.backward()
            opt.step()
    tr, va = train_test_split(np.arange(len(yf)), test_size=0.4, random_state=r.seed, stratify=yf)
    tr = tr[:r.ft_n]
    if r.ft_freeze:
        for p in body.parameters():
            p.requires_grad_(False)
    head = head0 if r.ft_task == "same" else nn.Linear(r.hidden[-1], 5)
    model = nn.Sequential(body, nn.ReLU(), head)
    k = 10 if r.ft_task == "same" else 5
    return {"Xtr": _t(Xf[tr]), "ytr": torch.tensor(yf[tr]), "Xva": _t(Xf[va]), "yva": torch.tensor(yf[va]), "k": k,
            "model": model}


def _train_lm(r: Recipe, rng) -> dict:
    tr, va = load_text(r.text_chars)
    model = CharLM(r.lm_hidden, r.model)
    opt = _opt(r, model.parameters())
    total = r.max_steps
    sched = _sched(r, opt, total)
    L = r.seq_len
    spe = max(1, (len(tr) - 1) // (L * r.batch))  # an "epoch": one pass over the text
    spike_at = int(r.lr_spike[0] * total) if r.lr_spike else None
    base_lrs = [g["lr"] for g in opt.param_groups]
    g = torch.Generator().manual_seed(r.seed)
    vstarts = torch.arange(0, len(va) - L - 1, L)[:256]
    Xv = torch.stack([va[s:s + L + 1] for s in vstarts.tolist()])
    steps, losses, lrs, gnorms, accs = [], [], [], [], []
    evals = []
    for step in range(total):
        starts = torch.randint(0, len(tr) - L - 1, (r.batch,), generator=g)
        xb = torch.stack([tr[s:s + L + 1] for s in starts.tolist()])
        if spike_at is not None:
            factor = r.lr_spike[1] if spike_at <= step < spike_at + r.lr_spike[2] else 1.0
            for gr, b0 in zip(opt.param_groups, base_lrs):
                gr["lr"] = b0 * factor
        out = model(xb[:, :-1])
        loss = F.cross_entropy(out.reshape(-1, VOCAB), xb[:, 1:].reshape(-1))
        _optimiser_step(r, loss, model.parameters(), opt, sched, step, (steps, losses, lrs, gnorms))
        accs.append(float((out.argmax(-1) == xb[:, 1:]).float().mean()))
        if (step + 1) % r.eval_every == 0:
            model.eval()
            with torch.no_grad():
                o = model(Xv[:, :-1])
                vl = float(F.cross_entropy(o.reshape(-1, VOCAB), Xv[:, 1:].reshape(-1)))
                hits = (o.argmax(-1) == Xv[:, 1:])
                if r.broken_acc:  # integer division: the classic bug, always 0
                    acc = float(int(hits.sum()) // hits.numel())
                else:
                    acc = float(hits.float().mean())
            model.train()
            evals.append((step, (step + 1) / spe, {"loss": vl, "perplexity": math.exp(min(vl, 50.0)), "accuracy": acc}))
    return {"steps": np.array(steps), "loss": np.array(losses), "lr": np.array(lrs), "grad_norm": np.array(gnorms),
            "extra": {"accuracy": np.array(accs)}, "evals": evals, "spe": spe, "k": VOCAB, "chance": math.log(VOCAB),
            "chance_acc": float(np.bincount(tr.numpy(), minlength=VOCAB).max() / len(tr)),
            "spike_at": spike_at, "bad_at": None, "nats": True, "opt_name": type(opt).__name__}


# --- logging conventions ---------------------------------------------------------------------


@dataclass
class Logged:
    """What a reader of the file sees: the text, and the series for the symptom checks."""

    text: str
    suffix: str
    train: tuple  # (steps, values) of the primary train loss, as logged
    vals: dict  # {name: (steps, values)} validation losses
    metrics: dict  # {name: (steps, values)}
    spe: int  # steps per epoch in logged step units
    per_step: bool  # the train loss is logged at every optimiser step
    to_logged: object  # raw step -> logged step
    eval_interval: float  # logged steps between evaluations
    roles: dict = field(default_factory=dict)
    extra_train: dict = field(default_factory=dict)  # other train-loss series (heads)


def _fmt(v: float) -> str:
    # float32 values (what torch computes) in their shortest round-trip form
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return str(np.float32(v)) if abs(v) < 3e38 else repr(v)


def _eval_names(raw: dict, prefix: str) -> list[str]:
    names = []
    for _, _, rec in raw["evals"]:
        for k in rec:
            if k not in names:
                names.append(k)
    # the total loss first (two heads: the total, then the heads)
    return sorted(names, key=lambda k: k != "loss")


def _val_name(k: str, prefix: str, head_first: bool = False) -> str:
    # plain: loss -> val_loss; shifted_loss -> val_shifted_loss; two heads: cls_loss ->
    # val_cls_loss (HF, Keras, Lightning) or cls_val_loss (the hand-written wide CSV)
    if head_first:
        for head in ("cls_", "reg_"):
            if k.startswith(head):
                return f"{head}{prefix}{k[len(head):]}"
    return f"{prefix}{k}"


def _split_series(logged_evals: dict) -> tuple[dict, dict]:
    vals, mets = {}, {}
    for name, sv in logged_evals.items():
        low = name.lower()
        if low.endswith("loss"):
            vals[name] = sv
        elif "perplexity" not in low and "mae" not in low:
            mets[name] = sv
    return vals, mets


def write_log(r: Recipe, raw: dict) -> Logged:
    fmt = r.fmt
    steps, loss = raw["steps"], raw["loss"]
    spe = raw["spe"]
    ev_names = _eval_names(raw, "")
    if fmt == "wide":
        pre = "val_"
        heads = {f"{h}_loss": raw["extra"][f"{h}_loss"] for h in ("cls", "reg") if f"{h}_loss" in raw["extra"]}
        cols = ["loss"] + list(heads) + ["lr"] + [_val_name(k, pre, True) for k in ev_names]
        ev_at = {int(s): rec for s, _, rec in raw["evals"]}
        rows = ["step," + ",".join(cols)]
        for i, st in enumerate(steps.tolist()):
            cells = [_fmt(loss[i])] + [_fmt(v[i]) for v in heads.values()] + [_fmt(raw["lr"][i])]
            rec = ev_at.get(st)
            cells += [_fmt(rec[k]) if rec is not None and k in rec else "" for k in ev_names]
            rows.append(str(st) + "," + ",".join(cells))
        es = np.array([s for s, _, _ in raw["evals"]])
        lev = {_val_name(k, pre, True): (es, np.array([rec.get(k, np.nan) for _, _, rec in raw["evals"]])) for k in ev_names}
        vals, mets = _split_series(lev)
        return Logged("\n".join(rows) + "\n", ".csv", (steps, loss), vals, mets, spe, True, lambda t: int(t),
                      _interval(es), extra_train={k: (steps, v) for k, v in heads.items()})
    if fmt == "hf":
        Ls = r.log_every
        hist = []
        ev_by = {int(s) + 1: (ep, rec) for s, ep, rec in raw["evals"]}
        tr_s, tr_v = [], []
        n = len(steps)
        for gs in range(1, n + 1):
            if gs % Ls == 0:
                seg = loss[gs - Ls:gs]
                v = round(float(np.mean(seg)), 4) if np.all(np.isfinite(seg)) else float(np.mean(seg))
                hist.append({"epoch": round(gs / spe, 4), "grad_norm": float(raw["grad_norm"][gs - 1]),
                             "learning_rate": float(raw["lr"][gs - 1]), "loss": v, "step": gs})
                tr_s.append(gs)
                tr_v.append(v)
            if gs in ev_by:
                ep, rec = ev_by[gs]
                e = {"epoch": round(gs / spe, 4)}
                for k, v in rec.items():
                    e[_val_name(k, "eval_")] = float(v)
                e.update({"eval_runtime": 0.05, "eval_samples_per_second": 4000.0, "eval_steps_per_second": 125.0,
                          "step": gs})
                hist.append(e)
        fin = loss[np.isfinite(loss)]
        hist.append({"epoch": round(n / spe, 4), "step": n, "total_flos": 1.0e12, "train_loss": float(np.mean(fin)) if fin.size else float("nan"),
                     "train_runtime": 12.3, "train_samples_per_second": 800.0, "train_steps_per_second": 25.0})
        doc = {"best_global_step": None, "best_metric": None, "best_model_checkpoint": None, "epoch": round(n / spe, 4),
               "eval_steps": r.eval_every or spe, "global_step": n, "is_hyper_param_search": False,
               "is_local_process_zero": True, "is_world_process_zero": True, "log_history": hist,
               "logging_steps": Ls, "max_steps": n, "num_input_tokens_seen": 0, "num_train_epochs": math.ceil(n / spe),
               "save_steps": 500, "stateful_callbacks": {}, "total_flos": 1.0e12, "train_batch_size": r.batch,
               "trial_name": None, "trial_params": None}
        text = json.dumps(doc, indent=2, allow_nan=True) + "\n"
        es = np.array([int(s) + 1 for s, _, _ in raw["evals"]])
        lev = {_val_name(k, "eval_"): (es, np.array([rec.get(k, np.nan) for _, _, rec in raw["evals"]])) for k in ev_names}
        vals, mets = _split_series(lev)
        return Logged(text, ".json", (np.array(tr_s), np.array(tr_v)), vals, mets, spe, Ls == 1, lambda t: int(t) + 1,
                      _interval(es))
    if fmt == "keras":
        n_ep = len(raw["evals"])
        rows_d = []
        tr_v = []
        for e in range(n_ep):
            seg = slice(e * spe, (e + 1) * spe)
            d = {"loss": float(np.mean(loss[seg]))}
            if "accuracy" in raw["extra"]:
                d["accuracy"] = float(np.mean(raw["extra"]["accuracy"][seg]))
            d["learning_rate"] = float(raw["lr"][min(len(loss) - 1, (e + 1) * spe - 1)])
            for k, v in raw["evals"][e][2].items():
                d[_val_name(k, "val_")] = float(v)
            rows_d.append(d)
            tr_v.append(d["loss"])
        keys = sorted(rows_d[0])
        rows = ["epoch," + ",".join(keys)] + [f"{e}," + ",".join(_fmt(d[k]) for k in keys) for e, d in enumerate(rows_d)]
        es = np.arange(n_ep)
        lev = {_val_name(k, "val_"): (es, np.array([rec.get(k, np.nan) for _, _, rec in raw["evals"]])) for k in ev_names}
        vals, mets = _split_series(lev)
        return Logged("\n".join(rows) + "\n", ".csv", (es, np.array(tr_v)), vals, mets, 1, False,
                      lambda t: int(t) // spe, 1.0)
    if fmt == "lightning":
        Ls = r.log_every
        lrname = f"lr-{raw['opt_name']}"
        recs = []  # (step, {col: value})
        tr_s, tr_v = [], []
        ev_at = {int(s): (ep, rec) for s, ep, rec in raw["evals"]}
        for i, st in enumerate(steps.tolist()):
            ep = i // spe
            if (st + 1) % Ls == 0:
                recs.append((ep, st, {lrname: float(raw["lr"][i])}))
                recs.append((ep, st, {"train_loss_step": float(loss[i])}))
                tr_s.append(st)
                tr_v.append(float(loss[i]))
            if st in ev_at:
                _, rec = ev_at[st]
                recs.append((ep, st, {_val_name(k, "val_"): float(v) for k, v in rec.items()}))
                if r.epoch_loss_too and (st + 1) % spe == 0:
                    recs.append((ep, st, {"train_loss_epoch": float(np.mean(loss[st + 1 - spe:st + 1]))}))
        keys = sorted({k for _, _, d in recs for k in d} | {"epoch", "step"})
        rows = [",".join(keys)]
        for ep, st, d in recs:
            full = {"epoch": str(ep), "step": str(st), **{k: _fmt(v) for k, v in d.items()}}
            rows.append(",".join(full.get(k, "") for k in keys))
        es = np.array(sorted(ev_at))
        lev = {_val_name(k, "val_"): (es, np.array([ev_at[s][1].get(k, np.nan) for s in es])) for k in ev_names}
        vals, mets = _split_series(lev)
        return Logged("\n".join(rows) + "\n", ".csv", (np.array(tr_s), np.array(tr_v)), vals, mets, spe, Ls == 1,
                      lambda t: int(t), _interval(es))
    raise ValueError(fmt)


def _interval(es) -> float:
    es = np.asarray(es, dtype=float)
    return float(np.median(np.diff(es))) if es.size > 1 else 1.0


# --- symptom checks ------------------------------------------------------------------------------


def improvement(y) -> float:
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if y.size < 2:
        return math.nan
    if y.size < 10:
        return 1 - y[-1] / y[0] if y[0] > 0 else math.nan
    m = max(1, y.size // 10)
    return float(1 - np.median(y[-m:]) / np.median(y[:m]))


def final_level(y) -> float:
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    m = max(1, y.size // 10)
    return float(np.median(y[-m:]))


def periodic_strength(y, spe, drop_last=False) -> float:
    y = np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)) or spe < 4 or y.size < 3 * spe:
        return 0.0
    ly = np.log(np.clip(y, 1e-12, None))
    if drop_last:  # partial last batch: replace the last step of each epoch by its neighbour
        ly = ly.copy()
        last = np.arange(spe - 1, ly.size, spe)
        ly[last] = ly[last - 1]
    trend = np.convolve(ly, np.ones(spe) / spe, mode="same")
    res = (ly - trend)[spe:-spe]
    res = res - res.mean()
    den = float(res @ res)
    return float(res[spe:] @ res[:-spe]) / den if den > 0 else 0.0


def val_rise(v) -> tuple[int, float]:
    """(index of the minimum, rise of the end over it)."""
    v = np.asarray(v, dtype=float)
    if v.size < 3 or not np.all(np.isfinite(v)):
        return 0, 0.0
    if v.size >= 7:
        sm = np.convolve(v, np.ones(3) / 3, mode="valid")
        j = int(np.argmin(sm))
        if j >= sm.size - 2:
            return j + 1, 0.0
        return j + 1, float(sm[-1] / sm[j] - 1)
    j = int(np.argmin(v))
    if j >= v.size - 1:
        return j, 0.0
    return j, float(v[-1] / v[j] - 1)


def excursions(y, nats: bool, start: int = 0):
    """Classify the train-loss excursions at index >= start.

    Returns ("explosion" | "minor" | "none", first index). See the module
    docstring: a non-finite value; three consecutive points at least
    ``SPIKE_SUSTAINED`` times the 90th percentile of the 50 points before (and
    above ``SPIKE_FLOOR`` of the initial loss), or for a language model at
    least ``NATS_SINGLE`` nats above the median of the 20 points before; one
    point ``SPIKE_SINGLE`` times that percentile and above the initial loss.
    "minor" (ambiguous, the run is dropped from a healthy recipe): three
    points x2 (char-LM: +0.5 nat), or one point x10 above half the initial
    loss (char-LM: one point +1 nat).
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 5:
        return "none", None
    fin = y[np.isfinite(y)]
    init = float(np.median(fin[: max(1, fin.size // 20)])) if fin.size else 1.0
    # the reference level: the median of the 20 points before (char-LM, additive in nats);
    # the 90th percentile of the 50 points before otherwise (a mini-batch loss near a
    # memorised floor is heavy-tailed: a median would call its ordinary bad batches spikes)
    med = np.full(n, np.nan)
    p90 = np.full(n, np.nan)
    for i in range(1, n):
        pre = y[max(0, i - 50):i]
        pre = pre[np.isfinite(pre)]
        if pre.size >= 3:
            med[i] = float(np.median(pre[-20:]))
            p90[i] = float(np.quantile(pre, 0.9))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(p90) & (p90 > 0), y / p90, 1.0)
        diff = np.where(np.isfinite(med), y - med, 0.0)
    ratio = np.where(np.isfinite(y), ratio, 1.0)
    diff = np.where(np.isfinite(y), diff, 0.0)
    above = np.isfinite(y) & (y >= SPIKE_FLOOR * init)

    def run3(mask):
        out = mask & np.roll(mask, -1) & np.roll(mask, -2)
        out[max(0, n - 2):] = False
        return out

    nonfinite = ~np.isfinite(y)
    single = (ratio >= SPIKE_SINGLE) & (y >= init)
    if nats:
        explode = nonfinite | run3(diff >= NATS_SINGLE) | single
        minor = run3(diff >= NATS_SUSTAINED_HEALTHY) | (diff >= NATS_SINGLE)
    else:
        explode = nonfinite | run3((ratio >= SPIKE_SUSTAINED) & above) | single
        minor = run3((ratio >= 2.0) & above) | ((ratio >= 10.0) & (y >= 0.5 * init))
    explode[:start] = False
    minor[:start] = False
    if explode.any():
        return "explosion", int(np.flatnonzero(explode)[0])
    if minor.any():
        return "minor", int(np.flatnonzero(minor)[0])
    return "none", None


def check(r: Recipe, raw: dict, lg: Logged):
    """Return (keep, labels, onset_step, period_steps, onset_resolution, why) on the logged curves."""
    ts, ty = lg.train
    allvals = [v for _, v in lg.vals.values()] + [ty] + [v for _, v in lg.extra_train.values()]
    finite = all(np.all(np.isfinite(v)) for v in allvals)
    impr = improvement(ty)
    chance = raw["chance"]
    fl = final_level(ty)
    rises = {nm: val_rise(v) for nm, (s, v) in lg.vals.items()}
    worst = max(rises.items(), key=lambda kv: kv[1][1]) if rises else (None, (0, 0.0))
    acc_names = [m for m in lg.metrics if m.lower().endswith("accuracy") and "class" not in m.lower()]
    why = f"impr={impr:.3f} final/chance={fl / chance:.2f} rise={worst[1][1]:.3f}"
    lab = list(r.labels)
    onset = period = res = None
    kind_spike, spike_i = excursions(ty, raw["nats"])
    if lab == ["auto"]:
        # Adam/RMSprop long after the train loss reached ~0: the check decides -- an
        # explosion for an explosion-size excursion, overfitting for a U-turn, else healthy
        if kind_spike == "minor":
            return False, lab, None, None, None, why + " minor excursion"
        lab = []
        if kind_spike == "explosion":
            lab, onset = ["explosion"], int(ts[spike_i])
            res = float(r.log_every) if r.fmt in ("hf", "lightning") and r.log_every > 1 else None
        if worst[1][1] >= UTURN_RISE:
            lab.append("overfitting")
            if lab == ["overfitting"]:
                onset, res = int(lg.vals[worst[0]][0][worst[1][0]]), lg.eval_interval
            else:
                onset = res = None
        elif worst[1][1] >= HEALTHY_RISE:
            return False, lab, None, None, None, why + " ambiguous rise"
        why += f" auto->{lab or 'healthy'}"
        if lab:
            return bool(finite or "explosion" in lab), lab, onset, None, res, why
    if not lab:
        ok = finite and impr >= 0.2 and fl < 0.8 * chance and worst[1][1] < HEALTHY_RISE and kind_spike == "none"
        ps = periodic_strength(ty, lg.spe, r.sum_loss) if lg.per_step else 0.0
        ok = ok and ps < PERIODIC_ACF
        for m, (s, v) in lg.metrics.items():
            ok = ok and np.isfinite(v[-1]) and v[-1] > 0
        why += f" spikes={kind_spike} acf={ps:.2f}"
        return bool(ok), [], None, None, None, why
    if "non_convergence" in lab:
        ok = finite and (impr < 0.05 or fl >= 0.9 * chance) and kind_spike == "none"
        for m in acc_names:
            ok = ok and lg.metrics[m][1][-1] <= raw["chance_acc"] + 0.1
        if worst[1][1] >= HEALTHY_RISE:  # memorising noise while not converging: ambiguous
            ok = False
            why += " val rise"
        return bool(ok), lab, None, None, None, why
    if "explosion" in lab:
        t0 = raw["spike_at"] if raw["spike_at"] is not None else raw["bad_at"]
        if onset is None:  # known cause
            nf = np.flatnonzero(~np.isfinite(ty))
            if t0 is None and nf.size:  # log of zero: the observed step
                onset = int(ts[nf[0]])
                ok = True
            elif t0 is None:
                return False, lab, None, None, None, why + " no onset"
            else:
                lt0 = lg.to_logged(t0)
                start = int(np.searchsorted(ts, lt0))
                k2, i2 = excursions(ty, raw["nats"], start=start)
                # the excursion (a non-finite value is one) starts within 3 logged
                # points of the known step, plus the length of an LR spike
                lag = 3 + (r.lr_spike[2] // max(1, r.log_every) if r.lr_spike else 0)
                ok = k2 == "explosion" and i2 - start <= lag
                onset = lt0
                why += f" exc={k2}@{i2 and int(ts[i2])} known={lt0}"
            res = float(r.log_every) if r.fmt in ("hf", "lightning") and r.log_every > 1 else None
            if r.fmt == "keras":
                res = 1.0
            if not ok:
                return False, lab, onset, None, res, why
            # a U-turn before the explosion: overfitting too
            if rises:
                pre = [val_rise(v[s < onset]) for s, v in lg.vals.values()]
                rmax = max(pre, key=lambda x: x[1])
                if rmax[1] >= UTURN_RISE:
                    return True, lab + ["overfitting"], onset, None, None, why + " (+overfitting)"
                if rmax[1] >= HEALTHY_RISE:
                    return False, lab, onset, None, res, why + " ambiguous pre-explosion rise"
        return True, lab, onset, None, res, why
    if "metric_contradiction" in lab:
        names = [m for m in lg.metrics if r.metric and any(m.endswith(x) for x in r.metric.split(","))]
        names = names or [m for m in lg.metrics if "recall" in m]
        zero = bool(names) and all(np.all(lg.metrics[m][1] == 0) for m in names)
        nev = min((len(lg.metrics[m][1]) for m in names), default=0)
        ok = finite and impr >= 0.1 and zero and nev >= 3
        why += f" zero({','.join(names)})={zero} n_eval={nev}"
        out_lab = list(lab)
        if kind_spike == "explosion":
            out_lab.append("explosion")
        elif kind_spike == "minor":
            ok = False
            why += " minor excursion"
        if worst[1][1] >= UTURN_RISE:
            out_lab.append("overfitting")
        elif worst[1][1] >= HEALTHY_RISE:
            ok = False
            why += " ambiguous rise"
        return bool(ok), out_lab, None, None, None, why
    if "overfitting" in lab:
        out_lab = list(lab)
        if r.kind == "split_mismatch":
            vs, vv = lg.vals[next(iter(lg.vals))]
            # the train loss averaged over the logged points since the evaluation before
            edges = np.concatenate([[-1], vs])
            tr = [np.mean(ty[(ts > edges[e]) & (ts <= edges[e + 1])]) for e in range(len(vv))]
            g_early, g_end = math.log(vv[1] / tr[1]), math.log(vv[-1] / tr[-1])
            ok = finite and g_end > math.log(3.0) and g_early > 0.5 * g_end
            why += f" gap early={math.expm1(g_early):.2f} end={math.expm1(g_end):.2f}"
            if ok:
                return True, out_lab, None, None, None, why
            # the shifted validation loss turned up instead: the U-turn check below
        nm, (j, rise) = worst
        ok = finite and rise >= UTURN_RISE and impr >= 0.3
        if ok:
            s = lg.vals[nm][0]
            onset = int(s[j])
            res = lg.eval_interval
        if kind_spike == "explosion":
            out_lab.append("explosion")
        elif kind_spike == "minor":
            ok = False
            why += " minor excursion"
        why += f" worst={nm}"
        if len(out_lab) > 1:
            onset = res = None
        return bool(ok), out_lab, onset, None, res, why
    if "periodic" in lab:
        ps = periodic_strength(ty, lg.spe)
        why += f" acf={ps:.2f}"
        out_lab = list(lab)
        if worst[1][1] >= UTURN_RISE:
            out_lab.append("overfitting")
        elif worst[1][1] >= HEALTHY_RISE:
            return False, lab, None, None, None, why + " ambiguous rise"
        return bool(finite and ps >= PERIODIC_ACF), out_lab, None, float(lg.spe), None, why
    return False, lab, None, None, None, "?"


# --- the recipe book -----------------------------------------------------------------------------


def recipe_book() -> list[Recipe]:
    """One Recipe per recipe (rep 0); :func:`recipes` repeats each with REPEATS seeds."""
    B: list[Recipe] = []

    def add(name, labels, kind, dataset, **kw):
        B.append(Recipe(name, list(labels), kind, dataset, **kw))

    H, NC, EX, MC, OF, PE = [], ["non_convergence"], ["explosion"], ["metric_contradiction"], ["overfitting"], ["periodic"]
    # -- healthy: the recipes of the first corpus (per-step wide CSV) ...
    add("h-digits-adam", H, "adam_constant", "digits", lr=1e-3)
    add("h-digits-sgd-step", H, "sgd_step", "digits", opt="sgd", lr=0.05, schedule="step")
    add("h-digits-adamw-cos", H, "adamw_cosine", "digits", opt="adamw", lr=3e-3, schedule="cosine")
    add("h-digits-restarts", H, "sgd_warm_restarts", "digits", opt="sgd", lr=0.05, schedule="restarts")
    add("h-wine-rms", H, "rmsprop_constant", "wine", opt="rmsprop", lr=1e-3, batch=16, epochs=40)
    add("h-bc-onecycle", H, "adam_onecycle", "breast_cancer", lr=3e-3, schedule="onecycle", epochs=25)
    add("h-mc-adam", H, "adam_constant", "make_classification", lr=1e-3, hidden=(128,), weight_decay=1e-4, epochs=15)
    add("h-mc-sgd-cos", H, "sgd_cosine", "make_classification", opt="sgd", lr=0.02, schedule="cosine", epochs=15)
    add("h-bc-sgd", H, "sgd_constant", "breast_cancer", opt="sgd", lr=0.01, batch=16, epochs=12, weight_decay=1e-3)
    add("h-digits-big-batch", H, "adam_constant_b128", "digits", lr=3e-3, batch=128, epochs=40)
    add("h-digits-wd", H, "adamw_cosine", "digits", opt="adamw", weight_decay=5e-2, hidden=(256, 256), lr=1e-3,
        schedule="cosine", epochs=20)
    add("h-mc-small", H, "adam_constant", "make_classification", hidden=(32,), lr=1e-3, weight_decay=1e-3, epochs=20)
    # ... new models and situations
    add("h-cnn-digits-adam", H, "cnn_adam", "digits", model="cnn", lr=2e-3, epochs=12)
    add("h-cnn-digits-steplr-keras", H, "cnn_steplr", "digits", model="cnn", fmt="keras", opt="sgd", lr=0.05,
        schedule="steplr", epochs=15)
    add("h-cnn-digits-onecycle-lightning", H, "cnn_onecycle", "digits", model="cnn", fmt="lightning", log_every=10,
        lr=5e-3, schedule="onecycle", epochs=12, epoch_loss_too=True)
    add("h-digits-keras", H, "adam_constant", "digits", fmt="keras", lr=1e-3, epochs=15)
    add("h-bc-small-val-keras", H, "small_val_quantised", "breast_cancer", fmt="keras", n_val=50, lr=1e-3, epochs=12,
        batch=16, weight_decay=1e-3)
    add("h-bc-small-val-hf", H, "small_val_quantised", "breast_cancer", fmt="hf", n_val=40, log_every=5, lr=1e-3,
        epochs=25, batch=16, schedule="warmup_linear")
    add("h-imbalanced-learnable", H, "imbalanced_learnable", "imbalanced_learnable", lr=1e-3, epochs=15)
    add("h-imbalanced-learnable-hf", H, "imbalanced_learnable", "imbalanced_learnable", fmt="hf", log_every=10,
        eval_every=100, lr=1e-3, epochs=15, schedule="warmup_linear")
    add("h-memorise-digits", H, "memorisation_plateau", "digits", n_train=300, hidden=(256,), opt="adamw",
        weight_decay=0.1, lr=1e-3, epochs=60, batch=16)
    add("h-memorise-wine-keras", H, "memorisation_plateau", "wine", fmt="keras", hidden=(128,), lr=1e-3, epochs=80,
        batch=8, opt="adamw", weight_decay=0.05)
    add("h-memorise-bc-hf", H, "memorisation_plateau", "breast_cancer", fmt="hf", n_train=150, hidden=(128,),
        opt="adamw", weight_decay=0.1, lr=1e-3, epochs=60, batch=16, log_every=10)
    add("h-tiny-batch-digits", H, "tiny_batch", "digits", batch=4, opt="sgd", lr=0.005, epochs=6)
    add("h-tiny-batch-bc", H, "tiny_batch", "breast_cancer", batch=2, opt="sgd_plain", lr=0.01, epochs=8)
    add("h-tiny-batch-mc-lightning", H, "tiny_batch", "make_classification", fmt="lightning", log_every=5, batch=4,
        lr=3e-4, epochs=4)
    add("h-partial-last-batch", H, "partial_last_batch", "digits", sum_loss=True, lr=1e-3, epochs=15)
    add("h-partial-last-batch-mc", H, "partial_last_batch", "make_classification", sum_loss=True, batch=64, lr=1e-3,
        epochs=15)
    add("h-unshuffled-keras", H, "unshuffled", "digits", fmt="keras", shuffle=False, opt="sgd", lr=0.02, epochs=15)
    add("h-twohead", H, "two_heads", "digits_multi", model="twohead", hidden=(128,), lr=1e-3, epochs=15)
    add("h-twohead-hf", H, "two_heads", "digits_multi", model="twohead", fmt="hf", log_every=10, hidden=(128,), lr=1e-3,
        epochs=15, schedule="cosine")
    add("h-twohead-lightning", H, "two_heads", "digits_multi", model="twohead", fmt="lightning", log_every=5,
        hidden=(128,), lr=1e-3, epochs=12)
    add("h-two-evals", H, "two_eval_sets", "digits", two_evals=True, second_shift=0.3, lr=1e-3, epochs=15)
    add("h-two-evals-hf", H, "two_eval_sets", "make_classification", fmt="hf", two_evals=True, second_shift=0.2,
        log_every=10, eval_every=100, lr=1e-3, epochs=12, hidden=(128,), weight_decay=1e-4)
    add("h-per-class", H, "per_class_metrics", "digits", per_class=True, lr=1e-3, epochs=15)
    add("h-per-class-lightning", H, "per_class_metrics", "digits", fmt="lightning", per_class=True, log_every=10,
        lr=1e-3, epochs=15)
    add("h-finetune-hf", H, "finetune", "digits_ft", model="finetune", fmt="hf", ft_n=300, hidden=(128,), lr=1e-3,
        epochs=8, batch=16, log_every=5, schedule="warmup_linear")
    add("h-finetune-frozen-keras", H, "finetune_frozen", "digits_ft", model="finetune", fmt="keras", ft_n=200,
        ft_freeze=True, hidden=(128,), lr=3e-3, epochs=10, batch=16)
    add("h-finetune-lightning", H, "finetune", "digits_ft", model="finetune", fmt="lightning", ft_n=400, hidden=(128,),
        lr=1e-3, epochs=6, batch=16, log_every=5)
    add("h-lm-gru-hf", H, "char_lm", "stdlib_docstrings", model="gru", fmt="hf", max_steps=1200, eval_every=200,
        log_every=20, lr=3e-3, batch=16, schedule="warmup_linear", clip=1.0)
    add("h-lm-lstm-lightning", H, "char_lm", "stdlib_docstrings", model="lstm", fmt="lightning", max_steps=1200,
        eval_every=200, log_every=10, lr=3e-3, batch=16, schedule="cosine", clip=1.0)
    add("h-lm-gru-wide", H, "char_lm", "stdlib_docstrings", model="gru", fmt="wide", max_steps=1000, eval_every=100,
        lr=2e-3, batch=16, clip=1.0)
    add("h-iris-keras", H, "adam_constant", "iris", fmt="keras", lr=3e-3, batch=8, epochs=60)
    add("h-fit-first-epoch", H, "fits_in_first_epoch", "breast_cancer", fmt="hf", lr=1e-2, batch=8, epochs=4,
        log_every=5, hidden=(32,), weight_decay=1e-3)
    add("h-short-keras", H, "very_short", "digits", fmt="keras", lr=3e-3, epochs=5)
    add("h-rms-restarts-lightning", H, "rmsprop_warm_restarts", "make_classification", fmt="lightning", opt="rmsprop",
        lr=1e-3, schedule="restarts", log_every=10, epochs=12)
    add("h-gap-tiny-batch", H, "ordinary_gap", "wine", batch=4, opt="sgd", lr=0.002, epochs=15, hidden=(32,))
    # the same few healthy set-ups in each framework's format
    grid = [("digits", dict(opt="adam", lr=1e-3, epochs=12)),
            ("make_classification", dict(opt="sgd", lr=0.02, schedule="cosine", epochs=12)),
            ("binary", dict(opt="adamw", lr=2e-3, schedule="onecycle", epochs=10)),
            ("breast_cancer", dict(opt="rmsprop", lr=5e-4, epochs=25, batch=16)),
            ("wine", dict(opt="adam", lr=3e-3, epochs=40, batch=8))]
    for ds, kw in grid:
        for fmt, fk in (("hf", dict(log_every=5)), ("keras", {}), ("lightning", dict(log_every=5))):
            add(f"h-{ds[:6]}-{kw['opt']}-{fmt}", H, f"{kw['opt']}_{kw.get('schedule', 'constant')}", ds, fmt=fmt,
                **fk, **kw)
    # Adam/RMSprop long after the train loss reached ~0: spikes decided by the check
    add("auto-adam-memorise", ["auto"], "adam_near_zero", "digits", n_train=400, hidden=(256,), lr=3e-3, epochs=80,
        batch=16)
    add("auto-rmsprop-memorise", ["auto"], "rmsprop_near_zero", "breast_cancer", opt="rmsprop", hidden=(128,),
        lr=3e-3, epochs=80, batch=16)
    add("auto-adam-memorise-wine-hf", ["auto"], "adam_near_zero", "wine", fmt="hf", log_every=2, hidden=(128,),
        lr=1e-2, epochs=100, batch=8)

    # -- non-convergence
    add("nc-shuffled-labels", NC, "shuffled_labels", "digits", shuffle_labels=True, hidden=(16,), weight_decay=1e-3,
        epochs=15)
    add("nc-tiny-lr", NC, "tiny_lr", "make_classification", opt="sgd_plain", lr=1e-5, epochs=15)
    add("nc-shuffled-labels-mc", NC, "shuffled_labels", "make_classification", shuffle_labels=True, hidden=(16,),
        weight_decay=1e-3, epochs=10)
    add("nc-tiny-lr-digits", NC, "tiny_lr", "digits", opt="sgd_plain", lr=1e-5, epochs=15)
    add("nc-shuffled-labels-keras", NC, "shuffled_labels", "digits", fmt="keras", shuffle_labels=True, hidden=(16,),
        weight_decay=1e-3, epochs=15)
    add("nc-shuffled-labels-bc-hf", NC, "shuffled_labels", "binary", fmt="hf", shuffle_labels=True, hidden=(16,),
        weight_decay=1e-3, epochs=10, log_every=10, eval_every=100)
    add("nc-tiny-lr-hf", NC, "tiny_lr", "digits", fmt="hf", lr=1e-7, epochs=15, log_every=5)
    add("nc-tiny-lr-cnn-lightning", NC, "tiny_lr", "digits", model="cnn", fmt="lightning", opt="sgd_plain", lr=1e-5,
        epochs=10, log_every=5)
    add("nc-lm-tiny-lr", NC, "tiny_lr", "stdlib_docstrings", model="gru", fmt="hf", max_steps=600, eval_every=100,
        log_every=10, lr=3e-7, batch=16)
    add("nc-shuffled-labels-lightning", NC, "shuffled_labels", "make_classification", fmt="lightning", shuffle_labels=True,
        hidden=(16,), weight_decay=1e-3, epochs=10, log_every=10)
    add("nc-shuffled-wine-keras", NC, "shuffled_labels", "wine", fmt="keras", shuffle_labels=True, hidden=(8,),
        weight_decay=3e-2, epochs=12, batch=8, lr=3e-4)
    add("nc-shuffled-cnn", NC, "shuffled_labels", "digits", model="cnn", shuffle_labels=True, weight_decay=1e-3,
        epochs=8)
    add("nc-tiny-lr-keras", NC, "tiny_lr", "breast_cancer", fmt="keras", opt="sgd_plain", lr=1e-5, epochs=20, batch=16)
    add("nc-shuffled-labels-adam-hf", NC, "shuffled_labels", "make_classification", fmt="hf", shuffle_labels=True,
        hidden=(32,), weight_decay=1e-2, lr=3e-4, epochs=12, log_every=10, eval_every=50)

    # shuffled labels from a large initial loss: the loss falls (to the label prior, ln K) and stays there
    add("nc-shuffled-unscaled", NC, "shuffled_labels_prior", "digits", shuffle_labels=True, scale=False, hidden=(64,),
        weight_decay=1e-3, epochs=6)
    add("nc-shuffled-wide-init-hf", NC, "shuffled_labels_prior", "make_classification", fmt="hf", shuffle_labels=True,
        hidden=(256,), lr=3e-4, epochs=4, log_every=5, eval_every=50)

    # -- explosion
    add("ex-lr-spike", EX, "lr_spike", "digits", opt="sgd", lr=0.02, lr_spike=(0.5, 300.0, 5))
    add("ex-outlier-batch", EX, "outlier_batch", "make_classification", opt="sgd", lr=0.05, bad_batch=(0.5, "outlier"))
    add("ex-nan-batch", EX, "nan_batch", "digits", lr=1e-3, bad_batch=(0.4, "nan"))
    add("ex-log-zero", EX, "log_of_zero", "breast_cancer", scale=False, manual_bce=True, opt="sgd_plain", lr=1e-4,
        batch=16, epochs=30)
    add("ex-lr-spike-cnn-lightning", EX, "lr_spike", "digits", model="cnn", fmt="lightning", log_every=5, opt="sgd",
        lr=0.02, lr_spike=(0.5, 300.0, 5), epochs=12)
    add("ex-lr-spike-hf", EX, "lr_spike", "digits", fmt="hf", log_every=5, opt="sgd", lr=0.02, lr_spike=(0.5, 300.0, 5))
    add("ex-lr-spike-keras", EX, "lr_spike", "digits", fmt="keras", opt="sgd", lr=0.02, lr_spike=(0.5, 1000.0, 30))
    add("ex-nan-batch-hf", EX, "nan_batch", "make_classification", fmt="hf", log_every=10, lr=1e-3,
        bad_batch=(0.6, "nan"), epochs=10)
    add("ex-outlier-lightning", EX, "outlier_batch", "digits", fmt="lightning", log_every=5, opt="sgd", lr=0.05,
        bad_batch=(0.5, "outlier"), epochs=15)
    add("ex-lm-spike-hf", EX, "lm_lr_spike", "stdlib_docstrings", model="gru", fmt="hf", max_steps=1200, eval_every=200,
        log_every=10, lr=3e-3, batch=16, lr_spike=(0.5, 60.0, 10))
    add("ex-lm-spike-wide", EX, "lm_lr_spike", "stdlib_docstrings", model="lstm", fmt="wide", max_steps=1000,
        eval_every=100, lr=3e-3, batch=16, lr_spike=(0.6, 100.0, 5))
    add("ex-lm-spike-lightning", EX, "lm_lr_spike", "stdlib_docstrings", model="gru", fmt="lightning", max_steps=1000,
        eval_every=200, log_every=5, lr=2e-3, batch=16, lr_spike=(0.5, 100.0, 5))
    add("ex-lr-spike-stays-high", EX, "lr_spike_no_recovery", "digits", opt="adam", lr=1e-3, lr_spike=(0.5, 300.0, 10),
        epochs=20)
    add("ex-twohead-spike", EX, "lr_spike", "digits_multi", model="twohead", opt="sgd", lr=0.01, hidden=(128,),
        lr_spike=(0.5, 300.0, 5), epochs=15)
    add("ex-outlier-batch-keras", EX, "outlier_batch", "make_classification", fmt="keras", opt="sgd", lr=0.05,
        bad_batch=(0.5, "outlier"), epochs=12)

    # -- metric contradiction
    add("mc-imbalance", MC, "imbalance_99_1", "imbalanced", lr=1e-3, hidden=(16,), epochs=15, metric="recall")
    add("mc-imbalance-sgd", MC, "imbalance_99_1", "imbalanced", opt="sgd", lr=0.01, epochs=15, metric="recall")
    add("mc-imbalance-hf", MC, "imbalance_99_1", "imbalanced", fmt="hf", lr=3e-4, hidden=(16,), epochs=16, log_every=10,
        eval_every=300, metric="recall")
    add("mc-imbalance-hf-3eval", MC, "imbalance_99_1", "imbalanced", fmt="hf", opt="sgd", lr=3e-3, epochs=10,
        log_every=10, eval_every=300, metric="recall")
    add("mc-imbalance-keras", MC, "imbalance_99_1", "imbalanced", fmt="keras", lr=1e-3, hidden=(16,), epochs=6,
        metric="recall")
    add("mc-imbalance-lightning", MC, "imbalance_99_1", "imbalanced", fmt="lightning", log_every=10, lr=1e-3,
        hidden=(32,), epochs=10, metric="recall")
    add("mc-imbalance-rms", MC, "imbalance_99_1", "imbalanced", opt="rmsprop", lr=3e-4, hidden=(16,), epochs=12,
        metric="recall")
    add("mc-longtail-per-class", MC, "minority_classes_never_predicted", "longtail", per_class=True, lr=3e-4,
        hidden=(32,), epochs=6, metric="recall_class7,recall_class8,recall_class9")
    add("mc-longtail-per-class-hf", MC, "minority_classes_never_predicted", "longtail", fmt="hf", per_class=True,
        lr=3e-4, hidden=(32,), epochs=6, log_every=10, eval_every=200, metric="recall_class7,recall_class8,recall_class9")
    add("mc-lm-broken-acc-hf", MC, "broken_metric", "stdlib_docstrings", model="gru", fmt="hf", max_steps=800,
        eval_every=200, log_every=20, lr=3e-3, batch=16, broken_acc=True, metric="accuracy", clip=1.0)
    add("mc-lm-broken-acc-lightning", MC, "broken_metric", "stdlib_docstrings", model="lstm", fmt="lightning",
        max_steps=800, eval_every=160, log_every=10, lr=3e-3, batch=16, broken_acc=True, metric="accuracy", clip=1.0)
    add("mc-imbalance-wide-eval", MC, "imbalance_99_1", "imbalanced", lr=1e-3, hidden=(64,), epochs=12, eval_every=250,
        metric="recall", opt="adamw")

    # -- overfitting
    add("of-tiny-train", OF, "u_turn", "digits", n_train=120, hidden=(512, 512), lr=1e-3, batch=16, epochs=150)
    add("of-tiny-mc", OF, "u_turn", "make_classification", n_train=150, hidden=(512, 512), lr=1e-3, batch=16, epochs=120)
    add("of-split-mismatch", OF, "split_mismatch", "make_classification", shift_val=1.5, lr=1e-3, epochs=15)
    add("of-label-noise", OF, "u_turn", "digits", label_noise=0.4, hidden=(256, 256), lr=1e-3, epochs=60)
    add("of-label-noise-mc", OF, "u_turn", "make_classification", label_noise=0.3, n_train=800, hidden=(256, 256),
        lr=1e-3, epochs=60)
    add("of-wide-bc", OF, "u_turn", "breast_cancer", n_train=200, hidden=(256, 256), lr=1e-3, batch=16, epochs=80)
    ft = dict(model="finetune", ft_task="same", batch=8)
    add("of-finetune-hf", OF, "finetune_rise_from_first_eval", "digits_ft", fmt="hf", ft_n=40, label_noise=0.4,
        lr=5e-3, epochs=8, log_every=1, **ft)
    add("of-finetune-hf-3eval", OF, "finetune_rise_from_first_eval", "digits_ft", fmt="hf", ft_n=32, label_noise=0.3,
        hidden=(256,), lr=3e-3, epochs=12, log_every=2, eval_every=16, **ft)
    add("of-finetune-keras", OF, "finetune_rise_from_first_eval", "digits_ft", fmt="keras", ft_n=50, label_noise=0.4,
        hidden=(256,), lr=1e-2, epochs=6, **ft)
    add("of-finetune-staircase-lightning", OF, "finetune_memorisation_staircase", "digits_ft", fmt="lightning", ft_n=64,
        label_noise=0.3, hidden=(256,), lr=1e-3, epochs=30, log_every=1, **ft)
    add("of-finetune-lightning-5eval", OF, "finetune_rise_from_first_eval", "digits_ft", fmt="lightning", ft_n=40,
        label_noise=0.4, lr=5e-3, epochs=5, log_every=1, **ft)
    add("of-finetune-wide-4eval", OF, "finetune_rise_from_first_eval", "digits_ft", ft_n=48, label_noise=0.35,
        hidden=(256,), lr=3e-3, epochs=8, eval_every=12, **ft)
    add("of-cnn-tiny", OF, "u_turn", "digits", model="cnn", n_train=150, label_noise=0.3, lr=3e-3, batch=16, epochs=100)
    add("of-lm-tiny-text", OF, "lm_memorisation", "stdlib_docstrings", model="gru", fmt="hf", text_chars=4000,
        lm_hidden=256, max_steps=1200, eval_every=100, log_every=10, lr=3e-3, batch=16)
    add("of-twohead-reg", OF, "one_head_overfits", "digits_multi", model="twohead", n_train=200, reg_noise=1.0,
        hidden=(256,), lr=1e-3, batch=16, epochs=80)
    add("of-two-evals-lightning", OF, "u_turn_two_eval_sets", "digits", fmt="lightning", two_evals=True,
        second_shift=0.3, label_noise=0.4, hidden=(256, 256), lr=1e-3, epochs=50, log_every=10)
    add("of-label-noise-hf", OF, "u_turn", "digits", fmt="hf", label_noise=0.4, hidden=(256, 256), lr=1e-3, epochs=50,
        log_every=10, eval_every=84)

    # -- periodic (class-sorted, never shuffled)
    kw = dict(shuffle=False, sort_by_class=True)
    add("pe-sorted-digits", PE, "sorted_by_class", "digits", opt="sgd", lr=0.02, epochs=15, **kw)
    add("pe-sorted-mc", PE, "sorted_by_class", "make_classification", opt="sgd", lr=0.02, epochs=10, **kw)
    add("pe-sorted-wine", PE, "sorted_by_class", "wine", lr=3e-3, batch=8, epochs=40, **kw)
    add("pe-sorted-cnn", PE, "sorted_by_class", "digits", model="cnn", lr=1e-3, epochs=10, **kw)
    add("pe-sorted-digits-lightning", PE, "sorted_by_class", "digits", fmt="lightning", log_every=1, opt="sgd",
        lr=0.02, epochs=12, **kw)
    add("pe-sorted-bc", PE, "sorted_by_class", "breast_cancer", opt="sgd", lr=0.01, batch=16, epochs=20, **kw)
    add("pe-sorted-iris", PE, "sorted_by_class", "iris", lr=3e-3, batch=8, epochs=40, **kw)
    add("pe-sorted-adam-lightning", PE, "sorted_by_class", "digits", fmt="lightning", log_every=1, lr=1e-3, epochs=10,
        epoch_loss_too=True, **kw)
    add("pe-sorted-mc-rms", PE, "sorted_by_class", "make_classification", opt="rmsprop", lr=1e-3, epochs=8, **kw)
    add("pe-sorted-twohead", PE, "sorted_by_class", "digits_multi", model="twohead", hidden=(128,), opt="sgd", lr=0.01,
        epochs=10, **kw)
    add("pe-sorted-hf", PE, "sorted_by_class", "digits", fmt="hf", log_every=1, opt="sgd", lr=0.02, epochs=10, **kw)
    add("pe-sorted-digits-cos", PE, "sorted_by_class", "digits", opt="sgd", lr=0.05, schedule="cosine", epochs=15, **kw)
    add("pe-sorted-binary", PE, "sorted_by_class", "binary", opt="adam", lr=1e-3, epochs=8, **kw)
    return B


def recipes(only_split: str | None = None) -> list[Recipe]:
    """Every recipe with REPEATS seeds; dev repeats first."""
    out = []
    for rep in range(REPEATS):
        for b in recipe_book():
            r = replace(b, rep=rep, seed=(zlib.crc32(b.name.encode()) % 100_000) * 10 + rep)
            if only_split is None or r.split == only_split:
                out.append(r)
    return out


# --- running, caching, writing ---------------------------------------------------------------------


def _key(r: Recipe) -> str:
    return f"{zlib.crc32(repr(r).encode()):08x}"


def run_one(args) -> dict:
    """Train (or take the cached training of) one run, write its log, check its labels."""
    r, cache = args
    torch.set_num_threads(1)
    cf = Path(cache) / f"{r.run_id}.pkl" if cache else None
    raw = None
    _from_cache = False
    if cf is not None and cf.is_file():
        with cf.open("rb") as fh:
            c = pickle.load(fh)
        if c.get("key") == _key(r):
            raw, seconds, _from_cache = c["raw"], c["seconds"], True
    if raw is None:
        t = time.time()
        raw = train(r)
        seconds = time.time() - t
        if cf is not None:
            tmp = cf.with_suffix(f".tmp{os.getpid()}")
            with tmp.open("wb") as fh:
                pickle.dump({"key": _key(r), "raw": raw, "seconds": seconds}, fh)
            os.replace(tmp, cf)
    lg = write_log(r, raw)
    keep, labs, onset, period, res_, why = check(r, raw, lg)
    return {"cached": _from_cache, "run_id": r.run_id, "keep": bool(keep), "labels": sorted(labs), "onset": onset,
            "period": period, "onset_resolution": res_, "why": why, "text": lg.text, "suffix": lg.suffix,
            "spe": int(lg.spe), "seconds": seconds, "split": r.split}


def _entry(r: Recipe, res: dict) -> dict:
    e = {"labels": res["labels"], "onset_step": res["onset"], "period_steps": res["period"], "kind": r.kind,
         "family": f"{r.dataset}/{r.model}", "effect_size": None, "difficulty": None,
         "steps_per_epoch": res["spe"], "split": r.split, "recipe": r.name, "format": r.fmt, "model": r.model,
         "seed": r.seed}
    if res["onset_resolution"]:
        e["onset_resolution"] = float(res["onset_resolution"])
    return e


def assemble(results: list[tuple[Recipe, dict]], meta: dict, split: str | None) -> tuple[dict, dict]:
    """(labels.json document, {relative path: text}) for one split (None: all)."""
    doc, files, dropped = {}, {}, []
    # every recipe in both splits: a recipe none of whose runs of one split
    # passed its check is dropped from the other split too
    trained = {r.split for r, _ in results}
    kept_in: dict[str, set] = {}
    for r, res in results:
        if res["keep"]:
            kept_in.setdefault(r.name, set()).add(r.split)
    for r, res in results:
        if split is not None and r.split != split:
            continue
        if not res["keep"]:
            dropped.append({"run_id": r.run_id, "labels": list(r.labels), "split": r.split, "why": res["why"]})
            continue
        missing = trained - kept_in.get(r.name, set())
        if missing:
            dropped.append({"run_id": r.run_id, "labels": res["labels"], "split": r.split,
                            "why": f"recipe has no kept run in the {'/'.join(sorted(missing))} split"})
            continue
        doc[r.run_id] = _entry(r, res)
        files[f"runs/{r.run_id}{res['suffix']}"] = res["text"]
    counts = {"healthy": 0}
    for e in doc.values():
        if not e["labels"]:
            counts["healthy"] += 1
        for lab in e["labels"]:
            counts[lab] = counts.get(lab, 0) + 1
    m = {"name": "real" if split is None else f"real-{split}", **meta, "split": split or "all", "n_runs": len(doc),
         "counts": counts, "n_dropped": len(dropped), "dropped": dropped}
    return {"_meta": m, **doc}, files


def write_dir(target: Path, doc: dict, files: dict) -> None:
    """Write a corpus directory atomically (a temporary sibling, then renames)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "runs").mkdir(parents=True)
    for rel, text in files.items():
        (tmp / rel).write_text(text, encoding="utf-8")
    (tmp / "labels.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    old = target.with_name(f".{target.name}.old{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old)


def write_archive(path: Path, doc: dict, files: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_LZMA) as zf:
        zf.writestr(zipfile.ZipInfo("labels.json", (2026, 1, 1, 0, 0, 0)), json.dumps(doc, indent=1) + "\n",
                    compress_type=zipfile.ZIP_LZMA)
        for rel in sorted(files):
            zf.writestr(zipfile.ZipInfo(rel, (2026, 1, 1, 0, 0, 0)), files[rel], compress_type=zipfile.ZIP_LZMA)
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="corpus directory with every run (both splits)")
    ap.add_argument("--split-dirs", default=None, metavar="DIR",
                    help="also write DIR/real_dev and DIR/real_test (each holding one split only)")
    ap.add_argument("--archive", default=None, help="also write the corpus as one zip (LZMA) archive")
    ap.add_argument("--only-split", choices=["dev", "test"], default=None, help="train the runs of one split only")
    ap.add_argument("--cache", default=None, help="directory caching finished runs (re-used when the recipe is unchanged)")
    ap.add_argument("--jobs", type=int, default=1, help="processes (at most 2 on a shared machine)")
    ap.add_argument("--only", default=None, help="comma-separated recipe names (for trying recipes; writes nothing)")
    args = ap.parse_args(argv)
    todo = recipes(args.only_split)
    if args.only:
        names = set(args.only.split(","))
        todo = [r for r in todo if r.name in names]
    if args.cache:
        Path(args.cache).mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    results = []
    work = [(r, args.cache) for r in todo]
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(min(2, args.jobs)) as pool:
            outs = pool.imap(run_one, work, chunksize=1)
            for r, res in zip(todo, outs):
                results.append((r, res))
                print(f"{r.run_id:<44} {'keep' if res['keep'] else 'DROP'} {res['labels']} {res['why']} "
                      f"({res['seconds']:.1f}s)", flush=True)
    else:
        for w in work:
            res = run_one(w)
            results.append((w[0], res))
            print(f"{w[0].run_id:<44} {'keep' if res['keep'] else 'DROP'} {res['labels']} {res['why']} "
                  f"({res['seconds']:.1f}s)", flush=True)
    wall = time.time() - t0
    cmd = "nice -n 10 python benchmarks/real_runs/generate.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {"generator": "benchmarks/real_runs/generate.py", "repeats": REPEATS, "dev_repeats": DEV_REPEATS,
            "torch": torch.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "command": cmd,
            # per-run training time summed over the runs (also of those taken from --cache),
            # and the wall time of this invocation, which trained only the runs not cached
            "train_seconds": round(sum(res["seconds"] for _, res in results), 1), "wall_seconds": round(wall, 1),
            "runs_from_cache": sum(bool(res.get("cached")) for _, res in results)}
    kept = sum(res["keep"] for _, res in results)
    print(f"kept {kept} of {len(results)} runs, {wall:.0f}s wall", flush=True)
    if args.only:
        return 0
    doc, files = assemble(results, meta, None)
    print(json.dumps(doc["_meta"]["counts"]), flush=True)
    if args.out:
        write_dir(Path(args.out), doc, files)
    if args.split_dirs:
        for sp in ("dev", "test"):
            if args.only_split and sp != args.only_split:
                continue
            d, f = assemble(results, meta, sp)
            write_dir(Path(args.split_dirs) / f"real_{sp}", d, f)
            print(sp, json.dumps(d["_meta"]["counts"]), flush=True)
    if args.archive:
        write_archive(Path(args.archive), doc, files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
