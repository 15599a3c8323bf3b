"""Defects found by the eighth audit (flow logs with pkt fields, versions 3 and 5, alone or beside
default-format logs; partial and stale inventories), each reduced to a few hand-written records
with the values the simulator's truth gives.

Times start at 2026-11-28 10:00 UTC (T).
"""

from __future__ import annotations

import json

from eniflow.inventory import Inventory
from test_audit_cases import T, pkt_log, resolve_lines, snapshot

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
V3 = HEADER + " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr"
CERTAIN = ("pkt", "peer", "single")


def test_attachments_in_one_slash16_do_not_claim_the_endpoints_addresses(tmp_path):
    """The transit gateway example with both VPCs in one /16 (10.20.0.0/17 and 10.20.128.0/17,
    as an IPAM carving one /16 into VPCs gives), version-3 fields (no flow-direction), no
    inventory; one connection from the client 10.20.33.164 to the web server 10.20.130.236:80,
    logged on the client, the attachment in its VPC (10.20.32.10), the attachment in the server's
    VPC (10.20.129.175) and the server. The client and the server each talked to one address only,
    so their direction is undecided (as-logged, rightly). But the attachments' pkt addresses on
    their own side (the web server's on attachment A, the client's on attachment B) are private
    and in their primary's /16, and no ENI is known to have them as its primary (the two endpoint
    ENIs are tied), so all four attachment records were `pkt` with the far endpoint's address as
    `local_ip` -- though those addresses appear in every record of another logged ENI. With VPC B
    in 10.40.0.0/16 the four are `pkt` on the attachments' own addresses. Now, in one /16, they
    claim nothing (an attachment and a host with a secondary look alike there)."""
    client, web, att_a, att_b = "10.20.33.164", "10.20.130.236", "10.20.32.10", "10.20.129.175"

    def record(eni, sa, da, sp, dp, psa, pda):
        return f"3 123456789012 {eni} {sa} {da} {sp} {dp} 6 8 900 {T + 10} {T + 13} ACCEPT OK vpc-x subnet-x - 2 IPv4 {psa} {pda}"

    lines = [  # (record, the truth: direction, local_ip)
        (record("eni-0client", client, web, 39812, 80, client, web), ("egress", client)),
        (record("eni-0attach-a", client, att_a, 39812, 80, client, web), ("ingress", att_a)),
        (record("eni-0attach-b", att_b, web, 39812, 80, client, web), ("egress", att_b)),
        (record("eni-0web", client, web, 39812, 80, client, web), ("ingress", web)),
        (record("eni-0web", web, client, 80, 39812, web, client), ("egress", web)),
        (record("eni-0attach-b", web, att_b, 80, 39812, web, client), ("ingress", att_b)),
        (record("eni-0attach-a", att_a, client, 80, 39812, web, client), ("egress", att_a)),
        (record("eni-0client", web, client, 80, 39812, web, client), ("ingress", client)),
    ]
    rows, _ = resolve_lines(tmp_path, V3, [line for line, _ in lines], None)
    wrong = [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"]) for r, (_, truth) in zip(rows, lines)
             if r["resolution"] in CERTAIN and (r["direction"], r["local_ip"]) != truth]
    assert wrong == []


