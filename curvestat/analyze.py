"""The single entry point: :func:`analyze` reads a run and runs every detector on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .config import Config
from .detectors import Detector
from .detectors.pipeline import pathology_of, resolve_detectors, run_chain
from .errors import ParameterError
from .heads import head_run, heads
from .io import read
from .report import Pathology, Report
from .run import Role, Run

__all__ = ["analyze"]


def _resolve_config(config: Config | None, alpha: float | None) -> Config:
    if config is not None and not isinstance(config, Config):
        raise ParameterError(f"config must be a curvestat.Config, got {type(config).__name__}")
    cfg = config or Config()
    if alpha is not None:
        cfg = cfg.replace(alpha=float(alpha))
    return cfg


def analyze(
    source: Any,
    *,
    roles: Mapping[str, Role | str] | None = None,
    steps_per_epoch: int | None = None,
    alpha: float | None = None,
    config: Config | None = None,
    detectors: Iterable[str | Detector] | None = None,
) -> Report:
    """Diagnose one training run.

    Parameters
    ----------
    source : path, Run, mapping, array_like or pandas.DataFrame
        Anything :func:`curvestat.io.read` accepts: a CSV/JSONL/JSON log, a
        mapping ``{name: values}`` or ``{name: (steps, values)}``, a bare 1-D
        array (a train-loss curve), a DataFrame, or a :class:`Run`.
    roles : mapping of str to str, optional
        Roles for series whose names do not say what they are, e.g.
        ``{"objective": "train_loss", "holdout": "val_loss"}``.
    steps_per_epoch : int, optional
        Optimiser steps per epoch; inferred from the source when it logs both
        epoch and step.
    alpha : float, optional
        Significance level of each detector's test; defaults to
        ``config.alpha`` (0.01).
    config : Config, optional
        Thresholds; defaults to ``Config()``.
    detectors : iterable of str or Detector, optional
        Which detectors to run (names from
        :func:`curvestat.detectors.available_detectors`, or your own objects);
        all built-in ones by default.

    Returns
    -------
    Report
        Findings, skipped detectors with reasons, and ``healthy``.

    Raises
    ------
    CurvestatError
        On unreadable or invalid input (a subclass naming the problem).

    Examples
    --------
    >>> import numpy as np, curvestat
    >>> rng = np.random.default_rng(0)
    >>> loss = np.exp(-np.arange(300) / 60) + 0.01 * rng.standard_normal(300) + 0.1
    >>> report = curvestat.analyze({"loss": loss})
    >>> report.run_id is None
    True
    """
    cfg = _resolve_config(config, alpha)
    chosen = resolve_detectors(detectors)
    run = read(source, roles=roles, steps_per_epoch=steps_per_epoch)
    return run_detectors(run, cfg, chosen)


def run_detectors(run: Run, config: Config, detectors: Sequence[Detector]) -> Report:
    """Run ``detectors`` on an already-read ``run`` and collect a :class:`Report`.

    The detectors run in the order their requirements give
    (:func:`curvestat.detectors.pipeline.order_detectors`), whatever the
    order of ``detectors``.

    The detectors see the whole run (its primary train/validation pair).
    A run with further train/validation pairs (the heads of a multi-task
    model, several evaluation sets: :func:`curvestat.heads.heads`) is also
    diagnosed per further pair: a pair that shares the primary training loss
    is tested by the detectors of validation-loss pathologies (overfitting),
    with the primary pair's explosion evidence; a pair with a training loss
    of its own by every built-in detector but the metric-contradiction one,
    which already judges each metric against its own head's loss. User
    detectors that declare no ``pathology`` see the whole run only. Each pair
    is a test at level ``config.alpha`` of its own.
    """
    findings, skipped, ran, known = run_chain(run, config, detectors)
    found = {(f.pathology, f.kind, f.series, f.onset_step) for f in findings}
    extra = heads(run)[1:]
    if extra:
        declared = [(d, pathology_of(d)) for d in detectors]
        for head in extra:
            shared = run.train_loss is not None and head.train_loss is run.train_loss
            if shared:
                chosen = [d for d, p in declared if p is Pathology.OVERFITTING]
                names = {getattr(d, "name", None) for d in chosen}
                seed = {k: v for k, v in known.items() if k not in names}
            else:
                chosen = [d for d, p in declared if p is not None and p is not Pathology.METRIC_CONTRADICTION]
                seed = {}
            if not chosen:
                continue
            more, _, _, _ = run_chain(head_run(run, head), config, chosen, seed)
            for f in more:
                key = (f.pathology, f.kind, f.series, f.onset_step)
                if key not in found:
                    found.add(key)
                    findings.append(f)
    if run.steps_per_epoch == 1:
        # the readers' convention: the log's x-axis is the epoch (Keras CSVLogger
        # and History); the messages then say "epoch 12", not "step 12"
        from dataclasses import replace as _replace

        from ._format import in_epochs

        findings = [_replace(f, message=in_epochs(f.message)) for f in findings]
    series = {s.name: {"role": s.role.value, "n": len(s), "first_step": int(s.steps[0]), "last_step": int(s.steps[-1])} for s in run}
    # the series a detector of one role reads when several share it
    for s in (run.train_loss, run.val_loss, run.lr):
        if s is not None and sum(1 for t in run if t.role is s.role) > 1:
            series[s.name]["primary"] = True
    return Report(findings=findings, skipped=skipped, run_id=run.run_id, source=run.source, detectors=ran, series=series, run=run)
