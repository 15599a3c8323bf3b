"""Conformance: eniflow reads five other projects' flow-log test data exactly as they expect.

The corpus (../shared/conformance, see its README.md and manifest.json) holds the inputs and
expected outputs of Elastic Beats, Elastic integrations, the OpenTelemetry Collector,
flowlogs-reader and SEKOIA intake formats. Every input goes through the public
``eniflow.read``; only the extraction of test-case containers (the Beats YAML table,
SEKOIA's ``input.message``) is done here. For each input the test checks the record count,
that exactly the lines the peers reject are malformed (with file:line), and that every field
both sides have holds the peer's value after the README's name mapping.

``python tests/conformance_summary.py`` (or ``pytest -rA tests/test_conformance.py``) prints
the per-peer figures.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

import eniflow
from eniflow.fields import INTEGER_COLUMNS, lookup


def _corpus() -> Path | None:
    env = os.environ.get("ENIFLOW_CONFORMANCE_DIR")
    folder = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "conformance"  # <repo>/../shared
    return folder if (folder / "manifest.json").is_file() else None


CORPUS = _corpus()
if CORPUS is None:
    pytest.skip("conformance corpus not found: put shared/conformance beside the repository "
                "or set ENIFLOW_CONFORMANCE_DIR", allow_module_level=True)

MANIFEST = json.loads((CORPUS / "manifest.json").read_text())

# The only lines the peers themselves reject (corpus README, "How to use", step 2).
PEER_INVALID = {
    "elastic__beats/x-pack/filebeat/module/aws/vpcflow/test/bad.log": [1],
    "open-telemetry__opentelemetry-collector-contrib/extension/encoding/awslogsencodingextension/internal/"
    "unmarshaler/vpc-flow-log/testdata/vpc_flow_log_too_few_fields.log": [2],
    "open-telemetry__opentelemetry-collector-contrib/extension/encoding/awslogsencodingextension/internal/"
    "unmarshaler/vpc-flow-log/testdata/vpc_flow_log_too_many_fields.log": [2],
    "obsrvbl-oss__flowlogs-reader/tests/inline/V5_FILE.log": [4],
}

# Disagreements where the AWS reference (shared/reference/aws-flow-logs.md) says the peer is
# wrong: (case id, record index, peer key) -> why. An entry that no longer occurs fails the test.
ALLOWED: dict[tuple[str, int, str], str] = {}

# Expectation files that pair with no input we can read, and why.
UNUSED = {
    "vpc_flow_log_too_few_fields_expected.yaml": "stale: upstream now rejects that input (README, OTel)",
    "valid_flow_log_parquet_expected.yaml": "its input valid_flow_log.parquet is not in the corpus (README, Gaps)",
}

# Peer keys that no line parser can produce or that restate another compared value:
# enrichment, categorisation, the raw line, and values derived from a field (transport name,
# address family, outcome, flag names). Everything else must map to a column.
IGNORED_PREFIXES = (
    "source.geo.", "destination.geo.", "source.as.", "destination.as.", "event.category", "event.type",
    "event.kind", "event.outcome", "event.dataset", "event.module", "event.original", "message", "log.offset",
    "fileset.", "input.type", "service.type", "tags", "ecs.version", "cloud.provider", "network.community_id",
    "network.transport", "related.ip", "aws.vpcflow.tcp_flags_array", "orchestrator.type",
    "orchestrator.resource.type", "action.outcome", "action.target", "action.type", "aws.log.group.names",
    "aws.log.stream.names", "network.type",  # ECS: the address family of srcaddr (OTel maps it to `type`)
)

ECS = {
    "cloud.account.id": "account_id", "source.ip": "srcaddr", "source.address": "srcaddr",
    "destination.ip": "dstaddr", "destination.address": "dstaddr", "source.port": "srcport",
    "destination.port": "dstport", "source.packets": "packets", "network.packets": "packets",
    "source.bytes": "bytes", "network.bytes": "bytes", "network.iana_number": "protocol",
    "event.start": "start", "event.end": "end", "@timestamp": "end", "event.action": "action",
    "cloud.region": "region", "cloud.availability_zone": "az_id", "cloud.instance.id": "instance_id",
    "network.direction": "flow_direction", "event.reason": "reject_reason", "container.id": "ecs_container_id",
    "orchestrator.cluster.id": "ecs_cluster_arn", "orchestrator.cluster.name": "ecs_cluster_name",
    "orchestrator.resource.id": "ecs_container_instance_id",
    "orchestrator.resource.name": "ecs_container_instance_arn", "service.name": "ecs_service_name",
    "aws.vpcflow.pkt_src_service": "pkt_src_aws_service", "aws.vpcflow.pkt_dst_service": "pkt_dst_aws_service",
}
SEKOIA = {
    **ECS, "@timestamp": "start", "observer.ingress.interface.name": "interface_id", "action.name": "action",
    "aws.flowlogs.vpc.id": "vpc_id", "aws.flowlogs.subnet.id": "subnet_id", "aws.flowlogs.tcp_flags": "tcp_flags",
}
OTEL = {
    "cloud.account.id": "account_id", "cloud.region": "region", "aws.vpc.flow.log.version": "version",
    "network.interface.name": "interface_id", "aws.eni.id": "interface_id", "source.address": "srcaddr",
    "destination.address": "dstaddr", "source.port": "srcport", "destination.port": "dstport",
    "network.protocol.name": "protocol", "aws.vpc.flow.packets": "packets", "aws.vpc.flow.bytes": "bytes",
    "aws.vpc.flow.start": "start", "timeUnixNano": "end", "aws.vpc.flow.action": "action",
    "aws.vpc.flow.status": "log_status", "aws.vpc.id": "vpc_id", "aws.vpc.subnet.id": "subnet_id",
    "host.id": "instance_id", "network.tcp.flags": "tcp_flags", "network.type": "type", "aws.az.id": "az_id",
    "network.io.direction": "flow_direction", "aws.vpc.flow.traffic_path": "traffic_path",
    "aws.tgw.id": "tgw_id", "aws.tgw.attachment.id": "tgw_attachment_id",
    "aws.tgw.attachment.pair.id": "tgw_pair_attachment_id", "aws.tgw.source.vpc.id": "tgw_src_vpc_id",
    "aws.tgw.destination.vpc.id": "tgw_dst_vpc_id", "aws.tgw.source.vpc.subnet.id": "tgw_src_subnet_id",
    "aws.tgw.destination.vpc.subnet.id": "tgw_dst_subnet_id", "aws.tgw.source.eni.id": "tgw_src_eni",
    "aws.tgw.destination.eni.id": "tgw_dst_eni", "aws.tgw.source.az.id": "tgw_src_az_id",
    "aws.tgw.destination.az.id": "tgw_dst_az_id",
}
OTEL_PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58}
OTEL_DIRECTIONS = {"receive": "ingress", "transmit": "egress"}
CASE_INSENSITIVE = {"action", "type"}  # ECS lower-cases action, OTel the address type


@dataclass
class Expect:
    """One record as a peer expects it: (peer key, our column, peer value) triples."""

    fields: list[tuple[str, str, object]]
    complete_prefix: str | None = None  # peer keys with this prefix list every non-'-' field
    original: str | None = None  # the raw record line the peer echoes


@dataclass
class Case:
    peer: str
    id: str
    path: Path | None  # a corpus file read as it is
    lines: list[str] | None = None  # or records extracted from a test-case container
    fmt: str | None = None
    rows: int = 0
    expects: list[Expect | None] = field(default_factory=list)  # None: the peer asserts nothing on that row
    invalid: list[int] = field(default_factory=list)
    expectation_files: list[str] = field(default_factory=list)
    variant: str = ""  # "gzip": a gzip copy, as S3 delivers text logs; "json-line": SEKOIA's input object


@dataclass
class Outcome:
    case: Case
    path: Path
    rows: int
    malformed: list[tuple[int, str]]  # (line, the reader's "file:line: reason")
    errors: list[str]
    compared: int = 0
    mismatches: list[tuple[int, str, str, object, object]] = field(default_factory=list)
    allowed: list[tuple[int, str, str]] = field(default_factory=list)


# -- peer documents -> Expect ------------------------------------------------------------
def _flat(doc, prefix=""):
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: doc}


def _ignored(key: str) -> bool:
    return key.startswith(IGNORED_PREFIXES)


def _map(doc: dict, table: dict[str, str], where: str) -> list[tuple[str, str, object]]:
    """Peer keys -> (key, column, value); a key neither mapped nor ignored fails the test."""
    out, unmapped = [], []
    for key, value in doc.items():
        column = table.get(key)
        if column is None and key.startswith("aws.vpcflow.") and lookup(key[12:]):
            column = lookup(key[12:]).column
        if column is None and key.startswith("aws.ecs."):
            column = lookup("ecs_" + key[8:].replace(".", "_")).column
        if column is None and key.startswith("aws.vpc.flow.packets_lost_"):
            column = key[13:]
        if column is not None:
            out.append((key, column, value))
        elif not _ignored(key):
            unmapped.append(key)
    assert not unmapped, f"{where}: peer keys with no mapping: {unmapped}"
    return out


def _ecs(doc: dict, where: str, table=ECS) -> Expect:
    flat = {k: v for k, v in _flat(doc).items() if v != {}}
    original = flat.get("event.original", flat.get("message"))
    complete = "aws.vpcflow." if "aws.vpcflow.srcaddr" in flat else None  # Beats "original" mode: every field
    return Expect(_map(flat, table, where), complete, original)


def _otel_records(doc: dict, where: str) -> list[Expect]:
    out = []
    for resource_logs in doc["resourceLogs"]:
        resource = {a["key"]: next(iter(a["value"].values())) for a in resource_logs["resource"]["attributes"]}
        for scope in resource_logs["scopeLogs"]:
            for record in scope["logRecords"]:
                attrs = {a["key"]: next(iter(a["value"].values())) for a in record.get("attributes", [])}
                if int(record.get("timeUnixNano", 0)):
                    attrs["timeUnixNano"] = int(record["timeUnixNano"]) // 10**9
                triples = _map({**resource, **attrs}, OTEL, where)
                fixed = []
                for key, column, value in triples:
                    if key == "network.protocol.name":
                        value = OTEL_PROTOCOLS[value]
                    elif key == "network.io.direction":
                        value = OTEL_DIRECTIONS[value]
                    fixed.append((key, column, value))
                out.append(Expect(fixed))
    return out


def _reader_record(rec: dict) -> Expect:
    return Expect([(k, k, v) for k, v in rec.items()], complete_prefix="")


# -- cases -------------------------------------------------------------------------------
def _entries(peer: str, kind: str):
    return [e for e in _entries_of_kind(kind) if e["peer"] == peer]


def _entries_of_kind(kind: str):
    return [e for e in MANIFEST if e["kind"] == kind]


def _header_less(path: Path, fmt: str | None) -> str | None:
    """The manifest's format, unless the file declares it in a header line itself."""
    if fmt is None or path.suffix == ".parquet":
        return None
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return None if first.split() == fmt.split() else fmt


