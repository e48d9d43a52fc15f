"""Inline patches (a patch written as a string inside a kustomization) parsed so that their
values keep their real position in the kustomization file: a block scalar is shifted by
its indentation, a one-line (often quoted JSON) patch maps each character to its column."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import yaml

from promoter._yaml import YMap, YSeq, parse_snippet, parse_text
from promoter.kustomize._layer import Layer


def parse_inline(layer: Layer, owner: Any, raw: str, line: int) -> list[Any]:
    """Parse an inline patch string so its values keep their real file position."""
    node = _node_for(owner, raw)
    line_offset, col_offset = line - 1, 0
    columns: list[int] | None = None
    if node is not None and node.style in ("|", ">"):
        line_offset = node.start_mark.line + 1
        col_offset = _block_indent(layer.text, line_offset)
    elif node is not None and node.start_mark.line == node.end_mark.line:
        # A one-line (often quoted JSON) patch: map each character to its column.
        line_offset = node.start_mark.line
        columns = _flow_columns(layer.text, node, raw)
    mech = "inline-patch"
    # Marks are moved (below) on a private parse only: a snippet's parse is shared.
    parse = parse_text if columns is not None else parse_snippet
    docs = parse(raw, layer.file, mech, line_offset=line_offset, col_offset=col_offset)
    if columns is not None:
        for doc in docs:
            _move_marks(getattr(doc, "node", None), columns)
    return [doc for doc in docs if doc is not None]


def _node_for(owner: Any, raw: str) -> Any:
    if isinstance(owner, YMap):
        node = owner.nodes.get("patch")
        return node if node is not None and node.value == raw else None
    if isinstance(owner, YSeq) and owner.node is not None:
        for child in owner.node.value:
            if getattr(child, "value", None) == raw:
                return child
    return None


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> tuple[str, ...]:
    """The lines of a kustomization (split once for all its inline patches)."""
    return tuple(text.splitlines())


def _flow_columns(text: str, node: Any, raw: str) -> list[int] | None:
    """Column of each character of one-line scalar ``node``'s value ``raw`` in ``text``."""
    lines = _lines(text)
    if node.start_mark.line >= len(lines):
        return None
    line, start = lines[node.start_mark.line], node.start_mark.column
    columns: list[int] = []
    if not node.style:
        columns = list(range(start, start + len(raw)))
    elif node.style == "'":
        i = start + 1
        while i < len(line) and len(columns) < len(raw):
            columns.append(i)
            i += 2 if line.startswith("''", i) else 1
    elif node.style == '"':
        i = start + 1
        while i < len(line) and len(columns) < len(raw):
            columns.append(i)
            if line[i] == "\\":
                i += {"x": 4, "u": 6, "U": 10}.get(line[i + 1 : i + 2], 2)
            else:
                i += 1
    return (
        columns
        if len(columns) == len(raw) and raw == "".join(_unescaped(line, columns, node.style))
        else None
    )


def _unescaped(line: str, columns: list[int], style: str | None) -> Iterator[str]:
    """The value characters at ``columns`` (escapes decoded) to check the mapping."""
    for column in columns:
        char = line[column]
        if style == '"' and char == "\\":
            escape = line[column + 1 : column + 2]
            if escape in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[escape]
                yield chr(int(line[column + 2 : column + 2 + width], 16))
            else:
                yield _ESCAPES.get(escape, escape)
        else:
            yield char


_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
            "f": "\f", "r": "\r", "e": "\x1b", " ": " ", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}  # fmt: skip


def _move_marks(node: Any, columns: list[int]) -> None:
    """Point the marks of a patch parsed from a one-line scalar at the file's columns."""
    if node is None:
        return
    index = node.start_mark.index
    if 0 <= index < len(columns):
        mark = node.start_mark
        node.start_mark = yaml.Mark(mark.name, index, 0, columns[index], None, 0)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _move_marks(key, columns)
            _move_marks(value, columns)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _move_marks(item, columns)


def _block_indent(text: str, line_index: int) -> int:
    lines = _lines(text)
    for candidate in lines[line_index:]:
        if candidate.strip():
            return len(candidate) - len(candidate.lstrip(" "))
    return 0
