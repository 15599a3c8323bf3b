"""``eniflow top`` and ``eniflow sql``: ranking and free SQL over resolved flows."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import (EndpointOpt, EngineOpt, FormatOpt, OutOpt, OutputOpt, ProfileOpt, RegionOpt, SinceOpt,
                     SourcesArg, SparkConfOpt, SparkMasterOpt, UntilOpt, app, aws_options, err)
from .read_cmd import exit_if_unreadable, report_read
from .resolve_cmd import AtOpt, InventoryOpt, _resolve


@app.command(epilog="""[bold]Examples[/bold]

  eniflow top AWSLogs/ --by dst_ip --metric bytes -n 5

  eniflow top AWSLogs/ --by local_ip --where eni=eni-0a1b2c3d4e5f67890 --since 2h

  eniflow top s3://my-bucket/AWSLogs/ --by dstport --where action=REJECT --where cidr=10.0.0.0/16

  eniflow top AWSLogs/ --by dst_ip --engine spark --spark-master spark://head:7077 --spark-conf spark.driver.memory=4g

[bold]--where[/bold] takes KEY=VALUE (several values: KEY=V1,V2) with KEY one of ip, src, dst, local, cidr,
port, srcport, dstport, protocol, action, eni; a bare value of an obvious kind (10.0.1.20, 10.0.0.0/16, 443,
REJECT, eni-..., tcp) works too. Several --where must all hold.""")
def top(
    sources: SourcesArg,
    by: Annotated[str, typer.Option("--by", help="src_ip | dst_ip | pair | local_ip | remote_ip | dstport | protocol | "
                                    "interface_id | owner | action")] = "src_ip",
    metric: Annotated[str, typer.Option("--metric", "-m", help="bytes | packets | records | flows")] = "bytes",
    n: Annotated[int, typer.Option("-n", help="How many rows.")] = 10,
    where: Annotated[Optional[list[str]], typer.Option("--where", "-w", help="Filter (repeatable); see below.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = "table",
    out: OutOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Top talkers by real (resolved) address, port, protocol, ENI, owner or action.

    A conversation logged on both ENIs is counted once. Ports and protocols are shown with
    their well-known names (443 https, 6 tcp).
    """
    from ..analyses.top import PER_ENI_KEYS, check_options, top as rank
    from ..render import write

    check_options(by, metric, n, where)
    aws = aws_options(profile, region, endpoint_url)
    if engine == "duckdb":
        resolved = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws)
        result = rank(resolved, by=by, metric=metric, n=n, where=where, since=since, until=until)
        flows = resolved.flows
    else:
        from ..engines import run_top
        from ..inventory import Inventory

        result = run_top(engine, sources, by=by, metric=metric, n=n, where=where, since=since, until=until,
                         format=format, aws=aws, inventory=Inventory.from_specs(inventory, aws, at=at),
                         spark_master=spark_master, spark_conf=spark_conf)
        flows = result.flows
        report_read(flows)

    counted = "each ENI's own records" if by in PER_ENI_KEYS else "each conversation counted once"
    write(result.relation, output, out, title=f"top {by} by {metric} ({counted})")
    err(result.note)
    exit_if_unreadable(flows)


@app.command(epilog="""[bold]Examples[/bold]

  eniflow sql AWSLogs/ -q "SELECT local_ip, resolution, count(*) FROM resolved GROUP BY ALL"

  eniflow sql AWSLogs/ --save flows.duckdb -q "SELECT count(*) FROM flows"

  eniflow sql flows.duckdb -q "SELECT * FROM resolved WHERE action = 'REJECT'" -o csv

The view [bold]flows[/bold] has one column per flow log field (log-status -> log_status) plus source and
line; [bold]resolved[/bold] adds direction, src_ip, dst_ip, local_ip, resolution, candidates, confidence,
peer_interface_id, peer_source, peer_line and owner.""")
def sql(
    sources: SourcesArg,
    query: Annotated[str, typer.Option("--query", "-q", help="DuckDB SQL over the views flows and resolved.")],
    save: Annotated[Optional[str], typer.Option("--save", help="Also keep flows and resolved as tables in this "
                                                "DuckDB database file; give it as SOURCE later.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = "table",
    out: OutOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Run DuckDB SQL over the views flows and resolved."""
    import duckdb

    from ..analyses.sql import is_duckdb_file, sql as run_sql
    from ..errors import UsageError
    from ..render import write

    aws = aws_options(profile, region, endpoint_url)
    data = sources
    if not (len(sources) == 1 and is_duckdb_file(sources[0])):
        data = _resolve(sources, format=format, since=since, until=until, inventory=inventory, at=at, aws=aws)
    relation = run_sql(data, query, save=save)
    if save:
        err(f"saved the tables flows and resolved in {save}")
    if relation is None:
        return
    try:
        write(relation, output, out, title="query result")
    except duckdb.Error as exc:
        raise UsageError(f"the query failed: {str(exc).strip().splitlines()[0]}") from None
