"""Thresholds of every detector, and the numba compilation flags.

:class:`Config` is one frozen dataclass. Global knobs (``alpha``) sit at the top
level; each detector's thresholds sit in a frozen section of their own so that
``Config().explosion.min_ratio`` reads like the documentation. Build a variant
with :meth:`Config.replace`::

    cfg = Config().replace(alpha=0.05, explosion={"min_ratio": 3.0})
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError

__all__ = [
    "Config",
    "NonConvergenceConfig",
    "ExplosionConfig",
    "ContradictionConfig",
    "OverfittingConfig",
    "PeriodicConfig",
    "NUMBA_FASTMATH",
]

#: fastmath flags for numba kernels. ``nnan`` and ``ninf`` are deliberately
#: absent: NaN and Inf are evidence in a loss curve, and letting LLVM assume
#: they never occur would silently change results on exactly the runs that
#: matter most. ``reassoc`` lets reductions vectorise; the kernels' tests
#: compare against references with tolerances that allow for it.
NUMBA_FASTMATH: frozenset[str] = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


@dataclass(frozen=True, slots=True)
class NonConvergenceConfig:
    """Thresholds of the non-convergence detector.

    Attributes
    ----------
    min_points : int
        Fewest finite loss points needed to test for a trend (default 8).
    min_improvement : float
        Smallest relative improvement ``1 - median(last 10%) / median(first 2%)``
        that counts as having trained (default 0.05: a 5 % drop). H0 of the
        shortfall test: the loss improved by at least this much.
    start_fraction : float
        Share of the run (at least 3 points) whose median is the start level
        (default 0.02: short, so that a loss that drops fast still starts high).
    edge_fraction : float
        Share of the run (at least 3 points) whose median is the end level
        (default 0.1).
    max_blocks : int
        The trend test runs on at most this many block means of log loss
        (default 200).
    hamed_rao_lags : int
        Lags used by the Hamed-Rao variance correction (default 3; with all
        lags the correction over-rejects, see ``docs/stats.rst``).
    bouncing_min_noise : float
        Step-to-step noise of log loss (MAD of first differences / sqrt 2) at
        or above which a non-decreasing loss is *bouncing* rather than *flat*
        (default 0.2, i.e. about 20 % fluctuations).
    bouncing_ratio : float
        ... and the noise must be at least this share of the total decrease
        in log units (default 0.5). A loss that noisy trained when it
        decreased by at least ``noise / bouncing_ratio``.
    chance_margin : float
        A recognised loss (cross-entropy of K classes, standardised MSE) has
        learned when it ends at least this share below chance level
        (default 0.1: ``0.9 ln K``; it covers the few per cent a network
        memorises of shuffled labels and binary priors up to about 68/32).
        1 turns the chance-level test off.
    """

    min_points: int = 8
    min_improvement: float = 0.05
    start_fraction: float = 0.02
    edge_fraction: float = 0.1
    max_blocks: int = 200
    hamed_rao_lags: int = 3
    bouncing_min_noise: float = 0.2
    bouncing_ratio: float = 0.5
    chance_margin: float = 0.1


@dataclass(frozen=True, slots=True)
class ExplosionConfig:
    """Thresholds of the explosion detector.

    Attributes
    ----------
    min_points : int
        Fewest finite points needed for change-point detection (default 10).
    max_segment_points : int
        Longer series are segmented on block maxima of log loss, at most this
        many blocks (default 2,000); the onset is then refined at full
        resolution.
    min_ratio : float
        Smallest local jump ``exp(median_after - median_before)`` of the loss
        that counts as an explosion (default 1.5: a sudden 50 % rise of the
        loss that a healthy optimiser does not produce).
        This is the practical minimum; the statistical one is below.
    min_jump_sigmas : float
        The jump in log loss must also exceed this many robust noise scales
        (default 6.0), so that bumps within the noise of a heavy-tailed or
        very noisy curve are not called explosions.
    penalty_factor : float
        PELT penalty per change point is ``penalty_factor * sigma**2 * log(n)``
        on log loss (default 3.0, a modified-BIC-style penalty).
    local_window : int
        Largest number of points on each side of a change used to measure the
        jump (default 20): the jump is local, so that slow drifts are not
        mistaken for jumps.
    recovery_window : int
        An excursion that comes back near its earlier level (see
        ``recovery_ratio``) within this many points is a *spike*; otherwise it
        is a *divergence* (default 50).
    recovery_ratio : float
        A spike has recovered when the loss (5-point running mean) is back
        within this factor of its level before the jump, or within three
        noise scales of it when the noise is larger, and never further than
        half the jump (default 1.5, the same practical minimum as
        ``min_ratio``: a loss that stays 1.5x or more above its earlier level
        has shifted up). For a negative log-likelihood it must also be back
        within ``min_jump_nats / 2`` nats.
    min_spike_ratio : float
        A transient excursion (one that recovers within ``recovery_window``)
        must peak at least this high above its baseline (default 2.0): short
        bumps of up to 1.5x are common in healthy runs.
    min_peak_share : float
        Practical magnitude on the loss's own scale: a spike whose peak (a
        divergence whose level after the jump) stays below this share of the
        run's initial loss (median of its first 5 %) is ``info`` (default
        0.1): an Adam spike from a memorised 0.02 to 0.5 in a run that
        started at 2.3 has not undone the training.
    max_blip_points : int
        A spike seen on at most this many logged points (above half its jump)
        that then recovers is a *blip* (one hard batch, heavy-tailed
        minibatch noise) and is reported as ``info`` (default 1).
    single_point_sigmas : float
        A rise seen only on the last logged point (often a partial batch of a
        few samples) must exceed this many noise scales to be a divergence
        (default 10.0): nothing shows that it stays up.
    min_jump_nats : float
        For a loss recognised as a negative log-likelihood (cross-entropy in
        nats: named ``nll``/``ce``/``xent``/``lm_loss``, a perplexity logged
        beside it, or a start at ``ln(V)`` of a vocabulary), a jump or spike
        peak of at least this many nats is practically large even when its
        ratio is below ``min_ratio`` / ``min_spike_ratio`` (default 0.75
        nats, x2.1 in perplexity; a +1 nat spike measured on block maxima of
        a long log reads about 0.9): LLM loss spikes of +1 to +4 nats are
        only x1.2-x1.7 in the loss.
    min_baseline_points : int
        A jump needs at least this many points before it to measure the
        level it jumps from (default 10): the first few logged points of a
        run (warm-up) carry no baseline. A short log needs only a quarter of
        its points (at least 3): twelve Keras epochs have a level by epoch 3.
    min_recurrences : int
        This many or more jumps at a regular interval are a periodic pattern
        (unshuffled data), left to the periodic detector (default 3).
    lr_explains_ratio : float
        A jump preceded (within ``local_window`` points) by a *scheduled*
        rise of the logged learning rate by at least this factor (warm-up, or
        back to a level the schedule visited before, as warm restarts do) is
        explained by the schedule and reported as ``info`` (default 1.5). A
        spike of the learning rate to a level never seen before explains
        nothing: the jump is an explosion.
    """

    min_points: int = 10
    max_segment_points: int = 2000
    min_ratio: float = 1.5
    min_jump_sigmas: float = 6.0
    penalty_factor: float = 3.0
    local_window: int = 20
    recovery_window: int = 50
    recovery_ratio: float = 1.5
    min_spike_ratio: float = 2.0
    max_blip_points: int = 1
    min_peak_share: float = 0.1
    single_point_sigmas: float = 10.0
    min_jump_nats: float = 0.75
    min_baseline_points: int = 10
    min_recurrences: int = 3
    lr_explains_ratio: float = 1.5


@dataclass(frozen=True, slots=True)
class ContradictionConfig:
    """Thresholds of the metric-contradiction detector.

    Attributes
    ----------
    min_points : int
        Fewest points of a metric series (with an aligned loss) needed to
        judge it (default 5).
    min_degenerate_fraction : float
        Shortest window of exactly constant metric values, as a share of the
        metric's points, reported as degenerate (default 0.5).
    min_degenerate_points : int
        Fewest evaluations at which a metric stuck at a trivial level (exactly
        0, chance) is judged (default 3: the fine-tuning picture of 3-6
        evaluations). The evidence is the loss's trend on its own logged
        points over the window -- thousands of train-loss steps -- not the
        few metric points, so fewer than ``min_points`` suffice.
    min_loss_improvement : float
        Smallest relative loss improvement ``1 - median(last 10 %) /
        median(first 10 %)`` (over the window judged) that makes a stuck or
        flat metric a contradiction (default 0.05: a loss that fell by 5 % or
        more with a significant trend is progress a practitioner sees). For a
        stuck metric the train loss over the window counts as well as the
        validation loss.
    min_metric_gain : float
        A metric that gained less than this (absolute, in its own units,
        ``median(last 20 %) - median(first 20 %)`` in its improving
        direction), or no more than one step of its grid (counts /
        validation-set size, inferred from the values), does not improve;
        one that lost at least this much while the loss improved moves in
        the opposite direction (default 0.02). A metric that gained at least
        this much before it froze at a trivial value (other than its worst
        one) moved with the loss: not degenerate.
    plateau_level : float
        A non-improving metric whose last 20 % lie at least this share of the
        way from its worst to its best value (accuracy-like metrics in [0, 1]:
        a level of 0.5 or more; error rates 0.5 or less) has learned and
        plateaued: reported with severity ``info``, exactly constant or noisy
        (default 0.5: practitioners call an accuracy, precision or recall
        flat at a useful level while the loss keeps improving healthy -- the
        loss improves calibration after the decisions converged, issue 15
        class 4. It replaces ``saturation``, 0.05 from the best value, and
        ``perfect_loss``).
    """

    min_points: int = 5
    min_degenerate_fraction: float = 0.5
    min_degenerate_points: int = 3
    min_loss_improvement: float = 0.05
    min_metric_gain: float = 0.02
    plateau_level: float = 0.5


@dataclass(frozen=True, slots=True)
class OverfittingConfig:
    """Thresholds of the overfitting detector.

    Attributes
    ----------
    min_evaluations : int
        Fewest evaluations (validation points with an aligned train loss)
        needed (default 6).
    min_rise : float
        Smallest relative rise of the smoothed validation loss above its
        smoothed minimum that counts as a U-turn (default 0.03; the trend
        test, not this margin, tells a rise from a wandering plateau).
    min_gap_growth : float
        Smallest relative growth of the validation/train ratio after the
        validation minimum that counts as a growing gap (default 0.25).
    growing_gap_severity : str
        Severity of a growing gap (default ``"info"``): the validation loss
        stayed within a few % of its minimum while the train loss kept falling
        (memorisation, often of a small data set). The validation loss did not
        get worse, so it is not overfitting; the note says that the epochs
        after the validation minimum were not needed.
    plateau_tolerance : float
        Relative distance from the smoothed validation minimum within which
        the validation loss counts as having reached it; the first such
        evaluation starts the flat bottom s* (default 0.02, an early-stopping
        ``min_delta`` of 2 %).
    min_gap : float
        Smallest relative excess of the validation loss over the held-out
        train loss (the first epoch's, or the untrained model's) that counts
        as a split mismatch (default 0.15; it must be exceeded
        significantly); a growing gap must end significantly above it too
        (healthy validation losses sit 0-15 % above train).
    warning_rise : float
        Smallest rise of the validation loss above its minimum for a warning
        (default 0.10); a significant rise between ``min_rise`` and this is
        ``info`` (significant but marginal: early stopping would act on it,
        the run is not unhealthy). 10 % is also the rule by which the
        real-training corpus labels a U-turn as overfitting (3-10 %: dropped
        as ambiguous).
    critical_rise : float
        U-turn rise from which the finding is critical (default 0.2).
    short_run_val_noise : float
        Relative sd of a validation loss between evaluations assumed on runs
        too short to estimate it (3-5 evaluations; default 0.05), and the
        floor of the validation noise in the split-mismatch test on fewer than
        8 evaluations. See ``docs/detectors/overfitting.rst`` for its
        measurement.
    critical_gap : float
        Held-out excess from which a split mismatch is critical (default 1.0:
        the validation loss is twice the held-out train loss).
    """

    min_evaluations: int = 6
    min_rise: float = 0.03
    min_gap_growth: float = 0.25
    growing_gap_severity: str = "info"
    plateau_tolerance: float = 0.02
    min_gap: float = 0.15
    warning_rise: float = 0.10
    critical_rise: float = 0.2
    short_run_val_noise: float = 0.05
    critical_gap: float = 1.0


@dataclass(frozen=True, slots=True)
class PeriodicConfig:
    """Thresholds of the periodic / step-like detector.

    Attributes
    ----------
    min_points : int
        Fewest points needed for spectral analysis (default 32).
    min_cycles : float
        Fewest full periods that must be seen (default 4: a pattern seen four
        times repeats three times; two or three epochs with a drop at each
        boundary -- multi-epoch memorisation -- show only one or two drops,
        which no test can tell from chance or from two LR decays; from four
        epochs on a staircase is reported as ``epoch_staircase``, info).
    min_variance_share : float
        Smallest share of the detrended log loss's variance carried by the
        periodic component (mean profile over one period, bias-corrected) that
        is worth reporting (default 0.05: data ordered by class leaves
        5-20 % in weak cases; smaller shares are significant only on very
        long runs and rarely matter). The same floor applies to the
        within-epoch shape that tells data order from a memorisation staircase
        and to the rest of a cycle without its top step (partial last batch).
    """

    min_points: int = 32
    min_cycles: float = 4.0
    min_variance_share: float = 0.05


_SECTIONS = {
    "nonconvergence": NonConvergenceConfig,
    "explosion": ExplosionConfig,
    "contradiction": ContradictionConfig,
    "overfitting": OverfittingConfig,
    "periodic": PeriodicConfig,
}


@dataclass(frozen=True, slots=True)
class Config:
    """Every threshold curvestat uses, with documented defaults.

    Attributes
    ----------
    alpha : float
        Significance level of each detector's test (default 0.01). Each
        detector is tested at ``alpha`` on its own; batch scoring controls the
        false-discovery rate across runs separately.
    max_points : int
        Series longer than this are aggregated into block means before tests
        whose cost grows faster than ``n log n`` (default 20,000).
    nonconvergence, explosion, contradiction, overfitting, periodic
        Per-detector sections; see their classes.
    """

    alpha: float = 0.01
    max_points: int = 20_000
    nonconvergence: NonConvergenceConfig = field(default_factory=NonConvergenceConfig)
    explosion: ExplosionConfig = field(default_factory=ExplosionConfig)
    contradiction: ContradictionConfig = field(default_factory=ContradictionConfig)
    overfitting: OverfittingConfig = field(default_factory=OverfittingConfig)
    periodic: PeriodicConfig = field(default_factory=PeriodicConfig)

    def __post_init__(self) -> None:
        if not (0.0 < float(self.alpha) < 1.0):
            raise ParameterError(f"Config.alpha must lie in (0, 1), got {self.alpha!r}")
        if int(self.max_points) < 100:
            raise ParameterError(f"Config.max_points must be at least 100, got {self.max_points!r}")

    def replace(self, **changes: Any) -> Config:
        """Return a copy with some fields changed.

        A section may be given as a mapping of its own fields to change, e.g.
        ``cfg.replace(explosion={"min_ratio": 3.0})``.

        Raises
        ------
        ParameterError
            If a field or section field does not exist.
        """
        resolved: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise ParameterError(f"Config has no field {key!r}; fields are {sorted(names)}")
            if key in _SECTIONS and isinstance(value, dict):
                section = getattr(self, key)
                try:
                    value = dataclasses.replace(section, **value)
                except TypeError as exc:
                    raise ParameterError(f"Config.{key}: {exc}") from None
            resolved[key] = value
        return dataclasses.replace(self, **resolved)

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a nested, JSON-serialisable dict."""
        return dataclasses.asdict(self)
