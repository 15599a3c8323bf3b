"""Resolution against the simulator's ground truth (``truth.parquet``): claims of certainty
(``pkt``, ``peer``, ``single``) are never wrong, no record is lost, and the records whose
address the logs determine are resolved.

Each case simulates a scenario (built-in, or a topology in tests/data/resolve/), reads what it
wrote, resolves it, and joins the result with the truth on (source, line). The inventory given
to ``resolve`` is what ``aws ec2 describe-network-interfaces`` would have printed at the start
of the simulation (and around each floating-IP move): ``Topology.describe_network_interfaces``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eniflow
from eniflow.inventory import Inventory
from eniflow.read import ensure_columns
from eniflow.simulate import load_topology, simulate

DATA = Path(__file__).parent / "data" / "resolve"


def inventory_of(topology, at: int, seed: int, *, primary_only: bool = False) -> Inventory:
    """The topology's describe-network-interfaces snapshots: at ``at`` and around each move.
    ``primary_only``: as if every secondary address and prefix had been assigned since."""
    from eniflow.simulate.generate import expand

    topo = expand(topology, seed) if topology.generate else topology
    moments = sorted({at} | {int(m.at) + d for m in topo.moves for d in (-1, 1)})
    inv = Inventory()
    for moment in moments:
        doc = json.loads(json.dumps(topo.describe_network_interfaces(at=moment)))
        for eni in doc["NetworkInterfaces"] if primary_only else ():
            eni["PrivateIpAddresses"] = [a for a in eni["PrivateIpAddresses"] if a.get("Primary")]
            eni.pop("Ipv4Prefixes", None)
        inv = inv.merge(Inventory.from_document(doc, at=moment, source="topology"))
    return inv


def compare(scenario, out: Path, *, with_inventory: bool = True, primary_only: bool = False, seed: int = 7, **kw):
    """Simulate, resolve, join with the truth; returns (con, counts per label)."""
    result = simulate(scenario, out, seed=seed, **kw)
    inv = inventory_of(load_topology(scenario), result.start, seed, primary_only=primary_only) if with_inventory else None
    resolved = eniflow.resolve(eniflow.read(out / "AWSLogs"), inv)
    con = resolved.con
    ensure_columns(resolved.relation, ["start", "end"]).create_view("resolved_timed", replace=True)
    con.execute(f"CREATE OR REPLACE VIEW truth AS SELECT * FROM read_parquet('{result.truth}')")
    prefix = str(out) + "/"
    con.execute(f"""CREATE OR REPLACE TABLE judged AS
        SELECT r.*, t.direction AS t_direction, t.src_ip AS t_src, t.dst_ip AS t_dst, t.local_ip AS t_local,
               t.log_status AS t_status
        FROM truth t FULL JOIN resolved_timed r ON replace(r.source, '{prefix}', '') = t.source AND r.line = t.line""")
    return con, resolved.summary()


def wrong_claims(con) -> list:
    return con.execute("""SELECT interface_id, source, line, resolution, direction, src_ip, dst_ip, local_ip,
                                 t_direction, t_src, t_dst, t_local FROM judged
        WHERE resolution IN ('pkt', 'peer', 'single')
          AND (direction IS DISTINCT FROM t_direction OR local_ip IS DISTINCT FROM t_local
               OR src_ip IS DISTINCT FROM t_src OR dst_ip IS DISTINCT FROM t_dst) LIMIT 5""").fetchall()


def inferred_precision(con) -> tuple[int, int, float]:
    """(inferred records, of them right, their mean confidence)."""
    n, right, confidence = con.execute("""SELECT count(*), count(*) FILTER (WHERE local_ip = t_local), avg(confidence)
                                          FROM judged WHERE resolution = 'inferred'""").fetchone()
    return n, right, confidence


def inferred_ok(con) -> bool:
    """Inferred is right in at least 90 % of the records (or not made)."""
    n, right, _ = inferred_precision(con)
    return right >= 0.9 * n


def lost(con) -> int:
    return con.execute("SELECT count(*) FROM judged WHERE line IS NULL OR t_status IS NULL").fetchone()[0]


def unresolved_with_peer(con, *, anchored: bool = False) -> int:
    """OK records whose other side is logged (a record of the same packets on another ENI) but
    that got no claim. anchored: only pairs where one of the two ENIs used its primary address,
    which is what pairing needs when no inventory tells the secondaries, and where the logs can
    tell the other's address:

    - neither ENI is tied: one whose records all show the same two addresses (it talked to one
      address only) and neither of them another logged ENI's primary. Which of the two is its
      own cannot be told: its records and its counterpart's look the same when an unlogged host
      sent from one port to it and to the counterpart (``test_fuzz``);
    - a sender's secondary is corroborated: replies to it were paired, or it sent in two flows
      (protocol and ports) that were. One pairing keyed by the receiver looks the same as
      another host sending on those ports while the sender's partner record was lost."""
    con.execute("""CREATE OR REPLACE TEMP TABLE tied AS
        WITH p AS (SELECT interface_id AS eni, least(srcaddr, dstaddr) AS lo, greatest(srcaddr, dstaddr) AS hi
                   FROM judged WHERE t_status = 'OK' AND strpos(srcaddr, '.') > 0),
        primaries AS (SELECT DISTINCT interface_id AS eni, t_local AS addr FROM judged
                      WHERE t_local = CASE t_direction WHEN 'egress' THEN srcaddr ELSE dstaddr END)
        SELECT eni FROM p GROUP BY eni HAVING count(DISTINCT lo || ' ' || hi) = 1
          AND NOT EXISTS (SELECT 1 FROM primaries q WHERE q.eni <> p.eni AND q.addr IN (min(p.lo), min(p.hi)))""")
    con.execute("""CREATE OR REPLACE TEMP TABLE truth_pairs AS
        SELECT a.source, a.line, a.resolution, a.interface_id AS a_eni, b.interface_id AS b_eni,
               a.t_direction, a.t_local AS a_local, b.t_local AS b_local,
               a.t_local = CASE a.t_direction WHEN 'egress' THEN a.srcaddr ELSE a.dstaddr END AS a_primary,
               b.t_local = CASE b.t_direction WHEN 'egress' THEN b.srcaddr ELSE b.dstaddr END AS b_primary,
               a.protocol || ':' || least(a.srcport, a.dstport) || ':' || greatest(a.srcport, a.dstport) AS flow
        FROM judged a JOIN judged b ON b.interface_id <> a.interface_id AND b.t_status = 'OK'
          AND b.t_src = a.t_src AND b.t_dst = a.t_dst AND b.srcport = a.srcport AND b.dstport = a.dstport
          AND b.protocol = a.protocol AND b.t_direction <> a.t_direction
          AND b.t_local IN (a.t_src, a.t_dst) AND a.t_local IN (a.t_src, a.t_dst)
          AND greatest(a."start", b."start") <= least(a."end", b."end") + 60
        WHERE a.t_status = 'OK'""")
    con.execute("""CREATE OR REPLACE TEMP TABLE corroborated AS
        SELECT a_eni AS eni, a_local AS addr FROM truth_pairs WHERE t_direction = 'ingress' AND NOT a_primary AND b_primary
        UNION SELECT a_eni, a_local FROM truth_pairs WHERE t_direction = 'egress' AND NOT a_primary AND b_primary
        GROUP BY a_eni, a_local HAVING count(DISTINCT flow) >= 2""")
    anchor = """AND (a_primary OR b_primary)
        AND a_eni NOT IN (SELECT eni FROM tied) AND b_eni NOT IN (SELECT eni FROM tied)
        AND NOT (t_direction = 'egress' AND NOT a_primary AND (a_eni, a_local) NOT IN (SELECT eni, addr FROM corroborated))
        AND NOT (t_direction = 'ingress' AND NOT b_primary AND (b_eni, b_local) NOT IN (SELECT eni, addr FROM corroborated))"""
    return con.execute(f"""
        SELECT count(DISTINCT (source, line)) FROM truth_pairs
        WHERE resolution NOT IN ('pkt', 'peer', 'single') {anchor if anchored else ''}""").fetchone()[0]


