"""The one table of every flow log field.

Parser, simulator, Parquet writer, docs and ``--format`` validation all read this
module, so a field is described exactly once. Facts come from
``shared/reference/aws-flow-logs.md`` (sections 2 and 15).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Field",
    "FIELDS",
    "BY_NAME",
    "DEFAULT_FORMAT",
    "TGW_DEFAULT_FORMAT",
    "column_name",
    "aws_name",
    "lookup",
    "INTEGER_COLUMNS",
]


@dataclass(frozen=True)
class Field:
    name: str  # AWS name, hyphenated (``log-status``)
    version: int  # flow log version that introduced it (0: not confirmed by AWS)
    kind: str  # "int32", "int64" or "string" (AWS's documented Parquet type)
    doc: str
    tgw: bool = False  # Transit Gateway flow logs only
    confirmed: bool = True

    @property
    def column(self) -> str:
        """Column name in eniflow's relations and AWS's Parquet files."""
        return self.name.replace("-", "_")

    @property
    def is_int(self) -> bool:
        return self.kind != "string"


def _f(name, version, kind, doc, **kw):
    return Field(name, version, kind, doc, **kw)


FIELDS: tuple[Field, ...] = (
    # version 2 (the default format, in its order)
    _f("version", 2, "int32", "Flow log format version of the record."),
    _f("account-id", 2, "string", "AWS account that owns the interface (or 'unknown')."),
    _f("interface-id", 2, "string", "Network interface the traffic was recorded on."),
    _f("srcaddr", 2, "string", "Source address; for egress the interface's primary private IPv4."),
    _f("dstaddr", 2, "string", "Destination address; for ingress the interface's primary private IPv4."),
    _f("srcport", 2, "int32", "Source port."),
    _f("dstport", 2, "int32", "Destination port."),
    _f("protocol", 2, "int32", "IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)."),
    _f("packets", 2, "int64", "Packets in the flow during the interval."),
    _f("bytes", 2, "int64", "Bytes in the flow during the interval."),
    _f("start", 2, "int64", "Unix seconds of the first packet in the interval."),
    _f("end", 2, "int64", "Unix seconds of the last packet in the interval."),
    _f("action", 2, "string", "ACCEPT or REJECT."),
    _f("log-status", 2, "string", "OK, NODATA or SKIPDATA."),
    # version 3
    _f("vpc-id", 3, "string", "VPC of the interface."),
    _f("subnet-id", 3, "string", "Subnet of the interface."),
    _f("instance-id", 3, "string", "Instance the interface is attached to (if you own it)."),
    _f("tcp-flags", 3, "int32", "OR of TCP flags seen in the interval: FIN 1, SYN 2, RST 4, SYN-ACK 18."),
    _f("type", 3, "string", "IPv4, IPv6 or EFA."),
    _f("pkt-srcaddr", 3, "string", "Source address as in the packet."),
    _f("pkt-dstaddr", 3, "string", "Destination address as in the packet."),
    # version 4
    _f("region", 4, "string", "Region of the interface."),
    _f("az-id", 4, "string", "Availability Zone ID of the interface."),
    _f("sublocation-type", 4, "string", "wavelength, outpost or localzone."),
    _f("sublocation-id", 4, "string", "ID of the sublocation."),
    # version 5
    _f("pkt-src-aws-service", 5, "string", "AWS IP-range service of pkt-srcaddr."),
    _f("pkt-dst-aws-service", 5, "string", "AWS IP-range service of pkt-dstaddr."),
    _f("flow-direction", 5, "string", "ingress or egress, relative to the interface."),
    _f("traffic-path", 5, "int32", "Path of egress traffic (1-8)."),
    # version 7 (ECS)
    _f("ecs-cluster-arn", 7, "string", "ARN of the ECS cluster of the task."),
    _f("ecs-cluster-name", 7, "string", "Name of the ECS cluster."),
    _f("ecs-container-instance-arn", 7, "string", "ARN of the ECS container instance."),
    _f("ecs-container-instance-id", 7, "string", "ID of the ECS container instance."),
    _f("ecs-container-id", 7, "string", "Docker runtime ID of the task's first container."),
    _f("ecs-second-container-id", 7, "string", "Docker runtime ID of the task's second container."),
    _f("ecs-service-name", 7, "string", "ECS service that started the task."),
    _f("ecs-task-definition-arn", 7, "string", "ARN of the task definition."),
    _f("ecs-task-arn", 7, "string", "ARN of the ECS task."),
    _f("ecs-task-id", 7, "string", "ID of the ECS task."),
    # version 8
    _f("reject-reason", 8, "string", "BPA when rejected by VPC Block Public Access, else '-'."),
    # seen in third-party formats, not confirmed by AWS documentation
    _f("resource-id", 0, "string", "Regional NAT gateway resource (unconfirmed).", confirmed=False),
    _f("encryption-status", 0, "int32", "VPC Encryption Controls status 0-3 (unconfirmed version).", confirmed=False),
    # Transit Gateway flow logs (version 6)
    _f("resource-type", 6, "string", "TransitGateway or TransitGatewayAttachment.", tgw=True),
    _f("tgw-id", 6, "string", "Transit gateway ID.", tgw=True),
    _f("tgw-attachment-id", 6, "string", "Attachment the traffic is recorded for.", tgw=True),
    _f("tgw-src-vpc-account-id", 6, "string", "Account of the source VPC.", tgw=True),
    _f("tgw-dst-vpc-account-id", 6, "string", "Account of the destination VPC.", tgw=True),
    _f("tgw-src-vpc-id", 6, "string", "Source VPC.", tgw=True),
    _f("tgw-dst-vpc-id", 6, "string", "Destination VPC.", tgw=True),
    _f("tgw-src-subnet-id", 6, "string", "Source subnet.", tgw=True),
    _f("tgw-dst-subnet-id", 6, "string", "Destination subnet.", tgw=True),
    _f("tgw-src-eni", 6, "string", "Source attachment ENI.", tgw=True),
    _f("tgw-dst-eni", 6, "string", "Destination attachment ENI.", tgw=True),
    _f("tgw-src-az-id", 6, "string", "AZ ID of the source side.", tgw=True),
    _f("tgw-dst-az-id", 6, "string", "AZ ID of the destination side.", tgw=True),
    _f("tgw-pair-attachment-id", 6, "string", "The other attachment of the flow.", tgw=True),
    _f("packets-lost-no-route", 6, "int64", "Packets dropped: no route.", tgw=True),
    _f("packets-lost-blackhole", 6, "int64", "Packets dropped: blackhole route.", tgw=True),
    _f("packets-lost-mtu-exceeded", 6, "int64", "Packets dropped: larger than the MTU.", tgw=True),
    _f("packets-lost-ttl-expired", 6, "int64", "Packets dropped: TTL expired.", tgw=True),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
_BY_ANY: dict[str, Field] = {**BY_NAME, **{f.column: f for f in FIELDS}}

DEFAULT_FORMAT: tuple[str, ...] = tuple(f.name for f in FIELDS if f.version == 2)

# AWS's default Transit Gateway format: all TGW fields in the documented order.
TGW_DEFAULT_FORMAT: tuple[str, ...] = (
    "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id "
    "tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id "
    "tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr "
    "srcport dstport protocol packets bytes start end log-status type packets-lost-no-route "
    "packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region "
    "flow-direction pkt-src-aws-service pkt-dst-aws-service"
).split()

INTEGER_COLUMNS: frozenset[str] = frozenset(f.column for f in FIELDS if f.is_int)


def lookup(name: str) -> Field | None:
    """Find a field by its AWS name, underscore column name or ``${name}`` form."""
    key = name.strip()
    if key.startswith("${") and key.endswith("}"):
        key = key[2:-1]
    return _BY_ANY.get(key) or _BY_ANY.get(key.lower())


def column_name(name: str) -> str:
    """The column for any spelling of a field name (unknown names: ``-`` to ``_``)."""
    field = lookup(name)
    return field.column if field else name.strip().strip("${}").replace("-", "_").lower()


def aws_name(column: str) -> str:
    field = lookup(column)
    return field.name if field else column.replace("_", "-")
