"""Holm, Simes and Benjamini-Hochberg against statsmodels."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from statsmodels.stats.multitest import multipletests

from curvestat.errors import ParameterError
from curvestat.stats.multitest import benjamini_hochberg, holm, simes


def _pvalue_sets():
    rng = np.random.default_rng(0)
    out = [np.array([0.01, 0.04, 0.03, 0.2]), np.array([0.5]), np.array([0.0, 1.0, 1.0, 0.0])]
    for n in (2, 3, 10, 57, 400):
        p = rng.uniform(size=n)
        p[: n // 4] *= 1e-3  # some signal
        out.append(p)
        out.append(np.round(p, 2))  # ties
    return out


@pytest.mark.parametrize("p", _pvalue_sets())
def test_benjamini_hochberg_matches_statsmodels(p):
    # reference: statsmodels multipletests(method="fdr_bh"), corrected p-values
    assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", _pvalue_sets())
def test_holm_matches_statsmodels(p):
    # reference: statsmodels multipletests(method="holm"), corrected p-values
    assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", _pvalue_sets())
def test_simes_is_the_smallest_bh_qvalue(p):
    # Simes' global p-value equals min over the Benjamini-Hochberg q-values
    assert simes(p) == pytest.approx(float(multipletests(p, method="fdr_bh")[1].min()), rel=1e-12)
    assert simes(p) <= min(1.0, p.size * p.min()) + 1e-15  # never worse than Bonferroni


def test_simes_of_two_is_the_rule_the_contradiction_detector_used():
    rng = np.random.default_rng(1)
    for _ in range(200):
        a, b = rng.uniform(size=2) ** 3
        assert simes([a, b]) == min(1.0, 2.0 * min(a, b), max(a, b))


def test_bad_pvalues_are_errors():
    for f in (holm, simes, benjamini_hochberg):
        with pytest.raises(ParameterError):
            f([0.5, 1.5])
        with pytest.raises(ParameterError):
            f([0.5, np.nan])
        with pytest.raises(ParameterError):
            f([[0.1, 0.2]])
    with pytest.raises(ParameterError):
        simes([])
    with pytest.raises(ParameterError):
        benjamini_hochberg([0.1, 0.2], m=1)


def test_batch_uses_the_same_benjamini_hochberg():
    from curvestat import batch

    assert batch.benjamini_hochberg is benjamini_hochberg
