"""``eniflow demo``: the seed scenario end to end, on built-in data, told in the terminal.

Simulate the seed (a client reaching a server's secondary IP; both ENIs logged in the default
format), read and resolve the files the way AWS would have written them, show both ENIs'
records of the same flows, the resolved view, the check against the simulator's ground
truth, the format and command that would have captured ``pkt-*`` fields, and write the
HTML report.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

__all__ = ["demo", "DemoResult", "inventory_document"]

SHOWN = 6  # records per table


@dataclass
class DemoResult:
    out: Path
    report: Path
    inventory: Path
    records: int
    matched: int  # records whose resolved local address equals the ground truth
    checked: int  # records the ground truth covers


def inventory_document(topology) -> dict:
    """The topology's ENIs as ``aws ec2 describe-network-interfaces`` would print them."""
    interfaces = []
    for eni in topology.enis.values():
        interfaces.append({
            "NetworkInterfaceId": eni.id, "SubnetId": eni.subnet, "VpcId": topology.subnets[eni.subnet].vpc,
            "Description": eni.description, "InterfaceType": "interface",
            **({"Attachment": {"InstanceId": eni.instance}} if eni.instance else {}),
            "PrivateIpAddress": eni.primary,
            "PrivateIpAddresses": [{"PrivateIpAddress": eni.primary, "Primary": True}]
            + [{"PrivateIpAddress": a, "Primary": False} for a in eni.secondary]})
    return {"NetworkInterfaces": interfaces}


def _table(con, sql: str, params: list, title: str, highlight: dict[str, str]) -> Table:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    table = Table(title=title, title_justify="left", header_style="bold")
    for name in names:
        table.add_column(name, justify="right" if name in ("srcport", "dstport", "bytes", "packets") else "left")
    for row in cur.fetchall():
        cells = []
        for name, value in zip(names, row):
            text = escape("" if value is None else str(value))
            style = highlight.get(str(value)) if name in ("srcaddr", "dstaddr", "src_ip", "dst_ip", "local_ip") else None
            cells.append(f"[{style}]{text}[/{style}]" if style else text)
        table.add_row(*cells)
    return table


