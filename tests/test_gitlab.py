"""Tests of promoter.forge: GitLab settings resolution, description cutting, and
GitLabMergeRequests driven through real python-gitlab against the local FakeGitLab."""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from promoter.errors import GitLabError, PromoterError
from promoter.forge.gitlab import (
    DESCRIPTION_LIMIT,
    TITLE_LIMIT,
    GitLabMergeRequests,
    MergeRequestExists,
    cut_description,
    draft_title,
)
from promoter.forge.gitlab_settings import (
    PUBLIC_API,
    GitLabRemote,
    ProjectLocation,
    base_url,
    find_project,
    find_token,
    in_gitlab_ci,
    is_gitlab_host,
    parse_remote_url,
)
from tests.builders.git import GitOps, make_gitops, push_change
from tests.fakes.gitlab import FakeGitLab

TOKEN = "glpat-test-token-123"
PROJECT = "acme/platform/gitops"
_GITLAB_VARIABLES = (
    "GITLAB_TOKEN",
    "GL_TOKEN",
    "CI_JOB_TOKEN",
    "CI_API_V4_URL",
    "CI_PROJECT_PATH",
    "CI_SERVER_HOST",
    "GITLAB_HOST",
    "GL_HOST",
    "GITLAB_CI",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, temp: Path) -> Path:
    """Every test runs with HOME, TMPDIR and the git identity inside tmp_path, and no
    GitLab variable of the machine running the tests."""
    for name in _GITLAB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return temp


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The example GitOps repo in a bare remote, with two promotion branches pushed."""
    ops = make_gitops(tmp_path)
    push_change(ops, "promote/a", {"a.txt": "a\n"}, "a")
    push_change(ops, "promote/b", {"b.txt": "b\n"}, "b")
    return ops


def _serve(ops: GitOps, **options: object) -> Iterator[FakeGitLab]:
    with FakeGitLab(ops.remote, project=PROJECT, token=TOKEN, **options) as fake:  # type: ignore[arg-type]
        yield fake
    assert fake.errors == []
    assert fake.unhandled == []


@pytest.fixture
def gl(ops: GitOps) -> Iterator[FakeGitLab]:
    """A running FakeGitLab (GitLab 17.11) over the bare remote; fails at teardown if the
    fake crashed or was asked for an endpoint it lacks."""
    yield from _serve(ops)


@pytest.fixture
def mrs(gl: FakeGitLab) -> Iterator[GitLabMergeRequests]:
    """A GitLabMergeRequests client aimed at the fake, without waits between retries."""
    with GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0) as client:
        yield client


def _create(mrs: GitLabMergeRequests, head: str = "promote/a", *, draft: bool = False) -> int:
    return mrs.create(title="Promote", body="body", head=head, base="main", draft=draft).number


def _texts(exc: BaseException) -> str:
    """The text of an exception and of every exception behind it."""
    parts = []
    seen: BaseException | None = exc
    while seen is not None:
        parts.append(f"{type(seen).__name__}: {seen!s} {seen.args!r}")
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


# -- parse_remote_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://gitlab.com/acme/gitops.git",
            GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API),
        ),
        ("https://gitlab.com/acme/gitops", GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API)),
        ("https://gitlab.com/acme/gitops/", GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API)),
        (
            "https://gitlab.com/acme/platform/team/gitops.git",
            GitLabRemote("gitlab.com", "acme/platform/team/gitops", PUBLIC_API),
        ),
        (
            "https://oauth2:glpat-secret@gitlab.com/acme/gitops.git",
            GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API),
        ),
        (
            "https://git.example.com:8443/acme/platform/gitops.git",
            GitLabRemote(
                "git.example.com", "acme/platform/gitops", "https://git.example.com:8443/api/v4"
            ),
        ),
        (
            "http://git.example.com/acme/gitops.git",
            GitLabRemote("git.example.com", "acme/gitops", "http://git.example.com/api/v4"),
        ),
        (
            "ssh://git@git.example.com:2222/acme/platform/gitops.git",
            GitLabRemote(
                "git.example.com", "acme/platform/gitops", "https://git.example.com/api/v4"
            ),
        ),
        (
            "ssh://git@gitlab.com/acme/gitops.git",
            GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API),
        ),
        (
            "git@gitlab.com:acme/platform/gitops.git",
            GitLabRemote("gitlab.com", "acme/platform/gitops", PUBLIC_API),
        ),
        ("git@gitlab.com:acme/gitops", GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API)),
        (
            "Git.Example.COM:acme/my.repo.git",
            GitLabRemote("git.example.com", "acme/my.repo", "https://git.example.com/api/v4"),
        ),
        (
            "  git@gitlab.com:acme/gitops.git\n",
            GitLabRemote("gitlab.com", "acme/gitops", PUBLIC_API),
        ),
    ],
)
def test_parse_remote_url_forms(url: str, expected: GitLabRemote) -> None:
    """https, http with port, ssh:// with port, scp-like forms and nested groups give the
    host, the full project path and the API URL."""
    assert expected == parse_remote_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/acme/gitops.git",
        "../gitops.git",
        "file:///srv/git/acme/gitops.git",
        "https://gitlab.com/acme",
        "https://gitlab.com/acme/gitops/-/tree/main",
        "git@gitlab.com:~alice/gitops.git",
        "",
    ],
)
def test_parse_remote_url_rejects_non_project_shapes(url: str) -> None:
    """Local paths, file:// URLs, a lone group and web page URLs give None."""
    assert parse_remote_url(url) is None


