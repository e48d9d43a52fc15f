"""``promote``: plan in a temporary worktree at the remote tip, commit, push, pull request.

The user's working tree, index and current branch are never touched.  A push that loses a
race with another writer is retried on the new tip (re-planned from scratch) a bounded
number of times; running the same promotion again updates its open pull request.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from promoter import progress
from promoter.errors import (
    ChangeRequestExists,
    ForgeError,
    GateClosed,
    MergeRequestFailed,
    PromoterError,
    PullRequestFailed,
    PushRaced,
)
from promoter.guess import unchecked
from promoter.pinning import PinRequest
from promoter.planner import plan_promotion
from promoter.prerender import prerendering
from promoter.promotion import PromotionPlan
from promoter.repo import GitOpsRepo

if TYPE_CHECKING:
    from concurrent.futures import Future

    # Only publishing (not --dry-run or --write) needs git and the forges: imported there.
    from git import Repo

    from promoter import git
    from promoter.forge.provider import ChangeRequestInfo, ChangeRequests, ProviderName
    from promoter.github import PullRequests


@dataclass(frozen=True)
class PromotionRequest:
    """What to promote: apps (None for all that differ), from which stage to which."""

    apps: Sequence[str] | None
    source: str
    target: str
    pipeline: str | None = None
    skip_stages: bool = False
    allow_downgrade: bool = False
    pin: PinRequest | None = None
    """Digest pinning (``--pin-digest``, ``--force``, ``--insecure-registry``)."""
    also_affected: bool = False
    """Go ahead when the edits change other stages too (``--also-affected``)."""
    force: bool = False
    """Promote over a value Flux image automation owns (``--force``)."""


PlanMaker = Callable[[GitOpsRepo, Path], PromotionPlan]
"""Plans the change in a fresh checkout: (the GitOps repo there, the git top-level)."""


@dataclass(frozen=True)
class PublishOptions:
    """Where and how far to take a promotion."""

    remote: str = "origin"
    base: str | None = None
    push: bool = True
    pull_request: bool = True
    github_repo: str | None = None
    labels: tuple[str, ...] | None = None
    """None: the default labels of the change's kind (``promoter.pr.DEFAULT_LABELS``)."""
    reviewers: tuple[str, ...] = ()
    draft: bool = False
    attempts: int = 3
    ignore_gates: bool = False
    provider: str | None = None
    """``github`` or ``gitlab``; None: from the remote URL, then the CI environment."""
    gitlab_project: str | None = None
    """GitLab ``group/sub/name`` (default: ``CI_PROJECT_PATH``, else the remote URL)."""
    assignee: str | None = None
    auto_merge: bool = False
    changelog: bool = True
    """Add "What changed" (registry labels, GitHub compare) to the plan and the PR body."""
    insecure_registries: tuple[str, ...] = ()
    """Registry hosts that may be spoken to over plain HTTP (``--insecure-registry``)."""
    title: str | None = None
    """The pull request's title (``--title``); None: the generated one."""
    body_extra: str | None = None
    """Text appended to the generated pull request body (``--body-file``)."""


@dataclass(frozen=True)
class PromotionResult:
    """What a promotion did."""

    plan: PromotionPlan
    base: str
    base_commit: str
    branch: str | None = None
    commit: str | None = None
    pushed: bool = False
    pull_request: ChangeRequestInfo | None = None
    provider: ProviderName | None = None
    """The code host of ``pull_request`` (None when none was asked for)."""


ChangeMode = Literal["dry-run", "write", "publish"]
"""How far ``publish_change`` goes: plan only, edit the working tree, or branch and PR."""


@dataclass(frozen=True)
class ChangeResult:
    """What ``publish_change`` did: the plan, and once published its branch and PR."""

    plan: PromotionPlan
    mode: ChangeMode
    published: PromotionResult | None = None

    @property
    def dry_run(self) -> bool:
        """Nothing was written."""
        return self.mode == "dry-run"

    @property
    def wrote(self) -> bool:
        """The working tree's files were edited (no git)."""
        return self.mode == "write"


PullsFactory = Callable[[str, str, str], "ChangeRequests"]
"""Builds the change request client of the chosen provider from (GitHub owner/name or
GitLab group/sub/name, token, api_url): a ``promoter.forge.provider.ChangeRequestsFactory``."""

BACKOFF_ENV = "PROMOTER_GITHUB_BACKOFF"
"""Seconds of the first wait between retries of a failed GitHub API call (default 0.5;
each later wait doubles); tests set it to 0."""


