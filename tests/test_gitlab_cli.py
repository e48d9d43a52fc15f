"""End-to-end tests of GitLab merge requests: ``promote`` and ``pipelines rollback`` through
typer's CliRunner, real git with a bare remote in tmp_path, and the local FakeGitLab reached
through ``CI_API_V4_URL`` (issue 12)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter.forge.gitlab import GitLabMergeRequests
from promoter.forge.provider import ChangeRequestInfo
from promoter.publish import PromotionRequest, PublishOptions, promote
from promoter.testing import FakePulls
from tests.builders.git import (
    GitHttpServer,
    GitOps,
    isolate,
    leftovers,
    make_gitops,
)
from tests.builders.history import copy_story, shared_story
from tests.fakes.gitlab import FakeGitLab

TOKEN = "glpat-cliSECRET-0123456789"
PROJECT = "acme/platform/gitops"
BRANCH = "promote/web/prod/nginx-1.22.0"
NGINX = ("nginx", "staging", "prod", "-p", "web")
MR_URL = "https://gitlab.example.com/acme/platform/gitops/-/merge_requests"


@pytest.fixture(autouse=True)
def temp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """HOME, TMPDIR and the git identity inside tmp_path, no GitHub or GitLab variable."""
    return isolate(monkeypatch, tmp_path)


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


def serve(remote: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> FakeGitLab:
    """A started FakeGitLab over ``remote``, with CI_API_V4_URL and GITLAB_TOKEN set."""
    fake = FakeGitLab(remote, project=PROJECT, token=TOKEN, **options).start()
    monkeypatch.setenv("CI_API_V4_URL", fake.api_url)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("PROMOTER_GITLAB_BACKOFF", "0")
    return fake


@pytest.fixture
def gl(ops: GitOps, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    """FakeGitLab (17.11) over the remote; at teardown it must not have crashed or been
    asked for an endpoint it lacks."""
    fake = serve(ops.remote, monkeypatch)
    yield fake
    fake.stop()
    assert fake.errors == []
    assert fake.unhandled == []


def run(ops: GitOps, *args: str) -> Result:
    """``pipelines ARGS --repo <the user's clone>``."""
    return CliRunner().invoke(app, [*args, "--repo", str(ops.work)])


def promote_cli(ops: GitOps, *args: str) -> Result:
    """``pipelines promote nginx staging prod -p web --gitlab-project PROJECT ARGS``."""
    return run(ops, "promote", *NGINX, "--gitlab-project", PROJECT, *args)


