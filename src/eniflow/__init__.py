"""eniflow: AWS VPC Flow Logs that tell the truth about addresses.

Public API (implementations live in the modules named in ``_EXPORTS``)::

    flows = eniflow.read(["s3://bucket/AWSLogs/"], since="2h")
    resolved = eniflow.resolve(flows, inventory=eniflow.Inventory.load("enis.json"))
"""

from __future__ import annotations

import sys
import types
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "read": "read",
    "Flows": "read",
    "ReadStats": "read",
    "AwsOptions": "aws",
    "Inventory": "inventory",
    "resolve": "resolve",
    "Resolved": "resolve",
    "simulate": "simulate",
    "top": "analyses.top",
    "flows_for_ip": "analyses.flows_for_ip",
    "trace": "analyses.trace",
    "sql": "analyses.sql",
    "doctor": "analyses.doctor",
    "report": "report",
    "EniflowError": "errors",
    "InputError": "errors",
    "UsageError": "errors",
    "AwsError": "errors",
}

__all__ = sorted(_EXPORTS)


class _Package(types.ModuleType):
    """Exports load on first use (parsing alone never imports DuckDB, resolution or the
    simulator). The modules named like the function they export (read,
    resolve, simulate, report) would take the function's place as an attribute once imported,
    so that binding is turned into the function."""

    def __getattr__(self, name: str):
        if name in _EXPORTS:
            value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
            setattr(self, name, value)
            return value
        raise AttributeError(f"module 'eniflow' has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


_SHADOWED = ("read", "resolve", "simulate", "report")
sys.modules[__name__].__class__ = _Package
