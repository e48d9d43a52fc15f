"""Pull request options (issue 14 §3): ``--title``, ``--body-file`` beside the generated body,
and the token of a logged-in ``gh`` CLI when no token variable is set (a fake ``gh`` on
PATH), never shown."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app, promote_app
from promoter.ghauth import gh_token
from promoter.publish import PromotionRequest, PublishOptions, promote
from promoter.testing import FakePulls
from tests.builders.git import GitOps, make_gitops
from tests.fakes.github import FakeGitHub

pytestmark = pytest.mark.usefixtures("temp")

TOKEN = "ghp_fromGhCLI0123456789SECRET"
NGINX = ("nginx", "staging", "prod", "-p", "web")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


@pytest.fixture
def gh(ops: GitOps, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """FakeGitHub over the remote; no token variable is set."""
    with FakeGitHub(ops.remote, owner="acme", name="gitops", token=TOKEN) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/gitops")
        monkeypatch.setenv("PROMOTER_GITHUB_BACKOFF", "0")
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        yield fake


def fake_gh(directory: Path, *, logged_in: bool = True) -> Path:
    """A ``gh`` script in ``directory``: ``gh auth token`` prints TOKEN (and records its
    arguments in ``gh-args``), or fails like a gh that is not logged in."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "gh"
    answer = (
        f'echo "{TOKEN}"\nexit 0'
        if logged_in
        else 'echo "You are not logged into any GitHub hosts." >&2\nexit 1'
    )
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{directory}/gh-args"\n'
        'if [ "$1" = auth ] && [ "$2" = token ]; then\n'
        f"{answer}\n"
        "fi\n"
        "exit 2\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return directory


def on_path(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Put ``directory`` first on PATH."""
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")


def run(ops: GitOps, *args: str) -> Result:
    """``pipelines promote`` on the user's clone."""
    return CliRunner().invoke(app, ["promote", *args, "--repo", str(ops.work)])


# -- --title and --body-file ----------------------------------------------------------------


def test_title_and_body_file_shape_the_pull_request(
    ops: GitOps, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--title replaces the title; --body-file's text follows the generated body."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    notes = tmp_path / "notes.md"
    notes.write_text("Ticket: OPS-42\nApproved by the release board.\n", encoding="utf-8")
    result = run(ops, *NGINX, "--title", "Release nginx 1.22.0", "--body-file", str(notes))
    (pull,) = gh.pulls.values()
    body = pull.body or ""
    expected = (0, "Release nginx 1.22.0", True, True)
    assert expected == (
        result.exit_code,
        pull.title,
        body.startswith("Promotes pipeline **web** from `staging` to `prod`."),
        body.endswith("\nTicket: OPS-42\nApproved by the release board.\n"),
    ), result.stderr


def test_body_file_from_stdin_on_the_promote_script(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--body-file -`` reads the text from standard input (the ``promote`` script)."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    result = CliRunner().invoke(
        promote_app,
        [*NGINX, "--body-file", "-", "--repo", str(ops.work)],
        input="From stdin.\n",
    )
    (pull,) = gh.pulls.values()
    expected = (0, True, "promote(web/prod): nginx 1.21.6 -> 1.22.0")
    assert expected == (
        result.exit_code,
        (pull.body or "").endswith("\nFrom stdin.\n"),
        pull.title,
    ), result.stderr


def test_missing_body_file_is_one_error_line(ops: GitOps, gh: FakeGitHub, tmp_path: Path) -> None:
    """An unreadable --body-file is one error line naming it, exit 1, nothing pushed."""
    missing = tmp_path / "nope.md"
    result = run(ops, *NGINX, "--body-file", str(missing))
    expected = (1, f"error: --body-file {missing}: No such file or directory\n", ["main"])
    assert expected == (result.exit_code, result.stderr, ops.remote_branches())


def test_title_body_and_assignee_reach_a_gitlab_merge_request(ops: GitOps) -> None:
    """Through the forge interface (GitLab): title, appended body and assignee as given."""
    pulls = FakePulls()
    env = {**os.environ, "GITLAB_TOKEN": "glpat-x", "CI_PROJECT_PATH": "acme/gitops"}
    options = PublishOptions(
        provider="gitlab",
        title="Ship\nit",
        body_extra="Closes #12\n",
        assignee="@bob",
    )
    request = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")
    promote(ops.work, request, options, pulls_factory=pulls.factory, env=env)
    (pr,) = pulls.opened
    expected = ("Ship it", True, "bob")
    assert expected == (pr.title, pr.body.endswith("\nCloses #12\n"), pr.assignee)


# -- the gh CLI's token ---------------------------------------------------------------------


def test_gh_token_opens_the_pull_request_and_is_never_shown(
    ops: GitOps, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without GITHUB_TOKEN/GH_TOKEN a logged-in gh's token is used; it is not printed."""
    on_path(monkeypatch, fake_gh(tmp_path / "bin"))
    result = run(ops, *NGINX, "-o", "json")
    expected = (0, 1, False, True)
    assert expected == (
        result.exit_code,
        len(gh.pulls),
        TOKEN in result.stdout + result.stderr,
        "auth token" in (tmp_path / "bin" / "gh-args").read_text(encoding="utf-8"),
    ), result.stderr


def test_gh_not_logged_in_is_the_usual_missing_token_error(
    ops: GitOps, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gh that is not logged in leaves the one-line missing-token error (gh's own message
    is not shown); nothing is pushed."""
    on_path(monkeypatch, fake_gh(tmp_path / "bin", logged_in=False))
    result = run(ops, *NGINX)
    expected = (1, 1, True, False, ["main"])
    assert expected == (
        result.exit_code,
        result.stderr.count("\n"),
        result.stderr.startswith("error: no GitHub token"),
        "not logged into" in result.stderr,
        ops.remote_branches(),
    )


def test_gh_token_asks_for_gh_host(tmp_path: Path) -> None:
    """``GH_HOST`` is passed to ``gh auth token --hostname``; without gh there is no token."""
    directory = fake_gh(tmp_path / "bin")
    env = {"PATH": str(directory), "GH_HOST": "github.example.com"}
    token = gh_token(env)
    args = (directory / "gh-args").read_text(encoding="utf-8")
    nothing = gh_token({"PATH": str(tmp_path / "empty")})
    expected = (TOKEN, "auth token --hostname github.example.com\n", None)
    assert expected == (token, args, nothing)


def test_a_token_variable_wins_over_gh(tmp_path: Path) -> None:
    """With GITHUB_TOKEN set, gh is not asked at all."""
    from promoter.github import find_token

    directory = fake_gh(tmp_path / "bin")
    token = find_token({"PATH": str(directory), "GITHUB_TOKEN": "ghp_env"})
    expected = ("ghp_env", False)
    assert expected == (token, (directory / "gh-args").exists())
