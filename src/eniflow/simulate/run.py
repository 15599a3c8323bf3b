"""``simulate()``: topology + traffic -> the files AWS would write, plus the ground truth."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ..aws import AwsOptions
from ..errors import UsageError
from ..times import parse_duration, parse_time
from .deliver import BATCH_SECONDS, LAYOUTS, Delivery, TruthWriter
from .generate import expand
from .network import Network
from .records import STATUS, aggregate, aws_columns, coverage_table, status_records, truth_columns
from .topology import SCENARIO_DIR, Topology, eni_format, load_topology
from .traffic import CONN_SCHEMA, PIECE_SCHEMA, explicit_tables, random_tables

__all__ = ["simulate", "SimulationResult", "list_scenarios"]

_DEFAULT_RANDOM_DURATION = 3600.0


@dataclass
class SimulationResult:
    """What a simulation wrote: files (paths, s3:// or cwl:// names), the truth file, counts."""

    out: Path
    files: list[str]
    truth: Path
    records: int
    start: int
    end: int
    buckets: list[str] = field(default_factory=list)
    log_groups: list[str] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)


def list_scenarios() -> dict[str, str]:
    """Built-in scenario names with their one-line descriptions."""
    result = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        topo = load_topology(path)
        result[path.stem] = topo.description.splitlines()[0] if topo.description else ""
    return result


