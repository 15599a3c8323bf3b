"""Topology files: mistakes are reported as file:line with the key and the fix."""

from __future__ import annotations

import textwrap

import pytest

from eniflow.errors import UsageError
from eniflow.simulate import TopologyError, load_topology, simulate
from eniflow.simulate.topology import parse_topology

GOOD = """\
vpcs:
  - id: vpc-1
    cidr: 10.0.0.0/16
subnets:
  - id: subnet-1
    vpc: vpc-1
    cidr: 10.0.1.0/24
enis:
  - id: eni-1
    subnet: subnet-1
    primary: 10.0.1.10
    instance: i-1
flow_logs:
  - resources: [vpc-1]
"""


def error(text: str) -> TopologyError:
    with pytest.raises(TopologyError) as caught:
        parse_topology(textwrap.dedent(text), "net.yaml")
    return caught.value


def test_a_good_topology_loads_with_aws_defaults():
    topo = parse_topology(GOOD, "net.yaml")
    (fl,) = topo.flow_logs
    assert (topo.account, topo.region) == ("123456789012", "us-east-1")
    assert (fl.interval, fl.traffic_type, fl.destination, fl.file_format, fl.hive, fl.hourly) == (600, "ALL", "s3", "text", False, False)
    assert " ".join(fl.format.names) == "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def test_unknown_key_names_the_key_and_its_line():
    exc = error(GOOD.replace("    instance: i-1\n", "    instance: i-1\n    primery: 10.0.1.11\n"))
    assert str(exc) == ("net.yaml:13: ENI: unknown key 'primery' (allowed: account, description, id, instance, ipv6, kind, "
                        "name, nitro, prefixes, primary, secondary, security_groups, subnet, window_phase).")
    assert (exc.source, exc.line) == ("net.yaml", 13)


def test_address_outside_its_subnet():
    exc = error(GOOD.replace("primary: 10.0.1.10", "primary: 10.0.2.10"))
    assert str(exc) == "net.yaml:11: ENI eni-1: 10.0.2.10 is not in its subnet subnet-1 (10.0.1.0/24)."


def test_not_an_address():
    assert str(error(GOOD.replace("primary: 10.0.1.10", "primary: 10.0.1.300"))) == \
        "net.yaml:11: ENI eni-1: 'primary' is not an IP address: '10.0.1.300'."


def test_unknown_reference():
    assert str(error(GOOD.replace("    subnet: subnet-1", "    subnet: subnet-9"))) == \
        "net.yaml:10: ENI eni-1: unknown subnet 'subnet-9' (declare it under 'subnets')."


def test_a_connection_cannot_mix_ipv4_and_ipv6():
    """An ENI's name stands for its primary IPv4; sending from it to an IPv6 address would make
    a packet of no family (and flow log records AWS never writes)."""
    text = GOOD + "traffic:\n  connections:\n    - from: eni-1\n      to: \"[2600:1f18::5]:443\"\n"
    assert str(error(text)) == ("net.yaml:18: connection: 'from' (10.0.1.10) and 'to' (2600:1f18::5) must both be IPv4 "
                                "or both IPv6; an ENI's name means its primary IPv4, so write its IPv6 address to send "
                                "over IPv6.")


def test_aggregation_interval_must_be_60_or_600():
    assert str(error(GOOD.replace("  - resources: [vpc-1]", "  - resources: [vpc-1]\n    interval: 300"))) == \
        "net.yaml:15: flow log fl-00000000000000000: 'interval' must be one of 60, 600, not 300."


def test_unknown_field_in_the_log_format():
    exc = error(GOOD.replace("  - resources: [vpc-1]", "  - resources: [vpc-1]\n    format: version srcadr"))
    assert str(exc).startswith("net.yaml:15: flow log fl-00000000000000000: unknown field name in the log format: 'srcadr' (did you mean 'srcaddr'?)")


def test_yaml_syntax_error_has_its_line():
    assert str(error(GOOD.replace("cidr: 10.0.1.0/24", "cidr: [10.0.1.0/24"))).startswith("net.yaml:8: not valid YAML")


def test_secondary_ip_used_twice():
    text = GOOD.replace("    instance: i-1\n", "    instance: i-1\n    secondary: [10.0.1.10]\n")
    assert str(error(text)) == "net.yaml:13: ENI eni-1: 10.0.1.10 is already assigned to eni-1."


def test_pod_must_use_a_secondary_or_prefix_address():
    text = GOOD + "pods:\n  - {name: web, ip: 10.0.1.50, eni: eni-1}\n"
    assert str(error(text)) == ("net.yaml:16: pod web: 10.0.1.50 is neither a secondary IP nor in a prefix of eni-1; "
                                "add it to the ENI's 'secondary' or 'prefixes'.")


