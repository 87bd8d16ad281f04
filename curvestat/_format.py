"""Numbers in words a person reads at a glance, shared by the detectors' messages and the report.

Private: the phrasing may change from release to release; the numbers
themselves live in each finding's ``effect``.
"""

from __future__ import annotations

import math
import re

__all__ = ["p_text", "ratio", "pct", "growth", "change", "in_epochs"]


def p_text(p: float | None) -> str:
    """``"p = 0.0031"``; ``"p < 1e-16"`` below double precision's resolution near 1; ``""`` for None/NaN.

    Examples
    --------
    >>> p_text(0.00312), p_text(2.5e-20), p_text(None)
    ('p = 0.0031', 'p < 1e-16', '')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "p < 1e-16" if p < 1e-16 else f"p = {p:.2g}"


def ratio(x: float) -> str:
    """A factor: ``"1.5x"``, ``"31x"``, ``"4200x"``, ``"3.1e+07x"``.

    Examples
    --------
    >>> ratio(1.53), ratio(31.76), ratio(4213.0), ratio(3.1e7), ratio(float("inf"))
    ('1.5x', '32x', '4200x', '3.1e+07x', 'an unbounded factor')
    """
    if not math.isfinite(x):
        return "an unbounded factor"
    if abs(x) < 10:
        return f"{x:.2g}x"
    if abs(x) < 1e6:
        return f"{float(f'{x:.2g}'):.0f}x"
    return f"{x:.2g}x"


def pct(x: float) -> str:
    """A share or relative change as a percentage: two significant digits, at least the units.

    Examples
    --------
    >>> pct(0.041), pct(0.502), pct(0.0004), pct(12.3)
    ('4.1 %', '50 %', '0.04 %', '1230 %')
    """
    v = 100.0 * x
    if not math.isfinite(v):
        return "an unbounded share"
    if abs(v) >= 10:
        return f"{v:.0f} %"
    return f"{v:.2g} %"


def growth(g: float) -> str:
    """A relative increase: ``"35 %"`` below a doubling, ``"12x"`` (the factor) from a doubling on.

    Examples
    --------
    >>> growth(0.35), growth(11.23)
    ('35 %', '12x')
    """
    return ratio(1.0 + g) if g >= 1.0 else pct(g)


def change(improvement: float) -> str:
    """``improvement = 1 - end / start`` of a loss, in words.

    Examples
    --------
    >>> change(0.842), change(-0.041), change(0.0)
    ('84 % lower at the end than at the start', '4.1 % higher at the end than at the start', 'the same at the end as at the start')
    """
    if improvement > 0:
        return f"{pct(improvement)} lower at the end than at the start"
    if improvement < 0:
        return f"{pct(-improvement)} higher at the end than at the start"
    return "the same at the end as at the start"


_STEP_WORD = re.compile(r"\b(S|s)tep(s?)\b")
# "every 5 steps (= 5 epochs)" / "(5.00 epochs)" say the same twice once steps are epochs
_EPOCH_ASIDE = re.compile(r" \((?:= )?[0-9.]+ epochs?\)")


def in_epochs(text: str) -> str:
    """Rewrite a message about steps for a log whose x-axis is the epoch.

    Examples
    --------
    >>> in_epochs("val_loss turned up after its minimum at step 12; stop early at step 12.")
    'val_loss turned up after its minimum at epoch 12; stop early at epoch 12.'
    >>> in_epochs("loss repeats every 4 steps (= 4 epochs), step-to-step noise")
    'loss repeats every 4 epochs, epoch-to-epoch noise'
    """
    out = _STEP_WORD.sub(lambda m: ("E" if m.group(1) == "S" else "e") + "poch" + m.group(2), text)
    return _EPOCH_ASIDE.sub("", out)
