"""Athena DDL and Trino queries: parsed by SQLGlot, and the queries run on DuckDB over a table
shaped like Athena's (raw '-' tokens, "$path"), giving eniflow's native answers."""

from __future__ import annotations

import polars as pl
import pytest
import sqlglot
from sqlglot import exp

import eniflow
from eniflow.athena import LAYOUTS, _Recorder, ddl, flows_sql, query
from eniflow.engine import connect
from eniflow.engines.dialects import parse
from eniflow.fields import INTEGER_COLUMNS
from eniflow.simulate import simulate


def _properties(statement: str) -> dict[str, str]:
    tree = sqlglot.parse_one(statement, read="athena")
    assert isinstance(tree, exp.Create)
    return {p.name: p.args["value"].name for p in tree.find_all(exp.Property)
            if type(p) is exp.Property and p.name}


@pytest.mark.parametrize("layout,template", [
    ("default", "s3://b/logs/AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${year}/${month}/${day}"),
    ("hourly", "s3://b/logs/AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${year}/${month}/${day}/${hour}"),
    ("hive", "s3://b/logs/AWSLogs/aws-account-id=${aws_account_id}/aws-service=vpcflowlogs/aws-region=${aws_region}/"
             "year=${year}/month=${month}/day=${day}"),
    ("hive-hourly", "s3://b/logs/AWSLogs/aws-account-id=${aws_account_id}/aws-service=vpcflowlogs/"
                    "aws-region=${aws_region}/year=${year}/month=${month}/day=${day}/hour=${hour}"),
])
def test_ddl_projects_the_partitions_of_each_layout(layout, template):
    props = _properties(ddl("s3://b/logs", layout=layout, accounts=["123456789012"], regions=["us-east-1", "eu-west-1"],
                            years=(2025, 2026)))
    assert props["storage.location.template"] == template
    assert props["projection.enabled"] == "true"
    assert props["projection.aws_account_id.values"] == "123456789012"
    assert props["projection.aws_region.values"] == "us-east-1,eu-west-1"
    assert props["projection.year.range"] == "2025,2026"
    assert ("projection.hour.range" in props) == layout.endswith("hourly")
    assert props["skip.header.line.count"] == "1"


def test_ddl_text_is_space_delimited_and_parquet_typed_from_the_field_registry():
    text = ddl("s3://b/", format="${version} ${interface-id} ${pkt-srcaddr} ${bytes} ${start}")
    assert "ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '" in text
    assert "`version` int,\n  `interface_id` string,\n  `pkt_srcaddr` string,\n  `bytes` bigint,\n  `start` bigint\n" in text
    parquet = ddl("s3://b/", file_format="parquet", layout="hive")
    assert "STORED AS PARQUET" in parquet and "skip.header.line.count" not in parquet
    assert _properties(parquet)["projection.aws_account_id.type"] == "injected"
    assert len(LAYOUTS) == 4


def test_ddl_rejects_what_athena_cannot_use():
    with pytest.raises(eniflow.UsageError, match="--location 'bucket/': give the S3 folder above AWSLogs/"):
        ddl("bucket/")
    with pytest.raises(eniflow.UsageError, match="--layout daily: choose one of default, hourly, hive, hive-hourly"):
        ddl("s3://b/", layout="daily")


@pytest.fixture(scope="module")
def athena_like(tmp_path_factory):
    """The mixed scenario read natively, and a DuckDB table holding it as Athena's text table does."""
    result = simulate("mixed", tmp_path_factory.mktemp("mixed"), records=20_000)
    flows = eniflow.read(result.files)
    con = connect()
    con.register("native_flows", flows.relation.to_arrow_table())
    names = [c for c in flows.columns if c not in ("source", "line")]
    raw = ", ".join(f'"{c}"' if c in INTEGER_COLUMNS else f"coalesce(\"{c}\", '-') AS \"{c}\"" for c in names)
    con.execute(f'CREATE TABLE vpc_flow_logs AS SELECT {raw}, CAST(source AS VARCHAR) AS "$path" FROM native_flows')
    return con, eniflow.resolve(flows)


