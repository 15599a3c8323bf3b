"""eniflow top on the seed's situation, written by hand so every expected number can be checked.

The client (eni-client, 10.0.2.30) talks to the server's secondary IP 10.0.1.20 on ports 80
and 23; both ENIs log it, the server's records show its primary 10.0.1.10. A stranger's
SSH attempt on the server is rejected.
"""

from __future__ import annotations

import json

import pytest

import eniflow
from eniflow.analyses.top import top, where_clause
from eniflow.errors import UsageError

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
T = 1795860000
CLIENT = [f"2 123456789012 eni-client 10.0.2.30 10.0.1.20 49152 80 6 10 840 {T} {T + 60} ACCEPT OK",
          f"2 123456789012 eni-client 10.0.1.20 10.0.2.30 80 49152 6 8 5000 {T} {T + 60} ACCEPT OK",
          f"2 123456789012 eni-client 10.0.2.30 10.0.1.20 49153 23 6 20 1200 {T} {T + 60} ACCEPT OK",
          f"2 123456789012 eni-client 10.0.1.20 10.0.2.30 23 49153 6 18 1500 {T} {T + 60} ACCEPT OK"]
SERVER = [f"2 123456789012 eni-server 10.0.2.30 10.0.1.10 49152 80 6 10 840 {T + 1} {T + 61} ACCEPT OK",
          f"2 123456789012 eni-server 10.0.1.10 10.0.2.30 80 49152 6 8 5000 {T + 1} {T + 61} ACCEPT OK",
          f"2 123456789012 eni-server 10.0.2.30 10.0.1.10 49153 23 6 20 1200 {T + 1} {T + 61} ACCEPT OK",
          f"2 123456789012 eni-server 10.0.1.10 10.0.2.30 23 49153 6 18 1500 {T + 1} {T + 61} ACCEPT OK",
          f"2 123456789012 eni-server 10.0.9.9 10.0.1.10 40000 22 6 1 60 {T + 100} {T + 160} REJECT OK",
          f"2 123456789012 eni-server - - - - - - - {T + 200} {T + 260} - SKIPDATA"]
ENIS = {"NetworkInterfaces": [
    {"NetworkInterfaceId": "eni-server", "SubnetId": "subnet-1", "VpcId": "vpc-1", "Attachment": {"InstanceId": "i-server"},
     "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": True},
                            {"PrivateIpAddress": "10.0.1.20", "Primary": False}]},
    {"NetworkInterfaceId": "eni-client", "SubnetId": "subnet-2", "VpcId": "vpc-1", "Attachment": {"InstanceId": "i-client"},
     "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.2.30", "Primary": True}]}]}


def write_seed_logs(directory, server_extra=()):
    """client.log, server.log and enis.json in ``directory``; returns (logs dir, inventory path)."""
    logs = directory / "logs"
    logs.mkdir()
    (logs / "client.log").write_text("\n".join([HEADER, *CLIENT]) + "\n")
    (logs / "server.log").write_text("\n".join([HEADER, *SERVER, *server_extra]) + "\n")
    inventory = directory / "enis.json"
    inventory.write_text(json.dumps(ENIS))
    return logs, inventory


@pytest.fixture
def seed(tmp_path):
    logs, inventory = write_seed_logs(tmp_path)
    return eniflow.resolve(eniflow.read(logs), inventory=eniflow.Inventory.load(inventory))


def rows(result):
    return [dict(zip(result.relation.columns, r)) for r in result.relation.fetchall()]


def test_top_sources_count_each_conversation_once(seed):
    result = top(seed, by="src_ip", metric="bytes")
    assert [(r["src_ip"], r["bytes"], r["packets"], r["records"], r["flows"]) for r in rows(result)] == [
        ("10.0.1.20", 6500, 26, 2, 2), ("10.0.2.30", 2040, 30, 2, 2), ("10.0.9.9", 60, 1, 1, 1)]
    assert (result.records, result.duplicates) == (9, 4)
    assert "conversations logged on both ENIs counted once (4 records of the second ENI skipped)" in result.note


def test_top_local_addresses_split_the_server(seed):
    # The server's primary only received the rejected attempt; the site on .20 carried the traffic.
    result = top(seed, by="local_ip", metric="bytes")
    assert [(r["local_ip"], r["bytes"], r["records"]) for r in rows(result)] == [
        ("10.0.1.20", 8540, 4), ("10.0.2.30", 8540, 4), ("10.0.1.10", 60, 1)]
    assert result.duplicates == 0 and "appears once under each side" in result.note


