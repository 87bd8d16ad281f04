"""The blind expert labels of the public "wild" logs are well formed.

Fast: reads only ``benchmarks/wild/labels.json`` and ``../shared/data/wild/MANIFEST.json``
(skips when the shared data is absent); does not run curvestat on the logs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curvestat.report import Pathology

LABELS = Path(__file__).resolve().parents[1] / "benchmarks" / "wild" / "labels.json"
KNOWN = {p.value for p in Pathology} | {"healthy"}


@pytest.fixture(scope="module")
def labels() -> dict:
    return json.loads(LABELS.read_text())


@pytest.fixture(scope="module")
def manifest_files(shared_data: Path) -> set[str]:
    wild = shared_data / "wild"
    if not (wild / "MANIFEST.json").is_file():
        pytest.skip(f"no wild corpus at {wild}")
    return {e["file"] for e in json.loads((wild / "MANIFEST.json").read_text())}


def test_every_key_is_a_manifest_file(labels, manifest_files, shared_data):
    unknown = sorted(set(labels) - manifest_files)
    assert not unknown, f"labels for files not in MANIFEST.json: {unknown}"
    for rel in labels:
        assert (shared_data / "wild" / rel).exists(), rel


def test_every_manifest_file_is_labelled(labels, manifest_files):
    assert sorted(manifest_files - set(labels)) == []


def test_entries_are_well_formed(labels):
    assert labels, "empty labels file"
    for rel, e in labels.items():
        assert set(e) <= {"labels", "confidence", "why", "onset_step"}, (rel, sorted(e))
        assert isinstance(e["labels"], list) and e["labels"], rel
        assert set(e["labels"]) <= KNOWN, (rel, e["labels"])
        assert len(set(e["labels"])) == len(e["labels"]), rel
        # healthy excludes every pathology
        assert e["labels"] == ["healthy"] or "healthy" not in e["labels"], (rel, e["labels"])
        assert e["confidence"] in {"clear", "ambiguous"}, rel
        assert isinstance(e["why"], str) and len(e["why"]) >= 20, rel
        if "onset_step" in e:
            assert isinstance(e["onset_step"], int) and "healthy" not in e["labels"], rel
