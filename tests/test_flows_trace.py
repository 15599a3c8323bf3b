"""`eniflow flows --ip` and `eniflow trace` on the hand-written fixtures of tests/data/resolve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eniflow
from eniflow.inventory import Inventory

DATA = Path(__file__).parent / "data" / "resolve"
T = 1795860000


def test_flows_for_secondary_ip_finds_the_masked_server_records():
    """The server logged 10.0.1.10 for traffic to 10.0.1.20; searching srcaddr/dstaddr finds only
    the client's two records, the resolved columns find the server's two as well (masked)."""
    rel = eniflow.flows_for_ip(DATA / "seed.log", "10.0.1.20")
    got = rel.project("interface_id, srcaddr, dstaddr, src_ip, dst_ip, match, masked, resolution").fetchall()
    assert got == [
        ("eni-0client", "10.0.2.30", "10.0.1.20", "10.0.2.30", "10.0.1.20", "dst", False, "peer"),
        ("eni-0client", "10.0.1.20", "10.0.2.30", "10.0.1.20", "10.0.2.30", "src", False, "peer"),
        ("eni-0server", "10.0.2.30", "10.0.1.10", "10.0.2.30", "10.0.1.20", "dst", True, "peer"),
        ("eni-0server", "10.0.1.10", "10.0.2.30", "10.0.1.20", "10.0.2.30", "src", True, "peer"),
    ]


def test_flows_port_filter_and_primary():
    resolved = eniflow.resolve(eniflow.read(DATA / "seed.log"))
    rel = eniflow.flows_for_ip(resolved, "10.0.1.10", port=22)
    assert rel.project("interface_id, srcport, dstport, match").fetchall() == [
        ("eni-0client", 49153, 22, "dst"), ("eni-0client", 22, 49153, "src"),
        ("eni-0server", 49153, 22, "dst"), ("eni-0server", 22, 49153, "src")]
    assert eniflow.flows_for_ip(resolved, "10.0.1.10", port=80).fetchall() == []


def test_flows_lists_ambiguous_records_as_candidates():
    """Only the server is logged: its records may concern 10.0.1.20 (one of its two addresses)."""
    resolved = eniflow.resolve(eniflow.read(DATA / "one-side.log"), Inventory.load(DATA / "enis.json", at=T))
    rel = eniflow.flows_for_ip(resolved, "10.0.1.20")
    assert rel.project("srcaddr, dstaddr, match, resolution").fetchall() == [
        ("10.0.2.30", "10.0.1.10", "candidate", "ambiguous"), ("10.0.1.10", "10.0.2.30", "candidate", "ambiguous"),
        ("10.0.2.31", "10.0.1.10", "candidate", "ambiguous"), ("10.0.1.10", "10.0.2.31", "candidate", "ambiguous")]


def test_trace_pairs_both_sides_in_time_order():
    rel = eniflow.trace(DATA / "seed.log", "10.0.2.30", "10.0.1.20:80")
    got = rel.project("start, src_ip, dst_ip, sender_eni, sender_logged, sender_line, "
                      "receiver_eni, receiver_logged, receiver_line").fetchall()
    assert got == [
        (T, "10.0.2.30", "10.0.1.20", "eni-0client", "10.0.2.30 -> 10.0.1.20", 2,
         "eni-0server", "10.0.2.30 -> 10.0.1.10", 6),
        (T + 5, "10.0.1.20", "10.0.2.30", "eni-0server", "10.0.1.10 -> 10.0.2.30", 7,
         "eni-0client", "10.0.1.20 -> 10.0.2.30", 3),
    ]


def test_trace_long_lived_connection_one_row_per_client_window():
    rel = eniflow.trace(DATA / "long-lived.log", "10.0.2.30", "10.0.1.20:5432")
    rows = rel.project("start, src_ip, sender_eni, receiver_eni, receiver_line").fetchall()
    requests = [r for r in rows if r[1] == "10.0.2.30"]
    assert [r[0] for r in requests] == [T + 60 * k for k in range(10)]
    assert {(r[2], r[3], r[4]) for r in requests} == {("eni-0client", "eni-0server", 22)}


def test_trace_one_side_logged_shows_the_gap():
    resolved = eniflow.resolve(eniflow.read(DATA / "one-side.log"))
    rel = eniflow.trace(resolved, "10.0.2.30", "10.0.1.10:80")
    assert rel.project("src_ip, sender_eni, receiver_eni, receiver_resolution, sender_resolution").fetchall() == [
        ("10.0.2.30", None, "eni-0server", "as-logged", None),
        ("10.0.1.10", "eni-0server", None, None, "as-logged")]


def test_cli_flows_jsonl(cli):
    code, out, err = cli("flows", DATA / "seed.log", "--ip", "10.0.1.20", "--port", "80", "-o", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["interface_id"], r["line"], r["masked"]) for r in rows] == [
        ("eni-0client", 2, False), ("eni-0client", 3, False), ("eni-0server", 6, True), ("eni-0server", 7, True)]
    assert "4 records" in err


def test_cli_trace_table(cli):
    code, out, err = cli("trace", DATA / "seed.log", "--from", "10.0.2.30", "--to", "10.0.1.20:80")
    assert code == 0
    assert "trace 10.0.2.30 <-> 10.0.1.20:80" in out
    assert "2 rows" in err


def test_cli_bad_addresses_are_usage_errors(cli):
    code, _, err = cli("flows", DATA / "seed.log", "--ip", "10.0.1")
    assert code == 2 and "--ip '10.0.1' is not an IP address; give one such as 10.0.1.20." in err
    code, _, err = cli("trace", DATA / "seed.log", "--from", "10.0.2.30", "--to", "server:80")
    assert code == 2 and "'server:80' is not an address: give IP or IP:PORT, e.g. 10.0.1.20:443." in err


def test_flows_and_trace_on_a_format_without_times_or_counters(tmp_path):
    """A custom format may leave out start, end, packets and bytes (the transit-gateway scenario's
    does): flows and trace show those as empty instead of failing with a binder error."""
    log = tmp_path / "no-times.log"
    log.write_text("version interface-id srcaddr dstaddr srcport dstport protocol action log-status\n"
                   "3 eni-0client 10.0.2.30 10.0.1.20 49152 80 6 ACCEPT OK\n"
                   "3 eni-0client 10.0.1.20 10.0.2.30 80 49152 6 ACCEPT OK\n")
    rel = eniflow.flows_for_ip(log, "10.0.1.20")
    assert rel.project("line, start, bytes, src_ip, dst_ip").fetchall() == [
        (2, None, None, "10.0.2.30", "10.0.1.20"), (3, None, None, "10.0.1.20", "10.0.2.30")]
    rel = eniflow.trace(log, "10.0.2.30", "10.0.1.20:80")
    assert sorted(rel.project("start, src_ip, sender_packets, coalesce(sender_line, receiver_line)").fetchall()) == [
        (None, "10.0.1.20", None, 3), (None, "10.0.2.30", None, 2)]


@pytest.mark.parametrize("with_inventory, label", [(True, "ambiguous"), (False, "as-logged")])
def test_flows_for_the_primary_marks_unresolved_records_as_candidates(with_inventory, label):
    """Only the server is logged, and it has 10.0.1.10 and 10.0.1.20: its records show the
    primary whichever address the clients used (10.0.1.20 here). With the inventory they are
    ambiguous, without it as-logged; either way the logged 10.0.1.10 may stand for another
    address, so for 10.0.1.10 they are candidates (maybe), not matches; for the client
    10.0.2.30, the remote end, whose address is real, they are matches."""
    inventory = Inventory.load(DATA / "enis.json", at=T) if with_inventory else None
    resolved = eniflow.resolve(eniflow.read(DATA / "one-side.log"), inventory)
    rel = eniflow.flows_for_ip(resolved, "10.0.1.10")
    assert rel.project("srcaddr, dstaddr, match, resolution").fetchall() == [
        ("10.0.2.30", "10.0.1.10", "candidate", label), ("10.0.1.10", "10.0.2.30", "candidate", label),
        ("10.0.2.31", "10.0.1.10", "candidate", label), ("10.0.1.10", "10.0.2.31", "candidate", label)]
    rel = eniflow.flows_for_ip(resolved, "10.0.2.30")
    assert rel.project("srcaddr, dstaddr, match").fetchall() == [
        ("10.0.2.30", "10.0.1.10", "src"), ("10.0.1.10", "10.0.2.30", "dst")]


def test_trace_pairs_records_that_pkt_fields_resolved(tmp_path):
    """With pkt-srcaddr/pkt-dstaddr (the recommended format) every record is `pkt` and resolution
    pairs nothing; trace still shows each sender record beside the receiver's record of the same
    packets, instead of two half-empty rows claiming the other side was not logged."""
    log = tmp_path / "v5.log"
    log.write_text(
        "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status "
        "pkt-srcaddr pkt-dstaddr flow-direction\n"
        f"5 eni-0client 10.0.2.30 10.0.1.20 49152 80 6 6 795 {T} {T + 2} ACCEPT OK 10.0.2.30 10.0.1.20 egress\n"
        f"5 eni-0server 10.0.2.30 10.0.1.10 49152 80 6 6 795 {T} {T + 2} ACCEPT OK 10.0.2.30 10.0.1.20 ingress\n"
        f"5 eni-0server 10.0.1.10 10.0.2.30 80 49152 6 5 1420 {T} {T + 2} ACCEPT OK 10.0.1.20 10.0.2.30 egress\n"
        f"5 eni-0client 10.0.1.20 10.0.2.30 80 49152 6 5 1420 {T} {T + 2} ACCEPT OK 10.0.1.20 10.0.2.30 ingress\n")
    rel = eniflow.trace(log, "10.0.2.30", "10.0.1.20:80")
    assert rel.project("src_ip, sender_eni, sender_line, sender_resolution, receiver_eni, receiver_line, "
                       "receiver_logged").fetchall() == [
        ("10.0.2.30", "eni-0client", 2, "pkt", "eni-0server", 3, "10.0.2.30 -> 10.0.1.10"),
        ("10.0.1.20", "eni-0server", 4, "pkt", "eni-0client", 5, "10.0.1.20 -> 10.0.2.30")]


def test_trace_a_sender_record_spanning_two_receiver_windows_shows_beside_both(tmp_path):
    """Windows on different phases: the server's one reply record (T+69..T+129) overlaps both of
    the client's (T+26..T+86, T+86..T+146), and resolution pairs both with it. The client's second
    record is the server record's partner; the first used to get a row of its own saying the
    sender was not logged. Now it shows beside its partner, the same server record."""
    log = tmp_path / "phases.log"
    log.write_text(
        "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
        f"2 eni-0client 10.0.2.30 10.0.1.20 49711 80 6 2 120 {T + 26} {T + 86} ACCEPT OK\n"
        f"2 eni-0client 10.0.1.20 10.0.2.30 80 49711 6 1 60 {T + 26} {T + 86} ACCEPT OK\n"
        f"2 eni-0client 10.0.1.20 10.0.2.30 80 49711 6 1 60 {T + 86} {T + 146} ACCEPT OK\n"
        f"2 eni-0server 10.0.2.30 10.0.1.10 49711 80 6 2 120 {T + 9} {T + 69} ACCEPT OK\n"
        f"2 eni-0server 10.0.1.10 10.0.2.30 80 49711 6 2 120 {T + 69} {T + 129} ACCEPT OK\n")
    resolved = eniflow.resolve(eniflow.read(log), Inventory.load(DATA / "enis.json", at=T))
    rel = eniflow.trace(resolved, "10.0.2.30", "10.0.1.20:80")
    assert rel.project("start, src_ip, sender_eni, sender_line, sender_resolution, receiver_eni, receiver_line, "
                       "receiver_resolution").fetchall() == [
        (T + 26, "10.0.2.30", "eni-0client", 2, "peer", "eni-0server", 5, "peer"),
        (T + 26, "10.0.1.20", "eni-0server", 6, "peer", "eni-0client", 3, "peer"),
        (T + 69, "10.0.1.20", "eni-0server", 6, "peer", "eni-0client", 4, "peer"),
    ]


def test_cli_tables_piped_or_to_a_file_are_not_cut(cli, tmp_path, monkeypatch):
    """Written to a pipe or a file, a table is as wide as it needs: at Rich's default 80 columns
    the addresses ended in '…' and the note and how columns were squeezed out."""
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _ = cli("flows", DATA / "seed.log", "--ip", "10.0.1.20", "--port", "80")
    assert code == 0 and "…" not in out
    assert "10.0.2.30:49152 -> 10.0.1.20:80" in out and "10.0.1.10 -> 10.0.2.30" in out and "masked" in out
    code, out, _ = cli("trace", DATA / "seed.log", "--from", "10.0.2.30", "--to", "10.0.1.20:80", "--out",
                       tmp_path / "trace.txt")
    text = (tmp_path / "trace.txt").read_text()
    assert code == 0 and "…" not in text and "10.0.1.20:80 -> 10.0.2.30:49152" in text and "eni-0server" in text


def test_cli_trace_out_in_a_missing_directory_is_one_sentence(cli, tmp_path):
    code, out, err = cli("trace", DATA / "seed.log", "--from", "10.0.2.30", "--to", "10.0.1.20",
                         "--out", tmp_path / "missing" / "trace.txt")
    assert code == 1 and err.splitlines()[-1] == (
        f"eniflow: error: {tmp_path / 'missing' / 'trace.txt'}: cannot write the output (No such file or directory); "
        "check that its directory exists and is writable.")


def test_cli_bad_ports_and_outputs_fail_before_reading(cli, tmp_path):
    """A port beyond 65535 listed nothing with exit 0; these options, and -o, were checked only
    after every source had been read and resolved: now they win over a missing source."""
    missing = tmp_path / "missing"
    assert cli("flows", missing, "--ip", "10.0.1.20", "--port", "70000") == (
        2, "", "eniflow: error: --port 70000: a port is a number from 0 to 65535, such as 443.\n")
    assert cli("flows", missing, "--ip", "10.0.1") == (
        2, "", "eniflow: error: --ip '10.0.1' is not an IP address; give one such as 10.0.1.20.\n")
    assert cli("flows", missing, "--ip", "10.0.1.20", "-o", "xml") == (
        2, "", "eniflow: error: unknown output format 'xml'; choose one of table, jsonl, csv, parquet.\n")
    assert cli("trace", missing, "--from", "10.0.2.30", "--to", "10.0.1.20:99999") == (
        2, "", "eniflow: error: '10.0.1.20:99999': a port is a number from 0 to 65535, as in 10.0.1.20:443.\n")
    assert cli("trace", missing, "--from", "10.0.2.30", "--to", "10.0.1.20", "-o", "xml")[0] == 2


def test_flows_and_top_through_a_nat_gateway_without_pkt_fields():
    """The NAT gateway of nat-same-port.log logged its own address on its legs of the instance's
    packets; resolved, they are the internet host's. `flows --ip` of the host finds them (masked),
    and `top` counts the instance's conversation once (its records and the NAT's legs of it), beside
    the NAT gateway's own translated one."""
    from eniflow.analyses.top import top

    resolved = eniflow.resolve(eniflow.read(DATA / "nat-same-port.log"), Inventory.load(DATA / "enis.json", at=T))
    rel = eniflow.flows_for_ip(resolved, "203.0.113.5")
    assert rel.project("interface_id, src_ip, dst_ip, match, masked, resolution").fetchall() == [
        ("eni-0db", "10.0.3.5", "203.0.113.5", "dst", False, "peer"),
        ("eni-0db", "203.0.113.5", "10.0.3.5", "src", False, "peer"),
        ("eni-0nat", "10.0.3.5", "203.0.113.5", "dst", True, "peer"),
        ("eni-0nat", "10.0.0.220", "203.0.113.5", "dst", False, "as-logged"),
        ("eni-0nat", "203.0.113.5", "10.0.0.220", "src", False, "as-logged"),
        ("eni-0nat", "203.0.113.5", "10.0.3.5", "src", True, "peer")]
    pairs = top(resolved, by="pair", metric="bytes")
    assert pairs.relation.project("ip_a, ip_b, bytes, flows").fetchall() == [
        ("10.0.0.220", "203.0.113.5", 10000, 1), ("10.0.3.5", "203.0.113.5", 10000, 1)]
    assert (pairs.records, pairs.duplicates) == (6, 2)


