"""Resolution on small hand-written flow logs (tests/data/resolve/*.log), one case per file.

Every fixture is default-format text (v5 for ``v5-pkt.log``) with a header line; times start
at 2026-11-28 10:00 UTC (1795860000). ``enis.json`` is an ``aws ec2
describe-network-interfaces`` document for every ENI of the fixtures, ``pods.json`` a
``kubectl get pods -A -o json`` document.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eniflow
from eniflow.inventory import Inventory

DATA = Path(__file__).parent / "data" / "resolve"
ENIS = DATA / "enis.json"
PODS = DATA / "pods.json"
T = 1795860000
SHOWN = ("interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "direction", "src_ip", "dst_ip", "local_ip",
         "resolution", "candidates", "confidence", "peer_interface_id", "peer_line", "owner")


def resolved(name, inventory=None, **kw):
    """The resolved records of a fixture as dicts (SHOWN columns), in file order."""
    inv = Inventory.load(inventory, at=T) if inventory else None
    res = eniflow.resolve(eniflow.read(DATA / name if isinstance(name, str) else name), inv, **kw)
    rel = res.relation
    return [dict(zip(SHOWN, row)) for row in rel.project(", ".join(f'"{c}"' for c in SHOWN)).fetchall()], res


def brief(rows):
    """(ENI, logged src -> dst, local_ip, resolution) per record."""
    return [(r["interface_id"], f"{r['srcaddr']}->{r['dstaddr']}", r["local_ip"], r["resolution"]) for r in rows]


def test_seed_scenario_every_record_paired_with_the_other_side():
    """The client reaches the server's secondary 10.0.1.20:80 and its primary 10.0.1.10:22. The
    server ENI logged its primary 10.0.1.10 for both; pairing each server record with the client's
    record of the same packets (same ports, overlapping windows) recovers the real address."""
    rows, res = resolved("seed.log")
    assert brief(rows) == [
        ("eni-0client", "10.0.2.30->10.0.1.20", "10.0.2.30", "peer"),
        ("eni-0client", "10.0.1.20->10.0.2.30", "10.0.2.30", "peer"),
        ("eni-0client", "10.0.2.30->10.0.1.10", "10.0.2.30", "peer"),
        ("eni-0client", "10.0.1.10->10.0.2.30", "10.0.2.30", "peer"),
        ("eni-0server", "10.0.2.30->10.0.1.10", "10.0.1.20", "peer"),
        ("eni-0server", "10.0.1.10->10.0.2.30", "10.0.1.20", "peer"),
        ("eni-0server", "10.0.2.30->10.0.1.10", "10.0.1.10", "peer"),
        ("eni-0server", "10.0.1.10->10.0.2.30", "10.0.1.10", "peer"),
        ("eni-0server", "None->None", None, "none"),
    ]
    server_in = rows[4]
    assert (server_in["direction"], server_in["src_ip"], server_in["dst_ip"], server_in["confidence"]) == \
        ("ingress", "10.0.2.30", "10.0.1.20", 1.0)
    assert (server_in["peer_interface_id"], server_in["peer_line"]) == ("eni-0client", 2)
    assert (rows[5]["src_ip"], rows[5]["dst_ip"], rows[5]["peer_line"]) == ("10.0.1.20", "10.0.2.30", 3)
    assert rows[8]["direction"] is None and rows[8]["src_ip"] is None
    assert res.summary() == {"pkt": 0, "peer": 8, "single": 0, "inferred": 0, "ambiguous": 0, "as-logged": 0, "none": 1}


def test_the_same_records_resolve_again_on_their_connection():
    """Resolving one read twice (say with and without the inventory) works: the second resolve
    replaces the first's work tables and gives its own answer (it used to fail: "Catalog
    eniflow_resolve does not exist")."""
    flows = eniflow.read(DATA / "seed.log")
    first = eniflow.resolve(flows, Inventory.load(ENIS, at=T)).summary()
    again = eniflow.resolve(flows, infer=False)
    assert first == again.summary() == {"pkt": 0, "peer": 8, "single": 0, "inferred": 0, "ambiguous": 0,
                                        "as-logged": 0, "none": 1}
    assert again.relation.aggregate("count(*), count(local_ip)").fetchall() == [(9, 8)]


