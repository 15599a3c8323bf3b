"""Which ENI held which address, and when: the inventory that resolution checks its claims against.

Inputs (each a *snapshot* of one moment, or rows with explicit validity):

- ``aws ec2 describe-network-interfaces`` JSON (time: ``at``, a date-time in the file's name, or its modification time);
- live AWS (``Inventory.from_aws``: DescribeNetworkInterfaces, paginated);
- ``kubectl get pods -A -o json`` (pod IPs -> ``namespace/name`` owners);
- eniflow's own inventory JSON (``Inventory.to_json``: rows with validity intervals), which is
  also how ``eniflow inventory merge`` and what the logs revealed are saved.

A snapshot says what held at its time. Between two snapshots of one ENI each rules up to
the midpoint; the first and the last are extrapolated without end. ``single`` claims are
stricter (see :meth:`Inventory.single_intervals`): both snapshots around a moment must
agree that the ENI had exactly that one IPv4 address.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from .errors import InputError

__all__ = ["Inventory", "Interface", "Fact", "INTERMEDIATE_TYPES", "OWNERSHIP_COLUMNS"]

# Interface types that forward packets that are not their own (reference §12.1 rules 2-3).
INTERMEDIATE_TYPES = frozenset({"nat_gateway", "natgateway", "transit_gateway", "gateway_load_balancer",
                                "gateway_load_balancer_endpoint", "network_load_balancer"})

OWNERSHIP_COLUMNS = ("interface_id", "address", "is_primary", "valid_from", "valid_to", "owner", "source_of_fact")
_OWNERSHIP_SCHEMA = pa.schema([("interface_id", pa.string()), ("address", pa.string()), ("is_primary", pa.bool_()),
                               ("valid_from", pa.int64()), ("valid_to", pa.int64()), ("owner", pa.string()),
                               ("source_of_fact", pa.string())])
_INTERVAL_SCHEMA = pa.schema([("interface_id", pa.string()), ("address", pa.string()),
                              ("valid_from", pa.int64()), ("valid_to", pa.int64())])


@dataclass(frozen=True)
class Interface:
    """One ENI as one snapshot saw it."""

    interface_id: str
    at: int  # Unix seconds of the snapshot
    addresses: tuple[str, ...]  # private IPv4 addresses, primary first
    ipv6: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()  # IPv4 prefix delegation
    owner: str | None = None  # instance id, else description
    interface_type: str | None = None
    intermediate: bool = False  # forwards others' packets (NAT/TGW/GWLB/NLB, source/dest check off)
    subnet_id: str | None = None
    vpc_id: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Fact:
    """An address held by an ENI (or a pod) over an interval; None bounds are open."""

    interface_id: str | None
    address: str
    is_primary: bool
    valid_from: int | None
    valid_to: int | None
    owner: str | None
    source_of_fact: str


@dataclass
class Inventory:
    """Snapshots of ENIs, pods, and interval facts; turns them into DuckDB tables."""

    interfaces: list[Interface] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)  # pods and interval rows (merged files, logs)

    # -- loaders -------------------------------------------------------------------------
    @classmethod
    def load(cls, paths, *, at=None) -> "Inventory":
        """Load one or several files; the kind (EC2, kubectl, eniflow) is recognised by content."""
        from .times import parse_time

        inv = cls()
        for path in [paths] if isinstance(paths, (str, Path)) else paths:
            path = str(path)
            try:
                with open(path, encoding="utf-8") as f:
                    doc = json.load(f)
            except FileNotFoundError:
                raise InputError(f"{path}: no such inventory file; give the JSON printed by "
                                 "'aws ec2 describe-network-interfaces' or 'kubectl get pods -A -o json'.", path) from None
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: not JSON ({exc}); an inventory is the JSON printed by "
                                 "'aws ec2 describe-network-interfaces' or 'kubectl get pods -A -o json'.", path) from None
            moment = parse_time(at) if at is not None else _snapshot_time(path)
            inv = inv.merge(cls.from_document(doc, at=moment, source=path))
        return inv

    @classmethod
    def from_specs(cls, specs, aws=None, *, at=None) -> "Inventory | None":
        """The inventory from ``--inventory`` values: files, or ``aws`` for the live one (None: none given)."""
        if not specs:
            return None
        files = [s for s in specs if s != "aws"]
        inventory = cls.load(files, at=at) if files else cls()
        return inventory.merge(cls.from_aws(aws, at=at)) if "aws" in specs else inventory

    @classmethod
    def from_document(cls, doc, *, at: int, source: str) -> "Inventory":
        if isinstance(doc, dict) and "NetworkInterfaces" in doc:
            return cls(interfaces=[_interface(n, at, source) for n in doc["NetworkInterfaces"]])
        if isinstance(doc, dict) and "eniflow_inventory" in doc:
            return cls(interfaces=[Interface(**{**i, "addresses": tuple(i["addresses"]), "ipv6": tuple(i["ipv6"]),
                                                "prefixes": tuple(i["prefixes"])})
                                   for i in doc.get("interfaces", [])],
                       facts=[Fact(**r) for r in doc["eniflow_inventory"]])
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            return cls(facts=_pod_facts(doc["items"], source))
        raise InputError(f"{source}: not an inventory: expected the keys 'NetworkInterfaces' (aws ec2 "
                         "describe-network-interfaces), 'items' (kubectl get pods -A -o json) or 'eniflow_inventory'.",
                         source)

    @classmethod
    def from_aws(cls, aws=None, *, at=None) -> "Inventory":
        """The live inventory: DescribeNetworkInterfaces, all pages."""
        from .times import parse_time

        moment = int(time.time()) if at is None else parse_time(at)
        doc = cls.fetch_document(aws)
        return cls(interfaces=[_interface(n, moment, "aws") for n in doc["NetworkInterfaces"]])

    @staticmethod
    def fetch_document(aws=None) -> dict:
        """DescribeNetworkInterfaces, all pages, as one document in the AWS CLI's shape."""
        from .aws import AwsOptions, translate_client_error

        aws = aws or AwsOptions()
        found = []
        try:
            for page in aws.client("ec2").get_paginator("describe_network_interfaces").paginate():
                found.extend(page.get("NetworkInterfaces", []))
        except Exception as exc:
            raise translate_client_error(exc, "ec2:DescribeNetworkInterfaces", "DescribeNetworkInterfaces") from None
        return {"NetworkInterfaces": found}

    def merge(self, *others: "Inventory") -> "Inventory":
        return Inventory(interfaces=self.interfaces + [i for o in others for i in o.interfaces],
                         facts=self.facts + [f for o in others for f in o.facts])

    def __bool__(self) -> bool:
        return bool(self.interfaces or self.facts)

    def to_json(self) -> dict:
        """eniflow's inventory document (loads back with :meth:`load`)."""
        return {"eniflow_inventory": [asdict(f) for f in self.facts],
                "interfaces": [asdict(i) for i in self.interfaces]}

    # -- derived views -------------------------------------------------------------------
    def _timelines(self) -> dict[str, list[Interface]]:
        """Each ENI's snapshots in time order, one per moment: snapshots of one moment (several
        files given one ``--at``, or copied in the same second) are one, with the addresses of
        all (the last file loaded names the primary). Keeping only the last loaded dropped the
        others' addresses, and an ENI that one of them showed with a secondary was `single`."""
        by_eni: dict[str, dict[int, Interface]] = {}
        for i in self.interfaces:
            snaps = by_eni.setdefault(i.interface_id, {})
            snaps[i.at] = _union(snaps[i.at], i) if i.at in snaps else i
        return {eni: [snaps[t] for t in sorted(snaps)] for eni, snaps in by_eni.items()}

    def ownership(self) -> list[Fact]:
        """Every (ENI, address) held over an interval: snapshots rule up to the midpoints."""
        rows = list(self.facts)
        for eni, snaps in self._timelines().items():
            for k, snap in enumerate(snaps):
                lo = None if k == 0 else (snaps[k - 1].at + snap.at) // 2
                hi = None if k == len(snaps) - 1 else (snap.at + snaps[k + 1].at) // 2
                addrs = list(snap.addresses) + _prefix_addresses(snap.prefixes) + list(snap.ipv6)
                for n, addr in enumerate(addrs):
                    rows.append(Fact(eni, addr, n == 0 and bool(snap.addresses), lo, hi, snap.owner,
                                     f"snapshot:{snap.source}"))
        return _merge_runs(rows)

    def single_intervals(self) -> list[tuple[str, str, int | None, int | None]]:
        """(ENI, address, from, to) where the snapshots say the ENI had exactly one IPv4 address.

        Between two snapshots both must say so (same address); before the first and after the
        last snapshot, that snapshot is extrapolated. IPv4 prefixes count as many addresses.
        """
        out = []
        for eni, snaps in self._timelines().items():
            one = [s.addresses[0] if len(s.addresses) == 1 and not s.prefixes else None for s in snaps]
            if one[0]:
                out.append((eni, one[0], None, snaps[0].at))
            for k in range(len(snaps) - 1):
                if one[k] and one[k] == one[k + 1]:
                    out.append((eni, one[k], snaps[k].at, snaps[k + 1].at))
            if one[-1]:
                out.append((eni, one[-1], snaps[-1].at, None))
        merged: list[tuple[str, str, int | None, int | None]] = []
        for row in out:  # touching intervals of the same ENI and address become one
            if merged and merged[-1][:2] == row[:2] and merged[-1][3] == row[2]:
                merged[-1] = (*row[:2], merged[-1][2], row[3])
            else:
                merged.append(row)
        return merged

    def intermediates(self) -> set[str]:
        return {i.interface_id for i in self.interfaces if i.intermediate}

    def primaries(self) -> dict[str, str]:
        return {i.interface_id: i.addresses[0] for i in self.interfaces if i.addresses}

    def register(self, con, prefix: str = "") -> None:
        """Create the tables ``{prefix}inventory`` (ownership), ``{prefix}inventory_single``,
        ``{prefix}inventory_interfaces`` (ENI id, primary, intermediate, owner) in ``con``."""
        own = pa.Table.from_pylist([asdict(f) for f in self.ownership()], schema=_OWNERSHIP_SCHEMA)
        single = pa.Table.from_pylist([dict(zip(_INTERVAL_SCHEMA.names, r)) for r in self.single_intervals()],
                                      schema=_INTERVAL_SCHEMA)
        timelines = self._timelines()  # once: per ENI it would make registering quadratic
        latest = {eni: snaps[-1] for eni, snaps in timelines.items()}
        enis = pa.Table.from_pylist(
            [{"interface_id": eni, "primary_ip": s.addresses[0] if s.addresses else None,
              "intermediate": any(x.intermediate for x in timelines[eni]), "owner": s.owner,
              "interface_type": s.interface_type, "subnet_id": s.subnet_id, "vpc_id": s.vpc_id}
             for eni, s in latest.items()],
            schema=pa.schema([("interface_id", pa.string()), ("primary_ip", pa.string()), ("intermediate", pa.bool_()),
                              ("owner", pa.string()), ("interface_type", pa.string()), ("subnet_id", pa.string()),
                              ("vpc_id", pa.string())]))
        for name, table in (("inventory", own), ("inventory_single", single), ("inventory_interfaces", enis)):
            con.register(f"_{prefix}{name}_arrow", table)
            con.execute(f"CREATE OR REPLACE TABLE {prefix}{name} AS SELECT * FROM _{prefix}{name}_arrow")
            con.unregister(f"_{prefix}{name}_arrow")


