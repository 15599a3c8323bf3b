"""Spark engine: the same records, resolution and top talkers as DuckDB, row for row.

One local SparkSession (local[2], no UI, 4 shuffle partitions) serves the whole module. Every
built-in simulator scenario is resolved and ranked on both engines; so that this takes four
Spark resolutions, not fourteen, the scenarios that do not meet (each on a day of its own, in
address spaces of their own) are resolved together, and a test checks that together they give
exactly the rows each gives alone.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import shutil
import tempfile
from dataclasses import dataclass

import polars as pl
import pytest

import eniflow
from eniflow.errors import MalformedRecordError, UsageError
from eniflow.inventory import Inventory
from eniflow.simulate import list_scenarios, load_topology, simulate

pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'eniflow[spark]')")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+ (java is not on PATH)", allow_module_level=True)

from eniflow.analyses.top import top  # noqa: E402
from eniflow.engines import resolve_on  # noqa: E402
from eniflow.engines.spark import parse_conf, spark_session  # noqa: E402
from eniflow.engines.spark_read import read_spark  # noqa: E402
from eniflow.resolve import resolve  # noqa: E402

CONF = {"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "768m", "spark.ui.enabled": "false"}


@pytest.fixture(scope="session")
def spark():
    session = spark_session("local[2]", CONF)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# Every built-in scenario, small, each on a day of its own (so that they can share a read).
SMALL = {"mixed": {"records": 4000, "duration": "5m"}}
# Scenarios resolved together: their records and answers do not meet (the test checks it).
# The others share mixed's 10.0.0.0/16 (so do some internet hosts), so it is resolved alone.
GROUPS = [("mixed",), tuple(sorted(set(list_scenarios()) - {"mixed"}))]
# Logs alone (every address learned; min_support 1, so that inference has something to do)
# and with the inventory AWS would have printed (single, peer against known secondaries).
PASSES = {"logs": {"min_support": 1}, "inventory": {}}


@dataclass
class Scenario:
    name: str
    result: object  # its SimulationResult
    topology: object  # as simulated (generated ENIs included), before the shift to its day
    shift: int  # seconds from the scenario's own start to its day here

    @property
    def day(self) -> tuple[int, int]:
        return self.result.start // 86400 * 86400, self.result.start // 86400 * 86400 + 86400


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict[str, Scenario]:
    from eniflow.simulate.generate import expand

    out, found = tmp_path_factory.mktemp("scenarios"), {}
    assert sorted(name for group in GROUPS for name in group) == sorted(list_scenarios())
    for i, name in enumerate(sorted(list_scenarios())):
        topo = load_topology(name)
        result = simulate(name, out / name, start=f"2026-11-{i + 1:02d}T10:00:00Z", **SMALL.get(name, {}))
        found[name] = Scenario(name, result, expand(topo, 0) if topo.generate else topo,
                               int(result.start - topo.traffic.start))
    return found


def inventory_of(scenarios: list[Scenario]) -> Inventory:
    """What describe-network-interfaces would have printed at each scenario's start and around
    each move, every snapshot listing the ENIs of all of them (each as it stood then)."""
    moments = sorted({int(s.topology.traffic.start) + s.shift for s in scenarios}
                     | {int(m.at) + s.shift + d for s in scenarios for m in s.topology.moves for d in (-1, 1)})
    inv = Inventory()
    for moment in moments:
        doc = {"NetworkInterfaces": [eni for s in scenarios for eni in
                                     s.topology.describe_network_interfaces(at=moment - s.shift)["NetworkInterfaces"]]}
        inv = inv.merge(Inventory.from_document(json.loads(json.dumps(doc)), at=moment, source="topology"))
    return inv


@dataclass
class Compared:
    scenarios: list[Scenario]
    spark: object  # Resolved on Spark
    duckdb: object  # Resolved on DuckDB
    alone: object  # each scenario resolved by itself on DuckDB, as one polars frame
    options: dict


@pytest.fixture(scope="module", params=[(g, p) for g in GROUPS for p in PASSES],
                ids=[f"{'+'.join(g) if len(g) < 3 else 'the others'}-{p}" for g in GROUPS for p in PASSES])
def compared(request, spark, scenarios) -> Compared:
    group, kind = request.param
    chosen = [scenarios[name] for name in group]
    files = [f for s in chosen for f in s.result.files]
    options = dict(PASSES[kind], inventory=inventory_of(chosen) if kind == "inventory" else None)
    on_spark = resolve_on("spark", files, spark_conf=CONF, **options)
    native = resolve_on("duckdb", files, **options)
    alone = pl.concat([_frame(resolve_on("duckdb", s.result.files, **dict(options, inventory=inventory_of([s])
                                                                          if kind == "inventory" else None))
                              .relation.to_arrow_table()) for s in chosen], how="diagonal_relaxed")
    return Compared(chosen, on_spark, native, alone, options)


@pytest.fixture(scope="module")
def mixed(scenarios):
    return scenarios["mixed"].result


@pytest.fixture(scope="module")
def seed_parquet(tmp_path_factory):
    return simulate("seed", tmp_path_factory.mktemp("seedpq"), file_format="parquet", layout="hive")


def _frame(arrow) -> pl.DataFrame:
    df = pl.from_arrow(arrow)
    return df.with_columns(pl.col(c).cast(pl.String) for c, t in df.schema.items() if t == pl.Categorical)


def _same(spark_arrow, duck_arrow, order=("source", "line"), ignore=()) -> None:
    a, b = _frame(spark_arrow).sort(*order).drop(ignore), _frame(duck_arrow).sort(*order).drop(ignore)
    assert a.columns == b.columns
    assert a.height == b.height
    a = a.cast(dict(b.schema))
    differ = [c for c in a.columns if a[c].to_list() != b[c].to_list()]
    assert differ == [], (differ, a.filter(pl.any_horizontal(a[c] != b[c] for c in differ)).head(3),
                          b.filter(pl.any_horizontal(a[c] != b[c] for c in differ)).head(3))


def _stats(s):
    return (s.files, s.lines, s.headers, s.blank, s.records, s.nodata, s.skipdata, s.malformed,
            sorted((m.source, m.line, m.reason, m.text) for m in s.malformed_samples))


def test_text_files_with_their_own_headers_nulls_ms_times_and_malformed_lines(spark, tmp_path):
    v2 = tmp_path / "a.log.gz"
    v2.write_bytes(gzip.compress(
        b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
        b"2 123456789012 eni-1 10.0.1.10 10.0.2.30 80 49152 6 10 8400 1700000000 1700000060 ACCEPT OK\n"
        b"2 123456789012 eni-1 - - - - - - - 1700000000000 1700000060000 - NODATA\n"
        b"\n"
        b"2 123456789012 eni-1 10.0.1.10 10.0.2.30 80 x 6 10 8400 1700000000 1700000060 ACCEPT OK\n"
        b"2 123456789012 eni-1 10.0.1.10  10.0.2.30 80 443 6 10 8400 1700000000 1700000060 ACCEPT OK\n"
        b"2 123456789012 eni-1 10.0.1.10 10.0.2.30 80\n"))
    custom = tmp_path / "b.log"  # another file, another format: pkt fields, no version
    custom.write_text("interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr start end\n"
                      "eni-2 10.0.2.30 10.0.1.10 10.0.2.30 10.0.1.20 1700000000 1700000060\n")
    sources = [str(v2), str(custom)]
    on_spark = read_spark(spark, sources)
    native = eniflow.read(sources)
    _same(on_spark.df.toArrow(), native.relation.to_arrow_table())
    assert _stats(on_spark.stats) == _stats(native.stats)
    assert on_spark.stats.malformed == 2
    assert [(m.line, m.reason) for m in on_spark.stats.malformed_samples] == [
        (5, "field 'dstport' is not an integer: 'x'"), (7, "expected 14 fields (the header on line 1), found 6")]
    nodata = on_spark.df.where("log_status = 'NODATA'").select("srcaddr", "start", "end").collect()
    assert [tuple(r) for r in nodata] == [(None, 1700000000, 1700000060)]


def test_strict_stops_at_the_first_malformed_line_and_removes_the_spool(spark, tmp_path, monkeypatch):
    path = tmp_path / "bad.log"
    path.write_text("2 123456789012 eni-1 10.0.1.10 10.0.2.30 80 49152 6 10 8400 1700000000 1700000060 ACCEPT\n")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(MalformedRecordError, match=r"bad.log:1: expected 14 fields \(the default version-2 format\), found 13"):
        read_spark(spark, [str(path)], strict=True)
    assert list((tmp_path / "tmp").glob("eniflow-spark-*")) == []


def test_malformed_samples_and_strict_follow_the_order_the_sources_are_given(spark, tmp_path):
    """As in eniflow.read: sources as given, then line, across the frames Spark checks apart
    (one a format) and the files it cannot read (a cut gzip file, read by eniflow.read's task)."""
    header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    record = "2 123456789012 eni-1 10.0.1.10 10.0.2.30 80 49152 6 10 8400 1700000000 1700000060 ACCEPT OK"
    z, a, m, cut = tmp_path / "z.log", tmp_path / "a.log", tmp_path / "m.log", tmp_path / "cut.log.gz"
    z.write_text(f"{record}\n{record}\nbogus\n")  # the default format
    a.write_text(f"{header}\n{record.replace(' 80 ', ' http ')}\n")  # its own header
    m.write_text(f"{record}\nshort\n{header}\n{record}\nx\n")  # both
    whole = gzip.compress(f"{record}\n".encode() * 300, 1)
    cut.write_bytes(whole[: len(whole) * 2 // 3])  # Hadoop's codec fails on it
    sources = [str(z), str(a), str(m), str(cut)]
    on_spark, native = read_spark(spark, sources), eniflow.read(sources)
    got = [(os.path.basename(s.source), s.line, s.reason) for s in on_spark.stats.malformed_samples]
    assert got[:-1] == [("z.log", 3, "expected 14 fields (the default version-2 format), found 1"),
                        ("a.log", 2, "field 'srcport' is not an integer: 'http'"),
                        ("m.log", 2, "expected 14 fields (the default version-2 format), found 1"),
                        ("m.log", 5, "expected 14 fields (the header on line 3), found 1")]
    assert got[-1][::2] == ("cut.log.gz", "incomplete last line: the data ends here")
    assert on_spark.stats.malformed_samples == native.stats.malformed_samples
    for read in (lambda: read_spark(spark, sources, strict=True), lambda: eniflow.read(sources, strict=True)):
        with pytest.raises(MalformedRecordError) as caught:
            read()
        assert str(caught.value) == (f"{z}:3: expected 14 fields (the default version-2 format), found 1 "
                                     "(--strict stops at the first malformed line; drop --strict to count and skip such lines).")


def test_the_spool_is_removed_when_the_result_is_released_or_closed(spark, tmp_path, monkeypatch):
    """The spool (S3 copies, gzip links, Parquet parts) is made under ENIFLOW_TMP, as eniflow.read's
    is, and goes without close() once nothing holds the result; close() removes it at once and may
    be called again."""
    monkeypatch.setenv("ENIFLOW_TMP", str(tmp_path / "spools"))
    (tmp_path / "spools").mkdir()
    path = tmp_path / "a.log"  # gzip without .gz: Spark reads it through a .gz link in the spool
    path.write_bytes(gzip.compress(b"2 123456789012 eni-1 10.0.1.10 10.0.2.30 80 49152 6 10 8400 1700000000 1700000060 "
                                   b"ACCEPT OK\n"))
    flows = read_spark(spark, [str(path)])
    spool = flows.spool
    assert os.path.dirname(spool) == str(tmp_path / "spools") and os.listdir(spool) == ["0.gz"]
    del flows
    gc.collect()
    assert not os.path.exists(spool)
    flows = read_spark(spark, [str(path)])
    flows.close()
    assert not os.path.exists(flows.spool)
    flows.close()


def test_parquet_in_aws_hive_layout(spark, seed_parquet):
    on_spark = read_spark(spark, seed_parquet.files)
    native = eniflow.read(seed_parquet.files)
    _same(on_spark.df.toArrow(), native.relation.to_arrow_table())
    assert _stats(on_spark.stats) == _stats(native.stats)
    assert sorted(r.line for r in on_spark.df.select("line").distinct().collect())[:3] == [1, 2, 3]


def test_s3_objects_are_fetched_on_the_driver_when_spark_has_no_s3_filesystem(spark, aws, tmp_path):
    result = simulate("seed", tmp_path / "sim", endpoint_url=aws.endpoint_url)
    bucket = result.buckets[0]
    on_spark = read_spark(spark, [f"s3://{bucket}/"], aws=aws)
    native = eniflow.read([f"s3://{bucket}/"], aws=aws)
    _same(on_spark.df.toArrow(), native.relation.to_arrow_table())
    assert on_spark.df.select("source").first()[0].startswith(f"s3://{bucket}/AWSLogs/")


def test_resolve_gives_the_same_rows_on_both_engines_on_every_scenario(compared):
    """Every column of every row, ordered by (source, line): resolve on Spark is resolve on
    DuckDB, for every built-in scenario, from the logs alone and with the inventory."""
    spark_rows, native_rows = compared.spark.relation.arrow(), compared.duckdb.relation.to_arrow_table()
    native = _frame(native_rows)
    assert _frame(spark_rows).columns == native.columns
    _same(spark_rows, native_rows)
    assert compared.spark.summary() == compared.duckdb.summary()
    # The scenarios of a group do not meet: resolved together, each gives the rows it gives alone.
    _same(native_rows, compared.alone.select(native.columns).to_arrow())
    # What each pass exercises (so that a label no scenario produces any more goes noticed).
    labels = {label for label, n in native.group_by("resolution").len().iter_rows() if n}
    kind = "inventory" if compared.options["inventory"] else "logs"
    names = tuple(s.name for s in compared.scenarios)
    expected = {("logs", ("mixed",)): {"peer", "inferred", "ambiguous", "as-logged", "none"},
                ("inventory", ("mixed",)): {"peer", "single", "ambiguous", "as-logged", "none"}}
    assert labels >= expected.get((kind, names), {"pkt", "peer", "as-logged", "none"}), labels


# Rankings, taken in turn by the scenarios and passes (14): every key, the four metrics, filters.
RANKINGS = [("src_ip", "bytes", None), ("pair", "flows", None), ("local_ip", "packets", ["cidr=10.0.0.0/8,192.168.0.0/16"]),
            ("dstport", "records", ["action=ACCEPT", "protocol=tcp"]), ("remote_ip", "bytes", None),
            ("dst_ip", "flows", ["action=REJECT,ACCEPT"]), ("protocol", "packets", None),
            ("interface_id", "records", None), ("owner", "bytes", None), ("action", "flows", None)]


def test_top_gives_the_same_ranking_on_both_engines_on_every_scenario(compared):
    """top() of each scenario (its day, as --since/--until) on both engines: the same rows and note."""
    for scenario in compared.scenarios:
        since, until = scenario.day
        turn = sorted(list_scenarios()).index(scenario.name) + 7 * bool(compared.options["inventory"])
        by, metric, where = RANKINGS[turn % len(RANKINGS)]
        on_spark, native = (top(r, by=by, metric=metric, n=6, where=where, since=since, until=until)
                            for r in (compared.spark, compared.duckdb))
        a, b = _frame(on_spark.relation.to_duckdb().to_arrow_table()), _frame(native.relation.to_arrow_table())
        assert b.height > 0, (scenario.name, by, metric, where)
        assert a.to_dicts() == b.to_dicts(), (scenario.name, by, metric, where)
        assert on_spark.note == native.note


def test_resolve_on_duckdb_is_eniflow_resolve(mixed):
    assert resolve_on("duckdb", mixed.files).summary() == resolve(eniflow.read(mixed.files)).summary()


def test_bad_engine_and_spark_conf_are_usage_errors():
    with pytest.raises(UsageError, match="--engine flink: choose one of duckdb, spark"):
        resolve_on("flink", [])
    with pytest.raises(UsageError, match="--spark-conf 'spark.executor.memory': write KEY=VALUE"):
        parse_conf(["spark.executor.memory"])
    assert parse_conf(["spark.executor.memory=4g", "a=b=c"]) == {"spark.executor.memory": "4g", "a": "b=c"}


def test_a_header_inside_a_file_and_a_time_range(spark, tmp_path):
    path = tmp_path / "joined.log"  # two deliveries concatenated: the second header changes the format
    path.write_text("version interface-id srcaddr dstaddr start end log-status\n"
                    "2 eni-1 10.0.1.10 10.0.2.30 1700000000 1700000060 OK\n"
                    "2 eni-1 10.0.1.10 10.0.2.30 1700000600 1700000660 OK\n"
                    "interface-id srcaddr dstaddr pkt-dstaddr start end\n"
                    "eni-1 10.0.2.30 10.0.1.10 10.0.1.20 1700000600 1700000660\n")
    for since in (None, 1700000300):
        on_spark = read_spark(spark, [str(path)], since=since)
        native = eniflow.read([str(path)], since=since)
        _same(on_spark.df.toArrow(), native.relation.to_arrow_table())
        assert _stats(on_spark.stats) == _stats(native.stats)
    assert [tuple(r) for r in on_spark.df.select("line", "pkt_dstaddr").collect()] == [(3, None), (5, "10.0.1.20")]


def test_cli_resolve_engine_spark_gives_duckdbs_rows_and_leaves_no_spool(tmp_path, cli, spark, monkeypatch):
    """`eniflow resolve --engine spark -i enis.json` on the seed scenario prints DuckDB's rows,
    every field, and the same account of the read and of the resolution; by the time it returns
    its spool is gone (nothing calls close(): the spool goes with the result)."""
    result = simulate("seed", tmp_path / "seed")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    enis = tmp_path / "enis.json"
    enis.write_text(json.dumps(load_topology("seed").describe_network_interfaces()))
    outputs = []
    for engine in ("duckdb", "spark"):
        code, out, err = cli("resolve", *result.files, "-i", enis, "--at", result.start, "--engine", engine, "-o", "jsonl")
        assert code == 0, err
        rows = sorted((json.loads(line) for line in out.splitlines()), key=lambda r: (r["source"], r["line"]))
        outputs.append((rows, [line for line in err.splitlines() if line.startswith(("read ", "resolution: "))]))
    assert outputs[0] == outputs[1]
    assert list((tmp_path / "tmp").glob("eniflow-spark-*")) == []
    rows, account = outputs[0]
    assert len(rows) == 46 and sum(r["resolution"] == "peer" for r in rows) == 42
    assert account == ["read 3 sources, 49 lines, 42 records, 4 nodata, 3 headers", "resolution: peer 42, none 4"]
    code, _, err = cli("resolve", *result.files, "--engine", "flink")
    assert code == 2 and "--engine flink: choose one of duckdb, spark" in err


def test_cli_top_engine_spark_gives_duckdbs_ranking(tmp_path, cli, spark):
    """`eniflow top --engine spark` on the seed scenario prints DuckDB's ranking, read summary and
    note (the scenarios' rankings on both engines are compared above; this is the CLI's path)."""
    seed = simulate("seed", tmp_path / "seed")
    flows = eniflow.read(seed.files)
    native = top(resolve(flows), by="dstport", metric="flows", n=4, where=["action=ACCEPT"])
    expected = _frame(native.relation.to_arrow_table()).to_dicts()
    assert len(expected) == 4
    options = ["--by", "dstport", "--metric", "flows", "-n", "4", "--where", "action=ACCEPT", "-o", "jsonl"]
    for engine in ("duckdb", "spark"):
        spark_options = ["--spark-master", "local[2]", "--spark-conf", "spark.sql.shuffle.partitions=4"]
        code, out, err = cli("top", *seed.files, *options, "--engine", engine, *(spark_options * (engine == "spark")))
        assert code == 0, err
        assert [json.loads(line) for line in out.splitlines()] == expected
        assert flows.stats.summary() in err and native.note in err


def test_s3_objects_whose_download_fails_are_named_and_the_rest_is_read_as_duckdb_reads_them(spark, aws, monkeypatch):
    """Through a fault-injecting proxy in front of moto: one object deleted between the listing and
    its GetObject, one denied, two cut off midway every time they are fetched (the resumes run
    out), one whole. Spark names each failed object in stats.errors in the DuckDB engine's
    sentence, keeps every whole line received (the cut line malformed), reads the others whole,
    and ends with the same records and the same account."""
    from faultproxy import FaultProxy, s3_error

    from eniflow.aws import AwsOptions

    monkeypatch.setattr("eniflow.sources.s3._BACKOFF", 0.0)
    header = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
              "action log-status\n")

    def text(n: int, first: int) -> bytes:
        return (header + "".join(f"2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.10 10.0.2.{i % 250} {40000 + i % 20000} "
                                 f"443 6 1 {100 + i} 1700000000 1700000059 ACCEPT OK\n"
                                 for i in range(first, first + n))).encode()

    objects = {"logs/part-0.log.gz": gzip.compress(text(100, 0), mtime=0),  # deleted before its GetObject
               "logs/part-1.log.gz": gzip.compress(text(100, 100), mtime=0),  # AccessDenied
               "logs/part-2.log.gz": gzip.compress(text(100, 200), mtime=0),  # whole
               "logs/part-3.log": text(2000, 300),  # cut off midway, 5 times
               "logs/part-4.log.gz": gzip.compress(text(30000, 2300), mtime=0)}  # cut off midway, 5 times
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="flow-logs")
    proxy = FaultProxy(aws.endpoint_url)
    via = AwsOptions(region="us-east-1", endpoint_url=proxy.url)
    try:
        proxy.inject("GetObject", "error", times=99, when=lambda r: r.path.endswith("part-1.log.gz"),
                     error=s3_error(403, "AccessDenied", "Access Denied"))
        proxy.inject("GetObject", "truncate", times=99, keep=0.5,
                     when=lambda r: r.path.endswith(("part-3.log", "part-4.log.gz")))
        results = []
        for engine in ("duckdb", "spark"):
            for key, body in objects.items():
                s3.put_object(Bucket="flow-logs", Key=key, Body=body)
            proxy.inject("GetObject", "delete-first", when=lambda r: r.path.endswith("part-0.log.gz"))
            if engine == "duckdb":
                flows = eniflow.read("s3://flow-logs/logs/", aws=via, workers=1)
                results.append((flows.relation.to_arrow_table(), flows.stats))
            else:
                flows = read_spark(spark, ["s3://flow-logs/logs/"], aws=via)
                results.append((flows.df.toArrow(), flows.stats))
    finally:
        proxy.close()
    (native_rows, native), (spark_rows, on_spark) = results
    assert on_spark.errors == native.errors
    assert [e.split(" ", 1)[0] for e in native.errors] == [
        "s3://flow-logs/logs/part-0.log.gz", "s3://flow-logs/logs/part-1.log.gz:", "s3://flow-logs/logs/part-3.log:",
        "s3://flow-logs/logs/part-4.log.gz:"]
    assert native.errors[0] == ("s3://flow-logs/logs/part-0.log.gz was listed but no longer exists (deleted or expired "
                                "meanwhile); run again to read the objects there now. (0 records were read from it)")
    assert native.errors[1] == ("s3://flow-logs/logs/part-1.log.gz: access denied; the caller needs the IAM permission "
                                "s3:GetObject. (0 records were read from it)")
    assert all(", also after 5 resumes (" in e and "; run again. (read up to line " in e for e in native.errors[2:])
    _same(spark_rows, native_rows)
    assert _stats(on_spark) == _stats(native) and on_spark.files == 5
    cut = {m.source: m.reason for m in on_spark.malformed_samples}
    assert cut == {"s3://flow-logs/logs/part-3.log": "incomplete last line: the data ends here",
                   "s3://flow-logs/logs/part-4.log.gz": "incomplete last line: the data ends here"}
    per_object = _frame(spark_rows).group_by("source").len().sort("source").rows()
    assert per_object[0] == ("s3://flow-logs/logs/part-2.log.gz", 100)
    assert 0 < per_object[1][1] < 2000 and 0 < per_object[2][1] < 30000  # whole lines before the cut


def test_files_spark_cannot_read_are_read_as_duckdb_reads_them(spark, tmp_path, seed_parquet):
    """A gzip file cut at 2/3 (Hadoop's codec fails the whole job on it), a Parquet file cut in
    half and one with random bytes in its pages: each is read by eniflow.read's own task (the
    lines or rows before the damage kept, the file named in stats.errors), the others by Spark."""
    import random

    text = simulate("seed", tmp_path / "seed")
    good, cut = text.files[0], tmp_path / "cut.log.gz"
    whole = open(text.files[1], "rb").read()
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    pq_good = seed_parquet.files[0]
    body = open(seed_parquet.files[1], "rb").read()
    (tmp_path / "half.parquet").write_bytes(body[: len(body) // 2])
    noisy = bytearray(body)
    rng = random.Random(7)
    for _ in range(8):
        noisy[rng.randrange(4, len(body) // 2)] ^= 0xFF
    (tmp_path / "noisy.parquet").write_bytes(bytes(noisy))
    sources = [good, str(cut), pq_good, str(tmp_path / "half.parquet"), str(tmp_path / "noisy.parquet")]
    on_spark, native = read_spark(spark, sources), eniflow.read(sources, workers=1)
    assert sorted(on_spark.stats.errors) == sorted(native.stats.errors)
    assert any(e.startswith(f"{cut}: the compressed data is truncated or corrupt") for e in native.stats.errors)
    assert any(e.startswith(f"{tmp_path / 'half.parquet'}: not a readable Parquet file") for e in native.stats.errors)
    _same(on_spark.df.toArrow(), native.relation.to_arrow_table())
    assert _stats(on_spark.stats) == _stats(native.stats) and on_spark.stats.files == 5
    assert on_spark.df.where(f"source = '{cut}'").count() > 0  # the lines before the cut
