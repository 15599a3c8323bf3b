"""s3://bucket/prefix against moto in server mode: the four AWS key layouts, pruning of the
listing by --since/--until, raw bytes, picklable items, and errors naming the key and the
IAM action."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

import eniflow
from eniflow.aws import AwsOptions
from eniflow.errors import AwsAccessDenied, AwsNotFound, InputError
from eniflow.sources import Context, expand

ACCOUNT = "123456789012"
REGION = "eu-west-1"
FLOW_LOG = "fl-0a1b2c3d4e5f67890"
HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
LAYOUTS = ("default", "hourly", "hive", "hive-hourly")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def aws_key(layout: str, when: datetime, folder: str = "", account: str = ACCOUNT, region: str = REGION) -> str:
    """The key AWS gives the file delivered at ``when`` (reference §4, S3 delivery)."""
    if layout.startswith("hive"):
        path = (f"AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/"
                f"year={when:%Y}/month={when:%m}/day={when:%d}/" + (f"hour={when:%H}/" if layout == "hive-hourly" else ""))
    else:
        path = f"AWSLogs/{account}/vpcflowlogs/{region}/{when:%Y/%m/%d}/" + (f"{when:%H}/" if layout == "hourly" else "")
    stamp = int(when.timestamp())
    return f"{folder}{path}{account}_vpcflowlogs_{region}_{FLOW_LOG}_{when:%Y%m%dT%H%MZ}_{stamp % 2**32:08x}.log.gz"


def flow_log_file(when: datetime, bytes_: int = 840) -> bytes:
    """A delivered file: gzip text, header line, one record that ended at ``when``."""
    end = int(when.timestamp())
    record = f"2 {ACCOUNT} eni-0a1b2c3d4e5f67890 10.0.1.10 10.0.2.20 443 49152 6 10 {bytes_} {end - 50} {end} ACCEPT OK"
    return gzip.compress(f"{HEADER}\n{record}\n".encode(), mtime=0)


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="flow-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def put(s3, *keys: str, body: bytes | None = None) -> list[str]:
    for key in keys:
        s3.put_object(Bucket="flow-logs", Key=key, Body=flow_log_file(datetime.now(timezone.utc)) if body is None else body)
    return list(keys)


def names(spec: str, aws: AwsOptions, since: datetime | None = None, until: datetime | None = None) -> list[str]:
    ctx = Context(aws, since and int(since.timestamp()), until and int(until.timestamp()))
    return [item.name for item in expand(spec, ctx)]


def s3_names(keys) -> list[str]:
    return sorted(f"s3://flow-logs/{k}" for k in keys)


def put_other_services(s3) -> None:
    """What shares AWSLogs/ with flow logs in real buckets, none of which is a flow log."""
    put(s3, f"AWSLogs/{ACCOUNT}/ELBAccessLogTestFile", body=b"Enable AccessLog for ELB: my-lb at 2024-03-01T10:00:00.000Z")
    put(s3, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/03/01/{ACCOUNT}_CloudTrail_{REGION}_20240301T1005Z_abc.json.gz",
        body=gzip.compress(b'{"Records": []}'))
    put(s3, f"AWSLogs/{ACCOUNT}/vpcflowlogs/", f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/03/01/empty.log.gz", body=b"")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_aws_layout_is_listed_and_other_objects_are_skipped(aws, s3, layout):
    keys = put(s3, aws_key(layout, utc(2024, 3, 1, 10, 5)), aws_key(layout, utc(2024, 3, 1, 13, 5)),
               aws_key(layout, utc(2024, 3, 2, 0, 5)))
    put_other_services(s3)

    assert names("s3://flow-logs", aws) == s3_names(keys)
    assert names("s3://flow-logs/", aws, since=utc(2024, 3, 1, 13), until=utc(2024, 3, 1, 13, 30)) == s3_names(keys[1:2])


PREFIXES = {  # prefix -> indexes of the keys in test_the_prefix_may_point_anywhere_in_the_layout
    "": [0, 1, 2, 3],
    "team-a/": [0, 1, 2, 3],
    "team-a/AWSLogs/": [0, 1, 2, 3],
    f"team-a/AWSLogs/{ACCOUNT}/": [0, 1, 2],
    f"team-a/AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/": [2],
    f"team-a/AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/03/": [0, 1],
    f"team-a/AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/03/0": [0],  # S3 prefixes need not end at a '/'
    f"team-a/AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/03/01/": [0],
    aws_key("default", utc(2024, 3, 1, 10, 5), "team-a/"): [0],
}


@pytest.mark.parametrize("timed", [False, True], ids=["everything", "since"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_prefix_may_point_anywhere_in_the_layout(aws, s3, prefix, timed):
    keys = put(s3, aws_key("default", utc(2024, 3, 1, 10, 5), "team-a/"),
               aws_key("default", utc(2024, 3, 15, 10, 5), "team-a/"),
               aws_key("default", utc(2024, 3, 1, 10, 5), "team-a/", region="us-east-1"),
               aws_key("default", utc(2024, 3, 1, 10, 5), "team-a/", account="210987654321"))
    since = utc(2024, 1, 1) if timed else None

    assert names(f"s3://flow-logs/{prefix}", aws, since=since) == s3_names(keys[i] for i in PREFIXES[prefix])


def test_a_key_means_that_object_alone_and_own_folders_are_read_whatever_the_names(aws, s3):
    put(s3, "exports/march.txt", "exports/march.txt.bak", "exports/april/flows.gz")
    put(s3, "exports/empty.txt", body=b"")

    assert names("s3://flow-logs/exports/march.txt", aws) == ["s3://flow-logs/exports/march.txt"]
    assert names("s3://flow-logs/exports/", aws) == s3_names(["exports/april/flows.gz", "exports/march.txt",
                                                              "exports/march.txt.bak"])


def count_listings(aws):
    """Every ListObjectsV2 response the sources' S3 client receives: (prefix, keys listed)."""
    calls = []

    def record(parsed, **_):
        calls.append((parsed.get("Prefix", ""), [obj["Key"] for obj in parsed.get("Contents", ())]))

    client = aws.shared_client("s3")
    client.meta.events.register("after-call.s3.ListObjectsV2", record)
    return calls, lambda: client.meta.events.unregister("after-call.s3.ListObjectsV2", record)


