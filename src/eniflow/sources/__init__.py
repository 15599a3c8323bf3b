"""Where flow logs come from: local files and stdin, S3, CloudWatch Logs.

A source spec expands into :class:`Item` s, one per file, object or log stream. An item
opens as raw bytes on whichever reading thread takes it; the reader
recognises gzip and Parquet by content, so items never decode anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Protocol

from ..aws import AwsOptions

__all__ = ["Item", "Context", "expand"]


class Item(Protocol):
    name: str  # shown to users and stored in the ``source`` column
    size: int | None  # bytes, when known (used to balance work across processes)
    format: tuple[str, ...] | None  # field list known from outside (CloudWatch: DescribeFlowLogs)

    def open(self) -> BinaryIO: ...


@dataclass(frozen=True)
class Context:
    """What expanding a source may need: AWS access, a time range (Unix seconds), the --format."""

    aws: AwsOptions = field(default_factory=AwsOptions)
    since: int | None = None
    until: int | None = None
    format: tuple[str, ...] | None = None


def expand(spec: str, ctx: Context) -> Iterator[Item]:
    """Items for one source spec: path/dir/glob, '-', s3://bucket/prefix, cwl://group[/stream-prefix]."""
    if spec.startswith("s3://"):
        from .s3 import expand_s3

        return expand_s3(spec, ctx)
    if spec.startswith("cwl://"):
        from .cloudwatch import expand_cwl

        return expand_cwl(spec, ctx)
    from .local import expand_local

    return expand_local(spec, ctx)
