"""YAML with the line of every key, and checked reading of values from it.

A mistake in a topology file is reported as ``file:line: what is wrong and how to fix
it``; this module keeps those lines and turns values into checked Python values.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from typing import Any

import yaml

from ..errors import InputError, UsageError
from ..times import parse_duration, parse_time

__all__ = ["TopologyError", "Map", "Checker", "load_yaml", "duration_value", "time_value", "PROTOCOLS"]

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "all": -1, "-1": -1}


class TopologyError(InputError):
    """A topology file that cannot be used, with the file and line of the problem."""


class Map(dict):
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int = 0
    key_lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Map:
    loader.flatten_mapping(node)
    result = Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


class Checker:
    """Reads validated values out of the YAML tree; every error names file:line and the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: Any, key: str | None, message: str):
        line = None
        if isinstance(where, Map):
            line = where.key_lines.get(key, where.line) if key is not None else where.line
        place = f"{self.source}:{line}" if line else self.source
        raise TopologyError(f"{place}: {message}", self.source, line)

    def mapping(self, value: Any, parent: Any, key: str, what: str) -> Map:
        if not isinstance(value, Map):
            self.fail(parent, key, f"'{key}' must be a mapping ({what}), not {_kind(value)}.")
        return value

    def keys(self, node: Map, what: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> None:
        allowed = set(required) | set(optional)
        for key in node:
            if key not in allowed:
                self.fail(node, key, f"{what}: unknown key '{key}' (allowed: {', '.join(sorted(allowed))}).")
        for key in required:
            if key not in node:
                self.fail(node, None, f"{what}: the key '{key}' is missing.")

    def items(self, node: Map, key: str, what: str) -> list[Map]:
        value = node.get(key) or []
        if not isinstance(value, list):
            self.fail(node, key, f"'{key}' must be a list of {what}, not {_kind(value)}.")
        for item in value:
            if not isinstance(item, Map):
                self.fail(node, key, f"every entry of '{key}' must be a mapping ({what}), found {_kind(item)}.")
        return value

    def text(self, node: Map, key: str, what: str, default: str | None = None) -> str | None:
        value = node.get(key, default)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            self.fail(node, key, f"{what}: '{key}' must be a single value, not {_kind(value)}.")
        return str(value)

    def strings(self, node: Map, key: str, what: str) -> list[str]:
        value = node.get(key) or []
        if isinstance(value, (str, int)):
            value = [value]
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
            self.fail(node, key, f"{what}: '{key}' must be a list of values.")
        return [str(v) for v in value]

    def address(self, node: Map, key: str, what: str, value: Any = None, v6: bool = False) -> str:
        raw = node.get(key) if value is None else value
        try:
            ip = ipaddress.ip_address(str(raw))
        except ValueError:
            self.fail(node, key, f"{what}: '{key}' is not an IP address: {raw!r}.")
        if (ip.version == 6) != v6:
            self.fail(node, key, f"{what}: '{key}' must be an IPv{6 if v6 else 4} address, not {raw}.")
        return str(ip)

    def network(self, node: Map, key: str, what: str, value: Any = None):
        raw = node.get(key) if value is None else value
        try:
            return ipaddress.ip_network(str(raw), strict=True)
        except ValueError as exc:
            self.fail(node, key, f"{what}: '{key}' is not a CIDR block ({exc}).")

    def number(self, node: Map, key: str, what: str, default: float | None = None, choices=None) -> float | None:
        value = node.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(node, key, f"{what}: '{key}' must be a number, not {value!r}.")
        if choices and value not in choices:
            self.fail(node, key, f"{what}: '{key}' must be one of {', '.join(map(str, choices))}, not {value}.")
        return value

    def flag(self, node: Map, key: str, what: str, default: bool = False) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.fail(node, key, f"{what}: '{key}' must be true or false, not {value!r}.")
        return value

    def choice(self, node: Map, key: str, what: str, choices: tuple[str, ...], default: str) -> str:
        value = str(node.get(key, default))
        if value not in choices:
            self.fail(node, key, f"{what}: '{key}' must be one of {', '.join(choices)}, not {value!r}.")
        return value


def _kind(value: Any) -> str:
    return {dict: "a mapping", Map: "a mapping", list: "a list", str: f"the text {value!r}"}.get(type(value), repr(value))


def duration_value(check: Checker, node: Map, key: str) -> float:
    value = node.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(parse_duration(str(value)))
    except UsageError:
        check.fail(node, key, f"'{key}' must be seconds or a duration such as 90s, 15m, 2h; not {value!r}.")


def time_value(check: Checker, node: Map, key: str, start: float | None) -> float | None:
    """A time: Unix seconds (>= 1e9), an ISO 8601 timestamp, or an offset from the traffic start."""
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value >= 1e9 or start is None:
            return float(value)
        return start + float(value)
    text = str(value).strip()
    if text.startswith("+") or text[-1:] in "smhdw" and text[:1].isdigit():
        if start is None:
            check.fail(node, key, f"'{key}' is an offset ({text}) but the traffic has no 'start'; give traffic.start.")
        return start + duration_value(check, _offset_map(node, key, text.lstrip("+")), key)
    try:
        return float(parse_time(text))
    except UsageError:
        check.fail(node, key, f"'{key}' must be a time (ISO 8601 or Unix seconds) or an offset such as +90s; not {text!r}.")


def _offset_map(node: Map, key: str, text: str) -> Map:
    copy = Map({key: text})
    copy.line, copy.key_lines = node.line, node.key_lines
    return copy


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML whose mappings remember their lines; a syntax error names its line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise TopologyError(f"{source}:{line or '?'}: not valid YAML ({getattr(exc, 'problem', exc)}).", source, line) from exc
