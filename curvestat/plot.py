"""Annotated figures of a run and its findings (matplotlib, imported lazily).

People read loss curves with their eyes; a figure shows the curves the
detectors read and every finding where it happens:

* losses on top (log-y when they span more than a decade and a half), each
  raw and faint, with the debiased exponential moving average that
  TensorBoard draws (weight 0.6) bold on top; y-limits from robust quantiles,
  so that one spike does not flatten the rest;
* metrics in their own panel, the learning rate in a small panel at the
  bottom, all sharing the x axis; epoch boundaries as light lines when known;
* onsets and change points as dashed vertical lines (the ruptures
  convention), regions (overfitting after the early-stopping step with the
  gap shaded, a spike episode, a stuck metric) as translucent spans,
  non-finite values as markers on the top edge, a detected period as ticks,
  reference levels a finding names (a chance-level loss) as horizontal lines;
* a legend of the findings with their p-values; a healthy run says so in the
  title.

``matplotlib`` is an optional dependency (``pip install curvestat[plot]``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .errors import MissingDependencyError, ParameterError
from .report import Pathology, Report, Severity
from .run import Role, Run, Series

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot", "plot_report", "ema"]

#: TensorBoard's default smoothing weight.
EMA_WEIGHT = 0.6
#: One colour per pathology (colour-blind safe, Okabe-Ito).
PATHOLOGY_COLOURS = {
    Pathology.EXPLOSION: "#D55E00",
    Pathology.NON_CONVERGENCE: "#CC79A7",
    Pathology.METRIC_CONTRADICTION: "#E69F00",
    Pathology.OVERFITTING: "#0072B2",
    Pathology.PERIODIC: "#009E73",
}
_SERIES_COLOURS = ["#1f1f1f", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#999999"]
#: marker and line style of the 1st, 2nd, ... pass through the colours
_MARKERS = ["o", "s", "^", "D"]
_LINESTYLES = ["-", ":", "-."]  # never "--": dashed lines are onsets
#: effect keys that name a horizontal reference level of the finding's series
_LEVEL_KEYS = ("chance_level", "reference_level")
#: at most this many epoch lines (beyond, they are clutter)
_MAX_EPOCH_LINES = 60


def _pyplot() -> Any:
    try:
        import matplotlib

        if matplotlib.get_backend().lower() in {"", "agg"}:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised without matplotlib only
        raise MissingDependencyError("figures need matplotlib: pip install 'curvestat[plot]'") from exc
    return plt


def ema(values: np.ndarray, weight: float = EMA_WEIGHT) -> np.ndarray:
    """The debiased exponential moving average TensorBoard draws.

    ``s_t = w s_{t-1} + (1 - w) x_t`` from ``s_{-1} = 0``, divided by
    ``1 - w^(t+1)`` so that the start is not pulled towards zero. As in
    TensorBoard, a non-finite value stays a gap in the smoothed curve (the
    average carries on over it): a loss that went NaN is not drawn at its
    last finite level.

    Examples
    --------
    >>> ema(np.array([1.0, 1.0, 1.0])).tolist()
    [1.0, 1.0, 1.0]
    """
    if not 0.0 <= weight < 1.0:
        raise ParameterError(f"weight must lie in [0, 1), got {weight!r}")
    out = np.full(values.shape, np.nan)
    last, k = 0.0, 0
    for i, x in enumerate(values.tolist()):
        if math.isfinite(x):
            last = weight * last + (1.0 - weight) * x
            k += 1
            out[i] = last / (1.0 - weight**k)
    return out


def _robust_limits(values: list[np.ndarray], log: bool) -> tuple[float, float] | None:
    fin = [v[np.isfinite(v) & ((v > 0) if log else True)] for v in values]
    fin = [v for v in fin if v.size]
    if not fin:
        return None
    allv = np.concatenate(fin)
    lo, hi = np.quantile(allv, [0.005, 0.995]) if allv.size >= 50 else (allv.min(), allv.max())
    lo, hi = min(lo, float(np.min([np.median(v[-max(1, v.size // 10):]) for v in fin]))), max(hi, float(np.max([v[0] for v in fin])))
    if log:
        llo, lhi = math.log10(lo), math.log10(hi)
        pad = 0.06 * max(lhi - llo, 0.05)
        return 10 ** (llo - pad), 10 ** (lhi + pad)
    pad = 0.06 * max(hi - lo, 1e-12 * max(abs(hi), 1.0))
    return lo - pad, hi + pad


def _wants_log(series: list[Series]) -> bool:
    vals = np.concatenate([s.values[np.isfinite(s.values)] for s in series]) if series else np.array([])
    if vals.size and np.all(vals >= 0):
        # a non-negative loss logged as exactly 0 (rounded logs, a memorised
        # batch) is below the logging resolution, not a reason for a linear
        # scale that flattens everything under a spike to the axis
        vals = vals[vals > 0]
    if vals.size < 2 or np.any(vals <= 0):
        return False
    lo, hi = np.quantile(vals, [0.01, 0.99])
    return bool(hi / lo > 10**1.5)


def _draw_series(ax: Axes, series: list[Series], *, smooth: bool) -> dict[str, str]:
    colours: dict[str, str] = {}
    for i, s in enumerate(series):
        c = _SERIES_COLOURS[i % len(_SERIES_COLOURS)]
        # past the palette (ten per-class recalls), the marker and line style
        # tell the series apart in the legend
        cycle = i // len(_SERIES_COLOURS)
        marker, ls = _MARKERS[cycle % len(_MARKERS)], _LINESTYLES[cycle % len(_LINESTYLES)]
        colours[s.name] = c
        x, y = s.steps, s.values
        dense = smooth and s.n_finite > 30
        if dense:
            ax.plot(x, y, color=c, alpha=0.25, lw=0.8, ls=ls)
            ax.plot(x, ema(y), color=c, lw=1.8, ls=ls, label=s.name)
        else:
            ax.plot(x, y, color=c, lw=1.6, ls=ls, marker=marker if s.n_finite <= 60 else None, ms=3, label=s.name)
    return colours


def _mark_non_finite(ax: Axes, series: list[Series]) -> None:
    for s in series:
        bad = ~np.isfinite(s.values)
        if bad.any():
            xs = s.steps[bad]
            # on the top edge of the axes, whatever the data limits; a long
            # non-finite tail is one marker at its start, not a thick bar
            starts = xs[np.concatenate([[True], np.diff(np.flatnonzero(bad)) > 1])]
            ax.plot(starts[:50], np.ones(min(starts.size, 50)), transform=ax.get_xaxis_transform(), ls="none",
                    marker="x", ms=7, mew=2, color=PATHOLOGY_COLOURS[Pathology.EXPLOSION], clip_on=False,
                    label=f"non-finite {s.name} ({bad.sum()} points)")


def _panel_of(name: str, panels: dict[str, Axes], run: Run) -> Axes:
    for part in name.split(","):
        part = part.strip()
        if part in run:
            role = run[part].role
            if role is Role.METRIC and "metrics" in panels:
                return panels["metrics"]
            if role is Role.LR and "lr" in panels:
                return panels["lr"]
    return panels["loss"]


def _draw_finding(f: Any, panels: dict[str, Axes], run: Run, last_step: int) -> None:
    ax = _panel_of(f.series, panels, run)
    c = PATHOLOGY_COLOURS[f.pathology]
    faint = f.severity is Severity.INFO
    lw, alpha = (1.0, 0.5) if faint else (1.6, 0.9)
    if f.onset_step is not None:
        for a in {id(p): p for p in panels.values()}.values():
            a.axvline(f.onset_step, color=c, ls="--", lw=lw, alpha=alpha)
    eff = f.effect
    if f.pathology is Pathology.EXPLOSION and f.onset_step is not None and "recovery_step" in eff:
        ax.axvspan(f.onset_step, eff["recovery_step"], color=c, alpha=0.12)
    elif f.pathology is Pathology.OVERFITTING and f.onset_step is not None:
        ax.axvspan(f.onset_step, last_step, color=c, alpha=0.08)
        val = run[f.series.split(",")[0].strip()] if f.series.split(",")[0].strip() in run else None
        train = run.train_loss
        if val is not None and train is not None:
            from .run import align_to_steps

            after = val.steps >= f.onset_step
            if after.sum() >= 2:
                tr = align_to_steps(train.steps, train.values, val.steps)[after]
                ax.fill_between(val.steps[after], tr, val.values[after], color=c, alpha=0.18, lw=0)
    elif f.pathology is Pathology.NON_CONVERGENCE and "trend_start_step" in eff:
        # Sen's trend line, straight on the axis scale the detector judged
        # (log for a positive loss: geometric interpolation)
        xs = np.linspace(eff["trend_start_step"], eff["trend_end_step"], 50)
        a, b = eff["trend_start_level"], eff["trend_end_level"]
        u = (xs - xs[0]) / max(xs[-1] - xs[0], 1e-12)
        ys = a * (b / a) ** u if a > 0 and b > 0 else a + (b - a) * u
        ax.plot(xs, ys, color=c, ls="-.", lw=2.0, alpha=0.95, zorder=5, label="_sen_trend")
    elif f.pathology is Pathology.METRIC_CONTRADICTION:
        start = f.onset_step if f.onset_step is not None else 0
        ax.axvspan(start, last_step, color=c, alpha=0.08)
    if f.period_steps and f.period_steps > 0:
        start = f.onset_step if f.onset_step is not None else 0
        ticks = np.arange(start, last_step + 1, f.period_steps)
        if ticks.size <= 200:
            ax.plot(ticks, np.zeros(ticks.size), transform=ax.get_xaxis_transform(), ls="none", marker="|", ms=9,
                    color=c, clip_on=False)
    for key in _LEVEL_KEYS:
        level = eff.get(key)
        if level is not None and math.isfinite(level):
            ax.axhline(level, color=c, ls=":", lw=1.2, alpha=0.9)


def _legend_label(f: Any) -> str:
    from ._format import p_text

    p = p_text(f.p_value)
    return f"[{f.severity.value}] {f.pathology.value}/{f.kind} in {f.series}" + (f" ({p})" if p else "")


def _lighten_ticks(fig: Figure) -> None:
    """No minor ticks and plain-text log labels: tick objects and mathtext take most of a small figure's drawing time."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    for a in fig.axes:
        for axis in (a.xaxis, a.yaxis):
            axis.set_minor_locator(NullLocator())
        a.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        if a.get_yscale() == "log":
            a.yaxis.set_major_locator(LogLocator(numticks=4))
            a.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        else:
            a.yaxis.set_major_locator(MaxNLocator(nbins=3))
        a.tick_params(labelsize=7)


