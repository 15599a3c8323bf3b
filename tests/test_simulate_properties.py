"""Properties over random small topologies (Hypothesis).

* packets and bytes of a flow that left its source ENI (egress ACCEPT) are the same, in
  total, on the destination ENI's ingress records, whatever the two ENIs' windows are;
* every record obeys the primary-IP rule: IPv4 egress srcaddr / ingress dstaddr is the
  ENI's primary private IPv4, the other address and pkt-* are the packet's own;
* the truth's local_ip is the packet's address on the logging ENI's side.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import polars as pl
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eniflow.simulate import simulate
from eniflow.simulate.topology import parse_topology

FORMAT = ("version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status "
          "pkt-srcaddr pkt-dstaddr flow-direction")
START = 1795860000


@st.composite
def scenarios(draw):
    n_subnets = draw(st.integers(1, 3))
    subnets = [{"id": f"subnet-{i}", "vpc": "vpc-1", "cidr": f"10.0.{i}.0/24", "internet": "igw"} for i in range(n_subnets)]
    enis, addresses = [], []
    for i in range(draw(st.integers(2, 5))):
        subnet = draw(st.integers(0, n_subnets - 1))
        secondary = [f"10.0.{subnet}.{100 + 10 * i + k}" for k in range(draw(st.integers(0, 2)))]
        eni = {"id": f"eni-{i}", "subnet": f"subnet-{subnet}", "primary": f"10.0.{subnet}.{10 + i}", "secondary": secondary,
               "instance": f"i-{i}", "nitro": draw(st.booleans()), "window_phase": draw(st.integers(0, 599))}
        if draw(st.booleans()):
            eni["security_groups"] = ["sg-web"]
        enis.append(eni)
        addresses += [eni["primary"], *secondary]
    nacl = draw(st.booleans())
    if nacl:
        for s in subnets:
            s["nacl"] = "acl-1"
    ports = [22, 80, 443, 5432]
    connections = []
    for _ in range(draw(st.integers(1, 8))):
        src = draw(st.sampled_from(addresses + ["198.51.100.9"]))
        dst = draw(st.sampled_from([a for a in addresses if a != src] + ["203.0.113.7"]))
        if src == "198.51.100.9" and dst == "203.0.113.7":
            continue
        connections.append({
            "from": src, "to": f"{dst}:{draw(st.sampled_from(ports))}", "at": draw(st.integers(0, 1500)),
            "duration": draw(st.integers(0, 1300)), "packets": [draw(st.integers(1, 500)), draw(st.integers(0, 500))],
            "bytes": [draw(st.integers(40, 10**6)), draw(st.integers(0, 10**6))], "protocol": draw(st.sampled_from(["tcp", "udp"]))})
    topology = {
        "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16"}], "subnets": subnets, "enis": enis,
        "security_groups": [{"id": "sg-web", "inbound": [{"protocol": "tcp", "ports": "80-443", "cidr": "0.0.0.0/0"}],
                             "outbound": [{"protocol": "all", "cidr": "0.0.0.0/0"}]}],
        "network_acls": [{"id": "acl-1", "inbound": [{"rule": 100, "action": "deny", "protocol": "tcp", "ports": 22, "cidr": "0.0.0.0/0"},
                                                     {"rule": 200, "action": "allow", "protocol": "all", "cidr": "0.0.0.0/0"}],
                          "outbound": [{"rule": 100, "action": "allow", "protocol": "tcp", "cidr": "0.0.0.0/0"}]}],
        "flow_logs": [{"resources": ["vpc-1"], "format": FORMAT, "interval": draw(st.sampled_from([60, 600]))}],
        "traffic": {"start": START, "duration": 3000, "connections": connections},
    }
    return topology


def _records(result) -> pl.DataFrame:
    rows = []
    for name in result.files:
        lines = gzip.decompress(Path(name).read_bytes()).decode().splitlines()
        source = str(Path(name).relative_to(result.out))
        rows += [dict(zip(FORMAT.split(), line.split()), source=source, line=i) for i, line in enumerate(lines[1:], start=2)]
    return pl.DataFrame(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topology=scenarios())
def test_flows_agree_between_enis_and_obey_the_primary_ip_rule(tmp_path_factory, topology):
    out = tmp_path_factory.mktemp("prop")
    topo = parse_topology(yaml.safe_dump(topology), "random.yaml")
    result = simulate(topo, out)
    records = _records(result)
    ok = records.filter(pl.col("log-status") == "OK")
    primary = {e["id"]: e["primary"] for e in topology["enis"]}
    own = {e["id"]: {e["primary"], *e["secondary"]} for e in topology["enis"]}
    owner_of = {a: e for e, addrs in own.items() for a in addrs}

    for r in ok.iter_rows(named=True):
        eni = r["interface-id"]
        if r["flow-direction"] == "egress":
            assert r["srcaddr"] == primary[eni] and r["dstaddr"] == r["pkt-dstaddr"] and r["pkt-srcaddr"] in own[eni]
        else:
            assert r["dstaddr"] == primary[eni] and r["srcaddr"] == r["pkt-srcaddr"] and r["pkt-dstaddr"] in own[eni]

    sent, received = Counter(), Counter()
    key = ("pkt-srcaddr", "pkt-dstaddr", "srcport", "dstport", "protocol")
    left = {tuple(r[k] for k in key) for r in ok.filter((pl.col("flow-direction") == "egress") & (pl.col("action") == "ACCEPT"))
            .iter_rows(named=True)}
    for r in ok.iter_rows(named=True):
        flow = tuple(r[k] for k in key)
        if flow not in left or r["pkt-dstaddr"] not in owner_of or r["pkt-srcaddr"] not in owner_of:
            continue
        side = sent if r["flow-direction"] == "egress" else received
        side[flow] += int(r["packets"])
        side[(flow, "bytes")] += int(r["bytes"])
    assert sent == received

    truth = pl.read_parquet(result.truth)
    joined = records.join(truth, on=["source", "line"], how="inner")
    assert joined.height == records.height == truth.height
    for r in joined.filter(pl.col("log_status") == "OK").iter_rows(named=True):
        assert r["local_ip"] == (r["pkt-srcaddr"] if r["direction"] == "egress" else r["pkt-dstaddr"])
        assert (r["src_ip"], r["dst_ip"]) == (r["pkt-srcaddr"], r["pkt-dstaddr"])
        assert r["owner"] == f"i-{r['interface_id'].split('-')[1]}"
