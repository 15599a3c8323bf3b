"""Observations -> flow log records, with AWS's aggregation and field semantics.

One record per flow (5-tuple + direction + action) per ENI per aggregation window; each
ENI's windows have their own phase; Nitro ENIs aggregate per minute whatever the flow
log says. ``start``/``end`` are the first/last packet times inside the window, packets
and bytes are the window's share of each piece, TCP flags are OR-ed per window
(reference sections 1, 8 and 9). Windows of a logged ENI without traffic get a NODATA
record; an injected SKIPDATA replaces the records of its window (section 7).
"""

from __future__ import annotations

import polars as pl

from ..fields import lookup
from ..formats import Format
from .topology import FlowLog
from .traffic import uniform

__all__ = ["aggregate", "status_records", "aws_columns", "truth_columns", "coverage_table", "RECORD_SCHEMA", "STATUS"]

_KEYS = ["fl", "eni", "k", "egress", "psrc", "pdst", "sport", "dport", "proto", "reject"]
STATUS = ("OK", "NODATA", "SKIPDATA")
RECORD_SCHEMA = {"fl": pl.Int32, "eni": pl.Int32, "k": pl.Int64, "egress": pl.Boolean, "psrc": pl.Int32, "pdst": pl.Int32,
                 "sport": pl.Int32, "dport": pl.Int32, "proto": pl.Int16, "reject": pl.Boolean, "packets": pl.Int64,
                 "bytes": pl.Int64, "start": pl.Int64, "end": pl.Int64, "flags": pl.Int16, "tp": pl.Int8,
                 "local": pl.Int32, "status": pl.Int8, "order": pl.Int64}
_PIECE_COLUMNS = ("t0", "t1", "packets", "bytes", "open_flags", "close_flags")


def aggregate(obs: pl.DataFrame, explicit: pl.DataFrame, random: pl.DataFrame, first_random: int,
              coverage: pl.DataFrame, traffic_types: list[str]) -> pl.DataFrame:
    """OK records: observations x their pieces x the flow logs covering each ENI, per window.

    ``explicit`` pieces (connections below ``first_random``) may be several per direction, so
    their windows are merged per flow; ``random`` pieces are exactly one per connection and
    direction (all initiator pieces, then all replies), found by position instead of a join.
    Both run as lazy queries, so intermediate columns are never all in memory at once.
    """
    col = pl.col
    kinds = pl.Series([{"ALL": 0, "ACCEPT": 1, "REJECT": 2}[t] for t in traffic_types], dtype=pl.Int8)
    kind = pl.lit(kinds).gather(col("fl"))
    wanted = (kind == 0) | ((kind == 1) & ~col("reject")) | ((kind == 2) & col("reject"))
    columns = [c for c in RECORD_SCHEMA if c != "status"]
    few = obs.lazy().filter(col("conn") < first_random).join(explicit.lazy(), on=["conn", "dir"], how="inner")
    few = _windows(_covered(few, coverage)).group_by(_KEYS).agg(
        col("packets").sum(), col("bytes").sum(), col("start").min(), col("end").max(), col("flags").bitwise_or(),
        col("tp").min(), col("local").min(), col("order").min())
    count = random.height // 2
    index = col("dir").cast(pl.Int64) * count + (col("conn") - first_random)
    many = obs.lazy().filter(col("conn") >= first_random).with_columns(
        **{name: pl.lit(random[name]).gather(index) for name in _PIECE_COLUMNS})
    many = _windows(_covered(many, coverage))
    parts = [few.select(columns)] + ([many.select(columns)] if count else [])
    records = pl.concat(parts, how="vertical_relaxed").filter(wanted)
    return records.with_columns(status=pl.lit(0, pl.Int8)).select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA).collect()


def _covered(rows: pl.LazyFrame, coverage: pl.DataFrame) -> pl.LazyFrame:
    """Attach flow log, window length and phase; rows of ENIs no flow log covers disappear."""
    col = pl.col
    rows = rows.with_columns(order=col("conn") * 16 + col("dir").cast(pl.Int64) * 8 + col("step").cast(pl.Int64))
    if coverage["eni"].is_duplicated().any():
        return rows.join(coverage.lazy(), on="eni", how="inner")
    size = int(coverage["eni"].max()) + 1 if coverage.height else 0
    if not size:
        return rows.with_columns(fl=pl.lit(None, pl.Int32), W=pl.lit(None, pl.Int64), phase=pl.lit(None, pl.Float64)).filter(False)
    table = pl.DataFrame({"eni": range(size)}, schema={"eni": pl.Int32}).join(coverage, on="eni", how="left")
    inside = col("eni") < size
    lookups = {c: pl.when(inside).then(pl.lit(table[c]).gather(col("eni").clip(0, size - 1))) for c in ("fl", "W", "phase")}
    return rows.with_columns(**lookups).filter(col("fl").is_not_null())


