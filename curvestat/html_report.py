"""One self-contained HTML page for a batch: ``curvestat scan ... --report report.html``.

The page needs no server and no network: the CSS and the few lines of
script that sort the table are inline, the thumbnails are PNG images embedded
as base64 ``data:`` URIs, and nothing links outside the file. It holds

* the summary counts (runs, healthy, flagged, not judged, errors) and, per
  pathology, the runs flagged after FDR control with the smallest q-value;
* a table of every run (status, top finding, p and q, series), sortable by
  clicking a column header;
* one annotated thumbnail (:func:`curvestat.plot.plot_report`) per flagged
  run, the worst first (severity, then q-value), up to a cap the page states;
* the runs that could not be read (error rows) and those no detector could
  judge, with the reasons.

Thumbnails re-read each flagged run from its source (the batch rows do not
keep the curves), so they need the same ``roles``/``steps_per_epoch`` as the
scan; a run scored from memory (no source path) is listed without a figure.
"""

from __future__ import annotations

import base64
import html
import io as _io
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import CurvestatError, MissingDependencyError, ParameterError

__all__ = ["write_html_report", "DEFAULT_MAX_THUMBNAILS"]

#: Thumbnails drawn by default, the worst flagged runs first. A figure costs
#: about 0.2 s of CPU (matplotlib), ten times the analysis of a typical run:
#: 20 keep the page's figures below the time of scanning 200 runs (``curvestat
#: scan`` on 200 runs of the packaged real corpus, CPU time of the command:
#: 7.4-9.4 s, 4-6 s more for 20 figures, 13-20 s more for 50).
DEFAULT_MAX_THUMBNAILS = 20

_SEV_RANK = {"critical": 0, "warning": 1, "info": 2}
_STATUS_RANK = {"flagged": 0, "error": 1, "not_judged": 2, "healthy": 3}
_THUMB_DPI = 64


def require_matplotlib() -> None:
    """Raise :class:`MissingDependencyError` when matplotlib cannot be imported (thumbnails need it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "the HTML report's thumbnails need matplotlib: pip install 'curvestat[plot]' "
            "(or draw none: --report-thumbnails 0)"
        ) from None


def _status(row: Any) -> str:
    if row.status != "ok":
        return "error"
    if not row.healthy:
        return "flagged"
    return "healthy" if row.detectors else "not_judged"


def _kept(row: Any) -> list[Mapping[str, Any]]:
    """The findings that stand after FDR, non-info, most severe first (the order the CSV's top_* columns use)."""
    return [f for f in row.findings if f.get("fdr_rejected", True) and f["severity"] != "info"]


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def _fmt_p(x: Any) -> str:
    v = _num(x)
    if v is None:
        return ""
    return "< 1e-16" if v < 1e-16 else f"{v:.2g}"


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _finding_label(f: Mapping[str, Any]) -> str:
    at = f" @ step {f['onset_step']}" if f.get("onset_step") is not None else ""
    return f"{f['pathology']}/{f['kind']}{at}"


def _finding_from_dict(d: Mapping[str, Any]) -> Any:
    from .report import Finding

    effect = {str(k): float(v) for k, v in (d.get("effect") or {}).items() if _num(v) is not None}
    p = _num(d.get("p_value"))
    return Finding(
        pathology=d["pathology"],
        kind=d.get("kind", ""),
        series=d.get("series", ""),
        p_value=p if p is None or 0.0 <= p <= 1.0 else None,
        statistic=_num(d.get("statistic")),
        effect=effect,
        onset_step=d.get("onset_step"),
        period_steps=_num(d.get("period_steps")),
        severity=d.get("severity", "warning"),
        message=d.get("message", ""),
        remedies=tuple(d.get("remedies") or ()),
        detector=d.get("detector", ""),
    )


def _thumbnail(row: Any, read_kw: Mapping[str, Any]) -> tuple[str | None, str]:
    """(base64 PNG or None, note)."""
    from .io import read
    from .plot import _pyplot, plot_report
    from .report import Report

    if row.source is None:
        return None, "no figure: the run was scored from memory, not from a file"
    try:
        run = read(row.source, **read_kw)
    except (CurvestatError, OSError) as exc:
        return None, f"no figure: the source could not be read again ({type(exc).__name__}: {exc})"
    findings = [_finding_from_dict(f) for f in row.findings if f.get("fdr_rejected", True)]
    report = Report(findings=findings, run_id=row.run_id, source=row.source, detectors=list(row.detectors))
    plt = _pyplot()
    fig = plot_report(report, run, thumbnail=True)
    try:
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=_THUMB_DPI)
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii"), ""


