"""The report page: one HTML document with its style, script and charts inline.

Every value that comes from the logs goes through :func:`_e` (``html.escape`` with
quotes), including values placed in attributes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from importlib.resources import files

from .. import __version__
from .charts import bar_chart, human, line_chart
from .data import REJECT_CAUSES, ReportData

__all__ = ["render_page"]

FOLD_ROWS = 25


def _e(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return escape(", ".join(map(str, value)), quote=True)
    return escape(str(value), quote=True)


def _when(t) -> str:
    return "–" if t is None else datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(table_id: str, columns: list[tuple[str, str, str]], rows: list[dict], empty: str) -> str:
    """A sortable table; ``columns`` are (key, header, kind) with kind '', 'num', 'int' (no
    thousands separator: ports, line numbers) or 'mono'."""
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{_e(empty)}</p>'
    head = "".join(f'<th class="{"num" if kind == "int" else kind}">{_e(title)}</th>' for _, title, kind in columns)
    body = []
    for row in rows:
        cells = []
        for key, _, kind in columns:
            value = row.get(key)
            if kind in ("num", "int"):
                shown = f"{value:,}" if kind == "num" and isinstance(value, int) else _e(value)
                cells.append(f'<td class="num" data-col="{key}" data-value="{_e(value)}">{shown}</td>')
            else:
                cells.append(f'<td class="{kind}" data-col="{key}">{_e(value)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _fold(html: str, rows: int, what: str) -> str:
    """Long tables start folded so that the charts stay within reach."""
    if rows <= FOLD_ROWS:
        return html
    return f"<details><summary>{rows:,} {_e(what)} (busiest first): show</summary>{html}</details>"


def _card(test_id: str, value, label: str) -> str:
    return f'<div class="card" data-testid="{test_id}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _rows(relation) -> list[dict]:
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def _summary(d: ReportData) -> str:
    s = d.summary
    cards = [_card("records", f"{s['records']:,}", "records (OK)"), _card("enis", s["enis"], "network interfaces"),
             _card("addresses", s["local_addresses"], "local addresses"),
             _card("bytes", human(s["bytes"], "B"), "bytes, as logged on every ENI"),
             _card("rejected", f"{s['rejected']:,}", "rejected records"),
             _card("span", f"{_when(s['first'])} → {_when(s['last'])}", "time span")]
    out = [f'<div class="cards">{"".join(cards)}</div>']
    st = d.stats
    if st is not None:
        counts = [("lines", st.lines), ("header lines", st.headers), ("blank", st.blank), ("records (OK)", st.records),
                  ("NODATA", st.nodata), ("SKIPDATA", st.skipdata), ("malformed", st.malformed),
                  ("unreadable sources", len(st.errors))]
        out.append("<h3>Read statistics: where every input line went</h3>"
                   + _table("read-stats", [(k, k, "num") for k, _ in counts], [dict(counts)], ""))
    out.append("<h3>Data gaps</h3>" + _table(
        "gaps", [("interface_id", "ENI", "mono"), ("log_status", "status", ""), ("records", "records", "num"),
                 ("first_t", "from", ""), ("last_t", "to", "")],
        [{**g, "first_t": _when(g["first"]), "last_t": _when(g["last"])} for g in d.gaps],
        "No SKIPDATA records: AWS reports no skipped flows in this data."))
    return "".join(out)


def _enis(d: ReportData) -> str:
    rows = [{**e, "secondary": e["secondary"], "pods": e["pods"],
             "basis": "inventory" if e["from_inventory"] else "as the logs show"} for e in d.enis]
    enis = _table("enis", [("interface_id", "ENI", "mono"), ("owner", "owner", ""), ("primary", "primary", "mono"),
                           ("secondary", "secondary / other addresses", "mono"), ("pods", "pods", "mono"),
                           ("records", "records", "num"), ("bytes", "bytes", "num"), ("basis", "addresses from", "")],
                  rows, "No records.")
    enis = _fold(enis, len(rows), "network interfaces")
    per = _table("addresses", [("interface_id", "ENI", "mono"), ("local_ip", "local address", "mono"),
                               ("owner", "owner", ""), ("bytes_in", "bytes in", "num"), ("bytes_out", "bytes out", "num"),
                               ("records", "records", "num"), ("resolutions", "resolution", "")],
                 d.addresses, "No records.")
    per = _fold(per, len(d.addresses), "local addresses")
    return enis + "<h3>Traffic per local address</h3>" + per


def _charts(d: ReportData) -> str:
    sources = _rows(d.top_sources.relation)
    pairs = _rows(d.top_pairs.relation)
    actions = _rows(d.actions.relation)
    action_colors = {"ACCEPT": "#16a34a", "REJECT": "#dc2626"}
    top_table = _table("top-sources", [("src_ip", "source", "mono"), ("bytes", "bytes", "num"),
                                       ("packets", "packets", "num"), ("records", "records", "num"),
                                       ("flows", "flows", "num"), ("share", "share %", "num")], sources, "No traffic.")
    pair_table = _table("top-pairs", [("ip_a", "address", "mono"), ("ip_b", "address", "mono"),
                                      ("bytes", "bytes", "num"), ("packets", "packets", "num"),
                                      ("records", "records", "num"), ("share", "share %", "num")], pairs, "No traffic.")
    return f"""
