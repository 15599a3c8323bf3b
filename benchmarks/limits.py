"""Limits: what eniflow does with inputs at the edge of the plausible, and what memory it takes.

    .venv/bin/python benchmarks/limits.py                 # all four (about 10 minutes; 5 GB of disk)
    .venv/bin/python benchmarks/limits.py line enis       # some of them
    .venv/bin/python benchmarks/limits.py --quick         # small sizes, to try the script
    ENIFLOW_LIMIT_ENIS=20000 .venv/bin/python benchmarks/limits.py enis   # another inventory size

Cases (each runs in a fresh process, so peak memory is its own; RSS is sampled every 50 ms
over the process and its children):

line     a 100 MB single line between 1,000 good records at each end
objects  an S3 prefix of a million objects, listed through eniflow's S3 source from a local
         HTTP server that answers ListObjectsV2 with pages of synthetic AWS-style keys (moto
         holds every object in memory and lists a million far too slowly to measure eniflow);
         measures the streamed listing and the list of items read() keeps
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
    """Peak RSS of this process plus its children while the block runs."""

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
            self.peak = max(self.peak, _rss(me) + sum(_rss(c) for c in _children(me)))
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


def _listing_server(objects: int):
    """A loopback HTTP server answering ListObjectsV2 with AWS-style flow log keys, 1,000 a page."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit
    from xml.sax.saxutils import escape

    prefix = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/"

    def key(i: int) -> str:
        return f"{prefix}123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261128T{i // 60 % 24:02d}{i % 60:02d}Z_{i:08x}.log.gz"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            q = parse_qs(urlsplit(self.path).query)
            start = int((q.get("continuation-token") or ["0"])[0])
            end = min(start + 1000, objects)
            contents = "".join(f"<Contents><Key>{escape(key(i))}</Key><LastModified>2026-11-28T00:00:00.000Z"
                               f"</LastModified><ETag>&quot;x&quot;</ETag><Size>{1000 + i % 1000}</Size>"
                               "<StorageClass>STANDARD</StorageClass></Contents>" for i in range(start, end))
            more = end < objects
            body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/'
                    f'2006-03-01/"><Name>flow-logs</Name><Prefix>AWSLogs/</Prefix><KeyCount>{end - start}</KeyCount>'
                    f"<MaxKeys>1000</MaxKeys><IsTruncated>{'true' if more else 'false'}</IsTruncated>{contents}"
                    + (f"<NextContinuationToken>{end}</NextContinuationToken>" if more else "")
                    + "</ListBucketResult>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def case_objects(quick: bool) -> dict:
    from eniflow.aws import AwsOptions
    from eniflow.sources import Context, expand

    objects = 20_000 if quick else 1_000_000
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = _listing_server(objects)
    ctx = Context(AwsOptions(region="us-east-1", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}"))
    with Peak() as streamed:
        count = sum(1 for _ in expand("s3://flow-logs/AWSLogs/", ctx))
    with Peak() as held:
        items = list(expand("s3://flow-logs/AWSLogs/", ctx))  # what read() keeps before parsing
    server.shutdown()
    return {"input": f"{objects:,} objects under one prefix", "seconds": streamed.seconds,
            "peak_rss": streamed.peak, "base_rss": streamed.base,
            "outcome": f"{count:,} items streamed (peak {mb(streamed.peak)}, {streamed.seconds:.0f} s); "
                       f"the list read() keeps: {len(items):,} items, peak {mb(held.peak)} "
                       f"(+{mb(held.peak - streamed.peak)})",
            "lost": objects - count}


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


CASES = {"line": case_line, "objects": case_objects, "file": case_file, "enis": case_enis}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], default=[])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()
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
