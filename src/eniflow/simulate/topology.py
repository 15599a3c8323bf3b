"""The topology file: VPCs, subnets, ENIs, security controls, flow logs and traffic.

Loaded from YAML with the line of every key kept, so that a mistake is reported as
``file:line: what is wrong and how to fix it`` rather than as a traceback.
The format is documented in the README (section "Simulate") and by the built-in
scenarios in ``scenarios/*.yaml``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..fields import lookup
from ..formats import Format, parse_format
from .traffic import parse_connections, parse_random
from .yamlfile import PROTOCOLS, Checker, Map, TopologyError, duration_value, load_yaml, time_value

__all__ = [
    "Topology", "Vpc", "Subnet", "Eni", "Rule", "SecurityGroup", "NetworkAcl", "InternetHost",
    "TransitGateway", "Pod", "Move", "FlowLog", "Traffic", "TopologyError", "load_topology",
    "parse_topology", "eni_format", "SCENARIO_DIR", "DEFAULT_START",
]

SCENARIO_DIR = Path(__file__).with_name("scenarios")
REQUESTER_MANAGED = {"nat-gateway", "transit-gateway-attachment", "vpc-endpoint", "load-balancer", "lambda"}
KINDS = {"instance"} | REQUESTER_MANAGED
# EC2's InterfaceType for each kind of ENI
_INTERFACE_TYPES = {"instance": "interface", "nat-gateway": "nat_gateway", "transit-gateway-attachment": "transit_gateway",
                    "vpc-endpoint": "vpc_endpoint", "load-balancer": "network_load_balancer", "lambda": "lambda"}
# Traffic without a 'start' begins here, so that a scenario's output never depends on the clock.
DEFAULT_START = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc).timestamp()


# --------------------------------------------------------------------------------------
# The model


@dataclass
class Vpc:
    id: str
    cidrs: list
    account: str


@dataclass
class Subnet:
    id: str
    vpc: str
    cidr: Any
    az_id: str
    nacl: str | None
    internet: str  # "igw", "none" or the ENI id of a NAT gateway


@dataclass
class Rule:
    """One security group or network ACL rule (``action`` is always allow for SGs)."""

    protocol: int  # -1 = all
    ports: tuple[int, int]
    cidr: Any
    allow: bool = True
    number: int = 0


@dataclass
class SecurityGroup:
    id: str
    inbound: list[Rule]
    outbound: list[Rule]


@dataclass
class NetworkAcl:
    id: str
    inbound: list[Rule]  # ordered by rule number
    outbound: list[Rule]


@dataclass
class Eni:
    id: str
    subnet: str
    primary: str
    secondary: list[str]
    ipv6: list[str]
    prefixes: list
    kind: str
    instance: str | None
    description: str
    nitro: bool
    security_groups: list[str]
    account: str
    window_phase: float | None
    name: str | None

    @property
    def owner(self) -> str:
        """What owns this ENI's addresses: the instance, or the ENI's description."""
        return self.instance or self.description


@dataclass
class InternetHost:
    ip: str
    name: str | None = None
    service: str | None = None


@dataclass
class TransitGateway:
    id: str
    attachments: dict[str, list[str]]  # vpc id -> attachment ENI ids


@dataclass
class Pod:
    namespace: str
    name: str
    ip: str
    eni: str
    snat: bool = True

    @property
    def owner(self) -> str:
        return f"pod {self.namespace}/{self.name}"


@dataclass
class Move:
    ip: str
    from_eni: str
    to_eni: str
    at: float


@dataclass
class FlowLog:
    id: str
    resources: list[str]
    format: Format
    interval: int
    traffic_type: str
    destination: str  # "s3" or "cloudwatch"
    bucket: str
    prefix: str
    log_group: str
    file_format: str  # "text" or "parquet"
    hive: bool
    hourly: bool

    @property
    def layout(self) -> str:
        """The S3 key layout: default, hourly, hive or hive-hourly."""
        return {(False, False): "default", (False, True): "hourly", (True, False): "hive", (True, True): "hive-hourly"}[
            (self.hive, self.hourly)]


@dataclass
class Traffic:
    start: float | None
    duration: float | None
    connections: list[dict]  # validated connection specs (see traffic.py)
    skipdata: list[tuple[str, float]]
    idle: list[tuple[str, float, float]]
    random: dict | None


@dataclass
class Topology:
    source: str
    account: str
    region: str
    vpcs: dict[str, Vpc]
    subnets: dict[str, Subnet]
    security_groups: dict[str, SecurityGroup]
    network_acls: dict[str, NetworkAcl]
    enis: dict[str, Eni]
    internet_hosts: list[InternetHost]
    transit_gateways: list[TransitGateway]
    pods: list[Pod]
    moves: list[Move]
    flow_logs: list[FlowLog]
    traffic: Traffic
    description: str = ""
    generate: dict | None = field(default=None)

    def describe_network_interfaces(self, at: float | None = None) -> dict:
        """The ENIs as ``aws ec2 describe-network-interfaces`` prints them at time ``at``
        (after the address moves up to then; None: before any move). An inventory for eniflow."""
        held = {eni.id: list(eni.secondary) for eni in self.enis.values()}
        for move in self.moves:
            if at is not None and move.at <= at:
                held[move.from_eni].remove(move.ip)
                held[move.to_eni].append(move.ip)
        interfaces = []
        for eni in self.enis.values():
            interfaces.append({
                "NetworkInterfaceId": eni.id, "SubnetId": eni.subnet, "VpcId": self.subnets[eni.subnet].vpc,
                "AvailabilityZoneId": self.subnets[eni.subnet].az_id, "OwnerId": eni.account,
                "Description": eni.description, "InterfaceType": _INTERFACE_TYPES[eni.kind],
                "RequesterManaged": eni.kind != "instance",
                **({"Attachment": {"InstanceId": eni.instance}} if eni.instance else {}),
                "Groups": [{"GroupId": g} for g in eni.security_groups],
                "PrivateIpAddress": eni.primary,
                "PrivateIpAddresses": [{"PrivateIpAddress": eni.primary, "Primary": True}]
                + [{"PrivateIpAddress": a, "Primary": False} for a in held[eni.id]],
                "Ipv6Addresses": [{"Ipv6Address": a} for a in eni.ipv6],
                "Ipv4Prefixes": [{"Ipv4Prefix": str(p)} for p in eni.prefixes]})
        return {"NetworkInterfaces": interfaces}


# --------------------------------------------------------------------------------------
# Parsing


def eni_format(spec: str | None) -> Format:
    """A flow log format for ENIs: any known fields except the Transit Gateway-only ones."""
    fmt = parse_format(spec)
    tgw = [name for name in fmt.names if lookup(name).tgw]
    if tgw:
        raise UsageError(f"{', '.join(tgw)}: Transit Gateway fields belong to transit gateway flow logs, not ENI flow logs.")
    return fmt


def load_topology(path_or_name: str | Path) -> Topology:
    """A topology from a YAML file, or a built-in scenario by name (see ``list_scenarios``)."""
    path = Path(path_or_name)
    if not path.suffix and not path.is_file():  # a directory named like a scenario (its --out) is not a topology
        builtin = SCENARIO_DIR / f"{path_or_name}.yaml"
        if not builtin.exists():
            names = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
            raise UsageError(f"no built-in scenario named {str(path_or_name)!r}; choose one of: {names}.")
        path = builtin
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the topology file ({exc.strerror}).", str(path)) from exc
    return parse_topology(text, str(path))


def parse_topology(text: str, source: str = "<topology>") -> Topology:
    check = Checker(source)
    root = load_yaml(text, source)
    if not isinstance(root, Map):
        raise TopologyError(f"{source}: the topology must be a YAML mapping with keys such as 'vpcs', 'subnets', 'enis'.", source)
    check.keys(root, "topology", required=("vpcs", "subnets", "enis"), optional=(
        "description", "account", "region", "security_groups", "network_acls", "internet_hosts",
        "transit_gateways", "pods", "moves", "flow_logs", "traffic", "generate"))
    account = _account(root.get("account", "123456789012"))
    region = str(root.get("region", "us-east-1"))

    vpcs: dict[str, Vpc] = {}
    for node in check.items(root, "vpcs", "VPCs"):
        check.keys(node, "VPC", required=("id",), optional=("cidr", "cidrs", "ipv6_cidr", "account"))
        raw = check.strings(node, "cidrs", "VPC") if "cidrs" in node else check.strings(node, "cidr", "VPC")
        if "ipv6_cidr" in node:
            raw.append(str(node["ipv6_cidr"]))
        if not raw:
            check.fail(node, None, f"VPC {node['id']}: give its 'cidr' (e.g. 10.0.0.0/16).")
        cidrs = [check.network(node, "cidrs" if "cidrs" in node else "cidr", "VPC", value=c) for c in raw]
        vpcs[str(node["id"])] = Vpc(str(node["id"]), cidrs, _account(node.get("account", account)))

    security_groups = _rule_sets(check, root, "security_groups", SecurityGroup, acl=False)
    network_acls = _rule_sets(check, root, "network_acls", NetworkAcl, acl=True)

    subnets: dict[str, Subnet] = {}
    for node in check.items(root, "subnets", "subnets"):
        check.keys(node, "subnet", required=("id", "vpc", "cidr"), optional=("az_id", "nacl", "internet", "name"))
        subnet_id, vpc_id = str(node["id"]), str(node["vpc"])
        if vpc_id not in vpcs:
            check.fail(node, "vpc", f"subnet {subnet_id}: unknown VPC '{vpc_id}' (declare it under 'vpcs').")
        cidr = check.network(node, "cidr", f"subnet {subnet_id}")
        if not any(cidr.version == v.version and cidr.subnet_of(v) for v in vpcs[vpc_id].cidrs):
            check.fail(node, "cidr", f"subnet {subnet_id}: {cidr} is not inside the CIDRs of {vpc_id}.")
        nacl = check.text(node, "nacl", "subnet")
        if nacl is not None and nacl not in network_acls:
            check.fail(node, "nacl", f"subnet {subnet_id}: unknown network ACL '{nacl}' (declare it under 'network_acls').")
        subnets[subnet_id] = Subnet(subnet_id, vpc_id, cidr, str(node.get("az_id", f"{region[:2]}{region.split('-')[1][0]}{region[-1]}-az1")),
                                    nacl, str(node.get("internet", "igw")))

    enis: dict[str, Eni] = {}
    owned: dict[str, str] = {}
    for node in check.items(root, "enis", "network interfaces"):
        check.keys(node, "ENI", required=("id", "subnet", "primary"), optional=(
            "secondary", "ipv6", "prefixes", "kind", "instance", "description", "nitro", "security_groups",
            "account", "window_phase", "name"))
        eni_id = str(node["id"])
        if eni_id in enis:
            check.fail(node, "id", f"ENI {eni_id} is declared twice.")
        subnet_id = str(node["subnet"])
        if subnet_id not in subnets:
            check.fail(node, "subnet", f"ENI {eni_id}: unknown subnet '{subnet_id}' (declare it under 'subnets').")
        subnet = subnets[subnet_id]
        what = f"ENI {eni_id}"
        primary = check.address(node, "primary", what)
        secondary = [check.address(node, "secondary", what, value=v) for v in check.strings(node, "secondary", what)]
        for ip, key in [(primary, "primary"), *((s, "secondary") for s in secondary)]:
            if ipaddress.ip_address(ip) not in subnet.cidr:
                check.fail(node, key, f"{what}: {ip} is not in its subnet {subnet_id} ({subnet.cidr}).")
            if ip in owned:
                check.fail(node, key, f"{what}: {ip} is already assigned to {owned[ip]}.")
            owned[ip] = eni_id
        ipv6 = [check.address(node, "ipv6", what, value=v, v6=True) for v in check.strings(node, "ipv6", what)]
        prefixes = [check.network(node, "prefixes", what, value=v) for v in check.strings(node, "prefixes", what)]
        for prefix in prefixes:
            if prefix.version != 4 or prefix.prefixlen != 28 or not prefix.subnet_of(subnet.cidr):
                check.fail(node, "prefixes", f"{what}: {prefix} must be a /28 IPv4 prefix inside {subnet.cidr}.")
        kind = check.choice(node, "kind", what, tuple(sorted(KINDS)), "instance")
        instance = check.text(node, "instance", what)
        if kind != "instance" and instance:
            check.fail(node, "instance", f"{what}: a {kind} ENI is requester-managed and has no instance; remove 'instance'.")
        if kind == "instance" and not instance:
            check.fail(node, None, f"{what}: give the 'instance' it is attached to (or a 'kind' such as nat-gateway).")
        groups = check.strings(node, "security_groups", what)
        for group in groups:
            if group not in security_groups:
                check.fail(node, "security_groups", f"{what}: unknown security group '{group}' (declare it under 'security_groups').")
        enis[eni_id] = Eni(
            id=eni_id, subnet=subnet_id, primary=primary, secondary=secondary, ipv6=ipv6, prefixes=prefixes,
            kind=kind, instance=instance,
            description=str(node.get("description") or (f"{kind} {eni_id}" if kind != "instance" else f"instance {instance}")),
            nitro=check.flag(node, "nitro", what, default=False), security_groups=groups,
            account=_account(node.get("account", vpcs[subnet.vpc].account)),
            window_phase=check.number(node, "window_phase", what), name=check.text(node, "name", what))

    for subnet_node, subnet in zip(check.items(root, "subnets", "subnets"), subnets.values()):
        if subnet.internet not in ("igw", "none") and (subnet.internet not in enis or enis[subnet.internet].kind != "nat-gateway"):
            check.fail(subnet_node, "internet", f"subnet {subnet.id}: 'internet' must be igw, none or the ENI id of a NAT gateway, not '{subnet.internet}'.")

    hosts = []
    for node in check.items(root, "internet_hosts", "internet hosts"):
        check.keys(node, "internet host", required=("ip",), optional=("name", "service"))
        ip = node["ip"]
        hosts.append(InternetHost(check.address(node, "ip", "internet host", v6=":" in str(ip)), check.text(node, "name", "host"),
                                  check.text(node, "service", "host")))

    tgws = []
    for node in check.items(root, "transit_gateways", "transit gateways"):
        check.keys(node, "transit gateway", required=("id", "attachments"), optional=("description",))
        attachments: dict[str, list[str]] = {}
        for att in check.items(node, "attachments", "attachments"):
            check.keys(att, "transit gateway attachment", required=("vpc", "enis"), optional=("id",))
            vpc_id = str(att["vpc"])
            if vpc_id not in vpcs:
                check.fail(att, "vpc", f"transit gateway {node['id']}: unknown VPC '{vpc_id}'.")
            ids = check.strings(att, "enis", "attachment")
            for eni_id in ids:
                if eni_id not in enis or enis[eni_id].kind != "transit-gateway-attachment":
                    check.fail(att, "enis", f"transit gateway {node['id']}: '{eni_id}' is not an ENI of kind transit-gateway-attachment.")
                if subnets[enis[eni_id].subnet].vpc != vpc_id:
                    check.fail(att, "enis", f"transit gateway {node['id']}: {eni_id} is not in {vpc_id}.")
            attachments[vpc_id] = ids
        tgws.append(TransitGateway(str(node["id"]), attachments))

    pods = []
    for node in check.items(root, "pods", "pods"):
        check.keys(node, "pod", required=("name", "ip", "eni"), optional=("namespace", "snat"))
        eni_id = str(node["eni"])
        if eni_id not in enis:
            check.fail(node, "eni", f"pod {node['name']}: unknown ENI '{eni_id}'.")
        ip = check.address(node, "ip", f"pod {node['name']}")
        eni = enis[eni_id]
        if ip not in eni.secondary and not any(ipaddress.ip_address(ip) in p for p in eni.prefixes):
            check.fail(node, "ip", f"pod {node['name']}: {ip} is neither a secondary IP nor in a prefix of {eni_id}; "
                       "add it to the ENI's 'secondary' or 'prefixes'.")
        pods.append(Pod(str(node.get("namespace", "default")), str(node["name"]), ip, eni_id,
                        check.flag(node, "snat", "pod", default=True)))

    traffic_node = root.get("traffic") or Map()
    if "traffic" in root:
        traffic_node = check.mapping(traffic_node, root, "traffic", "start, duration, connections, ...")
    start = time_value(check, traffic_node, "start", None) or DEFAULT_START

    moves = []
    for node in check.items(root, "moves", "address moves"):
        check.keys(node, "move", required=("ip", "from", "to", "at"))
        ip = check.address(node, "ip", "move")
        for key in ("from", "to"):
            if str(node[key]) not in enis:
                check.fail(node, key, f"move of {ip}: unknown ENI '{node[key]}'.")
        if enis[str(node["to"])].subnet != enis[str(node["from"])].subnet:
            check.fail(node, "to", f"move of {ip}: a secondary IP can only move between ENIs of the same subnet.")
        moves.append((node, Move(ip, str(node["from"]), str(node["to"]), time_value(check, node, "at", start))))
    moves.sort(key=lambda item: item[1].at)
    holder = {}  # where each moving IP is, move after move
    for node, move in moves:
        where = holder.get(move.ip, owned.get(move.ip))
        if move.ip not in owned or move.ip == enis[owned[move.ip]].primary:
            check.fail(node, "ip", f"move of {move.ip}: declare it as a 'secondary' IP of {move.from_eni} first.")
        if where != move.from_eni:
            check.fail(node, "from", f"move of {move.ip}: at that time the IP is on {where}, not on {move.from_eni}.")
        holder[move.ip] = move.to_eni
    moves = [move for _, move in moves]

    flow_logs = []
    for index, node in enumerate(check.items(root, "flow_logs", "flow logs")):
        check.keys(node, "flow log", required=("resources",), optional=(
            "id", "format", "interval", "traffic_type", "destination", "bucket", "prefix", "log_group",
            "file_format", "hive", "hourly"))
        fl_id = str(node.get("id", f"fl-{index:017x}"))
        resources = check.strings(node, "resources", f"flow log {fl_id}")
        for res in resources:
            if res not in enis and res not in subnets and res not in vpcs:
                check.fail(node, "resources", f"flow log {fl_id}: '{res}' is not a declared ENI, subnet or VPC.")
        try:
            fmt = eni_format(None if node.get("format", "default") == "default" else str(node["format"]))
        except UsageError as exc:
            check.fail(node, "format", f"flow log {fl_id}: {exc}")
        prefix = str(node.get("prefix", "")).strip("/")
        if prefix.split("/")[-1:] == ["AWSLogs"]:
            check.fail(node, "prefix", f"flow log {fl_id}: AWS does not allow a prefix named AWSLogs.")
        flow_logs.append(FlowLog(
            id=fl_id, resources=resources, format=fmt,
            interval=int(check.number(node, "interval", f"flow log {fl_id}", 600, choices=(60, 600))),
            traffic_type=check.choice(node, "traffic_type", f"flow log {fl_id}", ("ALL", "ACCEPT", "REJECT"), "ALL"),
            destination=check.choice(node, "destination", f"flow log {fl_id}", ("s3", "cloudwatch"), "s3"),
            bucket=str(node.get("bucket", "eniflow-simulated-flow-logs")), prefix=prefix,
            log_group=str(node.get("log_group", "/eniflow/simulated/flow-logs")),
            file_format=check.choice(node, "file_format", f"flow log {fl_id}", ("text", "parquet"), "text"),
            hive=check.flag(node, "hive", "flow log"), hourly=check.flag(node, "hourly", "flow log")))

    check.keys(traffic_node, "traffic", optional=("start", "duration", "connections", "skipdata", "idle", "random"))
    duration = traffic_node.get("duration")
    if duration is not None:
        duration = float(duration) if isinstance(duration, (int, float)) else duration_value(check, traffic_node, "duration")
    names = _names(enis, hosts, pods)
    connections = parse_connections(check, traffic_node, start, names)
    skipdata = [(eni, time_value(check, node, "at", start))
                for node, eni in _per_eni(check, traffic_node, "skipdata", ("at",), enis)]
    idle = [(eni, time_value(check, node, "from", start), time_value(check, node, "until", start))
            for node, eni in _per_eni(check, traffic_node, "idle", ("from", "until"), enis)]
    random_mix = parse_random(check, traffic_node)

    generate = root.get("generate")
    if generate is not None:
        generate = check.mapping(generate, root, "generate", "instances, subnets, ...")
        check.keys(generate, "generate", required=("instances", "subnets"), optional=(
            "security_groups", "secondary_share", "prefix_share", "nitro_share", "internet_hosts"))
        for subnet_id in check.strings(generate, "subnets", "generate"):
            if subnet_id not in subnets:
                check.fail(generate, "subnets", f"generate: unknown subnet '{subnet_id}'.")
        for group in check.strings(generate, "security_groups", "generate"):
            if group not in security_groups:
                check.fail(generate, "security_groups", f"generate: unknown security group '{group}'.")

    topo = Topology(source, account, region, vpcs, subnets, security_groups, network_acls, enis, hosts, tgws, pods, moves,
                    flow_logs, Traffic(start, duration, connections, skipdata, idle, random_mix),
                    description=str(root.get("description", "")).strip(), generate=generate)
    if not flow_logs:
        check.fail(root, None, "the topology has no 'flow_logs'; add one, e.g. {resources: [vpc-...]}.")
    return topo


def _per_eni(check: Checker, node: Map, key: str, times: tuple[str, ...], enis: dict) -> list[tuple[Map, str]]:
    """Entries of ``traffic.skipdata`` / ``traffic.idle``: a known ENI and its times."""
    result = []
    for item in check.items(node, key, f"{key} entries"):
        check.keys(item, key, required=("eni", *times))
        if str(item["eni"]) not in enis:
            check.fail(item, "eni", f"{key}: unknown ENI '{item['eni']}'.")
        result.append((item, str(item["eni"])))
    return result


def _account(value) -> str:
    """A 12-digit account id (YAML may have read it as a number), or AWS's 'unknown'."""
    text = str(value)
    return text if text == "unknown" else text.zfill(12)


