"""Mann-Kendall and Sen's slope against naive twins, pymannkendall and scipy."""

from __future__ import annotations

import json
import warnings

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from curvestat.errors import InsufficientDataError, ParameterError
from curvestat.kernels.trend import count_inversions, average_ranks, count_order_ties, enumerate_slopes, select_inversions
from curvestat.stats import mann_kendall, sens_slope
from curvestat.stats.sen import _sen_exact, _sen_select

pymk = pytest.importorskip("pymannkendall")


def _series(seed: int, n: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "ties":  # heavy ties: values on a coarse grid
        return np.round(rng.normal(size=n) * 2) / 2
    if kind == "trend":
        return 0.01 * np.arange(n) + rng.normal(size=n)
    if kind == "ar1":
        e = rng.normal(size=n)
        x = np.empty(n)
        x[0] = e[0]
        for i in range(1, n):
            x[i] = 0.7 * x[i - 1] + e[i]
        return x
    return rng.normal(size=n)


CASES = [(seed, n, kind) for seed, n in enumerate([3, 4, 5, 7, 16, 17, 33, 100, 257]) for kind in ("ties", "trend", "ar1", "iid")]


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("seed,n,kind", CASES[::3])
def test_count_inversions_vs_naive(seed, n, kind):
    x = _series(seed, n, kind)
    x[::2][x[::2] == 0.0] = -0.0  # signed zeros tie
    # any argsort will do: quicksort, stable, and stable on the reversed array
    orders = [np.argsort(x), np.argsort(x, kind="stable"), (n - 1) - np.argsort(x[::-1], kind="stable")]
    for order in orders:
        assert count_inversions(x, order) == naive.count_inversions(x)
    rng = np.random.default_rng(seed)
    shuffled = np.argsort(x + 0.0)  # ties in a random order:
    for lo in range(n):
        same = shuffled[np.flatnonzero(x[shuffled] == x[shuffled[lo]])]
        if lo == np.flatnonzero(x[shuffled] == x[shuffled[lo]])[0]:
            shuffled[lo : lo + same.size] = rng.permutation(same)
    for order in orders + [shuffled]:
        perm = np.empty(n, dtype=np.int64)
        le, ties = count_order_ties(x, order, perm)
        assert le == naive.count_inversions(x)
        _, counts = np.unique(x, return_counts=True)
        assert ties == int((counts * (counts - 1) // 2).sum())
        # sorted ascending, ties by descending position
        assert np.all(np.diff(x[perm]) >= 0)
        for a, b in zip(perm[:-1], perm[1:]):
            if x[a] == x[b]:
                assert a > b


@pytest.mark.parametrize("kind", ["ties", "iid", "near", "zeros"])
@pytest.mark.parametrize("n", [1, 2, 3, 17, 2_500, 70_000])
def test_argsort_by_packed_keys(kind, n):
    from curvestat.kernels.trend import order_from_keys, pack_keys
    from curvestat.stats.trend import _argsort

    rng = np.random.default_rng(n)
    x = rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, n) if kind == "iid" else _series(n, n, "ties")
    if kind == "near":  # values closer than the truncated key resolution collide
        x = 1.0 + rng.normal(size=n) * 1e-13
        x[::3] = -1.0 - rng.normal(size=x[::3].shape) * 1e-14
    if kind == "zeros":
        x = rng.choice([-0.0, 0.0, 5e-324, -5e-324, 1.0, -1.0], n)
    shift = max((n - 1).bit_length(), 1)
    keys = np.empty(n, dtype=np.uint64)
    pack_keys(x, shift, keys)
    keys.sort()
    order = np.empty(n, dtype=np.int64)
    order_from_keys(keys, x, shift, order)
    for o in (order, _argsort(x)):
        assert np.array_equal(np.sort(o), np.arange(n))  # a permutation
        assert np.array_equal(x[o], np.sort(x))  # that sorts x


def test_select_inversions_enumerates_every_inversion():
    for kind in ("ties", "iid"):
        x = _series(3, 60, kind)
        k = int(count_inversions(x, np.argsort(x)))
        ids = np.arange(100, 160, dtype=np.int64)
        expected = [(100 + p, 100 + q) for p in range(60) for q in range(p + 1, 60) if x[p] >= x[q]]
        assert k == len(expected)
        a = np.empty(k, dtype=np.int64)
        b = np.empty(k, dtype=np.int64)
        got = select_inversions(x, np.argsort(x), ids, np.arange(k, dtype=np.int64), a, b)
        assert got == k
        assert sorted(zip(a.tolist(), b.tolist())) == expected  # each inversion exactly once
        # a sorted sample of ordinals (with repeats) picks the same pairs
        ranks = np.sort(np.random.default_rng(0).integers(0, k, 50))
        a2 = np.empty(50, dtype=np.int64)
        b2 = np.empty(50, dtype=np.int64)
        assert select_inversions(x, np.argsort(x), ids, ranks, a2, b2) == 50
        assert_allclose(a2, a[ranks])
        assert_allclose(b2, b[ranks])

@pytest.mark.parametrize("seed,n,kind", CASES[::2])
def test_average_ranks_vs_scipy_rankdata(seed, n, kind):
    from scipy.stats import rankdata

    x = _series(seed, n, kind)
    x[::3][x[::3] == 0.0] = -0.0
    for order in (np.argsort(x), (n - 1) - np.argsort(x[::-1], kind="stable")):
        assert_allclose(average_ranks(x, order), rankdata(x), rtol=0, atol=0)  # scipy 1.x rankdata 'average'
    assert_allclose(average_ranks(x, np.argsort(x)), naive.average_ranks(x), rtol=0, atol=0)


def test_enumerate_slopes_lists_the_bracket():
    # y^hi in the order of y^lo: its inversions are the slopes in (lo, hi]
    rng = np.random.default_rng(5)
    for kind in ("ties", "iid", "trend"):
        x = _series(7, 80, kind)
        t = np.cumsum(rng.integers(1, 4, 80)).astype(float)
        slopes = np.asarray(naive.pairwise_slopes(x, t))
        # bracket ends midway between neighbouring distinct slopes: a slope
        # exactly at an end is in or out by the rounding of x - lo * t, which
        # the kernel and the naive twin need not share (a quantile often is a slope)
        u = np.unique(slopes)
        lo, hi = ((u[i - 1] + u[i]) / 2 for i in (int(0.4 * u.size), int(0.6 * u.size)))
        order = (79 - np.argsort((x - lo * t)[::-1], kind="stable"))
        out = np.empty(slopes.size)
        got = enumerate_slopes((x - hi * t)[order], order, x, t, out)
        expected = np.sort(slopes[(slopes > lo) & (slopes <= hi)])
        assert got == expected.size
        assert_allclose(np.sort(out[:got]), expected, rtol=0, atol=0)
        assert enumerate_slopes((x - hi * t)[order], order, x, t, np.empty(got - 1)) == -1


# --------------------------------------------------------- Mann-Kendall
@pytest.mark.parametrize("seed,n,kind", CASES)
def test_mann_kendall_vs_naive_and_pymannkendall(seed, n, kind):
    x = _series(seed, n, kind)
    res = mann_kendall(x)
    assert res.statistic == naive.mk_score(x)
    assert_allclose(res.var_s, naive.mk_var_s(x), rtol=1e-12)
    ref = pymk.original_test(x)  # pymannkendall 1.4.3 original_test
    assert res.statistic == ref.s
    assert_allclose([res.var_s, res.z, res.tau], [ref.var_s, ref.z, ref.Tau], rtol=1e-12, atol=1e-14)
    assert_allclose(res.pvalue, ref.p, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("correction,peer", [("hamed_rao", "hamed_rao_modification_test"), ("yue_wang", "yue_wang_modification_test")])
@pytest.mark.parametrize("seed,n,kind", CASES)
def test_corrected_mann_kendall_vs_pymannkendall(correction, peer, seed, n, kind):
    x = _series(seed, n, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pymannkendall divides 0/0 on constant detrended data
        ref = getattr(pymk, peer)(x)  # pymannkendall 1.4.3
    res = mann_kendall(x, correction=correction)
    assert res.statistic == ref.s
    if not np.isfinite(ref.var_s) or ref.var_s <= 0:
        # pymannkendall yields NaN (constant detrended series) or a negative
        # variance; we document falling back to the uncorrected variance
        assert res.variance_factor == 1.0 and 0.0 <= res.pvalue <= 1.0
        return
    assert_allclose([res.var_s, res.z], [ref.var_s, ref.z], rtol=1e-9)
    assert_allclose(res.pvalue, ref.p, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("lag", [1, 3])
def test_corrected_mann_kendall_lag_option(lag):
    x = _series(11, 120, "ar1")
    for correction, peer in [("hamed_rao", pymk.hamed_rao_modification_test), ("yue_wang", pymk.yue_wang_modification_test)]:
        ref = peer(x, lag=lag)
        res = mann_kendall(x, correction=correction, lag=lag)
        assert_allclose([res.var_s, res.z, res.pvalue], [ref.var_s, ref.z, ref.p], rtol=1e-9)


def test_mann_kendall_large_n_against_naive():
    x = _series(5, 5000, "ties")
    res = mann_kendall(x, correction="hamed_rao")
    assert res.statistic == naive.mk_score(x)
    ref = pymk.hamed_rao_modification_test(x)  # pymannkendall 1.4.3 (O(n^2), ~2 s)
    assert_allclose([res.var_s, res.pvalue], [ref.var_s, ref.p], rtol=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_mann_kendall_s_vs_scipy_kendalltau(seed):
    from scipy.stats import kendalltau

    x = _series(seed, 80 + seed, "ties")
    n = x.shape[0]
    tau_b = kendalltau(np.arange(n), x).statistic  # scipy.stats.kendalltau (tau-b)
    _, counts = np.unique(x, return_counts=True)
    n0 = n * (n - 1) / 2
    ties = (counts * (counts - 1) / 2).sum()
    # tau_b = S / sqrt((n0 - ties_t)(n0 - ties_x)); the time index has no ties
    assert_allclose(mann_kendall(x).statistic, tau_b * np.sqrt(n0 * (n0 - ties)), rtol=1e-10)


def test_mann_kendall_pymannkendall_published_values(peer_refs):
    ref = json.loads((peer_refs / "pymannkendall_expected.json").read_text())
    x = np.array([np.nan if v is None else v for v in ref["arbitrary_1d_data"]])
    exp = ref["expected"]
    cases = {
        "test_original_test": {},
        "test_hamed_rao_modification_test": {"correction": "hamed_rao"},
        "test_hamed_rao_modification_test_lag3": {"correction": "hamed_rao", "lag": 3},
        "test_yue_wang_modification_test": {"correction": "yue_wang"},
        "test_yue_wang_modification_test_lag1": {"correction": "yue_wang", "lag": 1},
    }
    for key, kwargs in cases.items():
        a = exp[key]["asserts"]  # pymannkendall's own test-suite (checked against R modifiedmk)
        res = mann_kendall(x, **kwargs)
        assert res.n == 353
        assert res.statistic == a["s"]["value"]
        assert_allclose(res.tau, a["Tau"]["value"], rtol=1e-12)
        assert_allclose([res.var_s, res.z, res.pvalue], [a["var_s"]["value"], a["z"]["value"], a["p"]["value"]], rtol=1e-10)
    s = sens_slope(x)
    assert_allclose([s.slope, s.intercept], [exp["test_sens_slope"]["asserts"]["slope"]["value"], exp["test_sens_slope"]["asserts"]["intercept"]["value"]], rtol=1e-12)


def test_mann_kendall_alternatives():
    x = _series(1, 60, "trend")
    two = mann_kendall(x)
    inc = mann_kendall(x, alternative="increasing")
    assert mann_kendall(x, alternative="greater") == inc
    dec = mann_kendall(x, alternative="decreasing")
    assert dec == mann_kendall(x, alternative="less")
    assert_allclose(inc.pvalue + dec.pvalue, 1.0, rtol=1e-12)
    assert_allclose(two.pvalue, 2 * min(inc.pvalue, dec.pvalue), rtol=1e-12)
    assert inc.alternative == "greater"


def test_mann_kendall_edge_cases():
    res = mann_kendall(np.full(10, 3.0))
    assert (res.statistic, res.var_s, res.z, res.pvalue) == (0.0, 0.0, 0.0, 1.0)
    for corr in ("hamed_rao", "yue_wang"):
        assert mann_kendall(np.full(10, 3.0), correction=corr).pvalue == 1.0
    x = np.array([1.0, np.nan, 2.0, 3.0, np.nan, 5.0])
    assert mann_kendall(x) == mann_kendall(x[~np.isnan(x)])
    with pytest.raises(InsufficientDataError):
        mann_kendall([1.0, 2.0])
    with pytest.raises(InsufficientDataError):
        mann_kendall([1.0, np.nan, 2.0, np.nan])
    with pytest.raises(ParameterError):
        mann_kendall([1.0, 2.0, np.inf, 3.0])
    with pytest.raises(ParameterError):
        mann_kendall([1.0, 2.0, 3.0], alternative="up")
    with pytest.raises(ParameterError):
        mann_kendall([1.0, 2.0, 3.0], correction="bonferroni")
    with pytest.raises(ParameterError):
        mann_kendall([1.0, 2.0, 3.0], lag=2)
    with pytest.raises(ParameterError):
        mann_kendall(np.ones((3, 3)))


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_mann_kendall_exact_vs_enumerated_permutations(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        x = rng.standard_normal(n) + 0.3 * np.arange(n)
        res = mann_kendall(x, alternative="increasing", method="exact")
        assert res.method == "exact"
        assert_allclose(res.pvalue, naive.mk_exact_pvalue_greater(x), rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_mann_kendall_exact_vs_scipy_kendalltau(seed):
    from scipy import stats

    rng = np.random.default_rng(seed)
    for n in (3, 9, 10, 25, 60):
        x = rng.standard_normal(n) + rng.uniform(-0.1, 0.1) * np.arange(n)
        for alt, peer in (("increasing", "greater"), ("decreasing", "less"), ("two-sided", "two-sided")):
            res = mann_kendall(x, alternative=alt, method="exact")
            ref = stats.kendalltau(np.arange(n), x, method="exact", alternative=peer)  # scipy's exact null of tau
            assert_allclose(res.pvalue, ref.pvalue, rtol=1e-12)
            assert res.statistic == mann_kendall(x, alternative=alt).statistic


def test_mann_kendall_exact_short_series_and_auto():
    up5 = np.arange(5.0)
    assert_allclose(mann_kendall(up5, alternative="increasing", method="exact").pvalue, 1 / 120)
    # the normal approximation overstates it
    assert mann_kendall(up5, alternative="increasing").pvalue > 0.01
    assert mann_kendall(up5, alternative="decreasing", method="exact").pvalue == 1.0
    # 'auto': exact where it applies, asymptotic with ties, a correction or many points
    assert mann_kendall(up5, method="auto").method == "exact"
    assert mann_kendall([1.0, 2.0, 2.0, 3.0, 4.0], method="auto").method == "asymptotic"
    assert mann_kendall(np.arange(80.0), method="auto").method == "asymptotic"
    assert mann_kendall(np.arange(20.0), method="auto", correction="hamed_rao").method == "asymptotic"
    assert mann_kendall(up5).method == "asymptotic"
    with pytest.raises(ParameterError, match="correction=None"):
        mann_kendall(up5, method="exact", correction="hamed_rao")
    with pytest.raises(ParameterError, match="without ties"):
        mann_kendall([1.0, 2.0, 2.0, 3.0], method="exact")
    with pytest.raises(ParameterError, match="at most"):
        mann_kendall(np.arange(100.0), method="exact")
    with pytest.raises(ParameterError, match="method"):
        mann_kendall(up5, method="permutation")


# ---------------------------------------------------------------- Sen's slope
@pytest.mark.parametrize("seed,n,kind", CASES[::2])
def test_sens_slope_vs_naive_and_pymannkendall(seed, n, kind):
    x = _series(seed, n, kind)
    res = sens_slope(x)
    assert res.slope == naive.sens_slope(x)
    ref = pymk.sens_slope(x)  # pymannkendall 1.4.3 sens_slope
    assert_allclose([res.slope, res.intercept], [ref.slope, ref.intercept], rtol=1e-12, atol=1e-15)


def test_sens_slope_nan_positions_match_pymannkendall():
    x = _series(2, 50, "trend")
    x[[3, 10, 11, 40]] = np.nan
    ref = pymk.sens_slope(x)  # nanmedian over all pairs, original positions
    res = sens_slope(x)
    assert res.n == 46
    assert_allclose([res.slope, res.intercept], [ref.slope, ref.intercept], rtol=1e-12)


@pytest.mark.parametrize("seed,n,kind", [(0, 10, "ties"), (1, 37, "iid"), (2, 64, "ties"), (3, 100, "trend"), (4, 150, "ar1"), (5, 3, "iid"), (6, 2, "iid")])
def test_sen_selection_matches_exact_with_tiny_buckets(seed, n, kind):
    # force the randomised selection through many rounds: tiny cap and samples
    x = _series(seed, n, kind)
    t = np.arange(n, dtype=float)
    for s in range(3):
        assert_allclose(_sen_select(x, t, seed=s, cap=3, sample=5), _sen_exact(x, t), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("n", [301, 1000, 2001, 4001])
@pytest.mark.parametrize("seed,kind", [(0, "iid"), (1, "ties"), (2, "trend"), (3, "ar1")])
def test_sen_selection_large_n(seed, kind, n):
    x = _series(seed, n, kind)
    res = sens_slope(x)
    assert res.method == "select"
    assert_allclose(res.slope, _sen_exact(x, np.arange(float(n))), rtol=1e-13, atol=1e-15)
    ref = pymk.sens_slope(x)  # pymannkendall 1.4.3 sens_slope (O(n^2))
    assert_allclose([res.slope, res.intercept], [ref.slope, ref.intercept], rtol=1e-12, atol=1e-15)


def test_sens_slope_uneven_times():
    rng = np.random.default_rng(4)
    t = np.cumsum(rng.integers(1, 5, 40)).astype(float)
    x = 0.3 * t + rng.normal(size=40)
    assert sens_slope(x, t=t).slope == naive.sens_slope(x, t)
    with pytest.raises(ParameterError):
        sens_slope(x, t=t[::-1])
    with pytest.raises(ParameterError):
        sens_slope(x, t=t[:-1])
    with pytest.raises(InsufficientDataError):
        sens_slope([1.0])
    with pytest.raises(ParameterError):
        sens_slope([1.0, -np.inf, 2.0])


# ------------------------------------------------------------ properties
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=3, max_size=60), st.sampled_from([None, "hamed_rao", "yue_wang"]), st.sampled_from(["two-sided", "greater", "less"]))
def test_pvalue_in_unit_interval(values, correction, alternative):
    res = mann_kendall(values, correction=correction, alternative=alternative)
    assert 0.0 <= res.pvalue <= 1.0
    assert -1.0 <= res.tau <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=3, max_size=60), st.floats(0.01, 100.0), st.floats(-100.0, 100.0))
def test_plain_test_invariant_to_monotone_maps(values, scale, shift):
    x = np.asarray(values, dtype=float)
    base = mann_kendall(x)
    for y in (scale * x + shift, np.exp(x / 25.0), x**3):
        other = mann_kendall(y)
        assert other.statistic == base.statistic
        assert_allclose(other.pvalue, base.pvalue, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=3, max_size=60))
def test_time_reversal_flips_sign(values):
    x = np.asarray(values, dtype=float)
    fwd, back = mann_kendall(x), mann_kendall(x[::-1])
    assert back.statistic == -fwd.statistic
    assert_allclose(back.pvalue, fwd.pvalue, rtol=1e-12)
    assert_allclose(sens_slope(x[::-1]).slope, -sens_slope(x).slope, atol=1e-12)


# ------------------------------------------------------- side-by-side passes
@pytest.mark.parametrize("seed,kind", [(0, "iid"), (1, "ties"), (2, "trend"), (3, "ar1")])
def test_two_threads_give_the_same_results(seed, kind, monkeypatch):
    # the passes that run side by side for long series, forced on short ones
    from curvestat.stats import _threads

    x = _series(seed, 1500, kind)
    t = np.arange(1500.0)
    monkeypatch.setenv("CURVESTAT_THREADS", "1")
    serial = [_sen_select(x, t, seed=s, cap=c) for s in range(2) for c in (None, 2_000)]
    mk_serial = mann_kendall(x, correction="hamed_rao")
    monkeypatch.setenv("CURVESTAT_THREADS", "2")
    monkeypatch.setattr(_threads, "PARALLEL_MIN_N", 0)
    if not _threads.side_threads():
        pytest.skip("one CPU: no side thread")
    threaded = [_sen_select(x, t, seed=s, cap=c) for s in range(2) for c in (None, 2_000)]
    assert threaded == serial
    assert serial[0] == _sen_exact(x, t)
    assert mann_kendall(x, correction="hamed_rao") == mk_serial


def test_side_thread_setting(monkeypatch):
    from curvestat.stats import _threads

    for value in ("1", "0", "many"):
        monkeypatch.setenv("CURVESTAT_THREADS", value)
        assert _threads.side_threads() == 0
        ran = _threads.run_beside(10**9, lambda v: v + 1, 1)  # runs at once
        assert ran.result() == 2


@pytest.mark.parametrize("n", [5_000, 8_000])
def test_sen_selection_matches_exact_on_long_series(n):
    # a long AR(1) curve with a trend and rounded values (ties): the
    # selection must give the exact O(n^2) median
    rng = np.random.default_rng(n)
    e = rng.normal(size=n)
    ar = np.empty(n)
    ar[0] = e[0]
    for i in range(1, n):
        ar[i] = 0.8 * ar[i - 1] + e[i]
    x = np.round(np.exp(-3.0 * np.arange(n) / n) + 0.05 * ar, 3)
    t = np.arange(float(n))
    assert _sen_select(x, t) == _sen_exact(x, t)


@pytest.mark.parametrize("case", ["normal", "ties", "signed_zeros", "constant", "outlier", "tiny", "huge_range"])
def test_radix_argsort(case):
    from curvestat.kernels.trend import radix_argsort
    from curvestat.stats.trend import _argsort

    rng = np.random.default_rng(7)
    n = 5_000
    x = {
        "normal": rng.normal(size=n),
        "ties": np.round(rng.normal(size=n), 1),
        "signed_zeros": np.where(rng.random(n) < 0.5, -0.0, 0.0) * rng.integers(0, 2, n),
        "constant": np.full(n, 3.25),
        # one value far away crowds the others into a few keys: the kernel
        # must refuse (or sort correctly), never return a wrong order
        "outlier": np.concatenate([rng.normal(size=n - 1), [1e15]]),
        "tiny": 1.0 + 1e-12 * rng.normal(size=n),
        "huge_range": rng.normal(size=n) * np.logspace(-300, 300, n),
    }[case]
    order = np.empty(n, dtype=np.int64)
    if radix_argsort(x, order):
        assert np.array_equal(x[order], np.sort(x))
        assert np.array_equal(np.sort(order), np.arange(n))
    else:
        assert case in ("outlier", "huge_range")
    assert np.array_equal(x[_argsort(x)], np.sort(x))  # the wrapper always sorts
    for m in (0, 1, 2):
        o = np.empty(m, dtype=np.int64)
        assert radix_argsort(x[:m], o) and np.array_equal(x[:m][o], np.sort(x[:m]))


# --- the short-tail slope test of the detectors ------------------------------------------------


def test_slope_test_matches_least_squares_slope_over_a_known_scale():
    from scipy import stats as st

    from curvestat.detectors._trend import slope_test

    x = np.array([0.1, 0.4, 0.35, 0.9])
    ref = st.linregress(np.arange(4), x)
    p, t = slope_test(x, 0.2, 5.0, "increasing")
    sxx = float(((np.arange(4) - 1.5) ** 2).sum())
    assert t == pytest.approx(ref.slope / (0.2 / np.sqrt(sxx)), rel=1e-12)
    assert p == pytest.approx(st.t.sf(t, 5.0), rel=1e-12)
    p_dec, t_dec = slope_test(x, 0.2, 5.0, "decreasing")
    assert t_dec == pytest.approx(-t) and p_dec == pytest.approx(st.t.sf(-t, 5.0))
    assert slope_test(x[:2], 0.2, 5.0, "increasing") == (1.0, 0.0)
    assert slope_test(x, 0.0, 5.0, "increasing") == (1.0, 0.0)


def test_noise_scale_ignores_a_smooth_trend():
    from curvestat.detectors._trend import noise_scale

    rng = np.random.default_rng(3)
    i = np.arange(400.0)
    x = np.exp(-i / 50) + 0.01 * i + 0.02 * rng.standard_normal(400)
    s, df = noise_scale(x)
    assert s == pytest.approx(0.02, rel=0.15)
    assert df == pytest.approx(0.3 * 397)
    s2, df2 = noise_scale(x, differences=2)
    assert s2 == pytest.approx(0.02, rel=0.15)
    assert df2 == pytest.approx(0.37 * 398)
    # seven points or fewer: second differences whatever is asked
    assert noise_scale(x[:7]) == noise_scale(x[:7], differences=2)


def test_third_differences_see_through_a_fast_exponential_descent():
    # a 10-evaluation log-loss whose excess halves per evaluation onto a
    # floor: its curvature changes fast, and the spread of the second
    # differences it leaves behind reads half again the noise; third
    # differences cancel the local parabola and stay near it
    from curvestat.detectors._trend import noise_scale

    rng = np.random.default_rng(5)
    i = np.arange(10.0)
    ratios2, ratios3 = [], []
    for _ in range(200):
        x = np.log(0.06 + 2.0 * 0.5**i) + 0.01 * rng.standard_normal(10)
        ratios2.append(noise_scale(x, differences=2)[0] / 0.01)
        ratios3.append(noise_scale(x)[0] / 0.01)
    assert np.median(ratios2) > 1.4
    assert 0.75 < np.median(ratios3) < 1.25


def test_slope_test_keeps_its_level_on_short_iid_tails():
    # the detector's use: a tail of 3-4 points, the noise scale from the whole
    # series (second differences below 8 points, third from there on); size
    # at 1 % over 4,000 simulated series
    from curvestat.detectors._trend import noise_scale, slope_test

    rng = np.random.default_rng(11)
    for n, m in ((6, 3), (8, 3), (12, 4), (30, 4)):
        rejections = 0
        for _ in range(4000):
            x = rng.standard_normal(n)
            s, df = noise_scale(x)
            rejections += slope_test(x[-m:], s, df, "increasing")[0] <= 0.01
        # binomial sd at 1 % over 4,000 draws is 0.16 %
        assert rejections / 4000 <= 0.016, (n, m, rejections)


def test_autocorrelation_direct_sum_matches_fft():
    # short series sum the autocorrelation directly (no FFT set-up), long
    # ones use the FFT: the two agree to rounding, on either side of the cut
    from curvestat.stats.autocorr import _ACF_DIRECT_MAX_N, acf_values

    rng = np.random.default_rng(4)
    for n in (5, 55, _ACF_DIRECT_MAX_N):
        y = np.cumsum(rng.standard_normal(n))
        d = y - y.mean()
        full = np.correlate(d, d, "full")[n - 1 :]
        np.testing.assert_allclose(acf_values(y, n - 1), full / full[0], rtol=0, atol=1e-12)
    y = np.cumsum(rng.standard_normal(_ACF_DIRECT_MAX_N + 1))
    d = y - y.mean()
    full = np.correlate(d, d, "full")[y.size - 1 :]
    np.testing.assert_allclose(acf_values(y, 40), (full / full[0])[:41], rtol=0, atol=1e-12)
