"""The real address behind every record, and how we know it (DESIGN.md "Resolution columns").

On the logging ENI, AWS writes the ENI's primary private IPv4 into ``dstaddr`` of ingress and
``srcaddr`` of egress records whichever of its addresses the packet used (reference §12); the
other address is real. Evidence, strongest first:

``pkt``       ``pkt-srcaddr``/``pkt-dstaddr`` carry the packet's addresses. On an ENI that forwards
              others' packets (NAT/TGW/GWLB/NLB, or a pkt address that cannot be the ENI's: public,
              another ENI's, outside the primary's /16) ``local_ip`` is the ENI's own address. Where
              only a snapshot that does not describe the ENI then gives the address to another ENI,
              the record is ``ambiguous`` between the two (see ``_PKT``).
``peer``      the same packets logged on the other ENI: an egress record on A (``PA -> Y``) and an
              ingress record on B (``X -> PB``) with the same protocol and ports, windows
              overlapping within ``TOLERANCE`` seconds. Each side shows the other's real address,
              so A's address is X and B's is Y. Pairs are found by hash joins on protocol, ports,
              a time bucket and an ENI key: the ENI that owns X (for A) or Y (for B) per the
              inventory, the primaries learned from the logs and what earlier rounds resolved.
              A claim is made only when it is unique (see ``_CLAIMS``), never against the
              inventory, and, without one, for an unknown address of the sender only once
              unambiguous pairings of two flows imply it (see ``_PAIRS``).
``single``    the inventory says the ENI had exactly this one IPv4 then, and no evidence disagrees.
``inferred``  the other resolved records of this ENI with the same protocol and local port (or
              else the same remote address and port) went to one address from ``min_support``
              endpoints or more, ``INFER_SHARE`` percent of them; ``confidence`` is its share.
              Not when the remote address is a logged ENI's (the pairing failed for a reason).
``ambiguous`` one of ``candidates`` (the ENI's addresses known from inventory and evidence).
``as-logged`` nothing more is known; the record's own addresses.
``none``      NODATA/SKIPDATA records.

Direction: ``flow_direction`` when logged; else the ENI's primary on the source side means
egress, on the destination side ingress (see ``_PRIMARY_CANDIDATES`` for where the primary
comes from).

Everything is SQL on DuckDB tables named ``_res_*`` in an attached work database (in memory, or
a temporary file for large inputs); the result is the view ``resolved`` in the flows'
connection. The SQL is plain (joins, GROUP BY, ``FILTER``, ``min_by``/``max_by``, ``any_value``,
``hash``) so that it can move to Spark or Athena. The work tables hold integers only: sources,
ENIs and addresses are numbered once (``_DICTIONARIES``). Four steps are DuckDB's own, each
with a plain counterpart the other engines run (the same rows): the peer join on one packed
BIGINT key, the records left open looked up in a bitmap of the claimed ones instead of an
anti-join, the view pairing records with ``_res_r`` by position (POSITIONAL JOIN) instead of
joining on their number, and naming by list index (session variables) instead of by joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from .errors import EniflowError
from .inventory import Inventory
from .progress import ProgressLine

__all__ = ["resolve", "resolved_from", "Resolved", "RESOLUTION_COLUMNS", "LABELS", "DEFAULT_MIN_SUPPORT", "INFER_SHARE", "TOLERANCE"]

RESOLUTION_COLUMNS = ("direction", "src_ip", "dst_ip", "local_ip", "resolution", "candidates", "confidence",
                      "peer_interface_id", "peer_source", "peer_line", "owner")
LABELS = ("pkt", "peer", "single", "inferred", "ambiguous", "as-logged", "none")
DEFAULT_MIN_SUPPORT = 5  # distinct endpoints of resolved records needed before an address is inferred
INFER_SHARE = 80  # percent of that support the inferred address needs (a majority was right 40 % of the time)
INFER_Z = 3  # standard deviations beyond chance that support needs on an ENI of several addresses (_BEYOND_CHANCE)
TOLERANCE = 60  # seconds: start/end may lag the wire by up to 60 s (reference §2, §9)
_BUCKET = 300  # seconds per time bucket of the peer join
_MAX_SPAN_BUCKETS = 40  # longer records (> 3 h) take no part in peer joins
_PARTITION_ROWS = 6_000_000  # records per partition of the peer joins (bounds their memory)

_NEEDED = {"interface_id": "VARCHAR", "srcaddr": "VARCHAR", "dstaddr": "VARCHAR", "srcport": "BIGINT",
           "dstport": "BIGINT", "protocol": "BIGINT", "start": "BIGINT", "end": "BIGINT", "log_status": "VARCHAR",
           "pkt_srcaddr": "VARCHAR", "pkt_dstaddr": "VARCHAR", "flow_direction": "VARCHAR",
           "source": "VARCHAR", "line": "BIGINT"}


@dataclass
class Resolved:
    """Flows plus resolution columns: ``relation`` (the view ``resolved`` in ``con``)."""

    con: duckdb.DuckDBPyConnection
    columns: list[str]
    records: str = "_res_src f POSITIONAL JOIN _res_r r"  # FROM the records (f) with their resolution (r)
    flows: Any = None  # the Flows resolved, when resolve() was given one (its ReadStats: the CLI's account)

    @property
    def relation(self) -> duckdb.DuckDBPyRelation:
        return self.con.view("resolved")

    def summary(self) -> dict[str, int]:
        """Records per resolution label, every label present (0 when unused)."""
        counts = dict(self.con.execute("SELECT code, count(*) FROM _res_r GROUP BY code").fetchall())
        return {label: counts.get(code, 0) for code, label in enumerate(LABELS)}

    def discrepancies(self) -> duckdb.DuckDBPyRelation:
        """Where the logs contradict the inventory (``eniflow inventory check``)."""
        return self.con.sql(_DISCREPANCIES.replace("{records}", self.records))

    def learned(self) -> Inventory:
        """What the logs revealed: each ENI's primary and every address resolved by evidence."""
        from .inventory import Fact

        rows = self.con.execute(f"""
            WITH p AS (SELECT r.eid, r.addr AS aid, min(f."start") AS vf, max(f."end") AS vt FROM {self.records}
                       WHERE r.code = 1 AND r.addr IS NOT NULL GROUP BY r.eid, r.addr)
            SELECT l.eni, l.addr, l.is_primary, CASE WHEN NOT l.is_primary THEN least(l.vf, p.vf) END AS vf,
                   CASE WHEN NOT l.is_primary THEN greatest(l.vt, p.vt) END AS vt, l.kind
            FROM _res_learned l LEFT JOIN p ON p.eid = l.eid AND p.aid = l.aid ORDER BY 1, 2, 4""").fetchall()
        return Inventory(facts=[Fact(e, a, bool(p), vf, vt, None, f"logs:{k}") for e, a, p, vf, vt, k in rows])


