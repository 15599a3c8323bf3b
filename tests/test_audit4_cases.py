"""Cases found by the fourth audit against an independently written ground-truth generator
(random VPC topologies, 60 s and 600 s windows on different phases, start/end lagging up to
60 s, colliding client ports, floating IPs moving after the inventory snapshot, EKS-like nodes,
a NAT gateway, default and version-3/5 formats), each reduced to a few hand-written records with
the values the truth gives.

Times start at 2026-11-28 10:00 UTC (T). The inventory is one ``aws ec2
describe-network-interfaces`` snapshot taken at T, before the floating IP 10.0.1.45 moved from
eni-0c (where the snapshot lists it) to an ENI that the snapshot shows with one address.
"""

from __future__ import annotations

from test_audit_cases import T, resolve_lines, snapshot

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def test_floating_ip_moved_to_a_one_address_server_is_not_single(tmp_path):
    """An hour after the snapshot, the floating IP 10.0.1.45 has moved to eni-0b, which the
    snapshot shows with the one address 10.0.4.246. The client eni-0a reaches 10.0.1.45:443 from
    its secondary 10.0.1.131; both sides are logged in the default format. eni-0b's records are
    the same packets as eni-0a's (same ports and times, eni-0a's address in them), which means
    eni-0b used 10.0.1.45, an address the snapshot gives to eni-0c: the logs contradict the
    snapshot, so eni-0b's records are not `single` on 10.0.4.246 (that was a wrong claim of
    certainty: the truth is 10.0.1.45). As with a pairing that implies an address the snapshot
    does not list, they are ambiguous, and `inventory check` reports it (held-by-other)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.1.150", "10.0.1.131"], "eni-0b": ["10.0.4.246"],
                                            "eni-0c": ["10.0.1.54", "10.0.1.45"]})
    t = T + 3600
    rows, res = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0a 10.0.1.150 10.0.1.45 55888 443 6 10 1000 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0a 10.0.1.45 10.0.1.150 443 55888 6 10 1000 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.1.131 10.0.4.246 55888 443 6 10 1000 {t + 5} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.4.246 10.0.1.131 443 55888 6 10 1000 {t + 5} {t + 30} ACCEPT OK",
    ], inv)
    assert [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"], r["candidates"]) for r in rows] == [
        ("eni-0a", "egress", "10.0.1.150", "ambiguous", ["10.0.1.131", "10.0.1.150"]),
        ("eni-0a", "ingress", "10.0.1.150", "ambiguous", ["10.0.1.131", "10.0.1.150"]),
        ("eni-0b", "ingress", "10.0.4.246", "ambiguous", ["10.0.1.45", "10.0.4.246"]),
        ("eni-0b", "egress", "10.0.4.246", "ambiguous", ["10.0.1.45", "10.0.4.246"]),
    ]
    assert res.discrepancies().fetchall() == [("eni-0b", "10.0.1.45", "held-by-other", "the inventory gives it to eni-0c",
                                               "peer", 2, t + 5, t + 30)]


def test_floating_ip_moved_to_a_one_address_client_is_not_single(tmp_path):
    """The same move seen from the sending side: eni-0a (one address, 10.0.4.246, in the
    snapshot) now holds the floating IP 10.0.1.45 and connects from it to the server eni-0b's
    secondary 10.0.1.131:443. eni-0b logged the packets arriving from 10.0.1.45, eni-0a logged
    them leaving from its primary. Paired, they say eni-0a used 10.0.1.45, which the snapshot gives
    to eni-0c; eni-0a's records were `single` on 10.0.4.246 (wrong: the packets came from
    10.0.1.45). They are ambiguous, and the contradiction is reported."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.4.246"], "eni-0b": ["10.0.1.150", "10.0.1.131"],
                                            "eni-0c": ["10.0.1.54", "10.0.1.45"]})
    t = T + 3600
    rows, res = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0a 10.0.4.246 10.0.1.131 55888 443 6 10 1000 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0a 10.0.1.131 10.0.4.246 443 55888 6 10 1000 {t} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.1.45 10.0.1.150 55888 443 6 10 1000 {t + 5} {t + 30} ACCEPT OK",
        f"2 123456789012 eni-0b 10.0.1.150 10.0.1.45 443 55888 6 10 1000 {t + 5} {t + 30} ACCEPT OK",
    ], inv)
    assert [(r["interface_id"], r["direction"], r["local_ip"], r["resolution"], r["candidates"]) for r in rows] == [
        ("eni-0a", "egress", "10.0.4.246", "ambiguous", ["10.0.1.45", "10.0.4.246"]),
        ("eni-0a", "ingress", "10.0.4.246", "ambiguous", ["10.0.1.45", "10.0.4.246"]),
        ("eni-0b", "ingress", "10.0.1.150", "ambiguous", ["10.0.1.131", "10.0.1.150"]),
        ("eni-0b", "egress", "10.0.1.150", "ambiguous", ["10.0.1.131", "10.0.1.150"]),
    ]
    assert res.discrepancies().fetchall() == [("eni-0a", "10.0.1.45", "held-by-other", "the inventory gives it to eni-0c",
                                               "peer", 2, t, t + 30)]


