"""Faults: damaged files and misbehaving AWS, each with its exact outcome and the records lost.

AWS faults are injected by tests/faultproxy.py, a proxy on loopback in front of the moto
server: throttling answers, connection resets and truncated bodies, objects deleted between
listing and fetching, objects changed between two reads, denied and expired credentials,
pagination tokens that repeat.
"""

from __future__ import annotations

import gzip
import io
import re
import time
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faultproxy import CWL_THROTTLING, S3_SLOWDOWN, FaultProxy, json_error, s3_error

import eniflow
from eniflow.aws import AwsOptions
from eniflow.errors import AwsAccessDenied, AwsError
from eniflow.sources.s3 import RESUMES

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
BUCKET = "flow-logs"
GROUP = "/aws/vpc/flowlogs"
NOW = int(time.time()) // 60 * 60  # CloudWatch Logs takes events of the last 14 days only


def record(i: int, start: int = 1_700_000_000) -> str:
    return f"2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.10 10.0.2.{i % 250} {40000 + i} 443 6 1 {100 + i} {start} {start + 59} ACCEPT OK"


def log_text(n: int, first: int = 0) -> bytes:
    return (HEADER + "\n" + "".join(record(first + i) + "\n" for i in range(n))).encode()


@pytest.fixture
def proxy(aws):
    p = FaultProxy(aws.endpoint_url)
    yield p
    p.close()


@pytest.fixture
def via(proxy):
    """AwsOptions that reach moto through the fault proxy."""
    return AwsOptions(region="us-east-1", endpoint_url=proxy.url)


@pytest.fixture
def bucket(aws):
    """A bucket with three flow log objects of 100 records each; returns their keys."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    keys = [f"logs/part-{k}.log.gz" for k in range(3)]
    for k, key in enumerate(keys):
        s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(log_text(100, 100 * k), mtime=0))
    return keys


@pytest.fixture
def group(aws):
    """A log group with one stream of 50 events (default format, no header)."""
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="eni-0a-all")
    events = [{"timestamp": (NOW - 600 + i) * 1000, "message": record(i, NOW - 600 + i)} for i in range(50)]
    logs.put_log_events(logGroupName=GROUP, logStreamName="eni-0a-all", logEvents=events)
    return 50


def read_quietly(spec, aws):
    """read() with the expected 'no flow log delivers to this group' warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eniflow.read(spec, aws=aws, workers=1)


def sums(flows) -> tuple[int, int]:
    """(records, sum of bytes): equal to the input's when nothing is lost or doubled."""
    return flows.relation.aggregate("count(*), coalesce(sum(bytes), 0)").fetchall()[0]


def expected(n: int, first: int = 0) -> tuple[int, int]:
    return n, sum(100 + first + i for i in range(n))


# -- throttling --------------------------------------------------------------------------
def test_s3_slowdown_is_retried_with_backoff_and_nothing_is_lost(bucket, proxy, via):
    proxy.inject("ListObjectsV2", "error", times=1, error=S3_SLOWDOWN)
    proxy.inject("GetObject", "error", times=2, error=S3_SLOWDOWN)
    flows = eniflow.read(f"s3://{BUCKET}/logs/", aws=via, workers=1)
    assert flows.stats.errors == []
    assert sums(flows) == expected(300)
    lists = proxy.requests("ListObjectsV2")
    assert [(r.attempt, r.fault) for r in lists] == [(1, "error"), (2, None)]
    # The retry configuration: botocore's max_attempts=8 means 8 retries, 9 attempts in all.
    assert {r.max_attempts for r in proxy.log} == {9}
    gets = proxy.requests("GetObject")
    assert [r.fault for r in gets].count("error") == 2 and len(gets) == 5
    assert max(r.attempt for r in gets) >= 2


