"""Spark engine: the same records, resolution and top talkers as DuckDB, row for row.

One local SparkSession (local[2], no UI, 4 shuffle partitions) serves the whole module.
"""

from __future__ import annotations

import json
import gzip
import shutil

import polars as pl
import pytest

import eniflow
from eniflow.errors import MalformedRecordError, UsageError
from eniflow.simulate import simulate

pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'eniflow[spark]')")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+ (java is not on PATH)", allow_module_level=True)

from eniflow.analyses.top import top  # noqa: E402
from eniflow.engines import resolve_on, run_top  # noqa: E402
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


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return simulate("mixed", tmp_path_factory.mktemp("mixed"), records=20_000)


@pytest.fixture(scope="module")
def both(spark, mixed):
    """The mixed scenario resolved on Spark and on DuckDB."""
    return resolve(read_spark(spark, mixed.files)), resolve(eniflow.read(mixed.files))


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


def test_strict_stops_at_the_first_malformed_line(spark, tmp_path):
    path = tmp_path / "bad.log"
    path.write_text("2 123456789012 eni-1 10.0.1.10 10.0.2.30 80 49152 6 10 8400 1700000000 1700000060 ACCEPT\n")
    with pytest.raises(MalformedRecordError, match=r"bad.log:1: expected 14 fields \(the default version-2 format\), found 13"):
        read_spark(spark, [str(path)], strict=True)


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


def test_resolve_gives_the_same_rows_on_both_engines(both):
    on_spark, native = both
    assert on_spark.summary() == native.summary()
    assert native.summary()["peer"] > 0 and native.summary()["ambiguous"] > 0
    # Which of several equally overlapping records of the peer ENI is named as the peer is a tie
    # that max_by(p, ov) in resolve.py leaves to the engine; the peer ENI itself is compared.
    spark_rows, native_rows = on_spark.relation.arrow(), native.relation.to_arrow_table()
    _same(spark_rows, native_rows, ignore=("peer_source", "peer_line"))
    # Where the engines name different peer records, both are on the peer ENI and overlap the
    # record by as much: a tie, not a mistake.
    records = _frame(native_rows).select("source", "line", "interface_id", "start", "end")
    chosen = _frame(spark_rows).select("source", "line", "peer_source", "peer_line").join(
        _frame(native_rows).select("source", "line", "peer_interface_id", "start", "end", "peer_source", "peer_line"),
        on=["source", "line"], suffix="_duckdb")
    differ = chosen.filter(pl.col("peer_line").ne_missing(pl.col("peer_line_duckdb"))
                           | pl.col("peer_source").ne_missing(pl.col("peer_source_duckdb")))

    def overlap(side: str) -> pl.DataFrame:
        peers = records.rename({"source": "ps", "line": "pl", "interface_id": "eni", "start": "ps0", "end": "ps1"})
        return differ.join(peers, left_on=[f"peer_source{side}", f"peer_line{side}"], right_on=["ps", "pl"]).select(
            "source", "line", (pl.col("eni") == pl.col("peer_interface_id")).alias("on_peer_eni"),
            (pl.min_horizontal("end", "ps1") - pl.max_horizontal("start", "ps0")).alias("ov")).sort("source", "line")

    assert overlap("").height == overlap("_duckdb").height == differ.height
    assert overlap("")["on_peer_eni"].all() and overlap("_duckdb")["on_peer_eni"].all()
    assert overlap("")["ov"].to_list() == overlap("_duckdb")["ov"].to_list()


@pytest.mark.parametrize("by,metric,where", [("src_ip", "bytes", None), ("pair", "flows", None),
                                             ("local_ip", "packets", ["cidr=10.0.0.0/16"]),
                                             ("dstport", "records", ["action=ACCEPT", "protocol=tcp"])])
