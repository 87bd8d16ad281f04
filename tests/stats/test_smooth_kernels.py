"""The numba kernels behind robust_smooth and mad_scale give numpy's and scipy.ndimage's values, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import median_filter, uniform_filter1d

from curvestat.stats import mad_scale, robust_smooth
from curvestat.stats._util import MAD_CONSISTENCY


def _series(rng: np.random.Generator, kind: int) -> np.ndarray:
    n = int(rng.integers(1, 3000 if kind == 0 else 40))
    x = rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6) + rng.uniform(-3, 3)
    if kind == 1:
        x = np.round(x, 1)  # ties, and signed zeros
    elif kind == 2:
        x = rng.integers(-1, 2, n) * rng.choice([-1.0, 1.0], n) * 0.5  # heavy ties, +-0
    return x


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_robust_smooth_is_median_then_uniform_filter(kind: int) -> None:
    rng = np.random.default_rng(kind)
    for _ in range(400):
        x = _series(rng, kind)
        window = int(rng.choice([1, 3, 5, 7]))
        med = median_filter(x, size=window, mode="nearest") if window > 1 else x
        expected = uniform_filter1d(med, size=3, mode="nearest")
        assert robust_smooth(x, window=window).tobytes() == expected.tobytes()


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_mad_scale_is_the_two_partitions(kind: int) -> None:
    rng = np.random.default_rng(10 + kind)

    def median(a: np.ndarray) -> float:
        k = a.size // 2
        if a.size % 2:
            return float(np.partition(a, k)[k])
        p = np.partition(a, (k - 1, k))
        return float(0.5 * (p[k - 1] + p[k]))

    for _ in range(400):
        x = _series(rng, kind)
        expected = float(MAD_CONSISTENCY * median(np.abs(x - median(x))))
        assert np.float64(mad_scale(x)).tobytes() == np.float64(expected).tobytes()