# -- find_project / find_token / hosts ---------------------------------------------------


def test_find_project_precedence() -> None:
    """An explicit project beats CI_PROJECT_PATH, which beats the remote URL."""
    remote = "git@gitlab.com:acme/from-remote.git"
    env = {"CI_PROJECT_PATH": "acme/from-ci"}
    expected = [
        ProjectLocation("acme/explicit", PUBLIC_API),
        ProjectLocation("acme/from-ci", PUBLIC_API),
        ProjectLocation("acme/from-remote", PUBLIC_API),
    ]
    actual = [
        find_project("acme/explicit", remote, env),
        find_project(None, remote, env),
        find_project(None, remote, {}),
    ]
    assert expected == actual


def test_find_project_api_from_ci_api_v4_url() -> None:
    """CI_API_V4_URL names the API, whatever the remote's host."""
    env = {"CI_API_V4_URL": "https://git.example.com/api/v4/", "CI_PROJECT_PATH": "g/p"}
    assert ProjectLocation("g/p", "https://git.example.com/api/v4") == find_project(
        None, "/srv/git/p.git", env
    )


def test_find_project_ignores_ci_api_of_another_server() -> None:
    """A CI job on one GitLab pushing to another uses the remote's API, not its own."""
    env = {"CI_API_V4_URL": "https://ci.example.com/api/v4", "CI_SERVER_HOST": "ci.example.com"}
    expected = ProjectLocation("acme/gitops", "https://git.example.com/api/v4")
    assert expected == find_project(None, "git@git.example.com:acme/gitops.git", env)


def test_find_project_same_ci_server_uses_ci_api() -> None:
    """When the remote is on the CI server, CI_API_V4_URL (with its port) is used."""
    env = {
        "CI_API_V4_URL": "https://git.example.com:8443/api/v4",
        "CI_SERVER_HOST": "git.example.com",
    }
    expected = ProjectLocation("acme/gitops", "https://git.example.com:8443/api/v4")
    assert expected == find_project(None, "git@git.example.com:acme/gitops.git", env)


def test_find_project_api_from_gitlab_host_then_gitlab_com() -> None:
    """Without a host in the remote, GITLAB_HOST (bare or URL) names the server, else
    gitlab.com."""
    expected = [
        "https://git.example.com/api/v4",
        "http://git.example.com:8080/api/v4",
        PUBLIC_API,
    ]
    actual = [
        find_project("g/p", "/srv/p.git", {"GITLAB_HOST": "git.example.com"}).api_url,
        find_project("g/p", "/srv/p.git", {"GITLAB_HOST": "http://git.example.com:8080/"}).api_url,
        find_project("g/p", "/srv/p.git", {}).api_url,
    ]
    assert expected == actual


def test_find_project_unknown_remote_says_what_to_pass() -> None:
    """A remote that names no project asks for --gitlab-project, hiding its credentials."""
    with pytest.raises(GitLabError) as info:
        find_project(None, "https://bot:s3cret@git.example.com/lonely", {})
    expected = (
        "cannot tell the GitLab project from remote URL 'https://***@git.example.com/lonely'; "
        "pass --gitlab-project GROUP/NAME or set CI_PROJECT_PATH"
    )
    assert expected == str(info.value)


