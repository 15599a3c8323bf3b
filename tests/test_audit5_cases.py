"""Cases found by the fifth audit (IPv6, /28 prefixes with pod listings, several inventory
snapshots, transit gateway logs, a floating IP going A -> B -> A), each reduced to a few
hand-written records with the values the truth gives.

Times start at 2026-11-28 10:00 UTC (T).
"""

from __future__ import annotations

import json

from eniflow.inventory import Inventory
from test_audit_cases import PKT_FORMAT, T, floating_ip_on_eni_0b, pkt_log, resolve_lines, snapshot

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def test_ipv6_pkt_records_do_not_keep_a_one_address_eni_from_single(tmp_path):
    """eni-0a has one private IPv4 (10.0.1.10) and an IPv6 address, and two flow logs: a
    default-format one and one with pkt fields. The pkt log's IPv6 record shows the ENI's IPv6
    address, which is not another IPv4 address of it: the default-format IPv4 records (an
    unlogged host, 10.0.9.9) are still `single` on 10.0.1.10 (they were as-logged: the IPv6
    address counted as evidence against the one-IPv4 snapshot)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.1.10"]}, ipv6={"eni-0a": ["2600:1f18::a"]})
    pkt = pkt_log(tmp_path / "pkt", [
        f"5 eni-0a 2600:1f18::99 2600:1f18::a 40000 443 6 5 500 {T} {T + 30} ACCEPT OK 2600:1f18::99 2600:1f18::a ingress",
        f"5 eni-0a 10.0.9.9 10.0.1.10 40001 443 6 5 500 {T} {T + 30} ACCEPT OK 10.0.9.9 10.0.1.10 ingress"])
    rows, _ = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0a 10.0.9.9 10.0.1.10 40001 443 6 5 500 {T} {T + 30} ACCEPT OK",
        f"2 123456789012 eni-0a 10.0.1.10 10.0.9.9 443 40001 6 5 500 {T} {T + 30} ACCEPT OK",
    ], inv, extra=[pkt])
    assert [(r["direction"], r["local_ip"], r["resolution"]) for r in rows] == [
        ("ingress", "10.0.1.10", "single"), ("egress", "10.0.1.10", "single"),
        ("ingress", "2600:1f18::a", "pkt"), ("ingress", "10.0.1.10", "pkt")]


def _describe(path, enis: dict[str, list[str]]):
    """A describe-network-interfaces file of instance ENIs (no time: the loader gives it one)."""
    path.write_text(json.dumps({"NetworkInterfaces": [
        {"NetworkInterfaceId": eni, "InterfaceType": "interface", "SourceDestCheck": True,
         "Attachment": {"InstanceId": "i-" + eni[4:]},
         "PrivateIpAddresses": [{"PrivateIpAddress": a, "Primary": i == 0} for i, a in enumerate(addrs)]}
        for eni, addrs in enis.items()]}))
    return str(path)


def test_two_snapshot_files_given_one_time_keep_both(tmp_path):
    """`-i enis-0900.json -i enis-1500.json --at ...`: one time for both files (or two files
    copied in the same second, by modification time). At 09:00 eni-0b held the floating IP
    10.0.1.100, at 15:00 eni-0a did. Snapshots of one moment were one per ENI, the last file
    loaded winning: eni-0b had the one address 10.0.1.12 and an unlogged host's record of it was
    `single` on 10.0.1.12, where the 09:00 snapshot says it may have been 10.0.1.100. Both
    snapshots' addresses count: ambiguous between the two."""
    files = [_describe(tmp_path / "enis-0900.json", {"eni-0a": ["10.0.1.11"], "eni-0b": ["10.0.1.12", "10.0.1.100"]}),
             _describe(tmp_path / "enis-1500.json", {"eni-0a": ["10.0.1.11", "10.0.1.100"], "eni-0b": ["10.0.1.12"]})]
    inv = Inventory.from_specs(files, at=T)
    rows, _ = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0b 10.0.9.9 10.0.1.12 40000 443 6 5 500 {T + 60} {T + 90} ACCEPT OK"], inv)
    assert [(r["local_ip"], r["resolution"], r["candidates"]) for r in rows] == [
        ("10.0.1.12", "ambiguous", ["10.0.1.100", "10.0.1.12"])]
    assert inv.primaries() == {"eni-0a": "10.0.1.11", "eni-0b": "10.0.1.12"}
    held = {(f.interface_id, f.address): f.source_of_fact for f in inv.ownership()}
    assert held[("eni-0b", "10.0.1.100")] == held[("eni-0a", "10.0.1.100")] == f"snapshot:{files[0]},{files[1]}"