def test_a_stale_owner_of_the_senders_pkt_address_does_not_make_the_receiver_single(tmp_path):
    """The snapshot lists the client eni-0a with its primary 10.0.1.99 only, gives 10.0.1.100 to
    eni-0z (no records; the address was since moved to eni-0a as a secondary), and lists the
    server eni-0b with its primary 10.0.16.92 only (its secondary 10.0.16.93 assigned since).
    eni-0a's pkt fields show it sending from 10.0.1.100 to 10.0.16.93 (`pkt` on 10.0.1.100: an ENI
    the snapshot lists as no forwarder); eni-0b logs the same packets in the default format.
    Without eni-0z's entry, the pair (keyed on 10.0.1.100, eni-0a's) implies 10.0.16.93, which the
    snapshot does not give eni-0b: its records are `ambiguous` between 10.0.16.92 and 10.0.16.93.
    With it, 10.0.1.100 has two holders then (eni-0z by the snapshot, eni-0a by its pkt fields),
    counts as no one's, keys no pair, and the unkeyed-pair check skips it as an address the
    inventory gives someone: both eni-0b records were `single` on 10.0.16.92, wrong (the truth:
    10.0.16.93). (Found in `mixed`, 20,000 records, seed 1, half the ENIs in version 3, 70 % of the
    secondaries moved to another ENI of the subnet in the snapshot.) Now an address that pkt fields
    show on another ENI than the snapshot's counts as no one's in that check too: the two records
    on the same ports keep eni-0b from single, and its records stay as logged (as in audit 7's
    case of two unkeyed sides)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.1.99"], "eni-0z": ["10.0.1.104", "10.0.1.100"],
                                            "eni-0b": ["10.0.16.92"]})
    pkt = pkt_log(tmp_path / "a", [
        f"5 eni-0a 10.0.1.99 10.0.16.93 34232 443 6 5 500 {T} {T + 24} ACCEPT OK 10.0.1.100 10.0.16.93 egress",
        f"5 eni-0a 10.0.16.93 10.0.1.99 443 34232 6 5 500 {T} {T + 24} ACCEPT OK 10.0.16.93 10.0.1.100 ingress"])
    rows, _ = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0b 10.0.1.100 10.0.16.92 34232 443 6 5 500 {T} {T + 24} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.16.92 10.0.1.100 443 34232 6 5 500 {T} {T + 24} ACCEPT OK",
    ], inv, extra=[pkt])
    assert [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"]) for r in rows[:2]] == [
        ("eni-0a", "egress", "10.0.1.100", "pkt"), ("eni-0a", "ingress", "10.0.1.100", "pkt")]
    assert [(r["interface_id"], r["direction"], r["resolution"], r["candidates"]) for r in rows[2:]] == [
        ("eni-0b", "ingress", "as-logged", None), ("eni-0b", "egress", "as-logged", None)]


def _nat_and_app2(tmp_path):
    """The nat-gateway scenario's snapshot with app-2 listed by its primary 10.0.1.6 only."""
    doc = {"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-0nat", "InterfaceType": "nat_gateway", "Description": "Interface for NAT Gateway nat-0a",
         "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.220", "Primary": True}]},
        {"NetworkInterfaceId": "eni-0app2", "InterfaceType": "interface", "SourceDestCheck": True,
         "Attachment": {"InstanceId": "i-0app2"}, "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.6", "Primary": True}]}]}
    (tmp_path / "enis.json").write_text(json.dumps(doc))
    return Inventory.load(tmp_path / "enis.json", at=T)


def test_a_nat_gateway_s_record_of_an_unlisted_secondary_keeps_the_instance_from_single(tmp_path):
    """The built-in nat-gateway scenario's app-2 (primary 10.0.1.6) reaches 203.0.113.5:443
    through the NAT gateway (10.0.0.220) from its secondary 10.0.1.60; the snapshot lists app-2
    with its primary only (the secondary assigned since), app-2 is logged in the default format
    and the NAT gateway with the scenario's pkt fields. The NAT gateway's two records on the
    instance's side show 10.0.1.60 on the same ports, at the same time, to the same internet host
    (pkt-dstaddr): app-2 used another address than the snapshot's one. Neither side can key a pair
    (10.0.1.60 is no one's, the internet host's address no ENI's), and the check for such unkeyed
    pairs (`_res_unkeyed`) takes only records whose remote address is private in the other's /16,
    never an instance's record of the internet. So app-2's two records were `single` on 10.0.1.6,
    wrong (the truth: 10.0.1.60). The same with the NAT gateway in the default format. Now a NAT
    gateway's record whose pkt fields name the instance record's internet host counts in that
    check: app-2's records claim nothing (as logged). (In the default format the NAT gateway's
    record names no internet host: it counts only when seen in two flows, see the next tests.)"""
    nat = pkt_log(tmp_path / "nat", [
        f"5 eni-0nat 10.0.1.60 10.0.0.220 48606 443 6 8 1100 {T + 30} {T + 32} ACCEPT OK 10.0.1.60 203.0.113.5 ingress",
        f"5 eni-0nat 10.0.0.220 10.0.1.60 443 48606 6 9 5200 {T + 30} {T + 32} ACCEPT OK 203.0.113.5 10.0.1.60 egress"])
    rows, _ = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0app2 10.0.1.6 203.0.113.5 48606 443 6 8 1100 {T + 30} {T + 32} ACCEPT OK",
        f"2 123456789012 eni-0app2 203.0.113.5 10.0.1.6 443 48606 6 9 5200 {T + 30} {T + 32} ACCEPT OK",
    ], _nat_and_app2(tmp_path), extra=[nat])
    app = [(r["direction"], r["local_ip"], r["resolution"]) for r in rows if r["interface_id"] == "eni-0app2"]
    assert app == [("egress", "10.0.1.6", "as-logged"), ("ingress", "10.0.1.6", "as-logged")]


