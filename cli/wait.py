"""``pipelines wait STAGE``: wait until the stage's cluster runs a commit, rolled out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import EXIT_FAILED, fail, handled
from cli.options import RepoOption, repo_root

if TYPE_CHECKING:
    from promoter.cluster import WaitProgress
    from promoter.publish import PromotionResult
    from promoter.waiting import StageWait

TimeoutOption = Annotated[
    str, typer.Option("--timeout", help="How long to wait (10m, 90s, 1h30m).")
]
ContextOption = Annotated[
    str | None, typer.Option("--context", help="Kubeconfig context (default: promoter.yaml's).")
]


def wait(
    stage: Annotated[str, typer.Argument(help="The stage to wait for.", show_default=False)],
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", "-p", help="Pipeline, when the stage name is ambiguous."),
    ] = None,
    commit: Annotated[
        str | None,
        typer.Option("--commit", help="The commit to wait for (default: the remote branch tip)."),
    ] = None,
    timeout: TimeoutOption = "10m",
    context: ContextOption = None,
    repo: RepoOption = None,
) -> None:
    """Wait until STAGE's Flux Kustomization applied a commit, is Ready, and its apps are
    rolled out with git's images."""
    seconds = parse_timeout(timeout)
    with handled():
        import promoter

        done = promoter.wait_for_commit(
            repo_root(repo),
            stage,
            pipeline=pipeline,
            commit=commit,
            timeout=seconds,
            context=context,
            progress=progress_printer(),
        )
    report(done)


def parse_timeout(text: str) -> float:
    """``10m`` -> 600.0; a usage error when it is no duration."""
    from promoter.gates import parse_duration

    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--timeout") from exc


def progress_printer() -> Callable[[WaitProgress], None] | None:
    """Progress lines on stderr when it is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(step: WaitProgress) -> None:
        sys.stderr.write(f"{step.target}: {step.step}: {step.message}\n")
        sys.stderr.flush()

    return show


def report(done: StageWait) -> None:
    """Say how the wait ended; on failure the rollback commands, and exit 1."""
    result = done.result
    where = f"{done.pipeline}/{done.stage} ({done.context})"
    if done.ok:
        sys.stdout.write(f"{where}: {result.message}\n")
        return
    fail(f"{where}: {result.outcome}: {result.message}")
    for command in rollback_commands(done):
        sys.stderr.write(f"to roll back: {command}\n")
    raise typer.Exit(EXIT_FAILED)


def rollback_commands(done: StageWait) -> list[str]:
    """The ``pipelines rollback`` commands that undo the change ``done`` waited for."""
    return [
        f"pipelines rollback {key.partition('/')[2]} {done.stage} --previous "
        f"--pipeline {done.pipeline}"
        for key in done.rollback
    ]


def wait_after_promote(
    root: Path,
    published: PromotionResult,
    remote: str,
    github_repo: str | None,
    timeout: float,
) -> StageWait:
    """``promote --wait``: the pull request merged, then the target stage running it."""
    import os

    import promoter
    from promoter.github import find_repository, find_token
    from promoter.publish import github_pulls
    from promoter.waiting import wait_for_promotion

    repo = promoter.git.open_repo(root)
    try:
        url = promoter.git.remote(repo, remote).url
    finally:
        repo.close()
    number = published.pull_request.number if published.pull_request else 0
    slug, api = find_repository(github_repo, url, os.environ)
    pulls = github_pulls()(slug, find_token(os.environ), api)
    sys.stderr.write(f"waiting for pull request #{number} to be merged\n")
    done = wait_for_promotion(
        root, published, pulls, remote=remote, timeout=timeout, progress=progress_printer()
    )
    if done is None:
        raise promoter.PromoterError(f"pull request #{number} was not merged within {timeout:g}s")
    return done
