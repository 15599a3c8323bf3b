"""Flow logs in CloudWatch Logs: ``cwl://log-group[/stream-prefix]``, one item per log stream.

Log group names may contain ``/`` (``/aws/vpc/flowlogs``), so the path after ``cwl://`` is
read as the longest existing log group, and whatever follows its ``/`` as a stream name
prefix: ``cwl:///aws/vpc/flowlogs/eni-0abc`` is group ``/aws/vpc/flowlogs``, streams
``eni-0abc*`` (unless a group of that whole name exists).

Events carry no header line, so each item's format is the ``LogFormat`` of the flow log
that delivers to the group (``ec2:DescribeFlowLogs``, asked once per group), else
``--format``, else none (the reader's default version 2 format).
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, Callable, Iterator

from ..aws import AwsOptions, chunk_stream, translate_client_error
from ..errors import AwsNotFound, InputError, UsageError
from . import Context

__all__ = ["LogStream", "expand_cwl", "MARGIN"]

# Widening of --since/--until when choosing streams and events. An event's timestamp is
# its record's start, which may lie up to ~12 minutes before the record's end (10 minute
# aggregation window, each bound up to 60 s late); the reader filters the records exactly.
MARGIN = 900


@dataclass(frozen=True)
class LogStream:
    """One log stream's events between ``start_ms`` and ``end_ms``; picklable."""

    aws: AwsOptions
    group: str
    stream: str
    format: tuple[str, ...] | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    size: int | None = None

    @property
    def name(self) -> str:
        return f"cwl://{self.group}/{self.stream}"

    def open(self) -> BinaryIO:
        """The event messages, one per line, fetched page by page as the reader consumes them."""
        logs = self.aws.shared_client("logs")
        kwargs = {"logGroupName": self.group, "logStreamNames": [self.stream]}
        if self.start_ms is not None:
            kwargs["startTime"] = self.start_ms
        if self.end_ms is not None:
            kwargs["endTime"] = self.end_ms
        pages = _pages(logs.filter_log_events, "logs:FilterLogEvents", self.name, kwargs)
        return chunk_stream(_lines(pages, self.name))


def _lines(pages: Iterator[dict], name: str) -> Iterator[bytes]:
    try:
        for page in pages:
            if page["events"]:
                yield "".join(event["message"] + "\n" for event in page["events"]).encode()
    except AwsNotFound:
        raise InputError(f"{name} was listed but no longer exists (deleted or expired meanwhile); "
                         "run again to read the streams there now.", source=name) from None


def _pages(call: Callable, action: str, where: str, kwargs: dict) -> Iterator[dict]:
    """Pages of a CloudWatch Logs call, following nextToken until it is absent or repeats
    (FilterLogEvents and DescribeLogStreams end that way). A page that answers a token with the
    same token is the end (not read twice); a token seen before ends a cycle."""
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs, seen = dict(kwargs), set()
    while True:
        try:
            page = call(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, action, where) from None
        token = page.get("nextToken")
        if kwargs.get("nextToken") is not None and kwargs["nextToken"] == token:
            return  # the last page repeats its own token: its events were already read
        yield page
        if not token or token in seen:
            return
        seen.add(token)
        kwargs["nextToken"] = token


def expand_cwl(spec: str, ctx: Context) -> Iterator[LogStream]:
    """The log streams of ``cwl://log-group[/stream-prefix]`` with events in the time range."""
    path = spec[len("cwl://"):]
    if not path.strip("/"):
        raise UsageError(f"{spec!r} names no log group; write cwl://LOG-GROUP or cwl://LOG-GROUP/STREAM-PREFIX.")
    logs = ctx.aws.shared_client("logs")
    group, streams = _locate(logs, path)
    fmt = _flow_log_format(ctx.aws, group, ctx.format) or ctx.format
    lo = None if ctx.since is None else max(0, ctx.since - MARGIN) * 1000
    hi = None if ctx.until is None else (ctx.until + MARGIN) * 1000
    for stream in streams:
        # AWS updates lastEventTimestamp only eventually, so a stream is skipped as too old
        # only when its last ingestion is too old as well.
        last = max(stream.get("lastEventTimestamp", 0), stream.get("lastIngestionTime", 0)) or None
        first = stream.get("firstEventTimestamp")
        if lo is not None and last is not None and last < lo:
            continue
        if hi is not None and first is not None and first > hi:
            continue
        yield LogStream(ctx.aws, group, stream["logStreamName"], fmt, lo, hi, stream.get("storedBytes") or None)


