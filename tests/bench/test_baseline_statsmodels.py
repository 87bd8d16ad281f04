"""The off-the-shelf statistical baseline (statsmodels OLS with HAC standard errors)."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from numpy.testing import assert_allclose

from curvestat.bench.baselines import BASELINES, StatsmodelsTrendTests, get_baseline
from curvestat.report import Pathology, Skipped
from curvestat.run import Run


def _kinds(out):
    return sorted((f.pathology, f.kind) for f in out)


def test_statsmodels_baseline_rules():
    det = get_baseline("statsmodels")
    assert isinstance(det, StatsmodelsTrendTests) and BASELINES["statsmodels"] is StatsmodelsTrendTests
    rng = np.random.default_rng(0)
    t = np.arange(400)
    falling = np.exp(-t / 100) + 0.1 + 0.005 * rng.standard_normal(400)
    assert det.detect(Run.from_dict({"loss": falling})) == []
    flat = 1.0 + 0.01 * rng.standard_normal(400)
    (f,) = det.detect(Run.from_dict({"loss": flat}))
    assert f.pathology is Pathology.NON_CONVERGENCE and 0.01 < f.p_value <= 1.0
    broken = falling.copy()
    broken[300] = np.nan
    assert _kinds(det.detect(Run.from_dict({"loss": broken}))) == [(Pathology.EXPLOSION, "non_finite")]
    ev = np.arange(19, 400, 20)
    val = np.r_[np.linspace(1.0, 0.5, 10), np.linspace(0.52, 0.9, 10)]
    out = det.detect(Run.from_dict({"loss": falling, "val_loss": (ev, val)}))
    (g,) = [f for f in out if f.pathology is Pathology.OVERFITTING]
    assert g.onset_step == ev[9] and g.p_value < 1e-3
    assert isinstance(det.detect(Run.from_dict({"val_loss": val})), Skipped)


def test_slope_test_is_statsmodels_ols_hac():
    rng = np.random.default_rng(3)
    t = np.arange(60.0)
    y = 0.01 * t + rng.standard_normal(60)
    slope, p = StatsmodelsTrendTests._slope_test(t, y)
    tc = (t - t.mean()) / np.ptp(t)
    ref = sm.OLS(y, sm.add_constant(tc)).fit(cov_type="HAC", cov_kwds={"maxlags": 3})
    assert_allclose(slope, ref.params[1], rtol=1e-12)
    assert_allclose(2 * min(p, 1 - p), ref.pvalues[1], rtol=1e-9)
