"""Traffic: the connections of a scenario, as columnar tables.

Two tables describe all traffic. ``connections`` has one row per connection (who, to
whom, ports, protocol, start). ``pieces`` has the packets of each connection per
direction (``dir`` 0 = initiator to responder, 1 = the reply): a time span, packet and
byte totals, and the TCP flags to report in the window where the piece starts
(``open_flags``) and ends (``close_flags``). A plain connection has one piece per
direction; explicit ``segments`` give several, which is how the AWS documentation
examples are reproduced exactly. Random mixes are drawn column-wise, never per row.
"""

from __future__ import annotations

import ipaddress
import re

import polars as pl
import pyarrow.compute as pc

from .yamlfile import PROTOCOLS, duration_value, time_value

__all__ = ["parse_connections", "parse_random", "explicit_tables", "random_tables", "uniform", "CONN_SCHEMA", "PIECE_SCHEMA"]

FLAG_VALUES = {"FIN": 1, "SYN": 2, "RST": 4, "SYN-ACK": 18, "ACK": 0}
CONN_SCHEMA = {"conn": pl.Int64, "src": pl.Int32, "dst": pl.Int32, "sport": pl.Int32, "dport": pl.Int32,
               "proto": pl.Int32, "t0": pl.Float64, "line": pl.Int32}
PIECE_SCHEMA = {"conn": pl.Int64, "dir": pl.Int8, "t0": pl.Float64, "t1": pl.Float64, "packets": pl.Int64,
                "bytes": pl.Int64, "open_flags": pl.Int16, "close_flags": pl.Int16}
_ENDPOINT = re.compile(r"^\[?(?P<host>[^\]]+?)\]?(?::(?P<port>\d+))?$")
RANDOM_KEYS = ("connections", "internet_share", "inbound_share", "ports", "mean_duration", "mean_packets",
               "mean_bytes_per_packet", "unlogged_share", "skipdata_share")


def parse_connections(check, node, start: float, names: dict[str, str]) -> list[dict]:
    """Validated connection specs (plain dicts with the YAML line kept for later errors)."""
    specs = []
    for item in check.items(node, "connections", "connections"):
        check.keys(item, "connection", required=("from", "to"), optional=(
            "protocol", "src_port", "at", "duration", "packets", "bytes", "rate", "close", "repeat", "every", "segments"))
        proto_text = str(item.get("protocol", "tcp")).lower()
        if proto_text not in PROTOCOLS or PROTOCOLS[proto_text] < 0:
            check.fail(item, "protocol", f"connection: protocol must be tcp, udp, icmp or icmpv6, not {proto_text!r}.")
        proto = PROTOCOLS[proto_text]
        src, _ = _endpoint(check, item, "from", names, want_port=False)
        dst, dport = _endpoint(check, item, "to", names, want_port=proto in (6, 17))
        if (":" in src) != (":" in dst):  # a packet is IPv4 or IPv6; an ENI's name stands for its IPv4 primary
            check.fail(item, "to", f"connection: 'from' ({src}) and 'to' ({dst}) must both be IPv4 or both IPv6; "
                       "an ENI's name means its primary IPv4, so write its IPv6 address to send over IPv6.")
        at = time_value(check, item, "at", start) if "at" in item else start
        duration = duration_value(check, item, "duration") if "duration" in item else 1.0
        if duration < 0:
            check.fail(item, "duration", "connection: 'duration' cannot be negative.")
        packets = _pair(check, item, "packets", (10, 8))
        size = _pair(check, item, "bytes", None)
        if "rate" in item:
            rate = check.mapping(item["rate"], item, "rate", "packets and bytes per second")
            check.keys(rate, "rate", optional=("packets", "bytes"))
            packets = tuple(max(1, round(v * max(duration, 1.0))) for v in _pair(check, rate, "packets", (1, 1)))
            per_second = _pair(check, rate, "bytes", (packets[0] * 100, packets[1] * 100))
            size = tuple(round(v * max(duration, 1.0)) for v in per_second)
        if size is None:
            size = (packets[0] * 120, packets[1] * 900)
        segments = []
        for seg in check.items(item, "segments", "segments"):
            check.keys(seg, "segment", required=("dir", "at", "packets", "bytes"), optional=("until", "flags"))
            direction = check.choice(seg, "dir", "segment", ("fwd", "rev"), "fwd")
            t0 = time_value(check, seg, "at", start)
            t1 = time_value(check, seg, "until", start) if "until" in seg else t0
            segments.append({"dir": 0 if direction == "fwd" else 1, "t0": t0, "t1": t1,
                             "packets": int(check.number(seg, "packets", "segment")),
                             "bytes": int(check.number(seg, "bytes", "segment")), "flags": _flags(check, seg)})
        sport = int(check.number(item, "src_port", "connection", 0)) if "src_port" in item else None
        if proto in (1, 58):
            sport, dport = 0, dport or 0
        specs.append({
            "line": item.line, "src": src, "dst": dst, "sport": sport, "dport": dport or 0, "proto": proto,
            "at": at, "duration": duration, "packets": packets, "bytes": size,
            "close": check.flag(item, "close", "connection", default=True), "segments": segments,
            "repeat": int(check.number(item, "repeat", "connection", 1)),
            "every": duration_value(check, item, "every") if "every" in item else 60.0})
    return specs


