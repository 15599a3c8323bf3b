"""Your own DuckDB SQL over the views ``flows`` and ``resolved``; optionally saved for later.

``save`` copies both views into a DuckDB database file as tables of the same names, so
repeated questions skip reading and resolving: give that file as the source next time
(or open it with the ``duckdb`` command line).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ..errors import UsageError

__all__ = ["sql", "is_duckdb_file", "open_saved"]

_VIEWS = ("flows", "resolved")


def is_duckdb_file(path) -> bool:
    """True for a DuckDB database file (its header carries the magic ``DUCK`` at byte 8)."""
    try:
        with open(path, "rb") as f:
            return f.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def open_saved(path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a database written by ``save``."""
    con = duckdb.connect(str(path), read_only=True)
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not set(_VIEWS) <= tables:
        con.close()
        raise UsageError(f"{path}: a DuckDB database without the tables flows and resolved; give flow log sources, "
                         "or a database written by 'eniflow sql ... --save FILE'.")
    return con


def _save(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Copy the views into tables of a fresh database file (the path never enters SQL text)."""
    if os.path.exists(path):
        if not is_duckdb_file(path):
            raise UsageError(f"--save {path}: the file exists and is not a DuckDB database; choose another name.")
        os.unlink(path)
    dest = duckdb.connect(path)
    try:
        for view in _VIEWS:
            reader = con.table(view).to_arrow_reader(100_000)
            dest.register("eniflow_saved_input", reader)
            dest.execute(f"CREATE TABLE {view} AS SELECT * FROM eniflow_saved_input")
            dest.unregister("eniflow_saved_input")
    finally:
        dest.close()


def sql(data, query: str, *, save: str | Path | None = None, inventory=None, since=None, until=None, aws=None,
        format=None):
    """Run ``query`` over ``flows`` and ``resolved``; return its DuckDB relation (None for statements
    that return no rows).

    ``data``: a :class:`eniflow.Resolved`, flow log sources to read and resolve, or a
    database file written by ``save``.
    """
    if isinstance(data, (str, Path)) and is_duckdb_file(data):
        con = open_saved(data)
    elif isinstance(data, (list, tuple)) and len(data) == 1 and is_duckdb_file(data[0]):
        con = open_saved(data[0])
    elif hasattr(data, "con") and hasattr(data, "relation"):
        con = data.con
    else:
        from ..read import read
        from ..resolve import resolve

        con = resolve(read(data, since=since, until=until, aws=aws, format=format), inventory=inventory).con
    if save is not None:
        _save(con, str(save))
    try:
        return con.sql(query)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise UsageError(f"the query failed: {first} (the views are flows and resolved; "
                         "columns: DESCRIBE flows / DESCRIBE resolved)") from None