def test_top_ports_and_protocols_have_names(seed):
    ports = rows(top(seed, by="dstport", metric="records", n=3))
    assert [(r["dstport"], r["protocol_name"], r["service"], r["records"]) for r in ports] == [
        (22, "tcp", "ssh", 1), (23, "tcp", "telnet", 1), (80, "tcp", "http", 1)]
    [proto] = rows(top(seed, by="protocol", metric="packets"))
    assert (proto["protocol"], proto["protocol_name"], proto["packets"], proto["share"]) == (6, "tcp", 57, 100.0)


def test_top_pairs_and_flows(seed):
    result = rows(top(seed, by="pair", metric="flows"))
    assert [(r["ip_a"], r["ip_b"], r["flows"], r["bytes"]) for r in result] == [
        ("10.0.1.20", "10.0.2.30", 2, 8540), ("10.0.1.10", "10.0.9.9", 1, 60)]


def test_where_filters(seed):
    by_eni = top(seed, by="dst_ip", metric="records", where=["eni=eni-server"])
    # Only one side is selected, so nothing is a duplicate.
    assert [(r["dst_ip"], r["records"]) for r in rows(by_eni)] == [("10.0.1.20", 2), ("10.0.2.30", 2), ("10.0.1.10", 1)]
    assert by_eni.duplicates == 0
    rejected = rows(top(seed, by="interface_id", where=["REJECT"]))
    assert [(r["interface_id"], r["bytes"]) for r in rejected] == [("eni-server", 60)]
    telnet = rows(top(seed, by="src_ip", where=["port=23,22", "cidr=10.0.2.0/24"]))
    assert [(r["src_ip"], r["bytes"]) for r in telnet] == [("10.0.1.20", 1500), ("10.0.2.30", 1200)]
    assert rows(top(seed, by="action", metric="records", where=["ip=10.0.1.10"])) == [
        {"action": "REJECT", "bytes": 60, "packets": 1, "records": 1, "flows": 1, "share": 100.0}]
    late = rows(top(seed, by="src_ip", since=T + 90, until=T + 180))
    assert [r["src_ip"] for r in late] == ["10.0.9.9"]


def test_where_values_are_bound_parameters_not_sql():
    sql, params = where_clause(["ip=10.0.1.20", "eni=eni-1' OR '1'='1", "port=80,443"])
    assert sql == "((src_ip = ? OR dst_ip = ?)) AND (interface_id = ?) AND ((srcport = ? OR dstport = ?) OR (srcport = ? OR dstport = ?))"
    assert params == ["10.0.1.20", "10.0.1.20", "eni-1' OR '1'='1", 80, 80, 443, 443]


def test_a_quote_in_a_filter_matches_nothing(seed):
    assert rows(top(seed, by="src_ip", where=["eni=x' OR '1'='1"])) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"by": "colour"}, "--by colour: choose one of src_ip, dst_ip, pair"),
    ({"metric": "joy"}, "--metric joy: choose one of bytes, packets, records, flows."),
    ({"where": ["cidr=10.0.0.0/33"]}, "--where cidr=10.0.0.0/33: not a CIDR block"),
    ({"where": ["port=http"]}, "--where port=http: a port is a number"),
    ({"where": ["hello"]}, "cannot read the filter 'hello'; write KEY=VALUE"),
])
def test_usage_errors(seed, kwargs, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("(", r"\(")):
        top(seed, **kwargs)


def test_cli_top_jsonl_and_note(tmp_path, cli):
    logs, inventory = write_seed_logs(tmp_path)
    code, out, err = cli("top", logs, "-i", inventory, "--by", "dst_ip", "-n", "2", "-o", "jsonl")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"dst_ip": "10.0.2.30", "bytes": 6500, "packets": 26, "records": 2, "flows": 2, "share": 75.6},
        {"dst_ip": "10.0.1.20", "bytes": 2040, "packets": 30, "records": 2, "flows": 2, "share": 23.7}]
    assert "conversations logged on both ENIs counted once (4 records of the second ENI" in err