def assert_one_error_line(result: Result, *fragments: str) -> None:
    """Exit 1, nothing on stdout, one ``error:`` line on stderr, no token, no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def assert_nothing_pushed(ops: GitOps, temp: Path) -> None:
    """No branch reached the remote and no worktree or temp dir is left."""
    assert ops.remote_branches() == ["main"]
    assert len(ops.worktrees()) == 1
    assert leftovers(temp) == []


# -- merge requests ----------------------------------------------------------------------


def test_opens_merge_request(ops: GitOps, gl: FakeGitLab, temp: Path) -> None:
    """The branch is pushed and a merge request opened from it, said on stdout."""
    result = promote_cli(ops)
    assert result.exit_code == 0, result.stderr
    assert f"pushed {BRANCH}" in result.stdout
    assert f"merge request !1 opened: {MR_URL}/1" in result.stdout
    (mr,) = gl.open_merge_requests()
    assert (mr.source_branch, mr.target_branch, mr.sha) == (
        BRANCH,
        "main",
        ops.remote_sha(BRANCH),
    )
    assert mr.title == "promote(web/prod): nginx 1.21.6 -> 1.22.0"
    assert mr.labels == ["promotion"]
    assert not mr.draft and not mr.merge_when_pipeline_succeeds
    assert leftovers(temp) == []


def test_same_content_as_github(ops: GitOps, gl: FakeGitLab) -> None:
    """The merge request's title and description are the pull request's: the table, the
    edits and the collapsed rendered diff."""
    assert promote_cli(ops).exit_code == 0
    pulls = FakePulls()
    options = PublishOptions(provider="github", github_repo="acme/gitops")
    request = PromotionRequest(["nginx"], "staging", "prod", "web")
    env = {**os.environ, "GITHUB_TOKEN": "ghp_other"}
    promote(ops.work, request, options, pulls_factory=pulls.factory, env=env)
    (mr,) = gl.open_merge_requests()
    (pull,) = pulls.opened
    assert (pull.title, pull.body) == (mr.title, mr.description)
    assert "| `Deployment/nginx` | staging | prod | `1.21.6` → `1.22.0` |" in mr.description
    assert "<details>" in mr.description and "```diff" in mr.description


def test_rerun_updates_the_open_merge_request(ops: GitOps, gl: FakeGitLab) -> None:
    """Running the same promotion again updates merge request !1 instead of opening one."""
    assert promote_cli(ops).exit_code == 0
    gl.merge_requests[1].description = "edited by hand"
    again = promote_cli(ops, "-o", "json")
    assert again.exit_code == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["pull_request"] == {"number": 1, "url": f"{MR_URL}/1", "created": False}
    assert (data["provider"], data["auto_merge"]) == ("gitlab", None)
    (mr,) = gl.open_merge_requests()
    assert "Promotes pipeline **web**" in mr.description


def test_draft_labels_reviewers_assignee(ops: GitOps, gl: FakeGitLab) -> None:
    """--draft, --label, --reviewer (usernames to ids) and --assignee reach the MR, and a
    rerun keeps it a draft."""
    alice, bob = gl.add_user("alice"), gl.add_user("bob")
    args = ("--draft", "--label", "prod", "--label", "web", "--reviewer", "alice")
    result = promote_cli(ops, *args, "--reviewer", "@bob", "--assignee", "bob")
    assert result.exit_code == 0, result.stderr
    (mr,) = gl.open_merge_requests()
    assert mr.title == "Draft: promote(web/prod): nginx 1.21.6 -> 1.22.0"
    assert (mr.labels, mr.reviewer_ids, mr.assignee_id) == (["prod", "web"], [alice, bob], bob)
    assert promote_cli(ops, "--reviewer", "alice").exit_code == 0
    assert gl.merge_requests[1].draft
    assert gl.merge_requests[1].reviewer_ids == [alice, bob]


def test_unknown_reviewer_after_push_says_how_to_retry(ops: GitOps, gl: FakeGitLab) -> None:
    """A reviewer GitLab does not know fails the merge request step with the retry command."""
    result = promote_cli(ops, "--reviewer", "nobody")
    assert_one_error_line(
        result, f"branch {BRANCH} was pushed, but the merge request failed", "no GitLab user"
    )
    assert "retry with:" in result.stderr


@pytest.mark.parametrize("mode", ["auto_merge", "merge_when_pipeline_succeeds"])
def test_auto_merge(ops: GitOps, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """--auto-merge sets merge-when-pipeline-succeeds on GitLab 17.11 (auto_merge) and on
    older versions (merge_when_pipeline_succeeds); the MR stays open, waiting."""
    gl = serve(ops.remote, monkeypatch, auto_merge=mode)
    try:
        result = promote_cli(ops, "--auto-merge", "-o", "json")
    finally:
        gl.stop()
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["auto_merge"] == {"enabled": True, "note": None}
    (mr,) = gl.open_merge_requests()
    assert mr.merge_when_pipeline_succeeds
    assert ops.remote_sha("main") != ops.remote_sha(BRANCH)
    assert gl.unhandled == [] and gl.errors == []


def test_auto_merge_unsupported_is_a_note(ops: GitOps, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GitLab without auto-merge the MR is opened and a note says it was not set."""
    gl = serve(ops.remote, monkeypatch, auto_merge=None)
    try:
        result = promote_cli(ops, "--auto-merge")
    finally:
        gl.stop()
    assert result.exit_code == 0, result.stderr
    assert "merge request !1 opened" in result.stdout
    assert "note: auto-merge was not set on !1: GitLab 8.2.0 answered 405" in result.stdout
    assert not gl.merge_requests[1].merge_when_pipeline_succeeds
    assert gl.merge_requests[1].state == "opened"


# -- errors ------------------------------------------------------------------------------


def test_missing_token(ops: GitOps, gl: FakeGitLab, temp: Path, monkeypatch: Any) -> None:
    """Without GITLAB_TOKEN/GL_TOKEN: one line naming them, nothing pushed."""
    monkeypatch.delenv("GITLAB_TOKEN")
    assert_one_error_line(promote_cli(ops), "no GitLab token: set GITLAB_TOKEN or GL_TOKEN")
    assert gl.log == []
    assert_nothing_pushed(ops, temp)


