"""eniflow.read on local files: formats, wrappers, compression, bad input, and the line account.

Record lines follow the AWS documentation examples (reference §2, §8, EX).
"""

from __future__ import annotations

import gzip
import os
import importlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import eniflow
from eniflow.errors import InputError, MalformedRecordError, UsageError

read_module = importlib.import_module("eniflow.read")  # the module (eniflow.read is the function)

V2_HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
SSH_ACCEPT = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
RDP_REJECT = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"
NODATA = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
SKIPDATA = "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA"
IPV6 = ("2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 "
        "2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK")
TCP_FLAGS_HEADER = ("version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport "
                    "pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status")
TCP_SYN = ("3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 "
           "IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK")

SSH_ROW = {"version": 2, "account_id": "123456789010", "interface_id": "eni-1235b8ca123456789",
           "srcaddr": "172.31.16.139", "dstaddr": "172.31.16.21", "srcport": 20641, "dstport": 22, "protocol": 6,
           "packets": 20, "bytes": 4249, "start": 1418530010, "end": 1418530070, "action": "ACCEPT", "log_status": "OK"}


def rows(flows, *cols):
    rel = flows.relation.select(", ".join(f'"{c}"' for c in cols)) if cols else flows.relation
    return [dict(zip(rel.columns, r)) for r in rel.fetchall()]


def write(path, *lines, newline_at_end=True):
    path.write_text("\n".join(lines) + ("\n" if newline_at_end else ""))
    return path


def test_default_format_with_header_gives_typed_columns_source_and_line(tmp_path):
    path = write(tmp_path / "a.log", V2_HEADER, SSH_ACCEPT, RDP_REJECT, NODATA)
    flows = eniflow.read(path)
    got = rows(flows)
    assert got[0] == {**SSH_ROW, "source": str(path), "line": 2}
    assert got[1]["action"] == "REJECT" and got[1]["line"] == 3
    assert got[2] == {"version": 2, "account_id": "123456789010", "interface_id": "eni-1235b8ca123456789",
                      "srcaddr": None, "dstaddr": None, "srcport": None, "dstport": None, "protocol": None,
                      "packets": None, "bytes": None, "start": 1431280876, "end": 1431280934, "action": None,
                      "log_status": "NODATA", "source": str(path), "line": 4}
    s = flows.stats
    assert (s.files, s.lines, s.headers, s.records, s.nodata, s.skipdata, s.malformed) == (1, 4, 1, 2, 1, 0, 0)
    types = dict(zip(flows.relation.columns, map(str, flows.relation.types)))
    assert types["srcport"] == "INTEGER" and types["bytes"] == "BIGINT" and types["account_id"] == "VARCHAR"
    assert flows.con.sql("select count(*) from flows").fetchall() == [(3,)]


@pytest.mark.parametrize("spec", [
    V2_HEADER,
    " ".join("${%s}" % n for n in V2_HEADER.split()),
    V2_HEADER.replace("-", "_"),
    V2_HEADER.split(),
])
def test_format_option_for_headerless_files_in_every_spelling(tmp_path, spec):
    path = write(tmp_path / "cwl.txt", SSH_ACCEPT)
    assert rows(eniflow.read(path, format=spec))[0] == {**SSH_ROW, "source": str(path), "line": 1}


def test_headerless_file_defaults_to_version_2_format(tmp_path):
    path = write(tmp_path / "plain", SSH_ACCEPT, IPV6, newline_at_end=False)
    got = rows(eniflow.read(path), "srcaddr", "dstport", "bytes", "line")
    assert got == [{"srcaddr": "172.31.16.139", "dstport": 22, "bytes": 4249, "line": 1},
                   {"srcaddr": "2001:db8:1234:a100:8d6e:3477:df66:f105", "dstport": 22, "bytes": 8855, "line": 2}]


def test_unknown_format_name_is_a_usage_error_naming_the_closest_field(tmp_path):
    with pytest.raises(UsageError, match=r"'pkt-srcadr' \(did you mean 'pkt-srcaddr'\?\)"):
        eniflow.read(write(tmp_path / "x", SSH_ACCEPT), format="version pkt-srcadr")


def test_tcp_flag_sequence_format_double_space_and_crlf(tmp_path):
    """The AWS TCP-flag example puts bytes before packets; one doc line has a double space."""
    double = TCP_SYN.replace("IPv4 ", "IPv4  ")
    path = tmp_path / "flags.log"
    path.write_bytes((TCP_FLAGS_HEADER + "\r\n" + TCP_SYN + "\r\n" + double + "\r\n").encode())
    flows = eniflow.read(path)
    got = rows(flows, "vpc_id", "type", "pkt_srcaddr", "bytes", "packets", "tcp_flags", "log_status", "line")
    expected = {"vpc_id": "vpc-abcdefab012345678", "type": "IPv4", "pkt_srcaddr": "52.213.180.42", "bytes": 568,
                "packets": 8, "tcp_flags": 2, "log_status": "OK"}
    assert got == [{**expected, "line": 2}, {**expected, "line": 3}]
    assert flows.stats.malformed == 0


def test_millisecond_epochs_become_seconds_and_nine_digit_epochs_stay(tmp_path):
    ms = "2 123456789010 eni-1 - - - - - - - 1512564058000 1512564118000 - SKIPDATA"
    nine = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 164000066 164000067 ACCEPT OK"
    got = rows(eniflow.read(write(tmp_path / "t.log", V2_HEADER, ms, nine)), "start", "end")
    assert got == [{"start": 1512564058, "end": 1512564118}, {"start": 164000066, "end": 164000067}]


def test_mid_file_header_starts_a_new_format_and_blank_lines_are_counted(tmp_path):
    short = "version srcaddr dstaddr action"
    path = write(tmp_path / "mixed.log", V2_HEADER, SSH_ACCEPT, "", short, "5 10.0.0.1 10.0.0.2 REJECT")
    flows = eniflow.read(path)
    assert rows(flows, "version", "srcaddr", "action", "packets", "line") == [
        {"version": 2, "srcaddr": "172.31.16.139", "action": "ACCEPT", "packets": 20, "line": 2},
        {"version": 5, "srcaddr": "10.0.0.1", "action": "REJECT", "packets": None, "line": 5},
    ]
    s = flows.stats
    assert (s.lines, s.headers, s.blank, s.records, s.malformed) == (5, 2, 1, 2, 0)


