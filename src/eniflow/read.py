"""read(sources) -> Flows: every record as a typed DuckDB relation, plus an account of every line.

Each source is parsed into Parquet parts in a spool directory (large inputs on two worker
processes), then one DuckDB relation reads them all. Memory stays flat whatever the input
size: a chunk at a time is in flight, and DuckDB scans the parts lazily.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
import weakref
from pathlib import Path
from typing import Iterable, Sequence

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

TASK_BYTES = 64 << 20  # sources are grouped into tasks of about this much (compressed) input
PARALLEL_BYTES = 48 << 20  # below this, worker processes cost more than they save
PART_ROWS = 1_000_000  # rows per spooled Parquet part
_ORDER = {f.column: i for i, f in enumerate(FIELDS)}
_SQL_TYPES = {"int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR"}


class Flows:
    """The records read: ``relation`` (also the view ``flows`` on ``con``) and ``stats``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, stats: ReadStats,
                 spool: str | None):
        self.con, self.relation, self.stats, self.spool = con, relation, stats, spool
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
         con: duckdb.DuckDBPyConnection | None = None, progress: bool = False, workers: int | None = None) -> Flows:
    """Read flow logs from files, directories, globs, '-', s3:// and cwl:// sources.

    ``format`` applies to sources without a header line (default: the version-2 default
    format); a header line always wins. ``since``/``until`` keep records whose time range
    meets [since, until) and let S3/CloudWatch sources skip what lies outside.
    """
    specs = [sources] if isinstance(sources, (str, Path)) else list(sources)
    fmt = parse_format(format) if format is not None else None
    ctx = Context(aws or AwsOptions(), parse_time(since), parse_time(until), fmt.names if fmt else None)
    con = con or connect()
    stats = ReadStats()
    spool = tempfile.mkdtemp(prefix="eniflow-read-", dir=os.environ.get("ENIFLOW_TMP"))
    try:
        with warnings.catch_warnings(record=True) as caught:  # sources warn (e.g. a format fallback)
            warnings.simplefilter("always")
            items = [item for spec in specs for item in expand(str(spec), ctx)]
        stats.warnings.extend(dict.fromkeys(str(w.message) for w in caught))
        parts = _parse_all(items, ctx, strict, spool, stats, progress, workers)
    except BaseException:
        shutil.rmtree(spool, True)
        raise
    relation = _relation(con, parts, ctx)
    return Flows(con, relation, stats, spool)


def _origin(item, ctx: Context) -> tuple[Format | None, str]:
    if not item.format:
        return None, ""
    return Format(tuple(item.format)), "--format" if item.format == ctx.format else "the flow log's LogFormat"


def _tasks(items: list) -> list[list]:
    """Group small sources so each task is worth a process hop; keep the input order."""
    tasks, current, size = [], [], 0
    for item in items:
        current.append(item)
        size += item.size or TASK_BYTES
        if size >= TASK_BYTES:
            tasks.append(current)
            current, size = [], 0
    if current:
        tasks.append(current)
    return tasks


def _parse_all(items, ctx, strict, spool, stats, progress, workers) -> list[str]:
    tasks = _tasks(items)
    total = sum(item.size or 0 for item in items)
    local = any(getattr(item, "name", "") == "-" for item in items)
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    reporter = _Progress(progress, len(items))
    results: list[tuple[ReadStats, list[str]]] = []
    if workers <= 1 or len(tasks) < 2 or total < PARALLEL_BYTES or local:
        for task in tasks:
            results.append(_run_task(task, ctx, strict, spool, reporter.tick))
    else:
        from .workers import run_in_workers

        def done(index: int, result) -> None:
            reporter.tick(len(tasks[index]), result[0].rows)

        results = run_in_workers(_run_task, tasks, (ctx, strict, spool), workers, done)
    reporter.close()
    parts = []
    for task_stats, task_parts in results:
        stats.merge(task_stats)
        parts.extend(task_parts)
    return parts


def _run_task(items, ctx, strict, spool, tick=None) -> tuple[ReadStats, list[str]]:
    """Parse a group of sources into Parquet parts (runs in a worker process for large reads)."""
    stats = ReadStats()
    pending: dict[tuple, list[pl.DataFrame]] = {}  # frames of one schema wait to fill a part
    paths: list[str] = []

    def flush(key: tuple) -> None:
        frames = pending.pop(key)
        path = os.path.join(spool, f"{uuid.uuid4().hex}.parquet")
        # Uncompressed: the spool lives minutes and compression would cost as much as parsing.
        pl.concat(frames, rechunk=False).write_parquet(path, compression="uncompressed", statistics=False)
        paths.append(path)

    def sink(frame: pl.DataFrame) -> None:
        key = tuple(frame.schema.items())
        frames = pending.setdefault(key, [])
        frames.append(frame)
        if sum(f.height for f in frames) >= PART_ROWS:
            flush(key)

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
        if tick:
            tick(1, stats.rows - before)
    for key in list(pending):
        flush(key)
    return stats, paths


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
    names = [c for c in rel.columns if c not in ("source", "line")]
    ordered = sorted(names, key=lambda c: (_ORDER.get(c, len(_ORDER)), names.index(c)))
    rel = rel.select(", ".join(_quote(c) for c in [*ordered, "source", "line"]))
    if ctx.since is not None and "end" in rel.columns:
        rel = rel.filter(f'"end" IS NULL OR "end" >= {int(ctx.since)}')
    if ctx.until is not None and "start" in rel.columns:
        rel = rel.filter(f'"start" IS NULL OR "start" < {int(ctx.until)}')
    return rel


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

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and sys.stderr.isatty()
        self.total, self.done, self.rows = total, 0, 0
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

            self.bar = Progress(TextColumn("reading"), BarColumn(), TextColumn("{task.completed}/{task.total} sources"),
                                TextColumn("{task.fields[rows]:,} records"), TimeElapsedColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("read", total=self.total, rows=0)
        self.bar.update(self.task, completed=self.done, rows=self.rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
