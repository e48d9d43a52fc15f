"""Scalars as ``kustomize build`` prints them: YAML 1.2 resolution, then Go's JSON encoding.

An unquoted ``1.10`` renders as ``1.1``, ``6.0`` as ``6`` and ``2022-01-15`` as
``2022-01-15T00:00:00Z``; quoted and block scalars stay as written.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import yaml

from promoter._yaml import Prov, YMap

_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[Tt ]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?"
)
_V2_NON_STRINGS = frozenset(
    (
        *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"),
        *("on", "On", "ON", "off", "Off", "OFF"),
        *("true", "True", "TRUE", "false", "False", "FALSE"),
        *(".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"),
        *(".nan", ".NaN", ".NAN"),
    )
)
_INT64 = range(-(2**63), 2**64)


def rendered_scalar(mapping: YMap, key: Any) -> str | None:
    """The scalar under ``key`` as ``kustomize build`` prints it (None when absent).

    kustomize prints plain scalars the way YAML 1.2 reads them, through Go's number
    formatting: an unquoted ``1.10`` renders as ``1.1``, ``6.0`` as ``6`` and
    ``2022-01-15`` as ``2022-01-15T00:00:00Z``; quoted and block scalars stay as written.
    """
    value = mapping.get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    origin = mapping.origin(key)
    node = origin.node if origin is not None else None
    if isinstance(node, yaml.ScalarNode):
        if node.style:  # quoted or block (or quoted by kustomize): a string as written
            return str(node.value)
        return _render_plain(str(node.value))
    return value if isinstance(value, str) else _render_plain(text_of(value))


def quoted_like(node: yaml.ScalarNode, value: str | None = None) -> yaml.ScalarNode:
    """A copy of ``node`` (same place in its file) that kustomize holds as a quoted string."""
    text = str(node.value) if value is None else value
    return yaml.ScalarNode("tag:yaml.org,2002:str", text, node.start_mark, node.end_mark, '"')


_OLD_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off")
) | {"OFF"}
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def json_restyle(resource_doc: YMap) -> YMap:
    """kustomize sends an object through JSON to apply a JSON6902 patch; plain scalars that
    come back as strings which look like something else (a date, ``yes``) are quoted from
    then on, and a later strategic merge keeps that quoting.  Only the HelmRelease chart
    version is rendered, so only it is restyled (copying just the path to it)."""
    chart = resource_doc.get("spec")
    path: list[YMap] = [resource_doc]
    for key in ("chart", "spec"):
        if not isinstance(chart, YMap):
            return resource_doc
        path.append(chart)
        chart = chart.get(key)
    if not isinstance(chart, YMap) or not isinstance(chart.get("version"), (str, int, float)):
        return resource_doc
    origin = chart.origin("version")
    node = origin.node if origin is not None else None
    if origin is None or not isinstance(node, yaml.ScalarNode) or node.style:
        return resource_doc
    text = str(node.value)
    rendered = _render_plain(text)
    stamp = _TIMESTAMP.fullmatch(text) is not None
    if rendered is None or not (stamp or text in _OLD_BOOLS or _BASE60.fullmatch(text)):
        return resource_doc
    out = chart.evolve()
    out.prov["version"] = Prov(
        origin.file, quoted_like(node, rendered), origin.mech, origin.line_offset,
        origin.col_offset,
    )  # fmt: skip
    for parent, key in zip(reversed(path), ("spec", "chart", "spec"), strict=True):
        new_parent = parent.evolve()
        new_parent[key] = out
        out = new_parent
    return out


def _render_plain(text: str) -> str | None:
    """A plain scalar through kustomize: YAML 1.2 resolution, then a JSON round trip."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return text.lower()
    if not text or text[0] not in "0123456789+-.":
        return text
    stamp = _TIMESTAMP.fullmatch(text)
    if stamp is not None:
        return _rfc3339(stamp)
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        number = _go_int(plain)
        if number in _INT64:
            return str(number)
        return _go_float(float(number))
    if _YAML_FLOAT.fullmatch(plain):
        return _go_float(float(plain))
    return text


def _go_int(text: str) -> int:
    """Go's ``strconv.ParseInt(text, 0, 64)`` value (``0x``, ``0o``, ``0b``, ``017``)."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").lower()
    if body.startswith(("0x", "0o", "0b")):
        return sign * int(body[2:], {"x": 16, "o": 8, "b": 2}[body[1]])
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body, 8)
    return sign * int(body)


def _go_float(number: float) -> str:
    """A float through Go's JSON encoder and back through YAML, as kustomize prints it."""
    if number != number or number in (float("inf"), float("-inf")):
        return str(number)
    if number.is_integer() and abs(number) < 1e21 and int(number) in _INT64:
        return str(int(number))
    return _format_g(number)


def _format_g(number: float) -> str:
    """Go's ``strconv.FormatFloat(number, 'g', -1, 64)``."""
    sign = "-" if number < 0 else ""
    parts = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    exp = len(digits) + int(parts.exponent) - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return sign + format(Decimal(repr(abs(number))).normalize(), "f")


def _rfc3339(stamp: re.Match[str]) -> str:
    year, month, day, hour, minute, second, fraction, zone = stamp.groups()
    text = f"{int(year):04d}-{int(month):02d}-{int(day):02d}T"
    text += f"{int(hour or 0):02d}:{int(minute or 0):02d}:{int(second or 0):02d}"
    if fraction and fraction.rstrip("0") != ".":
        text += fraction.rstrip("0")
    return text + ("Z" if zone in (None, "Z", "+00:00") else zone)


def text_of(value: Any) -> str:
    """A parsed scalar back as YAML text (``true``/``false`` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_non_string(text: str) -> bool:
    """Whether a plain scalar is something else than a string to kustomize's YAML reader
    (a number, a boolean, infinity or not-a-number)."""
    plain = text.replace("_", "")
    return (
        text in _V2_NON_STRINGS
        or _GO_INT.fullmatch(plain) is not None
        or _YAML_FLOAT.fullmatch(plain) is not None
    )
