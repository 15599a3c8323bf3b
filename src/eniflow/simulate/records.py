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

__all__ = ["aggregate", "status_records", "aws_columns", "RECORD_SCHEMA"]

_KEYS = ["fl", "eni", "k", "egress", "psrc", "pdst", "sport", "dport", "proto", "action"]
RECORD_SCHEMA = {"fl": pl.Int32, "eni": pl.Int64, "k": pl.Int64, "egress": pl.Boolean, "psrc": pl.Int64, "pdst": pl.Int64,
                 "sport": pl.Int32, "dport": pl.Int32, "proto": pl.Int32, "action": pl.String, "packets": pl.Int64,
                 "bytes": pl.Int64, "start": pl.Int64, "end": pl.Int64, "flags": pl.Int32, "tp": pl.Int8,
                 "local": pl.Int64, "log_status": pl.String}


def aggregate(obs: pl.DataFrame, pieces: pl.DataFrame, coverage: pl.DataFrame, traffic_types: pl.DataFrame) -> pl.DataFrame:
    """OK records: observations x pieces x the flow logs covering each ENI, per window."""
    col = pl.col
    rows = (obs.join(pieces, on=["conn", "dir"], how="inner")
            .join(coverage, on="eni", how="inner")
            .with_columns(k0=((col("t0") - col("phase")) / col("W")).floor().cast(pl.Int64),
                          k1=((col("t1") - col("phase")) / col("W")).floor().cast(pl.Int64)))
    single = rows.filter(col("k0") == col("k1")).with_columns(k=col("k0"))
    multi = rows.filter(col("k0") != col("k1")).with_columns(k=pl.int_ranges(col("k0"), col("k1") + 1)).explode("k")
    rows = pl.concat([single, multi])
    ws = col("phase") + col("k") * col("W")
    we = ws + col("W")
    rows = rows.with_columns(ws=ws, we=we)
    # Packets up to time t: one at the first packet, one at the last, the rest spread evenly,
    # so that the windows of a piece always add up to its totals.
    n = col("packets")
    first, last = n.clip(0, 1), (n >= 2).cast(pl.Int64)
    spread = n - first - last
    span = (col("t1") - col("t0"))

    def upto(t: pl.Expr) -> pl.Expr:
        frac = pl.when(span > 0).then(((t - col("t0")) / span).clip(0.0, 1.0)).otherwise((t > col("t0")).cast(pl.Float64))
        return first * (col("t0") < t) + last * (col("t1") < t) + (spread * frac).floor().cast(pl.Int64)

    def bytes_upto(t: pl.Expr) -> pl.Expr:
        return pl.when(n > 0).then((col("bytes") * upto(t) / n).floor().cast(pl.Int64)).otherwise(0)

    in_window = lambda t: (col("ws") <= t) & (t < col("we"))  # noqa: E731
    rows = rows.with_columns(
        packets=pl.when(col("k0") == col("k1")).then(n).otherwise(upto(col("we")) - upto(col("ws"))),
        bytes=pl.when(col("k0") == col("k1")).then(col("bytes")).otherwise(bytes_upto(col("we")) - bytes_upto(col("ws"))),
        start=pl.max_horizontal(col("t0"), col("ws")).floor().cast(pl.Int64),
        end=pl.min_horizontal(col("t1"), col("we") - 0.001).floor().cast(pl.Int64),
        flags=(pl.when(in_window(col("t0"))).then(col("open_flags")).otherwise(0)
               | pl.when(in_window(col("t1"))).then(col("close_flags")).otherwise(0)
               # a rejected TCP connection is only ever its initiator's SYNs
               | pl.when(col("rejected") & (col("dir") == 0) & (col("proto") == 6)).then(2).otherwise(0)).cast(pl.Int32),
    ).filter(col("packets") > 0)
    records = rows.group_by(_KEYS).agg(
        col("packets").sum(), col("bytes").sum(), col("start").min(), col("end").max(),
        col("flags").bitwise_or(), col("tp").first(), col("local").first())
    records = records.join(traffic_types, on="fl", how="inner").filter(
        (col("traffic_type") == "ALL") | (col("traffic_type") == col("action"))).drop("traffic_type")
    return records.with_columns(log_status=pl.lit("OK")).select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)


