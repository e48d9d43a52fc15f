"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RepoOption = Annotated[
    Path | None,
    typer.Option(
        "--repo",
        help="The GitOps repository (default: the git top-level of the current directory).",
        show_default=False,
    ),
]


def repo_root(repo: Path | None) -> Path:
    """``--repo`` or the git top-level of the current directory (or the directory itself)."""
    if repo is not None:
        return repo
    from promoter import git
    from promoter.errors import GitError

    try:
        top = git.toplevel_of(Path.cwd())
    except GitError:  # git cannot run: the current directory is all there is
        return Path.cwd()
    return top if top is not None else Path.cwd()
