"""Simulation speed: records per second for the built-in 'mixed' scenario, against reading the
same output back with `gzip -dc | wc -l` in the same run.

    .venv/bin/python benchmarks/simulate.py                     # 10 million records
    .venv/bin/python benchmarks/simulate.py --records 1000000 --layout hive --file-format parquet

Output goes to a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--layout", default="default")
    parser.add_argument("--file-format", default="text")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from eniflow.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="eniflow-sim-bench-") as tmp:
        began = time.perf_counter()
        result = simulate("mixed", tmp, records=args.records, layout=args.layout, file_format=args.file_format,
                          seed=args.seed)
        took = time.perf_counter() - began
        size = sum(Path(f).stat().st_size for f in result.files)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"simulate mixed: {result.records:,} records in {took:.1f} s = {result.records / took / 1e6:.2f} M records/s "
              f"({len(result.files)} files, {size / 1e6:,.0f} MB, peak RSS {peak:,.0f} MB)")
        if args.file_format == "text":
            began = time.perf_counter()
            files = " ".join(f"'{f}'" for f in result.files)
            lines = int(subprocess.run(f"gzip -dc {files} | wc -l", shell=True, check=True, capture_output=True,
                                       text=True).stdout)
            read = time.perf_counter() - began
            print(f"gzip -dc | wc -l of the same files: {lines:,} lines in {read:.1f} s; "
                  f"simulate takes {took / read:.1f}x as long as decompressing its output")


if __name__ == "__main__":
    main()