def _windows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Split each piece over the aggregation windows of its ENI: packets, bytes, times, flags.

    Most pieces fit in one window and keep their totals; the others are exploded into one
    row per window and get their share.
    """
    col = pl.col
    rows = rows.with_columns(k0=((col("t0") - col("phase")) / col("W")).floor().cast(pl.Int64),
                             k1=((col("t1") - col("phase")) / col("W")).floor().cast(pl.Int64))
    syn_only = pl.when(col("rejected") & (col("dir") == 0) & (col("proto") == 6)).then(2).otherwise(0)
    single = rows.filter(col("k0") == col("k1")).with_columns(
        k=col("k0"), start=col("t0").floor().cast(pl.Int64), end=col("t1").floor().cast(pl.Int64),
        flags=(col("open_flags") | col("close_flags") | syn_only).cast(pl.Int16))
    multi = rows.filter(col("k0") != col("k1")).with_columns(k=pl.int_ranges(col("k0"), col("k1") + 1)).explode("k")
    ws = col("phase") + col("k") * col("W")
    multi = multi.with_columns(ws=ws, we=ws + col("W"))
    # Packets up to time t: one at the first packet, one at the last, the rest spread evenly,
    # so that the windows of a piece always add up to its totals.
    n = col("packets")
    first, last = n.clip(0, 1), (n >= 2).cast(pl.Int64)
    spread = n - first - last
    span = col("t1") - col("t0")

    def upto(t: pl.Expr) -> pl.Expr:
        return first * (col("t0") < t) + last * (col("t1") < t) + (spread * ((t - col("t0")) / span).clip(0.0, 1.0)).floor().cast(pl.Int64)

    def bytes_upto(upto_t: str) -> pl.Expr:
        # exact integers (128-bit: bytes x packets may pass 2**63); a float quotient can land
        # just below a whole number and lose a byte
        return pl.when(n > 0).then((col("bytes").cast(pl.Int128) * col(upto_t) // n).cast(pl.Int64)).otherwise(0)

    def in_window(t: pl.Expr) -> pl.Expr:
        return (col("ws") <= t) & (t < col("we"))

    multi = multi.with_columns(upto_we=upto(col("we")), upto_ws=upto(col("ws"))).with_columns(
        packets=col("upto_we") - col("upto_ws"),
        bytes=bytes_upto("upto_we") - bytes_upto("upto_ws"),
        start=pl.max_horizontal(col("t0"), col("ws")).floor().cast(pl.Int64),
        end=pl.min_horizontal(col("t1"), col("we") - 0.001).floor().cast(pl.Int64),
        flags=(pl.when(in_window(col("t0"))).then(col("open_flags")).otherwise(0)
               | pl.when(in_window(col("t1"))).then(col("close_flags")).otherwise(0)
               | syn_only).cast(pl.Int16),  # a refused TCP connection is only ever its initiator's SYNs
    ).drop("ws", "we", "upto_we", "upto_ws")
    return pl.concat([single, multi]).filter(col("packets") > 0)


def status_records(records: pl.DataFrame, coverage: pl.DataFrame, begin: float, finish: float,
                   skips: pl.DataFrame, skip_share: float, seed: int) -> pl.DataFrame:
    """Add SKIPDATA (injected, replacing the window's records) and NODATA (idle windows)."""
    col = pl.col
    # one integer per (flow log, ENI, window): cheap to deduplicate and join on 10M rows
    slot = (col("fl").cast(pl.Int64) * (1 << 20) + col("eni")) * (1 << 34) + col("k")

    def window(t: pl.Expr) -> pl.Expr:
        return ((t - col("phase")) / col("W")).floor().cast(pl.Int64)

    skipped = skips.join(coverage, on="eni", how="inner").select(slot=(col("fl").cast(pl.Int64) * (1 << 20) + col("eni"))
                                                                 * (1 << 34) + window(col("at")))
    busy = records.select(slot=slot).unique()
    if skip_share > 0 and busy.height:
        busy = busy.sort("slot")
        skipped = pl.concat([skipped, busy.filter(uniform(busy.height, seed, 97) < skip_share)])
    skipped = skipped.unique()
    if skipped.height:
        records = records.filter(~slot.is_in(skipped["slot"].implode()))
        busy = busy.join(skipped, on="slot", how="anti")
    every = (coverage.with_columns(k=pl.int_ranges(window(pl.lit(begin)), window(pl.lit(finish)) + 1))
             .explode("k").with_columns(slot=slot))
    idle = every.join(busy, on="slot", how="anti").with_columns(skip=col("slot").is_in(skipped["slot"].implode()))
    ws = col("phase") + col("k") * col("W")
    marks = idle.select("fl", "eni", "k", start=ws.floor().cast(pl.Int64), end=(ws + col("W")).floor().cast(pl.Int64),
                        status=pl.when(col("skip")).then(2).otherwise(1).cast(pl.Int8),
                        order=-1 - col("eni").cast(pl.Int64))
    return pl.concat([records, marks], how="diagonal_relaxed").select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)


