"""Delivery: S3 key layouts, gzip text and Parquet objects, CloudWatch Logs streams; local and
uploaded to a real endpoint (moto), read back through eniflow.read and matched to the truth."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

import eniflow
from eniflow.simulate import SEED_CLIENT_ENI, SEED_SERVER_ENI, simulate
from eniflow.simulate.deliver import s3_key

STAMP = 1795862700  # 2026-11-28T10:45:00Z


@pytest.mark.parametrize("layout, key", [
    ("default", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/"),
    ("hourly", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/10/"),
    ("hive", "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=28/"),
    ("hive-hourly", "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
                    "year=2026/month=11/day=28/hour=10/"),
])
def test_s3_key_layouts(layout, key):
    name = "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261128T1045Z_fe123456.log.gz"
    assert s3_key("123456789012", "us-east-1", "fl-1234abcd", STAMP, layout, "", "fe123456") == key + name
    assert s3_key("123456789012", "us-east-1", "fl-1234abcd", STAMP, layout, "team/flows", "fe123456") == "team/flows/" + key + name


def test_layout_option_moves_every_object(tmp_path):
    result = simulate("seed", tmp_path, layout="hive-hourly")
    keys = [str(Path(f).relative_to(tmp_path)) for f in result.files]
    assert all(k.startswith("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
                            "year=2026/month=11/day=28/hour=10/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_")
               for k in keys)
    assert set(pl.read_parquet(result.truth)["source"]) == set(keys)


def test_custom_log_format_sets_header_and_version(tmp_path):
    fmt = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${log-status}"
    result = simulate("seed", tmp_path, log_format=fmt)
    lines = gzip.decompress(Path(result.files[0]).read_bytes()).decode().splitlines()
    assert lines[0] == "version interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr flow-direction log-status"
    server_in = {line for f in result.files for line in gzip.decompress(Path(f).read_bytes()).decode().splitlines()
                 if SEED_SERVER_ENI in line and "ingress" in line}
    assert server_in == {f"5 {SEED_SERVER_ENI} 10.0.2.30 10.0.1.10 10.0.2.30 10.0.1.20 ingress OK"}


def test_parquet_objects_have_aws_column_names_types_and_nulls(tmp_path):
    result = simulate("seed", tmp_path, file_format="parquet")
    assert all(f.endswith(".log.parquet") for f in result.files)
    frame = pl.concat([pl.read_parquet(f) for f in result.files])
    assert frame.schema == pl.Schema({
        "version": pl.Int32, "account_id": pl.String, "interface_id": pl.String, "srcaddr": pl.String, "dstaddr": pl.String,
        "srcport": pl.Int32, "dstport": pl.Int32, "protocol": pl.Int32, "packets": pl.Int64, "bytes": pl.Int64,
        "start": pl.Int64, "end": pl.Int64, "action": pl.String, "log_status": pl.String})
    nodata = frame.filter(pl.col("log_status") == "NODATA")
    assert nodata.height == 4 and nodata["srcaddr"].null_count() == 4 and nodata["packets"].null_count() == 4
    truth = pl.read_parquet(result.truth)
    assert truth["line"].min() == 1  # Parquet rows are numbered from 1, there is no header


def _joined(flows, truth_path: Path, prefix: str = "") -> tuple[int, int]:
    """(records read, records matched to the truth by source and line with equal interface and status)."""
    matched = flows.con.execute(f"""
        SELECT count(*) FROM flows f JOIN read_parquet('{truth_path}') t
          ON f.source = '{prefix}' || t.source AND f.line = t.line
         AND f.interface_id = t.interface_id AND f.log_status = t.log_status""").fetchone()[0]
    return flows.con.execute("SELECT count(*) FROM flows").fetchone()[0], matched


def test_local_parquet_and_cloudwatch_layouts_read_back_as_the_truth(tmp_path):
    for options in ({"file_format": "parquet"}, {"layout": "hourly"}):
        result = simulate("nat-gateway", tmp_path / options.get("file_format", "text"), **options)
        flows = eniflow.read(str(result.out / "AWSLogs"))
        assert _joined(flows, result.truth, f"{result.out}/") == (result.records, result.records)
    result = simulate("seed", tmp_path / "cwl", layout="cloudwatch")
    flows = eniflow.read(str(result.out / "eniflow"))
    assert _joined(flows, result.truth, f"{result.out}/") == (46, 46)


def test_upload_to_s3(aws, tmp_path):
    result = simulate("seed", tmp_path, endpoint_url=aws.endpoint_url, layout="hive")
    assert result.buckets == ["eniflow-simulated-flow-logs"]
    assert all(f.startswith("s3://eniflow-simulated-flow-logs/AWSLogs/aws-account-id=123456789012/") for f in result.files)
    assert not list(tmp_path.glob("AWSLogs"))  # uploaded, not written locally
    flows = eniflow.read("s3://eniflow-simulated-flow-logs/AWSLogs/", aws=aws)
    assert _joined(flows, result.truth) == (46, 46)


def test_upload_to_cloudwatch_registers_the_flow_log_format(aws, tmp_path):
    fmt = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${start} ${end} ${log-status}"
    result = simulate("seed", tmp_path, layout="cloudwatch", log_format=fmt, endpoint_url=aws.endpoint_url)
    assert result.log_groups == ["/eniflow/simulated/flow-logs"]
    assert sorted(result.files) == [f"cwl:///eniflow/simulated/flow-logs/{SEED_SERVER_ENI}-all",
                                    f"cwl:///eniflow/simulated/flow-logs/{SEED_CLIENT_ENI}-all"]
    (flow_log,) = aws.client("ec2").describe_flow_logs()["FlowLogs"]
    assert (flow_log["LogGroupName"], flow_log["LogFormat"]) == ("/eniflow/simulated/flow-logs", fmt)
    events = aws.client("logs").get_log_events(logGroupName="/eniflow/simulated/flow-logs",
                                              logStreamName=f"{SEED_SERVER_ENI}-all", startFromHead=True)["events"]
    assert all(e["timestamp"] == int(e["message"].split()[8]) * 1000 for e in events)
    flows = eniflow.read("cwl:///eniflow/simulated/flow-logs", aws=aws)
    assert "pkt_srcaddr" in flows.columns
    assert _joined(flows, result.truth) == (result.records, result.records)


def test_two_flow_logs_into_one_log_group_share_the_enis_stream(tmp_path):
    from eniflow.simulate.topology import parse_topology

    topo = parse_topology("""
