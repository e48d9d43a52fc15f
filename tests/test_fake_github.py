"""Tests of tests.fakes.github.FakeGitHub, driven through real PyGithub and a real bare repo."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from github import Auth, Github, GithubException
from github.GithubRetry import GithubRetry
from github.Repository import Repository

from tests.fakes.github import BOT_LOGIN, FakeGitHub

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(*args: str, cwd: Path) -> str:
    """Run git in cwd with a hermetic identity and config; return its stdout."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def commit_file(work: Path, name: str, text: str) -> str:
    """Write a file in the work tree, commit it and return the new HEAD sha."""
    (work / name).write_text(text)
    git("add", name, cwd=work)
    git("commit", "-q", "-m", f"update {name}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def remote_sha(remote: Path, branch: str) -> str:
    """SHA of a branch in the bare remote."""
    return git("--git-dir", str(remote), "rev-parse", f"refs/heads/{branch}", cwd=remote)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A normal clone whose origin is a bare repo with main, promote/x and promote/y pushed."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path)
    work = tmp_path / "work"
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    git("checkout", "-q", "-b", "main", cwd=work)
    commit_file(work, "kustomization.yaml", "resources: []\n")
    git("push", "-q", "origin", "main", cwd=work)
    for branch in ("promote/x", "promote/y"):
        git("checkout", "-q", "-b", branch, "main", cwd=work)
        commit_file(work, "image.txt", f"{branch}\n")
        git("push", "-q", "origin", branch, cwd=work)
    git("checkout", "-q", "main", cwd=work)
    return work


@pytest.fixture
def remote(work: Path) -> Path:
    """The bare repository behind the fake."""
    return work.parent / "remote.git"


@pytest.fixture
def gh(remote: Path) -> Iterator[FakeGitHub]:
    """A running FakeGitHub; fails the test at teardown if the fake itself crashed."""
    with FakeGitHub(remote) as fake:
        yield fake
    assert fake.errors == []


def client(gh: FakeGitHub, **kwargs: Any) -> Github:
    """A real PyGithub client aimed at the fake (no retries, no throttling unless asked)."""
    kwargs.setdefault("retry", None)
    kwargs.setdefault("seconds_between_requests", None)
    kwargs.setdefault("seconds_between_writes", None)
    kwargs.setdefault("auth", Auth.Token(gh.token))
    return Github(base_url=gh.url, **kwargs)


@pytest.fixture
def g(gh: FakeGitHub) -> Iterator[Github]:
    """A PyGithub client, closed after the test so no socket leaks."""
    with client(gh) as g:
        yield g


@pytest.fixture
def repo(g: Github) -> Repository:
    """The fake's repository as a PyGithub Repository."""
    return g.get_repo("acme/gitops")


def raw(
    gh: FakeGitHub, method: str, path: str, body: Any = None, auth: str | None = "token test-token"
) -> tuple[int, Any]:
    """Send one request with urllib (no PyGithub) and return (status, decoded JSON or None)."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"{gh.url}{path}", data=data, method=method)
    if auth is not None:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            status, text = err.code, err.read()
    return status, json.loads(text) if text else None


def test_repo_metadata_and_permissions(gh: FakeGitHub, g: Github, remote: Path) -> None:
    """GET /repos reports name, default branch, clone URL and the configurable push permission."""
    repo = g.get_repo("acme/gitops")
    assert repo.full_name == "acme/gitops"
    assert repo.name == "gitops"
    assert repo.owner.login == "acme"
    assert repo.default_branch == "main"
    assert repo.clone_url == remote.resolve().as_uri()
    assert repo.permissions.push is True

    gh.set_permissions(push=False)
    assert g.get_repo("acme/gitops").permissions.push is False
    assert g.get_user().login == BOT_LOGIN
    assert g.get_rate_limit().resources.core.remaining == 4999
    assert gh.unhandled == []


def test_create_pull_returns_complete_pull_request(
    gh: FakeGitHub, repo: Repository, remote: Path
) -> None:
    """Creating a PR answers 201 with a PR whose attributes PyGithub exposes correctly."""
    pr = repo.create_pull(
        base="main", head="acme:promote/x", title="Promote x", body="to prod", draft=True
    )
    assert pr.number == 1
    assert pr.html_url == "https://github.com/acme/gitops/pull/1"
    assert pr.url == f"{gh.url}/repos/acme/gitops/pulls/1"
    assert (pr.title, pr.body, pr.draft, pr.state, pr.merged) == (
        "Promote x",
        "to prod",
        True,
        "open",
        False,
    )
    assert pr.head.ref == "promote/x"
    assert pr.head.label == "acme:promote/x"
    assert pr.head.sha == remote_sha(remote, "promote/x")
    assert pr.base.ref == "main"
    assert pr.base.sha == remote_sha(remote, "main")
    assert pr.base.repo.full_name == "acme/gitops"
    assert pr.user.login == BOT_LOGIN
    assert pr.labels == []
    assert pr.requested_reviewers == []
    assert gh.pulls[1].head == "promote/x" and gh.pulls[1].draft is True
    assert ("POST", "/repos/acme/gitops/pulls") in gh.requests
    assert gh.unhandled == []


def test_duplicate_pull_is_rejected_with_422(gh: FakeGitHub, repo: Repository) -> None:
    """A second open PR for the same head and base is a 422 with GitHub's error shape."""
    repo.create_pull(base="main", head="promote/x", title="first")
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="acme:promote/x", title="second")
    assert exc.value.status == 422
    assert exc.value.data["message"] == "Validation Failed"
    expected = "A pull request already exists for acme:promote/x."
    assert exc.value.data["errors"][0]["message"] == expected
    assert list(gh.pulls) == [1]
    assert gh.unhandled == []


