"""Reading speed and memory, against `gzip -dc` and flowlogs-reader in the same run.

    .venv/bin/python benchmarks/read.py                  # 10 million records, 3 rounds (about a minute once written)
    .venv/bin/python benchmarks/read.py --records 1000000 --baseline-records 200000 --repeat 1
    .venv/bin/python benchmarks/read.py --stages         # also: each stage's core-seconds per million records

Data: default-format (version 2) records in S3-like gzip files of 100,000 records each,
written once under bench-data/ (gitignored) and reused. eniflow runs from this checkout's
src/ with the interpreter running the script. flowlogs-reader is installed into a throwaway
venv under bench-data/ and parses whole files from the start of the same set, with the code
its S3FlowLogsReader runs on each gzip object (gzip text stream, csv.DictReader, FlowRecord)
minus the download; its rate is per record, so a prefix measures it fairly. Ratios compare
records per second; every case runs once per round and the table shows medians, with the
load average before and after (other work on the machine moves every figure). --stages then
times each stage of a task on one core in a fresh process (decompression, parse, spool write),
which bounds the rate on two cores whatever the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"
PER_FILE = 100_000
HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def generate(records: int) -> Path:
    """S3-like gzip files under bench-data/read-N/ (vectorised with Polars; reused if present)."""
    import numpy as np
    import polars as pl
    from isal import igzip

    out = DATA / f"read-{records}"
    done = out / ".complete"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    enis = np.array([f"eni-{v:017x}" for v in rng.integers(0, 2**60, 500)])
    start = 1_764_288_000

    def text(values) -> pl.Series:
        return pl.Series(values).cast(pl.String)

    for i in range(0, records, PER_FILE):
        n = min(PER_FILE, records - i)
        t = start + (i // PER_FILE) * 300 + rng.integers(0, 300, n)
        src = pl.format("10.0.{}.{}", text(rng.integers(0, 256, n)), text(rng.integers(1, 255, n)))
        dst = pl.format("10.1.{}.{}", text(rng.integers(0, 256, n)), text(rng.integers(1, 255, n)))
        df = pl.DataFrame({"t": t}).select(pl.concat_str([
            pl.lit("2 123456789012"), text(rng.choice(enis, n)), src, dst, text(rng.integers(1024, 65536, n)),
            text(rng.choice([443, 80, 22, 53, 5432], n)), pl.lit("6"), text(rng.integers(1, 500, n)),
            text(rng.integers(40, 10**6, n)), pl.col("t").cast(pl.String), (pl.col("t") + 60).cast(pl.String),
            text(rng.choice(["ACCEPT", "REJECT"], n, p=[0.9, 0.1])), pl.lit("OK")], separator=" ").alias("l"))
        body = HEADER + "\n" + "\n".join(df.get_column("l").to_list()) + "\n"
        name = f"123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261128T{(i // PER_FILE) % 24:02d}{(i // PER_FILE) % 60:02d}Z_{i:08x}.log.gz"
        (out / name).write_bytes(igzip.compress(body.encode(), 1))
    done.touch()
    return out


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def run(cmd: list[str] | str, shell: bool = False, env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the process tree, stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {cmd}\n{err[-2000:]}")
    return elapsed, peak[0], out


def flowlogs_reader_python() -> Path:
    venv = DATA / "venv-flowlogs-reader"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "flowlogs-reader"], check=True)
    return py


# S3FlowLogsReader._read_file and _reader (flowlogs-reader 5) on a local file instead of a GetObject body.
FLOWLOGS_READER = """
import csv, gzip, sys
from flowlogs_reader import FlowRecord
n = 0
for path in sys.argv[1:]:
    with gzip.open(path, "rt") as f:
        reader = csv.DictReader(f, delimiter=" ")
        reader.fieldnames = [name.replace("-", "_") for name in reader.fieldnames]
        for row in reader:
            FlowRecord(row)
            n += 1
print(n)
"""


# Each stage of one task on one core (POLARS_MAX_THREADS=1), in a fresh process:
# the best of 3 passes over the same files, in core-seconds per million records.
STAGES = """
import importlib, json, os, sys, tempfile, time
files, per_file = sys.argv[1:-1], int(sys.argv[-1])
read = importlib.import_module("eniflow.read")
from isal import isal_zlib
from eniflow.formats import DEFAULT
from eniflow.parse import ReadStats, _Parser
from eniflow.sources import Context
from eniflow.sources.local import FileItem
import pyarrow.parquet

def best(work):
    times = []
    for _ in range(3):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times) / (len(files) * per_file / 1e6)

compressed = [open(f, "rb").read() for f in files]
texts = [isal_zlib.decompress(c, wbits=31) for c in compressed]
frames = []
def parse():
    frames.clear()
    for f, t in zip(files, texts):
        out = []  # what parse_source does with one decompressed chunk
        _Parser(f, DEFAULT, "", out.append, ReadStats(), False).feed_text(t)
        frames.append((f, out))
def spool(codec):
    def work():
        with tempfile.TemporaryDirectory() as d:
            parts = read._Spool(d, codec)
            for f, out in frames:
                for frame in out:
                    parts.add(frame, f)
            parts.close()
    return work
def task():
    with tempfile.TemporaryDirectory() as d:
        read._run_task([FileItem(f, os.path.getsize(f)) for f in files], Context(), False, d, None)
