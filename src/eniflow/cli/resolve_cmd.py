"""``eniflow resolve``, ``eniflow flows --ip`` and ``eniflow trace``: the real address behind every record."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..render import write
from .read_cmd import exit_if_unreadable, report_read
from .common import (EndpointOpt, EngineOpt, FormatOpt, OutOpt, OutputOpt, ProfileOpt, RegionOpt, SinceOpt,
                     SourcesArg, SparkConfOpt, SparkMasterOpt, UntilOpt, app, aws_options, err)

InventoryOpt = Annotated[Optional[list[str]], typer.Option(
    "--inventory", "-i", help="ENI inventory (repeatable): 'aws ec2 describe-network-interfaces' JSON, "
    "'kubectl get pods -A -o json' JSON, an eniflow inventory file, or 'aws' for the live one.")]
AtOpt = Annotated[Optional[str], typer.Option(
    "--at", help="Time of the inventory snapshots (default: a date-time in each file's name, as in "
    "enis-20261201T0900Z.json, else its modification time).")]


def _resolve(sources, *, format, since, until, inventory, at, aws, infer=True, min_support=None):
    from ..inventory import Inventory
    from ..read import read
    from ..resolve import DEFAULT_MIN_SUPPORT, resolve

    inv = Inventory.from_specs(inventory, aws, at=at)
    flows = read(sources, format=format, since=since, until=until, aws=aws, progress=True)
    report_read(flows)
    resolved = resolve(flows, inv, infer=infer, min_support=min_support or DEFAULT_MIN_SUPPORT, progress=True)
    _report_mix(resolved)
    return resolved


def _report_mix(resolved) -> None:
    mix = ", ".join(f"{label} {n}" for label, n in resolved.summary().items() if n)
    err(f"[dim]resolution: {mix or 'no records'}[/dim]")


@app.command(epilog="""[bold]Example[/bold]

  aws ec2 describe-network-interfaces > enis.json
  eniflow resolve AWSLogs/ -i enis.json -o csv --out resolved.csv

  In the seed scenario (a client browsing a server's secondary IP 10.0.1.20) the server ENI logged
  '10.0.2.30 -> 10.0.1.10:80'; resolve gives dst_ip 10.0.1.20 and resolution peer, paired with the
  client's record of the same packets (peer_source, peer_line). The summary of labels goes to stderr.

[bold]resolution[/bold]: pkt (pkt-* fields), peer (paired with the other ENI's record), single (the ENI had one
IPv4), inferred (from this ENI's other resolved flows; see confidence), ambiguous (one of candidates),
as-logged (nothing known), none (NODATA/SKIPDATA).""")
def resolve(
    sources: SourcesArg,
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    no_infer: Annotated[bool, typer.Option("--no-infer", help="Never label a record 'inferred'.")] = False,
    min_support: Annotated[Optional[int], typer.Option(
        "--min-support", help="Resolved records of the same ENI needed to infer an address: "
        "distinct remote addresses on the same local port, else distinct local ports towards the same remote "
        "address and port (default 5); the address needs 80 % of them too, more than chance would give.")] = None,
    format: FormatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    output: OutputOpt = "table",
    out: OutOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Every record with its real source, destination and local address, and how each is known."""
    aws = aws_options(profile, region, endpoint_url)
    if engine == "duckdb":
        resolved = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws,
                            infer=not no_infer, min_support=min_support)
    else:
        from ..engines import run_resolve
        from ..inventory import Inventory

        resolved = run_resolve(engine, sources, format=format, since=since, until=until, aws=aws,
                               inventory=Inventory.from_specs(inventory, aws, at=at), infer=not no_infer,
                               min_support=min_support, spark_master=spark_master, spark_conf=spark_conf)
        report_read(resolved.flows)
        _report_mix(resolved)
    write(resolved.relation, output, out, title="resolved records")
    exit_if_unreadable(resolved.flows)


@app.command(epilog="""[bold]Example[/bold]

  eniflow flows AWSLogs/ --ip 10.0.1.20 --port 80

  lists the server ENI's records that AWS logged with the primary 10.0.1.10 but that really went to
  10.0.1.20 (masked = true), beside the client's records that show 10.0.1.20 itself. match: src / dst
  (the IP is the real source / destination) or candidate (ambiguous, the IP one of the possible
  local addresses, or as-logged with the IP the logged local address: the packet may have used
  another of the ENI's addresses), shown in the table as note 'maybe'.""")
def flows(
    sources: SourcesArg,
    ip: Annotated[str, typer.Option("--ip", help="The address to look for (real source or destination).")],
    port: Annotated[Optional[int], typer.Option("--port", help="Only records with this source or destination port.")] = None,
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
    """Every record whose real source or destination is IP, the masked ones included."""
    from ..analyses.flows_for_ip import check_options, flows_for_ip
    from ..render import check_format

    check_options(ip, port), check_format(output)  # bad options fail before reading anything
    aws = aws_options(profile, region, endpoint_url)
    resolved = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws)
    rel = flows_for_ip(resolved, ip, port=port)
    if output == "table":  # the essentials, so that the table fits a terminal
        rel = rel.project("strftime(to_timestamp(\"start\"), '%Y-%m-%d %H:%M:%S') AS start_utc, interface_id AS eni, "
                          "direction AS dir, src_ip || ':' || srcport || ' -> ' || dst_ip || ':' || dstport AS truth, "
                          "srcaddr || ' -> ' || dstaddr AS logged, "
                          "CASE WHEN match = 'candidate' THEN 'maybe' WHEN masked THEN 'masked' ELSE '' END AS note, "
                          "resolution AS how")
    rows = write(rel, output, out, title=f"records to or from {ip}" + (f" port {port}" if port is not None else ""))
    err(f"[dim]{rows} record{'s' if rows != 1 else ''}[/dim]")
    exit_if_unreadable(resolved.flows)


@app.command(epilog="""[bold]Example[/bold]

  eniflow trace client.log server.log --from 10.0.2.30 --to 10.0.1.20:80

  one row per window and direction: the sender ENI's egress record beside the receiver ENI's ingress
  record it was paired with, what each logged (the server logged 10.0.1.10, its primary) and the
  truth (src_ip -> dst_ip).""")
def trace(
    sources: SourcesArg,
    src: Annotated[str, typer.Option("--from", help="One end: IP (or IP:PORT).")],
    dst: Annotated[str, typer.Option("--to", help="The other end: IP or IP:PORT (the port it listens on).")],
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
    """Both sides of the conversation between two addresses, paired, in time order."""
    from ..analyses.trace import parse_endpoint, trace as run_trace
    from ..render import check_format

    parse_endpoint(src), parse_endpoint(dst), check_format(output)  # bad options fail before reading anything
    aws = aws_options(profile, region, endpoint_url)
    resolved = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws)
    rel = run_trace(resolved, src, dst)
    if output == "table":
        _trace_table(rel, src, dst, out)
    else:
        write(rel, output, out)
    exit_if_unreadable(resolved.flows)


def _trace_table(rel, src: str, dst: str, out: str | None) -> None:
    """Time, truth, then each side's ENI / logged addresses / resolution, in a Rich table."""
    from datetime import datetime, timezone

    import sys

    from rich.table import Table

    from ..render import TABLE_ROWS, _open, table_console

    rows = rel.fetchall()
    day = next((datetime.fromtimestamp(r[0], timezone.utc).strftime(" on %Y-%m-%d") for r in rows if r[0]), "")
    table = Table(title=f"trace {src} <-> {dst}{day}", header_style="bold")
    for name in ("UTC", "truth", "sender ENI", "sender logged", "how", "receiver ENI", "receiver logged", "how",
                 "packets", "action"):
        table.add_column(name, overflow="fold", no_wrap=name not in ("packets", "action"))
    total = 0
    for r in rows:
        total += 1
        if total > TABLE_ROWS:
            continue
        d = dict(zip(rel.columns, r))
        when = datetime.fromtimestamp(d["start"], timezone.utc).strftime("%H:%M:%S") if d["start"] else ""
        truth = f"{d['src_ip']}:{d['srcport']} -> {d['dst_ip']}:{d['dstport']}"
        table.add_row(when, truth, d["sender_eni"] or "[dim]not logged[/dim]", d["sender_logged"] or "",
                      d["sender_resolution"] or "", d["receiver_eni"] or "[dim]not logged[/dim]",
                      d["receiver_logged"] or "", d["receiver_resolution"] or "",
                      str(d["sender_packets"] if d["sender_packets"] is not None else d["receiver_packets"]),
                      d["sender_action"] or d["receiver_action"] or "")
    console = table_console(_open(out, "w") if out else sys.stdout)
    console.print(table)
    if total > TABLE_ROWS:
        console.print(f"[dim]… {total - TABLE_ROWS} more rows; use -o jsonl/csv/parquet for all of them[/dim]")
    err(f"[dim]{total} row{'s' if total != 1 else ''}[/dim]")