def test_malformed_lines_are_counted_with_place_and_reason_and_reading_goes_on(tmp_path):
    path = write(tmp_path / "bad.log", V2_HEADER, SSH_ACCEPT, "bogus line",
                 SSH_ACCEPT.replace(" 20641 ", " http "), RDP_REJECT)
    flows = eniflow.read(path)
    assert [r["line"] for r in rows(flows, "line")] == [2, 5]
    assert [(m.line, m.reason, m.text) for m in flows.stats.malformed_samples] == [
        (3, "expected 14 fields (the header on line 1), found 2", "bogus line"),
        (4, "field 'srcport' is not an integer: 'http'", SSH_ACCEPT.replace(" 20641 ", " http ")),
    ]
    assert str(flows.stats.malformed_samples[0]) == f"{path}:3: expected 14 fields (the header on line 1), found 2"
    with pytest.raises(MalformedRecordError, match=rf"{path}:3: expected 14 fields"):
        eniflow.read(path, strict=True)


def test_gzip_and_parquet_are_recognised_by_content_not_name(tmp_path):
    gz = tmp_path / "records.txt"
    gz.write_bytes(gzip.compress((V2_HEADER + "\n" + SSH_ACCEPT + "\n").encode()))
    table = pa.table({"version": pa.array([2], pa.int32()), "account_id": ["123456789010"],
                      "interface_id": ["eni-1235b8ca123456789"], "srcaddr": ["172.31.16.139"],
                      "dstaddr": ["172.31.16.21"], "srcport": pa.array([20641], pa.int32()),
                      "dstport": pa.array([22], pa.int32()), "protocol": pa.array([6], pa.int32()),
                      "packets": pa.array([20], pa.int64()), "bytes": pa.array([4249], pa.int64()),
                      "start": pa.array([1418530010], pa.int64()), "end": pa.array([1418530070], pa.int64()),
                      "action": ["ACCEPT"], "log_status": ["OK"]})
    pq.write_table(table, tmp_path / "aws.log.gz")  # a misleading name on purpose
    flows = eniflow.read([gz, tmp_path / "aws.log.gz"])
    got = rows(flows)
    assert got == [{**SSH_ROW, "source": str(gz), "line": 2},
                   {**SSH_ROW, "source": str(tmp_path / "aws.log.gz"), "line": 1}]


def test_parquet_with_string_typed_numbers_and_dashes(tmp_path):
    table = pa.table({"version": ["2"], "srcaddr": ["-"], "srcport": ["-"], "bytes": ["4249"], "log_status": ["NODATA"]})
    pq.write_table(table, tmp_path / "s.parquet")
    assert rows(eniflow.read(tmp_path / "s.parquet"), "version", "srcaddr", "srcport", "bytes", "log_status") == [
        {"version": 2, "srcaddr": None, "srcport": None, "bytes": 4249, "log_status": "NODATA"}]


def test_truncated_gzip_keeps_what_was_read_names_the_file_and_other_files_still_read(tmp_path, cli):
    body = (V2_HEADER + "\n" + "\n".join(SSH_ACCEPT.replace(" 4249 ", f" {i * 7919 % 100003} ")
                                          for i in range(2000)) + "\n").encode()
    compressed = gzip.compress(body)
    broken = tmp_path / "a_broken.log.gz"
    broken.write_bytes(compressed[: len(compressed) // 2])
    good = write(tmp_path / "b_good.log", V2_HEADER, RDP_REJECT)
    flows = eniflow.read([broken, good])
    assert len(flows.stats.errors) == 1
    assert flows.stats.errors[0].startswith(f"{broken}: the compressed data is truncated or corrupt")
    by_source = dict(flows.con.sql("select source, count(*) from flows group by source").fetchall())
    assert by_source[str(good)] == 1
    assert 0 < by_source[str(broken)] < 2000
    s = flows.stats
    assert s.lines == s.headers + s.blank + s.records + s.nodata + s.skipdata + s.malformed
    code, out, err = cli("read", broken, good, "-o", "csv")
    assert code == 1
    assert f"eniflow: error: {broken}: the compressed data is truncated" in err
    assert "Traceback" not in err


def test_empty_header_only_and_binary_garbage_files(tmp_path):
    (tmp_path / "empty.log").write_bytes(b"")
    write(tmp_path / "header.log", V2_HEADER)
    (tmp_path / "garbage.bin").write_bytes(bytes(range(256)) * 40)
    flows = eniflow.read(tmp_path)
    s = flows.stats
    assert (s.files, s.records, s.headers, s.errors) == (3, 0, 1, [])
    assert s.malformed == s.lines - s.headers - s.blank
    assert flows.count() == 0
    assert flows.columns[:3] == ["version", "account_id", "interface_id"]


ENIS = {"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1235b8ca123456789", "PrivateIpAddress": "172.31.16.139"}]}
PODS = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": [{"kind": "Pod", "metadata": {"name": "web", "namespace": "shop"}, "status": {"podIP": "10.0.1.9"}}]}


def test_an_inventory_given_as_flow_logs_is_one_malformed_entry_naming_the_fix(tmp_path, cli):
    """`eniflow resolve enis.json` instead of `--inventory enis.json`: one sentence for the document,
    all its lines still counted as malformed."""
    enis = tmp_path / "enis.json"
    enis.write_text(json.dumps(ENIS, indent=4) + "\n")  # as the AWS CLI prints it: 8 lines
    pods = write(tmp_path / "pods.json", json.dumps(PODS))  # one line
    merged = tmp_path / "inventory.json"
    assert cli("inventory", "merge", enis, pods, "--out", merged)[0] == 0
    other = write(tmp_path / "other.json", json.dumps({**PODS, "items": [{"kind": "Service"}]}))
    s = eniflow.read([enis, pods, merged, other]).stats
    assert [(m.source, m.line, m.reason, m.lines) for m in s.malformed_samples] == [
        (str(enis), 1, "this is 'aws ec2 describe-network-interfaces' output (an ENI inventory), not flow logs: "
                       "give it with --inventory", 8),
        (str(pods), 1, "this is a 'kubectl get pods -o json' listing (pod addresses), not flow logs: "
                       "give it with --inventory", 1),
        (str(merged), 1, "this is an eniflow inventory file (as 'eniflow inventory merge' writes), not flow logs: "
                         "give it with --inventory", 30),  # one fact and one interface, indented
        (str(other), 1, "JSON line holds no flow log record (no 'message', 'logEvents' or field names)", 1),
    ]
    assert s.malformed_samples[0].text == "{"
    assert (s.lines, s.records, s.malformed) == (40, 0, 40)
    with pytest.raises(MalformedRecordError, match=rf"{enis}:1: this is 'aws ec2 describe-network-interfaces' output"):
        eniflow.read(enis, strict=True)
    code, _, err = cli("resolve", enis, "-o", "csv")
    assert code == 0
    assert [line for line in err.splitlines() if line.startswith("malformed:")] == [
        f"malformed: {enis}:1: this is 'aws ec2 describe-network-interfaces' output (an ENI inventory), "
        "not flow logs: give it with --inventory"]
    assert "read 1 source, 8 lines, 0 records, 8 malformed" in err