def test_seed_scenario(tmp_path):
    """Both ENIs logged, the server's secondary used by every flow: all records paired."""
    con, summary = compare("seed", tmp_path)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["peer"] == con.execute("SELECT count(*) FROM judged WHERE t_status = 'OK'").fetchone()[0]
    assert summary["none"] == con.execute("SELECT count(*) FROM judged WHERE t_status <> 'OK'").fetchone()[0]


def test_seed_scenario_without_inventory_claims_nothing_wrong(tmp_path):
    """Without an inventory the two ENIs each see only one other address, so which address is the
    ENI's own cannot be told from the default format: nothing is claimed."""
    con, summary = compare("seed", tmp_path, with_inventory=False)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["peer"] == 0


def test_seed_scenario_version5_format(tmp_path):
    """The same traffic with pkt fields and flow-direction: every OK record is pkt, no inventory needed."""
    fmt = "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " \
          "pkt-srcaddr pkt-dstaddr flow-direction"
    con, summary = compare("seed", tmp_path, with_inventory=False, log_format=fmt)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["pkt"] == con.execute("SELECT count(*) FROM judged WHERE t_status = 'OK'").fetchone()[0]


V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
V3 = V2 + " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr"  # pkt fields, no flow-direction


def test_seed_scenario_pkt_fields_without_flow_direction(tmp_path):
    """Version-3 fields (pkt-srcaddr/pkt-dstaddr, no flow-direction) and no inventory. The client
    talked to one address only, the server's secondary, so its records alone cannot tell which of
    the two is its own; the server's record of the same packets can (its pkt field shows the
    secondary, its srcaddr the client). Every OK record is pkt (half of them were as-logged, with
    no direction, before the tie was decided on the packets' addresses)."""
    con, summary = compare("seed", tmp_path, with_inventory=False, log_format=V3)
    assert wrong_claims(con) == [] and lost(con) == 0
    ok = con.execute("SELECT count(*) FROM judged WHERE t_status = 'OK'").fetchone()[0]
    assert summary["pkt"] == ok
    assert con.execute("""SELECT count(*) FROM judged WHERE t_status = 'OK' AND direction = t_direction
                          AND local_ip = t_local""").fetchone()[0] == ok


