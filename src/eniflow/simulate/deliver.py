"""Delivery as AWS does it: S3 objects (4 key layouts, gzip text or Parquet) or
CloudWatch Logs streams (one per ENI, no header), locally or into a real endpoint.

Reference sections 4 and 5: S3 files are batched per 5 minutes and hold every ENI of
the flow log, text files start with a header line of the field names; CloudWatch Logs
has one stream per ENI named ``<eni-id>-all`` and one record per event.
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from isal import igzip

from ..aws import AwsOptions, translate_client_error
from ..errors import AwsError
from ..formats import Format

__all__ = ["Delivery", "LAYOUTS", "s3_key", "TRUTH_SCHEMA", "TRUTH_MARK", "BATCH_SECONDS", "TruthWriter"]

LAYOUTS = ("default", "hourly", "hive", "hive-hourly", "cloudwatch")
TRUTH_SCHEMA = {"source": pl.String, "line": pl.Int64, "interface_id": pl.String, "direction": pl.String,
                "src_ip": pl.String, "dst_ip": pl.String, "local_ip": pl.String, "owner": pl.String,
                "log_status": pl.String}
BATCH_SECONDS = 300
# Parquet key-value metadata key that marks a ground truth file (not flow log records).
TRUTH_MARK = "eniflow.simulation-truth"


class TruthWriter:
    """The ground truth Parquet file, written chunk by chunk as objects are delivered.

    Text columns are dictionary-encoded in memory and in the file, but no Arrow schema is
    stored, so Polars, DuckDB and Spark all read them back as plain strings. The file carries
    the key-value metadata ``TRUTH_MARK`` so that a reader can tell it from flow logs.
    """

    _TEXT = {name: pl.Categorical for name, kind in TRUTH_SCHEMA.items() if kind == pl.String}

    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        schema = self._arrow(pl.DataFrame(schema=TRUTH_SCHEMA)).schema
        self._writer = pq.ParquetWriter(path, schema, compression="zstd", store_schema=False)

    def _arrow(self, frame: pl.DataFrame):
        return frame.select(list(TRUTH_SCHEMA)).cast({**TRUTH_SCHEMA, **self._TEXT}).to_arrow()

    def write(self, frame: pl.DataFrame) -> None:
        self._writer.write_table(self._arrow(frame))

    def __enter__(self) -> TruthWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        """Finish the file; after a failed delivery remove it rather than leave a partial truth."""
        if kind is None:
            self._writer.add_key_value_metadata({TRUTH_MARK: "1"})
        self._writer.close()
        if kind is not None:
            self.path.unlink(missing_ok=True)


def s3_key(account: str, region: str, flow_log_id: str, batch: int, layout: str, prefix: str, digest: str,
           suffix: str = "log.gz") -> str:
    """The object key AWS writes a 5-minute batch under (reference section 4)."""
    t = datetime.fromtimestamp(batch, tz=timezone.utc)
    if layout.startswith("hive"):
        parts = [f"AWSLogs/aws-account-id={account}", "aws-service=vpcflowlogs", f"aws-region={region}",
                 f"year={t:%Y}", f"month={t:%m}", f"day={t:%d}"] + ([f"hour={t:%H}"] if layout == "hive-hourly" else [])
    else:
        parts = [f"AWSLogs/{account}", "vpcflowlogs", region, f"{t:%Y}", f"{t:%m}", f"{t:%d}"] + (
            [f"{t:%H}"] if layout == "hourly" else [])
    name = f"{account}_vpcflowlogs_{region}_{flow_log_id}_{t:%Y%m%dT%H%MZ}_{digest}.{suffix}"
    return "/".join(([prefix] if prefix else []) + parts + [name])


@dataclass
class Delivery:
    """Puts a run's records where their flow logs deliver, and collects the truth rows of what it wrote."""

    out: Path
    account: str
    region: str
    seed: int
    aws: AwsOptions | None = None
    progress: object = None
    files: list[str] = field(default_factory=list)
    truth: TruthWriter | None = None
    buckets: set[str] = field(default_factory=set)
    log_groups: set[str] = field(default_factory=set)
    _events: dict = field(default_factory=dict)

    def client(self, service: str):
        return self.aws.shared_client(service)

    def s3(self, records: pl.DataFrame, rows: pl.Series, columns, fmt: Format, *, flow_log_id: str, layout: str,
           file_format: str, bucket: str, prefix: str) -> None:
        """One object per 5-minute batch, by record end time (as AWS names the objects).

        ``rows`` are this flow log's row indexes into ``records``, in file order and batch by
        batch; ``columns(chunk)`` gives the field values and truth rows of a chunk. Each object
        is gathered and rendered on its own (two at a time), so only a few objects' text is in
        memory at once.
        """
        suffix = "log.parquet" if file_format == "parquet" else "log.gz"
        if self.aws:
            self._ensure_bucket(bucket)
        runs = records["batch"].gather(rows).rle().struct.unnest()
        starts = runs["len"].cum_sum() - runs["len"]
        batches = [(stamp, rows.slice(start, length)) for stamp, start, length in
                   zip(runs["value"], starts, runs["len"], strict=True)]

        def render(item):
            stamp, chunk_rows = item
            chunk = records[chunk_rows]
            digest = hashlib.sha256(f"{self.seed}:{flow_log_id}:{stamp}".encode()).hexdigest()[:8]
            key = s3_key(self.account, self.region, flow_log_id, int(stamp), layout, prefix, digest, suffix)
            values, truth = columns(chunk)
            buffer = io.BytesIO()
            if file_format == "parquet":
                values.write_parquet(buffer, compression="gzip")
                data, first = buffer.getvalue(), 1
            else:
                buffer.write((" ".join(fmt.names) + "\n").encode())
                values.write_csv(buffer, separator=" ", include_header=False, null_value="-", quote_style="never")
                data, first = igzip.compress(buffer.getvalue(), compresslevel=1, mtime=0), 2
            name = f"s3://{bucket}/{key}" if self.aws else key
            truth = truth.with_columns(source=pl.lit(name, pl.Categorical), line=pl.int_range(first, first + truth.height, dtype=pl.Int64))
            return key, data, truth

        with ThreadPoolExecutor(max_workers=2) as pool:
            for key, data, truth in pool.map(render, batches):
                self.truth.write(truth)
                if self.aws:
                    self._put_object(bucket, key, data)
                    self.files.append(f"s3://{bucket}/{key}")
                else:
                    path = self.out / key
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    self.files.append(str(path))
                if self.progress:
                    self.progress(len(data))

    def _ensure_bucket(self, bucket: str) -> None:
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception:  # noqa: BLE001 - missing bucket: create it; other errors surface on create
            try:
                args = {"Bucket": bucket}
                if self.region != "us-east-1":
                    args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                s3.create_bucket(**args)
            except Exception as exc:  # noqa: BLE001
                raise translate_client_error(exc, "s3:CreateBucket", f"s3://{bucket}") from exc
        self.buckets.add(bucket)

    def _put_object(self, bucket: str, key: str, data: bytes) -> None:
        try:
            self.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        except Exception as exc:  # noqa: BLE001
            raise translate_client_error(exc, "s3:PutObject", f"s3://{bucket}/{key}") from exc

    # -- CloudWatch Logs ---------------------------------------------------------------

    def cloudwatch(self, records: pl.DataFrame, columns, *, log_group: str) -> None:
        """Queue one flow log's events for its log group (written by :meth:`flush_cloudwatch`)."""
        values, truth = columns(records)
        self._events.setdefault(log_group, []).append(pl.concat(
            [pl.DataFrame({"message": self._lines(values)}), truth, records.select(timestamp=pl.col("start") * 1000)],
            how="horizontal"))

    def flush_cloudwatch(self) -> None:
        """One stream per ENI and log group, time-ordered by record start; an ENI that several
        flow logs deliver to the same group gets one combined stream (reference section 5)."""
        for log_group, frames in self._events.items():
            frame = pl.concat(frames)
            for (eni,), part in frame.partition_by("interface_id", as_dict=True, maintain_order=True).items():
                stream = f"{eni}-all"
                part = part.sort("timestamp", maintain_order=True)
                if self.aws:
                    name = f"cwl://{log_group}/{stream}"
                    self._put_events(log_group, stream, part)
                else:
                    path = self.out / log_group.strip("/") / f"{stream}.log"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("".join(m + "\n" for m in part["message"]), encoding="utf-8")
                    name = str(path.relative_to(self.out)).replace("\\", "/")
                    self.files.append(str(path))
                self.truth.write(part.select(list(TRUTH_SCHEMA)).with_columns(
                    source=pl.lit(name, pl.Categorical), line=pl.int_range(1, part.height + 1, dtype=pl.Int64)))
        self._events.clear()

    @staticmethod
    def _lines(values: pl.DataFrame) -> list[str]:
        buffer = io.BytesIO()
        values.write_csv(buffer, separator=" ", include_header=False, null_value="-", quote_style="never")
        return buffer.getvalue().decode().splitlines()

    def _put_events(self, group: str, stream: str, part: pl.DataFrame) -> None:
        logs = self.client("logs")
        if group not in self.log_groups:
            try:
                logs.create_log_group(logGroupName=group)
            except Exception as exc:  # noqa: BLE001
                if "ResourceAlreadyExists" not in str(exc):
                    raise translate_client_error(exc, "logs:CreateLogGroup", f"log group {group}") from exc
            self.log_groups.add(group)
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except Exception as exc:  # noqa: BLE001
            if "ResourceAlreadyExists" not in str(exc):
                raise translate_client_error(exc, "logs:CreateLogStream", f"log group {group}") from exc
        batch, size = [], 0
        rows = list(zip(part["timestamp"].to_list(), part["message"].to_list()))
        for timestamp, message in rows + [(None, None)]:
            if message is None or len(batch) == 10_000 or size + len(message) + 26 > 1_000_000:
                if batch:
                    try:
                        answer = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
                    except Exception as exc:  # noqa: BLE001
                        raise translate_client_error(exc, "logs:PutLogEvents", f"log group {group}") from exc
                    if answer.get("rejectedLogEventsInfo"):
                        raise AwsError(f"log group {group}: CloudWatch Logs rejected events of {stream} as too old or too "
                                       "new (it accepts the last 14 days up to 2 hours ahead); pass a recent --start.",
                                       "logs:PutLogEvents", group)
                batch, size = [], 0
            if message is not None:
                batch.append({"timestamp": int(timestamp), "message": message})
                size += len(message) + 26
        self.files.append(f"cwl://{group}/{stream}")

    def register_flow_log(self, fmt: Format, log_group: str, cidr: str, interval: int, traffic_type: str) -> None:
        """Create the flow log definition too, so DescribeFlowLogs tells readers the format."""
        ec2 = self.client("ec2")
        try:
            vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType=traffic_type,
                                 LogGroupName=log_group, MaxAggregationInterval=interval,
                                 DeliverLogsPermissionArn=f"arn:aws:iam::{self.account}:role/eniflow-flow-logs",
                                 LogFormat=" ".join("${" + n + "}" for n in fmt.names))
        except Exception as exc:  # noqa: BLE001
            raise translate_client_error(exc, "ec2:CreateFlowLogs", f"log group {log_group}") from exc
