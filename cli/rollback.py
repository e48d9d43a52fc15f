"""``pipelines rollback APP STAGE``: restore an earlier version, found in git history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import handled
from cli.options import RepoOption, repo_root
from cli.publishing import (
    BaseOption,
    ChangeOutput,
    DraftOption,
    DryRunOption,
    GitFlags,
    GithubRepoOption,
    IgnoreGatesOption,
    LabelOption,
    NoPrOption,
    NoPushOption,
    OutputOption,
    RemoteOption,
    ReviewerOption,
    WriteOption,
    run_change,
)

if TYPE_CHECKING:
    from promoter import GitOpsRepo
    from promoter.promotion import PromotionPlan


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
    dry_run: DryRunOption = False,
    write: WriteOption = False,
    no_push: NoPushOption = False,
    no_pr: NoPrOption = False,
    ignore_gates: IgnoreGatesOption = False,
    base: BaseOption = None,
    remote: RemoteOption = "origin",
    github_repo: GithubRepoOption = None,
    label: LabelOption = None,
    reviewer: ReviewerOption = None,
    draft: DraftOption = False,
    repo: RepoOption = None,
    output: OutputOption = ChangeOutput.text,
) -> None:
    """Roll a stage back to an earlier version of an app, as a pull request."""
    if (to is None) == (not previous):
        raise typer.BadParameter("give exactly one of --to VERSION or --previous")
    with handled():

        root = repo_root(repo)

        def maker(gitops: GitOpsRepo, top: Path) -> PromotionPlan:
            from promoter.history import read_history
            from promoter.rollback import plan_rollback

            entries = read_history(gitops.root)
            return plan_rollback(
                gitops, app, stage, entries, to_version=to, previous=previous, pipeline=pipeline
            )

        flags = GitFlags(
            dry_run,
            write,
            no_push,
            no_pr,
            base,
            remote,
            github_repo,
            label if label is not None else ["rollback"],
            reviewer,
            draft,
            ignore_gates,
        )
        run_change(root, flags, output, maker)
