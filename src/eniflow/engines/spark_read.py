"""Read flow logs into a Spark DataFrame with eniflow.read's rules, in Spark's own columnar operations.

Text (plain or gzip): each file is read whole (``wholetext``: a gzip file cannot be split
anyway) and exploded into numbered lines; a header line sets the format of the lines after it
in its file (a file without one uses ``--format`` or the default), lines are split on runs of
whitespace, ``-`` is NULL, integers are typed, millisecond times become seconds, and a line
with the wrong number of fields or a non-integer in an integer field is counted as malformed.
Parquet (AWS's layout: underscore names, typed): columns mapped through the field registry,
``line`` = row number in the file.

Sources: local paths, directories and globs (listed on the driver as eniflow.read lists them),
``s3a://``/``s3://`` read by Spark itself when it has an S3 filesystem (hadoop-aws), otherwise
fetched on the driver through boto3 (eniflow's S3 source, with its --since pruning) into a spool
directory. An object whose download fails (access denied, deleted since the listing, broken
off after the resumes) does not stop the read: eniflow.read's own task reads it from what
arrived, exactly as the DuckDB engine would have (the object named in ``stats.errors`` in the
same sentence, every whole line received kept), and Spark reads the rest. JSON envelopes and
CloudWatch Logs are read by the DuckDB engine only.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from typing import Sequence

from ..aws import AwsOptions, chunk_stream
from ..errors import EniflowError
from ..fields import FIELDS, lookup
from ..formats import DEFAULT, Format, header_fields, parse_format
from ..parse import _MS_EPOCH, MALFORMED_KEPT, Malformed, ReadStats, strict_stop
from ..sources import Context, expand
from ..times import parse_time

__all__ = ["read_spark", "SparkFlows"]

_HEADER_PATTERN = r"^\s*[$]?[{]?[a-z][a-z0-9]*([-_][a-z0-9]+)*[}]?(\s+[$]?[{]?[a-z][a-z0-9]*([-_][a-z0-9]+)*[}]?)*\s*$"
_ORDER = {f.column: i for i, f in enumerate(FIELDS)}
_SPARK_TYPES = {"int32": "INT", "int64": "BIGINT", "string": "STRING"}


@dataclass
class SparkFlows:
    """The records on Spark: ``df`` (also the temp view ``flows``), ``relation``/``con`` for
    eniflow's SQL modules, and the same :class:`ReadStats` as eniflow.read."""

    df: object
    stats: ReadStats
    con: object
    spool: str | None = None

    def __post_init__(self) -> None:
        # The spool (S3 copies among it) goes when nothing holds the result any more, or at
        # interpreter exit, so that no caller has to close() it (the CLI never does). Spark is
        # done with it by then: read_spark ends with an eager localCheckpoint.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.spool, True) if self.spool else None

    @property
    def relation(self):
        return self.con.view("flows")

    @property
    def columns(self) -> list[str]:
        return list(self.df.columns)

    def close(self) -> None:
        """Delete the spool now rather than when the result is released."""
        if self._cleanup:
            self._cleanup()


