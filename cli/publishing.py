"""What ``promote`` and ``rollback`` share: the git/pull request options, running the
change (dry run, working tree, or branch and pull request) and reporting it."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from promoter.promotion import PromotionPlan
    from promoter.publish import PlanMaker, PromotionResult


class ChangeOutput(str, Enum):
    """Output formats of ``promote`` and ``rollback``."""

    text = "text"
    json = "json"


DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the plan and the diff; change nothing.")
]
WriteOption = Annotated[
    bool, typer.Option("--write", help="Only edit the files of the working tree; no git.")
]
NoPushOption = Annotated[bool, typer.Option("--no-push", help="Commit on a local branch only.")]
NoPrOption = Annotated[
    bool, typer.Option("--no-pr", help="Push the branch but open no pull request.")
]
BaseOption = Annotated[
    str | None, typer.Option("--base", help="Base branch (default: the remote's default).")
]
RemoteOption = Annotated[
    str, typer.Option("--remote", help="Git remote to fetch from and push to.")
]
GithubRepoOption = Annotated[
    str | None,
    typer.Option(
        "--github-repo", help="OWNER/NAME (default: GITHUB_REPOSITORY or the remote URL)."
    ),
]
LabelOption = Annotated[
    list[str] | None,
    typer.Option("--label", help="Pull request label (repeatable; default: promotion)."),
]
ReviewerOption = Annotated[
    list[str] | None,
    typer.Option("--reviewer", help="Reviewer login or org/team (repeatable)."),
]
DraftOption = Annotated[bool, typer.Option("--draft", help="Open the pull request as a draft.")]
IgnoreGatesOption = Annotated[
    bool,
    typer.Option("--ignore-gates", help="Go ahead despite soak or freeze gates (said in the PR)."),
]
OutputOption = Annotated[ChangeOutput, typer.Option("--output", "-o", help="Output format.")]


@dataclass(frozen=True)
class GitFlags:
    """The command-line choices of how far a change goes and where it is published."""

    dry_run: bool
    write: bool
    no_push: bool
    no_pr: bool
    base: str | None
    remote: str
    github_repo: str | None
    label: list[str] | None
    reviewer: list[str] | None
    draft: bool
    ignore_gates: bool


def run_change(
    root: Path,
    flags: GitFlags,
    output: ChangeOutput,
    maker: PlanMaker,
) -> None:
    """Plan in the working tree (``--dry-run``/``--write``), or publish from a worktree."""
    from promoter.errors import PromoterError
    from promoter.publish import PublishOptions, PullRequestFailed, enforce_gates, promote

    if flags.dry_run and flags.write:
        raise PromoterError("--dry-run and --write exclude each other")
    if flags.dry_run or flags.write:
        from promoter import GitOpsRepo

        gitops = GitOpsRepo.open(root)
        plan = maker(gitops, root)
        if not plan.is_noop:
            plan = enforce_gates(gitops, plan, ignore=flags.ignore_gates)
        if flags.write and not plan.is_noop:
            plan.write()
        report(plan, None, output, dry_run=flags.dry_run, wrote=flags.write)
        return
    options = PublishOptions(
        remote=flags.remote,
        base=flags.base,
        push=not flags.no_push,
        pull_request=not (flags.no_pr or flags.no_push),
        github_repo=flags.github_repo,
        labels=tuple(flags.label) if flags.label is not None else ("promotion",),
        reviewers=tuple(flags.reviewer or ()),
        draft=flags.draft,
        ignore_gates=flags.ignore_gates,
    )
    try:
        result = promote(root, maker, options)
    except PullRequestFailed as exc:
        command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
        raise PromoterError(f"{exc}; retry with: {command}") from None
    report(result.plan, result, output, dry_run=False, wrote=False)


def report(
    plan: PromotionPlan,
    result: PromotionResult | None,
    output: ChangeOutput,
    *,
    dry_run: bool,
    wrote: bool,
) -> None:
    if output is ChangeOutput.json:
        sys.stdout.write(
            json.dumps(as_dict(plan, result, dry_run=dry_run, wrote=wrote), indent=2) + "\n"
        )
        return
    from rich.console import Console
    from rich.text import Text

    out = Console(highlight=False, soft_wrap=True)
    where = f"pipeline {plan.pipeline}: {plan.source.name} -> {plan.target.name}"
    if plan.kind == "rollback":
        origin = f" (version from commit {plan.origin_commit[:12]})" if plan.origin_commit else ""
        where = f"pipeline {plan.pipeline}: roll back {plan.target.name}{origin}"
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
    for note in plan.notes:
        out.print(Text(f"  note: {note}", style="yellow"))
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


def as_dict(
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
        "kind": plan.kind,
        "origin_commit": plan.origin_commit,
        "notes": list(plan.notes),
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