def test_a_floating_ip_back_on_its_first_eni_was_not_its_in_between(tmp_path):
    """No inventory. eni-0a's pkt fields show it using the floating IP 10.0.1.12 at T and again
    at T + 30 min; at T + 15 min the address is on eni-0b (default format), where the client
    eni-0c reaches it. The pkt fields tell that eni-0a held 10.0.1.12 around each of its records,
    not from the first to the last: the client's records pair with eni-0b's (they stayed
    as-logged, the pair taken for one against eni-0a's address)."""
    pkt = tmp_path / "a"
    pkt.mkdir()
    (pkt / "flows.log").write_text("\n".join([PKT_FORMAT] + [
        line for t, port in ((T, 40000), (T + 1800, 40001)) for line in (
            f"5 eni-0a 10.0.1.11 10.0.2.99 {port} 443 6 3 180 {t} {t + 30} ACCEPT OK 10.0.1.12 10.0.2.99 egress",
            f"5 eni-0a 10.0.2.99 10.0.1.11 443 {port} 6 3 180 {t} {t + 30} ACCEPT OK 10.0.2.99 10.0.1.12 ingress")]) + "\n")
    rows, _ = resolve_lines(tmp_path, HEADER, floating_ip_on_eni_0b(T + 900), None, extra=[pkt])
    assert [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"]) for r in rows] == [
        ("eni-0a", d, "10.0.1.12", "pkt") for d in ("egress", "ingress")] * 2 + [
        ("eni-0c", "egress", "10.0.2.21", "peer"),
        ("eni-0c", "ingress", "10.0.2.21", "peer"),
        ("eni-0c", "egress", "10.0.2.21", "as-logged"),
        ("eni-0b", "ingress", "10.0.1.12", "peer"),
        ("eni-0b", "egress", "10.0.1.12", "peer"),
    ]


def test_a_moved_floating_ip_sharing_a_port_with_the_primary_is_not_claimed_as_the_primary(tmp_path):
    """The snapshot gives the floating IP 10.0.1.250 to eni-0c; an hour later it is on eni-0a
    (one address, 10.0.2.15, in the snapshot), which connects to eni-0b's 10.0.1.11:80 from its
    primary and from 10.0.1.250 at once, both from port 40009 (different connections). eni-0a's
    default format logs the two alike; eni-0b's pkt fields show both senders. Each eni-0a record
    pairs with eni-0b's record of 10.0.2.15 and with its record of 10.0.1.250 (which the snapshot
    gives to eni-0c, so that pair was dropped as not the same packets): all four were `peer` on
    10.0.2.15, two of them wrong. eni-0b's record of 10.0.1.250 has no other partner, so it may
    be the counterpart of either: eni-0a's records are ambiguous, and `inventory check` reports
    the snapshot."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.2.15"], "eni-0b": ["10.0.1.11"],
                                            "eni-0c": ["10.0.1.12", "10.0.1.250"]})
    t = T + 3600
    pkt = tmp_path / "b"
    pkt.mkdir()
    (pkt / "flows.log").write_text("\n".join([PKT_FORMAT] + [
        line for c, dt in (("10.0.2.15", 0), ("10.0.1.250", 5)) for line in (
            f"5 eni-0b {c} 10.0.1.11 40009 80 6 5 500 {t + dt} {t + dt + 20} ACCEPT OK {c} 10.0.1.11 ingress",
            f"5 eni-0b 10.0.1.11 {c} 80 40009 6 5 500 {t + dt} {t + dt + 20} ACCEPT OK 10.0.1.11 {c} egress")]) + "\n")
    rows, res = resolve_lines(tmp_path, HEADER, [
        line for dt in (0, 5) for line in (
            f"2 123456789012 eni-0a 10.0.2.15 10.0.1.11 40009 80 6 5 500 {t + dt} {t + dt + 20} ACCEPT OK",
            f"2 123456789012 eni-0a 10.0.1.11 10.0.2.15 80 40009 6 5 500 {t + dt} {t + dt + 20} ACCEPT OK")
    ], inv, extra=[pkt])
    assert [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"], r["candidates"]) for r in rows] == [
        ("eni-0b", d, "10.0.1.11", "pkt", None) for d in ("ingress", "egress")] * 2 + [
        ("eni-0a", d, "10.0.2.15", "ambiguous", ["10.0.1.250", "10.0.2.15"]) for d in ("egress", "ingress")] * 2
    assert res.discrepancies().fetchall() == [("eni-0a", "10.0.1.250", "held-by-other", "the inventory gives it to eni-0c",
                                               "peer", 4, t, t + 25)]