def test_missing_head_or_base_branch_is_rejected_with_422(gh: FakeGitHub, repo: Repository) -> None:
    """A head or base branch absent from the bare remote is a 422 naming the invalid field."""
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="acme:promote/nope", title="t")
    assert exc.value.status == 422
    assert exc.value.data["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="release", head="acme:promote/x", title="t")
    assert exc.value.status == 422
    assert exc.value.data["errors"][0]["field"] == "base"
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="someone-else:promote/x", title="t")
    assert exc.value.status == 422
    assert gh.pulls == {}
    assert gh.unhandled == []


def test_head_without_new_commits_is_rejected(gh: FakeGitHub, repo: Repository, work: Path) -> None:
    """A head already contained in the base is a 422 'No commits between', as on github.com."""
    git("push", "-q", "origin", "main:refs/heads/promote/same", cwd=work)
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="acme:promote/same", title="t")
    assert exc.value.status == 422
    assert exc.value.data["errors"][0]["message"] == "No commits between main and promote/same"
    assert gh.unhandled == []


def test_bad_or_missing_token_is_401(gh: FakeGitHub) -> None:
    """A wrong or absent token raises BadCredentialsException with status 401."""
    with (
        client(gh, auth=Auth.Token("wrong")) as bad,
        pytest.raises(github.BadCredentialsException) as exc,
    ):
        bad.get_repo("acme/gitops")
    assert exc.value.status == 401
    assert exc.value.data["message"] == "Bad credentials"
    with client(gh, auth=None) as anonymous, pytest.raises(github.BadCredentialsException):
        anonymous.get_repo("acme/gitops")
    assert raw(gh, "GET", "/user", auth="Bearer test-token")[0] == 200
    assert raw(gh, "GET", "/user", auth="Bearer nope")[0] == 401
    assert gh.requests == [("GET", "/user")]
    assert [r.status for r in gh.log] == [401, 401, 200, 401]


def test_other_repository_is_404(gh: FakeGitHub, g: Github) -> None:
    """Any repository but owner/name is 404 Not Found (UnknownObjectException)."""
    with pytest.raises(github.UnknownObjectException) as exc:
        g.get_repo("acme/other")
    assert exc.value.status == 404
    assert gh.unhandled == []


