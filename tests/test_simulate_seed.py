"""The seed scenario end to end: files, truth, and the secondary-IP effect on both ENIs."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

import eniflow
from eniflow.fields import DEFAULT_FORMAT
from eniflow.simulate import (SEED_ACCOUNT, SEED_CLIENT_ENI, SEED_CLIENT_INSTANCE, SEED_CLIENT_IP, SEED_FLOW_LOG,
                              SEED_REGION, SEED_SERVER_ENI, SEED_SERVER_INSTANCE, SEED_SERVER_PRIMARY,
                              SEED_SERVER_SECONDARY, SEED_VPC, load_topology, simulate)


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed")
    return simulate("seed", out)


def _records(path: Path) -> list[list[str]]:
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert lines[0].split() == list(DEFAULT_FORMAT)
    return [line.split() for line in lines[1:]]


def test_seed_constants_match_the_scenario():
    topo = load_topology("seed")
    server, client = topo.enis[SEED_SERVER_ENI], topo.enis[SEED_CLIENT_ENI]
    assert (server.primary, server.secondary, server.instance) == (SEED_SERVER_PRIMARY, [SEED_SERVER_SECONDARY], SEED_SERVER_INSTANCE)
    assert (client.primary, client.secondary, client.instance) == (SEED_CLIENT_IP, [], SEED_CLIENT_INSTANCE)
    assert (topo.account, topo.region, list(topo.vpcs), topo.flow_logs[0].id) == (SEED_ACCOUNT, SEED_REGION, [SEED_VPC], SEED_FLOW_LOG)
    assert topo.flow_logs[0].format.names == DEFAULT_FORMAT


def test_seed_writes_default_layout_objects_with_aws_names(seed_run):
    keys = sorted(str(Path(f).relative_to(seed_run.out)) for f in seed_run.files)
    prefix = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_"
    assert [k[:len(prefix)] for k in keys] == [prefix] * 3
    stamps = [k[len(prefix):].split("_") for k in keys]
    assert [s[0] for s in stamps] == ["20261128T1000Z", "20261128T1005Z", "20261128T1010Z"]
    assert all(len(s[1]) == len("0123abcd.log.gz") and s[1].endswith(".log.gz") for s in stamps)
    assert len({s[1] for s in stamps}) == 3


def test_client_eni_shows_the_secondary_ip_and_server_eni_the_primary(seed_run):
    rows = [r for f in seed_run.files for r in _records(Path(f)) if r[-1] == "OK"]
    by_eni = {}
    for r in rows:
        by_eni.setdefault(r[2], set()).add((r[3], r[4], r[5], r[6]))
    web = {p for p in ("49711", "49712", "49713")}
    client = {t for t in by_eni[SEED_CLIENT_ENI] if t[2] in web or t[3] in web}
    server = {t for t in by_eni[SEED_SERVER_ENI] if t[2] in web or t[3] in web}
    assert client == {(SEED_CLIENT_IP, SEED_SERVER_SECONDARY, p, "80") for p in web} | {
        (SEED_SERVER_SECONDARY, SEED_CLIENT_IP, "80", p) for p in web}
    assert server == {(SEED_CLIENT_IP, SEED_SERVER_PRIMARY, p, "80") for p in web} | {
        (SEED_SERVER_PRIMARY, SEED_CLIENT_IP, "80", p) for p in web}


def test_same_flow_has_equal_packets_and_bytes_on_both_enis(seed_run):
    rows = [r for f in seed_run.files for r in _records(Path(f)) if r[-1] == "OK"]
    totals = {}
    for r in rows:
        port = r[5] if r[5] != "80" else r[6]
        key = (r[2], port, "request" if r[6] == "80" else "reply")
        p, b = totals.get(key, (0, 0))
        totals[key] = (p + int(r[8]), b + int(r[9]))
    assert totals[(SEED_SERVER_ENI, "49713", "reply")] == totals[(SEED_CLIENT_ENI, "49713", "reply")] == (64, 98636)
    assert totals[(SEED_SERVER_ENI, "49711", "request")] == totals[(SEED_CLIENT_ENI, "49711", "request")] == (14, 842)


def test_truth_names_every_record_with_its_real_addresses(seed_run):
    truth = pl.read_parquet(seed_run.truth)
    assert truth.height == seed_run.records == 46
    assert truth.columns == ["source", "line", "interface_id", "direction", "src_ip", "dst_ip", "local_ip", "owner", "log_status"]
    server_in = truth.filter((pl.col("interface_id") == SEED_SERVER_ENI) & (pl.col("direction") == "ingress"))
    assert set(server_in["local_ip"]) == {SEED_SERVER_SECONDARY}
    assert set(server_in["dst_ip"]) == {SEED_SERVER_SECONDARY}
    assert set(server_in["owner"]) == {SEED_SERVER_INSTANCE}
    assert truth.filter(pl.col("log_status") == "NODATA").select("direction", "src_ip", "local_ip").null_count().row(0) == (4, 4, 4)
    assert truth["source"].str.starts_with("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/").all()
    # marked, so that a reader of the whole --out directory can skip it
    import pyarrow.parquet as pq
    assert pq.read_metadata(seed_run.truth).metadata[b"eniflow.simulation-truth"] == b"1"


def test_reading_the_output_returns_exactly_the_truth_records(seed_run):
    out = str(seed_run.out)
    flows = eniflow.read(f"{out}/AWSLogs")
    truth = pl.read_parquet(seed_run.truth)
    joined = flows.con.execute(f"""
        SELECT count(*) FROM flows f JOIN read_parquet('{seed_run.truth}') t
          ON f.source = '{out}/' || t.source AND f.line = t.line AND f.interface_id = t.interface_id
         AND f.log_status = t.log_status""").fetchone()[0]
    assert flows.stats.records + flows.stats.nodata == joined == truth.height
    # the logged dstaddr of server ingress records is the primary, the truth says the secondary
    pairs = flows.con.execute(f"""
        SELECT DISTINCT f.dstaddr, t.dst_ip FROM flows f JOIN read_parquet('{seed_run.truth}') t
          ON f.source = '{out}/' || t.source AND f.line = t.line
         WHERE t.interface_id = '{SEED_SERVER_ENI}' AND t.direction = 'ingress' AND t.dst_ip = '{SEED_SERVER_SECONDARY}'
    """).fetchall()
    assert pairs == [(SEED_SERVER_PRIMARY, SEED_SERVER_SECONDARY)]


def test_same_seed_same_bytes(tmp_path, seed_run):
    again = simulate("seed", tmp_path)
    first = {Path(f).relative_to(seed_run.out): Path(f).read_bytes() for f in seed_run.files}
    second = {Path(f).relative_to(tmp_path): Path(f).read_bytes() for f in again.files}
    assert first == second


def test_cli_writes_the_seed_scenario(cli, tmp_path):
    code, _, err = cli("simulate", "--scenario", "seed", "--out", tmp_path, "--layout", "cloudwatch")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "eniflow/simulated/flow-logs").iterdir()) == [
        f"{SEED_SERVER_ENI}-all.log", f"{SEED_CLIENT_ENI}-all.log"]
    assert "wrote 46 records (4 NODATA, 42 OK)" in err


def test_cli_lists_the_scenarios(cli):
    code, out, _ = cli("simulate", "--list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert "seed" in names and "mixed" in names


def test_cli_start_and_duration_in_seconds(cli, tmp_path):
    code, _, err = cli("simulate", "--scenario", "seed", "--out", tmp_path, "--start", "2026-11-28T12:00:00Z",
                       "--duration", "300")
    assert code == 0, err
    truth = pl.read_parquet(tmp_path / "truth.parquet")
    stamps = sorted({s.split("_")[-2] for s in truth["source"]})
    assert stamps == ["20261128T1200Z", "20261128T1205Z"]
