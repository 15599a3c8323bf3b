"""eniflow doctor against a real EC2 API endpoint (moto in server mode)."""

from __future__ import annotations

import json
import shlex

import pytest

from eniflow.analyses.doctor import create_flow_logs_command, diagnose, doctor, recommended_format

DEFAULT_LOG_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
                      "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")


@pytest.fixture
def ec2(aws):
    return aws.client("ec2")


@pytest.fixture
def vpc(ec2, aws):
    """A VPC with a server ENI (primary 10.0.1.10 + secondary 10.0.1.20) and a client ENI (10.0.2.30)."""
    aws.client("s3").create_bucket(Bucket="flow-logs")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub1 = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sub2 = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    server = ec2.create_network_interface(SubnetId=sub1, PrivateIpAddresses=[
        {"PrivateIpAddress": "10.0.1.10", "Primary": True},
        {"PrivateIpAddress": "10.0.1.20", "Primary": False}])["NetworkInterface"]["NetworkInterfaceId"]
    client = ec2.create_network_interface(SubnetId=sub2, PrivateIpAddress="10.0.2.30")["NetworkInterface"]["NetworkInterfaceId"]
    return {"vpc": vpc_id, "sub1": sub1, "sub2": sub2, "server": server, "client": client}


def _s3_log(ec2, resource_type, resource_id, fmt=None, traffic="ALL"):
    kw = {"LogFormat": fmt} if fmt else {}
    resp = ec2.create_flow_logs(ResourceType=resource_type, ResourceIds=[resource_id], TrafficType=traffic,
                                LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-logs", **kw)
    return resp["FlowLogIds"][0]


def test_recommended_format_keeps_the_default_fields_first_and_adds_pkt_addresses():
    fmt = recommended_format()
    assert fmt.startswith(DEFAULT_LOG_FORMAT + " ")
    assert "${pkt-srcaddr} ${pkt-dstaddr}" in fmt
    assert "${flow-direction}" in fmt


def test_vpc_log_in_default_format_hides_the_secondary_ip(ec2, vpc, aws):
    fl = _s3_log(ec2, "VPC", vpc["vpc"])
    diagnosis = doctor(aws)
    assert (diagnosis.interfaces, diagnosis.flow_logs) == (2, 1)
    assert [(f.kind, f.resource, f.flow_log_id) for f in diagnosis.findings] == [("no-pkt-fields", vpc["server"], fl)]
    finding = diagnosis.findings[0]
    assert "10.0.1.10, 10.0.1.20" in finding.problem
    assert finding.fix.endswith(f"aws ec2 delete-flow-logs --flow-log-ids {fl}")
    # The command recreates the log on the same VPC and destination, with pkt-* fields.
    args = shlex.split(finding.command)
    assert args[:3] == ["aws", "ec2", "create-flow-logs"]
    opts = dict(zip(args[3::2], args[4::2]))
    assert opts == {"--resource-type": "VPC", "--resource-ids": vpc["vpc"], "--traffic-type": "ALL",
                    "--log-destination-type": "s3", "--log-destination": "arn:aws:s3:::flow-logs",
                    "--log-format": recommended_format(), "--max-aggregation-interval": "60",
                    "--region": "us-east-1"}


def test_pkt_fields_on_the_eni_log_are_enough(ec2, vpc, aws):
    _s3_log(ec2, "Subnet", vpc["sub1"], fmt=recommended_format())
    _s3_log(ec2, "NetworkInterface", vpc["client"])
    assert doctor(aws).findings == []


def test_eni_without_any_flow_log(ec2, vpc, aws):
    _s3_log(ec2, "NetworkInterface", vpc["server"], fmt=recommended_format())
    findings = doctor(aws).findings
    assert [(f.kind, f.resource) for f in findings] == [("no-flow-log", vpc["client"])]
    # Another ENI of the VPC has its own log, so the fix targets the ENI (not the whole VPC),
    # delivering where the account's other flow log delivers.
    opts = shlex.split(findings[0].command)
    assert opts[opts.index("--resource-ids") + 1] == vpc["client"]
    assert opts[opts.index("--log-destination") + 1] == "arn:aws:s3:::flow-logs"


def test_nothing_logged_suggests_a_vpc_log_with_a_placeholder_bucket(ec2, vpc, aws):
    findings = doctor(aws).findings
    assert [(f.kind, f.resource) for f in findings] == [("no-flow-log", eni) for eni in sorted([vpc["client"], vpc["server"]])]
    for f in findings:
        opts = shlex.split(f.command)
        assert opts[opts.index("--resource-type") + 1] == "VPC"
        assert opts[opts.index("--resource-ids") + 1] == vpc["vpc"]
        assert opts[opts.index("--log-destination") + 1] == "arn:aws:s3:::YOUR-BUCKET/flow-logs/"
        assert "replace arn:aws:s3:::YOUR-BUCKET/flow-logs/ with your bucket" in f.fix


def test_failing_delivery_and_reject_only_log(ec2, vpc, aws):
    # moto reports "Access error" for a CloudWatch Logs destination whose log group does not exist.
    resp = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc["vpc"]], TrafficType="REJECT",
                                LogGroupName="missing-group", LogFormat=recommended_format(),
                                DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs")
    fl = resp["FlowLogIds"][0]
    findings = doctor(aws).findings
    assert [(f.kind, f.resource) for f in findings] == [("delivery-error", fl), ("partial-traffic", fl)]
    error, partial = findings
    assert error.problem == f"{fl} on {vpc['vpc']} cannot deliver its records to missing-group: Access error."
    assert "arn:aws:iam::123456789012:role/flow-logs must trust vpc-flow-logs.amazonaws.com" in error.fix
    assert error.command is None
    assert "logs REJECT traffic only: ACCEPTed flows are missing" in partial.problem
    opts = shlex.split(partial.command)
    assert opts[opts.index("--traffic-type") + 1] == "ALL"
    assert opts[opts.index("--log-group-name") + 1] == "missing-group"
    assert opts[opts.index("--deliver-logs-permission-arn") + 1] == "arn:aws:iam::123456789012:role/flow-logs"


