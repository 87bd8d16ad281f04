"""The shared numeric guards."""

import math

import numpy as np

from curvestat._numeric import EPS, MAX_LAG1, TINY, clip_lag1, safe_exp, safe_expm1


def test_clip_lag1_matches_numpy_clip():
    rng = np.random.default_rng(0)
    for phi in np.concatenate([rng.uniform(-2, 2, 200), [-1.0, 0.0, MAX_LAG1, 1.0, np.inf, -np.inf]]):
        assert clip_lag1(float(phi)) == float(np.clip(phi, 0.0, MAX_LAG1))
    assert np.isnan(clip_lag1(float("nan")))
    assert clip_lag1(0.97, upper=0.95) == 0.95


def test_guards_are_tiny_but_representable():
    assert 0.0 < TINY < EPS < 1e-9
    assert np.log(TINY) > -700.0  # finite


def test_safe_exponentials_return_inf_instead_of_overflowing():
    assert safe_exp(1000.0) == math.inf and safe_expm1(1000.0) == math.inf
    assert safe_exp(1.0) == math.exp(1.0) and safe_expm1(1e-10) == math.expm1(1e-10)