def aws_columns(records: pl.DataFrame, fmt: Format, tables: dict[str, pl.Series], region: str,
                plain: bool = True) -> pl.DataFrame:
    """The values of every field of ``fmt`` (typed; NULL is AWS's '-') for these records.

    IPv4 ``srcaddr`` on egress and ``dstaddr`` on ingress is always the ENI's primary
    private IPv4, whichever address the packet used; ``pkt-*`` keep the packet's own
    (reference section 12). ``tables`` are the network's lookups (``Network.lookups``);
    ``plain=False`` leaves text columns categorical (cheaper when they are written as text).
    """
    col = pl.col

    def at(name: str, index: str) -> pl.Expr:
        return pl.lit(tables[name]).gather(col(index))

    ok = col("status") == 0
    frame = records.with_columns(pkt_src=at("ip", "psrc"), pkt_dst=at("ip", "pdst"), v4=~at("v6", "psrc"),
                                 primary_ip=pl.lit(tables["ip"]).gather(at("primary", "eni")))
    v4 = col("v4")
    version = max([2] + [lookup(n).version for n in fmt.names])
    values = {
        "version": pl.lit(version, pl.Int32),
        "account-id": at("account_id", "eni"),
        "interface-id": at("interface_id", "eni"),
        "srcaddr": pl.when(col("egress") & v4).then(col("primary_ip")).otherwise(col("pkt_src")),
        "dstaddr": pl.when(~col("egress") & v4).then(col("primary_ip")).otherwise(col("pkt_dst")),
        "srcport": col("sport"), "dstport": col("dport"), "protocol": col("proto"),
        "packets": col("packets"), "bytes": col("bytes"), "start": col("start"), "end": col("end"),
        "action": pl.when(col("reject")).then(pl.lit("REJECT")).otherwise(pl.lit("ACCEPT")),
        "log-status": pl.lit(pl.Series(STATUS)).gather(col("status")),
        "vpc-id": at("vpc_id", "eni"), "subnet-id": at("subnet_id", "eni"), "instance-id": at("instance_id", "eni"),
        "tcp-flags": col("flags"), "type": pl.when(v4).then(pl.lit("IPv4")).otherwise(pl.lit("IPv6")),
        "pkt-srcaddr": col("pkt_src"), "pkt-dstaddr": col("pkt_dst"),
        "region": pl.lit(region), "az-id": at("az_id", "eni"),
        "pkt-src-aws-service": at("service", "psrc"), "pkt-dst-aws-service": at("service", "pdst"),
        "flow-direction": pl.when(col("egress")).then(pl.lit("egress")).otherwise(pl.lit("ingress")),
        "traffic-path": pl.when(col("egress")).then(col("tp")),
    }
    always = {"version", "account-id", "interface-id", "start", "end", "log-status"}
    exprs = []
    for name in fmt.names:
        field = lookup(name)
        value = values.get(name, pl.lit(None))
        if name not in always:
            value = pl.when(ok).then(value)
        dtype = {"int32": pl.Int32, "int64": pl.Int64}.get(field.kind, pl.String if plain else None)
        exprs.append((value.cast(dtype) if dtype is not None else value).alias(field.column))
    return frame.select(exprs)


def truth_columns(records: pl.DataFrame, tables: dict[str, pl.Series]) -> pl.DataFrame:
    """Ground truth per record: real addresses, the ENI's own address used, and its owner."""
    col = pl.col

    def at(name: str, index: str) -> pl.Expr:
        return pl.lit(tables[name]).gather(col(index))

    ok = col("status") == 0
    return records.select(
        source=pl.lit(None, pl.Categorical), line=pl.lit(None, pl.Int64), interface_id=at("interface_id", "eni"),
        direction=pl.when(ok).then(pl.when(col("egress")).then(pl.lit("egress", pl.Categorical))
                                   .otherwise(pl.lit("ingress", pl.Categorical))),
        src_ip=pl.when(ok).then(at("ip", "psrc")), dst_ip=pl.when(ok).then(at("ip", "pdst")),
        local_ip=pl.when(ok).then(at("ip", "local")),
        # a pod's address belongs to the pod; any other to the ENI's instance or description
        owner=pl.when(ok).then(pl.when(at("pod", "local")).then(at("owner", "local")).otherwise(at("eni_owner", "eni"))),
        log_status=pl.lit(pl.Series(STATUS, dtype=pl.Categorical)).gather(col("status")))


def coverage_table(flow_logs: list[FlowLog], net) -> pl.DataFrame:
    """(flow log, ENI) pairs with the window length and phase of that ENI under that flow log."""
    rows = []
    for index, fl in enumerate(flow_logs):
        for i, eni in enumerate(net.enis):
            subnet = net.topo.subnets[eni.subnet]
            if eni.id in fl.resources or eni.subnet in fl.resources or subnet.vpc in fl.resources:
                window = 60 if eni.nitro else fl.interval
                rows.append((index, i, window, net.phase(eni) % window))
    return pl.DataFrame(rows, schema={"fl": pl.Int32, "eni": pl.Int32, "W": pl.Int64, "phase": pl.Float64}, orient="row")