def test_labels_and_reviewers_stick(gh: FakeGitHub, repo: Repository) -> None:
    """Labels and review requests are stored and visible when the PR is read again."""
    pr = repo.create_pull(base="main", head="acme:promote/x", title="t")
    pr.add_to_labels("promotion", "env/prod")
    pr.add_to_labels("promotion")
    pr.create_review_request(reviewers=["alice", "bob"], team_reviewers=["platform"])

    again = repo.get_pull(pr.number)
    assert [label.name for label in again.labels] == ["promotion", "env/prod"]
    assert [user.login for user in again.requested_reviewers] == ["alice", "bob"]
    assert [team.slug for team in again.requested_teams] == ["platform"]
    assert [label.name for label in again.get_labels()] == ["promotion", "env/prod"]
    users, teams = again.get_review_requests()
    assert [u.login for u in users] == ["alice", "bob"]
    assert [t.slug for t in teams] == ["platform"]

    issue = again.as_issue()
    assert issue.pull_request is not None
    assert [label.name for label in issue.labels] == ["promotion", "env/prod"]
    issue.add_to_labels("auto")
    again.remove_from_labels("promotion")
    assert gh.pulls[1].labels == ["env/prod", "auto"]
    again.set_labels("only")
    assert [label.name for label in repo.get_pull(1).labels] == ["only"]
    assert gh.unhandled == []


def test_label_bodies_accepted_in_both_shapes(gh: FakeGitHub, repo: Repository) -> None:
    """POST .../labels accepts a bare list and {"labels": [...]} and returns all labels."""
    repo.create_pull(base="main", head="acme:promote/x", title="t")
    status, body = raw(gh, "POST", "/repos/acme/gitops/issues/1/labels", ["a"])
    assert status == 200 and [label["name"] for label in body] == ["a"]
    status, body = raw(gh, "POST", "/repos/acme/gitops/issues/1/labels", {"labels": ["b"]})
    assert status == 200 and [label["name"] for label in body] == ["a", "b"]
    status, body = raw(gh, "POST", "/repos/acme/gitops/issues/1/labels", b"{not json")
    assert (status, body["message"]) == (400, "Problems parsing JSON")
    assert gh.unhandled == []


def test_review_cannot_be_requested_from_author(gh: FakeGitHub, repo: Repository) -> None:
    """Requesting a review from the token's own user is a 422, as on github.com."""
    pr = repo.create_pull(base="main", head="acme:promote/x", title="t")
    with pytest.raises(GithubException) as exc:
        pr.create_review_request(reviewers=[BOT_LOGIN])
    assert exc.value.status == 422
    assert gh.pulls[1].requested_reviewers == []


def test_get_pulls_filters_by_state_head_and_base(gh: FakeGitHub, g: Github) -> None:
    """get_pulls(state, head='owner:branch', base) finds exactly the matching PR."""
    repo = g.get_repo("acme/gitops")
    repo.create_pull(base="main", head="acme:promote/x", title="x")
    repo.create_pull(base="main", head="acme:promote/y", title="y")

    found = repo.get_pulls(state="open", head="acme:promote/x", base="main")
    assert found.totalCount == 1
    assert [(p.number, p.head.ref, p.title) for p in found] == [(1, "promote/x", "x")]
    assert repo.get_pulls(state="open", head="acme:promote/zzz").totalCount == 0
    assert repo.get_pulls(state="open", head="other:promote/x").totalCount == 0
    assert repo.get_pulls(state="open", base="release").totalCount == 0
    assert repo.get_pulls(state="closed").totalCount == 0
    # github.com ignores a head filter without the "owner:" prefix: so does the fake.
    assert repo.get_pulls(state="open", head="promote/x").totalCount == 2
    assert [p.number for p in repo.get_pulls(state="all")] == [2, 1]
    assert gh.unhandled == []


def test_pagination_and_lazy_completion(gh: FakeGitHub) -> None:
    """Lists page with Link headers; a listed PR lazily completes 'merged' with one GET."""
    gh.add_pull("promote/x", title="x")
    gh.add_pull("promote/y", title="y")
    with client(gh, per_page=1) as g:
        pulls = g.get_repo("acme/gitops").get_pulls(state="open", sort="created", direction="asc")
        assert pulls.totalCount == 2
        listed = list(pulls)
        assert [p.title for p in listed] == ["x", "y"]
        gets_before = gh.requests.count(("GET", "/repos/acme/gitops/pulls/1"))
        assert listed[0].merged is False
        assert gh.requests.count(("GET", "/repos/acme/gitops/pulls/1")) == gets_before + 1
    assert any("page=2" in r.query for r in gh.log)
    assert gh.unhandled == []


