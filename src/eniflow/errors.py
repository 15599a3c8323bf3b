"""Every error eniflow raises on purpose, as one small hierarchy.

The CLI turns each into one sentence and an exit code; ``--debug`` shows the
traceback. Messages name the place (file:line, S3 key, log group) and the fix.
"""

from __future__ import annotations

__all__ = [
    "EniflowError",
    "UsageError",
    "InputError",
    "MalformedRecordError",
    "AwsError",
    "AwsAccessDenied",
    "AwsNotFound",
]


class EniflowError(Exception):
    """Base class: a problem the user can act on. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(EniflowError):
    """Wrong options or arguments (unknown field in --format, bad time, ...)."""

    exit_code = 2


class InputError(EniflowError):
    """A source could not be read (missing file, corrupt gzip, unreadable Parquet)."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        super().__init__(message)
        self.source = source
        self.line = line


class MalformedRecordError(InputError):
    """A record line that does not fit its format (raised only with ``strict``)."""


class AwsError(EniflowError):
    """An AWS call failed; ``action`` names the IAM action involved."""

    def __init__(self, message: str, action: str | None = None, resource: str | None = None):
        super().__init__(message)
        self.action = action
        self.resource = resource


class AwsAccessDenied(AwsError):
    """The credentials lack a permission."""


class AwsNotFound(AwsError):
    """A bucket, key or log group does not exist."""