def _locate(logs, path: str) -> tuple[str, Iterator[dict]]:
    """The log group named by ``path`` (the longest existing one) and its matching streams."""
    splits = [i for i, c in enumerate(path) if c == "/" and path[:i].strip("/")]
    for group, prefix in [(path, "")] + [(path[:i], path[i + 1:]) for i in reversed(splits)]:
        kwargs = {"logGroupName": group} | ({"logStreamNamePrefix": prefix} if prefix else {})
        pages = _pages(logs.describe_log_streams, "logs:DescribeLogStreams", f"log group {group!r}", kwargs)
        try:
            first = next(pages)
        except AwsNotFound:
            continue
        return group, (stream for page in chain([first], pages) for stream in page.get("logStreams", ()))
    raise AwsNotFound(f"CloudWatch log group {path!r} does not exist in {logs.meta.region_name}"
                      f"{_similar_groups(logs, path)}; check the name and --region.",
                      "logs:DescribeLogStreams", f"cwl://{path}")


def _similar_groups(logs, path: str) -> str:
    """`` (similar: a, b)`` from the region's first thousand log groups, or '' when none are
    close or listing them is not allowed."""
    from botocore.exceptions import BotoCoreError, ClientError

    names = []
    try:
        for page in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"MaxItems": 1000}):
            names += [g["logGroupName"] for g in page.get("logGroups", ())]
    except (ClientError, BotoCoreError):
        return ""
    close = difflib.get_close_matches(path, names, n=3, cutoff=0.6)
    return f" (similar: {', '.join(close)})" if close else ""


def _flow_log_format(aws: AwsOptions, group: str, given: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The field list of the flow log(s) delivering to ``group``, or None with a warning when
    DescribeFlowLogs is not allowed or finds none. Several flow logs with different formats:
    the newest one's, with a warning."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..formats import header_fields

    fallback = "--format" if given else "the default version 2 format"
    try:
        pages = aws.shared_client("ec2").get_paginator("describe_flow_logs").paginate(
            Filters=[{"Name": "log-group-name", "Values": [group]}])
        flow_logs = [fl for page in pages for fl in page.get("FlowLogs", ())]
    except (ClientError, BotoCoreError) as exc:
        reason = translate_client_error(exc, "ec2:DescribeFlowLogs", f"flow logs of log group {group!r}")
        warnings.warn(f"{reason} Reading cwl://{group} with {fallback}.", stacklevel=2)
        return None
    flow_logs.sort(key=lambda fl: fl.get("CreationTime") or 0, reverse=True)
    found = [(fl["FlowLogId"], fmt.names) for fl in flow_logs if (fmt := header_fields(fl.get("LogFormat") or ""))]
    if not found:
        if not given:
            warnings.warn(f"no flow log delivering to log group {group!r} was found (ec2:DescribeFlowLogs); "
                          f"reading cwl://{group} with {fallback}; pass --format if that is wrong.", stacklevel=2)
        return None
    newest, fields = found[0]
    if len({names for _, names in found}) > 1:
        warnings.warn(f"flow logs {', '.join(fl_id for fl_id, _ in found)} deliver to log group {group!r} "
                      f"in different formats; using the newest ({newest}).", stacklevel=2)
    if given and given != fields:
        warnings.warn(f"cwl://{group}: using the format of flow log {newest}, not --format.", stacklevel=2)
    return fields
