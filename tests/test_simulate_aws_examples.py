"""Every record example of AWS's "Flow log record examples" page, reproduced from a small
topology and compared field by field with the documented lines (reference sections 12-13).

Each test states the network and traffic the example describes, runs the simulator, and
expects exactly the documented records for that flow (the documented lines are quoted
verbatim from the AWS documentation).
"""

from __future__ import annotations

import gzip
import textwrap
from string import Template
from pathlib import Path

from eniflow.simulate import simulate
from eniflow.simulate.topology import parse_topology


def run(tmp_path: Path, topology: str) -> list[list[str]]:
    """OK records of every file written, as field lists (header checked and dropped)."""
    topo = parse_topology(textwrap.dedent(topology), "example.yaml")
    result = simulate(topo, tmp_path)
    rows = []
    for name in result.files:
        lines = gzip.decompress(Path(name).read_bytes()).decode().splitlines()
        header = lines[0].split()
        assert header == list(topo.flow_logs[0].format.names)
        rows += [line.split() for line in lines[1:] if "NODATA" not in line]
    return rows


def doc(text: str) -> list[list[str]]:
    return sorted(line.split() for line in textwrap.dedent(text).strip().splitlines())


# One VPC, one subnet, the logged ENI 172.31.16.21 and a peer ENI that is not logged.
SSH_RDP = """
account: "123456789010"
vpcs: [{id: vpc-1, cidr: 172.31.0.0/16}]
subnets: [{id: subnet-1, vpc: vpc-1, cidr: 172.31.0.0/20}, {id: subnet-2, vpc: vpc-1, cidr: 172.31.16.0/20}]
security_groups:
  - {id: sg-ssh-only, inbound: [{protocol: tcp, ports: 22, cidr: 172.31.0.0/16}]}
enis:
  - {id: eni-1235b8ca123456789, subnet: $subnet, primary: $target, instance: i-1, security_groups: [sg-ssh-only], window_phase: 0}
  - {id: eni-0peer, subnet: $peer_subnet, primary: $peer, instance: i-2}
flow_logs: [{resources: [eni-1235b8ca123456789]}]
traffic:
  start: 1418530000
  connections:
    - {from: $peer, to: "${target}:${port}", src_port: $sport, at: 1418530010, duration: 60, packets: [20, 16], bytes: [4249, 3120]}
"""


def test_accepted_ssh(tmp_path):
    topo = Template(SSH_RDP).substitute(subnet="subnet-2", target="172.31.16.21", peer_subnet="subnet-2", peer="172.31.16.139",
                          port=22, sport=20641)
    rows = run(tmp_path, topo)
    expected = doc("""
        2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
    """)
    assert [r for r in rows if r[6] == "22"] == expected
    # the reply is logged as well, on the same ENI, with the ENI's primary as srcaddr
    assert [r for r in rows if r[5] == "22"] == [
        "2 123456789010 eni-1235b8ca123456789 172.31.16.21 172.31.16.139 22 20641 6 16 3120 1418530010 1418530070 ACCEPT OK".split()]


def test_rejected_rdp(tmp_path):
    topo = Template(SSH_RDP).substitute(subnet="subnet-1", target="172.31.9.12", peer_subnet="subnet-1", peer="172.31.9.69",
                          port=3389, sport=49761)
    assert sorted(run(tmp_path, topo)) == doc("""
        2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
    """)


# Ping from a home computer to an instance; the NACL and the SG vary per test.
PING = """
account: "123456789010"
vpcs: [{id: vpc-1, cidr: 172.31.0.0/16}]
subnets: [{id: subnet-1, vpc: vpc-1, cidr: 172.31.16.0/20, nacl: acl-1, internet: igw}]
network_acls:
  - id: acl-1
    inbound: [{rule: 100, action: allow, protocol: icmp, cidr: 0.0.0.0/0}]
    outbound: $nacl_out
security_groups:
  - {id: sg-1, inbound: [{protocol: $sg_in, cidr: 0.0.0.0/0}]}
enis:
  - {id: eni-1235b8ca123456789, subnet: subnet-1, primary: 172.31.16.139, instance: i-1, security_groups: [sg-1], window_phase: 0}
internet_hosts: [{name: home, ip: 203.0.113.12}]
flow_logs: [{resources: [vpc-1]}]
traffic:
  start: 1432917000
  connections:
    - from: home
      to: 172.31.16.139
      protocol: icmp
      segments:
        - {dir: fwd, at: 1432917027, until: 1432917142, packets: 4, bytes: 336}
        - {dir: rev, at: 1432917094, until: 1432917142, packets: 4, bytes: 336}
"""


def test_ping_reply_dropped_by_the_stateless_nacl_is_a_reject_on_egress(tmp_path):
    rows = run(tmp_path, Template(PING).substitute(nacl_out="[]", sg_in="icmp"))
    assert sorted(rows) == doc("""
        2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK
        2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK
    """)


