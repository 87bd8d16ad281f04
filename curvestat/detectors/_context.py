"""What detectors read from the findings of detectors that ran before them."""

from __future__ import annotations

from typing import Any

from ..report import Severity


def explosion_onset(context: dict[str, Any] | None) -> int | None:
    """Earliest onset of a *sustained* explosion found earlier in this run, or None.

    Spikes recover and explained (info) jumps are not explosions of the run,
    so they do not cut it; a divergence or a non-finite loss does: the other
    detectors judge the run before it (one root cause, one finding).
    """
    if not context:
        return None
    onsets = [
        f.onset_step
        for f in context.get("explosion", ())
        if f.onset_step is not None and f.kind != "spike" and f.severity is not Severity.INFO
    ]
    return min(onsets) if onsets else None
