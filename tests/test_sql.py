"""eniflow sql: DuckDB SQL over the views flows and resolved, in every output format, and --save."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from test_top import write_seed_logs

import eniflow
from eniflow.analyses.sql import sql
from eniflow.errors import UsageError

BY_LABEL = "SELECT resolution, count(*) AS n FROM resolved GROUP BY resolution ORDER BY resolution"


@pytest.fixture
def seed(tmp_path):
    return write_seed_logs(tmp_path)


def test_sql_sees_flows_and_resolved(seed):
    logs, inventory = seed
    resolved = eniflow.resolve(eniflow.read(logs), inventory=eniflow.Inventory.load(inventory))
    assert sql(resolved, BY_LABEL).fetchall() == [("ambiguous", 1), ("none", 1), ("peer", 8)]
    assert sql(resolved, "SELECT count(*), sum(bytes) FROM flows").fetchall() == [(10, 17140)]


def test_cli_every_output_format(seed, cli, tmp_path):
    logs, inventory = seed
    base = ["sql", logs, "-i", inventory, "-q", BY_LABEL]
    code, out, err = cli(*base, "-o", "jsonl")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"resolution": "ambiguous", "n": 1}, {"resolution": "none", "n": 1}, {"resolution": "peer", "n": 8}]
    assert "resolution: peer 8, ambiguous 1, none 1" in err
    code, out, _ = cli(*base, "-o", "csv")
    assert list(csv.reader(io.StringIO(out))) == [["resolution", "n"], ["ambiguous", "1"], ["none", "1"], ["peer", "8"]]
    code, out, _ = cli(*base, "-o", "parquet", "--out", tmp_path / "q.parquet")
    assert code == 0 and out == ""
    assert duckdb.sql(f"SELECT * FROM '{tmp_path / 'q.parquet'}'").fetchall() == [("ambiguous", 1), ("none", 1), ("peer", 8)]
    code, out, _ = cli(*base)
    assert code == 0 and "│peer       │ 8│" in out.splitlines()


def test_save_then_query_the_database(seed, cli, tmp_path):
    logs, inventory = seed
    db = tmp_path / "flows.duckdb"
    code, _, err = cli("sql", logs, "-i", inventory, "--save", db, "-q", "SELECT 1", "-o", "csv")
    assert code == 0 and f"saved the tables flows and resolved in {db}" in err
    code, out, err = cli("sql", db, "-q", BY_LABEL, "-o", "csv")
    assert code == 0 and err == ""  # nothing read, nothing resolved again
    assert out.splitlines() == ["resolution,n", "ambiguous,1", "none,1", "peer,8"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM flows").fetchone() == (10,)


def test_bad_query_is_a_usage_error(seed, cli):
    logs, _ = seed
    code, out, err = cli("sql", logs, "-q", "SELECT nope FROM resolved", "-o", "csv")
    assert code == 2 and out == ""
    assert err.splitlines()[-1].startswith('eniflow: error: the query failed: Binder Error: Referenced column "nope" not found')


def test_save_refuses_to_overwrite_another_kind_of_file(seed, tmp_path):
    logs, _ = seed
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    with pytest.raises(UsageError, match="the file exists and is not a DuckDB database"):
        sql(logs, "SELECT 1", save=precious)
    assert precious.read_text() == "keep me"


def test_cli_help_has_a_worked_example(cli):
    code, out, _ = cli("sql", "--help")
    assert code == 0 and "eniflow sql AWSLogs/ --save flows.duckdb -q" in out
