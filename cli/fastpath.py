"""The console scripts' fast path: the commands run most often, from scripts and CI, run
without importing Typer when their command line is simple (issue 15: Typer's import and
command building were 0.1 s of a 0.25 s warm ``status``): ``pipelines status -o json``
(``status_command``), ``pipelines history -o json`` (``history_query``) into a pipe, and
``promote APP FROM TO`` with ``--dry-run`` or ``--write`` (``promote_command``).

Only a command line whose meaning under Typer is beyond doubt is taken; anything else runs
through the Typer CLI as always.  A taken one runs the command's own code (``cli.statusjson``,
``cli.historyquery``, ``cli.promoting``) inside the same ``cli.errors.handled``, so its
output, error lines and exit codes are the command's; a warm ``status`` first tries the cache
alone (``promoter.statuscache.cached_json``), as the command does."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from cli.change import ChangeOutput, GitFlags
from cli.historyquery import HistoryQuery


class StatusCommand(NamedTuple):
    """A simple ``status -o json`` command line: what ``cli.status.status`` gets from Typer."""

    repo: Path | None
    pipelines: tuple[str, ...]
    no_cache: bool = False


_STATUS_OPTIONS = {"--repo": "repo", "--output": "output", "-o": "output"}
_HISTORY_OPTIONS = {
    "--pipeline": "pipeline",
    "-p": "pipeline",
    "--stage": "stage",
    "-s": "stage",
    "--since": "since",
    "--max-count": "max_count",
    "-n": "max_count",
    "--repo": "repo",
    "--output": "output",
    "-o": "output",
    "--declaration": "declaration",
}
"""The options a simple command line may give, by spelling: each at most once, with a value."""
_DECLARATIONS = frozenset({"current", "as-of-commit"})


def status_command(argv: Sequence[str]) -> StatusCommand | None:
    """``argv`` (without the program) when it is ``status`` with ``-o json`` (``--output json``,
    ``--output=json``), at most one ``--repo PATH`` (``--repo=PATH``) and PIPELINE names in
    any order; None for anything else, even what Typer would read the same way (``-ojson``,
    a repeated option, ``--``, an empty value, a value or name starting with ``-``), and
    while a shell asks for completions (``_PIPELINES_COMPLETE``)."""
    found = _parsed(argv, "status", _STATUS_OPTIONS, {"--no-cache": "no_cache"})
    if found is None:
        return None
    values, names = found
    if values.get("output") != "json":
        return None
    repo = values.get("repo")
    return StatusCommand(
        Path(repo) if repo is not None else None, tuple(names), "no_cache" in values
    )


def history_query(argv: Sequence[str]) -> HistoryQuery | None:
    """``argv`` (without the program) when it is ``history -o json`` with at most one APP and
    any of ``--pipeline``/``-p``, ``--stage``/``-s``, ``--since``, ``--max-count``/``-n`` (a
    plain positive number), ``--repo`` and ``--declaration`` (``current``, ``as-of-commit``),
    each once, as ``status_command`` takes them; None for anything else."""
    found = _parsed(argv, "history", _HISTORY_OPTIONS)
    if found is None:
        return None
    values, names = found
    count = values.get("max_count")
    declaration = values.get("declaration", "current")
    if (
        values.get("output") != "json"
        or len(names) > 1
        or declaration not in _DECLARATIONS
        or (count is not None and not _plain_count(count))
    ):
        return None
    repo = values.get("repo")
    return HistoryQuery(
        app=names[0] if names else None,
        pipeline=values.get("pipeline"),
        stage=values.get("stage"),
        since=values.get("since"),
        max_count=int(count) if count is not None else None,
        repo=Path(repo) if repo is not None else None,
        declaration=declaration,
    )


def _parsed(
    argv: Sequence[str],
    command: str,
    options: Mapping[str, str],
    flags: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]] | None:
    """The option values (by key) and the arguments of ``command``'s simple command line."""
    if not argv or argv[0] != command:
        return None
    return _scanned(argv[1:], options, flags)


def _scanned(
    args: Sequence[str], options: Mapping[str, str], flags: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]] | None:
    """The option values (by key; a flag given is ``"true"``) and the arguments of a simple
    command line: each option once, with a plain value, no ``--``; None otherwise."""
    if _completing():
        return None
    flags = flags or {}
    values: dict[str, str] = {}
    names: list[str] = []
    rest = iter(args)
    for arg in rest:
        if not arg.startswith("-"):
            if not arg:
                return None
            names.append(arg)
            continue
        if arg in flags:
            if flags[arg] in values:
                return None
            values[flags[arg]] = "true"
            continue
        option, equals, value = arg.partition("=")
        key = options.get(option)
        if key is None or (equals and not option.startswith("--")):  # click: -o=x is "=x"
            return None
        value = value if equals else next(rest, "")
        if not value or value.startswith("-") or key in values:
            return None
        values[key] = value
    return values, names


