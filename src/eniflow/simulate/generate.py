"""Topologies at scale: ``generate:`` adds many instance ENIs to the declared subnets.

Addresses are handed out in order from each subnet (after the ones already declared);
which ENIs get secondary IPs, /28 prefixes or Nitro follows the seed, so the same seed
always builds the same network.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

from .topology import Eni, Topology, TopologyError

__all__ = ["expand"]


def expand(topo: Topology, seed: int) -> Topology:
    spec = topo.generate
    count = int(spec["instances"])
    subnet_ids = [str(s) for s in (spec["subnets"] if isinstance(spec["subnets"], list) else [spec["subnets"]])]
    groups = [str(g) for g in (spec.get("security_groups") or [])]
    taken = {ip for e in topo.enis.values() for ip in [e.primary, *e.secondary]}
    taken |= {str(ip) for e in topo.enis.values() for p in e.prefixes for ip in p}
    free = {s: _free(topo.subnets[s].cidr, taken) for s in subnet_ids}
    enis = dict(topo.enis)
    for i in range(count):
        subnet = subnet_ids[i % len(subnet_ids)]
        draw = zlib.crc32(f"{seed}:generate:{i}".encode()) / 2**32
        n_secondary = 1 + int(draw * 10) % 3 if draw < float(spec.get("secondary_share", 0.3)) else 0
        try:
            primary = next(free[subnet])
            secondary = [next(free[subnet]) for _ in range(n_secondary)]
        except StopIteration:
            raise TopologyError(f"{topo.source}: generate: subnet {subnet} has no free addresses left for {count} "
                                "instances; use larger or more subnets.", topo.source) from None
        prefixes = []
        if (draw * 7919) % 1 < float(spec.get("prefix_share", 0.0)):
            prefixes = [_prefix(topo.subnets[subnet].cidr, taken)]
        eni_id = f"eni-0{zlib.crc32(f'{seed}:eni:{i}'.encode()):08x}{i:08x}"
        enis[eni_id] = Eni(
            id=eni_id, subnet=subnet, primary=primary, secondary=secondary, ipv6=[], prefixes=[p for p in prefixes if p],
            kind="instance", instance=f"i-0{zlib.crc32(f'{seed}:i:{i}'.encode()):08x}{i:08x}", description="",
            nitro=(draw * 104729) % 1 < float(spec.get("nitro_share", 0.8)), security_groups=groups,
            account=topo.account, window_phase=None, name=None)
    return replace(topo, enis=enis, generate=None)


def _free(cidr, taken):
    # The first four addresses and the last one of every subnet are reserved by AWS.
    for ip in list(cidr.hosts())[3:-1]:
        if str(ip) not in taken:
            taken.add(str(ip))
            yield str(ip)


def _prefix(cidr, taken):
    """A /28 near the end of the subnet that no address uses yet."""
    for block in reversed(list(cidr.subnets(new_prefix=28))):
        if not any(str(ip) in taken for ip in block):
            taken.update(str(ip) for ip in block)
            return block
    return None