def test_cloudwatch_throttling_is_retried_with_backoff_and_nothing_is_lost(group, proxy, via):
    proxy.inject("DescribeLogStreams", "error", times=1, error=CWL_THROTTLING)
    proxy.inject("FilterLogEvents", "error", times=2, error=CWL_THROTTLING)
    flows = read_quietly(f"cwl://{GROUP}", via)
    assert flows.stats.errors == []
    assert sums(flows) == expected(50)
    assert [(r.attempt, r.fault) for r in proxy.requests("FilterLogEvents")] == [(1, "error"), (2, "error"), (3, None)]


# -- denied and expired -------------------------------------------------------------------
def test_access_denied_on_one_object_names_the_key_and_the_iam_action_and_the_rest_is_read(bucket, proxy, via):
    proxy.inject("GetObject", "error", times=99, when=lambda r: r.path.endswith("part-1.log.gz"),
                 error=s3_error(403, "AccessDenied", "Access Denied"))
    flows = eniflow.read(f"s3://{BUCKET}/logs/", aws=via, workers=1)
    assert flows.stats.errors == [(f"s3://{BUCKET}/logs/part-1.log.gz: access denied; the caller needs the IAM "
                                  "permission s3:GetObject. (0 records were read from it)")]
    assert sums(flows) == (200, expected(100)[1] + expected(100, 200)[1])  # part-0 and part-2, whole


@pytest.mark.parametrize("spec, operation, error, action", [
    (f"s3://{BUCKET}/logs/", "ListObjectsV2", s3_error(403, "AccessDenied", "Access Denied"), "s3:ListBucket"),
    (f"cwl://{GROUP}", "DescribeLogStreams", json_error("AccessDeniedException", "not authorized"),
     "logs:DescribeLogStreams"),
])
def test_access_denied_on_listing_names_the_iam_action(bucket, group, proxy, via, spec, operation, error, action):
    proxy.inject(operation, "error", times=99, error=error)
    with pytest.raises(AwsAccessDenied) as caught:
        read_quietly(spec, via)
    assert str(caught.value).endswith(f"access denied; the caller needs the IAM permission {action}.")
    assert caught.value.action == action


def test_access_denied_on_events_names_the_stream_and_the_iam_action(group, proxy, via):
    proxy.inject("FilterLogEvents", "error", times=99, error=json_error("AccessDeniedException", "not authorized"))
    flows = read_quietly(f"cwl://{GROUP}", via)
    assert flows.stats.errors == [(f"cwl://{GROUP}/eni-0a-all: access denied; the caller needs the IAM permission "
                                  "logs:FilterLogEvents. (0 records were read from it)")]


@pytest.mark.parametrize("spec, operation, error", [
    (f"s3://{BUCKET}/logs/", "ListObjectsV2", s3_error(400, "ExpiredToken", "The provided token has expired.")),
    (f"cwl://{GROUP}", "DescribeLogStreams", json_error("ExpiredTokenException", "The security token included in "
                                                        "the request is expired")),
])
def test_expired_credentials_say_so_and_how_to_refresh(bucket, group, proxy, via, spec, operation, error):
    proxy.inject(operation, "error", times=99, error=error)
    with pytest.raises(AwsAccessDenied) as caught:
        read_quietly(spec, via)
    assert str(caught.value).endswith("the AWS credentials have expired; refresh them (e.g. aws sso login) and retry.")
    assert [r.fault for r in proxy.requests(operation)] == ["error"]  # not retried: retrying cannot help


# -- gone, broken, cut short ----------------------------------------------------------------
def test_object_deleted_between_list_and_get_is_reported_and_the_rest_is_read(bucket, proxy, via):
    proxy.inject("GetObject", "delete-first", when=lambda r: r.path.endswith("part-0.log.gz"))
    flows = eniflow.read(f"s3://{BUCKET}/logs/", aws=via, workers=1)
    assert flows.stats.errors == [(f"s3://{BUCKET}/logs/part-0.log.gz was listed but no longer exists (deleted or "
                                  "expired meanwhile); run again to read the objects there now. (0 records were read "
                                  "from it)")]
    assert sums(flows) == (200, expected(100, 100)[1] + expected(100, 200)[1])


