"""The provider interface (issue 12): the provider choice, the shared error tree, the
in-memory fake, and GitHub's assignee and auto-merge through real PyGithub and FakeGitHub."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import promoter
from cli.main import app
from promoter.errors import (
    ChangeRequestExists,
    ChangeRequestFailed,
    ForgeError,
    GitHubError,
    GitLabError,
    MergeRequestExists,
    MergeRequestFailed,
    PromoterError,
    PullRequestExists,
    PullRequestFailed,
)
from promoter.forge import gitlab
from promoter.forge.choice import GIT_USERNAMES, choose_provider, find_target, remote_host
from promoter.forge.provider import ChangeRequestInfo
from promoter.publish import PromotionRequest, PublishOptions, promote
from promoter.testing import FakePulls
from tests.builders.git import GitOps, isolate, make_gitops
from tests.fakes.github import FakeGitHub

TOKEN = "ghp_providerSECRET0123456789"
NGINX = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")


@pytest.fixture(autouse=True)
def temp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """HOME, TMPDIR and the git identity inside tmp_path, no forge variables."""
    return isolate(monkeypatch, tmp_path)


@pytest.mark.parametrize(
    ("remote", "env", "expected"),
    [
        ("https://gitlab.com/acme/platform/gitops.git", {}, "gitlab"),
        ("git@gitlab.com:acme/platform/gitops.git", {}, "gitlab"),
        ("ssh://git@altssh.gitlab.com:443/acme/gitops.git", {}, "gitlab"),
        ("https://github.com/acme/gitops.git", {"GITLAB_CI": "true"}, "github"),
        ("git@github.com:acme/gitops.git", {}, "github"),
        ("https://git.corp.example/acme/gitops.git", {"GITLAB_HOST": "git.corp.example"}, "gitlab"),
        (
            "https://git.corp.example/acme/gitops.git",
            {"CI_SERVER_HOST": "git.corp.example"},
            "gitlab",
        ),
        ("git@git.corp.example:acme/gitops.git", {"GL_HOST": "https://git.corp.example"}, "gitlab"),
        (
            "https://ghe.corp.example/acme/gitops.git",
            {"GH_HOST": "ghe.corp.example", "GITLAB_CI": "true"},
            "github",
        ),
        (
            "https://ghe.corp.example/acme/gitops.git",
            {"GITHUB_SERVER_URL": "https://ghe.corp.example", "GITLAB_CI": "true"},
            "github",
        ),
        ("https://unknown.example/acme/gitops.git", {"GITLAB_CI": "true"}, "gitlab"),
        ("/srv/git/gitops.git", {"GITLAB_CI": "true"}, "gitlab"),
        ("/srv/git/gitops.git", {"GITHUB_ACTIONS": "true"}, "github"),
        ("https://unknown.example/acme/gitops.git", {}, "github"),
        ("/srv/git/gitops.git", {}, "github"),
    ],
)
def test_choose_provider(remote: str, env: dict[str, str], expected: str) -> None:
    """The remote's host decides (gitlab.com, named self-managed hosts, github.com, GH_HOST),
    then the CI system, then GitHub."""
    assert expected == choose_provider(None, remote, env)


def test_explicit_provider_and_project_win() -> None:
    """--provider beats everything; --gitlab-project alone means GitLab; a bad name is one
    clear error."""
    github_remote = "https://github.com/acme/gitops.git"
    assert choose_provider("GitLab", github_remote, {}) == "gitlab"
    assert choose_provider("github", "https://gitlab.com/a/b.git", {}) == "github"
    assert choose_provider(None, github_remote, {}, gitlab_project="a/b") == "gitlab"
    with pytest.raises(PromoterError, match="unknown provider 'gitea'; use github or gitlab"):
        choose_provider("gitea", github_remote, {})


def test_remote_host_forms() -> None:
    """Hosts of https, ssh and scp remotes; none for local paths."""
    assert remote_host("https://oauth2@GitLab.com:8443/a/b.git") == "gitlab.com"
    assert remote_host("git@gitlab.com:a/b.git") == "gitlab.com"
    assert remote_host("ssh://git@example.com/a/b") == "example.com"
    assert None is remote_host("/srv/git/gitops.git")
    assert None is remote_host("file:///srv/git/gitops.git")


def test_find_target_per_provider() -> None:
    """Each provider's conventions: GitHub owner/name and API, GitLab nested project and API."""
    gl = find_target("gitlab", "git@gitlab.com:acme/platform/gitops.git", {})
    assert gl == ("gitlab", "acme/platform/gitops", "https://gitlab.com/api/v4")
    gh = find_target("github", "git@github.com:acme/gitops.git", {})
    assert gh == ("github", "acme/gitops", "https://api.github.com")
    assert GIT_USERNAMES == {"github": "x-access-token", "gitlab": "oauth2"}


