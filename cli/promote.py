"""``promote APP FROM TO`` (also ``pipelines promote``): write TO's patch, branch, push, PR."""

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
    LabelOption,
    NoChangelogOption,
    NoPrOption,
    NoPushOption,
    OutputOption,
    PinDigestOption,
    ProviderOption,
    RemoteOption,
    ReviewerOption,
    WriteOption,
    run_change,
)
from cli.wait import TimeoutOption, parse_timeout, report, wait_after_promote


def promote(
    args: Annotated[
        list[str],
        typer.Argument(
            help="APP FROM TO; APP is a name, Kind/name, or a comma-separated list. "
            "With --all: FROM TO.",
            metavar="[APP] FROM TO",
            show_default=False,
        ),
    ],
    all_apps: Annotated[
        bool, typer.Option("--all", help="Promote every app that differs.")
    ] = False,
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", "-p", help="Pipeline, when stage names are ambiguous."),
    ] = None,
    dry_run: DryRunOption = False,
    write: WriteOption = False,
    no_push: NoPushOption = False,
    no_pr: NoPrOption = False,
    skip_stages: Annotated[
        bool, typer.Option("--skip-stages", help="Allow jumping over stages.")
    ] = False,
    allow_downgrade: Annotated[
        bool, typer.Option("--allow-downgrade", help="Allow TO to go to an older version.")
    ] = False,
    ignore_gates: IgnoreGatesOption = False,
    base: BaseOption = None,
    remote: RemoteOption = "origin",
    github_repo: GithubRepoOption = None,
    label: LabelOption = None,
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
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Wait for the PR's merge, then for TO to run it (see pipelines wait)."
        ),
    ] = False,
    timeout: TimeoutOption = "10m",
) -> None:
    """Promote an app's version from one stage to the next, as a pull request."""
    apps, source, target = _split_args(args, all_apps)
    with handled():
        import promoter

        root = repo_root(repo)
        from promoter.pinning import PinRequest

        pin = PinRequest(pin_digest, force, tuple(insecure_registry or ()))
        request = promoter.PromotionRequest(
            apps, source, target, pipeline, skip_stages, allow_downgrade, pin
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
        result = run_change(root, flags, output, request)
        done = None
        if wait and result.published is not None and result.published.pull_request is not None:
            seconds = parse_timeout(timeout)
            done = wait_after_promote(root, result.published, remote, github_repo, seconds)
    if done is not None:
        report(done)


def _split_args(args: list[str], all_apps: bool) -> tuple[list[str] | None, str, str]:
    if all_apps:
        if len(args) != 2:
            raise typer.BadParameter("with --all give FROM and TO", param_hint="[APP] FROM TO")
        return None, args[0], args[1]
    if len(args) != 3:
        raise typer.BadParameter("give APP FROM TO (or --all FROM TO)", param_hint="[APP] FROM TO")
    apps = [a.strip() for a in args[0].split(",") if a.strip()]
    if not apps:
        raise typer.BadParameter("APP is empty", param_hint="[APP] FROM TO")
    return apps, args[1], args[2]
