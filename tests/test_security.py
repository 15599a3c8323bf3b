"""Security review as tests: the HTML report escapes every value a log can carry, user values
reach SQL only as parameters, S3 keys never become paths, and credentials never reach output.
"""

from __future__ import annotations

import gzip
import json
import logging
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

import eniflow
from eniflow.aws import AwsOptions

from faultproxy import FaultProxy, json_error, s3_error

# -- the HTML report ------------------------------------------------------------------------
# Every text field a flow log can carry (no spaces: fields are space-separated), an unknown
# header column, an inventory description, a malformed line, the file's directory and the title.
FIELDS = ("version account-id interface-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol "
          "packets bytes start end action log-status type az-id sublocation-id pkt-src-aws-service ecs-cluster-name "
          "ecs-service-name ecs-task-arn ecs-container-id reject-reason resource-id tgw-id x-custom-note").split()
TEXT_FIELDS = [f for f in FIELDS if f not in ("version", "srcport", "dstport", "protocol", "packets", "bytes", "start",
                                              "end", "log-status")]
PAYLOADS = ["<script>alert({n})</script>", '"><img/src=x/onerror=alert({n})>', "'><svg/onload=alert({n})>",
            "</title><script>alert({n})</script>", "<!--{n}", "</style><b>{n}</b>", "javascript:alert({n})"]


def hostile(n: int) -> str:
    return PAYLOADS[n % len(PAYLOADS)].format(n=n)


def benign(n: int) -> str:
    return f"value{n}"


def flow_log(value) -> str:
    """Two records of each direction between two addresses, every text field set by ``value``."""
    lines = [" ".join(FIELDS)]
    for k in range(4):
        fields = {f: value(100 * k + i) for i, f in enumerate(TEXT_FIELDS)}
        fields.update({"version": "5", "srcport": str(40000 + k), "dstport": "443", "protocol": "6", "packets": "3",
                       "bytes": str(900 + k), "start": str(1_700_000_000 + 60 * k), "end": str(1_700_000_059 + 60 * k),
                       "log-status": "OK", "action": "REJECT" if k % 2 else value(900 + k)})
        if k < 2:  # a couple of records with real addresses too, so the address tables fill
            fields.update({"srcaddr": f"10.0.1.{10 + k}", "dstaddr": "10.0.2.20", "interface-id": value(7)})
        lines.append(" ".join(fields[f] for f in FIELDS))
    lines.append(f"this line is malformed {value(999)}")
    return "\n".join(lines) + "\n"


class Page(HTMLParser):
    """The elements, attribute names, script bodies and visible text of a document."""

    def __init__(self, document: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, tuple[str, ...]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, tuple(sorted(name for name, _ in attrs))))
        self._in.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, tuple(sorted(name for name, _ in attrs))))

    def handle_endtag(self, tag):
        if tag in self._in:
            while self._in.pop() != tag:
                pass

    def handle_comment(self, data):
        self.elements.append(("<!-- -->", ()))

    def handle_data(self, data):
        (self.scripts if self._in and self._in[-1] == "script" else self.text).append(data)


