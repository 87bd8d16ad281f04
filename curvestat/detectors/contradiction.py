"""Metric contradiction: "my metrics are contradictory".

H0: every metric moves with the loss -- when the loss improves, the metric
improves too (or is already perfect).

For each metric series the loss is aligned to the metric's steps (the
validation loss when there is one, else the train loss averaged over each
metric interval; see :func:`curvestat.detectors.overfitting.align_to_steps`)
and three kinds of contradiction are tested, in this order:

``degenerate``
    The metric is exactly constant (often exactly 0 or 1) over a sustained
    window -- at least ``min_degenerate_fraction`` of its points -- while the
    loss improves significantly over that window (Mann-Kendall, decreasing;
    see :func:`_mk` and :func:`_loss_trend`) by at least
    ``min_loss_improvement``. A metric stuck at its
    best value (1 for accuracy-like metrics, 0 for error-like ones) is a
    perfect model, not a contradiction.
``opposite_direction``
    The loss improves significantly and the metric worsens significantly
    (both Mann-Kendall tests; p = max of the two, an intersection-union
    test): loss and metric have a positive rank association in the wrong
    direction.
``not_improving``
    The loss improves significantly and by at least ``min_loss_improvement``,
    while the metric shows no significant improving trend and gained less
    than ``min_metric_gain`` (absolute; a larger loss that the noise of the
    edge medians explains counts as none, :func:`_edge_noise`). AUC-like
    (threshold-invariant) metrics get severity ``info`` here.

Trend tests: the exact Mann-Kendall null below 10 points, Hamed-Rao (3
lags, variance factor floored at 1) from there on; the loss is tested on the
whole window and on its improving phase, combined by Simes' test.

For a degenerate window the train loss (when logged besides the validation
loss) is a second witness of the loss improving (Bonferroni over the series
tested). A metric that improved by ``min_metric_gain`` to its stuck value
before the window moved with the loss and then froze (a plateau on a finite
validation set): not degenerate, unless the stuck value is its worst one.

A non-improving metric that ends within ``saturation`` of its best value (a
saturated metric: the loss keeps improving the model's confidence) is
reported with severity ``info``; an exactly constant one only when the loss
also ends at or below ``perfect_loss`` (a near-perfect model).

Family-wise error: the p-values of the metrics of one run are Holm-adjusted
and a finding is reported only when its adjusted p-value is at most alpha.

After a sustained explosion (found by the explosion detector, which runs
first) only the points before its onset are judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Role, Run, Series, _tokens, align_to_steps, metric_direction, task_of
from ..stats import block_means, diff_noise_scale, robust_smooth
from ..stats._util import _median
from ._context import explosion_onset
from ._trend import trend_test

__all__ = ["ContradictionDetector", "detector", "REMEDIES_CONTRADICTION"]

REMEDIES_CONTRADICTION = (
    "Lower the classification threshold: probabilities may never exceed the default 0.5.",
    "Check threshold-invariant metrics such as AUC to see whether the model ranks examples well.",
    "Account for the class imbalance (class weights, resampling, or a metric suited to the minority class).",
)
REMEDIES_AUC = (
    "The loss improves while the ranking metric does not: check the calibration of the scores and the label quality.",
    "Account for the class imbalance (class weights, resampling).",
)

_THRESHOLD_INVARIANT = frozenset({"auc", "auroc", "rocauc", "roc", "ap", "map"})
_MAX_POINTS = 400
#: autocorrelation lags of the Hamed-Rao correction (as Hamed & Rao suggest);
#: a loss that drops early and then flattens leaves a residual whose long-lag
#: rank autocorrelation would otherwise swamp the test
_LAGS = 3


def _mk(x: NDArray[np.float64], alternative: str) -> tuple[float, float]:
    """(p, z): exact below 10 points; Hamed-Rao (``_LAGS`` lags) with its
    variance factor floored at 1 from there on (Hamed-Rao at 1 % rejects 2 %
    of iid series of 12-24 points; the plain test 0.7 %)."""
    return trend_test(x, alternative, lag=_LAGS, floor_factor=True)


def _loss_trend(lv: NDArray[np.float64]) -> tuple[float, float]:
    """(p, z) for "the loss decreased": :func:`_mk` on the whole window and
    on its improving phase, combined by Simes' test.

    The improving phase runs from the start to the first point where the
    robustly smoothed log loss comes within its noise scale (from first
    differences, :func:`~curvestat.stats.diff_noise_scale`) of its minimum:
    where the loss becomes indistinguishable from the level it ends at. A
    loss that drops and then plateaus has a clear trend there that the
    plateau would dilute. (A fixed margin instead -- "within 2 %" -- cuts the
    phase short on a smooth loss, whose last per cent of improvement is still
    far above its noise, and lets a noisy loss's phase run into the plateau.)

    With ``p_(1) <= p_(2)`` the two p-values, ``p = min(1, 2 p_(1), p_(2))``
    (Simes 1986). Both tests score the same early pairs in the same
    direction, so their statistics are positively dependent, where Simes'
    test keeps its level (Sarkar 1998) and is uniformly more powerful than
    Bonferroni's ``2 p_(1)``: when both views of the loss agree, the weaker
    one alone is the evidence. Measured size at alpha = 1 % with no trend
    (log-normal noise, 3000 series per cell): 0.3-0.6 % for iid noise at 8-40
    points; under AR(1) noise (phi 0.3) 1-3 %, as any trend test on a few
    tens of points (``docs/detectors/contradiction.rst``).
    """
    p, z = _mk(lv, "decreasing")
    n = lv.shape[0]
    if n >= 8 and lv.min() > 0:
        y = np.log(lv)
        sm = robust_smooth(y, 3)
        k = int(np.flatnonzero(sm <= sm.min() + diff_noise_scale(y))[0])
        if k + 1 >= 5 and k + 1 < n:
            p2, z2 = _mk(lv[: k + 1], "decreasing")
            lo, hi = min(p, p2), max(p, p2)
            if p2 < p:
                z = z2
            p = min(1.0, 2.0 * lo, hi)
    return p, z


def _improvement(loss: NDArray[np.float64]) -> float:
    """``1 - median(last 10 %) / median(first 10 %)`` (difference over |first| for non-positive losses)."""
    q = max(1, loss.shape[0] // 10)
    first, last = _median(loss[:q]), _median(loss[-q:])
    if first > 0 and last > 0:
        return 1.0 - last / first
    return (first - last) / (abs(first) or 1.0)


def _longest_constant_run(m: NDArray[np.float64]) -> tuple[int, int]:
    """(start, length) of the longest run of exactly equal consecutive values (last one on ties)."""
    change = np.flatnonzero(np.diff(m) != 0.0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [m.shape[0]]])
    lens = ends - starts
    i = int(len(lens) - 1 - np.argmax(lens[::-1]))
    return int(starts[i]), int(lens[i])


def _holm(p: list[float]) -> list[float]:
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj.tolist()


class ContradictionDetector:
    """Detect metrics that contradict an improving loss.

    Attributes
    ----------
    name : str
        ``"contradiction"``.
    """

    name = "contradiction"
    #: reads the explosion detector's findings: metrics are judged before a
    #: sustained explosion
    uses_context = True

    def detect(self, run: Run, config: Config, context: dict | None = None, **_: Any) -> Sequence[Finding] | Skipped:
        """Test every metric of ``run``; return findings or a Skipped with the reason."""
        cfg = config.contradiction
        metrics = [s for s in run.metrics if metric_direction(s.name) != 0]
        if not metrics:
            return Skipped(self.name, "no metric series (recall, precision, f1, accuracy, auc, ...)")
        loss = run.val_loss
        if loss is None or loss.n_finite < cfg.min_points:
            loss = run.train_loss
        if loss is None:
            return Skipped(self.name, "no loss series to compare the metrics with")
        cut = explosion_onset(context)
        # per-call state stays local: the registry's detector instance may
        # be called from several threads at once (a Dask worker runs tasks
        # on a thread pool)
        cache: dict = {}
        cands = []
        reasons = []
        for s in metrics:
            # a multi-task run logs one loss per head: a metric is judged
            # against the loss of its own head (cls_val_accuracy against
            # cls_val_loss, not against the regression head's loss)
            own_val, own_train = _task_losses(run, s.name, cfg.min_points)
            loss_s = own_val or own_train or loss
            # the train loss as a second witness of "the loss improves" for a
            # stuck metric (what the practitioner watches); not when it is the
            # loss already compared
            train = own_train if (own_val or own_train) else run.train_loss
            witness = train if train is not None and train is not loss_s else None
            res = self._one(s, loss_s, witness, cache, cfg, config.alpha, cut)
            if isinstance(res, str):
                reasons.append(res)
            elif res is not None:
                cands.append(res)
        if not cands and len(reasons) == len(metrics):
            return Skipped(self.name, "; ".join(reasons))
        if not cands:
            return []
        adj = _holm([c["p"] for c in cands])
        out = []
        for c, pa in zip(cands, adj):
            if pa <= config.alpha:
                out.append(self._finding(c, pa, len(cands)))
        return out

    # ------------------------------------------------------------------
    def _one(self, s: Series, loss: Series, train: Series | None, cache: dict, cfg: Any, alpha: float,
             cut: int | None) -> dict | str | None:
        fin = np.isfinite(s.values)
        if cut is not None:
            # only the points before a sustained explosion: what the metrics do
            # after it is a symptom of the explosion, not a contradiction --
            # even when too few points are left to judge
            fin &= s.steps < cut
        steps, m = s.steps[fin], s.values[fin]
        lv = align_to_steps(loss.steps, loss.values, steps)
        ok = np.isfinite(lv)
        steps, m, lv = steps[ok], m[ok], lv[ok]
        n = m.shape[0]
        if n < cfg.min_points:
            before = f" before the explosion at step {cut}" if cut is not None else ""
            return f"{s.name}: only {n} points with a finite loss{before}; need {cfg.min_points}"
        if n > _MAX_POINTS:
            bm = block_means(m, _MAX_POINTS)
            steps = steps[bm.starts]
            m, lv = bm.means, block_means(lv, _MAX_POINTS).means
            n = m.shape[0]
        d = metric_direction(s.name)
        toks = set(_tokens(s.name))
        invariant = bool(toks & _THRESHOLD_INVARIANT)
        # metrics logged in percent (accuracy 97.5) are judged on [0, 1]
        scale = 100.0 if (m.min() >= 0.0 and 1.0 < m.max() <= 100.0 and d != 0) else 1.0
        m = m / scale
        bounded = bool(m.min() >= 0.0 and m.max() <= 1.0)
        best = (1.0 if d > 0 else 0.0) if bounded else None
        base = {"name": s.name, "loss": loss.name, "invariant": invariant, "n": n,
                "saturated": bool(best is not None and abs(_median(m[-max(1, n // 5):]) - best) <= cfg.saturation)}
        # -- degenerate: exactly constant over a sustained window
        start, length = _longest_constant_run(m)
        if length >= max(cfg.min_points, math.ceil(cfg.min_degenerate_fraction * n)):
            value = float(m[start])
            if best is not None and value == best:
                return None  # perfect: nothing left to improve
            worst = (0.0 if d > 0 else 1.0) if bounded else None
            if start > 0 and value != worst:
                # the metric moved with the loss before it froze: it improved
                # to this value and the model's decisions on a finite
                # validation set stopped changing (a plateau, not a metric
                # that never responds to learning)
                if float(np.max(d * (value - m[:start]))) >= cfg.min_metric_gain:
                    return None
            win = slice(start, start + length)
            ev = self._loss_evidence(steps, lv, win, loss.name, train, cache, cfg, alpha)
            if ev is None:
                return None
            p, z, impr, lname = ev
            tail = _median(lv[-max(1, n // 5):])
            near_perfect = base["saturated"] and abs(tail) <= cfg.perfect_loss
            return {**base, "kind": "degenerate", "p": p, "z": z, "value": value * scale, "onset": int(steps[start]),
                    "until": int(steps[start + length - 1]), "length": length, "loss_improvement": impr,
                    "loss": lname, "saturated": near_perfect}
        signed = m * d  # larger = better
        gain = _edge_gain(signed)
        if -cfg.min_metric_gain < gain < cfg.min_metric_gain:
            kind = "not_improving"
        elif gain <= -cfg.min_metric_gain and -gain <= _edge_noise(signed, alpha):
            # a loss of min_metric_gain that the noise of the edge medians
            # explains (a short noisy series): no evidence that the metric
            # moved at all -- judged as not improving, not as worsening
            kind = "not_improving"
        elif gain <= -cfg.min_metric_gain:
            kind = "opposite_direction"
        else:
            return None  # the metric improved by a practical amount
        impr = _improvement(lv)
        if impr < cfg.min_loss_improvement:
            return None  # the loss did not improve enough to contradict
        key = (steps.tobytes(), loss.name)
        if key not in cache:
            cache[key] = _loss_trend(lv)
        p_loss, z_loss = cache[key]
        if p_loss > alpha:
            return None
        if kind == "opposite_direction":
            p_worse, z_worse = _mk(signed, "decreasing")
            if p_worse > alpha:
                return None
            tau = _kendall_tau(lv, m)
            return {**base, "kind": kind, "p": max(p_loss, p_worse), "z": min(z_worse, -z_loss),
                    "gain": gain, "loss_improvement": impr, "tau": tau, "onset": int(steps[0])}
        p_up, _ = _mk(signed, "increasing")
        if p_up <= alpha:
            return None  # a small but significant improvement: consistent
        return {**base, "kind": kind, "p": p_loss, "z": -z_loss, "gain": gain, "p_metric": p_up,
                "loss_improvement": impr, "onset": int(steps[0]), "value": _median(m) * scale}

    def _loss_evidence(self, steps, lv, win, loss_name, train, cache, cfg, alpha):
        """(p, z, improvement, loss name) for "the loss improved over ``win``", or None.

        The validation loss (``lv``, aligned to the metric's steps) and, when
        the run also logs one, the train loss averaged over each metric
        interval are tested (Hamed-Rao Mann-Kendall, :func:`_loss_trend`);
        a series must also have improved by ``min_loss_improvement``. With
        ``k`` series available, ``p = k min(p_series)`` (Bonferroni). The
        train loss is skipped when the validation loss alone already gives
        ``p <= alpha / 10`` (cost; the p-value is then ``k p_val``).
        """
        k = 2 if train is not None else 1  # series that may be tested (Bonferroni)
        best = None
        for name in (loss_name, None if k == 1 else train.name):
            if name is None:
                break
            if name == loss_name:
                x = x_val = lv[win]
            else:
                # the train loss only when the validation loss does not
                # already show the improvement clearly (the reported p is then
                # k times the smaller p: Bonferroni either way)
                if best is not None and k * best[0] <= alpha / 10:
                    break
                # not while the validation loss gets worse over the window:
                # a train loss that improves while the validation loss rises
                # and the validation metric stands still is overfitting (the
                # overfitting detector's finding), not a metric that fails
                # to follow its loss
                if _mk(x_val, "increasing")[0] <= alpha:
                    break
                key = ("train", train.name, steps.tobytes())
                if key not in cache:
                    cache[key] = align_to_steps(train.steps, train.values, steps)
                x = cache[key][win]
                if not np.isfinite(x).all():
                    break
            impr = _improvement(x)
            if not impr >= cfg.min_loss_improvement:
                continue
            p, z = _loss_trend(x)
            if best is None or p < best[0]:
                best = (p, z, impr, name)
        if best is None or k * best[0] > alpha:
            return None
        return (min(1.0, k * best[0]),) + best[1:]

    def _finding(self, c: dict, p_adj: float, n_tests: int) -> Finding:
        kind, name, loss = c["kind"], c["name"], c["loss"]
        impr = 100 * c["loss_improvement"]
        effect = {"loss_improvement": c["loss_improvement"], "points": float(c["n"]), "p_unadjusted": c["p"],
                  "metrics_tested": float(n_tests)}
        remedies = REMEDIES_CONTRADICTION
        if kind == "degenerate":
            v = c["value"]
            effect.update(stuck_value=v, stuck_points=float(c["length"]), stuck_until=float(c["until"]))
            msg = (f"{name} is stuck at exactly {v:.4g} from step {c['onset']} to step {c['until']} "
                   f"({c['length']} of {c['n']} evaluations) while {loss} improved by {impr:.1f} % meanwhile.")
            sev = Severity.CRITICAL if v == 0.0 and not c["invariant"] else Severity.WARNING
            if c["saturated"]:
                sev = Severity.INFO
        elif kind == "opposite_direction":
            effect.update(metric_change=c["gain"], kendall_tau_loss_metric=c["tau"])
            msg = (f"{name} got worse by {abs(c['gain']):.3g} while {loss} improved by {impr:.1f} %: the loss and "
                   f"the metric move in opposite directions (Kendall tau between them {c['tau']:+.2f}).")
            sev = Severity.WARNING
        else:
            effect.update(metric_change=c["gain"], p_metric_trend=c["p_metric"], metric_median=c["value"])
            msg = (f"{name} does not improve (change {c['gain']:+.3g}, around {c['value']:.3g}) while {loss} "
                   f"improved by {impr:.1f} %.")
            sev = Severity.INFO if c["invariant"] or c["saturated"] else Severity.WARNING
            if c["invariant"]:
                remedies = REMEDIES_AUC
        return Finding(
            pathology=Pathology.METRIC_CONTRADICTION,
            kind=kind,
            series=name,
            p_value=float(min(1.0, max(0.0, p_adj))),
            statistic=float(c["z"]),
            effect=effect,
            onset_step=int(c["onset"]),
            severity=sev,
            message=msg,
            remedies=remedies,
            detector=self.name,
        )


def _task_losses(run: Run, metric: str, min_points: int) -> tuple[Series | None, Series | None]:
    """(validation loss, train loss) of the metric's own task, each None when absent.

    Only for a metric whose name carries a task qualifier (:func:`task_of`);
    the densest series of each role with exactly that qualifier and at least
    ``min_points`` finite values.
    """
    task = task_of(metric)
    if not task:
        return None, None
    out = []
    for role in (Role.VAL_LOSS, Role.TRAIN_LOSS):
        own = [x for x in run.by_role(role) if task_of(x.name) == task and x.n_finite >= min_points]
        out.append(max(own, key=lambda x: x.n_finite) if own else None)
    return out[0], out[1]


def _edge_gain(x: NDArray[np.float64]) -> float:
    """median(last 20 %) - median(first 20 %)."""
    q = max(1, x.shape[0] // 5)
    return _median(x[-q:]) - _median(x[:q])


def _edge_noise(x: NDArray[np.float64], alpha: float) -> float:
    """Two-sided ``1 - alpha`` noise bound of :func:`_edge_gain` under no change.

    With ``q`` points per edge and white noise of scale ``sigma`` (from first
    differences, :func:`~curvestat.stats.diff_noise_scale`: robust to the
    trend), a median of ``q`` normal values has variance about ``pi sigma^2 /
    (2 q)``; the difference of the two edge medians about ``pi sigma^2 / q``.
    """
    q = max(1, x.shape[0] // 5)
    sigma = diff_noise_scale(x)
    return float(ndtri(1.0 - alpha / 2.0) * sigma * math.sqrt(math.pi / q))


def _kendall_tau(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    from scipy.stats import kendalltau

    r = kendalltau(a, b)
    return float(r.statistic) if np.isfinite(r.statistic) else 0.0


detector = ContradictionDetector()
