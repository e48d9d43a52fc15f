"""Options shared by several commands."""

from __future__ import annotations

import subprocess
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
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return Path.cwd()
    top = done.stdout.strip()
    return Path(top) if done.returncode == 0 and top else Path.cwd()