def github_pulls(env: Mapping[str, str] | None = None) -> PullsFactory:
    """The default ``PullsFactory``: PyGithub, its backoff from ``PROMOTER_GITHUB_BACKOFF``."""
    env = os.environ if env is None else env
    try:
        backoff = max(float(env.get(BACKOFF_ENV) or 0.5), 0.0)
    except ValueError as exc:
        raise PromoterError(f"{BACKOFF_ENV} must be a number of seconds") from exc

    def build(slug: str, token: str, api: str) -> PullRequests:
        from promoter.github import GitHubPulls

        return GitHubPulls(slug, token, api, backoff=backoff)

    return build


def request_planner(request: PromotionRequest) -> PlanMaker:
    """Plans ``request`` in the checkout it is given."""

    def make(gitops: GitOpsRepo, top: Path) -> PromotionPlan:
        return plan_promotion(
            gitops,
            request.apps,
            request.source,
            request.target,
            pipeline=request.pipeline,
            skip_stages=request.skip_stages,
            allow_downgrade=request.allow_downgrade,
            pin=request.pin,
            also_affected=request.also_affected,
            force=request.force,
        )

    return make


def promote(
    path: Path,
    request: PromotionRequest | PlanMaker,
    options: PublishOptions = PublishOptions(),
    *,
    pulls_factory: PullsFactory | None = None,
    env: Mapping[str, str] | None = None,
) -> PromotionResult:
    """Promote in a temporary worktree of the git repository containing ``path``.

    ``request`` says what to promote, or is a function planning any change (a rollback)
    in the worktree.  Gates (promoter.yaml soak and freeze) are checked there unless
    ``options.ignore_gates``; overriding them is said in the pull request.

    Everything that can be checked before pushing is: the remote, the GitHub repository,
    the token (and, with a pull request, that GitHub accepts it).  The branch is pushed
    with a lease; a push that loses a race is re-planned on the new tip and retried up to
    ``options.attempts`` times.  With ``push=False`` the commit lands on a local branch."""
    from promoter import git
    from promoter.forge.choice import (
        choose_provider,
        default_factory,
        find_target,
        find_token,
        git_token,
    )

    env = os.environ if env is None else env
    repo = git.open_repo(path)
    try:
        top = git.toplevel(repo)
        try:
            sub = Path(path).resolve().relative_to(top)
        except ValueError as exc:
            raise PromoterError(f"{path} is not inside {top}") from exc
        remote = git.remote(repo, options.remote)
        provider = choose_provider(
            options.provider, remote.url, env, gitlab_project=options.gitlab_project
        )
        pulls: ChangeRequests | None = None
        token = git_token(provider, env)
        if options.push and options.pull_request:
            target = find_target(
                provider,
                remote.url,
                env,
                github_repo=options.github_repo,
                gitlab_project=options.gitlab_project,
            )
            token = find_token(provider, env)
            factory = pulls_factory or default_factory(provider, env)
            pulls = factory(target.path, token, target.api_url)
        try:
            maker = request if callable(request) else request_planner(request)
            return _promote(repo, sub, remote, token, pulls, maker, options, provider)
        finally:
            close = getattr(pulls, "close", None)
            if callable(close):
                close()
    finally:
        repo.close()


def publish_change(
    path: Path,
    request: PromotionRequest | PlanMaker,
    options: PublishOptions = PublishOptions(),
    mode: ChangeMode = "publish",
    *,
    pulls_factory: PullsFactory | None = None,
    env: Mapping[str, str] | None = None,
) -> ChangeResult:
    """``promote`` and ``rollback``: plan the change in the working tree at ``path`` and
    stop there (``dry-run``) or edit its files (``write``), gates enforced unless
    ``options.ignore_gates``; or ``publish`` it as a branch and pull request (``promote``).
    """
    env = os.environ if env is None else env
    maker = request if callable(request) else request_planner(request)
    if options.changelog:
        maker = changelog_planner(maker, options, env)
    if mode == "publish":
        published = promote(path, maker, options, pulls_factory=pulls_factory, env=env)
        return ChangeResult(published.plan, mode, published)
    early = (
        prerendering(Path(path), request.source, request.target, request.pipeline)
        if isinstance(request, PromotionRequest)
        else contextlib.nullcontext()
    )
    with early:  # TO's render starts from the cached discovery, checked before it is used
        gitops, plan = plan_in_tree(maker, Path(path))
    if not plan.is_noop:
        plan = enforce_gates(gitops, plan, ignore=options.ignore_gates)
        if mode == "write":
            plan.write()
    return ChangeResult(plan, mode)