vpcs: [{id: vpc-1, cidr: 10.0.0.0/16}]
subnets: [{id: subnet-1, vpc: vpc-1, cidr: 10.0.1.0/24}]
security_groups: [{id: sg-1, inbound: [{protocol: tcp, ports: 443, cidr: 0.0.0.0/0}]}]
enis:
  - {id: eni-a, subnet: subnet-1, primary: 10.0.1.10, instance: i-a, security_groups: [sg-1]}
  - {id: eni-b, subnet: subnet-1, primary: 10.0.1.20, instance: i-b}
flow_logs:
  - {resources: [eni-a], traffic_type: ACCEPT, destination: cloudwatch, log_group: /vpc/flows}
  - {resources: [eni-a], traffic_type: REJECT, destination: cloudwatch, log_group: /vpc/flows}
traffic:
  connections:
    - {from: eni-b, to: '10.0.1.10:443', at: +10s}
    - {from: eni-b, to: '10.0.1.10:22', src_port: 40000, at: +20s, packets: [2, 0], bytes: [120, 0]}
""", "t.yaml")
    result = simulate(topo, tmp_path)
    assert [Path(f).relative_to(tmp_path).as_posix() for f in result.files] == ["vpc/flows/eni-a-all.log"]
    lines = (tmp_path / "vpc/flows/eni-a-all.log").read_text().splitlines()
    ok = [line.split()[12] for line in lines if line.endswith(" OK")]
    assert sorted(ok) == ["ACCEPT", "ACCEPT", "REJECT"]
    truth = pl.read_parquet(result.truth)
    assert truth["line"].to_list() == list(range(1, len(lines) + 1))
    assert set(truth["source"]) == {"vpc/flows/eni-a-all.log"}