@pytest.mark.parametrize("layout", ["default", "hive-hourly"])
def test_a_one_hour_query_over_sixty_days_lists_one_day_or_a_few_hours(aws, s3, layout):
    days = [utc(2024, 1, 1) + timedelta(days=d) for d in range(60)]
    put(s3, *(aws_key(layout, day + timedelta(hours=h, minutes=5)) for day in days for h in (0, 12, 23)))
    calls, stop = count_listings(aws)
    try:
        found = names("s3://flow-logs/AWSLogs/", aws, since=utc(2024, 2, 10, 12), until=utc(2024, 2, 10, 13))
    finally:
        stop()

    assert found == s3_names([aws_key(layout, utc(2024, 2, 10, 12, 5))])
    # AWSLogs/, account, service, region, year, month, day (+ the hour): not one call per day
    assert len(calls) <= 8
    day = [aws_key(layout, utc(2024, 2, 10, h, 5)) for h in (0, 12, 23)]
    assert [key for _, keys in calls for key in keys] == (day if layout == "default" else day[1:2])

    calls, stop = count_listings(aws)
    try:
        assert len(names("s3://flow-logs/AWSLogs/", aws)) == 180
    finally:
        stop()
    assert sum(len(keys) for _, keys in calls) == 180


def test_the_margin_keeps_files_of_the_previous_day_near_midnight(aws, s3):
    """A file named 23:55 holds records that end around 23:55 and start up to ~12 minutes
    earlier; the hour of margin keeps it, and the day folder before, for a window from 00:30."""
    keys = put(s3, *(aws_key("hourly", utc(2024, 2, d, h, m)) for d, h, m in
                     [(9, 22, 0), (9, 23, 55), (10, 0, 5), (10, 0, 55), (10, 2, 0)]))

    assert names("s3://flow-logs/", aws, since=utc(2024, 2, 10, 0, 30), until=utc(2024, 2, 10, 0, 45)) == \
        s3_names(keys[1:4])
    assert names("s3://flow-logs/", aws, until=utc(2024, 2, 9, 21)) == s3_names(keys[:1])