def test_find_project_rejects_malformed_path() -> None:
    """A project without a group is refused with the expected shape."""
    with pytest.raises(GitLabError, match=r"'gitops' is not a GitLab project path"):
        find_project("gitops", "/srv/p.git", {})


def test_find_token_precedence() -> None:
    """GITLAB_TOKEN wins over GL_TOKEN, and either wins over CI_JOB_TOKEN."""
    expected = ["first", "second", "second"]
    actual = [
        find_token({"GITLAB_TOKEN": "first", "GL_TOKEN": "second"}),
        find_token({"GL_TOKEN": "second"}),
        find_token({"GL_TOKEN": "second", "CI_JOB_TOKEN": "job"}),
    ]
    assert expected == actual


def test_find_token_refuses_ci_job_token() -> None:
    """CI_JOB_TOKEN alone is refused with one line that says what to set instead."""
    with pytest.raises(GitLabError) as info:
        find_token({"CI_JOB_TOKEN": "job-secret"})
    expected = (
        "CI_JOB_TOKEN cannot create merge requests: set GITLAB_TOKEN to a project or "
        "personal access token with the api scope (or use --no-pr)"
    )
    assert expected == str(info.value)


def test_find_token_missing_is_clear() -> None:
    """No token at all names both variables."""
    with pytest.raises(GitLabError, match="no GitLab token: set GITLAB_TOKEN or GL_TOKEN"):
        find_token({})


def test_is_gitlab_host() -> None:
    """gitlab.com and the hosts GITLAB_HOST, GL_HOST and CI_SERVER_HOST name are GitLabs."""
    env = {"GITLAB_HOST": "https://git.example.com:8443", "CI_SERVER_HOST": "ci.example.org"}
    expected = [True, True, True, True, False, False, False]
    actual = [
        is_gitlab_host("gitlab.com", {}),
        is_gitlab_host("GIT.example.com", env),
        is_gitlab_host("ci.example.org", env),
        is_gitlab_host("gl.example.net", {"GL_HOST": "gl.example.net"}),
        is_gitlab_host("github.com", env),
        is_gitlab_host("git.example.com", {}),
        is_gitlab_host("", env),
    ]
    assert expected == actual


def test_in_gitlab_ci() -> None:
    """GITLAB_CI=true marks a GitLab CI job."""
    expected = [True, False]
    assert expected == [in_gitlab_ci({"GITLAB_CI": "true"}), in_gitlab_ci({})]


def test_base_url_strips_api_suffix() -> None:
    """python-gitlab gets the server URL; an API URL not ending in /api/v4 is refused."""
    expected = "https://git.example.com:8443"
    assert expected == base_url("https://git.example.com:8443/api/v4/")
    with pytest.raises(GitLabError, match="does not end in /api/v4"):
        base_url("https://***@git.example.com/api/v3")


# -- titles and descriptions -----------------------------------------------------------


def test_draft_title() -> None:
    """Drafts get one Draft: prefix; long titles are cut to GitLab's limit."""
    expected = ["Draft: Promote", "Draft: Promote", "Promote", TITLE_LIMIT]
    actual = [
        draft_title("Promote", draft=True),
        draft_title("[Draft] Promote", draft=True),
        draft_title("Promote", draft=False),
        len(draft_title("x" * 400, draft=True)),
    ]
    assert expected == actual


def test_cut_description_leaves_short_bodies_alone() -> None:
    """A body within the limit comes back unchanged."""
    body = "a\n<details>\n```diff\n+x\n```\n</details>\n"
    assert body == cut_description(body, limit=len(body))


def test_cut_description_closes_fence_and_details() -> None:
    """A body cut inside a collapsed diff still closes the fence and the <details>."""
    head = "Intro\n\n<details><summary>Rendered diff</summary>\n\n````diff\n"
    body = head + "".join(f"+line {n}\n" for n in range(500)) + "````\n</details>\n"
    cut = cut_description(body, limit=400)
    expected = (True, True, 1, 1, True)
    actual = (
        len(cut) <= 400,
        cut.endswith("````\n... (cut to fit GitLab's size limit)\n</details>\n"),
        cut.count("<details>"),
        cut.count("</details>"),
        cut.startswith(head + "+line 0\n"),
    )
    assert expected == actual


