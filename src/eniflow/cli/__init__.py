"""The ``eniflow`` command: a thin Typer layer; every command calls a public function.

Each command lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

import sys

from .common import app, run_app

# Importing a module registers its commands on ``app``, in the order --help lists them
# (DESIGN.md's order of verbs).
from . import demo_cmd, read_cmd, resolve_cmd, analyses_cmd, inventory_cmd  # noqa: E402,F401,I001
from . import doctor_cmd, simulate_cmd, report_cmd, athena_cmd  # noqa: E402,F401,I001

__all__ = ["app", "main"]


def main() -> None:
    sys.exit(run_app())
