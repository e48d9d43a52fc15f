"""Tests of promoter.github: remote URL parsing, repository/token lookup, and GitHubPulls
driven through real PyGithub against the local FakeGitHub."""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from promoter.errors import GitHubError, PullRequestExists
from promoter.github import (
    PUBLIC_API,
    GitHubPulls,
    find_repository,
    find_token,
    parse_remote_url,
)
from promoter.redact import redact_url
from tests.builders.git import GitOps, make_gitops, push_change
from tests.fakes.github import BOT_LOGIN, FakeGitHub

TOKEN = "test-token"

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The example GitOps repo in a bare remote, with two promotion branches pushed."""
    ops = make_gitops(tmp_path)
    push_change(ops, "promote/a", {"a.txt": "a\n"}, "a")
    push_change(ops, "promote/b", {"b.txt": "b\n"}, "b")
    return ops


@pytest.fixture
def gh(ops: GitOps) -> Iterator[FakeGitHub]:
    """A running FakeGitHub over the bare remote; fails at teardown if the fake crashed."""
    with FakeGitHub(ops.remote, owner="acme", name="gitops", token=TOKEN) as fake:
        yield fake
    assert fake.errors == []
    assert fake.unhandled == []


@pytest.fixture
def pulls(gh: FakeGitHub) -> Iterator[GitHubPulls]:
    """A GitHubPulls client aimed at the fake, without waits between retries."""
    with GitHubPulls("acme/gitops", TOKEN, gh.url, backoff=0) as client:
        yield client


# -- parse_remote_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/gitops.git", ("github.com", "acme/gitops")),
        ("https://github.com/acme/gitops", ("github.com", "acme/gitops")),
        ("https://github.com/acme/gitops/", ("github.com", "acme/gitops")),
        ("http://github.com/acme/gitops.git", ("github.com", "acme/gitops")),
        ("https://bot:secret@github.com/acme/gitops.git", ("github.com", "acme/gitops")),
        ("ssh://git@github.com/acme/gitops.git", ("github.com", "acme/gitops")),
        ("ssh://git@ghe.example.com:2222/acme/gitops.git", ("ghe.example.com", "acme/gitops")),
        ("git://github.com/acme/gitops.git", ("github.com", "acme/gitops")),
        ("git@github.com:acme/gitops.git", ("github.com", "acme/gitops")),
        ("git@github.com:acme/gitops", ("github.com", "acme/gitops")),
        ("github.com:acme/gitops.git", ("github.com", "acme/gitops")),
        ("git@ghe.example.com:platform/gitops.git", ("ghe.example.com", "platform/gitops")),
        ("https://ghe.example.com/platform/gitops.git", ("ghe.example.com", "platform/gitops")),
        ("  git@github.com:acme/my.repo.git\n", ("github.com", "acme/my.repo")),
    ],
)
def test_parse_remote_url_forms(url: str, expected: tuple[str, str]) -> None:
    """https, ssh://, git://, scp-like and Enterprise remote URLs give (host, owner/name)."""
    assert parse_remote_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/acme/gitops.git",
        "../gitops.git",
        "file:///srv/git/acme/gitops.git",
        "https://github.com/acme",
        "https://github.com/acme/gitops/tree/main",
        "",
    ],
)
def test_parse_remote_url_rejects_non_github_shapes(url: str) -> None:
    """Local paths, file:// URLs and URLs without exactly owner/name give None."""
    assert parse_remote_url(url) is None


# -- find_repository / find_token --------------------------------------------------------


def test_find_repository_public_github_from_remote_url() -> None:
    """A github.com remote gives its owner/name and the public API."""
    assert find_repository(None, "git@github.com:acme/gitops.git", {}) == (
        "acme/gitops",
        PUBLIC_API,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://ghe.example.com/platform/gitops.git",
        "git@ghe.example.com:platform/gitops.git",
        "ssh://git@GHE.example.com:2222/platform/gitops.git",
    ],
)
def test_find_repository_enterprise_host_uses_api_v3(url: str) -> None:
    """A GitHub Enterprise remote gives https://HOST/api/v3 as the API."""
    assert find_repository(None, url, {}) == (
        "platform/gitops",
        "https://ghe.example.com/api/v3",
    )


def test_find_repository_precedence() -> None:
    """--github-repo beats GITHUB_REPOSITORY, which beats the remote URL."""
    url = "https://github.com/from/url.git"
    env = {"GITHUB_REPOSITORY": "from/env"}
    assert find_repository("from/flag", url, env)[0] == "from/flag"
    assert find_repository(None, url, env)[0] == "from/env"
    assert find_repository(None, url, {})[0] == "from/url"


