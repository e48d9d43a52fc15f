"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.root import NOT_A_REPOSITORY as NOT_A_REPOSITORY
from cli.root import repo_root as repo_root

RepoOption = Annotated[
    Path | None,
    typer.Option(
        "--repo",
        help="The GitOps repository (default: the git top-level of the current directory).",
        show_default=False,
    ),
]
