"""read(sources) -> Flows: every record as a typed DuckDB relation, plus an account of every line.

Sources are listed lazily and grouped into tasks as they are listed; each task is parsed
into Parquet parts in a spool directory, already in the output's column order (by three
threads on two cores, whose libraries release the GIL), then one DuckDB relation reads them all. Memory
stays flat whatever the input size or the number of sources: a chunk at a time is in flight
per thread, and DuckDB scans the parts lazily. ``eniflow read -o parquet`` spools compressed
parts (``compact``) and joins their row groups into its output file without encoding them again.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
import warnings
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import polars as pl

from .aws import AwsOptions
from .errors import EniflowError, MalformedRecordError, UsageError
from .fields import FIELDS, lookup
from .formats import DEFAULT, Format, parse_format
from .parse import Malformed, ReadStats, parse_source
from .progress import ProgressLine
from .sources import Context, expand
from .times import parse_time

if TYPE_CHECKING:  # parsing and spooling need no DuckDB: it is imported only to query the parts
    import duckdb

__all__ = ["read", "Flows", "ReadStats", "Malformed", "ensure_columns"]

CODECS = ("snappy", "zstd")  # of Parquet output, the first the default: snappy (as in pyarrow, DuckDB, Spark) costs less time, zstd less space
# One reading thread more than the (at most two) cores used: while a thread holds the GIL for
# its glue between the native stages, or waits for its input, the extra one keeps the core
# busy (10 million records: 3.38-3.44 s against 3.59-3.68 s with one thread a core, 90 MB more).
READING_THREADS_OVER_CORES = 1
TASK_BYTES = 8 << 20  # sources are grouped into tasks of about this much (compressed) input; small tasks end together
ROW_GROUP_ROWS = 250_000  # rows wait in memory until they fill a row group of this many
# ... or until this many tables wait: each holds about 25 KB of native buffers however few its
# rows, so a row group of one-record objects ends sooner and memory stays flat in their number.
WAITING_TABLES = 2_000
# Columns that in compact parts (Parquet output) have too many distinct values for a dictionary
# to pay. Other text columns are dictionary-encoded there, and so, where fewer bytes cost less
# to compress, are other integer columns, and these integers are delta-encoded (pyarrow falls
# back to plain by itself when a dictionary grows too large). Statistics of addresses would
# span every row group.
_PLAIN_TEXT = frozenset({"srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"})
# In the uncompressed parts of read() every text column is dictionary-encoded up to this many
# bytes of dictionary per column and row group, then plain: a VPC's few thousand addresses stay
# a dictionary, which DuckDB scans and joins on (resolution) in about half the time of plain
# text, while an internet-facing ENI's tens of thousands fall back early instead of each being
# hashed into a large dictionary first (at 1 MB, pyarrow's default, reading took 8 % longer).
_SPOOL_DICTIONARY_BYTES = 64 << 10
_DELTA_INTEGERS = frozenset({"srcport", "packets", "bytes", "line"})
_ORDER = {f.column: i for i, f in enumerate(FIELDS)}
_SQL_TYPES = {"int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR"}


class Flows:
    """The records read: ``relation`` (also the view ``flows`` on ``con``) and ``stats``.

    ``files`` lists the spooled Parquet parts when the relation is exactly their rows in
    order (one schema, no time filter), so they can be copied instead of queried (compressed
    with ``compression`` when read with ``compact=True``, else uncompressed); else None.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, stats: ReadStats,
                 spool: str | None, files: list[str] | None = None):
        self.con, self.relation, self.stats, self.spool, self.files = con, relation, stats, spool, files
        # The parts must live as long as anything can query them: relations keep their
        # connection alive, so the spool goes when the connection goes (or on close()).
        self._cleanup = weakref.finalize(con, shutil.rmtree, spool, True) if spool else None
        relation.create_view("flows", replace=True)

    @property
    def columns(self) -> list[str]:
        return list(self.relation.columns)

    def count(self) -> int:
        return self.relation.aggregate("count(*)").fetchall()[0][0]

    def arrow(self):
        return self.relation.arrow()

    def close(self) -> None:
        """Delete the spooled records now (the relation can no longer be queried)."""
        if self._cleanup:
            self._cleanup()

    def __repr__(self) -> str:
        return f"<Flows {self.stats.summary()}>"


