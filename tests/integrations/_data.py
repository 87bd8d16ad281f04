"""A learnable two-class problem, with an optional NaN batch at a known place."""

import numpy as np


def classification(n=1024, d=8, *, seed=0, nan_rows=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    w = rng.standard_normal(d)
    y = (x @ w + 0.3 * rng.standard_normal(n) > 0).astype("int64")
    if nan_rows is not None:
        x[nan_rows] = np.nan
    return x, y