def test_both_sides_multi_ip_pair_through_the_inventory():
    """A (10.0.1.10 + 10.0.1.11) uses its secondary to reach B's secondary 10.0.2.11:443: each ENI
    logged its own primary and the other's real secondary. No logged address is a known address of
    the other ENI, so without an inventory nothing pairs them; with it, both sides are resolved."""
    rows, _ = resolved("both-multi.log")
    assert [r["resolution"] for r in rows] == ["as-logged"] * 4 + ["peer"] * 4
    rows, _ = resolved("both-multi.log", ENIS)
    assert [(r["src_ip"], r["dst_ip"], r["resolution"]) for r in rows[:4]] == [
        ("10.0.1.11", "10.0.2.11", "peer"), ("10.0.2.11", "10.0.1.11", "peer"),
        ("10.0.1.11", "10.0.2.11", "peer"), ("10.0.2.11", "10.0.1.11", "peer")]
    assert [r["owner"] for r in rows[:4]] == ["i-0a", "i-0a", "i-0b", "i-0b"]


def test_one_port_to_both_addresses_makes_no_peer_claim():
    """The client uses port 40001 for 10.0.1.20:443 and 10.0.1.10:443 at once. The server logged the
    two flows alike; each server record pairs with both client records, which imply different
    server addresses. Which client record belongs to which server record is unknowable, so no
    record of either side is paired; with the inventory the single-IP client is still certain."""
    rows, _ = resolved("same-port-both-addresses.log")
    assert {r["resolution"] for r in rows} == {"as-logged"}
    rows, _ = resolved("same-port-both-addresses.log", ENIS)
    server = [r for r in rows if r["interface_id"] == "eni-0server"]
    client = [r for r in rows if r["interface_id"] == "eni-0client"]
    assert {(r["resolution"], tuple(r["candidates"])) for r in server} == {("ambiguous", ("10.0.1.10", "10.0.1.20"))}
    assert [(r["local_ip"], r["resolution"]) for r in client] == [("10.0.2.30", "single")] * 4


def test_long_lived_connection_pairs_window_to_window():
    """Client windows of 60 s against one 600 s server window; then the client port is reused for
    the server's primary 100 s later. Every window pairs without contradiction."""
    rows, _ = resolved("long-lived.log")
    assert {r["resolution"] for r in rows} == {"peer"}
    server = [(r["srcaddr"], r["local_ip"]) for r in rows if r["interface_id"] == "eni-0server"]
    assert server == [("10.0.2.30", "10.0.1.20"), ("10.0.1.10", "10.0.1.20"),
                      ("10.0.2.30", "10.0.1.10"), ("10.0.1.10", "10.0.1.10")]
    assert {r["local_ip"] for r in rows if r["interface_id"] == "eni-0client"} == {"10.0.2.30"}


def test_only_one_side_logged():
    """Without the other side or an inventory nothing is known: as-logged. The database ENI talks to
    one internet address only; flow logs show an ENI's private address, so the private one of the
    two in every record is its primary and gives the direction. With the inventory the server's
    records are ambiguous between its two addresses and the single-IP database ENI is certain."""
    rows, _ = resolved("one-side.log")
    assert {r["resolution"] for r in rows} == {"as-logged"}
    assert [(r["direction"], r["local_ip"]) for r in rows[4:]] == [("egress", "10.0.3.5"), ("ingress", "10.0.3.5")]
    rows, _ = resolved("one-side.log", ENIS)
    assert [(r["resolution"], r["candidates"]) for r in rows[:4]] == [("ambiguous", ["10.0.1.10", "10.0.1.20"])] * 4
    assert [(r["direction"], r["local_ip"], r["resolution"], r["owner"]) for r in rows[4:]] == [
        ("egress", "10.0.3.5", "single", "i-0db"), ("ingress", "10.0.3.5", "single", "i-0db")]