def test_job_token_refused(ops: GitOps, gl: FakeGitLab, temp: Path, monkeypatch: Any) -> None:
    """CI_JOB_TOKEN alone is refused: it cannot create merge requests."""
    monkeypatch.delenv("GITLAB_TOKEN")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token")
    assert_one_error_line(promote_cli(ops), "CI_JOB_TOKEN cannot create merge requests")
    assert_nothing_pushed(ops, temp)


def test_bad_token(ops: GitOps, gl: FakeGitLab, temp: Path, monkeypatch: Any) -> None:
    """A token GitLab rejects (401) is one line, before anything is pushed."""
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-wrongSECRET")
    result = promote_cli(ops)
    assert_one_error_line(result, "GitLab rejected the token (401 Unauthorized)")
    assert "glpat-wrongSECRET" not in result.stderr
    assert_nothing_pushed(ops, temp)


def test_project_not_found(ops: GitOps, gl: FakeGitLab, temp: Path) -> None:
    """A project GitLab does not have (404) is one line naming it, before any push."""
    result = run(ops, "promote", *NGINX, "--gitlab-project", "acme/nope")
    assert_one_error_line(result, "GitLab project acme/nope not found at http://127.0.0.1")
    assert_nothing_pushed(ops, temp)


def test_forbidden_after_push_says_how_to_retry(ops: GitOps, gl: FakeGitLab) -> None:
    """A token that may read but not write (403) fails the merge request after the push:
    one line naming the branch and the command to retry; the retry then succeeds."""
    gl.set_access_level(20)
    result = promote_cli(ops)
    assert_one_error_line(result, f"branch {BRANCH} was pushed", "403 Forbidden", "retry with:")
    assert ops.remote_sha(BRANCH) is not None and gl.merge_requests == {}
    gl.set_access_level(30)
    again = promote_cli(ops)
    assert again.exit_code == 0, again.stderr
    assert "merge request !1 opened" in again.stdout