def test_a_default_format_nat_gateway_seeing_an_unlisted_secondary_in_two_flows_keeps_the_instance_from_single(tmp_path):
    """As above, with every ENI in the default format: app-2 opens three connections from its
    unlisted secondary 10.0.1.60 (ports 48606-48608) to 203.0.113.5:443 through the NAT gateway,
    whose records of the third are missing. Its records of the first two show 10.0.1.60 on the
    same ports at the same times, but name no internet host; two of app-2's flows matching an
    address no one holds is evidence enough that app-2 used another address than the snapshot's:
    all six records were `single` on 10.0.1.6, wrong (the truth: 10.0.1.60), and are now as
    logged, the third connection's too."""
    lines = []
    for port in (48606, 48607, 48608):
        lines += [f"2 123456789012 eni-0app2 10.0.1.6 203.0.113.5 {port} 443 6 8 1100 {T + 30} {T + 32} ACCEPT OK",
                  f"2 123456789012 eni-0app2 203.0.113.5 10.0.1.6 443 {port} 6 9 5200 {T + 30} {T + 32} ACCEPT OK"]
        lines += [f"2 123456789012 eni-0nat 10.0.1.60 10.0.0.220 {port} 443 6 8 1100 {T + 30} {T + 32} ACCEPT OK",
                  f"2 123456789012 eni-0nat 10.0.0.220 10.0.1.60 443 {port} 6 9 5200 {T + 30} {T + 32} ACCEPT OK"
                  ] if port != 48608 else []
    rows, _ = resolve_lines(tmp_path, HEADER, lines, _nat_and_app2(tmp_path))
    app = [(r["direction"], r["local_ip"], r["resolution"]) for r in rows if r["interface_id"] == "eni-0app2"]
    assert app == [("egress", "10.0.1.6", "as-logged"), ("ingress", "10.0.1.6", "as-logged")] * 3


def test_a_default_format_nat_gateway_record_of_one_flow_keeps_that_flow_from_single(tmp_path):
    """app-2 opens two connections to 203.0.113.5:443, the first (port 48606) through the NAT
    gateway, logged in the default format, the second (48607) straight through an internet gateway
    (no NAT gateway record). The NAT gateway's records of the first show 10.0.1.60, an address of
    app-2's /16 that no one is known to hold, on app-2's ports at the same time. Either app-2 sent
    from an unlisted secondary (the built-in nat-gateway scenario: its two records were `single`
    on 10.0.1.6, wrong) or another host the snapshot does not know used the same source port
    then: the logs cannot tell, so the first connection's records claim nothing. One flow is no
    evidence against the snapshot as a whole: the second stays `single` on 10.0.1.6."""
    lines = []
    for port in (48606, 48607):
        lines += [f"2 123456789012 eni-0app2 10.0.1.6 203.0.113.5 {port} 443 6 8 1100 {T + 30} {T + 32} ACCEPT OK",
                  f"2 123456789012 eni-0app2 203.0.113.5 10.0.1.6 443 {port} 6 9 5200 {T + 30} {T + 32} ACCEPT OK"]
    lines += [f"2 123456789012 eni-0nat 10.0.1.60 10.0.0.220 48606 443 6 8 1100 {T + 31} {T + 33} ACCEPT OK",
              f"2 123456789012 eni-0nat 10.0.0.220 10.0.1.60 443 48606 6 9 5200 {T + 31} {T + 33} ACCEPT OK"]
    rows, _ = resolve_lines(tmp_path, HEADER, lines, _nat_and_app2(tmp_path))
    app = [(r["direction"], r["local_ip"], r["resolution"]) for r in rows if r["interface_id"] == "eni-0app2"]
    assert app == [("egress", "10.0.1.6", "as-logged"), ("ingress", "10.0.1.6", "as-logged"),
                   ("egress", "10.0.1.6", "single"), ("ingress", "10.0.1.6", "single")]