def _file_case(peer: str, entry: dict, expects: list, files: list[str], rows: int | None = None) -> Case:
    path = CORPUS / entry["path"]
    invalid = PEER_INVALID.get(entry["path"], [])
    return Case(peer, entry["path"].rsplit("/", 1)[1], path, fmt=_header_less(path, entry["format"]),
                rows=len(expects) if rows is None else rows, expects=expects, invalid=invalid,
                expectation_files=files)


def _beats_cases() -> list[Case]:
    cases = []
    inputs = _entries("elastic/beats", "input")
    table_entry = next(e for e in inputs if e["path"].endswith(".yml"))
    table = yaml.safe_load((CORPUS / table_entry["path"]).read_text(encoding="utf-8"))
    folder = (CORPUS / table_entry["path"]).parent
    for name, spec in table.items():
        golden = folder / f"{name}.golden.json"
        docs = json.loads(golden.read_text(encoding="utf-8"))
        expects = [_ecs(d, f"{golden.name}[{i}]") for i, d in enumerate(docs)]
        cases.append(Case("elastic/beats", f"aws-vpc-flow-logs.yml:{name}", None, lines=spec["samples"],
                          fmt=spec["format"], rows=len(spec["samples"]), expects=expects,
                          expectation_files=[golden.name]))
    for entry in (e for e in inputs if e is not table_entry):
        expected = CORPUS / (entry["path"] + "-expected.json")
        docs = json.loads(expected.read_text(encoding="utf-8"))
        if entry["path"] in PEER_INVALID:  # the peer's event carries the raw line only
            assert all(_ignored(k) for d in docs for k in d), expected.name
            docs = []
        expects = [_ecs(d, f"{expected.name}[{i}]") for i, d in enumerate(docs)]
        cases.append(_file_case("elastic/beats", entry, expects, [expected.name]))
    return cases