def plan_in_tree(maker: PlanMaker, path: Path) -> tuple[GitOpsRepo, PromotionPlan]:
    """``maker``'s plan in the working tree at ``path``, and the repository it was made in.

    It is made from what the last cached ``status`` discovered, checked while kustomize
    renders (``promoter.guess``); when the check fails, the repository is discovered again,
    and unless that finds exactly the same, the plan (or the error) made from the guess is
    dropped and made again."""
    guessed = GitOpsRepo.open_guessed(path)
    if guessed is None:
        gitops = GitOpsRepo.open(path)
        return gitops, maker(gitops, path)
    gitops, guess = guessed
    error: PromoterError | None = None
    with unchecked(guess.check):
        try:
            plan = maker(gitops, path)
        except PromoterError as exc:
            error = exc
    if not guess.check():
        fresh = GitOpsRepo.open(path)
        if not guess.same(fresh.pipelines, fresh.flux_specs):
            progress.step("the repository changed since the last status; planning again")
            return fresh, maker(fresh, path)
    if error is not None:
        raise error
    return gitops, plan


def _promote(
    repo: Repo,
    sub: Path,
    remote: git.Remote,
    token: str | None,
    pulls: PullRequests | None,
    make_plan: PlanMaker,
    options: PublishOptions,
    provider: ProviderName = "github",
) -> PromotionResult:
    from promoter import git
    from promoter.forge.choice import GIT_USERNAMES
    from promoter.pr import branch_name, commit_message

    attempts = max(options.attempts, 1)
    with git.credentials(token, remote.url, GIT_USERNAMES[provider]) as genv:
        base = options.base or git.default_branch(repo, remote.name, genv)
        for attempt in range(1, attempts + 1):
            base_commit = git.fetch(repo, remote.name, base, genv)
            with git.worktree(repo, base_commit) as tree:
                worktree_top = git.toplevel(tree)
                progress.step(f"planning on {base} at {base_commit[:12]}")
                gitops = GitOpsRepo.open(worktree_top / sub)
                plan = make_plan(gitops, worktree_top)
                if plan.is_noop:
                    return PromotionResult(plan, base, base_commit)
                plan = enforce_gates(gitops, plan, ignore=options.ignore_gates)
                branch = branch_name(plan)
                plan.write()
                files = [(sub / edit.path).as_posix() for edit in plan.edits]
                sha = git.commit(tree, commit_message(plan), files)
                if not options.push:
                    git.set_branch(repo, branch, sha)
                    return PromotionResult(plan, base, base_commit, branch, sha)
                # Before pushing: the forge answers and accepts the token (nothing half-done).
                existing = pulls.find_open(branch, base) if pulls is not None else None
                expected = git.remote_sha(repo, remote.name, branch, genv, push=True)
                try:
                    git.push(tree, remote.name, branch, expected, genv)
                except PushRaced as exc:
                    if attempt < attempts:
                        progress.retrying(f"{exc}; retrying ({attempt} of {attempts - 1})")
                        continue
                    raise PushRaced(f"{exc} (gave up after {attempts} attempts)") from exc
            break
    result = PromotionResult(plan, base, base_commit, branch, sha, pushed=True)
    if pulls is None:
        return result
    try:
        pr = open_pull_request(pulls, plan, branch, base, base_commit, options, existing)
    except ForgeError as exc:
        failed = MergeRequestFailed if provider == "gitlab" else PullRequestFailed
        what = "merge request" if provider == "gitlab" else "pull request"
        raise failed(f"branch {branch} was pushed, but the {what} failed: {exc}", branch) from exc
    return replace(result, pull_request=pr, provider=provider)


