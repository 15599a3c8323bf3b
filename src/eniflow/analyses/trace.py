"""Both sides of a conversation, paired, in time order: what each ENI logged beside the truth.

One row per packet stream and window: the sender ENI's egress record beside the receiver ENI's
ingress record that resolution paired with it (``peer``). A record whose other side was not
logged, or could not be paired, has a row of its own with the other side empty. The truth
columns (``src_ip``, ``dst_ip``) are the resolved addresses; ``*_logged`` is what each ENI wrote.
"""

from __future__ import annotations

import ipaddress

import duckdb

from ..errors import UsageError
from ..resolve import resolved_from

__all__ = ["trace", "parse_endpoint"]

_NEEDED = ("start", "end", "srcport", "dstport", "protocol", "packets", "action", "srcaddr", "dstaddr")


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
        paired AS (
          SELECT s.*, r.source AS r_source, r.line AS r_line FROM snd s
          LEFT JOIN rcv r ON r.source = s.peer_source AND r.line = s.peer_line
        ), rows AS (
          SELECT p."start", p."end", p.src_ip, p.srcport, p.dst_ip, p.dstport, p.protocol,
                 {side('p', 'sender')}, {side('r', 'receiver')}
          FROM paired p LEFT JOIN rcv r ON r.source = p.r_source AND r.line = p.r_line
          UNION ALL
          SELECT r."start", r."end", r.src_ip, r.srcport, r.dst_ip, r.dstport, r.protocol,
                 {side('s', 'sender')}, {side('r', 'receiver')}
          FROM rcv r LEFT JOIN snd s ON false
          WHERE NOT EXISTS (SELECT 1 FROM paired p WHERE p.r_source = r.source AND p.r_line = r.line)
        )
        SELECT * FROM rows
        ORDER BY "start", src_ip = $b, coalesce(sender_source, receiver_source), coalesce(sender_line, receiver_line)
    """, params={"a": a, "b": b})
