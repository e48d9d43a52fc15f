"""``promote APP FROM TO`` (also ``pipelines promote``): write TO's patch, branch, push, PR."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import handled
from cli.options import RepoOption, repo_root
from cli.publishing import GitFlags, LabelOption, publishing_options, run_change
from cli.wait import TimeoutOption, parse_timeout, report, wait_after_promote


@publishing_options(LabelOption)
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
    skip_stages: Annotated[
        bool, typer.Option("--skip-stages", help="Allow jumping over stages.")
    ] = False,
    allow_downgrade: Annotated[
        bool, typer.Option("--allow-downgrade", help="Allow TO to go to an older version.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Wait for the PR's merge, then for TO to run it (see pipelines wait)."
        ),
    ] = False,
    timeout: TimeoutOption = "10m",
    repo: RepoOption = None,
    *,
    flags: GitFlags,
) -> None:
    """Promote an app's version from one stage to the next, as a pull request."""
    apps, source, target = _split_args(args, all_apps)
    with handled():
        root = repo_root(repo)
        early = _early_render(root, source, target, pipeline, flags)
    with handled(), early:
        import promoter

        request = promoter.PromotionRequest(
            apps,
            source,
            target,
            pipeline,
            skip_stages,
            allow_downgrade,
            flags.pin(),
            also_affected=flags.also_affected,
            force=flags.force,
        )
        result = run_change(root, flags, request)
        done = None
        if wait and result.published is not None and result.published.pull_request is not None:
            seconds = parse_timeout(timeout)
            done = wait_after_promote(
                root, result.published, flags.remote, flags.github_repo, seconds
            )
    if done is not None:
        report(done)


def _early_render(
    root: Path, source: str, target: str, pipeline: str | None, flags: GitFlags
) -> AbstractContextManager[None]:
    """TO's render, to start before the promotion's modules are imported (a plan in the
    working tree: ``--dry-run`` or ``--write``; ``promoter.prerender``)."""
    if not (flags.dry_run or flags.write):
        return nullcontext()
    from promoter.prerender import prerendering

    return prerendering(root, source, target, pipeline)


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
