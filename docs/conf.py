"""Sphinx configuration for curvestat (numpydoc docstrings, API from the source)."""

from __future__ import annotations

import curvestat

project = "curvestat"
author = "curvestat developers"
copyright = "2026, curvestat developers"
release = curvestat.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
intersphinx_mapping = {}
exclude_patterns = ["_build"]
html_theme = "alabaster"
templates_path: list[str] = []
nitpicky = False
