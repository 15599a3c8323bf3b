"""The built-in scenarios: each shows the effect it is named after, in the files and the truth."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from eniflow.fields import lookup
from eniflow.simulate import list_scenarios, load_topology, simulate


def records(result) -> pl.DataFrame:
    """Every record written, as text columns, with the truth row of each (joined on source+line)."""
    frames = []
    for name in result.files:
        lines = gzip.decompress(Path(name).read_bytes()).decode().splitlines()
        header = [lookup(n).column for n in lines[0].split()]
        rows = [dict(zip(header, line.split())) for line in lines[1:]]
        source = str(Path(name).relative_to(result.out))
        frames.append(pl.DataFrame(rows).with_columns(source=pl.lit(source), line=pl.int_range(2, len(rows) + 2, dtype=pl.Int64)))
    truth = pl.read_parquet(result.truth).rename({"interface_id": "truth_interface_id", "log_status": "truth_log_status"})
    return pl.concat(frames, how="diagonal").join(truth, on=["source", "line"], how="left")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cache = {}

    def go(name: str, **options):
        key = (name, tuple(sorted(options.items())))
        if key not in cache:
            result = simulate(name, tmp_path_factory.mktemp(name), **options)
            cache[key] = (result, records(result))
        return cache[key]

    return go


def test_every_scenario_is_listed_with_a_description():
    scenarios = list_scenarios()
    assert sorted(scenarios) == ["eks-pods", "floating-ip", "mixed", "nacl-reject", "nat-gateway", "seed", "transit-gateway"]
    assert all(text for text in scenarios.values())


def test_every_record_has_its_truth_row(run):
    for name in ["seed", "floating-ip", "eks-pods", "nat-gateway", "transit-gateway", "nacl-reject"]:
        result, rows = run(name)
        assert rows.height == result.records == pl.read_parquet(result.truth).height
        assert (rows["interface_id"] == rows["truth_interface_id"]).all()
        assert (rows["log_status"] == rows["truth_log_status"]).all()


def test_floating_ip_moves_from_the_active_to_the_standby_eni(run):
    result, rows = run("floating-ip")
    moved_at = load_topology("floating-ip").moves[0].at
    to_vip = rows.filter((pl.col("dst_ip") == "10.0.1.100") & (pl.col("direction") == "ingress"))
    by_time = to_vip.with_columns(after=pl.col("start").cast(pl.Int64) >= moved_at).group_by(
        "after", "interface_id", "dstaddr", "owner").len().sort("after")
    assert by_time.select("after", "interface_id", "dstaddr", "owner").rows() == [
        (False, "eni-0f10a7000000000a1", "10.0.1.11", "i-0f10a7000000000a1"),
        (True, "eni-0f10a7000000000a2", "10.0.1.12", "i-0f10a7000000000a2")]
    # both clients reach the floating IP 20 times each, before and after the move
    clients = to_vip.filter(pl.col("srcport") != "443").group_by("srcaddr").agg(pl.col("srcport").n_unique())
    assert sorted(clients.rows()) == [("10.0.2.21", 20), ("10.0.2.22", 20)]


def test_eks_pods_hide_behind_the_node_ip(run):
    result, rows = run("eks-pods")
    node2 = rows.filter((pl.col("interface_id") == "eni-0e45000000000c002") & (pl.col("log_status") == "OK"))
    # pod checkout (a /28 prefix address) to the database: logged with the node's primary IP
    db = node2.filter(pl.col("dstport") == "5432")
    assert set(db["srcaddr"]) == {"192.168.70.10"}
    assert set(zip(db["src_ip"], db["owner"])) == {("192.168.70.33", "pod shop/checkout-84f6b-pqrst")}
    # to the internet the CNI SNATs the pod to the node IP: the truth says so too
    out = node2.filter((pl.col("dstport") == "443") & (pl.col("direction") == "egress"))
    assert set(zip(out["srcaddr"], out["src_ip"], out["owner"])) == {("192.168.70.10", "192.168.70.10", "i-0e45000000000c002")}
    nat = rows.filter((pl.col("interface_id") == "eni-0e45000000000ca01") & (pl.col("direction") == "egress")
                      & (pl.col("dstaddr") == "198.51.100.20"))
    assert set(nat["srcaddr"]) == {"192.168.0.10"} and nat.height == 9


def test_nat_gateway_logs_four_legs_and_the_secondary_ip_in_pkt_srcaddr(run):
    result, rows = run("nat-gateway")
    nat = rows.filter(pl.col("interface_id") == "eni-0ad0000000000ca01")
    first = nat.filter(pl.col("start") == nat["start"].min())
    assert sorted(first.select("flow_direction", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr").rows()) == sorted([
        ("ingress", "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5"),
        ("egress", "10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5"),
        ("ingress", "203.0.113.5", "10.0.0.220", "203.0.113.5", "10.0.0.220"),
        ("egress", "10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5")])
    assert set(nat.filter(pl.col("log_status") == "OK")["owner"]) == {"NAT gateway nat-0ad0000000000a001"}
    secondary = rows.filter((pl.col("pkt_srcaddr") == "10.0.1.60") & (pl.col("interface_id") == "eni-0ad0000000000a002"))
    assert secondary.select("srcaddr", "traffic_path", "local_ip").rows() == [("10.0.1.6", "1", "10.0.1.60")]


def test_transit_gateway_refused_ssh_has_no_reply(run):
    result, rows = run("transit-gateway")
    ssh = rows.filter(pl.col("dstport") == "22")
    assert sorted(ssh.select("interface_id", "srcaddr", "dstaddr", "action").unique().rows()) == [
        ("eni-0c6a000000000a001", "10.20.33.164", "10.40.2.236", "ACCEPT"),
        ("eni-0c6a000000000a0c1", "10.20.33.164", "10.20.32.10", "ACCEPT"),
        ("eni-0c6a000000000b001", "10.20.33.164", "10.40.2.236", "REJECT"),
        ("eni-0c6a000000000b0c1", "10.40.1.175", "10.40.2.236", "ACCEPT")]
    assert rows.filter(pl.col("srcport") == "22").height == 0


def test_nacl_reject_shows_stateless_replies_as_egress_rejects(run):
    result, rows = run("nacl-reject")
    ok = rows.filter(pl.col("log_status") == "OK")
    assert sorted(ok.select("srcaddr", "dstaddr", "dstport", "protocol", "direction", "action").rows()) == sorted([
        ("198.51.100.7", "172.31.16.139", "443", "6", "ingress", "ACCEPT"),     # customer
        ("172.31.16.139", "198.51.100.7", ok.filter(pl.col("dstaddr") == "198.51.100.7")["dstport"][0], "6", "egress", "ACCEPT"),
        ("192.0.2.44", "172.31.16.139", "443", "6", "ingress", "ACCEPT"),       # partner: reply dropped by the NACL
        ("172.31.16.139", "192.0.2.44", ok.filter(pl.col("dstaddr") == "192.0.2.44")["dstport"][0], "6", "egress", "REJECT"),
        ("203.0.113.12", "172.31.16.139", "0", "1", "ingress", "ACCEPT"),       # ping: reply dropped by the NACL
        ("172.31.16.139", "203.0.113.12", "0", "1", "egress", "REJECT"),
        ("45.33.32.156", "172.31.16.139", "22", "6", "ingress", "REJECT"),      # NACL denies SSH
        ("45.33.32.156", "172.31.16.139", "3389", "6", "ingress", "REJECT"),    # SG refuses RDP
        ("45.33.32.156", "172.31.16.139", "0", "1", "ingress", "REJECT"),       # SG refuses the scanner's ping
    ])


def test_mixed_scales_to_about_the_requested_records_and_is_deterministic(tmp_path):
    first = simulate("mixed", tmp_path / "a", records=30_000, seed=3)
    again = simulate("mixed", tmp_path / "b", records=30_000, seed=3)
    other = simulate("mixed", tmp_path / "c", records=30_000, seed=4)
    assert abs(first.records - 30_000) < 3_000
    assert first.records == again.records
    a = {Path(f).relative_to(first.out): Path(f).read_bytes() for f in first.files}
    b = {Path(f).relative_to(again.out): Path(f).read_bytes() for f in again.files}
    assert a == b
    assert pl.read_parquet(first.truth).equals(pl.read_parquet(again.truth))
    assert not pl.read_parquet(first.truth).equals(pl.read_parquet(other.truth))
    truth = pl.read_parquet(first.truth)
    assert truth["interface_id"].n_unique() > 250
    assert set(truth["log_status"]) >= {"OK", "NODATA"}
    ok = truth.filter(pl.col("log_status") == "OK")
    # secondary IPs and the NAT gateway are in play; AWS-internal traffic is never logged
    assert ok.filter(pl.col("owner").str.starts_with("NAT gateway")).height > 0
    assert not ok["dst_ip"].is_in(["169.254.169.254", "169.254.169.123", "10.0.0.2"]).any()


def test_start_moves_the_whole_scenario_including_the_ip_move(tmp_path):
    base = simulate("floating-ip", tmp_path / "a")
    later = simulate("floating-ip", tmp_path / "b", start="2026-12-01T08:00:00Z")
    shift = 1796112000 - 1795860000
    assert (later.start, later.end) == (base.start + shift, base.end + shift)
    a, b = records(base), records(later)
    assert b.filter(pl.col("log_status") == "OK")["start"].cast(pl.Int64).to_list() == \
        (a.filter(pl.col("log_status") == "OK")["start"].cast(pl.Int64) + shift).to_list()
    assert b.select("interface_id", "srcaddr", "dstaddr").equals(a.select("interface_id", "srcaddr", "dstaddr"))


def test_describe_network_interfaces_follows_the_moves():
    topo = load_topology("floating-ip")
    moved = topo.moves[0].at

    def secondaries(at):
        doc = topo.describe_network_interfaces(at)
        return {i["NetworkInterfaceId"]: [a["PrivateIpAddress"] for a in i["PrivateIpAddresses"] if not a["Primary"]]
                for i in doc["NetworkInterfaces"] if i["NetworkInterfaceId"] in ("eni-0f10a7000000000a1", "eni-0f10a7000000000a2")}

    assert secondaries(moved - 1) == {"eni-0f10a7000000000a1": ["10.0.1.100"], "eni-0f10a7000000000a2": []}
    assert secondaries(moved) == {"eni-0f10a7000000000a1": [], "eni-0f10a7000000000a2": ["10.0.1.100"]}
    eks = {i["NetworkInterfaceId"]: i for i in load_topology("eks-pods").describe_network_interfaces()["NetworkInterfaces"]}
    assert eks["eni-0e45000000000c002"]["Ipv4Prefixes"] == [{"Ipv4Prefix": "192.168.70.32/28"}]
    nat = eks["eni-0e45000000000ca01"]
    assert (nat["InterfaceType"], nat["RequesterManaged"], "Attachment" in nat) == ("nat_gateway", True, False)