def read(sources: str | Path | Sequence[str | Path], *, format: str | Sequence[str] | None = None,
         since=None, until=None, strict: bool = False, aws: AwsOptions | None = None,
         con: duckdb.DuckDBPyConnection | None = None, progress: bool = False, workers: int | None = None,
         compact: bool = False, compression: str = CODECS[0]) -> Flows:
    """Read flow logs from files, directories, globs, '-', s3:// and cwl:// sources.

    ``format`` applies to sources without a header line (default: the version-2 default
    format); a header line always wins. ``since``/``until`` keep records whose time range
    meets [since, until) and let S3/CloudWatch sources skip what lies outside. ``compact``
    spools Parquet compressed with ``compression`` (one of CODECS) and with statistics, as a
    Parquet output holds them (``Flows.files``), instead of the faster uncompressed parts.
    """
    if compression not in CODECS:
        raise UsageError(f"unknown Parquet compression {compression!r}; choose {' or '.join(CODECS)}.")
    specs = [str(spec) for spec in ([sources] if isinstance(sources, (str, Path)) else sources)]
    fmt = parse_format(format) if format is not None else None
    ctx = Context(aws or AwsOptions(), parse_time(since), parse_time(until), fmt.names if fmt else None)
    stats = ReadStats()
    spool = tempfile.mkdtemp(prefix="eniflow-read-", dir=os.environ.get("ENIFLOW_TMP"))
    workers = workers if workers is not None else min(2, os.cpu_count() or 1) + READING_THREADS_OVER_CORES
    warned: list[str] = []
    try:
        tasks = _tasks(_listed(specs, ctx, warned))
        parts = _parse_all(tasks, (ctx, strict, spool, compression if compact else None), stats, progress, workers)
        stats.warnings[:0] = [w for w in dict.fromkeys(warned) if w not in stats.warnings]
        if con is None:  # DuckDB loads once the records are spooled: nothing before needs it
            from .engine import connect

            con = connect()
    except BaseException:
        shutil.rmtree(spool, True)
        raise
    relation = _relation(con, [path for path, _ in parts], ctx)
    plain = len({schema for _, schema in parts}) == 1 and ctx.since is None and ctx.until is None
    return Flows(con, relation, stats, spool, [path for path, _ in parts] if plain else None)


def _origin(item, ctx: Context) -> tuple[Format | None, str]:
    if not item.format:
        return None, ""
    return Format(tuple(item.format)), "--format" if item.format == ctx.format else "the flow log's LogFormat"


def _listed(specs: list[str], ctx: Context, warned: list[str]) -> Iterator:
    """Every source's items, as they are listed; what the listing warns (e.g. a format fallback) goes to ``warned``."""
    for spec in specs:
        items = expand(spec, ctx)
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                item = next(items, None)
            warned.extend(str(w.message) for w in caught)
            if item is None:
                break
            yield item


def _weight(item) -> int:
    """Bytes an item is taken to hold; one of unknown size is a task of its own."""
    return item.size or TASK_BYTES


def _tasks(items: Iterable) -> Iterator[list]:
    """Group small sources, as they are listed, into tasks of about TASK_BYTES; keep the input order."""
    current, size = [], 0
    for item in items:
        current.append(item)
        size += _weight(item)
        if size >= TASK_BYTES:
            yield current
            current, size = [], 0
    if current:
        yield current


def _parse_all(tasks: Iterator[list], args: tuple, stats, progress, workers) -> list[tuple[str, tuple]]:
    """Parse every task, on ``workers`` threads."""
    from .workers import reuse_freed_memory, run_in_workers

    reuse_freed_memory()
    reporter = ProgressLine(progress, "reading", "bar", "{task.completed} sources", "{task.fields[rows]:,} records")
    parts: list[tuple[str, tuple]] = []

    def done(result: tuple[ReadStats, list]) -> None:
        task_stats, task_parts = result
        stats.merge(task_stats)
        parts.extend(task_parts)
        reporter.update(completed=stats.files, rows=stats.rows)

    try:
        run_in_workers(_run_task, tasks, args, workers, done)
    finally:
        reporter.close()
    return parts


def _run_task(items, ctx, strict, spool, codec) -> tuple[ReadStats, list[tuple[str, tuple]]]:
    """Parse a group of sources into Parquet parts, each with its schema (on any of the reading threads)."""
    stats = ReadStats()
    parts = _Spool(spool, codec)
    for item in items:
        stats.files += 1
        fmt, origin = _origin(item, ctx)
        before = stats.rows
        try:
            with _closing(item.open()) as raw:
                parse_source(raw, item.name, fmt, origin, lambda frame, name=item.name: parts.add(frame, name),
                             stats, strict)
        except MalformedRecordError:
            raise
        except EniflowError as exc:
            stats.errors.append(f"{exc} ({stats.rows - before} records were read from it)")
    parts.close()
    return stats, parts.parts