def _thumbnail_quiet(task: tuple[Any, Mapping[str, Any]]) -> tuple[str | None, str]:
    import warnings

    with warnings.catch_warnings():
        # the scan already reported each run's reading warnings once
        warnings.simplefilter("ignore")
        return _thumbnail(*task)


def _draw_all(rows: list[Any], read_kw: Mapping[str, Any], n_jobs: int) -> dict[int, tuple[str | None, str]]:
    import os

    workers = (os.cpu_count() or 1) if n_jobs == -1 else max(1, int(n_jobs))
    workers = min(workers, len(rows))
    tasks = [(r, read_kw) for r in rows]
    if workers > 1 and len(rows) >= 4:
        from concurrent.futures import ProcessPoolExecutor

        from .batch import _mp_context
        from .plot import _pyplot

        _pyplot()  # imported once here, inherited by forked workers
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) as pool:
                drawn = list(pool.map(_thumbnail_quiet, tasks, chunksize=max(1, len(tasks) // (4 * workers))))
            return {r.index: d for r, d in zip(rows, drawn)}
        except Exception:  # a worker that died or could not start: draw in this process instead
            pass
    return {r.index: _thumbnail_quiet(t) for r, t in zip(rows, tasks)}


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
.meta{color:#666}.counts span{display:inline-block;margin:.2em .8em .2em 0;padding:.3em .7em;border-radius:4px;background:#f2f2f2}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:.3em .5em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#fafafa;position:sticky;top:0}table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \\2195";color:#bbb}td.num{text-align:right;font-variant-numeric:tabular-nums}
.s-flagged{color:#b3261e;font-weight:600}.s-healthy{color:#117733}.s-not_judged{color:#777}.s-error{color:#8a5a00;font-weight:600}
.sev-critical{color:#b3261e}.sev-warning{color:#b86e00}.sev-info{color:#777}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;border-radius:6px;padding:.6em;width:420px}
.card img{width:100%;height:auto;display:block}.card h3{font-size:13px;margin:.2em 0 .4em;word-break:break-all}
.card ul{margin:.4em 0 0 1.1em;padding:0;font-size:12px}.note{color:#777;font-size:12px}
code{font-size:12px}
"""

# Click a header to sort by it (numbers by data-v, else text); click again to reverse.
_JS = """
document.querySelectorAll("table.sortable").forEach(function(t){
  t.querySelectorAll("th").forEach(function(th,i){
    th.addEventListener("click",function(){
      var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.asc!=="1";
      t.querySelectorAll("th").forEach(function(h){delete h.dataset.asc});if(asc)th.dataset.asc="1";
      function key(r){var c=r.cells[i],v=c.getAttribute("data-v");return v!==null&&v!==""&&!isNaN(v)?parseFloat(v):c.textContent.toLowerCase()}
      rows.sort(function(a,c){var x=key(a),y=key(c);if(typeof x!==typeof y){x=String(x);y=String(y)}return (x<y?-1:x>y?1:0)*(asc?1:-1)});
      rows.forEach(function(r){b.appendChild(r)});
    });
  });
});
"""


def _row_sort_key(row: Any) -> tuple[int, float, int]:
    sev, q = row._worst_key()
    return (sev, q, row.index)


def _render(rows: Sequence[Any], stats: Any, fdr: float | None, thumbs: Mapping[int, tuple[str | None, str]],
            n_flagged: int, cap: int, title: str, elapsed: float) -> str:
    out: list[str] = []
    w = out.append
    w("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
    w(f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>")
    w(f"<h1>{_e(title)}</h1>")
    how = (f"false-discovery rate q = {fdr:g} (Benjamini-Hochberg over {stats.n_tests} run-detector tests)"
           if fdr is not None else "no FDR control (every finding at the per-run level alpha)")
    w(f"<p class=\"meta\">curvestat {_e(__version__)} &middot; {_e(time.strftime('%Y-%m-%d %H:%M:%S'))} &middot; {_e(how)}</p>")

    # -- summary
    w("<h2>Summary</h2><p class=\"counts\">")
    for label, n in (("runs", stats.n_runs), ("healthy", stats.n_healthy), ("flagged", stats.n_flagged),
                     ("not judged", stats.n_not_judged), ("errors", stats.n_errors)):
        w(f"<span id=\"count-{label.replace(' ', '_')}\"><b>{n}</b> {label}</span>")
    w("</p>")
    per: dict[str, dict[str, Any]] = {}
    for r in rows:
        for f in _kept(r) if r.status == "ok" else ():
            d = per.setdefault(f["pathology"], {"runs": set(), "findings": 0, "q": None, "certain": 0})
            d["runs"].add(r.index)
            d["findings"] += 1
            q = _num(f.get("q_value"))
            if q is not None:
                d["q"] = q if d["q"] is None else min(d["q"], q)
            elif f.get("fdr") == "certain":
                d["certain"] += 1
    w("<table id=\"pathologies\"><thead><tr><th>pathology</th><th>runs flagged</th><th>findings kept</th>"
      "<th>smallest q</th><th>certain (no p-value)</th></tr></thead><tbody>")
    for name, n in sorted(stats.flagged_by_pathology.items(), key=lambda kv: (-kv[1], kv[0])):
        d = per.get(name, {"findings": 0, "q": None, "certain": 0})
        w(f"<tr data-pathology=\"{_e(name)}\"><td>{_e(name)}</td><td class=\"num\">{n}</td><td class=\"num\">{d['findings']}</td>"
          f"<td class=\"num\">{_e(_fmt_p(d['q']))}</td><td class=\"num\">{d['certain']}</td></tr>")
    if not stats.flagged_by_pathology:
        w("<tr><td colspan=\"5\">no run flagged</td></tr>")
    w("</tbody></table>")
    if stats.n_suppressed:
        w(f"<p class=\"note\">{stats.n_suppressed} finding(s) in {stats.n_runs_suppressed} run(s) were significant at alpha "
          f"alone but not after FDR control ({stats.n_unhealthy_before_fdr} runs would be flagged without it); "
          "they stay in the table, marked suppressed.</p>")
    if stats.errors_by_type:
        w("<p>errors by type: " + ", ".join(f"{_e(k)} {v}" for k, v in sorted(stats.errors_by_type.items(), key=lambda kv: -kv[1])) + "</p>")

    # -- every run
    w("<h2>Runs</h2><p class=\"note\">Click a column header to sort.</p>")
    w("<table class=\"sortable\" id=\"runs\"><thead><tr><th>run</th><th>status</th><th>top finding</th><th>severity</th>"
      "<th>p</th><th>q</th><th>series</th><th>findings</th><th>other</th></tr></thead><tbody>")
    for r in rows:
        st = _status(r)
        kept = _kept(r) if r.status == "ok" else []
        top = kept[0] if kept else None
        notes = sum(1 for f in r.findings if f["severity"] == "info")
        sup = [f for f in r.findings if f.get("fdr") == "suppressed"]
        other = []
        if st == "error":
            other.append(f"{r.error_type}: {r.error}")
        if st == "not_judged":
            other.append("no detector could run")
        if notes:
            other.append(f"{notes} note{'s' if notes != 1 else ''}")
        if sup:
            other.append("; ".join(f"{f['pathology']}/{f['kind']} {f.get('fdr_note', '')}" for f in sup))
        sev = top["severity"] if top else ""
        p = _num(top.get("p_value")) if top else None
        q = _num(top.get("q_value")) if top else None
        link = f"<a href=\"#run-{r.index}\">{_e(r.run_id)}</a>" if r.index in thumbs else _e(r.run_id)
        w(f"<tr class=\"run\" data-status=\"{st}\" data-index=\"{r.index}\"><td>{link}</td>"
          f"<td class=\"s-{st}\" data-v=\"{_STATUS_RANK[st]}\">{st.replace('_', ' ')}</td>"
          f"<td>{_e(_finding_label(top)) if top else ''}</td>"
          f"<td class=\"sev-{_e(sev)}\" data-v=\"{_SEV_RANK.get(sev, 3)}\">{_e(sev)}</td>"
          f"<td class=\"num\" data-v=\"{'' if p is None else repr(p)}\">{_e(_fmt_p(p)) if top else ''}</td>"
          f"<td class=\"num\" data-v=\"{'' if q is None else repr(q)}\">"
          f"{_e(_fmt_p(q)) if q is not None else ('certain' if top and top.get('fdr') == 'certain' else '')}</td>"
          f"<td>{_e(top['series']) if top else ''}</td><td class=\"num\">{len(kept)}</td><td>{_e(' | '.join(other))}</td></tr>")
    w("</tbody></table>")

    # -- thumbnails
    w("<h2 id=\"figures\">Flagged runs</h2>")
    shown = len(thumbs)
    if n_flagged == 0:
        w("<p>No run was flagged.</p>")
    else:
        capped = f"; the report is capped at {cap} (change it with <code>--report-thumbnails N</code>)" if n_flagged > shown else f" (cap {cap})"
        w(f"<p id=\"thumbnail-cap\" data-cap=\"{cap}\" data-shown=\"{shown}\" data-flagged=\"{n_flagged}\">"
          f"Figures of {shown} of {n_flagged} flagged runs, the most severe and smallest q-value first{capped}.</p>")
        w("<div class=\"cards\">")
        by_index = {r.index: r for r in rows}
        for idx, (b64, note) in thumbs.items():
            r = by_index[idx]
            w(f"<div class=\"card\" id=\"run-{idx}\" data-run=\"{_e(r.run_id)}\"><h3>{_e(r.run_id)}</h3>")
            if b64 is not None:
                w(f"<img class=\"thumb\" alt=\"{_e(r.run_id)}\" src=\"data:image/png;base64,{b64}\">")
            else:
                w(f"<p class=\"note\">{_e(note)}</p>")
            w("<ul>")
            for f in [f for f in r.findings if f.get("fdr_rejected", True)]:
                qtxt = _fmt_p(f.get("q_value"))
                w(f"<li><span class=\"sev-{_e(f['severity'])}\">[{_e(f['severity'])}]</span> {_e(_finding_label(f))} in "
                  f"<code>{_e(f['series'])}</code>{' (q ' + _e(qtxt) + ')' if qtxt else ''}: {_e(f.get('message', ''))}</li>")
            w("</ul></div>")
        w("</div>")

    # -- errors and not judged
    errs = [r for r in rows if r.status != "ok"]
    w(f"<h2 id=\"errors\">Errors ({len(errs)})</h2>")
    if errs:
        w("<table id=\"error-rows\"><thead><tr><th>run</th><th>source</th><th>error</th><th>message</th></tr></thead><tbody>")
        for r in errs:
            w(f"<tr class=\"error-row\"><td>{_e(r.run_id)}</td><td>{_e(r.source)}</td><td>{_e(r.error_type)}</td><td>{_e(r.error)}</td></tr>")
        w("</tbody></table>")
    else:
        w("<p>Every run could be read.</p>")
    nj = [r for r in rows if _status(r) == "not_judged"]
    w(f"<h2 id=\"not-judged\">Not judged ({len(nj)})</h2>")
    if nj:
        w("<p class=\"note\">No detector could run on these: too little data, or no training curve. They are not healthy.</p>")
        w("<table id=\"not-judged-rows\"><thead><tr><th>run</th><th>why</th></tr></thead><tbody>")
        for r in nj:
            why = "; ".join(f"{s.get('detector')}: {s.get('reason')}" for s in r.skipped)
            w(f"<tr class=\"not-judged-row\"><td>{_e(r.run_id)}</td><td>{_e(why)}</td></tr>")
        w("</tbody></table>")
    else:
        w("<p>Every readable run was judged by at least one detector.</p>")
    w(f"<p class=\"meta\">figures drawn in {elapsed:.1f} s</p>")
    w(f"<script>{_JS}</script></body></html>\n")
    return "\n".join(out)


def write_html_report(
    result: Any,
    path: str | Path,
    *,
    max_thumbnails: int = DEFAULT_MAX_THUMBNAILS,
    title: str | None = None,
    roles: Mapping[str, str] | None = None,
    steps_per_epoch: int | None = None,
    tracking_uri: str | None = None,
    n_jobs: int = 1,
) -> Path:
    """Write a batch result as one self-contained HTML page.

    Parameters
    ----------
    result : BatchResult
        What :func:`curvestat.analyze_many` returned (an iterable of
        :class:`~curvestat.batch.BatchRow` with ``stats`` and ``fdr``).
    path : str or Path
        The ``.html`` file to write.
    max_thumbnails : int, optional
        Draw a figure for at most this many flagged runs, the most severe and
        smallest q-value first (default :data:`DEFAULT_MAX_THUMBNAILS`); 0 draws
        none and needs no matplotlib. The page states the cap.
    title : str, optional
        The page's title (default: "curvestat scan: N runs").
    roles, steps_per_epoch, tracking_uri
        How the runs were read for the scan: the thumbnails read each flagged
        run again from its source.
    n_jobs : int, optional
        Processes drawing the figures (default 1; -1: all cores).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    MissingDependencyError
        If figures are asked for and matplotlib is not installed.
    ParameterError
        If ``max_thumbnails`` is negative or ``path`` cannot be written.

    Examples
    --------
    >>> import curvestat, tempfile, os
    >>> from curvestat.html_report import write_html_report
    >>> res = curvestat.analyze_many([{"loss": [1.0, 0.9, float("nan")]}])
    >>> p = write_html_report(res, os.path.join(tempfile.mkdtemp(), "r.html"), max_thumbnails=0)
    >>> "<b>1</b> flagged" in p.read_text()
    True
    """
    if isinstance(max_thumbnails, bool) or not isinstance(max_thumbnails, int) or max_thumbnails < 0:
        raise ParameterError(f"max_thumbnails must be a non-negative integer, got {max_thumbnails!r}")
    out = Path(path)
    rows: list[Any] = list(result)
    stats = result.stats
    flagged = sorted((r for r in rows if _status(r) == "flagged"), key=_row_sort_key)
    chosen: Iterable[Any] = flagged[:max_thumbnails]
    t0 = time.perf_counter()
    thumbs: dict[int, tuple[str | None, str]] = {}
    if max_thumbnails and flagged:
        require_matplotlib()
        read_kw: dict[str, Any] = {"roles": roles, "steps_per_epoch": steps_per_epoch}
        if tracking_uri is not None:
            read_kw["tracking_uri"] = tracking_uri
        thumbs = _draw_all(list(chosen), read_kw, n_jobs)
    elapsed = time.perf_counter() - t0
    text = _render(rows, stats, result.fdr, thumbs, len(flagged), max_thumbnails,
                   title or f"curvestat scan: {stats.n_runs} runs", elapsed)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot write the HTML report to {out}: {exc}") from None
    return out
