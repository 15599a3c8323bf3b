"""Cases found by an audit against independently generated ground truth (random topologies of
the simulator, stale inventory snapshots, floating IPs moving several times), each reduced to a
few hand-written records with the values the truth gives.

Times start at 2026-11-28 10:00 UTC (T). The inventory is one ``aws ec2
describe-network-interfaces`` snapshot taken at T, before a floating IP moved.
"""

from __future__ import annotations

import json

import eniflow
from eniflow.inventory import Inventory

T = 1795860000
PKT_FORMAT = "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " \
             "pkt-srcaddr pkt-dstaddr flow-direction"


def snapshot(path, enis: dict[str, list[str]], ipv6: dict[str, list[str]] | None = None):
    """A describe-network-interfaces snapshot taken at T: instance ENIs (source/dest check on)
    with their private IPv4 addresses, primary first, and IPv6 addresses."""
    doc = {"NetworkInterfaces": [
        {"NetworkInterfaceId": eni, "InterfaceType": "interface", "SourceDestCheck": True,
         "Attachment": {"InstanceId": "i-" + eni[4:]},
         "PrivateIpAddresses": [{"PrivateIpAddress": a, "Primary": i == 0} for i, a in enumerate(addrs)],
         "Ipv6Addresses": [{"Ipv6Address": a} for a in (ipv6 or {}).get(eni, [])]}
        for eni, addrs in enis.items()]}
    path.write_text(json.dumps(doc))
    return Inventory.load(path, at=T)


def pkt_log(directory, lines: list[str]):
    """``directory`` with one flow log of ``lines`` in PKT_FORMAT (an ``extra`` source of resolve_lines)."""
    directory.mkdir()
    (directory / "flows.log").write_text("\n".join([PKT_FORMAT, *lines]) + "\n")
    return directory


def resolve_lines(tmp_path, header: str, lines: list[str], inventory, extra=()):
    """Resolve one flow log file of ``lines`` (and the ``extra`` sources); rows by file and line."""
    log = tmp_path / "flows.log"
    log.write_text("\n".join([header, *lines]) + "\n")
    res = eniflow.resolve(eniflow.read([log, *extra]), inventory)
    cols = ("interface_id", "direction", "src_ip", "dst_ip", "local_ip", "resolution", "owner", "candidates")
    rel = res.relation.order("source, line")
    return [dict(zip(cols, r)) for r in rel.project(", ".join(cols)).fetchall()], res


def test_pkt_address_of_a_moved_floating_ip_is_the_enis_own_not_forwarded(tmp_path):
    """The snapshot at T gives the floating IP 10.0.1.100 to eni-0active; by T + 15 min it has
    moved to eni-0standby, whose pkt fields show it. eni-0standby is an instance ENI with
    source/dest check on, so it cannot forward others' packets: the pkt address is its own and
    the snapshot is stale there (a discrepancy), not a sign of a forwarding hop (local_ip would be
    its primary 10.0.1.12, a wrong claim of certainty)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0active": ["10.0.1.11", "10.0.1.100"], "eni-0standby": ["10.0.1.12"]})
    rows, res = resolve_lines(tmp_path, PKT_FORMAT, [
        f"5 eni-0standby 10.0.2.21 10.0.1.12 50000 443 6 10 1000 {T + 900} {T + 960} ACCEPT OK 10.0.2.21 10.0.1.100 ingress",
        f"5 eni-0standby 10.0.1.12 10.0.2.21 443 50000 6 12 9000 {T + 900} {T + 960} ACCEPT OK 10.0.1.100 10.0.2.21 egress",
    ], inv)
    assert [(r["direction"], r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"]) for r in rows] == [
        ("ingress", "10.0.2.21", "10.0.1.100", "10.0.1.100", "pkt"),
        ("egress", "10.0.1.100", "10.0.2.21", "10.0.1.100", "pkt"),
    ]
    assert res.discrepancies().fetchall() == [("eni-0standby", "10.0.1.100", "held-by-other",
                                               "the inventory gives it to eni-0active", "pkt", 2, T + 900, T + 960)]


def test_pod_ip_reused_by_another_pod_names_no_pod(tmp_path):
    """Two `kubectl get pods -A -o json` snapshots, half an hour apart: the pod IP 10.0.4.37 (a
    secondary of the node ENI) belonged to shop/web-1, then, after web-1 was replaced, to
    shop/web-2. A record cannot be told which of the two it was (pod listings carry no time), so
    it names neither (naming the first by name was wrong for the other half of the records):
    the owner is the node's instance, which held the address all along."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0node": ["10.0.4.10", "10.0.4.37"]})
    for i, name in enumerate(("web-1", "web-2")):
        doc = {"apiVersion": "v1", "kind": "List", "items": [
            {"metadata": {"namespace": "shop", "name": name}, "spec": {},
             "status": {"hostIP": "10.0.4.10", "podIP": "10.0.4.37", "podIPs": [{"ip": "10.0.4.37"}]}}]}
        (tmp_path / f"pods-{i}.json").write_text(json.dumps(doc))
        inv = inv.merge(Inventory.load(tmp_path / f"pods-{i}.json", at=T + 1800 * i))
    rows, _ = resolve_lines(tmp_path, PKT_FORMAT, [
        f"5 eni-0node 10.0.2.30 10.0.4.10 41000 8080 6 10 1000 {T} {T + 60} ACCEPT OK 10.0.2.30 10.0.4.37 ingress",
        f"5 eni-0node 10.0.4.10 10.0.2.30 8080 41000 6 10 1000 {T + 1800} {T + 1860} ACCEPT OK 10.0.4.37 10.0.2.30 egress",
    ], inv)
    assert [(r["local_ip"], r["resolution"], r["owner"]) for r in rows] == [("10.0.4.37", "pkt", "i-0node")] * 2


