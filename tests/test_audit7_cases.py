"""Defects found by the seventh audit (resolution with partial or stale inventories)."""

from __future__ import annotations

import json

import eniflow
from eniflow.inventory import Inventory
from eniflow.simulate import load_topology, simulate
from eniflow.simulate.topology import SCENARIO_DIR


def _both_secondaries(tmp_path):
    """The seed scenario, but the client ENI has the secondary 10.0.2.40 and sends from it to the
    server's secondary 10.0.1.20: one connection, four records."""
    text = (SCENARIO_DIR / "seed.yaml").read_text()
    text = text.replace("    primary: 10.0.2.30\n", "    primary: 10.0.2.30\n    secondary: [10.0.2.40]\n")
    text = text[:text.index("  connections:")] + (
        "  connections:\n    - {from: 10.0.2.40, to: 10.0.1.20:80, src_port: 49711, at: +30s, duration: 2s,"
        " packets: [6, 5], bytes: [795, 1420]}\n")
    path = tmp_path / "both-secondary.yaml"
    path.write_text(text)
    return path


def test_a_snapshot_listing_both_enis_with_their_primary_only_claims_no_single(tmp_path):
    """A snapshot that lists both ENIs with their primary only (secondaries assigned after it, as
    the VPC CNI does for pods): both sides used secondaries, so no pair can be keyed, nothing
    contradicts the snapshot, and all four records were `single` on the primaries, all wrong
    (the server's ingress: 10.0.2.40 -> 10.0.1.10 instead of 10.0.1.20; the client's egress:
    10.0.2.30 -> 10.0.1.20 instead of from 10.0.2.40) -- two certain claims of the same packets
    that contradict each other. The other ENI's record on the same ports, whose remote address no
    ENI is known to hold either, now keeps the snapshot from single: nothing is claimed."""
    topology = _both_secondaries(tmp_path)
    result = simulate(topology, tmp_path / "out")
    doc = load_topology(topology).describe_network_interfaces(at=result.start)
    for eni in doc["NetworkInterfaces"]:
        eni["PrivateIpAddresses"] = eni["PrivateIpAddresses"][:1]
    inv = Inventory.from_document(json.loads(json.dumps(doc)), at=result.start, source="stale")
    resolved = eniflow.resolve(eniflow.read(tmp_path / "out" / "AWSLogs"), inv)
    rows = resolved.con.execute(f"""SELECT interface_id, resolution, count(*) FROM {resolved.relation.alias}
                                    WHERE log_status = 'OK' GROUP BY ALL ORDER BY ALL""").fetchall()
    assert rows == [("eni-0a1b2c3d4e5f60001", "as-logged", 2), ("eni-0a1b2c3d4e5f60002", "as-logged", 2)]


V3 = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
      "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr")


def test_a_stale_owner_of_a_pkt_address_leaves_the_sender_ambiguous(tmp_path):
    """Version-3 fields; the inventory omits the client ENI (created after the snapshot) and lists
    another ENI, with no records, holding 10.0.2.40 (the address was since released and given to
    the client as a secondary). The client's records show pkt-srcaddr 10.0.2.40 behind its primary
    10.0.2.30: they were `pkt` with local_ip 10.0.2.30 (taken for a forwarder of another ENI's
    packets), though the client's own address was 10.0.2.40. The logs cannot tell a forwarder from
    a stale snapshot here, so the client's records claim nothing: `ambiguous` between the two,
    the packet's addresses from its pkt fields, and the inventory check names the address."""
    topology = _both_secondaries(tmp_path)
    result = simulate(topology, tmp_path / "out", log_format=V3)
    stale = {"NetworkInterfaces": [{
        "NetworkInterfaceId": "eni-0ffffffffffff0001", "SubnetId": "subnet-0a1b2c3d4e5f60002", "InterfaceType": "interface",
        "PrivateIpAddress": "10.0.2.50", "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.2.50", "Primary": True},
                                                                {"PrivateIpAddress": "10.0.2.40", "Primary": False}]}]}
    inv = Inventory.from_document(stale, at=result.start, source="stale")
    resolved = eniflow.resolve(eniflow.read(tmp_path / "out" / "AWSLogs"), inv)
    rows = resolved.con.execute(f"""SELECT direction, src_ip, dst_ip, resolution, candidates FROM {resolved.relation.alias}
                                    WHERE interface_id = 'eni-0a1b2c3d4e5f60002' AND log_status = 'OK'
                                    ORDER BY line""").fetchall()
    both = ["10.0.2.30", "10.0.2.40"]
    assert rows == [("egress", "10.0.2.40", "10.0.1.20", "ambiguous", both),
                    ("ingress", "10.0.1.20", "10.0.2.40", "ambiguous", both)]
    found = resolved.discrepancies().fetchall()
    assert [(eni, address, kind, evidence, records) for eni, address, kind, _, evidence, records, _, _ in found] == [
        ("eni-0a1b2c3d4e5f60002", "10.0.2.40", "held-by-other", "pkt", 2)]
