"""Peer baselines: the detection rules practitioners run today, re-implemented.

Each baseline is a detector behind curvestat's own protocol (a ``name`` and
``detect(run, config=None) -> list[Finding] | Skipped``), so the benchmark
scores them exactly as it scores curvestat, and a user's own detector plugs in
the same way.

The originals are *callbacks*: they look at the loss after every batch or
epoch and stop training when a rule fires. Here they run **post hoc on the
finished log**, replaying the rule at each logged step in order, as the
callback would have seen it; the first step at which a rule fires is reported
(the training would have stopped there). A fire maps onto our pathologies:

==========================  =================================  ====================
rule                        fires when                         pathology
==========================  =================================  ====================
SageMaker LossNotDecreasing loss >= loss ``num_steps`` earlier non_convergence
SageMaker Overfit           (val - train)/train > 0.1          overfitting
SageMaker Overtraining      no new optimum for patience steps  overfitting
SageMaker ExplodingTensor   NaN/Inf in the loss                explosion
SageMaker UnchangedTensor   loss allclose over 3 saved steps   periodic ("stuck")
Lightning EarlyStopping     non-finite monitored value         explosion
Lightning EarlyStopping     patience on val loss               overfitting
Lightning SpikeDetection    spike vs running mean (rtol 2)     explosion
Keras TerminateOnNaN        NaN/Inf batch loss                 explosion
Keras EarlyStopping         patience on val loss               overfitting
naive thresholds            see :class:`NaiveThresholds`       all but periodic
statsmodels OLS-HAC trend   no significant fall of log loss    non_convergence
statsmodels OLS-HAC trend   significant rise of val loss       overfitting
                            after its minimum
non-finite loss             NaN/Inf                            explosion
==========================  =================================  ====================

The last three (:class:`StatsmodelsTrendTests`, ``--detectors statsmodels``,
not in the default table) are the off-the-shelf statistical baseline: what a
statistician writes with statsmodels alone, a least-squares trend with a
Newey-West standard error; its findings carry that test's p-value.

Every rule is deterministic: findings carry no p-value; their ``onset_step``
is the step the rule localises (the fire step, or the best step of an
early-stopping rule), and ``effect["fire_step"]`` the step at which it fired.
Sources of every default are cited in each class; they are collected in
``/work/shared/reference/peer-rules.md`` (section 2) of the curvestat project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..report import Finding, Pathology, Severity, Skipped
from ..run import Run, Series, align_to_steps

__all__ = [
    "SageMakerRules",
    "LightningCallbacks",
    "KerasCallbacks",
    "NaiveThresholds",
    "StatsmodelsTrendTests",
    "BASELINES",
    "get_baseline",
]

_THRESHOLDED = ("recall", "precision", "f1", "fscore", "f1score", "sensitivity", "tpr")


def _finding(det: str, pathology: Pathology, rule: str, series: Series, step: int, fire: int, message: str,
             **effect: float) -> Finding:
    return Finding(
        pathology=pathology,
        kind=rule,
        series=series.name,
        onset_step=int(step),
        effect={"fire_step": float(fire), **{k: float(v) for k, v in effect.items()}},
        severity=Severity.WARNING,
        message=message,
        detector=det,
    )


def _first_nonfinite(s: Series) -> int | None:
    bad = np.flatnonzero(~np.isfinite(s.values))
    return int(bad[0]) if bad.size else None


def _sample_at_interval(s: Series, interval: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The value smdebug would have saved every ``interval`` steps.

    A save at step ``k * interval`` records the value logged at that step, or
    the last one logged before it (our logs may be sparser than the save
    interval). Steps 0, interval, 2*interval, ... up to the last logged step.
    """
    last = int(s.steps[-1])
    marks = np.arange(0, last + 1, interval, dtype=np.int64)
    idx = np.searchsorted(s.steps, marks, side="right") - 1
    ok = idx >= 0
    idx = idx[ok]
    idx = np.unique(idx)
    return s.steps[idx], s.values[idx]