class _Spool:
    """Record frames, in order, -> Parquet parts in the output's column order: one part per run
    of frames of one schema, in row groups of ROW_GROUP_ROWS rows or a little more (a part's
    last one smaller), or of fewer rows from WAITING_TABLES frames (tiny sources).

    Written by pyarrow from Polars' own buffers (no copy): the ``source`` column is a dictionary
    built per row group (one value per source, not one string per row) and other text is
    dictionary-encoded, which Polars' writer cannot be told. Uncompressed without statistics
    for ``read()`` (``codec`` None, addresses too while their dictionary stays small);
    compressed with ``codec``, with statistics, for ``compact`` (Parquet output; addresses plain).
    No Arrow schema is stored: readers see Parquet's types (``source`` is text, not a dictionary).
    """

    def __init__(self, directory: str, codec: str | None):
        self.directory, self.codec = directory, codec
        self.parts: list[tuple[str, tuple]] = []
        self.writer = self.key = None
        self.tables: list = []  # Arrow tables of the row group being filled, without source
        self.sources: dict[str, int] = {}  # the row group's source names -> dictionary index
        self.runs: list[tuple[int, int]] = []  # (source index, rows) of each table
        self.rows = 0

    def add(self, frame: pl.DataFrame, source: str) -> None:
        columns = [c for c in _ordered(frame.columns) if c not in ("source", "line")]
        # The parsed columns come in as many chunks as the parser made, the line numbers in one:
        # exported apart, neither is copied to match the other's chunks (``select`` would
        # join every column into one chunk).
        table = frame[columns].to_arrow(compat_level=pl.CompatLevel.newest())
        table = table.append_column("line", frame.get_column("line").to_arrow())
        key = tuple((f.name, str(f.type)) for f in table.schema)
        if key != self.key:  # another format: the part so far ends here
            self.close()
            self.key = key
        self.tables.append(table)
        self.runs.append((self.sources.setdefault(source, len(self.sources)), table.num_rows))
        self.rows += table.num_rows
        if self.rows >= ROW_GROUP_ROWS or len(self.tables) >= WAITING_TABLES:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.rows:
            self.tables, self.sources, self.runs = [], {}, []
            return
        table = pa.concat_tables(self.tables)
        index = pa.concat_arrays([pa.repeat(pa.scalar(i, pa.int32()), n) for i, n in self.runs])
        source = pa.DictionaryArray.from_arrays(index, pa.array(list(self.sources), pa.string()))
        table = table.add_column(table.num_columns - 1, "source", source)
        if self.writer is None:
            path = os.path.join(self.directory, f"{uuid.uuid4().hex}.parquet")
            names = {f.name: pa.types.is_integer(f.type) for f in table.schema}
            if self.codec:
                options = {"compression": self.codec, "compression_level": 1 if self.codec == "zstd" else None,
                           "use_dictionary": [n for n in names if n not in _PLAIN_TEXT | _DELTA_INTEGERS],
                           "column_encoding": {n: "DELTA_BINARY_PACKED" for n in names if n in _DELTA_INTEGERS and names[n]},
                           "write_statistics": [n for n in names if n not in _PLAIN_TEXT]}
            else:
                options = {"compression": "none", "write_statistics": False,
                           "use_dictionary": [n for n, integer in names.items() if not integer],
                           "dictionary_pagesize_limit": _SPOOL_DICTIONARY_BYTES}
            self.writer = pq.ParquetWriter(path, table.schema, store_schema=False, **options)
            self.parts.append((path, tuple((f.name, str(f.type)) for f in table.schema)))
        self.writer.write_table(table, row_group_size=table.num_rows)
        self.tables, self.sources, self.runs, self.rows = [], {}, [], 0

    def close(self) -> None:
        """End the current part (the next frame starts another)."""
        self._flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _closing:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not sys.stdin.buffer and hasattr(self.stream, "close"):
            self.stream.close()


def _relation(con: duckdb.DuckDBPyConnection, parts: list[str], ctx: Context) -> duckdb.DuckDBPyRelation:
    if not parts:
        fmt = Format(tuple(ctx.format)) if ctx.format else DEFAULT
        empty = pl.DataFrame(schema={**fmt.schema, "source": pl.String, "line": pl.Int64})
        rel = con.from_arrow(empty.to_arrow())
    else:
        rel = con.read_parquet(parts, union_by_name=True)
    if rel.columns != _ordered(rel.columns):  # parts of several formats
        rel = rel.select(", ".join(_quote(c) for c in _ordered(rel.columns)))
    if ctx.since is not None and "end" in rel.columns:
        rel = rel.filter(f'"end" IS NULL OR "end" >= {int(ctx.since)}')
    if ctx.until is not None and "start" in rel.columns:
        rel = rel.filter(f'"start" IS NULL OR "start" < {int(ctx.until)}')
    return rel


def _ordered(columns: list[str]) -> list[str]:
    """Record columns in the field table's order (others as they come), then source and line."""
    names = [c for c in columns if c not in ("source", "line")]
    return [*sorted(names, key=lambda c: (_ORDER.get(c, len(_ORDER)), names.index(c))), "source", "line"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_columns(rel: duckdb.DuckDBPyRelation, names: Iterable[str]) -> duckdb.DuckDBPyRelation:
    """``rel`` with every column in ``names`` (missing ones as typed NULLs), so SQL written for
    the full field set runs on any format."""
    missing = [n for n in names if n not in rel.columns]
    if not missing:
        return rel
    extra = []
    for name in missing:
        field = lookup(name)
        extra.append(f"CAST(NULL AS {_SQL_TYPES[field.kind] if field else 'VARCHAR'}) AS {_quote(name)}")
    return rel.select(", ".join(["*", *extra]))
