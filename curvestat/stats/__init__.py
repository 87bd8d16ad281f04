"""Statistical tests behind curvestat's detectors.

Every function returns a frozen result object (``statistic``, ``pvalue``, ...)
in the style of :mod:`scipy.stats` and is checked against a reference
implementation (pymannkendall, statsmodels, scipy, ruptures); see
``docs/stats.rst``. Numba kernels are imported and compiled lazily, on the
first call of a function that needs them.
"""

from ._util import BlockMeans, block_means, median1d, normal_pvalue, safe_log
from .autocorr import LjungBoxResult, acf, ljung_box
from .changepoint import (
    ChangePointResult,
    CusumResult,
    LocalShiftResult,
    ar_noise_variance,
    bic_penalty,
    binary_segmentation,
    cusum,
    local_shift_test,
    mbic_penalty,
    pelt,
)
from .gap import (
    HacLevelResult,
    HacMeanResult,
    SmoothedMinimum,
    hac_end_level_test,
    hac_mean_test,
    robust_smooth,
    smoothed_argmin,
)
from .multitest import benjamini_hochberg, holm, simes
from .noise import diff_noise_scale, mad_scale, smooth_noise_scale, tail_noise_scale
from .sen import SensSlopeResult, sens_slope
from .spectral import FisherGResult, Periodogram, fisher_g, fisher_g_pvalue, periodogram
from .trend import MannKendallResult, mann_kendall

__all__ = [
    # trend
    "mann_kendall",
    "sens_slope",
    "MannKendallResult",
    "SensSlopeResult",
    # autocorrelation and periodicity
    "acf",
    "ljung_box",
    "LjungBoxResult",
    "periodogram",
    "Periodogram",
    "fisher_g",
    "fisher_g_pvalue",
    "FisherGResult",
    # change points
    "cusum",
    "pelt",
    "binary_segmentation",
    "bic_penalty",
    "mbic_penalty",
    "ar_noise_variance",
    "CusumResult",
    "ChangePointResult",
    "local_shift_test",
    "LocalShiftResult",
    # gap / overfitting
    "hac_mean_test",
    "hac_end_level_test",
    "HacMeanResult",
    "HacLevelResult",
    "robust_smooth",
    "smoothed_argmin",
    "SmoothedMinimum",
    # helpers
    "block_means",
    "BlockMeans",
    "mad_scale",
    "diff_noise_scale",
    "smooth_noise_scale",
    "tail_noise_scale",
    "safe_log",
    "median1d",
    "normal_pvalue",
    # multiple testing
    "holm",
    "simes",
    "benjamini_hochberg",
]
