"""Athena: a table over flow logs in S3 (partition projection per layout) and eniflow's analyses as Trino SQL.

:func:`ddl` writes ``CREATE EXTERNAL TABLE`` for AWS's text (header line skipped, space
delimited) or Parquet files, with partition projection for the key layout (plain or Hive
folders, daily or hourly), so Athena prunes by account, region and date without crawlers.

:func:`query` turns ``resolve``, ``top`` and ``flows --ip`` into one Trino query each. It runs
eniflow's own functions against :class:`_Recorder`, a connection that records their statements
instead of running them, and chains the statements into one ``WITH`` query (a table created
twice or inserted into becomes a new CTE name): the SQL stays written once, in resolve.py and
analyses/. Where the resolver asks the data a question to plan its work (the longest record
span, whether a second peer round found anything new), the recorder answers with the widest
plan: every span bucket, one partition, both rounds; both give the same rows on any data.

In Athena ``source`` is the object's ``"$path"`` and ``line`` is NULL (Athena has no line
numbers), so ``peer_line`` is NULL too.

The resolver numbers records with ``row_number() OVER ()`` (scan order) in several scans and
joins the numberings; DuckDB scans a table in one order, Trino promises none. So the ``flows``
CTE numbers every record once, ordered by its object and then by all its fields (``_rid``;
records equal in all of them are interchangeable), views that project records carry that
number along, and each numbering of records (``row_number() OVER ()``, or ``OVER (ORDER BY
source, line)``: Athena has no line numbers) becomes that column.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any, Sequence

import pyarrow as pa
from sqlglot import exp

from .engines.dialects import inline_params, parse, translate
from .errors import UsageError
from .fields import lookup
from .formats import Format, parse_format
from .inventory import Inventory

__all__ = ["ddl", "query", "flows_sql", "LAYOUTS", "FILE_FORMATS", "QUERIES"]

LAYOUTS = ("default", "hourly", "hive", "hive-hourly")
FILE_FORMATS = ("text", "parquet")
QUERIES = ("resolve", "top", "flows")
_MS_EPOCH = 100_000_000_000
_SESSION = ("USE ", "SET ", "ATTACH ", "DETACH ")
_HIVE_TYPES = {"int32": "int", "int64": "bigint", "string": "string"}
_SQL_TYPES = {"int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR"}
_RID = "_rid"  # the one numbering of the records (module docstring)


# -- DDL ------------------------------------------------------------------------------------
def _template(layout: str) -> str:
    if layout.startswith("hive"):
        path = ("AWSLogs/aws-account-id=${aws_account_id}/aws-service=vpcflowlogs/aws-region=${aws_region}/"
                "year=${year}/month=${month}/day=${day}")
        return path + ("/hour=${hour}" if layout.endswith("hourly") else "")
    path = "AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${year}/${month}/${day}"
    return path + ("/${hour}" if layout == "hourly" else "")


def _enum_or_injected(name: str, values: Sequence[str] | None) -> list[tuple[str, str]]:
    if values:
        return [(f"projection.{name}.type", "enum"), (f"projection.{name}.values", ",".join(values))]
    return [(f"projection.{name}.type", "injected")]


def ddl(location: str, *, layout: str = "default", file_format: str = "text", format=None,
        table: str = "vpc_flow_logs", accounts: Sequence[str] | None = None, regions: Sequence[str] | None = None,
        years: tuple[int, int] | None = None) -> str:
    """``CREATE EXTERNAL TABLE`` over the flow logs under ``location`` (``s3://bucket[/folder]/``,
    above ``AWSLogs/``). Without ``accounts``/``regions`` those partitions are ``injected``:
    every query must then name them in its WHERE clause."""
    if not location.startswith("s3://"):
        raise UsageError(f"--location {location!r}: give the S3 folder above AWSLogs/, e.g. s3://my-bucket/.")
    if layout not in LAYOUTS:
        raise UsageError(f"--layout {layout}: choose one of {', '.join(LAYOUTS)}.")
    if file_format not in FILE_FORMATS:
        raise UsageError(f"--file-format {file_format}: choose text or parquet.")
    fmt = parse_format(format)
    location = location.rstrip("/") + "/"
    this_year = datetime.now(timezone.utc).year
    first, last = years or (this_year - 1, this_year)
    columns = ",\n".join(f"  `{c}` {_HIVE_TYPES[_kind(n)]}" for n, c in zip(fmt.names, fmt.columns))
    hourly = layout.endswith("hourly")
    parts = ["aws_account_id string", "aws_region string", "year int", "month int", "day int"] + \
        (["hour int"] if hourly else [])
    props = [("projection.enabled", "true"), *_enum_or_injected("aws_account_id", accounts),
             *_enum_or_injected("aws_region", regions),
             ("projection.year.type", "integer"), ("projection.year.range", f"{first},{last}"),
             ("projection.month.type", "integer"), ("projection.month.range", "1,12"), ("projection.month.digits", "2"),
             ("projection.day.type", "integer"), ("projection.day.range", "1,31"), ("projection.day.digits", "2")]
    if hourly:
        props += [("projection.hour.type", "integer"), ("projection.hour.range", "0,23"), ("projection.hour.digits", "2")]
    props.append(("storage.location.template", location + _template(layout)))
    if file_format == "text":
        storage = "ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '\nSTORED AS TEXTFILE"
        props.insert(0, ("skip.header.line.count", "1"))
    else:
        storage = "STORED AS PARQUET"
        props.insert(0, ("parquet.compression", "GZIP"))
    listed = ",\n".join(f"  '{k}'='{v}'" for k, v in props)
    return (f"CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{columns}\n)\n"
            f"PARTITIONED BY ({', '.join(parts)})\n{storage}\nLOCATION '{location}AWSLogs/'\n"
            f"TBLPROPERTIES (\n{listed}\n)")


def _kind(name: str) -> str:
    field = lookup(name)
    return field.kind if field else "string"


def flows_sql(table: str, format=None) -> str:
    """DuckDB SQL turning the raw table into eniflow's ``flows`` columns: '-' is NULL, millisecond
    times become seconds, ``source`` is the object's path, ``line`` is unknown (NULL), and
    ``_rid`` numbers the records in an order every scan agrees on."""
    fmt: Format = parse_format(format)
    order = ", ".join(['"$path"', *(f'"{c}"' for c in fmt.columns)])
    exprs = []
    for name, column in zip(fmt.names, fmt.columns):
        if _kind(name) == "string":
            exprs.append(f"nullif(\"{column}\", '-') AS \"{column}\"")
        elif column in ("start", "end"):
            exprs.append(f"CAST(CASE WHEN \"{column}\" > {_MS_EPOCH} THEN \"{column}\" / 1000 ELSE \"{column}\" END "
                         f"AS BIGINT) AS \"{column}\"")
        else:
            exprs.append(f"\"{column}\"")
    return (f"SELECT {', '.join(exprs)}, \"$path\" AS source, CAST(NULL AS BIGINT) AS line, "
            f"row_number() OVER (ORDER BY {order}) AS {_RID} FROM {table}")


# -- queries ----------------------------------------------------------------------------------
class _Relation:
    """A recorded relation: its SQL and columns."""

    def __init__(self, rec: "_Recorder", sql: str, columns: list[str]):
        self.rec, self.sql, self.columns = rec, sql, columns

    def select(self, expressions: str) -> "_Relation":
        tree = parse(f"SELECT {expressions} FROM ({self.sql}) AS _r")[0]
        names = []
        for e in tree.expressions:
            names.extend(self.columns if isinstance(e, exp.Star) else [e.alias_or_name])
        return _Relation(self.rec, tree.sql("duckdb"), names)

    def aggregate(self, expressions: str) -> "_Relation":
        return self.select(expressions)

    def create_view(self, name: str, replace: bool = True) -> "_Relation":
        self.rec.define(name, parse(self.sql)[0], self.columns)
        return self

    def fetchall(self) -> list[tuple]:
        return [self.rec.answer]

    def to_arrow_table(self):
        return pa.table({c: pa.array([], pa.string()) for c in self.columns})


class _Result:
    def __init__(self, row):
        self.row = row

    def fetchall(self):
        return [self.row]

    def fetchone(self):
        return self.row


class _Recorder:
    """Records the statements of eniflow's SQL modules as a chain of CTEs (see module docstring)."""

    def __init__(self, answer: int):
        self.ctes: list[tuple[str, exp.Expression]] = []
        self.current: dict[str, str] = {}
        self.columns: dict[str, list[str]] = {}
        self.answer = (answer, answer)
        self.last: _Relation | None = None
        self.keyed: set[str] = set()  # CTEs whose rows are records carrying _rid
        self._versions = itertools.count(2)

    def _rename(self, tree: exp.Expression) -> exp.Expression:
        def swap(node):
            if isinstance(node, exp.Table) and node.name in self.current and not node.args.get("joins"):
                node = node.copy()
                node.set("db", None)
                node.set("catalog", None)
                alias = node.alias or (node.name if self.current[node.name] != node.name else None)
                node.set("this", exp.to_identifier(self.current[node.name]))
                if alias and not node.alias:
                    node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            return node

        return tree.transform(swap, copy=True)

    def define(self, name: str, select: exp.Expression, columns: list[str] | None = None) -> None:
        select = self._rename(select).transform(self._numbered, copy=True)
        if isinstance(select, exp.Select) and self._over_records(select) and not select.args.get("group") \
                and not select.args.get("distinct") and not any(e.find(exp.AggFunc) for e in select.expressions) \
                and not any(isinstance(e, exp.Star) or e.alias_or_name == _RID for e in select.expressions):
            select = select.select(exp.column(_RID))  # a projection of records carries their number along
        cte = name if name not in self.current else f"{name}_{next(self._versions)}"
        self.ctes.append((cte, select))
        self.current[name] = cte
        if isinstance(select, exp.Select) and any(e.alias_or_name == _RID or
                                                  (isinstance(e, exp.Star) and self._over_records(select))
                                                  for e in select.expressions):
            self.keyed.add(cte)
        if columns is not None:
            self.columns[name] = columns

    def _over_records(self, select: exp.Select) -> bool:
        """Whether ``select`` reads one CTE of records (carrying _rid) and nothing else."""
        source = select.args.get("from_")
        return source is not None and isinstance(source.this, exp.Table) and source.this.name in self.keyed \
            and not select.args.get("joins")

    def _numbered(self, node: exp.Expression) -> exp.Expression:
        """A SELECT's numbering of records as their _rid (module docstring)."""
        if not isinstance(node, exp.Select):
            return node
        numberings = [w for w in node.find_all(exp.Window) if w.parent_select is node and _numbers_records(w)]
        if numberings and not self._over_records(node):
            raise UsageError(f"cannot number these rows in an order Athena keeps: {node.sql('duckdb')[:120]}")
        for window in numberings:
            window.replace(exp.column(_RID))
        return node

    # the DuckDB connection calls eniflow's modules make
    def execute(self, sql: str, params=None) -> _Result:
        if sql.lstrip().upper().startswith(_SESSION):
            return _Result(self.answer)  # databases and settings (names the recorder made up)
        for tree in parse(sql):
            self._statement(inline_params(tree, params))
        return _Result(self.answer)

    def sql(self, sql: str, params=None) -> _Relation:
        *before, last = parse(sql)
        for tree in before:
            self._statement(inline_params(tree, params))
        tree = self._rename(inline_params(last, params))
        self.last = _Relation(self, tree.sql("duckdb"), [e.alias_or_name for e in tree.expressions]
                              if isinstance(tree, exp.Select) else [])
        return self.last

    def register(self, name: str, table) -> None:
        if isinstance(table, _Relation):
            self.define(name, parse(table.sql)[0], table.columns)
            return
        self.define(name, parse(_values_sql(table))[0], list(table.column_names))

    def unregister(self, name: str) -> None:
        pass

    def view(self, name: str) -> _Relation:
        return _Relation(self, f"SELECT * FROM {name}", self.columns.get(name, []))

    def from_arrow(self, table) -> _Relation:
        return _Relation(self, _values_sql(table), list(table.column_names))

    def _statement(self, tree: exp.Expression) -> None:
        if isinstance(tree, (exp.Attach, exp.Detach, exp.Use, exp.Set, exp.Command, exp.Drop, exp.Query)):
            return  # session settings, clean-up and the resolver's planning questions
        name = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
        if isinstance(tree, exp.Create) and tree.expression is None:
            cols = ", ".join(f"CAST(NULL AS {c.args['kind'].sql('duckdb')}) AS {c.name}" for c in tree.this.expressions)
            self.define(name, parse(f"SELECT {cols} WHERE false")[0])
        elif isinstance(tree, exp.Create):
            select = tree.expression
            plain = isinstance(select, exp.Select) and not any(isinstance(e, exp.Star) for e in select.expressions)
            self.define(name, select, [e.alias_or_name for e in select.expressions] if plain else None)
        elif isinstance(tree, exp.Insert):
            previous = self.current[name]
            added = exp.select("*").from_(self._rename(tree.expression).subquery("_added"))
            union = exp.union(exp.select("*").from_(previous), added, distinct=False)
            self.define(name, union)
        else:
            raise UsageError(f"cannot express this statement for Athena: {tree.sql('duckdb')[:120]}")

    def chained(self, final: str) -> exp.Expression:
        """The recorded CTEs and ``final`` as one query."""
        tree = parse(final)[0]
        own = tree.args.get("with_")
        ctes = [exp.CTE(this=select, alias=exp.TableAlias(this=exp.to_identifier(name))) for name, select in self.ctes]
        tree.set("with_", exp.With(expressions=ctes + (list(own.expressions) if own else [])))
        return tree


