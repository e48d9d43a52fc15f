"""Reading fields of API objects (decoded JSON) without trusting their shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dig(obj: Any, *keys: str) -> Any:
    """The value at ``keys`` in nested mappings, None where any step is missing."""
    for key in keys:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def text(value: object) -> str | None:
    """A string field, None when absent or empty."""
    return str(value) if value not in (None, "") else None


def integer(value: object) -> int | None:
    """An integer field (the API may write int64s as strings), None when absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None
