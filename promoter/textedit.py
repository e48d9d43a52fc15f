"""Pure, byte-preserving edits of YAML text: change one scalar, add one list item.

Every function takes the file's text and returns new text in which only the named span
changed: comments (Flux ``$imagepolicy`` setters included), quoting, indentation, blank
lines, document separators and line endings stay as they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_./@:+~-]+$")


@dataclass(frozen=True)
class Span:
    """A scalar token in a text: ``[start, end)`` offsets and its quoting style."""

    start: int
    end: int
    style: str  # "" plain, "'" single, '"' double

    def value(self, text: str) -> str:
        """The scalar's value, unquoted."""
        token = text[self.start : self.end]
        if self.style == '"':
            return str(yaml.safe_load(token))  # YAML's escapes, not JSON's
        if self.style == "'":
            return token[1:-1].replace("''", "'")
        return token


def newline_of(text: str) -> str:
    """The file's line ending: ``\\r\\n`` when it uses them, else ``\\n``."""
    return "\r\n" if "\r\n" in text else "\n"


def line_starts(text: str) -> list[int]:
    """Offsets where each line begins (lines end at ``\\n``)."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def offset_of(text: str, line: int, column: int) -> int:
    """The offset of 1-based ``line`` and 0-based ``column``."""
    starts = line_starts(text)
    if not 0 < line <= len(starts):
        raise ValueError(f"line {line} is outside the file")
    return starts[line - 1] + column


def scalar_at(text: str, line: int, column: int) -> Span:
    """The scalar token starting at ``line``:``column``."""
    start = offset_of(text, line, column)
    if start >= len(text):
        raise ValueError(f"no scalar at line {line}, column {column}")
    quote = text[start]
    if quote in "'\"":
        index = start + 1
        while index < len(text):
            char = text[index]
            if quote == '"' and char == "\\":
                index += 2
                continue
            if char == quote:
                if quote == "'" and text[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                return Span(start, index + 1, quote)
            if char == "\n":
                break
            index += 1
        raise ValueError(f"unterminated quoted scalar at line {line}")
    end = text.find("\n", start)
    end = len(text) if end == -1 else end
    token = text[start:end]
    comment = re.search(r"[ \t]#", token)
    if comment:
        token = token[: comment.start()]
    if _in_flow(text, start):
        flow_end = re.search(r"[,\]}]", token)
        if flow_end:
            token = token[: flow_end.start()]
    token = token.rstrip(" \t\r")
    if not token:
        raise ValueError(f"no scalar at line {line}, column {column}")
    return Span(start, start + len(token), "")


def _in_flow(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    return before.count("[") + before.count("{") > before.count("]") + before.count("}")


def quote_like(value: str, style: str) -> str:
    """``value`` written in ``style``; plain values that YAML would not read back as the
    same string, and single-quoted ones with line breaks or control characters, get double
    quotes."""
    if style == "'" and value.isprintable():
        # single quotes cannot escape: a line break would be folded into a space
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return double_quoted(value)
    if _PLAIN_SAFE.match(value) and _reads_back(value):
        return value
    return double_quoted(value)


_YAML12_NOT_STRING = re.compile(
    r"""[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | [-+]?0[oO][0-7]+ | [-+]?0[xX][0-9a-fA-F]+ | [-+]?0[bB][01]+
      | null | Null | NULL | ~ | true | True | TRUE | false | False | FALSE""",
    re.VERBOSE,
)
"""Plain scalars YAML 1.2 (kustomize, Go) resolves to something else than a string, once
underscores are removed from what starts like a number, as Go does (``1_000`` is one)."""


def _reads_back(value: str) -> bool:
    """Whether plain ``value`` is read as the same string both by YAML 1.1 (PyYAML) and by
    YAML 1.2 (kustomize): not a number (``1.10``, ``1e3``), bool, null, date, or an error
    such as a reserved indicator."""
    number = value.replace("_", "") if value[:1] in "+-0123456789" else value
    if _YAML12_NOT_STRING.fullmatch(number):
        return False
    try:
        loaded = yaml.safe_load(value)
    except (yaml.YAMLError, ValueError):  # PyYAML resolves ``0b_`` as a number, then fails
        return False
    return bool(loaded == value)


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def double_quoted(value: str) -> str:
    """``value`` as a double-quoted scalar that YAML and JSON both read back exactly:
    printable characters stay as they are (``é``, emoji), the rest is escaped ``\\uXXXX``
    (line separators included, which YAML would otherwise fold)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif (
            0x20 <= code <= 0x7E
            or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029))
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
            or code >= 0x10000
        ):
            out.append(char)
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def replace_scalar(text: str, line: int, column: int, value: str) -> str:
    """Replace the scalar at ``line``:``column`` with ``value``, keeping its quoting."""
    span = scalar_at(text, line, column)
    if span.value(text) == value and (span.style or _reads_back(value)):
        return text  # the same string stays written as it was (escapes included)
    return text[: span.start] + quote_like(value, span.style) + text[span.end :]


