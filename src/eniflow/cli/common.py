"""What every command shares: the app, output options, AWS options, error handling."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated, Optional

import typer

from ..aws import AwsOptions
from ..errors import EniflowError

app = typer.Typer(
    name="eniflow",
    help="AWS VPC Flow Logs that tell the truth about addresses.\n\n"
    "Read flow logs from files, S3 or CloudWatch Logs, recover the real address behind every "
    "record (secondary IPs, floating IPs, EKS pods) and ask who talked to whom.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=True,
)

_state = {"debug": False}


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False) -> None:
    _state["debug"] = debug


# Reusable option declarations ------------------------------------------------------------
OutputOpt = Annotated[str, typer.Option("-o", "--output", help="table | jsonl | csv | parquet")]
OutOpt = Annotated[Optional[str], typer.Option("--out", help="Write to this file instead of stdout.")]
FormatOpt = Annotated[Optional[str], typer.Option(
    "--format", "-f", help="Log format for sources without a header line: '${version} ${srcaddr} ...', "
    "'version srcaddr ...', underscore names, or a preset: 'default' (version 2) or 'tgw' (Transit Gateway). "
    "Default: the version-2 default format. 'eniflow read --fields' lists every field.")]
SinceOpt = Annotated[Optional[str], typer.Option("--since", help="Only records ending at or after this time (ISO 8601, Unix seconds, or '2h'/'3d' ago).")]
UntilOpt = Annotated[Optional[str], typer.Option("--until", help="Only records starting before this time (same forms as --since).")]
ProfileOpt = Annotated[Optional[str], typer.Option("--profile", help="AWS profile (default: the standard credential chain).")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", help="AWS region.")]
EndpointOpt = Annotated[Optional[str], typer.Option("--endpoint-url", help="AWS endpoint URL (e.g. a local moto server).")]
EngineOpt = Annotated[str, typer.Option("--engine", help="duckdb (this machine) or spark.")]
SparkMasterOpt = Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL (default local[2]).")]
SparkConfOpt = Annotated[Optional[list[str]], typer.Option("--spark-conf", help="Spark setting k=v (repeatable).")]
SourcesArg = Annotated[list[str], typer.Argument(help="Files, directories, globs, '-' (stdin), s3://bucket/prefix or cwl://log-group\\[/stream-prefix].")]


def aws_options(profile: str | None, region: str | None, endpoint_url: str | None) -> AwsOptions:
    return AwsOptions(profile=profile, region=region, endpoint_url=endpoint_url)


def err(message: str) -> None:
    """One line to stderr (no colour when NO_COLOR is set or stderr is not a terminal)."""
    from rich.console import Console

    Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=True).print(message)


def _spelled(args: list[str]) -> list[str]:
    """``eniflow inventory --check SOURCE...`` (how the inventory's check is often written) is
    ``eniflow inventory check SOURCE...``."""
    command = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if command is not None and args[command:command + 2] == ["inventory", "--check"]:
        return [*args[:command + 1], "check", *args[command + 2:]]
    return args


def run_app(args: list[str] | None = None) -> int:
    """Run the Typer app, mapping EniflowError to one sentence and its exit code."""
    try:
        code = app(args=_spelled(sys.argv[1:] if args is None else list(args)), standalone_mode=False)
        return code if isinstance(code, int) else 0
    except EniflowError as exc:
        if _state["debug"]:
            traceback.print_exc()
        err(f"eniflow: error: {exc}")
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err("eniflow: aborted")
        return 1
    except KeyboardInterrupt:
        err("eniflow: interrupted")
        return 130
    except Exception as exc:  # click's usage errors (Typer may carry its own click) and the unexpected
        if hasattr(exc, "show") and hasattr(exc, "format_message"):
            if getattr(exc, "ctx", None) is None:  # raised inside a command: no usage line to show
                err(f"eniflow: error: {exc.format_message()}")
            else:
                exc.show()
            return getattr(exc, "exit_code", 2)
        if type(exc).__name__ == "Exit" and hasattr(exc, "exit_code"):
            return exc.exit_code
        if _state["debug"]:
            raise
        err(f"eniflow: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback, and please report it)")
        return 1
    finally:
        sys.stdout.flush()
