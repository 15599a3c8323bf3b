"""Traffic semantics: windows, SKIPDATA and idle periods, traffic types, what AWS never logs, IPv6."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path

from eniflow.simulate import simulate
from eniflow.simulate.topology import parse_topology

NET = """
account: "123456789012"
vpcs: [{id: vpc-1, cidr: 10.0.0.0/16}]
subnets: [{id: subnet-1, vpc: vpc-1, cidr: 10.0.1.0/24, internet: igw}]
security_groups:
  - {id: sg-web, inbound: [{protocol: tcp, ports: 443, cidr: 0.0.0.0/0}, {protocol: tcp, ports: 443, cidr: "::/0"}],
     outbound: [{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: "::/0"}]}
enis:
  - {id: eni-a, subnet: subnet-1, primary: 10.0.1.10, ipv6: ["2600:1f18::10"], instance: i-a, security_groups: [sg-web], window_phase: 0}
  - {id: eni-b, subnet: subnet-1, primary: 10.0.1.20, instance: i-b, window_phase: 30}
flow_logs: [{resources: [vpc-1], format: "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${type}", interval: 60 TRAFFIC_TYPE}]
traffic:
  start: 1795860000
  duration: DURATION
  connections:
"""


def run(tmp_path: Path, connections: str, extra: str = "", duration: str = "3m", traffic_type: str = "") -> list[list[str]]:
    text = NET.replace("DURATION", duration).replace(" TRAFFIC_TYPE", f", traffic_type: {traffic_type}" if traffic_type else "")
    topo = parse_topology(text + textwrap.indent(textwrap.dedent(connections), "    ")
                          + textwrap.indent(textwrap.dedent(extra), "  "), "t.yaml")
    result = simulate(topo, tmp_path)
    return [line.split() for f in result.files for line in gzip.decompress(Path(f).read_bytes()).decode().splitlines()[1:]]


def test_long_flow_is_split_per_window_on_each_enis_own_phase(tmp_path):
    rows = run(tmp_path, "- {from: eni-b, to: '10.0.1.10:443', src_port: 50000, at: +10s, duration: 100s, packets: [101, 51], bytes: [10100, 51000]}\n")
    a_in = [r for r in rows if r[0] == "eni-a" and r[4] == "443"]
    b_out = [r for r in rows if r[0] == "eni-b" and r[4] == "443"]
    # eni-a's windows start on the minute, eni-b's at :30
    assert [(r[5], r[6], r[7], r[8]) for r in a_in] == [("50", "5000", "1795860010", "1795860059"),
                                                        ("51", "5100", "1795860060", "1795860110")]
    # one packet at each end, the other 99 spread evenly: 1 + 19 | 60 | 20 + 1
    assert [(r[5], r[6], r[7], r[8]) for r in b_out] == [("20", "2000", "1795860010", "1795860029"),
                                                         ("60", "6000", "1795860030", "1795860089"),
                                                         ("21", "2100", "1795860090", "1795860110")]


def test_skipdata_replaces_the_window_and_idle_windows_are_nodata(tmp_path):
    rows = run(tmp_path, """
        - {from: eni-b, to: '10.0.1.10:443', at: +10s, duration: 5s, repeat: 3, every: 60s}
    """, extra="skipdata: [{eni: eni-a, at: +70s}]\n")
    a = [(r[7], r[8], r[10]) for r in rows if r[0] == "eni-a"]
    statuses = sorted({(s, start) for start, _, s in a})
    assert ("SKIPDATA", "1795860060") in statuses
    assert [r for r in rows if r[0] == "eni-a" and r[7] == "1795860060"] == [
        ["eni-a", "-", "-", "-", "-", "-", "-", "1795860060", "1795860120", "-", "SKIPDATA", "-"]]
    assert ("NODATA", "1795860180") in statuses  # the last minute has no traffic


def test_idle_period_suppresses_connections_touching_the_eni(tmp_path):
    rows = run(tmp_path, "- {from: eni-b, to: '10.0.1.10:443', at: +10s, duration: 5s, repeat: 3, every: 60s}\n",
               extra="idle: [{eni: eni-a, from: +60s, until: +120s}]\n")
    starts = sorted({r[7] for r in rows if r[0] == "eni-a" and r[10] == "OK"})
    assert starts == ["1795860010", "1795860130"]


def test_traffic_aws_never_logs(tmp_path):
    rows = run(tmp_path, """
        - {from: eni-a, to: '169.254.169.254:80', at: +10s}
        - {from: eni-a, to: '169.254.169.123:123', protocol: udp, at: +10s}
        - {from: eni-a, to: '10.0.0.2:53', protocol: udp, at: +10s}
        - {from: eni-a, to: '10.0.1.1:67', protocol: udp, at: +10s}
    """)
    assert {r[10] for r in rows} == {"NODATA"}


def test_reject_only_flow_log_keeps_only_rejects(tmp_path):
    rows = run(tmp_path, """
        - {from: eni-b, to: '10.0.1.10:443', at: +10s}
        - {from: eni-b, to: '10.0.1.10:22', src_port: 41000, at: +20s, packets: [3, 0], bytes: [180, 0]}
    """, traffic_type="REJECT")
    ok = [r for r in rows if r[10] == "OK"]
    assert ok == [["eni-a", "10.0.1.20", "10.0.1.10", "41000", "22", "3", "180", "1795860020", "1795860021", "REJECT", "OK", "IPv4"]]


def test_ipv6_keeps_real_addresses(tmp_path):
    rows = run(tmp_path, "- {from: '2001:db8:1234:a100::5', to: '[2600:1f18::10]:443', src_port: 34892, at: +10s, packets: [54, 40], bytes: [8855, 3000]}\n")
    assert [r for r in rows if r[10] == "OK"] == [
        ["eni-a", "2001:db8:1234:a100::5", "2600:1f18::10", "34892", "443", "54", "8855", "1795860010", "1795860011", "ACCEPT", "OK", "IPv6"],
        ["eni-a", "2600:1f18::10", "2001:db8:1234:a100::5", "443", "34892", "40", "3000", "1795860010", "1795860011", "ACCEPT", "OK", "IPv6"]]


def test_ipv6_from_a_private_subnet_bypasses_the_nat_gateway(tmp_path):
    topo = parse_topology("""