def test_inferred_from_the_same_port_with_support_share():
    """Twelve logged clients reached 10.0.1.20:443 and one 10.0.1.10:443 (the server's resolved
    records on port 443 came from 13 client endpoints, 12 of them to 10.0.1.20); an unlogged
    client's records are inferred 10.0.1.20 with confidence 12/13. --no-infer, or a minimum support
    above 12 endpoints, leaves them ambiguous between the addresses the logs showed the server
    using."""
    rows, _ = resolved("inferred.log")
    last = rows[-2:]
    assert [(r["src_ip"], r["dst_ip"], r["resolution"]) for r in last] == [
        ("10.0.2.77", "10.0.1.20", "inferred"), ("10.0.1.20", "10.0.2.77", "inferred")]
    assert last[0]["confidence"] == pytest.approx(12 / 13)
    for kw in ({"infer": False}, {"min_support": 13}):
        rows, _ = resolved("inferred.log", **kw)
        assert [(r["resolution"], r["candidates"], r["confidence"]) for r in rows[-2:]] == \
            [("ambiguous", ["10.0.1.10", "10.0.1.20"], None)] * 2


def test_a_share_that_chance_explains_is_not_inferred(tmp_path):
    """The same with only the first five clients to 10.0.1.20 and the last to 10.0.1.10: five of
    six endpoints (83 %) on one address of two is what clients picking an address at random show
    one time in five, so nothing is inferred (it was, at confidence 5/6: on `mixed` with half the
    ENIs listed by their primary only, 16 of 22 inferred records were wrong, now 4 of 8)."""
    lines = (DATA / "inferred.log").read_text().splitlines()
    kept = lines[:26] + lines[61:66] + lines[-2:]  # clients 1-5 (to 10.0.1.20), client 13 (to 10.0.1.10), the unlogged one
    (tmp_path / "six.log").write_text("\n".join(kept) + "\n")
    rows, _ = resolved(tmp_path / "six.log")
    assert [(r["src_ip"], r["resolution"], r["candidates"]) for r in rows[-2:]] == [
        ("10.0.2.77", "ambiguous", ["10.0.1.10", "10.0.1.20"]), ("10.0.1.10", "ambiguous", ["10.0.1.10", "10.0.1.20"])]


def test_transit_gateway_enis_show_the_packets_they_forward():
    """Requests reach the server through a TGW attachment ENI that logged its own address as the
    source (no pkt fields), replies leave through another that logged its own as the destination.
    The server's records (paired with them: peer) show both real addresses, so each attachment
    record is the same packets: the address it masked is the client's, and local_ip stays the
    attachment's own (AWS's transit gateway example, reference §12.2)."""
    rows, _ = resolved("transit.log", ENIS)
    assert [(r["interface_id"], r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"], r["peer_interface_id"],
             r["peer_line"]) for r in rows] == [
        ("eni-0tgw1", "10.20.33.164", "10.40.2.236", "10.40.1.175", "peer", "eni-0web", 3),
        ("eni-0web", "10.20.33.164", "10.40.2.236", "10.40.2.236", "peer", "eni-0tgw1", 2),
        ("eni-0web", "10.40.2.236", "10.20.33.164", "10.40.2.236", "peer", "eni-0tgw2", 5),
        ("eni-0tgw2", "10.40.2.236", "10.20.33.164", "10.40.2.31", "peer", "eni-0web", 4)]
    # Without the inventory nothing says the attachments forward: they keep what they logged.
    rows, _ = resolved("transit.log")
    assert [(r["src_ip"], r["dst_ip"]) for r in rows if r["interface_id"].startswith("eni-0tgw")] == [
        ("10.40.1.175", "10.40.2.236"), ("10.40.2.236", "10.40.2.31")]