def demo(out: str | Path | None = None, console: Console | None = None) -> DemoResult:
    """Run the seed story into ``out`` (default: a new temporary directory) and print it."""
    from . import read, resolve
    from .analyses.doctor import create_flow_logs_command, recommended_format
    from .analyses.top import top
    from .inventory import Inventory
    from .render import rich_table
    from .report import report
    from .simulate import (SEED_CLIENT_ENI, SEED_CLIENT_IP, SEED_SERVER_ENI, SEED_SERVER_PRIMARY,
                           SEED_SERVER_SECONDARY, load_topology, simulate)

    console = console or Console()
    out = Path(out) if out else Path(tempfile.mkdtemp(prefix="eniflow-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    topology = load_topology("seed")
    say = console.print

    say(Panel.fit("[bold]eniflow demo[/bold]: the seed scenario, end to end\n\n" + escape(topology.description.strip()),
                  border_style="blue"))
    sim = simulate("seed", out)
    logs = out / "AWSLogs"
    inventory_path = out / "enis.json"
    inventory_path.write_text(json.dumps(inventory_document(topology), indent=1))
    say(f"\n[bold]1. Simulate.[/bold] {sim.records} records (the default format, as AWS delivers them to S3) in "
        f"{len(sim.files)} gzip files under {escape(str(logs))}; the ground truth in {escape(sim.truth.name)}.")

    flows = read(logs)
    inventory = Inventory.load(inventory_path, at=sim.start)
    resolved = resolve(flows, inventory)
    con = resolved.con
    marks = {SEED_SERVER_SECONDARY: "bold green", SEED_SERVER_PRIMARY: "bold red"}
    logged = ("SELECT srcaddr, dstaddr, srcport, dstport, packets, bytes, action FROM flows "
              "WHERE interface_id = ? AND log_status = 'OK' ORDER BY start, srcport DESC, line LIMIT ?")
    say(f"\n[bold]2. What each ENI's flow log says.[/bold] The client {SEED_CLIENT_IP} opens telnet and a browser to "
        f"the server's [bold green]secondary IP {SEED_SERVER_SECONDARY}[/bold green]:")
    say(_table(con, logged, [SEED_CLIENT_ENI, SHOWN], f"client ENI {SEED_CLIENT_ENI}", marks))
    say(_table(con, logged, [SEED_SERVER_ENI, SHOWN], f"server ENI {SEED_SERVER_ENI}: the same flows", marks))
    say(f"\n[bold]Why?[/bold] On the ENI that logs a record, AWS writes that ENI's [bold red]primary private IPv4 "
        f"({SEED_SERVER_PRIMARY})[/bold red] into dstaddr of incoming and srcaddr of outgoing traffic, whichever of its "
        "addresses the packet used. Only the version-3 fields pkt-srcaddr/pkt-dstaddr keep the real address, and the "
        "default format has none of them. So 'traffic to 10.0.1.20' finds nothing in the server's own log.")

    view = ("SELECT srcaddr, dstaddr, src_ip, dst_ip, local_ip, resolution, peer_interface_id AS paired_with "
            "FROM resolved WHERE interface_id = ? AND log_status = 'OK' ORDER BY start, srcport DESC, line LIMIT ?")
    say("\n[bold]3. Resolved.[/bold] eniflow pairs each server record with the client's record of the same packets "
        "(same ports and protocol, overlapping time) and takes the real address from there:")
    say(_table(con, view, [SEED_SERVER_ENI, SHOWN], f"server ENI {SEED_SERVER_ENI}, resolved", marks))
    mix = ", ".join(f"{label} {n}" for label, n in resolved.summary().items() if n)
    say(f"resolution of all {flows.stats.rows} records: {mix}")

    truth_sql = ("SELECT count(*) FILTER (WHERE r.local_ip = t.local_ip), count(*) FROM resolved r "
                 "JOIN read_parquet(?) t ON suffix(r.source, t.source) AND r.line = t.line WHERE t.local_ip IS NOT NULL")
    matched, checked = con.execute(truth_sql, [str(sim.truth)]).fetchall()[0]
    say(f"checked against the simulator's ground truth: {matched} of {checked} records have the right local address.")

    local = top(resolved, by="local_ip", metric="bytes", where=[f"eni={SEED_SERVER_ENI}"])
    say(f"\n[bold]4. Which of the server's addresses carries the traffic?[/bold] "
        f"(eniflow top --by local_ip --where eni={SEED_SERVER_ENI})")
    say(rich_table(local.relation))
    say(f"All of it went to the site on {SEED_SERVER_SECONDARY}; the server's own log would have put it all on "
        f"{SEED_SERVER_PRIMARY}.")

    fixed = create_flow_logs_command(SEED_SERVER_ENI, region=topology.region)
    say("\n[bold]5. Capture the real address next time.[/bold] A flow log's format cannot be changed; create one "
        "with a custom format that includes pkt-srcaddr and pkt-dstaddr:")
    say(escape(recommended_format()), style="cyan", soft_wrap=True)
    say(f"$ {escape(fixed)}", style="cyan", soft_wrap=True)
    say("([dim]eniflow doctor finds every ENI with several IPs whose flow logs lack these fields.[/dim])")

    html = out / "report.html"
    report(resolved, html, inventory=inventory, stats=flows.stats, title="eniflow demo: the seed scenario",
           sources=[str(logs)])
    say(f"\n[bold]6. Report.[/bold] Open {escape(str(html))} in a browser (one file, no network needed).")
    say(f"Try: eniflow top {escape(str(logs))} -i {escape(str(inventory_path))} --by dst_ip")
    return DemoResult(out, html, inventory_path, flows.stats.rows, matched, checked)
