"""``promote APP FROM TO`` (also ``pipelines promote``): write TO's patch, branch, push, PR."""

from __future__ import annotations

import json
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.errors import handled
from cli.options import RepoOption, repo_root

if TYPE_CHECKING:
    from promoter.promotion import PromotionPlan
    from promoter.publish import PromotionResult


class PromoteOutput(str, Enum):
    """Output formats of ``promote``."""

    text = "text"
    json = "json"


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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and the diff; change nothing.")
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Only edit the files of the working tree; no git.")
    ] = False,
    no_push: Annotated[
        bool, typer.Option("--no-push", help="Commit on a local branch only.")
    ] = False,
    no_pr: Annotated[
        bool, typer.Option("--no-pr", help="Push the branch but open no pull request.")
    ] = False,
    skip_stages: Annotated[
        bool, typer.Option("--skip-stages", help="Allow jumping over stages.")
    ] = False,
    allow_downgrade: Annotated[
        bool, typer.Option("--allow-downgrade", help="Allow TO to go to an older version.")
    ] = False,
    base: Annotated[
        str | None, typer.Option("--base", help="Base branch (default: the remote's default).")
    ] = None,
    remote: Annotated[
        str, typer.Option("--remote", help="Git remote to fetch from and push to.")
    ] = "origin",
    github_repo: Annotated[
        str | None,
        typer.Option(
            "--github-repo", help="OWNER/NAME (default: GITHUB_REPOSITORY or the remote URL)."
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Pull request label (repeatable; default: promotion)."),
    ] = None,
    reviewer: Annotated[
        list[str] | None,
        typer.Option("--reviewer", help="Reviewer login or org/team (repeatable)."),
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Open the pull request as a draft.")
    ] = False,
    repo: RepoOption = None,
    output: Annotated[
        PromoteOutput, typer.Option("--output", "-o", help="Output format.")
    ] = PromoteOutput.text,
) -> None:
    """Promote an app's version from one stage to the next, as a pull request."""
    apps, source, target = _split_args(args, all_apps)
    with handled():
        from promoter.errors import PromoterError
        from promoter.publish import PromotionRequest, PublishOptions, PullRequestFailed, promote

        if dry_run and write:
            raise PromoterError("--dry-run and --write exclude each other")
        root = repo_root(repo)
        request = PromotionRequest(apps, source, target, pipeline, skip_stages, allow_downgrade)
        if dry_run or write:
            plan = _plan_locally(root, request)
            if write and not plan.is_noop:
                plan.write()
            _report(plan, None, output, dry_run=dry_run, wrote=write)
            return
        options = PublishOptions(
            remote=remote,
            base=base,
            push=not no_push,
            pull_request=not (no_pr or no_push),
            github_repo=github_repo,
            labels=tuple(label) if label is not None else ("promotion",),
            reviewers=tuple(reviewer or ()),
            draft=draft,
        )
        try:
            result = promote(root, request, options)
        except PullRequestFailed as exc:
            command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
            raise PromoterError(f"{exc}; retry with: {command}") from None
        _report(result.plan, result, output, dry_run=False, wrote=False)


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


def _plan_locally(root: Path, request: Any) -> PromotionPlan:
    from promoter import GitOpsRepo

    return GitOpsRepo.open(root).plan_promotion(
        request.apps,
        request.source,
        request.target,
        pipeline=request.pipeline,
        skip_stages=request.skip_stages,
        allow_downgrade=request.allow_downgrade,
    )


def _report(
    plan: PromotionPlan,
    result: PromotionResult | None,
    output: PromoteOutput,
    *,
    dry_run: bool,
    wrote: bool,
) -> None:
    if output is PromoteOutput.json:
        sys.stdout.write(
            json.dumps(_as_dict(plan, result, dry_run=dry_run, wrote=wrote), indent=2) + "\n"
        )
        return
    from rich.console import Console
    from rich.text import Text

    out = Console(highlight=False, soft_wrap=True)
    where = f"pipeline {plan.pipeline}: {plan.source.name} -> {plan.target.name}"
    if plan.is_noop:
        apps = ", ".join(plan.unchanged) or "no app differs"
        out.print(Text(f"{where}: already up to date ({apps}); nothing to do"))
        return
    out.print(Text(where, style="bold"))
    for move in plan.moves:
        out.print(Text(f"  {move.key}: {move.old_version or 'none'} -> {move.new_version}"))
    for change in plan.changes:
        at = f"{change.file}:{change.line}" if change.line else change.file
        what = change.container or "chart"
        line = f"    {what}: {change.old} -> {change.new}  {at} ({change.how})"
        out.print(Text(line, style="dim"))
    for key in plan.unchanged:
        out.print(Text(f"  {key}: already at the same version", style="dim"))
    if dry_run:
        sys.stdout.write(plan.diff())
        out.print(Text("dry run: nothing was written", style="dim"))
    elif wrote:
        out.print(Text(f"wrote {', '.join(e.path for e in plan.edits)}"))
    if result is not None:
        if result.commit:
            out.print(
                Text(
                    f"committed {result.commit[:12]} on branch {result.branch} (base {result.base})"
                )
            )
        if result.pushed:
            out.print(Text(f"pushed {result.branch}"))
        if result.pull_request is not None:
            verb = "opened" if result.pull_request.created else "updated"
            out.print(
                Text(
                    f"pull request #{result.pull_request.number} {verb}: {result.pull_request.url}"
                )
            )


def _as_dict(
    plan: PromotionPlan, result: PromotionResult | None, *, dry_run: bool, wrote: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pipeline": plan.pipeline,
        "from": plan.source.name,
        "to": plan.target.name,
        "noop": plan.is_noop,
        "moves": [
            {
                "kind": m.kind,
                "name": m.name,
                "old_version": m.old_version,
                "new_version": m.new_version,
            }
            for m in plan.moves
        ],
        "unchanged": list(plan.unchanged),
        "changes": [
            {
                "app": c.app,
                "container": c.container,
                "old": c.old,
                "new": c.new,
                "file": c.file,
                "line": c.line or None,
                "how": c.how,
            }
            for c in plan.changes
        ],
        "files": [e.path for e in plan.edits],
        "written": wrote,
    }
    if dry_run:
        data["diff"] = plan.diff()
    if result is not None:
        pr = result.pull_request
        data.update(
            base=result.base,
            base_commit=result.base_commit,
            branch=result.branch,
            commit=result.commit,
            pushed=result.pushed,
            pull_request=None
            if pr is None
            else {"number": pr.number, "url": pr.url, "created": pr.created},
        )
    return data