class PromoteCommand(NamedTuple):
    """A simple ``promote APP FROM TO --dry-run`` (or ``--write``) command line: what
    ``cli.promote.promote`` gets from Typer."""

    apps: tuple[str, ...]
    source: str
    target: str
    pipeline: str | None
    repo: Path | None
    skip_stages: bool
    allow_downgrade: bool
    flags: GitFlags


_PROMOTE_OPTIONS = {
    "--pipeline": "pipeline",
    "-p": "pipeline",
    "--repo": "repo",
    "--output": "output",
    "-o": "output",
}
_PROMOTE_FLAGS = {
    "--dry-run": "dry_run",
    "--write": "write",
    "--no-changelog": "no_changelog",
    "--skip-stages": "skip_stages",
    "--allow-downgrade": "allow_downgrade",
}
_OUTPUTS = {"text": ChangeOutput.text, "json": ChangeOutput.json}


def promote_command(argv: Sequence[str]) -> PromoteCommand | None:
    """``argv`` (without the program) when it is ``APP FROM TO`` with exactly one of
    ``--dry-run`` and ``--write`` (the plan stays in the working tree: no git remote, no
    forge), and any of ``--pipeline``/``-p``, ``--repo``, ``--output``/``-o`` (``text``,
    ``json``), ``--no-changelog``, ``--skip-stages``, ``--allow-downgrade``, each once, as
    ``status_command`` takes them; None for anything else (``--all``, publishing options,
    ``--wait``, an APP that names nothing, ...)."""
    found = _scanned(argv, _PROMOTE_OPTIONS, _PROMOTE_FLAGS)
    if found is None:
        return None
    values, names = found
    output = _OUTPUTS.get(values.get("output", "text"))
    dry_run, write = "dry_run" in values, "write" in values
    if len(names) != 3 or output is None or dry_run == write:
        return None
    apps = tuple(a.strip() for a in names[0].split(",") if a.strip())
    if not apps:
        return None
    repo = values.get("repo")
    flags = GitFlags(
        dry_run=dry_run, write=write, no_changelog="no_changelog" in values, output=output
    )
    return PromoteCommand(
        apps,
        names[1],
        names[2],
        values.get("pipeline"),
        Path(repo) if repo is not None else None,
        "skip_stages" in values,
        "allow_downgrade" in values,
        flags,
    )


def promoted(argv: Sequence[str]) -> bool:
    """Run ``argv`` as the ``promote`` command does, without Typer, when it is a simple
    dry run or working-tree write (``promote_command``): True when done (its errors are
    the command's own lines and exit codes, through the same ``cli.errors.handled``),
    False (nothing done) when the Typer CLI must run instead."""
    command = promote_command(argv)
    if command is None:
        return False
    from cli.promoting import promote_apps

    promote_apps(
        list(command.apps),
        command.source,
        command.target,
        pipeline=command.pipeline,
        skip_stages=command.skip_stages,
        allow_downgrade=command.allow_downgrade,
        repo=command.repo,
        flags=command.flags,
    )
    return True


def _plain_count(text: str) -> bool:
    """A number click reads as Python does: ASCII digits, no sign, no zero in front."""
    return text.isascii() and text.isdigit() and text[0] != "0" and len(text) <= 18


def answered(argv: Sequence[str]) -> bool:
    """Run ``argv`` without Typer when it is a simple ``status`` or ``history`` command line
    and stdout is no terminal (``status`` then indents its JSON): True when done, False
    (nothing done) when the Typer CLI must run instead."""
    command = status_command(argv)
    if command is not None:
        return not _interactive() and _status(command)
    query = history_query(argv)
    if query is not None:
        return not _interactive() and _history(query)
    return False


def _status(command: StatusCommand) -> bool:
    """Print ``status -o json``: from the cache alone when nothing changed since the last
    run, else as the ``status`` command does (``cli.statusjson``: a cold read with
    ``--no-cache``, the changed stages read again otherwise), its errors, problem lines and
    exit code included."""
    from cli.errors import EXIT_FAILED
    from cli.statusjson import print_status_json

    if print_status_json(command.repo, command.pipelines, render=False, cache=not command.no_cache):
        raise SystemExit(EXIT_FAILED)
    return True


def _history(query: HistoryQuery) -> bool:
    """Print ``history -o json`` as the ``history`` command does: its errors too, through the
    same ``handled`` (falling back would read the whole history a second time)."""
    from cli import historyquery
    from cli.errors import handled

    with handled():
        historyquery.write_json(historyquery.history(query))
    return True


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
