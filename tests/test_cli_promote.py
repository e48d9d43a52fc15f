"""Tests of the ``promote`` command (``pipelines promote`` and the ``promote`` script) through
typer's CliRunner, with real git in tmp_path and the local FakeGitHub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from cli.main import app, promote_app
from promoter import git, publish
from promoter.github import GitHubPulls, PullRequestInfo
from promoter.promotion import PlanKind
from tests.builders.git import (
    GitHttpServer,
    GitOps,
    deny_pushes,
    leftovers,
    make_gitops,
    push_change,
)
from tests.fakes.github import FakeGitHub

TOKEN = "ghp_cliSECRET9876543210"
BRANCH = "promote/web/prod/nginx-1.22.0"
PROD_NGINX = "pipelines/web/prod/nginx-tag.yaml"
NGINX = ("nginx", "staging", "prod", "-p", "web")

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


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
    assert fake.unhandled == []


ENTRY_POINTS: list[tuple[typer.Typer, tuple[str, ...]]] = [
    (app, ("promote",)),
    (promote_app, ()),
]


def invoker(target: typer.Typer, prefix: tuple[str, ...], ops: GitOps) -> Any:
    """A function invoking ``target`` on the user's clone (``--repo`` added)."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(target, [*prefix, *args, "--repo", str(ops.work)])

    return invoke


@pytest.fixture(params=ENTRY_POINTS, ids=["pipelines-promote", "promote"])
def each_cli(request: pytest.FixtureRequest, ops: GitOps) -> Any:
    """Each of the two entry points in turn (for the tests of the modes)."""
    return invoker(*request.param, ops)


@pytest.fixture
def cli(ops: GitOps) -> Any:
    """``pipelines promote`` on the user's clone."""
    return invoker(app, ("promote",), ops)


def assert_one_error_line(result: Result, *fragments: str) -> None:
    """Exit 1, nothing on stdout, exactly one ``error:`` line on stderr, no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def assert_untouched(ops: GitOps, temp: Path, before: dict[str, object]) -> None:
    """The user's clone is as it was, no worktree or temp dir left, no remote branch."""
    assert ops.snapshot() == before
    assert len(ops.worktrees()) == 1
    assert leftovers(temp) == []
    assert ops.remote_branches() == ["main"]


# -- modes -------------------------------------------------------------------------------


