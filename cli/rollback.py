"""``pipelines rollback APP STAGE``: restore an earlier version, found in git history."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.errors import handled
from cli.options import RepoOption, repo_root
from cli.publishing import (
    AssigneeOption,
    AutoMergeOption,
    BaseOption,
    ChangeOutput,
    DraftOption,
    DryRunOption,
    ForceOption,
    GitFlags,
    GithubRepoOption,
    GitlabProjectOption,
    IgnoreGatesOption,
    InsecureRegistryOption,
    NoChangelogOption,
    NoPrOption,
    NoPushOption,
    OutputOption,
    PinDigestOption,
    ProviderOption,
    RemoteOption,
    ReviewerOption,
    RollbackLabelOption,
    WriteOption,
    run_change,
)


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
    label: RollbackLabelOption = None,
    reviewer: ReviewerOption = None,
    draft: DraftOption = False,
    repo: RepoOption = None,
    output: OutputOption = ChangeOutput.text,
    provider: ProviderOption = None,
    gitlab_project: GitlabProjectOption = None,
    assignee: AssigneeOption = None,
    auto_merge: AutoMergeOption = False,
    pin_digest: PinDigestOption = False,
    force: ForceOption = False,
    insecure_registry: InsecureRegistryOption = None,
    no_changelog: NoChangelogOption = False,
) -> None:
    """Roll a stage back to an earlier version of an app, as a pull request."""
    if (to is None) == (not previous):
        raise typer.BadParameter("give exactly one of --to VERSION or --previous")
    with handled():
        import promoter

        root = repo_root(repo)
        from promoter.pinning import PinRequest

        pin = PinRequest(pin_digest, force, tuple(insecure_registry or ()))
        maker = promoter.rollback_planner(
            app, stage, to=to, previous=previous, pipeline=pipeline, pin=pin
        )
        flags = GitFlags(
            dry_run,
            write,
            no_push,
            no_pr,
            base,
            remote,
            github_repo,
            label,
            reviewer,
            draft,
            ignore_gates,
            provider=provider,
            gitlab_project=gitlab_project,
            assignee=assignee,
            auto_merge=auto_merge,
            no_changelog=no_changelog,
            insecure_registries=tuple(insecure_registry or ()),
        )
        run_change(root, flags, output, maker)