def test_another_enis_ping_on_the_same_server_is_no_contradiction(tmp_path):
    """ICMP has no ports: eni-0a (one address, 10.0.4.85) pings the server eni-0s's primary
    10.0.3.221 while eni-0d (10.0.4.56) pings its secondary 10.0.3.235; all three are logged. The
    server's record of eni-0d's pings (10.0.4.56 -> 10.0.3.221 as logged) overlaps eni-0a's record
    of its own pings on protocol and ports, but it is explained by eni-0d's record of the same
    packets: no sign that eni-0a used 10.0.4.56. Every record pairs with its own counterpart and
    nothing is reported (the fix for the cases above must not take another ENI's traffic for a
    stale snapshot)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.4.85"], "eni-0d": ["10.0.4.56"],
                                            "eni-0s": ["10.0.3.221", "10.0.3.235"]})
    rows, res = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0a 10.0.4.85 10.0.3.221 0 0 1 4 336 {T + 10} {T + 50} ACCEPT OK",
        f"2 123456789012 eni-0d 10.0.4.56 10.0.3.235 0 0 1 4 336 {T + 20} {T + 40} ACCEPT OK",
        f"2 123456789012 eni-0s 10.0.4.85 10.0.3.221 0 0 1 4 336 {T + 12} {T + 52} ACCEPT OK",
        f"2 123456789012 eni-0s 10.0.4.56 10.0.3.221 0 0 1 4 336 {T + 21} {T + 41} ACCEPT OK",
    ], inv)
    assert [(r["interface_id"], r["local_ip"], r["resolution"]) for r in rows] == [
        ("eni-0a", "10.0.4.85", "peer"), ("eni-0d", "10.0.4.56", "peer"),
        ("eni-0s", "10.0.3.221", "peer"), ("eni-0s", "10.0.3.235", "peer")]
    assert res.discrepancies().fetchall() == []


def test_a_pair_that_gives_an_instance_eni_a_public_address_is_no_partner(tmp_path):
    """eni-0a pings the node ENI eni-0n's primary 10.0.6.10 from its secondary 10.0.3.62, and at
    the same time the public host 198.51.100.121 (ICMP: ports 0/0 on both). The node's record of
    the first pings also matched eni-0a's record of the second (same protocol and ports,
    overlapping), which would give eni-0n the public address 198.51.100.121: the inventory lists
    eni-0n as an instance ENI (source/dest check on), which receives only packets to its own
    private addresses, so that is not the same packets. The node's record has one partner and both
    are resolved (both were ambiguous: the truth is 10.0.3.62 -> 10.0.6.10)."""
    inv = snapshot(tmp_path / "enis.json", {"eni-0a": ["10.0.3.89", "10.0.3.62"], "eni-0n": ["10.0.6.10", "10.0.6.100"]})
    rows, _ = resolve_lines(tmp_path, HEADER, [
        f"2 123456789012 eni-0a 10.0.3.89 10.0.6.10 0 0 1 4 336 {T + 10} {T + 20} ACCEPT OK",
        f"2 123456789012 eni-0a 10.0.3.89 198.51.100.121 0 0 1 4 336 {T + 60} {T + 500} ACCEPT OK",
        f"2 123456789012 eni-0n 10.0.3.62 10.0.6.10 0 0 1 4 336 {T + 11} {T + 21} ACCEPT OK",
    ], inv)
    assert [(r["interface_id"], r["direction"], r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"])
            for r in rows] == [
        ("eni-0a", "egress", "10.0.3.62", "10.0.6.10", "10.0.3.62", "peer"),
        ("eni-0a", "egress", "10.0.3.89", "198.51.100.121", "10.0.3.89", "ambiguous"),
        ("eni-0n", "ingress", "10.0.3.62", "10.0.6.10", "10.0.6.10", "peer"),
    ]
