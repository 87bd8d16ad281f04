"""Shared fixtures for the reader tests: the wild corpus and real TensorBoard writers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: Real logs from public repositories, kept outside the repo (see its README.md and MANIFEST.json).
WILD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "wild"


@pytest.fixture(scope="session")
def wild() -> Path:
    if not (WILD / "MANIFEST.json").is_file():
        pytest.skip(f"wild corpus not found at {WILD.resolve()} (it lives in shared/data/wild beside the repo)")
    return WILD.resolve()


@pytest.fixture(scope="session")
def manifest(wild: Path) -> list[dict]:
    return json.loads((wild / "MANIFEST.json").read_text())


@pytest.fixture(scope="session")
def wild_of(wild: Path, manifest: list[dict]):
    """``wild_of(fmt)``: the files of one format of the wild corpus, as listed in its manifest."""

    def files(fmt: str) -> list[Path]:
        return [wild / m["file"] for m in manifest if m["format"] == fmt]

    return files
