"""acf / Ljung-Box vs statsmodels and Stata; periodogram vs scipy; Fisher's g."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from numpy.testing import assert_allclose

from curvestat.errors import InsufficientDataError, ParameterError
from curvestat.stats import acf, fisher_g, fisher_g_pvalue, ljung_box, periodogram


def _ar1(seed, n, phi=0.6):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


@pytest.mark.parametrize("seed,n,nlags", [(0, 5, 4), (1, 50, 10), (2, 101, 40), (3, 2000, 100)])
def test_acf_vs_statsmodels_and_naive(seed, n, nlags):
    from statsmodels.tsa.stattools import acf as sm_acf

    x = np.round(_ar1(seed, n), 1)  # with ties
    ours = acf(x, nlags)
    assert_allclose(ours, sm_acf(x, nlags=nlags, fft=True), rtol=1e-10, atol=1e-12)  # statsmodels 0.15
    assert_allclose(ours, sm_acf(x, nlags=nlags, fft=False), rtol=1e-10, atol=1e-12)
    if n <= 200:
        assert_allclose(ours, naive.acf(x, nlags), rtol=1e-10, atol=1e-12)


def test_acf_default_nlags_and_errors():
    from statsmodels.tsa.stattools import acf as sm_acf

    x = _ar1(4, 300)
    assert_allclose(acf(x), sm_acf(x, fft=True), rtol=1e-10, atol=1e-12)
    assert_allclose(acf(np.ones(5), 2), [1.0, 0.0, 0.0])  # documented rule for c0 = 0
    with pytest.raises(ParameterError):
        acf([1.0, np.nan, 2.0], 1)
    with pytest.raises(ParameterError):
        acf([1.0, 2.0, 3.0], 3)
    with pytest.raises(InsufficientDataError):
        acf([1.0], 0)


def _stata():
    pytest.importorskip("pandas")
    import pandas as pd

    return pd


def test_acf_and_ljung_box_vs_stata_corrgram(peer_refs):
    pd = _stata()
    base = peer_refs / "statsmodels_corrgram"
    x = pd.read_csv(base / "macrodata_realgdp.csv")["realgdp"].to_numpy()
    ref = pd.read_csv(base / "results_corrgram.csv")  # Stata corrgram/ac, via statsmodels' test-suite
    assert_allclose(acf(x, 40)[1:], ref["acvar"].to_numpy(), atol=1e-8)
    lb = ljung_box(x, lags=40)
    assert_allclose(lb.statistic_by_lag, ref["Q1"].to_numpy(), atol=1e-3, rtol=0)


@pytest.mark.parametrize("seed,n,lags,model_df", [(0, 30, 5, 0), (1, 200, 10, 0), (2, 200, 10, 2), (3, 1000, 20, 1), (4, 12, 11, 0)])
def test_ljung_box_vs_statsmodels(seed, n, lags, model_df):
    from statsmodels.stats.diagnostic import acorr_ljungbox

    x = _ar1(seed, n, phi=0.2 * seed)
    ref = acorr_ljungbox(x, lags=lags, model_df=model_df)  # statsmodels 0.15 acorr_ljungbox
    res = ljung_box(x, lags, model_df=model_df)
    assert_allclose(res.statistic_by_lag, ref["lb_stat"].to_numpy(), rtol=1e-10)
    assert_allclose(res.pvalue_by_lag, ref["lb_pvalue"].to_numpy(), rtol=1e-8, atol=1e-15, equal_nan=True)
    assert res.df == lags - model_df
    assert_allclose(res.statistic, naive.ljung_box_q(x, lags), rtol=1e-10)


def test_ljung_box_errors():
    with pytest.raises(ParameterError):
        ljung_box(np.arange(10.0), 3, model_df=3)
    with pytest.raises(InsufficientDataError):
        ljung_box(np.arange(5.0), 5)
    with pytest.raises(ParameterError):
        ljung_box(np.arange(10.0), 0)


@pytest.mark.parametrize("n", [2, 3, 8, 31, 64, 255, 4096])
@pytest.mark.parametrize("detrend", ["constant", "linear", "none"])
@pytest.mark.parametrize("scaling", ["density", "spectrum"])
def test_periodogram_vs_scipy(n, detrend, scaling):
    from scipy.signal import periodogram as sp_periodogram

    x = _ar1(n, n) + 0.01 * np.arange(n)
    fs = 2.5
    f_ref, p_ref = sp_periodogram(x, fs=fs, window="boxcar", detrend=False if detrend == "none" else detrend, scaling=scaling)
    res = periodogram(x, fs=fs, detrend=detrend, scaling=scaling)
    assert_allclose(res.freqs, f_ref, rtol=1e-12)
    assert_allclose(res.power, p_ref, rtol=1e-9, atol=1e-12 * (p_ref.max() + x.var()))


def test_periodogram_vs_naive_dft():
    x = _ar1(9, 41)
    assert_allclose(periodogram(x).power, naive.periodogram_density(x), rtol=1e-9, atol=1e-12)
    with pytest.raises(ParameterError):
        periodogram(x, detrend="quadratic")
    with pytest.raises(ParameterError):
        periodogram(x, scaling="log")
    with pytest.raises(ParameterError):
        periodogram(x, fs=0)


@pytest.mark.parametrize(
    "g,m",
    [(0.5, 5), (0.3, 10), (0.2, 20), (0.08, 50), (0.05, 100), (0.9, 3), (0.02, 400), (0.25, 4),
     (0.0083, 500), (0.0139, 300), (0.03, 200)],  # the last three: p ~ 1, terms up to ~1e3 cancel
)
def test_fisher_g_pvalue_vs_exact_rational_series(g, m):
    assert_allclose(fisher_g_pvalue(g, m), naive.fisher_g_pvalue(g, m), rtol=1e-9, atol=1e-11)


def test_fisher_g_pvalue_below_its_minimum():
    # g < 1/m cannot occur (the largest ordinate is at least the mean); the
    # Python-loop version raised OverflowError there (math.exp of a huge term)
    for g, m in [(1e-5, 5000), (2e-6, 500_000), (0.5 / 300, 300)]:
        assert fisher_g_pvalue(g, m) == 1.0


@pytest.mark.parametrize("m,g05", [(5, 0.68377), (10, 0.44495), (20, 0.27040)])
def test_fisher_g_table_values(m, g05):
    # 5% critical values of Fisher (1929), Table reproduced in Wichert et al. (2004)
    assert_allclose(fisher_g_pvalue(g05, m), 0.05, atol=2e-4)


def test_fisher_g_pvalue_by_monte_carlo():
    # independent check: under Gaussian white noise the m Fourier ordinates are
    # iid exponential; simulate g directly and through fisher_g on series
    rng = np.random.default_rng(2024)
    m = 15
    e = rng.exponential(size=(200_000, m))
    g = e.max(axis=1) / e.sum(axis=1)
    for q in (0.2, 0.25, 0.3, 0.4):
        emp = (g > q).mean()
        se = math.sqrt(emp * (1 - emp) / g.shape[0])
        assert abs(fisher_g_pvalue(q, m) - emp) < 4 * se + 1e-4
    # series of length 31 -> m = 15 ordinates; p-values uniform under H0
    rng = np.random.default_rng(1)
    ps = np.array([fisher_g(rng.normal(size=31)).pvalue for _ in range(3000)])
    for a in (0.05, 0.1, 0.5):
        assert abs((ps <= a).mean() - a) < 4 * math.sqrt(a * (1 - a) / 3000)


def test_fisher_g_detects_period_and_edge_cases():
    rng = np.random.default_rng(0)
    n = 240
    x = 0.8 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(size=n)
    res = fisher_g(x)
    assert res.period == 24.0 and res.peak_index == 10 and res.pvalue < 1e-8
    assert res.m == (n - 1) // 2
    from_power = fisher_g(power=periodogram(x).power)
    assert_allclose(from_power.statistic, res.statistic, rtol=1e-12)
    assert fisher_g(np.ones(20)).pvalue == 1.0
    assert fisher_g_pvalue(1e-6, 50) == 1.0
    assert 0.0 <= fisher_g_pvalue(0.001, 5000) <= 1.0
    with pytest.raises(ParameterError):
        fisher_g()
    with pytest.raises(ParameterError):
        fisher_g(x, power=x)
    with pytest.raises(InsufficientDataError):
        fisher_g(np.arange(4.0))
