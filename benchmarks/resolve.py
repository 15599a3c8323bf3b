"""Resolution speed and memory against reading the same files, in the same run.

    .venv/bin/python benchmarks/resolve.py                       # 10 million records of `mixed`
    .venv/bin/python benchmarks/resolve.py --records 1000000

Data: the simulator's `mixed` scenario (300+ instances, secondary IPs, /28 prefixes, a NAT
gateway; every ENI logged, so both sides of in-VPC flows are there), written once under
bench-data/resolve-mixed-N/ (gitignored) and reused. Measured: `eniflow.read` of those
files (parse to the spool), then `eniflow.resolve` with the inventory of the topology (all
tables built) and one full scan of the `resolved` view. The target: resolve at most 2x the
read time, peak RSS under 4 GiB (the reader's threads run in this process).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"


def generate(records: int, seed: int) -> Path:
    """Simulated `mixed` flow logs under bench-data/resolve-mixed-N/ (reused if complete)."""
    from eniflow.simulate import simulate

    out = DATA / f"resolve-mixed-{records}"
    done = out / ".complete"
    if not done.exists():
        began = time.perf_counter()
        result = simulate("mixed", out, seed=seed, records=records)
        (out / "start").write_text(str(result.start))
        done.touch()
        print(f"simulated {result.records:,} records in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return out


def inventory(out: Path, seed: int):
    """What describe-network-interfaces would print for the simulated topology, at its start."""
    from eniflow.inventory import Inventory
    from eniflow.simulate import load_topology
    from eniflow.simulate.generate import expand

    topo = expand(load_topology("mixed"), seed)
    start = int((out / "start").read_text())
    return Inventory.from_document(topo.describe_network_interfaces(at=start), at=start, source="topology")


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-inventory", action="store_true", help="Resolve from the logs alone.")
    args = parser.parse_args()

    import eniflow

    out = generate(args.records, args.seed)
    inv = None if args.no_inventory else inventory(out, args.seed)

    began = time.perf_counter()
    flows = eniflow.read(out / "AWSLogs")
    read_s = time.perf_counter() - began
    records = flows.stats.lines - flows.stats.headers - flows.stats.blank

    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    began = time.perf_counter()
    resolved = eniflow.resolve(flows, inv)
    mix = resolved.summary()
    build_s = time.perf_counter() - began
    rows, located = resolved.con.execute("SELECT count(*), count(local_ip) FROM resolved").fetchone()
    resolve_s = time.perf_counter() - began
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults

    print(f"records          {records:,} (resolved view: {rows:,} rows, {located:,} with local_ip)")
    print(f"read             {read_s:6.1f} s  ({records / read_s / 1e6:.2f} M records/s)")
    print(f"resolve          {resolve_s:6.1f} s  (tables {build_s:.1f} s + full scan of resolved "
          f"{resolve_s - build_s:.1f} s)")
    print(f"resolve / read   {resolve_s / read_s:6.2f}  (target <= 2.00)")
    print(f"page faults      {faults:,} in the resolve (fresh pages: see benchmarks/fresh_memory.py)")
    print(f"peak RSS         {peak_mib(resource.RUSAGE_SELF):,.0f} MiB  (target < 4096)")
    print("resolution mix   " + ", ".join(f"{k} {v:,} ({v / max(rows, 1):.1%})" for k, v in mix.items()))


if __name__ == "__main__":
    main()