def _integrations_cases() -> list[Case]:
    cases = []
    for entry in _entries("elastic/integrations", "input"):
        expected = CORPUS / (entry["path"] + "-expected.json")
        docs = json.loads(expected.read_text(encoding="utf-8"))["expected"]
        cases.append(_file_case("elastic/integrations", entry,
                                [_ecs(d, f"{expected.name}[{i}]") for i, d in enumerate(docs)], [expected.name]))
    return cases


OTEL_PAIRS = {  # input -> expectation files (each listing its records in input order, or one record at an index)
    "valid_vpc_flow_log.log": ["valid_vpc_flow_log_single_expected.yaml", "valid_vpc_flow_log_expected.yaml",
                               "valid_vpc_flow_log_expected_iso8601.yaml"],
    "valid_vpc_flow_log_multi.log": ["valid_vpc_flow_log_expected_multi.yaml",
                                     "valid_vpc_flow_log_expected_multi_iso8601.yaml",
                                     "stream/valid_vpc_flow_log_multi_1.yaml@0",
                                     "stream/valid_vpc_flow_log_multi_2.yaml@1"],
    "valid_vpc_flow_log_ecs.log": ["valid_vpc_flow_log_ecs_expected.yaml"],
    "valid_tgw_flow_log.log": ["valid_tgw_flow_log_expected.yaml"],
    "valid_vpc_flow_cw.json": ["valid_vpc_flow_cw_expected.yaml"],
    "valid_vpc_flow_cw_custom.json": ["valid_vpc_flow_cw_custom_expected.yaml"],
    "valid_tgw_flow_cw.json": ["valid_tgw_flow_cw_expected.yaml"],
    "vpc_flow_log_too_few_fields.log": [],
    "vpc_flow_log_too_many_fields.log": [],
}


