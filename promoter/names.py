"""Names that reach git and the code host (pipelines, stages, apps): no control characters.

A newline in a stage name would split a commit subject and inject a trailer; an escape
sequence would reach a terminal.  Names are validated where they are read (promoter.yaml,
labels), and every text built for git or a pull request is cleaned as the last line of
defence (issue 11).
"""

from __future__ import annotations

import hashlib
import re

from promoter.problems import Problem

NAME_INVALID = "name-invalid"
"""The code of a pipeline, stage or app name with a control character (a ``Problem``, and
the ``pipelines check`` finding it becomes)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FILE_NAME_LIMIT = 100
"""Longest generated file name (most filesystems stop at 255 bytes)."""


def control_problem(name: str) -> str | None:
    """Why ``name`` cannot be a pipeline, stage or app name, None when it can."""
    found = _CONTROL.search(name)
    if found is None:
        return None
    return f"name {name!r} contains the control character {found.group()!r}"


def name_problem(what: str, name: str, file: str | None, line: int | None) -> Problem | None:
    """The problem (code ``NAME_INVALID``) of ``what`` (``stage``, ``pipeline``, ``app``)
    being called ``name`` at ``file:line``, None when the name is fine."""
    problem = control_problem(name)
    if problem is None:
        return None
    return Problem(f"{what} {problem}", file, line, code=NAME_INVALID)


def escaped(name: str) -> str:
    """``name`` with its control characters written as escapes (to show it safely)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), name)


def one_line(text: str) -> str:
    """``text`` on one line, every control character replaced by a space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def clean_line(text: str) -> str:
    """``text`` with every control character (line breaks included) replaced by a space."""
    return _CONTROL.sub(" ", text)


def file_name(stem: str, suffix: str = ".yaml") -> str:
    """``stem + suffix``, capped in length (a hash keeps capped names unique), as branch
    names are."""
    if len((stem + suffix).encode()) <= FILE_NAME_LIMIT:
        return stem + suffix
    digest = hashlib.sha1(stem.encode()).hexdigest()[:10]
    room = FILE_NAME_LIMIT - len(suffix) - len(digest) - 1
    head = stem.encode()[:room].decode(errors="ignore").rstrip(".-")
    return f"{head}-{digest}{suffix}"
