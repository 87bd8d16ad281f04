"""The batch HTML report: self-contained, one figure per flagged run up to the cap, counts that match the batch."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib

matplotlib.use("Agg")

import curvestat  # noqa: E402
from curvestat.cli import main  # noqa: E402
from curvestat.errors import CurvestatError, MissingDependencyError, ParameterError  # noqa: E402
from curvestat.html_report import write_html_report  # noqa: E402


class _Page(HTMLParser):
    """Every tag with its attributes, the text of <td>s per table row, and the ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.rows: list[dict[str, str]] = []
        self.cells: list[list[str]] = []
        self._in_td = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "tr":
            self.rows.append(a)
            self.cells.append([])
        if tag == "td":
            self._in_td = True
            self.cells[-1].append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_td = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_td and self.cells:
            self.cells[-1][-1] += data


def _parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _corpus(tmp_path, n_bad=5, n_healthy=3):
    rng = np.random.default_rng(0)
    steps = np.arange(400)
    for i in range(n_bad):  # a NaN loss: certain, flagged whatever the FDR
        loss = 2.0 * np.exp(-steps / 80) + 0.2 + 0.01 * rng.standard_normal(steps.size)
        loss[300 + i :] = np.nan
        lines = ["step,loss"] + [f"{s},{v}" for s, v in zip(steps, loss)]
        (tmp_path / f"bad{i}.csv").write_text("\n".join(lines) + "\n")
    for i in range(n_healthy):
        loss = 2.0 * np.exp(-steps / 80) + 0.2 + 0.01 * rng.standard_normal(steps.size)
        (tmp_path / f"ok{i}.csv").write_text("step,loss\n" + "\n".join(f"{s},{v}" for s, v in zip(steps, loss)) + "\n")
    (tmp_path / "broken.csv").write_text("")  # an error row
    (tmp_path / "short.csv").write_text("step,loss\n0,1\n1,0.9\n2,0.8\n")  # not judged
    return tmp_path


def _no_external_url(page: _Page) -> None:
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            v = attrs.get(key, "")
            assert not re.match(r"\s*(https?:)?//", v), (tag, key, v)
        assert tag not in ("link", "iframe", "object", "embed"), tag
        if tag == "script":
            assert "src" not in attrs


def test_report_has_one_thumbnail_per_flagged_run_and_counts_of_the_batch(tmp_path):
    (tmp_path / "runs").mkdir()
    src = _corpus(tmp_path / "runs")
    res = curvestat.analyze_many(src)
    out = write_html_report(res, tmp_path / "r.html")
    page = _parse(out)
    _no_external_url(page)
    flagged = [r for r in res if r.status == "ok" and not r.healthy]
    assert len(flagged) == 5
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == len(flagged)
    assert all(a["src"].startswith("data:image/png;base64,") for a in imgs)
    cards = {a["data-run"] for t, a in page.tags if t == "div" and "data-run" in a}
    assert cards == {r.run_id for r in flagged}
    st = res.stats
    counts = {a["id"]: None for t, a in page.tags if a.get("id", "").startswith("count-")}
    text = out.read_text()
    for label, n in (("runs", st.n_runs), ("healthy", st.n_healthy), ("flagged", st.n_flagged),
                     ("not_judged", st.n_not_judged), ("errors", st.n_errors)):
        assert f"count-{label}" in counts
        assert re.search(rf'id="count-{label}"><b>{n}</b>', text), label
    # one row per pathology with the batch's count
    per = {a["data-pathology"]: cells for a, cells in zip(page.rows, page.cells) if "data-pathology" in a}
    assert {k: int(v[1]) for k, v in per.items()} == st.flagged_by_pathology
    # the table has every run, with its status
    runs = [a for a in page.rows if "data-status" in a]
    assert len(runs) == st.n_runs == 10
    assert sorted(a["data-status"] for a in runs).count("flagged") == 5
    # error rows and not-judged rows are listed
    errs = [cells for a, cells in zip(page.rows, page.cells) if a.get("class") == "error-row"]
    assert len(errs) == 1 and errs[0][0] == "broken" and errs[0][2] == "EmptySeriesError"
    nj = [cells for a, cells in zip(page.rows, page.cells) if a.get("class") == "not-judged-row"]
    assert len(nj) == 1 and nj[0][0] == "short" and "need" in nj[0][1]
    assert "<script>" in text  # the inline sort script


def test_cap_is_stated_and_applied(tmp_path):
    (tmp_path / "runs").mkdir()
    res = curvestat.analyze_many(_corpus(tmp_path / "runs"))
    out = write_html_report(res, tmp_path / "r.html", max_thumbnails=2)
    page = _parse(out)
    assert sum(t == "img" for t, _ in page.tags) == 2
    cap = next(a for t, a in page.tags if a.get("id") == "thumbnail-cap")
    assert (cap["data-cap"], cap["data-shown"], cap["data-flagged"]) == ("2", "2", "5")
    assert "capped at 2" in out.read_text()
    out0 = write_html_report(res, tmp_path / "r0.html", max_thumbnails=0)
    assert sum(t == "img" for t, _ in _parse(out0).tags) == 0
    with pytest.raises(ParameterError):
        write_html_report(res, tmp_path / "r.html", max_thumbnails=-1)


def test_parallel_drawing_gives_the_same_images(tmp_path):
    (tmp_path / "runs").mkdir()
    res = curvestat.analyze_many(_corpus(tmp_path / "runs"))
    a = _parse(write_html_report(res, tmp_path / "a.html", n_jobs=1))
    b = _parse(write_html_report(res, tmp_path / "b.html", n_jobs=2))
    assert [x["src"] for t, x in a.tags if t == "img"] == [x["src"] for t, x in b.tags if t == "img"]


def test_in_memory_runs_are_listed_without_a_figure(tmp_path):
    res = curvestat.analyze_many([{"loss": [1.0, 0.9, 0.8] + [float("nan")] * 20}, np.linspace(1, 0.1, 50)])
    page = _parse(write_html_report(res, tmp_path / "m.html"))
    assert sum(t == "img" for t, _ in page.tags) == 0
    assert "scored from memory" in "".join(page.text)


def test_missing_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    res = curvestat.analyze_many(_corpus(tmp_path / "runs", n_bad=1, n_healthy=0))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match="pip install 'curvestat\\[plot\\]'") as info:
        write_html_report(res, tmp_path / "r.html")
    assert isinstance(info.value, CurvestatError)
    write_html_report(res, tmp_path / "r.html", max_thumbnails=0)  # no figures: no matplotlib needed


def test_cli_scan_report(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    src = _corpus(tmp_path / "runs")
    out = tmp_path / "report.html"
    rc = main(["scan", str(src), "--jobs", "1", "--no-progress", "--report", str(out), "--report-thumbnails", "3"])
    assert rc == 1
    assert f"report written to {out}" in capsys.readouterr().out
    page = _parse(out)
    _no_external_url(page)
    assert sum(t == "img" for t, _ in page.tags) == 3


def test_cli_report_arguments_are_checked_before_the_scan(tmp_path, capsys, monkeypatch):
    (tmp_path / "runs").mkdir()
    src = _corpus(tmp_path / "runs", n_bad=1, n_healthy=0)
    assert main(["scan", str(src), "--report", str(tmp_path / "nodir" / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["scan", str(src), "--report-thumbnails", "3"]) == 2
    assert "needs --report" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["scan", str(src), "--no-progress", "--report", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "matplotlib" in err and "--report-thumbnails 0" in err
    assert not (tmp_path / "r.html").exists()
