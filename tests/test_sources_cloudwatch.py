"""cwl://log-group[/stream-prefix] against moto in server mode: group names with '/', one
item per stream, events one per line across pages, time bounds, the format from
DescribeFlowLogs, and errors naming the log group and the IAM action."""

from __future__ import annotations

import pickle
import time
import warnings

import pytest

import eniflow
from eniflow.errors import AwsAccessDenied, AwsNotFound, InputError
from eniflow.sources import Context, expand

GROUP = "/aws/vpc/flowlogs"
LOG_FORMAT = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${start} ${end} ${action} ${log-status}"
FIELDS = ("version", "interface-id", "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr", "start", "end", "action",
          "log-status")
NOW = int(time.time()) // 60 * 60  # moto, like AWS, takes events from the last 14 days only


def record(eni: str, start: int, dst: str = "10.0.1.20") -> str:
    """A record of the custom format: traffic to a secondary IP, logged with the primary."""
    return f"5 {eni} 10.0.2.30 10.0.1.10 10.0.2.30 {dst} {start} {start + 55} ACCEPT OK"


@pytest.fixture
def logs(aws):
    return aws.client("logs")


def put_events(logs, group: str, stream: str, messages: list[tuple[int, str]]) -> None:
    """Create the stream (and group) if needed and add (unix seconds, message) events."""
    if group not in [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]]:
        logs.create_log_group(logGroupName=group)
    if stream not in [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    for i in range(0, len(messages), 5000):
        batch = [{"timestamp": t * 1000, "message": m} for t, m in messages[i:i + 5000]]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


def create_flow_log(aws, group: str, log_format: str) -> str:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                                LogDestinationType="cloud-watch-logs", LogGroupName=group,
                                DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs",
                                LogFormat=log_format)["FlowLogIds"][0]


def expand_quietly(spec: str, ctx: Context) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(expand(spec, ctx))


def names(spec: str, aws, since: int | None = None, until: int | None = None) -> list[str]:
    return [item.name for item in expand_quietly(spec, Context(aws, since, until))]


STREAMS = {  # spec -> streams, for the groups made in the test below
    f"cwl://{GROUP}": [f"{GROUP}/eni-0a-all", f"{GROUP}/eni-0b-all", f"{GROUP}/eni-1c-all"],
    f"cwl://{GROUP}/": [f"{GROUP}/eni-0a-all", f"{GROUP}/eni-0b-all", f"{GROUP}/eni-1c-all"],
    f"cwl://{GROUP}/eni-0": [f"{GROUP}/eni-0a-all", f"{GROUP}/eni-0b-all"],
    f"cwl://{GROUP}/eni-1c-all": [f"{GROUP}/eni-1c-all"],
    f"cwl://{GROUP}/eni-0b": [f"{GROUP}/eni-0b/eni-9z-all"],  # a whole existing group name wins
    f"cwl://{GROUP}/eni-0b/eni-9": [f"{GROUP}/eni-0b/eni-9z-all"],
    "cwl://vpc-flow-logs": ["vpc-flow-logs/eni-0d-all"],
}


@pytest.mark.parametrize("spec", STREAMS)
def test_the_longest_existing_group_is_used_and_the_rest_is_a_stream_prefix(aws, logs, spec):
    for stream in ("eni-0a-all", "eni-0b-all", "eni-1c-all"):
        put_events(logs, GROUP, stream, [(NOW, record(stream[:6], NOW))])
    put_events(logs, f"{GROUP}/eni-0b", "eni-9z-all", [(NOW, record("eni-9z", NOW))])
    put_events(logs, "vpc-flow-logs", "eni-0d-all", [(NOW, record("eni-0d", NOW))])

    assert names(spec, aws) == [f"cwl://{s}" for s in STREAMS[spec]]