def _otel_cases() -> list[Case]:
    cases = []
    for entry in _entries("open-telemetry/opentelemetry-collector-contrib", "input"):
        path = CORPUS / entry["path"]
        rows = 0 if entry["path"] in PEER_INVALID else entry["records"]
        expectations: list[list[Expect | None]] = []
        for spec in OTEL_PAIRS[path.name]:
            name, _, index = spec.partition("@")
            records = _otel_records(yaml.safe_load((path.parent / name).read_text(encoding="utf-8")), name)
            if index:
                assert len(records) == 1, name
                records = [records[0] if i == int(index) else None for i in range(rows)]
            assert len(records) == rows, name
            expectations.append(records)
        # one case per expectation file would read the input again; merge them row by row instead
        merged = [Expect([t for exp in expectations if exp[i] for t in exp[i].fields]) for i in range(rows)]
        cases.append(_file_case("open-telemetry/opentelemetry-collector-contrib", entry, merged,
                                [s.partition("@")[0].rsplit("/", 1)[-1] for s in OTEL_PAIRS[path.name]], rows))
    return cases


def _reader_cases() -> list[Case]:
    expected_path = CORPUS / "obsrvbl-oss__flowlogs-reader/tests/inline/expected.json"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    cases = []
    for entry in _entries("obsrvbl-oss/flowlogs-reader", "input"):
        name = entry["path"].rsplit("/", 1)[1]
        spec = expected[name if name in expected else "../data/flows.parquet"]
        if "asserted_by_line_index" in spec:
            expects = [None] * spec["lines"]
            for index, rec in spec["asserted_by_line_index"].items():
                expects[int(index)] = _reader_record(rec)
        else:
            expects = [_reader_record(r) for r in spec["records"]]
            if name == "MS_TIMESTAMP_RECORD.log":  # only start/end are asserted upstream
                expects = [Expect(e.fields) for e in expects]
        assert len(spec.get("skipped_lines", [])) == len(PEER_INVALID.get(entry["path"], [])), name
        cases.append(_file_case("obsrvbl-oss/flowlogs-reader", entry, expects, [expected_path.name]))
    return cases


