"""The ``eniflow`` command: a thin Typer layer; every command calls a public function.

Each command lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

import sys

from .common import app, run_app

# Importing a module registers its commands on ``app`` (keep this list sorted by verb).
from . import read_cmd  # noqa: E402,F401

_OPTIONAL = ["resolve_cmd", "inventory_cmd", "simulate_cmd", "analyses_cmd", "doctor_cmd", "report_cmd", "demo_cmd",
             "athena_cmd"]
for _name in _OPTIONAL:
    try:
        __import__(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a command module not written yet
        if exc.name != f"{__name__}.{_name}":
            raise

__all__ = ["app", "main"]


def main() -> None:
    sys.exit(run_app())
