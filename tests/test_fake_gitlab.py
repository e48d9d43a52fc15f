"""Tests of tests.fakes.gitlab.FakeGitLab, driven through real python-gitlab (and raw HTTP
where python-gitlab would hide the shape) against a real bare repository."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gitlab
import pytest
from gitlab.exceptions import GitlabAuthenticationError, GitlabError
from gitlab.v4.objects import Project

from tests.fakes.gitlab import BOT_USERNAME, FakeGitLab

TOKEN = "test-token"
PROJECT = "acme/platform/gitops"
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


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repo with main, and promote/x and promote/y each one commit ahead of it."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path)
    work = tmp_path / "work"
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    git("checkout", "-q", "-b", "main", cwd=work)
    (work / "kustomization.yaml").write_text("resources: []\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "base", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    for branch in ("promote/x", "promote/y"):
        git("checkout", "-q", "-b", branch, "main", cwd=work)
        (work / "image.txt").write_text(f"{branch}\n")
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", branch, cwd=work)
        git("push", "-q", "origin", branch, cwd=work)
    return remote


def sha(remote: Path, branch: str) -> str:
    """SHA of a branch in the bare remote."""
    return git("--git-dir", str(remote), "rev-parse", f"refs/heads/{branch}", cwd=remote)


@pytest.fixture
def fake(remote: Path) -> Iterator[FakeGitLab]:
    """A running fake; fails at teardown if it crashed or lacked an endpoint."""
    with FakeGitLab(remote, project=PROJECT, token=TOKEN) as server:
        yield server
    assert server.errors == []
    assert server.unhandled == []


@pytest.fixture
def client(fake: FakeGitLab) -> Iterator[gitlab.Gitlab]:
    """python-gitlab aimed at the fake."""
    with gitlab.Gitlab(fake.url, private_token=TOKEN) as gl:
        yield gl


@pytest.fixture
def project(client: gitlab.Gitlab) -> Project:
    """The fake's project, looked up by path."""
    return client.projects.get(PROJECT)


