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
    ``2022-01-15`` as ``2022-01-15T00:00:00Z``; quoted and block scalars (and strings
    kustomize holds unquoted, see ``plain_string_like``) stay as written.
    """
    value = mapping.get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    origin = mapping.origin(key)
    node = origin.node if origin is not None else None
    if isinstance(node, yaml.ScalarNode):
        if is_string_node(node):  # quoted or block (or a string to kustomize): as written
            return str(node.value)
        return _render_plain(str(node.value))
    return value if isinstance(value, str) else _render_plain(text_of(value))


_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_STRING_TAG = "tag:promoter.invalid,2026:plain-string"
"""The tag of a node kustomize holds as a string written without quotes (``plain_string_like``)."""


def quoted_like(node: yaml.ScalarNode, value: str | None = None) -> yaml.ScalarNode:
    """A copy of ``node`` (same place in its file) that kustomize holds as a quoted string."""
    text = str(node.value) if value is None else value
    return yaml.ScalarNode(_STR_TAG, text, node.start_mark, node.end_mark, '"')


def plain_string_like(node: yaml.ScalarNode, value: str | None = None) -> yaml.ScalarNode:
    """A copy of ``node`` (same place in its file) that kustomize holds as a string *with
    no quoting style*: kyaml's node has the ``!!str`` tag and style 0.  It prints as a
    string (Go's encoder quotes it when it must), but a later strategic merge gives a plain
    patch value this plain style, so that value is read as YAML again (``6.0`` -> ``6``)."""
    text = str(node.value) if value is None else value
    return yaml.ScalarNode(_PLAIN_STRING_TAG, text, node.start_mark, node.end_mark, None)


def is_string_node(node: yaml.ScalarNode) -> bool:
    """Whether kustomize holds ``node`` as a string whatever its text (quoted, block, or
    ``plain_string_like``)."""
    return bool(node.style) or node.tag == _PLAIN_STRING_TAG


def merged_scalar(patch: yaml.ScalarNode, dest: yaml.Node | None) -> yaml.ScalarNode:
    """The node a strategic merge leaves when scalar ``patch`` is set over ``dest`` (the
    node it replaces; None when the field is new).

    kyaml's merge (``merge2.Merge``, through ``walk.Walker`` and ``yaml.FieldSetter``)
    keeps the patch's node, hence its *tag*, but gives it the *style* of the value it
    replaces.  So a plain ``6.0`` over a quoted value is the string ``6.0``; a quoted
    ``"1.10"`` over a plain value is a string with no quoting style, and a plain ``6.0``
    merged over *that* is the number ``6`` again.  A new field keeps the patch's style,
    except that a plain string YAML 1.1 reads as a boolean (``yes``, ``off``) is quoted.
    """
    if dest is None:
        if not is_string_node(patch) and patch.value in _OLD_BOOLS:
            return quoted_like(patch)
        return patch
    if isinstance(dest, yaml.ScalarNode) and dest.style:
        return patch if patch.style else quoted_like(patch)
    if is_string_node(patch) and patch.style:
        return plain_string_like(patch)
    return patch


_OLD_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off")
) | {"OFF"}
_OLD_TRUE = frozenset(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"))
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_V3_WORDS = frozenset(
    (
        *("", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"),
        *(".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"),
        *(".nan", ".NaN", ".NAN"),
    )
)


def _v3_non_string(text: str) -> bool:
    """Whether Go's YAML (yaml.v3, what kustomize reads with) reads plain ``text`` as
    something else than a string: null, a boolean, a number or a timestamp."""
    plain = text.replace("_", "")
    return (
        text in _V3_WORDS
        or _GO_INT.fullmatch(plain) is not None
        or _YAML_FLOAT.fullmatch(plain) is not None
        or _TIMESTAMP.fullmatch(text) is not None
    )


def _encoder_quotes(text: str) -> bool:
    """Whether yaml.v3's encoder writes string ``text`` quoted (or as a block): when it
    would read back as something else, or cannot be written plain at all (an approximation
    of libyaml's scalar analysis: indicators, ``: ``, `` #``, outer spaces)."""
    return (
        _v3_non_string(text)
        or text in _OLD_BOOLS
        or _BASE60.fullmatch(text) is not None
        or "\n" in text
        or text != text.strip()
        or text[0] in ",[]{}#&*!|>'\"%@`"
        or (text[0] in "-?:" and text[1:2] in ("", " "))
        or text in ("---", "...")
        or ": " in text
        or " #" in text
        or text.endswith(":")
    )


def json_restyle(resource_doc: YMap) -> YMap:
    """kustomize sends an object through JSON to apply a JSON6902 patch (kyaml's
    ``RNode.MarshalJSON``, then ``UnmarshalJSON``: Go values encoded by yaml.v3 and
    parsed again).  Numbers and booleans come back plain; a string comes back quoted when
    the encoder must quote it (``"1.10"``, a timestamp, ``yes``) and *plain* otherwise
    (``"v1"``), whatever quoting it had, and a later strategic merge keeps that style.
    Only the HelmRelease chart version is rendered, so only it is restyled (copying just
    the path to it)."""
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
    if origin is None or not isinstance(node, yaml.ScalarNode):
        return resource_doc
    text = str(node.value)
    stamp = None if is_string_node(node) else _TIMESTAMP.fullmatch(text)
    if is_string_node(node):
        string = text
    elif stamp is not None:
        string = _rfc3339(stamp)
    elif _v3_non_string(text):
        return resource_doc  # a number or a boolean: plain, and printed the same
    else:
        string = text
    if _encoder_quotes(string):
        if node.style and node.value == string:
            return resource_doc
        restyled = quoted_like(node, string)
    elif node.style:
        restyled = plain_string_like(node, string)
    else:
        return resource_doc  # a plain string stays plain
    out = chart.evolve()
    out.prov["version"] = Prov(
        origin.file, restyled, origin.mech, origin.line_offset, origin.col_offset
    )
    for parent, key in zip(reversed(path), ("spec", "chart", "spec"), strict=True):
        new_parent = parent.evolve()
        new_parent[key] = out
        out = new_parent
    return out


def yaml11_op_value(value: Any, prov: Prov | None) -> tuple[Any, Prov | None]:
    """A JSON6902 operation's value as kustomize reads it: the operations go through
    ``sigs.k8s.io/yaml.YAMLToJSON`` (YAML 1.1, yaml.v2), so a plain ``yes``/``off`` is a
    boolean and a plain date stays the string as written (not a timestamp)."""
    node = prov.node if prov is not None else None
    if prov is None or not isinstance(node, yaml.ScalarNode) or is_string_node(node):
        return value, prov
    text = str(node.value)
    if text in _OLD_BOOLS:
        word = "true" if text in _OLD_TRUE else "false"
        bool_node = yaml.ScalarNode(
            "tag:yaml.org,2002:bool", word, node.start_mark, node.end_mark, None
        )
        return text in _OLD_TRUE, prov._replace(node=bool_node)
    if _TIMESTAMP.fullmatch(text) is not None:
        return text, prov._replace(node=quoted_like(node))
    return value, prov


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