def test_top_gives_the_same_ranking_on_both_engines(both, by, metric, where):
    on_spark, native = (top(r, by=by, metric=metric, n=8, where=where) for r in both)
    a, b = _frame(on_spark.relation.to_duckdb().to_arrow_table()), _frame(native.relation.to_arrow_table())
    assert a.height == 8
    assert a.to_dicts() == b.to_dicts()
    assert on_spark.note == native.note


def test_run_top_reads_resolves_and_ranks_on_spark(mixed):
    on_spark = run_top("spark", mixed.files, by="dst_ip", n=3, spark_conf=CONF)
    native = top(resolve(eniflow.read(mixed.files)), by="dst_ip", n=3)
    assert _frame(on_spark.relation.to_arrow_table()).to_dicts() == _frame(native.relation.to_arrow_table()).to_dicts()


def test_resolve_on_duckdb_is_eniflow_resolve(mixed):
    assert resolve_on("duckdb", mixed.files).summary() == resolve(eniflow.read(mixed.files)).summary()


def test_bad_engine_and_spark_conf_are_usage_errors():
    with pytest.raises(UsageError, match="--engine flink: choose one of duckdb, spark"):
        resolve_on("flink", [])
    with pytest.raises(UsageError, match="--spark-conf 'spark.executor.memory': write KEY=VALUE"):
        parse_conf(["spark.executor.memory"])
    assert parse_conf(["spark.executor.memory=4g", "a=b=c"]) == {"spark.executor.memory": "4g", "a": "b=c"}


def test_run_resolve_output_renders_like_duckdbs(tmp_path):
    import io

    from eniflow.engines import run_resolve
    from eniflow.render import write

    result = simulate("seed", tmp_path / "seed")
    outputs = []
    for engine in ("spark", "duckdb"):
        resolved = run_resolve(engine, result.files, spark_conf=CONF)
        stream = io.StringIO()
        assert write(resolved.relation, "jsonl", stream=stream) == 46
        assert resolved.flows.stats.records == 42
        outputs.append(sorted(stream.getvalue().splitlines()))
    assert outputs[0] == outputs[1]


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


def test_cli_resolve_engine_spark_gives_duckdbs_rows(tmp_path, cli, spark):
    """`eniflow resolve --engine spark` on the seed scenario prints DuckDB's rows (the peer's
    source/line may name another equally overlapping record, see the README)."""
    result = simulate("seed", tmp_path / "seed")
    outputs = []
    for engine in ("duckdb", "spark"):
        code, out, err = cli("resolve", *result.files, "--engine", engine, "-o", "jsonl")
        assert code == 0, err
        rows = [json.loads(line) for line in out.splitlines()]
        outputs.append(sorted((r["source"], r["line"], r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"])
                              for r in rows))
    assert outputs[0] == outputs[1] and len(outputs[0]) == 46
    code, _, err = cli("resolve", *result.files, "--engine", "flink")
    assert code == 2 and "--engine flink: choose one of duckdb, spark" in err



def test_cli_top_engine_spark_gives_duckdbs_ranking(mixed, cli, spark):
    """`eniflow top --engine spark` on the mixed scenario prints DuckDB's ranking, read summary and note."""
    flows = eniflow.read(mixed.files)
    native = top(resolve(flows), by="dstport", metric="flows", n=4, where=["action=ACCEPT"])
    expected = _frame(native.relation.to_arrow_table()).to_dicts()
    assert len(expected) == 4
    options = ["--by", "dstport", "--metric", "flows", "-n", "4", "--where", "action=ACCEPT", "-o", "jsonl"]
    for engine in ("duckdb", "spark"):
        spark_options = ["--spark-master", "local[2]", "--spark-conf", "spark.sql.shuffle.partitions=4"]
        code, out, err = cli("top", *mixed.files, *options, "--engine", engine, *(spark_options * (engine == "spark")))
        assert code == 0, err
        assert [json.loads(line) for line in out.splitlines()] == expected
        assert flows.stats.summary() in err and native.note in err
