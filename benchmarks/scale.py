"""Scale: read + resolve + top on DuckDB and on Spark local mode, at growing record counts.

    .venv/bin/python benchmarks/scale.py                       # 1M and 10M records, both engines
    .venv/bin/python benchmarks/scale.py --records 100000      # a quick try
    .venv/bin/python benchmarks/scale.py --engines spark --master 'local[2]'

Data: the built-in 'mixed' scenario scaled to N records, as AWS delivers it (gzip text, one
file per flow log and 5 minutes), written once under bench-data/scale/ (gitignored). Each
engine runs in its own process, so memory and JIT warm-up are its own; Spark's session start
is reported apart. Per phase: seconds, and records per second per core (this machine's cores,
which other work may share: compare ratios measured in one run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data" / "scale"


def data(records: int) -> list[str]:
    """The simulated files for ``records`` (made once)."""
    out = DATA / f"mixed-{records}"
    listing = out / "files.json"
    if not listing.exists():
        from eniflow.simulate import simulate

        result = simulate("mixed", out, records=records)
        listing.write_text(json.dumps(result.files))
    return json.loads(listing.read_text())


def run(engine: str, records: int, master: str) -> dict:
    """One engine on one size, in this process: seconds per phase."""
    files = data(records)
    times = {}
    started = time.perf_counter()
    if engine == "spark":
        from eniflow.engines.spark import spark_session
        from eniflow.engines.spark_read import read_spark

        spark = spark_session(master, {"spark.driver.memory": os.environ.get("ENIFLOW_SPARK_MEMORY", "3g")})
        spark.sparkContext.setLogLevel("ERROR")
        times["session"] = time.perf_counter() - started
        started = time.perf_counter()
        flows = read_spark(spark, files)
    else:
        import eniflow

        flows = eniflow.read(files)
    times["read"] = time.perf_counter() - started
    from eniflow.analyses.top import top
    from eniflow.resolve import resolve

    started = time.perf_counter()
    resolved = resolve(flows)
    summary = resolved.summary()
    times["resolve"] = time.perf_counter() - started
    started = time.perf_counter()
    top(resolved, by="dst_ip", n=10)  # computes the ranking (a handful of rows) before returning
    times["top"] = time.perf_counter() - started
    return {"engine": engine, "records": flows.stats.rows, "lines": flows.stats.lines, "times": times,
            "peer": summary["peer"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child[0], int(args.child[1]), args.master)))
        return
    cores = os.cpu_count() or 1
    print(f"{'engine':8} {'records':>10} {'session':>8} {'read':>8} {'resolve':>8} {'top':>8} {'total':>8} "
          f"{'rec/s/core':>11}")
    for records in args.records:
        data(records)
        for engine in args.engines:
            out = subprocess.run([sys.executable, __file__, "--master", args.master, "--child", engine, str(records)],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            t = result["times"]
            work = t["read"] + t["resolve"] + t["top"]
            print(f"{engine:8} {result['records']:>10,} {t.get('session', 0):>8.1f} {t['read']:>8.1f} "
                  f"{t['resolve']:>8.1f} {t['top']:>8.1f} {work:>8.1f} {result['records'] / work / cores:>11,.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