def test_one_clients_repeated_connections_are_no_support_for_inference(tmp_path):
    """One logged client, 10.0.2.1, connected six times to the server's secondary 10.0.1.20:443,
    each time from a new ephemeral port: six resolved records, but one client. An unlogged
    client's records on port 443 say nothing about which address it used (the truth was the
    primary): they stay ambiguous; counting the six ports as six clients inferred 10.0.1.20
    at confidence 1."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0server": ["10.0.1.10", "10.0.1.20"], "eni-0c1": ["10.0.2.1"]})
    header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    lines = []
    for i in range(6):
        t, port = T + 60 * i, 50001 + i
        lines += [f"2 123456789012 eni-0c1 10.0.2.1 10.0.1.20 {port} 443 6 10 1000 {t + 10} {t + 40} ACCEPT OK",
                  f"2 123456789012 eni-0server 10.0.2.1 10.0.1.10 {port} 443 6 10 1000 {t + 15} {t + 45} ACCEPT OK"]
    lines.append(f"2 123456789012 eni-0server 10.0.2.77 10.0.1.10 50077 443 6 10 1000 {T + 905} {T + 935} ACCEPT OK")
    rows, res = resolve_lines(tmp_path, header, lines, inv)
    assert [(r["interface_id"], r["local_ip"], r["resolution"]) for r in rows[:2]] == [
        ("eni-0c1", "10.0.2.1", "peer"), ("eni-0server", "10.0.1.20", "peer")]
    assert (rows[-1]["resolution"], res.relation.project("candidates").fetchall()[-1][0]) == \
        ("ambiguous", ["10.0.1.10", "10.0.1.20"])


def test_ipv6_record_takes_its_direction_from_the_inventorys_ipv6_addresses(tmp_path):
    """A version 3 format without flow-direction, IPv6 traffic of eni-0a (2600:1f18:1:12::d)
    to a host whose ENI is not logged; the reply was lost. IPv6 addresses are logged as they are,
    so the inventory's IPv6 address of the ENI tells which side is its own: egress, and the pkt
    fields give the packet's addresses (the direction was unknown, the record as-logged)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.2.13"]}, ipv6={"eni-0a": ["2600:1f18:1:12::d"]})
    header = "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " \
             "pkt-srcaddr pkt-dstaddr tcp-flags type"
    rows, _ = resolve_lines(tmp_path, header, [
        f"3 eni-0a 2600:1f18:1:12::d 2600:1f18:1:12::a 54047 443 6 3 180 {T} {T + 5} ACCEPT OK "
        "2600:1f18:1:12::d 2600:1f18:1:12::a 2 IPv6",
    ], inv)
    assert [(r["direction"], r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"], r["owner"]) for r in rows] == [
        ("egress", "2600:1f18:1:12::d", "2600:1f18:1:12::a", "2600:1f18:1:12::d", "pkt", "i-0a")]


def floating_ip_on_eni_0b(t: int) -> list[str]:
    """Default-format records at t: the client eni-0c (10.0.2.21) reaches the floating IP 10.0.1.12,
    now on eni-0b (primary 10.0.1.13), and eni-0b logs it masked; eni-0c also talks to 10.0.3.5."""
    return [
        f"2 123456789012 eni-0c 10.0.2.21 10.0.1.12 50000 443 6 10 1000 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0c 10.0.1.12 10.0.2.21 443 50000 6 12 9000 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0c 10.0.2.21 10.0.3.5 50001 5432 6 4 400 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.2.21 10.0.1.13 50000 443 6 10 1000 {t + 5} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.1.13 10.0.2.21 443 50000 6 12 9000 {t + 5} {t + 30} ACCEPT OK",
    ]


def test_a_secondary_seen_in_pkt_fields_is_that_enis_only_while_seen(tmp_path):
    """No inventory. eni-0a's flow log has pkt fields: in its first minute they show it sending
    from the floating IP 10.0.1.12. By T + 15 min the address has moved to eni-0b (default
    format), where a client reaches it. The pkt fields tell who held 10.0.1.12 at T, not at
    T + 15 min: the client's records pair with eni-0b's (which would otherwise be excluded as
    not eni-0b's address, and stay unresolved)."""
    pkt = tmp_path / "a"
    pkt.mkdir()
    (pkt / "flows.log").write_text("\n".join([PKT_FORMAT,
        f"5 eni-0a 10.0.1.11 10.0.2.99 40000 443 6 3 180 {T} {T + 30} ACCEPT OK 10.0.1.12 10.0.2.99 egress",
        f"5 eni-0a 10.0.2.99 10.0.1.11 443 40000 6 3 180 {T} {T + 30} ACCEPT OK 10.0.2.99 10.0.1.12 ingress"]) + "\n")
    header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    rows, _ = resolve_lines(tmp_path, header, floating_ip_on_eni_0b(T + 900), None, extra=[pkt])
    assert [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"]) for r in rows] == [
        ("eni-0a", "egress", "10.0.1.12", "pkt"),
        ("eni-0a", "ingress", "10.0.1.12", "pkt"),
        ("eni-0c", "egress", "10.0.2.21", "peer"),
        ("eni-0c", "ingress", "10.0.2.21", "peer"),
        ("eni-0c", "egress", "10.0.2.21", "as-logged"),
        ("eni-0b", "ingress", "10.0.1.12", "peer"),
        ("eni-0b", "egress", "10.0.1.12", "peer"),
    ]


TGW_FORMAT = ("version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id "
              "tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id "
              "tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
              "log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded "
              "packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service")


def test_transit_gateway_records_have_no_local_address(tmp_path):
    """A transit gateway flow log (version 6) logs the packet's own addresses per attachment, with
    no ENI: the direction is the attachment's, src_ip/dst_ip are as logged, and there is no local
    address (the server's 10.40.2.240 is not the attachment's, as local_ip would say)."""
    log = tmp_path / "tgw.log"
    log.write_text("\n".join([TGW_FORMAT,
        f"6 TransitGateway 123456789012 tgw-1 tgw-attach-0a 123456789012 123456789012 vpc-a vpc-b subnet-a subnet-b "
        f"eni-0tgwa eni-0tgwb use1-az1 use1-az2 tgw-attach-0b 10.20.33.164 10.40.2.240 39812 80 6 8 900 {T} {T + 30} "
        "OK IPv4 0 0 0 0 2 us-east-1 ingress - -",
        f"6 TransitGateway 123456789012 tgw-1 tgw-attach-0b 123456789012 123456789012 vpc-a vpc-b subnet-a subnet-b "
        f"eni-0tgwa eni-0tgwb use1-az1 use1-az2 tgw-attach-0a 10.20.33.164 10.40.2.240 39812 80 6 8 900 {T} {T + 30} "
        "OK IPv4 0 0 0 0 2 us-east-1 egress - -"]) + "\n")
    res = eniflow.resolve(eniflow.read(log))
    rows = res.relation.order("line").project(
        "tgw_attachment_id, direction, src_ip, dst_ip, local_ip, resolution, owner").fetchall()
    assert rows == [("tgw-attach-0a", "ingress", "10.20.33.164", "10.40.2.240", None, "as-logged", None),
                    ("tgw-attach-0b", "egress", "10.20.33.164", "10.40.2.240", None, "as-logged", None)]