_NOT_IN_ATHENA = ["line", "peer_line", "peer_source"]  # no line numbers in Athena (peer_source: see test_spark)


def _rows(arrow, schema=None) -> pl.DataFrame:
    df = pl.from_arrow(arrow)
    df = df.with_columns(pl.col(c).cast(pl.String) for c, t in df.schema.items() if t == pl.Categorical)
    df = df.drop([c for c in _NOT_IN_ATHENA if c in df.columns])
    df = df.cast(schema) if schema else df
    return df.sort([c for c in df.columns if c != "candidates"], nulls_last=True)


@pytest.mark.parametrize("dialect", ["duckdb", "athena", "trino"])
def test_resolve_query_gives_the_native_rows(athena_like, dialect):
    con, native = athena_like
    expected = _rows(native.relation.to_arrow_table())
    assert native.summary()["peer"] > 0
    text = query("resolve", dialect=dialect)
    trees = sqlglot.parse(text, read=dialect)
    assert len(trees) == 1 and isinstance(trees[0], exp.Select)
    on_duckdb = text if dialect == "duckdb" else sqlglot.transpile(text, read=dialect, write="duckdb")[0]
    got = _rows(con.sql(on_duckdb).to_arrow_table(), dict(expected.schema))
    assert got.height == expected.height == 20_005
    assert got.equals(expected)


def test_resolve_query_numbers_records_once_whatever_order_each_scan_returns(athena_like):
    """Trino inlines CTEs and promises no row order. Over a table whose every scan returns its
    rows in another order (a view ordered by random()), with the plain projections among the CTEs
    inlined (DuckDB would compute each once), the query still gives the native rows."""
    con, native = athena_like
    con.execute("CREATE OR REPLACE VIEW shuffled AS SELECT * FROM vpc_flow_logs ORDER BY random()")
    expected = _rows(native.relation.to_arrow_table())
    tree = sqlglot.parse_one(query("resolve", table="shuffled"), read="athena")
    for cte in tree.find_all(exp.CTE):
        body = cte.this
        if isinstance(body, exp.Select) and not any(body.find(k) for k in (exp.Join, exp.AggFunc, exp.Window, exp.Group)):
            cte.set("materialized", False)
    names = [f"ROW_NUMBER() OVER (ORDER BY {n})" for n in ("source", "eni", "addr", "candidates")]  # dictionaries
    numbered = [w.sql("trino") for w in tree.find_all(exp.Window) if isinstance(w.this, exp.RowNumber)
                and w.sql("trino") not in names]
    assert numbered == ['ROW_NUMBER() OVER (ORDER BY "$path", "version", "account_id", "interface_id", "srcaddr", '
                        '"dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action", '
                        '"log_status")']  # once, in the flows CTE
    got = _rows(con.sql(tree.sql("duckdb")).to_arrow_table(), dict(expected.schema))
    assert got.equals(expected)


@pytest.mark.parametrize("window", ["row_number() OVER ()", "row_number() OVER (ORDER BY source, line)"])
def test_numberings_of_records_become_the_one_numbering_of_flows(window):
    rec = _Recorder(1)
    rec.define("flows", parse(flows_sql("t"))[0])
    rec.define("b", parse("SELECT interface_id AS eni FROM flows WHERE srcaddr IS NOT NULL")[0])
    rec.define("d", parse(f"SELECT CAST({window} AS INTEGER) AS rid, * FROM flows")[0])
    rec.define("e", parse("SELECT row_number() OVER () AS rid, * FROM b")[0])
    assert [(name, tree.sql("duckdb")) for name, tree in rec.ctes[1:]] == [
        ("b", "SELECT interface_id AS eni, _rid FROM flows WHERE NOT srcaddr IS NULL"),
        ("d", "SELECT CAST(_rid AS INT) AS rid, * FROM flows"), ("e", "SELECT _rid AS rid, * FROM b")]
    assert rec.keyed == {"flows", "b", "d", "e"}
    with pytest.raises(eniflow.UsageError, match="cannot number these rows in an order Athena keeps"):
        rec.define("x", parse("SELECT row_number() OVER () AS n, eni FROM (SELECT DISTINCT eni FROM b) AS u")[0])