def _names(enis: dict[str, Eni], hosts: list[InternetHost], pods: list[Pod]) -> dict[str, str]:
    """Names usable in traffic instead of addresses: ENI names/ids, host names, pod names."""
    names = {}
    for eni in enis.values():
        names[eni.id] = eni.primary
        if eni.name:
            names[eni.name] = eni.primary
    for host in hosts:
        if host.name:
            names[host.name] = host.ip
    for pod in pods:
        names[f"{pod.namespace}/{pod.name}"] = pod.ip
    return names


def _rule_sets(check: Checker, root: Map, key: str, kind, acl: bool) -> dict:
    """Security groups (stateful allow rules) or network ACLs (ordered allow/deny rules) by id."""
    what = "network ACL" if acl else "security group"
    result = {}
    for node in check.items(root, key, f"{what}s"):
        check.keys(node, what, required=("id",), optional=("inbound", "outbound", "description"))
        result[str(node["id"])] = kind(str(node["id"]), _rules(check, node, "inbound", acl), _rules(check, node, "outbound", acl))
    return result


def _rules(check: Checker, node: Map, key: str, acl: bool) -> list[Rule]:
    rules = []
    what = f"{'network ACL' if acl else 'security group'} {node['id']} {key} rule"
    for item in check.items(node, key, "rules"):
        check.keys(item, what, required=("cidr",) + (("rule", "action") if acl else ()),
                   optional=("protocol", "ports") + (() if acl else ("description",)))
        proto_text = str(item.get("protocol", "all")).lower()
        if proto_text not in PROTOCOLS and not proto_text.isdigit():
            check.fail(item, "protocol", f"{what}: protocol must be tcp, udp, icmp, icmpv6, all or a number, not {proto_text!r}.")
        protocol = PROTOCOLS.get(proto_text, int(proto_text) if proto_text.isdigit() else -1)
        rules.append(Rule(protocol, _ports(check, item, what), check.network(item, "cidr", what),
                          allow=(check.choice(item, "action", what, ("allow", "deny"), "allow") == "allow") if acl else True,
                          number=int(check.number(item, "rule", what, 0) or 0)))
    if acl:
        rules.sort(key=lambda r: r.number)
    return rules


def _ports(check: Checker, item: Map, what: str) -> tuple[int, int]:
    value = item.get("ports", "all")
    if value in ("all", None):
        return (0, 65535)
    text = str(value)
    low, _, high = text.partition("-")
    try:
        ports = (int(low), int(high or low))
    except ValueError:
        check.fail(item, "ports", f"{what}: ports must be a number, a range such as 1024-65535, or all; not {text!r}.")
    if not 0 <= ports[0] <= ports[1] <= 65535:
        check.fail(item, "ports", f"{what}: port range {text} is outside 0-65535.")
    return ports
