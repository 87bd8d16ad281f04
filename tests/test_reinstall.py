"""A reinstall in either mode leaves a working package and no numba cache inside site-packages.

numba used to cache compiled kernels beside their source, i.e. inside the
installed package, in files pip does not record: after ``pip install .`` then
``pip install -e .`` the leftover ``site-packages/curvestat/`` folder turned
``import curvestat`` into an empty namespace package. This test installs a
copy of the repository into a fresh virtual environment (regular, then
editable, then regular again), imports it and runs a compiled kernel after
each install, and checks that site-packages holds no cache file.

It takes a minute or more (three pip installs, cold kernel compilations), so it
runs only when ``CURVESTAT_TEST_REINSTALL=1`` is set::

    CURVESTAT_TEST_REINSTALL=1 python -m pytest tests/test_reinstall.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("CURVESTAT_TEST_REINSTALL") != "1", reason="set CURVESTAT_TEST_REINSTALL=1 to run"),
]

REPO = Path(__file__).resolve().parents[1]
_CHECK = """
import numpy as np, curvestat
from curvestat.stats import mann_kendall
assert curvestat.__file__ and curvestat.__version__
res = mann_kendall(np.arange(40.0) + np.sin(np.arange(40.0)), correction="hamed_rao")
assert res.statistic > 0
print(curvestat.__file__)
"""


def _site_packages(env_dir: Path) -> Path:
    paths = sysconfig.get_paths(vars={"base": str(env_dir), "platbase": str(env_dir)})
    return Path(paths["purelib"])


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "NUMBA_CACHE_DIR", "CURVESTAT_CACHE_DIR", "PIP_FIND_LINKS"}}
    env["XDG_CACHE_HOME"] = str(tmp / "user-cache")
    env["PIP_NO_INDEX"] = "1"
    return env


def _pip(python: Path, env: dict[str, str], *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet", *args]
    subprocess.run(cmd, check=True, env=env, timeout=900, cwd=str(python.parent))


def _check(python: Path, env: dict[str, str], site: Path, cwd: Path) -> Path:
    out = subprocess.run([str(python), "-c", _CHECK], check=True, env=env, timeout=900, cwd=str(cwd), capture_output=True, text=True)
    cached = [p for p in site.rglob("*") if p.suffix in {".nbi", ".nbc"}]
    assert not cached, f"numba cache files inside site-packages: {cached[:5]}"
    return Path(out.stdout.strip().splitlines()[-1])


def test_reinstall_regular_editable_regular(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist", ".venv"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = _site_packages(env_dir)
    # numpy, scipy, numba, setuptools and pip come from the running interpreter's environment
    (site / "_outer_env.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    env = _env(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    _pip(python, env, str(src))
    first = _check(python, env, site, elsewhere)
    assert first.is_relative_to(site), first

    _pip(python, env, "-e", str(src))
    editable = _check(python, env, site, elsewhere)
    assert editable.is_relative_to(src), editable
    assert not (site / "curvestat").exists(), "the regular install left a curvestat/ folder behind"

    _pip(python, env, str(src))
    again = _check(python, env, site, elsewhere)
    assert again.is_relative_to(site), again
