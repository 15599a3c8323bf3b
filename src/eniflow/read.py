"""read(sources) -> Flows: every record as a typed DuckDB relation, plus an account of every line.

Sources are listed lazily and grouped into tasks as they are listed; each task is parsed
into Parquet parts in a spool directory, already in the output's column order (large reads
on this process and a worker process), then one DuckDB relation reads them all. Memory
stays flat whatever the input size or the number of sources: a chunk at a time is in flight
per process, and DuckDB scans the parts lazily. ``eniflow read -o parquet`` spools zstd parts
(``compact``) and joins their row groups into its output file without encoding them again.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
import weakref
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import duckdb
import polars as pl

from .aws import AwsOptions
from .engine import connect
from .errors import EniflowError, MalformedRecordError
from .fields import FIELDS, lookup
from .formats import DEFAULT, Format, parse_format
from .parse import Malformed, ReadStats, parse_source
from .sources import Context, expand
from .times import parse_time

__all__ = ["read", "Flows", "ReadStats", "Malformed", "ensure_columns"]

TASK_BYTES = 8 << 20  # sources are grouped into tasks of about this much (compressed) input; small tasks end together
PARALLEL_BYTES = 48 << 20  # below this, a worker process costs more than it saves
PART_ROWS = 500_000  # at most this many rows wait in memory for one spooled Parquet part
_ORDER = {f.column: i for i, f in enumerate(FIELDS)}
_SQL_TYPES = {"int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR"}


class Flows:
    """The records read: ``relation`` (also the view ``flows`` on ``con``) and ``stats``.

    ``files`` lists the spooled Parquet parts when the relation is exactly their rows in
    order (one schema, no time filter), so they can be copied instead of queried (zstd when
    read with ``compact=True``, else uncompressed); else None.
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
         compact: bool = False) -> Flows:
    """Read flow logs from files, directories, globs, '-', s3:// and cwl:// sources.

    ``format`` applies to sources without a header line (default: the version-2 default
    format); a header line always wins. ``since``/``until`` keep records whose time range
    meets [since, until) and let S3/CloudWatch sources skip what lies outside. ``compact``
    spools zstd Parquet with statistics, as a Parquet output holds them (``Flows.files``),
    instead of the faster uncompressed parts.
    """
    specs = [str(spec) for spec in ([sources] if isinstance(sources, (str, Path)) else sources)]
    fmt = parse_format(format) if format is not None else None
    ctx = Context(aws or AwsOptions(), parse_time(since), parse_time(until), fmt.names if fmt else None)
    con = con or connect()
    stats = ReadStats()
    spool = tempfile.mkdtemp(prefix="eniflow-read-", dir=os.environ.get("ENIFLOW_TMP"))
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    warned: list[str] = []
    try:
        tasks = _tasks(_listed(specs, ctx, warned))
        parts = _parse_all(tasks, (ctx, strict, spool, compact), stats, progress, 1 if "-" in specs else workers)
        stats.warnings[:0] = [w for w in dict.fromkeys(warned) if w not in stats.warnings]
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
    """Group small sources, as they are listed, so each task is worth a process hop; keep the input order."""
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
    """Parse every task; a read of less than PARALLEL_BYTES (found by listing ahead that far) stays in this process."""
    ahead, size = [], 0
    if workers > 1:
        for task in tasks:
            ahead.append(task)
            size += sum(map(_weight, task))
            if size >= PARALLEL_BYTES and len(ahead) > 1:
                break
    tasks = itertools.chain(ahead, tasks)
    reporter = _Progress(progress)
    parts: list[tuple[str, tuple]] = []

    def done(result: tuple[ReadStats, list]) -> None:
        task_stats, task_parts = result
        stats.merge(task_stats)
        parts.extend(task_parts)
        reporter.tick(task_stats.files, task_stats.rows)

    try:
        if size >= PARALLEL_BYTES and len(ahead) > 1:
            from .workers import run_in_workers

            run_in_workers(_run_task, tasks, args, workers, done)
        else:
            for task in tasks:
                done(_run_task(task, *args))
    finally:
        reporter.close()
    return parts


def _run_task(items, ctx, strict, spool, compact) -> tuple[ReadStats, list[tuple[str, tuple]]]:
    """Parse a group of sources into Parquet parts, each with its schema (runs in a worker process for large reads)."""
    stats = ReadStats()
    pending: list[pl.DataFrame] = []  # frames of one schema, in line order, wait to fill a part
    parts: list[tuple[str, tuple]] = []

    def flush() -> None:
        path = os.path.join(spool, f"{uuid.uuid4().hex}.parquet")
        # Uncompressed parts without statistics cost a third less to write than compact ones.
        options = {"compression": "zstd", "compression_level": 1} if compact else \
            {"compression": "uncompressed", "statistics": False}
        pl.concat(pending, rechunk=False).write_parquet(path, **options)
        parts.append((path, tuple((name, str(dtype)) for name, dtype in pending[0].schema.items())))
        pending.clear()

    def sink(frame: pl.DataFrame) -> None:
        frame = frame.select(_ordered(frame.columns))
        if pending and frame.schema != pending[0].schema:  # another format: the part so far ends here
            flush()
        pending.append(frame)
        if sum(f.height for f in pending) >= PART_ROWS:
            flush()

    for item in items:
        stats.files += 1
        fmt, origin = _origin(item, ctx)
        before = stats.rows
        try:
            with _closing(item.open()) as raw:
                parse_source(raw, item.name, fmt, origin, sink, stats, strict)
        except MalformedRecordError:
            raise
        except EniflowError as exc:
            stats.errors.append(f"{exc} ({stats.rows - before} records were read from it)")
    if pending:
        flush()
    return stats, parts


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


class _Progress:
    """A Rich progress line on stderr, shown only on a terminal and only after one second."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.done, self.rows = 0, 0
        self.started = time.monotonic()
        self.bar = None

    def tick(self, sources: int, rows: int) -> None:
        self.done += sources
        self.rows += rows
        self.refresh()

    def refresh(self) -> None:
        if not self.enabled or time.monotonic() - self.started < 1:
            return
        if self.bar is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("reading"), BarColumn(), TextColumn("{task.completed} sources"),
                                TextColumn("{task.fields[rows]:,} records"), TimeElapsedColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("read", total=None, rows=0)  # the listing is still going on
        self.bar.update(self.task, completed=self.done, rows=self.rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
