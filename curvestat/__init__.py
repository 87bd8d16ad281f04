"""curvestat: formal statistical diagnosis of machine-learning training curves."""

from ._version import __version__

__all__ = ["__version__"]