def simulate(scenario_or_topology: str | Path | Topology, out: str | Path, *, layout: str | None = None,
             file_format: str | None = None, log_format: str | None = None, truth: str | Path | None = None,
             seed: int = 0, start=None, duration=None, records: int | None = None, endpoint_url: str | None = None,
             progress: bool = False) -> SimulationResult:
    """Write AWS-faithful flow logs for a built-in scenario name or a topology file.

    ``layout`` (default|hourly|hive|hive-hourly|cloudwatch), ``file_format`` (text|parquet) and
    ``log_format`` override every flow log of the topology; ``records`` scales the random traffic
    to about that many records; ``endpoint_url`` uploads to S3 / CloudWatch Logs there instead of
    writing files under ``out``. The same inputs and ``seed`` always give the same output.
    """
    if layout is not None and layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}.")
    if file_format is not None and file_format not in ("text", "parquet"):
        raise UsageError(f"unknown file format {file_format!r}; choose text or parquet.")
    if file_format == "parquet" and layout == "cloudwatch":
        raise UsageError("CloudWatch Logs holds text records only; drop --file-format parquet or choose an S3 layout.")
    topo = scenario_or_topology if isinstance(scenario_or_topology, Topology) else load_topology(scenario_or_topology)
    topo = _override(topo, layout=layout, file_format=file_format, log_format=log_format)
    if topo.generate:
        topo = expand(topo, seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bar = _Progress(progress)

    begin, length = _span(topo, start, duration, endpoint_url)
    topo = _shifted(topo, begin - topo.traffic.start)
    if records is not None and topo.traffic.random is None:
        raise UsageError(f"{topo.source}: --records needs a scenario with random traffic ('traffic: random:'), "
                         "such as the built-in 'mixed'.")
    net = Network(topo, seed)
    coverage = coverage_table(topo.flow_logs, net)
    types = [f.traffic_type for f in topo.flow_logs]

    bar.stage("traffic")
    net.use_addresses(topo.traffic.connections)
    conns, pieces = explicit_tables(topo.traffic.connections, net.address_id, seed)
    first_random = conns.height
    random_conns, random_pieces = pl.DataFrame(schema=CONN_SCHEMA), pl.DataFrame(schema=PIECE_SCHEMA)
    mix = topo.traffic.random
    if mix:
        pools = {"vpc": net.pool("vpc"), "unlogged": net.pool("unlogged"),
                 "internet": net.add_random_hosts(int((topo.generate or {}).get("internet_hosts", 500)))}
        wanted = mix["connections"] if records is None else _connections_for(
            records, mix, pools, net, coverage, types, begin, length, seed)
        random_conns, random_pieces = random_tables(wanted, mix, start=begin, duration=length, seed=seed,
                                                    first_conn=first_random, **pools)

    bar.stage("records")
    conns = pl.concat([conns, random_conns])
    obs = _drop_idle(net.observe(conns), conns, net, topo.traffic.idle)
    del conns
    recs = aggregate(obs, pieces, random_pieces, first_random, coverage, types)
    del obs, random_pieces
    skips = pl.DataFrame([(net.eni_index[e], at) for e, at in topo.traffic.skipdata],
                         schema={"eni": pl.Int32, "at": pl.Float64}, orient="row")
    recs = status_records(recs, coverage, begin, begin + length, skips, mix["skipdata_share"] if mix else 0.0, seed)
    recs = recs.with_columns(batch=pl.col("end") // BATCH_SECONDS * BATCH_SECONDS)
    order = _file_order(recs)

    bar.stage("writing")
    aws = AwsOptions(region=topo.region, endpoint_url=endpoint_url) if endpoint_url else None
    truth_path = Path(truth) if truth else out / "truth.parquet"
    with TruthWriter(truth_path) as truth_writer:
        delivery = Delivery(out, topo.account, topo.region, seed, aws=aws, progress=bar.advance, truth=truth_writer)
        _deliver(delivery, recs, order, topo, net.lookups())
    bar.done()
    counts = {STATUS[code]: n for code, n in recs.group_by("status").len().sort("status").iter_rows()}
    return SimulationResult(out=out, files=delivery.files, truth=truth_path, records=recs.height, start=int(begin),
                            end=int(begin + length), buckets=sorted(delivery.buckets), log_groups=sorted(delivery.log_groups),
                            status=counts)


def _deliver(delivery: Delivery, recs: pl.DataFrame, order: pl.Series, topo: Topology,
             tables: dict[str, pl.Series]) -> None:
    """Each flow log's records to its destination, rendered in its format.

    ``order`` lists the rows by flow log, batch, start and path; each flow log's rows (and
    each batch within them) are one contiguous slice of it.
    """
    flow_logs = recs["fl"].gather(order)
    for index, fl in enumerate(topo.flow_logs):
        first, last = flow_logs.search_sorted(index, "left"), flow_logs.search_sorted(index, "right")
        if first == last:
            continue
        rows = order.slice(first, last - first)

        def columns(chunk: pl.DataFrame, fmt=fl.format, plain=fl.file_format == "parquet"):
            return aws_columns(chunk, fmt, tables, topo.region, plain), truth_columns(chunk, tables)

        if fl.destination == "cloudwatch":
            delivery.cloudwatch(recs[rows], columns, log_group=fl.log_group)
            if delivery.aws:
                delivery.register_flow_log(fl.format, fl.log_group, str(next(iter(topo.vpcs.values())).cidrs[0]),
                                           fl.interval, fl.traffic_type)
        else:
            delivery.s3(recs, rows, columns, fl.format, flow_log_id=fl.id, layout=fl.layout, file_format=fl.file_format,
                        bucket=fl.bucket, prefix=fl.prefix)
    delivery.flush_cloudwatch()


def _file_order(recs: pl.DataFrame) -> pl.Series:
    """Row indexes by flow log, 5-minute batch, record start, then path order.

    One packed integer key sorts fastest: a record starts at most one window (600 s) before
    its batch, so its start fits in 11 bits relative to the batch.
    """
    if not recs.height:
        return pl.Series("index", [], dtype=pl.UInt32)
    col = pl.col
    first = recs["batch"].min()
    batch = (col("batch") - first) // BATCH_SECONDS
    rel = col("start") - col("batch") + 600
    bounds = recs.select(fl=col("fl").max(), batch=batch.max(), low=rel.min(), high=rel.max(),
                         order=col("order").abs().max()).row(0, named=True)
    if bounds["fl"] < 32 and bounds["batch"] < (1 << 15) and bounds["low"] >= 0 and bounds["high"] < (1 << 11) \
            and bounds["order"] < (1 << 31):
        key = (col("fl").cast(pl.Int64) * (1 << 58) + batch * (1 << 43) + rel * (1 << 32) + col("order") + (1 << 31))
        return recs.select(key.arg_sort()).to_series()
    return recs.with_row_index().sort("fl", "batch", "start", "order")["index"]


def _override(topo: Topology, *, layout, file_format, log_format) -> Topology:
    fmt = eni_format(log_format) if log_format else None
    logs = []
    for fl in topo.flow_logs:
        changes = {}
        if fmt:
            changes["format"] = fmt
        if file_format:
            changes["file_format"] = file_format
        if layout == "cloudwatch":
            changes["destination"] = "cloudwatch"
        elif layout:
            changes.update(destination="s3", hive=layout.startswith("hive"), hourly=layout.endswith("hourly"))
        logs.append(replace(fl, **changes))
    return replace(topo, flow_logs=logs)


def _span(topo: Topology, start, duration, endpoint_url) -> tuple[float, float]:
    """The simulated time range: CLI/API values first, then the topology's, then defaults."""
    if duration is not None:
        text = str(duration).strip()
        length = float(text) if text.replace(".", "", 1).isdigit() else float(parse_duration(text))
    else:
        length = topo.traffic.duration or _covering(topo)
    if start is not None:
        begin = float(parse_time(start))
    elif endpoint_url and any(fl.destination == "cloudwatch" for fl in topo.flow_logs):
        # CloudWatch Logs only accepts events of the last 14 days: end the traffic an hour ago.
        begin = math.floor(time.time() / 3600) * 3600 - 3600 * math.ceil(length / 3600) - 3600
    else:
        begin = topo.traffic.start
    return begin, length


def _covering(topo: Topology) -> float:
    """Without a duration: until the last explicit traffic ends (or an hour of random traffic)."""
    ends = [topo.traffic.start]
    for spec in topo.traffic.connections:
        reps = max(1, spec["repeat"]) - 1
        ends.append(spec["at"] + spec["duration"] + reps * spec["every"])
        ends += [seg["t1"] for seg in spec["segments"]]
    ends += [m.at for m in topo.moves] + [at for _, at in topo.traffic.skipdata]
    span = max(ends) - topo.traffic.start
    return max(span + 1, _DEFAULT_RANDOM_DURATION if topo.traffic.random else 60.0)


def _shifted(topo: Topology, shift: float) -> Topology:
    """The same scenario ``shift`` seconds later (``--start``): traffic, moves, SKIPDATA, idle."""
    if not shift:
        return topo
    traffic = topo.traffic
    specs = [{**spec, "at": spec["at"] + shift,
              "segments": [{**seg, "t0": seg["t0"] + shift, "t1": seg["t1"] + shift} for seg in spec["segments"]]}
             for spec in traffic.connections]
    traffic = replace(traffic, start=traffic.start + shift, connections=specs,
                      skipdata=[(eni, at + shift) for eni, at in traffic.skipdata],
                      idle=[(eni, a + shift, b + shift) for eni, a, b in traffic.idle])
    return replace(topo, traffic=traffic, moves=[replace(m, at=m.at + shift) for m in topo.moves])


def _drop_idle(obs: pl.DataFrame, conns: pl.DataFrame, net: Network, idle) -> pl.DataFrame:
    """Connections that touch an ENI during one of its idle periods do not happen."""
    for eni_id, begin, finish in idle:
        eni = net.eni_index[eni_id]
        during = conns.filter(pl.col("t0").is_between(begin, finish, closed="left")).select("conn")
        touched = obs.filter(pl.col("eni") == eni).join(during, on="conn", how="semi").select("conn").unique()
        obs = obs.join(touched, on="conn", how="anti")
    return obs


def _connections_for(records: int, mix, pools, net, coverage, types, begin, length, seed) -> int:
    """How many random connections make about ``records`` records (NODATA included).

    A pilot sample gives the records per connection and how fast windows fill up; idle
    windows (NODATA) are then modelled as Poisson-empty, and the count solved by bisection.
    """
    pilot = min(20_000, max(1_000, records // 50))
    conns, pieces = random_tables(pilot, mix, start=begin, duration=length, seed=seed + 7919, first_conn=0, **pools)
    sample = aggregate(net.observe(conns), pieces.clear(), pieces, 0, coverage, types)
    per_connection = max(sample.height / pilot, 0.01)
    windows = coverage.select((length / pl.col("W") + 1).floor().sum()).item() if coverage.height else 0
    busy = sample.select("fl", "eni", "k").unique().height
    rate = -math.log(max(1e-9, 1 - min(busy, windows - 1) / windows)) / pilot if windows else 0.0

    def expected(n: float) -> float:
        return per_connection * n + windows * math.exp(-rate * n)

    low, high = 0.0, records / per_connection + 1
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if expected(mid) < records else (low, mid)
    return int(round(low))


class _Progress:
    """A rich progress bar over the stages and files of a large run (silent when off)."""

    def __init__(self, enabled: bool):
        self._bar = None
        if enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                                 TimeElapsedColumn(), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("simulate", total=3, info="")
            self._bytes = 0

    def stage(self, name: str) -> None:
        if self._bar:
            self._bar.update(self._task, description=f"simulate: {name}", advance=0 if name == "traffic" else 1)

    def advance(self, size: int) -> None:
        if self._bar:
            self._bytes += size
            self._bar.update(self._task, info=f"{self._bytes / 1e6:,.0f} MB written")

    def done(self) -> None:
        if self._bar:
            self._bar.update(self._task, completed=3)
            self._bar.stop()
