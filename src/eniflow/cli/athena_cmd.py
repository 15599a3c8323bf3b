"""``eniflow athena ddl`` and ``eniflow athena sql``: flow logs in S3, queried where they are."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import FormatOpt, app
from .resolve_cmd import AtOpt, InventoryOpt

athena_app = typer.Typer(
    name="athena", no_args_is_help=True, rich_markup_mode="rich",
    help="Athena: a table over flow logs in S3 (partition projection) and eniflow's analyses as Trino SQL.",
    epilog="""[bold]Example[/bold]

  eniflow athena ddl --location s3://my-bucket/ --layout hive --file-format parquet --account 123456789012 --region us-east-1

  eniflow athena sql top --by dst_ip -n 20 > top.sql     # run it in the Athena console or with 'aws athena'""")
app.add_typer(athena_app, name="athena")

TableOpt = Annotated[str, typer.Option("--table", help="Name of the Athena table over the flow logs.")]


@athena_app.command()
def ddl(
    location: Annotated[str, typer.Option("--location", help="The S3 folder above AWSLogs/, e.g. s3://my-bucket/.")],
    layout: Annotated[str, typer.Option("--layout", help="default | hourly | hive | hive-hourly")] = "default",
    file_format: Annotated[str, typer.Option("--file-format", help="text | parquet")] = "text",
    format: FormatOpt = None,
    table: TableOpt = "vpc_flow_logs",
    account: Annotated[Optional[list[str]], typer.Option(
        "--account", help="Account id whose logs the table covers (repeatable; default: given in each query).")] = None,
    region: Annotated[Optional[list[str]], typer.Option(
        "--region", help="Region (repeatable; default: given in each query).")] = None,
    years: Annotated[Optional[str], typer.Option("--years", help="First,last year of the date partitions.")] = None,
) -> None:
    """Print CREATE EXTERNAL TABLE with partition projection for the flow logs at --location."""
    span = None
    if years:
        try:
            first, last = (int(y) for y in years.split(","))
            span = (first, last)
        except ValueError:
            from ..errors import UsageError

            raise UsageError(f"--years {years}: give the first and last year, e.g. 2025,2026.") from None
    from ..athena import ddl as make_ddl  # here: SQLGlot costs every other command its import time

    typer.echo(make_ddl(location, layout=layout, file_format=file_format, format=format, table=table,
                        accounts=account, regions=region, years=span) + ";")


@athena_app.command()
def sql(
    what: Annotated[str, typer.Argument(help="resolve | top | flows")],
    table: TableOpt = "vpc_flow_logs",
    format: FormatOpt = None,
    inventory: InventoryOpt = None,
    at: AtOpt = None,
    by: Annotated[str, typer.Option("--by", help="top: the key (as eniflow top --by).")] = "src_ip",
    metric: Annotated[str, typer.Option("--metric", "-m", help="top: bytes | packets | records | flows")] = "bytes",
    n: Annotated[int, typer.Option("-n", help="top: how many rows.")] = 10,
    where: Annotated[Optional[list[str]], typer.Option("--where", "-w", help="top: filter (as eniflow top).")] = None,
    ip: Annotated[Optional[str], typer.Option("--ip", help="flows: the address to look for.")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="flows: only this source or destination port.")] = None,
    dialect: Annotated[str, typer.Option("--dialect", help="athena | trino | duckdb")] = "athena",
) -> None:
    """Print one Trino query answering resolve, top or flows --ip over the table (see athena ddl)."""
    from ..athena import query
    from ..errors import UsageError
    from ..inventory import Inventory

    if dialect not in ("athena", "trino", "duckdb"):
        raise UsageError(f"--dialect {dialect}: choose athena, trino or duckdb.")
    options: dict = {}
    if what == "top":
        options = {"by": by, "metric": metric, "n": n, "where": where}
    elif what == "flows":
        if not ip:
            raise UsageError("eniflow athena sql flows needs --ip, the address to look for.")
        options = {"ip": ip, "port": port}
    inv = Inventory.from_specs(inventory, None, at=at) if inventory else None
    typer.echo(query(what, table=table, format=format, dialect=dialect, inventory=inv, options=options) + ";")
