""" "What changed" in promotion pull requests: OCI source/revision labels read from a real
registry, commits listed through the fake GitHub's compare endpoint."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from promoter.changelog import plan_with_changelog
from promoter.planner import plan_promotion
from promoter.pr import pull_request_body
from promoter.promotion import PromotionPlan
from promoter.repo import GitOpsRepo
from tests.builders.git import GitOps, isolate, make_gitops
from tests.builders.repos import deployment, kustomization, write
from tests.fakes.github import FakeGitHub
from tests.fakes.registry import Pusher, Registry, require_registry, start_registry

_names = itertools.count()
SOURCE = "org.opencontainers.image.source"
REVISION = "org.opencontainers.image.revision"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One anonymous registry for the module."""
    require_registry()
    with start_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture
def ops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitOps:
    """A clone with a bare remote; three more commits (one naming a pull request)."""
    isolate(monkeypatch, tmp_path)
    made = make_gitops(tmp_path)
    for number, subject in enumerate(("Fix the login (#12)", "Bump deps", "Faster pages")):
        (made.work / f"note{number}.txt").write_text(subject)
        made.git("add", ".")
        made.git("commit", "-q", "-m", subject)
    made.git("push", "-q", "origin", "HEAD:main")
    return made


def _plan(root: Path, name: str) -> PromotionPlan:
    write(
        root,
        {
            "promoter.yaml": "pipelines:\n  - name: web\n    stages:\n"
            "      - {name: dev, path: envs/dev}\n      - {name: prod, path: envs/prod}\n",
            "base/kustomization.yaml": kustomization("deploy.yaml"),
            "base/deploy.yaml": deployment("web", f"{name}:1.0", container="app"),
            "envs/dev/kustomization.yaml": kustomization(
                "../../base", extra=f'images:\n  - name: {name}\n    newTag: "1.1"\n'
            ),
            "envs/prod/kustomization.yaml": kustomization("../../base"),
        },
    )
    return plan_promotion(GitOpsRepo.open(root), "web", "dev", "prod", render=False)


def _push(registry: Registry, old: dict[str, str], new: dict[str, str]) -> str:
    pusher = Pusher(registry)
    repo = f"team/log{next(_names)}"
    pusher.image(repo, "1.0", labels=old)
    pusher.image(repo, "1.1", annotations=new)
    return f"{registry.host}/{repo}"


def _env(gh: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_TOKEN": gh.token, "GITHUB_API_URL": gh.url}


def test_same_github_repository_gives_a_compare_link_and_commits(
    tmp_path: Path, ops: GitOps, registry: Registry
) -> None:
    """Labels (old) and annotations (new) naming one GitHub repository: a compare link and
    the commits between, newest first, with author and pull request number."""
    revisions = ops.remote_git("rev-list", "--reverse", "main").split()
    base, head = revisions[-4], revisions[-1]
    source = "https://github.com/acme/gitops"
    name = _push(
        registry, {SOURCE: source, REVISION: base}, {SOURCE: source + ".git", REVISION: head}
    )
    with FakeGitHub(ops.remote) as gh:
        plan = plan_with_changelog(_plan(tmp_path / "repo", name), env=_env(gh))
        assert gh.unhandled == []
    body = pull_request_body(plan, "main", "a" * 40)
    assert f"[compare]({source}/compare/{base}...{head})" in body
    lines = body.splitlines()
    start = lines.index("### What changed")
    commits = [line for line in lines[start:] if line.startswith("  - ")]
    assert commits[0].startswith("  - Faster pages (")
    assert commits[2].startswith("  - Fix the login (#12) (") and ", #12)" in commits[2]


def test_different_repositories_missing_labels_and_api_failure_leave_notes(
    tmp_path: Path, ops: GitOps, registry: Registry
) -> None:
    """Different sources, missing labels and a failing GitHub each leave one note, and the
    promotion goes on."""
    different = _push(
        registry,
        {SOURCE: "https://github.com/acme/one", REVISION: "a1"},
        {SOURCE: "https://github.com/acme/two", REVISION: "b2"},
    )
    plan = plan_with_changelog(_plan(tmp_path / "one", different), env={})
    assert plan.changelog is not None
    assert "different sources" in (plan.changelog.images[0].note or "")
    unlabelled = _push(registry, {}, {})
    plan = plan_with_changelog(_plan(tmp_path / "two", unlabelled), env={})
    assert plan.changelog is not None
    assert f"{unlabelled}:1.0 has no org.opencontainers.image.source/revision labels" == (
        plan.changelog.images[0].note
    )
    same = "https://github.com/acme/gitops"
    failing = _push(registry, {SOURCE: same, REVISION: "a1"}, {SOURCE: same, REVISION: "b2"})
    with FakeGitHub(ops.remote) as gh:
        gh.fail_next(500, count=10)
        plan = plan_with_changelog(_plan(tmp_path / "three", failing), env=_env(gh))
    assert plan.changelog is not None
    item = plan.changelog.images[0]
    assert f"{same}/compare/a1...b2" == item.compare_url
    assert (item.note or "").startswith("commits not listed: ")


def test_dry_run_prints_the_section_and_no_changelog_skips_it(
    tmp_path: Path, registry: Registry
) -> None:
    """``promote --dry-run`` prints "What changed"; ``--no-changelog`` leaves it out."""
    source = "https://github.com/acme/app"
    name = _push(registry, {SOURCE: source, REVISION: "a1"}, {SOURCE: source, REVISION: "b2"})
    _plan(tmp_path, name)
    args = ["promote", "web", "dev", "prod", "--dry-run", "--repo", str(tmp_path)]
    shown = CliRunner().invoke(cli_app, args, env={"GITHUB_TOKEN": ""})
    assert shown.exit_code == 0, shown.output
    assert "### What changed" in shown.stdout
    assert f"{source}/compare/a1...b2" in shown.stdout
    skipped = CliRunner().invoke(cli_app, [*args, "--no-changelog"])
    assert "What changed" not in skipped.stdout


def test_no_reachable_registry_means_no_section(tmp_path: Path) -> None:
    """Images on a registry nobody answers for: no section at all, nothing fails."""
    from tests.fakes.registry import free_port

    plan = plan_with_changelog(_plan(tmp_path, f"127.0.0.1:{free_port()}/team/app"), env={})
    assert plan.changelog is None
    assert "What changed" not in pull_request_body(plan, "main", "a" * 40)
