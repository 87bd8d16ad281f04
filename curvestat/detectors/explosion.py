"""Explosion: "my loss exploded" (non-finite values and upward level shifts).

H0: the loss stays finite and has no upward level shift in log scale.

This module holds the non-finite scan: the first NaN or +-Inf in a loss series
is an immediate, deterministic finding (``kind="non_finite"``) with its step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Config
from ..report import Finding, Pathology, Severity, Skipped
from ..run import Role, Run, Series

__all__ = ["ExplosionDetector", "detector", "REMEDIES_NON_FINITE"]

REMEDIES_NON_FINITE = (
    "Inspect the batches just before the onset step for NaNs, infinities and anomalous values in inputs and labels.",
    "Guard divisions and logarithms in the loss (log of zero or of a negative number, division by zero).",
    "Clip gradients and lower the learning rate if the loss grew before it became non-finite.",
    "Shuffle the data so that outliers are spread across batches.",
)


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


class ExplosionDetector:
    """Detect exploding losses.

    Attributes
    ----------
    name : str
        ``"explosion"``.
    """

    name = "explosion"

    def detect(self, run: Run, config: Config, **_: Any) -> Sequence[Finding] | Skipped:
        """Scan every loss series of ``run``; return findings or a Skipped."""
        losses = run.by_role(Role.TRAIN_LOSS) + run.by_role(Role.VAL_LOSS)
        if not losses:
            return Skipped(self.name, "no loss series (name one with roles={'name': 'train_loss'})")
        findings = []
        for s in losses:
            f = non_finite_finding(s, self.name)
            if f is not None:
                findings.append(f)
        return findings


detector = ExplosionDetector()
