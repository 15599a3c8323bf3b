"""Limits: what eniflow does with inputs at the edge of the plausible, and what memory it takes.

    .venv/bin/python benchmarks/limits.py                 # all five (about 15 minutes; 5 GB of disk)
    .venv/bin/python benchmarks/limits.py line enis       # some of them
    .venv/bin/python benchmarks/limits.py --quick         # small sizes, to try the script
    ENIFLOW_LIMIT_ENIS=20000 .venv/bin/python benchmarks/limits.py enis   # another inventory size

Cases (each runs in a fresh process, so peak memory is its own; RSS is sampled every 50 ms
over the process and its children):

line     a 100 MB single line between 1,000 good records at each end
objects  an S3 prefix of a million objects of one record each, served by a loopback S3 stand-in
         (its own process, not measured) that answers ListObjectsV2 with pages of AWS-style keys
         and GetObject with a one-record gzip file (moto holds every object in memory and lists a
         million far too slowly to measure eniflow): eniflow.read() with each task counting its
         objects instead of fetching them (the listing as read() consumes it; also of 500,000)
small    eniflow.read() for real of 5,000 and 20,000 of those objects (each fetched and parsed)
file     a 5 GB default-format text file read with eniflow.read and written to Parquet
enis     an inventory of 100,000 ENIs (1-3 addresses each) loaded from describe-network-
         interfaces JSON and used to resolve 100,000 records

Data goes under bench-data/limits/ (gitignored) and is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data" / "limits"
HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def record(i: int) -> str:
    return (f"2 123456789012 eni-{i % 5000:017x} 10.0.{i // 250 % 256}.{i % 250 + 1} 10.1.{i // 7 % 256}.{i % 200 + 1} "
            f"{1024 + i % 60000} 443 6 {i % 500 + 1} {i % 100000 + 40} {1764288000 + i % 86400} "
            f"{1764288060 + i % 86400} ACCEPT OK")


# -- memory ------------------------------------------------------------------------------------
def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(p) for p in f.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


class Peak:
    """Peak RSS of this process plus its children (but ``exclude``) while the block runs."""

    def __init__(self, exclude: set[int] = frozenset()):
        self.exclude = exclude

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self.base = _rss(os.getpid())
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self):
        me = os.getpid()
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss(me) + sum(_rss(c) for c in _children(me) if c not in self.exclude))
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


# -- cases ---------------------------------------------------------------------------------------
def case_line(quick: bool) -> dict:
    import eniflow

    size = (10 if quick else 100) << 20
    path = DATA / f"line-{size >> 20}mb.log"
    if not path.exists():
        with open(path, "w") as f:
            f.write(HEADER + "\n" + "".join(record(i) + "\n" for i in range(1000)))
            chunk = "x" * (1 << 20)
            f.writelines(chunk for _ in range(size >> 20))
            f.write("\n" + "".join(record(i) + "\n" for i in range(1000, 2000)))
    with Peak() as p:
        flows = eniflow.read(path)
        s = flows.stats
        rows = flows.count()
    return {"input": f"{size >> 20} MB line between 2 x 1,000 records", "seconds": p.seconds, "peak_rss": p.peak,
            "base_rss": p.base, "outcome": f"lines {s.lines}, records {s.records}, malformed {s.malformed} "
            f"(sample kept: {len(s.malformed_samples[0].text) if s.malformed_samples else 0} chars), rows {rows}",
            "lost": 2000 - rows}


_PREFIX = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/"


def _key(i: int) -> str:
    return (f"{_PREFIX}123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261128T{i // 60 % 24:02d}{i % 60:02d}Z_"
            f"{i:08x}.log.gz")


def _object_body() -> bytes:
    """Every object: a gzip flow log file with its header and one record (AWS's smallest delivery)."""
    import gzip

    return gzip.compress((HEADER + "\n" + record(1) + "\n").encode(), mtime=0)


def _s3_server(objects: int, port_file: str) -> None:
    """A loopback S3 stand-in for a bucket of ``objects`` flow log objects, run in its own process
    (``--serve N FILE``): ListObjectsV2 in pages of 1,000 AWS-style keys, GetObject of each key
    (the same one-record gzip body). moto holds every object in memory and lists a million far too
    slowly to measure eniflow."""
    import re
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, unquote, urlsplit
    from xml.sax.saxutils import escape

    body = _object_body()
    key_index = re.compile(r"_([0-9a-f]{8})\.log\.gz$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()  # headers and body go out in two writes: without this, each answer waits for a delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status: int, data: bytes, kind: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            if "list-type" not in q:  # GetObject /flow-logs/<key>
                match = key_index.search(unquote(url.path))
                if not match or int(match.group(1), 16) >= objects:
                    return self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
                return self._send(200, body, "application/octet-stream",
                                  {"ETag": '"0123456789abcdef"', "Last-Modified": "Sat, 28 Nov 2026 00:00:00 GMT"})
            start = int((q.get("continuation-token") or ["0"])[0])
            end = min(start + 1000, objects)
            contents = "".join(f"<Contents><Key>{escape(_key(i))}</Key><LastModified>2026-11-28T00:00:00.000Z"
                               f"</LastModified><ETag>&quot;x&quot;</ETag><Size>{len(body)}</Size>"
                               "<StorageClass>STANDARD</StorageClass></Contents>" for i in range(start, end))
            more = end < objects
            page = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/'
                    f'2006-03-01/"><Name>flow-logs</Name><Prefix>AWSLogs/</Prefix><KeyCount>{end - start}</KeyCount>'
                    f"<MaxKeys>1000</MaxKeys><IsTruncated>{'true' if more else 'false'}</IsTruncated>{contents}"
                    + (f"<NextContinuationToken>{end}</NextContinuationToken>" if more else "")
                    + "</ListBucketResult>").encode()
            self._send(200, page, "application/xml")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def _start_s3_server(objects: int) -> tuple[subprocess.Popen, str]:
    port_file = DATA / f"s3-port-{os.getpid()}"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(objects), str(port_file)])
    while not port_file.exists() or not port_file.read_text():
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port_file.read_text()}"
    port_file.unlink()
    return proc, url


