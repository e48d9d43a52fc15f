"""History for repositories that adopted the tool later (issue 10 §4): the current
``promoter.yaml`` declares the pipelines for the whole history by default, each commit's own
with ``--declaration as-of-commit``; a shallow clone says its history is truncated, and where.
Layouts written for this test: plain kustomize directories, no Flux labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promoter.errors import PromotionError
from promoter.history import list_history, read_history
from promoter.repo import GitOpsRepo
from promoter.rollback import plan_rollback
from tests.builders.git import git
from tests.builders.history import dated, environment

pytestmark = pytest.mark.usefixtures("temp")

PLAIN_ENV: dict[str, str | None] = {"COLUMNS": "200", "NO_COLOR": "1", "PROMOTER_DEBUG": None}
DECLARATION = """\
pipelines:
  - name: shop
    stages:
      - path: apps/shop/dev
      - path: apps/shop/staging
      - path: apps/shop/prod
"""


def kustomization(tag: str) -> str:
    """A stage directory's kustomization: one Deployment, its tag set by ``images:``."""
    return f"resources:\n  - deploy.yaml\nimages:\n  - name: shop\n    newTag: {tag}\n"


DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: shop
          image: shop:0.0.0
"""


def write(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (repo-relative path -> text) under ``root``."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def stage(name: str, tag: str) -> dict[str, str]:
    """The files of stage directory ``apps/shop/<name>`` running ``tag``."""
    return {
        f"apps/shop/{name}/kustomization.yaml": kustomization(tag),
        f"apps/shop/{name}/deploy.yaml": DEPLOY,
    }


def save(root: Path, files: dict[str, str], message: str, day: int) -> str:
    """Write and commit ``files`` on 2025-03-<day>; the commit's sha."""
    write(root, files)
    git("add", "-A", cwd=root)
    with environment(dated(f"2025-03-{day:02d}T10:00:00+00:00")):
        git("commit", "-q", "-m", message, cwd=root)
    return git("rev-parse", "HEAD", cwd=root)


@pytest.fixture
def adopter(tmp_path: Path) -> tuple[Path, list[str]]:
    """Three releases in two stages, then promoter.yaml (naming a third stage that does not
    exist yet), then a dev release and the new stage; the repo and its commits."""
    root = tmp_path / "adopter"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    shas = [
        save(root, {**stage("dev", "1.0.0"), **stage("prod", "1.0.0")}, "import", 1),
        save(root, {**stage("dev", "1.1.0"), **stage("prod", "1.1.0")}, "release 1.1.0", 2),
        save(root, {**stage("dev", "1.2.0"), **stage("prod", "1.2.0")}, "release 1.2.0", 3),
        save(root, {"promoter.yaml": DECLARATION}, "adopt kustomize-promoter", 4),
        save(root, {**stage("dev", "1.3.0"), **stage("staging", "1.2.0")}, "staging", 5),
    ]
    return root, shas


def changes(root: Path, **kw: str) -> list[tuple[str, str | None, str | None, str]]:
    """(stage, old, new, commit) of every history entry, oldest first."""
    return [(e.stage, e.old_version, e.new_version, e.commit) for e in read_history(root, **kw)]


def test_current_declaration_covers_the_whole_history(adopter: tuple[Path, list[str]]) -> None:
    """By default the releases before promoter.yaml existed are history; a stage whose
    directory came later starts empty and appears with it."""
    root, shas = adopter
    assert changes(root) == [
        ("dev", None, "1.0.0", shas[0]),
        ("prod", None, "1.0.0", shas[0]),
        ("dev", "1.0.0", "1.1.0", shas[1]),
        ("prod", "1.0.0", "1.1.0", shas[1]),
        ("dev", "1.1.0", "1.2.0", shas[2]),
        ("prod", "1.1.0", "1.2.0", shas[2]),
        ("dev", "1.2.0", "1.3.0", shas[4]),
        ("staging", None, "1.2.0", shas[4]),
    ]


def test_declaration_as_of_commit_starts_at_adoption(adopter: tuple[Path, list[str]]) -> None:
    """``as-of-commit`` reads each commit's own promoter.yaml: nothing before adoption."""
    root, shas = adopter
    assert changes(root, declaration="as-of-commit") == [
        ("dev", None, "1.2.0", shas[3]),
        ("prod", None, "1.2.0", shas[3]),
        ("dev", "1.2.0", "1.3.0", shas[4]),
        ("staging", None, "1.2.0", shas[4]),
    ]


def test_rollback_previous_finds_the_release_before_adoption(
    adopter: tuple[Path, list[str]],
) -> None:
    """``rollback --previous`` in prod goes back to 1.1.0, released before promoter.yaml
    (with each commit's own declaration, prod "ran no other version")."""
    root, shas = adopter
    repo = GitOpsRepo.open(root)
    plan = plan_rollback(repo, "shop", "prod", read_history(root), previous=True, render=False)
    assert [(m.old_version, m.new_version) for m in plan.moves] == [("1.2.0", "1.1.0")]
    assert plan.origin_commit == shas[1]
    with pytest.raises(PromotionError, match="ran no other version"):
        plan_rollback(
            repo,
            "shop",
            "prod",
            read_history(root, declaration="as-of-commit"),
            previous=True,
            render=False,
        )


def test_cli_declaration_option(adopter: tuple[Path, list[str]]) -> None:
    """``history --declaration as-of-commit`` and the default, through the command line."""
    root, _ = adopter
    runner = CliRunner()
    default = runner.invoke(app, ["history", "--repo", str(root), "-o", "json"], env=PLAIN_ENV)
    as_of = runner.invoke(
        app,
        ["history", "--repo", str(root), "-o", "json", "--declaration", "as-of-commit"],
        env=PLAIN_ENV,
    )
    assert default.exit_code == 0 and as_of.exit_code == 0, default.stderr + as_of.stderr
    assert len(json.loads(default.stdout)["entries"]) == 8
    assert len(json.loads(as_of.stdout)["entries"]) == 4
    assert "truncated" not in json.loads(default.stdout)


def test_declaration_removed_since_is_not_used(adopter: tuple[Path, list[str]]) -> None:
    """Once promoter.yaml is deleted, the current declaration is none: no pipelines at all
    (the old declaration does not come back for the commits that had it)."""
    root, _ = adopter
    (root / "promoter.yaml").unlink()
    save(root, {}, "drop promoter.yaml", 6)
    assert changes(root) == []
    assert len(changes(root, declaration="as-of-commit")) == 4


def test_shallow_clone_says_history_is_truncated(
    adopter: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """A shallow clone: history covers what is there, and says where it starts (text and
    JSON)."""
    root, shas = adopter
    clone = tmp_path / "shallow"
    git("clone", "-q", "--depth", "2", root.as_uri(), str(clone), cwd=tmp_path)
    assert [e.commit for e in list_history(clone)] == [shas[4], shas[4], shas[3], shas[3]]
    runner = CliRunner()
    doc = json.loads(
        runner.invoke(app, ["history", "--repo", str(clone), "-o", "json"], env=PLAIN_ENV).stdout
    )
    assert doc["truncated"] == {
        "shallow": True,
        "oldest_commit": shas[3],
        "oldest_date": "2025-03-04T10:00:00+00:00",
    }
    text = runner.invoke(app, ["history", "--repo", str(clone)], env=PLAIN_ENV)
    assert text.exit_code == 0, text.stderr
    assert (
        f"history is truncated: shallow clone, it starts at {shas[3][:12]} (2025-03-04); "
        "git fetch --unshallow reads the rest"
    ) in " ".join(text.stdout.split())
