"""Simulated VPC Flow Logs, exactly as AWS writes them, with the ground truth beside them.

    result = eniflow.simulate("seed", "out/")            # a built-in scenario
    result = eniflow.simulate("topology.yaml", "out/", layout="hive", records=1_000_000)

Modules: ``topology`` (the YAML file's model), ``yamlfile`` (YAML with line numbers and
checked values), ``traffic`` (connections), ``network`` (routes, security groups, NACLs),
``records`` (AWS aggregation and fields), ``deliver`` (S3 and CloudWatch Logs layouts),
``generate`` (networks at scale), ``run`` (``simulate()``).
"""

from __future__ import annotations

from .run import SimulationResult, list_scenarios, simulate
from .topology import Topology, TopologyError, load_topology

__all__ = [
    "simulate", "SimulationResult", "list_scenarios", "load_topology", "Topology", "TopologyError",
    "SEED_ACCOUNT", "SEED_REGION", "SEED_VPC", "SEED_FLOW_LOG", "SEED_SERVER_ENI", "SEED_CLIENT_ENI",
    "SEED_SERVER_INSTANCE", "SEED_CLIENT_INSTANCE", "SEED_SERVER_PRIMARY", "SEED_SERVER_SECONDARY", "SEED_CLIENT_IP",
]

# The seed scenario's fixed names and addresses (scenarios/seed.yaml; a test keeps them equal).
SEED_ACCOUNT = "123456789012"
SEED_REGION = "us-east-1"
SEED_VPC = "vpc-0a1b2c3d4e5f60001"
SEED_FLOW_LOG = "fl-0a1b2c3d4e5f60001"
SEED_SERVER_ENI = "eni-0a1b2c3d4e5f60001"
SEED_CLIENT_ENI = "eni-0a1b2c3d4e5f60002"
SEED_SERVER_INSTANCE = "i-0a1b2c3d4e5f60001"
SEED_CLIENT_INSTANCE = "i-0a1b2c3d4e5f60002"
SEED_SERVER_PRIMARY = "10.0.1.10"
SEED_SERVER_SECONDARY = "10.0.1.20"
SEED_CLIENT_IP = "10.0.2.30"