def test_events_open_as_lines_across_pages(aws, logs):
    messages = [(NOW - 3600 + i // 10, record("eni-0a", NOW - 3600 + i // 10, f"10.0.{i // 250}.{i % 250}"))
                for i in range(10_001)]  # moto, like AWS, returns at most 10,000 events per page
    put_events(logs, GROUP, "eni-0a-all", messages)
    [item] = expand_quietly(f"cwl://{GROUP}", Context(aws))

    with item.open() as stream:
        assert stream.read() == "".join(m + "\n" for _, m in messages).encode()


def test_streams_and_events_outside_the_time_range_are_skipped(aws, logs):
    """Streams are judged by their first event and last event/ingestion times, events by
    their timestamp (the record's start), both with 15 minutes of margin."""
    now = int(time.time())  # the old stream's last ingestion is now: the range must start later
    since, until = now + 3600, now + 5400  # events up to 2 hours ahead are accepted
    put_events(logs, GROUP, "eni-0a-old", [(now - 7200, record("eni-0a", now - 7200))])
    events = [(t, record("eni-0b", t)) for t in (since - 1000, since - 600, since + 60, until + 600, until + 1000)]
    put_events(logs, GROUP, "eni-0b-now", events)

    items = expand_quietly(f"cwl://{GROUP}", Context(aws, since, until))

    assert [item.name for item in items] == [f"cwl://{GROUP}/eni-0b-now"]
    with items[0].open() as stream:
        assert stream.read().decode().splitlines() == [m for _, m in events[1:4]]
    assert names(f"cwl://{GROUP}", aws, until=now - 3600) == [f"cwl://{GROUP}/eni-0a-old"]


def test_the_format_comes_from_the_flow_log_of_the_group(aws, logs, recwarn):
    put_events(logs, GROUP, "eni-0a-all", [(NOW, record("eni-0a", NOW))])
    flow_log = create_flow_log(aws, GROUP, LOG_FORMAT)
    given = ("version", "srcaddr", "dstaddr")

    [discovered] = expand(f"cwl://{GROUP}", Context(aws))
    assert (discovered.format, len(recwarn)) == (FIELDS, 0)
    [overridden] = expand(f"cwl://{GROUP}", Context(aws, format=given))
    assert overridden.format == FIELDS
    assert [str(w.message) for w in recwarn] == [f"cwl://{GROUP}: using the format of flow log {flow_log}, not --format."]
    assert pickle.loads(pickle.dumps(discovered)) == discovered


def test_without_a_flow_log_the_format_is_the_given_one_or_none(aws, logs, recwarn):
    put_events(logs, GROUP, "eni-0a-all", [(NOW, record("eni-0a", NOW))])
    create_flow_log(aws, "some-other-group", LOG_FORMAT)
    given = ("version", "srcaddr", "dstaddr")

    [item] = expand(f"cwl://{GROUP}", Context(aws, format=given))
    assert (item.format, len(recwarn)) == (given, 0)
    [item] = expand(f"cwl://{GROUP}", Context(aws))
    assert item.format is None
    assert [str(w.message) for w in recwarn] == [
        f"no flow log delivering to log group {GROUP!r} was found (ec2:DescribeFlowLogs); reading cwl://{GROUP} "
        "with the default version 2 format; pass --format if that is wrong."]


def test_read_gives_the_records_with_their_streams(aws, logs):
    put_events(logs, GROUP, "eni-0a-all", [(NOW, record("eni-0a", NOW)), (NOW + 60, record("eni-0a", NOW + 60))])
    put_events(logs, GROUP, "eni-0b-all", [(NOW, record("eni-0b", NOW, "10.0.1.21"))])
    create_flow_log(aws, GROUP, LOG_FORMAT)

    flows = eniflow.read([f"cwl://{GROUP}"], aws=aws)

    rows = flows.relation.project("interface_id, dstaddr, pkt_dstaddr, start, source, line").order("source, line").fetchall()
    assert rows == [("eni-0a", "10.0.1.10", "10.0.1.20", NOW, f"cwl://{GROUP}/eni-0a-all", 1),
                    ("eni-0a", "10.0.1.10", "10.0.1.20", NOW + 60, f"cwl://{GROUP}/eni-0a-all", 2),
                    ("eni-0b", "10.0.1.10", "10.0.1.21", NOW, f"cwl://{GROUP}/eni-0b-all", 1)]


def test_a_missing_group_is_named_with_similar_ones(aws, logs):
    put_events(logs, GROUP, "eni-0a-all", [(NOW, record("eni-0a", NOW))])
    put_events(logs, "/aws/lambda/billing", "2024/03/01/[$LATEST]abc", [(NOW, "START RequestId: 1")])

    with pytest.raises(AwsNotFound) as missing:
        names("cwl://aws/vpc/flowlogs/eni-0a", aws)
    assert str(missing.value) == ("CloudWatch log group 'aws/vpc/flowlogs/eni-0a' does not exist in us-east-1 "
                                  "(similar: /aws/vpc/flowlogs); check the name and --region.")
    assert missing.value.action == "logs:DescribeLogStreams"


def test_a_group_deleted_after_listing_is_named(aws, logs):
    put_events(logs, GROUP, "eni-0a-all", [(NOW, record("eni-0a", NOW))])
    [item] = expand_quietly(f"cwl://{GROUP}", Context(aws))
    logs.delete_log_group(logGroupName=GROUP)

    with pytest.raises(InputError) as gone:
        item.open().read()
    assert str(gone.value) == (f"cwl://{GROUP}/eni-0a-all was listed but no longer exists (deleted or expired "
                               "meanwhile); run again to read the streams there now.")


def test_access_denied_names_the_iam_action_and_describe_flow_logs_is_optional(aws, logs, restricted_aws):
    put_events(logs, GROUP, "eni-0a-all", [(NOW, record("eni-0a", NOW))])
    create_flow_log(aws, GROUP, LOG_FORMAT)
    no_ec2, no_listing, no_events = restricted_aws(["logs:DescribeLogStreams", "logs:FilterLogEvents"],
                                                   ["ec2:DescribeFlowLogs", "logs:FilterLogEvents"],
                                                   ["ec2:DescribeFlowLogs", "logs:DescribeLogStreams"])

    with pytest.warns(UserWarning) as warned:
        [item] = expand(f"cwl://{GROUP}", Context(no_ec2))
    with item.open() as stream:
        assert stream.read() == (record("eni-0a", NOW) + "\n").encode()
    with pytest.raises(AwsAccessDenied) as listing:
        names(f"cwl://{GROUP}", no_listing)
    [item] = expand(f"cwl://{GROUP}", Context(no_events))
    with pytest.raises(AwsAccessDenied) as events:
        item.open().read()

    assert item.format == FIELDS and [str(w.message) for w in warned] == [
        f"flow logs of log group {GROUP!r}: access denied; the caller needs the IAM permission ec2:DescribeFlowLogs. "
        f"Reading cwl://{GROUP} with the default version 2 format."]
    assert str(listing.value) == (f"log group {GROUP!r}: access denied; the caller needs the IAM permission "
                                  "logs:DescribeLogStreams.")
    assert str(events.value) == (f"cwl://{GROUP}/eni-0a-all: access denied; the caller needs the IAM permission "
                                 "logs:FilterLogEvents.")