def test_find_repository_api_url_from_environment() -> None:
    """GITHUB_API_URL overrides the API (trailing slash dropped), whatever the remote."""
    env = {"GITHUB_API_URL": "http://127.0.0.1:9/api/"}
    assert find_repository("acme/gitops", "/srv/gitops.git", env) == (
        "acme/gitops",
        "http://127.0.0.1:9/api",
    )


def test_find_repository_unknown_remote_says_what_to_pass() -> None:
    """A local-path remote without --github-repo fails, naming the way out."""
    with pytest.raises(GitHubError, match="--github-repo OWNER/NAME") as info:
        find_repository(None, "/srv/git/gitops.git", {})
    assert "/srv/git/gitops.git" in str(info.value)


def test_find_repository_rejects_malformed_slug() -> None:
    """--github-repo must be OWNER/NAME."""
    with pytest.raises(GitHubError, match="'acme' is not OWNER/NAME"):
        find_repository("acme", "git@github.com:acme/gitops.git", {})


def test_find_repository_error_hides_credentials_in_url() -> None:
    """A password written into the remote URL never reaches the error message."""
    with pytest.raises(GitHubError) as info:
        find_repository(None, "https://bot:s3cret-token@example.com/x", {})
    assert "s3cret-token" not in str(info.value)
    assert redact_url("https://bot:s3cret@host/x") == "https://***@host/x"


def test_find_token_sources() -> None:
    """GITHUB_TOKEN wins over GH_TOKEN; either one works; empty values do not count."""
    assert find_token({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}) == "a"
    assert find_token({"GH_TOKEN": "b"}) == "b"
    assert find_token({"GITHUB_TOKEN": "", "GH_TOKEN": "b"}) == "b"


def test_find_token_missing_is_a_clear_error() -> None:
    """Without a token the error names both variables and --no-pr."""
    with pytest.raises(GitHubError, match=r"GITHUB_TOKEN or GH_TOKEN.*--no-pr"):
        find_token({"GITHUB_TOKEN": ""})


# -- GitHubPulls against the fake ------------------------------------------------------