def parse_random(check, node) -> dict | None:
    if "random" not in node:
        return None
    spec = check.mapping(node["random"], node, "random", "a random traffic mix")
    check.keys(spec, "random traffic", optional=RANDOM_KEYS)
    ports = spec.get("ports", [443, 80, 22, 5432, 3306, 8080, 6379, 3389])
    if not isinstance(ports, list) or not all(isinstance(p, int) for p in ports):
        check.fail(spec, "ports", "random traffic: 'ports' must be a list of port numbers.")
    return {
        "connections": int(check.number(spec, "connections", "random traffic", 1000)),
        "internet_share": float(check.number(spec, "internet_share", "random traffic", 0.2)),
        "inbound_share": float(check.number(spec, "inbound_share", "random traffic", 0.05)),
        "ports": ports,
        "mean_duration": duration_value(check, spec, "mean_duration") if "mean_duration" in spec else 20.0,
        "mean_packets": float(check.number(spec, "mean_packets", "random traffic", 12)),
        "mean_bytes_per_packet": float(check.number(spec, "mean_bytes_per_packet", "random traffic", 420)),
        "unlogged_share": float(check.number(spec, "unlogged_share", "random traffic", 0.01)),
        "skipdata_share": float(check.number(spec, "skipdata_share", "random traffic", 0.0)),
    }


def _endpoint(check, item, key: str, names: dict[str, str], want_port: bool):
    text = str(item[key]).strip()
    host, port = text, None
    if text in names:
        host = names[text]
    else:
        match = _ENDPOINT.match(text)
        if match and (":" not in text or text.startswith("[") or text.count(":") == 1):
            host, port = match.group("host"), match.group("port")
        host = names.get(host, host)
        try:
            host = str(ipaddress.ip_address(host))
        except ValueError:
            check.fail(item, key, f"connection: '{key}' must be an address, address:port ([v6]:port) or a declared name "
                       f"(ENI, internet host, namespace/pod), not {text!r}.")
    if want_port and port is None:
        check.fail(item, key, f"connection: '{key}' needs a port for TCP/UDP, e.g. {host}:443.")
    return host, int(port) if port is not None else None


def _pair(check, node, key: str, default):
    value = node.get(key, default)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return tuple(value)
    check.fail(node, key, f"'{key}' must be a number or [initiator-to-responder, reply], not {value!r}.")


def _flags(check, seg) -> int:
    value = seg.get("flags", 0)
    if isinstance(value, int):
        return value
    total = 0
    for name in str(value).replace("|", " ").replace("+", " ").split():
        if name.upper() not in FLAG_VALUES:
            check.fail(seg, "flags", f"segment: unknown TCP flag {name!r} (use SYN, SYN-ACK, FIN, RST or a number).")
        total |= FLAG_VALUES[name.upper()]
    return total


# --------------------------------------------------------------------------------------
# Tables


