"""Names of logged series: what a name says a series measures (its role) and how to read it.

Names are normalised to lower-case tokens split on every non-alphanumeric
character, so "train/loss", "train_loss", "Train-Loss" and "train.loss" agree.
"""

from __future__ import annotations

import functools
import re
from enum import Enum

__all__ = ["Role", "infer_role", "metric_direction", "task_of", "is_axis_name", "name_tokens"]


class Role(str, Enum):
    """What a series measures, as far as the detectors care."""

    TRAIN_LOSS = "train_loss"
    VAL_LOSS = "val_loss"
    METRIC = "metric"
    LR = "lr"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


# --- role inference -------------------------------------------------------------

# Names are normalised to lower-case tokens split on every non-alphanumeric
# character, so "train/loss", "train_loss", "Train-Loss" and "train.loss" agree.
_EVAL_TOKENS = frozenset({"val", "valid", "validation", "eval", "evaluation", "test", "dev", "holdout"})
_TRAIN_TOKENS = frozenset({"train", "training", "trn"})
_LOSS_TOKENS = frozenset({"loss", "nll", "xent", "crossentropy", "ce"})
_LR_TOKENS = frozenset({"lr", "learningrate"})
# Higher-is-better metrics (thresholded or not).
_METRIC_UP = frozenset(
    {
        "acc", "accuracy", "recall", "precision", "f1", "fscore", "f1score", "auc", "auroc",
        "rocauc", "roc", "ap", "map", "iou", "miou", "dice", "bleu", "rouge", "rouge1",
        "rouge2", "rougel", "sensitivity", "specificity", "tpr", "tnr", "mcc", "matthews", "kappa",
        "top1", "top5", "exactmatch", "em", "r2", "jaccard", "bacc", "balancedaccuracy",
    }
)
# Lower-is-better metrics that are not the training objective.
_METRIC_DOWN = frozenset({"mae", "mse", "rmse", "wer", "cer", "ppl", "perplexity", "error", "err", "fpr", "fnr", "mape"})
_NOT_SERIES = frozenset({"step", "steps", "epoch", "epochs", "globalstep", "iteration", "iter", "time", "timestamp", "walltime", "runtime"})


@functools.lru_cache(maxsize=4096)
def name_tokens(name: str) -> tuple[str, ...]:
    # cached: the detectors ask about the same few names of every run many
    # times (role, direction, task), and a regex split costs microseconds
    # split camelCase too ("valLoss" -> "val", "loss")
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    toks = [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]
    # glue common two-token spellings so the sets above stay small
    joined: list[str] = []
    i = 0
    while i < len(toks):
        pair = toks[i] + toks[i + 1] if i + 1 < len(toks) else None
        if pair in {"learningrate", "crossentropy", "rocauc", "f1score", "exactmatch", "globalstep", "balancedaccuracy", "walltime", "fscore"}:
            joined.append(pair)
            i += 2
        else:
            joined.append(toks[i])
            i += 1
    return tuple(joined)


def infer_role(name: str) -> Role:
    """Guess the role of a series from its name.

    Parameters
    ----------
    name : str
        Series name as logged, e.g. ``"train/loss"``, ``"val_loss"``,
        ``"eval_accuracy"``, ``"lr-Adam"``.

    Returns
    -------
    Role
        ``VAL_LOSS`` for a loss whose name carries an evaluation token
        (``val``, ``valid``, ``eval``, ``test``, ``dev``, ...), ``TRAIN_LOSS``
        for any other loss, ``LR`` for learning rates, ``METRIC`` for
        accuracy-like and error-like metrics, ``OTHER`` otherwise.

    Examples
    --------
    >>> [infer_role(n).value for n in ["loss", "valid/loss", "val_acc", "learning_rate", "grad_norm"]]
    ['train_loss', 'val_loss', 'metric', 'lr', 'other']
    """
    toks = name_tokens(name)
    if not toks:
        return Role.OTHER
    tokset = set(toks)
    if tokset & _LR_TOKENS:
        return Role.LR
    if tokset & _LOSS_TOKENS:
        return Role.VAL_LOSS if tokset & _EVAL_TOKENS else Role.TRAIN_LOSS
    if tokset & (_METRIC_UP | _METRIC_DOWN):
        return Role.METRIC
    # Bare split names: Keras logs e.g. "val" rarely, but "test" alone is no metric.
    return Role.OTHER


def metric_direction(name: str) -> int:
    """Return +1 if a larger value of metric ``name`` is better, -1 if smaller is, 0 if unknown.

    Examples
    --------
    >>> metric_direction("val_recall"), metric_direction("eval_wer"), metric_direction("grad_norm")
    (1, -1, 0)
    """
    tokset = set(name_tokens(name))
    if tokset & _METRIC_UP:
        return 1
    if tokset & (_METRIC_DOWN | _LOSS_TOKENS):
        return -1
    return 0


#: words that qualify a series without naming a task
_GENERIC_TOKENS = frozenset({"avg", "mean", "epoch", "step", "total", "batch", "overall", "running", "smooth", "ema"})
_NOT_TASK = _EVAL_TOKENS | _TRAIN_TOKENS | _LOSS_TOKENS | _LR_TOKENS | _METRIC_UP | _METRIC_DOWN | _GENERIC_TOKENS


def task_of(name: str) -> frozenset[str]:
    """The task qualifier of a series name: what is left after the split, loss and metric words.

    Multi-task runs log one loss and one set of metrics per head; a metric is
    judged against the loss of its own head.

    Examples
    --------
    >>> sorted(task_of("cls_val_accuracy")), sorted(task_of("train_domain_loss")), sorted(task_of("val_acc"))
    (['cls'], ['domain'], [])
    """
    return frozenset(t for t in name_tokens(name) if t not in _NOT_TASK and not t.isdigit())


def is_axis_name(name: str) -> bool:
    """True for column names that index time (``step``, ``epoch``, ``global_step``, ...)."""
    return "".join(name_tokens(name)) in _NOT_SERIES
