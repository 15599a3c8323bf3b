"""User-given times: Unix seconds, ISO 8601, or a duration ago ('90m', '2h', '3d', '1w')."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from .errors import UsageError

__all__ = ["parse_time", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> int:
    match = _DURATION.match(str(text))
    if not match:
        raise UsageError(f"cannot read the duration {text!r}; write e.g. '90s', '15m', '2h', '3d' or '1w'.")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def parse_time(value: int | float | str | datetime | None, *, now: float | None = None) -> int | None:
    """Unix seconds for a --since/--until value (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp())
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}", text):
        number = int(text)
        return number // 1000 if number > 100_000_000_000 else number
    if _DURATION.match(text):
        return int((now if now is not None else time.time()) - parse_duration(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"cannot read the time {text!r}; use ISO 8601 (2026-11-28T10:00:00Z), "
                         "Unix seconds, or a duration ago such as '2h'.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())