def test_nat_gateway_keeping_the_port_without_pkt_fields(tmp_path):
    """A NAT gateway that kept the instance's port 50000 on the internet side (default format). Its
    legs on the instance's side logged its own address where the packet had the internet host's;
    the instance's records show the host, so those legs are resolved (peer). The legs on the internet
    side carry its own translated address, as logged. An appliance (source/dest check off, not
    known to translate) logging the same: each of the instance's records then matches two of its
    records, one of each direction, as the same packets, so which one forwarded it is unknown:
    none is claimed."""
    rows, _ = resolved("nat-same-port.log", ENIS)
    shown = [(r["interface_id"], r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"], r["peer_line"]) for r in rows]
    assert shown == [
        ("eni-0db", "10.0.3.5", "203.0.113.5", "10.0.3.5", "peer", 3),
        ("eni-0nat", "10.0.3.5", "203.0.113.5", "10.0.0.220", "peer", 2),
        ("eni-0nat", "10.0.0.220", "203.0.113.5", "10.0.0.220", "as-logged", None),
        ("eni-0nat", "203.0.113.5", "10.0.0.220", "10.0.0.220", "as-logged", None),
        ("eni-0nat", "203.0.113.5", "10.0.3.5", "10.0.0.220", "peer", 7),
        ("eni-0db", "203.0.113.5", "10.0.3.5", "10.0.3.5", "peer", 6)]
    doc = json.loads(ENIS.read_text())
    for eni in doc["NetworkInterfaces"]:
        if eni["NetworkInterfaceId"] == "eni-0nat":
            eni.update(InterfaceType="interface", SourceDestCheck=False, Description="firewall appliance")
    (tmp_path / "enis.json").write_text(json.dumps(doc))
    rows, _ = resolved("nat-same-port.log", tmp_path / "enis.json")
    assert [(r["src_ip"], r["dst_ip"], r["resolution"]) for r in rows if r["interface_id"] == "eni-0nat"] == [
        ("10.0.3.5", "10.0.0.220", "as-logged"), ("10.0.0.220", "203.0.113.5", "as-logged"),
        ("203.0.113.5", "10.0.0.220", "as-logged"), ("10.0.0.220", "10.0.3.5", "as-logged")]


def test_pkt_fields_pod_and_nat_gateway():
    """Version 5 records: a pod IP (secondary of the node ENI) from pkt-dstaddr/pkt-srcaddr, owned by
    the pod; the NAT gateway of reference §12.2 forwards, so local_ip is its own address and
    src_ip/dst_ip the real endpoints."""
    rows, _ = resolved("v5-pkt.log", [ENIS, PODS])
    assert [(r["src_ip"], r["dst_ip"], r["local_ip"], r["resolution"], r["owner"]) for r in rows] == [
        ("10.0.2.30", "10.0.4.37", "10.0.4.37", "pkt", "pod shop/web-1"),
        ("10.0.4.37", "10.0.2.30", "10.0.4.37", "pkt", "pod shop/web-1"),
        ("10.0.1.5", "203.0.113.5", "10.0.0.220", "pkt", "Interface for NAT Gateway nat-01"),
        ("10.0.0.220", "203.0.113.5", "10.0.0.220", "pkt", "Interface for NAT Gateway nat-01"),
        ("203.0.113.5", "10.0.0.220", "10.0.0.220", "pkt", "Interface for NAT Gateway nat-01"),
        ("203.0.113.5", "10.0.1.5", "10.0.0.220", "pkt", "Interface for NAT Gateway nat-01"),
    ]
    rows, _ = resolved("v5-pkt.log")  # no inventory: the public pkt address still marks forwarding
    assert [r["local_ip"] for r in rows] == ["10.0.4.37", "10.0.4.37"] + ["10.0.0.220"] * 4


def test_stale_snapshot_is_not_trusted_for_single_nor_contradicted_by_a_pairing(tmp_path):
    """A snapshot taken before the secondary 10.0.1.20 was added says the server has one address;
    the client's records of the port-80 flow pair with the server's to 10.0.1.20. A pairing does
    not overrule the inventory (a lost record of another flow would look the same): those records
    are ambiguous, the pairing is a discrepancy. The port-22 flow to the primary pairs. A record
    of an unlogged client is not `single` but ambiguous between what the snapshot and the logs show."""
    stale = json.loads(ENIS.read_text())
    for n in stale["NetworkInterfaces"]:
        if n["NetworkInterfaceId"] == "eni-0server":
            n["PrivateIpAddresses"] = n["PrivateIpAddresses"][:1]
    (tmp_path / "stale.json").write_text(json.dumps(stale))
    log = tmp_path / "seed-plus.log"
    log.write_text((DATA / "seed.log").read_text() +
                   f"2 123456789012 eni-0server 10.0.2.99 10.0.1.10 49999 80 6 3 180 {T + 100} {T + 110} ACCEPT OK\n")
    rows, res = resolved(log, tmp_path / "stale.json")
    assert [(r["resolution"], r["candidates"]) for r in rows[4:8] + rows[-1:]] == \
        [("ambiguous", ["10.0.1.10", "10.0.1.20"])] * 2 + [("peer", None)] * 2 + [("ambiguous", ["10.0.1.10", "10.0.1.20"])]
    assert [(r["local_ip"], r["resolution"]) for r in rows[:4]] == [("10.0.2.30", "single")] * 2 + [("10.0.2.30", "peer")] * 2
    assert res.discrepancies().fetchall() == [("eni-0server", "10.0.1.20", "not-in-snapshot",
                                               "the inventory lists the ENI then without it", "peer", 2, T + 5, T + 65)]


def test_resolve_accepts_a_relation_and_reports_learned_addresses():
    flows = eniflow.read(DATA / "seed.log")
    res = eniflow.resolve(flows.relation)
    assert res.summary()["peer"] == 8
    learned = {(f.interface_id, f.address, f.source_of_fact, f.valid_from, f.valid_to) for f in res.learned().facts}
    # a primary for all time; the secondary from the first to the last record that the peer join gave it
    assert learned == {("eni-0client", "10.0.2.30", "logs:primary", None, None),
                       ("eni-0server", "10.0.1.10", "logs:primary", None, None),
                       ("eni-0server", "10.0.1.20", "logs:peer", T + 5, T + 65)}


def test_learned_interval_spans_peer_and_pkt_evidence(tmp_path):
    """The seed's secondary resolved by the peer join (T+5 to T+65), then shown by a pkt field in a
    later record of another flow log of the server (T+300 to T+360): one learned fact, from the
    first to the last of both."""
    later = tmp_path / "server-pkt.log"
    later.write_text("version interface-id srcaddr dstaddr srcport dstport protocol start end action log-status "
                     "pkt-srcaddr pkt-dstaddr\n"
                     f"2 eni-0server 10.0.2.40 10.0.1.10 50000 80 6 {T + 300} {T + 360} ACCEPT OK 10.0.2.40 10.0.1.20\n")
    res = eniflow.resolve(eniflow.read([DATA / "seed.log", later]))
    assert res.summary()["pkt"] == 1
    facts = [(f.valid_from, f.valid_to, f.source_of_fact) for f in res.learned().facts
             if (f.interface_id, f.address) == ("eni-0server", "10.0.1.20")]
    assert facts == [(T + 5, T + 360, "logs:peer")]


def test_records_numbered_from_the_spooled_parts_keep_the_scan_order(tmp_path, monkeypatch):
    """On DuckDB, rid of read()'s records comes from the parts' row numbers (several parts here):
    the same rows, in the same order, as resolving the relation (numbered by row_number())."""
    import importlib

    monkeypatch.setattr(importlib.import_module("eniflow.read"), "TASK_BYTES", 1)  # a part per file
    lines = (DATA / "seed.log").read_text().splitlines(keepends=True)
    for i in range(3):  # each file repeats the seed's records with its own line numbers
        (tmp_path / f"part{i}.log").write_text("".join(lines[:1] + lines[1 + i:] + lines[1:1 + i]))
    flows = eniflow.read(sorted(str(p) for p in tmp_path.glob("*.log")))
    assert len(flows.files) == 3
    from_parts = eniflow.resolve(flows, Inventory.load([ENIS])).relation.fetchall()
    numbered = eniflow.resolve(flows.relation, Inventory.load([ENIS])).relation.fetchall()
    assert from_parts == numbered and len(from_parts) == 3 * (len(lines) - 1)


def test_cli_resolve_jsonl_and_summary(cli):
    code, out, err = cli("resolve", DATA / "seed.log", "-o", "jsonl")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 9
    assert {k: records[4][k] for k in ("interface_id", "dstaddr", "direction", "src_ip", "dst_ip", "local_ip",
                                       "resolution", "candidates", "confidence", "peer_interface_id", "peer_line")} == {
        "interface_id": "eni-0server", "dstaddr": "10.0.1.10", "direction": "ingress", "src_ip": "10.0.2.30",
        "dst_ip": "10.0.1.20", "local_ip": "10.0.1.20", "resolution": "peer", "candidates": None, "confidence": 1.0,
        "peer_interface_id": "eni-0client", "peer_line": 2}
    assert "resolution: peer 8, none 1" in err
    code, out, err = cli("resolve", DATA / "inferred.log", "--no-infer", "-o", "csv")
    assert code == 0 and ",inferred," not in out and ",ambiguous," in out


def test_cli_resolve_bad_inventory(cli, tmp_path):
    bad = tmp_path / "enis.json"
    bad.write_text('{"Reservations": []}')
    code, out, err = cli("resolve", DATA / "seed.log", "--inventory", bad)
    assert code == 1
    assert err.strip() == (f"eniflow: error: {bad}: not an inventory: expected the keys 'NetworkInterfaces' (aws ec2 "
                           "describe-network-interfaces), 'items' (kubectl get pods -A -o json) or 'eniflow_inventory'.")


def test_large_inputs_keep_their_tables_in_a_temporary_file(monkeypatch):
    """Beyond a size, resolution's tables live in a compressed temporary DuckDB file and the peer
    joins run in partitions (memory stays bounded); the answers are the same."""
    import importlib

    module = importlib.import_module("eniflow.resolve")
    monkeypatch.setattr(module, "_IN_MEMORY_UP_TO", 0)
    monkeypatch.setattr(module, "_PARTITION_ROWS", 3)
    rows, res = resolved("seed.log")
    assert [(r["local_ip"], r["resolution"]) for r in rows[4:8]] == [
        ("10.0.1.20", "peer"), ("10.0.1.20", "peer"), ("10.0.1.10", "peer"), ("10.0.1.10", "peer")]
    path = res.con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'eniflow_resolve'").fetchall()[0][0]
    assert path.endswith(".duckdb") and res.summary()["peer"] == 8


def test_peer_named_among_equal_overlaps_is_the_first_by_source_and_line(tmp_path):
    """The client logged a 600 s window of a connection, the server two 60 s windows of it, in
    two files: both overlap the client's record by 59 s. The peer named is the first by (source,
    line) whatever order the files are read in (rid, the scan order, differs between engines)."""
    header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
    (tmp_path / "client.log").write_text(header + f"2 1 eni-c 10.0.2.30 10.0.1.20 49711 80 6 10 100 {T} {T + 599} ACCEPT OK\n")
    (tmp_path / "s1.log").write_text(header + f"2 1 eni-s 10.0.2.30 10.0.1.10 49711 80 6 1 10 {T + 60} {T + 119} ACCEPT OK\n")
    (tmp_path / "s2.log").write_text(header + f"2 1 eni-s 10.0.2.30 10.0.1.10 49711 80 6 1 10 {T + 120} {T + 179} ACCEPT OK\n")
    inv = Inventory.from_document({"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-c", "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.2.30", "Primary": True}]},
        {"NetworkInterfaceId": "eni-s", "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": True},
                                                                {"PrivateIpAddress": "10.0.1.20", "Primary": False}]}]},
        at=T, source="test")
    for order in (["client.log", "s1.log", "s2.log"], ["s2.log", "s1.log", "client.log"]):
        res = eniflow.resolve(eniflow.read([tmp_path / name for name in order]), inv)
        rows = res.relation.filter("interface_id = 'eni-c'").project("resolution, peer_source, peer_line").fetchall()
        assert rows == [("peer", str(tmp_path / "s1.log"), 2)], order