def _patience_rule(values: NDArray[np.float64], *, patience: int, min_delta: float, first_can_fire: int = 0,
                   stop_on_nan: bool = False) -> tuple[int, int] | None:
    """Replay an early-stopping patience counter (mode ``min``).

    Returns ``(fire_index, best_index)`` for the first index at which the
    wait counter reaches ``patience``, or None. An improvement is
    ``value - min_delta < best`` (Keras ``_is_improvement`` and Lightning's
    ``torch.lt(current - min_delta, best)``); NaN is never an improvement.
    """
    best = np.inf
    best_i = -1
    wait = 0
    for i, v in enumerate(values.tolist()):
        if v - min_delta < best:
            best, best_i, wait = v, i, 0
            continue
        wait += 1
        if wait >= patience and i >= first_can_fire:
            return i, max(best_i, 0)
    return None


def _align_train_to(train: Series, at_steps: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mean finite train loss over each evaluation interval (the rule of :func:`curvestat.run.align_to_steps`)."""
    return align_to_steps(train.steps, train.values, at_steps)


class SageMakerRules:
    """Amazon SageMaker Debugger built-in rules, with their documented defaults.

    The rule implementations are not public (they lived in the private
    ``smdebug_rules`` package; ``awslabs/sagemaker-debugger`` commit bb14a44
    "Remove 1P rules (#406)"), so these follow the parameter documentation in
    ``awsdocs/amazon-sagemaker-developer-guide`` ``doc_source/debugger-built-in-rules.md``
    and ``sagemaker-docs/FirstPartyRules.md`` (at bb14a44^):

    * **LossNotDecreasing** ``num_steps=10``, ``diff_percent=0.0``, mode EVAL
      tried before TRAIN: the loss at the current saved step is compared with the
      loss at the newest saved step at least ``num_steps`` earlier; the rule fires
      when it has not decreased by ``diff_percent`` % (the 2019 test
      ``test_loss_not_decreasing.py``: losses 0.3, 0.33, 0.31, 0.30, 0.28 saved
      every 4 steps fire at step 12). -> ``non_convergence``.
    * **Overfit** ``start_step=0``, ``patience=1``, ``ratio_threshold=0.1``:
      ``(mean val - mean train) / mean train`` above the threshold for
      ``patience`` evaluations. Train loss is averaged over each evaluation
      interval. -> ``overfitting``.
    * **Overtraining** ``patience_train=5``, ``patience_validation=10``,
      ``delta=0.1`` (minimum improvement for a new optimum; read as an absolute
      loss difference, as Keras/Lightning ``min_delta``; the docs do not say).
      Fires when the train loss finds no new optimum for 5 saved steps or the
      validation loss for 10 evaluations. -> ``overfitting`` (SageMaker's
      "overtraining").
    * **ExplodingTensor** ``only_nan=False``: NaN or Inf in the saved loss.
      -> ``explosion``.
    * **UnchangedTensor** ``num_steps=3``, ``rtol=1e-05``, ``atol=1e-08``:
      ``np.allclose`` over the last 3 saved values of the loss; the only
      built-in rule aimed at a "stuck" curve. -> ``periodic``.
    * **StalledTrainingRule** (``threshold=1800`` s without a new tensor) is a
      wall-clock liveness check with no counterpart in a finished log: not
      applicable.

    Debugger saves tensors every ``save_interval=500`` steps by default
    (``sagemaker-debugger-rulesconfig`` ``ruleConfigs.json``: ``save_interval:
    "500"``); the rules only see those saves. Evaluation-mode losses are saved
    as logged. Set ``save_interval=1`` to apply the rules to every logged step.
    """

    name = "sagemaker"

    def __init__(self, *, save_interval: int = 500, num_steps: int = 10, diff_percent: float = 0.0,
                 ratio_threshold: float = 0.1, patience: int = 1, start_step: int = 0,
                 patience_train: int = 5, patience_validation: int = 10, delta: float = 0.1,
                 unchanged_num_steps: int = 3, rtol: float = 1e-5, atol: float = 1e-8) -> None:
        self.save_interval = int(save_interval)
        self.num_steps = int(num_steps)
        self.diff_percent = float(diff_percent)
        self.ratio_threshold = float(ratio_threshold)
        self.patience = int(patience)
        self.start_step = int(start_step)
        self.patience_train = int(patience_train)
        self.patience_validation = int(patience_validation)
        self.delta = float(delta)
        self.unchanged_num_steps = int(unchanged_num_steps)
        self.rtol, self.atol = float(rtol), float(atol)

    def detect(self, run: Run, config: Any = None) -> Sequence[Finding] | Skipped:
        train, val = run.train_loss, run.val_loss
        if train is None and val is None:
            return Skipped(self.name, "no loss series")
        out: list[Finding] = []
        tr_steps: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        tr_vals: NDArray[np.float64] = np.empty(0)
        if train is not None:
            tr_steps, tr_vals = _sample_at_interval(train, self.save_interval)
        # ExplodingTensor on every saved loss (train saves, and eval losses as logged)
        cands = []
        if train is not None:
            bad = np.flatnonzero(~np.isfinite(tr_vals))
            if bad.size:
                cands.append((int(tr_steps[bad[0]]), train))
        if val is not None:
            j = _first_nonfinite(val)
            if j is not None:
                cands.append((int(val.steps[j]), val))
        if cands:
            st, s = min(cands, key=lambda c: c[0])
            out.append(_finding(self.name, Pathology.EXPLOSION, "ExplodingTensor", s, st, st,
                                f"ExplodingTensor: non-finite {s.name} at step {st}"))
        # LossNotDecreasing: EVAL mode first, then TRAIN
        src: tuple[str, NDArray[np.int64], NDArray[np.float64], Series] | None = None
        if val is not None and len(val) >= 2:
            src = (val.name, val.steps, val.values, val)
        if src is None and train is not None and tr_steps.size >= 2:
            src = (train.name, tr_steps, tr_vals, train)
        if src is not None:
            _, xs, v, s = src
            # index of the newest saved step at least num_steps earlier
            prev = np.searchsorted(xs, xs - self.num_steps, side="right") - 1
            ok = prev >= 0
            with np.errstate(invalid="ignore"):
                fire = ok & ~(v < v[np.clip(prev, 0, None)] * (1 - self.diff_percent / 100.0))
            fire &= np.isfinite(v)
            hit = np.flatnonzero(fire)
            if hit.size:
                i = int(hit[0])
                out.append(_finding(self.name, Pathology.NON_CONVERGENCE, "LossNotDecreasing", s, int(xs[i]), int(xs[i]),
                                    f"LossNotDecreasing: {s.name} at step {xs[i]} is not below its value at step {xs[prev[i]]}"))
        # Overfit and Overtraining need both losses
        if val is not None and train is not None:
            ev = val.steps >= self.start_step
            vs, vv = val.steps[ev], val.values[ev]
            if vs.size:
                mt = _align_train_to(train, vs)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = (vv - mt) / mt
                over = np.nan_to_num(ratio, nan=0.0) > self.ratio_threshold
                # patience consecutive evaluations above the threshold
                run_len = 0
                for i, o in enumerate(over.tolist()):
                    run_len = run_len + 1 if o else 0
                    if run_len >= self.patience:
                        out.append(_finding(self.name, Pathology.OVERFITTING, "Overfit", val, int(vs[i]), int(vs[i]),
                                            f"Overfit: (val - train)/train = {ratio[i]:.3g} > {self.ratio_threshold} at step {vs[i]}",
                                            ratio=float(ratio[i])))
                        break
        fires = []
        if val is not None:
            r = _patience_rule(val.values, patience=self.patience_validation, min_delta=self.delta)
            if r is not None:
                fires.append((int(val.steps[r[0]]), int(val.steps[r[1]]), val, "validation"))
        if train is not None and tr_vals.size:
            r = _patience_rule(tr_vals, patience=self.patience_train, min_delta=self.delta)
            if r is not None:
                fires.append((int(tr_steps[r[0]]), int(tr_steps[r[1]]), train, "train"))
        if fires:
            at, best, s, which = min(fires, key=lambda f: f[0])
            out.append(_finding(self.name, Pathology.OVERFITTING, "Overtraining", s, best, at,
                                f"Overtraining: {which} loss found no new optimum (delta {self.delta}) since step {best}; fired at step {at}"))
        # UnchangedTensor on the saved train loss
        if train is not None and tr_vals.size >= self.unchanged_num_steps:
            k = self.unchanged_num_steps
            w = np.lib.stride_tricks.sliding_window_view(tr_vals, k)
            same = np.all(np.abs(w - w[:, -1:]) <= self.atol + self.rtol * np.abs(w[:, -1:]), axis=1)
            hit = np.flatnonzero(same)
            if hit.size:
                i = int(hit[0]) + k - 1
                out.append(_finding(self.name, Pathology.PERIODIC, "UnchangedTensor", train, int(tr_steps[hit[0]]), int(tr_steps[i]),
                                    f"UnchangedTensor: {train.name} unchanged over {k} saved steps ending at {tr_steps[i]}"))
        return out


class LightningCallbacks:
    """PyTorch Lightning ``EarlyStopping`` and Fabric ``SpikeDetection`` with their defaults.

    * ``EarlyStopping`` (``src/lightning/pytorch/callbacks/early_stopping.py``):
      ``monitor="val_loss"`` (the common choice; the argument is required),
      ``min_delta=0.0``, ``patience=3``, ``mode="min"``, ``check_finite=True``,
      ``stopping_threshold=None``, ``divergence_threshold=None``. Checked in
      the order of ``_evaluate_stopping_criteria``: non-finite value ->
      ``explosion``; divergence threshold (off by default; absolute value, no
      patience) -> ``explosion``; then ``wait_count >= patience`` without an
      improvement ``current - min_delta < best`` -> ``overfitting`` with the
      onset at the best step. Without a validation loss the train loss is
      monitored (as ``monitor="train_loss"`` would), and a patience stop is
      then read as ``non_convergence``.
    * ``SpikeDetection`` (``src/lightning/fabric/utilities/spike.py``):
      ``mode="min"``, ``window=10``, ``warmup=1``, ``atol=None``, ``rtol=2.0``,
      ``finite_only=True``. At each batch from ``warmup`` on: a non-finite loss
      is a spike; otherwise a loss that is not an improvement over the last one
      and differs from the running mean of the last ``window`` losses by at
      least ``rtol * running_mean`` is a spike. -> ``explosion``.

    Both run once per logged point (``EarlyStopping`` at each evaluation,
    ``SpikeDetection`` at each logged train loss).
    """

    name = "lightning"

    def __init__(self, *, patience: int = 3, min_delta: float = 0.0, check_finite: bool = True,
                 divergence_threshold: float | None = None, window: int = 10, warmup: int = 1,
                 rtol: float | None = 2.0, atol: float | None = None) -> None:
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.check_finite = bool(check_finite)
        self.divergence_threshold = divergence_threshold
        self.window = int(window)
        self.warmup = int(warmup)
        self.rtol = rtol
        self.atol = atol

    def detect(self, run: Run, config: Any = None) -> Sequence[Finding] | Skipped:
        train, val = run.train_loss, run.val_loss
        mon = val if val is not None else train
        if mon is None:
            return Skipped(self.name, "no loss series to monitor")
        out: list[Finding] = []
        v = mon.values
        # EarlyStopping, in the callback's order, at each monitored value
        nf = _first_nonfinite(mon) if self.check_finite else None
        div = None
        if self.divergence_threshold is not None:
            h = np.flatnonzero(v > self.divergence_threshold)
            div = int(h[0]) if h.size else None
        pat = _patience_rule(v, patience=self.patience, min_delta=self.min_delta)
        events = []
        if nf is not None:
            events.append((nf, 0, "non_finite"))
        if div is not None:
            events.append((div, 1, "divergence_threshold"))
        if pat is not None:
            events.append((pat[0], 2, "patience"))
        if events:
            i, _, why = min(events)
            st = int(mon.steps[i])
            if why == "patience":
                assert pat is not None
                best = int(mon.steps[pat[1]])
                p = Pathology.OVERFITTING if mon is val else Pathology.NON_CONVERGENCE
                out.append(_finding(self.name, p, "EarlyStopping.patience", mon, best, st,
                                    f"EarlyStopping: {mon.name} did not improve for {self.patience} checks after step {best}"))
            else:
                out.append(_finding(self.name, Pathology.EXPLOSION, f"EarlyStopping.{why}", mon, st, st,
                                    f"EarlyStopping ({why}): {mon.name} = {v[i]:.4g} at step {st}"))
        # SpikeDetection on the train loss
        if train is not None:
            spike = self._first_spike(train.values)
            if spike is not None:
                st = int(train.steps[spike])
                out.append(_finding(self.name, Pathology.EXPLOSION, "SpikeDetection", train, st, st,
                                    f"SpikeDetection: {train.name} = {train.values[spike]:.4g} at step {st}"))
        return out

    def _first_spike(self, y: NDArray[np.float64]) -> int | None:
        n = y.size
        if n <= self.warmup:
            return None
        fin = np.isfinite(y)
        nf = np.flatnonzero(~fin)
        stop = int(nf[0]) if nf.size else n  # before this, every update was finite
        cs = np.concatenate([[0.0], np.cumsum(np.where(fin, y, 0.0))])
        idx = np.arange(n)
        lo = np.maximum(0, idx - self.window)
        cnt = idx - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (cs[idx] - cs[lo]) / np.maximum(cnt, 1)
        last = np.concatenate([[0.0], y[:-1]])  # SpikeDetection starts with last_val = 0.0
        with np.errstate(invalid="ignore"):
            worse = ~(y - last <= 0.0)
            dev = np.abs(y - mean)
            ok_r = np.ones(n, bool) if self.rtol is None else dev >= np.abs(self.rtol * mean)
            ok_a = np.ones(n, bool) if self.atol is None else dev >= abs(self.atol)
        spike = worse & ok_r & ok_a & (idx >= self.warmup) & (idx < stop)
        hit = np.flatnonzero(spike)
        first = int(hit[0]) if hit.size else None
        if stop < n and stop >= self.warmup and (first is None or stop < first):
            first = stop  # finite_only=True: a non-finite loss is a spike
        return first


class KerasCallbacks:
    """Keras ``TerminateOnNaN`` and ``EarlyStopping`` with their defaults.

    * ``TerminateOnNaN`` (``keras/src/callbacks/terminate_on_nan.py``): at
      each batch end, ``np.isnan(loss) or np.isinf(loss)`` stops training.
      -> ``explosion`` at the first non-finite train loss.
    * ``EarlyStopping`` (``keras/src/callbacks/early_stopping.py``):
      ``monitor="val_loss"``, ``min_delta=0``, ``patience=0``, ``mode="auto"``
      (min for a loss), ``baseline=None``, ``start_from_epoch=0``. At each
      evaluation: an improvement is ``current - min_delta < best``; otherwise
      ``wait += 1`` and training stops when ``wait >= patience and epoch > 0``.
      With the default ``patience=0`` the first evaluation that does not improve
      stops training. -> ``overfitting``, onset at the best evaluation. Without
      a ``val_loss`` Keras warns and never stops: the rule is skipped.
    """

    name = "keras"

    def __init__(self, *, patience: int = 0, min_delta: float = 0.0, start_from_epoch: int = 0) -> None:
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.start_from_epoch = int(start_from_epoch)

    def detect(self, run: Run, config: Any = None) -> Sequence[Finding] | Skipped:
        train, val = run.train_loss, run.val_loss
        if train is None and val is None:
            return Skipped(self.name, "no loss series")
        out: list[Finding] = []
        if train is not None:
            j = _first_nonfinite(train)
            if j is not None:
                st = int(train.steps[j])
                out.append(_finding(self.name, Pathology.EXPLOSION, "TerminateOnNaN", train, st, st,
                                    f"TerminateOnNaN: {train.name} = {train.values[j]} at step {st}"))
        if val is not None:
            v = val.values[self.start_from_epoch:]
            r = _patience_rule(v, patience=self.patience, min_delta=self.min_delta, first_can_fire=1)
            if r is not None:
                fi, bi = r[0] + self.start_from_epoch, r[1] + self.start_from_epoch
                fire, best = int(val.steps[fi]), int(val.steps[bi])
                out.append(_finding(self.name, Pathology.OVERFITTING, "EarlyStopping", val, best, fire,
                                    f"EarlyStopping: {val.name} did not improve at step {fire} (best at step {best})"))
        return out


class NaiveThresholds:
    """The thresholds a practitioner writes by hand, looking at first and last values.

    * any NaN/Inf in the train loss -> ``explosion`` (first non-finite step);
    * last finite train loss > ``explosion_factor`` (2) x the first -> ``explosion``;
    * otherwise last train loss > ``(1 - min_improvement)`` (0.95) x the first
      -> ``non_convergence`` ("last loss > first loss", with a 5 % margin);
    * last ``(val - train) / train`` > ``gap_threshold`` (0.1, the same 10 % as
      SageMaker Overfit) -> ``overfitting``, train averaged over the last
      evaluation interval;
    * a thresholded metric (recall, precision, f1) whose last value is exactly
      0 -> ``metric_contradiction``.

    No naive rule exists for periodic curves (people eyeball them). There are
    no published defaults for these; the values are the round numbers found in
    tutorials.
    """

    name = "naive"

    def __init__(self, *, explosion_factor: float = 2.0, min_improvement: float = 0.05, gap_threshold: float = 0.1) -> None:
        self.explosion_factor = float(explosion_factor)
        self.min_improvement = float(min_improvement)
        self.gap_threshold = float(gap_threshold)

    def detect(self, run: Run, config: Any = None) -> Sequence[Finding] | Skipped:
        train, val = run.train_loss, run.val_loss
        if train is None:
            return Skipped(self.name, "no train-loss series")
        out: list[Finding] = []
        y, st = train.values, train.steps
        last_step = int(st[-1])
        j = _first_nonfinite(train)
        fin = np.flatnonzero(np.isfinite(y))
        if j is not None:
            out.append(_finding(self.name, Pathology.EXPLOSION, "non_finite", train, int(st[j]), last_step,
                                f"{train.name} is non-finite at step {st[j]}"))
        elif fin.size >= 2:
            first, last = y[fin[0]], y[fin[-1]]
            if last > self.explosion_factor * first:
                out.append(_finding(self.name, Pathology.EXPLOSION, "last_gt_first", train, last_step, last_step,
                                    f"last {train.name} {last:.4g} > {self.explosion_factor} x first {first:.4g}"))
            elif last > (1 - self.min_improvement) * first:
                out.append(_finding(self.name, Pathology.NON_CONVERGENCE, "last_ge_first", train, last_step, last_step,
                                    f"last {train.name} {last:.4g} is not {self.min_improvement:.0%} below the first {first:.4g}"))
        if val is not None and np.isfinite(val.values[-1]):
            mt = _align_train_to(train, val.steps[-1:])[0]
            if np.isfinite(mt) and mt > 0:
                gap = (val.values[-1] - mt) / mt
                if gap > self.gap_threshold:
                    s = int(val.steps[-1])
                    out.append(_finding(self.name, Pathology.OVERFITTING, "final_gap", val, s, s,
                                        f"final (val - train)/train = {gap:.3g} > {self.gap_threshold}", gap=gap))
        for m in run.metrics:
            toks = m.name.lower()
            if any(t in toks for t in _THRESHOLDED) and m.values[-1] == 0.0:
                s = int(m.steps[-1])
                out.append(_finding(self.name, Pathology.METRIC_CONTRADICTION, "final_zero", m, s, s,
                                    f"{m.name} is 0 at the last step"))
                break
        return out


class StatsmodelsTrendTests:
    """The off-the-shelf statistical baseline: OLS trends with HAC standard errors (statsmodels).

    * any NaN/Inf in the train loss -> ``explosion`` (first non-finite step);
    * the slope of the log train loss on the step, ``statsmodels.api.OLS(...)
      .fit(cov_type='HAC', cov_kwds={'maxlags': L})`` with Newey-West's rule
      ``L = floor(4 (n/100)^(2/9))``, is not significantly negative
      (one-sided p > ``alpha``) -> ``non_convergence``;
    * the slope of the validation loss after its minimum (at least
      ``min_after`` evaluations) is significantly positive (one-sided p <=
      ``alpha``) -> ``overfitting``, onset at the minimum.

    No rule for periodic curves or metric contradictions. Findings carry the
    one-sided p-value of their slope test.

    Parameters
    ----------
    alpha : float
        Level of each one-sided test (default 0.01, curvestat's).
    min_after : int
        Evaluations after the validation minimum needed for the rise test (default 5).
    """

    name = "statsmodels"

    def __init__(self, *, alpha: float = 0.01, min_after: int = 5) -> None:
        self.alpha = float(alpha)
        self.min_after = int(min_after)

    @staticmethod
    def _slope_test(t: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
        """(slope, one-sided p of slope > 0) of OLS with a Newey-West HAC covariance."""
        import statsmodels.api as sm
        from scipy.special import ndtr

        n = y.size
        lags = int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))
        tc = (t - t.mean()) / max(float(np.ptp(t)), 1.0)
        fit = sm.OLS(y, sm.add_constant(tc, has_constant="add")).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        se = float(fit.bse[1])
        if not (se > 0 and np.isfinite(se)):
            return float(fit.params[1]), 0.5
        return float(fit.params[1]), float(ndtr(-float(fit.params[1]) / se))

    def detect(self, run: Run, config: Any = None) -> Sequence[Finding] | Skipped:
        train, val = run.train_loss, run.val_loss
        if train is None:
            return Skipped(self.name, "no train-loss series")
        out: list[Finding] = []
        j = _first_nonfinite(train)
        last_step = int(train.steps[-1])
        if j is not None:
            out.append(_finding(self.name, Pathology.EXPLOSION, "non_finite", train, int(train.steps[j]), last_step,
                                f"{train.name} is non-finite at step {train.steps[j]}"))
        fin = np.isfinite(train.values) & (train.values > 0)
        if j is None and fin.sum() >= 8:
            _, p_up = self._slope_test(train.steps[fin].astype(float), np.log(train.values[fin]))
            p_down = 1.0 - p_up
            if p_down > self.alpha:
                f = _finding(self.name, Pathology.NON_CONVERGENCE, "no_significant_decrease", train, last_step, last_step,
                             f"the log {train.name} has no significantly negative OLS-HAC trend (p = {p_down:.3g})")
                out.append(replace(f, p_value=p_down))
        if val is not None:
            vf = np.isfinite(val.values)
            vs, vv = val.steps[vf].astype(float), val.values[vf]
            if vv.size:
                k = int(np.argmin(vv))
                if vv.size - k - 1 >= self.min_after:
                    _, p_up = self._slope_test(vs[k:], vv[k:])
                    if p_up <= self.alpha:
                        f = _finding(self.name, Pathology.OVERFITTING, "val_rise_after_minimum", val, int(vs[k]),
                                     int(vs[-1]), f"{val.name} rises after its minimum (OLS-HAC p = {p_up:.3g})")
                        out.append(replace(f, p_value=p_up))
        return out


#: Baselines by name, as accepted by ``curvestat bench --detectors``.
BASELINES: dict[str, type] = {
    "sagemaker": SageMakerRules,
    "lightning": LightningCallbacks,
    "keras": KerasCallbacks,
    "naive": NaiveThresholds,
    "statsmodels": StatsmodelsTrendTests,
}


def get_baseline(name: str, **params: Any):
    """Instantiate a baseline by name, with its documented defaults unless overridden.

    Raises
    ------
    ParameterError
        If no baseline has that name.
    """
    from ..errors import ParameterError

    if name not in BASELINES:
        raise ParameterError(f"unknown baseline {name!r}; available: {sorted(BASELINES)}")
    return BASELINES[name](**params)
