"""``eniflow demo``: the seed scenario end to end, on built-in data."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import app


@app.command(epilog="""[bold]Example[/bold]

  eniflow demo --out demo/

  prints the client ENI's and the server ENI's records of the same flows (10.0.1.20 vs 10.0.1.10),
  the resolved view, the format and 'aws ec2 create-flow-logs' command that capture pkt-* fields,
  and writes demo/report.html.""")
def demo(
    out: Annotated[Optional[str], typer.Option("--out", help="Directory for the logs, inventory and report "
                                               "(default: a new temporary directory).")] = None,
) -> None:
    """The seed scenario end to end on built-in data: why a server's own flow log hides its
    secondary IP, and how eniflow recovers it."""
    import os
    import sys

    from rich.console import Console

    from ..demo import demo as run_demo

    # Wide enough for the tables when piped (make demo in CI); a terminal keeps its own width.
    console = Console(width=None if sys.stdout.isatty() else 120, no_color=bool(os.environ.get("NO_COLOR")) or None)
    run_demo(out, console)
