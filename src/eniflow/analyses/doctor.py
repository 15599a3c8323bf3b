"""Is flow logging set up so that every address can be told apart? Findings and exact fixes.

Reads DescribeFlowLogs and DescribeNetworkInterfaces (read-only) and reports:

- ``no-pkt-fields``: an ENI with several addresses (secondary IPs, prefixes) whose flow
  logs lack ``pkt-srcaddr``/``pkt-dstaddr``: its traffic cannot be split by address
  (reference §12), only guessed by peer joins;
- ``no-flow-log``: an ENI covered by no flow log (on itself, its subnet or its VPC):
  nothing to see, and no peer side for the ENIs it talks to;
- ``delivery-error``: a flow log whose delivery fails (``DeliverLogsErrorMessage``, §5);
- ``partial-traffic``: an ACCEPT-only or REJECT-only flow log (§6) not completed by
  another flow log on the same ENIs.

Each finding carries the fix and, where one command fixes it, the full
``aws ec2 create-flow-logs`` command. A flow log's format cannot be changed (§1), so
the fix is always "create a new one, then delete the old one".
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import asdict, dataclass

from ..aws import AwsOptions, translate_client_error
from ..fields import DEFAULT_FORMAT, lookup

__all__ = ["Finding", "Diagnosis", "doctor", "diagnose", "recommended_format", "create_flow_logs_command"]

# The default fields plus what tells addresses, direction and path apart (v3-v5).
_RECOMMENDED_EXTRA = ("vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
                      "az-id", "flow-direction", "traffic-path", "pkt-src-aws-service", "pkt-dst-aws-service")
PLACEHOLDER_DESTINATION = "arn:aws:s3:::YOUR-BUCKET/flow-logs/"

_DELIVERY_FIXES = {
    "access error": "the destination refuses the delivery: for CloudWatch Logs the role {role} must trust "
                    "vpc-flow-logs.amazonaws.com and allow logs:CreateLogGroup, logs:CreateLogStream, "
                    "logs:PutLogEvents, logs:DescribeLogGroups and logs:DescribeLogStreams (and the log group must exist "
                    "or be creatable); for S3 the bucket policy must let delivery.logs.amazonaws.com s3:PutObject, and "
                    "SSE-KMS needs the key ARN, not its ID",
    "rate limited": "CloudWatch Logs throttles the delivery: ask for a higher PutLogEvents quota, or deliver to S3 "
                    "instead",
    "unknown error": "AWS reports an internal delivery error: recreate the flow log; if it persists, contact AWS Support",
}


def recommended_format() -> str:
    """The custom format eniflow recommends: every default field plus pkt-*, direction and path fields."""
    names = DEFAULT_FORMAT + _RECOMMENDED_EXTRA
    return " ".join("${%s}" % lookup(name).name for name in names)


_RESOURCE_TYPES = {"vpc": "VPC", "subnet": "Subnet", "eni": "NetworkInterface"}


def _resource_type(resource_id: str) -> str | None:
    """VPC, Subnet or NetworkInterface from an ID's prefix (None for transit gateways)."""
    return _RESOURCE_TYPES.get(resource_id.split("-", 1)[0])


def _destination(flow_log: dict) -> tuple:
    return flow_log.get("LogDestinationType"), flow_log.get("LogDestination"), flow_log.get("LogGroupName")


def create_flow_logs_command(resource_id: str, *, destination: dict | None = None, traffic_type: str = "ALL",
                             log_format: str | None = None, region: str | None = None,
                             profile: str | None = None) -> str:
    """The exact ``aws ec2 create-flow-logs`` command for ``resource_id`` (vpc-, subnet- or eni-).

    ``destination`` is a DescribeFlowLogs entry whose destination is reused; without it the
    command delivers to S3 at a placeholder bucket to replace.
    """
    args = ["aws", "ec2", "create-flow-logs", "--resource-type", _resource_type(resource_id) or "NetworkInterface",
            "--resource-ids", resource_id, "--traffic-type", traffic_type]
    dest = destination or {}
    kind = dest.get("LogDestinationType") or ("s3" if not dest.get("LogGroupName") else "cloud-watch-logs")
    args += ["--log-destination-type", kind]
    if kind == "cloud-watch-logs":
        args += ["--log-group-name", dest["LogGroupName"]]
        if dest.get("DeliverLogsPermissionArn"):
            args += ["--deliver-logs-permission-arn", dest["DeliverLogsPermissionArn"]]
    else:
        args += ["--log-destination", dest.get("LogDestination") or PLACEHOLDER_DESTINATION]
    options = dest.get("DestinationOptions") or {}
    if kind == "s3" and options:
        args += ["--destination-options", ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                                                  for k, v in sorted(options.items()))]
    args += ["--log-format", log_format or recommended_format(), "--max-aggregation-interval", "60"]
    if region:
        args += ["--region", region]
    if profile:
        args += ["--profile", profile]
    return " ".join(shlex.quote(a) for a in args)


