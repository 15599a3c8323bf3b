"""eniflow: AWS VPC Flow Logs that tell the truth about addresses.

Public API (implementations live in the modules named in ``_EXPORTS``)::

    flows = eniflow.read(["s3://bucket/AWSLogs/"], since="2h")
    resolved = eniflow.resolve(flows, inventory=eniflow.Inventory.load("enis.json"))
"""

from __future__ import annotations

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


# Modules named like the function they export (read, resolve, simulate, report) must bind the
# function eagerly: importing the submodule would otherwise leave the module in its place.
for _name in ("read", "resolve", "simulate", "report"):
    globals()[_name] = getattr(import_module(f".{_name}", __name__), _name)


def __getattr__(name: str):
    if name in _EXPORTS:
        module = import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'eniflow' has no attribute {name!r}")
