"""``eniflow simulate``: write AWS-faithful flow logs and their ground truth."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .common import app, err


@app.command("simulate")
def simulate_cmd(
    topology: Annotated[Optional[str], typer.Argument(help="A topology YAML file (see the README, section 'Simulation').")] = None,
    scenario: Annotated[Optional[str], typer.Option("--scenario", "-s", help="A built-in scenario (see --list).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", help="Directory to write into (the S3 bucket root, or one folder per log group).")] = None,
    layout: Annotated[Optional[str], typer.Option("--layout", help="default | hourly | hive | hive-hourly | cloudwatch (default: as each flow log says).")] = None,
    file_format: Annotated[Optional[str], typer.Option("--file-format", help="text | parquet (S3 only).")] = None,
    log_format: Annotated[Optional[str], typer.Option("--log-format", help="Custom format for every flow log, e.g. '${version} ${srcaddr} ${pkt-srcaddr}'.")] = None,
    truth: Annotated[Optional[str], typer.Option("--truth", help="Ground truth Parquet file (default: OUT/truth.parquet).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same output.")] = 0,
    start: Annotated[Optional[str], typer.Option("--start", help="Start time (ISO 8601 or Unix seconds); default: the scenario's.")] = None,
    duration: Annotated[Optional[str], typer.Option("--duration", help="Simulated time span: seconds or e.g. 15m, 2h.")] = None,
    records: Annotated[Optional[int], typer.Option("--records", help="About this many records of random traffic (scenarios with a random mix, e.g. mixed).")] = None,
    endpoint_url: Annotated[Optional[str], typer.Option(
        "--endpoint-url", help="Upload to S3 / CloudWatch Logs at this endpoint (e.g. a local moto server) instead of "
        "writing files; credentials from the standard chain (AWS_PROFILE, ...).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the built-in scenarios and exit.")] = False,
) -> None:
    """Write VPC Flow Logs exactly as AWS would for a scenario or topology, plus the ground truth.

    The truth file has one row per record written: source, line, interface_id, direction,
    src_ip, dst_ip (the packet's real addresses), local_ip, owner, log_status.

    [bold]Examples[/bold]

      eniflow simulate --scenario seed --out sim/

      eniflow simulate --scenario mixed --records 10000000 --layout hive --out big/

      eniflow simulate my-vpc.yaml --out sim/ --layout cloudwatch --endpoint-url http://localhost:5000
    """
    from ..simulate import list_scenarios, simulate

    if list_:
        for name, text in list_scenarios().items():
            typer.echo(f"{name:16} {text}")
        return
    if bool(topology) == bool(scenario):
        raise UsageError("give either --scenario NAME or a TOPOLOGY.yaml file (not both); --list shows the scenarios.")
    if not out:
        raise UsageError("give the output directory with --out DIR.")
    result = simulate(scenario or topology, out, layout=layout, file_format=file_format, log_format=log_format,
                      truth=truth, seed=seed, start=start, duration=duration, records=records,
                      endpoint_url=endpoint_url, progress=bool(records and records >= 200_000))
    status = ", ".join(f"{n:,} {s}" for s, n in sorted(result.status.items())) or "none: no flow log covers an ENI"
    where = result.buckets or result.log_groups or [str(result.out)]
    err(f"wrote {result.records:,} records ({status}) in {len(result.files)} files/streams to {', '.join(where)}; "
        f"truth: {result.truth}")