def report_of(tmp_path: Path, value, folder: str) -> str:
    directory = tmp_path / folder
    directory.mkdir()
    path = directory / "flows.log"
    path.write_text(flow_log(value))
    inventory = eniflow.Inventory.from_document({"NetworkInterfaces": [{
        "NetworkInterfaceId": "eni-0a", "Description": value(5000), "VpcId": value(5001), "SubnetId": value(5002),
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": True}]}]}, at=1_700_000_000, source="inv")
    flows = eniflow.read(path)
    return eniflow.report(eniflow.resolve(flows, inventory), stats=flows.stats, inventory=inventory,
                          title=value(6000), sources=[str(path)])


def test_report_escapes_every_value_a_log_can_carry(tmp_path):
    safe = Page(report_of(tmp_path, benign, "plain"))
    attacked = Page(report_of(tmp_path, hostile, "<b>dir'\"&"))
    # No element, attribute or comment more or less than with harmless values: nothing injected.
    assert attacked.elements == safe.elements
    assert attacked.scripts == safe.scripts
    text = "".join(attacked.text)
    for shown in (hostile(7), hostile(6000), hostile(999), "<b>dir'\"&"):  # ENI id, title, malformed line, folder
        assert shown in text  # shown as text, escaped


# -- SQL parameters ---------------------------------------------------------------------------
RECORDS = [
    "2 123456789012 eni-0a 10.0.1.10 10.0.2.20 40000 443 6 3 900 1700000000 1700000059 ACCEPT OK",
    "2 123456789012 eni-0b 10.0.1.10 10.0.2.20 40000 443 6 3 900 1700000000 1700000059 ACCEPT OK",
    "2 123456789012 eni-0b 10.0.2.20 10.0.1.10 443 40000 6 3 700 1700000000 1700000059 REJECT OK",
]


@pytest.fixture
def logfile(tmp_path):
    path = tmp_path / "flows.log"
    path.write_text("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
                    "action log-status\n" + "\n".join(RECORDS) + "\n")
    return path


def injections(marker: Path) -> list[str]:
    """Values that would change a query built by pasting them into SQL text."""
    copy = f"COPY (SELECT 42) TO '{marker}'"
    return ["10.0.1.10' OR '1'='1", f"10.0.1.10'; {copy}; --", "x' OR 1=1 --", f"1); {copy}; --",
            "1 OR 1=1", "'", '"', "\\", f"$$; {copy}; $$"]


def run_checked(cli, marker: Path, *args) -> int:
    """The command either refuses the value (usage error) or treats it as a literal that
    matches nothing; it never runs the injected SQL."""
    code, out, err = cli(*args, "-o", "jsonl")
    assert code in (0, 2), (args, code, err)
    if code == 0:
        assert out.strip() == "", (args, out)
    else:
        assert out == "" and ("eniflow: error:" in err or "Usage:" in err), (args, err)
    assert not marker.exists(), args
    assert "internal error" not in err, (args, err)
    return code


@pytest.mark.parametrize("option", ["--ip"])
def test_flows_ip_injection_is_refused(cli, logfile, tmp_path, option):
    marker = tmp_path / "pwned.csv"
    assert {run_checked(cli, marker, "flows", logfile, option, value) for value in injections(marker)} == {2}


@pytest.mark.parametrize("key", ["ip", "src", "dst", "local", "cidr", "port", "srcport", "dstport", "protocol",
                                 "action", "eni", ""])
def test_top_where_injection_is_refused_or_literal(cli, logfile, tmp_path, key):
    marker = tmp_path / "pwned.csv"
    for value in injections(marker):
        where = f"{key}={value}" if key else value
        run_checked(cli, marker, "top", logfile, "--where", where)


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_time_injection_is_refused(cli, logfile, tmp_path, option):
    marker = tmp_path / "pwned.csv"
    for command in (["top"], ["flows", "--ip", "10.0.1.10"], ["read"]):
        assert {run_checked(cli, marker, command[0], logfile, *command[1:], option, value)
                for value in injections(marker)} == {2}


def test_trace_and_keys_injection_is_refused(cli, logfile, tmp_path):
    marker = tmp_path / "pwned.csv"
    for value in injections(marker):
        assert run_checked(cli, marker, "trace", logfile, "--from", value, "--to", "10.0.2.20") == 2
        assert run_checked(cli, marker, "trace", logfile, "--from", "10.0.1.10", "--to", value) == 2
        assert run_checked(cli, marker, "top", logfile, "--by", value) == 2
        assert run_checked(cli, marker, "top", logfile, "--metric", value) == 2


def test_literal_values_still_match(cli, logfile):
    """The guard above is not refusing everything: plain values find their records."""
    code, out, _ = cli("top", logfile, "--where", "action=REJECT", "--by", "src_ip", "-o", "jsonl")
    assert code == 0 and [json.loads(line)["src_ip"] for line in out.splitlines()] == ["10.0.2.20"]


# -- S3 keys never become paths -----------------------------------------------------------------
KEYS = ["../../etc/eniflow-escape.log", "logs/../../../eniflow-escape2.log", "/abs/eniflow-escape3.log",
        "..\\..\\eniflow-escape4.log", "logs/%2e%2e/eniflow-escape5.log", "logs/./x/../eniflow-escape6.log"]


def test_s3_keys_never_become_paths_outside_the_spool(aws, tmp_path, monkeypatch):
    """eniflow never writes S3 objects to disk: they stream into the parser, and what lands on
    disk are Parquet parts named by eniflow inside its spool directory (ENIFLOW_TMP)."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="flow-logs")
    body = gzip.compress((RECORDS[0] + "\n").encode(), mtime=0)
    for key in KEYS:
        s3.put_object(Bucket="flow-logs", Key=key, Body=body)
    spool_root, cwd = tmp_path / "spool", tmp_path / "cwd" / "deep" / "down"
    spool_root.mkdir()
    cwd.mkdir(parents=True)
    monkeypatch.setenv("ENIFLOW_TMP", str(spool_root))
    monkeypatch.chdir(cwd)
    before = {p for p in tmp_path.rglob("*")}
    flows = eniflow.read("s3://flow-logs/", aws=aws)
    assert flows.stats.errors == []
    assert sorted(r[0] for r in flows.relation.select("source").fetchall()) == sorted(f"s3://flow-logs/{k}" for k in KEYS)
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(spool_root in p.parents for p in created)
    assert all(p.suffix == ".parquet" for p in created if p.is_file())
    for key in KEYS:
        for base in (spool_root, cwd, Path("/tmp"), Path("/")):
            assert not (base / key.lstrip("/")).resolve().exists() or (base / key.lstrip("/")).resolve() in before
    flows.close()
    assert list(spool_root.iterdir()) == []  # and the spool goes when the flows go


# -- credentials never reach output ---------------------------------------------------------------
SECRET, TOKEN = "marker-secret-9f3b7c1e", "marker-session-token-4d2a8e6f"


@pytest.fixture
def marked_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMARKER0000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.mark.parametrize("operation, error", [
    ("ListObjectsV2", s3_error(403, "AccessDenied", "Access Denied")),
    ("ListObjectsV2", s3_error(400, "ExpiredToken", "The provided token has expired.")),
    ("ListObjectsV2", s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")),
    ("ListObjectsV2", s3_error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")),
    ("GetObject", s3_error(403, "AccessDenied", "Access Denied")),
    ("GetObject", s3_error(400, "ExpiredToken", "The provided token has expired.")),
    ("DescribeLogStreams", json_error("UnrecognizedClientException", "The security token included in the request is "
                                      "invalid.")),
    ("FilterLogEvents", json_error("ExpiredTokenException", "The security token included in the request is expired")),
])
def test_no_credentials_in_errors_logs_or_reports(aws, marked_credentials, cli, caplog, tmp_path, operation, error):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="flow-logs")
    s3.put_object(Bucket="flow-logs", Key="f.log", Body=(RECORDS[0] + "\n").encode())
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="grp")
    logs.create_log_stream(logGroupName="grp", logStreamName="s")
    import time

    logs.put_log_events(logGroupName="grp", logStreamName="s", logEvents=[
        {"timestamp": int(time.time()) * 1000, "message": RECORDS[0]}])
    proxy = FaultProxy(aws.endpoint_url)
    proxy.inject(operation, "error", times=99, error=error)
    spec = "cwl://grp" if operation in ("DescribeLogStreams", "FilterLogEvents") else "s3://flow-logs/"
    output = []
    caplog.set_level(logging.DEBUG, logger="eniflow")
    caplog.set_level(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for debug in ([], ["--debug"]):
                output += cli(*debug, "read", spec, "--endpoint-url", proxy.url, "--region", "us-east-1")[1:]
                output += cli(*debug, "report", spec, "--html", tmp_path / "r.html", "--endpoint-url", proxy.url,
                              "--region", "us-east-1")[1:]
                if (tmp_path / "r.html").exists():
                    output.append((tmp_path / "r.html").read_text())
            try:
                flows = eniflow.read(spec, aws=AwsOptions(region="us-east-1", endpoint_url=proxy.url))
                output += flows.stats.errors
                output.append(eniflow.report(flows))
            except eniflow.EniflowError as exc:
                output.append(str(exc))
            output += [str(w.message) for w in caught]
    finally:
        proxy.close()
    output += [r.getMessage() for r in caplog.records]
    assert [r.fault for r in proxy.log].count("error") >= 1
    everything = "\n".join(output)
    assert "eniflow: error:" in everything or "access denied" in everything.lower() or "expired" in everything
    assert SECRET not in everything and TOKEN not in everything