def _snapshot_time(path: str) -> int:
    """When a snapshot file was taken: a date-time in its name (which copying keeps), else its
    modification time."""
    from .times import time_in_name

    named = time_in_name(os.path.basename(path))
    return named if named is not None else int(os.path.getmtime(path))


def _interface(n: dict, at: int, source: str) -> Interface:
    try:
        eni = n["NetworkInterfaceId"]
    except (KeyError, TypeError):
        raise InputError(f"{source}: an entry of NetworkInterfaces has no NetworkInterfaceId; "
                         "give the unmodified output of 'aws ec2 describe-network-interfaces'.", source) from None
    private = sorted(n.get("PrivateIpAddresses") or [], key=lambda p: not p.get("Primary"))
    addrs = tuple(p["PrivateIpAddress"] for p in private if p.get("PrivateIpAddress"))
    if not addrs and n.get("PrivateIpAddress"):
        addrs = (n["PrivateIpAddress"],)
    itype = (n.get("InterfaceType") or "").lower() or None
    description = n.get("Description") or None
    intermediate = (itype in INTERMEDIATE_TYPES or n.get("SourceDestCheck") is False
                    or (description or "").startswith("Interface for NAT Gateway"))
    owner = (n.get("Attachment") or {}).get("InstanceId") or description or itype
    return Interface(eni, at, addrs, tuple(a.get("Ipv6Address") for a in n.get("Ipv6Addresses") or []),
                     tuple(p.get("Ipv4Prefix") for p in n.get("Ipv4Prefixes") or []), owner, itype, intermediate,
                     n.get("SubnetId"), n.get("VpcId"), source)


