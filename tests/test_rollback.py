"""Tests of ``rollback`` (promoter.rollback and ``pipelines rollback``): an earlier version
found in the stage's own git history, written through promote's plan, verify, branch and
pull request machinery, on copies of the history story with the local FakeGitHub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter.history import read_history
from promoter.promotion import AppMove, PromotionPlan
from promoter.publish import PublishOptions, promote
from promoter.repo import GitOpsRepo
from promoter.rollback import plan_rollback
from tests.builders.git import GitOps, leftovers
from tests.builders.history import Story, commit, copy_story, replaced, shared_story
from tests.fakes.github import FakeGitHub

TOKEN = "ghp_rollbackSECRET0123456789"
PROD_NGINX = "pipelines/web/prod/nginx-tag.yaml"
STAGING_NGINX = "pipelines/web/staging/nginx-tag.yaml"

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def story(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Story:
    """A copy of the session's history story that this test may change."""
    return copy_story(shared_story(tmp_path_factory), tmp_path / "own")


@pytest.fixture
def ops(story: Story) -> GitOps:
    """The story's clone and remote."""
    return story.ops


@pytest.fixture
def gh(ops: GitOps, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """FakeGitHub over the remote, with the environment pointing the commands at it."""
    with FakeGitHub(ops.remote, owner="acme", name="gitops", token=TOKEN) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/gitops")
        monkeypatch.setenv("PROMOTER_GITHUB_BACKOFF", "0")
        yield fake
    assert fake.errors == []
    assert fake.unhandled == []


def rollback(ops: GitOps, *args: str) -> Result:
    """``pipelines rollback ARGS --repo <the user's clone>``."""
    return CliRunner().invoke(app, ["rollback", *args, "--repo", str(ops.work)])


STORY_BRANCHES = [
    "main",
    "promote/web/prod/nginx-1.23.2",
    "promote/web/staging/nginx-1.23.2",
    "rollback/web/prod/nginx-1.21.6",
]
"""The remote's branches after the story (its pull requests' branches stay, as on GitHub)."""


def assert_untouched(ops: GitOps, temp: Path, before: dict[str, object]) -> None:
    """The clone is as it was, no worktree or temp dir is left, no branch was pushed."""
    assert ops.snapshot() == before
    assert len(ops.worktrees()) == 1
    assert leftovers(temp) == []
    assert ops.remote_branches() == STORY_BRANCHES


# -- the library ----------------------------------------------------------------------------


def test_previous_via_pull_request(story: Story, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """--previous takes staging back from 1.23.2 to 1.22.0, the version of the seed commit,
    as a commit with trailers naming that commit and a pull request that names it too."""
    seed = story.commits["seed"]

    def previous(gitops: GitOpsRepo, top: Path) -> PromotionPlan:
        entries = read_history(gitops.root)
        return plan_rollback(gitops, "nginx", "staging", entries, previous=True, pipeline="web")

    env = {
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/gitops",
        "PROMOTER_GITHUB_BACKOFF": "0",
    }
    result = promote(ops.work, previous, PublishOptions(labels=("rollback",)), env=env)
    branch = "rollback/web/staging/nginx-1.22.0"
    assert (result.branch, result.plan.kind, result.plan.origin_commit) == (
        branch,
        "rollback",
        seed,
    )
    assert result.plan.moves == (AppMove("Deployment", "nginx", "1.23.2", "1.22.0"),)
    assert ops.remote_file(branch, STAGING_NGINX).splitlines()[-1] == (
        "          image: nginx:1.22.0"
    )
    assert ops.remote_git("log", "-1", "--format=%B", branch) == (
        "rollback(web/staging): nginx 1.23.2 -> 1.22.0\n\n"
        "Deployment/nginx: 1.23.2 -> 1.22.0\n\n"
        "Promoted-Pipeline: web\n"
        "Promoted-From: staging\n"
        "Promoted-To: staging\n"
        f"Rollback-Of-Commit: {seed}\n"
        "Promoted-App: Deployment/nginx\n"
        "Promoted-Version: 1.22.0"
    )
    (pull,) = gh.pulls.values()
    assert (pull.title, pull.head, pull.base, pull.labels) == (
        "rollback(web/staging): nginx 1.23.2 -> 1.22.0",
        branch,
        "main",
        ["rollback"],
    )
    body = (pull.body or "").splitlines()
    assert body[:5] == [
        "Rolls back stage `staging` of pipeline **web** to the version it ran before from "
        f"commit `{seed}`.",
        "",
        "| App | From | To | Version |",
        "| --- | --- | --- | --- |",
        "| `Deployment/nginx` | staging | staging | `1.23.2` → `1.22.0` |",
    ]
    assert f"- `{STAGING_NGINX}:10` (in-place): Deployment/nginx nginx `1.23.2` → `1.22.0`" in body
    assert leftovers(temp) == []


def test_to_picks_the_most_recent_time_the_version_ran(story: Story, ops: GitOps) -> None:
    """--to 1.21.6 in prod names the rollback merge (the latest arrival), --to 1.23.2 the
    squashed promotion; 1.21.6 being current, it is a no-op."""
    repo = GitOpsRepo.open(ops.work)
    entries = read_history(ops.work)
    current = plan_rollback(repo, "nginx", "prod", entries, to_version="1.21.6", pipeline="web")
    assert (current.is_noop, current.origin_commit, current.unchanged) == (
        True,
        story.commits["rollback-prod"],
        ("Deployment/nginx",),
    )
    back = plan_rollback(repo, "nginx", "prod", entries, to_version="1.23.2", pipeline="web")
    assert (back.origin_commit, back.moves) == (
        story.commits["promote-prod"],
        (AppMove("Deployment", "nginx", "1.21.6", "1.23.2"),),
    )


# -- the command ----------------------------------------------------------------------------


def test_cli_opens_pull_request(story: Story, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """By default the rollback is committed, pushed and proposed with the label rollback."""
    origin = story.commits["promote-prod"]
    result = rollback(ops, "nginx", "prod", "-p", "web", "--to", "1.23.2")
    assert result.exit_code == 0, result.stderr
    branch = "rollback/web/prod/nginx-1.23.2"
    sha = ops.remote_sha(branch)
    assert sha is not None
    (pull,) = gh.pulls.values()
    assert result.stdout.splitlines() == [
        f"pipeline web: roll back prod (version from commit {origin[:12]})",
        "  Deployment/nginx: 1.21.6 -> 1.23.2",
        f"    nginx: 1.21.6 -> 1.23.2  {PROD_NGINX}:10 (in-place)",
        f"committed {sha[:12]} on branch {branch} (base main)",
        f"pushed {branch}",
        f"pull request #{pull.number} opened: https://github.com/acme/gitops/pull/{pull.number}",
    ]
    assert pull.labels == ["rollback"]
    assert f"from commit `{origin}`" in (pull.body or "")
    assert ops.remote_branches() == sorted([*STORY_BRANCHES, branch])
    assert leftovers(temp) == []


def test_cli_dry_run(story: Story, ops: GitOps, gh: FakeGitHub, temp: Path) -> None:
    """--dry-run prints the plan and the diff and changes nothing anywhere."""
    before = ops.snapshot()
    result = rollback(ops, "nginx", "staging", "-p", "web", "--previous", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"pipeline web: roll back staging (version from commit {story.commits['seed'][:12]})",
        "  Deployment/nginx: 1.23.2 -> 1.22.0",
        f"    nginx: 1.23.2 -> 1.22.0  {STAGING_NGINX}:10 (in-place)",
        f"--- a/{STAGING_NGINX}",
        f"+++ b/{STAGING_NGINX}",
        "@@ -7,4 +7,4 @@",
        "     spec:",
        "       containers:",
        "         - name: nginx",
        "-          image: nginx:1.23.2",
        "+          image: nginx:1.22.0",
        "dry run: nothing was written",
    ]
    assert gh.pulls == {}
    assert_untouched(ops, temp, before)


def test_cli_json_restores_every_container(story: Story, ops: GitOps, gh: FakeGitHub) -> None:
    """Rolling shop back in dev (no --pipeline: only web deploys shop) restores its app and
    init container images, leaves the sidecar, and JSON names the kind and origin."""
    result = rollback(ops, "shop", "dev", "--previous", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    diff = data.pop("diff")
    kustomization = "pipelines/web/dev/kustomization.yaml"
    assert data == {
        "pipeline": "web",
        "from": "dev",
        "to": "dev",
        "noop": False,
        "moves": [
            {"kind": "Deployment", "name": "shop", "old_version": "1.4.3", "new_version": "1.4.2"}
        ],
        "unchanged": [],
        "changes": [
            {
                "app": "Deployment/shop",
                "container": "migrate",
                "old": "1.4.3",
                "new": "1.4.2",
                "file": kustomization,
                "line": 16,
                "how": "in-place",
                "automated": True,
                "policy": "flux-system:shop",
            },
            {
                "app": "Deployment/shop",
                "container": "shop",
                "old": "1.4.3",
                "new": "1.4.2",
                "file": kustomization,
                "line": 13,
                "how": "in-place",
                "automated": True,
                "policy": "flux-system:shop",
            },
        ],
        "files": [kustomization],
        "written": False,
        "kind": "rollback",
        "origin_commit": story.commits["seed"],
        "notes": [  # issue 10 §3: the automation-owned lines are said, a rollback goes ahead
            f"Deployment/shop (container {name}) in dev is set at {kustomization}:{line} by "
            "Flux image policy flux-system:shop, whose next run may overwrite this rollback"
            for name, line in (("migrate", 16), ("shop", 13))
        ],
        "also_affected": [],
    }
    assert [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"
    ] == [
        '-    newTag: 1.4.3 # {"$imagepolicy": "flux-system:shop:tag"}',
        '+    newTag: 1.4.2 # {"$imagepolicy": "flux-system:shop:tag"}',
        '-    newTag: 1.4.3 # {"$imagepolicy": "flux-system:shop:tag"}',
        '+    newTag: 1.4.2 # {"$imagepolicy": "flux-system:shop:tag"}',
    ]


def test_cli_write_keeps_the_setter_marker(story: Story, ops: GitOps, gh: FakeGitHub) -> None:
    """--write puts the automated dev stage back to its previous nginx in the working tree
    only, keeping the Flux $imagepolicy marker."""
    path = "pipelines/platform/dev/kustomization.yaml"
    text = (ops.work / path).read_text(encoding="utf-8")
    result = rollback(ops, "nginx", "dev", "-p", "platform", "--previous", "--write")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"wrote {path}"
    assert (ops.work / path).read_text(encoding="utf-8") == text.replace(
        'newTag: 1.23.2 # {"$imagepolicy": "flux-system:nginx:tag"}',
        'newTag: 1.23.1 # {"$imagepolicy": "flux-system:nginx:tag"}',
    )
    assert ops.git("status", "--porcelain") == f" M {path}"
    assert ops.local_branches() == ["main"]
    assert gh.pulls == {}


def test_cli_helm_chart_version(story: Story, ops: GitOps, gh: FakeGitHub) -> None:
    """A HelmRelease hand-bumped in platform/staging goes back to its previous chart version
    in the JSON6902 patch that sets it (found without --pipeline: only platform has it)."""
    path = "pipelines/platform/staging/podinfo-version.yaml"
    bump = replaced(ops, path, "value: 6.0.0", "value: 6.0.1")
    commit(ops, bump, "podinfo 6.0.1 in staging", "2026-11-08T09:00:00+00:00")
    result = rollback(ops, "podinfo", "staging", "--previous", "--write")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"pipeline platform: roll back staging (version from commit {story.commits['seed'][:12]})",
        "  HelmRelease/podinfo: 6.0.1 -> 6.0.0",
        f"    chart: 6.0.1 -> 6.0.0  {path}:3 (in-place)",
        f"wrote {path}",
    ]
    assert (ops.work / path).read_text(encoding="utf-8") == (
        "- op: replace\n  path: /spec/chart/spec/version\n  value: 6.0.0\n"
    )


def test_cli_no_push_and_no_pr(story: Story, ops: GitOps, gh: FakeGitHub) -> None:
    """--no-push commits on a local branch only; --no-pr pushes the branch, opens nothing."""
    branch = "rollback/web/staging/nginx-1.22.0"
    result = rollback(ops, "nginx", "staging", "-p", "web", "--previous", "--no-push")
    assert result.exit_code == 0, result.stderr
    assert (ops.local_branches(), ops.remote_branches()) == (["main", branch], STORY_BRANCHES)
    result = rollback(ops, "nginx", "staging", "-p", "web", "--previous", "--no-pr")
    assert result.exit_code == 0, result.stderr
    assert ops.remote_branches() == sorted([*STORY_BRANCHES, branch])
    assert result.stdout.splitlines()[-1] == f"pushed {branch}"
    assert gh.pulls == {}


def test_cli_to_the_current_version_is_a_noop(
    story: Story, ops: GitOps, gh: FakeGitHub, temp: Path
) -> None:
    """Rolling back to the version already running says so, exits 0 and pushes nothing."""
    before = ops.snapshot()
    result = rollback(ops, "nginx", "prod", "-p", "web", "--to", "1.21.6")
    assert (result.exit_code, result.stdout) == (
        0,
        "pipeline web: roll back prod (version from commit "
        f"{story.commits['rollback-prod'][:12]}): already up to date (Deployment/nginx); "
        "nothing to do\n",
    )
    assert gh.pulls == {}
    assert_untouched(ops, temp, before)


REFUSALS = [
    (
        ("nginx", "prod", "-p", "web", "--to", "9.9.9"),
        "Deployment/nginx never ran version 9.9.9 in stage prod (it ran: 1.21.6, 1.23.2)",
    ),
    (
        ("nginx", "prod", "--previous"),
        "stage 'prod' of several pipelines (platform, web) deploys nginx; choose one with "
        "--pipeline",
    ),
    (
        ("shop", "prod", "-p", "web", "--previous"),
        "Deployment/shop ran no other version in stage prod before 1.3.0",
    ),
    (
        ("podinfo", "dev", "--previous"),
        "HelmRelease/podinfo ran no other version in stage dev before 6.1.6",
    ),
    (
        ("nginxx", "prod", "-p", "web", "--previous"),
        "unknown app in stage prod 'nginxx'; did you mean nginx?",
    ),
    (
        ("ghost", "dev", "--previous"),
        "unknown app in stage dev 'ghost'; known: CronJob/report, Deployment/nginx, "
        "Deployment/shop, HelmRelease/podinfo, nginx, podinfo, report, shop",
    ),
    (("nginx", "qa", "--previous"), "unknown stage 'qa'; known: dev, prod, staging"),
    (
        ("nginx", "prood", "-p", "web", "--previous"),
        "unknown stage of pipeline 'web' 'prood'; did you mean prod?",
    ),
    (("nginx", "prod", "-p", "wbe", "--previous"), "unknown pipeline 'wbe'; did you mean web?"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    REFUSALS,
    ids=[
        "never-ran",
        "ambiguous",
        "no-other-version",
        "only-version-narrowed",
        "unknown-app",
        "no-pipeline-deploys",
        "unknown-stage",
        "unknown-stage-of-pipeline",
        "unknown-pipeline",
    ],
)
def test_cli_refusals(
    ops: GitOps, gh: FakeGitHub, temp: Path, args: tuple[str, ...], message: str
) -> None:
    """A version that never ran there, nothing earlier, unknown or ambiguous names: one line,
    exit 1, nothing changed (also without --dry-run)."""
    before = ops.snapshot()
    result = rollback(ops, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    assert gh.pulls == {}
    assert_untouched(ops, temp, before)


@pytest.mark.parametrize(
    "args",
    [
        ("nginx", "prod", "-p", "web"),
        ("nginx", "prod", "-p", "web", "--previous", "--to", "1.21.6"),
        ("nginx",),
    ],
    ids=["neither", "both", "no-stage"],
)
def test_cli_usage_errors(ops: GitOps, args: tuple[str, ...]) -> None:
    """Neither or both of --to and --previous, or no STAGE, is a usage error (exit 2)."""
    result = rollback(ops, *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith(
        "\nusage: pipelines rollback [OPTIONS] APP STAGE  (see 'pipelines rollback -h')\n"
    )


def test_dry_run_and_write_exclude_each_other(ops: GitOps) -> None:
    """--dry-run with --write is a usage error: an error line and a usage hint, exit 2."""
    result = rollback(ops, "nginx", "prod", "-p", "web", "--previous", "--dry-run", "--write")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --dry-run and --write exclude each other\n"
        "usage: pipelines rollback [OPTIONS] APP STAGE  (see 'pipelines rollback -h')\n",
    )


def entries_of(ops: GitOps, **match: Any) -> list[str | None]:
    """New versions of the history entries matching ``match`` (oldest first)."""
    return [
        e.new_version
        for e in read_history(ops.work)
        if all(getattr(e, k) == v for k, v in match.items())
    ]


def test_history_before_and_after(story: Story, ops: GitOps) -> None:
    """The story's own rollback shows in prod's history as the version before the last."""
    assert entries_of(ops, pipeline="web", stage="prod", app="nginx") == [
        "1.21.6",
        "1.23.2",
        "1.21.6",
    ]