vpcs: [{id: vpc-1, cidr: 10.0.0.0/16, ipv6_cidr: "2600:1f18:1::/56"}]
subnets:
  - {id: subnet-pub, vpc: vpc-1, cidr: 10.0.0.0/24}
  - {id: subnet-priv, vpc: vpc-1, cidr: 10.0.1.0/24, internet: eni-nat}
enis:
  - {id: eni-nat, subnet: subnet-pub, primary: 10.0.0.5, kind: nat-gateway}
  - {id: eni-a, subnet: subnet-priv, primary: 10.0.1.10, ipv6: ["2600:1f18:1:1::10"], instance: i-a, nitro: true}
flow_logs: [{resources: [vpc-1], format: "${interface-id} ${srcaddr} ${dstaddr} ${traffic-path} ${type}"}]
traffic:
  start: 1795860000
  connections:
    - {from: "2600:1f18:1:1::10", to: "[2001:db8::1]:443", at: +10s}
    - {from: 10.0.1.10, to: "198.51.100.1:443", at: +20s}
""", "t.yaml")
    result = simulate(topo, tmp_path)
    rows = {line for f in result.files for line in gzip.decompress(Path(f).read_bytes()).decode().splitlines()[1:]
            if "NODATA" not in line}
    assert {r for r in rows if "IPv6" in r} == {"eni-a 2600:1f18:1:1::10 2001:db8::1 8 IPv6", "eni-a 2001:db8::1 2600:1f18:1:1::10 - IPv6"}
    assert sum(r.startswith("eni-nat") for r in rows) == 4  # only the IPv4 connection goes through the NAT gateway


def test_bytes_of_a_split_piece_add_up_exactly(tmp_path):
    # found by the property test: 48 * 107 / 107 computed in floats floored to 47
    rows = run(tmp_path, "- {from: eni-a, to: '10.0.1.20:443', src_port: 50000, at: 0, duration: 30, packets: [107, 0], bytes: [48, 0]}\n")
    a_out = [(r[5], r[6]) for r in rows if r[0] == "eni-a" and r[10] == "OK"]
    b_in = [(r[5], r[6]) for r in rows if r[0] == "eni-b" and r[10] == "OK"]
    assert a_out == [("107", "48")]       # eni-a's window holds the whole piece
    # eni-b's window boundary at :30 is the last packet's time: 106 packets | the last one
    assert b_in == [("106", "47"), ("1", "1")]