def resolve(flows, inventory: Inventory | None = None, *, infer: bool = True,
            min_support: int = DEFAULT_MIN_SUPPORT, con: duckdb.DuckDBPyConnection | None = None,
            progress: bool = False) -> Resolved:
    """Add the resolution columns to every record of ``flows`` (a Flows or a DuckDB relation).
    ``progress``: name the step under way on a terminal's stderr (a large resolve takes minutes)."""
    rel, con = _input(flows, con)
    home = con.execute("SELECT current_database()").fetchall()[0][0]
    _work_storage(con, rel, home)
    inventory = inventory or Inventory()
    inventory.register(con, prefix="_res_")
    columns = list(rel.columns)
    have = set(columns)
    extra = [f'CAST(NULL AS {t}) AS "{c}"' for c, t in _NEEDED.items() if c not in have]
    rel.create_view("_res_in", replace=True)
    run = lambda sql: con.execute(sql)  # noqa: E731
    positional = _on_duckdb(con)  # DuckDB pairs the records and _res_r by position
    ordered = run("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0] if positional else None
    line = ProgressLine(progress, "resolving:", "{task.fields[step]}")
    say = lambda step: line.update(refresh=True, step=step)  # noqa: E731
    try:
        say("numbering sources, ENIs and addresses")
        run(f"CREATE OR REPLACE VIEW _res_src AS SELECT *{''.join(', ' + e for e in extra)} FROM _res_in")
        run(_DICTIONARIES)
        sources, max_line = run("SELECT count(*), coalesce(max(max_line), 0) FROM _res_sources").fetchall()[0]
        if int(max_line) >= _LINES - 1:
            raise EniflowError(f"a source has more than {_LINES - 2:,} lines; resolution numbers the records of "
                               "each source in 32 bits")
        # rid numbers the records in scan order: on DuckDB from the row numbers of read()'s parts,
        # else with row_number() OVER () (which keeps that pass on one thread).
        spooled = getattr(flows, "files", None) if positional else None
        run(_BASE.format(numbered=_numbered_parts(con, spooled, extra) if spooled else
                         "(SELECT CAST(row_number() OVER () AS INTEGER) AS rid, * FROM _res_src)"))
        # rid is the scan order and _res_r is sorted on it (_FINAL): between, order is free; with
        # the parts' numbers already from _res_b0 on, else after it (row_number() counts in order).
        if spooled:
            run("SET preserve_insertion_order = false")
        say("reading the records")
        run(_RECORDS)
        if positional and not spooled:
            run("SET preserve_insertion_order = false")
        say("finding each ENI's primary address")
        for step in (_PRIMARY_CANDIDATES, _PRIMARY, _ENIS):
            run(step)
        # The peer joins run in partitions of about _PARTITION_ROWS records (by protocol and ports).
        total, records = run("SELECT count(*), count(*) FILTER (WHERE ok) FROM _res_b").fetchall()[0]
        parts = max(1, -(-int(records) // _PARTITION_ROWS))
        # (Spark's hash is signed: the partition is made non-negative.)
        say("telling each record's direction")
        run(_DIRECTION.replace("{part}", f"CAST((hash(pr, sp, dp) % {parts} + {parts}) % {parts} AS INTEGER)"
                               if parts > 1 else "0"))
        for step in (_OWNERSHIP, _PKT):
            run(step)
        _peer_rounds(con, parts, packed=int(sources) < _PACKED_SOURCES, duckdb_key=positional, say=say)
        say("single-address ENIs and forwarders")
        claimed, still_open = _OPEN[positional]
        run(_EVIDENCE.format(claimed=claimed.format(records=max(1, int(total))), open=still_open))
        if positional:
            run("RESET VARIABLE eniflow_claimed")
        for step in (_LEARNED, _SINGLE, _HOPS):
            run(step)
        # inferred, for the records to infer (often none)
        say("inferring from resolved flows")
        run(_INFERRED if infer else "CREATE OR REPLACE TABLE _res_todo AS SELECT 1 AS rid WHERE false")
        to_infer = run("SELECT count(*) FROM _res_todo").fetchall()[0][0]
        run(_SUPPORT.format(min_support=int(min_support)) if to_infer else _NO_INFERRED)
        run("DROP TABLE _res_d")
        say("listing candidates")
        run(_CANDIDATES)
        if positional:
            run(f"SET preserve_insertion_order = {ordered}")
        say("putting the resolution in record order")
        run(_FINAL + (" ORDER BY rid" if positional else ""))
        run("DROP VIEW _res_sure")
        for table in ("_res_k", "_res_todo", "_res_single", "_res_hop", "_res_pc", "_res_tied", "_res_own", "_res_inv",
                      "_res_peerclaim", "_res_hopt"):
            run(f"DROP TABLE IF EXISTS {table}")  # what the view, summary(), learned() and discrepancies() do not read
        if positional:
            for name, query in _NAMES.items():
                run(f"SET VARIABLE {name} = ({query})")
    finally:
        line.close()
        if positional:
            con.execute(f"SET preserve_insertion_order = {ordered}")
        con.execute(f"USE {home}")
        con.execute(f"SET search_path = '{home}.main,{_WORK}.main'")  # summary() and friends read the work tables
    listed = ", ".join(f'f."{c}"' for c in columns)
    w = f"{_WORK}.main."
    if positional:
        # _res_r has one row per record, in rid order, which is the scan order of _res_src:
        # DuckDB pairs them by position (no join on ten million rids) and looks names up by index.
        records = paired = f"_res_src f POSITIONAL JOIN {w}_res_r r"
        order = ""
        names = {"local": "getvariable('eniflow_addrs')[abs(r.local)]",
                 "packet": "getvariable('eniflow_addrs')[abs(coalesce(r.hop, r.local))]", "owner": "getvariable('eniflow_owners')[r.eid]",
                 "pod": "getvariable('eniflow_pods')[abs(r.local)]", "peer": "getvariable('eniflow_enis')[r.peid]",
                 "source": f"getvariable('eniflow_sources')[CAST(floor(r.ppk / {_LINES}) AS INTEGER)]",
                 "cand": "getvariable('eniflow_cands')[r.cid]"}
    else:  # records numbered by the same scan of the same view as in _RECORDS (rid)
        paired = f"(SELECT CAST(row_number() OVER () AS INTEGER) AS rid, * FROM _res_src) f JOIN {w}_res_r r ON f.rid = r.rid"
        records = (f"{paired} LEFT JOIN {w}_res_addr la ON la.aid = r.local "
                   f"LEFT JOIN {w}_res_addr ha ON ha.aid = coalesce(r.hop, r.local) LEFT JOIN {w}_res_eni n ON n.id = r.eid "
                   f"LEFT JOIN {w}_res_pods pod ON pod.aid = r.local LEFT JOIN {w}_res_eni pn ON pn.id = r.peid "
                   f"LEFT JOIN {w}_res_sources ps ON ps.sid = CAST(floor(r.ppk / {_LINES}) AS INTEGER) "
                   f"LEFT JOIN {w}_res_cands c ON c.cid = r.cid")
        order = "ORDER BY f.rid"
        names = {"local": "la.addr", "packet": "ha.addr", "owner": "n.owner", "pod": "pod.owner", "peer": "pn.eni", "source": "ps.source",
                 "cand": "c.candidates"}
    # The packet's addresses are its pkt fields where logged, else the record's own except the
    # local side resolution found (r.local: that, else the logged one, by number: no text of the
    # record is read for it; on a forwarding ENI, r.hop: the address beyond it, see _HOPS).
    local, packet = names["local"], names["packet"]
    label = "CASE r.code " + " ".join(f"WHEN {code} THEN '{name}'" for code, name in enumerate(LABELS)) + " END"
    run(f"""CREATE OR REPLACE VIEW resolved AS
        SELECT {listed}, CASE r.egress WHEN true THEN 'egress' WHEN false THEN 'ingress' END AS direction,
          coalesce(f.pkt_srcaddr, CASE WHEN r.egress AND r.code <> 0 AND r.local IS NOT NULL THEN {packet} ELSE f.srcaddr END) AS src_ip,
          coalesce(f.pkt_dstaddr, CASE WHEN NOT r.egress AND r.code <> 0 AND r.local IS NOT NULL THEN {packet} ELSE f.dstaddr END) AS dst_ip,
          {local} AS local_ip, {label} AS resolution, {names['cand']} AS candidates,
          CASE WHEN r.code <= 2 THEN 1.0 ELSE r.confidence END AS confidence,
          {names['peer']} AS peer_interface_id, {names['source']} AS peer_source,
          CAST(nullif(r.ppk % {_LINES}, 0) - 1 AS BIGINT) AS peer_line,
          CASE WHEN r.code < 6 THEN coalesce(CASE WHEN r.code <= 3 THEN {names['pod']} END, {names['owner']}) END AS owner
        FROM {records}
        {order}""")
    return Resolved(con, columns + list(RESOLUTION_COLUMNS), paired, flows if _is_flows(flows) else None)


# Where the logs contradict the inventory: an address used by an ENI (pkt or peer evidence) at
# a time the inventory knows the ENI but not that address on it, or gives it to another ENI;
# and a primary learned from the logs that differs from the inventory's.
_DISCREPANCIES = """
WITH ev0 AS (
  SELECT k.eid, k.own_local AS aid, k.t0, k.t1, 'pkt' AS how FROM _res_pkt k
  WHERE k.own_local IS NOT NULL AND k.own_local <> k.ll
  UNION ALL SELECT k.eid, k.maybe, k.t0, k.t1, 'pkt' FROM _res_pkt k WHERE k.maybe IS NOT NULL
  UNION ALL SELECT r.eid, r.addr, f."start", f."end", 'peer' FROM {records} WHERE r.code = 1
  UNION ALL SELECT p.eid, p.addr, p.t0, p.t1, 'peer' FROM _res_contra p
  UNION ALL SELECT p.eid, p.addr, p.t0, p.t1, 'peer' FROM _res_contested p
), ev AS (
  SELECT n.eni, a.addr, ev0.t0, ev0.t1, ev0.how FROM ev0 JOIN _res_eni n ON n.id = ev0.eid JOIN _res_addr a ON a.aid = ev0.aid
), judged AS (
  SELECT ev.*,
         (SELECT count(*) FROM _res_inventory i WHERE i.interface_id = ev.eni
           AND (i.valid_from IS NULL OR i.valid_from <= ev.t1) AND (i.valid_to IS NULL OR i.valid_to >= ev.t0)) AS known,
         (SELECT count(*) FROM _res_inventory i WHERE i.interface_id = ev.eni AND i.address = ev.addr
           AND (i.valid_from IS NULL OR i.valid_from <= ev.t1) AND (i.valid_to IS NULL OR i.valid_to >= ev.t0)) AS held,
         (SELECT min(i.interface_id) FROM _res_inventory i WHERE i.interface_id <> ev.eni AND i.address = ev.addr
           AND (i.valid_from IS NULL OR i.valid_from <= ev.t1) AND (i.valid_to IS NULL OR i.valid_to >= ev.t0)) AS other
  FROM ev
)
SELECT eni AS interface_id, addr AS address,
       CASE WHEN other IS NOT NULL THEN 'held-by-other' ELSE 'not-in-snapshot' END AS kind,
       CASE WHEN other IS NOT NULL THEN 'the inventory gives it to ' || other
            ELSE 'the inventory lists the ENI then without it' END AS inventory_says,
       min(how) AS evidence, count(*) AS records, min(t0) AS first_seen, max(t1) AS last_seen
FROM judged WHERE held = 0 AND (known > 0 OR other IS NOT NULL)
GROUP BY eni, addr, kind, inventory_says
UNION ALL
SELECT p.eni, a.addr, 'primary-differs', 'primary ' || i.primary_ip, 'logs', NULL, NULL, NULL
FROM _res_primary p JOIN _res_addr a ON a.aid = p.pip JOIN _res_inventory_interfaces i ON i.interface_id = p.eni
WHERE i.primary_ip <> a.addr
ORDER BY 1, 2
"""


def resolved_from(data, *, inventory: Inventory | None = None, since=None, until=None, format=None, aws=None,
                  infer: bool = True) -> Resolved:
    """``data`` as a :class:`Resolved`: itself when it is one, else read (sources or Flows) and resolved."""
    if isinstance(data, Resolved):
        return data
    if not _is_flows(data):
        from .read import read

        data = read(data, since=since, until=until, format=format, aws=aws)
    return resolve(data, inventory, infer=infer)


_WORK = "eniflow_resolve"  # the database that holds resolution's tables
_IN_MEMORY_UP_TO = 12_000_000  # records; beyond, the tables go to a compressed temporary file


def _work_storage(con, rel, home: str) -> None:
    """Attach the database for resolution's tables and make it the default (``USE``).

    Up to ``_IN_MEMORY_UP_TO`` records, an in-memory one (fastest). Beyond, a temporary DuckDB
    file in the spill directory: DuckDB stores file tables compressed (about a tenth of the
    memory) and its buffer manager drops their pages under the memory limit, so large inputs
    stay within memory. The file is deleted when the connection is garbage-collected or at exit.
    """
    import atexit
    import os
    import tempfile

    # A resolve before on this connection left the work database on the search path: off it
    # first, or nothing binds once it is detached (that resolve's tables go with it).
    con.execute(f"SET search_path = '{home}.main'")
    con.execute(f"DETACH DATABASE IF EXISTS {_WORK}")
    records = rel.aggregate("count(*)").fetchall()[0][0]
    if records <= _IN_MEMORY_UP_TO:
        con.execute(f"ATTACH ':memory:' AS {_WORK}")
    else:
        spill = os.path.join(tempfile.gettempdir(), "eniflow-spill")
        os.makedirs(spill, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="resolve-", suffix=".duckdb", dir=spill)
        os.close(fd)
        os.unlink(path)
        con.execute(f"ATTACH '{path}' AS {_WORK}")
        for leftover in (path, path + ".wal"):
            atexit.register(lambda p=leftover: os.path.exists(p) and os.unlink(p))
    con.execute(f"USE {_WORK}")
    con.execute(f"SET search_path = '{_WORK}.main,{home}.main'")


def _on_duckdb(con) -> bool:
    """Whether ``con`` is DuckDB itself (not the Spark engine or the Athena recorder)."""
    return isinstance(con, duckdb.DuckDBPyConnection)


def _is_flows(flows) -> bool:
    """Whether ``flows`` is what eniflow.read() (or another engine's reader) returns."""
    return hasattr(flows, "relation") and hasattr(flows, "con")


def _input(flows, con):
    if _is_flows(flows):
        return flows.relation, flows.con
    if isinstance(flows, duckdb.DuckDBPyRelation):
        if con is None:
            from .engine import connect

            con = connect()
            table = flows.arrow()
            con.register("_res_arrow", table.read_all() if hasattr(table, "read_all") else table)
            return con.view("_res_arrow"), con
        return flows, con
    raise TypeError("resolve() takes the result of eniflow.read() or a DuckDB relation")


# May an address be one of an ENI's? Only a private one (RFC 1918 or 100.64/10: flow logs show
# an ENI's private addresses) in the /16 of the ENI's primary (a subnet is at most a /16 and an
# ENI's addresses are all in its subnet). Worked out once per distinct address (_res_addr).
_PRIVATE = """({x} LIKE '10.%' OR {x} LIKE '192.168.%'
  OR ({x} LIKE '172.%' AND TRY_CAST(split_part({x}, '.', 2) AS INTEGER) BETWEEN 16 AND 31)
  OR ({x} LIKE '100.%' AND TRY_CAST(split_part({x}, '.', 2) AS INTEGER) BETWEEN 64 AND 127))"""
_SLASH16_INT = "(TRY_CAST(split_part({x}, '.', 1) AS INTEGER) * 256 + TRY_CAST(split_part({x}, '.', 2) AS INTEGER))"

_COVERS = "({o}.vf IS NULL OR {o}.vf <= {r}.t1) AND ({o}.vt IS NULL OR {o}.vt >= {r}.t0)"

# Names as small integers, so that the work tables are narrow and their joins and groupings
# cheap: sources (sid), ENIs with records (id, in name order), and addresses (aid: in string
# order, so min() of aids is min() of addresses, and negative for all but IPv4, so aid > 0 says
# IPv4), with what resolution asks of an address: private (priv), its /16 (s16).
_DICTIONARIES = f"""
CREATE OR REPLACE TABLE _res_sources AS
SELECT CAST(row_number() OVER (ORDER BY source) AS INTEGER) AS sid, source, max_line
FROM (SELECT source, max(line) AS max_line FROM _res_src GROUP BY source);
CREATE OR REPLACE TABLE _res_eni AS
SELECT eni, CAST(row_number() OVER (ORDER BY eni) AS INTEGER) AS id
FROM (SELECT DISTINCT interface_id AS eni FROM _res_src WHERE interface_id IS NOT NULL);
CREATE OR REPLACE TABLE _res_addr AS
WITH a AS (
  SELECT srcaddr AS addr FROM _res_src UNION SELECT dstaddr FROM _res_src UNION SELECT pkt_srcaddr FROM _res_src
  UNION SELECT pkt_dstaddr FROM _res_src UNION SELECT address FROM _res_inventory
  UNION SELECT primary_ip FROM _res_inventory_interfaces
)
SELECT CAST(row_number() OVER (ORDER BY addr) AS INTEGER) * CASE WHEN strpos(addr, '.') > 0 THEN 1 ELSE -1 END AS aid,
       addr, {_PRIVATE.format(x='addr')} AS priv, {_SLASH16_INT.format(x='addr')} AS s16
FROM a WHERE addr IS NOT NULL;
CREATE OR REPLACE TABLE _res_ifc AS
SELECT i.interface_id AS eni, n.id AS eid, a.aid AS pip, i.intermediate, i.owner,
       coalesce(i.interface_type IN ('nat_gateway', 'natgateway') OR i.owner LIKE 'Interface for NAT Gateway%', false) AS snat
FROM _res_inventory_interfaces i LEFT JOIN _res_eni n ON n.eni = i.interface_id LEFT JOIN _res_addr a ON a.addr = i.primary_ip;
CREATE OR REPLACE TABLE _res_inv AS
SELECT n.id AS eid, i.interface_id AS eni, a.aid AS addr, i.valid_from AS vf, i.valid_to AS vt
FROM _res_inventory i JOIN _res_addr a ON a.addr = i.address LEFT JOIN _res_eni n ON n.eni = i.interface_id
WHERE i.interface_id IS NOT NULL;
CREATE OR REPLACE TABLE _res_pods AS  -- pod listings carry no time: an address given to several pods names none
SELECT a.aid, CASE WHEN min(i.owner) = max(i.owner) THEN min(i.owner) END AS owner
FROM _res_inventory i JOIN _res_addr a ON a.addr = i.address
WHERE i.interface_id IS NULL GROUP BY a.aid
"""
_LINES = 4294967296  # a record's place: pk = source id * _LINES + line + 1 (0: no line)
_PACKED_SOURCES = 65536  # up to this many sources pk < 2^48, and the peer's choice packs into one BIGINT

# What resolution reads of each record, numbered in scan order (rid, {numbered}). ok: a record
# with both addresses (not NODATA/SKIPDATA).
_BASE = """
CREATE OR REPLACE VIEW _res_b AS
SELECT rid, interface_id AS eni, srcaddr AS sa, dstaddr AS da, srcport AS sp, dstport AS dp, protocol AS pr,
       "start" AS t0, "end" AS t1, pkt_srcaddr AS psa, pkt_dstaddr AS pda, lower(flow_direction) AS fd,
       coalesce(upper(log_status), 'OK') = 'OK' AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AS ok,
       coalesce(upper(log_status), 'OK') IN ('NODATA', 'SKIPDATA') AS nodata, source, line
FROM {numbered}
"""


def _numbered_parts(con, parts: list[str], extra: list[str]) -> str:
    """The records of ``parts`` (Flows.files: the rows of ``_res_src``, with ``extra``) numbered in scan order.

    DuckDB reads a list of Parquet files in list order, each in row order (what ``_res_src`` and
    the view ``resolved`` scan), so a record's rid is the rows of the parts before it plus its
    ``file_row_number`` + 1, the same number as ``row_number() OVER ()`` gives it.
    """
    rows = dict(con.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)", [parts]).fetchall())
    offsets, total = [], 0
    for part in parts:
        offsets.append(total)
        total += rows[part]
    listed = ", ".join("'" + part.replace("'", "''") + "'" for part in parts)
    return (f"(SELECT CAST({offsets}[CAST(file_index AS BIGINT) + 1] + file_row_number + 1 AS INTEGER) AS rid, *"
            f"{''.join(', ' + e for e in extra)} FROM read_parquet([{listed}]))")


# Every record once, with integer names (rid numbers the records in scan order; fe: the logged
# flow-direction, true for egress; pk: the record's place, the same on every engine, unlike rid,
# so choices between records are made on it). A view: its three readers (the primary's candidates
# and votes, the direction) join the dictionaries again, cheaper than writing ten million rows.
_RECORDS = f"""
CREATE OR REPLACE VIEW _res_b0 AS
SELECT b.rid, n.id AS eid, s.aid AS sa, d.aid AS da, ps.aid AS psa, pd.aid AS pda, CAST(b.pr AS INTEGER) AS pr,
       CAST(b.sp AS INTEGER) AS sp, CAST(b.dp AS INTEGER) AS dp, b.t0, b.t1,
       CASE b.fd WHEN 'egress' THEN true WHEN 'ingress' THEN false END AS fe, b.ok, b.nodata,
       coalesce(src.sid, 0) * {_LINES} + coalesce(b.line + 1, 0) AS pk
FROM _res_b b
LEFT JOIN _res_eni n ON n.eni = b.eni LEFT JOIN _res_addr s ON s.addr = b.sa LEFT JOIN _res_addr d ON d.addr = b.da
LEFT JOIN _res_addr ps ON ps.addr = b.psa LEFT JOIN _res_addr pd ON pd.addr = b.pda
LEFT JOIN _res_sources src ON src.source = b.source
"""

# Each ENI's primary, in three steps. (1) Candidates: the address present in every IPv4
# record of the ENI (k1, k2: at most two can be, those of its first record); flow_direction
# names it directly, and so does a pkt field that differs from srcaddr/dstaddr (the logged
# address there is the masked primary).
# (2) Sure: that, or the inventory's primary when the logs agree, or the only private candidate
# (flow logs show an ENI's private IPv4, reference §12.1 rule 4: a public one is its peer).
# (3) An ENI with two candidates (it talked to one address only) is decided by its counterpart
# records: a record with the same protocol, ports and both packet addresses (pkt fields where
# logged: a server's record of packets to its secondary masks it, its pkt field does not; a pkt
# address on the counterpart's own side counts only when it may be that ENI's, private in its
# primary's /16, not a forwarder's far end: a transit gateway attachment in the server's VPC logs
# the client's packets as egress), overlapping in time, logged as ingress on an ENI whose
# direction is sure is of packets the tied ENI sent, so their source is the tied ENI's primary
# (likewise a counterpart egress record: the destination). Matching only the source would let
# another sender's packets (same port, to another address) decide it. A forwarding hop that the
# inventory does not name can mislead this. Else, a candidate that is another ENI's primary is
# not this one's.
_PRIMARY_CANDIDATES = """
CREATE OR REPLACE TABLE _res_pc AS
WITH r AS (
  SELECT eid, sa, da, psa, pda, fe FROM _res_b0 WHERE ok AND sa > 0 AND da > 0
), f0 AS (
  SELECT eid, min(CAST(sa AS BIGINT) * 2147483648 + da) AS first,
         min(CASE WHEN fe THEN sa WHEN NOT fe THEN da END) AS cfd,
         min(CASE WHEN pda <> da THEN da WHEN psa <> sa THEN sa END) AS cpkt
  FROM r GROUP BY eid
), f AS (
  SELECT eid, CAST(floor(first / 2147483648) AS INTEGER) AS c1, CAST(first % 2147483648 AS INTEGER) AS c2, cfd, cpkt
  FROM f0
), c AS (
  SELECT r.eid, count(*) AS n, sum(CASE WHEN r.sa = f.c1 OR r.da = f.c1 THEN 1 ELSE 0 END) AS n1,
         sum(CASE WHEN r.sa = f.c2 OR r.da = f.c2 THEN 1 ELSE 0 END) AS n2
  FROM r JOIN f ON r.eid = f.eid GROUP BY r.eid
), k AS (
  SELECT f.eid, coalesce(f.cfd, f.cpkt) AS cfd, i.pip AS inv,
         CASE WHEN c.n1 = c.n THEN f.c1 END AS k1, CASE WHEN c.n2 = c.n AND f.c2 <> f.c1 THEN f.c2 END AS k2
  FROM f JOIN c ON f.eid = c.eid LEFT JOIN _res_ifc i ON i.eid = f.eid
), p AS (
  SELECT k.eid, k.cfd, k.inv, k.k1, k.k2, CASE WHEN a1.priv THEN k.k1 END AS p1, CASE WHEN a2.priv THEN k.k2 END AS p2
  FROM k LEFT JOIN _res_addr a1 ON a1.aid = k.k1 LEFT JOIN _res_addr a2 ON a2.aid = k.k2
)
SELECT eid, p1 AS k1, p2 AS k2, CASE WHEN cfd IS NOT NULL THEN cfd
                                     WHEN inv IS NOT NULL AND (inv = k1 OR inv = k2) THEN inv
                                     WHEN p1 IS NOT NULL AND p2 IS NULL THEN p1
                                     WHEN p2 IS NOT NULL AND p1 IS NULL THEN p2 END AS sure
FROM p
"""

_PRIMARY = f"""
CREATE OR REPLACE TABLE _res_primary AS
WITH tie AS (
  SELECT eid, k1, k2 FROM _res_pc WHERE sure IS NULL AND k1 IS NOT NULL AND k2 IS NOT NULL
), known AS (
  SELECT b.eid, coalesce(b.psa, b.sa) AS sa, coalesce(b.pda, b.da) AS da, b.sp, b.dp, b.pr, b.t0, b.t1, p.sure,
         CASE WHEN b.fe IS NOT NULL THEN b.fe WHEN b.sa = p.sure THEN true WHEN b.da = p.sure THEN false END AS egress,
         CASE WHEN b.psa <> b.sa THEN b.psa END AS ps, CASE WHEN b.pda <> b.da THEN b.pda END AS pd
  FROM _res_b0 b JOIN _res_pc p ON p.eid = b.eid AND p.sure IS NOT NULL
  WHERE b.ok AND b.eid NOT IN (SELECT eid FROM _res_ifc WHERE intermediate AND eid IS NOT NULL)
), tr AS (
  SELECT b.eid, b.sa, b.da, coalesce(b.psa, b.sa) AS psa, coalesce(b.pda, b.da) AS pda, b.sp, b.dp, b.pr, b.t0, b.t1
  FROM _res_b0 b JOIN tie ON tie.eid = b.eid WHERE b.ok
), votes AS (  -- a pkt address on the counterpart's own side counts when it may be its secondary (not a forwarder's)
  SELECT tr.eid, CASE q.egress WHEN false THEN tr.sa WHEN true THEN tr.da END AS v
  FROM tr JOIN known q ON q.sa = tr.psa AND q.da = tr.pda AND q.pr = tr.pr AND q.sp = tr.sp AND q.dp = tr.dp
   AND q.eid <> tr.eid AND greatest(q.t0, tr.t0) <= least(q.t1, tr.t1) + {TOLERANCE}
  LEFT JOIN _res_addr l ON l.aid = CASE WHEN q.egress THEN q.ps ELSE q.pd END LEFT JOIN _res_addr o ON o.aid = q.sure
  WHERE l.aid IS NULL OR (l.priv AND l.s16 = o.s16)
), voted AS (
  SELECT v.eid, min(v.v) AS p FROM votes v JOIN tie ON tie.eid = v.eid AND v.v IN (tie.k1, tie.k2)
  GROUP BY v.eid HAVING count(DISTINCT v.v) = 1
), decided AS (
  SELECT eid, sure AS p FROM _res_pc WHERE sure IS NOT NULL UNION ALL SELECT eid, p FROM voted
), excluded AS (
  SELECT tie.eid, CASE WHEN s1.eid IS NOT NULL AND s2.eid IS NULL THEN tie.k2
                       WHEN s2.eid IS NOT NULL AND s1.eid IS NULL THEN tie.k1 END AS p
  FROM tie LEFT JOIN decided s1 ON s1.p = tie.k1 AND s1.eid <> tie.eid
  LEFT JOIN decided s2 ON s2.p = tie.k2 AND s2.eid <> tie.eid
  WHERE tie.eid NOT IN (SELECT eid FROM voted)
)
SELECT n.eni, p.eid, p.p AS pip
FROM (SELECT eid, p FROM decided UNION ALL SELECT eid, p FROM excluded WHERE p IS NOT NULL) p JOIN _res_eni n ON n.id = p.eid
UNION ALL SELECT eni, eid, pip FROM _res_ifc
  WHERE pip IS NOT NULL AND (eid IS NULL OR eid NOT IN (SELECT eid FROM _res_pc))
"""

# ENIs with records (id), with what resolution needs of each: its primary, whether it forwards
# others' packets, its owner, and whether (listed) and when (vf..vt, NULL bounds open) the
# inventory gives its addresses.
_ENIS = """
CREATE OR REPLACE TABLE _res_eni AS
SELECT e.eni, e.id, p.pip, coalesce(i.intermediate, false) AS inter, coalesce(i.snat, false) AS snat, i.owner,
       s.eni IS NOT NULL AS listed, s.vf, s.vt, a.s16 AS pip16
FROM _res_eni e
LEFT JOIN _res_primary p ON p.eid = e.id LEFT JOIN _res_ifc i ON i.eid = e.id LEFT JOIN _res_addr a ON a.aid = p.pip
LEFT JOIN (SELECT interface_id AS eni, CASE WHEN bool_and(valid_from IS NOT NULL) THEN min(valid_from) END AS vf,
                  CASE WHEN bool_and(valid_to IS NOT NULL) THEN max(valid_to) END AS vt
           FROM _res_inventory WHERE interface_id IS NOT NULL GROUP BY interface_id) s ON s.eni = e.eni
"""

# Per record: direction (egress true, ingress false, NULL unknown), the logged local address ll
# (masked for IPv4), the real remote rm, the pkt local pl and, when rm is private, its /16; part:
# its partition of the peer joins (by protocol and ports, see _PARTICIPANT). IPv6 addresses are
# logged as they are: one the inventory gives the ENI is its own side (v6).
_DIRECTION = """
CREATE OR REPLACE TABLE _res_d AS
WITH v6 AS (
  SELECT DISTINCT eid, addr FROM _res_inv WHERE addr < 0 AND eid IS NOT NULL
), e AS (
  SELECT b.*,
         CASE WHEN NOT b.ok THEN NULL
              WHEN b.fe IS NOT NULL THEN b.fe
              WHEN b.sa = n.pip AND b.da <> n.pip THEN true
              WHEN b.da = n.pip AND b.sa <> n.pip THEN false
              WHEN n.pip IS NULL AND b.psa <> b.sa AND coalesce(b.pda, b.da) = b.da THEN true
              WHEN n.pip IS NULL AND b.pda <> b.da AND coalesce(b.psa, b.sa) = b.sa THEN false
              WHEN s6.eid IS NOT NULL AND d6.eid IS NULL THEN true
              WHEN d6.eid IS NOT NULL AND s6.eid IS NULL THEN false
         END AS egress
  FROM _res_b0 b LEFT JOIN _res_eni n ON n.id = b.eid
  LEFT JOIN v6 s6 ON s6.eid = b.eid AND s6.addr = b.sa LEFT JOIN v6 d6 ON d6.eid = b.eid AND d6.addr = b.da
), f AS (
  SELECT rid, eid, egress, pr, sp, dp, t0, t1, nodata, pk, {part} AS part,
         CASE WHEN egress THEN sa WHEN NOT egress THEN da END AS ll,
         CASE WHEN egress THEN coalesce(pda, da) WHEN NOT egress THEN coalesce(psa, sa) END AS rm,
         CASE WHEN egress THEN psa WHEN NOT egress THEN pda END AS pl
  FROM e
)
SELECT f.*, CASE WHEN a.priv THEN a.s16 END AS rm16 FROM f LEFT JOIN _res_addr a ON a.aid = f.rm;
DROP VIEW _res_b0
"""

# Who is known to hold an address, over which interval (NULL bounds are open); eid is NULL for
# an ENI without records.
_OWNERSHIP = """
CREATE OR REPLACE TABLE _res_own AS
SELECT n.id AS eid, o.eni, o.addr, o.vf, o.vt FROM (
  SELECT eni, addr, vf, vt FROM _res_inv
  UNION SELECT eni, pip, NULL, NULL FROM _res_primary
) o LEFT JOIN _res_eni n ON n.eni = o.eni
"""

# pkt: the packet's own address on the local side (pl) is logged. It is the ENI's (a secondary)
# when it equals the logged one, is known to be the ENI's, or is plausible (private, in the /16
# of the primary) and the ENI is no forwarder and pl no other ENI's, or the inventory lists the
# ENI then as no forwarder (it cannot carry others' packets: a snapshot giving pl to another ENI
# is stale there, e.g. a floating IP that moved since); otherwise the ENI forwarded the packet
# and local_ip is its own address. But when pl is plausible for an ENI that is no known forwarder
# and that the inventory does not describe then, and only the inventory gives pl to another ENI
# (not as the primary of an ENI with records, which stays with it), the logs cannot tell a
# forwarder from a snapshot taken before pl moved to this ENI (audit 7: released and given to it
# as a secondary): maybe = pl, and the record is no pkt claim but open, pl one of its candidates.
# Likewise when pl is in every record of another ENI whose primary is undecided (_res_tied: it
# talked to one address only, so pl is its primary or its one peer's): without an inventory, a
# transit gateway attachment in the /16 of the endpoints it carries (audit 8) looks like a host.
_PL_OTHERS = "(c.others OR c.tied)"  # pl may be another ENI's
_DESCRIBED = f"n.listed AND {_COVERS.format(o='n', r='c')}"  # the inventory describes the ENI then
_PL_PLAUSIBLE = "NOT n.inter AND a.priv AND (n.pip IS NULL OR a.s16 = n.pip16)"  # pl may be this ENI's own
_PKT = f"""
CREATE OR REPLACE TABLE _res_tied AS  -- the two addresses in every record of an ENI whose primary is undecided
WITH t AS (
  SELECT eid, k1, k2 FROM _res_pc
  WHERE sure IS NULL AND k1 IS NOT NULL AND k2 IS NOT NULL AND eid NOT IN (SELECT eid FROM _res_primary WHERE eid IS NOT NULL)
)
SELECT eid, k1 AS addr FROM t UNION ALL SELECT eid, k2 FROM t;
CREATE OR REPLACE TABLE _res_pkt AS
WITH c AS (
  SELECT d.rid, min(d.eid) AS eid, bool_and(d.egress) AS egress, min(d.ll) AS ll, min(d.pl) AS pl, min(d.t0) AS t0,
         min(d.t1) AS t1,
         coalesce(bool_or(o.eid = d.eid), false) AS mine,
         coalesce(bool_or(o.eni IS NOT NULL AND o.eid IS DISTINCT FROM d.eid), false) AS others,
         coalesce(bool_or(p.eid IS NOT NULL), false) AS logged_primary,
         coalesce(bool_or(t.eid IS NOT NULL), false) AS tied
  FROM _res_d d LEFT JOIN _res_own o ON o.addr = d.pl AND {_COVERS.format(o='o', r='d')}
  LEFT JOIN _res_primary p ON p.pip = d.pl AND p.eid <> d.eid
  LEFT JOIN _res_tied t ON t.addr = d.pl AND t.eid <> d.eid
  WHERE d.egress IS NOT NULL AND d.pl IS NOT NULL
  GROUP BY d.rid
)
SELECT c.rid, c.eid, c.egress, c.t0, c.t1, c.ll,
       CASE WHEN c.pl = c.ll OR c.mine THEN c.pl
            WHEN (NOT {_PL_OTHERS} OR ({_DESCRIBED})) AND {_PL_PLAUSIBLE} THEN c.pl END AS own_local,
       CASE WHEN c.pl <> c.ll AND NOT c.mine AND {_PL_OTHERS} AND NOT ({_DESCRIBED})
             AND NOT c.logged_primary AND {_PL_PLAUSIBLE} THEN c.pl END AS maybe
FROM c JOIN _res_eni n ON n.id = c.eid LEFT JOIN _res_addr a ON a.aid = c.pl
"""

# Records that take part in peer joins: IPv4, direction and times known, in the current
# partition (by protocol and ports: every candidate pair, and every pair of a record's
# partners, has the same, so partitions are independent).
_PARTICIPANT = """d.egress IS NOT NULL AND d.ll > 0 AND d.rm > 0
  AND d.t0 IS NOT NULL AND d.t1 IS NOT NULL{partition}"""

# Who is known to hold each participant's remote address at its time. Most addresses one ENI
# holds all the time or over one interval (_res_o1: addr -> eid, NULL for an ENI without records;
# vf..vt, NULL bounds open; most learned secondaries, half the records of `mixed` without an
# inventory): they are looked up by address, owned when the interval covers the record. For the
# others (a floating IP held over several intervals or by several ENIs, an address pkt fields
# show in several runs) _res_ro tells per record (and its partition): rown = that ENI's id when
# it is one ENI (a covering interval looked up with EXISTS); multi = several ENIs are said to
# hold it then, listed in _res_rm. Such an address counts as unowned: pairs are then neither
# keyed on it nor excluded by it.
_ALWAYS = "bool_or(vf IS NULL AND vt IS NULL)"  # an ENI holds the address all the time
_ONE_INTERVAL = f"min(eni) = max(eni) AND ({_ALWAYS} OR count(*) = 1)"
_REMOTE_OWNERS = f"""
CREATE OR REPLACE TABLE _res_o1 AS
SELECT addr, min(eid) AS eid, CASE WHEN NOT {_ALWAYS} THEN min(vf) END AS vf,
       CASE WHEN NOT {_ALWAYS} THEN max(vt) END AS vt
FROM _res_own_all GROUP BY addr HAVING {_ONE_INTERVAL};
CREATE OR REPLACE TABLE _res_ot AS
SELECT addr, min(eni) = max(eni) AS one, min(eid) AS eid FROM _res_own_all GROUP BY addr HAVING NOT ({_ONE_INTERVAL});
CREATE OR REPLACE TABLE _res_w AS
SELECT DISTINCT d.rid, w.eid, w.eni, d.part FROM _res_d d JOIN _res_ot o ON o.addr = d.rm AND NOT o.one
JOIN _res_own_all w ON w.addr = d.rm AND {_COVERS.format(o='w', r='d')}
WHERE {_PARTICIPANT};
CREATE OR REPLACE TABLE _res_ro AS
SELECT d.rid, o.eid AS rown, false AS multi, d.part FROM _res_d d JOIN _res_ot o ON o.addr = d.rm AND o.one
WHERE {_PARTICIPANT} AND EXISTS (SELECT 1 FROM _res_own_all w WHERE w.addr = d.rm AND {_COVERS.format(o='w', r='d')})
UNION ALL
SELECT rid, CASE WHEN min(eni) = max(eni) THEN min(eid) END, min(eni) <> max(eni), min(part) FROM _res_w GROUP BY rid;
CREATE OR REPLACE TABLE _res_rm AS SELECT w.rid, w.eid FROM _res_w w JOIN _res_ro r ON r.rid = w.rid AND r.multi;
DROP TABLE _res_w;
DROP TABLE _res_ot
"""

# One row per participant and time bucket its padded time range spans (padded by half the
# tolerance on each side, so that ranges overlapping within the tolerance share a bucket; _res_n
# lists the buckets k of each span, an equality join). They are common table expressions of the
# pair join (_PAIRS), egress records in one (xa: the a side of the pairs) and ingress ones in
# another (xb), each with just what the join reads. DuckDB computes them again for each of their
# two readers (NOT MATERIALIZED): cheaper than holding a copy of the records for the join to copy
# again. first: the row is of the record's first bucket (a pair is counted
# in the first bucket both records span, where one of them starts). lk = the local address when
# pkt fields told it; fwd = on a forwarding ENI, or a forwarded packet (pkt): such a record
# confirms its partner's address but is not resolved by it; inv = the inventory gives the ENI's
# addresses at the record's time; pip16 / rm16: the /16 of the ENI's primary and, when no one ENI
# owns it, of a private remote address (for _PAIR_PLAUSIBLE).
# On DuckDB, records with protocol and ports in range (all real ones) go to xa/xb with one join
# key jk = (protocol, ports, bucket - {bmin}) in a BIGINT (narrower rows, a cheaper join; the
# buckets of one resolve span fewer than 2^20); the others, and all of them elsewhere, to xwa/xwb.
_BUCKETS = 1048576  # 2^20 buckets of the packed join key
_IN_RANGE = "d.pr BETWEEN 0 AND 255 AND d.sp BETWEEN 0 AND 65535 AND d.dp BETWEEN 0 AND 65535"
_EXPAND_RECORDS = f"""(
  SELECT d.rid, d.pk, d.eid AS eni, d.pr, d.sp, d.dp, d.t0, d.t1, d.rm, k.own_local AS lk,
         n.inter OR (k.rid IS NOT NULL AND k.own_local IS NULL) AS fwd,
         CAST(floor((d.t0 - {TOLERANCE // 2}) / {_BUCKET}) AS BIGINT) AS b0,
         CAST(floor((d.t1 + {TOLERANCE // 2}) / {_BUCKET}) AS BIGINT) AS b1,
         CASE WHEN o.addr IS NOT NULL THEN o.eid ELSE r.rown END AS rown,
         o.addr IS NOT NULL OR (r.rid IS NOT NULL AND NOT r.multi) AS owned, coalesce(r.multi, false) AS multi,
         n.listed AND {_COVERS.format(o='n', r='d')} AS inv, n.pip16,
         CASE WHEN o.addr IS NULL AND (r.rid IS NULL OR r.multi) THEN d.rm16 END AS rm16,
         CASE WHEN o.addr IS NOT NULL OR (r.rid IS NOT NULL AND NOT r.multi) THEN d.rm16 END AS ro16
  FROM _res_d d JOIN _res_eni n ON n.id = d.eid LEFT JOIN _res_pkt k ON k.rid = d.rid
  LEFT JOIN _res_o1 o ON o.addr = d.rm AND {_COVERS.format(o='o', r='d')}
  LEFT JOIN (SELECT * FROM _res_ro r WHERE true{{rpartition}}) r ON r.rid = d.rid
  WHERE {_PARTICIPANT} AND {{side}} AND {{which}}
) d"""
_EXPAND = {
    True: f"""x{{ab}} AS NOT MATERIALIZED (
SELECT d.rid, d.pk, d.eni,
       (CAST(d.pr AS BIGINT) * 4294967296 + CAST(d.sp AS BIGINT) * 65536 + d.dp) * {_BUCKETS} + (d.b0 + s.k - {{bmin}}) AS jk,
       s.k = 0 AS first, d.t0, d.t1, d.rm, d.lk, d.fwd, d.rown, d.owned, d.multi, d.inv, d.pip16, d.rm16, d.ro16
FROM {_EXPAND_RECORDS} JOIN _res_n s ON s.span = d.b1 - d.b0)""",
    False: f"""xw{{ab}} AS (
SELECT d.*, d.b0 + s.k AS bk, s.k = 0 AS first FROM {_EXPAND_RECORDS} JOIN _res_n s ON s.span = d.b1 - d.b0)""",
}
_SIDES = {"a": "d.egress", "b": "NOT d.egress"}  # the records of either side of the pairs

# Candidate pairs: a = egress on A (PA -> Y), b = ingress on B (X -> PB), same protocol and
# ports, times overlapping within the tolerance (counted once, in the first bucket both span),
# and an ENI key: X is known to be A's (ax), else Y is known to be B's (by). Not the same packets
# when X (Y) is known to be another ENI's than A (B), or a side's pkt-told local address
# disagrees. x_ok / y_ok: the pair may resolve A (X is A's, or plausible for A) / B (likewise Y).
# When Y cannot be B's (public, another /16), the pair tells A only if B is known to forward (a
# NAT gateway): else B's record may be of another sender's packets on the same ports (likewise X).
# ca / cb: the unkeyed side's implied address X (Y) is not known to be A's (B's) while the
# inventory gives A's (B's) addresses then; it matters where the pair would resolve that side. Such a pair is not taken for the same packets (a
# missing record explains it as well: two clients on one port, the server's record of one
# lost), only reported (``discrepancies``): the inventory yields to pkt fields, not to a pairing.
# xw: likewise, but no inventory gives A's addresses: keyed by the receiver only, the pair is the
# same packets only if the unknown X is A's secondary, which one pairing cannot tell from another
# host sending on those ports while A's partner record was lost. It claims nothing (its records
# are not resolved by it) and counts as support: an address implied by pairs of two flows
# (protocol and ports, either way) is learned for the next round, which keys the pairs on it.
# Only unambiguous pairs count (``_CLAIMS``): one record is the counterpart of one flow, so a
# pair counts only if neither record has a partner implying something else (A's masked egress
# record also pairing with B's ingress from A's primary is the same packets, not X's).
_PAIR_SIDES = """a.rid AS arid, b.rid AS brid, a.pk AS apk, b.pk AS bpk, a.eni AS aeni, b.eni AS beni, b.rm AS x, a.rm AS y,
  least(a.t1, b.t1) - greatest(a.t0, b.t0) AS ov"""
_PAIR_PLAUSIBLE = "({x}.rm16 IS NOT NULL AND ({e}.pip16 IS NULL OR {x}.rm16 = {e}.pip16))"  # private, e's /16
# The unkeyed side's address is another ENI's per the inventory (co), and in the /16 of e, an ENI
# the inventory lists as no forwarder: if the pair is the same packets, the snapshot is stale there
# (a floating IP that moved to e since). Such a pair resolves nothing; when neither of its records
# has another partner (which would explain it: another sender's packets on the same ports, ICMP's
# 0/0 above all), it contradicts the inventory like one implying an address the inventory does not
# list (ca / cb) and keeps e's snapshot from single (audit 4: a floating IP that moved to a
# one-address ENI, both sides logged, was claimed single on that ENI's primary).
_PAIR_OWNED = "({x}.ro16 = {e}.pip16)"
# An ENI the inventory lists then as no forwarder (inv, not fwd) receives only packets to its own
# addresses and sends only from them: a pair that would give it an address it cannot have (public,
# or private outside its /16, and no ENI's) is not the same packets and is no partner at all
# (audit 4: a client pinging a node ENI from its secondary and a public host at once, both ICMP 0/0:
# the node's record also paired with the client's record of the public host, so neither was claimed).
_PAIR_IMPOSSIBLE = f"({{e}}.inv AND NOT {{e}}.fwd AND NOT {{x}}.owned AND NOT coalesce({_PAIR_PLAUSIBLE}, false))"

_PAIR_KEY = {True: "a.jk = b.jk", False: "a.pr = b.pr AND a.sp = b.sp AND a.dp = b.dp AND a.bk = b.bk"}
_PAIR_JOIN = f"""{{key}} AND (a.first OR b.first) AND a.eni <> b.eni
  AND greatest(a.t0, b.t0) <= least(a.t1, b.t1) + {TOLERANCE}
  AND (a.lk IS NULL OR a.lk = b.rm) AND (b.lk IS NULL OR b.lk = a.rm)"""
_PAIRS = f"""
SELECT {_PAIR_SIDES},
       a.lk IS NULL AND NOT a.fwd
         AND CASE WHEN a.rown IS NOT DISTINCT FROM b.eni OR b.fwd THEN true ELSE {_PAIR_PLAUSIBLE.format(x='a', e='b')} END AS x_ok,
       b.lk IS NULL AND NOT b.fwd AND CASE WHEN a.rown IS NOT DISTINCT FROM b.eni THEN true
                                           WHEN a.owned AND b.inv THEN coalesce({_PAIR_OWNED.format(x='a', e='b')}, false)
                                           ELSE {_PAIR_PLAUSIBLE.format(x='a', e='b')} END AS y_ok,
       false AS ca, a.rown IS DISTINCT FROM b.eni AND b.inv AND m.rid IS NULL AS cb, false AS xw,
       a.owned AND a.rown IS DISTINCT FROM b.eni AS co
FROM {{x}}b b JOIN {{x}}a a ON a.eni = b.rown AND {_PAIR_JOIN}
LEFT JOIN _res_rm m ON a.multi AND m.rid = a.rid AND m.eid = b.eni
WHERE (a.rown IS NOT DISTINCT FROM b.eni OR NOT a.owned OR (b.inv AND NOT b.fwd AND b.lk IS NULL AND {_PAIR_OWNED.format(x='a', e='b')}))
  AND NOT {_PAIR_IMPOSSIBLE.format(x='a', e='b')}
UNION ALL
SELECT {_PAIR_SIDES},
       a.lk IS NULL AND NOT a.fwd AND (NOT b.owned AND {_PAIR_PLAUSIBLE.format(x='b', e='a')}
                                       OR b.owned AND coalesce({_PAIR_OWNED.format(x='b', e='a')}, false)) AS x_ok,
       b.lk IS NULL AND NOT b.fwd AND (a.fwd OR {_PAIR_PLAUSIBLE.format(x='b', e='a')}) AS y_ok,
       a.inv AND m.rid IS NULL AS ca, false AS cb, NOT a.inv AND NOT a.fwd AS xw, b.owned AS co
FROM {{x}}a a JOIN {{x}}b b ON b.eni = a.rown AND {_PAIR_JOIN}
LEFT JOIN _res_rm m ON b.multi AND m.rid = b.rid AND m.eid = a.eni
WHERE (NOT b.owned OR (a.inv AND NOT a.fwd AND a.lk IS NULL AND b.rown IS DISTINCT FROM a.eni
                       AND {_PAIR_OWNED.format(x='b', e='a')}))
  AND NOT {_PAIR_IMPOSSIBLE.format(x='b', e='a')}
"""

# A record r claims the address its partners imply only when: all its partners are on one ENI,
# imply one address and may resolve r; and every partner p is as unambiguous: all p's partners
# are on r's ENI and imply one address for p. So a record pairs only with records that are
# surely the same packets. Example: a client using one port to reach both addresses of a
# server at once; the server logged both flows alike, each server record pairs with both client
# records (implying different addresses), so neither side is claimed. The peer named is the
# partner overlapping r the longest, of equals the first by (source, line): pk, the same on
# every engine, unlike rid. With fewer than _PACKED_SOURCES sources, overlap and pk pack into
# one BIGINT ((ov + 64) * 2^48 + 2^48 - 1 - pk; -60 <= ov < 2^15 - 64 for records of at most
# _MAX_SPAN_BUCKETS buckets), whose max() is cheaper than max_by() on a struct.
# A flow, either way: its protocol and its two ports, the lower first, in one BIGINT.
_FLOW = "(CAST({d}.pr AS BIGINT) * 65536 + least({d}.sp, {d}.dp)) * 65536 + greatest({d}.sp, {d}.dp)"
_SAME = "NOT ((ca AND x_ok) OR (cb AND y_ok))"  # the pair may be of the same packets (see _PAIRS)
_P48 = 281474976710656
_BEST = {True: f"{_P48 - 1} - max((ov + 64) * {_P48} + {_P48 - 1} - {{pk}}) % {_P48}",
         False: "max_by({pk}, {'ov': ov, 'place': -{pk}})"}
# Per record with partners (a record is egress, the a side, or ingress, the b side, so the two
# halves hold different records): eid, its direction (the side), one, ok, ip = (the partners' ENI)
# * 2^32 + (the address they imply), and the peer's place ppk. The pairs carry no times or flow:
# the few contradicting and weak pairs take them from their record in _res_d.
_CLAIMS = f"""
CREATE OR REPLACE TABLE _res_s AS
SELECT arid AS r, aeni AS eid, true AS egress, min(CAST(beni AS BIGINT) * {_LINES} + x) = max(CAST(beni AS BIGINT) * {_LINES} + x) AS one,
       bool_and(x_ok AND NOT xw) AS ok, min(CAST(beni AS BIGINT) * {_LINES} + x) AS ip, {{best_b}} AS ppk
FROM _res_pairs WHERE {_SAME} GROUP BY arid, aeni
UNION ALL
SELECT brid, beni, false, min(CAST(aeni AS BIGINT) * {_LINES} + y) = max(CAST(aeni AS BIGINT) * {_LINES} + y),
       bool_and(y_ok AND NOT xw), min(CAST(aeni AS BIGINT) * {_LINES} + y), {{best_a}}
FROM _res_pairs WHERE {_SAME} GROUP BY brid, beni;
CREATE OR REPLACE TABLE _res_cp AS  -- the few pairs against the inventory: each record, its address, its partner
SELECT arid AS rid, aeni AS eid, x AS addr, co, brid AS other FROM _res_pairs WHERE ca AND x_ok
UNION SELECT brid, beni, y, co, arid FROM _res_pairs WHERE cb AND y_ok;
CREATE OR REPLACE TABLE _res_cpp AS  -- those of their records with a partner (looked up from the small side)
SELECT r FROM _res_s WHERE r IN (SELECT rid FROM _res_cp WHERE co UNION ALL SELECT other FROM _res_cp WHERE co);
INSERT INTO _res_contra
SELECT c.rid, c.eid, c.addr, d.t0, d.t1
FROM _res_cp c JOIN _res_d d ON d.rid = c.rid
WHERE NOT c.co OR (c.rid NOT IN (SELECT r FROM _res_cpp) AND c.other NOT IN (SELECT r FROM _res_cpp));
-- A record with a partner and a contradicting one (co) that has no other partner: the latter may be
-- its counterpart (a floating IP that moved to the record's ENI since the snapshot, both of its
-- addresses sending from one port to one server at once) or one of another flow whose counterpart is
-- missing; the logs cannot tell, so the record is contested: claimed neither from its other partner
-- nor single, and the address is one of its candidates (audit 5). Not for another ENI's primary,
-- which never moves (ICMP's 0/0 make such pairs of other senders' pings common).
INSERT INTO _res_contested
SELECT DISTINCT c.rid, c.eid, c.addr, d.t0, d.t1 FROM _res_cp c JOIN _res_d d ON d.rid = c.rid
WHERE c.co AND c.rid IN (SELECT r FROM _res_cpp) AND c.other NOT IN (SELECT r FROM _res_cpp)
  AND c.addr NOT IN (SELECT pip FROM _res_primary WHERE pip IS NOT NULL);
CREATE OR REPLACE TABLE _res_unsure AS
WITH bad AS (
  SELECT r FROM _res_s WHERE NOT one OR r IN (SELECT rid FROM _res_contested)
)  -- _res_unsure: records with partners that disagree (or contested), and their partners
SELECT r FROM bad
UNION SELECT q.arid FROM _res_pairs q JOIN bad ON bad.r = q.brid WHERE {_SAME}
UNION SELECT q.brid FROM _res_pairs q JOIN bad ON bad.r = q.arid WHERE {_SAME};
INSERT INTO _res_weak
SELECT p.aeni, p.x, {_FLOW.format(d='d')}, d.t0, d.t1
FROM _res_pairs p JOIN _res_d d ON d.rid = p.arid
WHERE p.xw AND p.x_ok AND {_SAME} AND p.arid NOT IN (SELECT r FROM _res_unsure) AND p.brid NOT IN (SELECT r FROM _res_unsure);
INSERT INTO _res_peerclaim
SELECT r AS rid, eid, egress, CAST(ip % {_LINES} AS INTEGER) AS addr, ppk, CAST(floor(ip / {_LINES}) AS INTEGER) AS peid,
       CAST(NULL AS INTEGER) AS hop
FROM _res_s WHERE one AND ok AND r NOT IN (SELECT r FROM _res_unsure);
-- A NAT gateway's records (forwarded: never ok) of the packets an instance sent or received: the
-- address they imply is the packet's beyond it (hop, see _HOPS), not one of the NAT gateway's.
INSERT INTO _res_peerclaim
SELECT r, eid, egress, NULL, ppk, CAST(floor(ip / {_LINES}) AS INTEGER), CAST(ip % {_LINES} AS INTEGER)
FROM _res_s WHERE one AND eid IN (SELECT id FROM _res_eni WHERE snat) AND r NOT IN (SELECT r FROM _res_unsure)
"""


# The times pkt fields show a secondary on an ENI: each run of its records (per time bucket, then
# joined where they overlap within the tolerance), not the first to the last: a floating IP that
# went A -> B -> A is not A's while B held it, and B's pairs of that time are keyed (audit 5).
_PKT_HELD = f"""
SELECT r.eid, n.eni, r.addr, min(r.vf), max(r.vt) FROM (
  SELECT g.*, sum(g.fresh) OVER (PARTITION BY g.eid, g.addr ORDER BY g.vf, g.vt
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run FROM (
    SELECT b.*, CASE WHEN b.vf <= max(b.vt) OVER (PARTITION BY b.eid, b.addr ORDER BY b.vf, b.vt
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS fresh
    FROM (SELECT eid, own_local AS addr, min(t0) - {TOLERANCE} AS vf, max(t1) + {TOLERANCE} AS vt FROM _res_pkt
          WHERE own_local <> ll GROUP BY eid, own_local, floor(t0 / {_BUCKET})) b) g) r
JOIN _res_eni n ON n.id = r.eid GROUP BY r.eid, n.eni, r.addr, r.run"""

def _peer_rounds(con, parts: int, packed: bool, duckdb_key: bool, say=lambda step: None) -> None:
    """Round 1 keys pairs with the inventory, the learned primaries and the pkt locals; round 2
    adds the addresses round 1 resolved or its weak pairs implied in two flows, which pairs
    records where both sides used secondary addresses. Round 2 recomputes every pair, so its uniqueness checks see all candidates.
    The pairing is split into partitions of about ``_PARTITION_ROWS`` records to bound memory;
    the remote owners (narrow) are found once per round."""
    span = con.execute(f"""
        SELECT coalesce(max(floor((t1 + {TOLERANCE // 2}) / {_BUCKET}) - floor((t0 - {TOLERANCE // 2}) / {_BUCKET})), 0)
        FROM _res_d WHERE egress IS NOT NULL""").fetchall()[0][0]
    spans = min(int(span), _MAX_SPAN_BUCKETS) + 1
    con.execute(f"CREATE OR REPLACE TABLE _res_n AS SELECT s.range AS span, k.range AS k FROM range(0, {spans}) s "
                f"CROSS JOIN range(0, {spans}) k WHERE k.range <= s.range")
    # A secondary that pkt fields show is the ENI's over the time they show it (a floating IP moves on).
    con.execute("CREATE OR REPLACE TABLE _res_own_all AS SELECT eid, eni, addr, vf, vt FROM _res_own "
                "UNION SELECT k.eid, n.eni, k.own_local, NULL, NULL FROM _res_pkt k JOIN _res_eni n ON n.id = k.eid "
                "WHERE k.own_local = k.ll UNION " + _PKT_HELD)
    packed_key, wide = False, True  # which of xa/xb (packed key) and xwa/xwb the records go to
    if duckdb_key:
        low, high, odd = con.execute(f"""
            SELECT min(floor((t0 - {TOLERANCE // 2}) / {_BUCKET})), max(floor((t1 + {TOLERANCE // 2}) / {_BUCKET})),
                   count(*) FILTER (WHERE NOT ({_IN_RANGE})) FROM _res_d d
            WHERE {_PARTICIPANT.replace("{partition}", "")}""").fetchall()[0]
        if low is not None and high - low < _BUCKETS:
            packed_key, wide, bmin = True, odd > 0, str(int(low))
    expand = [_EXPAND[True].replace("{which}", _IN_RANGE).replace("{bmin}", bmin)] if packed_key else []
    expand += [_EXPAND[False].replace("{which}", f"NOT ({_IN_RANGE})" if packed_key else "true")] if wide else []
    sides = [step.replace("{ab}", ab).replace("{side}", side) for ab, side in _SIDES.items() for step in expand]
    pairs = [_PAIRS.replace("{x}", "x").replace("{key}", _PAIR_KEY[True]).replace("{bmin}", bmin)] if packed_key else []
    pairs += [_PAIRS.replace("{x}", "xw").replace("{key}", _PAIR_KEY[False])] if wide else []
    steps = ["CREATE OR REPLACE TABLE _res_pairs AS WITH " + ",\n".join(sides) + "\n" + "\nUNION ALL\n".join(pairs)]
    claims = _CLAIMS.replace("{best_b}", _BEST[packed].replace("{pk}", "bpk")).replace(
        "{best_a}", _BEST[packed].replace("{pk}", "apk"))
    for again in (False, True):
        con.execute("CREATE OR REPLACE TABLE _res_peerclaim (rid INTEGER, eid INTEGER, egress BOOLEAN, addr INTEGER, ppk BIGINT, "
                    "peid INTEGER, hop INTEGER)")
        con.execute("CREATE OR REPLACE TABLE _res_contra (rid INTEGER, eid INTEGER, addr INTEGER, t0 BIGINT, t1 BIGINT)")
        con.execute("CREATE OR REPLACE TABLE _res_contested (rid INTEGER, eid INTEGER, addr INTEGER, t0 BIGINT, t1 BIGINT)")
        con.execute("CREATE OR REPLACE TABLE _res_weak (eid INTEGER, addr INTEGER, flow BIGINT, t0 BIGINT, t1 BIGINT)")
        con.execute(_REMOTE_OWNERS.replace("{partition}", ""))
        for part in range(parts):
            say(("pairing again, keyed by the addresses learned" if again else "pairing the two sides of each flow")
                + (f" (part {part + 1} of {parts})" if parts > 1 else ""))
            for step in (*steps, claims):
                partition = f" AND d.part = {part}" if parts > 1 else ""
                con.execute(step.replace("{partition}", partition).replace("{rpartition}", partition.replace("d.", "r.")))
            # A partition's pairs are spent once claimed: dropped before the next is built, so
            # that it reuses their memory (fresh pages from the kernel cost dearly, see engine.py).
            for table in ("_res_pairs", "_res_s", "_res_unsure", "_res_cp", "_res_cpp"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
        for table in ("_res_ro", "_res_rm", "_res_o1"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        if again:
            break  # nothing learned from the last round is read
        con.execute("CREATE OR REPLACE TABLE _res_weak AS SELECT eid, addr, min(t0) AS t0, max(t1) AS t1 FROM _res_weak "
                    "GROUP BY eid, addr HAVING count(DISTINCT flow) >= 2")
        new = con.execute("SELECT count(*) FROM (SELECT DISTINCT eid, addr FROM _res_peerclaim WHERE addr IS NOT NULL "
                          "UNION SELECT eid, addr "
                          "FROM _res_weak EXCEPT SELECT eid, addr FROM _res_own_all)").fetchall()[0][0]
        if not new:
            break
        con.execute(f"""INSERT INTO _res_own_all SELECT p.eid, n.eni, p.addr, min(p.t0) - {TOLERANCE}, max(p.t1) + {TOLERANCE}
                        FROM (SELECT p.eid, p.addr, d.t0, d.t1 FROM _res_peerclaim p JOIN _res_d d ON d.rid = p.rid
                              WHERE p.addr IS NOT NULL
                              UNION ALL SELECT * FROM _res_weak) p
                        JOIN _res_eni n ON n.id = p.eid
                        LEFT JOIN (SELECT DISTINCT eid, addr FROM _res_own_all WHERE vf IS NULL AND vt IS NULL) h
                          ON h.eid = p.eid AND h.addr = p.addr
                        WHERE h.eid IS NULL GROUP BY p.eid, n.eni, p.addr""")
    con.execute("DROP TABLE _res_weak")
    con.execute("DROP TABLE _res_own_all")


# Evidence of the addresses each ENI used (pkt and peer), and what the logs revealed. The times of
# peer evidence are not kept here (the claims carry none): learned() reads them off the records.
_LEARNED = """
CREATE OR REPLACE TABLE _res_learned AS
SELECT n.eni, l.eid, a.addr, l.aid, l.is_primary, l.vf, l.vt, l.kind FROM (
  SELECT eid, aid, bool_or(kind = 'primary') AS is_primary,
         CASE WHEN bool_or(kind = 'primary') THEN NULL ELSE min(vf) END AS vf,
         CASE WHEN bool_or(kind = 'primary') THEN NULL ELSE max(vt) END AS vt,
         CASE WHEN bool_or(kind = 'primary') THEN 'primary' ELSE min(kind) END AS kind FROM (
    SELECT eid, pip AS aid, CAST(NULL AS BIGINT) AS vf, CAST(NULL AS BIGINT) AS vt, 'primary' AS kind
    FROM _res_primary WHERE eid IS NOT NULL
    UNION ALL SELECT eid, own_local, t0, t1, 'pkt' FROM _res_pkt WHERE own_local IS NOT NULL AND own_local <> ll
    UNION ALL SELECT eid, addr, NULL, NULL, 'peer' FROM _res_peerclaim WHERE hop IS NULL
  ) GROUP BY eid, aid
) l JOIN _res_eni n ON n.id = l.eid LEFT JOIN _res_addr a ON a.aid = l.aid
"""

# The records that neither pkt nor peer resolved (_res_k: single, a forwarder's peer, inference
# and candidates work on these), with their local and remote ports. The resolved ones stay in
# _res_pkt and _res_peerclaim (no join of ten million records to their claims; a pkt record is
# never claimed by a peer: its partners' x_ok/y_ok need an unknown local address on no
# forwarder). A NAT gateway's claims are taken (_res_hopt, with its logged address) for its records
# of the instance's side only: those with a public remote address are its own, translated (the
# claims' ENIs, named again, let the join read only the NAT gateways' records).
_EVIDENCE = """
CREATE OR REPLACE TABLE _res_hopt AS
SELECT p.rid, p.eid, p.egress, d.ll, p.ppk, p.peid, p.hop FROM _res_peerclaim p
JOIN (SELECT d.rid, d.ll FROM _res_d d JOIN _res_eni n ON n.id = d.eid AND n.snat WHERE d.rm16 IS NOT NULL) d ON d.rid = p.rid
WHERE p.hop IS NOT NULL AND p.rid NOT IN (SELECT rid FROM _res_pkt);
{claimed}
CREATE OR REPLACE TABLE _res_k AS
SELECT d.rid, d.eid, d.egress, d.nodata, d.pr, d.t0, d.t1, d.ll, d.rm,
       CASE WHEN d.egress THEN d.sp ELSE d.dp END AS lport, CASE WHEN d.egress THEN d.dp ELSE d.sp END AS rport
FROM _res_d d
WHERE {open}
"""
_CLAIMED = ("SELECT rid FROM _res_peerclaim WHERE hop IS NULL UNION ALL SELECT rid FROM _res_pkt WHERE maybe IS NULL "
            "UNION ALL SELECT rid FROM _res_hopt")
# The records still open: not among those claimed. DuckDB looks each record up in a bitmap of the
# claimed ones (rids are 1..the number of records), cheaper than an anti-join on millions of them.
_OPEN = {
    True: ("SET VARIABLE eniflow_claimed = (SELECT bitstring_agg(rid, 1, {records}) FROM (" + _CLAIMED + "));",
           "coalesce(get_bit(getvariable('eniflow_claimed'), d.rid - 1), 0) = 0"),
    False: ("", "d.rid NOT IN (" + _CLAIMED + ")"),
}

# single: the inventory's one-address intervals that no evidence of another address contradicts
# (pkt, peer, or a pairing that contradicts the inventory), for the records neither resolved.
# Not on forwarding ENIs: their own address is known, but not the packet's other one. Only IPv4
# evidence counts (aid > 0): single is about the IPv4 addresses, and an IPv6 record's pkt address
# (an ENI's IPv6 one) is no other IPv4 address (audit 5).
_SINGLE = f"""
CREATE OR REPLACE TABLE _res_sin AS
SELECT n.id AS eid, a.aid AS address, s.valid_from, s.valid_to
FROM _res_inventory_single s JOIN _res_eni n ON n.eni = s.interface_id AND NOT n.inter
JOIN _res_addr a ON a.addr = s.address;
CREATE OR REPLACE TABLE _res_sev AS  -- the peer claims of another address on such an ENI (few; their times next)
SELECT p.rid, p.eid, p.addr FROM _res_peerclaim p
WHERE p.hop IS NULL AND EXISTS (SELECT 1 FROM _res_sin s WHERE s.eid = p.eid AND s.address <> p.addr);
-- A NAT gateway's record of the instance's side (same protocol and ports as the ENI's record of the
-- internet, the other direction, overlapping) from an address of the ENI's /16 that no one is known
-- to hold (audit 8: an unlisted secondary): its pkt fields name the same internet host (named), or
-- it has none (the default format), and then ports and times alone may be another host's flow:
-- the ENI's record (rid) is then no single claim, whatever the other records of the ENI are.
CREATE OR REPLACE TABLE _res_nat AS
SELECT a.rid, a.eid, b.rm AS addr, a.t0, a.t1, b.pl IS NOT NULL AS named,
       {_FLOW.format(d='a')} AS flow
FROM _res_d a JOIN _res_eni an ON an.id = a.eid
JOIN _res_d b ON b.pr = a.pr AND b.sp = a.sp AND b.dp = a.dp AND b.eid <> a.eid AND b.egress <> a.egress
 AND (b.pl = a.rm OR b.pl IS NULL) AND greatest(a.t0, b.t0) <= least(a.t1, b.t1) + {TOLERANCE}
JOIN _res_eni bn ON bn.id = b.eid AND bn.snat
WHERE a.eid IN (SELECT eid FROM _res_sin) AND a.rid IN (SELECT rid FROM _res_k) AND a.rm16 IS NULL AND a.rm > 0
  AND b.rm <> a.ll AND b.rm16 IS NOT NULL AND (an.pip16 IS NULL OR b.rm16 = an.pip16)
  AND b.rm NOT IN (SELECT addr FROM _res_own WHERE addr IS NOT NULL);
-- A record of another ENI that may be of the same packets while neither remote address is known to
-- be anyone's (both sides used addresses the inventory does not list: a snapshot from before the
-- secondaries were assigned, or without the sender): no pair can be keyed on either side, yet it
-- shows the ENI using another address (audit 7: both ENIs listed with their primary only were
-- claimed single on both, two certain claims of the same packets contradicting each other). It
-- only takes single away: the other record may be another flow's (an unlogged host on the ports).
-- An address that pkt fields show on another ENI than the one the inventory gives it to is no one's
-- here either: it has two holders then, so no pair is keyed on it (audit 8).
CREATE OR REPLACE TABLE _res_unkeyed AS
WITH r AS (
  SELECT d.rid, d.eid, d.egress, d.pr, d.sp, d.dp, d.t0, d.t1, d.ll, d.rm, d.rm16, n.pip16 FROM _res_d d
  JOIN _res_eni n ON n.id = d.eid
  WHERE d.egress IS NOT NULL AND d.rm16 IS NOT NULL AND d.t0 IS NOT NULL AND d.t1 IS NOT NULL
    AND d.rm NOT IN (SELECT addr FROM _res_own WHERE addr IS NOT NULL
                     AND addr NOT IN (SELECT k.own_local FROM _res_pkt k JOIN _res_own o ON o.addr = k.own_local
                                      AND o.eid IS DISTINCT FROM k.eid))
)
SELECT DISTINCT a.eid, b.rm AS addr, a.t0, a.t1 FROM r a JOIN r b
  ON b.pr = a.pr AND b.sp = a.sp AND b.dp = a.dp AND b.eid <> a.eid AND b.egress <> a.egress
 AND greatest(a.t0, b.t0) <= least(a.t1, b.t1) + {TOLERANCE}
WHERE a.eid IN (SELECT eid FROM _res_sin) AND a.rid IN (SELECT rid FROM _res_k) AND b.rm <> a.ll
  AND (a.pip16 IS NULL OR b.rm16 = a.pip16) AND (b.pip16 IS NULL OR a.rm16 = b.pip16)
UNION
-- Likewise a NAT gateway's record of the ENI's address (_res_nat): named, or else seen in two of
-- the ENI's flows (different ports) at least, which another host's flows would hardly both match.
SELECT DISTINCT t.eid, t.addr, t.t0, t.t1 FROM _res_nat t
LEFT JOIN (SELECT eid, addr FROM _res_nat GROUP BY eid, addr HAVING count(DISTINCT flow) >= 2) g ON g.eid = t.eid AND g.addr = t.addr
WHERE t.named OR g.eid IS NOT NULL;
CREATE OR REPLACE TABLE _res_single AS
WITH ev AS (
  SELECT eid, own_local AS addr, t0, t1 FROM _res_pkt WHERE own_local > 0
  UNION ALL SELECT eid, maybe, t0, t1 FROM _res_pkt WHERE maybe > 0
  UNION ALL SELECT e.eid, e.addr, d.t0, d.t1 FROM _res_sev e JOIN _res_d d ON d.rid = e.rid
  UNION ALL SELECT eid, addr, t0, t1 FROM _res_contra
  UNION ALL SELECT eid, addr, t0, t1 FROM _res_unkeyed
), bad AS (
  SELECT DISTINCT s.* FROM _res_sin s JOIN ev ON ev.eid = s.eid AND ev.addr <> s.address
   AND (s.valid_from IS NULL OR ev.t1 >= s.valid_from) AND (s.valid_to IS NULL OR ev.t0 <= s.valid_to)
), ok AS (
  SELECT * FROM _res_sin EXCEPT SELECT * FROM bad
)
SELECT DISTINCT d.rid, s.address AS addr
FROM _res_k d JOIN ok s ON s.eid = d.eid AND d.ll = s.address
 AND (s.valid_from IS NULL OR d.t0 >= s.valid_from) AND (s.valid_to IS NULL OR d.t1 <= s.valid_to)
WHERE d.egress IS NOT NULL AND d.rid NOT IN (SELECT rid FROM _res_contested) AND d.rid NOT IN (SELECT rid FROM _res_nat);
DROP TABLE _res_sin;
DROP TABLE _res_sev;
DROP TABLE _res_nat;
DROP TABLE _res_unkeyed
"""

# peer on a forwarding ENI without pkt fields: its records show its own address on the local
# side (reference §12.1 rules 2-3: the destination of what arrives, the source of what leaves),
# the other side as sent; the address the packet had there (hop) is told by another ENI's record
# of the same packets, and local_ip stays the forwarder's own. A NAT gateway's records of an
# instance's packets pair with the instance's records in the peer join (_CLAIMS): the remote
# address, the instance's, is its ENI's. Other forwarders (transit gateway attachments,
# appliances) carry packets between ENIs, whose pairs the peer join does not take for the
# forwarder's (the address is another ENI's): here another ENI's record whose addresses are both
# certain (pkt on the ENI's own address, peer, single) and whose address on the forwarder's
# unmasked side is the same (same protocol and ports, windows overlapping within the tolerance)
# shows the hop: the server behind a transit gateway. Only when every such record shows the same
# address, none of them also matches the forwarder's records of the other direction (an
# appliance that translated and kept the sender's port: the sender's record then matches the
# translated leg too), and no uncertain record that may be of the same packets shows another or
# an unknown one (two clients on one port to one server at once, one of them multi-IP).
_HOPS = f"""
CREATE OR REPLACE VIEW _res_sure AS  -- the records whose own address is certain (pkt, peer, single), and it
SELECT rid, own_local AS addr FROM _res_pkt WHERE own_local IS NOT NULL
UNION ALL SELECT rid, addr FROM _res_peerclaim WHERE hop IS NULL UNION ALL SELECT rid, addr FROM _res_single;
CREATE OR REPLACE TABLE _res_hop AS
WITH f AS (
  SELECT k.rid, k.eid, k.egress, k.pr, CASE WHEN k.egress THEN k.lport ELSE k.rport END AS sp,
         CASE WHEN k.egress THEN k.rport ELSE k.lport END AS dp, k.t0, k.t1, k.ll, k.rm
  FROM _res_k k JOIN _res_eni n ON n.id = k.eid AND n.inter AND NOT n.snat
  WHERE k.egress IS NOT NULL AND k.ll > 0 AND k.rm > 0 AND k.t0 IS NOT NULL AND k.t1 IS NOT NULL
), c AS (  -- other ENIs' records with the same protocol and ports, overlapping in time
  SELECT f.rid, f.eid, f.egress, f.ll, f.rm, f.t0 AS ft0, f.t1 AS ft1, d.rid AS crid, d.eid AS ceid, d.pk, d.egress AS cegress,
         d.ll AS cll, d.rm AS crm, d.t0, d.t1
  FROM f JOIN _res_d d ON d.pr = f.pr AND d.sp = f.sp AND d.dp = f.dp AND d.eid <> f.eid
   AND greatest(d.t0, f.t0) <= least(d.t1, f.t1) + {TOLERANCE}
), m AS (
  SELECT c.*, k.rid IS NOT NULL AS certain,
         CASE WHEN c.cegress THEN k.addr ELSE c.crm END AS src, CASE WHEN c.cegress THEN c.crm ELSE k.addr END AS dst
  FROM c JOIN _res_eni n ON n.id = c.ceid AND NOT n.inter
  LEFT JOIN _res_sure k ON k.rid = c.crid
), h AS (  -- the certain ones of the same packets, and the hop each shows
  SELECT rid, eid, egress, ll, crid, ceid, pk, CASE WHEN egress THEN src ELSE dst END AS hop,
         least(ft1, t1) - greatest(ft0, t0) AS ov
  FROM m WHERE certain AND CASE WHEN egress THEN dst ELSE src END = rm
), u AS (  -- the others that may be of the same packets, and the hop they would show (NULL: unknown,
           -- their local address is): their remote address is the forwarder's, or their ENI holds it
  SELECT DISTINCT m.rid, CASE WHEN m.cegress <> m.egress THEN m.crm END AS hop
  FROM m LEFT JOIN _res_own o ON o.eid = m.ceid AND o.addr = m.rm
  WHERE NOT m.certain AND CASE WHEN m.cegress = m.egress THEN m.crm = m.rm ELSE o.eid IS NOT NULL OR m.cll = m.rm END
), both_ways AS (
  SELECT crid, eid FROM h GROUP BY crid, eid HAVING count(DISTINCT egress) > 1
), claimed AS (
  SELECT h.rid, min(h.hop) AS hop, max_by(h.pk, {{'ov': h.ov, 'place': -h.pk}}) AS ppk,
         max_by(h.ceid, {{'ov': h.ov, 'place': -h.pk}}) AS peid
  FROM h LEFT JOIN both_ways w ON w.crid = h.crid AND w.eid = h.eid
  GROUP BY h.rid HAVING min(h.hop) = max(h.hop) AND count(w.crid) = 0 AND min(h.hop) <> min(h.ll)
)
SELECT c.* FROM claimed c
WHERE c.rid NOT IN (SELECT u.rid FROM u JOIN claimed x ON x.rid = u.rid WHERE u.hop IS NULL OR u.hop <> x.hop)
"""

# inferred: learned from this ENI's resolved records with the same protocol and local port
# (support: distinct remote addresses), or else the same protocol, remote address and port
# (support: distinct local ports): an address with min_support or more and INFER_SHARE percent
# of the support, beyond chance (_BEYOND_CHANCE); confidence = its share. Counting endpoints, not records, keeps one long flow
# from counting as many; counting addresses, not ports, keeps one client's repeated connections
# (a new ephemeral port each) from counting as many clients. Where an ENI's addresses are used alike (clients picking any of a
# server's), a bare majority is a coin toss. Not for records whose remote address is a logged
# ENI's (or may be: a tied ENI's candidate): their other side is in the logs, so failing to pair
# means conflicting evidence or secondaries on both sides, and the resolved records, biased
# towards pairs that could be keyed (primaries), say nothing about them (floating-ip without
# inventory: health checks between primaries voted the floating IP's traffic onto the primary).
# Nor on an ENI whose snapshot pairs contradict (_res_contra, _res_contested): its resolved records
# are those of the addresses the snapshot lists, the others' pairs being contradictions (a snapshot
# of the primaries only: inference took the primary for everything, 260 of 334 wrong on `mixed`).
_INFERRED = f"""
CREATE OR REPLACE TABLE _res_todo AS
WITH logged AS (
  SELECT addr FROM _res_own WHERE eid IS NOT NULL UNION SELECT aid FROM _res_learned
  UNION SELECT k1 FROM _res_pc UNION SELECT k2 FROM _res_pc
)
SELECT o.rid, o.eid, o.pr, o.rm, o.lport, o.rport FROM _res_k o JOIN _res_eni n ON n.id = o.eid
WHERE o.egress IS NOT NULL AND NOT n.inter AND o.rid NOT IN (SELECT rid FROM _res_single)
  AND o.rm NOT IN (SELECT addr FROM logged WHERE addr IS NOT NULL)
  AND o.eid NOT IN (SELECT eid FROM _res_contra UNION SELECT eid FROM _res_contested)
"""
# An ENI with k known addresses whose endpoints picked one at random would show one address in 80 %
# of a few of them by chance (k = 2: 7 of 8 one time in 14): the inferred address's count must
# exceed total / k by INFER_Z standard deviations (a normal approximation of the binomial), in
# integers (the same on every engine): (k * top - total)^2 >= INFER_Z^2 * total * (k - 1).
_BEYOND_CHANCE = ("(coalesce(k.k, 1) <= 1 OR (k.k * {x}.top > {x}.total AND (k.k * {x}.top - {x}.total) * "
                  f"(k.k * {{x}}.top - {{x}}.total) >= {INFER_Z * INFER_Z} * {{x}}.total * (k.k - 1)))")
# The address of a grouping {x} (top of total endpoints) may be inferred: enough support, share, beyond chance.
_INFERABLE = ("{x}.top >= {{min_support}} AND 100 * {x}.top >= " + str(INFER_SHARE) + " * {x}.total AND "
              + _BEYOND_CHANCE)
_SUPPORT = f"""
CREATE OR REPLACE TABLE _res_supk AS  -- the records with the keys of a record to infer (few), then their certain address
WITH d AS (
  SELECT rid, eid, pr, rm, CASE WHEN egress THEN sp ELSE dp END AS lport, CASE WHEN egress THEN dp ELSE sp END AS rport
  FROM _res_d WHERE egress IS NOT NULL AND eid IN (SELECT eid FROM _res_todo)
)
SELECT d.*, true AS byport FROM d JOIN (SELECT DISTINCT eid, pr, lport FROM _res_todo) t
  ON t.eid = d.eid AND t.pr = d.pr AND t.lport = d.lport
UNION ALL
SELECT d.*, false FROM d JOIN (SELECT DISTINCT eid, pr, rm, rport FROM _res_todo) t
  ON t.eid = d.eid AND t.pr = d.pr AND t.rm = d.rm AND t.rport = d.rport;
CREATE OR REPLACE TABLE _res_sup AS
SELECT k.rid, k.eid, k.pr, k.rm, k.lport, k.rport, x.addr, k.byport FROM _res_supk k JOIN _res_sure x ON x.rid = k.rid;
DROP TABLE _res_supk;
CREATE OR REPLACE TABLE _res_inf AS
WITH kp AS (
  SELECT DISTINCT eid, pr, lport, addr, rm FROM _res_sup WHERE byport
), kr AS (
  SELECT DISTINCT eid, pr, rm, rport, addr, lport FROM _res_sup WHERE NOT byport
), byport AS (
  SELECT eid, pr, lport, max_by(addr, n) AS addr, max(n) AS top, sum(n) AS total
  FROM (SELECT eid, pr, lport, addr, count(*) AS n FROM kp GROUP BY eid, pr, lport, addr)
  GROUP BY eid, pr, lport
), byremote AS (
  SELECT eid, pr, rm, rport, max_by(addr, n) AS addr, max(n) AS top, sum(n) AS total
  FROM (SELECT eid, pr, rm, rport, addr, count(*) AS n FROM kr GROUP BY eid, pr, rm, rport, addr)
  GROUP BY eid, pr, rm, rport
), k AS (  -- how many IPv4 addresses the ENI is known to hold (at any time)
  SELECT eid, count(*) AS k FROM (
    SELECT eid, addr FROM _res_inv WHERE eid IS NOT NULL AND addr > 0 UNION SELECT eid, aid FROM _res_learned WHERE aid > 0)
  GROUP BY eid
), g AS (
  SELECT t.rid, p.addr AS paddr, p.top AS ptop, p.total AS ptotal,
         {_INFERABLE.format(x='p')} AS pok,
         r.addr AS raddr, r.top AS rtop, r.total AS rtotal,
         {_INFERABLE.format(x='r')} AS rok
  FROM _res_todo t LEFT JOIN k ON k.eid = t.eid
  LEFT JOIN byport p ON p.eid = t.eid AND p.pr = t.pr AND p.lport = t.lport
  LEFT JOIN byremote r ON r.eid = t.eid AND r.pr = t.pr AND r.rm = t.rm AND r.rport = t.rport
)
SELECT rid, CASE WHEN pok THEN paddr ELSE raddr END AS addr,
       CASE WHEN pok THEN CAST(ptop AS DOUBLE) / ptotal ELSE CAST(rtop AS DOUBLE) / rtotal END AS confidence
FROM g WHERE pok OR rok;
DROP TABLE _res_sup
"""
_NO_INFERRED = "CREATE OR REPLACE TABLE _res_inf AS SELECT CAST(NULL AS INTEGER) AS rid, CAST(NULL AS INTEGER) AS addr, " \
               "CAST(NULL AS DOUBLE) AS confidence WHERE false"

# ambiguous: the addresses the ENI is known to have then (inventory at that time; anything the
# logs showed it using, pairings against the inventory included), when there are two or more,
# of the family (IPv4 or not) of the logged one. For an ENI whose addresses are all known for all
# time (the usual case), one list per ENI and family; else per record. Each distinct list is
# numbered (_res_cands, cid) before the records (_res_candt) get their number, so that no list
# is built or compared per record and _res_r stays fixed-width.
_CANDIDATES = f"""
CREATE OR REPLACE TABLE _res_cana AS
SELECT eid, addr, vf, vt FROM _res_inv WHERE eid IS NOT NULL
UNION SELECT eid, aid, NULL, NULL FROM _res_learned
UNION SELECT eid, addr, NULL, NULL FROM _res_contra UNION SELECT eid, addr, NULL, NULL FROM _res_contested
UNION SELECT eid, maybe, min(t0), max(t1) FROM _res_pkt WHERE maybe IS NOT NULL GROUP BY eid, maybe;
CREATE OR REPLACE TABLE _res_candt AS
SELECT o.rid, o.eid, o.t0, o.t1, o.ll FROM _res_k o
WHERE o.egress IS NOT NULL
  AND o.eid IN (SELECT eid FROM _res_cana GROUP BY eid HAVING count(DISTINCT addr) > 1)
  AND o.rid NOT IN (SELECT rid FROM _res_single) AND o.rid NOT IN (SELECT rid FROM _res_inf)
  AND o.rid NOT IN (SELECT rid FROM _res_hop);
CREATE OR REPLACE TABLE _res_candl AS
WITH timed AS (
  SELECT DISTINCT eid FROM _res_cana WHERE vf IS NOT NULL OR vt IS NOT NULL
), per_eni AS (
  SELECT a.eid, a.addr > 0 AS v4, list(DISTINCT s.addr ORDER BY s.addr) AS candidates
  FROM _res_cana a JOIN _res_addr s ON s.aid = a.addr WHERE a.eid NOT IN (SELECT eid FROM timed)
  GROUP BY a.eid, a.addr > 0 HAVING count(DISTINCT a.addr) > 1
)
SELECT CAST(NULL AS INTEGER) AS rid, p.eid, p.v4, p.candidates
FROM per_eni p JOIN (SELECT DISTINCT eid, ll > 0 AS v4 FROM _res_candt) u ON u.eid = p.eid AND u.v4 = p.v4
UNION ALL
SELECT t.rid, NULL, NULL, list(DISTINCT s.addr ORDER BY s.addr)
FROM _res_candt t JOIN _res_cana a ON a.eid = t.eid AND {_COVERS.format(o='a', r='t')} AND (a.addr > 0) = (t.ll > 0)
JOIN _res_addr s ON s.aid = a.addr
WHERE t.eid IN (SELECT eid FROM timed)
GROUP BY t.rid HAVING count(DISTINCT a.addr) > 1;
CREATE OR REPLACE TABLE _res_cands AS
SELECT CAST(row_number() OVER (ORDER BY candidates) AS INTEGER) AS cid, candidates
FROM (SELECT DISTINCT candidates FROM _res_candl);
CREATE OR REPLACE TABLE _res_cand AS
WITH l AS (SELECT l.rid, l.eid, l.v4, c.cid FROM _res_candl l JOIN _res_cands c ON c.candidates = l.candidates)
SELECT t.rid, l.cid FROM _res_candt t JOIN l ON l.eid = t.eid AND l.v4 = (t.ll > 0)
UNION ALL SELECT rid, cid FROM l WHERE rid IS NOT NULL;
DROP TABLE _res_cana;
DROP TABLE _res_candl;
DROP TABLE _res_candt
"""

# The resolution of every record (_res_r, narrow): code indexes LABELS; addr: the local address
# when resolution found one; hop: on a forwarding ENI, the packet's address on the local side
# (_HOPS); local: the local address (for the pod owner; none for a record
# without an ENI, such as a transit gateway's, whose direction is the attachment's and whose
# addresses are both the packet's); cid: the candidates
# (_res_cands); confidence only for inferred; the peer's place ppk and ENI peid. The view
# `resolved` derives the rest (labels, src_ip/dst_ip, candidates, owner, the peer's record). The
# open records, looked up in what single, a forwarder's peer, inference and candidates found, then
# the claims of pkt and peer; on DuckDB in rid order, for the view's positional pairing with the
# records.
_FINAL = """
CREATE OR REPLACE TABLE _res_r AS
WITH o AS (  -- the records left open that single, a forwarder's peer, inference or candidates tell about (one each)
  SELECT rid, CAST(2 AS UTINYINT) AS code, addr, CAST(NULL AS INTEGER) AS cid, CAST(NULL AS DOUBLE) AS confidence,
         CAST(NULL AS BIGINT) AS ppk, CAST(NULL AS INTEGER) AS peid, CAST(NULL AS INTEGER) AS hop
  FROM _res_single
  UNION ALL SELECT rid, 1, NULL, NULL, NULL, ppk, peid, hop FROM _res_hop
  UNION ALL SELECT rid, 3, addr, NULL, confidence, NULL, NULL, NULL FROM _res_inf
  UNION ALL SELECT rid, 4, NULL, cid, NULL, NULL, NULL, NULL FROM _res_cand
), k AS (
  SELECT k.*, o.code AS ocode, o.addr AS oaddr, o.cid, o.confidence, o.ppk AS oppk, o.peid AS opeid, o.hop
  FROM _res_k k LEFT JOIN o ON o.rid = k.rid
)
SELECT k.rid, k.eid, k.egress, CAST(CASE WHEN k.nodata THEN 6 ELSE coalesce(k.ocode, 5) END AS UTINYINT) AS code,
       k.oaddr AS addr, CASE WHEN k.egress IS NOT NULL AND k.eid IS NOT NULL THEN coalesce(k.oaddr, k.ll) END AS local,
       k.cid, k.confidence, k.oppk AS ppk, k.opeid AS peid, k.hop
FROM k
UNION ALL SELECT rid, eid, egress, CAST(0 AS UTINYINT), coalesce(own_local, ll), coalesce(own_local, ll), NULL, NULL, NULL,
                 NULL, NULL FROM _res_pkt WHERE maybe IS NULL
UNION ALL SELECT rid, eid, egress, CAST(1 AS UTINYINT), addr, addr, NULL, NULL, ppk, peid, NULL FROM _res_peerclaim
                 WHERE hop IS NULL
UNION ALL SELECT rid, eid, egress, CAST(1 AS UTINYINT), NULL, ll, NULL, NULL, ppk, peid, hop FROM _res_hopt"""

# DuckDB's view names sources, ENIs, their owners, addresses, candidate lists and pod owners by list index
# (session variables, set per resolve(): the work tables they describe are replaced then too);
# a join would not keep the records' order.
_NAMES = {
    "eniflow_sources": "SELECT list(source ORDER BY sid) FROM _res_sources",
    "eniflow_enis": "SELECT list(eni ORDER BY id) FROM _res_eni",
    "eniflow_owners": "SELECT list(owner ORDER BY id) FROM _res_eni",
    "eniflow_addrs": "SELECT list(addr ORDER BY abs(aid)) FROM _res_addr",
    "eniflow_cands": "SELECT list(candidates ORDER BY cid) FROM _res_cands",
    "eniflow_pods": "SELECT CASE WHEN count(p.aid) > 0 THEN list(p.owner ORDER BY abs(a.aid)) END "
                    "FROM _res_addr a LEFT JOIN _res_pods p ON p.aid = a.aid",
}
