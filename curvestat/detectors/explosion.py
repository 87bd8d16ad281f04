"""Explosion: "my loss exploded" (non-finite values and upward level shifts).

H0 (healthy): the train loss stays finite and its log has no upward level
shift beyond what the run's own noise produces.

Evidence, in this order:

1. **Non-finite scan.** The first NaN or +-Inf value of a loss series is a
   deterministic finding (``kind="non_finite"``) at its step.
2. **Upward level shifts of log loss.** PELT with an L2 cost segments
   ``z = log(loss)`` (finite points before the first non-finite value) with a
   BIC-type penalty ``c * sigma^2 * log(n)``, where ``sigma`` is a robust,
   tail-aware noise scale of ``z`` around its running median. Each upward
   change is measured *locally*: the median of ``z`` just after the change
   minus the median just before it. A change is an explosion when

   * it is practically large: the jump ``J`` exceeds ``log(min_ratio)`` (the
     loss rises x1.5), or, for a loss recognised as a negative
     log-likelihood (cross-entropy in nats), the top of the rise is at least
     ``min_jump_nats`` above the level before (perplexity x2.1): an LLM spike
     of +1 nat at 2.5 nats is only x1.4 in the loss;
   * ``J`` exceeds ``min_jump_sigmas`` noise scales; and
   * it is significant: ``p <= alpha`` for a tail-aware test of the local
     shift (:func:`curvestat.stats.local_shift_test`): a Student-t reference
     whose degrees of freedom come from the Hill tail index of the run's own
     residuals before the jump (about 3 for t(3) noise), with AR(1)-deflated
     window sizes (AR refitted on the detrended series, so that strongly
     autocorrelated noise is not mistaken for shifts), Bonferroni over the
     positions searched. Its size at the most extreme position of healthy
     t(3)/AR(1) (phi up to 0.95) series is at most 1 % at alpha 0.01.

   The excursion then **recovers** when the loss (5-point running mean) comes
   back near its level *before* the jump, within ``recovery_window`` points:
   within ``recovery_ratio`` (x1.5) of it, or three noise scales when the
   noise is larger (for an NLL also within ``min_jump_nats / 2`` nats), never
   further than half the jump. A recovered excursion is a ``spike``
   (``warning``; a one-step *blip*, seen on at most ``max_blip_points``
   points, is ``info``: one hard batch of heavy-tailed minibatch noise); one
   that does not recover is a ``divergence`` (``critical``), also when it
   fell back by half its log-jump yet stays 10-1000x above its earlier
   level. Practical magnitude on the loss's own scale: an excursion whose
   peak (spike) or level (divergence) stays below ``min_peak_share`` of the
   run's initial loss is ``info``. A divergence owns the run: later jumps
   are the same event, and the other detectors judge only the run before it.

Jumps that are not explosions:

* ``explained_by_lr`` (``info``, no p-value): a jump right after a *scheduled*
  rise of the logged learning rate (warm-up, warm restart).
* ``data_order`` (``info``, no p-value): the jump is one tooth of a sawtooth,
  at least ``min_recurrences`` upward jumps at a regular spacing that fall
  back after each -- what class-sorted, unshuffled data makes at every
  class-block boundary, already in the first epoch. Left to the periodic
  detector. A jump over three times the teeth's typical size is still an
  explosion.

Downward shifts (fast early learning, learning-rate decay) are never
explosions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _format as _fmt
from .._numeric import TINY
from .._numeric import safe_exp as _exp
from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Role, Run, Series
from ..stats.noise import tail_noise_scale

__all__ = ["ExplosionDetector", "detector", "REMEDIES_NON_FINITE", "REMEDIES_JUMP"]

REMEDIES_NON_FINITE = (
    "Inspect the batches just before the onset step for NaNs, infinities and anomalous values in inputs and labels.",
    "Guard divisions and logarithms in the loss (log of zero or of a negative number, division by zero).",
    "Clip gradients and lower the learning rate if the loss grew before it became non-finite.",
    "Shuffle the data so that outliers are spread across batches.",
)

REMEDIES_JUMP = (
    "Inspect the batches around the onset step for anomalous values, NaNs and outliers in inputs and labels.",
    "Clip gradients (e.g. to a global norm of 1.0) and lower the learning rate.",
    "Guard divisions and logarithms in the loss against zero and negative arguments.",
    "Shuffle the data so that outliers are spread evenly across batches.",
)



#: the log of an exact-zero loss is floored at this share of its median
#: positive value (ecb306b, with the detector)
_ZERO_FLOOR = 1e-3
#: a scheduled learning-rate rise stays within this factor of the maximum
#: the schedule visited before (dae6125: a spike to a never-seen rate is the anomaly)
_LR_RANGE = 1.1
#: the NLL start heuristic reads the median of the first 1/_NLL_START_SHARE
#: of at least _NLL_MIN_POINTS points (206de5f)
_NLL_MIN_POINTS = 10
_NLL_START_SHARE = 50
#: the loss's initial level: the median of its first 1/_INITIAL_SHARE points
#: (f461de8, with min_peak_share)
_INITIAL_SHARE = 20
#: the running median the residuals are taken around spans 1/_RESID_SHARE of
#: the points, _RESID_MIN to _RESID_MAX of them (ecb306b)
_RESID_SHARE = 20
_RESID_MIN = 5
_RESID_MAX = 101
#: a jump's own noise scale (of the run before it) needs this many points,
#: else the whole run's is used (dae6125)
_LOCAL_NOISE_POINTS = 20
#: stairs of a rise closer than max(local_window, 1/_MERGE_SHARE of the
#: points) merge into one episode (ecb306b)
_MERGE_SHARE = 50
#: a short log's baseline: 1/_BASELINE_SHARE of its points (1fcdbcb: a
#: 12-epoch Keras log jumping x1e5 at epoch 6)
_BASELINE_SHARE = 4
#: the residuals before the baseline window are the null when at least this
#: many (187db07: a precursor blip no longer dominates the tail index)
_NULL_POINTS = 30
#: a recovery comes back within this many noise scales of the level before
#: the jump when the noise is larger than recovery_ratio (206de5f)
_RECOVERY_SIGMAS = 3.0
#: the running level a recovery is judged on spans this many points (206de5f)
_LEVEL_WIDTH = 5
#: a data-order sawtooth (206de5f): teeth rise at least _TOOTH_SIGMAS noise
#: scales and x_TOOTH_MIN_RATIO; regular when _TOOTH_REGULAR of the gaps lie
#: within _TOOTH_GAP_TOL of the median gap; a jump within max(2 blocks,
#: _TOOTH_NEAR periods) of a tooth and at most _TOOTH_MAX_SIZE times the
#: median tooth (in log) is one of them
_TOOTH_SIGMAS = 3.0
_TOOTH_MIN_RATIO = 1.2
_TOOTH_GAP_TOL = 0.25
_TOOTH_REGULAR = 0.75
_TOOTH_NEAR = 0.1
_TOOTH_MAX_SIZE = 3.0
#: recurring jumps are a periodic pattern when the coefficient of variation
#: of their spacing is below _RECUR_CV and the loss falls back between
#: _RECUR_FALLS_BACK of them (ecb306b)
_RECUR_CV = 0.1
_RECUR_FALLS_BACK = 0.8



def _first_non_finite(series: Series) -> int | None:
    bad = np.flatnonzero(~np.isfinite(series.values))
    return int(bad[0]) if bad.size else None


def non_finite_finding(series: Series, detector_name: str = "explosion") -> Finding | None:
    """Finding for the first NaN/Inf of ``series``, or None when every value is finite."""
    i = _first_non_finite(series)
    if i is None:
        return None
    value = series.values[i]
    what = "NaN" if np.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    n_bad = int(np.count_nonzero(~np.isfinite(series.values[i:])))
    tail = len(series) - i
    last_finite = series.values[:i][np.isfinite(series.values[:i])]
    before = f" after a last finite value of {last_finite[-1]:.4g}" if last_finite.size else " from the first logged step"
    return Finding(
        pathology=Pathology.EXPLOSION,
        kind="non_finite",
        series=series.name,
        p_value=None,
        statistic=None,
        effect={"non_finite_count": float(n_bad), "non_finite_share_after_onset": n_bad / tail},
        onset_step=int(series.steps[i]),
        severity=Severity.CRITICAL,
        message=(
            f"{series.name} becomes {what} at step {int(series.steps[i])}{before}; "
            f"{n_bad} of the {tail} values from there on are non-finite."
        ),
        remedies=REMEDIES_NON_FINITE,
        detector=detector_name,
    )


# --- level shifts -------------------------------------------------------------------------


def _log_loss(values: np.ndarray) -> np.ndarray | None:
    """log of a positive loss; None when the loss takes negative values (no ratio scale)."""
    from ..stats import safe_log

    if np.min(values) > 0:
        return safe_log(values)
    if np.min(values) == 0:
        positive = values[values > 0]
        if positive.size == 0:
            return None
        return safe_log(values, floor=_ZERO_FLOOR * float(np.median(positive)))
    return None


def _residuals(z: np.ndarray, window: int) -> np.ndarray:
    """Residuals of ``z`` around its running median (robust to jumps and trends)."""
    from ..stats import robust_smooth

    return z - robust_smooth(z, window=window)


def _lr_explanation(lr: Series | None, step_lo: int, step_hi: int) -> float:
    """Factor by which a *scheduled* learning-rate rise within [step_lo, step_hi] explains a jump.

    Returns the largest rise of the logged learning rate inside the window
    (1.0 when there is none or no ``lr`` series). A rise counts as scheduled
    (warm-up, warm restart, cyclic schedule) only when the learning rate it
    reaches stays within the range the schedule already visited before the
    window (at most 1.1 times the earlier maximum), or when the learning rate
    has only been rising so far (warm-up). A spike to a learning rate never
    seen before is itself the anomaly, and explains nothing: the jump it
    causes is an explosion.
    """
    if lr is None:
        return 1.0
    s, v = lr.steps, lr.values
    ok = np.isfinite(v) & (v > 0)
    s, v = s[ok], v[ok]
    if v.size < 2:
        return 1.0
    i0 = max(0, int(np.searchsorted(s, step_lo, side="right")) - 1)
    i1 = int(np.searchsorted(s, step_hi, side="right"))
    seg = v[i0 : max(i1, i0 + 1)]
    if seg.size < 2:
        return 1.0
    rise = float(np.max(seg / np.minimum.accumulate(seg)))
    earlier = v[:i0]
    # warm-up: the learning rate has been rising since the start of the run,
    # and had already risen before the window (a constant rate that suddenly
    # spikes is no warm-up)
    warming_up = i0 > 0 and v[i0] > v[0] and bool(np.all(np.diff(v[: i0 + 1]) >= 0))
    within_range = earlier.size > 0 and float(np.max(seg)) <= _LR_RANGE * float(np.max(earlier))
    return rise if (warming_up or within_range) else 1.0


#: name tokens of a negative log-likelihood (cross-entropy) loss, and of a
#: perplexity logged beside it
_NLL_TOKENS = frozenset({"nll", "xent", "crossentropy", "ce", "lm", "logprob", "bpc"})
_PPL_TOKENS = frozenset({"ppl", "perplexity"})
#: a generic loss that starts at ln(V) of a vocabulary of 50 to 270,000
#: classes is a language model's negative log-likelihood (in nats)
_NLL_START_RANGE = (math.log(50.0), 12.5)


def _is_nll(series: Series, run: Run) -> bool:
    """Is ``series`` a negative log-likelihood, whose meaningful scale is additive (nats)?

    Yes when its name says so (``nll``, ``ce``, ``xent``, ``cross_entropy``,
    ``lm_loss``), when a perplexity is logged beside it, or when a loss that
    never goes negative starts at the ``ln(V)`` of a language model's
    vocabulary (4 to 12.5 nats).
    """
    from ..run import name_tokens

    if set(name_tokens(series.name)) & _NLL_TOKENS:
        return True
    if any(set(name_tokens(name)) & _PPL_TOKENS for name in run.names):
        return True
    v = series.values[np.isfinite(series.values)]
    if v.size < _NLL_MIN_POINTS or float(np.min(v)) < 0:
        return False
    start = float(np.median(v[: max(3, v.size // _NLL_START_SHARE)]))
    return _NLL_START_RANGE[0] <= start <= _NLL_START_RANGE[1]


class ExplosionDetector:
    """Detect exploding losses: non-finite values, then upward level shifts of log loss.

    Attributes
    ----------
    name : str
        ``"explosion"``.

    Notes
    -----
    See the module docstring and ``docs/detectors/explosion.rst`` for the
    model and decision rule; thresholds are in :class:`curvestat.config.ExplosionConfig`.
    """

    name = "explosion"
    pathology = Pathology.EXPLOSION
    requires: tuple[str, ...] = ()

    def detect(self, run: Run, config: Config) -> Sequence[Finding] | Skipped:
        """Scan the loss series of ``run``; return findings or a Skipped with the reason."""
        losses = run.by_role(Role.TRAIN_LOSS) + run.by_role(Role.VAL_LOSS)
        if not losses:
            return Skipped(self.name, "no loss series (give one its role: --role NAME=train_loss, or roles={NAME: 'train_loss'} in Python)")
        # One root cause, one finding: a loss that turns non-finite after
        # another one already did repeats the same event.
        non_finite = [f for f in (non_finite_finding(s, self.name) for s in losses) if f is not None]
        findings: list[Finding] = [min(non_finite, key=lambda f: f.onset_step or 0)] if non_finite else []
        primary = run.train_loss or run.val_loss
        assert primary is not None  # losses is non-empty
        n_finite = primary.n_finite
        if not findings and n_finite < config.explosion.min_points:
            # a NaN is evidence on any length; the level-shift test needs a baseline
            return Skipped(self.name, f"{primary.name} has {n_finite} finite points; need {config.explosion.min_points}")
        findings.extend(self._level_shifts(primary, run.lr, config, nll=_is_nll(primary, run)))
        return findings

    # ------------------------------------------------------------------------------------
    def _level_shifts(self, series: Series, lr: Series | None, config: Config, nll: bool = False) -> list[Finding]:
        """Upward level shifts of the log loss: prepare, segment, then test and judge each rise."""
        from ..stats import pelt

        cfg = config.explosion
        lev = _prepare_levels(series, cfg)
        if lev is None:
            return []
        zb = lev.zb
        penalty = cfg.penalty_factor * lev.sigma_all**2 * math.log(max(zb.size, 3))
        cp = pelt(zb, model="l2", penalty=penalty, min_size=1)
        starts = [int(v) for v in cp.segment_starts] + [zb.size]
        teeth = _sawtooth_teeth(zb, starts, cp.segment_means, cfg, lev.sigma_all)
        data_order = False
        out: list[Finding] = []
        for ep in _rises(zb, starts, cp.segment_means, cfg):
            if not _practical(ep, cfg, nll):
                continue
            # the noise the jump must clear is that of the run before it
            sigma = tail_noise_scale(lev.resid[: max(ep.b, 3)]) if ep.b >= _LOCAL_NOISE_POINTS else lev.sigma_all
            if ep.jump < cfg.min_jump_sigmas * sigma:
                continue
            ev = _jump_evidence(lev, ep, sigma, lr, cfg, nll)
            tooth = teeth is not None and _in_sawtooth(ep.b, ep.jump, teeth, cfg)
            kind = _decide_jump(ev, cfg, config.alpha, nll, tooth)
            if kind == "tooth":
                data_order = True  # one tooth of a data-order sawtooth: reported once below
            elif kind is not None:
                out.append(_jump_finding(series, lev, ev, kind, cfg, nll, self.name))
        # one root cause, one finding: once the loss has diverged (never came
        # back near its earlier level) later jumps are part of the same event
        div = [f.onset_step or 0 for f in out if f.kind == "divergence"]
        if div:
            out = [f for f in out if (f.onset_step or 0) <= min(div)]
        if data_order:
            assert teeth is not None
            out.append(_data_order_finding(series, lev.steps, lev.block, teeth, self.name))
        return _drop_regular_recurrences(out, cfg.min_recurrences)


@dataclass(frozen=True, slots=True)
class _LogLevels:
    """The finite head of a loss on the log scale, as the level-shift test reads it."""

    steps: NDArray[np.int64]
    z: NDArray[np.float64]  # log loss at full resolution
    zb: NDArray[np.float64]  # block maxima of z (z itself when short)
    block: int
    resid: NDArray[np.float64]  # zb around its running median
    sigma_all: float  # noise scale of resid over the whole run
    level5: NDArray[np.float64]  # 5-point running level of z (recoveries)
    initial: float  # the loss's own scale: its level at the start


def _prepare_levels(series: Series, cfg: Any) -> _LogLevels | None:
    """The series up to its first non-finite value on the log scale; None when too short or not positive."""
    stop = _first_non_finite(series)
    values = series.values[: stop if stop is not None else len(series)]
    steps = series.steps[: values.size]
    if values.size < cfg.min_points:
        return None
    z = _log_loss(values)
    if z is None:
        return None  # losses below zero have no ratio scale; only the non-finite scan applies
    n = z.size
    initial = float(np.median(values[: max(3, n // _INITIAL_SHARE)]))
    # Long series: segment block *maxima* of at most cfg.max_segment_points
    # blocks. Maxima keep every upward excursion, a one-point spike
    # included, at full height (block means would dilute it), and keep
    # PELT fast on long smooth trends, where its pruning is weak. The
    # onset is refined on the full-resolution series.
    block = max(1, math.ceil(n / cfg.max_segment_points))
    if block > 1:
        m = n // block
        head = z[: m * block].reshape(m, block).max(axis=1)
        zb = np.append(head, z[m * block :].max()) if n > m * block else head
    else:
        zb = z
    window = int(min(max(_RESID_MIN, (zb.size // _RESID_SHARE) | 1), _RESID_MAX))
    resid = _residuals(zb, window)
    # the recovery test reads a 5-point running mean of the loss at full
    # resolution, so that a noisy point or two back down (or the exact
    # zeros of a broken network between its huge losses) are not taken
    # for a recovery
    return _LogLevels(steps, z, zb, block, resid, tail_noise_scale(resid), _running_level(z, _LEVEL_WIDTH), initial)


@dataclass(frozen=True, slots=True)
class _Rise:
    """A candidate: a run of upward changes of the segmentation (block indices)."""

    b: int  # first block of the rise
    b_end: int  # first block of its last stair
    w_before: int
    w_after: int
    before: float  # log level before
    after: float  # log level after
    top: float  # highest log level in the window after

    @property
    def jump(self) -> float:
        return self.after - self.before


def _rises(zb: NDArray[np.float64], starts: list[int], means: NDArray[np.float64], cfg: Any) -> Iterator[_Rise]:
    """The upward episodes of a segmentation of ``zb`` (``starts`` ends with ``zb.size``).

    A rise is often a ramp that PELT cuts into a staircase: runs of
    consecutive upward changes separated by short segments are merged into
    one episode, measured from the level before its first change to the
    level after its last one. A downward change ends an episode, so a spike
    (up, then down) stays a short excursion.
    """
    gap = max(cfg.local_window, zb.size // _MERGE_SHARE)
    # a short epoch-level log (Keras: one point per epoch) has a level
    # after a quarter of its points; the warm-up noise that needs ten
    # points of baseline is that of per-step logs
    min_baseline = min(cfg.min_baseline_points, max(3, zb.size // _BASELINE_SHARE))
    k = 1
    while k < len(starts) - 1:
        if means[k] <= means[k - 1]:
            k += 1
            continue
        first = k
        while k + 1 < len(starts) - 1 and means[k + 1] > means[k] and starts[k + 1] - starts[k] <= gap:
            k += 1
        last = k
        k += 1
        b = starts[first]
        # the level before: the median of the local_window points before
        # the change, across segment boundaries, so that a short dip
        # (a downward outlier PELT isolated) is not taken for the level
        w_before = min(b, cfg.local_window)
        if b < min_baseline:
            continue  # no level to jump from yet (the first few logged points)
        b_end = starts[last]
        w_after = min(starts[last + 1] - b_end, cfg.local_window)
        yield _Rise(
            b, b_end, w_before, w_after,
            before=float(np.median(zb[b - w_before : b])),
            after=float(np.median(zb[b_end : b_end + w_after])),
            top=float(np.max(zb[b_end : b_end + w_after])),
        )


def _practical(ep: _Rise, cfg: Any, nll: bool) -> bool:
    """The practical minimum: the loss ratio, or for a negative log-likelihood the additive jump in nats
    (x e^nats in perplexity) at the top of the rise (an LLM spike decays over hundreds of steps, its
    segment's median is below its peak)."""
    top_nats = _exp(ep.top) - _exp(ep.before)
    return ep.jump >= math.log(cfg.min_ratio) or (nll and top_nats >= cfg.min_jump_nats)


@dataclass(frozen=True, slots=True)
class _JumpEvidence:
    """The test of one rise and what the decision reads (indices at full resolution)."""

    rise: _Rise
    sigma: float
    p: float
    zstat: float
    i: int  # onset index
    recovery_idx: int | None
    recovered: bool
    peak_log: float
    lr_rise: float
    seen: int  # points above half the jump until the recovery (or the end)
    n_after: int  # points from the onset to the end of the series

    @property
    def jump(self) -> float:
        return self.rise.jump


def _jump_evidence(lev: _LogLevels, ep: _Rise, sigma: float, lr: Series | None, cfg: Any, nll: bool) -> _JumpEvidence:
    """Test a rise against the run's own noise; locate its onset, recovery and peak."""
    from ..stats import local_shift_test

    zb, z, resid, block = lev.zb, lev.z, lev.resid, lev.block
    b, b_end, w_before, w_after, before, jump = ep.b, ep.b_end, ep.w_before, ep.w_after, ep.before, ep.jump
    n = z.size
    # p-value: the local shift against the null distribution of the
    # same statistic along the run's own healthy stretch, with a
    # Pareto tail (valid under heavy tails and autocorrelation),
    # Bonferroni over the positions searched
    # the null: the run's own residuals before the jump and its
    # baseline window (precursors, such as the rising gradient norm's
    # first loss blips, belong to the event, and one of them would
    # dominate the tail estimate); the whole run, the jump's own
    # windows left out, when that is too short
    if b - w_before >= _NULL_POINTS:
        null_resid = resid[: b - w_before]
    else:
        null_resid = np.concatenate((resid[: b - w_before], resid[b_end + w_after :]))
        if null_resid.size < 3:
            null_resid = resid
    # the window after: the segment after the (last stair of the)
    # rise, or, for a decaying spike that PELT cuts into short
    # segments, the run of points that stay above half the
    # jump (so a spike is tested on all the points it lasts)
    above = zb[b_end : b_end + cfg.local_window] > before + 0.5 * jump
    run_len = int(np.argmin(above)) if not above.all() else int(above.size)
    wa2 = max(w_after, run_len)
    test = local_shift_test(zb, b, w_before, wa2, resid=null_resid, sigma=sigma, n_tests=zb.size, after_start=b_end)
    # Onset: the first point of the rise at full resolution (PELT puts
    # the first stair of a ramp at its start; step back over points of
    # a block that already rose).
    i = b * block
    half = before + 0.5 * jump
    while i > 0 and i > (b - w_before) * block and z[i - 1] > half:
        i -= 1
    if i == b * block:  # the rise may sit later in its block (block maxima)
        while i < min(n, (b + 1) * block) - 1 and z[i] <= half:
            i += 1
    # Recovery: back near the level *before* the jump, not merely
    # below half of it: within recovery_ratio of it (for a negative
    # log-likelihood also within half the minimum jump in nats), or
    # within three noise scales when the noise is larger; never
    # further than half the jump. A loss that falls back from x1000
    # to x30 has not recovered: it diverged.
    tol = math.log(cfg.recovery_ratio)
    if nll:
        tol = min(tol, math.log1p(0.5 * cfg.min_jump_nats / _exp(before)))
    back = before + min(0.5 * jump, max(tol, _RECOVERY_SIGMAS * sigma))
    top = i if b_end == b else b_end * block
    if b_end == b:  # the top of a one-stair rise: its highest point in the rise's block
        hi = min(n, max(i + 1, (b + 1) * block))
        top = i + int(np.argmax(z[i:hi]))
    rec = np.flatnonzero(lev.level5[top + 1 :] <= back)
    recovery_idx = int(top + 1 + rec[0]) if rec.size else None
    recovered = recovery_idx is not None and (recovery_idx - i) <= cfg.recovery_window * block
    peak_log = float(np.max(z[i : (recovery_idx if recovered else n)]))
    steps = lev.steps
    lr_rise = _lr_explanation(lr, int(steps[max(0, i - max(1, cfg.local_window * block))]), int(steps[i]))
    # points the excursion was seen on (above half the jump): until
    # its recovery, or until the end of the run (whether it would
    # have stayed up is then unknown; a last, partial batch logs one)
    end_idx = recovery_idx if recovered and recovery_idx is not None else n
    seen = int(np.count_nonzero(z[i:end_idx] > half))
    return _JumpEvidence(ep, sigma, test.pvalue, jump / test.se, i, recovery_idx, recovered, peak_log, lr_rise,
                         seen, n - i)


def _decide_jump(ev: _JumpEvidence, cfg: Any, alpha: float, nll: bool, tooth: bool) -> str | None:
    """The kind of finding a tested rise gives: ``"explained_by_lr"``, ``"spike"``, ``"divergence"``,
    ``"tooth"`` (of a data-order sawtooth), or None (nothing to report)."""
    if ev.lr_rise >= cfg.lr_explains_ratio:
        return "explained_by_lr"
    if ev.p > alpha:
        return None  # within what the run's own noise produces
    peak_ratio = _exp(ev.peak_log - ev.rise.before)
    peak_nats = _exp(ev.peak_log) - _exp(ev.rise.before)
    big_peak = peak_ratio >= cfg.min_spike_ratio or (nll and peak_nats >= cfg.min_jump_nats)
    if ev.recovered and not big_peak:
        return None  # a short bump of this size is within what healthy runs show
    if tooth:
        return "tooth"
    if ev.recovered:
        return "spike"
    if ev.seen <= cfg.max_blip_points and ev.n_after <= cfg.max_blip_points and ev.jump < cfg.single_point_sigmas * ev.sigma:
        # only the last logged point is up (often a partial batch
        # of a few samples): nothing shows that it stays up
        return None
    return "divergence"


def _jump_finding(series: Series, lev: _LogLevels, ev: _JumpEvidence, kind: str, cfg: Any, nll: bool,
                  detector_name: str) -> Finding:
    """The finding of a rise judged ``kind`` (not ``"tooth"``)."""
    steps = lev.steps
    before, jump, sigma, p = ev.rise.before, ev.jump, ev.sigma, ev.p
    onset_step = int(steps[ev.i])
    ratio = _exp(jump)
    peak_ratio = _exp(ev.peak_log - before)
    effect = {
        "ratio": ratio,
        "peak_ratio": peak_ratio,
        "jump_log": jump,
        "jump_sigmas": jump / sigma,
        "level_before": _exp(before),
    }
    if nll:
        effect["jump_nats"] = _exp(ev.rise.after) - _exp(before)
        effect["peak_nats"] = _exp(ev.peak_log) - _exp(before)
    if kind == "explained_by_lr":
        return Finding(
            pathology=Pathology.EXPLOSION,
            kind="explained_by_lr",
            series=series.name,
            # H0 = healthy: a jump the schedule explains is no
            # evidence against it, so no p-value
            p_value=None,
            statistic=ev.zstat,
            effect={**effect, "lr_ratio": ev.lr_rise, "jump_p": p},
            onset_step=onset_step,
            severity=Severity.INFO,
            message=(
                f"{series.name} jumps {_fmt.ratio(ratio)} at step {onset_step}, right after the logged "
                f"learning rate rose {_fmt.ratio(ev.lr_rise)} (warm-up or warm restart): expected, not an explosion."
            ),
            remedies=(),
            detector=detector_name,
        )
    if kind == "spike":
        assert ev.recovery_idx is not None
        effect["recovery_step"] = float(steps[ev.recovery_idx])
        effect["duration_steps"] = float(steps[ev.recovery_idx] - steps[ev.i])
        effect["points_above_half"] = float(ev.seen)
        # a one-step blip that recovers at once is what heavy-tailed
        # minibatch noise makes (one hard batch): a note, not a sick run
        blip = ev.seen <= cfg.max_blip_points
        message = (
            f"{series.name} spikes {_fmt.ratio(peak_ratio)} at step {onset_step} and recovers at step "
            f"{int(steps[ev.recovery_idx])} (jump of {jump / sigma:.1f} noise scales, {_fmt.p_text(p)})"
            + ("; a single-step blip, as one hard batch makes." if blip else ".")
        )
        severity = Severity.INFO if blip else Severity.WARNING
    else:
        message = (
            f"{series.name} jumps {_fmt.ratio(ratio)} at step {onset_step} and does not come back near its "
            f"earlier level (peak {_fmt.ratio(peak_ratio)}; {jump / sigma:.1f} noise scales, {_fmt.p_text(p)})."
        )
        severity = Severity.CRITICAL
    # practical magnitude on the loss's own scale: an excursion that
    # stays below min_peak_share of the run's initial loss (an Adam
    # spike from a memorised 0.02 to 0.5 in a run that started at
    # 2.3) has not undone the training: a note
    initial = lev.initial
    reached = _exp(ev.peak_log if kind == "spike" else ev.rise.after)
    effect["share_of_initial"] = reached / initial if initial > 0 else math.inf
    if reached < cfg.min_peak_share * initial and severity is not Severity.INFO:
        severity = Severity.INFO
        message = message[:-1] + f"; it stays below {cfg.min_peak_share:.0%} of the initial loss ({initial:.3g})."
    return Finding(
        pathology=Pathology.EXPLOSION,
        kind=kind,
        series=series.name,
        p_value=p,
        statistic=ev.zstat,
        effect=effect,
        onset_step=onset_step,
        severity=severity,
        message=message,
        remedies=REMEDIES_JUMP,
        detector=detector_name,
    )


def _running_level(z: np.ndarray, width: int = _LEVEL_WIDTH) -> np.ndarray:
    """log of the centred running mean of ``exp(z)`` over ``width`` points.

    The level a recovery is judged on: the mean of the loss itself, so that
    a point or two back down, or the exact zeros a broken network logs
    between its huge losses, do not pass for a recovery.
    """
    from scipy.ndimage import uniform_filter1d

    if z.size < width:
        return z.copy()
    top = float(np.max(z))
    return top + np.log(np.maximum(uniform_filter1d(np.exp(z - top), size=width, mode="nearest"), TINY))


def _sawtooth_teeth(zb: np.ndarray, starts: list[int], means: np.ndarray, cfg: Any, sigma: float) -> dict | None:
    """Upward jumps that recur at a regular spacing and fall back after each.

    Class-sorted (unshuffled) data makes the loss jump at every class-block
    boundary and decay while the model adapts to the new class: a sawtooth,
    visible already in the first epoch, before anything repeats per epoch.
    Every upward change of the segmentation of at least three noise scales
    (and x1.2) is a candidate tooth when the level falls back below half its
    jump before the next upward change. Returns the teeth (block indices and
    jumps) when at least ``cfg.min_recurrences`` of them are spaced
    regularly (three quarters of the gaps within 25 % of the median gap),
    else None.
    """
    ups: list[tuple[int, float]] = []
    for k in range(1, len(starts) - 1):
        if means[k] <= means[k - 1]:
            continue
        b = starts[k]
        if b < 2:
            continue
        wb = min(b, cfg.local_window)
        wa = min(starts[k + 1] - b, cfg.local_window)
        before = float(np.median(zb[b - wb : b]))
        jump = float(np.median(zb[b : b + wa])) - before
        if jump < max(_TOOTH_SIGMAS * sigma, math.log(_TOOTH_MIN_RATIO)):
            continue
        ups.append((b, jump))
    if len(ups) < cfg.min_recurrences:
        return None
    teeth: list[tuple[int, float]] = []
    for j, (b, jump) in enumerate(ups):
        nxt = ups[j + 1][0] if j + 1 < len(ups) else zb.size
        before = float(np.median(zb[b - min(b, cfg.local_window) : b]))
        if nxt - b < 2 or float(np.min(zb[b + 1 : nxt])) > before + 0.5 * jump:
            continue  # no fall back before the next jump: a staircase, not a tooth
        teeth.append((b, jump))
    if len(teeth) < cfg.min_recurrences:
        return None
    onsets = np.array([t[0] for t in teeth], dtype=np.float64)
    gaps = np.diff(onsets)
    med = float(np.median(gaps))
    if med < 2 or np.mean(np.abs(gaps - med) <= _TOOTH_GAP_TOL * med) < _TOOTH_REGULAR:
        return None
    return {"onsets": onsets, "jumps": np.array([t[1] for t in teeth]), "period_blocks": med}


def _in_sawtooth(b: int, jump: float, teeth: dict, cfg: Any) -> bool:
    """Is the jump at block ``b`` one of the sawtooth's teeth, and of their size?

    A jump far larger than the pattern's typical tooth (3x in log) is an
    explosion on top of the pattern.
    """
    near = np.abs(teeth["onsets"] - b) <= max(2.0, _TOOTH_NEAR * teeth["period_blocks"])
    return bool(near.any()) and jump <= _TOOTH_MAX_SIZE * float(np.median(teeth["jumps"]))


def _data_order_finding(series: Series, steps: np.ndarray, block: int, teeth: dict, detector_name: str) -> Finding:
    first = int(teeth["onsets"][0]) * block
    every = teeth["period_blocks"] * block
    step_every = float(every * (np.median(np.diff(steps)) if steps.size > 1 else 1.0))
    ratio = float(np.exp(np.median(teeth["jumps"])))
    return Finding(
        pathology=Pathology.EXPLOSION,
        kind="data_order",
        series=series.name,
        p_value=None,
        statistic=None,
        effect={"teeth": float(teeth["onsets"].size), "every_steps": step_every, "median_ratio": ratio},
        onset_step=int(steps[min(first, steps.size - 1)]),
        severity=Severity.INFO,
        message=(
            f"{series.name} jumps {_fmt.ratio(ratio)} {teeth['onsets'].size} times, about every {step_every:.3g} steps, "
            "and falls back after each: the order of the data (e.g. sorted by class, not shuffled), not an "
            "explosion; see the periodic detector."
        ),
        remedies=(),
        detector=detector_name,
    )


def _drop_regular_recurrences(findings: list[Finding], min_recurrences: int) -> list[Finding]:
    """Jumps that recur at a regular interval are a periodic pattern, not an explosion.

    Unshuffled data ordered by class makes the loss jump up at the start of
    every epoch; those jumps belong to the periodic detector. When at least
    ``min_recurrences`` jumps are spaced regularly (coefficient of variation
    of the spacing below 0.1) *and* the loss falls back by at least half a
    jump between them (unlike a divergence that climbs in steps), they are
    dropped here.
    """
    jumps = sorted((f for f in findings if f.kind in ("spike", "divergence")), key=lambda f: f.onset_step or 0)
    if len(jumps) < min_recurrences:
        return findings
    onsets = np.array([f.onset_step for f in jumps], dtype=np.float64)
    gaps = np.diff(onsets)
    levels = np.log([f.effect["level_before"] for f in jumps])
    sizes = np.array([f.effect["jump_log"] for f in jumps])
    regular = np.mean(gaps) > 0 and np.std(gaps) / np.mean(gaps) < _RECUR_CV
    # between two recurrences the loss falls back by at least half a jump
    falls_back = np.mean(levels[1:] <= levels[:-1] + 0.5 * sizes[:-1]) >= _RECUR_FALLS_BACK
    if regular and falls_back:
        return [f for f in findings if f.kind not in ("spike", "divergence")]
    return findings


detector = ExplosionDetector()