def enforce_gates(gitops: GitOpsRepo, plan: PromotionPlan, *, ignore: bool) -> PromotionPlan:
    """Refuse a plan that a soak, freeze or healthy gate stops (say which and until when); with
    ``ignore``, go on and record the overridden gates in the plan's notes."""
    from promoter.gates import check_gates, load_gates
    from promoter.healthgate import health_blocks

    gates = load_gates(gitops.source)
    source_gates = gates.for_stage(plan.pipeline, plan.source.name)
    target_gates = gates.for_stage(plan.pipeline, plan.target.name)
    if not source_gates.soak and not target_gates.freeze and not source_gates.healthy:
        return plan
    arrivals: dict[str, datetime | None] = {}
    if source_gates.soak and plan.kind == "promote":
        arrivals = arrival_times(gitops.root, plan)
    blocks = check_gates(gates, plan.pipeline, plan.source.name, plan.target.name, arrivals)
    blocks += health_blocks(gitops, plan, gates)
    if not blocks:
        return plan
    if not ignore:
        raise GateClosed("; ".join(b.message for b in blocks) + " (--ignore-gates overrides)")
    notes = tuple(f"Gate overridden with --ignore-gates: {b.message}" for b in blocks)
    return replace(plan, notes=plan.notes + notes)


def arrival_times(root: Path, plan: PromotionPlan) -> dict[str, datetime | None]:
    """When each moving app's current version arrived in the source stage (git history)."""
    from promoter.history import read_history

    try:
        entries = read_history(root)
    except PromoterError:
        return {move.key: None for move in plan.moves}
    arrivals: dict[str, datetime | None] = {}
    for move in plan.moves:
        found = [
            e
            for e in entries
            if (e.pipeline, e.stage, e.key) == (plan.pipeline, plan.source.name, move.key)
            and e.new_version == move.new_version
        ]
        arrivals[move.key] = datetime.fromisoformat(found[-1].date) if found else None
    return arrivals


def open_pull_request(
    pulls: ChangeRequests,
    plan: PromotionPlan,
    branch: str,
    base: str,
    base_commit: str,
    options: PublishOptions,
    existing: ChangeRequestInfo | None = None,
) -> ChangeRequestInfo:
    """Open the pull (merge) request for ``branch``, or update the one already open; then
    labels, reviewers, the assignee and auto-merge as ``options`` ask."""
    from promoter.pr import body_with_extra, custom_title, labels, pull_request_body

    title = custom_title(plan, options.title)
    body = body_with_extra(pull_request_body(plan, base, base_commit), options.body_extra)
    progress.step(f"opening the {'merge' if _is_gitlab(pulls) else 'pull'} request")
    if existing is None:
        existing = pulls.find_open(branch, base)
    if existing is None:
        try:
            pr = pulls.create(title=title, body=body, head=branch, base=base, draft=options.draft)
        except ChangeRequestExists:
            # Someone opened it since we looked: update theirs.
            existing = pulls.find_open(branch, base)
            if existing is None:
                raise
    if existing is not None:
        pr = pulls.update(existing.number, title=title, body=body)
    pulls.add_labels(pr.number, labels(plan, options.labels))
    pulls.request_reviewers(pr.number, options.reviewers)
    if options.assignee:
        pulls.set_assignee(pr.number, options.assignee)
    if options.auto_merge:
        note = pulls.enable_auto_merge(pr.number)
        pr = replace(pr, auto_merge=note is None, note=note)
    return pr


def changelog_planner(
    maker: PlanMaker, options: PublishOptions, env: Mapping[str, str]
) -> PlanMaker:
    """``maker``, its plan given a "What changed" section (``promoter.changelog``)."""

    def collect(plan: PromotionPlan) -> PromotionPlan:
        from promoter.changelog import plan_with_changelog

        return plan_with_changelog(plan, insecure=options.insecure_registries, env=env)

    def make(gitops: GitOpsRepo, top: Path) -> PromotionPlan:
        from promoter.planner import drafts

        # The registries are asked while kustomize verifies the plan (issue 15).
        started: list[tuple[PromotionPlan, Future[PromotionPlan]]] = []
        with drafts(lambda draft: started.append((draft, _in_background(collect, draft)))):
            plan = maker(gitops, top)
        for draft, future in reversed(started):
            if (draft.root, draft.changes) == (plan.root, plan.changes):
                return replace(plan, changelog=future.result().changelog)
        return collect(plan)

    return make


def _in_background(
    work: Callable[[PromotionPlan], PromotionPlan], plan: PromotionPlan
) -> Future[PromotionPlan]:
    """``work(plan)`` on a daemon thread: a run that fails meanwhile does not wait for it."""
    from concurrent.futures import Future

    future: Future[PromotionPlan] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work(plan))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="promoter-changelog", daemon=True).start()
    return future


def _is_gitlab(pulls: ChangeRequests) -> bool:
    """Whether ``pulls`` opens GitLab merge requests (for the words of progress steps)."""
    return type(pulls).__name__ == "GitLabMergeRequests"
