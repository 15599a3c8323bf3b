"""Parallel reads: threads of this process take tasks from one shared stream as they become
free, so the listing is consumed as it is produced and a slow task never holds back the others.

Threads rather than worker processes: decompression (python-isal), Polars' parse and
pyarrow's Parquet writer release the GIL, so two threads keep two cores busy without a second
interpreter's start and imports (about half a core-second) or pickling between processes,
and with one copy of the libraries in memory instead of two.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, Iterable

__all__ = ["run_in_workers", "reuse_freed_memory"]


def run_in_workers(function: Callable, tasks: Iterable, args: tuple, workers: int,
                   on_done: Callable[[object], None]) -> None:
    """``on_done(function(task, *args))`` for every task, in task order, computed by this
    thread and ``workers - 1`` others. An error (from a task, from ``tasks`` itself or from
    ``on_done``) stops the rest: no task starts after it, the running ones end their task,
    and the error raised here is the earliest-listed one (what one thread would have met,
    whatever the timing: an earlier task may still fail); Ctrl-C comes before any."""
    source, lock = iter(tasks), threading.Lock()
    done: dict[int, object] = {}
    state = {"taken": 0, "next": 0, "failed": None}  # failed: (task index, error) of the earliest-listed failure

    def fail(index: int, exc: BaseException) -> None:
        if state["failed"] is None or index < state["failed"][0]:
            state["failed"] = (index, exc)
            for later in [i for i in done if i > index]:  # never handed on now: let them go
                del done[later]

    def take():
        with lock:
            if state["failed"] is None:
                try:
                    task = next(source)
                except StopIteration:
                    return None
                except BaseException as exc:  # a listing error: in the place of the task it would have been
                    fail(state["taken"], exc)
                    return None
                state["taken"] += 1
                return state["taken"] - 1, task
        return None

    def finish(index: int, value) -> None:
        with lock:
            if isinstance(value, BaseException):
                fail(index if isinstance(value, Exception) else -1, value)  # Ctrl-C: before any task's
                return
            if state["failed"] is not None and index > state["failed"][0]:
                return  # listed after a failure: its result is not wanted
            done[index] = value
            while state["next"] in done:  # hand results on in task order, keeping only the early ones
                try:
                    on_done(done.pop(state["next"]))
                except BaseException as exc:  # on another thread it would end that thread, unseen here
                    fail(state["next"], exc)
                    return
                state["next"] += 1

    def work() -> None:
        while (job := take()) is not None:
            index, task = job
            try:
                value = function(task, *args)
            except BaseException as exc:
                value = exc
            finish(index, value)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers - 1)]
    for thread in threads:
        thread.start()
    try:
        work()
    except BaseException as exc:  # e.g. Ctrl-C between two tasks: the others stop too
        finish(-1, exc)
    for thread in threads:
        thread.join()
    if state["failed"] is not None:
        raise state["failed"][1]


def reuse_freed_memory() -> None:
    """Have glibc's malloc keep freed blocks of up to 32 MB for the next chunk instead of
    unmapping them and faulting fresh zeroed pages in again (about a tenth of the parse's time).
    These are the values glibc itself moves to once such a block is freed; setting them at
    once also stops it from trimming the heap back between chunks. Elsewhere: nothing."""
    global _TUNED
    if _TUNED or not sys.platform.startswith("linux"):
        return
    _TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


_TUNED = False
