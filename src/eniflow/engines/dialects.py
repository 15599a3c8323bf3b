"""eniflow's SQL (written for DuckDB) in Spark's and Athena's (Trino's) dialects, via SQLGlot.

SQLGlot translates function names, quoting, casts, NULL ordering and string escapes. What it
leaves behind is fixed here on the syntax tree, once for all statements:

- ``range(a, b)`` in FROM (DuckDB's column ``range``) becomes a subquery with that column;
- ``list(DISTINCT x ORDER BY x)`` becomes ``array_sort(collect_set(x))`` on Spark;
- ``row_number() OVER ()`` (input order) gets an explicit order on Spark, which demands one;
- ``GROUP BY ALL`` is spelled out for Trino;
- DuckDB's unsigned integer types become wider signed ones;
- bound parameters (``?``, ``$name``) become literals, since each engine binds differently.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import sqlglot
from sqlglot import exp

__all__ = ["translate", "parse", "inline_params", "DIALECTS"]

DIALECTS = {"spark": "spark", "athena": "athena", "trino": "trino", "duckdb": "duckdb"}


def parse(sql: str) -> list[exp.Expression]:
    """DuckDB SQL text -> syntax trees (one per statement)."""
    return [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]


def inline_params(tree: exp.Expression, params: Sequence[Any] | Mapping[str, Any] | None) -> exp.Expression:
    """Replace ``?`` (in order) or ``$name`` placeholders by literals of ``params``."""
    if not params:
        return tree
    positional = iter(params) if not isinstance(params, Mapping) else None

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and positional is not None and node.name in ("", "?"):
            return exp.convert(next(positional))
        if isinstance(node, (exp.Placeholder, exp.Parameter)) and isinstance(params, Mapping):
            name = node.name or (node.this.name if isinstance(node.this, exp.Expression) else str(node.this))
            if name in params:
                return exp.convert(params[name])
        return node

    return tree.transform(swap, copy=True)


def _range_subquery(node: exp.Expression, dialect: str) -> exp.Expression:
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        series = node.this
        end = series.args["end"]
        if series.args.get("is_end_exclusive"):
            end = exp.Sub(this=end.copy(), expression=exp.Literal.number(1))
        alias = node.alias or "_range"
        start = series.args["start"].sql("duckdb")
        if dialect == "spark":
            return sqlglot.parse_one(f"SELECT * FROM (SELECT explode(sequence({start}, {end.sql('spark')})) AS range) AS {alias}",
                                     read="spark").args["from_"].this
        return sqlglot.parse_one(f"SELECT * FROM UNNEST(sequence({start}, {end.sql('trino')})) AS {alias}(range)",
                                 read="trino").args["from_"].this
    return node


_UNSIGNED = {exp.DataType.Type.UTINYINT: "SMALLINT", exp.DataType.Type.USMALLINT: "INTEGER",
             exp.DataType.Type.UINT: "BIGINT"}


def _signed(node: exp.Expression) -> exp.Expression:
    """DuckDB's unsigned integers as the next wider signed type (Spark and Trino have no unsigned)."""
    if isinstance(node, exp.DataType) and node.this in _UNSIGNED:
        return exp.DataType.build(_UNSIGNED[node.this])
    return node


def _group_by_all(node: exp.Expression) -> exp.Expression:
    """``GROUP BY ALL`` (DuckDB, Spark: every non-aggregate column) spelled out for Trino,
    where ALL is only a set quantifier."""
    if isinstance(node, exp.Select) and node.args.get("group") is not None and node.args["group"].args.get("all"):
        node = node.copy()
        keys = [exp.Literal.number(i + 1) for i, e in enumerate(node.expressions)
                if not e.find(exp.AggFunc) and not e.find(exp.Window)]
        node.set("group", exp.Group(expressions=keys))
    return node


def _spark_fixes(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order) and isinstance(node.this.this, exp.Distinct):
        value = node.this.this.expressions[0].copy()
        return exp.func("array_sort", exp.func("collect_set", value))
    if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and not node.args.get("order") \
            and not node.args.get("partition_by"):
        node = node.copy()
        node.set("order", exp.Order(expressions=[exp.Ordered(this=exp.func("monotonically_increasing_id"))]))
        return node
    return node


def translate(sql: str | exp.Expression, dialect: str, params=None, *, pretty: bool = False) -> list[str]:
    """DuckDB SQL (text or tree) -> statements in ``dialect`` (spark, athena, trino or duckdb)."""
    trees = parse(sql) if isinstance(sql, str) else [sql]
    out = []
    for tree in trees:
        tree = inline_params(tree, params)
        if dialect != "duckdb":
            tree = tree.transform(lambda n: _signed(_range_subquery(n, dialect)), copy=True)
        if dialect == "spark":
            tree = tree.transform(_spark_fixes, copy=True)
        elif dialect in ("athena", "trino"):
            tree = tree.transform(_group_by_all, copy=True)
        out.append(tree.sql(dialect=DIALECTS[dialect], pretty=pretty))
    return out
