"""The DuckDB connection and its settings (threads, memory limit, spill directory)."""

from __future__ import annotations

import os
import tempfile

import duckdb

__all__ = ["connect"]


def connect(database: str = ":memory:", *, threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection sized for this machine that spills to a temp dir instead of failing."""
    con = duckdb.connect(database)
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
    con.execute(f"SET memory_limit = '{memory_limit or os.environ.get('ENIFLOW_MEMORY_LIMIT', '4GB')}'")
    # Freed blocks are kept for reuse up to the memory limit (until the connection closes) rather
    # than handed back to the system: a resolve writes and drops tables of millions of rows, and
    # taking fresh pages from the kernel again each time cost it a fifth of its time here.
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET block_allocator_memory = '{limit}'")
    spill = os.path.join(tempfile.gettempdir(), "eniflow-spill")
    os.makedirs(spill, exist_ok=True)
    con.execute(f"SET temp_directory = '{spill}'")
    con.execute("SET preserve_insertion_order = true")
    return con