@dataclass(frozen=True)
class Finding:
    kind: str  # no-pkt-fields | no-flow-log | delivery-error | partial-traffic
    resource: str  # the ENI or flow log the finding is about
    flow_log_id: str | None
    problem: str
    fix: str
    command: str | None


@dataclass
class Diagnosis:
    """What doctor looked at and what it found."""

    findings: list[Finding]
    interfaces: int
    flow_logs: int
    region: str | None = None

    def relation(self, con=None):
        """The findings as a DuckDB relation (columns as in :class:`Finding`)."""
        import pyarrow as pa

        from ..engine import connect

        con = con or connect()
        schema = pa.schema([(name, pa.string()) for name in Finding.__dataclass_fields__])
        return con.from_arrow(pa.Table.from_pylist([asdict(f) for f in self.findings], schema=schema))


def _addresses(eni: dict) -> list[str]:
    ips = [a["PrivateIpAddress"] for a in sorted(eni.get("PrivateIpAddresses") or [], key=lambda a: not a.get("Primary"))]
    ips += [a["Ipv4Prefix"] for a in eni.get("Ipv4Prefixes") or []]
    ips += [a["Ipv6Address"] for a in eni.get("Ipv6Addresses") or []]
    ips += [a["Ipv6Prefix"] for a in eni.get("Ipv6Prefixes") or []]
    return ips


def _several_addresses(eni: dict) -> bool:
    return (len(eni.get("PrivateIpAddresses") or []) > 1 or bool(eni.get("Ipv4Prefixes"))
            or bool(eni.get("Ipv6Prefixes")) or len(eni.get("Ipv6Addresses") or []) > 1)


def _has_pkt_fields(flow_log: dict) -> bool:
    fmt = flow_log.get("LogFormat") or ""
    return "${pkt-srcaddr}" in fmt and "${pkt-dstaddr}" in fmt


def _covering(eni: dict, flow_logs: list[dict]) -> list[dict]:
    scope = {eni.get("NetworkInterfaceId"), eni.get("SubnetId"), eni.get("VpcId")}
    return [fl for fl in flow_logs if fl.get("ResourceId") in scope]


def _captures(logs: list[dict]) -> set[str]:
    types = {fl.get("TrafficType", "ALL") for fl in logs}
    return {"ACCEPT", "REJECT"} if "ALL" in types else types


