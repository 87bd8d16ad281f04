"""The four noise-scale estimators of curvestat.stats.noise."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from curvestat.stats import noise


def test_mad_scale_matches_scipy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100, 1001):
        x = rng.standard_t(3, n)
        # reference: scipy.stats.median_abs_deviation(scale="normal")
        assert_allclose(noise.mad_scale(x), stats.median_abs_deviation(x, scale="normal"), rtol=1e-12)


def test_diff_noise_scale_ignores_a_level_shift():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(4000) * 0.5
    x[2000:] += 10.0
    assert noise.diff_noise_scale(x) == pytest.approx(0.5, rel=0.05)
    assert_allclose(noise.diff_noise_scale(x), noise.mad_scale(np.diff(x)) / np.sqrt(2.0), rtol=1e-12)


@pytest.mark.parametrize("differences", [2, 3])
def test_smooth_noise_scale_is_consistent_around_a_curve(differences):
    rng = np.random.default_rng(2)
    t = np.linspace(0, 1, 20_000)
    x = np.exp(-5 * t) + 0.01 * rng.standard_normal(t.size)
    sd, df = noise.smooth_noise_scale(x, differences=differences)
    assert sd == pytest.approx(0.01, rel=0.05) and df > 1000
    assert noise.smooth_noise_scale(x[:3]) == (0.0, 0.0)


def test_tail_noise_scale_reads_heavy_tails():
    rng = np.random.default_rng(3)
    g = rng.standard_normal(5000)
    # Gaussian: the tail scale agrees with the MAD scale
    assert noise.tail_noise_scale(g) == pytest.approx(noise.mad_scale(g), rel=0.1)
    heavy = rng.standard_t(2, 5000)
    assert noise.tail_noise_scale(heavy) > 1.3 * noise.mad_scale(heavy)
    assert noise.tail_noise_scale(np.array([1.0, 2.0])) > 0.0  # a floor, not 0