def test_far_attachment_does_not_decide_a_client_s_direction(tmp_path):
    """The transit gateway example with only the client and the attachment ENIs in the server's
    VPC logged, version-3 fields, no inventory. The client talked to one address only; the
    attachment's records of the same packets show the client's packets leaving it (egress, pkt
    source the client) and the replies arriving: taken as an endpoint's, they would name the
    server as the client's own address and turn every client record around. A pkt address outside
    the attachment's /16 is a forwarder's far end, not its own: nothing decides the tie."""
    from eniflow.simulate.topology import SCENARIO_DIR

    text = (SCENARIO_DIR / "transit-gateway.yaml").read_text()
    logged = "resources: [eni-0c6a000000000a001, eni-0c6a000000000b0c1, eni-0c6a000000000b0c2]"
    topology = tmp_path / "far-attachment.yaml"
    topology.write_text(text.replace("resources: [vpc-0c6a000000000a001, vpc-0c6a000000000b001]", logged))
    con, summary = compare(topology, tmp_path / "out", with_inventory=False, log_format=V3)
    assert wrong_claims(con) == [] and lost(con) == 0
    client = con.execute("""SELECT resolution, direction, count(*) FROM judged
                            WHERE interface_id = 'eni-0c6a000000000a001' GROUP BY ALL ORDER BY ALL""").fetchall()
    assert client == [("as-logged", None, 11), ("none", None, 1)]


def test_mixed_scenario(tmp_path):
    """300 instances, secondary IPs and /28 prefixes, a NAT gateway, internet and rejected traffic."""
    con, summary = compare("mixed", tmp_path, records=20_000)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["peer"] > 0 and summary["single"] > 0
    assert unresolved_with_peer(con) == 0


@pytest.mark.parametrize("with_inventory", [True, False])
def test_inferred_is_right_in_the_large_majority(tmp_path, with_inventory):
    """100,000 records of `mixed`, whose clients use a server's addresses alike: a majority of a
    server's resolved endpoints was right for 35 of 87 records (200,000 records, with the
    inventory). Now an address is inferred only from 80 % of at least 5 endpoints and never where
    the other side is logged: with the inventory nothing is inferred, without it the single-IP
    ENIs' records are, all of them right, at confidence 1."""
    con, summary = compare("mixed", tmp_path, records=100_000, with_inventory=with_inventory)
    assert wrong_claims(con) == [] and lost(con) == 0
    assert inferred_precision(con) == ((0, 0, None) if with_inventory else (65, 65, 1.0))


def test_mixed_scenario_with_a_snapshot_of_the_primaries_only(tmp_path):
    """`mixed` whose snapshot lists every ENI by its primary only (its secondaries and prefixes
    assigned since): the pairs of those addresses contradict the snapshot and claim nothing. No
    certain claim is wrong, nothing is lost, and every inferred record is right: inference took
    each such ENI's primary for its open records, wrong for 260 of 334, because its resolved
    records were those the snapshot could key, its primary's alone."""
    con, summary = compare("mixed", tmp_path, primary_only=True, seed=3, records=100_000)
    assert wrong_claims(con) == [] and lost(con) == 0
    assert inferred_precision(con)[:2] == (30, 30)


def test_mixed_scenario_without_inventory(tmp_path):
    """Without an inventory, pairs in which both ENIs used a secondary address cannot be keyed;
    every other pair is resolved, and nothing is claimed wrongly."""
    con, summary = compare("mixed", tmp_path, records=20_000, with_inventory=False)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["single"] == 0
    assert unresolved_with_peer(con, anchored=True) == 0


