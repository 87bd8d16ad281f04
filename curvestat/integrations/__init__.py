"""Live-monitoring callbacks for training frameworks, built on :class:`curvestat.Monitor`.

* :mod:`curvestat.integrations.keras`: ``CurvestatCallback`` for Keras 3;
* :mod:`curvestat.integrations.lightning`: ``CurvestatCallback`` for PyTorch Lightning;
* :mod:`curvestat.integrations.transformers`: ``CurvestatCallback`` for the Hugging Face Trainer.

Each module imports its framework and is importable only where it is
installed. Every callback takes ``action="warn"`` (default: a
:class:`~curvestat.errors.LiveFindingWarning` and a line in the framework's
logger), ``"stop"`` (also asks the framework to stop training) or ``"raise"``
(raises :class:`~curvestat.errors.TrainingPathologyError`), and
``callback.report()`` is the full :class:`~curvestat.Report` of the run so far.
"""

__all__: list[str] = []