def _read_objects(count: int, *, listing_only: bool) -> tuple:
    """eniflow.read() of ``count`` objects from the stand-in: (Peak, rows, stats, tasks).

    ``listing_only``: read() as it is, but each task counts its objects instead of fetching and
    parsing them, on one thread: the lazy listing and its grouping into tasks as read()
    consumes them, without a million GetObjects (100-340 a second here)."""
    import eniflow
    import eniflow.workers as workers
    from eniflow.aws import AwsOptions
    from eniflow.parse import ReadStats

    import importlib

    reader = importlib.import_module("eniflow.read")  # the module (eniflow.read may be the function)

    tasks, originals = [], (reader._run_task, workers.run_in_workers)
    if listing_only:
        def count_objects(items, ctx, strict, spool, compact):
            tasks.append(len(items))
            return ReadStats(files=len(items)), []

        def here(function, task_stream, args, n, on_done):
            for task in task_stream:
                on_done(function(task, *args))

        reader._run_task, workers.run_in_workers = count_objects, here
    server, url = _start_s3_server(count)
    try:
        with Peak(exclude={server.pid}) as p:
            flows = eniflow.read("s3://flow-logs/AWSLogs/", aws=AwsOptions(region="us-east-1", endpoint_url=url))
            rows = flows.count()
            stats = flows.stats
            flows.close()
    finally:
        server.terminate()
        server.wait()
        reader._run_task, workers.run_in_workers = originals
    return p, rows, stats, tasks