def test_refused_merge_request_gives_gitlabs_message(
    ops: GitOps, gl: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge request GitLab refuses (422) is one line with GitLab's message and the
    retry command."""
    real_create = GitLabMergeRequests.create

    def refused(self: GitLabMergeRequests, **kwargs: Any) -> ChangeRequestInfo:
        gl.fail_next(422, message=["Source branch is protected"])
        return real_create(self, **kwargs)

    monkeypatch.setattr(GitLabMergeRequests, "create", refused)
    result = promote_cli(ops)
    assert_one_error_line(result, "(422: Source branch is protected)", "retry with:")


def test_5xx_retried_then_succeeds(ops: GitOps, gl: FakeGitLab) -> None:
    """Two 503 answers are retried and the merge request is opened."""
    gl.fail_next(503, 2)
    result = promote_cli(ops)
    assert result.exit_code == 0, result.stderr
    assert [entry.status for entry in gl.log].count(503) == 2
    assert len(gl.open_merge_requests()) == 1


def test_5xx_persistent(ops: GitOps, gl: FakeGitLab, temp: Path) -> None:
    """A 502 that does not go away is one line, before anything is pushed."""
    gl.fail_next(502, 20)
    assert_one_error_line(promote_cli(ops), "kept failing after 3 retries (HTTP 502")
    assert_nothing_pushed(ops, temp)


def test_api_down(ops: GitOps, gl: FakeGitLab, temp: Path) -> None:
    """An unreachable GitLab API is one line, before anything is pushed."""
    gl.stop()
    assert_one_error_line(promote_cli(ops), "cannot reach the GitLab API at http://127.0.0.1")
    assert_nothing_pushed(ops, temp)


# -- provider choice over an http remote: detection, askpass user, token hygiene -----------


@pytest.fixture
def http_gitlab(
    ops: GitOps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeGitLab, GitHttpServer]]:
    """The remote moved to ``acme/platform/gitops.git`` behind an http git server that
    wants user oauth2 and the token, the user's clone pointing at it, FakeGitLab over it."""
    root = tmp_path / "srv"
    bare = root / "acme" / "platform" / "gitops.git"
    bare.parent.mkdir(parents=True)
    shutil.move(str(ops.remote), bare)
    moved = GitOps(ops.work, bare)
    gl = serve(bare, monkeypatch)
    with GitHttpServer(root, username="oauth2", password=TOKEN) as server:
        moved.git("remote", "set-url", "origin", f"{server.url}/{PROJECT}.git")
        yield gl, server
    gl.stop()
    assert gl.errors == [] and gl.unhandled == []


@pytest.mark.parametrize("variable", ["GITLAB_HOST", "CI_SERVER_HOST"])
def test_self_managed_host_is_gitlab(
    ops: GitOps, http_gitlab: Any, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A remote on the host GITLAB_HOST or CI_SERVER_HOST names is a GitLab: the project
    comes from the remote URL and the push presents user oauth2 with the token."""
    gl, server = http_gitlab
    monkeypatch.setenv(variable, "127.0.0.1")
    result = run(ops, "promote", *NGINX)
    assert result.exit_code == 0, result.stderr
    assert "merge request !1 opened" in result.stdout
    assert gl.open_merge_requests()[0].source_branch == BRANCH
    assert ("oauth2", TOKEN) in server.auth
    assert all(user == "oauth2" for user, _ in server.auth)


def test_gitlab_ci_means_gitlab(ops: GitOps, gl: FakeGitLab, monkeypatch: Any) -> None:
    """In a GitLab CI job (GITLAB_CI=true, CI_PROJECT_PATH) a path remote goes to GitLab."""
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_PROJECT_PATH", PROJECT)
    result = run(ops, "promote", *NGINX)
    assert result.exit_code == 0, result.stderr
    assert "merge request !1 opened" in result.stdout


def test_nothing_tells_means_github(ops: GitOps, http_gitlab: Any, temp: Path) -> None:
    """An unknown host and no CI variables: GitHub, as before GitLab existed here."""
    result = run(ops, "promote", *NGINX)
    assert_one_error_line(result, "cannot tell the GitHub repository")


def test_provider_option_wins(ops: GitOps, gl: FakeGitLab, monkeypatch: Any) -> None:
    """--provider gitlab beats GITHUB_ACTIONS."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("CI_PROJECT_PATH", PROJECT)
    result = run(ops, "promote", *NGINX, "--provider", "gitlab")
    assert result.exit_code == 0, result.stderr
    assert "merge request !1 opened" in result.stdout


def test_token_never_printed_or_stored(
    ops: GitOps, http_gitlab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across a promotion, a JSON rerun and a failure over an http remote, the token is in
    no output, no git file, no configuration and no remote URL."""
    gl, server = http_gitlab
    monkeypatch.setenv("GITLAB_HOST", "127.0.0.1")
    outputs = [run(ops, "promote", *NGINX), run(ops, "promote", *NGINX, "-o", "json")]
    gl.set_access_level(20)
    outputs.append(run(ops, "promote", "shop", "staging", "prod"))
    assert [r.exit_code for r in outputs] == [0, 0, 1], [r.stderr for r in outputs]
    for result in outputs:
        assert TOKEN not in result.stdout + result.stderr
    remote = server.root / "acme" / "platform" / "gitops.git"
    for root in (ops.work / ".git", remote):
        for path in root.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in ops.git("config", "--list", "--show-origin")
    assert TOKEN not in ops.git("remote", "get-url", "origin")


# -- rollback ----------------------------------------------------------------------------


def test_rollback_opens_merge_request(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    temp: Path,
) -> None:
    """``pipelines rollback`` opens its merge request (label rollback) and a rerun updates it."""
    story = copy_story(shared_story(tmp_path_factory), tmp_path / "own")
    gl = serve(story.ops.remote, monkeypatch)
    try:
        args = ("rollback", "nginx", "prod", "-p", "web", "--to", "1.23.2")
        first = run(story.ops, *args, "--gitlab-project", PROJECT, "--assignee", "promoter-bot")
        second = run(story.ops, *args, "--gitlab-project", PROJECT)
    finally:
        gl.stop()
    assert first.exit_code == 0, first.stderr
    assert f"merge request !1 opened: {MR_URL}/1" in first.stdout
    assert "merge request !1 updated" in second.stdout
    (mr,) = gl.open_merge_requests()
    assert mr.source_branch == "rollback/web/prod/nginx-1.23.2"
    assert (mr.labels, mr.assignee_id) == (["rollback"], 1)
    assert mr.title.startswith("rollback(web/prod)")
    assert leftovers(temp) == []
    assert gl.errors == [] and gl.unhandled == []
