"""The network a scenario runs on: addresses, ENIs, routes and security decisions.

``Network`` turns the topology into small lookup tables (one row per address, ENI,
subnet) and turns a connections table into *observations*: one row per connection,
packet direction and ENI the packets pass, with the packet's addresses and ports at
that point and the ACCEPT/REJECT decision there. Security groups are checked only for
the initiator's packets (they are stateful); network ACLs for every packet that
crosses a subnet boundary (they are stateless), so a denied reply is a REJECT on the
egress side of the replying ENI (reference section 13). NAT gateway and transit
gateway attachment ENIs are hops that log both legs (reference section 12.2).
"""

from __future__ import annotations

import ipaddress
import zlib
from dataclasses import dataclass

import polars as pl

from .topology import Eni, Topology, TopologyError

__all__ = ["Network", "UNLOGGED_ADDRESSES"]

# Addresses whose traffic AWS never logs (reference section 11); the VPC's Amazon DNS
# server (VPC base + 2) and each subnet's router (subnet base + 1) are added per network.
UNLOGGED_ADDRESSES = ("169.254.169.254", "169.254.169.123", "169.254.169.253")
_LOCAL, _IGW_OUT, _NAT_OUT, _IGW_IN, _TGW = range(5)
# Public prefixes of a few AWS services, for pkt-*-aws-service of random internet hosts.
_SERVICE_PREFIXES = (("52.95.128.0/21", "S3"), ("52.94.0.0/22", "DYNAMODB"), ("54.239.0.0/24", "AMAZON"),
                     ("13.32.0.0/24", "CLOUDFRONT"))


@dataclass
class _Address:
    ip: str
    eni: int = -1
    owner: str | None = None
    service: str | None = None
    unlogged: bool = False
    pod_snat: bool = False


