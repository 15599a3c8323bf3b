"""``eniflow report``: one self-contained HTML report of resolved flows."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import EndpointOpt, FormatOpt, ProfileOpt, RegionOpt, SinceOpt, SourcesArg, UntilOpt, app, aws_options, err
from .read_cmd import exit_if_unreadable, report_read
from .resolve_cmd import AtOpt, InventoryOpt


@app.command(epilog="""[bold]Examples[/bold]

  eniflow report AWSLogs/ --html report.html

  eniflow report s3://my-bucket/AWSLogs/ --since 1d -i enis.json -i pods.json --html report.html

The file carries its style, script and charts inline: it opens offline and can be mailed as is.""")
def report(
    sources: SourcesArg,
    html: Annotated[str, typer.Option("--html", help="Write the report to this file.")],
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    title: Annotated[str, typer.Option("--title", help="Heading of the report.")] = "eniflow report",
    since: SinceOpt = None,
    until: UntilOpt = None,
    format: FormatOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Write an HTML report: summary and gaps, ENIs and their addresses, traffic charts, top talkers,
    conversations seen from both sides, rejected traffic with its likely cause, malformed input."""
    from ..inventory import Inventory
    from ..read import read
    from ..report import report as build
    from ..resolve import resolve

    aws = aws_options(profile, region, endpoint_url)
    inv = Inventory.from_specs(inventory, aws, at=at)
    flows = read(sources, format=format, since=since, until=until, aws=aws, progress=True)
    report_read(flows)
    build(resolve(flows, inv, progress=True), html, inventory=inv, stats=flows.stats, title=title, sources=list(sources))
    err(f"wrote the report to {html}")
    exit_if_unreadable(flows)
