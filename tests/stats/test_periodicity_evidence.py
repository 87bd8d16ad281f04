"""Periodicity evidence on a noise-normalised spectrum (stats.spectral)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import signal

from curvestat.errors import InsufficientDataError, ParameterError
from curvestat.stats.spectral import (
    MIN_PERIOD_POINTS,
    harmonic_test,
    line_test,
    normalised_spectrum,
    spectral_peak_test,
)


def _curve(n, rng, period=None, amp=0.0):
    t = np.arange(n)
    y = np.log(0.2 + 2.0 * np.exp(-t / (n / 4))) + 0.05 * rng.standard_normal(n)
    if period:
        y = y + amp * np.sin(2 * np.pi * t / period)
    return y


def test_the_spectrum_is_the_recoloured_periodogram_of_the_differences():
    rng = np.random.default_rng(0)
    y = _curve(1000, rng)
    spec = normalised_spectrum(y, min_cycles=3)
    d = np.diff(y)
    # reference: scipy.signal.periodogram (one-sided density, constant detrend) of the differences
    _, ref = signal.periodogram(d, detrend="constant")
    assert_allclose(spec.power[1:], ref[1:], rtol=1e-10)  # [0]: the removed mean, round-off only
    m = (d.size - 1) // 2
    k = np.arange(1, m + 1)
    ords = ref[1 : m + 1] / (4 * np.sin(np.pi * k / d.size) ** 2)
    assert_allclose(spec.z[1 : m + 1] * spec.noise[1 : m + 1], ords, rtol=1e-10)
    assert spec.k_lo == 3 and spec.k_hi == int(d.size // MIN_PERIOD_POINTS)


def test_the_peak_test_finds_a_cycle_and_holds_its_level():
    rng = np.random.default_rng(1)
    hit = spectral_peak_test(normalised_spectrum(_curve(1200, rng, period=50, amp=0.05), min_cycles=3))
    assert hit.pvalue < 1e-6 and abs(hit.k_peak - 1199 / 50) <= 1
    assert hit.pvalue == max(hit.fisher_pvalue, hit.f_pvalue)
    nulls = [spectral_peak_test(normalised_spectrum(_curve(600, np.random.default_rng(s)), min_cycles=3)).pvalue
             for s in range(200)]
    assert 0.0 <= min(nulls) and max(nulls) <= 1.0
    assert np.mean(np.array(nulls) <= 0.05) <= 0.1  # about its level (binomial slack)


def test_the_harmonic_test_at_a_known_period():
    rng = np.random.default_rng(2)
    y = _curve(2000, rng, period=200, amp=0.05)
    res = harmonic_test(y, 200.0, min_cycles=3)
    assert res.pvalue < 1e-4 and res.harmonics >= 1 and res.statistic > 0
    assert harmonic_test(y, 1000.0, min_cycles=3).harmonics == 0  # 2 cycles < 3
    assert harmonic_test(y, 3.0, min_cycles=3).pvalue == 1.0  # below the shortest period
    nulls = [harmonic_test(_curve(1000, np.random.default_rng(10 + s)), 100.0, min_cycles=3).pvalue for s in range(200)]
    assert np.mean(np.array(nulls) <= 0.05) <= 0.1


def test_line_tests_tell_a_period_from_its_half():
    rng = np.random.default_rng(3)
    t = np.arange(3000)
    # a 100-point pattern: a 200-point period has no extra lines at its odd harmonics
    y = _curve(3000, rng) + 0.05 * np.sin(2 * np.pi * t / 100) + 0.03 * np.sin(4 * np.pi * t / 100)
    res = line_test(y, 200.0, 2, min_cycles=3)
    assert res.pvalue_kept < 1e-6 and res.pvalue_extra > 0.01
    assert line_test(y, 6.0, 2, min_cycles=3) == line_test(y, 6.0, 2, min_cycles=3)  # deterministic
    assert line_test(y, 6.0, 2, min_cycles=3).pvalue_extra == 1.0  # 3 points < shortest period


def test_bad_input_is_an_error():
    with pytest.raises(ParameterError):
        normalised_spectrum([1.0, np.nan, 2.0, 3.0], min_cycles=3)
    with pytest.raises(ParameterError):
        normalised_spectrum(np.ones((3, 3)), min_cycles=3)
    with pytest.raises(InsufficientDataError):
        harmonic_test([1.0, 2.0], 4.0, min_cycles=3)