def read_spark(spark, sources: str | Sequence[str], *, format=None, since=None, until=None, strict: bool = False,
               aws: AwsOptions | None = None) -> SparkFlows:
    """Flow logs from local paths and S3 as a Spark DataFrame (see the module docstring)."""
    from .spark import SparkConnection

    specs = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    fmt = parse_format(format) if format is not None else None
    ctx = Context(aws or AwsOptions(), parse_time(since), parse_time(until), fmt.names if fmt else None)
    spool = tempfile.mkdtemp(prefix="eniflow-spark-", dir=os.environ.get("ENIFLOW_TMP"))  # where read() spools
    try:
        text, parquet, names = [], [], {}  # URIs for Spark, and their names in the `source` column
        read_here: list[str] = []  # Parquet parts of the objects whose download failed, read by eniflow.read's task
        stats = ReadStats()
        places: dict[str, int] = {}  # each source's place in the listing (an s3a:// spec's: its objects')

        def place(name: str) -> int:
            """Where ``name`` was listed: the malformed samples, and so --strict, follow it, as in eniflow.read."""
            if name in places:
                return places[name]
            under = [spec for spec in places if name.startswith(spec)]  # an object Spark listed under an s3a:// spec
            return places[max(under, key=len)] if under else len(places)

        for spec in map(str, specs):
            if spec.startswith(("s3a://", "s3://")) and _has_s3_filesystem(spark):
                uri = "s3a://" + spec.split("://", 1)[1]
                places.setdefault("s3://" + spec.split("://", 1)[1], len(places))  # its objects are named s3://
                text.append(uri)  # Parquet objects are told apart by name below
                continue
            for item in expand(spec, ctx):
                places.setdefault(item.name, len(places))
                path = _local_copy(item, spool, ctx, place, stats, read_here)
                if path is None:
                    continue
                stats.files += 1
                kind = _sniff(path)
                uri = "file://" + os.path.abspath(path) if kind != "gzip" or path.endswith(".gz") else \
                    "file://" + _gz_link(path, spool)
                names[uri] = item.name
                (parquet if kind == "parquet" else text).append(uri)
        parts = []
        default = fmt or DEFAULT

        def here(uri: str) -> None:  # a listed file Spark cannot read (already counted in stats.files)
            _read_here(_local(uri, names, ctx), ctx, place, spool, stats, read_here, counted=True)

        if text:
            origin = "--format" if fmt else "the default version-2 format"
            parts.append(_read_text_or_here(spark, text, names, default, origin, stats, place, here))
        if parquet:
            parts.append(_read_parquet(spark, parquet, names, stats, here))
        if strict and stats.malformed_samples:  # the first malformed line of all the sources, in their order
            raise strict_stop(stats.malformed_samples[0])
        if read_here:  # already counted in stats; each part in its own schema
            parts.append([spark.read.parquet("file://" + os.path.abspath(path)) for path in read_here])
        df = _union(spark, parts, default)
        if ctx.since is not None and "end" in df.columns:
            df = df.where(f"`end` IS NULL OR `end` >= {int(ctx.since)}")
        if ctx.until is not None and "start" in df.columns:
            df = df.where(f"`start` IS NULL OR `start` < {int(ctx.until)}")
        # Materialised once in (source, line) order: every later scan numbers the records alike.
        df = df.localCheckpoint(eager=True)
        con = SparkConnection(spark)
        df.createOrReplaceTempView("flows")
    except BaseException:
        shutil.rmtree(spool, True)
        raise
    return SparkFlows(df, stats, con, spool)


def _has_s3_filesystem(spark) -> bool:
    try:
        spark._jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
        return True
    except Exception:
        return False


def _local_copy(item, spool: str, ctx, place, stats: ReadStats, read_here: list[str]) -> str | None:
    """A local file's path, or an S3 object fetched into the spool for Spark to read.

    When the download fails (at GetObject, or broken off midway and not resumed), the object is
    read here instead, by eniflow.read's own task, from a replay of the download: the bytes that
    arrived, then the same error. So the DuckDB engine's rules apply unchanged (the error named
    in one sentence with what was read, whole lines kept, the cut line malformed, gzip
    decompressed as far as it goes), its counts go to ``stats``, its records to a Parquet part in
    ``read_here``, and None is returned."""
    if os.path.exists(item.name):
        return item.name
    target = os.path.join(spool, f"{len(os.listdir(spool))}-{os.path.basename(item.name)}")
    received = None
    try:
        src = item.open()
        received = target
        with src, open(target, "wb") as dst:
            while chunk := src.read1(1 << 20):  # read1: every byte that arrived is written before an error
                dst.write(chunk)
    except EniflowError as exc:
        _read_here(_Replay(item, received, exc), ctx, place, spool, stats, read_here)
        return None
    return target


