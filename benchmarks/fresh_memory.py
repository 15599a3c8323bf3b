"""What memory the process has never touched costs on this machine: the context for resolve.py.

    .venv/bin/python benchmarks/fresh_memory.py            # 1 GiB, rested 10 s for the cold case
    .venv/bin/python benchmarks/fresh_memory.py --mib 256 --rest 5

Three ways to write one byte into each 4 KiB page of a new anonymous mapping:
cold     after the machine has rested: pages the kernel hands out for the first time in a while
warm     at once after the same amount was freed (pages the kernel had just taken back)
touched  the same mapping written again (the baseline: memory already in the process)
On a virtual machine whose host takes back the guest's free memory (free page reporting, as
on Firecracker here), cold pages cost the host's fault too. The resolver's page faults
(resolve.py prints them) times the cold cost per page is what fresh memory costs it.
"""

from __future__ import annotations

import argparse
import mmap
import time

PAGE = 4096


def touch(m: mmap.mmap, size: int) -> float:
    """Seconds to write one byte into each page of ``m``."""
    began = time.perf_counter()
    for offset in range(0, size, PAGE):
        m[offset] = 1
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="How much to touch each time (MiB).")
    parser.add_argument("--rest", type=float, default=10.0, help="Seconds idle before the cold case.")
    args = parser.parse_args()
    size = args.mib << 20
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS

    time.sleep(args.rest)
    m = mmap.mmap(-1, size, flags=flags)
    cold = touch(m, size)
    touched = touch(m, size)
    m.close()
    m = mmap.mmap(-1, size, flags=flags)
    warm = touch(m, size)
    m.close()

    per_gib = (1 << 30) / size
    pages = size // PAGE
    for name, seconds in (("cold", cold), ("warm", warm), ("touched", touched)):
        print(f"{name:8s} {seconds * per_gib:6.2f} s per GiB  {seconds / pages * 1e6:6.2f} µs per page  "
              f"({seconds / touched:5.1f}x touched)")


if __name__ == "__main__":
    main()