def test_accept_only_log_completed_by_a_reject_only_log_is_fine(ec2, vpc, aws):
    _s3_log(ec2, "VPC", vpc["vpc"], fmt=recommended_format(), traffic="ACCEPT")
    _s3_log(ec2, "Subnet", vpc["sub1"], fmt=recommended_format(), traffic="REJECT")
    findings = doctor(aws).findings
    # The subnet log completes the VPC log only for the server's subnet; the client stays ACCEPT-only.
    assert [(f.kind, f.resource[:3]) for f in findings] == [("partial-traffic", "fl-")]
    assert "logs ACCEPT traffic only" in findings[0].problem and vpc["vpc"] in findings[0].problem


def test_prefix_delegation_counts_as_several_addresses():
    # moto does not model prefixes; the shape is DescribeNetworkInterfaces'.
    eni = {"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1", "VpcId": "vpc-1",
           "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": True}],
           "Ipv4Prefixes": [{"Ipv4Prefix": "10.0.1.32/28"}]}
    log = {"FlowLogId": "fl-1", "ResourceId": "subnet-1", "TrafficType": "ALL", "LogDestinationType": "s3",
           "LogDestination": "arn:aws:s3:::b", "LogFormat": DEFAULT_LOG_FORMAT}
    [finding] = diagnose([log], [eni])
    assert finding.kind == "no-pkt-fields"
    assert "(10.0.1.10, 10.0.1.32/28)" in finding.problem


def test_command_keeps_s3_destination_options_and_profile():
    dest = {"LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::b/p",
            "DestinationOptions": {"FileFormat": "parquet", "HiveCompatiblePartitions": True, "PerHourPartition": False}}
    args = shlex.split(create_flow_logs_command("eni-9", destination=dest, profile="prod"))
    assert args[args.index("--destination-options") + 1] == \
        "FileFormat=parquet,HiveCompatiblePartitions=true,PerHourPartition=false"
    assert args[-2:] == ["--profile", "prod"]
    assert args[args.index("--resource-type") + 1] == "NetworkInterface"


def test_cli_exit_code_and_jsonl(ec2, vpc, aws, cli):
    _s3_log(ec2, "VPC", vpc["vpc"])
    base = ["doctor", "--region", "us-east-1", "--endpoint-url", aws.endpoint_url]
    code, out, err = cli(*base)
    assert code == 0
    assert f"1. no-pkt-fields  {vpc['server']}" in out
    assert "$ aws ec2 create-flow-logs --resource-type VPC" in out
    assert "doctor: 1 finding(s); checked 2 network interface(s) and 1 flow log(s) in us-east-1." in err
    code, out, _ = cli(*base, "--exit-code", "-o", "jsonl")
    assert code == 1
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["kind"] == "no-pkt-fields" and row["resource"] == vpc["server"]



def test_cli_help_has_a_worked_example(cli):
    code, out, _ = cli("doctor", "--help")
    assert code == 0 and "eniflow doctor --region eu-west-1 --exit-code" in out
