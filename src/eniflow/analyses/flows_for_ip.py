"""Every record whose real source or destination is one IP, the masked ones included.

A record on a multi-IP ENI shows the ENI's primary where the packet used a secondary; after
resolution its ``src_ip``/``dst_ip`` are the real ones, so searching those finds the records a
search of ``srcaddr``/``dstaddr`` misses. Records whose local address is still unknown but
could be the IP (``ambiguous`` with the IP among ``candidates``) are listed too, marked
``match = 'candidate'``, so nothing that may concern the IP is hidden; so is an ambiguous or
as-logged record whose logged local address (the ENI's primary) is the IP, since the packet may
have used another of the ENI's addresses.
"""

from __future__ import annotations

import ipaddress

import duckdb

from ..errors import UsageError
from ..resolve import resolved_from

__all__ = ["flows_for_ip", "check_options", "COLUMNS"]

# What a reader needs to judge each record: when, where, the truth, what was logged, how we know.
COLUMNS = ("interface_id", "start", "end", "direction", "src_ip", "srcport", "dst_ip", "dstport", "protocol",
           "packets", "bytes", "action", "srcaddr", "dstaddr", "match", "masked", "resolution", "confidence",
           "candidates", "owner", "peer_interface_id", "source", "line")


def check_options(ip: str, port: int | None = None) -> str:
    """The IP in canonical form; UsageError for a bad --ip or --port, before anything is read."""
    try:
        ip = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise UsageError(f"--ip {ip!r} is not an IP address; give one such as 10.0.1.20.") from None
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is a number from 0 to 65535, such as 443.")
    return ip


def flows_for_ip(data, ip: str, *, port: int | None = None, inventory=None, since=None, until=None,
                 aws=None) -> duckdb.DuckDBPyRelation:
    """Records of ``data`` (a Resolved, Flows or sources) to or from ``ip`` (optionally on ``port``).

    ``match`` says how the record concerns the IP: ``src``, ``dst`` or ``candidate``; ``masked``
    is true when the flow log itself did not show the IP (the resolution found it).
    """
    ip = check_options(ip, port)
    from ..read import ensure_columns

    resolved = resolved_from(data, inventory=inventory, since=since, until=until, aws=aws)
    con = resolved.con
    # A custom format may lack fields shown here (start, bytes, pkt-*...): they are NULL then.
    needed = [c for c in (*COLUMNS, "pkt_srcaddr", "pkt_dstaddr") if c not in ("match", "masked")]
    ensure_columns(resolved.relation, needed).create_view("eniflow_flows_input", replace=True)
    port_filter = "" if port is None else f"AND (srcport = {int(port)} OR dstport = {int(port)})"
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    # list_contains is DuckDB's; Spark spells it array_contains.
    return con.sql(f"""
        SELECT {columns} FROM (
          -- an ambiguous or as-logged record's local_ip is the logged address, perhaps not the packet's
          SELECT *, CASE WHEN resolution IN ('ambiguous', 'as-logged') AND local_ip = $ip THEN 'candidate'
                         WHEN src_ip = $ip THEN 'src' WHEN dst_ip = $ip THEN 'dst' ELSE 'candidate' END AS match,
                 NOT (coalesce(srcaddr = $ip, false) OR coalesce(dstaddr = $ip, false)
                      OR coalesce(pkt_srcaddr = $ip, false) OR coalesce(pkt_dstaddr = $ip, false)) AS masked
          FROM eniflow_flows_input
          WHERE (src_ip = $ip OR dst_ip = $ip OR (resolution = 'ambiguous' AND list_contains(candidates, $ip))) {port_filter}
        ) ORDER BY "start", interface_id, source, line
    """, params={"ip": ip})
