"""Fixtures for the statistics tests: the naive twins and the peer reference data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # make tests/naive.py importable as `naive`
    sys.path.insert(0, str(TESTS))

#: <repo>/../shared/data (the same layout on CI)
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
PEER_REFS = SHARED / "peer_refs"


@pytest.fixture(scope="session")
def peer_refs() -> Path:
    if not PEER_REFS.is_dir():
        pytest.skip(f"peer reference data not found at {PEER_REFS.resolve()} (expected <repo>/../shared/data)")
    return PEER_REFS