def indent_of(line: str) -> int:
    """Leading spaces of a line."""
    return len(line) - len(line.lstrip(" "))


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def append_block_item(text: str, first_item_line: int, last_item_line: int, item: list[str]) -> str:
    """Add ``item`` (lines without indentation, the first one ``- ...``) to a block sequence.

    ``first_item_line`` and ``last_item_line`` are the 1-based lines where the sequence's first
    and last items start; the new item gets the first item's dash column and gap after the
    dash, and is placed right after the last item's last line.
    """
    lines = text.split("\n")
    first = lines[first_item_line - 1]
    dash = first.index("-", indent_of(first)) if "-" in first else indent_of(first)
    end = last_item_line - 1
    index = end + 1
    while index < len(lines):
        candidate = lines[index]
        if not _is_blank_or_comment(candidate) and indent_of(candidate) <= dash:
            break
        if not _is_blank_or_comment(candidate):
            end = index
        index += 1
    eol = "\r" if first.endswith("\r") else ""
    # the first item's gap after its dash (``-   name: x`` has 3): the new item's keys align
    after_dash = first[dash + 1 :].rstrip("\r")
    gap = len(after_dash) - len(after_dash.lstrip(" ")) if after_dash.strip() else 1
    shaped = [_with_gap(part, gap) for part in item]
    new_lines = [" " * dash + part + eol for part in shaped]
    return "\n".join([*lines[: end + 1], *new_lines, *lines[end + 1 :]])


def _with_gap(line: str, gap: int) -> str:
    """An item line written for ``- `` (one space after the dash) moved to ``gap`` spaces."""
    if gap == 1:
        return line
    if line.startswith("- "):
        return "-" + " " * gap + line[2:]
    if line.startswith("  "):
        return " " * (1 + gap) + line[2:]
    return line


def append_top_level(text: str, block: list[str]) -> str:
    """Append lines (``key:`` and its items) at the end of the document."""
    eol = newline_of(text)
    body = text if text.endswith("\n") or not text else text + eol
    return body + eol.join(block) + eol


def delete_line(text: str, line: int) -> str:
    """Remove 1-based ``line`` entirely."""
    lines = text.split("\n")
    del lines[line - 1]
    return "\n".join(lines)


def insert_after_line(text: str, line: int, new_lines: list[str]) -> str:
    """Insert ``new_lines`` after 1-based ``line``, with the file's line ending."""
    lines = text.split("\n")
    eol = "\r" if lines[line - 1].endswith("\r") else ""
    return "\n".join([*lines[:line], *(n + eol for n in new_lines), *lines[line:]])


def append_flow_item(text: str, line: int, column: int, item: str) -> str:
    """Add ``item`` to the flow sequence or mapping whose closing bracket is at 1-based
    ``line``, 0-based ``column``: ``[a]`` -> ``[a, item]``, ``[]`` -> ``[item]``, and a
    trailing comma (``[a,]``) stays a trailing comma."""
    close = offset_of(text, line, column)
    if close >= len(text) or text[close] not in "]}":
        raise ValueError(f"no closing bracket at line {line}, column {column}")
    head = text[:close]
    body = head.rstrip(" \t\r\n")
    gap = head[len(body) :]
    if body.endswith(("[", "{")):
        return body + item + gap + text[close:]
    if body.endswith(","):
        return body + " " + item + "," + gap + text[close:]
    return body + ", " + item + gap + text[close:]


def remove_flow_entry(text: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    """Remove the entry of a flow collection spanning ``start`` to ``end`` (1-based line,
    0-based column pairs; ``end`` is exclusive) together with one separating comma."""
    first = offset_of(text, *start)
    last = offset_of(text, *end)
    before = text[:first].rstrip(" \t")
    if before.endswith(","):
        return before[:-1] + text[last:]
    after = text[last:]
    stripped = after.lstrip(" \t")
    if stripped.startswith(","):
        return text[:first] + stripped[1:].lstrip(" \t")
    return text[:first] + after
