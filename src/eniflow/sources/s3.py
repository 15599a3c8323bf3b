"""Flow log objects in S3: ``s3://bucket/prefix`` in any of AWS's four key layouts.

AWS writes ``[folder/]AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{HH}/]``
or the Hive form ``AWSLogs/aws-account-id=/aws-service=vpcflowlogs/aws-region=/year=/month=/
day=/[hour=/]``, with objects named ``{account}_vpcflowlogs_{region}_{fl-id}_{YYYYMMDDTHHmmZ}_
{hash}.log.gz`` (or ``.log.parquet``).

Without a time range the prefix is listed flat (1,000 keys per call, streamed). With
``since``/``until`` the layout is walked one folder level at a time and only the year, month,
day and hour folders that overlap the range (widened by :data:`MARGIN`) are entered, so an
hour of a year-long log costs a handful of listings. Inside ``AWSLogs/`` only objects in a
``vpcflowlogs`` day or hour folder are flow logs; the other services that share the tree
(CloudTrail, ELB test files, ...) are skipped. Objects outside ``AWSLogs/`` (copies in a
folder of your own) are read unless empty.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Iterator

from ..aws import AwsOptions, chunk_stream, translate_client_error
from ..errors import AwsError, InputError, UsageError
from . import Context

__all__ = ["S3Object", "expand_s3", "MARGIN", "RESUMES"]

# Widening of --since/--until when choosing folders and objects by the time in their keys.
# A file named ...T1620Z holds records whose end lies within 5 minutes of 16:20 (the AWS
# docs changed which side), and a record may start up to ~12 minutes before its end (a 10
# minute aggregation window, each bound up to 60 s late). An hour covers that with room for
# late delivery and for a folder chosen by delivery time rather than by the name's time.
MARGIN = 3600

_LAYOUT = re.compile(
    r"""(?:^|/)AWSLogs/
    (?:aws-account-id=)?[^/]+/
    (?:aws-service=|service=)?vpcflowlogs/
    (?:aws-region=)?[^/]+/
    (?:year=)?\d{4}/(?:month=)?\d{2}/(?:day=)?\d{2}/
    (?:(?:hour=)?\d{2}/)?
    [^/]+$""",
    re.VERBOSE,
)
_NAME_TIME = re.compile(r"_(\d{8}T\d{4})Z_[^/]*$")
# Folders below AWSLogs/, by depth, with the Hive "name=" dropped: account, service,
# region, then the date: year, month, day and (hourly partitions) hour.
_SERVICE, _DATE, _DEEPEST = 1, 3, 7


@dataclass(frozen=True)
class S3Object:
    """One S3 object; picklable, fetched by whichever process opens it. ``format`` is the
    --format, for objects without a header line (a header line wins)."""

    aws: AwsOptions
    bucket: str
    key: str
    size: int | None = None
    format: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def open(self) -> BinaryIO:
        client = self.aws.shared_client("s3")
        return chunk_stream(_download(client, self, _get_object(client, self, self.name)))


def _get_object(client, obj: S3Object, where: str, **extra) -> dict:
    """GetObject (``extra``: Range, IfMatch); its errors become one sentence naming ``where``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return client.get_object(Bucket=obj.bucket, Key=obj.key, **extra)
    except ClientError as exc:
        if _code(exc) == "NoSuchKey":
            raise InputError(f"{where} was listed but no longer exists (deleted or expired meanwhile); "
                             "run again to read the objects there now.", source=obj.name) from None
        if _code(exc) == "InvalidObjectState":
            storage = exc.response["Error"].get("StorageClass", "an archive storage class")
            raise InputError(f"{where} is archived in {storage}; restore it (aws s3api restore-object) "
                             "and read it again.", source=obj.name) from None
        if _code(exc) == "PreconditionFailed":
            raise InputError(f"{where}: the object changed meanwhile (its ETag is no longer {extra['IfMatch']}), "
                             "so the rest was not spliced on; run again to read the new version whole.",
                             source=obj.name) from None
        raise translate_client_error(exc, "s3:GetObject", where) from None
    except BotoCoreError as exc:
        raise translate_client_error(exc, "s3:GetObject", where) from None


# A download that breaks off is resumed from the byte reached, at most this many times per
# object, after 0.1, 0.2, 0.4, ... seconds (botocore has already retried each request itself).
RESUMES = 5
_BACKOFF = 0.1


def _download(client, obj: S3Object, response: dict) -> Iterator[bytes]:
    """The object's bytes as they arrive. A broken connection is resumed with a Range GET
    from the byte reached, pinned to the first answer's ETag (IfMatch) so that a changed
    object is never spliced; the resumed bytes continue the same stream, gzip included. When
    the resumes run out or are refused, an InputError names the key and how far it got, and
    the parser keeps every whole line received."""
    from botocore.exceptions import BotoCoreError

    size, etag, received = response["ContentLength"], response["ETag"], 0
    for resume in range(RESUMES + 1):
        if resume:
            time.sleep(_BACKOFF * 2 ** (resume - 1))
            where = f"{obj.name} (resuming after {received} of {size} bytes)"
            try:
                response = _get_object(client, obj, where, Range=f"bytes={received}-", IfMatch=etag)
            except AwsError as exc:  # as an InputError, the parser keeps the lines received so far
                raise InputError(str(exc), source=obj.name) from None
        body = response["Body"]
        try:
            for chunk in body.iter_chunks(64 << 10):
                received += len(chunk)
                yield chunk
            return
        except BotoCoreError as exc:
            error = exc
        finally:
            body.close()
    raise InputError(f"{obj.name}: the download broke off after {received} of {size} bytes, also after "
                     f"{RESUMES} resumes ({error}); run again.", source=obj.name)


