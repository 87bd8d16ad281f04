"""Shared fixtures: paths to the third-party reference data beside the repository."""

from __future__ import annotations

from pathlib import Path

import os

import pytest
from hypothesis import settings

# CI draws the same examples on every run (a failure found locally is kept in
# the example database and replayed; a CI failure is then reproducible)
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (CI has it beside the clone); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