def plot_report(report: Report, run: Run, *, ax: Axes | None = None, thumbnail: bool = False) -> Figure:
    """Draw ``run`` with the findings of ``report``; return the Figure.

    Parameters
    ----------
    report : Report
        The diagnosis (from :func:`curvestat.analyze`).
    run : Run
        The run it diagnosed.
    ax : matplotlib Axes, optional
        Draw everything into this one axes (no metric and learning-rate
        panels); by default a new figure with one panel per kind of series.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    losses = [s for s in run if s.role in (Role.TRAIN_LOSS, Role.VAL_LOSS)] or [s for s in run if s.role is Role.OTHER][:3]
    metrics = run.metrics
    lr = run.lr
    panels: dict[str, Any] = {}
    if ax is not None:
        fig = cast("Figure", ax.figure)  # an Axes of a Figure (or SubFigure: drawn the same)
        panels = {"loss": ax}
    else:
        # a thumbnail leaves out the learning rate: one axes less is a quarter of its drawing time
        rows = [("loss", 3.0)] + ([("metrics", 1.6)] if metrics else []) + ([("lr", 0.9)] if lr is not None and not thumbnail else [])
        size = (6.4, 1.4 + 0.6 * sum(h for _, h in rows)) if thumbnail else (9, 2.0 + 1.2 * sum(h for _, h in rows))
        fig, axes = plt.subplots(len(rows), 1, sharex=True, figsize=size,
                                 gridspec_kw={"height_ratios": [h for _, h in rows]}, squeeze=False)
        panels = {name: a for (name, _), a in zip(rows, axes[:, 0])}
    main = panels["loss"]
    log = _wants_log(losses)
    _draw_series(main, losses, smooth=True)
    if log:
        main.set_yscale("log")
    lim = _robust_limits([s.values for s in losses], log)
    if lim is not None:
        main.set_ylim(*lim)
    main.set_ylabel("loss")
    _mark_non_finite(main, losses)
    if "metrics" in panels:
        _draw_series(panels["metrics"], metrics, smooth=True)
        panels["metrics"].set_ylabel("metric")
        if not thumbnail:
            panels["metrics"].legend(loc="best", fontsize=7, frameon=False)
    elif ax is not None and metrics:
        pass  # one axes: metrics would need a second y scale; the finding lines still mark them
    if "lr" in panels and lr is not None:
        panels["lr"].plot(lr.steps, lr.values, color="#777777", lw=1.2)
        panels["lr"].set_ylabel("lr")
        if _wants_log([lr]):
            panels["lr"].set_yscale("log")
    last_step = int(max(int(s.steps[-1]) for s in run))
    spe = run.steps_per_epoch
    if spe and spe > 1 and last_step // spe <= _MAX_EPOCH_LINES:  # spe == 1: the x-axis is the epoch
        for e in range(spe, last_step + 1, spe):
            for a in {id(p): p for p in panels.values()}.values():
                a.axvline(e, color="#bbbbbb", lw=0.5, alpha=0.6, zorder=0)
    for f in report.findings:
        _draw_finding(f, panels, run, last_step)
    handles, labels = main.get_legend_handles_labels()
    from matplotlib.lines import Line2D

    for f in report.findings:
        handles.append(Line2D([], [], color=PATHOLOGY_COLOURS[f.pathology], ls="--", alpha=0.5 if f.severity is Severity.INFO else 1.0))
        labels.append(_legend_label(f))
    if not thumbnail:
        main.legend(handles, labels, loc="best", fontsize=7, framealpha=0.8)
    bottom = list(panels.values())[-1]
    bottom.set_xlabel("epoch" if spe == 1 else "step")
    title = f"run {report.run_id}" if report.run_id and not thumbnail else "run"
    if report.healthy:
        notes = sum(f.severity is Severity.INFO for f in report.findings)
        verdict = "healthy" + (f" ({notes} note{'s' if notes != 1 else ''})" if notes else "") if report.detectors else "not judged"
        main.set_title(f"{title}: {verdict}", color="#117733" if report.detectors else "#555555", fontsize=10)
    else:
        names = ", ".join(p.value for p in report.pathologies)
        main.set_title(names if thumbnail else f"{title}: {names}", color=PATHOLOGY_COLOURS[report.pathologies[0]], fontsize=10)
    if thumbnail:
        _lighten_ticks(fig)
    if ax is None and thumbnail:
        fig.subplots_adjust(left=0.11, right=0.98, top=0.9, bottom=0.16, hspace=0.12)
    elif ax is None:
        fig.tight_layout()
    return fig


def plot(source: Any, *, ax: Axes | None = None, **analyze_kwargs: Any) -> Figure:
    """Analyse ``source`` and draw the annotated figure; return the Figure.

    Parameters
    ----------
    source : path, Run, mapping, array_like or pandas.DataFrame
        Anything :func:`curvestat.analyze` accepts.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    **analyze_kwargs
        Passed to :func:`curvestat.analyze` (``roles``, ``alpha``, ...).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, curvestat
    >>> loss = np.exp(-np.arange(300) / 60) + 0.1
    >>> fig = curvestat.plot({"loss": loss})
    >>> fig.axes[0].get_title()
    'run: healthy'
    """
    from .analyze import analyze
    from .io import read

    roles = analyze_kwargs.pop("roles", None)
    spe = analyze_kwargs.pop("steps_per_epoch", None)
    run = read(source, roles=roles, steps_per_epoch=spe)
    return plot_report(analyze(run, **analyze_kwargs), run, ax=ax)
