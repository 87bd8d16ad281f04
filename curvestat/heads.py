"""Heads: the train/validation pairs of a run that are diagnosed separately.

A run may log more than one model output or evaluation set: a multi-task
model logs ``cls_loss``/``cls_val_loss`` beside ``reg_loss``/``reg_val_loss``;
the Hugging Face Trainer with several evaluation sets logs ``eval_g0_loss``
... ``eval_g5_loss`` against one training ``loss``. Each such pair is a
hypothesis of its own (one head may overfit while the other does not), so
:func:`heads` lists them and :func:`curvestat.analyze.run_detectors` runs the
detectors on each.

Pairs are matched by the task qualifier of their names (:func:`~curvestat.run.task_of`):
a validation loss is paired with the training loss of its own task, or, when
its task has no training loss (an evaluation set), with the run's training
loss of no task (or the primary one). Training losses without a validation
loss of their own task (loss *components* such as ``kl_loss`` or
``recon_loss``) are not heads: a component may rise by design (the KL term of
a VAE) and is judged only as part of the total.
"""

from __future__ import annotations

from dataclasses import dataclass

from .run import Role, Run, Series, densest, task_of

__all__ = ["Head", "heads", "head_run"]


@dataclass(frozen=True, slots=True)
class Head:
    """One train/validation pair of a run.

    Attributes
    ----------
    task : frozenset of str
        The task qualifier shared by the pair's names (empty for the main pair).
    train_loss : Series or None
        The training loss of the head.
    val_loss : Series or None
        The validation loss of the head.
    primary : bool
        True for the run's primary pair (``run.train_loss``, ``run.val_loss``),
        which the detectors see when they are given the whole run.
    """

    task: frozenset[str]
    train_loss: Series | None
    val_loss: Series | None
    primary: bool = False

    @property
    def label(self) -> str:
        """``"train_name / val_name"``, for messages."""
        tr = self.train_loss.name if self.train_loss is not None else "-"
        va = self.val_loss.name if self.val_loss is not None else "-"
        return f"{tr} / {va}"


def _by_task(series: list[Series]) -> dict[frozenset[str], list[Series]]:
    out: dict[frozenset[str], list[Series]] = {}
    for s in series:
        out.setdefault(task_of(s.name), []).append(s)
    return out


def heads(run: Run) -> list[Head]:
    """The train/validation pairs of ``run``, the primary pair first.

    Parameters
    ----------
    run : Run
        A run.

    Returns
    -------
    list of Head
        The primary pair (``run.train_loss``, ``run.val_loss``), then one head
        per further validation loss task, in logging order. A run with one
        validation loss (or none) has exactly one head.

    Examples
    --------
    >>> import numpy as np
    >>> from curvestat.run import Run
    >>> run = Run.from_dict({"cls_loss": np.ones(20), "cls_val_loss": ([9, 19], [1.0, 1.0]),
    ...                      "reg_loss": np.ones(20), "reg_val_loss": ([9, 19], [1.0, 1.0])})
    >>> [h.label for h in heads(run)]
    ['cls_loss / cls_val_loss', 'reg_loss / reg_val_loss']
    """
    train, val = run.train_loss, run.val_loss
    out = [Head(task_of(train.name) if train is not None else frozenset(), train, val, primary=True)]
    if val is None:
        return out
    trains = _by_task(run.by_role(Role.TRAIN_LOSS))
    fallback = densest(trains[frozenset()]) if frozenset() in trains else train
    seen = {(id(train), id(val))}
    for task, vals in _by_task(run.by_role(Role.VAL_LOSS)).items():
        v = densest(vals)
        t = densest(trains[task]) if task in trains else fallback
        key = (id(t), id(v))
        if key in seen or v is val:
            continue
        seen.add(key)
        out.append(Head(task, t, v))
    return out


def head_run(run: Run, head: Head) -> Run:
    """The sub-run a detector sees for ``head``: its losses, its learning rate, its metrics."""
    keep: list[Series] = [s for s in (head.train_loss, head.val_loss) if s is not None]
    lrs = run.by_role(Role.LR)
    own_lr = [s for s in lrs if task_of(s.name) == head.task]
    if own_lr or lrs:
        keep.append(densest(own_lr or lrs))
    keep += [s for s in run.metrics if task_of(s.name) == head.task]
    return Run(keep, steps_per_epoch=run.steps_per_epoch, run_id=run.run_id, source=run.source)
