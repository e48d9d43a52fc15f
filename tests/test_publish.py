"""Tests of promoter.publish.promote (and promoter.git, promoter.pr underneath): real git in
tmp_path, a bare remote, and pull requests through PyGithub against the local FakeGitHub."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from promoter import git, publish
from promoter.errors import (
    GitError,
    GitHubError,
    LookupFailed,
    PromotionError,
    PullRequestFailed,
    PushRaced,
    PushRejected,
)
from promoter.github import GitHubPulls, PullRequestInfo, PullRequests
from promoter.publish import (
    PromotionRequest,
    PromotionResult,
    PublishOptions,
    promote,
)
from tests.builders.git import (
    GitHttpServer,
    GitOps,
    deny_pushes,
    leftovers,
    make_gitops,
    make_monorepo,
    push_change,
)
from tests.fakes.github import FakeGitHub

TOKEN = "ghp_publishSECRET0123456789"
NGINX = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")
BRANCH = "promote/web/prod/nginx-1.22.0"
PROD_NGINX = "pipelines/web/prod/nginx-tag.yaml"

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


@pytest.fixture
def gh(ops: GitOps) -> Iterator[FakeGitHub]:
    """FakeGitHub over the remote; fails at teardown if the fake crashed or was misused."""
    with FakeGitHub(ops.remote, owner="acme", name="gitops", token=TOKEN) as fake:
        yield fake
    assert fake.errors == []
    assert fake.unhandled == []


def github_env(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    """The process environment plus what points promote at the fake."""
    return {
        **os.environ,
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/gitops",
        "PROMOTER_GITHUB_BACKOFF": "0",
        **extra,
    }


def run(ops: GitOps, gh: FakeGitHub, request: PromotionRequest = NGINX, **kw: Any) -> Any:
    """promote() in the user's clone against the fake, options from keywords."""
    env = kw.pop("env", None) or github_env(gh)
    factory = kw.pop("pulls_factory", None)
    return promote(ops.work, request, PublishOptions(**kw), pulls_factory=factory, env=env)


def trailers(ops: GitOps, commit: str) -> list[tuple[str, str]]:
    """The trailers of a commit in the remote, parsed by git itself."""
    message = ops.remote_git("log", "-1", "--format=%B", commit)
    out = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [tuple(line.split(": ", 1)) for line in out.splitlines()]  # type: ignore[misc]


def assert_clean(ops: GitOps, temp: Path, before: Mapping[str, object]) -> None:
    """The user's repository is exactly as it was, with no worktree or temp dir left."""
    assert ops.snapshot() == before
    assert [Path(p).resolve() for p in ops.worktrees()] == [ops.work.resolve()]
    assert not (ops.work / ".git" / "worktrees").exists() or not any(
        (ops.work / ".git" / "worktrees").iterdir()
    )
    assert leftovers(temp) == []


def dirty_user(ops: GitOps) -> None:
    """The user is on another branch with staged, unstaged and untracked changes, one of
    them in the very file the promotion edits."""
    ops.git("checkout", "--quiet", "-b", "feature")
    (ops.work / PROD_NGINX).write_text("# my unfinished edit\n", encoding="utf-8")
    (ops.work / "base/shop/service.yaml").write_text("# staged edit\n", encoding="utf-8")
    ops.git("add", "base/shop/service.yaml")
    (ops.work / "notes.txt").write_text("untracked\n", encoding="utf-8")


# -- the default mode ----------------------------------------------------------------------


