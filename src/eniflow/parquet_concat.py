"""Parquet files of one schema joined into one by copying their row groups, never decoding them.

Why not a library: pyarrow, Polars and DuckDB all decode and encode the rows again to write a
file, which cost as much as parsing them (``eniflow read -o parquet``). The footer (Thrift
compact protocol) is decoded generically and written again with every file offset moved; the
column chunks are copied byte for byte.
"""

from __future__ import annotations

import os
from typing import IO

__all__ = ["concat_parquet"]

_STOP, _TRUE, _FALSE, _I8, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
_MOVED = {"row_group": (5,), "column_chunk": (2,), "column_meta": (9, 10, 11, 14)}  # Thrift ids of file offsets
_PAGE_INDEX = (4, 5, 6, 7)  # ColumnChunk offset/column index offset and length: absolute offsets inside, so dropped
_ARROW_SCHEMA = b"ARROW:schema"  # the writer's Arrow types (Polars' large_string); readers then use Parquet's


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _put_varint(value: int, out: bytearray) -> None:
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _read_value(buf: bytes, pos: int, kind: int):
    if kind in (_TRUE, _FALSE):  # a bool in a list is one byte
        return buf[pos], pos + 1
    if kind == _I8:
        return buf[pos], pos + 1
    if kind in (_I16, _I32, _I64):
        raw, pos = _varint(buf, pos)
        return (raw >> 1) ^ -(raw & 1), pos
    if kind == _DOUBLE:
        return buf[pos:pos + 8], pos + 8
    if kind == _BINARY:
        size, pos = _varint(buf, pos)
        return buf[pos:pos + size], pos + size
    if kind in (_LIST, _SET):
        head = buf[pos]
        pos += 1
        size, elem = head >> 4, head & 0x0F
        if size == 15:
            size, pos = _varint(buf, pos)
        items = []
        for _ in range(size):
            item, pos = _read_value(buf, pos, elem)
            items.append(item)
        return (elem, items), pos
    if kind == _MAP:
        size, pos = _varint(buf, pos)
        if not size:
            return (0, []), pos
        types = buf[pos]
        pos += 1
        pairs = []
        for _ in range(size):
            key, pos = _read_value(buf, pos, types >> 4)
            value, pos = _read_value(buf, pos, types & 0x0F)
            pairs.append((key, value))
        return (types, pairs), pos
    if kind == _STRUCT:
        return _read_struct(buf, pos)
    raise ValueError(f"unknown Thrift type {kind}")


def _read_struct(buf: bytes, pos: int) -> tuple[list, int]:
    """[(field id, type, value)] of one struct; booleans live in the type."""
    fields, last = [], 0
    while True:
        head = buf[pos]
        pos += 1
        if head == _STOP:
            return fields, pos
        kind, delta = head & 0x0F, head >> 4
        if delta:
            fid = last + delta
        else:
            raw, pos = _varint(buf, pos)
            fid = (raw >> 1) ^ -(raw & 1)
        value = None
        if kind not in (_TRUE, _FALSE):
            value, pos = _read_value(buf, pos, kind)
        fields.append((fid, kind, value))
        last = fid


def _write_value(kind: int, value, out: bytearray) -> None:
    if kind in (_TRUE, _FALSE, _I8):
        out.append(value)
    elif kind in (_I16, _I32, _I64):
        _put_varint((value << 1) ^ (value >> 63), out)
    elif kind == _DOUBLE:
        out += value
    elif kind == _BINARY:
        _put_varint(len(value), out)
        out += value
    elif kind in (_LIST, _SET):
        elem, items = value
        if len(items) < 15:
            out.append(len(items) << 4 | elem)
        else:
            out.append(0xF0 | elem)
            _put_varint(len(items), out)
        for item in items:
            _write_value(elem, item, out)
    elif kind == _MAP:
        types, pairs = value
        _put_varint(len(pairs), out)
        if pairs:
            out.append(types)
        for key, item in pairs:
            _write_value(types >> 4, key, out)
            _write_value(types & 0x0F, item, out)
    else:
        _write_struct(value, out)


def _write_struct(fields: list, out: bytearray) -> None:
    last = 0
    for fid, kind, value in fields:
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | kind)
        else:
            out.append(kind)
            _put_varint((fid << 1) ^ (fid >> 15), out)
        if kind not in (_TRUE, _FALSE):
            _write_value(kind, value, out)
        last = fid
    out.append(_STOP)


def _moved(fields: list, ids: tuple[int, ...], by: int) -> list:
    return [(f, k, v + by if f in ids else v) for f, k, v in fields]


def _footer(path: str) -> tuple[list, int]:
    """The decoded FileMetaData of a Parquet file and where its footer starts."""
    with open(path, "rb") as f:
        f.seek(-8, os.SEEK_END)
        tail = f.read(8)
        size = int.from_bytes(tail[:4], "little")
        if tail[4:] != b"PAR1":
            raise ValueError(f"{path} is not a Parquet file")
        start = f.seek(-8 - size, os.SEEK_END)
        return _read_struct(f.read(size), 0)[0], start


def _copy(source: IO[bytes], target: IO[bytes], offset: int, size: int) -> None:
    """``size`` bytes of ``source`` from ``offset`` to ``target``: in the kernel where it can."""
    try:
        fd = target.fileno()
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        target.flush()
        while size:
            sent = os.sendfile(fd, source.fileno(), offset, size)
            if not sent:
                raise OSError(f"{source.name} ended before its Parquet footer")
            offset, size = offset + sent, size - sent
        return
    source.seek(offset)
    while size:
        block = source.read(min(size, 8 << 20))
        target.write(block)
        size -= len(block)


def concat_parquet(paths: list[str], target: IO[bytes]) -> int:
    """Parquet files of one schema -> one Parquet file on ``target``, their row groups in order,
    without decoding them; returns the rows written."""
    schema = rows = None
    row_groups, meta = [], []
    target.write(b"PAR1")
    at = 4
    for path in paths:
        fields, end = _footer(path)
        parts = {f: v for f, _, v in fields}
        if schema is None:
            schema, meta = parts[2], fields
        elif parts[2] != schema:
            raise ValueError(f"{path}: a different schema; only files of one schema are joined")
        by = at - 4
        for group in parts.get(4, (_STRUCT, []))[1]:
            group = [(f, k, v) for f, k, v in _moved(group, _MOVED["row_group"], by) if f != 7]  # 7: ordinal
            chunks = []
            for chunk in dict((f, v) for f, _, v in group)[1][1]:
                chunk = [(f, k, _moved(v, _MOVED["column_meta"], by) if f == 3 else v)
                         for f, k, v in _moved(chunk, _MOVED["column_chunk"], by) if f not in _PAGE_INDEX]
                chunks.append(chunk)
            row_groups.append([(f, k, (_STRUCT, chunks) if f == 1 else v) for f, k, v in group])
        rows = (rows or 0) + parts[3]
        with open(path, "rb") as f:
            _copy(f, target, 4, end - 4)
        at += end - 4
    out = bytearray()
    footer = []
    for fid, kind, value in meta:
        if fid == 3:
            value = rows
        elif fid == 4:
            value = (_STRUCT, row_groups)
        elif fid == 5:
            elem, pairs = value
            value = (elem, [kv for kv in pairs if dict((f, v) for f, _, v in kv).get(1) != _ARROW_SCHEMA])
        footer.append((fid, kind, value))
    _write_struct(footer, out)
    target.write(bytes(out) + len(out).to_bytes(4, "little") + b"PAR1")
    return rows or 0
