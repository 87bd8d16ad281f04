"""Figures: every bundled example renders with its findings drawn where they happen."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import curvestat  # noqa: E402
from curvestat.cli import main  # noqa: E402
from curvestat.examples import EXAMPLES, example_path  # noqa: E402
from curvestat.plot import ema  # noqa: E402


def _legend_texts(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def _dashed_x(ax):
    return sorted({round(float(line.get_xdata()[0])) for line in ax.get_lines() if line.get_linestyle() == "--"})


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_renders_its_findings(name):
    report = curvestat.analyze(example_path(name))
    fig = report.plot()
    try:
        texts = _legend_texts(fig)
        for f in report.findings:
            assert any(f"{f.pathology.value}/{f.kind} in {f.series}" in t for t in texts)
            if f.p_value is not None:
                assert any("p " in t for t in texts)
        onsets = sorted({f.onset_step for f in report.findings if f.onset_step is not None})
        assert _dashed_x(fig.axes[0]) == onsets
        title = fig.axes[0].get_title()
        assert ("healthy" in title) == report.healthy
    finally:
        plt.close(fig)


def test_explosion_marks_non_finite_values_and_uses_a_log_scale():
    report = curvestat.analyze(example_path("explosion"))
    fig = report.plot()
    try:
        ax = fig.axes[0]
        assert ax.get_yscale() == "log"
        markers = [line for line in ax.get_lines() if line.get_marker() == "x"]
        assert markers and any("non-finite" in t for t in _legend_texts(fig))
    finally:
        plt.close(fig)


def test_overfitting_shades_the_gap_after_the_early_stopping_step():
    report = curvestat.analyze(example_path("overfitting"))
    finding = next(f for f in report.findings if f.pathology.value == "overfitting")
    fig = report.plot()
    try:
        ax = fig.axes[0]
        spans = [p for p in ax.patches]  # axvspan
        fills = [c for c in ax.collections]  # fill_between of the gap
        assert spans and fills
        x0 = min(float(v[0]) for p in spans for v in [p.get_xy()])
        assert x0 == pytest.approx(finding.onset_step)
    finally:
        plt.close(fig)


def test_non_convergence_draws_sens_trend_line_through_the_loss():
    report = curvestat.analyze(example_path("non_convergence"))
    finding = next(f for f in report.findings if f.pathology.value == "non_convergence")
    eff = finding.effect
    fig = report.plot()
    try:
        (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "_sen_trend"]
        x, y = line.get_xdata(), line.get_ydata()
        assert x[0] == pytest.approx(eff["trend_start_step"]) and x[-1] == pytest.approx(eff["trend_end_step"])
        assert y[0] == pytest.approx(eff["trend_start_level"]) and y[-1] == pytest.approx(eff["trend_end_level"])
        # the line runs through the curve, not beside it: its ends lie within
        # the loss's own start and end levels' scatter
        series = report.run[finding.series] if report.run is not None else None
        lo, hi = np.nanpercentile(series.values, [5, 95])
        assert lo <= y[0] <= hi and lo <= y[-1] <= hi
    finally:
        plt.close(fig)


def test_a_healthy_run_says_so_and_has_no_finding_lines():
    rng = np.random.default_rng(0)
    loss = 0.2 + np.exp(-np.arange(500) / 80) * np.exp(0.02 * rng.standard_normal(500))
    fig = curvestat.plot({"loss": loss})
    try:
        assert fig.axes[0].get_title() == "run: healthy"
        assert _dashed_x(fig.axes[0]) == []
    finally:
        plt.close(fig)


def test_plot_into_a_given_axes():
    fig, ax = plt.subplots()
    try:
        out = curvestat.analyze(example_path("periodic")).plot(ax=ax)
        assert out is fig and len(fig.axes) == 1
    finally:
        plt.close(fig)


def test_ema_is_tensorboards_debiased_average():
    x = np.array([1.0, 2.0, np.nan, 4.0])
    w = 0.6
    s1 = (1 - w) * 1.0
    s2 = w * s1 + (1 - w) * 2.0
    s4 = w * s2 + (1 - w) * 4.0
    # TensorBoard: a non-finite value is a gap; the average carries on over it
    np.testing.assert_allclose(ema(x, w), [s1 / (1 - w), s2 / (1 - w**2), np.nan, s4 / (1 - w**3)])


def test_a_loss_that_went_nan_is_not_drawn_at_its_last_level():
    report = curvestat.analyze(example_path("explosion"))
    nan_from = next(f.onset_step for f in report.findings if f.kind == "non_finite")
    fig = report.plot()
    try:
        smooth = [line for line in fig.axes[0].get_lines() if line.get_label() == "train_loss"][0]
        x, y = np.asarray(smooth.get_xdata(), float), np.asarray(smooth.get_ydata(), float)
        assert np.isfinite(y[x < nan_from]).all() and not np.isfinite(y[x >= nan_from]).any()
    finally:
        plt.close(fig)


def test_report_without_its_run_cannot_plot():
    report = curvestat.Report()
    with pytest.raises(curvestat.CurvestatError):
        report.plot()


def test_cli_writes_figures(tmp_path):
    out = tmp_path / "fig.svg"
    assert main(["plot", str(example_path("explosion")), "-o", str(out)]) == 1
    assert out.read_text().lstrip().startswith("<?xml")
    many = tmp_path / "all.png"
    main(["analyze", "--examples", "--plot", str(many)])
    assert sorted(p.name for p in tmp_path.glob("all-*.png")) == sorted(f"all-{n}.png" for n in EXAMPLES)
    assert main(["plot", str(example_path("healthy")), "-o", str(tmp_path / "no_such_dir" / "f.png")]) == 2


def test_a_loss_logged_as_exact_zeros_still_gets_a_log_scale():
    # rounded logs write a memorised loss as 0.0; a spike to 1e3 on a loss of
    # 0.05 must not be drawn on a linear scale that hides the run before it
    rng = np.random.default_rng(1)
    loss = 0.05 * np.exp(0.1 * rng.standard_normal(800))
    loss[::7] = 0.0
    loss[400:420] = 1e3
    fig = curvestat.plot({"loss": loss})
    try:
        ax = fig.axes[0]
        assert ax.get_yscale() == "log"
        lo, hi = ax.get_ylim()
        assert 0 < lo < 0.05 < 1e3 <= hi * 1.01
    finally:
        plt.close(fig)


def test_series_beyond_the_palette_stay_distinguishable():
    ev = np.arange(9, 600, 10)
    data = {"loss": 0.1 + np.exp(-np.arange(600) / 150), "val_loss": (ev, 0.15 + np.exp(-ev / 150))}
    for k in range(11):
        data[f"val_recall_class{k}"] = (ev, np.full(ev.size, 0.0) if k > 7 else 1 - np.exp(-ev / (50 * (k + 1))))
    fig = curvestat.plot(data)
    try:
        metrics = fig.axes[1]
        styles = [(line.get_color(), line.get_marker(), str(line.get_linestyle())) for line in metrics.get_lines()
                  if not line.get_label().startswith("_")]
        assert len(styles) == 11 and len(set(styles)) == 11
    finally:
        plt.close(fig)
