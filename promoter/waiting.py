"""``pipelines wait`` and ``promote --wait``: wait until a stage's cluster applied a commit
and runs it, rolled out (issue 8 §3).

Git says what the stage must run at the commit (its apps, read from a temporary worktree
at that commit); ``promoter.cluster.wait_for_stage`` watches the API until the stage's
Flux Kustomization applied the commit (or a later one containing it: a git query) and is
Ready, and every app runs git's images. On failure the result names the apps whose
rollback (``pipelines rollback APP STAGE --previous``) undoes the change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promoter import git
from promoter.clusterstatus import StageLocation, locate, tip_commit
from promoter.config import read_config
from promoter.errors import LookupFailed, PromoterError
from promoter.model import App, Stage

if TYPE_CHECKING:
    from promoter.cluster import WaitProgress, WaitResult
    from promoter.github import PullRequests
    from promoter.publish import PromotionResult
    from promoter.repo import GitOpsRepo

DEFAULT_WAIT_TIMEOUT = 600.0


@dataclass(frozen=True)
class StageWait:
    """How waiting for ``commit`` in a stage ended; ``rollback`` names the apps (``Kind/name``
    keys) to roll back when it failed (empty on success)."""

    pipeline: str
    stage: str
    commit: str
    context: str
    result: WaitResult
    rollback: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the stage runs the commit, rolled out."""
        return self.result.ok


def find_stage(gitops: GitOpsRepo, name: str, pipeline: str | None = None) -> Stage:
    """Stage ``name`` (of ``pipeline``, needed only when several pipelines have one)."""
    if pipeline is not None:
        return gitops.stage(pipeline, name)
    found = [s for p in gitops.pipelines for s in p.stages if s.name == name]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(s.pipeline for s in found)
        raise PromoterError(f"stage {name!r} is in pipelines {names}; choose one with --pipeline")
    raise LookupFailed.from_choices(
        "stage", name, dict.fromkeys(s.name for p in gitops.pipelines for s in p.stages)
    )


def wait_for_commit(
    root: Path,
    stage: str,
    *,
    pipeline: str | None = None,
    commit: str | None = None,
    apps: Collection[str] | None = None,
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    context: str | None = None,
    kubeconfig: str | os.PathLike[str] | None = None,
    progress: Callable[[WaitProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> StageWait:
    """Wait until ``stage`` of the repository at ``root`` runs ``commit`` (default: the
    remote default branch's tip, fetched; HEAD without a remote).

    ``apps`` (``Kind/name`` keys) limits the awaited apps to those (the promoted ones);
    by default every app of the stage is awaited. ``context`` overrides promoter.yaml's.
    Raises ClusterError when the cluster cannot be read, PromoterError for an unknown
    stage or commit.
    """
    from promoter.cluster import open_cluster, wait_for_stage
    from promoter.repo import GitOpsRepo

    root = Path(root).resolve()
    gitops = GitOpsRepo.open(root)
    chosen = find_stage(gitops, stage, pipeline)
    if commit is None:
        commit = tip_commit(root)
        if commit is None:
            raise PromoterError(f"{root}: not a git repository; give --commit")
    sha = git.resolve(root, commit) or commit
    at_commit, where = _stage_at(root, chosen, sha)
    if where.name is None or where.namespace is None:
        raise PromoterError(
            f"no Flux Kustomization labels stage {chosen.name}; "
            "set flux: {name, namespace} in promoter.yaml"
        )
    awaited = [a for a in at_commit if apps is None or a.key in apps]
    with open_cluster(context or where.context, kubeconfig=kubeconfig) as cluster:
        result = wait_for_stage(
            cluster,
            name=where.name,
            namespace=where.namespace,
            commit=sha,
            apps=awaited,
            timeout=timeout,
            progress=progress,
            contains=lambda applied: git.contains(root, applied, sha),
            clock=clock,
        )
        rollback = () if result.ok else _to_roll_back(awaited, result)
        return StageWait(chosen.pipeline, chosen.name, sha, cluster.context, result, rollback)


def _stage_at(root: Path, stage: Stage, sha: str) -> tuple[tuple[App, ...], StageLocation]:
    """The stage's apps and location as the commit has them (the working tree's when git
    does not know the commit)."""
    from promoter.repo import GitOpsRepo

    if not git.is_commit(root, sha):
        gitops = GitOpsRepo.open(root)
        return _apps_of(gitops, stage), locate(read_config(gitops.source), stage)
    repo = git.open_repo(root)
    try:
        sub = root.relative_to(git.toplevel(repo))
        with git.worktree(repo, sha) as tree:
            gitops = GitOpsRepo.open(git.toplevel(tree) / sub)
            there = gitops.stage(stage.pipeline, stage.name)
            return _apps_of(gitops, there), locate(read_config(gitops.source), there)
    finally:
        repo.close()


def _apps_of(gitops: GitOpsRepo, stage: Stage) -> tuple[App, ...]:
    return gitops.stage_status(stage).apps


def _to_roll_back(apps: list[App], result: WaitResult) -> tuple[str, ...]:
    failed = [a.key for a in apps if result.target == f"{a.kind} " + _ns_name(result.target, a)]
    return tuple(failed) if failed else tuple(a.key for a in apps)


def _ns_name(target: str | None, app: App) -> str:
    # The target is "Kind namespace/name"; the namespace is the cluster's, so compare names.
    rest = (target or "").partition(" ")[2]
    namespace = rest.partition("/")[0]
    return f"{namespace}/{app.rendered_name}"


def wait_for_merge(
    pulls: PullRequests,
    number: int,
    *,
    timeout: float,
    interval: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Poll the forge until pull request ``number`` is merged; its merge commit, or None
    when ``timeout`` seconds passed first."""
    deadline = clock() + timeout
    while True:
        merged = pulls.merged_commit(number)
        if merged is not None:
            return merged
        left = deadline - clock()
        if left <= 0:
            return None
        sleep(min(interval, left))


def wait_for_promotion(
    root: Path,
    published: PromotionResult,
    pulls: PullRequests,
    *,
    remote: str = "origin",
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    interval: float = 10.0,
    context: str | None = None,
    kubeconfig: str | os.PathLike[str] | None = None,
    progress: Callable[[WaitProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StageWait | None:
    """``promote --wait``: wait for the promotion's pull request to be merged, then for its
    target stage to run the merge commit with the promoted apps rolled out. None when the
    pull request was not merged within ``timeout``."""
    plan = published.plan
    if published.pull_request is None:
        raise PromoterError("promote --wait needs the pull request (not --no-pr/--no-push)")
    start = clock()
    merged = wait_for_merge(
        pulls,
        published.pull_request.number,
        timeout=timeout,
        interval=interval,
        clock=clock,
        sleep=sleep,
    )
    if merged is None:
        return None
    repo = git.open_repo(root)
    try:
        git.fetch(repo, remote, published.base, {"GIT_TERMINAL_PROMPT": "0"})
    finally:
        repo.close()
    return wait_for_commit(
        root,
        plan.target.name,
        pipeline=plan.pipeline,
        commit=merged,
        apps=[move.key for move in plan.moves],
        timeout=max(timeout - (clock() - start), 0.0),
        context=context,
        kubeconfig=kubeconfig,
        progress=progress,
        clock=clock,
    )