def test_default_opens_pull_request(each_cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """Both entry points push the branch and open the PR, and say so on stdout."""
    before = ops.snapshot()
    result = each_cli(*NGINX)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "Deployment/nginx: 1.21.6 -> 1.22.0" in result.stdout
    assert f"pushed {BRANCH}" in result.stdout
    assert "pull request #1 opened: https://github.com/acme/gitops/pull/1" in result.stdout
    assert TOKEN not in result.stdout
    assert ops.remote_sha(BRANCH) is not None
    assert [p.head for p in gh.pulls.values()] == [BRANCH]
    assert ops.snapshot() == before
    assert leftovers(temp) == []


def test_dry_run_changes_nothing(each_cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """--dry-run prints the plan and the unified diff, and writes, commits, pushes nothing."""
    before = ops.snapshot()
    result = each_cli(*NGINX, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "pipeline web: staging -> prod" in result.stdout
    assert "nginx: 1.21.6 -> 1.22.0  pipelines/web/prod/nginx-tag.yaml:10" in result.stdout
    assert "--- a/pipelines/web/prod/nginx-tag.yaml\n" in result.stdout
    assert "+++ b/pipelines/web/prod/nginx-tag.yaml\n" in result.stdout
    assert "-          image: nginx:1.21.6\n+          image: nginx:1.22.0\n" in result.stdout
    assert "dry run: nothing was written" in result.stdout
    assert gh.log == []
    assert ops.local_branches() == ["main"]
    assert_untouched(ops, temp, before)


def test_dry_run_json_has_diff(each_cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """--dry-run -o json reports the plan with its diff and written=false."""
    result = each_cli(*NGINX, "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["pipeline"], data["from"], data["to"], data["written"]) == (
        "web",
        "staging",
        "prod",
        False,
    )
    assert data["files"] == [PROD_NGINX]
    assert "+          image: nginx:1.22.0" in data["diff"]


def test_write_edits_working_tree_only(
    each_cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path
) -> None:
    """--write changes the files of the working tree, and makes no commit or branch."""
    head = ops.git("rev-parse", "HEAD")
    result = each_cli(*NGINX, "--write")
    assert result.exit_code == 0, result.stderr
    assert f"wrote {PROD_NGINX}" in result.stdout
    assert "image: nginx:1.22.0" in (ops.work / PROD_NGINX).read_text(encoding="utf-8")
    assert ops.git("status", "--porcelain") == f" M {PROD_NGINX}"
    assert ops.git("rev-parse", "HEAD") == head
    assert ops.local_branches() == ["main"]
    assert ops.remote_branches() == ["main"]
    assert gh.log == []
    assert leftovers(temp) == []


def test_no_push_commits_locally(each_cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """--no-push leaves one commit on a local branch; the remote and GitHub see nothing."""
    before = ops.snapshot()
    result = each_cli(*NGINX, "--no-push")
    assert result.exit_code == 0, result.stderr
    assert f"on branch {BRANCH}" in result.stdout
    assert "pushed" not in result.stdout
    assert ops.local_branches() == ["main", BRANCH]
    assert ops.git("rev-list", "--count", f"main..{BRANCH}") == "1"
    assert ops.remote_branches() == ["main"]
    assert gh.log == []
    assert ops.snapshot() == before
    assert leftovers(temp) == []


def test_no_pr_pushes_only(each_cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """--no-pr pushes the branch and opens no pull request."""
    before = ops.snapshot()
    result = each_cli(*NGINX, "--no-pr")
    assert result.exit_code == 0, result.stderr
    assert f"pushed {BRANCH}" in result.stdout
    assert "pull request" not in result.stdout
    assert ops.remote_branches() == ["main", BRANCH]
    assert gh.pulls == {} and gh.log == []
    assert ops.local_branches() == ["main"]
    assert ops.snapshot() == before
    assert leftovers(temp) == []


def test_dry_run_and_write_exclude_each_other(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """--dry-run with --write is a usage error: an error line and a usage hint, exit 2."""
    result = cli(*NGINX, "--dry-run", "--write")
    expected = (2, "", "error: --dry-run and --write exclude each other", "usage: ")
    assert expected == (
        result.exit_code,
        result.stdout,
        result.stderr.splitlines()[0],
        result.stderr.splitlines()[1][:7],
    )


def test_repo_defaults_to_git_top_level(
    ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --repo the git top-level of the current directory is used."""
    monkeypatch.chdir(ops.work / "pipelines" / "web")
    result = CliRunner().invoke(promote_app, [*NGINX, "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert f"--- a/{PROD_NGINX}" in result.stdout


def test_json_output_of_a_promotion(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """-o json reports branch, commit, push and the pull request."""
    result = cli(*NGINX, "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["branch"] == BRANCH
    assert data["commit"] == ops.remote_sha(BRANCH)
    assert data["base_commit"] == ops.remote_sha("main")
    assert data["pushed"] is True
    assert data["pull_request"] == {
        "number": 1,
        "url": "https://github.com/acme/gitops/pull/1",
        "created": True,
    }


def test_labels_reviewers_draft(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """--label (repeatable, replacing the default), --reviewer and --draft reach the PR."""
    result = cli(
        *NGINX, "--label", "prod", "--label", "web", "--reviewer", "alice", "--reviewer",
        "acme/sre", "--draft",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    pull = gh.pulls[1]
    assert (pull.labels, pull.requested_reviewers, pull.requested_teams, pull.draft) == (
        ["prod", "web"],
        ["alice"],
        ["sre"],
        True,
    )


def test_default_label_is_promotion(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """Without --label the PR is labelled ``promotion``, not a draft, no reviewers."""
    assert cli(*NGINX).exit_code == 0
    pull = gh.pulls[1]
    assert (pull.labels, pull.requested_reviewers, pull.draft) == (["promotion"], [], False)


def test_github_repo_option(
    cli: Any, ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--github-repo names the repository when neither env nor remote URL can."""
    monkeypatch.delenv("GITHUB_REPOSITORY")
    assert_one_error_line(cli(*NGINX), "--github-repo OWNER/NAME")
    result = cli(*NGINX, "--github-repo", "acme/gitops")
    assert result.exit_code == 0, result.stderr
    assert len(gh.pulls) == 1


def test_base_option(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """--base starts from, and opens the PR against, another branch."""
    release = push_change(ops, "release", {"README.md": "r\n"}, "release")
    result = cli(*NGINX, "--base", "release")
    assert result.exit_code == 0, result.stderr
    assert "(base release)" in result.stdout
    assert gh.pulls[1].base == "release"
    assert ops.remote_git("rev-parse", f"{BRANCH}^") == release


# -- idempotence and several apps --------------------------------------------------------


def test_rerun_updates_pull_request(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """The same promotion twice updates the one open PR (title and body) instead of a second."""
    assert cli(*NGINX).exit_code == 0
    gh.pulls[1].title, gh.pulls[1].body = "stale title", "stale body"
    tip = push_change(ops, "main", {"README.md": "news\n"}, "main moved")
    result = cli(*NGINX)
    assert result.exit_code == 0, result.stderr
    assert "pull request #1 updated" in result.stdout
    assert len(gh.pulls) == 1
    assert gh.pulls[1].title == "promote(web/prod): nginx 1.21.6 -> 1.22.0"
    assert f"`main` at `{tip}`" in (gh.pulls[1].body or "")
    assert ops.remote_git("rev-parse", f"{BRANCH}^") == tip


def test_same_version_says_so(cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """A promotion the target already has: exit 0, 'already up to date', nothing written."""
    text = (ops.work / PROD_NGINX).read_text(encoding="utf-8").replace("1.21.6", "1.22.0")
    push_change(ops, "main", {PROD_NGINX: text}, "prod already there")
    before = ops.snapshot()
    result = cli(*NGINX)
    assert result.exit_code == 0, result.stderr
    assert "already up to date (Deployment/nginx); nothing to do" in result.stdout
    assert result.stderr == ""
    assert gh.pulls == {}
    assert ops.snapshot() == before
    assert ops.remote_branches() == ["main"]
    assert ops.local_branches() == ["main"]
    assert leftovers(temp) == []


def test_same_version_write_mode(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """--write on a promotion that changes nothing writes nothing and exits 0."""
    cli("shop", "dev", "staging", "--write")
    status = ops.git("status", "--porcelain")
    result = cli("shop", "dev", "staging", "--write")
    assert result.exit_code == 0, result.stderr
    assert "nothing to do" in result.stdout
    assert ops.git("status", "--porcelain") == status


@pytest.mark.parametrize("apps", [("--all",), ("nginx,shop",)])
def test_several_apps_one_pull_request(
    cli: Any, ops: GitOps, gh: FakeGitHub, apps: tuple[str, ...]
) -> None:
    """``--all FROM TO`` and ``APP1,APP2 FROM TO``: one commit, one branch, one PR."""
    result = cli(*apps, "staging", "prod", "-p", "web")
    assert result.exit_code == 0, result.stderr
    branch = "promote/web/prod/nginx-1.22.0+shop-1.4.0"
    assert ops.remote_branches() == ["main", branch]
    assert ops.remote_git("rev-list", "--count", f"main..{branch}") == "1"
    assert len(gh.pulls) == 1 and gh.pulls[1].head == branch
    assert "Deployment/shop: 1.3.0 -> 1.4.0" in result.stdout
    assert "Deployment/nginx: 1.21.6 -> 1.22.0" in result.stdout


# -- usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--all", "staging", "prod", "extra"),
        ("nginx", "staging"),
        (",", "staging", "prod"),
    ],
)
def test_bad_arguments_are_usage_errors(cli: Any, ops: GitOps, args: tuple[str, ...]) -> None:
    """A wrong number of arguments or an empty APP exits 2: an error line and a usage hint."""
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "\nusage: " in result.stderr
    assert "Traceback" not in result.stderr


# -- faults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("nginxx", "staging", "prod", "-p", "web"), ("unknown app", "did you mean nginx")),
        (("nginx", "staging", "prood"), ("unknown stage 'prood'", "did you mean prod")),
        (("nginx", "prod", "staging", "-p", "web"), ("cannot promote backwards",)),
        (("nginx", "dev", "prod", "-p", "web"), ("would skip staging", "--skip-stages")),
        (("nginx", "staging", "prod"), ("choose one with --pipeline",)),
        ((*NGINX, "--remote", "nope"), ("no git remote named 'nope'", "remotes: origin")),
        ((*NGINX, "--base", "nope"), ("branch 'nope' does not exist on remote 'origin'",)),
    ],
    ids=["app", "stage", "backwards", "skipping", "ambiguous", "no-remote", "no-base"],
)
def test_refusals(
    cli: Any,
    ops: GitOps,
    gh: FakeGitHub,
    temp: Path,
    args: tuple[str, ...],
    fragments: tuple[str, ...],
) -> None:
    """Unknown names, wrong directions, a missing remote or base: one line, nothing left."""
    ops.git("checkout", "--quiet", "-b", "wip")
    (ops.work / PROD_NGINX).write_text("# unfinished\n", encoding="utf-8")
    before = ops.snapshot()
    assert_one_error_line(cli(*args), *fragments)
    assert gh.pulls == {}
    assert_untouched(ops, temp, before)


def test_downgrade_refused(cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """Promoting to an older version is refused unless --allow-downgrade."""
    text = (ops.work / PROD_NGINX).read_text(encoding="utf-8").replace("1.21.6", "1.30.0")
    push_change(ops, "main", {PROD_NGINX: text}, "prod ahead")
    before = ops.snapshot()
    assert_one_error_line(cli(*NGINX), "would downgrade prod", "--allow-downgrade")
    assert_untouched(ops, temp, before)
    result = cli(*NGINX, "--allow-downgrade")
    assert result.exit_code == 0, result.stderr
    assert "1.30.0 -> 1.22.0" in result.stdout


@pytest.mark.parametrize("unset", [("GITHUB_TOKEN",), ("GITHUB_TOKEN", "GH_TOKEN")])
def test_missing_token_fails_before_push(
    each_cli: Any,
    ops: GitOps,
    gh: FakeGitHub,
    temp: Path,
    monkeypatch: pytest.MonkeyPatch,
    unset: tuple[str, ...],
) -> None:
    """Without GITHUB_TOKEN and GH_TOKEN: one line naming both, before any push."""
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    before = ops.snapshot()
    assert_one_error_line(each_cli(*NGINX), "no GitHub token", "GITHUB_TOKEN or GH_TOKEN")
    assert gh.log == []
    assert_untouched(ops, temp, before)


def test_bad_token(
    cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token GitHub rejects (401) is reported before the push; the token is not shown."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrongSECRET")
    before = ops.snapshot()
    result = cli(*NGINX)
    assert_one_error_line(result, "401 Bad credentials")
    assert "ghp_wrongSECRET" not in result.stderr
    assert_untouched(ops, temp, before)


def test_no_push_rights(cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """A remote that refuses pushes: one line with the remote's reason, no PR."""
    deny_pushes(ops)
    before = ops.snapshot()
    assert_one_error_line(
        cli(*NGINX), f"push of {BRANCH} to origin was rejected", "permission denied"
    )
    assert gh.pulls == {}
    assert_untouched(ops, temp, before)


def test_push_rejected_by_race(
    cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push that keeps losing the race gives up after the bounded attempts, clearly."""
    main = ops.remote_sha("main")
    monkeypatch.setattr(git, "remote_sha", lambda *a, **k: main)
    before = ops.snapshot()
    assert_one_error_line(cli(*NGINX), "lost a race with another writer", "gave up after 3")
    assert gh.pulls == {}
    assert_untouched(ops, temp, before)


def test_network_down(cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """An unreachable API is reported on one line, before anything is pushed."""
    gh.stop()
    before = ops.snapshot()
    assert_one_error_line(cli(*NGINX), "cannot reach the GitHub API at http://127.0.0.1")
    assert_untouched(ops, temp, before)


def test_api_5xx_retried_then_succeeds(cli: Any, ops: GitOps, gh: FakeGitHub) -> None:
    """Two 503 answers are retried and the PR is opened."""
    gh.fail_next(503, 2)
    result = cli(*NGINX)
    assert result.exit_code == 0, result.stderr
    assert "pull request #1 opened" in result.stdout
    assert [entry.status for entry in gh.log].count(503) == 2


def test_api_5xx_persistent(cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """A 503 that does not go away ends in one clear line and nothing pushed."""
    gh.fail_next(503, 10)
    before = ops.snapshot()
    assert_one_error_line(cli(*NGINX), "kept failing after 3 retries (HTTP 503)")
    assert_untouched(ops, temp, before)


def test_pull_request_failed_after_push_says_how_to_retry(
    cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the PR fails after the push, the one line names the pushed branch and the
    command to retry; retrying opens the PR."""
    real_create = GitHubPulls.create

    def create_then_fail(self: GitHubPulls, **kwargs: Any) -> PullRequestInfo:
        gh.fail_next(422, 1, message="Validation Failed")
        return real_create(self, **kwargs)

    monkeypatch.setattr(GitHubPulls, "create", create_then_fail)
    before = ops.snapshot()
    result = cli(*NGINX)
    assert_one_error_line(result, f"branch {BRANCH} was pushed", "retry with:", "422")
    assert ops.remote_sha(BRANCH) is not None
    assert gh.pulls == {}
    assert ops.snapshot() == before
    assert leftovers(temp) == []
    monkeypatch.setattr(GitHubPulls, "create", real_create)
    again = cli(*NGINX)
    assert again.exit_code == 0, again.stderr
    assert "pull request #1 opened" in again.stdout
    assert len(gh.pulls) == 1


def test_unexpected_bug_is_one_line(
    cli: Any, ops: GitOps, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (not a PromoterError) is still one line, exit 3, no traceback."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(git, "default_branch", broken)
    result = cli(*NGINX)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: unexpected ZeroDivisionError: oops")
    assert "Traceback" not in result.stderr


def test_interrupt_exits_130(
    cli: Any, ops: GitOps, gh: FakeGitHub, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C exits 130 with one line and leaves no worktree behind."""

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "plan_promotion", interrupted)
    before = ops.snapshot()
    result = cli(*NGINX)
    assert (result.exit_code, result.stderr) == (130, "error: interrupted\n")
    assert_untouched(ops, temp, before)


# -- token hygiene -----------------------------------------------------------------------


def test_token_never_printed_or_stored(
    cli: Any, ops: GitOps, gh: FakeGitHub, tmp_path: Path
) -> None:
    """Over an http remote that needs the token, across a promotion, a rerun, JSON output
    and a failure, the token appears in no output and no git file of either repository."""
    with GitHttpServer(tmp_path, username="x-access-token", password=TOKEN) as server:
        ops.git("remote", "set-url", "origin", f"{server.url}/remote.git")
        outputs = [cli(*NGINX), cli(*NGINX, "-o", "json"), cli("shop", "staging", "prod")]
        assert ("x-access-token", TOKEN) in server.auth
    assert [r.exit_code for r in outputs] == [0, 0, 0], [r.stderr for r in outputs]
    deny_pushes(ops)
    with GitHttpServer(tmp_path, username="x-access-token", password=TOKEN) as server:
        ops.git("remote", "set-url", "origin", f"{server.url}/remote.git")
        # A promotion not pushed before: repeating one within the same second would make
        # the very same commit, whose push is a no-op the hook never sees.
        outputs.append(cli("shop", "dev", "staging", "--no-pr"))
    assert outputs[-1].exit_code == 1
    for result in outputs:
        assert TOKEN not in result.stdout + result.stderr
    for root in (ops.work / ".git", ops.remote):
        for path in root.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in ops.git("config", "--list", "--show-origin")
    assert TOKEN not in ops.remote_git("config", "--list")


@pytest.mark.parametrize(("command", "kind"), [("promote", "promote"), ("rollback", "rollback")])
def test_label_help_names_the_library_default(command: str, kind: PlanKind) -> None:
    """``--help`` of promote and rollback names the label the library uses by default."""
    from promoter.pr import DEFAULT_LABELS

    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"})
    expected = f"(repeatable; default: {', '.join(DEFAULT_LABELS[kind])})"
    assert expected in " ".join(result.output.split())
