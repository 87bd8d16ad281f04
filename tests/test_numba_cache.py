"""Compiled kernels are cached in a user cache directory, never inside the installed package."""

import os
import subprocess
import sys
from pathlib import Path

import curvestat

_SNIPPET = "import numpy as np, curvestat; curvestat.analyze({'loss': np.exp(-np.arange(300) / 50) + 0.1})"


def _run(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in {"NUMBA_CACHE_DIR", "CURVESTAT_CACHE_DIR"}}
    env.update(env_extra)
    subprocess.run([sys.executable, "-c", _SNIPPET], check=True, env=env, timeout=600)


def _index_files(root):
    return sorted(p.name for p in Path(root).rglob("*.nbi"))


def test_kernels_are_cached_in_the_curvestat_cache_dir(tmp_path):
    package = Path(curvestat.__file__).parent
    before = _index_files(package)
    _run({"CURVESTAT_CACHE_DIR": str(tmp_path / "cache")})
    cached = _index_files(tmp_path / "cache")
    assert any(name.startswith(("trend.", "changepoint.")) for name in cached)
    assert _index_files(package) == before  # nothing new inside the package


def test_numba_cache_dir_still_wins(tmp_path):
    _run({"CURVESTAT_CACHE_DIR": str(tmp_path / "ours"), "NUMBA_CACHE_DIR": str(tmp_path / "numba")})
    assert _index_files(tmp_path / "numba") and not _index_files(tmp_path / "ours")
