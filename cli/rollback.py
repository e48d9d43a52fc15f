"""``pipelines rollback APP STAGE``: restore an earlier version, found in git history."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.change import GitFlags, run_change
from cli.errors import handled
from cli.options import RepoOption, repo_root
from cli.publishing import RollbackLabelOption, publishing_options


@publishing_options(RollbackLabelOption)
def rollback(
    app: Annotated[str, typer.Argument(help="App name or Kind/name.", show_default=False)],
    stage: Annotated[str, typer.Argument(help="The stage to roll back.", show_default=False)],
    to: Annotated[
        str | None, typer.Option("--to", help="The version to go back to (it must have run there).")
    ] = None,
    previous: Annotated[
        bool, typer.Option("--previous", help="Go back to the version before the current one.")
    ] = False,
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", "-p", help="Pipeline, when the stage name is ambiguous."),
    ] = None,
    repo: RepoOption = None,
    *,
    flags: GitFlags,
) -> None:
    """Roll a stage back to an earlier version of an app, as a pull request."""
    if (to is None) == (not previous):
        raise typer.BadParameter("give exactly one of --to VERSION or --previous")
    with handled():
        import promoter

        root = repo_root(repo)
        maker = promoter.rollback_planner(
            app,
            stage,
            to=to,
            previous=previous,
            pipeline=pipeline,
            pin=flags.pin(),
            also_affected=flags.also_affected,
            force=flags.force,
        )
        run_change(root, flags, maker)