def test_trace_through_a_transit_gateway_pairs_each_hop(tmp_path):
    """One request logged four times in the default format: by the client, by the attachment ENI in
    its VPC (its own address as the destination), by the attachment ENI in the server's VPC (its own
    as the source) and by the server. Each row is one hop: client -> attachment A, attachment B ->
    server; not the two ends, whose records are each other's peer, beside the two attachments."""
    header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    logged = [("eni-0cli", "10.20.33.164", "10.40.2.236"), ("eni-0tgwa", "10.20.33.164", "10.20.32.10"),
              ("eni-0tgwb", "10.40.1.175", "10.40.2.236"), ("eni-0srv", "10.20.33.164", "10.40.2.236")]
    (tmp_path / "logs.txt").write_text("\n".join(
        [header] + [f"2 123456789012 {eni} {src} {dst} 40000 443 6 10 1000 {T} {T + 60} ACCEPT OK"
                    for eni, src, dst in logged]) + "\n")

    def eni(name, ip, kind="interface"):
        return {"NetworkInterfaceId": name, "InterfaceType": kind, "PrivateIpAddresses": [
            {"PrivateIpAddress": ip, "Primary": True}]}
    (tmp_path / "enis.json").write_text(json.dumps({"NetworkInterfaces": [
        eni("eni-0cli", "10.20.33.164"), eni("eni-0tgwa", "10.20.32.10", "transit_gateway"),
        eni("eni-0tgwb", "10.40.1.175", "transit_gateway"), eni("eni-0srv", "10.40.2.236")]}))
    resolved = eniflow.resolve(eniflow.read(tmp_path / "logs.txt"), Inventory.load(tmp_path / "enis.json", at=T))
    rel = eniflow.trace(resolved, "10.20.33.164", "10.40.2.236:443")
    assert rel.project("src_ip, dst_ip, sender_eni, receiver_eni, sender_resolution, receiver_resolution").fetchall() == [
        ("10.20.33.164", "10.40.2.236", "eni-0cli", "eni-0tgwa", "peer", "peer"),
        ("10.20.33.164", "10.40.2.236", "eni-0tgwb", "eni-0srv", "peer", "peer")]