def test_an_inventory_cut_short_given_as_flow_logs_still_names_the_fix(tmp_path):
    """A describe-network-interfaces file whose copy stopped half-way, given as a SOURCE: one
    sentence naming what it is and the fix, not a malformed line per line of JSON."""
    text = json.dumps({"NetworkInterfaces": [ENIS["NetworkInterfaces"][0]] * 3}, indent=4)
    cut = write(tmp_path / "enis.json", text[:len(text) // 2])
    s = eniflow.read(cut).stats
    assert [(m.source, m.line, m.reason, m.lines) for m in s.malformed_samples] == [
        (str(cut), 1, "this is 'aws ec2 describe-network-interfaces' output (an ENI inventory) cut short, not flow logs: "
                      "give the whole file with --inventory", 8)]
    assert (s.lines, s.records, s.malformed) == (8, 0, 8)  # the 8 lines up to the cut


def test_a_failure_handing_a_task_s_result_on_is_raised_not_lost():
    """The reading threads hand each task's records on in task order, on whichever thread finished
    the next one. An error there (a full disk, a broken progress display) ends the read with that
    error; on a reading thread it used to end just that thread, and the read returned without the
    records it held."""
    from eniflow.workers import run_in_workers

    def hand_on(result):
        raise OSError("No space left on device")

    for _ in range(20):  # whichever thread hands the first result on
        with pytest.raises(OSError, match="No space left on device"):
            run_in_workers(lambda task: task, range(8), (), 2, hand_on)


def test_the_error_raised_is_the_earliest_listed_task_s_not_the_first_in_time():
    """What one thread would have met: a slow task's error (a full disk) over the strict fault
    a later task met first; results of tasks after the failure are not handed on."""
    import time

    from eniflow.workers import run_in_workers

    def run(task):
        if task == 0:
            time.sleep(0.3)
            raise OSError("No space left on device")
        if task == 1:
            raise MalformedRecordError("b.log:2: expected 14 fields")
        return task

    for workers in (1, 3):
        handed = []
        with pytest.raises(OSError, match="No space left on device"):
            run_in_workers(run, range(6), (), workers, handed.append)
        assert handed == []


def test_json_wrapped_lines_cloudwatch_envelopes_and_export_prefixes(tmp_path):
    wrapped = write(tmp_path / "firehose.jsonl", json.dumps({"message": SSH_ACCEPT}), json.dumps({"message": RDP_REJECT}))
    envelope = tmp_path / "subscription.json"
    envelope.write_text(json.dumps({
        "messageType": "DATA_MESSAGE", "logGroup": "/vpc/flow", "logStream": "eni-1235b8ca123456789-all",
        "logEvents": [{"id": "1", "timestamp": 1418530010000, "message": SSH_ACCEPT},
                      {"id": "2", "timestamp": 1418530010000, "message": NODATA}]}, indent=2))
    export = write(tmp_path / "export.txt", "2014-12-14T04:06:50.000Z " + SSH_ACCEPT)
    flows = eniflow.read([wrapped, envelope, export])
    got = rows(flows, "source", "line", "srcaddr", "log_status")
    assert got == [
        {"source": str(wrapped), "line": 1, "srcaddr": "172.31.16.139", "log_status": "OK"},
        {"source": str(wrapped), "line": 2, "srcaddr": "172.31.9.69", "log_status": "OK"},
        {"source": str(envelope), "line": 1, "srcaddr": "172.31.16.139", "log_status": "OK"},
        {"source": str(envelope), "line": 2, "srcaddr": None, "log_status": "NODATA"},
        {"source": str(export), "line": 1, "srcaddr": "172.31.16.139", "log_status": "OK"},
    ]
    assert flows.stats.malformed == 0


def test_json_object_records_with_snake_case_keys_and_floats(tmp_path):
    record = {"version": 2, "account_id": "123456789010", "interface_id": "eni-1", "srcaddr": "10.0.0.1",
              "dstaddr": "10.0.0.2", "srcport": 8080.0, "dstport": 443.0, "protocol": 6.0, "packets": 3.0,
              "bytes": 25238.0, "start": 1418530010, "end": 1418530070, "action": "ACCEPT", "log_status": "OK",
              "traffic_path": None}
    flows = eniflow.read(write(tmp_path / "structured.jsonl", json.dumps(record)))
    got = rows(flows, "srcport", "bytes", "protocol", "traffic_path", "line")
    assert got == [{"srcport": 8080, "bytes": 25238, "protocol": 6, "traffic_path": None, "line": 1}]


def test_unknown_header_field_is_read_as_text_with_a_warning(tmp_path):
    path = write(tmp_path / "new.log", "version srcaddr next-hop-type", "2 10.0.0.1 igw")
    flows = eniflow.read(path)
    assert rows(flows, "version", "srcaddr", "next_hop_type") == [{"version": 2, "srcaddr": "10.0.0.1", "next_hop_type": "igw"}]
    assert flows.stats.warnings == [f"{path}:1: unknown field name(s) next-hop-type read as text columns"]


def test_directories_recurse_globs_expand_and_missing_paths_fail_clearly(tmp_path):
    (tmp_path / "d" / "2026" / "11").mkdir(parents=True)
    write(tmp_path / "d" / "2026" / "11" / "a.log", V2_HEADER, SSH_ACCEPT)
    write(tmp_path / "d" / "b.log", V2_HEADER, RDP_REJECT)
    assert [r["action"] for r in rows(eniflow.read(tmp_path / "d"), "action")] == ["ACCEPT", "REJECT"]
    assert eniflow.read(str(tmp_path / "d" / "**" / "*.log")).count() == 2
    with pytest.raises(InputError, match="no such file or directory"):
        eniflow.read(tmp_path / "nope.log")


def test_since_and_until_keep_records_whose_time_range_meets_the_window(tmp_path):
    early = SSH_ACCEPT
    late = RDP_REJECT.replace("1418530010 1418530070", "1418540000 1418540060")
    path = write(tmp_path / "t.log", V2_HEADER, early, late)
    assert [r["action"] for r in rows(eniflow.read(path, since=1418530060), "action")] == ["ACCEPT", "REJECT"]
    assert [r["action"] for r in rows(eniflow.read(path, since="2014-12-14T04:10:00Z"), "action")] == ["REJECT"]
    assert [r["action"] for r in rows(eniflow.read(path, until=1418540000), "action")] == ["ACCEPT"]


def test_one_odd_line_in_a_large_file_gives_the_same_records_as_the_fast_path(tmp_path, monkeypatch):
    lines = [SSH_ACCEPT.replace(" 20641 ", f" {1024 + i} ") for i in range(3000)]
    clean = write(tmp_path / "clean.log", V2_HEADER, *lines)
    odd = write(tmp_path / "odd.log", V2_HEADER, *lines[:1500], lines[1500].replace(" 22 ", "  22 "), *lines[1501:])
    monkeypatch.setattr("eniflow.parse.CHUNK_BYTES", 64 << 10)  # many chunks: only one goes the slow way
    a = eniflow.read(clean).relation.select("* EXCLUDE (source)").fetchall()
    b = eniflow.read(odd).relation.select("* EXCLUDE (source)").fetchall()
    assert a == b and len(a) == 3000


def test_two_reading_threads_give_the_same_result_as_one(tmp_path, monkeypatch):
    for i in range(4):
        (tmp_path / f"f{i}.log.gz").write_bytes(gzip.compress(
            (V2_HEADER + "\n" + "\n".join(SSH_ACCEPT.replace(" 20641 ", f" {i * 100 + j} ") for j in range(50)) + "\n").encode()))
    serial = eniflow.read(tmp_path, workers=1).relation.fetchall()
    monkeypatch.setattr(read_module, "TASK_BYTES", 1)
    parallel = eniflow.read(tmp_path, workers=2)
    assert parallel.relation.fetchall() == serial and len(serial) == 200
    assert parallel.stats.files == 4 and parallel.stats.records == 200


BAD_PORT = SSH_ACCEPT.replace(" 20641 ", " http ")
FAULTS = {"http": "field 'srcport' is not an integer: 'http'",  # a line's text -> its reason
          "bogus": "expected 14 fields (the header on line 1), found 1",
          "{": "line starts with '{' but is not valid JSON"}


def _faulty_log(path, records, faults, compress=False):
    """A version-2 log: a header, then ``records`` records, the lines in ``faults`` (line -> text) replaced."""
    lines = [V2_HEADER] + [SSH_ACCEPT] * records
    for line, text in faults.items():
        lines[line - 1] = text
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data, 1) if compress else data)
    return path


