"""Property tests (hypothesis) of the detectors: invariances a diagnosis must have.

* **loss scale**: multiplying every loss by a positive constant (a sum instead
  of a mean reduction, another unit) gives the same kinds of findings. Runs
  whose loss has a known chance level (a cross-entropy's ``ln K``, a
  standardised MSE's 1) before or after scaling are left out: that level is
  absolute by design (non-convergence at chance).
* **step units**: logging every 10th micro-step (steps x 10, steps per epoch x
  10) gives the same kinds, with onsets and periods x 10.
* **detector order**: the order of ``detectors=`` never changes the report.
* **healthy history**: prepending a healthy warm-up (the loss falling into
  the run's first value) to a run with no finding creates none.

Runs come from the synthetic corpus (``curvestat.bench.synthetic_run``), whose
index hypothesis draws, so a failure names a reproducible run.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import curvestat
from curvestat.bench import synthetic_run
from curvestat.detectors import available_detectors
from curvestat.report import Severity
from curvestat.run import Role, Run, Series

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: short runs keep the suite fast; the seed is not the benchmark's
runs = st.integers(0, 10_000).map(lambda i: synthetic_run(i, seed=11, max_points=2000, long_fraction=0.0).run)


def _kinds(report) -> list[tuple[str, str, str]]:
    """(detector, kind, severity) of the warnings and critical findings, sorted."""
    return sorted((f.detector, f.kind, str(f.severity)) for f in report.findings if f.severity is not Severity.INFO)


def _rebuild(run: Run, fn) -> Run:
    series = [fn(s) for s in run.series]
    return Run(series, steps_per_epoch=run.steps_per_epoch, run_id=run.run_id)


def _near_chance(run: Run) -> bool:
    """The non-convergence detector knows an absolute chance level of a loss (ln K, or 1 for a standardised MSE)."""
    from curvestat.config import Config
    from curvestat.detectors.nonconvergence import _chance_level

    frac = Config().nonconvergence.start_fraction
    for s in run.by_role(Role.TRAIN_LOSS) + run.by_role(Role.VAL_LOSS):
        v = s.values[np.isfinite(s.values)]
        if v.size >= 3 and _chance_level(run, s.name, v, frac) is not None:
            return True
    return False


@SETTINGS
@given(run=runs, factor=st.sampled_from([0.01, 0.2, 7.0, 300.0]))
def test_loss_scale_gives_the_same_kinds(run, factor):
    assume(not _near_chance(run))

    def scale(s: Series) -> Series:
        if s.role in (Role.TRAIN_LOSS, Role.VAL_LOSS):
            return Series(s.name, s.steps, s.values * factor, s.role)
        return s

    scaled = _rebuild(run, scale)
    assume(not _near_chance(scaled))
    assert _kinds(curvestat.analyze(scaled)) == _kinds(curvestat.analyze(run))


@SETTINGS
@given(run=runs)
def test_step_units_scale_onsets_and_periods(run):
    base = curvestat.analyze(run)
    ten = Run(
        [Series(s.name, s.steps * 10, s.values, s.role) for s in run.series],
        steps_per_epoch=None if run.steps_per_epoch is None else 10 * run.steps_per_epoch,
        run_id=run.run_id,
    )
    rep = curvestat.analyze(ten)
    assert _kinds(rep) == _kinds(base)
    key = lambda f: (f.detector, f.kind, f.series)
    for f, g in zip(sorted(base.findings, key=key), sorted(rep.findings, key=key)):
        if f.onset_step is not None:
            assert g.onset_step == 10 * f.onset_step
        if f.period_steps is not None:
            assert g.period_steps == pytest.approx(10 * f.period_steps, rel=1e-9)


PERMUTATIONS = list(itertools.permutations(available_detectors()))


@SETTINGS
@given(run=runs, perm=st.sampled_from(PERMUTATIONS))
def test_detector_order_does_not_change_the_report(run, perm):
    base = curvestat.analyze(run)
    rep = curvestat.analyze(run, detectors=list(perm))
    as_set = lambda r: sorted(
        (f.detector, f.kind, f.series, str(f.severity), f.onset_step, f.p_value, f.message) for f in r.findings
    )
    assert as_set(rep) == as_set(base)


@SETTINGS
@given(run=runs, warm=st.floats(0.05, 0.3), lift=st.floats(0.1, 1.0), seed=st.integers(0, 2**31 - 1))
def test_a_healthy_warm_up_creates_no_finding(run, warm, lift, seed):
    base = curvestat.analyze(run)
    assume(not _kinds(base))
    rng = np.random.default_rng(seed)
    primary = run.train_loss or run.val_loss
    assume(primary is not None and primary.n_finite >= 20)
    span = int(primary.steps[-1] - primary.steps[0])
    w = max(1, int(warm * span))  # steps of warm-up before the first step

    def prepend(s: Series) -> Series:
        steps = s.steps - s.steps[0]
        if s.steps.size < 2 or s.role not in (Role.TRAIN_LOSS, Role.VAL_LOSS, Role.LR):
            # metrics are first evaluated after the warm-up: a metric held
            # at its first value while the loss falls 10-170 % would be the
            # contradiction picture itself, not a healthy warm-up
            return Series(s.name, steps + w, s.values, s.role)
        dt = max(1, int(np.median(np.diff(s.steps))))
        pre = np.arange(0, w, dt)
        first = s.values[np.isfinite(s.values)][:3]
        v0 = float(np.median(first)) if first.size else 1.0
        frac = 1.0 - pre / w  # 1 at the start of the warm-up, -> 0 at the run's start
        if s.role in (Role.TRAIN_LOSS, Role.VAL_LOSS) and v0 > 0:
            # the loss falls smoothly into its first value, with the run's own relative noise
            rel = np.diff(np.log(np.maximum(s.values[np.isfinite(s.values)][:50], 1e-12)))
            sd = float(np.median(np.abs(rel - np.median(rel)))) * 1.4826 / np.sqrt(2) if rel.size > 2 else 0.0
            vals = v0 * np.exp(lift * frac**2 + sd * rng.standard_normal(pre.size))
        else:
            vals = np.full(pre.size, v0)  # the lr holds its first value
        return Series(s.name, np.r_[pre, steps + w], np.r_[vals, s.values], s.role)

    longer = _rebuild(run, prepend)
    assert _kinds(curvestat.analyze(longer)) == []