def raw(
    fake: FakeGitLab,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Status and decoded JSON of one plain HTTP request to the fake's API."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        fake.api_url + path,
        data=data,
        method=method,
        headers={"PRIVATE-TOKEN": TOKEN, "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read() or b"null")


def _open(project: Project, source: str = "promote/x", **extra: Any) -> Any:
    return project.mergerequests.create(
        {"source_branch": source, "target_branch": "main", "title": "Promote", **extra}
    )


def test_project_by_encoded_path_and_by_id(fake: FakeGitLab, client: gitlab.Gitlab) -> None:
    """The project answers to its URL-encoded path (any case) and to its id."""
    by_path = client.projects.get(PROJECT)
    by_upper = client.projects.get(PROJECT.upper())
    by_id = client.projects.get(42)
    expected = [(42, PROJECT, "main")] * 3
    actual = [(p.id, p.path_with_namespace, p.default_branch) for p in (by_path, by_upper, by_id)]
    assert expected == actual


def test_unknown_project_is_404(client: gitlab.Gitlab) -> None:
    """Another project answers GitLab's 404 Project Not Found."""
    with pytest.raises(GitlabError) as info:
        client.projects.get("acme/other")
    expected = (404, "404 Project Not Found")
    assert expected == (info.value.response_code, info.value.error_message)


def test_merge_request_shape(fake: FakeGitLab, remote: Path, project: Project) -> None:
    """A created merge request has GitLab's shape: id and iid differ, web_url, sha, author."""
    mr = _open(project, description="body")
    expected = {
        "iid": 1,
        "state": "opened",
        "source_branch": "promote/x",
        "target_branch": "main",
        "source_project_id": 42,
        "draft": False,
        "sha": sha(remote, "promote/x"),
        "web_url": f"https://gitlab.example.com/{PROJECT}/-/merge_requests/1",
        "author": BOT_USERNAME,
        "references": f"{PROJECT}!1",
    }
    actual = {key: mr.attributes[key] for key in expected if key in mr.attributes} | {
        "author": mr.author["username"],
        "references": mr.references["full"],
    }
    assert expected == actual
    assert mr.id != mr.iid


def test_draft_comes_from_the_title(project: Project) -> None:
    """Draft:, [Draft] and (Draft) titles are drafts; others are not."""
    drafts = []
    for n, title in enumerate(("Draft: a", "[Draft] b", "(draft) c", "Drafted d")):
        branch = "promote/x" if n % 2 == 0 else "promote/y"
        mr = project.mergerequests.create(
            {"source_branch": branch, "target_branch": "main", "title": title}
        )
        drafts.append(mr.draft)
        project.mergerequests.update(mr.iid, {"state_event": "close"})
    expected = [True, True, True, False]
    assert expected == drafts


def test_source_and_target_must_exist_in_remote(project: Project) -> None:
    """A branch missing from the bare remote gives GitLab's 422 message."""
    errors: list[tuple[int | None, object]] = []
    for source, target in (("promote/none", "main"), ("promote/x", "release")):
        with pytest.raises(GitlabError) as info:
            project.mergerequests.create(
                {"source_branch": source, "target_branch": target, "title": "t"}
            )
        errors.append((info.value.response_code, info.value.error_message))
    expected = [
        (422, ['Source branch "promote/none" does not exist']),
        (422, ['Target branch "release" does not exist']),
    ]
    assert expected == errors


def test_missing_title_is_400(fake: FakeGitLab) -> None:
    """A required parameter left out answers 400 with Grape's error text."""
    status, body = raw(
        fake,
        "POST",
        "/projects/42/merge_requests",
        {"source_branch": "promote/x", "target_branch": "main"},
    )
    expected = (400, {"error": "title is missing"})
    assert expected == (status, body)


def test_second_open_merge_request_is_409(project: Project) -> None:
    """A second open MR for the same branches answers 409 naming the first; same branch
    as source and target is a 409 too."""
    _open(project)
    errors: list[tuple[int | None, object]] = []
    for source in ("promote/x", "main"):
        with pytest.raises(GitlabError) as info:
            _open(project, source)
        errors.append((info.value.response_code, info.value.error_message))
    expected = [
        (409, ["Another open merge request already exists for this source branch: !1"]),
        (409, ["You can't use same project/branch for source and target"]),
    ]
    assert expected == errors


def test_list_filters(fake: FakeGitLab, project: Project) -> None:
    """state, source_branch and target_branch filter the list; newest first."""
    first = _open(project)
    project.mergerequests.update(first.iid, {"state_event": "close"})
    _open(project)
    _open(project, "promote/y")
    fake.add_merge_request("promote/x", source_project_id=99)

    def iids(**filters: Any) -> list[int]:
        return [mr.iid for mr in project.mergerequests.list(get_all=True, **filters)]

    expected = [[4, 3, 2, 1], [4, 3, 2], [4, 2], [1], [3]]
    actual = [
        iids(),
        iids(state="opened"),
        iids(state="opened", source_branch="promote/x"),
        iids(state="closed"),
        iids(source_branch="promote/y", target_branch="main"),
    ]
    assert expected == actual


def test_list_is_paginated(fake: FakeGitLab, project: Project) -> None:
    """per_page splits the list into pages that python-gitlab follows through Link."""
    for n in range(5):
        fake.add_merge_request("promote/x", title=f"mr {n}", state="closed")
    pages = project.mergerequests.list(per_page=2, iterator=True)
    iids = [mr.iid for mr in pages]
    queried = [entry.query for entry in fake.log if entry.path.endswith("/merge_requests")]
    expected = ([5, 4, 3, 2, 1], 3, "5")
    assert expected == (iids, len(queried), pages.total and str(pages.total))


def test_update_fields(fake: FakeGitLab, project: Project) -> None:
    """Title, description, labels (replace, add, remove), reviewers and assignee update."""
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    mr = _open(project, labels="a,b")
    project.mergerequests.update(mr.iid, {"title": "New", "description": "text"})
    project.mergerequests.update(mr.iid, {"add_labels": "c,a", "remove_labels": "b"})
    project.mergerequests.update(mr.iid, {"reviewer_ids": [alice, bob, 9999]})
    answer = project.mergerequests.update(mr.iid, {"assignee_id": bob})
    expected = ("New", "text", ["a", "c"], ["alice", "bob"], "bob")
    actual = (
        answer["title"],
        answer["description"],
        answer["labels"],
        [user["username"] for user in answer["reviewers"]],
        answer["assignee"]["username"],
    )
    assert expected == actual
    expected_labels = {"a": 700, "b": 701, "c": 702}
    assert expected_labels == fake.labels


def test_update_without_parameters_is_400(fake: FakeGitLab, project: Project) -> None:
    """An update that changes nothing answers 400, as GitLab does."""
    _open(project)
    status, body = raw(fake, "PUT", "/projects/42/merge_requests/1", {"unknown": 1})
    expected = (400, True)
    assert expected == (status, "at least one parameter must be provided" in body["error"])


def test_reopen_conflicts_with_open_duplicate(fake: FakeGitLab, project: Project) -> None:
    """Reopening an MR while another is open for the same branches answers 409."""
    first = _open(project)
    project.mergerequests.update(first.iid, {"state_event": "close"})
    _open(project)
    with pytest.raises(GitlabError) as info:
        project.mergerequests.update(first.iid, {"state_event": "reopen"})
    expected = 409
    assert expected == info.value.response_code


def test_auto_merge_on_new_gitlab(fake: FakeGitLab, project: Project) -> None:
    """GitLab 17.11 honours auto_merge and the older flag; the MR stays open."""
    for source in ("promote/x", "promote/y"):
        _open(project, source)
    a = raw(fake, "PUT", "/projects/42/merge_requests/1/merge", {"auto_merge": True})
    b = raw(fake, "PUT", "/projects/42/merge_requests/2/merge?merge_when_pipeline_succeeds=true")
    expected = [(200, True, "opened")] * 2
    actual = [(s, body["merge_when_pipeline_succeeds"], body["state"]) for s, body in (a, b)]
    assert expected == actual


def test_old_gitlab_ignores_auto_merge_and_merges(remote: Path) -> None:
    """Before 17.11 auto_merge is an unknown parameter: the MR is merged (fast-forward)."""
    with FakeGitLab(remote, auto_merge="merge_when_pipeline_succeeds") as fake:
        fake.add_merge_request("promote/x")
        status, body = raw(fake, "PUT", "/projects/42/merge_requests/1/merge", {"auto_merge": 1})
        version = raw(fake, "GET", "/version")[1]["version"]
    expected = (200, "merged", sha(remote, "promote/x"), "16.11.0")
    assert expected == (status, body["state"], sha(remote, "main"), version)


def test_gitlab_without_auto_merge_answers_405(remote: Path) -> None:
    """A GitLab without auto-merge refuses the flag with 405 and merges nothing."""
    with FakeGitLab(remote, auto_merge=None) as fake:
        mr = fake.add_merge_request("promote/x")
        status, body = raw(
            fake, "PUT", "/projects/42/merge_requests/1/merge", {"merge_when_pipeline_succeeds": 1}
        )
    expected = (405, {"message": "405 Method Not Allowed"}, "opened")
    assert expected == (status, body, mr.state)


def test_merge_that_cannot_fast_forward_is_406(fake: FakeGitLab, remote: Path) -> None:
    """An immediate merge of a branch that is not ahead of its target answers 406."""
    fake.add_merge_request("promote/x", "promote/y")
    status, body = raw(fake, "PUT", "/projects/42/merge_requests/1/merge")
    expected = (406, {"message": "Branch cannot be merged"})
    assert expected == (status, body)


def test_labels_endpoints(fake: FakeGitLab, project: Project) -> None:
    """Project labels list what merge requests use, and creating one twice is a 409."""
    _open(project, labels="promotion")
    project.labels.create({"name": "urgent", "color": "#ff0000"})
    with pytest.raises(GitlabError) as info:
        project.labels.create({"name": "urgent", "color": "#ff0000"})
    names = [(label.name, label.open_merge_requests_count) for label in project.labels.list()]
    expected = ([("promotion", 1), ("urgent", 0)], 409)
    assert expected == (names, info.value.response_code)


def test_users_by_username(fake: FakeGitLab, client: gitlab.Gitlab) -> None:
    """/users?username= finds exactly that user, whatever the case."""
    alice = fake.add_user("Alice")
    found = [(u.id, u.username) for u in client.users.list(username="alice", get_all=False)]
    none = client.users.list(username="ali", get_all=False)
    assert ([(alice, "Alice")], []) == (found, none)


def test_version_needs_a_token(fake: FakeGitLab) -> None:
    """/version answers with a token and 401 without one."""
    expected = [(200, "17.11.0"), (401, {"message": "401 Unauthorized"})]
    good = raw(fake, "GET", "/version")
    bad = raw(fake, "GET", "/version", headers={"PRIVATE-TOKEN": "wrong"})
    assert expected == [(good[0], good[1]["version"]), bad]


def test_bearer_token_is_accepted(fake: FakeGitLab) -> None:
    """An OAuth-style Authorization: Bearer header authenticates like PRIVATE-TOKEN."""
    with gitlab.Gitlab(fake.url, oauth_token=TOKEN) as gl:
        expected = PROJECT
        assert expected == gl.projects.get(PROJECT).path_with_namespace


def test_bad_token_raises_authentication_error(fake: FakeGitLab) -> None:
    """python-gitlab turns the fake's 401 into GitlabAuthenticationError."""
    with (
        gitlab.Gitlab(fake.url, private_token="nope") as gl,
        pytest.raises(GitlabAuthenticationError),
    ):
        gl.projects.get(PROJECT)


def test_access_levels(fake: FakeGitLab, project: Project) -> None:
    """Below Developer writes answer 403; below Guest the project is invisible (404)."""
    fake.set_access_level(20)
    with pytest.raises(GitlabError) as forbidden:
        _open(project)
    fake.set_access_level(0)
    status, _ = raw(fake, "GET", "/projects/42")
    expected = (403, 404)
    assert expected == (forbidden.value.response_code, status)


def test_faults_then_recovery(fake: FakeGitLab) -> None:
    """fail_next answers the next N requests (before auth) with the status, then recovers."""
    fake.fail_next(502, 2)
    answers = [raw(fake, "GET", "/version", headers={"PRIVATE-TOKEN": "x"}) for _ in range(3)]
    expected = [
        (502, {"message": "502 Bad Gateway"}),
        (502, {"message": "502 Bad Gateway"}),
        (401, {"message": "401 Unauthorized"}),
    ]
    assert expected == answers


def test_stop_refuses_connections_and_start_reopens(fake: FakeGitLab) -> None:
    """After stop() the port refuses connections; start() serves on the same URL again."""
    url = fake.url
    fake.stop()
    with pytest.raises(urllib.error.URLError):
        raw(fake, "GET", "/version")
    fake.start()
    assert (url, 200) == (fake.url, raw(fake, "GET", "/version")[0])


def test_unknown_endpoint_is_recorded(fake: FakeGitLab) -> None:
    """An endpoint the fake lacks answers 404 and is listed in unhandled."""
    status, _ = raw(fake, "GET", "/projects/42/pipelines")
    recorded = list(fake.unhandled)
    fake.unhandled.clear()
    expected = (404, [("GET", "/api/v4/projects/42/pipelines")])
    assert expected == (status, recorded)


def test_refuses_a_non_bare_remote(tmp_path: Path) -> None:
    """The fake must be given a bare repository."""
    git("init", "-q", str(tmp_path / "plain"), cwd=tmp_path)
    with pytest.raises(ValueError, match="is not a bare git repository"):
        FakeGitLab(tmp_path / "plain")
