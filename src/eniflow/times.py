"""User-given times: Unix seconds, ISO 8601, or a duration ago ('90m', '2h', '3d', '1w')."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from .errors import UsageError

__all__ = ["parse_time", "parse_duration", "time_in_name"]

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


# A date and time in a file name, ISO 8601 with the separators optional or '-' for ':' (file names
# cannot hold ':' everywhere): enis-2026-12-01T09:00:00Z.json, enis-2026-12-01T09-00Z.json,
# enis-20261201T0900Z.json (the style of AWS's own object names). The 'T' is required, so that
# other digits in a name (an account id, a counter) are never read as a time.
_NAME_TIME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?"
                        r"(Z|[+-]\d{2}(?::?\d{2})?)?(?!\d)")


def time_in_name(name: str) -> int | None:
    """Unix seconds of the last date-time in a file name (UTC unless it gives an offset), else None."""
    found = None
    for match in _NAME_TIME.finditer(name):
        year, month, day, hour, minute, second, zone = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                              tzinfo=timezone.utc)
        except ValueError:  # 2026-13-45T99: digits, not a time
            continue
        offset = 0
        if zone and zone != "Z":
            digits = zone[1:].replace(":", "")
            offset = (1 if zone[0] == "+" else -1) * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
        found = int(moment.timestamp()) - offset
    return found
