"""The inventory: loaders (EC2 JSON, kubectl, eniflow files, live AWS via moto), time-aware
ownership, the `single` intervals, and the `eniflow inventory` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eniflow.errors import InputError
from eniflow.inventory import Fact, Inventory

DATA = Path(__file__).parent / "data" / "resolve"
T = 1795860000


def snapshot(tmp_path, name, enis):
    """A describe-network-interfaces file: enis = {eni: [addresses, primary first]}."""
    doc = {"NetworkInterfaces": [
        {"NetworkInterfaceId": eni, "InterfaceType": "interface", "Attachment": {"InstanceId": "i-" + eni[4:]},
         "PrivateIpAddresses": [{"PrivateIpAddress": a, "Primary": k == 0} for k, a in enumerate(addrs)]}
        for eni, addrs in enis.items()]}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_ec2_snapshot_rows_primaries_and_forwarders():
    inv = Inventory.load(DATA / "enis.json", at=T)
    own = {(f.interface_id, f.address, f.is_primary, f.owner) for f in inv.ownership() if f.interface_id == "eni-0server"}
    assert own == {("eni-0server", "10.0.1.10", True, "i-0server"), ("eni-0server", "10.0.1.20", False, "i-0server")}
    assert inv.primaries()["eni-0node"] == "10.0.4.10"
    assert inv.intermediates() == {"eni-0tgw1", "eni-0tgw2", "eni-0nat"}


def test_floating_ip_moves_between_snapshots(tmp_path):
    """10.0.1.50 is on eni-0x at 09:00 and on eni-0y at 11:00: each snapshot holds to the midpoint
    (10:00). eni-0y had one address at 09:00 and two at 11:00, so it is single only before 09:00."""
    first = snapshot(tmp_path, "a.json", {"eni-0x": ["10.0.1.10", "10.0.1.50"], "eni-0y": ["10.0.1.11"]})
    second = snapshot(tmp_path, "b.json", {"eni-0x": ["10.0.1.10"], "eni-0y": ["10.0.1.11", "10.0.1.50"]})
    inv = Inventory.load([first], at=T - 3600).merge(Inventory.load([second], at=T + 3600))
    floating = sorted((f.interface_id, f.valid_from, f.valid_to) for f in inv.ownership() if f.address == "10.0.1.50")
    assert floating == [("eni-0x", None, T), ("eni-0y", T, None)]
    assert sorted(inv.single_intervals()) == [("eni-0x", "10.0.1.10", T + 3600, None),
                                              ("eni-0y", "10.0.1.11", None, T - 3600)]


def test_snapshot_time_comes_from_the_file_name_before_its_modification_time(tmp_path):
    """Copied files lose their modification times; a date-time in the name keeps the snapshot's
    time. 10.0.1.50 is on eni-0x at 09:00 and on eni-0y at 11:00 (both names, two spellings):
    the midpoint is 10:00 whatever the files' modification times. A name without a date-time
    (enis-1200.json: no date) falls back to the modification time."""
    import os

    first = snapshot(tmp_path, "enis-20261128T0900Z.json", {"eni-0x": ["10.0.1.10", "10.0.1.50"], "eni-0y": ["10.0.1.11"]})
    second = snapshot(tmp_path, "enis-2026-11-28T11-00-00Z.json",
                      {"eni-0x": ["10.0.1.10"], "eni-0y": ["10.0.1.11", "10.0.1.50"]})
    undated = snapshot(tmp_path, "enis-1200.json", {"eni-0z": ["10.0.1.12"]})
    for path in (first, second, undated):
        os.utime(path, (T + 7200, T + 7200))
    inv = Inventory.load([second, first, undated])
    floating = sorted((f.interface_id, f.valid_from, f.valid_to) for f in inv.ownership() if f.address == "10.0.1.50")
    assert T == 1795860000 and floating == [("eni-0x", None, T), ("eni-0y", T, None)]  # 2026-11-28T10:00:00Z
    assert sorted((i.interface_id, i.at) for i in inv.interfaces) == [
        ("eni-0x", T - 3600), ("eni-0x", T + 3600), ("eni-0y", T - 3600), ("eni-0y", T + 3600), ("eni-0z", T + 7200)]


def test_times_in_file_names():
    from eniflow.times import time_in_name

    assert time_in_name("enis-20261128T1000Z.json") == T
    assert time_in_name("enis-2026-11-28T10:00:00Z.json") == T
    assert time_in_name("enis-2026-11-28T11-00+0100.json") == T  # 11:00 at UTC+1
    assert time_in_name("123456789012_eu-west-1_enis-2026-11-28T10-00-30.json") == T + 30
    assert time_in_name("enis-1000.json") is None and time_in_name("enis-20261399T1000Z.json") is None


def test_single_between_agreeing_snapshots_is_one_interval(tmp_path):
    a = snapshot(tmp_path, "a.json", {"eni-0x": ["10.0.1.10"]})
    inv = Inventory.load([a], at=T).merge(Inventory.load([a], at=T + 600))
    assert inv.single_intervals() == [("eni-0x", "10.0.1.10", None, None)]


def test_kubectl_pods_name_pod_ips_but_not_host_network_pods():
    inv = Inventory.load(DATA / "pods.json", at=T)
    assert [(f.interface_id, f.address, f.owner) for f in inv.ownership()] == [(None, "10.0.4.37", "pod shop/web-1")]


def test_eniflow_file_round_trip(tmp_path):
    inv = Inventory.load(DATA / "enis.json", at=T).merge(
        Inventory(facts=[Fact("eni-0server", "10.0.1.30", False, T, T + 60, None, "logs:peer")]))
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(inv.to_json()))
    back = Inventory.load(path)
    assert back.ownership() == inv.ownership()
    assert back.single_intervals() == inv.single_intervals()


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(InputError) as e:
        Inventory.load(missing)
    assert str(e.value) == (f"{missing}: no such inventory file; give the JSON printed by "
                            "'aws ec2 describe-network-interfaces' or 'kubectl get pods -A -o json'.")
    junk = tmp_path / "junk.json"
    junk.write_text("eni-0123 10.0.1.10")
    with pytest.raises(InputError, match=r"junk\.json: not JSON"):
        Inventory.load(junk)


def _moto_enis(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    for k in range(7):  # more than one page with MaxResults 5
        eni = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=f"10.0.1.{10 + k}",
                                           Description=f"web {k}")["NetworkInterface"]["NetworkInterfaceId"]
        if k == 0:
            ec2.assign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.100"])
    return ec2


def test_live_inventory_from_aws(aws):
    _moto_enis(aws)
    inv = Inventory.from_aws(aws, at=T)
    addresses = sorted(i.addresses for i in inv.interfaces)
    assert addresses == [("10.0.1.10", "10.0.1.100")] + [(f"10.0.1.{10 + k}",) for k in range(1, 7)]
    assert {i.owner for i in inv.interfaces} == {f"web {k}" for k in range(7)}


def test_cli_fetch_then_resolve_with_it(aws, cli, tmp_path):
    _moto_enis(aws)
    out = tmp_path / "enis.json"
    code, _, err = cli("inventory", "fetch", "--out", out, "--endpoint-url", aws.endpoint_url, "--region", "us-east-1")
    assert code == 0 and "7 network interfaces written" in err
    inv = Inventory.load(out)
    assert len(inv.interfaces) == 7


def test_cli_fetch_access_error_is_one_sentence(cli, tmp_path):
    code, _, err = cli("inventory", "fetch", "--out", tmp_path / "x.json", "--endpoint-url", "http://127.0.0.1:9",
                       "--region", "us-east-1")
    assert code == 1
    assert err.startswith("eniflow: error: DescribeNetworkInterfaces: could not reach AWS")


def test_cli_merge_keeps_snapshot_times(cli, tmp_path):
    a = snapshot(tmp_path, "a.json", {"eni-0x": ["10.0.1.10", "10.0.1.50"]})
    b = snapshot(tmp_path, "b.json", {"eni-0x": ["10.0.1.10"]})
    import os

    os.utime(a, (T - 3600, T - 3600))
    os.utime(b, (T + 3600, T + 3600))
    merged = tmp_path / "merged.json"
    code, _, err = cli("inventory", "merge", a, b, DATA / "pods.json", "--out", merged)
    assert code == 0 and "2 interface snapshots and 1 address facts" in err
    code, out, _ = cli("inventory", "show", "-i", merged, "-o", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["interface_id"], r["address"], r["valid_from"], r["valid_to"]) for r in rows] == [
        ("eni-0x", "10.0.1.10", None, None),
        ("eni-0x", "10.0.1.50", None, "2026-11-28T10:00:00Z"),
        (None, "10.0.4.37", None, None)]


def test_cli_check_reports_what_the_logs_contradict(cli, tmp_path):
    """The snapshot says the server has only 10.0.1.10; the seed logs pair two records to 10.0.1.20."""
    stale = snapshot(tmp_path, "stale.json", {"eni-0server": ["10.0.1.10"], "eni-0client": ["10.0.2.30"]})
    code, out, err = cli("inventory", "check", DATA / "seed.log", "-i", stale, "--at", str(T), "-o", "jsonl")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [{
        "interface_id": "eni-0server", "address": "10.0.1.20", "kind": "not-in-snapshot",
        "inventory_says": "the inventory lists the ENI then without it", "evidence": "peer", "records": 2,
        "first_seen": T + 5, "last_seen": T + 65}]
    assert "1 discrepancy" in err
    code, out, _ = cli("inventory", "check", DATA / "seed.log", "-i", DATA / "enis.json", "-o", "jsonl")
    assert (code, out) == (0, "")
    # also spelled as an option of `inventory`
    assert cli("--debug", "inventory", "--check", DATA / "seed.log", "-i", stale, "--at", str(T), "-o", "jsonl")[1] == \
        cli("inventory", "check", DATA / "seed.log", "-i", stale, "--at", str(T), "-o", "jsonl")[1] != ""


def test_cli_show_adds_what_the_logs_reveal(cli):
    code, out, _ = cli("inventory", "show", DATA / "seed.log", "-o", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["interface_id"], r["address"], r["is_primary"], r["source_of_fact"]) for r in rows] == [
        ("eni-0client", "10.0.2.30", True, "logs:primary"),
        ("eni-0server", "10.0.1.10", True, "logs:primary"),
        ("eni-0server", "10.0.1.20", False, "logs:peer")]
    assert rows[2]["valid_from"] == "2026-11-28T10:00:05Z"


def test_inventory_specs_mix_files_and_live_aws(aws):
    """--inventory enis.json --inventory aws: both, the live one at the time of the call."""
    _moto_enis(aws)
    inv = Inventory.from_specs([str(DATA / "enis.json"), "aws"], aws, at=T)
    assert len(inv.interfaces) == 10 + 7
    assert {i.source for i in inv.interfaces} == {str(DATA / "enis.json"), "aws"}
    assert Inventory.from_specs([], aws) is None


def test_cli_usage_errors(cli):
    code, _, err = cli("inventory", "show")
    assert code == 2 and "give flow logs, --inventory, or both." in err
    code, _, err = cli("inventory", "check", DATA / "seed.log")
    assert code == 2 and "give the inventory to check with --inventory FILE (or --inventory aws)." in err
    code, _, err = cli("resolve", DATA / "seed.log", "-i", DATA / "enis.json", "--at", "yesterday noon")
    assert code == 2 and "cannot read the time 'yesterday noon'" in err