def test_busy_server_with_colliding_and_reused_ports(tmp_path):
    """24 clients use the same ephemeral ports towards three server addresses, reusing them every
    two minutes; server windows are 600 s, client windows 60 s. Every record pairs exactly."""
    con, summary = compare(DATA / "busy-server.yaml", tmp_path)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert unresolved_with_peer(con) == 0
    ok = con.execute("SELECT count(*) FROM judged WHERE t_status = 'OK'").fetchone()[0]
    assert summary["peer"] == ok


def test_busy_server_version5_format(tmp_path):
    con, summary = compare(DATA / "busy-server.yaml", tmp_path, with_inventory=False, log_format=V3)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["pkt"] == con.execute("SELECT count(*) FROM judged WHERE t_status = 'OK'").fetchone()[0]


@pytest.mark.parametrize("with_inventory", [True, False])
def test_both_sides_multi_ip(tmp_path, with_inventory):
    """Every address of the app server talks to both database addresses: with the inventory every
    pair resolves; without it, the pairs where both sides used a secondary cannot be keyed."""
    con, summary = compare(DATA / "both-multi.yaml", tmp_path, with_inventory=with_inventory)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert unresolved_with_peer(con, anchored=not with_inventory) == 0
    if with_inventory:
        assert summary["peer"] == con.execute("SELECT count(*) FROM judged WHERE t_status = 'OK'").fetchone()[0]


def test_only_one_side_logged(tmp_path):
    """Only the two-address database is logged: nothing can be paired, nothing is claimed, and its
    records are ambiguous between its two addresses (or inferred)."""
    con, summary = compare(DATA / "one-side.yaml", tmp_path)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert summary["peer"] == summary["single"] == summary["pkt"] == 0
    assert con.execute("SELECT DISTINCT candidates FROM judged WHERE resolution = 'ambiguous'").fetchall() == \
        [(["10.0.2.10", "10.0.2.11"],)]


@pytest.mark.parametrize("scenario", ["floating-ip", "eks-pods", "nat-gateway", "transit-gateway", "nacl-reject"])
@pytest.mark.parametrize("with_inventory", [True, False])
def test_builtin_scenarios(tmp_path, scenario, with_inventory):
    """Every other built-in scenario: no wrong claim, no record lost, every pair resolved (without
    an inventory: every pair in which one ENI used its primary)."""
    con, _ = compare(scenario, tmp_path, with_inventory=with_inventory)
    assert wrong_claims(con) == [] and lost(con) == 0 and inferred_ok(con)
    assert unresolved_with_peer(con, anchored=not with_inventory) == 0


@pytest.mark.parametrize("scenario, labels", [
    # per connection: the instance's two records (peer), the NAT gateway's two legs on the
    # instance's side (peer: the internet host from the instance's records) and its two on the
    # internet side (its own translated address: as logged)
    ("nat-gateway", {"peer": 24, "as-logged": 12}),
    # per connection: client, server and two attachment ENIs, each attachment showing its own
    # address where the packet had the client's or the server's
    ("transit-gateway", {"peer": 40}),
])
def test_forwarders_without_pkt_fields_show_the_real_endpoints(tmp_path, scenario, labels):
    """AWS's NAT gateway and transit gateway examples in the default format: the forwarding ENIs'
    records get the addresses the packets had from the other ENI's record of the same packets, with
    the inventory (which names them forwarders); every record's src_ip/dst_ip/local_ip is the truth."""
    con, summary = compare(scenario, tmp_path, log_format=V2)
    assert wrong_claims(con) == [] and lost(con) == 0
    assert {k: v for k, v in summary.items() if v and k != "none"} == labels
    assert con.execute("""SELECT count(*) FROM judged WHERE t_status = 'OK' AND (src_ip IS DISTINCT FROM t_src
                          OR dst_ip IS DISTINCT FROM t_dst OR local_ip IS DISTINCT FROM t_local)""").fetchone()[0] == 0


@pytest.mark.parametrize("with_inventory", [True, False])
def test_busy_transit_gateway_without_pkt_fields(tmp_path, with_inventory):
    """Attachment records whose packets another client's records on the same ports could also be
    are left unresolved (an earlier rule, counting only certain records, claimed 30 of them for the
    other client); the others get the real endpoints: 214 attachment records with the inventory.
    Without it nothing says the attachments forward, and they keep what they logged."""
    con, _ = compare(DATA / "busy-tgw.yaml", tmp_path, with_inventory=with_inventory)
    assert wrong_claims(con) == [] and lost(con) == 0
    attachments = con.execute("""SELECT count(*) FROM judged WHERE resolution = 'peer'
                                 AND interface_id IN ('eni-0c6a000000000a0c1', 'eni-0c6a000000000a0c2',
                                                      'eni-0c6a000000000b0c1', 'eni-0c6a000000000b0c2')""").fetchone()[0]
    assert attachments == (214 if with_inventory else 0)
