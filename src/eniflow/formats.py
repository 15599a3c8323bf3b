"""Format strings and header lines -> field lists, and the typed schema of a format."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import polars as pl

from .errors import UsageError
from .fields import DEFAULT_FORMAT, FIELDS, TGW_DEFAULT_FORMAT, lookup

__all__ = ["Format", "parse_format", "header_fields", "DEFAULT"]

_NAME = r"(?:\$\{)?[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*\}?"
_HEADER_RE = re.compile(rf"^\s*{_NAME}(?:\s+{_NAME})*\s*$")
_POLARS = {"int32": pl.Int32, "int64": pl.Int64, "string": pl.String}


@dataclass(frozen=True)
class Format:
    """An ordered list of AWS field names, as in a header line or a ``--format``."""

    names: tuple[str, ...]

    @cached_property
    def columns(self) -> tuple[str, ...]:
        return tuple(_column(n) for n in self.names)

    @cached_property
    def schema(self) -> dict[str, pl.DataType]:
        """Polars dtypes per column: the documented Parquet type, text for unknown fields."""
        return {c: _POLARS[_kind(n)] for n, c in zip(self.names, self.columns)}

    @cached_property
    def int_columns(self) -> tuple[str, ...]:
        return tuple(c for c, t in self.schema.items() if t != pl.String)

    @cached_property
    def unknown(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if lookup(n) is None)

    def __len__(self) -> int:
        return len(self.names)

    def __str__(self) -> str:
        return " ".join(self.names)


DEFAULT = Format(DEFAULT_FORMAT)
# Named formats for --format: AWS's defaults for VPC and Transit Gateway flow logs.
PRESETS = {"default": DEFAULT, "v2": DEFAULT, "tgw": Format(TGW_DEFAULT_FORMAT)}


def _column(name: str) -> str:
    field = lookup(name)
    return field.column if field else name.replace("-", "_")


def _kind(name: str) -> str:
    field = lookup(name)
    return field.kind if field else "string"


def _clean(token: str) -> str:
    token = token.strip()
    if token.startswith("${") and token.endswith("}"):
        token = token[2:-1]
    return token


def parse_format(spec: str | Sequence[str] | Format | None) -> Format:
    """A user's ``--format``: ``${a} ${b}``, ``a b``, underscore names, a list of names, or a
    preset: ``default`` (version 2) or ``tgw`` (AWS's Transit Gateway default, all 36 fields).

    Unknown names are a usage error that lists each with the closest known field, since a
    typo here would silently shift every column of every record.
    """
    if spec is None:
        return DEFAULT
    if isinstance(spec, Format):
        return spec
    if isinstance(spec, str) and spec.strip().lower() in PRESETS:
        return PRESETS[spec.strip().lower()]
    tokens = spec.split() if isinstance(spec, str) else [t for s in spec for t in str(s).split()]
    names = [_clean(t) for t in tokens if _clean(t)]
    if not names:
        raise UsageError("the log format is empty; give field names such as '${version} ${srcaddr} ${dstaddr}'.")
    resolved, bad = [], []
    for name in names:
        field = lookup(name)
        if field is None:
            bad.append(name)
        else:
            resolved.append(field.name)
    if bad:
        hints = []
        known = [f.name for f in FIELDS] + [f.column for f in FIELDS]
        for name in bad:
            close = difflib.get_close_matches(name.lower(), known, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {lookup(close[0]).name!r}?)" if close else ""))
        raise UsageError(f"unknown field name{'s' if len(bad) > 1 else ''} in the log format: {', '.join(hints)}. "
                         "Run 'eniflow read --help' for the list of fields.")
    dupes = sorted({n for n in resolved if resolved.count(n) > 1})
    if dupes:
        raise UsageError(f"field {dupes[0]!r} appears twice in the log format.")
    return Format(tuple(resolved))


def header_fields(line: str) -> Format | None:
    """The format a header line declares, or None when the line is not a header.

    A header is a line of field-name-like tokens with at least one known field; unknown
    names are kept (read as text) so a new AWS field never breaks reading.
    """
    if not _HEADER_RE.match(line):
        return None
    names = tuple(_clean(t) for t in line.split())
    if not any(lookup(n) for n in names):
        return None
    return Format(unique_names(lookup(n).name if lookup(n) else n for n in names))


def unique_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names with repeats renamed ``name-2``, ``name-3`` (read as text): a hand-edited header
    that names a field twice still gives every column a place."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return tuple(out)


def is_header_candidate(lines: pl.Series) -> pl.Series:
    """Vectorised first test for header lines (confirm each hit with :func:`header_fields`)."""
    return lines.str.contains(_HEADER_RE.pattern)


def field_table() -> Iterable[tuple[str, str, str]]:
    """(name, version, type) for every known field, for --help and docs."""
    for f in FIELDS:
        yield f.name, (str(f.version) if f.confirmed else "?"), f.kind