def test_connection_reset_before_the_answer_is_retried_and_nothing_is_lost(bucket, proxy, via):
    proxy.inject("GetObject", "reset-before", times=2)
    flows = eniflow.read(f"s3://{BUCKET}/logs/", aws=via, workers=1)
    assert flows.stats.errors == []
    assert sums(flows) == expected(300)
    assert [r.fault for r in proxy.requests("GetObject")].count("reset-before") == 2


# -- downloads that break off: resumed with Range GETs pinned to the ETag ---------------------
def put_big(aws, body: bytes, key: str = "big.log") -> str:
    """Store ``body`` in a new bucket; returns its ETag."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"]


def lines_reached(data: bytes) -> int:
    """The line number the parser reports reaching in ``data``: its last line, whole or not."""
    return data.count(b"\n") + (not data.endswith(b"\n"))


@pytest.mark.parametrize("compressed", [False, True], ids=["text", "gzip"])
@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_connection_lost_mid_object_is_resumed_from_the_byte_reached_and_nothing_is_lost(aws, proxy, via, kind,
                                                                                         compressed):
    """For gzip the resumed bytes continue the same compressed stream."""
    n = 40000 if compressed else 2000  # 216 KB of text; 255 KB of gzip
    body = gzip.compress(log_text(n), mtime=0) if compressed else log_text(n)
    etag = put_big(aws, body)
    proxy.inject("GetObject", kind, keep=0.5)
    flows = eniflow.read(f"s3://{BUCKET}/big.log", aws=via, workers=1)
    assert flows.stats.errors == []
    assert sums(flows) == expected(n)
    first, resume = proxy.requests("GetObject")
    assert (first.fault, "range" in first.headers, resume.fault, resume.headers["if-match"]) == (kind, False, None, etag)
    start = int(re.fullmatch(r"bytes=(\d+)-", resume.headers["range"]).group(1))
    if kind == "truncate":  # a clean close delivers every byte sent
        assert start == len(body) // 2
    else:  # a reset loses the 64 KiB chunk in flight (and what the kernel had not handed over)
        assert start % (64 << 10) == 0 and start < len(body) // 2


def test_when_the_resumes_run_out_the_key_and_the_byte_reached_are_named_and_whole_lines_kept(aws, proxy, via):
    body = log_text(2000)
    put_big(aws, body)
    proxy.inject("GetObject", "truncate", times=99, keep=0.5)  # each answer sends half of what it was asked
    flows = eniflow.read(f"s3://{BUCKET}/big.log", aws=via, workers=1)
    starts = [0]
    for _ in range(RESUMES):
        starts.append(starts[-1] + (len(body) - starts[-1]) // 2)
    got = starts[-1] + (len(body) - starts[-1]) // 2
    assert [r.headers.get("range") for r in proxy.requests("GetObject")] == [None] + [f"bytes={s}-" for s in starts[1:]]
    (error,) = flows.stats.errors
    assert error.startswith(f"s3://{BUCKET}/big.log: the download broke off after {got} of {len(body)} bytes, "
                            f"also after {RESUMES} resumes (")
    assert error.endswith(f"); run again. (read up to line {lines_reached(body[:got])} before it)")
    complete = body[:got].count(b"\n") - 1  # whole record lines received (the header is one)
    assert (flows.stats.records, flows.stats.malformed) == (complete, 1)  # the cut line: "incomplete last line"
    assert sums(flows) == expected(complete)
    check_invariant(flows)


def test_an_object_changed_before_the_resume_is_not_spliced(aws, proxy, via):
    body = log_text(2000)
    etag = put_big(aws, body)
    replace = lambda: aws.client("s3").put_object(Bucket=BUCKET, Key="big.log", Body=log_text(2000, 5000))  # noqa: E731
    proxy.inject("GetObject", "truncate", keep=0.5, then=replace)
    flows = eniflow.read(f"s3://{BUCKET}/big.log", aws=via, workers=1)
    half = len(body) // 2
    assert flows.stats.errors == [
        f"s3://{BUCKET}/big.log (resuming after {half} of {len(body)} bytes): the object changed meanwhile (its ETag "
        f"is no longer {etag}), so the rest was not spliced on; run again to read the new version whole. (read up to "
        f"line {lines_reached(body[:half])} before it)"]
    complete = body[:half].count(b"\n") - 1
    assert sums(flows) == expected(complete)  # the first version's whole lines, none of the second's
    assert [(r.fault, r.headers.get("if-match")) for r in proxy.requests("GetObject")] == [("truncate", None),
                                                                                         (None, etag)]


def test_credentials_expiring_before_the_resume_keep_the_lines_received(aws, proxy, via):
    body = log_text(2000)
    put_big(aws, body)
    proxy.inject("GetObject", "truncate", keep=0.5)
    proxy.inject("GetObject", "error", times=99, when=lambda r: "range" in r.headers,
                 error=s3_error(400, "ExpiredToken", "The provided token has expired."))
    flows = eniflow.read(f"s3://{BUCKET}/big.log", aws=via, workers=1)
    half = len(body) // 2
    assert flows.stats.errors == [
        f"s3://{BUCKET}/big.log (resuming after {half} of {len(body)} bytes): the AWS credentials have expired; "
        f"refresh them (e.g. aws sso login) and retry. (read up to line {lines_reached(body[:half])} before it)"]
    assert sums(flows) == expected(body[:half].count(b"\n") - 1)


def test_a_resumed_download_needs_no_permission_beyond_s3_get_object(aws, proxy, restricted_aws):
    """docs/iam-policy.json stays enough: a Range GET with IfMatch is s3:GetObject."""
    body = log_text(2000)
    put_big(aws, body)
    (reader,) = restricted_aws(["s3:ListBucket", "s3:GetObject"])
    proxy.inject("GetObject", "truncate", keep=0.5)
    flows = eniflow.read(f"s3://{BUCKET}/big.log", workers=1,
                         aws=AwsOptions(profile=reader.profile, region=reader.region, endpoint_url=proxy.url))
    assert flows.stats.errors == []
    assert sums(flows) == expected(2000)
    assert [r.headers.get("range") for r in proxy.requests("GetObject")] == [None, f"bytes={len(body) // 2}-"]


def check_invariant(flows) -> None:
    s = flows.stats
    assert s.lines == s.headers + s.blank + s.records + s.nodata + s.skipdata + s.malformed
    assert flows.count() == s.rows


def test_gzip_object_truncated_mid_member_keeps_what_decompressed(aws, via):
    """An object stored cut short (an interrupted upload): every whole line before the cut is read."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    text = log_text(3000)
    whole = gzip.compress(text, mtime=0)
    s3.put_object(Bucket=BUCKET, Key="cut.log.gz", Body=whole[: len(whole) * 2 // 3])
    flows = eniflow.read(f"s3://{BUCKET}/cut.log.gz", aws=via, workers=1)
    s = flows.stats
    decompressed = _partial_gunzip(whole[: len(whole) * 2 // 3])
    complete = decompressed.count(b"\n") - 1
    assert (s.records, s.malformed) == (complete, 1 if not decompressed.endswith(b"\n") else 0)
    assert sums(flows) == expected(complete)
    assert len(s.errors) == 1 and s.errors[0].startswith(f"s3://{BUCKET}/cut.log.gz: the compressed data is truncated")
    check_invariant(flows)


def _partial_gunzip(data: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(wbits=31).decompress(data)


def test_gzip_file_truncated_mid_member_keeps_what_decompressed(tmp_path):
    text = log_text(1000)
    whole = gzip.compress(text, mtime=0)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    flows = eniflow.read(path)
    decompressed = _partial_gunzip(whole[: len(whole) // 2])
    complete = decompressed.count(b"\n") - 1
    assert flows.stats.records == complete
    assert sums(flows) == expected(complete)
    assert flows.stats.errors[0].startswith(f"{path}: the compressed data is truncated or corrupt")
    check_invariant(flows)


def test_second_gzip_member_truncated_keeps_the_first_member_whole(tmp_path):
    """AWS concatenates gzip members; a cut in the second loses nothing of the first."""
    path = tmp_path / "two.log.gz"
    second = gzip.compress("".join(record(100 + i) + "\n" for i in range(100)).encode(), mtime=0)
    path.write_bytes(gzip.compress(log_text(100), mtime=0) + second[:20])
    flows = eniflow.read(path)
    assert sums(flows) == expected(100)
    assert len(flows.stats.errors) == 1
    check_invariant(flows)


def parquet_bytes(n: int) -> bytes:
    rows = [record(i).split() for i in range(n)]
    names = [name.replace("-", "_") for name in HEADER.split()]
    buffer = io.BytesIO()
    pq.write_table(pa.table({name: [r[k] for r in rows] for k, name in enumerate(names)}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["footer", "truncated", "garbage"])
def test_corrupt_parquet_is_reported_and_other_files_are_read(tmp_path, damage):
    good = tmp_path / "a-good.log.parquet"
    good.write_bytes(parquet_bytes(50))
    bad = tmp_path / "b-bad.log.parquet"
    data = parquet_bytes(50)
    bad.write_bytes({"footer": data[:-12] + b"\0" * 8 + data[-4:], "truncated": data[: len(data) // 2],
                     "garbage": b"PAR1" + bytes(range(256)) * 4}[damage])
    flows = eniflow.read(tmp_path)
    assert sums(flows) == expected(50)
    assert len(flows.stats.errors) == 1
    assert flows.stats.errors[0].startswith(f"{bad}: not a readable Parquet file (")
    assert flows.stats.errors[0].endswith("check that the upload is complete. (0 records were read from it)")


# -- pagination that repeats itself ------------------------------------------------------------
@pytest.mark.parametrize("replay", [False, True], ids=["empty-page", "same-page"])
def test_cloudwatch_events_token_repeated_stops_and_reads_each_event_once(group, proxy, via, replay):
    proxy.inject("FilterLogEvents", "repeat-token", replay=replay)
    flows = read_quietly(f"cwl://{GROUP}", via)
    assert flows.stats.errors == []
    assert [r.fault for r in proxy.requests("FilterLogEvents")] == ["repeat-token", "repeat-token"]
    assert sums(flows) == expected(50)


def test_cloudwatch_tokens_going_round_stop_at_the_first_repeat(group, proxy, via):
    proxy.inject("FilterLogEvents", "cycle-token", times=30)  # the proxy ends the cycle after 30 pages
    flows = read_quietly(f"cwl://{GROUP}", via)
    assert sums(flows) == expected(50)
    assert len(proxy.requests("FilterLogEvents")) == 3  # first page, token A, token B; A again means stop


def test_cloudwatch_streams_token_repeated_stops(group, proxy, via):
    proxy.inject("DescribeLogStreams", "repeat-token")
    flows = read_quietly(f"cwl://{GROUP}", via)
    assert sums(flows) == expected(50)
    assert len(proxy.requests("DescribeLogStreams")) == 2


def test_s3_listing_token_repeated_stops_with_an_error(bucket, proxy, via):
    proxy.inject("ListObjectsV2", "repeat-token")
    with pytest.raises(AwsError) as caught:
        eniflow.read(f"s3://{BUCKET}/logs/", aws=via, workers=1)
    assert str(caught.value).startswith(f"s3://{BUCKET}/logs/: AWS call s3:ListBucket failed: PaginationError")
    assert len(proxy.requests("ListObjectsV2")) == 2