def _samples(flows):
    return [(os.path.basename(m.source), m.line, m.reason) for m in flows.stats.malformed_samples]


def test_malformed_samples_are_in_source_and_line_order_across_chunks_files_and_threads(tmp_path, monkeypatch):
    """A chunk finds its malformed lines by kind of fault (JSON, field count, integer), not in
    line order; the samples are still listed by source as given, then by line."""
    monkeypatch.setattr("eniflow.parse.CHUNK_BYTES", 64 << 10)  # about 550 lines a chunk: 6 chunks a file
    monkeypatch.setattr(read_module, "TASK_BYTES", 1)  # a task per file, parsed side by side
    faults = {10: BAD_PORT, 11: "bogus", 12: "{", 1500: BAD_PORT, 1502: "{", 2900: BAD_PORT, 2901: "bogus"}
    first = _faulty_log(tmp_path / "z.log.gz", 3000, faults, compress=True)
    second = _faulty_log(tmp_path / "a.log", 3000, {k + 3: v for k, v in faults.items()})
    expected = [("z.log.gz", 10, FAULTS["http"]), ("z.log.gz", 11, FAULTS["bogus"]), ("z.log.gz", 12, FAULTS["{"]),
                ("z.log.gz", 1500, FAULTS["http"]), ("z.log.gz", 1502, FAULTS["{"]),
                ("z.log.gz", 2900, FAULTS["http"]), ("z.log.gz", 2901, FAULTS["bogus"]),
                ("a.log", 13, FAULTS["http"]), ("a.log", 14, FAULTS["bogus"]), ("a.log", 15, FAULTS["{"]),
                ("a.log", 1503, FAULTS["http"]), ("a.log", 1505, FAULTS["{"]),
                ("a.log", 2903, FAULTS["http"]), ("a.log", 2904, FAULTS["bogus"])]
    for workers in (1, 3):
        flows = eniflow.read([first, second], workers=workers)
        assert _samples(flows) == expected
        assert (flows.stats.malformed, flows.stats.records) == (14, 2 * 3000 - 14)


def test_the_malformed_samples_are_the_first_lines_however_a_chunk_finds_them(tmp_path, cli):
    """With more malformed lines than are kept, the kept ones are the first in line order,
    even when lines of another fault come later in the same chunk and are found first."""
    from eniflow.parse import MALFORMED_KEPT

    first = _faulty_log(tmp_path / "first.log", MALFORMED_KEPT + 3,
                        {2: BAD_PORT, 3: BAD_PORT, **{line: "bogus" for line in range(4, MALFORMED_KEPT + 4)}})
    second = _faulty_log(tmp_path / "second.log", 2, {2: "bogus"})
    for workers in (1, 2):
        flows = eniflow.read([first, second], workers=workers)
        assert _samples(flows) == [("first.log", 2, FAULTS["http"]), ("first.log", 3, FAULTS["http"])] + [
            ("first.log", line, FAULTS["bogus"]) for line in range(4, MALFORMED_KEPT + 2)]
        assert flows.stats.malformed == MALFORMED_KEPT + 3
        assert flows.stats.malformed_beyond(flows.stats.malformed_samples) == 3
    code, _, err = cli("read", first, second, "-o", "csv")
    assert code == 0
    assert [line for line in err.splitlines() if line.startswith("malformed:")] == [
        f"malformed: {first}:2: {FAULTS['http']}", f"malformed: {first}:3: {FAULTS['http']}",
        f"malformed: {first}:4: {FAULTS['bogus']}", f"malformed: {first}:5: {FAULTS['bogus']}",
        f"malformed: {first}:6: {FAULTS['bogus']}",
        f"malformed: … {MALFORMED_KEPT + 3 - 5} more (use --strict to stop at the first)"]


