"""Local files, directories (recursive), globs and stdin."""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from ..errors import InputError

__all__ = ["FileItem", "StdinItem", "expand_local"]


@dataclass(frozen=True)
class FileItem:
    name: str
    size: int | None = None
    format: tuple[str, ...] | None = None

    def open(self) -> BinaryIO:
        try:
            # Unbuffered: each read is one system call of the size asked for, so a compressed
            # object is read (and decompressed) in one piece rather than a buffer's worth first.
            return open(self.name, "rb", buffering=0)
        except OSError as exc:
            raise InputError(f"{self.name}: cannot open ({exc.strerror}); check the path and its permissions.",
                             self.name) from exc


@dataclass(frozen=True)
class StdinItem:
    """Standard input."""

    name: str = "-"
    size: int | None = None
    format: tuple[str, ...] | None = None

    def open(self) -> BinaryIO:
        return sys.stdin.buffer


def _walk(root: str) -> list[str]:
    """Every non-hidden file below ``root``, in path order (as S3 lists keys)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(folder, name) for name in files if not name.startswith("."))
    return sorted(found)


def expand_local(spec: str, ctx) -> Iterator[FileItem | StdinItem]:
    if spec == "-":
        yield StdinItem(format=ctx.format)
        return
    if os.path.isdir(spec):
        paths = _walk(spec)
        if not paths:
            raise InputError(f"{spec}: the directory holds no files.", spec)
    elif os.path.exists(spec):
        paths = [spec]
    elif glob.has_magic(spec):
        paths = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
        if not paths:
            raise InputError(f"{spec}: no file matches this pattern.", spec)
    else:
        raise InputError(f"{spec}: no such file or directory.", spec)
    for path in paths:
        yield FileItem(path, os.path.getsize(path), ctx.format)
