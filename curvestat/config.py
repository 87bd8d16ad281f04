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
        Fewest finite train-loss points needed to test for a trend (default 8).
    min_improvement : float
        Smallest relative improvement ``1 - median(last 10%) / median(first 10%)``
        that counts as having trained (default 0.05: a 5 % drop).
    bouncing_ratio : float
        Robust noise scale divided by the total decrease above which the curve
        is called *bouncing* (default 0.5).
    edge_fraction : float
        Share of the run used for the "first" and "last" medians (default 0.1).
    """

    min_points: int = 8
    min_improvement: float = 0.05
    bouncing_ratio: float = 0.5
    edge_fraction: float = 0.1


@dataclass(frozen=True, slots=True)
class ExplosionConfig:
    """Thresholds of the explosion detector.

    Attributes
    ----------
    min_points : int
        Fewest finite points needed for change-point detection (default 10).
    min_ratio : float
        Smallest ``exp(mean_after - mean_before)`` of log loss that counts as
        an explosion (default 2.0: the loss at least doubles).
    recovery_fraction : float
        A jump that returns below ``before * min_ratio ** recovery_fraction``
        is a *spike* (default 0.5).
    recovery_window : int
        Longest excursion, in points, still called a spike (default 50).
    """

    min_points: int = 10
    min_ratio: float = 2.0
    recovery_fraction: float = 0.5
    recovery_window: int = 50


@dataclass(frozen=True, slots=True)
class ContradictionConfig:
    """Thresholds of the metric-contradiction detector.

    Attributes
    ----------
    min_points : int
        Fewest points of a metric series needed to judge it (default 5).
    min_degenerate_fraction : float
        Shortest stuck window, as a share of the metric's points, reported as
        degenerate (default 0.5).
    perfect_loss : float
        A loss below this with a metric stuck at its best value is a converged
        model, not a contradiction (default 1e-3).
    """

    min_points: int = 5
    min_degenerate_fraction: float = 0.5
    perfect_loss: float = 1e-3


@dataclass(frozen=True, slots=True)
class OverfittingConfig:
    """Thresholds of the overfitting detector.

    Attributes
    ----------
    min_evaluations : int
        Fewest validation points needed (default 6).
    min_rise : float
        Smallest relative rise of validation loss above its smoothed minimum
        that counts as a U-turn (default 0.05).
    min_gap : float
        Smallest relative gap ``(val - train) / train`` that counts as a
        split mismatch (default 0.2).
    """

    min_evaluations: int = 6
    min_rise: float = 0.05
    min_gap: float = 0.2


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
        which no test can tell from chance or from two LR decays).
    min_variance_share : float
        Smallest share of the detrended log loss's variance carried by the
        periodic component (mean profile over one period, bias-corrected) that
        is worth reporting (default 0.05: data ordered by class leaves
        5-20 % in weak cases; smaller shares are significant only on very
        long runs and rarely matter).
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

    def replace(self, **changes: Any) -> "Config":
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
