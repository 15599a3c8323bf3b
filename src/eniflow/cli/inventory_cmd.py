"""``eniflow inventory show | fetch | merge | check``: which ENI held which address, and when."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..render import write
from .common import (EndpointOpt, FormatOpt, OutOpt, OutputOpt, ProfileOpt, RegionOpt, SinceOpt, UntilOpt, app,
                     aws_options, err)
from .resolve_cmd import AtOpt, InventoryOpt, _resolve

inventory_app = typer.Typer(
    name="inventory", no_args_is_help=True, rich_markup_mode="rich",
    help="ENI inventories: show what is known (snapshots, pods, what the logs reveal), fetch the live one, "
    "merge snapshots into one file, check them against the logs.",
    epilog="""[bold]Example[/bold]

  eniflow inventory fetch --out enis-20261201T0900Z.json        # later: enis-20261201T1500Z.json
  eniflow inventory merge enis-20261201T0900Z.json enis-20261201T1500Z.json --out enis.json
  eniflow inventory check AWSLogs/ -i enis.json

  Every command that resolves takes the result with --inventory enis.json.""")
app.add_typer(inventory_app, name="inventory")

OptionalSources = Annotated[Optional[list[str]], typer.Argument(
    help="Flow logs (files, directories, globs, s3://, cwl://) whose evidence to add.", show_default=False)]


def _ownership_relation(con, inventory):
    """The ownership rows of ``inventory`` as a relation with readable times."""
    inventory.register(con, prefix="_show_")
    return con.sql("SELECT interface_id, address, is_primary, "
                   "strftime(to_timestamp(valid_from), '%Y-%m-%dT%H:%M:%SZ') AS valid_from, "
                   "strftime(to_timestamp(valid_to), '%Y-%m-%dT%H:%M:%SZ') AS valid_to, owner, source_of_fact "
                   "FROM _show_inventory ORDER BY interface_id NULLS LAST, address, valid_from NULLS FIRST")


@inventory_app.command(epilog="""[bold]Examples[/bold]

  eniflow inventory show -i enis-20261201T0900Z.json -i enis-20261201T1500Z.json

  eniflow inventory show AWSLogs/ -i enis.json -o csv

  With flow logs, adds what they reveal: each ENI's primary (source_of_fact logs:primary) and the
  addresses pkt fields or peer pairs showed it using (logs:pkt, logs:peer) with the time seen.
  Between two snapshots of an ENI each holds up to the midpoint; the first and last extend without end.""")
def show(
    sources: OptionalSources = None,
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    format: FormatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    output: OutputOpt = "table",
    out: OutOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Every (ENI, address) with the interval it was held and where the fact comes from."""
    from ..engine import connect
    from ..inventory import Inventory

    aws = aws_options(profile, region, endpoint_url)
    if not sources and not inventory:
        raise UsageError("give flow logs, --inventory, or both.")
    if sources:
        resolved = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws)
        inv = (Inventory.from_specs(inventory, aws, at=at) or Inventory()).merge(resolved.learned())
        con = resolved.con
    else:
        inv, con = Inventory.from_specs(inventory, aws, at=at), connect()
    write(_ownership_relation(con, inv), output, out, title="inventory")


@inventory_app.command(epilog="""[bold]Example[/bold]

  eniflow inventory fetch --region eu-west-1 --out enis-$(date -u +%Y%m%dT%H%MZ).json

  Calls ec2:DescribeNetworkInterfaces (all pages) and writes the same JSON as
  'aws ec2 describe-network-interfaces'. The snapshot's time is a date-time in the file's name
  (enis-20261201T0900Z.json), which copying keeps, else the file's modification time.""")
def fetch(
    out: Annotated[str, typer.Option("--out", help="Write the JSON to this file.")],
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Save the live ENI inventory (DescribeNetworkInterfaces) as a snapshot file."""
    from ..inventory import Inventory

    doc = Inventory.fetch_document(aws_options(profile, region, endpoint_url))
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, default=str)
    n = len(doc["NetworkInterfaces"])
    err(f"[dim]{n} network interface{'s' if n != 1 else ''} written to {out}[/dim]")


@inventory_app.command(epilog="""[bold]Example[/bold]

  eniflow inventory merge enis-20261201T0900Z.json enis-20261201T1500Z.json pods.json --out inventory.json

  Each snapshot keeps its time (--at, else a date-time in its name, else its modification time), so the merged file
  is time-aware and can be given to --inventory like any snapshot.""")
def merge(
    files: Annotated[list[str], typer.Argument(help="Inventory files: describe-network-interfaces, kubectl pods, eniflow.")],
    out: Annotated[str, typer.Option("--out", help="Write the merged eniflow inventory JSON to this file.")],
    at: AtOpt = None,
) -> None:
    """Merge several inventory files into one eniflow inventory file."""
    from ..inventory import Inventory

    inv = Inventory.load(files, at=at)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(inv.to_json(), f, indent=1)
    err(f"[dim]{len(inv.interfaces)} interface snapshots and {len(inv.facts)} address facts written to {out}[/dim]")


@inventory_app.command(epilog="""[bold]Example[/bold]

  eniflow inventory check AWSLogs/ -i enis.json

  lists each address the logs show an ENI using (pkt fields or a peer pair) at a time the
  inventory says the ENI did not hold it (kind not-in-snapshot) or, by pkt fields, gave it to
  another ENI (held-by-other), and primaries that differ (primary-differs). Such a snapshot is not used for
  'single' around those times: evidence wins.""")
def check(
    sources: Annotated[list[str], typer.Argument(help="Flow logs to check the inventory against.")],
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    format: FormatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    output: OutputOpt = "table",
    out: OutOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Where the flow logs contradict the inventory."""
    if not inventory:
        raise UsageError("give the inventory to check with --inventory FILE (or --inventory aws).")
    aws = aws_options(profile, region, endpoint_url)
    resolved = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws)
    rel = resolved.discrepancies()
    if output == "table":
        rel = rel.project("interface_id, address, kind, inventory_says, evidence, records, "
                          "strftime(to_timestamp(first_seen), '%Y-%m-%dT%H:%M:%SZ') AS first_seen, "
                          "strftime(to_timestamp(last_seen), '%Y-%m-%dT%H:%M:%SZ') AS last_seen")
    n = write(rel, output, out, title="logs vs inventory")
    err(f"[dim]{n} discrepanc{'ies' if n != 1 else 'y'}[/dim]")
