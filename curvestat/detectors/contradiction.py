"""Metric contradiction: "my metrics are contradictory".

H0: every metric moves with the loss -- when the loss improves, the metric
improves too, has learned and plateaued, or is already perfect.

For each metric series the loss is aligned to the metric's steps (the
validation loss when there is one, else the train loss averaged over each
metric interval; see :func:`curvestat.detectors.overfitting.align_to_steps`;
the metric's own head's losses in a multi-task run, :func:`task_of`) and
three kinds of contradiction are tested, in this order:

``degenerate``
    The metric is exactly constant at a *trivial level* (:func:`_trivial_level`:
    exactly 0, chance ``1/K``, an AUC of 0.5, an error rate of 1) over a
    sustained window -- at least ``min_degenerate_fraction`` of its points
    and ``min_degenerate_points`` -- while the loss improves significantly
    over that window by at least ``min_loss_improvement``. The evidence is
    the loss's trend on its own logged points (:meth:`_loss_evidence`: a
    fine-tune's 3 evaluations, thousands of train steps); the metric's exact
    value is a deterministic fact. Merely constant metrics (recall 0.96 on
    50 positives) are not degenerate.
``opposite_direction``
    The loss improves significantly and the metric worsens significantly
    (both Mann-Kendall tests; p = max of the two, an intersection-union
    test) -- unless it is a precision whose recall rises, or the reverse
    (the precision-recall trade-off, :func:`_trade_off`); a fall under two
    grid steps (one example) is ``info``.
``not_improving``
    The loss improves significantly and by at least ``min_loss_improvement``,
    while the metric shows no significant improving trend, gained less than
    ``min_metric_gain`` and one step of its grid (:func:`_grid_step`), did
    not rise from its first evaluation (:func:`_rose_from_start`), and ends
    below ``plateau_level`` of its range: a flat metric in the upper part has
    learned and plateaued (the loss improves confidence after the decisions
    converged) and is healthy. AUC-like metrics get severity ``info``.

Trend tests: the exact Mann-Kendall null below 10 points, Hamed-Rao (3
lags, variance factor floored at 1) from there on; the loss is tested on the
whole window and on its improving phase, combined by Simes' test; a dense
loss series is block-averaged first (:func:`_decorrelated`).

Family-wise error: metrics stuck at the same trivial value against the same
loss are one hypothesis and one finding (:func:`_group`: 21 per-class
scores at 0); the hypotheses of a run are Holm-adjusted and reported when
the adjusted p-value is at most alpha.

After a sustained explosion (found by the explosion detector, which runs
first) only the points before its onset are judged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from .._numeric import ULP_TOL
from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Role, Run, Series, align_to_steps, metric_direction, name_tokens, task_of
from ..stats import block_means, diff_noise_scale, median1d, robust_smooth
from ..stats.multitest import holm, simes
from ._trend import trend_test
from .pipeline import Prior, explosion_onset

__all__ = ["ContradictionDetector", "detector", "REMEDIES_CONTRADICTION"]

REMEDIES_CONTRADICTION = (
    "Lower the classification threshold: on an imbalanced task the positive class may never reach the default 0.5.",
    "Check threshold-invariant metrics such as AUC to see whether the model ranks examples well.",
    "Account for the class imbalance (class weights, resampling, or a metric suited to the minority class).",
)
#: a metric exactly 0 at every evaluation while the loss falls: a broken
#: metric is the likeliest cause, checked before anything about the model
REMEDY_BROKEN_METRIC = (
    "Check how the metric is computed first: a metric that is exactly 0 at every evaluation while the loss falls "
    "is most often a bug (exact match on whole sequences instead of tokens, argmax over the wrong axis, predictions "
    "and labels misaligned, shifted or of different types)."
)
REMEDIES_CHANCE = (
    "The model predicts a single class (or constant scores): check that inputs and labels reach the model aligned, "
    "and the class balance (class weights, resampling).",
    "Check how the metric is computed (averaging, label encoding) against a prediction computed by hand.",
)
REMEDY_BY_HAND = ("Compute the metric by hand on one evaluation batch (predictions against labels) and compare it "
                  "with the logged value.")
REMEDIES_AUC = (
    "The loss improves while the ranking metric does not: check the calibration of the scores and the label quality.",
    "Account for the class imbalance (class weights, resampling).",
)

_THRESHOLD_INVARIANT = frozenset({"auc", "auroc", "rocauc", "roc", "ap", "map"})
#: metrics computed from thresholded decisions of one (positive) class: the
#: ones that sit at exactly 0 when the class is never predicted
_THRESHOLD_DEPENDENT = frozenset({"recall", "precision", "f1", "fscore", "f1score", "sensitivity", "tpr",
                                  "mcc", "matthews", "kappa", "iou", "miou", "dice", "jaccard"})
#: an exactly constant accuracy within this relative distance of 1/K (K =
#: 2..20 classes) sits at chance level: what a constant predictor of
#: balanced classes scores (10 %: the class shares of a validation set of a
#: few hundred examples scatter by about that much around 1/K; 0.45-0.55 for
#: a binary task)
_CHANCE_TOL = 0.1
_MAX_CHANCE_K = 20
#: a logged metric's grid (counts / n_val) is inferred for n_val up to this
_MAX_GRID_N = 2000
#: ratio metrics (precision, F1) with varying denominators: a median smallest
#: denominator up to this is read as counts (random float values need ~1000)
_MAX_RATIO_DEN = 300
#: the residual noise correlation left at one block's length when a dense
#: loss series is block-averaged for its trend test (:func:`_decorrelated`);
#: measured size at alpha = 1 % on flat AR(1) train losses with t(3) noise
#: and a metric stuck at 0 (200 runs per cell, 300-30,000 steps, phi 0-0.95):
#: see ``docs/detectors/contradiction.rst``
_BLOCK_ACF = 0.05
_MAX_POINTS = 400
#: autocorrelation lags of the Hamed-Rao correction (as Hamed & Rao suggest);
#: a loss that drops early and then flattens leaves a residual whose long-lag
#: rank autocorrelation would otherwise swamp the test
_LAGS = 3
#: the loss's improving phase is tested on its own from _PHASE_MIN_SERIES
#: points on, when it has at least _PHASE_MIN_POINTS (0ab3611, with the detector)
_PHASE_MIN_SERIES = 8
_PHASE_MIN_POINTS = 5
#: edge medians: the loss improvement over the first and last
#: 1/_LOSS_EDGE_SHARE of the points, a metric's gain over 1/_EDGE_SHARE (0ab3611)
_LOSS_EDGE_SHARE = 10
_EDGE_SHARE = 5
#: a metric's grid is inferred only for gains below this (a104828: a change
#: of 0.1 is far beyond the grid of any validation set of 10+ examples; cost)
_GRID_GAIN = 0.1
#: the train-loss witness is skipped when the compared loss alone gives
#: k p <= alpha / _CLEAR_FACTOR (e2bfb79: cost back under 2 ms)
_CLEAR_FACTOR = 10
#: a dense loss is block-averaged only from _DECORRELATE_MIN points on and
#: when its residual lag-1 correlation exceeds _DECORRELATE_R1, with at
#: least _MIN_BLOCKS blocks; the correlation read is clipped below 1 (1a0048b)
_DECORRELATE_MIN = 20
_DECORRELATE_R1 = 0.2
_MIN_BLOCKS = 5
_MAX_R1 = 0.999
#: the grid is inferred from at most this many distinct values (a104828: a
#: dozen pin it down as well as all of them; cost)
_GRID_VALUES = 12
#: a value is an exact fraction k / n within this tolerance (7eba9f7); a
#: grid finer than 1 / _GRID_FINEST rounding units (~5) is not told from the rounding
_FRACTION_TOL = 1e-6
_GRID_FINEST = 0.2


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
    if n >= _PHASE_MIN_SERIES and lv.min() > 0:
        y = np.log(lv)
        sm = robust_smooth(y, 3)
        k = int(np.flatnonzero(sm <= sm.min() + diff_noise_scale(y))[0])
        if k + 1 >= _PHASE_MIN_POINTS and k + 1 < n:
            p2, z2 = _mk(lv[: k + 1], "decreasing")
            if p2 < p:
                z = z2
            p = simes([p, p2])
    return p, z


def _improvement(loss: NDArray[np.float64]) -> float:
    """``1 - median(last 10 %) / median(first 10 %)`` (difference over |first| for non-positive losses)."""
    q = max(1, loss.shape[0] // _LOSS_EDGE_SHARE)
    first, last = median1d(loss[:q]), median1d(loss[-q:])
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


@dataclass(frozen=True, slots=True)
class _PreparedMetric:
    """A metric's finite points before ``cut`` where the loss is finite too, on [0, 1] when in percent."""

    name: str
    steps: NDArray[np.int64]
    m: NDArray[np.float64]
    lv: NDArray[np.float64]  # the loss aligned to the metric's steps
    n: int
    direction: int  # +1: larger is better, -1: smaller is better
    scale: float  # 100 for a metric logged in percent, else 1
    bounded: bool
    invariant: bool  # threshold-invariant (AUC)
    thresholded: bool  # computed from thresholded decisions (recall, F1)
    plateau: bool  # ends in the upper part of its range: learned
    short: str  # the reason when too short to judge