def test_error_tree() -> None:
    """Both forges' duplicate and after-push failures share one base the CLI catches."""
    assert issubclass(PullRequestExists, ChangeRequestExists)
    assert issubclass(MergeRequestExists, ChangeRequestExists)
    assert issubclass(PullRequestFailed, ChangeRequestFailed)
    assert issubclass(MergeRequestFailed, ChangeRequestFailed)
    assert issubclass(GitHubError, ForgeError) and issubclass(GitLabError, ForgeError)
    assert gitlab.MergeRequestExists is MergeRequestExists
    assert MergeRequestFailed("m", "b").branch == "b"
    assert promoter.PullRequestInfo is ChangeRequestInfo


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


def test_fake_records_assignee_and_auto_merge(ops: GitOps) -> None:
    """promote() with FakePulls as a GitLab provider: assignee and auto-merge recorded, the
    result names the provider."""
    pulls = FakePulls()
    env = {**os.environ, "GITLAB_TOKEN": TOKEN, "CI_PROJECT_PATH": "acme/gitops"}
    options = PublishOptions(provider="gitlab", assignee="@bob", auto_merge=True)
    result = promote(ops.work, NGINX, options, pulls_factory=pulls.factory, env=env)
    assert (pulls.slug, pulls.token, pulls.api_url) == (
        "acme/gitops",
        TOKEN,
        "https://gitlab.com/api/v4",
    )
    (pr,) = pulls.opened
    assert (pr.assignee, pr.auto_merge) == ("bob", True)
    assert result.provider == "gitlab"
    assert result.pull_request == ChangeRequestInfo(1, f"{pulls.url}/1", True, True, None)


def test_fake_auto_merge_note(ops: GitOps) -> None:
    """A fake host without auto-merge: the pull request carries the note, not the flag."""
    pulls = FakePulls(auto_merge_note="no auto-merge here")
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/gitops"}
    options = PublishOptions(auto_merge=True)
    result = promote(ops.work, NGINX, options, pulls_factory=pulls.factory, env=env)
    assert result.pull_request is not None
    assert (result.pull_request.auto_merge, result.pull_request.note) == (
        False,
        "no auto-merge here",
    )
    assert (result.provider, pulls.opened[0].auto_merge) == ("github", False)


@pytest.fixture
def gh(ops: GitOps, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """FakeGitHub over the remote, with the environment pointing promote at it."""
    with FakeGitHub(ops.remote, owner="acme", name="gitops", token=TOKEN) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/gitops")
        monkeypatch.setenv("PROMOTER_GITHUB_BACKOFF", "0")
        yield fake
    assert fake.errors == []


def test_github_assignee_and_auto_merge(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On GitHub, --assignee adds the assignee and --auto-merge calls the GraphQL
    enablePullRequestAutoMerge of the opened pull request (FakeGitHub lacks both
    endpoints, so PyGithub's two calls are recorded here)."""
    from github.PullRequest import PullRequest

    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        PullRequest, "add_to_assignees", lambda self, *who: calls.append(("assign", who))
    )
    monkeypatch.setattr(
        PullRequest, "enable_automerge", lambda self: calls.append(("auto", self.number)) or {}
    )
    args = ["promote", "nginx", "staging", "prod", "-p", "web", "--repo", str(ops.work)]
    result = CliRunner().invoke(app, [*args, "--assignee", "@bob", "--auto-merge"])
    assert result.exit_code == 0, result.stderr
    assert "pull request #1 opened" in result.stdout
    assert "auto-merge set" in result.stdout
    assert calls == [("assign", ("bob",)), ("auto", 1)]
    assert gh.unhandled == []


def test_github_auto_merge_refused_is_a_note(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository that does not allow auto-merge: the pull request is opened and a note
    says why auto-merge was not set."""
    from github import GithubException
    from github.PullRequest import PullRequest

    def refuse(self: PullRequest) -> Any:
        raise GithubException(422, {"message": "Auto merge is not allowed for this repository"})

    monkeypatch.setattr(PullRequest, "enable_automerge", refuse)
    args = ["promote", "nginx", "staging", "prod", "-p", "web", "--repo", str(ops.work)]
    result = CliRunner().invoke(app, [*args, "--auto-merge", "-o", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["provider"] == "github"
    assert data["auto_merge"] == {
        "enabled": False,
        "note": "auto-merge was not set on #1: GitHub answered: "
        "Auto merge is not allowed for this repository",
    }


def test_gitlab_ci_example_checks_merge_requests_and_promotes_on_schedule() -> None:
    """examples/gitlab-ci.yml runs ``pipelines check`` on merge requests and promotes with
    auto-merge on a schedule, with no token in the file."""
    import yaml

    from tests.builders.git import PROJECT_ROOT

    text = (PROJECT_ROOT / "examples" / "gitlab-ci.yml").read_text(encoding="utf-8")
    jobs = yaml.safe_load(text)
    check = jobs["pipelines-check"]
    assert check["script"] == ["pipelines check"]
    assert "merge_request_event" in check["rules"][0]["if"]
    promote_job = jobs["promote-to-prod"]
    assert '$CI_PIPELINE_SOURCE == "schedule"' in promote_job["rules"][0]["if"]
    assert any(
        line.startswith("pipelines promote") and "--auto-merge" in line
        for line in promote_job["script"]
    )
    assert "glpat-" not in text and "CI_JOB_TOKEN}" not in text