def test_edit_title_body_and_state(gh: FakeGitHub, repo: Repository) -> None:
    """PATCH updates title/body/state; after closing, a new PR for the same head is allowed."""
    pr = repo.create_pull(base="main", head="acme:promote/x", title="old", body="old body")
    pr.edit(title="new", body="new body")
    assert (pr.title, pr.body) == ("new", "new body")
    again = repo.get_pull(1)
    assert (again.title, again.body) == ("new", "new body")

    again.edit(state="closed")
    assert repo.get_pull(1).state == "closed"
    assert repo.get_pulls(state="open", head="acme:promote/x").totalCount == 0
    second = repo.create_pull(base="main", head="acme:promote/x", title="second")
    assert second.number == 2
    with pytest.raises(GithubException) as exc:
        again.edit(state="open")
    assert exc.value.status == 422
    assert gh.unhandled == []


def test_head_sha_follows_the_remote(gh: FakeGitHub, repo: Repository, work: Path) -> None:
    """A push to the head branch moves head.sha; deleting the branch closes the open PR."""
    pr = repo.create_pull(base="main", head="acme:promote/x", title="t")
    git("checkout", "-q", "promote/x", cwd=work)
    new_sha = commit_file(work, "image.txt", "v2\n")
    git("push", "-q", "origin", "promote/x", cwd=work)
    assert repo.get_pull(pr.number).head.sha == new_sha

    git("push", "-q", "origin", "--delete", "promote/x", cwd=work)
    gone = repo.get_pull(pr.number)
    assert gone.state == "closed"
    assert gone.head.sha == new_sha
    assert gh.unhandled == []


def test_fail_next_without_retry(gh: FakeGitHub, repo: Repository) -> None:
    """fail_next(503) makes exactly the next call fail with 503 when PyGithub does not retry."""
    gh.fail_next(503)
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="acme:promote/x", title="t")
    assert exc.value.status == 503
    assert exc.value.data == {"message": "Server Error"}
    assert gh.pulls == {}
    assert repo.create_pull(base="main", head="acme:promote/x", title="t").number == 1
    assert [r.status for r in gh.log] == [200, 503, 201]
    assert gh.unhandled == []


def test_fail_next_is_absorbed_by_pygithub_retry(gh: FakeGitHub) -> None:
    """Transient 502s within PyGithub's retry budget are retried transparently."""
    with client(gh, retry=GithubRetry(total=3, backoff_factor=0)) as g:
        gh.fail_next(502, count=2)
        assert g.get_repo("acme/gitops").full_name == "acme/gitops"
    assert [r.status for r in gh.log] == [502, 502, 200]
    assert gh.unhandled == []


def test_stop_makes_the_api_unreachable(gh: FakeGitHub, g: Github) -> None:
    """After stop() requests fail with a connection error; start() brings the API back."""
    assert g.get_repo("acme/gitops").name == "gitops"
    url = gh.url
    gh.stop()
    assert not gh.running
    with pytest.raises(requests.exceptions.ConnectionError):
        g.get_repo("acme/gitops")
    gh.start()
    assert gh.url == url
    assert g.get_repo("acme/gitops").name == "gitops"


def test_unhandled_endpoints_are_recorded(gh: FakeGitHub, repo: Repository) -> None:
    """An endpoint the fake does not implement is a 404 listed in gh.unhandled."""
    with pytest.raises(github.UnknownObjectException):
        repo.get_branch("main")
    assert gh.unhandled == [("GET", "/repos/acme/gitops/branches/main")]
    assert ("GET", "/repos/acme/gitops/branches/main") not in gh.requests


def test_concurrent_creates_yield_one_pull(gh: FakeGitHub) -> None:
    """Racing creations of the same PR from many threads produce exactly one PR."""
    outcomes: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        with client(gh, lazy=True) as g:
            try:
                repo = g.get_repo("acme/gitops")
                repo.create_pull(base="main", head="acme:promote/x", title="t")
                status = 201
            except GithubException as exc:
                status = exc.status
        with lock:
            outcomes.append(status)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [201] + [422] * 7
    assert list(gh.pulls) == [1]
    assert gh.unhandled == []


def test_remote_must_be_bare(tmp_path: Path, work: Path) -> None:
    """Constructing the fake on a non-bare directory fails fast."""
    with pytest.raises(ValueError, match="not a bare git repository"):
        FakeGitHub(work)