def case_objects(quick: bool) -> dict:
    """A million objects: the listing as read() consumes it (see _read_objects), at the full count
    and at half of it (a listing held in memory would double)."""
    objects = 20_000 if quick else 1_000_000
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    p, _, s, tasks = _read_objects(objects, listing_only=True)
    p0, _, s0, _ = _read_objects(objects // 2, listing_only=True)
    return {"input": f"{objects:,} objects of one record under one prefix", "seconds": p.seconds,
            "peak_rss": p.peak, "base_rss": p.base,
            "outcome": f"listing as read() consumes it: {s.files:,} objects in {len(tasks)} tasks of up to "
                       f"{max(tasks, default=0):,}, {objects / p.seconds:,.0f} objects/s, peak {mb(p.peak)} "
                       f"(of {s0.files:,} objects: peak {mb(p0.peak)}, {p0.seconds:.0f} s)",
            "lost": objects - s.files + objects // 2 - s0.files}


def case_small(quick: bool) -> dict:
    """read() for real (every object fetched and parsed) of 5,000 and of 20,000 one-record
    objects: memory must not grow with their number."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    counts = (500, 2_000) if quick else (5_000, 20_000)
    real = [(n, *_read_objects(n, listing_only=False)[:3]) for n in counts]
    whole = "; ".join(f"{n:,} objects: {r.seconds:.0f} s, {n / r.seconds:,.0f} objects/s, peak {mb(r.peak)} "
                      f"(records {st.records:,}, rows {rows:,}, errors {len(st.errors)})" for n, r, rows, st in real)
    last = real[-1][1]
    return {"input": f"{counts[0]:,} and {counts[1]:,} one-record objects read with GetObject",
            "seconds": last.seconds, "peak_rss": last.peak, "base_rss": last.base,
            "outcome": whole, "lost": sum(n - rows for n, _, rows, _ in real)}


def case_file(quick: bool) -> dict:
    import eniflow

    gb = 0.25 if quick else 5
    path = DATA / f"file-{gb}gb.log"
    if not path.exists():
        block = (HEADER + "\n" + "".join(record(i) + "\n" for i in range(200_000))).encode()
        lines = block.count(b"\n")
        body = block[len(HEADER) + 1:]
        with open(path, "wb") as f:
            f.write(block)
            written = len(block)
            while written < gb * 2**30:
                f.write(body)
                written += len(body)
        (DATA / f"file-{gb}gb.lines").write_text(str(lines - 1 + (written - len(block)) // len(body) * (lines - 1)))
    expected = int((DATA / f"file-{gb}gb.lines").read_text())
    out = DATA / f"file-{gb}gb.parquet"
    with Peak() as p:
        flows = eniflow.read(path)
        flows.relation.write_parquet(str(out), compression="zstd")
        rows = flows.count()
        s = flows.stats
        flows.close()
    size = path.stat().st_size
    out.unlink()
    return {"input": f"{size / 2**30:.2f} GB text file, {expected:,} records", "seconds": p.seconds,
            "peak_rss": p.peak, "base_rss": p.base,
            "outcome": f"records {s.records:,}, malformed {s.malformed}, rows {rows:,}; "
                       f"{expected / p.seconds / 1e6:.2f} M records/s to Parquet",
            "lost": expected - rows}


def case_enis(quick: bool) -> dict:
    import eniflow

    n = int(os.environ.get("ENIFLOW_LIMIT_ENIS") or (10_000 if quick else 100_000))
    path = DATA / f"enis-{n}.json"
    if not path.exists():
        interfaces = []
        for i in range(n):
            addrs = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"]
            addrs += [f"10.{100 + k}.{i // 256 % 256}.{i % 256}" for k in range(i % 3)]
            interfaces.append({"NetworkInterfaceId": f"eni-{i:017x}", "SubnetId": "subnet-0abc", "VpcId": "vpc-0abc",
                               "InterfaceType": "interface", "Description": f"node {i}",
                               "Attachment": {"InstanceId": f"i-{i:017x}"},
                               "PrivateIpAddresses": [{"PrivateIpAddress": a, "Primary": k == 0}
                                                      for k, a in enumerate(addrs)]})
        path.write_text(json.dumps({"NetworkInterfaces": interfaces}))
    logs = DATA / f"enis-{n}.log"
    if not logs.exists():
        lines = [HEADER]
        for i in range(n):
            primary = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
            lines.append(f"2 123456789012 eni-{i:017x} 203.0.113.{i % 250 + 1} {primary} {1024 + i % 60000} 443 6 3 "
                         f"900 1764288000 1764288059 ACCEPT OK")
        logs.write_text("\n".join(lines) + "\n")
    with Peak() as p:
        inventory = eniflow.Inventory.load(path, at=1764288000)
        loaded = time.perf_counter() - p.t0
        resolved = eniflow.resolve(eniflow.read(logs), inventory)
        summary = resolved.summary()
    return {"input": f"{n:,} ENIs in the inventory ({path.stat().st_size / 2**20:.0f} MB JSON), {n:,} records",
            "seconds": p.seconds, "peak_rss": p.peak, "base_rss": p.base,
            "outcome": f"loaded in {loaded:.1f} s; resolved: " + ", ".join(f"{k} {v:,}" for k, v in summary.items() if v),
            "lost": n - sum(summary.values())}


CASES = {"line": case_line, "objects": case_objects, "small": case_small, "file": case_file, "enis": case_enis}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], default=[])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)  # internal: the S3 stand-in (objects, port file)
    args = parser.parse_args()
    if args.serve:
        _s3_server(int(args.serve[0]), args.serve[1])
        return
    DATA.mkdir(parents=True, exist_ok=True)
    if args.case:
        print(json.dumps(CASES[args.case](args.quick)))
        return
    print(f"{'case':8} {'seconds':>8} {'peak RSS':>10} {'after imports':>14}  lost  outcome")
    for name in args.cases or list(CASES):
        run = subprocess.run([sys.executable, __file__, "--case", name] + (["--quick"] if args.quick else []),
                             capture_output=True, text=True, check=False)
        if run.returncode:
            print(f"{name:8} failed:\n{run.stderr[-2000:]}")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{name:8} {r['seconds']:8.1f} {mb(r['peak_rss']):>10} {mb(r['base_rss']):>14} {r['lost']:>5}  "
              f"{r['input']}: {r['outcome']}", flush=True)


if __name__ == "__main__":
    main()
