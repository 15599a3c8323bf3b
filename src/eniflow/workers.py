"""Parallel reads: this process and worker processes (``python -m eniflow.workers``) take
tasks from one shared stream as they become free, so the listing is consumed as it is
produced and a slow task never holds back the others.

Plain subprocesses rather than multiprocessing: spawn and forkserver re-import the
caller's main module (a script without an ``if __name__ == "__main__"`` guard would
start readers recursively), and fork is unsafe once Polars or DuckDB threads exist.
A worker gets ``(function, args)`` and then one ``(index, task)`` at a time on stdin, each a
length-prefixed pickle, and answers each with ``(index, result)`` or ``(index, exception)``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import threading
from typing import BinaryIO, Callable, Iterable

__all__ = ["run_in_workers", "reuse_freed_memory"]

_LEN = struct.Struct("!Q")


def run_in_workers(function: Callable, tasks: Iterable, args: tuple, workers: int,
                   on_done: Callable[[object], None]) -> None:
    """``on_done(function(task, *args))`` for every task, in task order, computed by this
    process and ``workers - 1`` worker processes. The first error (from a task or from
    ``tasks`` itself) stops the rest and is raised here."""
    # One Polars thread per process: the processes already share the cores, more threads only
    # contend; no idle OpenBLAS threads either (pyarrow imports numpy).
    env = {"POLARS_MAX_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **os.environ,
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    source, lock = enumerate(tasks), threading.Lock()
    done: dict[int, object] = {}
    state = {"next": 0, "error": None}

    def take():
        with lock:
            if state["error"] is None:
                try:
                    return next(source)
                except StopIteration:
                    pass
                except BaseException as exc:  # a listing error: stop everyone, raise it below
                    state["error"] = exc
        return None

    def finish(index: int, value) -> None:
        with lock:
            if isinstance(value, BaseException):
                state["error"] = state["error"] or value
                return
            done[index] = value
            while state["next"] in done:  # hand results on in task order, keeping only the early ones
                on_done(done.pop(state["next"]))
                state["next"] += 1

    def remote(proc: subprocess.Popen) -> None:
        try:
            _send(proc.stdin, (function, args))
            while (job := take()) is not None:
                _send(proc.stdin, job)
                finish(*_receive(proc))
        except OSError:  # the pipe broke: the worker is gone
            finish(-1, _stopped(proc))
        except BaseException as exc:
            finish(-1, exc)
        finally:
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):  # a broken pipe has nothing left to say
                    pipe.close()

    procs = [subprocess.Popen([sys.executable, "-m", "eniflow.workers"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env) for _ in range(workers - 1)]
    threads = [threading.Thread(target=remote, args=(proc,), daemon=True) for proc in procs]
    try:
        for thread in threads:
            thread.start()
        while (job := take()) is not None:
            index, task = job
            try:
                value = function(task, *args)
            except BaseException as exc:
                value = exc
            finish(index, value)
        if state["error"] is not None:  # the others' work is lost anyway: stop it now
            for proc in procs:
                proc.kill()
        for thread in threads:
            thread.join()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    if state["error"] is not None:
        raise state["error"]


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


def _send(pipe: BinaryIO, value) -> None:
    data = pickle.dumps(value)
    pipe.write(_LEN.pack(len(data)) + data)
    pipe.flush()


def _read(pipe: BinaryIO):
    """The next length-prefixed pickle on ``pipe``; None when the other side has closed it."""
    head = pipe.read(_LEN.size)
    return pickle.loads(pipe.read(_LEN.unpack(head)[0])) if len(head) == _LEN.size else None


def _receive(proc: subprocess.Popen):
    value = _read(proc.stdout)
    if value is None:
        raise _stopped(proc)
    return value


def _stopped(proc: subprocess.Popen) -> Exception:
    from .errors import EniflowError

    return EniflowError(f"a reader process stopped unexpectedly (exit code {proc.wait()}); "
                        "run again with --debug, or with fewer sources at a time.")


def _main() -> None:
    pipe, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but results may reach the pipe
    reuse_freed_memory()
    function, args = _read(pipe)
    while (job := _read(pipe)) is not None:
        index, task = job
        try:
            value = function(task, *args)
        except Exception as exc:  # sent to the parent, which raises it
            value = exc
        _send(out, (index, value))


if __name__ == "__main__":
    _main()