def expand_s3(spec: str, ctx: Context) -> Iterator[S3Object]:
    """The flow log objects under ``s3://bucket/prefix``, pruned to ``ctx.since``/``ctx.until``.

    A prefix that is exactly an object's key means that object alone, whatever its name.
    A prefix with nothing under it is an error (a typo would otherwise read nothing quietly);
    a time range that matches no object is not.
    """
    bucket, _, prefix = spec[len("s3://"):].partition("/")
    if not bucket:
        raise UsageError(f"{spec!r} names no bucket; write s3://bucket or s3://bucket/prefix.")
    client = ctx.aws.shared_client("s3")
    lo = float("-inf") if ctx.since is None else ctx.since - MARGIN
    hi = float("inf") if ctx.until is None else ctx.until + MARGIN
    timed = ctx.since is not None or ctx.until is not None
    listing = _walk(client, bucket, prefix, lo, hi) if timed else _list(client, bucket, prefix, None)
    found = False
    for index, obj in enumerate(listing):
        if obj is None:
            if index == 0:
                raise InputError(f"s3://{bucket}/{prefix} has no objects; check the prefix (keys are case-sensitive).",
                                 source=spec)
            continue
        key = obj["Key"]
        if key == prefix:
            yield S3Object(ctx.aws, bucket, key, obj.get("Size"), ctx.format)
            return
        if _is_flow_log(key, obj.get("Size")) and _name_in_range(key, lo, hi):
            found = True
            yield S3Object(ctx.aws, bucket, key, obj["Size"], ctx.format)
    if not found and not timed:
        raise InputError(f"s3://{bucket}/{prefix} holds no VPC flow log objects (inside AWSLogs/ only "
                         "AWSLogs/<account>/vpcflowlogs/<region>/<date>/ folders are read).", source=spec)


def _list(client, bucket: str, prefix: str, delimiter: str | None) -> Iterator[dict | None]:
    """Objects (dicts with "Key") and, with a delimiter, sub-folders (dicts with "Prefix")
    under ``prefix``, one page at a time. Yields None first when there is nothing."""
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"Bucket": bucket, "Prefix": prefix} | ({"Delimiter": delimiter} if delimiter else {})
    try:
        for number, page in enumerate(client.get_paginator("list_objects_v2").paginate(**kwargs)):
            if number == 0 and not page.get("KeyCount"):
                yield None
            yield from page.get("Contents", ())
            yield from page.get("CommonPrefixes", ())
    except ClientError as exc:
        where = f"S3 bucket {bucket!r}" if _code(exc) == "NoSuchBucket" else f"s3://{bucket}/{prefix}"
        raise translate_client_error(exc, "s3:ListBucket", where) from None
    except BotoCoreError as exc:
        raise translate_client_error(exc, "s3:ListBucket", f"s3://{bucket}/{prefix}") from None


def _walk(client, bucket: str, prefix: str, lo: float, hi: float, top: bool = True) -> Iterator[dict | None]:
    """Objects under ``prefix``, entering only the folders whose time span meets [lo, hi]."""
    for entry in _list(client, bucket, prefix, "/"):
        if entry is None:
            if top:
                yield None
        elif "Key" in entry:
            yield entry
        elif _worth_entering(entry["Prefix"], lo, hi):
            yield from _walk(client, bucket, entry["Prefix"], lo, hi, top=False)


def _worth_entering(folder: str, lo: float, hi: float) -> bool:
    """Whether a folder (``.../``) may hold flow logs of [lo, hi], judged by its place in the
    AWS layout: above ``AWSLogs/`` anything goes; below it only ``vpcflowlogs`` and the
    date/hour folders that overlap the range."""
    parts = folder.rstrip("/").split("/")
    if "AWSLogs" not in parts:
        return True
    levels = [p.partition("=")[2] or p for p in parts[parts.index("AWSLogs") + 1:]]
    if len(levels) > _SERVICE and levels[_SERVICE] != "vpcflowlogs":
        return False
    if len(levels) <= _DATE:
        return True
    if len(levels) > _DEEPEST:
        return False
    try:
        start, end = _span([int(v) for v in levels[_DATE:]])
    except ValueError:  # not a date folder
        return False
    return end > lo and start <= hi


def _span(date: list[int]) -> tuple[int, int]:
    """[start, end) in Unix seconds of a year, month, day or hour folder."""
    year, month, day, hour = date + [1, 1, 0][len(date) - 1:]
    start = datetime(year, month, day, hour, tzinfo=timezone.utc)
    if len(date) == 1:
        end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    elif len(date) == 2:
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    else:
        end = start + timedelta(days=1 if len(date) == 3 else 0, hours=1 if len(date) == 4 else 0)
    return int(start.timestamp()), int(end.timestamp())


def _is_flow_log(key: str, size: int | None) -> bool:
    if key.endswith("/") or not size:
        return False
    if key.startswith("AWSLogs/") or "/AWSLogs/" in key:
        return _LAYOUT.search(key) is not None
    return True


def _name_in_range(key: str, lo: float, hi: float) -> bool:
    """False only when the key carries AWS's file timestamp and it lies outside [lo, hi]."""
    match = _NAME_TIME.search(key)
    if not match:
        return True
    try:
        stamp = calendar.timegm(datetime.strptime(match.group(1), "%Y%m%dT%H%M").timetuple())
    except ValueError:
        return True
    return lo <= stamp <= hi


def _code(exc: Exception) -> str:
    return exc.response.get("Error", {}).get("Code", "")
