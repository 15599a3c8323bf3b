"""What the HTML report shows, as small aggregated tables computed in SQL over ``resolved``.

Everything here is aggregated or limited in DuckDB; Python only sees the few hundred
rows that end up on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from ..analyses.top import protocol_name_sql, service_name_sql, top
from ..read import ensure_columns

__all__ = ["ReportData", "collect", "REJECT_CAUSES"]

VIEW = "eniflow_report_input"
TOP_N = 10
SERIES_MAX = 8  # local addresses drawn in the time chart; the rest are summed as "other"
BUCKETS = 48  # time buckets across the span
ROWS_MAX = 50  # rows of the conversation and rejection tables
LIST_MAX = 500  # ENIs and local addresses listed (the busiest first)
_NEEDED = ("interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
           "action", "log_status", "reject_reason", "direction", "src_ip", "dst_ip", "local_ip", "resolution", "owner")
_OK = "coalesce(log_status, 'OK') = 'OK'"
# The address AWS wrote for the logging ENI (its primary IPv4, whatever the packet used).
_LOGGED_LOCAL = "CASE direction WHEN 'ingress' THEN dstaddr WHEN 'egress' THEN srcaddr END"

REJECT_CAUSES = {
    "bpa": "VPC Block Public Access (reject-reason BPA)",
    "nacl-reply": "network ACL dropped the reply of an accepted flow: ACLs are stateless, security groups never "
                  "drop replies; allow the ephemeral ports in the ACL",
    "after-close": "the same flow was also accepted: packets after the connection closed, or a rule changed",
    "no-rule": "no rule allows it: the security group (or network ACL) of this ENI",
}


@dataclass
class ReportData:
    summary: dict
    stats: object | None
    enis: list[dict]
    addresses: list[dict]
    series: dict  # {"buckets": [t...], "width": s, "lines": {address: [bytes per bucket]}}
    top_sources: object
    top_pairs: object
    actions: object
    resolutions: list[tuple]
    conversations: list[dict]
    rejected: list[dict]
    gaps: list[dict]


def _rows(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def collect(resolved, stats=None, inventory=None) -> ReportData:
    """Compute every table of the report from a resolved relation (``.con``/``.relation``)."""
    con = resolved.con
    # One pass over the resolution joins; every section below scans this copy of the columns it needs.
    ensure_columns(resolved.relation, _NEEDED).select(", ".join(f'"{c}"' for c in _NEEDED)).create_view(
        f"{VIEW}_source", replace=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {VIEW} AS SELECT * FROM {VIEW}_source")
    copy = SimpleNamespace(con=con, relation=con.table(VIEW))
    summary = _rows(con, f"""
        SELECT count(*) FILTER (WHERE {_OK}) AS records, count(DISTINCT interface_id) AS enis,
               count(DISTINCT local_ip) AS local_addresses, min(start) AS first, max("end") AS last,
               sum(bytes) AS bytes, sum(packets) AS packets,
               count(*) FILTER (WHERE log_status = 'NODATA') AS nodata,
               count(*) FILTER (WHERE log_status = 'SKIPDATA') AS skipdata,
               count(*) FILTER (WHERE action = 'REJECT') AS rejected FROM {VIEW}""")[0]
    enis = _enis(con, inventory)
    addresses = _rows(con, f"""
        SELECT interface_id, local_ip, any_value(owner) AS owner,
               sum(bytes) FILTER (WHERE direction = 'ingress') AS bytes_in,
               sum(bytes) FILTER (WHERE direction = 'egress') AS bytes_out,
               count(*) AS records, string_agg(DISTINCT resolution, ', ' ORDER BY resolution) AS resolutions
        FROM {VIEW} WHERE {_OK} GROUP BY ALL
        ORDER BY coalesce(bytes_in, 0) + coalesce(bytes_out, 0) DESC, interface_id, local_ip NULLS LAST LIMIT {LIST_MAX}""")
    return ReportData(
        summary=summary, stats=stats, enis=enis, addresses=addresses, series=_series(con, summary),
        top_sources=top(copy, by="src_ip", metric="bytes", n=TOP_N),
        top_pairs=top(copy, by="pair", metric="bytes", n=TOP_N),
        actions=top(copy, by="action", metric="records", n=TOP_N),
        resolutions=con.execute(f"SELECT coalesce(resolution, '(none)'), count(*) FROM {VIEW} GROUP BY 1 "
                                "ORDER BY 2 DESC, 1").fetchall(),
        conversations=_conversations(con), rejected=_rejected(con),
        gaps=_rows(con, f"""SELECT interface_id, log_status, count(*) AS records, min(start) AS first, max("end") AS last
                            FROM {VIEW} WHERE log_status = 'SKIPDATA' GROUP BY ALL ORDER BY interface_id"""))


def _enis(con, inventory) -> list[dict]:
    """Each ENI with its addresses: from the inventory when given, else as the logs show them."""
    seen = _rows(con, f"""
        SELECT interface_id, mode({_LOGGED_LOCAL}) AS logged_as,
               list(DISTINCT local_ip ORDER BY local_ip) FILTER (WHERE local_ip IS NOT NULL) AS addresses,
               any_value(owner) AS owner, count(*) FILTER (WHERE {_OK}) AS records, sum(bytes) AS bytes
        FROM {VIEW} GROUP BY interface_id ORDER BY bytes DESC NULLS LAST, interface_id LIMIT {LIST_MAX}""")
    facts = inventory.ownership() if inventory else []
    known: dict[str, dict] = {}
    for fact in facts:
        if fact.interface_id is not None:
            entry = known.setdefault(fact.interface_id, {"primary": None, "secondary": []})
            if fact.is_primary:
                entry["primary"] = fact.address
            elif fact.address not in entry["secondary"]:
                entry["secondary"].append(fact.address)
    pods = {f.address: f.owner for f in facts if f.interface_id is None}
    for eni in seen:
        inv = known.get(eni["interface_id"])
        addresses = eni["addresses"] or []
        eni["primary"] = inv["primary"] if inv and inv["primary"] else eni["logged_as"]
        secondary = inv["secondary"] if inv else []
        # a pod IP is a secondary IP of its node's ENI: listed once, with its pod
        held = (set(secondary) | set(addresses)) - {eni["primary"]}
        eni["secondary"] = sorted(held - set(pods))
        eni["pods"] = sorted(f"{a} ({pods[a]})" for a in held if a in pods)
        eni["from_inventory"] = bool(inv)
    return seen


def _series(con, summary) -> dict:
    """Bytes per time bucket for the busiest local addresses (by record start)."""
    first, last = summary["first"], summary["last"]
    if first is None or last is None:
        return {"buckets": [], "width": 0, "lines": {}}
    width = max(60, -(-(last - first + 1) // BUCKETS))
    width = -(-width // 60) * 60  # whole minutes
    busiest = [r[0] for r in con.execute(
        f"SELECT local_ip FROM {VIEW} WHERE {_OK} AND local_ip IS NOT NULL GROUP BY 1 "
        f"ORDER BY sum(bytes) DESC NULLS LAST, 1 LIMIT {SERIES_MAX}").fetchall()]
    rows = con.execute(
        f"SELECT CASE WHEN list_contains(?, local_ip) THEN local_ip ELSE 'other' END AS address, "
        f"(start - ?) // ? AS bucket, sum(bytes) FROM {VIEW} WHERE {_OK} AND local_ip IS NOT NULL "
        "GROUP BY ALL ORDER BY 1, 2", [busiest, first, width]).fetchall()
    count = (last - first) // width + 1
    lines = {address: [0] * count for address in busiest}
    for address, bucket, total in rows:
        lines.setdefault(address, [0] * count)[min(int(bucket), count - 1)] += int(total or 0)
    return {"buckets": [first + i * width for i in range(count)], "width": width, "lines": lines}


def _conversations(con) -> list[dict]:
    """Flows logged on two ENIs (the same real 5-tuple): what each ENI wrote for it."""
    return _rows(con, f"""
        WITH f AS (
          SELECT src_ip, srcport, dst_ip, dstport, protocol, interface_id,
                 min(srcaddr || ' → ' || dstaddr) AS logged, count(*) AS records, sum(bytes) AS bytes
          FROM {VIEW} WHERE {_OK} AND src_ip IS NOT NULL GROUP BY ALL)
        SELECT a.src_ip, a.srcport, a.dst_ip, a.dstport, {protocol_name_sql('a.protocol')} AS protocol,
               {service_name_sql('a.dstport', 'a.protocol')} AS service,
               a.interface_id AS eni_a, a.logged AS logged_a, b.interface_id AS eni_b, b.logged AS logged_b,
               a.records AS records, a.bytes AS bytes
        FROM f a JOIN f b ON a.src_ip = b.src_ip AND a.dst_ip = b.dst_ip AND a.srcport = b.srcport
             AND a.dstport = b.dstport AND a.protocol = b.protocol AND a.interface_id < b.interface_id
        ORDER BY a.bytes DESC NULLS LAST, a.src_ip, a.dst_ip, a.srcport LIMIT {ROWS_MAX}""")


def _rejected(con) -> list[dict]:
    """Rejected records grouped per ENI and flow, with the likely cause (reference §13)."""
    return _rows(con, f"""
        WITH r AS (SELECT * FROM {VIEW} WHERE action = 'REJECT'),
        accepted AS (SELECT DISTINCT interface_id, direction, src_ip, dst_ip, srcport, dstport, protocol
                     FROM {VIEW} WHERE action = 'ACCEPT')
        SELECT r.interface_id, r.direction, r.src_ip, r.srcport, r.dst_ip, r.dstport,
               {protocol_name_sql('r.protocol')} AS protocol,
               CASE WHEN any_value(r.reject_reason) = 'BPA' THEN 'bpa'
                    WHEN bool_or(rev.interface_id IS NOT NULL) THEN 'nacl-reply'
                    WHEN bool_or(same.interface_id IS NOT NULL) THEN 'after-close'
                    ELSE 'no-rule' END AS cause,
               count(*) AS records, sum(r.packets) AS packets
        FROM r
        LEFT JOIN accepted rev ON rev.interface_id = r.interface_id AND rev.direction <> r.direction
             AND rev.src_ip = r.dst_ip AND rev.dst_ip = r.src_ip AND rev.srcport = r.dstport
             AND rev.dstport = r.srcport AND rev.protocol = r.protocol
        LEFT JOIN accepted same ON same.interface_id = r.interface_id AND same.direction = r.direction
             AND same.src_ip = r.src_ip AND same.dst_ip = r.dst_ip AND same.srcport = r.srcport
             AND same.dstport = r.dstport AND same.protocol = r.protocol
        GROUP BY r.interface_id, r.direction, r.src_ip, r.srcport, r.dst_ip, r.dstport, r.protocol
        ORDER BY records DESC, r.interface_id, r.src_ip LIMIT {ROWS_MAX}""")
