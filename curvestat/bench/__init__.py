"""Detector-accuracy benchmark: labelled corpora, scoring, peer baselines.

The three pieces, usable on their own:

* **Corpora** -- :func:`synthetic` draws seeded runs with exact ground truth
  (:class:`Truth`: labels, onset step, period); :func:`load_corpus` reads a
  directory (or zip) of runs plus ``labels.json`` (your own labelled runs);
  :func:`real_corpus` returns the real corpus packaged with curvestat
  (PyTorch runs in four log formats, split by seed into ``dev`` and
  ``test``); :meth:`Corpus.save` writes one.
* **Scoring** -- :func:`score` computes precision, recall, F1, false-alarm
  rate on healthy runs, onset and period error, power and p-value calibration
  for one detector, river-style (tolerance windows, NaN when undefined).
* **Baselines** -- :class:`SageMakerRules`, :class:`LightningCallbacks`,
  :class:`KerasCallbacks`, :class:`NaiveThresholds`: today's rules with their
  documented defaults, behind the same ``detect(run, config)`` protocol as
  curvestat's detectors (and yours).

:func:`run_benchmark` ties them together and returns a :class:`BenchResult`
that prints as the side-by-side table of ``curvestat bench``.

Examples
--------
>>> from curvestat.bench import synthetic, run_benchmark
>>> res = run_benchmark(synthetic(30, seed=0), ["naive", "keras"], progress=False)
>>> sorted(res.scores)
['keras', 'naive']
"""

from .baselines import BASELINES, KerasCallbacks, LightningCallbacks, NaiveThresholds, SageMakerRules, get_baseline
from .corpus import Corpus, LabelledRun, Truth, load_corpus, real_corpus
from .runner import DEFAULT_DETECTORS, BenchResult, run_benchmark
from .scoring import Detection, score
from .synthetic import HEALTHY_KINDS, PATHOLOGY_KINDS, synthetic, synthetic_run

__all__ = [
    "Truth",
    "LabelledRun",
    "Corpus",
    "load_corpus",
    "real_corpus",
    "synthetic",
    "synthetic_run",
    "PATHOLOGY_KINDS",
    "HEALTHY_KINDS",
    "Detection",
    "score",
    "SageMakerRules",
    "LightningCallbacks",
    "KerasCallbacks",
    "NaiveThresholds",
    "BASELINES",
    "get_baseline",
    "run_benchmark",
    "BenchResult",
    "DEFAULT_DETECTORS",
]
