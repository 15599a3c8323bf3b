"""The HTML report: exact content, escaping, and a real headless Chromium opening it offline."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from test_top import T, write_seed_logs

import eniflow
from eniflow.report import report

HOSTILE_ENI = "eni-\"<img/src=x/onerror=alert(1)>'"
HOSTILE = [f"2 123456789012 {HOSTILE_ENI} 10.0.5.5 10.0.5.6 1000 2000 17 1 100 {T} {T + 1} ACCEPT OK",
           "2 123456789012 eni-server 10.0.1.10 <script>alert(\"x\")</script>"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def seed_report(tmp_path):
    logs, inventory = write_seed_logs(tmp_path, server_extra=HOSTILE)
    inv = eniflow.Inventory.load(inventory)
    flows = eniflow.read(logs)
    path = tmp_path / "report.html"
    document = report(eniflow.resolve(flows, inventory=inv), path, inventory=inv, stats=flows.stats,
                      sources=[str(logs)])
    return logs, inventory, path, document


def _cells(document: str, table_id: str, column: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}".*?</table>', document, re.S).group(0)
    return re.findall(rf'data-col="{column}"[^>]*>([^<]*)</td>', table)


def test_summary_and_tables_show_the_numbers(seed_report):
    *_, document = seed_report
    assert '<div class="card" data-testid="records"><b>10</b>' in document
    assert '<div class="card" data-testid="enis"><b>3</b>' in document
    # Per local address (busiest first): the server's secondary carries the conversation, its
    # primary only the rejected try; the hostile ENI's record has no known direction.
    local = list(zip(*(_cells(document, "addresses", c) for c in ("interface_id", "local_ip", "bytes_in", "bytes_out",
                                                                   "resolutions"))))
    assert [row for row in local if row[0] in ("eni-client", "eni-server")] == [
        ("eni-client", "10.0.2.30", "6,500", "2,040", "peer"),
        ("eni-server", "10.0.1.20", "2,040", "6,500", "peer"),
        ("eni-server", "10.0.1.10", "60", "", "ambiguous")]
    enis = list(zip(*(_cells(document, "enis", c) for c in ("interface_id", "primary", "secondary", "bytes"))))
    assert enis[:2] == [("eni-server", "10.0.1.10", "10.0.1.20", "8,600"), ("eni-client", "10.0.2.30", "", "8,540")]
    assert _cells(document, "gaps", "log_status") == ["SKIPDATA"]
    assert _cells(document, "rejected", "dst_ip") == ["10.0.1.10"]
    assert _cells(document, "rejected", "why") == ["no rule allows it: the security group (or network ACL) of this ENI"]
    # Each flow direction as both ENIs logged it: the client shows the secondary, the server its primary.
    both = list(zip(*(_cells(document, "conversations", c) for c in ("dstport", "eni_a", "logged_a", "eni_b",
                                                                      "logged_b", "bytes"))))
    assert both == [("49152", "eni-client", "10.0.1.20 → 10.0.2.30", "eni-server", "10.0.1.10 → 10.0.2.30", "5,000"),
                    ("49153", "eni-client", "10.0.1.20 → 10.0.2.30", "eni-server", "10.0.1.10 → 10.0.2.30", "1,500"),
                    ("23", "eni-client", "10.0.2.30 → 10.0.1.20", "eni-server", "10.0.2.30 → 10.0.1.10", "1,200"),
                    ("80", "eni-client", "10.0.2.30 → 10.0.1.20", "eni-server", "10.0.2.30 → 10.0.1.10", "840")]
    assert _cells(document, "malformed", "line") == ["9"]

def test_every_log_value_is_escaped(seed_report):
    *_, document = seed_report
    assert document.count("<script>") == 1  # the report's own script, nothing from the logs
    assert "<img" not in document
    assert "eni-&quot;&lt;img/src=x/onerror=alert(1)&gt;&#x27;" in document
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in document


def test_report_needs_no_network(seed_report):
    *_, document = seed_report
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", document)
    assert "default-src 'none'" in document


def test_cli_writes_the_report(seed_report, tmp_path, cli):
    logs, inventory, _, _ = seed_report
    out = tmp_path / "cli.html"
    code, stdout, err = cli("report", logs, "-i", inventory, "--html", out, "--title", "Seed <case>")
    assert code == 0 and stdout == ""
    assert f"wrote the report to {out}" in err
    text = out.read_text()
    assert "<title>Seed &lt;case&gt;</title>" in text
    assert _cells(text, "top-sources", "src_ip") == ["10.0.1.20", "10.0.2.30", "10.0.5.5", "10.0.9.9"]


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_report_in_headless_chromium(seed_report, cli):
    from playwright.sync_api import sync_playwright

    logs, inventory, path, _ = seed_report
    code, out, _ = cli("top", logs, "-i", inventory, "--by", "src_ip", "-o", "jsonl")
    assert code == 0
    expected = [(r["src_ip"], r["bytes"], r["packets"], r["records"]) for r in map(json.loads, out.splitlines())]
    problems, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            page.wait_for_selector("html[data-ready='1']")
            shown = page.eval_on_selector_all("#top-sources tbody tr", """rows => rows.map(r => [
                r.querySelector('[data-col=src_ip]').textContent,
                ...['bytes', 'packets', 'records'].map(c => Number(r.querySelector('[data-col=' + c + ']').dataset.value))])""")
            bars = page.eval_on_selector_all("#chart-top rect.bar", """bars => bars.map(b => [
                b.dataset.label, Number(b.dataset.value), b.getBoundingClientRect().width])""")
            lines = page.eval_on_selector_all("#chart-time polyline.series", "ls => ls.map(l => l.getTotalLength())")
            kinds = page.eval_on_selector_all("#chart-resolution rect.bar", "bs => bs.map(b => b.dataset.label)")
            # Sorting by the 'bytes' header puts the smallest first.
            page.click("#top-sources th:nth-child(2)")
            first = page.text_content("#top-sources tbody tr:first-child [data-col=src_ip]")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert requests == [path.as_uri()]
    assert [tuple(r) for r in shown] == expected
    assert [(label, value) for label, value, _ in bars] == [(ip, b) for ip, b, _, _ in expected]
    assert all(width >= 1 for *_, width in bars)
    assert len(lines) == 3 and all(length > 0 for length in lines)  # one per local address
    assert kinds == ["peer", "ambiguous", "as-logged", "none"]
    assert first == "10.0.9.9"


def test_rejected_reply_of_an_accepted_flow_points_at_the_network_acl(tmp_path):
    # reference §13: the request got in (ACCEPT), the server's reply was dropped on the way out;
    # security groups are stateful and never drop replies, so it is the subnet's network ACL.
    nacl = [f"2 123456789012 eni-server 10.0.3.3 10.0.1.10 50000 443 6 3 180 {T} {T + 60} ACCEPT OK",
            f"2 123456789012 eni-server 10.0.1.10 10.0.3.3 443 50000 6 2 120 {T} {T + 60} REJECT OK"]
    logs, inventory = write_seed_logs(tmp_path, server_extra=nacl)
    document = report(eniflow.resolve(eniflow.read(logs), inventory=eniflow.Inventory.load(inventory)))
    rows = list(zip(*(_cells(document, "rejected", c) for c in ("direction", "src_ip", "srcport", "why"))))
    assert rows == [("egress", "10.0.1.10", "443", "network ACL dropped the reply of an accepted flow: ACLs are "
                     "stateless, security groups never drop replies; allow the ephemeral ports in the ACL"),
                    ("ingress", "10.0.9.9", "40000", "no rule allows it: the security group (or network ACL) of this ENI")]


def test_pod_addresses_are_listed_with_their_pod(tmp_path):
    logs, inventory = write_seed_logs(tmp_path)
    pods = tmp_path / "pods.json"
    pods.write_text(json.dumps({"items": [{"metadata": {"namespace": "shop", "name": "web-0"},
                                           "status": {"podIP": "10.0.1.20", "podIPs": [{"ip": "10.0.1.20"}],
                                                      "hostIP": "10.0.1.10"}}]}))
    inv = eniflow.Inventory.load([inventory, pods])
    document = report(eniflow.resolve(eniflow.read(logs), inventory=inv), inventory=inv)
    enis = dict(zip(_cells(document, "enis", "interface_id"), zip(_cells(document, "enis", "secondary"),
                                                                   _cells(document, "enis", "pods"))))
    assert enis["eni-server"] == ("", "10.0.1.20 (pod shop/web-0)")
    owners = dict(zip(_cells(document, "addresses", "local_ip"), _cells(document, "addresses", "owner")))
    assert owners["10.0.1.20"] == "pod shop/web-0"


def test_cli_help_has_a_worked_example(cli):
    code, out, _ = cli("report", "--help")
    assert code == 0 and "eniflow report AWSLogs/ --html report.html" in out


def test_public_report_reads_sources_itself(tmp_path):
    logs, inventory = write_seed_logs(tmp_path, server_extra=HOSTILE)
    document = eniflow.report(logs, tmp_path / "r.html", inventory=eniflow.Inventory.load(inventory))
    assert (tmp_path / "r.html").read_text() == document
    assert _cells(document, "read-stats", "malformed") == ["1"]
    assert f"Sources: <code>{logs}</code>" in document