def _read_here(item, ctx, place, spool: str, stats: ReadStats, read_here: list[str], counted: bool = False) -> None:
    """Read ``item`` with eniflow.read's own task (the DuckDB engine's rules for damaged input):
    its counts and errors go to ``stats`` (``counted``: the file is in stats.files already), its
    records to Parquet parts listed in ``read_here``. Not strict: read_spark raises for the
    first malformed line of all once every source is read."""
    from ..read import _run_task

    task_stats, parts = _run_task([item], ctx, False, spool, False)
    task_stats.files -= counted
    stats.merge(task_stats, _in_listed_order(place))
    read_here.extend(path for path, _ in parts)


def _local(uri: str, names: dict[str, str], ctx) -> "_Replay":
    """The file behind a ``file://`` URI given to Spark, as the item it was listed as."""
    return _Replay(_Listed(names[uri], ctx.format), uri[len("file://"):], None)


@dataclass(frozen=True)
class _Listed:
    name: str
    format: tuple[str, ...] | None
    size: int | None = None


def _spark_errors() -> tuple[type, ...]:
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException
    except ModuleNotFoundError:  # no PySpark: nothing here runs anyway
        return ()
    return Py4JJavaError, PySparkException


_SPARK_ERRORS = _spark_errors()
# What Spark says when a file cannot be read (FAILED_READ_FILE), and which file.
_FAILED_FILE = re.compile(r"error while reading file (file:\S+?)\.?(?:\s|$)")


def _failed_file(exc: Exception, uris: list[str]) -> str | None:
    """The URI among ``uris`` that Spark's error names as unreadable, if any."""
    match = _FAILED_FILE.search(str(exc))
    if match is None:
        return None
    named = match.group(1).replace("file:///", "file:/").replace("file:/", "file:///", 1)
    return named if named in uris else None


