"""Top talkers on real (resolved) addresses, counting a conversation logged on two ENIs once.

Both ENIs of a conversation inside the VPC log it, so summing every record doubles
those bytes. Once addresses are resolved, both sides' records of a flow carry the same
real 5-tuple, and only one ENI's records of it are counted (see :func:`deduplicated_sql`).
Keys that belong to one ENI's point of view (``local_ip``, ``remote_ip``,
``interface_id``, ``owner``) need no such step: each side's record lands under its own
ENI's key.

User values (``--where``, ``--since``) reach SQL only as bound parameters.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

import duckdb

from ..errors import UsageError
from ..times import parse_time

__all__ = ["top", "check_options", "Top", "KEYS", "PER_ENI_KEYS", "METRICS", "PROTOCOLS", "SERVICES", "where_clause", "protocol_name_sql",
           "service_name_sql", "deduplicated_sql"]

PROTOCOLS = {1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah",
             58: "icmpv6", 89: "ospf", 112: "vrrp", 132: "sctp"}
SERVICES = {20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "dns", 67: "dhcp", 69: "tftp",
            80: "http", 88: "kerberos", 110: "pop3", 111: "rpcbind", 123: "ntp", 135: "msrpc", 137: "netbios-ns",
            139: "netbios-ssn", 143: "imap", 161: "snmp", 179: "bgp", 389: "ldap", 443: "https", 445: "smb",
            465: "smtps", 500: "isakmp", 514: "syslog", 587: "submission", 636: "ldaps", 853: "dns-over-tls",
            873: "rsync", 993: "imaps", 995: "pop3s", 1433: "mssql", 1521: "oracle", 2049: "nfs", 2379: "etcd",
            3306: "mysql", 3389: "rdp", 4500: "ipsec-nat-t", 5432: "postgresql", 5439: "redshift", 5671: "amqps",
            5672: "amqp", 5985: "winrm", 6379: "redis", 6443: "kubernetes-api", 8080: "http-alt",
            8443: "https-alt", 9092: "kafka", 9200: "elasticsearch", 10250: "kubelet", 11211: "memcached",
            27017: "mongodb"}

# key -> the columns it shows, as SQL over the resolved view
_REMOTE = ("CASE WHEN direction = 'ingress' THEN src_ip WHEN direction = 'egress' THEN dst_ip "
           "WHEN local_ip = src_ip THEN dst_ip WHEN local_ip = dst_ip THEN src_ip END")
KEYS: dict[str, list[tuple[str, str]]] = {
    "src_ip": [("src_ip", "src_ip")],
    "dst_ip": [("dst_ip", "dst_ip")],
    "pair": [("ip_a", "least(src_ip, dst_ip)"), ("ip_b", "greatest(src_ip, dst_ip)")],
    "local_ip": [("local_ip", "local_ip")],
    "remote_ip": [("remote_ip", _REMOTE)],
    "dstport": [("dstport", "dstport")],
    "protocol": [("protocol", "protocol")],
    "interface_id": [("interface_id", "interface_id")],
    "owner": [("owner", "owner")],
    "action": [("action", "action")],
}
# Keys seen from one ENI: the two records of a conversation fall under different keys.
PER_ENI_KEYS = frozenset({"local_ip", "remote_ip", "interface_id", "owner"})
METRICS = ("bytes", "packets", "records", "flows")
# One conversation, whichever direction a record has: both endpoints with ports, and the protocol.
_FLOW = ("least(src_ip || ' ' || srcport, dst_ip || ' ' || dstport) || ' ' || "
         "greatest(src_ip || ' ' || srcport, dst_ip || ' ' || dstport) || ' ' || protocol")
_NEEDED = ("src_ip", "dst_ip", "local_ip", "direction", "owner", "interface_id", "srcport", "dstport", "protocol",
           "packets", "bytes", "start", "end", "action", "log_status", "resolution")
# Records whose real 5-tuple is not known: both ENIs' records of such a flow may differ, and count twice.
_UNSURE = "('as-logged', 'ambiguous')"


def _case(column: str, names: dict[int, str]) -> str:
    whens = " ".join(f"WHEN {number} THEN '{name}'" for number, name in names.items())
    return f"CASE {column} {whens} END"


def protocol_name_sql(column: str = "protocol") -> str:
    """SQL naming an IANA protocol number (6 -> tcp), else the number as text."""
    return f"coalesce({_case(column, PROTOCOLS)}, CAST({column} AS VARCHAR))"


def service_name_sql(port: str = "dstport", protocol: str = "protocol") -> str:
    """SQL naming a well-known TCP/UDP/SCTP port (443 -> https), else NULL."""
    return f"CASE WHEN {protocol} IN (6, 17, 132) THEN {_case(port, SERVICES)} END"


def deduplicated_sql(view: str) -> str:
    """SQL selecting the rows of ``view`` with every flow counted on one ENI only.

    A flow is the real 5-tuple (src_ip, srcport, dst_ip, dstport, protocol). When several
    ENIs of ``view`` logged it (both ends of a conversation, or an instance and its NAT
    gateway), only the records of the first ENI (by id) are kept: each ENI's records
    account for all of the flow's packets, whatever their capture windows, so keeping one
    ENI's records is exact where pairing record by record is not.
    """
    same = " AND ".join(f"f.{c} IS NOT DISTINCT FROM r.{c}" for c in ("src_ip", "dst_ip", "srcport", "dstport",
                                                                       "protocol"))
    return (f"SELECT r.* FROM {view} r JOIN (SELECT src_ip, dst_ip, srcport, dstport, protocol, "
            f"min(interface_id) AS first_eni FROM {view} GROUP BY ALL) f ON {same} "
            "AND f.first_eni IS NOT DISTINCT FROM r.interface_id")


# --where ------------------------------------------------------------------------------------
_WHERE_KEYS = ("ip", "src", "dst", "local", "cidr", "port", "srcport", "dstport", "protocol", "action", "eni")


def _ipv4_number(column: str) -> str:
    parts = [f"TRY_CAST(split_part({column}, '.', {i}) AS BIGINT)" for i in range(1, 5)]
    return f"({parts[0]} * 16777216 + {parts[1]} * 65536 + {parts[2]} * 256 + {parts[3]})"


def _guess_key(value: str) -> str:
    if value.upper() in ("ACCEPT", "REJECT"):
        return "action"
    if value.startswith("eni-"):
        return "eni"
    if value.isdigit():
        return "port"
    if value.lower() in PROTOCOLS.values():
        return "protocol"
    if "/" in value:
        return "cidr"
    try:
        ipaddress.ip_address(value)
        return "ip"
    except ValueError:
        raise UsageError(f"cannot read the filter {value!r}; write KEY=VALUE with KEY one of {', '.join(_WHERE_KEYS)} "
                         "(e.g. ip=10.0.1.20, cidr=10.0.0.0/16, port=443, action=REJECT, eni=eni-0abc).") from None


def _condition(key: str, value: str) -> tuple[str, list]:
    if key in ("ip", "src", "dst", "local"):
        try:
            ip = str(ipaddress.ip_address(value))
        except ValueError:
            raise UsageError(f"--where {key}={value}: not an IP address.") from None
        columns = {"ip": ["src_ip", "dst_ip"], "src": ["src_ip"], "dst": ["dst_ip"], "local": ["local_ip"]}[key]
        return "(" + " OR ".join(f"{c} = ?" for c in columns) + ")", [ip] * len(columns)
    if key == "cidr":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise UsageError(f"--where cidr={value}: not a CIDR block such as 10.0.0.0/16.") from None
        if net.version != 4:
            raise UsageError(f"--where cidr={value}: IPv6 blocks are not supported yet; filter on an exact address with ip=.")
        low, high = int(net.network_address), int(net.broadcast_address)
        return (f"({_ipv4_number('src_ip')} BETWEEN ? AND ? OR {_ipv4_number('dst_ip')} BETWEEN ? AND ?)",
                [low, high, low, high])
    if key in ("port", "srcport", "dstport"):
        if not value.isdigit():
            raise UsageError(f"--where {key}={value}: a port is a number such as 443.")
        columns = ["srcport", "dstport"] if key == "port" else [key]
        return "(" + " OR ".join(f"{c} = ?" for c in columns) + ")", [int(value)] * len(columns)
    if key == "protocol":
        numbers = {name: number for number, name in PROTOCOLS.items()}
        number = int(value) if value.isdigit() else numbers.get(value.lower())
        if number is None:
            raise UsageError(f"--where protocol={value}: give a number or one of {', '.join(sorted(numbers))}.")
        return "protocol = ?", [number]
    if key == "action":
        if value.upper() not in ("ACCEPT", "REJECT"):
            raise UsageError(f"--where action={value}: the action is ACCEPT or REJECT.")
        return "action = ?", [value.upper()]
    if key == "eni":
        return "interface_id = ?", [value]
    raise UsageError(f"--where {key}=...: unknown filter; use one of {', '.join(_WHERE_KEYS)}.")


def where_clause(filters: Sequence[str] | None) -> tuple[str, list]:
    """SQL condition and its parameters for ``--where`` filters.

    Each filter is ``KEY=VALUE`` (or a bare value whose kind is obvious: an IP, a CIDR,
    a port, ACCEPT/REJECT, an ENI id, a protocol name); ``VALUE`` may list alternatives
    separated by commas. Filters are combined with AND.
    """
    conditions, params = [], []
    for text in filters or ():
        key, sep, values = text.partition("=")
        if not sep:
            key, values = "", text
        alternatives = []
        for value in values.split(","):
            value = value.strip()
            sql, args = _condition(key.strip().lower() or _guess_key(value), value)
            alternatives.append(sql)
            params.extend(args)
        conditions.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(conditions) or "TRUE", params


# top ----------------------------------------------------------------------------------------
@dataclass
class Top:
    """The ranking (``relation``) and how many duplicate records it skipped."""

    relation: duckdb.DuckDBPyRelation
    by: str
    metric: str
    duplicates: int
    records: int
    unresolved: int = 0  # selected records labelled as-logged or ambiguous

    @property
    def note(self) -> str:
        if self.by in PER_ENI_KEYS:
            return (f"{self.records} records; each ENI's records count under its own {self.by}, "
                    "so a conversation logged on both ENIs appears once under each side.")
        note = (f"{self.records} records; conversations logged on both ENIs counted once "
                f"({self.duplicates} record{'s' if self.duplicates != 1 else ''} of the second ENI skipped).")
        if self.unresolved:  # their two sides show different addresses, so they are not known to be one flow
            note += (f" {self.unresolved} record{'s' if self.unresolved != 1 else ''} with unresolved addresses "
                     "(as-logged, ambiguous) count as logged: a conversation among them that both ENIs logged "
                     "counts twice.")
        return note


def _resolved(data, since, until, inventory, aws):
    """``data`` as resolved records: resolved already, read flows (resolved here), or sources."""
    from ..resolve import resolve

    if hasattr(data, "relation") and hasattr(data, "con"):
        return data if "local_ip" in data.relation.columns else resolve(data, inventory=inventory)
    from ..read import read

    return resolve(read(data, since=since, until=until, aws=aws), inventory=inventory)


def check_options(by: str, metric: str, n: int, where: Sequence[str] | None) -> None:
    """Raise UsageError for a bad --by, --metric, -n or --where, before anything is read."""
    if by not in KEYS:
        raise UsageError(f"--by {by}: choose one of {', '.join(KEYS)}.")
    if metric not in METRICS:
        raise UsageError(f"--metric {metric}: choose one of {', '.join(METRICS)}.")
    if n < 1:
        raise UsageError(f"-n {n}: give a positive number of rows.")
    where_clause(where)


def top(data, by: str = "src_ip", metric: str = "bytes", n: int = 10, *, where: Sequence[str] | None = None,
        since=None, until=None, inventory=None, aws=None) -> Top:
    """Rank ``by`` a key on real addresses by ``metric`` (bytes, packets, records or flows).

    ``data`` is a :class:`eniflow.Resolved` (or anything with ``.relation`` and ``.con``
    holding the resolved columns), the :class:`eniflow.Flows` of a read, or sources to read;
    the last two are resolved with ``inventory``.
    """
    check_options(by, metric, n, where)
    from ..read import ensure_columns

    resolved = _resolved(data, since, until, inventory, aws)
    if metric in ("bytes", "packets") and metric not in resolved.relation.columns:
        raise UsageError(f"--metric {metric}: these flow logs have no {metric} field (their format leaves it out); "
                         "rank by --metric records or flows, or add ${" + metric + "} to the flow log's format.")
    con = resolved.con
    ensure_columns(resolved.relation, _NEEDED).create_view("eniflow_top_input", replace=True)
    condition, params = where_clause(where)
    start, end = parse_time(since), parse_time(until)
    if start is not None:
        condition += ' AND ("end" IS NULL OR "end" >= ?)'
        params.append(start)
    if end is not None:
        condition += ' AND ("start" IS NULL OR "start" < ?)'
        params.append(end)
    selected = f"WITH selected AS (SELECT * FROM eniflow_top_input WHERE coalesce(log_status, 'OK') = 'OK' AND {condition}) "
    counted = "selected" if by in PER_ENI_KEYS else f"({deduplicated_sql('selected')})"
    keys = KEYS[by]
    names = [name for name, _ in keys]
    shown = [f"{expr} AS {name}" for name, expr in keys]
    if by in ("protocol", "dstport"):  # a port means something per protocol: group by both
        shown.append(f"{protocol_name_sql()} AS protocol_name")
    if by == "dstport":
        shown.append(f"{service_name_sql()} AS service")
    totals = {"bytes": "CAST(sum(bytes) AS BIGINT)", "packets": "CAST(sum(packets) AS BIGINT)", "records": "count(*)",
              "flows": f"count(DISTINCT {_FLOW})"}
    sql = (f"SELECT {', '.join(shown)}, "
           + ", ".join(f"{expr} AS {m}" for m, expr in totals.items())
           + f", round(100.0 * {totals[metric]} / nullif(sum({totals[metric]}) OVER (), 0), 1) AS share, "
           "sum(count(*)) OVER () AS kept_records "
           f"FROM {counted} GROUP BY {', '.join(str(i + 1) for i in range(len(shown)))} "
           f"ORDER BY {metric} DESC NULLS LAST, {', '.join(names)} LIMIT {int(n)}")
    # The ranking is small: compute it once (with the number of records it kept), then count
    # what the filters selected, which needs no deduplication.
    ranking = con.sql(selected + sql, params=params).to_arrow_table()
    kept = ranking.column("kept_records")[0].as_py() if ranking.num_rows else 0
    records, unresolved = con.execute(selected + "SELECT count(*), coalesce(sum(CASE WHEN resolution IN "
                                      f"{_UNSURE} THEN 1 ELSE 0 END), 0) FROM selected", params).fetchall()[0]
    relation = con.from_arrow(ranking.drop_columns(["kept_records"]))
    return Top(relation, by, metric, records - kept, records, int(unresolved))