@pytest.mark.parametrize("options", [{"by": "src_ip", "n": 5}, {"by": "dstport", "metric": "flows", "n": 4},
                                     {"by": "pair", "where": ["action=ACCEPT", "cidr=10.0.0.0/16"], "n": 3}])
def test_top_query_gives_the_native_ranking(athena_like, options):
    con, native = athena_like
    expected = pl.from_arrow(eniflow.top(native, **options).relation.to_arrow_table())
    text = query("top", options=options)
    got = pl.from_arrow(con.sql(sqlglot.transpile(text, read="athena", write="duckdb")[0]).to_arrow_table())
    assert got.drop("kept_records").cast(dict(expected.schema)).to_dicts() == expected.to_dicts()
    assert expected.height == options["n"]


def test_flows_query_finds_the_native_records(athena_like):
    con, native = athena_like
    ip = native.relation.filter("resolution = 'peer'").project("local_ip").limit(1).fetchall()[0][0]
    expected = _rows(eniflow.flows_for_ip(native, ip).to_arrow_table())
    text = query("flows", options={"ip": ip})
    got = _rows(con.sql(sqlglot.transpile(text, read="athena", write="duckdb")[0]).to_arrow_table(),
                dict(expected.schema))
    assert expected.height > 0
    assert got.equals(expected)


def test_cli_prints_ddl_and_queries(cli):
    code, out, _ = cli("athena", "ddl", "--location", "s3://b/", "--file-format", "parquet", "--table", "fl")
    assert code == 0 and out.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS fl (") and out.rstrip().endswith(");")
    code, out, _ = cli("athena", "sql", "top", "--by", "dst_ip", "-n", "7", "--table", "fl")
    assert code == 0 and "FROM fl" in out and out.rstrip().endswith("LIMIT 7;")
    code, _, err = cli("athena", "sql", "flows")
    assert code == 2 and "needs --ip" in err


def test_resolve_query_carries_the_inventory(tmp_path):
    from eniflow.inventory import Interface, Inventory
    from eniflow.simulate import (SEED_CLIENT_ENI, SEED_CLIENT_INSTANCE, SEED_CLIENT_IP, SEED_SERVER_ENI,
                                  SEED_SERVER_INSTANCE, SEED_SERVER_PRIMARY, SEED_SERVER_SECONDARY)

    result = simulate("seed", tmp_path / "seed")
    inventory = Inventory(interfaces=[
        Interface(SEED_SERVER_ENI, result.start, (SEED_SERVER_PRIMARY, SEED_SERVER_SECONDARY), owner=SEED_SERVER_INSTANCE),
        Interface(SEED_CLIENT_ENI, result.start, (SEED_CLIENT_IP,), owner=SEED_CLIENT_INSTANCE)])
    flows = eniflow.read(result.files)
    native = eniflow.resolve(flows, inventory)
    assert native.summary()["peer"] == 42  # without the inventory: as-logged
    con = connect()
    con.register("native_flows", flows.relation.to_arrow_table())
    names = [c for c in flows.columns if c not in ("source", "line")]
    raw = ", ".join(f'"{c}"' if c in INTEGER_COLUMNS else f"coalesce(\"{c}\", '-') AS \"{c}\"" for c in names)
    con.execute(f'CREATE TABLE vpc_flow_logs AS SELECT {raw}, CAST(source AS VARCHAR) AS "$path" FROM native_flows')
    text = query("resolve", inventory=inventory)
    expected = _rows(native.relation.to_arrow_table())
    got = _rows(con.sql(sqlglot.transpile(text, read="athena", write="duckdb")[0]).to_arrow_table(), dict(expected.schema))
    assert got.equals(expected)
    assert set(got["owner"].drop_nulls()) == {SEED_SERVER_INSTANCE, SEED_CLIENT_INSTANCE}