def test_create_find_update_labels_reviewers(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """A pull request is opened, found, edited, labelled and given reviewers on the fake."""
    assert pulls.find_open("promote/a", "main") is None
    created = pulls.create(title="t1", body="b1", head="promote/a", base="main", draft=True)
    assert created.created and created.number == 1
    assert created.url == "https://github.com/acme/gitops/pull/1"
    found = pulls.find_open("promote/a", "main")
    assert found is not None and (found.number, found.created) == (1, False)
    updated = pulls.update(1, title="t2", body="b2")
    assert (updated.number, updated.created) == (1, False)
    pulls.add_labels(1, ["promotion", "web"])
    pulls.request_reviewers(1, ["alice", "acme/platform"])
    pull = gh.pulls[1]
    assert (pull.title, pull.body, pull.draft, pull.head, pull.base) == (
        "t2",
        "b2",
        True,
        "promote/a",
        "main",
    )
    assert pull.labels == ["promotion", "web"]
    assert (pull.requested_reviewers, pull.requested_teams) == (["alice"], ["platform"])


def test_find_open_matches_only_its_branch(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """With several open pull requests, find_open returns the one of the given head."""
    gh.add_pull("promote/a", title="a")
    gh.add_pull("promote/b", title="b")
    found = pulls.find_open("promote/b", "main")
    assert found is not None and found.number == 2
    assert pulls.find_open("promote/b", "other-base") is None
    heads = [entry.query for entry in gh.log if entry.path.endswith("/pulls")]
    assert any("head=acme%3Apromote%2Fb" in q or "head=acme:promote/b" in q for q in heads)


def test_find_open_ignores_closed(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """A closed pull request for the branch is not reused."""
    gh.add_pull("promote/a", state="closed")
    assert pulls.find_open("promote/a", "main") is None


def test_empty_labels_and_reviewers_make_no_request(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """No labels and no reviewers: no API call at all."""
    pulls.add_labels(1, [])
    pulls.request_reviewers(1, [])
    assert gh.log == []


def test_duplicate_pull_request_is_recognised(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """GitHub's 422 'already exists' (in errors[0].message) becomes PullRequestExists."""
    gh.add_pull("promote/a")
    with pytest.raises(PullRequestExists, match="A pull request already exists"):
        pulls.create(title="t", body="b", head="promote/a", base="main", draft=False)


def test_other_validation_errors_are_plain(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """A 422 for another reason is a GitHubError with GitHub's detail, not a duplicate."""
    with pytest.raises(GitHubError, match=r"422.*invalid") as info:
        pulls.create(title="t", body="b", head="no-such-branch", base="main", draft=False)
    assert not isinstance(info.value, PullRequestExists)


def test_reviewer_refused_is_clear(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """Asking the token's own user to review is refused with GitHub's message."""
    number = pulls.create(title="t", body="b", head="promote/a", base="main", draft=False).number
    with pytest.raises(GitHubError, match="cannot be requested from pull request author"):
        pulls.request_reviewers(number, [BOT_LOGIN])


def test_bad_token_is_401_message(gh: FakeGitHub) -> None:
    """A token the API rejects gives one line naming the 401, without the token."""
    with (
        GitHubPulls("acme/gitops", "wrong-secret", gh.url, backoff=0) as client,
        pytest.raises(GitHubError, match="401 Bad credentials") as info,
    ):
        client.find_open("promote/a", "main")
    assert "wrong-secret" not in str(info.value)


def test_unknown_repository_is_404_message(gh: FakeGitHub) -> None:
    """A repository the token cannot see is reported by name."""
    with (
        GitHubPulls("acme/other", TOKEN, gh.url, backoff=0) as client,
        pytest.raises(GitHubError, match="acme/other not found"),
    ):
        client.find_open("promote/a", "main")


def test_server_errors_are_retried_then_succeed(gh: FakeGitHub, pulls: GitHubPulls) -> None:
    """Two 503 answers are retried and the call succeeds."""
    gh.fail_next(503, 2)
    assert pulls.find_open("promote/a", "main") is None
    statuses = [entry.status for entry in gh.log]
    assert statuses[:3] == [503, 503, 200]


def test_server_errors_exhaust_retries(gh: FakeGitHub) -> None:
    """Endless 503 answers end, after the retries, in one clear error."""
    gh.fail_next(503, 10)
    with (
        GitHubPulls("acme/gitops", TOKEN, gh.url, retries=2, backoff=0) as client,
        pytest.raises(GitHubError, match=r"kept failing after 2 retries \(HTTP 503\)"),
    ):
        client.find_open("promote/a", "main")
    assert [entry.status for entry in gh.log] == [503, 503, 503]


def test_backoff_waits_between_retries(gh: FakeGitHub) -> None:
    """The backoff parameter really spaces the retries out."""
    gh.fail_next(503, 2)
    with GitHubPulls("acme/gitops", TOKEN, gh.url, backoff=0.1) as client:
        start = time.monotonic()
        client.find_open("promote/a", "main")
    assert time.monotonic() - start >= 0.1


def test_network_down_is_clear(gh: FakeGitHub) -> None:
    """A closed port gives 'cannot reach the GitHub API', not a traceback."""
    gh.stop()
    with (
        GitHubPulls("acme/gitops", TOKEN, gh.url, backoff=0) as client,
        pytest.raises(GitHubError, match="cannot reach the GitHub API at http://127"),
    ):
        client.find_open("promote/a", "main")


def test_api_errors_hide_credentials_in_api_url(gh: FakeGitHub) -> None:
    """A password written into the API URL never reaches an error message."""
    gh.stop()
    api = gh.url.replace("://", "://bot:s3cret-api@", 1)
    with (
        GitHubPulls("acme/gitops", TOKEN, api, backoff=0) as client,
        pytest.raises(GitHubError) as info,
    ):
        client.find_open("promote/a", "main")
    expected = (False, True)
    actual = (
        "s3cret-api" in str(info.value),
        "cannot reach the GitHub API at http://***@127" in str(info.value),
    )
    assert expected == actual


def test_close_releases_connections(gh: FakeGitHub) -> None:
    """After close() no socket is left for the garbage collector to warn about."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = GitHubPulls("acme/gitops", TOKEN, gh.url, backoff=0)
        client.find_open("promote/a", "main")
        client.close()
        del client
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_client_usable_after_close(gh: FakeGitHub) -> None:
    """close() forgets the connection; the next call opens a new one."""
    client = GitHubPulls("acme/gitops", TOKEN, gh.url, backoff=0)
    client.close()
    client.find_open("promote/a", "main")
    client.close()
    assert [entry.status for entry in gh.log] == [200, 200]
