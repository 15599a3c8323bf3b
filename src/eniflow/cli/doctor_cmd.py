"""``eniflow doctor``: flow log configuration vs ENIs, with the exact fix for each finding."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import EndpointOpt, OutOpt, OutputOpt, ProfileOpt, RegionOpt, app, aws_options, err


@app.command(epilog="""[bold]Example[/bold]

  eniflow doctor --region eu-west-1 --exit-code

  1. no-pkt-fields  eni-0a1b2c3d4e5f67890  (flow log fl-0123456789abcdef0)
     eni-0a1b... has several addresses (10.0.1.10, 10.0.1.20) but its flow logs lack pkt-srcaddr/pkt-dstaddr ...
     fix: ... then delete the old one: aws ec2 delete-flow-logs --flow-log-ids fl-0123456789abcdef0
     $ aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-... --log-format '${version} ...'

Needs ec2:DescribeFlowLogs and ec2:DescribeNetworkInterfaces; makes no changes.""")
def doctor(
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit with 1 when there are findings (for CI).")] = False,
    output: OutputOpt = "table",
    out: OutOpt = None,
) -> None:
    """Check flow log setup: ENIs with several IPs but no pkt-* fields, ENIs without flow logs,
    failing deliveries, ACCEPT- or REJECT-only logs; print the fix and the aws command for each."""
    from ..analyses.doctor import doctor as run_doctor
    from ..render import write

    diagnosis = run_doctor(aws_options(profile, region, endpoint_url))
    if output == "table" and out is None:
        _print_findings(diagnosis.findings)
    else:
        write(diagnosis.relation(), output, out)
    err(f"doctor: {len(diagnosis.findings)} finding(s); checked {diagnosis.interfaces} network interface(s) and "
        f"{diagnosis.flow_logs} flow log(s) in {diagnosis.region}.")
    if exit_code and diagnosis.findings:
        raise typer.Exit(1)


def _print_findings(findings) -> None:
    """Findings as numbered blocks; commands stay on one line so they can be copied."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(soft_wrap=True, highlight=False)
    if not findings:
        console.print("No findings: every ENI is covered by a flow log that can tell its addresses apart.")
    for i, f in enumerate(findings, 1):
        where = f"  (flow log {f.flow_log_id})" if f.flow_log_id and f.flow_log_id != f.resource else ""
        console.print(f"[bold]{i}. {f.kind}[/bold]  {escape(f.resource)}{where}")
        console.print(f"   {escape(f.problem)}")
        console.print(f"   [green]fix:[/green] {escape(f.fix)}")
        if f.command:
            console.print(f"   $ {escape(f.command)}", style="cyan")
        console.print()
