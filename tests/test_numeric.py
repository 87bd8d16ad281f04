"""The shared numeric guards."""

import math

from curvestat._numeric import clip_lag1, safe_exp, safe_expm1


def test_safe_exponentials_return_inf_instead_of_overflowing():
    assert safe_exp(1000.0) == math.inf and safe_expm1(1000.0) == math.inf
    assert safe_exp(1.0) == math.exp(1.0) and safe_expm1(1e-10) == math.expm1(1e-10)


def test_lag1_clip():
    assert clip_lag1(-0.3) == 0.0 and clip_lag1(0.5) == 0.5 and clip_lag1(1.2) == 0.99