STRICT_ADVICE = " (--strict stops at the first malformed line; drop --strict to count and skip such lines)."
JSON_RECORD_BAD_PORT = json.dumps({**SSH_ROW, "srcport": "http"})  # typed while the JSON lines are unwrapped


def test_strict_names_the_first_malformed_line_not_the_first_one_a_check_finds(tmp_path, cli):
    """A chunk is checked for one kind of fault after another (JSON, field count, integer);
    --strict stops at the earliest malformed line of them all, here a bad integer before a
    short line and a bad JSON line."""
    path = _faulty_log(tmp_path / "f.log", 5, {3: BAD_PORT, 5: "bogus", 6: "{"})
    with pytest.raises(MalformedRecordError) as caught:
        eniflow.read(path, strict=True, workers=1)
    assert str(caught.value) == f"{path}:3: {FAULTS['http']}{STRICT_ADVICE}"
    assert (caught.value.source, caught.value.line) == (str(path), 3)
    code, out, err = cli("read", path, "--strict")
    assert (code, out, err.strip()) == (1, "", f"eniflow: error: {path}:3: {FAULTS['http']}{STRICT_ADVICE}")


@pytest.mark.parametrize("faults, first", [
    ({3: "bogus", 4: "{", 6: BAD_PORT}, (3, FAULTS["bogus"])),  # a bad JSON line after a short line
    ({3: BAD_PORT, 4: "{"}, (3, FAULTS["http"])),
    ({3: "bogus", 4: JSON_RECORD_BAD_PORT}, (3, FAULTS["bogus"])),
])
def test_strict_names_the_first_malformed_line_in_any_order_of_faults(tmp_path, faults, first):
    path = _faulty_log(tmp_path / "f.log", 6, faults)
    with pytest.raises(MalformedRecordError) as caught:
        eniflow.read(path, strict=True, workers=1)
    assert str(caught.value) == f"{path}:{first[0]}: {first[1]}{STRICT_ADVICE}"


@pytest.mark.parametrize("compress", [False, True])
def test_strict_names_the_first_malformed_line_of_a_later_chunk(tmp_path, monkeypatch, compress):
    monkeypatch.setattr("eniflow.parse.CHUNK_BYTES", 64 << 10)  # about 550 lines a chunk: the faults are in the second
    path = _faulty_log(tmp_path / "f.log", 900, {897: BAD_PORT, 899: "bogus", 900: "{"}, compress=compress)
    with pytest.raises(MalformedRecordError) as caught:
        eniflow.read(path, strict=True, workers=1)
    assert str(caught.value) == f"{path}:897: {FAULTS['http']}{STRICT_ADVICE}"


def test_strict_names_the_first_malformed_line_in_the_order_the_sources_are_given(tmp_path, monkeypatch):
    """Sources are parsed side by side; --strict still names the first malformed line of the
    first source that has one, whichever thread finds a fault first: here the second file,
    tiny, fails long before the end of the first, a few MB, is reached."""
    monkeypatch.setattr(read_module, "TASK_BYTES", 1)  # a task per file, parsed side by side
    first = _faulty_log(tmp_path / "a.log", 50_000, {50_001: BAD_PORT})
    second = _faulty_log(tmp_path / "b.log", 2, {2: "bogus"})
    for workers in (1, 3):
        with pytest.raises(MalformedRecordError) as caught:
            eniflow.read([first, second], strict=True, workers=workers)
        assert str(caught.value) == f"{first}:50001: {FAULTS['http']}{STRICT_ADVICE}", workers
        assert (caught.value.source, caught.value.line) == (str(first), 50_001)


def test_strict_names_the_first_malformed_event_of_a_json_document(tmp_path):
    """A whole-file document of subscription envelopes is checked in the same passes as text."""
    path = tmp_path / "firehose.json"
    path.write_text(json.dumps({"messageType": "DATA_MESSAGE", "logEvents": [
        {"id": str(i), "message": message} for i, message in enumerate([SSH_ACCEPT, BAD_PORT, "bogus", "{"])]}))
    with pytest.raises(MalformedRecordError) as caught:
        eniflow.read(path, strict=True, workers=1)
    assert str(caught.value) == f"{path}:2: {FAULTS['http']}{STRICT_ADVICE}"


def test_cli_read_formats_stdin_and_summary(tmp_path, cli, monkeypatch):
    path = write(tmp_path / "a.log", V2_HEADER, SSH_ACCEPT, NODATA)
    code, out, err = cli("read", path, "-o", "jsonl")
    assert code == 0
    assert json.loads(out.splitlines()[0]) == {**SSH_ROW, "source": str(path), "line": 2}
    assert "read 1 source, 3 lines, 1 records, 1 nodata, 1 headers" in err
    code, out, _ = cli("read", path, "-o", "csv", "--limit", "1")
    assert out.splitlines() == [V2_HEADER.replace("-", "_").replace(" ", ",") + ",source,line",
                                SSH_ACCEPT.replace(" ", ",") + f",{path},2"]
    code, _, _ = cli("read", path, "-o", "parquet", "--out", tmp_path / "o.parquet")
    assert code == 0 and pq.read_table(tmp_path / "o.parquet").num_rows == 2
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((SSH_ACCEPT + "\n").encode())))
    code, out, _ = cli("read", "-", "-o", "jsonl")
    assert json.loads(out) == {**SSH_ROW, "source": "-", "line": 1}


def test_cli_errors_are_one_sentence_with_exit_codes(tmp_path, cli):
    code, _, err = cli("read", tmp_path / "missing.log")
    assert (code, err.strip()) == (1, f"eniflow: error: {tmp_path / 'missing.log'}: no such file or directory.")
    code, _, err = cli("read", write(tmp_path / "a", SSH_ACCEPT), "--format", "version srcadr")
    assert code == 2 and "did you mean 'srcaddr'" in err
    code, _, err = cli("read", write(tmp_path / "b", V2_HEADER, "x"), "--strict")
    assert code == 1 and f"{tmp_path / 'b'}:2: expected 14 fields" in err
    for output in ("parquet", "csv"):
        code, _, err = cli("read", tmp_path / "a", "-o", output, "--out", tmp_path / "no" / "out")
        assert (code, err.strip()) == (1, f"eniflow: error: {tmp_path / 'no' / 'out'}: cannot write the output "
                                          "(No such file or directory); check that its directory exists and is writable.")


