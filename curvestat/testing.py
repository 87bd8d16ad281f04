"""The contract suite every detector passes, ours or a user's.

:func:`check_detector` runs a detector on a fixed set of awkward runs (tiny,
constant, all-NaN loss, negative losses, no loss at all, sparse evaluation,
a long run) and checks what :func:`curvestat.analyze` and the benchmark rely
on. Use it in your own test suite::

    from curvestat.testing import check_detector

    def test_my_detector():
        check_detector(MyDetector())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .config import Config
from .detectors.pipeline import call_detector
from .errors import CurvestatError, InsufficientDataError
from .report import Finding, Skipped
from .run import Run

__all__ = ["check_detector", "contract_runs"]


def contract_runs(seed: int = 0) -> dict[str, Run]:
    """The awkward runs :func:`check_detector` feeds a detector, by name."""
    rng = np.random.default_rng(seed)
    n = 2000
    t = np.arange(n)
    healthy = (0.2 + 2.0 * np.exp(-t / 400)) * np.exp(0.05 * rng.standard_normal(n))
    ev = np.arange(99, n, 100)
    nan_tail = healthy.copy()
    nan_tail[1500:] = np.nan
    long_n = 50_000
    long_t = np.arange(long_n)
    return {
        "healthy": Run.from_dict(
            {
                "loss": healthy,
                "val_loss": (ev, healthy[ev] * 1.05),
                "val_accuracy": (ev, np.clip(0.95 - 0.4 * np.exp(-ev / 400), 0, 1)),
                "lr": np.full(n, 1e-3),
            },
            steps_per_epoch=200,
            run_id="healthy",
        ),
        "tiny": Run.from_dict({"loss": [1.0, 0.5, 0.25]}, run_id="tiny"),
        "constant": Run.from_dict({"loss": np.ones(200), "val_loss": (np.arange(9, 200, 10), np.ones(20))}, run_id="constant"),
        "nan_tail": Run.from_dict({"loss": nan_tail, "val_loss": (ev, nan_tail[ev])}, run_id="nan_tail"),
        "all_nan_loss": Run.from_dict({"loss": np.full(100, np.nan), "val_accuracy": np.linspace(0.1, 0.9, 100)}, run_id="all_nan_loss"),
        "negative": Run.from_dict({"loss": -1.0 - np.exp(-t / 300)}, run_id="negative"),
        "no_loss": Run.from_dict({"val_accuracy": np.linspace(0.1, 0.9, 50), "lr": np.full(50, 0.1)}, run_id="no_loss"),
        "sparse_steps": Run.from_dict({"loss": (t[::50] * 7, healthy[::50]), "val_loss": ([349, 7000], [2.0, 0.5])}, run_id="sparse_steps"),
        "long": Run.from_dict({"loss": 0.3 + np.exp(-long_t / 5000) + 0.01 * rng.standard_normal(long_n)}, run_id="long"),
    }


def _check_finding(f: Any, run: Run, name: str, where: str) -> None:
    if not isinstance(f, Finding):
        raise AssertionError(f"{where}: returned {type(f).__name__}, expected Finding")
    if f.p_value is not None and not (0.0 <= float(f.p_value) <= 1.0):
        raise AssertionError(f"{where}: p_value {f.p_value!r} outside [0, 1]")
    lo = min(int(s.steps[0]) for s in run)
    hi = max(int(s.steps[-1]) for s in run)
    if f.onset_step is not None and not (lo <= f.onset_step <= hi):
        raise AssertionError(f"{where}: onset_step {f.onset_step} outside the run's steps [{lo}, {hi}]")
    if f.period_steps is not None and not (np.isfinite(f.period_steps) and f.period_steps > 0):
        raise AssertionError(f"{where}: period_steps {f.period_steps!r} is not a positive number")
    names = set(run.names)
    if f.series and not set(f.series.split(",")) <= names:
        raise AssertionError(f"{where}: series {f.series!r} is not in the run ({sorted(names)})")
    if not f.message:
        raise AssertionError(f"{where}: empty message")
    if f.detector and f.detector != name:
        raise AssertionError(f"{where}: finding says detector {f.detector!r}, the detector is named {name!r}")


def check_detector(detector: Any, *, config: Config | None = None, runs: dict[str, Run] | None = None,
                   on_failure: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Check that ``detector`` honours the detector contract.

    Parameters
    ----------
    detector : object
        Anything with a ``name`` and ``detect(run, config)``.
    config : Config, optional
        Passed to ``detect`` (default ``Config()``).
    runs : dict of str to Run, optional
        Runs to test on (default :func:`contract_runs`).
    on_failure : callable, optional
        Called with each failure message instead of raising at the first.

    Returns
    -------
    dict
        ``{run name: list of findings or the Skipped}`` for inspection.

    Raises
    ------
    AssertionError
        At the first broken rule (unless ``on_failure`` is given): ``name``
        missing; ``detect`` raising anything but a ``CurvestatError`` (an
        ``InsufficientDataError`` is how a detector may say "too short");
        returning something other than a list of :class:`Finding` or a
        :class:`Skipped`; a finding with a p-value outside [0, 1], an onset
        outside the run's steps, a series not in the run, an empty message;
        a ``Skipped`` without a reason; different results on a second call.

    Examples
    --------
    >>> from curvestat.detectors import get_detector
    >>> sorted(check_detector(get_detector("explosion")))[:3]
    ['all_nan_loss', 'constant', 'healthy']
    """
    def fail(msg: str) -> None:
        if on_failure is None:
            raise AssertionError(msg)
        on_failure(msg)

    name = getattr(detector, "name", None)
    if not isinstance(name, str) or not name:
        fail(f"{detector!r} has no non-empty string attribute 'name'")
        name = str(name)
    if not callable(getattr(detector, "detect", None)):
        fail(f"{name}: no callable detect(run, config)")
        return {}
    cfg = config or Config()
    results: dict[str, Any] = {}
    for run_name, run in (runs or contract_runs()).items():
        where = f"{name} on run {run_name!r}"
        try:
            out = call_detector(detector, run, cfg)
        except InsufficientDataError as exc:
            results[run_name] = Skipped(name, str(exc))
            continue
        except CurvestatError as exc:
            fail(f"{where}: raised {type(exc).__name__} ({exc}); a detector returns Skipped(reason) instead")
            continue
        except Exception as exc:  # noqa: BLE001 - the point is to report it
            fail(f"{where}: raised {type(exc).__name__}: {exc}")
            continue
        if isinstance(out, Skipped):
            if not out.reason:
                fail(f"{where}: Skipped without a reason")
            results[run_name] = out
            continue
        if not isinstance(out, (list, tuple)):
            fail(f"{where}: returned {type(out).__name__}, expected a list of Finding or a Skipped")
            continue
        for f in out:
            try:
                _check_finding(f, run, name, where)
            except AssertionError as exc:
                fail(str(exc))
        again = call_detector(detector, run, cfg)
        if not isinstance(again, (list, tuple)) or [f.to_dict() for f in again] != [f.to_dict() for f in out]:
            fail(f"{where}: a second call on the same run gave a different result")
        results[run_name] = list(out)
    return results