def test_promote_opens_pull_request(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """The default mode pushes one commit on the promotion branch and opens a labelled PR."""
    before = ops.snapshot()
    result = run(ops, gh)
    main = ops.remote_sha("main")
    assert (result.base, result.base_commit, result.branch, result.pushed) == (
        "main",
        main,
        BRANCH,
        True,
    )
    assert ops.remote_sha(BRANCH) == result.commit
    assert ops.remote_git("rev-parse", f"{result.commit}^") == main
    assert "image: nginx:1.22.0" in ops.remote_file(BRANCH, PROD_NGINX)
    changed = ops.remote_git("diff", "--name-only", "main", BRANCH)
    assert changed == PROD_NGINX
    assert result.pull_request == PullRequestInfo(
        1, "https://github.com/acme/gitops/pull/1", created=True
    )
    (pull,) = gh.pulls.values()
    assert (pull.head, pull.base, pull.draft, pull.labels) == (BRANCH, "main", False, ["promotion"])
    assert pull.title == "promote(web/prod): nginx 1.21.6 -> 1.22.0"
    assert_clean(ops, temp, before)


def test_commit_message_and_trailers(ops: GitOps, gh: FakeGitHub) -> None:
    """The commit says what moved, with Promoted-* trailers git itself can parse."""
    result = run(ops, gh)
    subject = ops.remote_git("log", "-1", "--format=%s", result.commit)
    assert subject == "promote(web/prod): nginx 1.21.6 -> 1.22.0"
    assert trailers(ops, result.commit) == [
        ("Promoted-Pipeline", "web"),
        ("Promoted-From", "staging"),
        ("Promoted-To", "prod"),
        ("Promoted-App", "Deployment/nginx"),
        ("Promoted-Version", "1.22.0"),
    ]


def test_pull_request_body_says_what_moves_where(ops: GitOps, gh: FakeGitHub) -> None:
    """The PR body has the app/from/to/version table, the source commit and the diff."""
    result = run(ops, gh)
    body = gh.pulls[1].body or ""
    assert "| App | From | To | Version |" in body
    assert "| `Deployment/nginx` | staging | prod | `1.21.6` → `1.22.0` |" in body
    assert f"`main` at `{result.base_commit}`" in body
    assert "pipelines/web/prod/nginx-tag.yaml:10" in body
    assert "<details><summary>Rendered diff of prod" in body
    assert "+      - image: nginx:1.22.0" in body
    assert body.rstrip().endswith("</details>")


def test_user_checkout_is_never_touched(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """Uncommitted, staged and untracked edits on another branch survive byte for byte."""
    dirty_user(ops)
    before = ops.snapshot()
    result = run(ops, gh)
    assert result.pushed
    assert "image: nginx:1.22.0" in ops.remote_file(BRANCH, PROD_NGINX)
    assert (ops.work / PROD_NGINX).read_text(encoding="utf-8") == "# my unfinished edit\n"
    assert ops.local_branches() == ["feature", "main"]
    assert_clean(ops, temp, before)


def test_built_from_remote_tip_not_local_head(ops: GitOps, gh: FakeGitHub) -> None:
    """A stale local main does not matter: the change starts from the fetched remote tip."""
    tip = push_change(ops, "main", {"README.md": "news\n"}, "someone else's change")
    local = ops.git("rev-parse", "HEAD")
    result = run(ops, gh)
    assert result.base_commit == tip != local
    assert ops.remote_git("rev-parse", f"{BRANCH}^") == tip
    assert ops.git("rev-parse", "HEAD") == local


def test_base_defaults_to_remote_default_branch(ops: GitOps, gh: FakeGitHub) -> None:
    """Without --base the remote's HEAD branch is the base, whatever the local branch."""
    push_change(ops, "trunk", {"README.md": "trunk\n"}, "trunk")
    ops.remote_git("symbolic-ref", "HEAD", "refs/heads/trunk")
    result = run(ops, gh)
    assert result.base == "trunk"
    assert gh.pulls[1].base == "trunk"
    assert ops.remote_git("rev-parse", f"{BRANCH}^") == ops.remote_sha("trunk")


def test_explicit_base_branch(ops: GitOps, gh: FakeGitHub) -> None:
    """--base picks another branch to start from and to open the PR against."""
    release = push_change(ops, "release", {"README.md": "r\n"}, "release")
    result = run(ops, gh, base="release")
    assert (result.base, result.base_commit, gh.pulls[1].base) == ("release", release, "release")


def test_missing_base_branch_is_clear(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """A --base that the remote does not have is named in the error."""
    before = ops.snapshot()
    with pytest.raises(GitError, match="branch 'nope' does not exist on remote 'origin'"):
        run(ops, gh, base="nope")
    assert_clean(ops, temp, before)


def test_gitops_repo_in_subdirectory(tmp_path: Path, temp: Path) -> None:
    """A GitOps repo in a subdirectory of the git repository is promoted in place."""
    ops = make_monorepo(tmp_path / "mono", "deploy/gitops")
    before = ops.snapshot()
    with FakeGitHub(ops.remote, token=TOKEN) as gh:
        result = promote(ops.work / "deploy/gitops", NGINX, env=github_env(gh))
        assert gh.pulls[1].head == BRANCH
    assert result.pushed
    changed = ops.remote_git("diff", "--name-only", "main", BRANCH)
    assert changed == f"deploy/gitops/{PROD_NGINX}"
    assert_clean(ops, temp, before)


def test_path_inside_gitops_repo_is_not_its_root(ops: GitOps, gh: FakeGitHub) -> None:
    """The path names the GitOps repo's root: a directory below it has no such stages."""
    with pytest.raises(PromotionError, match="cannot be read"):
        promote(ops.work / "pipelines", NGINX, env=github_env(gh))


# -- author ------------------------------------------------------------------------------


def test_author_from_git_config(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without GIT_AUTHOR_* the commit's author is user.name/user.email of git config."""
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name)
    ops.git("config", "user.name", "Config Person")
    ops.git("config", "user.email", "config@example.com")
    result = run(ops, gh, env=github_env(gh))
    author = ops.remote_git("log", "-1", "--format=%an <%ae>|%cn <%ce>", result.commit)
    assert author == "Config Person <config@example.com>|Config Person <config@example.com>"


def test_author_overridden_by_environment(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIT_AUTHOR_NAME/EMAIL win over git config."""
    ops.git("config", "user.name", "Config Person")
    ops.git("config", "user.email", "config@example.com")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Release Bot")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "bot@example.com")
    result = run(ops, gh)
    author = ops.remote_git("log", "-1", "--format=%an <%ae>", result.commit)
    assert author == "Release Bot <bot@example.com>"


def test_no_identity_is_clear(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, temp: Path
) -> None:
    """Without any identity the error says how to set one, and nothing is pushed."""
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("EMAIL", "")
    ops.git("config", "user.useConfigOnly", "true")
    before = ops.snapshot()
    with pytest.raises(GitError, match="git has no author identity"):
        run(ops, gh, env=github_env(gh))
    assert ops.remote_branches() == ["main"]
    assert_clean(ops, temp, before)


# -- races and rejections ------------------------------------------------------------------


def test_stale_lease_is_retried_on_new_tip(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, temp: Path
) -> None:
    """A push whose lease is stale (remote_sha lied once) is re-planned and retried."""
    real = git.remote_sha
    seen: list[str | None] = []

    def stale_once(*args: Any, **kwargs: Any) -> str | None:
        value = real(*args, **kwargs)
        seen.append(value)
        return ops.remote_sha("main") if len(seen) == 1 else value

    fetches: list[str] = []
    real_fetch = git.fetch

    def counting_fetch(*args: Any, **kwargs: Any) -> str:
        sha = real_fetch(*args, **kwargs)
        fetches.append(sha)
        return sha

    monkeypatch.setattr(git, "remote_sha", stale_once)
    monkeypatch.setattr(git, "fetch", counting_fetch)
    before = ops.snapshot()
    result = run(ops, gh)
    assert len(seen) == 2 and len(fetches) == 2
    assert ops.remote_sha(BRANCH) == result.commit
    assert "image: nginx:1.22.0" in ops.remote_file(BRANCH, PROD_NGINX)
    assert len(gh.pulls) == 1
    assert_clean(ops, temp, before)


def test_concurrent_writer_on_branch_is_retried(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, temp: Path
) -> None:
    """Another writer pushing the branch between our read and our push loses us one attempt;
    the retry starts again from the remote tip and wins with the correct content."""
    real_push = git.push
    pushes: list[str | None] = []
    intruder: list[str] = []

    def racing_push(tree: Any, remote: str, branch: str, expected: str | None, env: Any) -> None:
        pushes.append(expected)
        if len(pushes) == 1:
            intruder.append(push_change(ops, branch, {PROD_NGINX: "conflict\n"}, "intruder"))
            push_change(ops, "main", {"README.md": "moved\n"}, "main moved meanwhile")
        real_push(tree, remote, branch, expected, env)

    monkeypatch.setattr(git, "push", racing_push)
    before = ops.snapshot()
    result = run(ops, gh)
    assert pushes == [None, intruder[0]]
    assert result.base_commit == ops.remote_sha("main")
    assert ops.remote_sha(BRANCH) == result.commit
    assert ops.remote_git("rev-parse", f"{BRANCH}^") == ops.remote_sha("main")
    assert "image: nginx:1.22.0" in ops.remote_file(BRANCH, PROD_NGINX)
    assert f"`main` at `{result.base_commit}`" in (gh.pulls[1].body or "")
    assert_clean(ops, temp, before)


def test_race_lost_every_time_gives_up(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, temp: Path
) -> None:
    """A lease that is always stale ends after the bounded attempts in one PushRaced."""
    calls: list[str] = []

    def always_stale(*args: Any, **kwargs: Any) -> str | None:
        calls.append("x")
        return ops.remote_sha("main")

    monkeypatch.setattr(git, "remote_sha", always_stale)
    before = ops.snapshot()
    with pytest.raises(PushRaced, match=r"lost a race.*gave up after 2 attempts"):
        run(ops, gh, attempts=2)
    assert len(calls) == 2
    assert ops.remote_branches() == ["main"]
    assert gh.pulls == {}
    assert_clean(ops, temp, before)


def test_no_push_rights(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, temp: Path
) -> None:
    """A remote that refuses pushes gives one PushRejected at once, nothing half-done."""
    deny_pushes(ops)
    pushes: list[str] = []
    real_push = git.push

    def counting_push(*args: Any, **kwargs: Any) -> None:
        pushes.append("x")
        real_push(*args, **kwargs)

    monkeypatch.setattr(git, "push", counting_push)
    before = ops.snapshot()
    with pytest.raises(PushRejected, match=r"was rejected.*permission denied") as info:
        run(ops, gh)
    assert not isinstance(info.value, PushRaced)
    assert len(pushes) == 1
    assert ops.remote_branches() == ["main"]
    assert gh.pulls == {}
    assert_clean(ops, temp, before)


def test_no_such_remote(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """--remote nope names the remotes there are."""
    before = ops.snapshot()
    with pytest.raises(GitError, match=r"no git remote named 'nope' \(remotes: origin\)"):
        run(ops, gh, remote="nope")
    assert_clean(ops, temp, before)


def test_unreachable_remote(ops: GitOps, gh: FakeGitHub, temp: Path, tmp_path: Path) -> None:
    """A remote whose repository is gone fails with git's reason, nothing left behind."""
    ops.git("remote", "add", "gone", str(tmp_path / "missing.git"))
    before = ops.snapshot()
    with pytest.raises(GitError, match="Could not read from remote repository"):
        run(ops, gh, remote="gone")
    assert_clean(ops, temp, before)


def test_other_remote_name(ops: GitOps, gh: FakeGitHub) -> None:
    """--remote names the remote to fetch from and push to."""
    ops.git("remote", "rename", "origin", "upstream")
    with pytest.raises(GitError, match="no git remote named 'origin'"):
        run(ops, gh)
    result = run(ops, gh, remote="upstream")
    assert result.pushed and ops.remote_sha(BRANCH) == result.commit


def test_interrupt_removes_worktree(
    ops: GitOps, gh: FakeGitHub, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of planning still removes the temporary worktree."""

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        assert len(ops.worktrees()) == 2  # the temporary worktree exists right now
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "plan_promotion", interrupted)
    before = ops.snapshot()
    with pytest.raises(KeyboardInterrupt):
        run(ops, gh)
    assert ops.remote_branches() == ["main"]
    assert_clean(ops, temp, before)


def test_not_a_git_repository(tmp_path: Path, gh: FakeGitHub) -> None:
    """A directory outside any repository is refused."""
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not inside a git repository"):
        promote(plain, NGINX, env=github_env(gh))


# -- planning faults ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (PromotionRequest(["nginxx"], "staging", "prod"), LookupFailed, "did you mean nginx"),
        (PromotionRequest(["nginx"], "staging", "prood"), LookupFailed, "unknown stage 'prood'"),
        (PromotionRequest(["nginx"], "prod", "staging", "web"), PromotionError, "backwards"),
        (PromotionRequest(["nginx"], "dev", "prod", "web"), PromotionError, "--skip-stages"),
    ],
)
def test_refused_plans_leave_nothing(
    ops: GitOps,
    gh: FakeGitHub,
    temp: Path,
    request_: PromotionRequest,
    error: type[Exception],
    message: str,
) -> None:
    """Unknown names, backwards and skipping promotions fail clearly and leave nothing."""
    dirty_user(ops)
    before = ops.snapshot()
    with pytest.raises(error, match=message):
        run(ops, gh, request_)
    assert ops.remote_branches() == ["main"]
    assert gh.pulls == {}
    assert_clean(ops, temp, before)


def test_downgrade_refused_then_allowed(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """A promotion to an older version is refused without --allow-downgrade."""
    push_change(
        ops,
        "main",
        {PROD_NGINX: (ops.work / PROD_NGINX).read_text().replace("1.21.6", "1.25.0")},
        "prod ahead",
    )
    before = ops.snapshot()
    with pytest.raises(PromotionError, match="--allow-downgrade"):
        run(ops, gh)
    assert_clean(ops, temp, before)
    assert ops.remote_branches() == ["main"]
    allowed = dataclasses.replace(NGINX, allow_downgrade=True)
    result = run(ops, gh, allowed)
    assert result.branch == BRANCH and result.pushed


def test_skip_stages_allowed(ops: GitOps, gh: FakeGitHub) -> None:
    """dev -> prod works with skip_stages and names the branch after the target."""
    request = PromotionRequest(["nginx"], "dev", "prod", "web", skip_stages=True)
    result = run(ops, gh, request)
    assert result.branch == "promote/web/prod/nginx-1.23.1"


# -- idempotence -------------------------------------------------------------------------


def test_same_version_is_a_noop(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """Promoting what the target already runs writes nothing and creates no branch."""
    push_change(
        ops,
        "main",
        {PROD_NGINX: (ops.work / PROD_NGINX).read_text().replace("1.21.6", "1.22.0")},
        "prod already there",
    )
    before = ops.snapshot()
    result = run(ops, gh)
    assert result.plan.is_noop
    assert (result.branch, result.commit, result.pushed, result.pull_request) == (
        None,
        None,
        False,
        None,
    )
    assert result.plan.unchanged == ("Deployment/nginx",)
    assert ops.remote_branches() == ["main"]
    assert ops.local_branches() == ["main"]
    assert gh.pulls == {}
    assert_clean(ops, temp, before)


def test_rerun_updates_open_pull_request(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """Running the same promotion again force-pushes the branch with a lease and edits the
    open PR instead of opening a second one."""
    first = run(ops, gh)
    old_body = gh.pulls[1].body or ""
    tip = push_change(ops, "main", {"README.md": "moved on\n"}, "unrelated change")
    before = ops.snapshot()
    second = run(ops, gh)
    assert len(gh.pulls) == 1
    assert second.pull_request == PullRequestInfo(1, first.pull_request.url, created=False)
    assert second.commit != first.commit
    assert ops.remote_sha(BRANCH) == second.commit
    assert ops.remote_git("rev-parse", f"{BRANCH}^") == tip
    body = gh.pulls[1].body or ""
    assert f"`main` at `{tip}`" in body and body != old_body
    assert gh.pulls[1].labels == ["promotion"]
    assert_clean(ops, temp, before)


def test_closed_pull_request_is_not_reused(ops: GitOps, gh: FakeGitHub) -> None:
    """When the earlier PR was closed, running again opens a new one."""
    run(ops, gh)
    gh.pulls[1].state = "closed"
    second = run(ops, gh)
    assert second.pull_request is not None and second.pull_request.number == 2
    assert [p.number for p in gh.open_pulls()] == [2]


def test_pull_request_opened_meanwhile_is_updated(ops: GitOps, gh: FakeGitHub) -> None:
    """If someone opens the PR between our lookup and our create, theirs is updated."""

    class Racing(GitHubPulls):
        def create(self, **kwargs: Any) -> PullRequestInfo:
            gh.add_pull(kwargs["head"], kwargs["base"], title="someone else's")
            return super().create(**kwargs)

    def factory(slug: str, token: str, api: str) -> PullRequests:
        return Racing(slug, token, api, backoff=0)

    result = run(ops, gh, pulls_factory=factory)
    assert len(gh.pulls) == 1
    assert result.pull_request == PullRequestInfo(1, gh_url(1), created=False)
    assert gh.pulls[1].title == "promote(web/prod): nginx 1.21.6 -> 1.22.0"


def gh_url(number: int) -> str:
    """The html URL the fake gives pull request ``number``."""
    return f"https://github.com/acme/gitops/pull/{number}"


# -- several apps ------------------------------------------------------------------------


@pytest.mark.parametrize("apps", [None, ["nginx", "shop"]])
def test_several_apps_one_commit_one_branch_one_pr(
    ops: GitOps, gh: FakeGitHub, apps: list[str] | None
) -> None:
    """--all and APP1,APP2 give one commit, one branch and one PR covering every app."""
    result = run(ops, gh, PromotionRequest(apps, "staging", "prod", "web"))
    branch = "promote/web/prod/nginx-1.22.0+shop-1.4.0"
    assert result.branch == branch
    assert ops.remote_branches() == ["main", branch]
    assert ops.remote_git("rev-list", "--count", f"main..{branch}") == "1"
    pairs = trailers(ops, result.commit)
    assert ("Promoted-App", "Deployment/nginx") in pairs
    assert ("Promoted-App", "Deployment/shop") in pairs
    assert ("Promoted-Version", "1.4.0") in pairs
    assert len(gh.pulls) == 1
    body = gh.pulls[1].body or ""
    assert "| `Deployment/shop` | staging | prod | `1.3.0` → `1.4.0` |" in body
    assert "| `Deployment/nginx` | staging | prod | `1.21.6` → `1.22.0` |" in body
    kustomization = ops.remote_file(branch, "pipelines/web/prod/kustomization.yaml")
    assert "newTag: 1.4.0" in kustomization


# -- options -----------------------------------------------------------------------------


def test_labels_reviewers_draft(ops: GitOps, gh: FakeGitHub) -> None:
    """Labels, reviewers (users and org/team) and draft end up on the PR."""
    run(
        ops,
        gh,
        labels=("promotion", "prod"),
        reviewers=("alice", "acme/sre"),
        draft=True,
    )
    pull = gh.pulls[1]
    assert pull.labels == ["promotion", "prod"]
    assert (pull.requested_reviewers, pull.requested_teams, pull.draft) == (
        ["alice"],
        ["sre"],
        True,
    )


def test_github_repo_option_beats_environment(ops: GitOps, gh: FakeGitHub) -> None:
    """--github-repo is used even when GITHUB_REPOSITORY names another repository."""
    env = github_env(gh, GITHUB_REPOSITORY="someone/else")
    result = run(ops, gh, env=env, github_repo="acme/gitops")
    assert result.pull_request is not None
    assert all("/repos/acme/gitops" in path for _, path in gh.requests)


def test_no_push_commits_on_local_branch_only(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """push=False leaves the commit on a local branch: nothing in the remote, no PR."""
    dirty_user(ops)
    before = ops.snapshot()
    result = run(ops, gh, push=False, env={**os.environ})
    assert (result.branch, result.pushed, result.pull_request) == (BRANCH, False, None)
    assert ops.local_branches() == ["feature", "main", BRANCH]
    assert ops.git("rev-parse", BRANCH) == result.commit
    assert ops.remote_branches() == ["main"]
    assert gh.log == []
    assert "image: nginx:1.22.0" in ops.git("show", f"{BRANCH}:{PROD_NGINX}")
    assert_clean(ops, temp, before)


def test_no_push_twice_moves_the_local_branch(ops: GitOps, gh: FakeGitHub) -> None:
    """Running push=False again resets the local promotion branch to the new commit."""
    first = run(ops, gh, push=False)
    tip = push_change(ops, "main", {"README.md": "moved on\n"}, "unrelated change")
    second = run(ops, gh, push=False)
    assert ops.git("rev-parse", BRANCH) == second.commit != first.commit
    assert ops.git("rev-parse", f"{BRANCH}^") == tip


def test_no_pr_pushes_branch_only(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """pull_request=False pushes the branch, asks GitHub nothing and needs no token."""
    env = {k: v for k, v in github_env(gh).items() if k != "GITHUB_TOKEN"}
    before = ops.snapshot()
    result = run(ops, gh, pull_request=False, env=env)
    assert result.pushed and result.pull_request is None
    assert ops.remote_sha(BRANCH) == result.commit
    assert gh.log == []
    assert ops.local_branches() == ["main"]
    assert_clean(ops, temp, before)


# -- GitHub faults -----------------------------------------------------------------------


def test_missing_token_fails_before_any_push(ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """Without GITHUB_TOKEN/GH_TOKEN the error comes first: no fetch, no branch, no PR."""
    env = {k: v for k, v in github_env(gh).items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    before = ops.snapshot()
    with pytest.raises(GitHubError, match="no GitHub token"):
        run(ops, gh, env=env)
    assert ops.remote_branches() == ["main"]
    assert gh.log == []
    assert_clean(ops, temp, before)


def test_gh_token_is_accepted(ops: GitOps, gh: FakeGitHub) -> None:
    """GH_TOKEN works as well as GITHUB_TOKEN."""
    env = {k: v for k, v in github_env(gh).items() if k != "GITHUB_TOKEN"}
    result = run(ops, gh, env={**env, "GH_TOKEN": TOKEN})
    assert result.pull_request is not None


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("bad-token", "401 Bad credentials"),
        ("network", "cannot reach the GitHub API"),
        ("5xx", r"kept failing after 3 retries \(HTTP 503\)"),
        ("repo", "acme/missing not found"),
    ],
)
def test_github_faults_stop_before_push(
    ops: GitOps, gh: FakeGitHub, temp: Path, fault: str, message: str
) -> None:
    """A bad token, a dead network, endless 5xx or an unknown repository are found before
    pushing: one clear error, no branch pushed, nothing left locally."""
    env = github_env(gh)
    if fault == "bad-token":
        env["GITHUB_TOKEN"] = "ghp_wrongSECRET"
    elif fault == "network":
        gh.stop()
    elif fault == "5xx":
        gh.fail_next(503, 10)
    else:
        env["GITHUB_REPOSITORY"] = "acme/missing"
    before = ops.snapshot()
    with pytest.raises(GitHubError, match=message) as info:
        run(ops, gh, env=env)
    assert not isinstance(info.value, PullRequestFailed)
    assert "SECRET" not in str(info.value)
    assert ops.remote_branches() == ["main"]
    assert gh.pulls == {}
    assert_clean(ops, temp, before)


def test_transient_5xx_is_retried(ops: GitOps, gh: FakeGitHub) -> None:
    """Two 503 answers are retried with backoff and the PR is opened."""
    gh.fail_next(503, 2)
    result = run(ops, gh)
    assert result.pull_request is not None and result.pull_request.created
    assert [e.status for e in gh.log[:3]] == [503, 503, 200]


def test_pull_request_failure_after_push_names_branch(
    ops: GitOps, gh: FakeGitHub, temp: Path
) -> None:
    """When the API dies after the push, PullRequestFailed names the pushed branch; running
    again opens the PR on the same branch."""

    class DiesBeforeCreate(GitHubPulls):
        def create(self, **kwargs: Any) -> PullRequestInfo:
            gh.stop()
            return super().create(**kwargs)

    def factory(slug: str, token: str, api: str) -> PullRequests:
        return DiesBeforeCreate(slug, token, api, backoff=0)

    before = ops.snapshot()
    with pytest.raises(PullRequestFailed, match=f"branch {BRANCH} was pushed") as info:
        run(ops, gh, pulls_factory=factory)
    assert info.value.branch == BRANCH
    assert ops.remote_sha(BRANCH) is not None
    assert gh.pulls == {}
    assert_clean(ops, temp, before)
    gh.start()
    again = run(ops, gh)
    assert again.pull_request is not None and again.pull_request.created
    assert len(gh.pulls) == 1


def test_client_is_closed(ops: GitOps, gh: FakeGitHub) -> None:
    """The pull request client is closed when promote returns."""
    made: list[Any] = []

    class Tracking(GitHubPulls):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    def factory(slug: str, token: str, api: str) -> PullRequests:
        made.append(Tracking(slug, token, api, backoff=0))
        return made[-1]

    run(ops, gh, pulls_factory=factory)
    assert [m.closed for m in made] == [True]


# -- token hygiene -----------------------------------------------------------------------


def test_token_never_stored(ops: GitOps, gh: FakeGitHub) -> None:
    """After a promotion the token is nowhere in the repository's or remote's git files."""
    run(ops, gh)
    for root in (ops.work / ".git", ops.remote):
        for path in root.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in ops.git("config", "--list", "--show-origin")
    assert TOKEN not in ops.git("remote", "-v")


@pytest.fixture
def http_remote(ops: GitOps, tmp_path: Path) -> Iterator[GitHttpServer]:
    """The remote served over HTTP with Basic auth (user x-access-token, password TOKEN),
    set as origin's URL; HOME's git config has a credential store helper."""
    store = tmp_path / "git-credentials"
    home_config = Path(os.environ["HOME"]) / ".gitconfig"
    home_config.write_text(f"[credential]\n\thelper = store --file {store}\n", encoding="utf-8")
    with GitHttpServer(tmp_path, username="x-access-token", password=TOKEN) as server:
        ops.git("remote", "set-url", "origin", f"{server.url}/remote.git")
        yield server


def test_http_remote_push_through_askpass(
    ops: GitOps,
    gh: FakeGitHub,
    http_remote: GitHttpServer,
    temp: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over an http(s) remote git gets the token only from the askpass helper: the helper
    holds no token, the worktree metadata and config hold none, no credential helper
    stores it, and the helper is gone afterwards."""
    real_push = git.push
    during: list[str] = []

    def inspecting_push(tree: Any, remote: str, branch: str, expected: Any, env: Any) -> None:
        script = Path(env["GIT_ASKPASS"])
        assert script.is_file() and TOKEN not in script.read_text(encoding="utf-8")
        for path in (ops.work / ".git").rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path
        worktree = Path(tree.working_tree_dir)
        assert TOKEN not in (worktree / ".git").read_text(encoding="utf-8")
        during.append(str(script))
        real_push(tree, remote, branch, expected, env)

    monkeypatch.setattr(git, "push", inspecting_push)
    before = ops.snapshot()
    result = run(ops, gh)
    assert result.pushed and ops.remote_sha(BRANCH) == result.commit
    assert result.pull_request is not None
    assert ("x-access-token", TOKEN) in http_remote.auth
    assert len(during) == 1 and not Path(during[0]).exists()
    assert not (tmp_path / "git-credentials").exists()
    assert TOKEN not in ops.git("config", "--list", "--show-origin")
    assert ops.git("remote", "get-url", "origin") == f"{http_remote.url}/remote.git"
    assert_clean(ops, temp, before)


def test_http_remote_wrong_token(
    ops: GitOps, gh: FakeGitHub, http_remote: GitHttpServer, temp: Path
) -> None:
    """A token the git server refuses fails clearly, without showing the token."""
    wrong = "ghp_wrongGitSECRET"
    before = ops.snapshot()
    with pytest.raises(GitError, match="Authentication failed") as info:
        run(ops, gh, pull_request=False, env=github_env(gh, GITHUB_TOKEN=wrong))
    assert wrong not in str(info.value)
    assert ("x-access-token", wrong) in http_remote.auth
    assert ops.remote_branches() == ["main"]
    assert_clean(ops, temp, before)


def test_git_errors_mask_credentials_in_remote_url(ops: GitOps, gh: FakeGitHub) -> None:
    """A password the user wrote into the remote URL is masked in git's error messages."""
    ops.git("remote", "add", "leaky", "http://bot:leakySECRET@127.0.0.1:9/acme/gitops.git")
    with pytest.raises(GitError) as info:
        run(ops, gh, remote="leaky", pull_request=False)
    assert "leakySECRET" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


def test_result_type(ops: GitOps, gh: FakeGitHub) -> None:
    """promote returns a PromotionResult whose plan describes the move."""
    result = run(ops, gh)
    assert isinstance(result, PromotionResult)
    assert [(m.name, m.old_version, m.new_version) for m in result.plan.moves] == [
        ("nginx", "1.21.6", "1.22.0")
    ]
