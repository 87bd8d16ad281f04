"""TCPDBench's scores (F1 with a margin, covering) and the loader of the stored TCPD copy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from curvestat.bench.tcpd import covering, f_measure, load_tcpd, true_positives
from curvestat.errors import MissingSeriesError, ParameterError, UnreadableSourceError


def test_f_measure_hand_computed():
    # annotators a: {0, 10}, b: {0, 10, 30} (0 added); predicted {0, 12, 50}
    # pooled {0, 10, 30}: 0 and 10 (by 12) matched -> P = 2/3
    # recall a = 2/2, b = 2/3 -> R = 5/6; F1 = 2 P R / (P + R) = 20/27
    f1, p, r = f_measure({"a": [10], "b": [10, 30]}, [12, 50])
    assert_allclose((p, r, f1), (2 / 3, 5 / 6, 20 / 27), rtol=1e-12)
    # one predicted point matches one annotated point only
    assert true_positives({10}, {9, 11}) == {10}
    assert_allclose(f_measure({"a": [10]}, [9, 11])[1:], (2 / 3, 1.0), rtol=1e-12)
    # the margin is inclusive
    assert f_measure({"a": [10]}, [15])[0] == 1.0 and f_measure({"a": [10]}, [16])[2] == 0.5


def test_covering_hand_computed():
    # n = 40, predicted segments [0,20) [20,40)
    # a: [0,10) J=1/2, [10,40) J=2/3 -> (10/2 + 30*2/3)/40 = 5/8
    # b: [0,10) 1/2, [10,30) 1/3, [30,40) 1/2 -> (5 + 20/3 + 5)/40 = 5/12
    assert_allclose(covering({"a": [10], "b": [10, 30]}, [20], 40), (5 / 8 + 5 / 12) / 2, rtol=1e-12)
    assert covering({"a": [5]}, [5], 10) == 1.0
    # index 0 (and duplicates) change nothing
    assert covering({"a": [0, 5, 5]}, [0, 5], 10) == 1.0


def test_scores_match_tcpdbench_docstring_examples():
    # TCPDBench analysis/scripts/metrics.py doctests (commit 316a5e9)
    assert true_positives({1, 10, 20, 23}, {3, 8, 20}) == {1, 10, 20}
    assert f_measure({1: [10, 20], 2: [11, 20], 3: [10], 4: [0, 5]}, [10, 20])[0] == 1.0
    assert_allclose(f_measure({1: [], 2: [10], 3: [50]}, [10])[0], 0.9090909090909091, rtol=1e-12)
    assert_allclose(f_measure({1: [], 2: [10], 3: [50]}, [])[0], 0.8, rtol=1e-12)
    assert_allclose(covering({1: [10, 20], 2: [10], 3: [0, 5]}, [10, 20], 45), 0.7962962962962963, rtol=1e-12)
    assert_allclose(covering({1: [], 2: [10], 3: [40]}, [10], 45), 0.7954144620811286, rtol=1e-12)
    assert_allclose(covering({1: [], 2: [10], 3: [40]}, [], 45), 0.8189300411522634, rtol=1e-12)


def test_score_errors():
    with pytest.raises(ParameterError):
        f_measure({}, [1])
    with pytest.raises(ParameterError):
        f_measure({"a": [1]}, [1], margin=-1)
    with pytest.raises(ParameterError):
        covering({"a": [1]}, [1], 0)


def test_load_tcpd_and_the_zero_baseline(shared_data, tmp_path):
    root = shared_data / "tcpd"
    if not root.is_dir():
        pytest.skip("TCPD copy not found")
    series = load_tcpd(root)
    assert len(series) == 22 and all(s.values.ndim == 1 and not np.isnan(s.values).any() for s in series)
    z = series[0].standardised()
    assert abs(z.mean()) < 1e-12 and math.isclose(z.std(ddof=1), 1.0)
    # the "zero" method (no change point) reproduces TCPDBench's published scores
    import json

    pub = json.loads((root / "published_default_scores.json").read_text())
    for s in series:
        assert_allclose(f_measure(s.annotations, [])[0], pub["f1"][s.name]["zero"], rtol=1e-9)
        assert_allclose(covering(s.annotations, [], s.n), pub["cover"][s.name]["zero"], rtol=1e-9)
    with pytest.raises(MissingSeriesError):
        load_tcpd(root, names=["no_such_series"])
    with pytest.raises(UnreadableSourceError):
        load_tcpd(tmp_path)


def test_default_changepoint_rules_beat_the_published_defaults_on_tcpd(shared_data):
    root = shared_data / "tcpd"
    if not root.is_dir():
        pytest.skip("TCPD copy not found")
    from curvestat.stats import binary_segmentation, pelt

    series = load_tcpd(root)
    for fn in (pelt, binary_segmentation):
        f1 = np.mean([f_measure(s.annotations, fn(s.standardised()).breakpoints.tolist())[0] for s in series])
        assert f1 >= 0.75  # R changepoint's defaults: 0.664 (PELT), 0.671 (BinSeg)