@dataclass(frozen=True)
class _Replay:
    """A listed item as eniflow.read's task would have met it, from what is on disk: ``open()``
    raises ``error`` (a failed GetObject), or gives the bytes in ``path`` (what arrived) and then
    raises ``error``, if any (a download broken off)."""

    item: object
    path: str | None
    error: EniflowError | None

    @property
    def name(self) -> str:
        return self.item.name

    @property
    def size(self) -> int | None:
        return self.item.size

    @property
    def format(self):
        return self.item.format

    def open(self):
        if self.path is None:
            raise self.error
        return chunk_stream(self._chunks())

    def _chunks(self):
        with open(self.path, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk
        if self.error is not None:
            raise self.error


def _sniff(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    return "parquet" if head == b"PAR1" else "gzip" if head[:2] == b"\x1f\x8b" else "text"


def _gz_link(path: str, spool: str) -> str:
    """Spark picks the codec by file name: gzip content under another name gets a .gz link."""
    link = os.path.join(spool, f"{len(os.listdir(spool))}.gz")
    os.symlink(os.path.abspath(path), link)
    return link


def _named(spark, df, names: dict[str, str]):
    """``df`` with ``source``: each file named as eniflow.read names it (the path as listed,
    s3://bucket/key), through a broadcast join on the path Spark reports."""
    from pyspark.sql import functions as F

    listed = spark.createDataFrame([("file:" + uri[len("file://"):], name) for uri, name in names.items()]
                                   or [("", "")], "_path STRING, _name STRING")
    df = df.withColumn("_path", F.col("_metadata.file_path"))
    return df.join(F.broadcast(listed), "_path", "left").withColumn(
        "source", F.coalesce("_name", F.regexp_replace("_path", "^s3a://", "s3://"))).drop("_path", "_name")


def _read_text_or_here(spark, uris, names, default: Format, origin: str, stats: ReadStats, place, here):
    """_read_text; a file Spark cannot read (a truncated or corrupt gzip file: Hadoop's codec
    fails the whole job) is taken out and read by ``here`` (eniflow.read's task), then again."""
    uris = list(uris)
    while True:
        attempt = ReadStats()
        try:
            frames = _read_text(spark, uris, names, default, origin, attempt, place) if uris else []
        except _SPARK_ERRORS as exc:
            failed = _failed_file(exc, uris)
            if failed is None:
                raise
            uris.remove(failed)
            here(failed)
            continue
        stats.merge(attempt, _in_listed_order(place))
        return frames


def _read_text(spark, uris, names, default: Format, origin_of_default: str, stats: ReadStats, place):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    files = _named(spark, spark.read.text(uris, wholetext=True, recursiveFileLookup=True), names).select(
        "source", F.regexp_replace("value", "\n$", "").alias("value"))
    lines = files.select("source", F.posexplode(F.split("value", "\n")).alias("pos", "text")).select(
        "source", (F.col("pos") + 1).cast("bigint").alias("line"), F.regexp_replace("text", "\r$", "").alias("text"))
    lines = lines.withColumn("candidate", F.col("text").rlike(_HEADER_PATTERN)).localCheckpoint(eager=True)
    # Header candidates are few: confirm each on the driver with eniflow.formats.header_fields.
    formats = {}
    for (text,) in lines.where("candidate").select("text").distinct().collect():
        header = header_fields(text)
        if header is not None:
            formats[text] = header
    is_header = F.col("text").isin(list(formats)) if formats else F.lit(False)
    blank = F.trim("text") == ""
    counts = lines.agg(F.count("*"), F.sum(is_header.cast("int")), F.sum(blank.cast("int"))).first()
    stats.lines += counts[0]
    stats.headers += counts[1] or 0
    stats.blank += counts[2] or 0
    scope = Window.partitionBy("source").orderBy("line").rowsBetween(Window.unboundedPreceding, 0)
    records = (lines.withColumn("header", F.last(F.when(is_header, F.col("text")), ignorenulls=True).over(scope))
               .withColumn("header_line", F.last(F.when(is_header, F.col("line")), ignorenulls=True).over(scope))
               .where(~is_header & ~blank)
               .withColumn("parts", F.split(F.trim(F.regexp_replace("text", r"\s+", " ")), " ")))
    typed = []
    for header, fmt in [(None, default), *formats.items()]:
        origin = F.lit(origin_of_default) if header is None else \
            F.format_string("the header on line %d", F.col("header_line"))
        rows = records.where(F.col("header").isNull() if header is None else F.col("header") == header)
        if not rows.isEmpty():  # a format with no records adds no columns, as in eniflow.read
            typed.append(_typed(rows, fmt, origin))
    return _account(typed, stats, place)


def _typed(rows, fmt: Format, origin):
    """Rows with ``parts`` -> (typed columns, reason): reason set for malformed lines."""
    from pyspark.sql import functions as F

    n = len(fmt)
    cols, fails = [], []
    for i, (name, column) in enumerate(zip(fmt.names, fmt.columns)):
        raw = F.get(F.col("parts"), i)
        value = F.when(raw.isin("-", ""), F.lit(None)).otherwise(raw)
        kind = lookup(name).kind if lookup(name) else "string"
        if kind == "string":
            cols.append(value.alias(column))
            continue
        number = F.when(value.rlike(r"^[+-]?[0-9]+$"), value).try_cast(_SPARK_TYPES[kind])
        if column in ("start", "end"):
            number = F.when(number > _MS_EPOCH, F.floor(number / 1000)).otherwise(number).cast("bigint")
        cols.append(number.alias(column))
        fails.append(F.when(value.isNotNull() & number.isNull(),
                            F.format_string(f"field '{name}' is not an integer: '%s'", value)))
    size = F.size("parts")
    reason = F.when(size != n, F.format_string(f"expected {n} fields (%s), found %d", origin, size))
    reason = F.coalesce(reason, *fails) if fails else reason
    return rows.select(*cols, "source", "line", "text", reason.alias("reason"))


def _account(frames, stats: ReadStats, place):
    """Count records by status and malformed lines, keeping the first ones of all the frames
    (one a format) in eniflow.read's order, sources as listed (``place``) then line; return
    the good rows."""
    from pyspark.sql import functions as F

    good, first = [], []
    for frame in frames:
        frame = frame.localCheckpoint(eager=True)
        bad = frame.where(F.col("reason").isNotNull())
        nbad = bad.count()
        if nbad:
            stats.malformed += nbad
            placed = bad.sparkSession.createDataFrame(  # a row a faulty file
                [(s, place(s)) for (s,) in bad.select("source").distinct().collect()], "source STRING, _place INT")
            first += (bad.join(F.broadcast(placed), "source").orderBy("_place", "line").limit(MALFORMED_KEPT)
                      .select("source", "line", "reason", "text").collect())
        ok = frame.where(F.col("reason").isNull()).drop("reason", "text")
        _count_status(ok, stats)
        good.append(ok)
    samples = [Malformed(s, ln, r, t[:500]) for s, ln, r, t in first]
    stats.malformed_samples[:] = sorted(samples, key=_in_listed_order(place))[:MALFORMED_KEPT]
    return good


def _in_listed_order(place):
    """A sort key of malformed samples: sources in the order they were listed, then line."""
    return lambda m: (place(m.source), m.line)


def _count_status(df, stats: ReadStats) -> None:
    from pyspark.sql import functions as F

    if "log_status" in df.columns:
        row = df.agg(F.count("*"), F.sum((F.col("log_status") == "NODATA").cast("int")),
                     F.sum((F.col("log_status") == "SKIPDATA").cast("int"))).first()
        total, nodata, skipdata = row[0], row[1] or 0, row[2] or 0
    else:
        total, nodata, skipdata = df.count(), 0, 0
    stats.records += total - nodata - skipdata
    stats.nodata += nodata
    stats.skipdata += skipdata


def _read_parquet(spark, uris, names, stats: ReadStats, here):
    """Each file in its own schema; one Spark cannot read (damaged footer or pages) is read by
    ``here`` (eniflow.read's task: the rows before the damage, the file named in stats.errors)."""
    frames = []
    for uri in uris:  # each file its own schema (formats differ between flow logs)
        try:
            out = _parquet_frame(spark, uri, names).localCheckpoint(eager=True)  # every page decoded here
        except _SPARK_ERRORS:  # e.g. a damaged footer (AnalysisException) or page (a Java error)
            here(uri)
            continue
        stats.lines += out.count()
        _count_status(out, stats)
        frames.append(out)
    return frames


def _parquet_frame(spark, uri, names):
    """One AWS Parquet file as eniflow's typed columns, with source and line (its row number)."""
    from pyspark.sql import functions as F

    df = spark.read.parquet(uri)
    fmt = Format(tuple(lookup(c).name if lookup(c) else c for c in df.columns))
    cols = []
    for name, column, original in zip(fmt.names, fmt.columns, df.columns):
        kind = lookup(name).kind if lookup(name) else "string"
        value = F.col(f"`{original}`")
        if kind == "string":
            cols.append(F.when(value.cast("string") == "-", None).otherwise(value.cast("string")).alias(column))
        else:
            number = value.cast("string").try_cast("double").cast("bigint").cast(_SPARK_TYPES[kind])
            if column in ("start", "end"):
                number = F.when(number > _MS_EPOCH, F.floor(number / 1000)).otherwise(number).cast("bigint")
            cols.append(number.alias(column))
    df = df.select("*", (F.col("_metadata.row_index") + 1).cast("bigint").alias("line"))
    return _named(spark, df, names).select(*cols, "source", "line")


def _union(spark, parts, default: Format):
    """One DataFrame: every column seen, in the registry's order, then source and line."""
    frames = [f for group in parts for f in group]
    if not frames:
        schema = ", ".join(f"`{c}` {_SPARK_TYPES[lookup(c).kind]}" for c in default.columns)
        return spark.createDataFrame([], f"{schema}, source STRING, line BIGINT")
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other, allowMissingColumns=True)
    names = [c for c in df.columns if c not in ("source", "line")]
    ordered = sorted(names, key=lambda c: (_ORDER.get(c, len(_ORDER)), names.index(c)))
    return df.select(*[f"`{c}`" for c in ordered], "source", "line").orderBy("source", "line")