def _sekoia_cases() -> list[Case]:
    cases = []
    for entry in _entries("SEKOIA-IO/intake-formats", "input"):
        doc = json.loads((CORPUS / entry["path"]).read_text(encoding="utf-8"))
        name = entry["path"].rsplit("/", 1)[1]
        expect = Expect(_ecs(doc["expected"], name, SEKOIA).fields)
        cases.append(Case("SEKOIA-IO/intake-formats", name, None, lines=[doc["input"]["message"].rstrip("\n")],
                          fmt=entry["format"], rows=1, expects=[expect], expectation_files=[name]))
        # the same record as SEKOIA receives it: the whole input object as one JSON line
        cases.append(Case("SEKOIA-IO/intake-formats", f"{name}:json-line", None, lines=[json.dumps(doc["input"])],
                          fmt=entry["format"], rows=1, expects=[expect], expectation_files=[name],
                          variant="json-line"))
    return cases


def _gzip_cases(cases: list[Case]) -> list[Case]:
    return [replace(c, id=f"{c.id}:gzip", variant="gzip") for c in cases if c.path and c.path.suffix != ".parquet"]


CASES = _beats_cases() + _integrations_cases() + _otel_cases() + _reader_cases() + _sekoia_cases()
CASES += _gzip_cases(CASES)


# -- reading and comparing -----------------------------------------------------------------
def _epoch(value) -> int:
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # flowlogs-reader: naive UTC
        return int(moment.timestamp())
    return int(value)


def _normal(column: str, value):
    """A value as eniflow types it: '-' is absent, numbers are ints, times Unix seconds."""
    if value is None or value == "-":
        return None
    if column in ("start", "end"):
        return _epoch(value)
    if column in INTEGER_COLUMNS:
        if isinstance(value, str) and value.isdigit():
            return int(value)
        number = float(value)  # SEKOIA echoes 8080.0 and "6.0"; 6.5 stays 6.5 and disagrees
        return int(number) if number.is_integer() else number
    text = str(value)
    return text.upper() if column in CASE_INSENSITIVE else text


def run_case(case: Case, tmp: Path) -> Outcome:
    path = case.path
    if path is None:
        path = tmp / (case.id.replace(":", "__") + ".log")
        path.write_text("".join(line + "\n" for line in case.lines), encoding="utf-8")
    elif case.variant == "gzip":
        path = tmp / (path.name + ".gz")
        path.write_bytes(gzip.compress(case.path.read_bytes()))
    flows = eniflow.read(str(path), format=case.fmt)
    rel = flows.relation.order("line")
    names = rel.columns
    rows = [dict(zip(names, r)) for r in rel.fetchall()]
    stats = flows.stats
    outcome = Outcome(case, path, stats.rows, [(m.line, str(m)) for m in stats.malformed_samples],
                      list(stats.errors))
    raw = (case.path or path).read_bytes()
    raw_lines = None if raw[:4] == b"PAR1" else raw.decode("utf-8", "replace").split("\n")
    for index, (row, expect) in enumerate(zip(rows, case.expects)):
        if expect is None:
            continue
        if expect.original is not None and raw_lines is not None:  # eniflow's line number finds the peer's line
            outcome.compared += 1
            if expect.original.strip() not in raw_lines[row["line"] - 1]:
                _disagree(outcome, index, "original line", "line", expect.original, raw_lines[row["line"] - 1])
        for key, column, value in expect.fields:
            want = _normal(column, value)
            got = row.get(column)
            got = got.upper() if isinstance(got, str) and column in CASE_INSENSITIVE else got
            outcome.compared += 1
            if want != got:
                _disagree(outcome, index, key, column, want, got)
        if expect.complete_prefix is not None:
            listed = {c for k, c, _ in expect.fields if k.startswith(expect.complete_prefix)}
            for column in names:
                if column not in ("source", "line") and row[column] is not None and column not in listed:
                    outcome.compared += 1
                    _disagree(outcome, index, f"{expect.complete_prefix}{column}", column, None, row[column])
    return outcome


