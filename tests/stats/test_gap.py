"""HAC mean test vs statsmodels; smoothing and helpers."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from numpy.testing import assert_allclose

from curvestat.errors import InsufficientDataError, ParameterError
from curvestat.stats import (
    block_means,
    diff_noise_scale,
    hac_end_level_test,
    hac_mean_test,
    mad_scale,
    robust_smooth,
    safe_log,
    smoothed_argmin,
)


def _ar1(seed, n, phi=0.5, mu=0.1):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return mu + x


@pytest.mark.parametrize("seed,n,maxlags", [(0, 10, 0), (1, 50, 3), (2, 200, None), (3, 1000, 12), (4, 30, 29), (5, 5000, None)])
@pytest.mark.parametrize("use_correction", [False, True])
def test_hac_vs_statsmodels(seed, n, maxlags, use_correction):
    import statsmodels.api as sm

    x = _ar1(seed, n)
    res = hac_mean_test(x, maxlags=maxlags, alternative="two-sided", use_correction=use_correction)
    lags = res.maxlags
    if maxlags is None:
        assert lags == int(np.floor(4 * (n / 100) ** (2 / 9)))  # statsmodels S_hac_simple rule
    fit = sm.OLS(x, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": use_correction})  # statsmodels 0.15
    assert_allclose([res.se, res.statistic, res.pvalue], [fit.bse[0], fit.tvalues[0], fit.pvalues[0]], rtol=1e-9)
    if n <= 200:
        factor = math.sqrt(n / (n - 1)) if use_correction else 1.0
        assert_allclose(res.se, naive.hac_se(x, lags) * factor, rtol=1e-10)


def test_hac_statsmodels_defaults_are_ours():
    import statsmodels.api as sm

    x = _ar1(7, 120)
    fit = sm.OLS(x, np.ones(120)).fit(cov_type="HAC", cov_kwds={"maxlags": 4})
    res = hac_mean_test(x, maxlags=4, alternative="two-sided")
    assert fit.use_t is False  # statsmodels' default: normal p-values
    assert_allclose(res.pvalue, fit.pvalues[0], rtol=1e-9)


def test_hac_alternatives_and_edges():
    x = _ar1(8, 80, mu=0.3)
    two = hac_mean_test(x, alternative="two-sided")
    g = hac_mean_test(x)  # default 'greater'
    l = hac_mean_test(x, alternative="less")
    assert_allclose(g.pvalue + l.pvalue, 1.0)
    assert_allclose(two.pvalue, 2 * min(g.pvalue, l.pvalue))
    assert_allclose(hac_mean_test(x, mu0=0.3, maxlags=2).statistic, (x.mean() - 0.3) / hac_mean_test(x, maxlags=2).se)
    c = hac_mean_test(np.full(10, 2.0), mu0=2.0, alternative="two-sided")
    assert (c.statistic, c.pvalue) == (0.0, 1.0)
    assert hac_mean_test(np.full(10, 2.0)).pvalue == 0.0
    with pytest.raises(InsufficientDataError):
        hac_mean_test([1.0])
    with pytest.raises(ParameterError):
        hac_mean_test([1.0, np.nan, 2.0])
    with pytest.raises(ParameterError):
        hac_mean_test(x, maxlags=-1)
    with pytest.raises(ParameterError):
        hac_mean_test(x, alternative="bigger")


def test_hac_calibration_under_ar1():
    # size of the one-sided 5% test on AR(1) phi=0.5 noise around 0, n = 300
    rng = np.random.default_rng(0)
    reject = 0
    reps = 400
    for _ in range(reps):
        e = rng.normal(size=300)
        x = np.empty(300)
        x[0] = e[0]
        for i in range(1, 300):
            x[i] = 0.5 * x[i - 1] + e[i]
        reject += hac_mean_test(x, maxlags=10).pvalue < 0.05
    assert reject / reps < 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps) + 0.02


@pytest.mark.parametrize("seed,n,maxlags", [(0, 3, None), (1, 6, None), (2, 12, 2), (3, 60, None), (4, 400, 9), (5, 30, 29)])
@pytest.mark.parametrize("use_correction", [False, True])
def test_end_level_vs_statsmodels(seed, n, maxlags, use_correction):
    import statsmodels.api as sm

    x = _ar1(seed, n) + 0.01 * np.arange(n)
    res = hac_end_level_test(x, mu0=0.2, maxlags=maxlags, alternative="two-sided", use_correction=use_correction)
    if maxlags is None:
        assert res.maxlags == min(n - 1, int(np.floor(4 * (n / 100) ** (2 / 9))))
    design = np.column_stack([np.ones(n), np.arange(n) - (n - 1.0)])
    # statsmodels 0.15: the intercept of a line through the last point is its end level
    fit = sm.OLS(x - 0.2, design).fit(cov_type="HAC", cov_kwds={"maxlags": res.maxlags, "use_correction": use_correction})
    assert_allclose([res.level - 0.2, res.slope, res.se, res.statistic, res.pvalue],
                    [fit.params[0], fit.params[1], fit.bse[0], fit.tvalues[0], fit.pvalues[0]], rtol=1e-9, atol=1e-14)


def test_end_level_sees_a_widening_gap_the_mean_misses():
    # a gap that opens from zero to 0.4 over 8 evaluations: its mean is half its
    # end level and its trend inflates the HAC variance of the mean
    gap = np.linspace(0.0, 0.4, 8) + np.random.default_rng(0).normal(0, 0.03, 8)
    assert hac_end_level_test(gap).pvalue < 0.001
    assert hac_mean_test(gap).pvalue > hac_end_level_test(gap).pvalue
    # a gap that closes towards zero ends near zero
    assert hac_end_level_test(gap[::-1] - 0.4).pvalue > 0.5
    g, l = hac_end_level_test(gap), hac_end_level_test(gap, alternative="less")
    assert_allclose(g.pvalue + l.pvalue, 1.0)
    line = hac_end_level_test(np.arange(5.0))
    assert line.level == pytest.approx(4.0) and line.slope == pytest.approx(1.0) and line.pvalue == 0.0
    with pytest.raises(InsufficientDataError):
        hac_end_level_test([1.0, 2.0])
    with pytest.raises(ParameterError):
        hac_end_level_test([1.0, np.inf, 2.0])
    with pytest.raises(ParameterError):
        hac_end_level_test(gap, alternative="up")


def test_end_level_calibration_under_ar1():
    # size of the one-sided 5 % test of level <= 0 on trending AR(1) noise that ends at 0
    rng = np.random.default_rng(1)
    reps, n, reject = 400, 200, 0
    for _ in range(reps):
        e = rng.normal(size=n)
        x = np.empty(n)
        x[0] = e[0]
        for i in range(1, n):
            x[i] = 0.5 * x[i - 1] + e[i]
        reject += hac_end_level_test(x + 0.01 * (np.arange(n) - (n - 1)), maxlags=10).pvalue < 0.05
    assert reject / reps < 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps) + 0.03


def test_robust_smooth_and_argmin():
    from scipy.ndimage import median_filter

    rng = np.random.default_rng(1)
    v = (np.arange(60.0) - 40) ** 2 / 400 + 1 + rng.normal(0, 0.05, 60)
    v[10] = -5.0  # glitch
    sm = robust_smooth(v, 5)
    med = median_filter(v, 5, mode="nearest")
    expected = np.convolve(np.r_[med[0], med, med[-1]], np.ones(3) / 3, mode="valid")
    assert_allclose(sm, expected, rtol=1e-12)
    res = smoothed_argmin(v, 5)
    assert abs(res.index - 40) <= 5 and res.value == sm[res.index]
    with pytest.raises(ParameterError):
        robust_smooth(v, 4)
    with pytest.raises(ParameterError):
        robust_smooth(v, 0)


def test_block_means_rule():
    x = np.arange(10.0)
    b = block_means(x, 3)  # b = ceil(10/3) = 4 -> blocks [0:4], [4:10] (2 trailing points merged)
    assert b.block_size == 4
    assert_allclose(b.means, [1.5, 6.5])
    assert b.starts.tolist() == [0, 4]
    same = block_means(x, 10)
    assert same.block_size == 1
    assert_allclose(same.means, x)
    big = block_means(np.arange(100_001.0), 1000)
    assert big.block_size == 101 and big.means.shape == (990,)
    assert_allclose(big.means[-1], np.arange(100_001.0)[989 * 101 :].mean())
    with pytest.raises(ParameterError):
        block_means(x, 0)
    with pytest.raises(InsufficientDataError):
        block_means([], 3)


def test_scales_and_safe_log():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 3, 20_000)
    assert abs(mad_scale(x) - 3) < 0.1
    steps = np.repeat([0.0, 10.0, -5.0], 1000) + rng.normal(0, 0.5, 3000)
    assert abs(diff_noise_scale(steps) - 0.5) < 0.03  # level shifts barely matter
    assert abs(diff_noise_scale(np.arange(1000.0) * 0.1 + rng.normal(0, 0.5, 1000)) - 0.5) < 0.05  # drift absorbed
    assert mad_scale([1.0, np.nan, 3.0]) == mad_scale([1.0, 3.0])
    assert_allclose(safe_log([1.0, math.e, np.nan, np.inf]), [0.0, 1.0, np.nan, np.inf])
    with pytest.raises(ParameterError, match="<= 0"):
        safe_log([1.0, 0.0])
    with pytest.raises(ParameterError):
        safe_log([1.0, -2.0])
    assert_allclose(safe_log([0.0, -1.0, 4.0], floor=1e-8), [math.log(1e-8), math.log(1e-8), math.log(4.0)])
    with pytest.raises(ParameterError):
        safe_log([1.0], floor=0.0)


# --- fixed-b reference distribution ---------------------------------------------------------------

# Kiefer & Vogelsang (2005), Bartlett kernel: critical values of the fixed-b
# limit of the HAC t-statistic of a mean, cv(b) = z + c1 b + c2 b^2 + c3 b^3
_KV_BARTLETT = {
    0.95: (1.6449, 2.1859, 0.3142, -0.3427),
    0.975: (1.9600, 2.9694, 0.4160, -0.5324),
    0.99: (2.3263, 4.1618, 0.5368, -0.9010),
}


@pytest.mark.parametrize("level", sorted(_KV_BARTLETT))
@pytest.mark.parametrize("b", [0.04, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
def test_fixed_b_table_matches_kiefer_vogelsang(level, b):
    from curvestat.stats.gap import _FIXED_B_END_LEVEL, _FIXED_B_MEAN, _fixed_b_pvalue

    z, c1, c2, c3 = _KV_BARTLETT[level]
    cv = z + c1 * b + c2 * b**2 + c3 * b**3
    # the simulated table's tail probability at Kiefer-Vogelsang's critical value
    p = _fixed_b_pvalue(cv, b, _FIXED_B_MEAN, "greater")
    assert p == pytest.approx(1 - level, rel=0.12), (b, level, p)


def test_fixed_b_pvalue_shape():
    from curvestat.stats.gap import _FIXED_B_END_LEVEL, _FIXED_B_MEAN, _fixed_b_pvalue

    xs = np.linspace(0.0, 12.0, 200)
    for table in (_FIXED_B_MEAN, _FIXED_B_END_LEVEL):
        ps = [_fixed_b_pvalue(x, 0.2, table, "greater") for x in xs]
        assert ps[0] == pytest.approx(0.5) and np.all(np.diff(ps) < 0) and ps[-1] > 0
        assert _fixed_b_pvalue(-2.0, 0.2, table, "greater") == pytest.approx(1 - _fixed_b_pvalue(2.0, 0.2, table, "greater"))
        assert _fixed_b_pvalue(-2.0, 0.2, table, "less") == pytest.approx(_fixed_b_pvalue(2.0, 0.2, table, "greater"))
        assert _fixed_b_pvalue(2.0, 0.2, table, "two-sided") == pytest.approx(2 * _fixed_b_pvalue(2.0, 0.2, table, "greater"))
        assert _fixed_b_pvalue(math.inf, 0.2, table, "greater") == 0.0
    # the end level's statistic has heavier tails than the mean's at the same b
    assert _fixed_b_pvalue(3.0, 0.3, _FIXED_B_END_LEVEL, "greater") > _fixed_b_pvalue(3.0, 0.3, _FIXED_B_MEAN, "greater")
    # wider bandwidths have heavier tails; b = (L + 1) / n beyond the grid is clipped
    assert _fixed_b_pvalue(3.0, 0.5, _FIXED_B_MEAN, "greater") > _fixed_b_pvalue(3.0, 0.1, _FIXED_B_MEAN, "greater")
    assert _fixed_b_pvalue(3.0, 0.001, _FIXED_B_MEAN, "greater") == _fixed_b_pvalue(3.0, 0.02, _FIXED_B_MEAN, "greater")


@pytest.mark.parametrize("func", [hac_mean_test, hac_end_level_test])
def test_fixed_b_keeps_the_level_on_short_iid_series(func):
    # at nominal 1 % on 12 iid points: the normal reference rejects 4-8 %
    rng = np.random.default_rng(2)
    trend = 0.3 * (np.arange(12) - 11.0)
    rej = {"fixed": 0, "normal": 0}
    for _ in range(3000):
        x = rng.standard_normal(12) + (trend if func is hac_end_level_test else 0.0)
        rej["fixed"] += func(x, fixed_b=True, use_correction=True).pvalue <= 0.01
        rej["normal"] += func(x).pvalue <= 0.01
    # binomial sd at 1 % over 3,000 draws: 0.18 %
    assert rej["fixed"] / 3000 <= 0.017
    assert rej["normal"] / 3000 >= 0.03
    r = func(rng.standard_normal(12), fixed_b=True)
    assert r.fixed_b and not r.use_t


def test_fast_median_equals_numpy():
    from curvestat.stats import median1d

    rng = np.random.default_rng(0)
    for n in range(1, 40):
        for x in (rng.standard_normal(n), rng.integers(0, 3, n).astype(float)):
            assert median1d(x) == np.median(x)
    assert math.isnan(median1d(np.array([])))