def test_nothing_is_inferred_on_an_eni_whose_snapshot_the_logs_contradict(tmp_path):
    """eni-0srv (primary 10.0.1.10) serves port 443 on its primary and on a secondary 10.0.1.20
    assigned after the snapshot, which lists its primary only. Five logged clients reach the
    primary: their pairs resolve the server's records to 10.0.1.10 (`peer`). Client 1 also reaches
    10.0.1.20: that pair contradicts the snapshot (reported, resolving nothing). An internet host
    reaches 10.0.1.20 too, and its records had no partner: they were `inferred` on 10.0.1.10 at
    confidence 1 (the five resolved flows), wrong. The server's resolved records are those the
    snapshot could key, its listed address only, so they say nothing of the rest: where the logs
    contradict an ENI's snapshot nothing is inferred on it, and these records are `ambiguous`
    between the two addresses. (Measured on `mixed` with every ENI listed by its primary only:
    3,102 of 3,851 inferred records were wrong, now none of 206.)"""
    clients = {f"eni-0c{i}": [f"10.0.2.{i}"] for i in range(1, 6)}
    inv = snapshot(tmp_path / "enis.json", {"eni-0srv": ["10.0.1.10"], **clients})
    lines = []
    for i in range(1, 6):
        port, t = 50000 + i, T + 10 * i
        lines += [f"2 123456789012 eni-0c{i} 10.0.2.{i} 10.0.1.10 {port} 443 6 5 500 {t} {t + 5} ACCEPT OK",
                  f"2 123456789012 eni-0srv 10.0.2.{i} 10.0.1.10 {port} 443 6 5 500 {t} {t + 5} ACCEPT OK",
                  f"2 123456789012 eni-0srv 10.0.1.10 10.0.2.{i} 443 {port} 6 5 900 {t} {t + 5} ACCEPT OK",
                  f"2 123456789012 eni-0c{i} 10.0.1.10 10.0.2.{i} 443 {port} 6 5 900 {t} {t + 5} ACCEPT OK"]
    lines += [f"2 123456789012 eni-0c1 10.0.2.1 10.0.1.20 51000 443 6 5 500 {T + 100} {T + 105} ACCEPT OK",
              f"2 123456789012 eni-0srv 10.0.2.1 10.0.1.10 51000 443 6 5 500 {T + 100} {T + 105} ACCEPT OK",
              f"2 123456789012 eni-0srv 203.0.113.7 10.0.1.10 40000 443 6 5 500 {T + 200} {T + 205} ACCEPT OK",
              f"2 123456789012 eni-0srv 10.0.1.10 203.0.113.7 443 40000 6 5 900 {T + 200} {T + 205} ACCEPT OK"]
    rows, _ = resolve_lines(tmp_path, HEADER, lines, inv)
    internet = [(r["direction"], r["resolution"], r["candidates"]) for r in rows
                if r["interface_id"] == "eni-0srv" and "203.0.113.7" in (r["src_ip"], r["dst_ip"])]
    assert internet == [("ingress", "ambiguous", ["10.0.1.10", "10.0.1.20"]), ("egress", "ambiguous", ["10.0.1.10", "10.0.1.20"])]
    served = [r["resolution"] for r in rows if r["interface_id"] == "eni-0srv" and r["local_ip"] == "10.0.1.10"]
    assert served.count("peer") == 10