def test_cli_top_table_and_usage_exit_code(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    logs, inventory = write_seed_logs(tmp_path)
    code, out, _ = cli("top", logs, "-i", inventory, "--by", "dstport")
    assert code == 0
    assert "top dstport by bytes (each conversation counted once)" in out and "telnet" in out and "\x1b[" not in out
    code, out, err = cli("top", logs, "--by", "nothing")
    assert code == 2 and out == ""
    assert "eniflow: error: --by nothing: choose one of" in err
    code, out, err = cli("top", logs, "--engine", "flink")  # refused before anything is read
    assert (code, out, err) == (2, "", "eniflow: error: --engine flink: choose one of duckdb, spark.\n")
    # options are checked before the sources: a bad --where wins over a missing file
    code, out, err = cli("top", tmp_path / "missing", "--where", "port=https", "-n", "3")
    assert (code, out, err) == (2, "", "eniflow: error: --where port=https: a port is a number such as 443.\n")


def test_cli_help_has_a_worked_example(cli):
    code, out, _ = cli("top", "--help")
    assert code == 0 and "eniflow top AWSLogs/ --by dst_ip --metric bytes -n 5" in out


def test_top_on_the_simulated_seed(tmp_path):
    """The seed scenario's connections (scenarios/seed.yaml): telnet 842/1735 bytes, the page
    795/1420, its image 1120/98636, client -> server / server -> client."""
    from eniflow.demo import inventory_document
    from eniflow.simulate import load_topology, simulate

    sim = simulate("seed", tmp_path)
    inventory = tmp_path / "enis.json"
    inventory.write_text(json.dumps(inventory_document(load_topology("seed"))))
    resolved = eniflow.resolve(eniflow.read(tmp_path / "AWSLogs"), inventory=eniflow.Inventory.load(inventory, at=sim.start))
    result = top(resolved, by="src_ip", metric="bytes")
    assert [(r["src_ip"], r["bytes"], r["packets"], r["flows"]) for r in rows(result)] == [
        ("10.0.1.20", 1735 + 1420 + 98636, 9 + 5 + 64, 3), ("10.0.2.30", 842 + 795 + 1120, 14 + 6 + 18, 3)]
    assert (result.records, result.duplicates) == (42, 21)
    ports = rows(top(resolved, by="dstport", metric="flows", n=1))
    assert [(r["dstport"], r["service"], r["flows"]) for r in ports] == [(80, "http", 3)]


def test_public_top_reads_and_resolves_sources(tmp_path):
    logs, inventory = write_seed_logs(tmp_path)
    result = eniflow.top(logs, by="dst_ip", metric="packets", n=1, inventory=eniflow.Inventory.load(inventory))
    assert rows(result) == [{"dst_ip": "10.0.1.20", "bytes": 2040, "packets": 30, "records": 2, "flows": 2,
                             "share": 52.6}]


def test_top_resolves_flows_it_is_given(tmp_path):
    logs, inventory = write_seed_logs(tmp_path)
    result = top(eniflow.read(logs), by="local_ip", n=1, inventory=eniflow.Inventory.load(inventory))
    assert [(r["local_ip"], r["bytes"]) for r in rows(result)] == [("10.0.1.20", 8540)]


def test_top_without_inventory_says_unresolved_records_may_count_twice(tmp_path):
    """Without the inventory every record is as-logged: the client's show 10.0.1.20, the server's
    10.0.1.10, so the two sides of each flow are not known to be one, and both are summed. The
    note says so instead of claiming that conversations were counted once."""
    logs, _ = write_seed_logs(tmp_path)
    result = top(eniflow.resolve(eniflow.read(logs)), by="src_ip")
    assert [(r["src_ip"], r["bytes"]) for r in rows(result)] == [
        ("10.0.1.10", 6500), ("10.0.1.20", 6500), ("10.0.2.30", 4080), ("10.0.9.9", 60)]
    assert result.note == (
        "9 records; conversations logged on both ENIs counted once (0 records of the second ENI skipped). "
        "9 records with unresolved addresses (as-logged, ambiguous) count as logged: a conversation among them "
        "that both ENIs logged counts twice.")


def test_top_by_bytes_of_logs_without_bytes_is_refused(tmp_path, cli):
    """A format without bytes (the transit-gateway scenario's) ranked every row at NULL, and the
    table left the empty bytes and share columns out without a word."""
    log = tmp_path / "no-bytes.log"
    log.write_text("version interface-id srcaddr dstaddr srcport dstport protocol action log-status\n"
                   "3 eni-client 10.0.2.30 10.0.1.20 49152 80 6 ACCEPT OK\n")
    code, out, err = cli("top", log, "--by", "dst_ip")
    assert (code, out) == (2, "") and err.splitlines()[-1] == (
        "eniflow: error: --metric bytes: these flow logs have no bytes field (their format leaves it out); "
        "rank by --metric records or flows, or add ${bytes} to the flow log's format.")
    code, out, _ = cli("top", log, "--by", "dst_ip", "--metric", "records", "-o", "jsonl")
    assert code == 0 and json.loads(out)["records"] == 1