def test_wrapped_json_records_control_messages_and_per_line_envelopes(tmp_path):
    """Firehose can deliver one subscription envelope per line; CloudWatch also sends health-check
    CONTROL_MESSAGE envelopes, and a message may itself be a JSON-object record."""
    envelope = {"messageType": "DATA_MESSAGE", "logGroup": "g", "logStream": "s",
                "logEvents": [{"id": "1", "message": SSH_ACCEPT}, {"id": "2", "message": RDP_REJECT}]}
    control = {"messageType": "CONTROL_MESSAGE", "logGroup": "", "logStream": "",
               "logEvents": [{"id": "", "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
    inner = json.dumps({"version": 2, "srcaddr": "10.0.0.9", "dstport": 443.0, "log_status": "OK"})
    path = write(tmp_path / "firehose.jsonl", json.dumps(envelope), json.dumps(control), json.dumps({"message": inner}))
    flows = eniflow.read(path)
    # Behind a text line, the same envelopes are numbered by the line they stand on.
    mixed = write(tmp_path / "mixed.log", SSH_ACCEPT, json.dumps(envelope), json.dumps(control))
    m = eniflow.read(mixed)
    assert sorted(r["line"] for r in rows(m, "line")) == [1, 2, 2]
    assert (m.stats.lines, m.stats.blank, m.stats.records) == (4, 1, 3)
    # A file of JSON documents is numbered by event (as a Firehose object of concatenated envelopes must be).
    assert sorted(rows(flows, "line", "srcaddr", "dstport"), key=lambda r: r["line"]) == [
        {"line": 1, "srcaddr": "172.31.16.139", "dstport": 22},
        {"line": 2, "srcaddr": "172.31.9.69", "dstport": 3389},
        {"line": 3, "srcaddr": "10.0.0.9", "dstport": 443},
    ]
    s = flows.stats
    assert (s.lines, s.blank, s.records, s.malformed) == (3, 0, 3, 0)
    assert s.lines == s.headers + s.blank + s.records + s.nodata + s.skipdata + s.malformed


def test_parquet_text_numbers_written_as_none_by_pandas_are_absent(tmp_path):
    pq.write_table(pa.table({"srcport": ["None", "443"], "bytes": ["nan", "12"]}), tmp_path / "p.parquet")
    flows = eniflow.read(tmp_path / "p.parquet")
    assert rows(flows, "srcport", "bytes") == [{"srcport": None, "bytes": None}, {"srcport": 443, "bytes": 12}]
    assert flows.stats.malformed == 0


def test_tgw_format_preset_names_all_36_transit_gateway_fields(tmp_path):
    from eniflow.fields import TGW_DEFAULT_FORMAT

    values = ["-"] * 36
    values[0], values[3], values[16], values[25] = "6", "tgw-0123", "10.0.0.1", "OK"
    flows = eniflow.read(write(tmp_path / "tgw.log", " ".join(values)), format="tgw")
    assert len(TGW_DEFAULT_FORMAT) == 36
    assert rows(flows, "version", "tgw_id", "srcaddr", "log_status", "packets_lost_no_route") == [
        {"version": 6, "tgw_id": "tgw-0123", "srcaddr": "10.0.0.1", "log_status": "OK", "packets_lost_no_route": None}]


def test_byte_order_mark_and_a_repeated_header_field(tmp_path):
    """Windows editors put a BOM before the header; a hand-edited header may name a field twice."""
    bom = tmp_path / "bom.log"
    bom.write_bytes(b"\xef\xbb\xbf" + (V2_HEADER + "\n" + SSH_ACCEPT + "\n").encode())
    assert rows(eniflow.read(bom), "srcaddr", "line") == [{"srcaddr": "172.31.16.139", "line": 2}]
    dup = write(tmp_path / "dup.log", "version srcaddr srcaddr", "2 10.0.0.1 10.0.0.2")
    assert rows(eniflow.read(dup), "version", "srcaddr", "srcaddr_2") == [
        {"version": 2, "srcaddr": "10.0.0.1", "srcaddr_2": "10.0.0.2"}]


def test_eniflow_parquet_output_reads_back_with_fresh_provenance(tmp_path, cli):
    path = write(tmp_path / "a.log", V2_HEADER, SSH_ACCEPT)
    assert cli("read", path, "-o", "parquet", "--out", tmp_path / "out.parquet")[0] == 0
    again = eniflow.read(tmp_path / "out.parquet")
    assert rows(again) == [{**SSH_ROW, "source": str(tmp_path / "out.parquet"), "line": 1}]
    assert again.stats.warnings == [f"{tmp_path / 'out.parquet'}: column(s) source, line ignored; "
                                    "eniflow sets source and line itself"]


def _gzip_logs(folder, files, records):
    """``files`` gzip logs of ``records`` SSH records each, every record's srcport unique."""
    folder.mkdir(exist_ok=True)
    for i in range(files):
        body = "\n".join(SSH_ACCEPT.replace(" 20641 ", f" {i * records + j} ") for j in range(records))
        (folder / f"f{i:02d}.log.gz").write_bytes(gzip.compress((V2_HEADER + "\n" + body + "\n").encode()))
    return folder


def test_parquet_output_copies_the_spooled_parts_in_source_and_line_order(tmp_path, cli, monkeypatch):
    """Many parts from both threads: the output holds their row groups in order, typed as
    DuckDB writes the same records (the --limit path)."""
    logs = _gzip_logs(tmp_path / "logs", 6, 400)
    monkeypatch.setattr(read_module, "TASK_BYTES", 1)
    assert len(eniflow.read(logs, compact=True).files) == 6  # a part per file: one task each
    assert cli("read", logs, "-o", "parquet", "--out", tmp_path / "copied.parquet")[0] == 0
    assert cli("read", logs, "-o", "parquet", "--out", tmp_path / "duckdb.parquet", "--limit", "10000")[0] == 0
    copied, encoded = pq.read_table(tmp_path / "copied.parquet"), pq.read_table(tmp_path / "duckdb.parquet")
    assert copied.schema == encoded.schema and copied.equals(encoded)
    assert copied.column("srcport").to_pylist() == list(range(2400))
    assert copied.column("line").to_pylist() == list(range(2, 402)) * 6
    assert copied.column("source").to_pylist() == [str(logs / f"f{i:02d}.log.gz") for i in range(6) for _ in range(400)]
    assert pq.ParquetFile(tmp_path / "copied.parquet").metadata.num_row_groups == 6
    assert copied.schema.field("source").type == pa.string() and copied.schema.field("srcport").type == pa.int32()
    con = eniflow.read(logs).con
    assert con.sql(f"select count(*), sum(srcport), min(line) from '{tmp_path / 'copied.parquet'}' "
                   "where srcport >= 2000").fetchall() == [(400, sum(range(2000, 2400)), 2)]


def test_parquet_output_is_snappy_unless_zstd_is_asked_for(tmp_path, cli):
    """Copied parts and DuckDB's writing (--limit) use the same codec: snappy by default, zstd
    with --compression zstd; another name is refused in one sentence."""
    logs = _gzip_logs(tmp_path / "logs", 2, 300)
    for codec, extra in [("SNAPPY", []), ("ZSTD", ["--compression", "zstd"])]:
        for limit in ([], ["--limit", "500"]):
            out = tmp_path / f"{codec}{len(limit)}.parquet"
            assert cli("read", logs, "-o", "parquet", "--out", out, *extra, *limit)[0] == 0
            meta = pq.ParquetFile(out).metadata
            assert meta.num_rows == (500 if limit else 600)
            assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {codec}
    code, _, err = cli("read", logs, "-o", "parquet", "--out", tmp_path / "x.parquet", "--compression", "gzip")
    assert code == 2 and "unknown Parquet compression 'gzip'; choose snappy or zstd." in err


def test_every_command_writes_parquet_with_the_same_default_codec(tmp_path, cli):
    """resolve, top and the other commands' -o parquet (written by DuckDB) are snappy like read's."""
    logs = _gzip_logs(tmp_path / "logs", 1, 50)
    for command in ("resolve", "top"):
        out = tmp_path / f"{command}.parquet"
        assert cli(command, logs, "-o", "parquet", "--out", out)[0] == 0
        meta = pq.ParquetFile(out).metadata
        assert meta.num_rows == len(cli(command, logs, "-o", "jsonl")[1].splitlines()) == (50 if command == "resolve" else 1)
        assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"SNAPPY"}


def test_parquet_output_of_several_formats_or_a_time_window_is_written_by_duckdb(tmp_path, cli):
    late = RDP_REJECT.replace("1418530010 1418530070", "1418540000 1418540060")
    write(tmp_path / "a.log", V2_HEADER, SSH_ACCEPT, late)
    write(tmp_path / "b.log", "version srcaddr action", "5 10.0.0.1 REJECT")
    write(tmp_path / "c.log", V2_HEADER, NODATA)
    assert eniflow.read(tmp_path).files is None and eniflow.read(tmp_path / "a.log", since=1418540000).files is None
    assert len(eniflow.read(tmp_path / "a.log", compact=True).files) == 1
    assert cli("read", tmp_path, "-o", "parquet", "--out", tmp_path / "mixed.parquet")[0] == 0
    got = pq.read_table(tmp_path / "mixed.parquet").select(["version", "srcaddr", "packets", "line"]).to_pylist()
    assert got == [{"version": 2, "srcaddr": "172.31.16.139", "packets": 20, "line": 2},
                   {"version": 2, "srcaddr": "172.31.9.69", "packets": 20, "line": 3},
                   {"version": 5, "srcaddr": "10.0.0.1", "packets": None, "line": 2},
                   {"version": 2, "srcaddr": None, "packets": None, "line": 2}]
    assert cli("read", tmp_path / "a.log", "--since", "1418540000", "-o", "parquet", "--out", tmp_path / "w.parquet")[0] == 0
    assert pq.read_table(tmp_path / "w.parquet").column("line").to_pylist() == [3]


def test_listing_is_parsed_as_it_goes_and_its_warnings_are_kept(tmp_path, monkeypatch):
    """Tasks start before the listing ends, so a million listed objects are never held at once."""
    import warnings

    from eniflow.sources.local import FileItem

    paths = [write(tmp_path / f"{i}.log", V2_HEADER, SSH_ACCEPT) for i in range(4)]
    events = []

    def listing(spec, ctx):
        for path in paths:
            events.append(f"listed {path.name}")
            if path.name == "2.log":
                warnings.warn("listing is slow today")
            yield FileItem(str(path), 1)

    real_parse = read_module.parse_source

    def parse(raw, source, *args, **kwargs):
        events.append(f"parsed {source.rsplit('/', 1)[-1]}")
        return real_parse(raw, source, *args, **kwargs)

    monkeypatch.setattr(read_module, "expand", listing)
    monkeypatch.setattr(read_module, "parse_source", parse)
    monkeypatch.setattr(read_module, "TASK_BYTES", 1)
    flows = eniflow.read("anything", workers=1)
    assert events == [e for i in range(4) for e in (f"listed {i}.log", f"parsed {i}.log")]
    assert flows.count() == 4 and flows.stats.warnings == ["listing is slow today"]


def test_errors_in_a_parallel_read_stop_it_with_the_first_error(tmp_path, monkeypatch):
    logs = _gzip_logs(tmp_path / "logs", 4, 50)
    (logs / "f02.log.gz").write_bytes(gzip.compress((V2_HEADER + "\n" + SSH_ACCEPT + "\nbogus\n").encode()))
    monkeypatch.setattr(read_module, "TASK_BYTES", 1)
    with pytest.raises(MalformedRecordError, match=rf"{logs / 'f02.log.gz'}:3: expected 14 fields"):
        eniflow.read(logs, strict=True, workers=2)
    with pytest.raises(InputError, match=f"{tmp_path / 'missing'}: no such file or directory"):
        eniflow.read([logs, tmp_path / "missing"], workers=2)


def test_spooled_parts_join_into_a_stream_without_a_file_descriptor(tmp_path):
    from eniflow.parquet_concat import concat_parquet

    flows = eniflow.read(_gzip_logs(tmp_path / "logs", 3, 100), compact=True)
    target = io.BytesIO()
    assert concat_parquet(flows.files, target) == 300
    assert pq.read_table(io.BytesIO(target.getvalue())).to_pylist() == rows(flows)


def test_parquet_files_of_different_schemas_are_not_joined(tmp_path):
    from eniflow.parquet_concat import concat_parquet

    pq.write_table(pa.table({"a": [1]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"b": ["x"]}), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="b.parquet: a different schema; only files of one schema are joined"):
        concat_parquet([str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")], io.BytesIO())


def _distinct_lines(n):
    return [SSH_ACCEPT.replace(" 20641 ", f" {i % 60000} ").replace(" 4249 ", f" {i} ") for i in range(n)]


def test_corrupt_gzip_keeps_every_record_before_the_damage(tmp_path):
    """A delivered object decompresses in one call; at damage it is decoded again in small
    steps, so what comes before the damage is still read."""
    lines = _distinct_lines(30_000)
    data = bytearray(gzip.compress((V2_HEADER + "\n" + "\n".join(lines) + "\n").encode()))
    middle = len(data) // 2
    data[middle:middle + 64] = b"\xff" * 64
    (tmp_path / "damaged.log.gz").write_bytes(bytes(data))
    flows = eniflow.read(tmp_path / "damaged.log.gz")
    assert len(flows.stats.errors) == 1 and "truncated or corrupt" in flows.stats.errors[0]
    kept = flows.relation.select("bytes, line").fetchall()
    assert 10_000 < len(kept) < 30_000  # about half the lines lie before the damage
    assert kept[:len(kept) - 1] == [(i, i + 2) for i in range(len(kept) - 1)]  # every one of them, in order
    s = flows.stats
    assert s.lines == s.headers + s.blank + s.records + s.nodata + s.skipdata + s.malformed


def test_gzip_members_padding_and_blocks_larger_than_a_chunk(tmp_path, monkeypatch):
    """Highly compressed text decompresses a chunk at a time (never a block beyond one chunk),
    members follow one another and NUL padding after the last one is ignored."""
    monkeypatch.setattr("eniflow.parse.CHUNK_BYTES", 64 << 10)
    first = (V2_HEADER + "\n" + "\n".join([SSH_ACCEPT] * 20_000) + "\n").encode()  # 2.6 MB in a few kB
    second = ("\n".join([RDP_REJECT] * 5_000) + "\n").encode()
    (tmp_path / "members.log.gz").write_bytes(gzip.compress(first) + gzip.compress(second) + b"\0" * 512)
    flows = eniflow.read(tmp_path / "members.log.gz")
    assert flows.stats.errors == [] and flows.stats.records == 25_000 and flows.stats.malformed == 0
    got = flows.con.sql("select action, count(*), min(line), max(line) from flows group by action order by 1").fetchall()
    assert got == [("ACCEPT", 20_000, 2, 20_001), ("REJECT", 5_000, 20_002, 25_001)]


def test_small_sources_share_row_groups_and_a_new_format_starts_a_part(tmp_path, monkeypatch):
    """The spool holds one part per run of one schema in a task and row groups of about
    ROW_GROUP_ROWS rows, whatever the number of sources; each row keeps its source and line."""
    for i in range(6):
        if i == 3:
            write(tmp_path / f"{i}.log", "version srcaddr action", "5 10.0.0.1 REJECT")
        else:
            write(tmp_path / f"{i}.log", V2_HEADER, *[SSH_ACCEPT.replace(" 20641 ", f" {i * 10 + j} ") for j in range(5)])
    monkeypatch.setattr(read_module, "ROW_GROUP_ROWS", 8)
    flows = eniflow.read(tmp_path, compact=True)
    assert flows.files is None  # two formats: DuckDB writes Parquet output
    got = flows.relation.select("source, line, srcport").fetchall()
    assert got == [(str(tmp_path / f"{i}.log"), j + 2, i * 10 + j) for i in range(3) for j in range(5)] + \
        [(str(tmp_path / "3.log"), 2, None)] + \
        [(str(tmp_path / f"{i}.log"), j + 2, i * 10 + j) for i in range(4, 6) for j in range(5)]
    spooled = sorted(os.path.join(flows.spool, f) for f in os.listdir(flows.spool))
    groups = sorted(pq.ParquetFile(p).metadata.num_row_groups for p in spooled)
    assert groups == [1, 1, 2]  # a group ends once it holds 8 rows or more: 10 + 5 rows, 1 row, 10 rows
    for path in spooled:
        assert pq.ParquetFile(path).schema_arrow.field("source").type == pa.string()


def test_tiny_sources_end_a_row_group_after_waiting_tables_of_them(tmp_path, monkeypatch):
    """Each waiting table costs native memory however few its rows, so one-record sources
    end a row group every WAITING_TABLES of them (memory flat in their number) and every row
    keeps its source and line."""
    for i in range(10):
        write(tmp_path / f"{i:02}.log", V2_HEADER, SSH_ACCEPT.replace(" 20641 ", f" {i} "))
    monkeypatch.setattr(read_module, "WAITING_TABLES", 4)
    flows = eniflow.read(tmp_path)
    assert flows.relation.select("source, line, srcport").fetchall() == [
        (str(tmp_path / f"{i:02}.log"), 2, i) for i in range(10)]
    (part,) = flows.files
    meta = pq.ParquetFile(part).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [4, 4, 2]


def test_the_package_and_the_parser_import_only_what_they_use():
    """``import eniflow`` loads nothing heavy; importing eniflow.read (to parse and spool)
    loads no DuckDB; the exports named like their modules stay functions."""
    import subprocess
    import sys

    code = ("import importlib, sys, eniflow\n"
            "assert not {'duckdb', 'polars', 'sqlglot'} & set(sys.modules), sorted(sys.modules)\n"
            "importlib.import_module('eniflow.read')\n"
            "assert 'duckdb' not in sys.modules\n"
            "import eniflow.read, eniflow.resolve, eniflow.simulate.run, eniflow.report\n"
            "assert all(callable(f) and f.__name__ == n for f, n in [(eniflow.read, 'read'), (eniflow.resolve, 'resolve'),"
            " (eniflow.simulate, 'simulate'), (eniflow.report, 'report')])\n"
            "assert eniflow.Flows.__module__ == 'eniflow.read' and eniflow.top.__name__ == 'top'\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", [["resolve", "-o", "csv"], ["top", "--by", "src_ip", "-o", "csv"],
                                     ["flows", "--ip", "172.31.9.69", "-o", "csv"]])
def test_every_command_that_reads_exits_1_after_its_output_when_a_source_is_unreadable(tmp_path, cli, command):
    compressed = gzip.compress((V2_HEADER + "\n" + SSH_ACCEPT + "\n").encode() * 50)
    broken = tmp_path / "a_broken.log.gz"
    broken.write_bytes(compressed[: len(compressed) // 2])
    good = write(tmp_path / "b_good.log", V2_HEADER, RDP_REJECT)
    code, out, err = cli(command[0], broken, good, *command[1:])
    assert code == 1
    assert f"eniflow: error: {broken}: the compressed data is truncated" in err
    assert out.count("\n") >= 2 and "Traceback" not in err  # the CSV header and rows were still written