@dataclass(frozen=True, slots=True, kw_only=True)
class _Candidate:
    """A metric that contradicts its loss, before multiple-testing control."""

    name: str
    loss: str
    invariant: bool
    thresholded: bool
    n: int
    p: float
    z: float
    onset: int
    loss_improvement: float
    grid: float = 0.0
    kind: ClassVar[str] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Stuck(_Candidate):
    """Exactly constant at a trivial level over a sustained window."""

    value: float
    level: str
    until: int
    length: int
    every: bool
    from_start: bool
    kind: ClassVar[str] = "degenerate"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Worse(_Candidate):
    """Gets worse while the loss improves."""

    gain: float
    tau: float
    kind: ClassVar[str] = "opposite_direction"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Flat(_Candidate):
    """Does not improve while the loss improves."""

    gain: float
    p_metric: float
    value: float
    kind: ClassVar[str] = "not_improving"


def _prepare_metric(s: Series, loss: Series, cut: int | None, cfg: Any) -> _PreparedMetric | str:
    """The points of metric ``s`` to judge, or why there are too few."""
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
    before = f" before the explosion at step {cut}" if cut is not None else ""
    short = f"{s.name}: only {n} points with a finite loss{before}; need {cfg.min_points}"
    if n < min(cfg.min_points, cfg.min_degenerate_points):
        return short
    if n > _MAX_POINTS:
        bm = block_means(m, _MAX_POINTS)
        steps = steps[bm.starts]
        m, lv = bm.means, block_means(lv, _MAX_POINTS).means
        n = m.shape[0]
    d = metric_direction(s.name)
    toks = set(name_tokens(s.name))
    invariant = bool(toks & _THRESHOLD_INVARIANT)
    thresholded = bool(toks & _THRESHOLD_DEPENDENT) and not invariant
    # metrics logged in percent (accuracy 97.5) are judged on [0, 1]
    scale = 100.0 if (m.min() >= 0.0 and 1.0 < m.max() <= 100.0 and d != 0) else 1.0
    m = m / scale
    bounded = bool(m.min() >= 0.0 and m.max() <= 1.0)
    # a metric that ends in the upper part of its range (worst -> best)
    # has learned: if it stops improving while the loss goes on, it has
    # plateaued (the loss improves confidence after the decisions
    # converged), which practitioners call healthy
    tail = median1d(m[-max(1, n // 5):])
    # (an AUC's range starts at chance, 0.5)
    share = (tail if d > 0 else 1.0 - tail) if not invariant else 2.0 * tail - 1.0
    plateau = bool(bounded and d != 0 and share >= cfg.plateau_level)
    return _PreparedMetric(s.name, steps, m, lv, n, d, scale, bounded, invariant, thresholded, plateau, short)


def _stuck_window(prep: _PreparedMetric, cfg: Any) -> tuple[int, int, str | None] | None:
    """``(start, length, level)`` of a window where the metric is exactly constant at a trivial level.

    ``level`` is None when the metric is stuck at its best value (perfect:
    nothing to report). None when no such window: an exactly constant run at
    a non-trivial value (a quantised metric whose decisions stopped
    changing, a plateau near its best) is judged as a flat metric.
    """
    m, n, d = prep.m, prep.n, prep.direction
    start, length = _longest_constant_run(m)
    # a window shorter than min_points only when it is every evaluation
    # (the fine-tune's 3-6): recall 0, 0, 0, 0.2, 0.5, 0.7 is a minority
    # class learned after a slow start, not a stuck metric
    if not (length >= max(cfg.min_degenerate_points, math.ceil(cfg.min_degenerate_fraction * n))
            and (length >= cfg.min_points or length == n)):
        return None
    value = float(m[start])
    best = (1.0 if d > 0 else 0.0) if prep.bounded else None
    if best is not None and value == best:
        return start, length, None
    level = _trivial_level(value, d, prep.bounded, prep.invariant, prep.thresholded)
    worst = (0.0 if d > 0 else 1.0) if prep.bounded else None
    if level is not None and start > 0 and value != worst:
        # the metric moved with the loss before it froze: it improved to
        # this value and the model's decisions on a finite validation set
        # stopped changing (a plateau, not a metric that never responds to
        # learning)
        if float(np.max(d * (value - m[:start]))) >= cfg.min_metric_gain:
            level = None
    return None if level is None else (start, length, level)


def _change_kind(gain: float, g_min: float, edge_noise: Callable[[], float]) -> str | None:
    """Decide from the metric's edge gain: ``"not_improving"``, ``"opposite_direction"`` or None (improved).

    A loss of at least ``g_min`` that the noise of the edge medians explains
    (a short noisy series) is no evidence that the metric moved at all: it
    is judged as not improving, not as worsening. ``edge_noise`` is only
    evaluated then (cost).
    """
    if -g_min < gain < g_min:
        return "not_improving"
    if gain <= -g_min:
        return "not_improving" if -gain <= edge_noise() else "opposite_direction"
    return None


class ContradictionDetector:
    """Detect metrics that contradict an improving loss.

    Attributes
    ----------
    name : str
        ``"metric_contradiction"`` (the pathology it tests).
    """

    name = "metric_contradiction"
    pathology = Pathology.METRIC_CONTRADICTION
    #: metrics are judged before a sustained explosion
    requires = ("explosion",)

    def detect(self, run: Run, config: Config, prior: Prior | None = None) -> Sequence[Finding] | Skipped:
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
        cut = explosion_onset(prior)
        # per-call state stays local: the registry's detector instance may
        # be called from several threads at once (a Dask worker runs tasks
        # on a thread pool)
        cache: dict = {}
        cands: list[_Candidate] = []
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
        cands = [c for c in cands if not _trade_off(c, run, cfg, config.alpha, cut)]
        if not cands:
            return []
        groups = _group(cands)
        adj = holm([max(c.p for c in g) for g in groups]).tolist()
        out = []
        for g, pa in zip(groups, adj):
            if pa <= config.alpha:
                out.append(self._finding(g, pa, len(groups)))
        return out

    # ------------------------------------------------------------------
    def _one(self, s: Series, loss: Series, train: Series | None, cache: dict, cfg: Any, alpha: float,
             cut: int | None) -> _Candidate | str | None:
        """The candidate contradiction of metric ``s`` (None: consistent; a str: why it cannot be judged)."""
        prep = _prepare_metric(s, loss, cut, cfg)
        if isinstance(prep, str):
            return prep
        stuck = _stuck_window(prep, cfg)
        if stuck is not None:
            start, length, level = stuck
            if level is None:
                return None  # perfect: nothing left to improve
            ev = self._loss_evidence(prep.steps, prep.lv, slice(start, start + length), loss, train, cache, cfg, alpha)
            if ev is None:
                return None
            p, z, impr, lname = ev
            return _Stuck(name=s.name, loss=lname, invariant=prep.invariant, thresholded=prep.thresholded,
                          n=prep.n, p=p, z=z, onset=int(prep.steps[start]), loss_improvement=impr,
                          value=float(prep.m[start]) * prep.scale, level=level,
                          until=int(prep.steps[start + length - 1]), length=length,
                          every=bool(start == 0 and length == prep.n), from_start=start == 0)
        if prep.n < cfg.min_points:
            return prep.short
        return self._trend_candidate(prep, loss, cache, cfg, alpha)

    def _trend_candidate(self, prep: _PreparedMetric, loss: Series, cache: dict, cfg: Any,
                         alpha: float) -> _Candidate | None:
        """A metric that does not improve, or gets worse, while the loss improves."""
        m, lv, steps = prep.m, prep.lv, prep.steps
        signed = m * prep.direction  # larger = better
        gain = _edge_gain(signed)
        # the metric's grid: counts / n_val on a finite validation set (or
        # the rounding of the log); a change of one grid step is no evidence
        # (not needed for a gain or loss of 0.1 or more: far beyond the grid
        # of any validation set of 10 or more examples; cost)
        step = _grid_step(m) if prep.bounded and abs(gain) < _GRID_GAIN else 0.0
        # one grid step (one example of a small validation set) is no change
        g_min = max(cfg.min_metric_gain, step * (1.0 + ULP_TOL))
        if _rose_from_start(signed, g_min, alpha, step):
            # the metric moved with the loss from its first evaluation and
            # then plateaued (it converges faster than the loss, which goes
            # on improving confidence): the edge medians of 20 % would miss a
            # rise within the first one or two evaluations
            return None
        kind = _change_kind(gain, g_min, lambda: _edge_noise(signed, alpha, step))
        if kind is None:
            return None  # the metric improved by a practical amount
        if kind == "not_improving" and prep.plateau:
            # learned, then plateaued: healthy, nothing to report (a note
            # here would carry the loss trend's small p-value on a healthy run)
            return None
        impr = _improvement(lv)
        if impr < cfg.min_loss_improvement:
            return None  # the loss did not improve enough to contradict
        key = (steps.tobytes(), loss.name)
        if key not in cache:
            cache[key] = _loss_trend(lv)
        p_loss, z_loss = cache[key]
        if p_loss > alpha:
            return None
        common: dict[str, Any] = dict(name=prep.name, loss=loss.name, invariant=prep.invariant, thresholded=prep.thresholded,
                      n=prep.n, onset=int(steps[0]), loss_improvement=impr, grid=step, gain=gain)
        if kind == "opposite_direction":
            p_worse, z_worse = _mk(signed, "decreasing")
            if p_worse > alpha:
                return None
            return _Worse(p=max(p_loss, p_worse), z=min(z_worse, -z_loss), tau=_kendall_tau(lv, m), **common)
        p_up, _ = _mk(signed, "increasing")
        if p_up <= alpha:
            return None  # a small but significant improvement: consistent
        return _Flat(p=p_loss, z=-z_loss, p_metric=p_up, value=median1d(m) * prep.scale, **common)

    def _loss_evidence(self, steps, lv, win, loss, train, cache, cfg, alpha):
        """(p, z, improvement, loss name) for "the loss improved over ``win``", or None.

        A metric stuck at a trivial level is a deterministic fact, not a
        sample: the statistics are the loss's. Each loss series -- the one
        compared (``loss``; ``lv`` is it aligned to the metric's steps) and,
        when the run also logs one, the train loss -- is tested on its own
        *logged points* over the window (from the start of the run when the
        metric is stuck from its first evaluation on), block-averaged to at
        most ``_MAX_POINTS``: a fine-tune with 3 evaluations and thousands of
        train-loss steps is judged on those steps (Hamed-Rao Mann-Kendall,
        :func:`_loss_trend`), not on three interval means whose exact
        Mann-Kendall p-value can never be below 1/6. A series must also have
        improved by ``min_loss_improvement``. With ``k`` series available,
        ``p = k min(p_series)`` (Bonferroni). The train loss is skipped when
        the compared loss alone already gives ``p <= alpha / 10`` (cost; the
        p-value is then ``k p_val``).
        """
        k = 2 if train is not None else 1  # series that may be tested (Bonferroni)
        lo = -np.inf if win.start == 0 else steps[win.start]
        hi = steps[win.stop - 1]
        x_val = lv[win]
        best = None
        for ser in (loss, train):
            if ser is None:
                break
            if ser is train:
                # the train loss only when the compared loss does not already
                # show the improvement clearly (the reported p is then k times
                # the smaller p: Bonferroni either way)
                if best is not None and k * best[0] <= alpha / _CLEAR_FACTOR:
                    break
                # not while the validation loss gets worse over the window:
                # a train loss that improves while the validation loss rises
                # and the validation metric stands still is overfitting (the
                # overfitting detector's finding), not a metric that fails
                # to follow its loss
                if _mk(x_val, "increasing")[0] <= alpha:
                    break
            key = ("raw", ser.name, float(lo), int(hi))
            if key not in cache:
                sel = (ser.steps >= lo) & (ser.steps <= hi) & np.isfinite(ser.values)
                raw = ser.values[sel]
                if raw.shape[0] > _MAX_POINTS:
                    raw = block_means(raw, _MAX_POINTS).means
                cache[key] = _decorrelated(raw) if raw.shape[0] > win.stop - win.start else raw
            x = cache[key]
            if x.shape[0] <= win.stop - win.start:
                x = x_val if ser is loss else None
                if x is None:
                    tkey = ("train", ser.name, steps.tobytes())
                    if tkey not in cache:
                        cache[tkey] = align_to_steps(ser.steps, ser.values, steps)
                    x = cache[tkey][win]
                    if not np.isfinite(x).all():
                        break
            impr = _improvement(x)
            if not impr >= cfg.min_loss_improvement:
                continue
            p, z = _loss_trend(x)
            if best is None or p < best[0]:
                best = (p, z, impr, ser.name)
        if best is None or k * best[0] > alpha:
            return None
        return (min(1.0, k * best[0]),) + best[1:]

    def _finding(self, g: list[_Candidate], p_adj: float, n_tests: int) -> Finding:
        c = g[0]
        kind, name, loss = c.kind, c.name, c.loss
        impr = 100 * c.loss_improvement
        effect = {"loss_improvement": c.loss_improvement, "points": float(c.n), "p_unadjusted": c.p,
                  "metrics_tested": float(n_tests)}
        if c.grid:
            effect["metric_grid"] = c.grid
        remedies: tuple[str, ...] = REMEDIES_CONTRADICTION
        if isinstance(c, _Stuck):
            v, level = c.value, c.level
            effect.update(stuck_value=v, stuck_points=float(c.length), stuck_until=float(c.until))
            what = {"zero": "", "worst": " (its worst value)",
                    "chance": " (chance level: constant scores or a single predicted class)"}[level]
            classes: list[str] = []
            if len(g) > 1:
                names = [x.name for x in g]
                classes = sorted({"_".join(sorted(task_of(x))) for x in names} - {""})
                shown = ", ".join(names[:8]) + (f", ... ({len(names) - 8} more)" if len(names) > 8 else "")
                effect["metrics_stuck"] = float(len(g))
                cls = f" ({len(classes)} classes: {', '.join(classes[:12])}{', ...' if len(classes) > 12 else ''})" \
                    if len(classes) > 1 else ""
                effect["p_members_max"] = max(x.p for x in g)
                since = "" if len({x.onset for x in g}) == 1 else " (the others from later steps on)"
                msg = (f"{len(g)} metrics{cls} are stuck at exactly {v:.4g}{what}; the longest from step "
                       f"{c.onset} to step {c.until} ({c.length} of {c.n} evaluations){since}, while "
                       f"{loss} improved by {impr:.1f} % meanwhile: {shown}.")
            else:
                when = "since the start of the run" if c.from_start else "meanwhile"
                msg = (f"{name} is stuck at exactly {v:.4g}{what} from step {c.onset} to step {c.until} "
                       f"({c.length} of {c.n} evaluations) while {loss} improved by {impr:.1f} % {when}.")
            # practical magnitude: a metric that never counts a single hit
            # while the loss improves is the seed's "recall is stuck at 0";
            # chance level, a worst error rate and a constant AUC are warnings
            sev = Severity.CRITICAL if level == "zero" and not c.invariant else Severity.WARNING
            if len(g) > 1 and len(classes) > 1:
                # some classes are never predicted while the model learns the
                # others: a problem to look at, not a model that learns nothing
                sev = Severity.WARNING
            if level == "chance":
                remedies = REMEDIES_CHANCE
            elif not c.thresholded:
                # an accuracy (or error rate) that never counts a hit: the
                # threshold cannot explain it
                remedies = (REMEDY_BROKEN_METRIC, REMEDY_BY_HAND)
            elif c.every:
                remedies = (REMEDY_BROKEN_METRIC,) + REMEDIES_CONTRADICTION
        elif isinstance(c, _Worse):
            effect.update(metric_change=c.gain, kendall_tau_loss_metric=c.tau)
            msg = (f"{name} got worse by {abs(c.gain):.3g} while {loss} improved by {impr:.1f} %: the loss and "
                   f"the metric move in opposite directions (Kendall tau between them {c.tau:+.2f}).")
            sev = Severity.WARNING
            if c.grid and abs(c.gain) < 2.0 * c.grid:
                # significant but marginal: one example of a small validation set
                sev = Severity.INFO
                msg += f" The change is about one example (grid {c.grid:.3g}): marginal."
        else:
            assert isinstance(c, _Flat)
            effect.update(metric_change=c.gain, p_metric_trend=c.p_metric, metric_median=c.value)
            msg = (f"{name} does not improve (change {c.gain:+.3g}, around {c.value:.3g}) while {loss} "
                   f"improved by {impr:.1f} %.")
            sev = Severity.INFO if c.invariant else Severity.WARNING
            if c.invariant:
                remedies = REMEDIES_AUC
        return Finding(
            pathology=Pathology.METRIC_CONTRADICTION,
            kind=kind,
            series=name,
            p_value=float(min(1.0, max(0.0, p_adj))),
            statistic=float(c.z),
            effect=effect,
            onset_step=int(c.onset),
            severity=sev,
            message=msg,
            remedies=remedies,
            detector=self.name,
        )


_PARTNER = {"precision": "recall", "recall": "precision"}


def _trade_off(c: _Candidate, run: Run, cfg: Any, alpha: float, cut: int | None) -> bool:
    """Is ``c`` a precision that falls while its recall rises (or the reverse)?

    A classifier that starts predicting the minority class as it learns
    gains recall and loses precision (it began at precision 1 on a handful
    of confident positives): the decisions move with the loss, along the
    precision-recall trade-off -- not a contradiction. The partner is the
    series named with ``precision`` and ``recall`` swapped; it must have
    gained ``min_metric_gain`` (edge medians, or from its first value,
    :func:`_rose_from_start`) over the points before ``cut``.
    """
    if not isinstance(c, _Worse):
        return False
    name = c.name
    for a, b in _PARTNER.items():
        if a in name.lower():
            i = name.lower().index(a)
            other = name[:i] + (b.capitalize() if name[i].isupper() else b) + name[i + len(a):]
            if other not in run:
                continue
            x = run[other]
            keep = np.isfinite(x.values) & ((x.steps < cut) if cut is not None else True)
            v = x.values[keep]
            if v.shape[0] < 3:
                continue
            if _edge_gain(v) >= cfg.min_metric_gain or _rose_from_start(v, cfg.min_metric_gain, alpha, 0.0):
                return True
    return False


def _group(cands: list[_Candidate]) -> list[list[_Candidate]]:
    """Candidates grouped into hypotheses, in order of first appearance.

    Metrics stuck at the same trivial value over the same window against the
    same loss (21 per-class F1 scores at exactly 0) are one hypothesis --
    "the loss improved over that window", the same test on the same data;
    the metrics' exact values are deterministic facts. They give one finding
    that names them, not 21 (and not none: Holm over 21 copies of one test
    would multiply its p-value by 21). Per-class metrics logged from
    different evaluations on have different windows: the group's p-value is
    then the largest of its members' (intersection-union: every member's
    window shows the loss improving). Every other candidate is its own.
    """
    groups: dict[tuple, list[_Candidate]] = {}
    for i, c in enumerate(cands):
        key = ((c.kind, c.value, c.level, c.loss, c.thresholded, c.invariant)
               if isinstance(c, _Stuck) else (i,))
        groups.setdefault(key, []).append(c)
    # the longest window first: it names the group's onset and its evidence
    return [sorted(g, key=lambda c: -getattr(c, "length", 0)) for g in groups.values()]


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
    q = max(1, x.shape[0] // _EDGE_SHARE)
    return median1d(x[-q:]) - median1d(x[:q])


def _edge_noise(x: NDArray[np.float64], alpha: float, step: float = 0.0) -> float:
    """Two-sided ``1 - alpha`` noise bound of :func:`_edge_gain` under no change.

    With ``q`` points per edge and white noise of scale ``sigma`` (from first
    differences, :func:`~curvestat.stats.diff_noise_scale`: robust to the
    trend), a median of ``q`` normal values has variance about ``pi sigma^2 /
    (2 q)``; the difference of the two edge medians about ``pi sigma^2 / q``.
    On a quantised metric (grid ``step``) ``sigma`` is at least half a step:
    a metric that flips between two neighbouring counts has mostly zero
    differences, whose MAD would claim no noise at all.
    """
    q = max(1, x.shape[0] // _EDGE_SHARE)
    sigma = max(diff_noise_scale(x), 0.5 * step)
    return float(ndtri(1.0 - alpha / 2.0) * sigma * math.sqrt(math.pi / q))


def _decorrelated(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Block means of a dense loss series, blocks long enough that their noise is nearly independent.

    A per-step train loss carries strongly autocorrelated noise (AR(1) up
    to 0.95 on healthy runs): Hamed-Rao with a few lags cannot absorb that on
    a few hundred points (a flat AR(0.95) series of 300 points passed for a
    falling one 8-19 % of the time at alpha = 1 %). The lag-1 autocorrelation
    ``r`` of the residual around a cubic trend in log loss gives the block
    length ``b = log(_BLOCK_ACF) / log(r)`` (the noise correlation decays to
    ``_BLOCK_ACF`` within a block; at most ``n / 5`` so five blocks remain); the trend test
    then runs on the block means.
    """
    n = x.shape[0]
    if n < _DECORRELATE_MIN:
        return x
    y = np.log(x) if x.min() > 0 else x
    t = np.linspace(-1.0, 1.0, n)
    r = y - np.polyval(np.polyfit(t, y, 3), t)
    den = float(np.dot(r, r))
    if den <= 0.0:
        return x
    r1 = float(np.dot(r[1:], r[:-1]) / den)
    if r1 <= _DECORRELATE_R1:
        return x
    b = min(n // _MIN_BLOCKS, int(math.ceil(math.log(_BLOCK_ACF) / math.log(min(r1, _MAX_R1)))))
    if b <= 1:
        return x
    return block_means(x, max(_MIN_BLOCKS, n // b)).means


def _rose_from_start(x: NDArray[np.float64], g_min: float, alpha: float, step: float) -> bool:
    """Did ``x`` (larger = better) rise from its first value to its last 20 %?

    ``median(last 20 %) - x[0]`` must reach ``g_min`` and exceed its noise
    bound under no change, ``z_(1 - alpha/2) sigma sqrt(1 + pi / (2 q))``
    (one point against a median of ``q``; ``sigma`` as in
    :func:`_edge_noise`).
    """
    q = max(1, x.shape[0] // _EDGE_SHARE)
    rise = median1d(x[-q:]) - float(x[0])
    if rise < g_min:
        return False
    sigma = max(diff_noise_scale(x), 0.5 * step)
    return bool(rise > ndtri(1.0 - alpha / 2.0) * sigma * math.sqrt(1.0 + math.pi / (2.0 * q)))


def _grid_step(m: NDArray[np.float64]) -> float:
    """The grid a bounded metric's values lie on: ``1 / n`` (counts out of ``n``), the log's rounding, or 0.

    Accuracy and recall on a validation set of ``n`` examples (``n``
    positives) take the values ``k / n``; the smallest ``n <=
    _MAX_GRID_N`` for which every observed value is a multiple of ``1 / n``
    up to the log's rounding (its decimals, at most 6) is the inferred grid.
    A logged rounding coarser than that (two decimals) is the grid itself.
    Precision and F1 have data-dependent denominators: usually no grid
    (0), and then no grid rule applies.
    """
    vals = np.unique(m)
    if vals.shape[0] < 2:
        return 0.0
    if vals.shape[0] > _GRID_VALUES:
        # a dozen distinct values pin the grid down as well as all of them (cost)
        vals = vals[np.linspace(0, vals.shape[0] - 1, _GRID_VALUES).round().astype(int)]
    dec = 6
    for dd in range(7):
        if np.all(np.abs(vals * 10.0**dd - np.round(vals * 10.0**dd)) < _FRACTION_TOL):
            dec = dd
            break
    u = 10.0**-dec
    ns = np.arange(1, _MAX_GRID_N + 1, dtype=np.float64)[:, None]
    r = vals[None, :] * ns
    dev = np.abs(r - np.round(r))
    # exact fractions k / n (as float64 computes them) ...
    fits = np.all(dev <= _FRACTION_TOL, axis=1)
    if not fits.any():
        # ... or rounded to the log's decimals; a grid finer than ~5 rounding
        # units cannot be told from the rounding
        fits = np.all(dev <= ns * (u / 2.0) + ULP_TOL, axis=1) & (ns[:, 0] <= _GRID_FINEST / u)
    common = float(ns[int(np.argmax(fits)), 0]) if fits.any() else 0.0
    if dec >= 6:
        # ... or exact ratios with their own denominators (precision = TP /
        # predicted positives, 34/35, 33/35, 32/33): the resolution is one
        # example of the typical denominator. A value without such structure
        # needs a denominator near 1000 to lie within 1e-6 of a fraction, so
        # a median denominator up to _MAX_RATIO_DEN is evidence of counts
        # (a common grid that is the least common multiple of such
        # denominators -- 1155 for 35 and 33 -- is no validation-set size)
        each = dev <= _FRACTION_TOL
        if each.any(axis=0).all():
            q = np.argmax(each, axis=0) + 1
            q = q[q > 1]
            if q.shape[0] >= 2:
                med = float(np.median(q))
                if med <= _MAX_RATIO_DEN and (common == 0.0 or common > 2.0 * med):
                    return 1.0 / med
    if common:
        return 1.0 / common
    return u if dec <= 4 else 0.0


def _trivial_level(value: float, d: int, bounded: bool, invariant: bool, thresholded: bool) -> str | None:
    """The trivial level an exactly constant metric sits at, or None when ``value`` is not trivial.

    ``"zero"``: an accuracy-like metric at exactly 0 (recall, precision, F1
    of a class never predicted; an accuracy that never counts a hit);
    ``"worst"``: an error-like metric in [0, 1] at exactly 1; ``"chance"``:
    an AUC at exactly 0.5 (constant scores) or an accuracy within
    ``_CHANCE_TOL`` (relative) of ``1 / K`` for ``K = 2.._MAX_CHANCE_K`` classes (a
    constant predictor of balanced classes). Anything else -- recall at 0.96
    on 50 positives, an accuracy frozen at 0.9 -- is not trivial: a plateau,
    judged as a flat metric.
    """
    if not bounded or d == 0:
        return None
    if d < 0:
        return "worst" if value == 1.0 else None
    if value == 0.0:
        return "zero"
    if invariant:
        return "chance" if abs(value - 0.5) <= ULP_TOL else None
    if thresholded or value > 0.5 * (1.0 + _CHANCE_TOL):
        return None
    k = int(round(1.0 / value))
    if 2 <= k <= _MAX_CHANCE_K and abs(value * k - 1.0) <= _CHANCE_TOL:
        return "chance"
    return None


def _kendall_tau(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    from scipy.stats import kendalltau

    r = kendalltau(a, b)
    return float(r.statistic) if np.isfinite(r.statistic) else 0.0


detector = ContradictionDetector()
