"""``eniflow read``: parse flow logs and write the records."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import render
from ..read import CODECS, Flows, read
from .common import (EndpointOpt, FormatOpt, OutOpt, OutputOpt, ProfileOpt, RegionOpt, SinceOpt, SourcesArg,
                     UntilOpt, app, aws_options, err)

MALFORMED_SHOWN = 5


def report_read(flows: Flows) -> None:
    """The read summary, warnings, the first malformed lines and unreadable sources, on stderr."""
    stats = flows.stats
    err(f"[dim]{stats.summary()}[/dim]")
    for warning in stats.warnings:
        err(f"warning: {warning}")
    shown = stats.malformed_samples[:MALFORMED_SHOWN]
    for sample in shown:
        err(f"malformed: {sample}")
    more = stats.malformed_beyond(shown)
    if more > 0:
        err(f"malformed: … {more} more (use --strict to stop at the first)")
    for error in stats.errors:
        err(f"eniflow: error: {error}")


def exit_if_unreadable(flows: Flows) -> None:
    """Exit 1 once the output is written when a source could not be read to its end."""
    if flows.stats.errors:
        raise typer.Exit(1)


def _fields_help() -> None:
    from rich.console import Console
    from rich.table import Table

    from ..formats import field_table

    table = Table("field", "version", "type", title="Known flow log fields")
    for row in field_table():
        table.add_row(*row)
    Console().print(table)


@app.command("read")
def read_cmd(
    sources: SourcesArg = None,
    output: OutputOpt = "table",
    out: OutOpt = None,
    format: FormatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Write at most N records.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop with exit 1 at the first malformed line.")] = False,
    compression: Annotated[str, typer.Option(
        "--compression", help="Codec of -o parquet: snappy (faster to write) or zstd (files about a fifth smaller).")] = CODECS[0],
    fields: Annotated[bool, typer.Option("--fields", help="List every known field and exit.")] = False,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Parse flow logs and write every record with typed columns.

    Each text file's header line decides its columns; header-less sources (CloudWatch Logs, stdin) use --format, else the default version-2 format. gzip and Parquet are recognised by content. A summary of what was read, and the first malformed lines with file:line, go to stderr.

    [bold]Examples[/bold]

      eniflow read AWSLogs/ -o parquet --out flows.parquet

      eniflow read s3://my-bucket/AWSLogs/ --since 2h --profile prod -o jsonl

      aws logs tail /vpc/flow | eniflow read - --format '${version} ${srcaddr} ${dstaddr}'
    """
    if fields:
        _fields_help()
        return
    if not sources:
        raise typer.BadParameter("give at least one SOURCE (a path, '-', s3://... or cwl://...)", param_hint="SOURCE")
    flows = read(sources, format=format, since=since, until=until, strict=strict,
                 aws=aws_options(profile, region, endpoint_url), progress=True, compact=output == "parquet",
                 compression=compression)
    rel = flows.relation if limit is None else flows.relation.limit(limit)
    render.write(rel, output, out, title="flow log records", files=flows.files if limit is None else None,
                 compression=compression)
    report_read(flows)
    exit_if_unreadable(flows)