def status_records(records: pl.DataFrame, coverage: pl.DataFrame, begin: float, finish: float,
                   skips: pl.DataFrame, skip_share: float, seed: int) -> pl.DataFrame:
    """Add SKIPDATA (injected, replacing the window's records) and NODATA (idle windows)."""
    col = pl.col
    window = lambda t: ((t - col("phase")) / col("W")).floor().cast(pl.Int64)  # noqa: E731
    skipped = skips.join(coverage, on="eni", how="inner").select("fl", "eni", k=window(col("at")))
    if skip_share > 0 and records.height:
        busy = records.select("fl", "eni", "k").unique().sort("fl", "eni", "k")
        busy = busy.filter(uniform(busy.height, seed, 97) < skip_share)
        skipped = pl.concat([skipped, busy])
    skipped = skipped.unique()
    records = records.join(skipped, on=["fl", "eni", "k"], how="anti")
    every = (coverage.with_columns(k=pl.int_ranges(window(pl.lit(begin)), window(pl.lit(finish)) + 1))
             .explode("k").select("fl", "eni", "k", "W", "phase"))
    idle = every.join(records.select("fl", "eni", "k").unique(), on=["fl", "eni", "k"], how="anti")
    marks = pl.concat([idle.join(skipped, on=["fl", "eni", "k"], how="anti").with_columns(log_status=pl.lit("NODATA")),
                       idle.join(skipped, on=["fl", "eni", "k"], how="semi").with_columns(log_status=pl.lit("SKIPDATA"))])
    ws = col("phase") + col("k") * col("W")
    marks = marks.select("fl", "eni", "k", start=ws.floor().cast(pl.Int64), end=(ws + col("W")).floor().cast(pl.Int64),
                         log_status=col("log_status"))
    return pl.concat([records, marks], how="diagonal_relaxed").select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)


def aws_columns(records: pl.DataFrame, fmt: Format, addrs: pl.DataFrame, enis: pl.DataFrame, region: str) -> pl.DataFrame:
    """The values of every field of ``fmt`` (typed; NULL is AWS's '-') for these records.

    IPv4 ``srcaddr`` on egress and ``dstaddr`` on ingress is always the ENI's primary
    private IPv4, whichever address the packet used; ``pkt-*`` keep the packet's own
    (reference section 12).
    """
    col = pl.col
    ip = addrs.select("addr", "ip", "v6", "service")
    frame = (records.join(enis, on="eni", how="left")
             .join(ip.rename({"addr": "psrc", "ip": "pkt_src", "v6": "v6", "service": "src_service"}), on="psrc", how="left")
             .join(ip.select(pl.col("addr").alias("pdst"), pl.col("ip").alias("pkt_dst"), pl.col("service").alias("dst_service")),
                   on="pdst", how="left")
             .join(ip.select(pl.col("addr").alias("primary"), pl.col("ip").alias("primary_ip")), on="primary", how="left"))
    ok = col("log_status") == "OK"
    v4 = ~col("v6").fill_null(False)
    version = max([2] + [lookup(n).version for n in fmt.names])
    values = {
        "version": pl.lit(version, pl.Int32),
        "account-id": col("account_id"),
        "interface-id": col("interface_id"),
        "srcaddr": pl.when(col("egress") & v4).then(col("primary_ip")).otherwise(col("pkt_src")),
        "dstaddr": pl.when(~col("egress") & v4).then(col("primary_ip")).otherwise(col("pkt_dst")),
        "srcport": col("sport"), "dstport": col("dport"), "protocol": col("proto"),
        "packets": col("packets"), "bytes": col("bytes"), "start": col("start"), "end": col("end"),
        "action": col("action"), "log-status": col("log_status"),
        "vpc-id": col("vpc_id"), "subnet-id": col("subnet_id"), "instance-id": col("instance_id"),
        "tcp-flags": col("flags"), "type": pl.when(v4).then(pl.lit("IPv4")).otherwise(pl.lit("IPv6")),
        "pkt-srcaddr": col("pkt_src"), "pkt-dstaddr": col("pkt_dst"),
        "region": pl.lit(region), "az-id": col("az_id"),
        "pkt-src-aws-service": col("src_service"), "pkt-dst-aws-service": col("dst_service"),
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
        dtype = {"int32": pl.Int32, "int64": pl.Int64}.get(field.kind, pl.String)
        exprs.append(value.cast(dtype).alias(field.column))
    return frame.select(exprs)


def coverage_table(flow_logs: list[FlowLog], net) -> pl.DataFrame:
    """(flow log, ENI) pairs with the window length and phase of that ENI under that flow log."""
    rows = []
    for index, fl in enumerate(flow_logs):
        for i, eni in enumerate(net.enis):
            subnet = net.topo.subnets[eni.subnet]
            if eni.id in fl.resources or eni.subnet in fl.resources or subnet.vpc in fl.resources:
                window = 60 if eni.nitro else fl.interval
                rows.append((index, i, window, net.phase(eni) % window))
    return pl.DataFrame(rows, schema={"fl": pl.Int32, "eni": pl.Int64, "W": pl.Int64, "phase": pl.Float64}, orient="row")
