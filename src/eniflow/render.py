"""Write a DuckDB relation as a terminal table, JSON lines, CSV or Parquet."""

from __future__ import annotations

import io
import os
import shutil
import sys
from typing import IO

import duckdb
import polars as pl

__all__ = ["OUTPUT_FORMATS", "check_format", "write", "rich_table", "table_console"]

OUTPUT_FORMATS = ("table", "jsonl", "csv", "parquet")
TABLE_ROWS = 200  # a terminal table beyond this is not read by anyone; the rest is counted


def _batches(rel: duckdb.DuckDBPyRelation, size: int = 100_000):
    for batch in rel.to_arrow_reader(size):
        if batch.num_rows:
            yield pl.from_arrow(batch)


def check_format(fmt: str) -> None:
    """UsageError for an output format ``write`` does not know (the CLI checks before reading)."""
    if fmt not in OUTPUT_FORMATS:
        from .errors import UsageError

        raise UsageError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}.")


def write(rel: duckdb.DuckDBPyRelation, fmt: str = "table", out: str | None = None, *,
          title: str | None = None, stream: IO[str] | None = None, files: list[str] | None = None,
          compression: str | None = None) -> int:
    """Write ``rel`` in ``fmt`` to the file ``out`` or to ``stream`` (stdout); return rows written.

    ``files``: Parquet files that hold exactly the rows of ``rel``, in order (a read's spool);
    Parquet output then copies their row groups instead of encoding the rows again (they are
    compressed already); else DuckDB writes it with ``compression`` (default: the reader's, CODECS[0])."""
    check_format(fmt)
    stream = stream or sys.stdout
    if fmt == "parquet":
        from .read import CODECS

        compression = compression or CODECS[0]
        if out is None and stream.isatty():
            from .errors import UsageError

            raise UsageError("-o parquet writes binary data; give --out FILE or redirect stdout to a file.")
        if files:
            from .parquet_concat import concat_parquet

            if out is None:
                return concat_parquet(files, sys.stdout.buffer)
            with _open(out, "wb") as target:
                return concat_parquet(files, target)
        if out is None:
            path = _tmp_parquet(rel, compression)
            with open(path, "rb") as f:
                shutil.copyfileobj(f, sys.stdout.buffer)
            os.unlink(path)
        else:
            _open(out, "wb").close()  # a clear error for a path that cannot be written
            rel.write_parquet(out, compression=compression)
        return _count(rel)
    if fmt == "table":
        console = table_console(_open(out, "w") if out else stream)
        total = _count(rel)
        console.print(rich_table(rel.limit(TABLE_ROWS), title=title))
        if total > TABLE_ROWS:
            console.print(f"[dim]… {total - TABLE_ROWS} more rows; use -o jsonl/csv/parquet for all of them[/dim]")
        return total
    target = _open(out, "w", newline="") if out else stream
    rows = 0
    try:
        first = True
        for df in _batches(rel):
            buf = io.StringIO()
            if fmt == "jsonl":
                df.write_ndjson(buf)
            else:
                df = df.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join(";")
                                     for c, t in df.schema.items() if isinstance(t, pl.List))
                df.write_csv(buf, include_header=first)
            target.write(buf.getvalue())
            rows += df.height
            first = False
        if fmt == "csv" and first:
            target.write(",".join(rel.columns) + "\n")
    finally:
        if out:
            target.close()
    return rows


def table_console(file: IO[str]):
    """A Rich console for a table written to ``file``: a terminal's width, else (a file, a pipe)
    as wide as the table, so that no address is cut to '…' and no column is squeezed out."""
    from rich.console import Console

    wide = not (hasattr(file, "isatty") and file.isatty()) and "COLUMNS" not in os.environ
    return Console(file=file, soft_wrap=False, width=100_000 if wide else None)


def _open(out: str, mode: str, **kwargs) -> IO:
    try:
        return open(out, mode, **kwargs)
    except OSError as exc:
        from .errors import EniflowError

        raise EniflowError(f"{out}: cannot write the output ({exc.strerror}); "
                           "check that its directory exists and is writable.") from exc


def _count(rel: duckdb.DuckDBPyRelation) -> int:
    return rel.aggregate("count(*)").fetchall()[0][0]


def _tmp_parquet(rel: duckdb.DuckDBPyRelation, compression: str) -> str:
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".parquet")
    os.close(fd)
    rel.write_parquet(path, compression=compression)
    return path


def rich_table(rel: duckdb.DuckDBPyRelation, title: str | None = None):
    """A Rich table of ``rel`` (all rows: limit before calling).

    Columns that are empty in every shown row are left out and cells do not wrap, so a
    wide record still reads as one line per row; ``source`` shows the file name only.
    """
    from rich.table import Table

    rows = rel.fetchall()
    names = list(rel.columns)
    keep = [i for i, _ in enumerate(names) if any(row[i] is not None for row in rows)] or list(range(len(names)))
    table = Table(title=title, show_lines=False, header_style="bold", pad_edge=False)
    for i in keep:
        numeric = any(isinstance(row[i], (int, float)) for row in rows)
        table.add_column(names[i], overflow="ellipsis", no_wrap=True, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(names[i], row[i]) for i in keep))
    return table


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if name == "source":
        return str(value).rsplit("/", 1)[-1]
    return str(value)