def diagnose(flow_logs: list[dict], interfaces: list[dict], *, region: str | None = None,
             profile: str | None = None) -> list[Finding]:
    """Findings for DescribeFlowLogs ``FlowLogs`` and DescribeNetworkInterfaces ``NetworkInterfaces`` entries."""
    flow_logs = [fl for fl in flow_logs if _resource_type(fl.get("ResourceId", ""))]
    cmd = lambda resource, **kw: create_flow_logs_command(resource, region=region, profile=profile, **kw)  # noqa: E731
    # The destination most working flow logs use: the natural place for a new one.
    working = [fl for fl in flow_logs if not fl.get("DeliverLogsErrorMessage")]
    usual = Counter(map(_destination, working)).most_common(1)
    usual_dest = next(fl for fl in working if _destination(fl) == usual[0][0]) if usual else None
    logged_vpcs = {eni.get("VpcId") for eni in interfaces if _covering(eni, flow_logs)}
    findings: list[Finding] = []
    for eni in sorted(interfaces, key=lambda e: e["NetworkInterfaceId"]):
        eni_id = eni["NetworkInterfaceId"]
        logs = _covering(eni, flow_logs)
        if not logs:
            vpc = eni.get("VpcId")
            target = vpc if vpc and vpc not in logged_vpcs else eni_id
            where = f"its VPC {vpc} (covers every ENI there, including future ones)" if target == vpc else "it"
            findings.append(Finding(
                "no-flow-log", eni_id, None,
                f"{eni_id} ({', '.join(_addresses(eni)) or 'no addresses'}) has no flow log on itself, its subnet "
                f"{eni.get('SubnetId')} or its VPC {vpc}: its traffic is invisible, and the ENIs it talks to "
                "have no other side to join with.",
                f"Create a flow log on {where} with the recommended format"
                + ("" if usual_dest else f" (replace {PLACEHOLDER_DESTINATION} with your bucket)") + ".",
                cmd(target, destination=usual_dest)))
        elif _several_addresses(eni) and not any(_has_pkt_fields(fl) for fl in logs):
            old = logs[0]
            ids = ", ".join(fl["FlowLogId"] for fl in logs)
            findings.append(Finding(
                "no-pkt-fields", eni_id, old["FlowLogId"],
                f"{eni_id} has several addresses ({', '.join(_addresses(eni))}) but its flow logs ({ids}) lack "
                "pkt-srcaddr/pkt-dstaddr: AWS writes the primary IP for all of them, so traffic per address can "
                "only be recovered where the other side is logged too.",
                f"A flow log's format cannot be changed: create one on {old['ResourceId']} with the recommended format "
                f"(it includes pkt-srcaddr and pkt-dstaddr), then delete the old one: "
                f"aws ec2 delete-flow-logs --flow-log-ids {old['FlowLogId']}",
                cmd(old["ResourceId"], destination=old, traffic_type=old.get("TrafficType", "ALL"))))
    for fl in sorted(flow_logs, key=lambda f: f["FlowLogId"]):
        message = fl.get("DeliverLogsErrorMessage")
        if message or fl.get("DeliverLogsStatus") == "FAILED":
            message = message or "delivery status FAILED"
            fix = _DELIVERY_FIXES.get(message.strip().lower(),
                                      "check the destination exists and accepts deliveries from the flow log service")
            fix = fix.format(role=fl.get("DeliverLogsPermissionArn") or "(none given)")
            findings.append(Finding(
                "delivery-error", fl["FlowLogId"], fl["FlowLogId"],
                f"{fl['FlowLogId']} on {fl.get('ResourceId')} cannot deliver its records "
                f"to {fl.get('LogGroupName') or fl.get('LogDestination')}: {message}.",
                fix[0].upper() + fix[1:] + ".", None))
        traffic = fl.get("TrafficType", "ALL")
        if traffic in ("ACCEPT", "REJECT"):
            covered = [eni for eni in interfaces if fl in _covering(eni, flow_logs)]
            if covered and all(_captures(_covering(eni, flow_logs)) == {"ACCEPT", "REJECT"} for eni in covered):
                continue
            missing = "REJECT" if traffic == "ACCEPT" else "ACCEPT"
            findings.append(Finding(
                "partial-traffic", fl["FlowLogId"], fl["FlowLogId"],
                f"{fl['FlowLogId']} on {fl.get('ResourceId')} logs {traffic} traffic only: {missing}ed flows are "
                "missing, so conversations cannot be paired and rejections (or what was let through) stay hidden.",
                f"Create a flow log on {fl.get('ResourceId')} that captures ALL traffic, then delete this one: "
                f"aws ec2 delete-flow-logs --flow-log-ids {fl['FlowLogId']}",
                cmd(fl["ResourceId"], destination=fl,
                    log_format=fl.get("LogFormat") if _has_pkt_fields(fl) else None)))
    return findings


def _all_pages(client, operation: str, key: str) -> list[dict]:
    return [item for page in client.get_paginator(operation).paginate() for item in page.get(key, [])]


def doctor(aws: AwsOptions | None = None) -> Diagnosis:
    """Check the flow log configuration of one account and region (two read-only EC2 calls)."""
    from botocore.exceptions import BotoCoreError, ClientError

    aws = aws or AwsOptions()
    region = aws.region or aws.session().region_name or "us-east-1"
    ec2 = aws.client("ec2")
    try:
        flow_logs = _all_pages(ec2, "describe_flow_logs", "FlowLogs")
    except (ClientError, BotoCoreError) as exc:
        raise translate_client_error(exc, "ec2:DescribeFlowLogs", f"flow logs in {region}") from None
    try:
        interfaces = _all_pages(ec2, "describe_network_interfaces", "NetworkInterfaces")
    except (ClientError, BotoCoreError) as exc:
        raise translate_client_error(exc, "ec2:DescribeNetworkInterfaces", f"network interfaces in {region}") from None
    findings = diagnose(flow_logs, interfaces, region=aws.region, profile=aws.profile)
    return Diagnosis(findings, len(interfaces), len(flow_logs), region)