from eniflow.workers import reuse_freed_memory
reuse_freed_memory()
print(json.dumps({
    "gzip decompression (python-isal)": best(lambda: [isal_zlib.decompress(c, wbits=31) for c in compressed]),
    "typed parse (Polars CSV, fast path)": best(parse),
    "spool write, uncompressed (read())": best(spool(None)),
    "spool write, snappy + statistics (-o parquet)": best(spool("snappy")),
    "spool write, zstd + statistics (--compression zstd)": best(spool("zstd")),
    "a whole task, uncompressed (all of the above)": best(task),
}))
"""


def stages(files: list[str], env: dict) -> None:
    """Print where one core's time goes, per million records, and a process's start-up cost."""
    import json

    sample = files[:20]
    out = subprocess.run([sys.executable, "-c", STAGES, *sample, str(PER_FILE)], capture_output=True, text=True,
                         env={**env, "POLARS_MAX_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}, check=True)
    print(f"\nper million records on one core ({len(sample) * PER_FILE:,} records, best of 3):")
    for name, seconds in json.loads(out.stdout).items():
        print(f"  {name:48} {seconds:6.3f} core-s")
    started = os.times()
    subprocess.run([sys.executable, "-c", "import importlib; importlib.import_module('eniflow.read'); "
                    "import isal.isal_zlib, pyarrow.parquet"], env=env, check=True)
    ended = os.times()
    cpu = ended.children_user + ended.children_system - started.children_user - started.children_system
    print(f"  {'the process starting (interpreter, imports)':48} {cpu:6.3f} core-s once")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--baseline-records", type=int, default=300_000,
                    help="records flowlogs-reader parses (rounded down to whole files)")
    ap.add_argument("--skip-flowlogs-reader", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="rounds of runs; the table shows medians")
    ap.add_argument("--stages", action="store_true", help="also print each stage's core-seconds per million records")
    args = ap.parse_args()

    data = generate(args.records)
    files = sorted(str(p) for p in data.glob("*.log.gz"))
    size = sum(os.path.getsize(f) for f in files)
    print(f"data: {args.records:,} records in {len(files)} gzip files, {size / 1e6:.0f} MB ({data})")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    eniflow = [sys.executable, "-c", "from eniflow.cli import main; main()"]
    out = DATA / "out.parquet"
    import pyarrow.parquet as pq

    def gzip_dc() -> tuple[float, int, int]:
        t, rss, wc = run(f"gzip -dc {data}/*.log.gz | wc -l", shell=True)
        assert int(wc) == args.records + len(files)
        return t, rss, args.records

    sizes = {}

    def to_parquet(*extra: str):
        def case() -> tuple[float, int, int]:
            t, rss, _ = run([*eniflow, "read", str(data), "-o", "parquet", "--out", str(out), *extra], env=env)
            assert pq.ParquetFile(out).metadata.num_rows == args.records
            sizes[extra] = out.stat().st_size
            return t, rss, args.records
        return case

    def count() -> tuple[float, int, int]:
        code = f"import eniflow; f = eniflow.read({str(data)!r}); print(f.count())"
        t, rss, n = run([sys.executable, "-c", code], env=env)
        assert int(n) == args.records, n
        return t, rss, args.records

    def flowlogs_reader() -> tuple[float, int, int]:
        prefix = files[:max(1, args.baseline_records // PER_FILE)]
        t, rss, n = run([str(flowlogs_reader_python()), "-c", FLOWLOGS_READER, *prefix])
        assert int(n) == min(len(prefix) * PER_FILE, args.records), n
        return t, rss, int(n)

    cases = [("gzip -dc | wc -l", gzip_dc), ("eniflow read DIR -o parquet --out F", to_parquet()),
             ("eniflow.read(DIR) + count", count), ("  ... -o parquet --compression zstd", to_parquet("--compression", "zstd"))]
    if not args.skip_flowlogs_reader:
        cases.append(("flowlogs-reader", flowlogs_reader))
    runs = {name: [] for name, _ in cases}
    for _ in range(args.repeat):  # rounds of every case, so a change in load touches them alike
        for name, case in cases:
            runs[name].append(case())
    rows = []
    for name, results in runs.items():
        t = statistics.median(r[0] for r in results)
        n = results[0][2]
        rows.append((f"{name} ({n:,} records)" if name == "flowlogs-reader" else name, t,
                     max(r[1] for r in results), n / t))
    baseline = rows[4][3] if len(rows) > 4 else None

    gzip_rate = rows[0][3]
    print(f"\nmedian of {args.repeat} runs (peak RSS: the largest)")
    print(f"{'what':36} {'seconds':>8} {'peak RSS':>9} {'records/s':>12} {'vs gzip -dc':>11} {'vs flowlogs-reader':>18}")
    for name, t, rss, rate in rows:
        versus = f"{rate / baseline:17.1f}x" if baseline else f"{'-':>18}"
        print(f"{name:36} {t:8.2f} {rss / 2**20:7.0f}MB {rate:12,.0f} {rate / gzip_rate:10.2f}x {versus}")
    print("Parquet output: {:.0f} MB snappy (the default), {:.0f} MB zstd".format(sizes[()] / 1e6, sizes[("--compression", "zstd")] / 1e6))
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    out.unlink(missing_ok=True)
    if args.stages:
        stages(files, env)


if __name__ == "__main__":
    main()