def test_ping_allowed_by_nacl_both_ways_gives_two_accepts(tmp_path):
    rows = run(tmp_path, Template(PING).substitute(nacl_out="[{rule: 100, action: allow, protocol: icmp, cidr: 0.0.0.0/0}]", sg_in="icmp"))
    assert sorted(rows) == doc("""
        2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK
        2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 ACCEPT OK
    """)


def test_ping_denied_by_the_security_group_gives_a_single_reject(tmp_path):
    rows = run(tmp_path, Template(PING).substitute(nacl_out="[{rule: 100, action: allow, protocol: icmp, cidr: 0.0.0.0/0}]", sg_in="tcp"))
    assert sorted(rows) == doc("""
        2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 REJECT OK
    """)


TCP_FLAGS = """
account: "123456789010"
vpcs: [{id: vpc-abcdefab012345678, cidr: 10.0.0.0/16}]
subnets: [{id: subnet-aaaaaaaa012345678, vpc: vpc-abcdefab012345678, cidr: 10.0.0.0/24}]
enis:
  # 10-minute windows whose boundary falls between 1566848933.2 and 1566848933.7
  - {id: eni-1235b8ca123456789, subnet: subnet-aaaaaaaa012345678, primary: 10.0.0.62, instance: i-01234567890123456, window_phase: 533.5}
internet_hosts: [{name: client, ip: 52.213.180.42}]
flow_logs:
  - resources: [eni-1235b8ca123456789]
    format: version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status
traffic:
  start: 1566848875
  connections:
    - from: client
      to: 10.0.0.62:5001
      src_port: 43416
      segments:
        - {dir: fwd, at: 1566848875, until: 1566848933.2, packets: 8, bytes: 568, flags: SYN}
        - {dir: rev, at: 1566848875, until: 1566848933.2, packets: 7, bytes: 376, flags: SYN-ACK}
    - from: client
      to: 10.0.0.62:5001
      src_port: 43418
      segments:
        - {dir: fwd, at: 1566848875, until: 1566848933.2, packets: 70, bytes: 100701, flags: SYN}
        - {dir: rev, at: 1566848875, until: 1566848933.2, packets: 12, bytes: 632, flags: SYN-ACK}
        - {dir: rev, at: 1566848933.7, until: 1566849113, packets: 1219, bytes: 63388, flags: FIN}
        - {dir: fwd, at: 1566848933.7, until: 1566849113, packets: 15774, bytes: 23294588, flags: FIN}
    # a short connection, opened and closed inside one window
    - {from: client, to: 10.0.0.62:5001, src_port: 43638, at: 1566933133, duration: 60, packets: [17, 14], bytes: [1260, 967]}
"""


def test_tcp_flag_sequence(tmp_path):
    rows = run(tmp_path, TCP_FLAGS)
    p = "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4"
    assert sorted(rows) == doc(f"""
        {p} 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK
        {p} 10.0.0.62 52.213.180.42 5001 43416 10.0.0.62 52.213.180.42 6 376 7 1566848875 1566848933 ACCEPT 18 OK
        {p} 52.213.180.42 10.0.0.62 43418 5001 52.213.180.42 10.0.0.62 6 100701 70 1566848875 1566848933 ACCEPT 2 OK
        {p} 10.0.0.62 52.213.180.42 5001 43418 10.0.0.62 52.213.180.42 6 632 12 1566848875 1566848933 ACCEPT 18 OK
        {p} 10.0.0.62 52.213.180.42 5001 43418 10.0.0.62 52.213.180.42 6 63388 1219 1566848933 1566849113 ACCEPT 1 OK
        {p} 52.213.180.42 10.0.0.62 43418 5001 52.213.180.42 10.0.0.62 6 23294588 15774 1566848933 1566849113 ACCEPT 1 OK
        {p} 52.213.180.42 10.0.0.62 43638 5001 52.213.180.42 10.0.0.62 6 1260 17 1566933133 1566933193 ACCEPT 3 OK
        {p} 10.0.0.62 52.213.180.42 5001 43638 10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK
    """)


NAT = """
account: "123456789010"
vpcs: [{id: vpc-1, cidr: 10.0.0.0/16}]
subnets:
  - {id: subnet-public, vpc: vpc-1, cidr: 10.0.0.0/24, internet: igw}
  - {id: subnet-private, vpc: vpc-1, cidr: 10.0.1.0/24, internet: eni-1235b8ca123456789}
enis:
  - {id: eni-1235b8ca123456789, subnet: subnet-public, primary: 10.0.0.220, kind: nat-gateway, description: NAT gateway nat-1}
  - {id: eni-1111aaaa2222bbbb3, subnet: subnet-private, primary: 10.0.1.5, instance: i-01234567890123456}
internet_hosts: [{ip: 203.0.113.5}]
flow_logs:
  - {resources: [vpc-1], format: "${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}"}
traffic:
  connections:
    - {from: 10.0.1.5, to: 203.0.113.5:443, duration: 5s}
"""


