"""Bytes of one source -> typed record frames, accounting for every line.

Regular text goes through one typed Polars CSV parse per chunk (the fast path). A chunk
with anything irregular (double spaces, wrong field counts, a header or JSON line inside,
invalid UTF-8) is re-read line by line with vectorised string operations (the slow path),
so one odd line costs one chunk, never a whole file, and never a Python loop per record.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator

import polars as pl

from .errors import InputError, MalformedRecordError
from .fields import lookup
from .formats import DEFAULT, Format, header_fields, is_header_candidate, unique_names

__all__ = ["Malformed", "ReadStats", "parse_source", "CHUNK_BYTES", "MALFORMED_KEPT"]

CHUNK_BYTES = 32 << 20
_GZIP_READ_BYTES = 4 << 20  # compressed bytes read at a time: a delivered object (~3 MB) in one piece
_SALVAGE_BYTES = 32 << 20  # a damaged gzip member shorter than this gives every line before the damage
MALFORMED_KEPT = 100
_MS_EPOCH = 100_000_000_000  # start/end above this are milliseconds (year 5138 in seconds)
_CWL_EXPORT_PREFIX = r"^\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?\s+"
_OWN_COLUMNS = ("source", "line")
_TRUTH_MARK = b"eniflow.simulation-truth"  # Parquet metadata key of simulate's truth file
_GZIP, _PARQUET, _BOM = b"\x1f\x8b", b"PAR1", b"\xef\xbb\xbf"
# How pandas and Spark spell a missing value when they store a numeric column as text.
_MISSING_TEXT = ["None", "nan", "NaN", "null", "NULL"]


@dataclass
class Malformed:
    """A line that could not be read as a record, kept with where it was and why."""

    source: str
    line: int
    reason: str
    text: str
    lines: int = 1  # input lines it stands for: an inventory given as flow logs is one entry for all its lines

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


def strict_stop(first: Malformed) -> MalformedRecordError:
    """The error of --strict at ``first``, the first malformed line (the same on every engine)."""
    return MalformedRecordError(f"{first} (--strict stops at the first malformed line; "
                                "drop --strict to count and skip such lines).", first.source, first.line)


@dataclass
class ReadStats:
    """Where every input line went: lines == headers + blank + records + nodata + skipdata + malformed.

    ``records`` counts OK records; NODATA and SKIPDATA records are counted apart but are rows
    of the result too. ``errors`` are sources that could not be read to their end.
    """

    files: int = 0
    lines: int = 0
    headers: int = 0
    blank: int = 0
    records: int = 0
    nodata: int = 0
    skipdata: int = 0
    malformed: int = 0
    malformed_samples: list[Malformed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: "ReadStats", order: Callable[[Malformed], object] | None = None) -> None:
        """Add ``other``'s counts in. The samples kept are the first MALFORMED_KEPT: ``other``'s
        after these (eniflow.read merges its tasks as listed), or all sorted by ``order`` (a sort
        key: read_spark's sources are not read in the order they were listed)."""
        for name in ("files", "lines", "headers", "blank", "records", "nodata", "skipdata", "malformed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        samples = self.malformed_samples + other.malformed_samples
        self.malformed_samples[:] = (sorted(samples, key=order) if order else samples)[:MALFORMED_KEPT]
        self.warnings.extend(w for w in other.warnings if w not in self.warnings)
        self.errors.extend(other.errors)

    def malformed_beyond(self, shown: list[Malformed]) -> int:
        """Malformed lines that the entries ``shown`` do not stand for (one can stand for a whole document)."""
        return self.malformed - sum(m.lines for m in shown)

    @property
    def rows(self) -> int:
        """Rows in the relation: records of every log status."""
        return self.records + self.nodata + self.skipdata

    def summary(self) -> str:
        """The one-line account printed on stderr after a read."""
        parts = [f"{self.files} source{'s' if self.files != 1 else ''}", f"{self.lines} lines",
                 f"{self.records} records"]
        for name in ("nodata", "skipdata", "headers", "blank", "malformed"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        if self.errors:
            parts.append(f"{len(self.errors)} unreadable")
        return "read " + ", ".join(parts)


Sink = Callable[[pl.DataFrame], None]  # gets typed record columns and ``line``, in line order


class _Parser:
    """State of one source: its current format, line numbers, counts."""

    def __init__(self, source: str, fmt: Format, origin: str, sink: Sink, counts: ReadStats, strict: bool):
        self.source, self.fmt, self.origin = source, fmt, origin
        self.sink, self.counts, self.strict = sink, counts, strict
        self.next_line = 1
        self.held: list[tuple[int, str]] | None = None  # strict, inside _in_line_order: each pass's first fault
        self.first_sample = len(counts.malformed_samples)  # this source's samples follow those of earlier ones

    # -- text ---------------------------------------------------------------------------
    def feed_text(self, chunk: bytes) -> None:
        """Parse whole lines (the chunk ends at a line end or at the end of the source)."""
        if not chunk:
            return
        first, skip = chunk[: chunk.find(b"\n") + 1 or len(chunk)], 0
        if self.next_line == 1 or first[:1].isalpha():
            header = header_fields(first.decode("utf-8", "replace").rstrip("\r\n"))
            if header is not None:
                self._set_header(header, self.next_line)
                self.counts.lines += 1
                self.counts.headers += 1
                self.next_line += 1
                skip = len(first)  # the fast path skips the header line in place: no copy of the chunk
                if skip == len(chunk):
                    return
        frame = self._fast(chunk, skip)
        if frame is None:
            with self._in_line_order():
                self._slow(chunk[skip:])
        else:
            n = frame.height
            self.counts.lines += n
            self._emit(frame.with_columns(pl.int_range(self.next_line, self.next_line + n, dtype=pl.Int64).alias("line")))
            self.next_line += n

    def _set_header(self, header: Format, line: int) -> None:
        self.fmt, self.origin = header, f"the header on line {line}"
        if header.unknown:
            self.counts.warnings.append(
                f"{self.source}:{line}: unknown field name(s) {', '.join(header.unknown)} read as text columns")

    def _fast(self, chunk: bytes, skip: int) -> pl.DataFrame | None:
        """The records of ``chunk`` after its first ``skip`` bytes (a header line), or None if any line is irregular."""
        fmt = self.fmt
        if not fmt.int_columns:
            return None  # without an integer column a stray header or JSON line would not fail the parse
        if fmt.schema[fmt.columns[0]] == pl.String and (chunk[skip:skip + 1] == b"{" or chunk.find(b"\n{", skip) >= 0):
            return None
        try:
            df = pl.read_csv(chunk, has_header=False, skip_lines=1 if skip else 0, separator=" ", quote_char=None,
                             schema=fmt.schema, null_values="-", empty_string_is_null=False,
                             truncate_ragged_lines=False, raise_if_empty=False)
        except Exception:  # any irregularity: the slow path finds and reports it line by line
            return None
        last = fmt.columns[-1]
        if fmt.schema[last] == pl.String:
            if df.height and (df.get_column(last) == "").any():
                return None  # a short line (or a blank one) left the last field empty
        elif chunk.count(b" ", skip) != (len(fmt) - 1) * df.height:
            return None
        return df

    def _slow(self, chunk: bytes) -> None:
        text = chunk.decode("utf-8", errors="replace")
        if text.endswith("\n"):
            text = text[:-1]
        lines = pl.Series("text", [text]).str.split("\n").explode().str.strip_chars_end("\r")
        df = pl.DataFrame({"text": lines}).with_columns(
            line=pl.int_range(self.next_line, self.next_line + len(lines), dtype=pl.Int64))
        self.next_line += len(lines)
        self.counts.lines += len(lines)
        stripped = pl.col("text").str.strip_chars()
        df = df.with_columns(blank=stripped == "", header=pl.lit(False))
        self.counts.blank += int(df.get_column("blank").sum())
        candidates = df.filter(is_header_candidate(df.get_column("text")))
        segments: list[tuple[int, Format, str]] = []  # (first line, format, origin) of each header
        for line, text in candidates.select("line", "text").iter_rows():
            header = header_fields(text)
            if header is not None:
                segments.append((line, header, f"the header on line {line}"))
        if segments:
            df = df.with_columns(header=pl.col("line").is_in([s[0] for s in segments]))
            self.counts.headers += len(segments)
        text_rows = self.unwrap(df.filter(~pl.col("blank") & ~pl.col("header")))
        bounds = [(self.next_line - len(lines), self.fmt, self.origin)] + segments
        for i, (start, fmt, origin) in enumerate(bounds):
            end = bounds[i + 1][0] if i + 1 < len(bounds) else None
            part = text_rows.filter(pl.col("line") >= start) if end is None else \
                text_rows.filter((pl.col("line") >= start) & (pl.col("line") < end))
            if part.height:
                self._tokens(part, fmt, origin)
        for line, header, _ in segments:
            self._set_header(header, line)

    def _tokens(self, rows: pl.DataFrame, fmt: Format, origin: str) -> None:
        """Split record lines on runs of whitespace and type them with ``fmt``."""
        n = len(fmt)
        rows = rows.with_columns(
            text=pl.col("text").str.replace(_CWL_EXPORT_PREFIX, ""),
        ).with_columns(parts=pl.col("text").str.strip_chars().str.replace_all(r"\s+", " ").str.split(" "))
        rows = rows.with_columns(nfields=pl.col("parts").list.len())
        wrong = rows.filter(pl.col("nfields") != n)
        if wrong.height:
            self._malformed(wrong.select(
                "line", "text",
                reason=pl.format(f"expected {n} fields ({origin}), found {{}}", pl.col("nfields"))))
        good = rows.filter(pl.col("nfields") == n)
        if good.height:
            tokens = good.select(
                "line", "text",
                *[pl.col("parts").list.get(i).alias(c) for i, c in enumerate(fmt.columns)])
            self.typed(tokens, fmt)

    def unwrap(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Record lines (line, text) of ``rows``: JSON lines give the lines they wrap, and
        JSON-object records among them go straight to typing."""
        is_json = pl.col("text").str.strip_chars_start().str.starts_with("{")
        text_rows = rows.filter(~is_json).select("line", "text")
        json_rows = rows.filter(is_json)
        if json_rows.height:
            text_rows = pl.concat([text_rows, self._json_lines(json_rows)]).sort("line")
        return text_rows

    def _json_lines(self, rows: pl.DataFrame) -> pl.DataFrame:
        """JSON-wrapped lines: ``{"message": ...}``, subscription envelopes, JSON-object records."""
        out_lines, out_text, structured, bad = [], [], [], []
        for line, text in rows.select("line", "text").iter_rows():
            try:
                obj = json.loads(text)
            except ValueError:
                bad.append((line, text, "line starts with '{' but is not valid JSON"))
                continue
            messages = _messages(obj)
            if messages == []:
                self.counts.blank += 1  # a control message or an empty envelope: no record, no error
                continue
            if messages is not None:
                self.counts.lines += len(messages) - 1  # each event of an envelope counts as a line
            for message in [obj] if messages is None else messages:
                record = _record_object(message)
                if record is not None:
                    structured.append((line, text, record))
                elif isinstance(message, str):
                    out_lines.append(line)
                    out_text.append(message)
                else:
                    bad.append((line, text, "JSON line holds no flow log record (no 'message', 'logEvents' or field names)"))
        if bad:
            self._malformed(pl.DataFrame(bad, schema=["line", "text", "reason"], orient="row"))
        if structured:
            self._structured(structured)
        return pl.DataFrame({"line": out_lines, "text": out_text}, schema={"line": pl.Int64, "text": pl.String})

    def _structured(self, rows: list[tuple[int, str, dict]]) -> None:
        """JSON-object records (snake_case or hyphenated keys), grouped by their key set."""
        groups: dict[tuple[str, ...], list] = {}
        for line, text, obj in rows:
            fmt = tuple(lookup(k).name for k in obj)
            values = [_token(v) for v in obj.values()]
            groups.setdefault(fmt, []).append([line, text.strip(), *values])
        for names, data in groups.items():
            fmt = Format(names)
            frame = pl.DataFrame(data, schema=["line", "text", *fmt.columns], orient="row",
                                 infer_schema_length=None).with_columns(pl.col("line").cast(pl.Int64))
            self.typed(frame, fmt)

    # -- typing shared by text, JSON and Parquet -------------------------------------------
    def typed(self, tokens: pl.DataFrame, fmt: Format) -> None:
        """String tokens (columns of ``fmt`` plus line, text) -> typed rows; bad integers are malformed."""
        exprs, fails = [], []
        for c in fmt.columns:
            raw = pl.col(c).cast(pl.String)
            value = pl.when(raw.is_in(["-", ""])).then(None).otherwise(raw)
            if fmt.schema[c] == pl.String:
                exprs.append(value.alias(c))
            else:
                parsed = value.cast(pl.Int64, strict=False).cast(fmt.schema[c], strict=False)
                exprs.append(parsed.alias(c))
                fails.append(pl.when(value.is_not_null() & parsed.is_null())
                             .then(pl.format(f"field '{lookup(c).name if lookup(c) else c}' is not an integer: '{{}}'", value)))
        out = tokens.select("line", "text", *exprs, reason=pl.coalesce(fails) if fails else pl.lit(None, pl.String))
        bad = out.filter(pl.col("reason").is_not_null())
        if bad.height:
            self._malformed(bad.select("line", "text", "reason"))
        good = out.filter(pl.col("reason").is_null()).drop("text", "reason")
        if good.height:
            self._emit(good)

    def _emit(self, frame: pl.DataFrame) -> None:
        fix = [pl.when(pl.col(c) > _MS_EPOCH).then(pl.col(c) // 1000).otherwise(pl.col(c)).alias(c)
               for c in ("start", "end") if c in frame.columns and (frame.get_column(c).max() or 0) > _MS_EPOCH]
        if fix:
            frame = frame.with_columns(fix)
        if "log_status" in frame.columns:
            status = frame.get_column("log_status")
            nodata, skipdata = int((status == "NODATA").sum()), int((status == "SKIPDATA").sum())
        else:
            nodata = skipdata = 0
        self.counts.nodata += nodata
        self.counts.skipdata += skipdata
        self.counts.records += frame.height - nodata - skipdata
        self.sink(frame)  # the record columns and line; the sink adds the source

    def _malformed(self, rows: pl.DataFrame, lines: int = 1) -> None:
        rows = rows.sort("line")
        self.counts.malformed += rows.height * lines
        if self.strict:
            first = rows["line"][0], rows["reason"][0]
            if self.held is None:
                self._stop(*first)
            self.held.append(first)
            return
        self._sample(rows, lines)

    @contextmanager
    def _in_line_order(self) -> Iterator[None]:
        """Strict: lines checked in passes by kind of fault (JSON, field count, integer) stop at
        the earliest fault of all passes, not at the first fault of whichever pass runs first."""
        self.held = []
        try:
            yield
        finally:
            held, self.held = self.held, None
        if held:
            self._stop(*min(held, key=lambda fault: fault[0]))  # of one line's faults, the first found

    def _stop(self, line: int, reason: str) -> None:
        raise strict_stop(Malformed(self.source, line, reason, ""))

    def _sample(self, rows: pl.DataFrame, lines: int) -> None:
        """Keep the source's first malformed lines (``rows``, sorted), in line order: a chunk
        reports its faults by kind (JSON, field count, integer), so a later call can hold
        earlier lines than those already kept."""
        room = MALFORMED_KEPT - self.first_sample
        if room <= 0:
            return
        samples = self.counts.malformed_samples
        kept = samples[self.first_sample:]
        if len(kept) >= room:  # full: only lines before the last kept one can still enter
            rows = rows.filter(pl.col("line") < kept[-1].line)
        new = [Malformed(self.source, line, reason, text[:500], lines)
               for line, text, reason in rows.select("line", "text", "reason").head(room).iter_rows()]
        if new:
            samples[self.first_sample:] = sorted(kept + new, key=lambda m: m.line)[:room]


def _messages(obj) -> list[str] | None:
    """Record lines inside a JSON wrapper, or None when ``obj`` is not a wrapper. CloudWatch's
    CONTROL_MESSAGE envelopes (destination health checks) hold no records: []."""
    if isinstance(obj, dict):
        if obj.get("messageType") == "CONTROL_MESSAGE":
            return []
        if isinstance(obj.get("message"), str):
            return [obj["message"].rstrip("\r\n")]
        if isinstance(obj.get("logEvents"), list):
            return [str(e.get("message", "")).rstrip("\r\n") for e in obj["logEvents"] if isinstance(e, dict)]
    return None


def _record_object(value) -> dict | None:
    """A JSON-object record (field names as keys), given as an object or as the JSON text of one
    (as in ``{"message": "{\\"version\\": 2, ...}"}``); None for anything else."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and value and all(lookup(k) for k in value):
        return value
    return None


def _token(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# -- sources -------------------------------------------------------------------------------
class _Prefixed(io.RawIOBase):
    """A stream with its first bytes put back after sniffing."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """What is at hand, up to ``size`` bytes, without the copies of RawIOBase.read."""
        if size is None or size < 0:
            head, self.head = self.head, b""
            return head + self.rest.read()
        if self.head:
            head, self.head = self.head[:size], self.head[size:]
            return head
        return self.rest.read1(size) if hasattr(self.rest, "read1") else self.rest.read(size)

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        # read1: what is at hand, so bytes that arrived before a broken download are kept
        data = self.rest.read1(len(b)) if hasattr(self.rest, "read1") else self.rest.read(len(b))
        b[: len(data)] = data
        return len(data)


def parse_source(raw: BinaryIO, source: str, fmt: Format | None, origin: str, sink: Sink, counts: ReadStats,
                 strict: bool = False, chunk_bytes: int | None = None) -> None:
    """Read one source (gzip, Parquet, JSON envelopes or text, by content) into ``sink``.

    Lines before any header use ``fmt``, else the default format; the layout is never guessed
    from the number of tokens, since one count fits several layouts (29 fields in the v5 order
    or in the order of AWS's traffic-path example)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    parser = _Parser(source, fmt or DEFAULT, origin if fmt else "the default version-2 format", sink, counts, strict)
    head = raw.read(4)
    if head[:4] == _PARQUET:
        _parquet(_Prefixed(head, raw), parser)
        return
    stream = _Prefixed(head, raw)
    if head[:2] == _GZIP:
        from isal import isal_zlib

        blocks, damaged = _gunzip(stream, chunk_bytes), (EOFError, OSError, InputError, isal_zlib.error)
    else:
        # a chunk's worth at a time: a file of less is one block, parsed without joining pieces
        blocks, damaged = iter(lambda: stream.read(chunk_bytes), b""), (OSError, InputError)
    pending, size, first = [], 0, True  # the blocks of the next chunk, joined once when it is fed
    try:
        while True:
            block = next(blocks, b"")
            if not block:
                break
            if first:  # a byte order mark (Windows editors) would hide the header line
                block, first = block.removeprefix(_BOM), False
                if block.lstrip()[:1] in (b"{", b"["):
                    _json_document(block, blocks, parser)  # it reads the rest of the file
                    return
            pending.append(block)
            size += len(block)
            if size >= chunk_bytes and (cut := block.rfind(b"\n") + 1):
                pending[-1] = block[:cut]
                parser.feed_text(b"".join(pending))
                pending, size = [block[cut:]], len(block) - cut
    except damaged as exc:
        if isinstance(exc, MalformedRecordError):  # --strict: the caller stops
            raise
        data = b"".join(pending)
        good = data[: data.rfind(b"\n") + 1]
        parser.feed_text(good)
        rest = data[len(good):]
        if rest:
            counts.lines += 1
            parser._malformed(pl.DataFrame({"line": [parser.next_line], "text": [rest.decode("utf-8", "replace")],
                                            "reason": ["incomplete last line: the data ends here"]}))
        reached = parser.next_line - 1 + bool(rest)
        if isinstance(exc, InputError):  # the source broke off (a download, say); it names itself
            counts.errors.append(f"{exc} (read up to line {reached} before it)")
        else:
            counts.errors.append(f"{source}: the compressed data is truncated or corrupt ({exc}); "
                                 f"read up to line {reached} before the damage. Fetch or deliver the file again.")
        return
    parser.feed_text(b"".join(pending))


def _gunzip(stream: BinaryIO, limit: int) -> Iterator[bytes]:
    """Decompressed blocks of at most ``limit`` bytes of a (multi-member) gzip stream.
    Everything before damage is delivered first; then EOFError (truncated) or the codec's
    error (corrupt) is raised.

    A delivered object usually decompresses in one call into one block, which the caller
    parses without joining pieces (a copy and fresh pages for every byte); ``limit`` keeps a
    highly compressed stream from growing a block beyond one chunk. A call that meets damage
    returns nothing, so the member is decoded again in small steps up to the damage (from its
    start, kept while it is under _SALVAGE_BYTES)."""
    from isal import isal_zlib

    decoder, fed, data, full = isal_zlib.decompressobj(wbits=31), False, b"", False
    member, kept, delivered = [], 0, 0  # the current member's compressed bytes (while small), their size, bytes it gave
    while True:
        if not data and not full:  # a full block may leave output inside the decoder: drain it first
            data = stream.read(_GZIP_READ_BYTES)
            if not data:
                if fed and not decoder.eof:
                    raise EOFError("the data ends before the end of the gzip stream")
                return
            if member is not None:
                member.append(data)
                kept += len(data)
                if kept > _SALVAGE_BYTES:
                    member = None
        fed = True
        try:
            out = decoder.decompress(data, limit)
        except isal_zlib.error:
            if member is not None:
                yield from _salvage(b"".join(member), delivered)
            raise
        full = len(out) >= limit
        delivered += len(out)
        if out:
            yield out
        if decoder.eof:
            data = decoder.unused_data
            decoder, fed, full = isal_zlib.decompressobj(wbits=31), False, False
            member, kept, delivered = [data], len(data), 0
            if not data.strip(b"\0"):  # NUL padding after the last member
                data = b""
        else:
            data = decoder.unconsumed_tail


def _salvage(member: bytes, delivered: int) -> Iterator[bytes]:
    """What a damaged gzip member decodes to before its damage, past the ``delivered`` bytes
    already given; the codec's error follows."""
    from isal import isal_zlib

    decoder = isal_zlib.decompressobj(wbits=31)
    for at in range(0, len(member), 64 << 10):
        out = decoder.decompress(member[at:at + (64 << 10)])  # raises at the damage
        if delivered >= len(out):
            delivered -= len(out)
        else:
            yield out[delivered:]
            delivered = 0
        if decoder.eof:
            break


def _json_document(block: bytes, blocks: Iterator[bytes], parser: _Parser) -> None:
    """A whole-file JSON document (subscription envelopes, possibly concatenated as Firehose
    writes them, or a JSON array of records); JSON lines and other text go to the line reader."""
    data = block + b"".join(blocks)
    text = data.decode("utf-8", "replace")
    decoder, pos, objects, head = json.JSONDecoder(), 0, [], None
    try:
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            obj, pos = decoder.raw_decode(text, pos)
            objects.append(obj)
    except ValueError:
        # cut short (a copy or a download that stopped): known by the key it starts with
        head = _INVENTORY_HEAD.match(text) if not objects else None
        objects = [{head.group(1): None}] if head else []
    kind = _inventory_kind(objects[0]) if len(objects) == 1 else None
    if kind:
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        parser.counts.lines += lines
        fix = "give the whole file with --inventory" if head else "give it with --inventory"
        parser._malformed(pl.DataFrame({"line": [1], "text": [text.split("\n", 1)[0]],
                                        "reason": [f"this is {kind}{' cut short' if head else ''}, not flow logs: {fix}"]}),
                          lines)
        return
    if len(objects) == 1 and isinstance(objects[0], list):
        objects = objects[0]
    messages = [_messages(o) for o in objects]
    if not objects or any(m is None for m in messages) or (len(objects) > 1 and text.count("\n") >= len(objects) - 1
                                                            and all("logEvents" not in o for o in objects if isinstance(o, dict))):
        parser.feed_text(data)  # JSON lines (or not JSON at all): the line reader handles them
        return
    events = [m for ms in messages for m in ms]
    counts = parser.counts
    frame = pl.DataFrame({"line": list(range(1, len(events) + 1)), "text": events},
                         schema={"line": pl.Int64, "text": pl.String})
    counts.lines += frame.height
    blank = frame.filter(pl.col("text").str.strip_chars() == "")
    counts.blank += blank.height
    with parser._in_line_order():
        parser._tokens(parser.unwrap(frame.filter(pl.col("text").str.strip_chars() != "")), parser.fmt, parser.origin)


_INVENTORY_HEAD = re.compile(r'\s*\{\s*"(NetworkInterfaces|eniflow_inventory)"')  # how inventories start


def _inventory_kind(doc) -> str | None:
    """What inventory ``doc`` is (see inventory.py), or None: given as a SOURCE by mistake, it
    gets one sentence naming the fix, not a cryptic malformed line per line of JSON."""
    if not isinstance(doc, dict):
        return None
    if "NetworkInterfaces" in doc:
        return "'aws ec2 describe-network-interfaces' output (an ENI inventory)"
    if "eniflow_inventory" in doc:
        return "an eniflow inventory file (as 'eniflow inventory merge' writes)"
    items = doc.get("items")
    if doc.get("kind") == "PodList" or (doc.get("kind") == "List" and isinstance(items, list)
                                        and all(isinstance(i, dict) and i.get("kind") == "Pod" for i in items)):
        return "a 'kubectl get pods -o json' listing (pod addresses)"
    return None


def _parquet(stream: BinaryIO, parser: _Parser) -> None:
    """AWS's Parquet delivery (underscore names, typed) and string-typed variants; line = row number."""
    import pyarrow.parquet as pq

    data = stream.read()
    try:
        pf = pq.ParquetFile(io.BytesIO(data))
    except Exception as exc:
        raise InputError(f"{parser.source}: not a readable Parquet file ({exc}); check that the upload is complete.",
                         parser.source) from exc
    if _TRUTH_MARK in (pf.schema_arrow.metadata or {}):  # eniflow simulate's ground truth, not records
        parser.counts.warnings.append(f"{parser.source}: a simulation's ground truth file, skipped")
        return
    names = list(pf.schema_arrow.names)
    own = [n for n in names if n in _OWN_COLUMNS]
    if own:  # e.g. eniflow's own Parquet output read again: provenance is set here, per file
        parser.counts.warnings.append(f"{parser.source}: column(s) {', '.join(own)} ignored; "
                                      "eniflow sets source and line itself")
    fmt = Format(unique_names(lookup(n).name if lookup(n) else n for n in names if n not in _OWN_COLUMNS))
    unknown = fmt.unknown
    if unknown:
        parser.counts.warnings.append(f"{parser.source}: unknown column(s) {', '.join(unknown)} read as text")
    row = 1
    try:
        for batch in pf.iter_batches(batch_size=256_000, columns=[n for n in names if n not in _OWN_COLUMNS]):
            row = _parquet_batch(batch, fmt, row, parser)
    except (OSError, ValueError) as exc:  # damaged pages: keep the rows before them
        parser.counts.errors.append(f"{parser.source}: the Parquet data is damaged after row {row - 1} ({exc}); "
                                    "fetch or deliver the file again.")


def _parquet_batch(batch, fmt: Format, row: int, parser: _Parser) -> int:
    """Type one record batch like text tokens; returns the next row number."""
    batch.validate(full=True)  # damaged pages can hold invalid UTF-8, which Polars would panic on
    df = pl.from_arrow(batch)
    df.columns = list(fmt.columns)
    df = df.with_columns(pl.col(c).cast(pl.Int64, strict=False) for c, t in df.schema.items() if t.is_float())
    df = df.with_columns(pl.when(pl.col(c).is_in(_MISSING_TEXT)).then(None).otherwise(pl.col(c)).alias(c)
                         for c, t in df.schema.items() if t == pl.String and fmt.schema[c] != pl.String)
    n = df.height
    parser.counts.lines += n
    df = df.with_columns(
        line=pl.int_range(row, row + n, dtype=pl.Int64),
        text=pl.concat_str([pl.col(c).cast(pl.String).fill_null("-") for c in fmt.columns], separator=" "),
    )
    parser.typed(df.select("line", "text", *fmt.columns), fmt)
    return row + n
