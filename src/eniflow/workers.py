"""Worker processes for large reads, started as ``python -m eniflow.workers``.

Plain subprocesses rather than multiprocessing: spawn and forkserver re-import the
caller's main module (a script without an ``if __name__ == "__main__"`` guard would
start readers recursively), and fork is unsafe once Polars or DuckDB threads exist.
Each worker gets its tasks as one pickle on stdin and sends one length-prefixed pickle
per finished task on stdout: ``(index, result)`` or ``(index, exception)``.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from typing import Callable

__all__ = ["run_in_workers"]

_LEN = struct.Struct("!Q")


def run_in_workers(function: Callable, tasks: list, args: tuple, workers: int,
                   on_done: Callable[[int, object], None]) -> list:
    """``[function(task, *args) for task in tasks]`` across ``workers`` processes, in task order."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    results: dict[int, object] = {}
    inbox: queue.Queue = queue.Queue()
    procs = []
    for w in range(workers):
        mine = [(i, task) for i, task in enumerate(tasks) if i % workers == w]
        if not mine:
            continue
        proc = subprocess.Popen([sys.executable, "-m", "eniflow.workers"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env)
        proc.stdin.write(pickle.dumps((function, mine, args)))
        proc.stdin.close()
        threading.Thread(target=_collect, args=(proc, len(mine), inbox), daemon=True).start()
        procs.append(proc)
    try:
        for _ in range(len(tasks)):
            index, value = inbox.get()
            if isinstance(value, BaseException):
                raise value
            results[index] = value
            on_done(index, value)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return [results[i] for i in range(len(tasks))]


def _collect(proc: subprocess.Popen, expected: int, inbox: queue.Queue) -> None:
    received = 0
    try:
        while received < expected:
            head = proc.stdout.read(_LEN.size)
            if len(head) < _LEN.size:
                break
            inbox.put(pickle.loads(proc.stdout.read(_LEN.unpack(head)[0])))
            received += 1
    finally:
        if received < expected:
            from .errors import EniflowError

            code = proc.wait()
            inbox.put((-1, EniflowError(f"a reader process stopped unexpectedly (exit code {code}); "
                                        "run again with --debug, or with fewer sources at a time.")))


def _main() -> None:
    function, tasks, args = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but results may reach the pipe
    for index, task in tasks:
        try:
            value = function(task, *args)
        except Exception as exc:  # sent to the parent, which raises it
            value = exc
        data = pickle.dumps((index, value))
        out.write(_LEN.pack(len(data)) + data)
        out.flush()
        if isinstance(value, BaseException):
            return


if __name__ == "__main__":
    _main()