def read_in_worker(item) -> bytes:
    with item.open() as stream:
        return stream.read()


def test_objects_open_as_their_exact_bytes_in_other_processes(aws, s3):
    gz = flow_log_file(utc(2024, 3, 1, 10, 5))
    parquet = b"PAR1" + bytes(range(256)) * 5000 + b"PAR1"  # opened raw; the reader recognises content
    put(s3, aws_key("default", utc(2024, 3, 1, 10, 5)), body=gz)
    put(s3, aws_key("default", utc(2024, 3, 1, 10, 10)).replace(".log.gz", ".log.parquet"), body=parquet)
    items = list(expand("s3://flow-logs/AWSLogs/", Context(aws)))

    assert [item.size for item in items] == [len(gz), len(parquet)]
    assert [pickle.loads(pickle.dumps(item)) for item in items] == items
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert list(pool.map(read_in_worker, items)) == [gz, parquet]


def test_read_gives_the_records_with_their_keys(aws, s3):
    keys = put(s3, aws_key("hive", utc(2024, 3, 1, 10, 5)), body=flow_log_file(utc(2024, 3, 1, 10, 5)))
    put(s3, aws_key("hive", utc(2024, 3, 1, 12, 5)), body=flow_log_file(utc(2024, 3, 1, 12, 5), bytes_=999))

    flows = eniflow.read(["s3://flow-logs/AWSLogs/"], aws=aws, since=int(utc(2024, 3, 1, 10).timestamp()),
                         until=int(utc(2024, 3, 1, 10, 30).timestamp()))

    rows = flows.relation.project("srcaddr, dstport, bytes, start, \"end\", source, line").fetchall()
    end = int(utc(2024, 3, 1, 10, 5).timestamp())
    assert rows == [("10.0.1.10", 49152, 840, end - 50, end, f"s3://flow-logs/{keys[0]}", 2)]


def test_objects_without_a_header_take_the_given_format(aws, s3):
    put(s3, "exports/eni-0a1b.txt", body=b"2 10.0.2.30 10.0.1.10 ACCEPT\n2 10.0.2.31 10.0.1.10 REJECT\n")

    flows = eniflow.read("s3://flow-logs/exports/", format="${version} ${srcaddr} ${dstaddr} ${action}", aws=aws)

    assert flows.relation.project("version, srcaddr, dstaddr, action, source, line").fetchall() == [
        (2, "10.0.2.30", "10.0.1.10", "ACCEPT", "s3://flow-logs/exports/eni-0a1b.txt", 1),
        (2, "10.0.2.31", "10.0.1.10", "REJECT", "s3://flow-logs/exports/eni-0a1b.txt", 2)]


def test_the_cli_reads_s3_with_the_aws_options_and_names_a_missing_bucket(aws, s3, cli):
    key = put(s3, aws_key("default", utc(2024, 3, 1, 10, 5)), body=flow_log_file(utc(2024, 3, 1, 10, 5)))[0]
    where = ("--region", "us-east-1", "--endpoint-url", aws.endpoint_url)

    code, out, _ = cli("read", "s3://flow-logs/AWSLogs/", "--since", "2024-03-01T10:00:00Z", "--until",
                       "2024-03-01T11:00:00Z", "-o", "jsonl", *where)
    missing = cli("read", "s3://no-such-bucket/", *where)

    end = int(utc(2024, 3, 1, 10, 5).timestamp())
    assert (code, json.loads(out)) == (0, {
        "version": 2, "account_id": ACCOUNT, "interface_id": "eni-0a1b2c3d4e5f67890", "srcaddr": "10.0.1.10",
        "dstaddr": "10.0.2.20", "srcport": 443, "dstport": 49152, "protocol": 6, "packets": 10, "bytes": 840,
        "start": end - 50, "end": end, "action": "ACCEPT", "log_status": "OK", "source": f"s3://flow-logs/{key}",
        "line": 2})
    assert missing == (1, "", "eniflow: error: S3 bucket 'no-such-bucket' does not exist; check the name and the region.\n")