def test_cut_description_plain_body_cut_at_line_end() -> None:
    """A body without blocks keeps the whole lines that fit, then the note."""
    body = "".join(f"line {n}\n" for n in range(100))
    note = "... (cut to fit GitLab's size limit)\n"
    kept = "".join(f"line {n}\n" for n in range(9))  # 9 * 7 characters + the note fit in 100
    assert kept + note == cut_description(body, limit=100)


@pytest.mark.parametrize("limit", [60, 61, 97, 150, 333, 1000])
def test_cut_description_never_exceeds_limit(limit: int) -> None:
    """Whatever the limit, the cut body fits and keeps details balanced."""
    body = "<details>\n" + "```\n" + "x" * 2000 + "\n```\n</details>\n" + "tail\n" * 50
    cut = cut_description(body, limit=limit)
    assert (True, cut.count("<details>")) == (len(cut) <= limit, cut.count("</details>"))


# -- GitLabMergeRequests against the fake --------------------------------------------------


def test_create_find_update_labels_reviewers_assignee(
    gl: FakeGitLab, mrs: GitLabMergeRequests
) -> None:
    """A merge request is opened, found, updated, labelled, given reviewers and an assignee."""
    alice, bob = gl.add_user("alice"), gl.add_user("bob")
    created = mrs.create(title="Promote", body="body", head="promote/a", base="main", draft=False)
    found = mrs.find_open("promote/a", "main")
    updated = mrs.update(created.number, title="Promote v2", body="new body")
    mrs.add_labels(created.number, ["promotion", "stage/prod"])
    mrs.request_reviewers(created.number, ["@alice", "Bob"])
    mrs.set_assignee(created.number, "alice")
    mr = gl.merge_requests[created.number]
    url = f"https://gitlab.example.com/{PROJECT}/-/merge_requests/1"
    expected = (
        (1, url, True),
        (1, url, False),
        (1, url, False),
        ("Promote v2", "new body", ["promotion", "stage/prod"], [alice, bob], alice),
    )
    actual = (
        (created.number, created.url, created.created),
        (found.number, found.url, found.created) if found else None,
        (updated.number, updated.url, updated.created),
        (mr.title, mr.description, mr.labels, mr.reviewer_ids, mr.assignee_id),
    )
    assert expected == actual


def test_rerun_finds_and_updates_instead_of_duplicating(
    gl: FakeGitLab, mrs: GitLabMergeRequests
) -> None:
    """The second run finds the open merge request and updates it: one MR, new text."""
    for run in ("first", "second"):
        existing = mrs.find_open("promote/a", "main")
        if existing is None:
            mrs.create(title=run, body=run, head="promote/a", base="main", draft=False)
        else:
            mrs.update(existing.number, title=run, body=run)
    expected = [(1, "second", "second")]
    assert expected == [(mr.iid, mr.title, mr.description) for mr in gl.open_merge_requests()]


