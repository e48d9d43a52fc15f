"""``promote APP FROM TO`` (also ``pipelines promote``): write TO's patch, branch, push, PR."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.change import GitFlags
from cli.options import RepoOption
from cli.promoting import promote_apps
from cli.publishing import LabelOption, publishing_options
from cli.wait import TimeoutOption, parse_timeout, report, wait_after_promote

if TYPE_CHECKING:
    from promoter.publish import ChangeResult
    from promoter.waiting import StageWait


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

    def wait_for_it(root: Path, result: ChangeResult) -> StageWait | None:
        published = result.published
        if not wait or published is None or published.pull_request is None:
            return None
        seconds = parse_timeout(timeout)
        return wait_after_promote(root, published, flags.remote, flags.github_repo, seconds)

    done = promote_apps(
        apps,
        source,
        target,
        pipeline=pipeline,
        skip_stages=skip_stages,
        allow_downgrade=allow_downgrade,
        repo=repo,
        flags=flags,
        then=wait_for_it,
    )
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