class Network:
    """Lookup tables for one topology; all per-record work is done on polars frames."""

    def __init__(self, topo: Topology, seed: int = 0):
        self.topo = topo
        self.seed = seed
        self.enis: list[Eni] = list(topo.enis.values())
        self.eni_index = {e.id: i for i, e in enumerate(self.enis)}
        self.subnets = list(topo.subnets.values())
        self.subnet_index = {s.id: i for i, s in enumerate(self.subnets)}
        self.vpc_index = {v: i for i, v in enumerate(topo.vpcs)}
        self._addresses: list[_Address] = []
        self.address_id: dict[str, int] = {}
        for i, eni in enumerate(self.enis):
            for ip in [eni.primary, *eni.secondary, *eni.ipv6]:
                self._add(ip, eni=i, owner=eni.owner)
            for prefix in eni.prefixes:
                for ip in prefix:
                    self._add(str(ip), eni=i, owner=eni.owner)
        for pod in topo.pods:
            address = self._addresses[self.address_id[pod.ip]]
            address.owner, address.pod_snat = pod.owner, pod.snat
        for host in topo.internet_hosts:
            self._check_outside(host.ip, None)
            self._add(host.ip, service=host.service)
        for ip in UNLOGGED_ADDRESSES:
            self._add(ip, unlogged=True)
        for vpc in topo.vpcs.values():
            for cidr in vpc.cidrs:
                if cidr.version == 4:
                    self._add(str(cidr.network_address + 2), unlogged=True)  # Amazon DNS
        for subnet in self.subnets:
            if subnet.cidr.version == 4:
                self._add(str(subnet.cidr.network_address + 1), unlogged=True)  # the subnet's router

    # -- addresses ---------------------------------------------------------------------

    def _add(self, ip: str, **attrs) -> int:
        if ip in self.address_id:
            return self.address_id[ip]
        self.address_id[ip] = len(self._addresses)
        self._addresses.append(_Address(ip, **attrs))
        return self.address_id[ip]

    def _vpc_of(self, ip: str):
        address = ipaddress.ip_address(ip)
        for vpc in self.topo.vpcs.values():
            if any(address.version == c.version and address in c for c in vpc.cidrs):
                return vpc
        return None

    def _check_outside(self, ip: str, line: int | None):
        vpc = self._vpc_of(ip)
        if vpc is not None and ip not in self.address_id:
            where = f"{self.topo.source}:{line}" if line else self.topo.source
            raise TopologyError(f"{where}: {ip} is inside {vpc.id} but no ENI, pod or prefix has it; "
                                "assign it to an ENI ('secondary') or use an address outside the VPC.", self.topo.source, line)

    def use_addresses(self, specs: list[dict]) -> None:
        """Register the addresses explicit connections use (outside the VPCs: internet hosts)."""
        for spec in specs:
            for ip in (spec["src"], spec["dst"]):
                if ip not in self.address_id:
                    self._check_outside(ip, spec["line"])
                    self._add(ip)

    def add_random_hosts(self, count: int) -> pl.DataFrame:
        """``count`` internet hosts drawn from public ranges (some in AWS service ranges)."""
        ids = []
        for i in range(count):
            h = zlib.crc32(f"{self.seed}:host:{i}".encode())
            if i % 10 == 0:
                prefix, service = _SERVICE_PREFIXES[(i // 10) % len(_SERVICE_PREFIXES)]
                network = ipaddress.ip_network(prefix)
                ip, attrs = str(network[h % network.num_addresses]), {"service": service}
            else:
                ip, attrs = str(ipaddress.IPv4Address((h % (0xDF000000 - 0x0B000000)) + 0x0B000000)), {}
                if ipaddress.ip_address(ip).is_private or self._vpc_of(ip):
                    continue
            ids.append(self._add(ip, **attrs))
        return pl.DataFrame({"addr": ids}, schema={"addr": pl.Int32})

    def lookups(self) -> dict[str, pl.Series]:
        """Per address id (ip, v6, service, owner, pod) and per ENI index (ids, metadata) values."""
        rows, subnets = self._addresses, self.topo.subnets
        per_address = {"ip": [a.ip for a in rows], "v6": [":" in a.ip for a in rows], "service": [a.service for a in rows],
                       "owner": [a.owner or "" for a in rows]}
        per_eni = {"interface_id": [e.id for e in self.enis], "account_id": [e.account for e in self.enis],
                   "vpc_id": [subnets[e.subnet].vpc for e in self.enis], "subnet_id": [e.subnet for e in self.enis],
                   "instance_id": [e.instance for e in self.enis], "az_id": [subnets[e.subnet].az_id for e in self.enis],
                   "eni_owner": [e.owner for e in self.enis]}
        # Categorical: gathering these into 10M-row columns then copies integers, not text.
        tables = {k: pl.Series(k, v, dtype=pl.Boolean if k == "v6" else pl.Categorical)
                  for k, v in {**per_address, **per_eni}.items()}
        tables["primary"] = pl.Series("primary", [self.address_id[e.primary] for e in self.enis], dtype=pl.Int32)
        tables["pod"] = pl.Series("pod", [(a.owner or "").startswith("pod ") for a in rows], dtype=pl.Boolean)
        return tables

    def phase(self, eni: Eni) -> float:
        """Where this ENI's aggregation windows start (each ENI has its own phase)."""
        if eni.window_phase is not None:
            return float(eni.window_phase)
        return (zlib.crc32(f"{self.seed}:{eni.id}".encode()) % 600_000) / 1000.0

    def pool(self, which: str) -> pl.DataFrame:
        """Address ids for random traffic: 'vpc' (IPv4 addresses of instance ENIs) or 'unlogged'."""
        if which == "unlogged":
            ids = [i for i, a in enumerate(self._addresses) if a.unlogged]
        else:
            ids = [i for i, a in enumerate(self._addresses)
                   if a.eni >= 0 and ":" not in a.ip and self.enis[a.eni].kind == "instance"]
        return pl.DataFrame({"addr": ids}, schema={"addr": pl.Int32})

    # -- observations ------------------------------------------------------------------

    def observe(self, conns: pl.DataFrame) -> pl.DataFrame:
        """Observation rows (see module doc) for every connection AWS would log.

        A connection from the topology file (its ``line`` is set) without a route is an
        error there; random ones without a route are dropped. Lookups into the small
        address/ENI/subnet tables are gathers by dense index, not joins.
        """
        conns = self._endpoints(conns)
        conns = conns.filter(~pl.col("unlogged"))
        conns = self._route(conns)
        steps = self._steps(conns)
        return self._decide(steps)

    def _endpoints(self, conns: pl.DataFrame) -> pl.DataFrame:
        rows = self._addresses
        eni_of = [a.eni for a in rows]
        unlogged = [a.unlogged for a in rows]
        conns = conns.with_columns(
            se=_lookup(eni_of, pl.col("src"), pl.Int32), de=_lookup(eni_of, pl.col("dst"), pl.Int32),
            snat=_lookup([a.pod_snat for a in rows], pl.col("src")),
            unlogged=_lookup(unlogged, pl.col("src")) | _lookup(unlogged, pl.col("dst"))
            | ((pl.col("proto") == 17) & pl.col("dport").is_in([67, 68])))  # DHCP
        # A moved secondary IP belongs to its new ENI from the move on (the floating IP).
        for move in self.topo.moves:
            ip, to = self.address_id[move.ip], self.eni_index[move.to_eni]
            moved = pl.col("t0") >= move.at
            conns = conns.with_columns(
                se=pl.when((pl.col("src") == ip) & moved).then(to).otherwise(pl.col("se")),
                de=pl.when((pl.col("dst") == ip) & moved).then(to).otherwise(pl.col("de")))
        return conns

    def _route(self, conns: pl.DataFrame) -> pl.DataFrame:
        """Attach the path category and the hop ENIs (NAT gateway, transit gateway attachments)."""
        col = pl.col
        subnets = self.topo.subnets
        sub = [self.subnet_index[e.subnet] for e in self.enis]
        vpc = [self.vpc_index[subnets[e.subnet].vpc] for e in self.enis]
        azs = sorted({s.az_id for s in self.subnets})
        az = [azs.index(subnets[e.subnet].az_id) for e in self.enis]
        nitro = [e.nitro for e in self.enis]
        primary = [self.address_id[e.primary] for e in self.enis]
        nat = [self.eni_index.get(s.internet, -1) for s in self.subnets]
        igw = [s.internet == "igw" for s in self.subnets]
        conns = conns.with_columns(
            **{f"{p}_{name}": _lookup(values, col(e), pl.Int32 if name != "nitro" else None)
               for p, e in (("s", "se"), ("d", "de"))
               for name, values in (("sub", sub), ("vpc", vpc), ("az", az), ("nitro", nitro), ("primary", primary))})
        conns = conns.with_columns(s_nat=_lookup(nat, col("s_sub"), pl.Int32), s_igw=_lookup(igw, col("s_sub")),
                                   d_igw=_lookup(igw, col("d_sub")))
        n_vpc, n_az = len(self.vpc_index), len(azs)
        pair = [False] * (n_vpc * n_vpc)
        attach = [-1] * (n_vpc * n_az)
        for tgw in self.topo.transit_gateways:
            for a in tgw.attachments:
                for b in tgw.attachments:
                    pair[self.vpc_index[a] * n_vpc + self.vpc_index[b]] = a != b
            # Each VPC is entered and left through the attachment ENI in the sender's AZ when
            # there is one, else the first (reference 12.2, transit gateway example).
            for vpc_id, ids in tgw.attachments.items():
                for i, zone in enumerate(azs):
                    same = [x for x in ids if subnets[self.topo.enis[x].subnet].az_id == zone]
                    attach[self.vpc_index[vpc_id] * n_az + i] = self.eni_index[(same or ids)[0]]
        src_in, dst_in = col("se") >= 0, col("de") >= 0
        conns = conns.with_columns(tgw=_lookup(pair, col("s_vpc") * n_vpc + col("d_vpc")),
                                   v6=_lookup([":" in a.ip for a in self._addresses], col("dst")))
        # IPv6 is never NAT-ed: it leaves through the (egress-only) internet gateway
        category = (pl.when(src_in & dst_in & (col("s_vpc") == col("d_vpc")) & (col("se") != col("de"))).then(_LOCAL)
                    .when(src_in & dst_in & col("tgw")).then(_TGW)
                    .when(src_in & ~dst_in & (col("s_igw") | col("v6"))).then(_IGW_OUT)
                    .when(src_in & ~dst_in & (col("s_nat") >= 0)).then(_NAT_OUT)
                    .when(~src_in & dst_in & col("d_igw")).then(_IGW_IN))
        # Egress to an internet gateway: path 8 from Nitro instances, else 2 (reference section 10).
        conns = conns.with_columns(category=category, s_path=pl.when(col("s_nitro")).then(8).otherwise(2),
                                   d_path=pl.when(col("d_nitro")).then(8).otherwise(2))
        # EKS pods leaving the VPC are SNAT-ed by the VPC CNI to the node ENI's primary IP.
        leaving = col("category").is_in([_IGW_OUT, _NAT_OUT]) & col("snat").fill_null(False)
        conns = conns.with_columns(src=pl.when(leaving).then(col("s_primary")).otherwise(col("src")))
        # Traffic between two addresses of one ENI (pods of one node) never crosses the ENI.
        lost = conns.filter(col("category").is_null() & col("line").is_not_null() & (col("se") != col("de")).fill_null(True))
        if lost.height:
            row = lost.row(0, named=True)
            src, dst = self._addresses[row["src"]].ip, self._addresses[row["dst"]].ip
            raise TopologyError(f"{self.topo.source}:{row['line']}: connection {src} -> {dst} has no route ("
                                "VPCs without a transit gateway, a subnet without 'internet: igw' or a NAT gateway, "
                                "or two internet hosts).", self.topo.source, row["line"])
        conns = conns.filter(col("category").is_not_null())
        hops = {"ta": col("s_vpc") * n_az + col("s_az"), "tb": col("d_vpc") * n_az + col("s_az"),
                "tb2": col("d_vpc") * n_az + col("d_az"), "ta2": col("s_vpc") * n_az + col("d_az")}
        conns = conns.with_columns(**{h: _lookup(attach, index, pl.Int32) for h, index in hops.items()})
        conns = conns.with_columns(nat_sub=_lookup(sub, col("s_nat"), pl.Int32),
                                   nat_ip=_lookup(primary, col("s_nat"), pl.Int32),
                                   **{f"{h}_sub": _lookup(sub, col(h), pl.Int32) for h in hops},
                                   **{f"{h}_ip": _lookup(primary, col(h), pl.Int32) for h in hops})
        return conns

    def _steps(self, c: pl.DataFrame) -> pl.DataFrame:
        """Every ENI traversal of every connection, in path order, with the checks due there."""
        col = pl.col
        nat_port = (1024 + (col("conn") * 7919 + col("sport")) % 64000).cast(pl.Int32)

        def step(frame, direction, order, eni, egress, psrc, pdst, sport, dport, local, path=None, sg=False, nacl=False):
            return frame.select(
                col("conn"), pl.lit(direction, pl.Int8).alias("dir"), pl.lit(order, pl.Int8).alias("step"),
                eni.cast(pl.Int32).alias("eni"), pl.lit(egress).alias("egress"), psrc.cast(pl.Int32).alias("psrc"),
                pdst.cast(pl.Int32).alias("pdst"), sport.cast(pl.Int32).alias("sport"), dport.cast(pl.Int32).alias("dport"),
                col("proto").cast(pl.Int16), local.cast(pl.Int32).alias("local"),
                (path if path is not None else pl.lit(None)).cast(pl.Int8).alias("tp"),
                pl.lit(sg).alias("sg"), (nacl if isinstance(nacl, pl.Expr) else pl.lit(nacl)).alias("nacl"))

        s, d, sp, dp = col("src"), col("dst"), col("sport"), col("dport")
        se, de = col("se"), col("de")
        differ = col("s_sub") != col("d_sub")
        parts = []
        local = c.filter(col("category") == _LOCAL)
        parts += [step(local, 0, 0, se, True, s, d, sp, dp, s, pl.lit(1), sg=True, nacl=differ),
                  step(local, 0, 1, de, False, s, d, sp, dp, d, sg=True, nacl=differ),
                  step(local, 1, 0, de, True, d, s, dp, sp, d, pl.lit(1), nacl=differ),
                  step(local, 1, 1, se, False, d, s, dp, sp, s, nacl=differ)]
        out = c.filter(col("category") == _IGW_OUT)
        parts += [step(out, 0, 0, se, True, s, d, sp, dp, s, col("s_path"), sg=True, nacl=True),
                  step(out, 1, 0, se, False, d, s, dp, sp, s, nacl=True)]
        inbound = c.filter(col("category") == _IGW_IN)
        parts += [step(inbound, 0, 0, de, False, s, d, sp, dp, d, sg=True, nacl=True),
                  step(inbound, 1, 0, de, True, d, s, dp, sp, d, col("d_path"), nacl=True)]
        nat = c.filter(col("category") == _NAT_OUT)
        n, nip, ndiff = col("s_nat"), col("nat_ip"), col("s_sub") != col("nat_sub")
        parts += [step(nat, 0, 0, se, True, s, d, sp, dp, s, pl.lit(1), sg=True, nacl=ndiff),
                  step(nat, 0, 1, n, False, s, d, sp, dp, nip, nacl=ndiff),
                  step(nat, 0, 2, n, True, nip, d, nat_port, dp, nip, pl.lit(2), nacl=True),
                  step(nat, 1, 0, n, False, d, nip, dp, nat_port, nip, nacl=True),
                  step(nat, 1, 1, n, True, d, s, dp, sp, nip, pl.lit(1), nacl=ndiff),
                  step(nat, 1, 2, se, False, d, s, dp, sp, s, nacl=ndiff)]
        tgw = c.filter(col("category") == _TGW)
        ta, tb, tb2, ta2 = col("ta"), col("tb"), col("tb2"), col("ta2")
        parts += [step(tgw, 0, 0, se, True, s, d, sp, dp, s, pl.lit(1), sg=True, nacl=col("s_sub") != col("ta_sub")),
                  step(tgw, 0, 1, ta, False, s, d, sp, dp, col("ta_ip"), nacl=col("s_sub") != col("ta_sub")),
                  step(tgw, 0, 2, tb, True, s, d, sp, dp, col("tb_ip"), pl.lit(1), nacl=col("tb_sub") != col("d_sub")),
                  step(tgw, 0, 3, de, False, s, d, sp, dp, d, sg=True, nacl=col("tb_sub") != col("d_sub")),
                  step(tgw, 1, 0, de, True, d, s, dp, sp, d, pl.lit(1), nacl=col("d_sub") != col("tb2_sub")),
                  step(tgw, 1, 1, tb2, False, d, s, dp, sp, col("tb2_ip"), nacl=col("d_sub") != col("tb2_sub")),
                  step(tgw, 1, 2, ta2, True, d, s, dp, sp, col("ta2_ip"), pl.lit(1), nacl=col("ta2_sub") != col("s_sub")),
                  step(tgw, 1, 3, se, False, d, s, dp, sp, s, nacl=col("ta2_sub") != col("s_sub"))]
        return pl.concat(parts)

    def _decide(self, steps: pl.DataFrame) -> pl.DataFrame:
        """ACCEPT/REJECT per step; drop what never happens after a rejection.

        ``rejected`` marks connections whose initiator was turned away (no reply exists).
        """
        col = pl.col
        sub = [self.subnet_index[e.subnet] for e in self.enis]
        steps = steps.with_columns(peer=pl.when(col("egress")).then(col("pdst")).otherwise(col("psrc")))
        steps = steps.with_columns(sub=_lookup(sub, col("eni"), pl.Int32),
                                   v6=_lookup([":" in a.ip for a in self._addresses], col("peer")))
        peer = col("peer")
        allowed = (~col("sg") | self._sg_expr(peer)) & (~col("nacl") | self._nacl_expr(peer))
        steps = steps.with_columns(ok=allowed.fill_null(True)).drop("peer", "sub", "v6", "sg", "nacl")
        # Only connections with a refused step need the per-connection work.
        fails = steps.filter(~col("ok")).group_by("conn", "dir").agg(fail=col("step").min())
        dirty = col("conn").is_in(fails["conn"].unique().implode())
        clean = steps.filter(~dirty).with_columns(reject=pl.lit(False), rejected=pl.lit(False))
        hit = steps.filter(dirty).join(fails, on=["conn", "dir"], how="left")
        refused = fails.filter(col("dir") == 0)["conn"].implode()
        hit = hit.with_columns(rejected=col("conn").is_in(refused))
        hit = hit.filter((col("fail").is_null() | (col("step") <= col("fail"))) & ~((col("dir") == 1) & col("rejected")))
        hit = hit.with_columns(reject=(col("step") == col("fail")).fill_null(False)).drop("fail")
        return pl.concat([clean, hit.select(clean.columns)]).drop("ok")

    # -- rules -------------------------------------------------------------------------

    def _rule_match(self, rule, peer: pl.Expr) -> pl.Expr:
        proto = pl.lit(True) if rule.protocol < 0 else pl.col("proto") == rule.protocol
        ports = pl.lit(True) if rule.ports == (0, 65535) or rule.protocol in (1, 58) else pl.col("dport").is_between(*rule.ports)
        if rule.cidr.prefixlen == 0:
            where = pl.col("v6") if rule.cidr.version == 6 else ~pl.col("v6")
        else:
            inside = [i for i, a in enumerate(self._addresses) if ipaddress.ip_address(a.ip).version == rule.cidr.version
                      and ipaddress.ip_address(a.ip) in rule.cidr]
            where = peer.is_in(pl.Series(inside, dtype=pl.Int32).implode())
        return proto & ports & where

    def _sg_expr(self, peer: pl.Expr) -> pl.Expr:
        groups: dict[tuple, list[int]] = {}
        for i, eni in enumerate(self.enis):
            if eni.security_groups:
                groups.setdefault(tuple(eni.security_groups), []).append(i)
        expr = pl.when(pl.lit(False)).then(pl.lit(True))
        for sg_ids, members in groups.items():
            sgs = [self.topo.security_groups[g] for g in sg_ids]
            outbound = pl.any_horizontal([self._rule_match(r, peer) for g in sgs for r in g.outbound] or [pl.lit(False)])
            inbound = pl.any_horizontal([self._rule_match(r, peer) for g in sgs for r in g.inbound] or [pl.lit(False)])
            member = pl.col("eni").is_in(pl.Series(members, dtype=pl.Int32).implode())
            expr = expr.when(member & pl.col("egress")).then(outbound).when(member).then(inbound)
        return expr.otherwise(pl.lit(True))

    def _nacl_expr(self, peer: pl.Expr) -> pl.Expr:
        expr = pl.when(pl.lit(False)).then(pl.lit(True))
        for acl_id, acl in self.topo.network_acls.items():
            members = [i for i, s in enumerate(self.subnets) if s.nacl == acl_id]
            if not members:
                continue
            member = pl.col("sub").is_in(pl.Series(members, dtype=pl.Int32).implode())
            expr = expr.when(member & pl.col("egress")).then(self._first_match(acl.outbound, peer))
            expr = expr.when(member).then(self._first_match(acl.inbound, peer))
        return expr.otherwise(pl.lit(True))

    def _first_match(self, rules, peer: pl.Expr) -> pl.Expr:
        """Ordered NACL rules: the lowest-numbered match decides; nothing matches = deny."""
        if not rules:
            return pl.lit(False)
        expr = pl.when(self._rule_match(rules[0], peer)).then(pl.lit(rules[0].allow))
        for rule in rules[1:]:
            expr = expr.when(self._rule_match(rule, peer)).then(pl.lit(rule.allow))
        return expr.otherwise(pl.lit(False))


def _lookup(values: list, index: pl.Expr, dtype=None) -> pl.Expr:
    """``values[index]`` for a column of dense indexes (NULL where the index is negative or NULL)."""
    series = pl.Series(values, dtype=dtype) if dtype is not None else pl.Series(values)
    if not len(series):
        return pl.lit(None, series.dtype)
    return pl.when(index >= 0).then(pl.lit(series).gather(index.clip(0, len(series) - 1)))
