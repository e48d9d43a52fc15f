"""``pipelines status -o json`` into a pipe: the compact document, each stage's part made
where it is read or taken from the cache, then a line per problem.  No Typer here: the
console script's fast path (``cli.fastpath``) prints it without importing Typer, cold
(``--no-cache``) or from a cache that must read what changed (issue 15); ``cli.status`` is
the Typer command around it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import fail, handled
from cli.jsonout import write_bytes
from cli.root import repo_root

if TYPE_CHECKING:
    from promoter.forked import Pair
    from promoter.repo import StatusJson

_KEPT: list[object] = []
"""What the last run read, kept until the process ends (``print_json``)."""


def print_json(repo: Path | None, pipelines: Sequence[str], *, render: bool, cache: bool) -> bool:
    """The compact JSON, each stage's part made where it is read (``GitOpsRepo.status_json``)
    or taken from the cache (``cache``: ``promoter.statuscache.cached_status_json``), then a
    line per problem; True when there was one (the command then exits 1)."""
    with handled():
        root = repo_root(repo)
        if cache:
            from promoter.statuscache import cached_status_json

            found = cached_status_json(root, pipelines)
        else:
            from promoter.forked import paired
            from promoter.repo import open_status_repo

            def read(pair: Pair) -> StatusJson:  # a forked child may share discovery and reading
                opened = open_status_repo(root, pair)
                # Not freed when this returns: the parsed repository is hundreds of thousands
                # of objects, and the console script ends (os._exit) without freeing them.
                _KEPT[:] = [opened]
                return opened.status_json(tuple(dict.fromkeys(pipelines)), render=render)

            found = paired(read)
        write_bytes(found.document)
        if found.problems.ok:  # no line to print: Rich (``cli.views``) is not even imported
            return False
        from cli import views

        problems = views.problem_lines(found.problems)
    for line in problems:
        fail(line)
    return True


def print_status_json(
    repo: Path | None, pipelines: Sequence[str], *, render: bool, cache: bool
) -> bool:
    """``status -o json`` into a pipe: straight from the cache when nothing it depends on
    changed (``promoter.statuscache.cached_json``: no model object built, no reader
    imported), else ``print_json``; True when a problem line was printed."""
    if cache:
        with handled():
            from promoter.statuscache import cached_json

            data = cached_json(repo_root(repo), pipelines)
            if data is not None:
                write_bytes(data)
                return False
    return print_json(repo, pipelines, render=render, cache=cache)