def _union(first: Interface, last: Interface) -> Interface:
    """Two snapshots of one ENI at one moment as one: every address of both, ``last``'s primary first
    (named by both files)."""
    def both(a, b):
        return tuple(dict.fromkeys(a + b))

    addresses = both(last.addresses[:1], both(first.addresses, last.addresses)) if last.addresses else first.addresses
    return Interface(**{**asdict(last), "addresses": addresses, "ipv6": both(first.ipv6, last.ipv6),
                        "prefixes": both(first.prefixes, last.prefixes),
                        "intermediate": first.intermediate or last.intermediate,
                        "source": last.source if first.source == last.source else f"{first.source},{last.source}"})


def _prefix_addresses(prefixes) -> list[str]:
    """Every address of the ENI's delegated IPv4 prefixes (AWS delegates /28s: 16 addresses each)."""
    return [str(a) for p in prefixes if p for a in ipaddress.ip_network(p, strict=False)]


def _pod_facts(items: list, source: str) -> list[Fact]:
    """Pod IPs (not host-network pods, whose IP is the node's) -> namespace/name."""
    facts = []
    for pod in items:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        if (pod.get("spec") or {}).get("hostNetwork"):
            continue
        ips = [p.get("ip") for p in status.get("podIPs") or []] or [status.get("podIP")]
        for ip in filter(None, ips):
            if ip != status.get("hostIP"):
                facts.append(Fact(None, ip, False, None, None, f"pod {meta.get('namespace', 'default')}/{meta.get('name')}",
                                  f"kubectl:{source}"))
    return facts


def _merge_runs(rows: list[Fact]) -> list[Fact]:
    """Join consecutive intervals of the same (ENI, address, primary, owner, kind of source); the
    joined row names the first source."""
    key = lambda f: (f.interface_id or "", f.address, f.is_primary, f.owner or "", f.source_of_fact.split(":")[0])  # noqa: E731
    out: list[Fact] = []
    for f in sorted(rows, key=lambda f: (key(f), -1e18 if f.valid_from is None else f.valid_from)):
        last = out[-1] if out else None
        if last and key(last) == key(f) and last.valid_to is not None and f.valid_from == last.valid_to:
            out[-1] = Fact(**{**asdict(last), "valid_to": f.valid_to})
        else:
            out.append(f)
    return out

