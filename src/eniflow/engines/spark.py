"""Run eniflow's own SQL on Apache Spark: a SparkSession behind the few calls of a DuckDB connection.

``resolve()`` and ``top()`` talk to their connection through ``execute``, ``sql``, ``register``,
``unregister`` and ``view``, and to relations through ``columns``, ``select`` and
``create_view``. :class:`SparkConnection` answers exactly those on Spark, translating each
statement with :mod:`eniflow.engines.dialects`, so the resolver's and the analyses' SQL and
their step order stay written once, in their own modules, and run unchanged on both engines.

``CREATE TABLE x AS SELECT`` becomes a temp view over a locally checkpointed DataFrame (the
steps reuse each other's results many times; a checkpoint computes each once and keeps query
plans short); ``CREATE VIEW`` stays lazy; ``INSERT INTO`` re-registers the union.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, Sequence

from sqlglot import exp

from ..errors import EniflowError, UsageError
from .dialects import inline_params, parse, translate

__all__ = ["spark_session", "SparkConnection", "SparkRelation", "parse_conf", "DEFAULT_MASTER"]

DEFAULT_MASTER = os.environ.get("ENIFLOW_SPARK_MASTER", "local[2]")
# Settings for a shared 2-core machine; --spark-conf overrides any of them.
_DEFAULT_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "1g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


def parse_conf(pairs: Sequence[str] | None) -> dict[str, str]:
    """``--spark-conf k=v`` values as a dict; a value without '=' is a usage error."""
    conf = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--spark-conf {pair!r}: write KEY=VALUE, e.g. spark.executor.memory=4g.")
        conf[key.strip()] = value.strip()
    return conf


def spark_session(master: str | None = None, conf: dict[str, str] | None = None):
    """The SparkSession to run on (an existing one is reused: Spark allows one per process)."""
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        raise UsageError("--engine spark needs PySpark: pip install 'eniflow[spark]' (and Java 17 or newer).") from None
    builder = SparkSession.builder.master(master or DEFAULT_MASTER).appName("eniflow")
    for key, value in {**_DEFAULT_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # no Java, a bad master URL, ...
        raise EniflowError(f"cannot start Spark ({str(exc).strip().splitlines()[0]}); check that Java 17+ is installed "
                           "(java -version) and that --spark-master is reachable.") from None


# DuckDB statements about databases and settings, with no counterpart among Spark temp views.
_SESSION_STATEMENTS = (exp.Attach, exp.Detach, exp.Use, exp.Set, exp.Command)


def _unqualified(node: exp.Expression) -> exp.Expression:
    """``db.main.t`` -> ``t``: every table of eniflow's SQL is a temp view on Spark."""
    if isinstance(node, exp.Table) and (node.args.get("db") or node.args.get("catalog")):
        node = node.copy()
        node.set("db", None)
        node.set("catalog", None)
    return node


class _Result:
    """What ``execute`` returns: the rows of its last statement."""

    def __init__(self, rows: list | None):
        self.rows = [tuple(r) for r in rows] if rows is not None else []

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


class SparkRelation:
    """A Spark DataFrame dressed as the part of a DuckDB relation that eniflow uses."""

    _names = itertools.count()

    def __init__(self, con: "SparkConnection", df):
        self.con, self.df = con, df

    @property
    def columns(self) -> list[str]:
        return list(self.df.columns)

    def select(self, expressions: str) -> "SparkRelation":
        name = f"_eniflow_rel_{next(self._names)}"
        self.df.createOrReplaceTempView(name)
        return self.con.sql(f"SELECT {expressions} FROM {name}")

    def aggregate(self, expressions: str) -> "SparkRelation":
        return self.select(expressions)

    def create_view(self, name: str, replace: bool = True) -> "SparkRelation":
        self.df.createOrReplaceTempView(name)
        return self

    def to_arrow_table(self):
        """The rows as an Arrow table (collected on the driver)."""
        return self.df.toArrow()

    arrow = to_arrow_table

    def fetchall(self) -> list[tuple]:
        return [tuple(r) for r in self.df.collect()]

    def to_duckdb(self, con=None):
        """The rows as a DuckDB relation (for eniflow.render); collects them on the driver."""
        from ..engine import connect

        con = con or connect()
        rel = con.from_arrow(self.arrow())
        # Spark keeps decimal arithmetic decimal where DuckDB's division gives DOUBLE (top's share).
        exprs = [f'CAST("{c}" AS DOUBLE) AS "{c}"' if str(t).startswith("DECIMAL") else f'"{c}"'
                 for c, t in zip(rel.columns, rel.types)]
        return rel.select(", ".join(exprs))


class SparkConnection:
    """A SparkSession answering the DuckDB connection calls that eniflow's SQL modules make."""

    def __init__(self, spark):
        self.spark = spark

    def sql(self, query: str, params=None) -> SparkRelation:
        *before, last = parse(query)
        for tree in before:
            self._run(inline_params(tree, params))
        return SparkRelation(self, self._select(inline_params(last, params)))

    def execute(self, query: str, params=None) -> _Result:
        result = None
        for tree in parse(query):
            result = self._run(inline_params(tree, params))
        return _Result(result)

    def register(self, name: str, obj: Any) -> None:
        """Arrow tables, SparkRelations and Spark DataFrames become the temp view ``name``."""
        if isinstance(obj, SparkRelation):
            df = obj.df
        elif hasattr(obj, "createOrReplaceTempView"):
            df = obj
        else:
            df = self._from_arrow(obj)
        df.createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def from_arrow(self, table) -> SparkRelation:
        return SparkRelation(self, self._from_arrow(table))

    def view(self, name: str) -> SparkRelation:
        return SparkRelation(self, self.spark.table(name))

    # -- statements ------------------------------------------------------------------------
    def _select(self, tree: exp.Expression):
        return self.spark.sql(translate(tree, "spark")[0])

    def _run(self, tree: exp.Expression) -> list | None:
        tree = tree.transform(_unqualified)
        if isinstance(tree, _SESSION_STATEMENTS):
            return None  # databases and search paths: Spark's temp views share one namespace
        if isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                self.spark.catalog.dropTempView(table.name)
            return None
        if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema) and tree.expression is None:
            columns = ", ".join(f"`{c.name}` {c.args['kind'].sql('spark')}" for c in tree.this.expressions)
            self.spark.createDataFrame([], columns).createOrReplaceTempView(tree.this.this.name)
            return None
        if isinstance(tree, exp.Create) and tree.args.get("kind", "").upper() in ("TABLE", "VIEW"):
            name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.this.name
            df = self._select(tree.expression)
            if tree.args["kind"].upper() == "TABLE":
                df = df.localCheckpoint(eager=True)
            df.createOrReplaceTempView(name)
            return None
        if isinstance(tree, exp.Insert):
            name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.this.name
            old = self.spark.table(name)
            new = self._select(tree.expression).toDF(*old.columns)
            old.unionByName(new).localCheckpoint(eager=True).createOrReplaceTempView(name)
            return None
        if isinstance(tree, exp.Query):
            return self._select(tree).collect()
        raise EniflowError(f"eniflow's Spark engine cannot run this statement: {tree.sql('duckdb')[:200]}")

    def _from_arrow(self, table):
        """An Arrow table (e.g. the inventory) as a DataFrame, empty tables keeping their schema."""
        import pyarrow as pa

        if not isinstance(table, pa.Table):
            table = table.arrow() if hasattr(table, "arrow") else pa.table(table)
        return self.spark.createDataFrame(table)