def test_traffic_through_a_nat_gateway(tmp_path):
    assert sorted(run(tmp_path, NAT)) == doc("""
        - eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5
        - eni-1235b8ca123456789 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5
        - eni-1235b8ca123456789 203.0.113.5 10.0.0.220 203.0.113.5 10.0.0.220
        - eni-1235b8ca123456789 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5
        i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5
        i-01234567890123456 eni-1111aaaa2222bbbb3 203.0.113.5 10.0.1.5 203.0.113.5 10.0.1.5
    """)


TGW = """
account: "123456789010"
vpcs:
  - {id: vpc-a, cidr: 10.20.0.0/16}
  - {id: vpc-abcdefab012345678, cidr: 10.40.0.0/16}
subnets:
  - {id: subnet-a1, vpc: vpc-a, cidr: 10.20.32.0/20, az_id: use1-az1}
  - {id: subnet-a2, vpc: vpc-a, cidr: 10.20.64.0/20, az_id: use1-az2}
  - {id: subnet-11111111aaaaaaaaa, vpc: vpc-abcdefab012345678, cidr: 10.40.1.0/24, az_id: use1-az1}
  - {id: subnet-22222222bbbbbbbbb, vpc: vpc-abcdefab012345678, cidr: 10.40.2.0/24, az_id: use1-az2}
enis:
  - {id: eni-client, subnet: subnet-a1, primary: 10.20.33.164, instance: i-client}
  - {id: eni-tgw-a1, subnet: subnet-a1, primary: 10.20.32.10, kind: transit-gateway-attachment}
  - {id: eni-tgw-a2, subnet: subnet-a2, primary: 10.20.64.10, kind: transit-gateway-attachment}
  - {id: eni-11111111111111111, subnet: subnet-11111111aaaaaaaaa, primary: 10.40.1.175, kind: transit-gateway-attachment}
  - {id: eni-22222222222222222, subnet: subnet-22222222bbbbbbbbb, primary: 10.40.2.31, kind: transit-gateway-attachment}
  - {id: eni-33333333333333333, subnet: subnet-22222222bbbbbbbbb, primary: 10.40.2.236, instance: i-01234567890123456}
transit_gateways:
  - id: tgw-1
    attachments:
      - {vpc: vpc-a, enis: [eni-tgw-a1, eni-tgw-a2]}
      - {vpc: vpc-abcdefab012345678, enis: [eni-11111111111111111, eni-22222222222222222]}
flow_logs:
  - resources: [vpc-abcdefab012345678]
    format: version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status
traffic:
  connections:
    - {from: 10.20.33.164, to: 10.40.2.236:80, src_port: 39812, duration: 3s}
"""


def test_traffic_through_a_transit_gateway(tmp_path):
    m = "123456789010 vpc-abcdefab012345678"
    assert sorted(run(tmp_path, TGW)) == doc(f"""
        3 eni-33333333333333333 {m} subnet-22222222bbbbbbbbb i-01234567890123456 10.20.33.164 10.40.2.236 39812 80 6 3 IPv4 10.20.33.164 10.40.2.236 ACCEPT OK
        3 eni-33333333333333333 {m} subnet-22222222bbbbbbbbb i-01234567890123456 10.40.2.236 10.20.33.164 80 39812 6 19 IPv4 10.40.2.236 10.20.33.164 ACCEPT OK
        3 eni-11111111111111111 {m} subnet-11111111aaaaaaaaa - 10.40.1.175 10.40.2.236 39812 80 6 3 IPv4 10.20.33.164 10.40.2.236 ACCEPT OK
        3 eni-22222222222222222 {m} subnet-22222222bbbbbbbbb - 10.40.2.236 10.40.2.31 80 39812 6 19 IPv4 10.40.2.236 10.20.33.164 ACCEPT OK
    """)


SERVICE = """
account: "123456789012"
region: ap-southeast-2
vpcs: [{id: vpc-abcdefab012345678, cidr: 10.0.0.0/16}]
subnets: [{id: subnet-aaaaaaaa012345678, vpc: vpc-abcdefab012345678, cidr: 10.0.0.0/24, az_id: apse2-az3}]
enis:
  - {id: eni-1235b8ca123456789, subnet: subnet-aaaaaaaa012345678, primary: 10.0.0.71, instance: i-0c50d5961bcb2d47b, nitro: true, window_phase: 10}
internet_hosts: [{name: s3, ip: 52.95.128.179, service: S3}]
flow_logs:
  - resources: [eni-1235b8ca123456789]
    format: version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status
traffic:
  connections:
    - {from: 10.0.0.71, to: "s3:80", src_port: 34210, at: 1616729292, duration: 57, packets: [7, 14], bytes: [471, 15044]}
"""


def test_service_name_traffic_path_and_flow_direction(tmp_path):
    rows = run(tmp_path, SERVICE.replace('to: "s3:80"', 'to: "52.95.128.179:80"'))
    m = "123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - -"
    assert sorted(rows) == doc(f"""
        5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 {m} ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK
        5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 {m} ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK
    """)