def explicit_tables(specs: list[dict], address_id: dict[str, int], seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Connections and pieces for the connections written in the topology (small: rows in Python)."""
    conns, pieces = [], []
    for index, spec in enumerate(specs):
        for rep in range(max(1, spec["repeat"])):
            conn = len(conns)
            shift = rep * spec["every"]
            sport = spec["sport"] if spec["sport"] is not None else 32768 + (index * 7919 + rep * 104729 + seed * 31) % 28000
            conns.append((conn, address_id[spec["src"]], address_id[spec["dst"]], sport, spec["dport"], spec["proto"],
                          spec["at"] + shift, spec["line"]))
            if spec["segments"]:
                for seg in spec["segments"]:
                    pieces.append((conn, seg["dir"], seg["t0"] + shift, seg["t1"] + shift, seg["packets"], seg["bytes"],
                                   seg["flags"], 0))
                continue
            t0, t1 = spec["at"] + shift, spec["at"] + shift + spec["duration"]
            tcp = spec["proto"] == 6
            fin = 1 if tcp and spec["close"] else 0
            for direction in (0, 1):
                opening = (2 if direction == 0 else 18) if tcp else 0
                pieces.append((conn, direction, t0, t1, int(spec["packets"][direction]), int(spec["bytes"][direction]),
                               opening, fin))
    return (pl.DataFrame(conns, schema=CONN_SCHEMA, orient="row"),
            pl.DataFrame(pieces, schema=PIECE_SCHEMA, orient="row"))


def uniform(n: int, seed: int, stream: int) -> pl.Series:
    """n uniform floats in [0, 1), the same for the same (seed, stream)."""
    return pl.Series(pc.random(n, initializer=seed * 1_000_003 + stream))


def random_tables(count: int, mix: dict, *, vpc: pl.DataFrame, internet: pl.DataFrame, unlogged: pl.DataFrame,
                  start: float, duration: float, seed: int, first_conn: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``count`` random connections, drawn column-wise.

    ``vpc``/``internet``/``unlogged`` are one-column frames of address ids (``addr``) to draw
    from: instance addresses in the VPCs, internet hosts, and addresses AWS never logs
    (metadata, Amazon DNS). Each connection is VPC to VPC, VPC to internet, internet to VPC
    (``inbound_share``) or to an unlogged address, in the shares of ``mix``.
    """
    u = [uniform(count, seed, s) for s in range(10)]
    ports = pl.Series(mix["ports"], dtype=pl.Int32)
    kind = (pl.when(u[0] < mix["unlogged_share"]).then(3)
            .when(u[0] < mix["unlogged_share"] + mix["inbound_share"]).then(2)
            .when(u[0] < mix["unlogged_share"] + mix["inbound_share"] + mix["internet_share"]).then(1)
            .otherwise(0))
    frame = pl.DataFrame({f"u{i}": s for i, s in enumerate(u)}).with_columns(
        kind=kind, client=_gather(vpc["addr"], pl.col("u1")), server=_gather(vpc["addr"], pl.col("u2")),
        host=_gather(internet["addr"], pl.col("u2")), hidden=_gather(unlogged["addr"], pl.col("u2")),
        port=_gather(ports, pl.col("u3")))
    mean_packets = mix["mean_packets"]
    conns = frame.select(
        conn=pl.int_range(first_conn, first_conn + count, dtype=pl.Int64),
        src=pl.when(pl.col("kind") == 2).then(pl.col("host")).otherwise(pl.col("client")),
        dst=pl.when(pl.col("kind") == 0).then(pl.col("server")).when(pl.col("kind") == 1).then(pl.col("host"))
        .when(pl.col("kind") == 2).then(pl.col("client")).otherwise(pl.col("hidden")),
        sport=(32768 + (pl.col("u4") * 28231).floor()).cast(pl.Int32),
        dport=pl.when(pl.col("kind") == 3).then(pl.lit(80, pl.Int32)).otherwise(pl.col("port")),
        proto=pl.when(pl.col("port") == 53).then(pl.lit(17, pl.Int32)).otherwise(pl.lit(6, pl.Int32)),
        t0=start + pl.col("u5") * duration,
        dur=-(1 - pl.col("u6")).log() * mix["mean_duration"],
        fwd=(1 + (-(1 - pl.col("u7")).log() * mean_packets).floor()).cast(pl.Int64) + 1,
        ratio=0.5 + pl.col("u8"),
        size=mix["mean_bytes_per_packet"] * (0.25 + 1.5 * pl.col("u9")),
        line=pl.lit(None, pl.Int32),
    ).with_columns(
        t0=pl.col("t0").round(3),
        dur=pl.min_horizontal(pl.col("dur"), start + duration - pl.col("t0")).clip(0, None).round(3),
        rev=(pl.col("fwd") * pl.col("ratio")).ceil().cast(pl.Int64) + 1,
    )
    tcp = pl.col("proto") == 6
    common = [pl.col("conn"), pl.col("t0"), (pl.col("t0") + pl.col("dur")).alias("t1")]
    pieces = pl.concat([
        conns.select(*common[:1], pl.lit(0, pl.Int8).alias("dir"), *common[1:], packets=pl.col("fwd"),
                     bytes=(pl.col("fwd") * 60 + (pl.col("fwd") * pl.col("size") * 0.3).floor()).cast(pl.Int64),
                     open_flags=pl.when(tcp).then(2).otherwise(0).cast(pl.Int32),
                     close_flags=pl.when(tcp).then(1).otherwise(0).cast(pl.Int32)),
        conns.select(*common[:1], pl.lit(1, pl.Int8).alias("dir"), *common[1:], packets=pl.col("rev"),
                     bytes=(pl.col("rev") * pl.col("size")).floor().cast(pl.Int64),
                     open_flags=pl.when(tcp).then(18).otherwise(0).cast(pl.Int32),
                     close_flags=pl.when(tcp).then(1).otherwise(0).cast(pl.Int32)),
    ])
    return conns.select(list(CONN_SCHEMA)).cast(CONN_SCHEMA), pieces.cast(PIECE_SCHEMA)


def _gather(values: pl.Series, x: pl.Expr) -> pl.Expr:
    n = len(values)
    return pl.lit(values).gather((x * n).floor().cast(pl.Int64).clip(0, max(n - 1, 0))) if n else pl.lit(None, pl.Int32)
