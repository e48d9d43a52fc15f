"""The console script's fast path: a warm ``pipelines status -o json`` answered without
importing Typer (issue 15: Typer's import and command building were 0.1 s of a 0.25 s run).

Only a command line whose meaning under Typer is beyond doubt is taken (``status_command``);
only a cache that answers alone is used (``promoter.statuscache.cached_json``: no problem to
report).  Anything else, any error before the output, a terminal on stdout: ``answered``
returns False having printed nothing, and the Typer CLI then does the whole run as always,
so every message and exit code stays Typer's.  Once the output is being written, the run
ends as the Typer path's would (``cli.errors.handled``: a closed pipe is exit 1)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple


class StatusCommand(NamedTuple):
    """A simple ``status -o json`` command line: what ``cli.status.status`` gets from Typer."""

    repo: Path | None
    pipelines: tuple[str, ...]


_VALUED = frozenset({"--repo", "--output", "-o"})
"""The options a simple command line may give (each at most once, with a value)."""


def status_command(argv: Sequence[str]) -> StatusCommand | None:
    """``argv`` (without the program) when it is ``status`` with ``-o json`` (``--output json``,
    ``--output=json``), at most one ``--repo PATH`` (``--repo=PATH``) and PIPELINE names in
    any order; None for anything else, even what Typer would read the same way (``-ojson``,
    a repeated option, ``--``, a value or name starting with ``-``, an empty value), and while
    a shell asks for completions (``_PIPELINES_COMPLETE``)."""
    if not argv or argv[0] != "status" or _completing():
        return None
    values: dict[str, str] = {}
    names: list[str] = []
    rest = iter(argv[1:])
    for arg in rest:
        if not arg.startswith("-"):
            names.append(arg)
            continue
        option, equals, value = arg.partition("=")
        if option not in _VALUED or (equals and option == "-o"):  # click reads -o=x as "=x"
            return None
        value = value if equals else next(rest, "")
        key = "repo" if option == "--repo" else "output"
        if not value or value.startswith("-") or key in values:
            return None
        values[key] = value
    if values.get("output") != "json":
        return None
    repo = values.get("repo")
    return StatusCommand(Path(repo) if repo is not None else None, tuple(names))


def answered(argv: Sequence[str]) -> bool:
    """Print ``status -o json`` for ``argv`` from the cache when the command line is simple,
    stdout is no terminal, and nothing changed since the last run; True when done, False
    (nothing printed) when the Typer CLI must run instead."""
    command = status_command(argv)
    if command is None or _interactive():
        return False
    from cli.errors import handled
    from cli.jsonout import write_bytes

    with handled():  # as the Typer path's: the same spinner, Ctrl-C and closed pipe
        data = _cached(command)
        if data is None:
            return False
        write_bytes(data)
    return True


_MISSED: list[tuple[Path, tuple[str, ...]]] = []
"""The repository and pipelines the cache could not answer for, just before falling back."""


def missed(root: Path, pipelines: Sequence[str]) -> bool:
    """Whether ``answered`` just found that the cache cannot answer for ``root`` and
    ``pipelines`` (the Typer path then goes straight to reading); asked once."""
    key = (root, tuple(pipelines))
    if key not in _MISSED:
        return False
    _MISSED.remove(key)
    return True


def _cached(command: StatusCommand) -> bytes | None:
    """What ``cli.status`` prints from the cache alone, or None (any error included: the
    Typer path meets it again and reports it)."""
    from cli.root import repo_root

    try:
        root = repo_root(command.repo)
        from promoter.statuscache import cached_json

        data = cached_json(root, command.pipelines)
    except Exception:  # reported by the Typer path, which runs next
        return None
    if data is None:
        _MISSED.append((root, command.pipelines))
    return data


def _completing() -> bool:
    """Whether a shell asks for completions (click's ``_<PROG>_COMPLETE`` variable)."""
    return any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ)


def _interactive() -> bool:
    """Whether stdout is a terminal (``status`` then indents the JSON); unknown counts as
    yes."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return True