def test_missing_bucket_and_empty_prefix_are_named(aws, s3):
    put_other_services(s3)
    with pytest.raises(AwsNotFound) as missing:
        names("s3://no-such-bucket/AWSLogs/", aws)
    with pytest.raises(InputError) as empty:
        names("s3://flow-logs/AWSlogs/", aws)
    with pytest.raises(InputError) as none:
        names("s3://flow-logs/AWSLogs/", aws)

    assert str(missing.value) == "S3 bucket 'no-such-bucket' does not exist; check the name and the region."
    assert str(empty.value) == "s3://flow-logs/AWSlogs/ has no objects; check the prefix (keys are case-sensitive)."
    assert str(none.value) == ("s3://flow-logs/AWSLogs/ holds no VPC flow log objects (inside AWSLogs/ only "
                               "AWSLogs/<account>/vpcflowlogs/<region>/<date>/ folders are read).")
    assert names("s3://flow-logs/AWSLogs/", aws, since=utc(2024, 3, 1)) == []  # a quiet time range is no error


def test_an_object_deleted_after_listing_is_named(aws, s3):
    key = put(s3, aws_key("default", utc(2024, 3, 1, 10, 5)))[0]
    [item] = expand("s3://flow-logs/", Context(aws))
    s3.delete_object(Bucket="flow-logs", Key=key)

    with pytest.raises(InputError) as gone:
        item.open()
    assert str(gone.value) == (f"s3://flow-logs/{key} was listed but no longer exists (deleted or expired meanwhile); "
                               "run again to read the objects there now.")


def test_an_archived_object_is_named_with_the_fix(aws, s3):
    key = aws_key("default", utc(2024, 3, 1, 10, 5))
    s3.put_object(Bucket="flow-logs", Key=key, Body=flow_log_file(utc(2024, 3, 1, 10, 5)), StorageClass="GLACIER")
    [item] = expand("s3://flow-logs/", Context(aws))

    with pytest.raises(InputError) as archived:
        item.open()
    assert str(archived.value) == (f"s3://flow-logs/{key} is archived in GLACIER; restore it (aws s3api restore-object) "
                                   "and read it again.")


def test_access_denied_names_the_iam_action_and_the_key(aws, s3, restricted_aws, cli):
    key = put(s3, aws_key("default", utc(2024, 3, 1, 10, 5)))[0]
    list_only, get_only = restricted_aws(["s3:ListBucket"], ["s3:GetObject"])
    [item] = expand("s3://flow-logs/AWSLogs/", Context(list_only))

    with pytest.raises(AwsAccessDenied) as get:
        item.open()
    with pytest.raises(AwsAccessDenied) as listing:
        names("s3://flow-logs/AWSLogs/", get_only)

    assert str(get.value) == f"s3://flow-logs/{key}: access denied; the caller needs the IAM permission s3:GetObject."
    assert str(listing.value) == "s3://flow-logs/AWSLogs/: access denied; the caller needs the IAM permission s3:ListBucket."
    assert (get.value.action, listing.value.action) == ("s3:GetObject", "s3:ListBucket")

    where = ("--region", aws.region, "--endpoint-url", aws.endpoint_url)
    assert cli("read", "s3://flow-logs/AWSLogs/", "--profile", get_only.profile, *where) == (
        1, "", f"eniflow: error: {listing.value}\n")
    code, _, err = cli("read", "s3://flow-logs/AWSLogs/", "--profile", list_only.profile, "-o", "jsonl", *where)
    assert (code, str(get.value) in err) == (1, True)  # reported for that object; the read goes on