def _numbers_records(window: exp.Window) -> bool:
    """``row_number() OVER ()`` (scan order), or ``OVER (ORDER BY source, line)``, which Athena
    cannot keep either: its records have no line numbers."""
    if not isinstance(window.this, exp.RowNumber) or window.args.get("partition_by"):
        return False
    order = window.args.get("order")
    keys = [(o.this.name if isinstance(o.this, exp.Column) else None, bool(o.args.get("desc")))
            for o in (order.expressions if order else [])]
    return keys in ([], [("source", False), ("line", False)])


def _values_sql(table) -> str:
    """A small Arrow table (the inventory) as typed literal rows."""
    types = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN", pa.int32(): "INTEGER",
             pa.float64(): "DOUBLE"}
    rows = table.to_pylist()
    cols = [(f.name, types.get(f.type, "VARCHAR")) for f in table.schema]
    if not rows:
        return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in cols) + " WHERE false"
    selects = []
    for row in rows:
        selects.append("SELECT " + ", ".join(f"CAST({exp.convert(row[c]).sql('duckdb')} AS {t}) AS {c}"
                                             for c, t in cols))
    return " UNION ALL ".join(selects)


def query(what: str, *, table: str = "vpc_flow_logs", format=None, dialect: str = "athena",
          inventory: Inventory | None = None, infer: bool = True, options: dict[str, Any] | None = None,
          pretty: bool = True) -> str:
    """One query in ``dialect`` (athena, trino or duckdb) answering ``what`` over the raw table
    ``table``: ``resolve`` (every record with its resolution columns), ``top`` (``options``: by,
    metric, n, where, since, until) or ``flows`` (``options``: ip, port)."""
    from .analyses.flows_for_ip import flows_for_ip
    from .analyses.top import top
    from .resolve import _MAX_SPAN_BUCKETS, resolve

    if what not in QUERIES:
        raise UsageError(f"eniflow athena sql {what}: choose one of {', '.join(QUERIES)}.")
    options = dict(options or {})
    rec = _Recorder(_MAX_SPAN_BUCKETS)
    fmt = parse_format(format)
    flows = _Relation(rec, flows_sql(table, fmt), [*fmt.columns, "source", "line"])
    flows.create_view("flows")

    class _Flows:
        relation, con = rec.view("flows"), rec

    resolved = resolve(_Flows(), inventory, infer=infer)
    if what == "resolve":
        final = "SELECT * FROM resolved"
    elif what == "top":
        top(resolved, **options)
        final = rec.last.sql
    else:
        flows_for_ip(resolved, options.pop("ip"), **options)
        final = rec.last.sql
    return translate(rec.chained(rec._rename(parse(final)[0]).sql("duckdb")), dialect, pretty=pretty)[0]