def test_connection_needs_a_port_and_a_known_address(tmp_path):
    text = GOOD + "traffic:\n  connections:\n    - {from: eni-1, to: 198.51.100.1}\n"
    assert str(error(text)) == "net.yaml:17: connection: 'to' needs a port for TCP/UDP, e.g. 198.51.100.1:443."
    unassigned = parse_topology(GOOD + "traffic:\n  connections:\n    - {from: eni-1, to: '10.0.1.99:80'}\n", "net.yaml")
    with pytest.raises(TopologyError) as caught:
        simulate(unassigned, tmp_path)
    assert str(caught.value) == ("net.yaml:17: 10.0.1.99 is inside vpc-1 but no ENI, pod or prefix has it; assign it to an ENI "
                                 "('secondary') or use an address outside the VPC.")


def test_connection_without_a_route(tmp_path):
    text = GOOD.replace("    cidr: 10.0.1.0/24", "    cidr: 10.0.1.0/24\n    internet: none")
    topo = parse_topology(text + "traffic:\n  connections:\n    - {from: eni-1, to: '198.51.100.1:443'}\n", "net.yaml")
    with pytest.raises(TopologyError) as caught:
        simulate(topo, tmp_path)
    assert str(caught.value).startswith("net.yaml:18: connection 10.0.1.10 -> 198.51.100.1 has no route")


def test_missing_flow_logs():
    assert str(error(GOOD.split("flow_logs:")[0])) == \
        "net.yaml:1: the topology has no 'flow_logs'; add one, e.g. {resources: [vpc-...]}."


def test_unknown_scenario_lists_the_built_in_ones():
    with pytest.raises(UsageError) as caught:
        load_topology("sede")
    assert str(caught.value) == ("no built-in scenario named 'sede'; choose one of: eks-pods, floating-ip, mixed, nacl-reject, "
                                 "nat-gateway, seed, transit-gateway.")


def test_cli_reports_a_bad_topology_in_one_line(cli, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(GOOD.replace("primary: 10.0.1.10", "primary: 10.0.9.10"))
    code, out, err = cli("simulate", path, "--out", tmp_path / "out")
    assert code == 1
    assert err.strip() == f"eniflow: error: {path}:11: ENI eni-1: 10.0.9.10 is not in its subnet subnet-1 (10.0.1.0/24)."


def test_cli_usage_errors(cli, tmp_path):
    assert cli("simulate", "--out", tmp_path)[0] == 2
    code, _, err = cli("simulate", "--scenario", "seed", "--out", tmp_path, "--layout", "flat")
    assert code == 2 and "unknown layout 'flat'; choose one of default, hourly, hive, hive-hourly, cloudwatch." in err
    code, _, err = cli("simulate", "--scenario", "seed", "--out", tmp_path, "--records", "1000")
    assert code == 2 and "--records needs a scenario with random traffic" in err


def test_the_readme_topology_example_runs(tmp_path):
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section:simulate -->", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    result = simulate(parse_topology(example, "README.md"), tmp_path)
    assert set(result.status) == {"OK", "NODATA", "SKIPDATA"}


def test_moves_start_where_the_ip_is():
    two = GOOD.replace("flow_logs:", "  - {id: eni-2, subnet: subnet-1, primary: 10.0.1.11, instance: i-2}\nflow_logs:")
    assert str(error(two + "moves: [{ip: 10.0.1.50, from: eni-1, to: eni-2, at: 1795860000}]\n")) == \
        "net.yaml:16: move of 10.0.1.50: declare it as a 'secondary' IP of eni-1 first."
    with_secondary = two.replace("    instance: i-1\n", "    instance: i-1\n    secondary: [10.0.1.50]\n")
    assert str(error(with_secondary + "moves: [{ip: 10.0.1.50, from: eni-2, to: eni-1, at: 1795860000}]\n")) == \
        "net.yaml:17: move of 10.0.1.50: at that time the IP is on eni-1, not on eni-2."
    back_and_forth = with_secondary + ("moves: [{ip: 10.0.1.50, from: eni-1, to: eni-2, at: 1795860000},\n"
                                       "        {ip: 10.0.1.50, from: eni-2, to: eni-1, at: 1795860600}]\n")
    assert [m.to_eni for m in parse_topology(back_and_forth, "net.yaml").moves] == ["eni-2", "eni-1"]


def test_transit_gateway_fields_are_refused_for_eni_flow_logs(cli, tmp_path):
    exc = error(GOOD.replace("  - resources: [vpc-1]", "  - resources: [vpc-1]\n    format: version tgw-id srcaddr"))
    assert str(exc) == ("net.yaml:15: flow log fl-00000000000000000: tgw-id: Transit Gateway fields belong to transit "
                        "gateway flow logs, not ENI flow logs.")
    code, _, err = cli("simulate", "--scenario", "seed", "--out", tmp_path, "--log-format", "${version} ${tgw-src-eni}")
    assert code == 2 and "tgw-src-eni: Transit Gateway fields belong to transit gateway flow logs" in err
