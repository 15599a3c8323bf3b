"""Both sides of a conversation, paired, in time order: what each ENI logged beside the truth.

One row per packet stream and window: the sender ENI's egress record beside the receiver ENI's
ingress record that resolution paired with it (``peer``), or, where both records are certain
without pairing (``pkt``, ``single``), the other ENI's record of the same packets. A receiver
record that no sender record took (windows of different phases or lengths: one sender record
may overlap two receiver records) has a row of its own beside its own partner, so that record
may show twice; a record whose other side was not logged, or could not be paired, has a row of
its own with the other side empty. The truth
columns (``src_ip``, ``dst_ip``) are the resolved addresses; ``*_logged`` is what each ENI wrote.
"""

from __future__ import annotations

import ipaddress

import duckdb

from ..errors import UsageError
from ..resolve import resolved_from

__all__ = ["trace", "parse_endpoint"]

_NEEDED = ("interface_id", "start", "end", "srcport", "dstport", "protocol", "packets", "action", "srcaddr", "dstaddr")


def parse_endpoint(text: str) -> tuple[str, int | None]:
    """'10.0.1.20', '10.0.1.20:443' or '[fd00::1]:443' -> (address, port or None)."""
    raw = text.strip()
    host, port = raw, None
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    try:
        host = str(ipaddress.ip_address(host))
        port = None if port in (None, "") else int(port)
    except ValueError:
        raise UsageError(f"{text!r} is not an address: give IP or IP:PORT, e.g. 10.0.1.20:443.") from None
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"{text!r}: a port is a number from 0 to 65535, as in 10.0.1.20:443.")
    return host, port


def trace(data, src: str, dst: str, *, inventory=None, since=None, until=None, aws=None) -> duckdb.DuckDBPyRelation:
    """The conversation between ``src`` (IP) and ``dst`` (IP or IP:PORT) in ``data`` (Resolved, Flows or sources).

    Requests (src -> dst) and replies (dst -> src) are both shown; the port, when given, is the
    destination's (dstport of requests, srcport of replies).
    """
    a, a_port = parse_endpoint(src)
    b, b_port = parse_endpoint(dst)
    from ..read import ensure_columns

    resolved = resolved_from(data, inventory=inventory, since=since, until=until, aws=aws)
    # A custom format may lack fields shown here (start, packets...): they are NULL then.
    ensure_columns(resolved.relation, _NEEDED).create_view("eniflow_trace_input", replace=True)
    ports = []
    if b_port is not None:
        ports.append(f"((src_ip = $a AND dstport = {b_port}) OR (src_ip = $b AND srcport = {b_port}))")
    if a_port is not None:
        ports.append(f"((src_ip = $a AND srcport = {a_port}) OR (src_ip = $b AND dstport = {a_port}))")
    port_filter = "".join(f" AND {p}" for p in ports)
    side = lambda t, n: (f"{t}.interface_id AS {n}_eni, {t}.srcaddr || ' -> ' || {t}.dstaddr AS {n}_logged, "  # noqa: E731
                         f"{t}.resolution AS {n}_resolution, {t}.packets AS {n}_packets, {t}.action AS {n}_action, "
                         f"{t}.source AS {n}_source, {t}.line AS {n}_line")
    return resolved.con.sql(f"""
        WITH conv AS (
          SELECT * FROM eniflow_trace_input
          WHERE ((src_ip = $a AND dst_ip = $b) OR (src_ip = $b AND dst_ip = $a)){port_filter}
        ), snd AS (SELECT * FROM conv WHERE direction = 'egress' OR direction IS NULL),
        rcv AS (SELECT * FROM conv WHERE direction = 'ingress'),
        -- The receiver of each sender record: its peer; else the record that took it as its peer;
        -- else, when both are certain (pkt fields, say, need no pairing), another ENI's record of the
        -- same real 5-tuple in an overlapping window (60 s lag, as resolution allows). Of several,
        -- the longest overlap, then the first by source and line. Where the packets crossed a
        -- forwarder (a record whose local_ip is not the packet's: NAT or transit gateway), first the
        -- hop: a sender and receiver of which one is the forwarder's (client -> attachment in the
        -- client's VPC, attachment in the server's -> server), not the two ends or two forwarders.
        cand AS (
          SELECT s.source AS s_source, s.line AS s_line, r.source AS r_source, r.line AS r_line,
                 coalesce(s.src_ip <> s.local_ip, false) = coalesce(r.dst_ip <> r.local_ip, false) AS not_hop,
                 CASE WHEN r.source = s.peer_source AND r.line = s.peer_line THEN 0
                      WHEN s.source = r.peer_source AND s.line = r.peer_line THEN 1 ELSE 2 END AS how,
                 least(s."end", r."end") - greatest(s."start", r."start") AS overlap
          FROM snd s JOIN rcv r
            ON (r.source = s.peer_source AND r.line = s.peer_line)
            OR (s.source = r.peer_source AND s.line = r.peer_line)
            OR (s.resolution IN ('pkt', 'peer', 'single') AND r.resolution IN ('pkt', 'peer', 'single')
                AND r.interface_id <> s.interface_id AND r.src_ip = s.src_ip AND r.dst_ip = s.dst_ip
                AND r.srcport = s.srcport AND r.dstport = s.dstport AND r.protocol = s.protocol
                AND greatest(s."start", r."start") <= least(s."end", r."end") + 60)
        ), best AS (
          SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY s_source, s_line
                                                      ORDER BY not_hop, how, overlap DESC, r_source, r_line) AS n
                         FROM cand) WHERE n = 1
        ), sender AS (  -- likewise the sender of each receiver record (its own peer first), for those left over
          SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY r_source, r_line
                                                      ORDER BY not_hop, CASE how WHEN 1 THEN 0 WHEN 0 THEN 1 ELSE 2 END,
                                                               overlap DESC, s_source, s_line) AS n
                         FROM cand) WHERE n = 1
        ), paired AS (
          SELECT s.*, b.r_source, b.r_line FROM snd s
          LEFT JOIN best b ON b.s_source = s.source AND b.s_line = s.line
        ), rows AS (
          SELECT p."start", p."end", p.src_ip, p.srcport, p.dst_ip, p.dstport, p.protocol,
                 {side('p', 'sender')}, {side('r', 'receiver')}
          FROM paired p LEFT JOIN rcv r ON r.source = p.r_source AND r.line = p.r_line
          UNION ALL
          SELECT r."start", r."end", r.src_ip, r.srcport, r.dst_ip, r.dstport, r.protocol,
                 {side('s', 'sender')}, {side('r', 'receiver')}
          FROM rcv r LEFT JOIN sender b ON b.r_source = r.source AND b.r_line = r.line
          LEFT JOIN snd s ON s.source = b.s_source AND s.line = b.s_line
          WHERE NOT EXISTS (SELECT 1 FROM paired p WHERE p.r_source = r.source AND p.r_line = r.line)
        )
        SELECT * FROM rows
        ORDER BY "start", src_ip = $b, coalesce(sender_source, receiver_source), coalesce(sender_line, receiver_line)
    """, params={"a": a, "b": b})