<h3>Traffic over time per local address (bytes)</h3>
{line_chart(d.series, chart_id="chart-time")}
<div class="grid2">
<div><h3>Top talkers (source, bytes)</h3>
{bar_chart([(r["src_ip"], r["bytes"]) for r in sources], chart_id="chart-top", unit="B")}
{top_table}<p class="note">{_e(d.top_sources.note)}</p></div>
<div><h3>Top conversations (bytes)</h3>
{bar_chart([(f"{r['ip_a']} ↔ {r['ip_b']}", r["bytes"]) for r in pairs], chart_id="chart-pairs", unit="B")}
{pair_table}</div>
<div><h3>Accepted vs rejected (records)</h3>
{bar_chart([(r["action"], r["records"]) for r in actions], chart_id="chart-actions", colors=action_colors)}
{_table("actions", [("action", "action", ""), ("records", "records", "num"), ("bytes", "bytes", "num"),
                    ("packets", "packets", "num")], actions, "No traffic.")}</div>
<div><h3>How each record's local address is known (records)</h3>
{bar_chart(d.resolutions, chart_id="chart-resolution")}
<p class="note">pkt: from pkt-* fields · peer: joined with the other side's record · single: the ENI had one
address · inferred / ambiguous: a best guess · as-logged: ENI addresses unknown · none: NODATA/SKIPDATA.</p></div>
</div>"""


def _conversations(d: ReportData) -> str:
    return _table("conversations", [
        ("src_ip", "source", "mono"), ("srcport", "port", "int"), ("dst_ip", "destination", "mono"),
        ("dstport", "port", "int"), ("protocol", "proto", ""), ("service", "service", ""),
        ("eni_a", "one ENI", "mono"), ("logged_a", "logged there as", "mono"),
        ("eni_b", "other ENI", "mono"), ("logged_b", "logged there as", "mono"),
        ("records", "records", "num"), ("bytes", "bytes", "num")], d.conversations,
        "No flow was logged on two ENIs with the same real addresses.")


def _rejected(d: ReportData) -> str:
    rows = [{**r, "why": REJECT_CAUSES[r["cause"]]} for r in d.rejected]
    return _table("rejected", [
        ("interface_id", "ENI", "mono"), ("direction", "direction", ""), ("src_ip", "source", "mono"),
        ("srcport", "port", "int"), ("dst_ip", "destination", "mono"), ("dstport", "port", "int"),
        ("protocol", "proto", ""), ("records", "records", "num"), ("packets", "packets", "num"),
        ("why", "likely cause", "")], rows, "No rejected traffic.")


def _malformed(d: ReportData) -> str:
    st = d.stats
    if st is None:
        return '<p class="empty">Read statistics were not given to the report.</p>'
    rows = [{"source": m.source, "line": m.line, "reason": m.reason, "text": m.text} for m in st.malformed_samples]
    out = _table("malformed", [("source", "source", "mono"), ("line", "line", "int"), ("reason", "reason", ""),
                               ("text", "text", "mono")], rows, "No malformed lines.")
    more = st.malformed_beyond(st.malformed_samples)
    if more > 0:
        out += f'<p class="note">… and {more:,} more malformed lines.</p>'
    for problem in list(st.errors) + list(st.warnings):
        out += f'<p class="note">{_e(problem)}</p>'
    return out


def render_page(d: ReportData, *, title: str, sources: list[str]) -> str:
    """The whole document as text."""
    assets = files(__package__)
    css = assets.joinpath("style.css").read_text(encoding="utf-8")
    js = assets.joinpath("report.js").read_text(encoding="utf-8")
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{css}</style></head>
<body>
<header><h1>{_e(title)}</h1>
<div class="sub">Sources: <code>{_e(sources)}</code> · generated {generated} by eniflow {__version__}</div></header>
<main>
<section id="summary"><h2>Summary</h2>{_summary(d)}</section>
<section id="interfaces"><h2>Network interfaces and their addresses</h2>{_enis(d)}</section>
<section id="charts"><h2>Traffic</h2>{_charts(d)}</section>
<section id="conversation-section"><h2>Conversations seen from both sides</h2>
<p class="note">AWS writes an ENI's primary address in srcaddr/dstaddr on that ENI, whatever address the packet used;
the other side's record shows the real one. Each row is one flow direction (real addresses and ports) as both ENIs
logged it.</p>
{_conversations(d)}</section>
<section id="rejected-section"><h2>Rejected traffic and its likely cause</h2>{_rejected(d)}</section>
<section id="malformed-section"><h2>Malformed input</h2>{_malformed(d)}</section>
</main>
<footer>Every number on this page comes from the flow logs given; nothing was fetched to draw it.</footer>
<script>{js}</script>
</body></html>
"""