def _disagree(outcome: Outcome, index: int, key: str, column: str, want, got) -> None:
    if (outcome.case.id, index, key) in ALLOWED:
        outcome.allowed.append((index, key, ALLOWED[(outcome.case.id, index, key)]))
    else:
        outcome.mismatches.append((index, key, column, want, got))


def run_all(tmp: Path) -> list[Outcome]:
    return [run_case(case, tmp) for case in CASES]


def summary(outcomes: list[Outcome]) -> str:
    """Per-peer figures: corpus inputs, expectation files, reads (each Beats table case is one;
    variants such as gzip copies are more), records and malformed lines of the inputs as they
    are, then field values compared and allowed/unexplained disagreements over all reads."""
    lines = [f"{'peer':<48} {'inputs':>6} {'expected':>8} {'reads':>5} {'records':>7} {'malformed':>9} "
             f"{'fields':>6} {'allowed':>7} {'unexplained':>11}"]
    for peer in dict.fromkeys(o.case.peer for o in outcomes):
        mine = [o for o in outcomes if o.case.peer == peer]
        plain = [o for o in mine if not o.case.variant]
        files = {f for o in mine for f in o.case.expectation_files}
        lines.append(f"{peer:<48} {len({o.case.path or o.case.id.split(':')[0] for o in mine}):>6} {len(files):>8} "
                     f"{len(mine):>5} {sum(o.rows for o in plain):>7} {sum(len(o.malformed) for o in plain):>9} "
                     f"{sum(o.compared for o in mine):>6} {sum(len(o.allowed) for o in mine):>7} "
                     f"{sum(len(o.mismatches) for o in mine):>11}")
    return "\n".join(lines)


# -- tests -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    return {o.case.id: o for o in run_all(tmp_path_factory.mktemp("conformance"))}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.peer.split('/')[0]}:{c.id}" for c in CASES])
def test_input_reads_as_the_peer_expects(case: Case, outcomes):
    outcome = outcomes[case.id]
    assert len(case.expects) == case.rows  # one expectation (or None) per record
    assert outcome.errors == []
    assert [line for line, _ in outcome.malformed] == case.invalid
    for line, text in outcome.malformed:
        assert text.startswith(f"{outcome.path}:{line}: ")
    assert outcome.rows == case.rows
    assert outcome.mismatches == []
    unused = {k for k in ALLOWED if k[0] == case.id} - {(case.id, i, key) for i, key, _ in outcome.allowed}
    assert not unused, f"allow-list entries that no longer occur: {unused}"


def test_every_corpus_file_is_used():
    """Each manifest entry is read or compared, or sits in UNUSED with a reason."""
    used = {c.path.name for c in CASES if c.path} | {f for c in CASES for f in c.expectation_files}
    used |= {"aws-vpc-flow-logs.yml"}
    names = {e["path"].rsplit("/", 1)[1] for e in MANIFEST}
    assert names - used == set(UNUSED)


def test_record_counts_are_the_manifests():
    """The manifest's count per input; for OTel's short and long line it counts the line that
    upstream now rejects (its notes say PEER-INVALID)."""
    counted_rejected = {"vpc_flow_log_too_few_fields.log": 1, "vpc_flow_log_too_many_fields.log": 1}
    rows = {c.path.name: c.rows for c in CASES if c.path}
    for entry in _entries_of_kind("input"):
        name = entry["path"].rsplit("/", 1)[1]
        if name in rows:
            assert rows[name] == entry["records"] - counted_rejected.get(name, 0), name


def test_beats_table_has_the_documented_lines():
    beats = [c for c in CASES if c.id.startswith("aws-vpc-flow-logs.yml:")]
    assert len(beats) == 14
    assert len({line for c in beats for line in c.lines}) == MANIFEST[0]["records"] == 30


def test_summary(outcomes):
    """Printed with ``pytest -rA``; the README's conformance section quotes it."""
    text = summary(list(outcomes.values()))
    print(text)
    assert sum(len(o.mismatches) for o in outcomes.values()) == 0
