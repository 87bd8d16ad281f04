"""The documentation's defaults tables say what Config() says (issue 16 item 4).

Every detector page in ``docs/detectors/`` has a section ``Defaults
(:class:`curvestat.config.XConfig`)`` holding a simple reStructuredText table
whose rows start with the field name as a literal (````min_ratio````) and its
default. The table must list every field of that section of
:class:`curvestat.Config`, with the default Config() has.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import curvestat
from curvestat import config as config_module

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted((DOCS / "detectors").glob("*.rst"))
_HEADING = re.compile(r"^Defaults \(:class:`curvestat\.config\.(\w+)`\)\s*$")
_ROW = re.compile(r"^``(\w+)``\s+(\S+)")
_BORDER = re.compile(r"^=+(\s+=+)+\s*$")


def defaults_tables(text: str) -> dict[str, dict[str, str]]:
    """``{section class name: {field: default as written}}`` of one page."""
    lines = text.splitlines()
    out: dict[str, dict[str, str]] = {}
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if not m:
            continue
        rows: dict[str, str] = {}
        borders = 0
        for row in lines[i + 2:]:
            if _BORDER.match(row):
                borders += 1
                if borders == 3:  # top, under the header, bottom
                    break
                continue
            r = _ROW.match(row)
            if borders == 2 and r:
                assert r.group(1) not in rows, f"{m.group(1)}: {r.group(1)} listed twice"
                rows[r.group(1)] = r.group(2)
        assert borders == 3, f"{m.group(1)}: no complete table after the heading"
        out[m.group(1)] = rows
    return out


def _parse(written: str, like: object) -> object:
    if isinstance(like, bool):
        return written == "True"
    if isinstance(like, int):
        return int(written.replace(",", ""))
    if isinstance(like, float):
        return float(written.replace(",", ""))
    return written


def test_every_detector_page_has_one_defaults_table():
    assert len(PAGES) == 5
    sections = {}
    for page in PAGES:
        tables = defaults_tables(page.read_text())
        assert len(tables) == 1, f"{page.name}: {sorted(tables)}"
        sections.update(tables)
    config_sections = {type(getattr(curvestat.Config(), f.name)).__name__ for f in dataclasses.fields(curvestat.Config)
                       if dataclasses.is_dataclass(getattr(curvestat.Config(), f.name))}
    assert set(sections) == config_sections


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_defaults_table_equals_config(page):
    for cls_name, rows in defaults_tables(page.read_text()).items():
        section = getattr(config_module, cls_name)()
        fields = {f.name: getattr(section, f.name) for f in dataclasses.fields(section)}
        assert set(rows) == set(fields), (f"{page.name}: missing {sorted(set(fields) - set(rows))}, "
                                          f"unknown {sorted(set(rows) - set(fields))}")
        for name, written in rows.items():
            assert _parse(written, fields[name]) == fields[name], f"{page.name}: {name} = {written}, Config has {fields[name]!r}"


def test_the_parser_sees_a_wrong_default():
    text = (DOCS / "detectors" / "periodic.rst").read_text().replace("``min_cycles``                4.0",
                                                                      "``min_cycles``                5.0")
    rows = defaults_tables(text)["PeriodicConfig"]
    assert rows["min_cycles"] == "5.0" != str(curvestat.Config().periodic.min_cycles)


def test_figures_the_docs_show_exist():
    refs = set()
    for page in [*DOCS.glob("*.rst"), *PAGES]:
        for m in re.finditer(r"^\.\. figure:: (\S+)", page.read_text(), re.M):
            refs.add((page.parent / m.group(1)).resolve())
            assert (page.parent / m.group(1)).is_file(), f"{page.name}: {m.group(1)}"
    readme = (DOCS.parent / "README.md").read_text()
    for m in re.finditer(r"!\[[^\]]*\]\(([^)]+)\)", readme):
        assert (DOCS.parent / m.group(1)).is_file(), m.group(1)
    assert len(refs) >= 10