def test_draft_is_a_title_prefix_kept_by_updates(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """A draft is opened with the Draft: prefix, and updating its title keeps it a draft."""
    number = _create(mrs, draft=True)
    after_create = (gl.merge_requests[number].title, gl.merge_requests[number].draft)
    mrs.update(number, title="Promote again", body="b")
    after_update = (gl.merge_requests[number].title, gl.merge_requests[number].draft)
    expected = (("Draft: Promote", True), ("Draft: Promote again", True))
    assert expected == (after_create, after_update)


def test_find_open_matches_only_its_branches(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """Closed MRs, other branches, other targets and a fork's same-named branch are skipped."""
    gl.add_merge_request("promote/a", state="closed")
    gl.add_merge_request("promote/a", source_project_id=777)
    gl.add_merge_request("promote/b")
    gl.add_merge_request("promote/a", "promote/b")
    assert mrs.find_open("promote/a", "main") is None
    mine = gl.add_merge_request("promote/a")
    found = mrs.find_open("promote/a", "main")
    assert mine.iid == (found.number if found else None)


def test_empty_labels_and_reviewers_make_no_request(
    gl: FakeGitLab, mrs: GitLabMergeRequests
) -> None:
    """Nothing to add sends nothing."""
    number = _create(mrs)
    before = len(gl.log)
    mrs.add_labels(number, [])
    mrs.request_reviewers(number, [])
    assert before == len(gl.log)


def test_reviewers_are_added_to_those_already_asked(
    gl: FakeGitLab, mrs: GitLabMergeRequests
) -> None:
    """Requesting reviewers keeps earlier reviewers and asks nobody twice."""
    alice, bob = gl.add_user("alice"), gl.add_user("bob")
    number = _create(mrs)
    mrs.request_reviewers(number, ["alice"])
    mrs.request_reviewers(number, ["bob", "alice"])
    assert [alice, bob] == gl.merge_requests[number].reviewer_ids


def test_unknown_reviewer_is_clear(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """A username GitLab does not know is named in one line."""
    number = _create(mrs)
    with pytest.raises(GitLabError) as info:
        mrs.request_reviewers(number, ["nobody"])
    assert f"no GitLab user 'nobody' at {gl.api_url}" == str(info.value)


def test_group_reviewer_is_refused(mrs: GitLabMergeRequests) -> None:
    """GitHub-style org/team reviewers are refused: GitLab reviewers are users."""
    with pytest.raises(GitLabError, match="by username, not group: acme/sre"):
        mrs.request_reviewers(1, ["acme/sre"])


def test_long_description_is_cut_to_gitlab_limit(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """A description over GitLab's limit is cut (the fake refuses longer ones)."""
    body = "<details>\n\n```diff\n" + "+x\n" * (DESCRIPTION_LIMIT // 3) + "```\n</details>\n"
    number = mrs.create(title="t", body=body, head="promote/a", base="main", draft=False).number
    stored = gl.merge_requests[number].description
    expected = (True, True, 1)
    actual = (
        len(stored) <= DESCRIPTION_LIMIT,
        stored.endswith("```\n... (cut to fit GitLab's size limit)\n</details>\n"),
        stored.count("</details>"),
    )
    assert expected == actual


def test_long_title_is_cut_to_gitlab_limit(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """A title over GitLab's 255 characters is cut (the fake refuses longer ones)."""
    number = mrs.create(title="t" * 400, body="b", head="promote/a", base="main", draft=True).number
    title = gl.merge_requests[number].title
    expected = (TITLE_LIMIT, "Draft: ttt", "…")
    assert expected == (len(title), title[:10], title[-1])


def test_duplicate_merge_request_is_recognised(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """GitLab's 409 for a second open MR becomes MergeRequestExists with GitLab's message."""
    _create(mrs)
    with pytest.raises(MergeRequestExists) as info:
        _create(mrs)
    expected = (
        f"GitLab refused to open a merge request in {PROJECT}: "
        "Another open merge request already exists for this source branch: !1"
    )
    assert expected == str(info.value)


def test_missing_source_branch_is_422_with_gitlab_message(mrs: GitLabMergeRequests) -> None:
    """A source branch the remote lacks gives GitLab's 422 message."""
    with pytest.raises(GitLabError) as info:
        _create(mrs, "promote/never-pushed")
    expected = (
        f"GitLab refused to open a merge request in {PROJECT} "
        '(422: Source branch "promote/never-pushed" does not exist)'
    )
    assert expected == str(info.value)


def test_bad_token_is_401_message(gl: FakeGitLab) -> None:
    """A token GitLab rejects gives one line naming the 401, without the token."""
    with (
        GitLabMergeRequests(PROJECT, "glpat-wrong-secret", gl.api_url, backoff=0) as client,
        pytest.raises(GitLabError) as info,
    ):
        client.find_open("promote/a", "main")
    expected = (
        f"GitLab rejected the token (401 Unauthorized) at {gl.api_url}; check GITLAB_TOKEN",
        False,
    )
    assert expected == (str(info.value), "glpat-wrong-secret" in _texts(info.value))


def test_no_permission_is_403_message(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """A Reporter's token cannot open a merge request: one line says so, naming the project."""
    gl.set_access_level(20)
    with pytest.raises(GitLabError) as info:
        _create(mrs)
    expected = (
        f"the GitLab token may not open a merge request in {PROJECT} (403 Forbidden) "
        f"at {gl.api_url}"
    )
    assert expected == str(info.value)


def test_unknown_project_is_404_message(gl: FakeGitLab) -> None:
    """A project the token cannot see is reported by path and API URL."""
    with (
        GitLabMergeRequests("acme/other", TOKEN, gl.api_url, backoff=0) as client,
        pytest.raises(GitLabError) as info,
    ):
        client.find_open("promote/a", "main")
    expected = f"GitLab project acme/other not found at {gl.api_url} (or the token cannot see it)"
    assert expected == str(info.value)


def test_server_errors_are_retried_then_succeed(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """Two 502 answers are retried and the call succeeds."""
    gl.fail_next(502, 2)
    assert mrs.find_open("promote/a", "main") is None
    expected = [502, 502, 200, 200]  # the project (after two 502s), then the list
    assert expected == [entry.status for entry in gl.log]


def test_create_retried_after_server_error(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """A 503 on the POST that opens the merge request is retried: one merge request."""
    mrs.find_open("promote/a", "main")
    gl.fail_next(503)
    number = _create(mrs)
    assert [number] == [mr.iid for mr in gl.open_merge_requests()]


def test_server_errors_forever_end_in_one_line(gl: FakeGitLab) -> None:
    """Endless 502 answers end, after the retries, in one clear error."""
    gl.fail_next(502, 10)
    with (
        GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, retries=2, backoff=0) as client,
        pytest.raises(GitLabError) as info,
    ):
        client.find_open("promote/a", "main")
    expected = (
        f"the GitLab API at {gl.api_url} kept failing after 2 retries (HTTP 502) "
        f"trying to read the project in {PROJECT}",
        [502, 502, 502],
    )
    assert expected == (str(info.value), [entry.status for entry in gl.log])


def test_proxy_error_page_is_not_quoted(gl: FakeGitLab) -> None:
    """An HTML error page from a proxy does not end up in the message."""
    gl.fail_next(504, 5, body="<html><body><h1>504 Gateway Time-out</h1></body></html>")
    with (
        GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, retries=1, backoff=0) as client,
        pytest.raises(GitLabError) as info,
    ):
        client.find_open("promote/a", "main")
    assert "<" not in str(info.value)
    assert "(HTTP 504)" in str(info.value)


def test_backoff_waits_between_retries(gl: FakeGitLab) -> None:
    """The backoff parameter really spaces the retries out."""
    gl.fail_next(503, 2)
    with GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0.1) as client:
        start = time.monotonic()
        client.find_open("promote/a", "main")
    assert time.monotonic() - start >= 0.1


def test_connection_refused_is_clear(gl: FakeGitLab) -> None:
    """A closed port gives 'cannot reach the GitLab API', not a traceback."""
    gl.stop()
    with (
        GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, retries=1, backoff=0) as client,
        pytest.raises(GitLabError) as info,
    ):
        client.find_open("promote/a", "main")
    expected = f"cannot reach the GitLab API at {gl.api_url} (after 1 retries): ConnectionError"
    assert expected == str(info.value)


def test_api_url_credentials_never_shown(gl: FakeGitLab) -> None:
    """A password written into the API URL never reaches an error message."""
    gl.stop()
    api = gl.api_url.replace("://", "://bot:s3cret-api@", 1)
    with (
        GitLabMergeRequests(PROJECT, TOKEN, api, retries=0, backoff=0) as client,
        pytest.raises(GitLabError) as info,
    ):
        client.find_open("promote/a", "main")
    expected = (False, True)
    actual = ("s3cret-api" in str(info.value), "at http://***@127.0.0.1:" in str(info.value))
    assert expected == actual


def test_token_never_in_messages_or_urls(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """Across every failure the token is in no message or chained exception, and it only
    ever travels in the PRIVATE-TOKEN header, never in a URL."""
    failures: list[PromoterError] = []
    gl.add_user("alice")
    number = _create(mrs)

    def attempt(action: Callable[[], object]) -> None:
        try:
            action()
        except PromoterError as exc:
            failures.append(exc)

    attempt(lambda: _create(mrs))  # 409
    attempt(lambda: _create(mrs, "promote/missing"))  # 422
    attempt(lambda: mrs.request_reviewers(number, ["ghost"]))
    gl.fail_next(500, 10)
    attempt(lambda: mrs.update(number, title="t", body="b"))
    gl.set_access_level(20)
    attempt(lambda: mrs.add_labels(number, ["x"]))
    gl.stop()
    attempt(lambda: mrs.set_assignee(number, "alice"))
    texts = [_texts(exc) for exc in failures]
    sent = {value for entry in gl.log for name, value in entry.headers if name == "private-token"}
    expected: tuple[int, list[str], list[object], set[str]] = (6, [], [], {TOKEN})
    actual = (
        len(failures),
        [text for text in texts if TOKEN in text],
        [entry for entry in gl.log if TOKEN in entry.query or TOKEN in entry.path],
        sent,
    )
    assert expected == actual


def test_auto_merge_set_on_new_gitlab(gl: FakeGitLab, mrs: GitLabMergeRequests) -> None:
    """GitLab 17.11+ gets auto_merge=true and the merge request waits for its pipeline."""
    number = _create(mrs)
    note = mrs.enable_auto_merge(number)
    sent = [entry.body for entry in gl.log if entry.path.endswith("/merge")]
    mr = gl.merge_requests[number]
    expected = (None, [{"auto_merge": True}], True, "opened")
    assert expected == (note, sent, mr.merge_when_pipeline_succeeds, mr.state)


def test_auto_merge_on_older_gitlab_uses_old_flag(ops: GitOps) -> None:
    """Before 17.11 the old flag is sent (auto_merge would be ignored and merge at once)."""
    for gl in _serve(ops, auto_merge="merge_when_pipeline_succeeds"):
        with GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0) as client:
            number = _create(client)
            note = client.enable_auto_merge(number)
        sent = [entry.body for entry in gl.log if entry.path.endswith("/merge")]
        mr = gl.merge_requests[number]
        expected = (None, [{"merge_when_pipeline_succeeds": True}], True, "opened")
        assert expected == (note, sent, mr.merge_when_pipeline_succeeds, mr.state)


def test_auto_merge_unsupported_is_a_note(ops: GitOps) -> None:
    """A GitLab without auto-merge answers 405: a note says so, nothing fails or merges."""
    for gl in _serve(ops, auto_merge=None):
        with GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0) as client:
            number = _create(client)
            note = client.enable_auto_merge(number)
        expected = (
            "auto-merge was not set on !1: GitLab 8.2.0 answered 405; it does not offer "
            "auto-merge, or the merge request cannot take it yet (draft, conflicts, no pipeline)",
            "opened",
        )
        assert expected == (note, gl.merge_requests[number].state)


def test_auto_merge_flag_ignored_reports_merged_at_once(ops: GitOps) -> None:
    """A server that ignores the flag and merges at once is reported in a note."""
    for gl in _serve(ops, auto_merge="merge_when_pipeline_succeeds", version="17.11.2-ee"):
        with GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0) as client:
            number = _create(client)
            note = client.enable_auto_merge(number)
        expected = (
            "!1 was merged at once: GitLab had no pipeline left to wait for",
            "merged",
            ops.remote_sha("promote/a"),
        )
        assert expected == (note, gl.merge_requests[number].state, ops.remote_sha("main"))


def test_close_releases_connections(gl: FakeGitLab) -> None:
    """After close() no socket is left for the garbage collector to warn about."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0)
        client.find_open("promote/a", "main")
        client.close()
        del client
        gc.collect()
    expected: list[warnings.WarningMessage] = []
    assert expected == [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_client_usable_after_close(gl: FakeGitLab) -> None:
    """close() forgets the connection; the next call opens a new one."""
    client = GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0)
    client.find_open("promote/a", "main")
    client.close()
    client.find_open("promote/a", "main")
    client.close()
    expected = [200, 200, 200, 200]
    assert expected == [entry.status for entry in gl.log]


def test_merged_commit_is_none_until_merged_then_the_landed_commit(ops: GitOps) -> None:
    """``promote --wait`` asks which commit a merge request landed as: None while it is
    open; after a fast-forward merge, the commit the target branch now points at."""
    for gl in _serve(ops, auto_merge="merge_when_pipeline_succeeds", version="17.11.2-ee"):
        with GitLabMergeRequests(PROJECT, TOKEN, gl.api_url, backoff=0) as client:
            number = _create(client)
            before = client.merged_commit(number)
            client.enable_auto_merge(number)
            after = client.merged_commit(number)
        expected = (None, ops.remote_sha("main"))
        assert expected == (before, after)
