"""A stage the native reader cannot build is rendered with kustomize, not lost (issue 10 §1):
``status``, ``check`` and ``promote`` all go on through the real render."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from promoter.checks import check_repo
from promoter.planner import plan_promotion
from promoter.repo import GitOpsRepo
from tests.builders.repos import git_init, kustomization, simple_pipeline, write

# kustomize keeps bookkeeping annotations on every object while it builds; a JSON6902
# ``test`` on one succeeds in kustomize, and the native reader (rightly) does not model them.
_PATCH = """
patches:
  - target:
      kind: Deployment
      name: app
    patch: |
      - op: test
        path: /metadata/annotations/internal.config.kubernetes.io~1previousKinds
        value: {kind}
"""


def _repo(root: Path, kind: str = "Deployment") -> Path:
    simple_pipeline(root)
    write(
        root,
        {
            "demo/prod/kustomization.yaml": kustomization(
                "deployment.yaml", extra=_PATCH.format(kind=kind)
            )
        },
    )
    return root


def test_status_renders_a_stage_the_reader_cannot_build(kubectl: str, tmp_path: Path) -> None:
    """The stage is read through kustomize, marked rendered, with the native failure noted."""
    repo = GitOpsRepo.open(_repo(tmp_path))
    prod = repo.stage_status(repo.stage("demo", "prod"))
    assert prod.error is None
    assert prod.rendered
    assert [(a.key, a.version) for a in prod.apps] == [("Deployment/app", "1.0.0")]
    assert prod.native_problem is not None
    assert prod.native_problem.file == "demo/prod/kustomization.yaml"
    assert "JSON6902 patch on Deployment/app: test " in prod.native_problem.message


def test_status_cli_shows_the_rendered_stage_and_its_note(kubectl: str, tmp_path: Path) -> None:
    """``status`` prints the stage's version and a note; JSON carries ``native_problem``."""
    root = _repo(tmp_path)
    runner = CliRunner()
    table = runner.invoke(cli_app, ["status", "--repo", str(root)])
    assert table.exit_code == 0, table.output
    assert "1.0.0" in table.output
    assert "note: stage prod was rendered with kustomize: the native reader cannot build it" in (
        " ".join(table.output.split())
    )
    data = json.loads(runner.invoke(cli_app, ["status", "--repo", str(root), "-o", "json"]).stdout)
    (pipeline,) = data["pipelines"]
    prod = next(s for s in pipeline["stages"] if s["name"] == "prod")
    assert prod["rendered"] is True
    assert prod["error"] is None
    assert prod["native_problem"]["file"] == "demo/prod/kustomization.yaml"
    assert prod["apps"][0]["version"] == "1.0.0"


def test_stage_is_an_error_only_when_kustomize_fails_too(kubectl: str, tmp_path: Path) -> None:
    """When kustomize refuses the stage as well, it stays an error (the native message)."""
    repo = GitOpsRepo.open(_repo(tmp_path, kind="Service"))
    prod = repo.stage_status(repo.stage("demo", "prod"))
    assert not prod.rendered
    assert prod.error is not None
    assert "JSON6902 patch on Deployment/app: test " in prod.error
    findings = check_repo(repo)
    assert [(f.rule, f.file) for f in findings] == [
        ("stage-unbuildable", "demo/prod/kustomization.yaml")
    ]


def test_check_notes_the_native_failure_of_a_rendered_stage(kubectl: str, tmp_path: Path) -> None:
    """``check`` reports an ``unsupported`` note, not a ``stage`` error, for the stage."""
    findings = check_repo(GitOpsRepo.open(_repo(tmp_path)))
    assert [(f.rule, f.file, f.line) for f in findings] == [
        ("unsupported", "demo/prod/kustomization.yaml", 10)
    ]
    assert findings[0].message.startswith("the native reader cannot build this stage (")
    assert findings[0].message.endswith(
        "status and promote render it with kustomize instead (stage demo/prod)"
    )


def test_promote_works_on_a_rendered_stage(kubectl: str, tmp_path: Path) -> None:
    """Promotion plans an override in the stage, verified by kustomize, and it renders."""
    root = _repo(tmp_path)
    repo = GitOpsRepo.open(root)
    plan = plan_promotion(repo, "app", "dev", "prod", render=False)
    moves = [(m.key, m.old_version, m.new_version) for m in plan.moves]
    assert moves == [("Deployment/app", "1.0.0", "1.1.0")]
    assert plan.rendered_diff is not None  # kustomize verified it although render=False
    assert "example.com/app:1.1.0" in plan.rendered_diff
    for edit in plan.edits:
        (root / edit.path).write_text(edit.after, encoding="utf-8")
    done = subprocess.run(
        [kubectl, "kustomize", str(root / "demo/prod")], capture_output=True, text=True, check=True
    )
    assert "image: example.com/app:1.1.0" in done.stdout
    after = GitOpsRepo.open(root).stage_status(GitOpsRepo.open(root).stage("demo", "prod"))
    assert after.rendered
    assert after.apps[0].version == "1.1.0"


def test_without_kustomize_the_native_failure_is_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No kustomize or kubectl on PATH: the stage is an error with the native message."""
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", "no-such-kustomize-tool")
    repo = GitOpsRepo.open(_repo(tmp_path))
    prod = repo.stage_status(repo.stage("demo", "prod"))
    assert prod.error is not None
    assert not prod.rendered


def test_promote_cli_dry_run_on_a_rendered_stage(kubectl: str, temp: Path) -> None:
    """``promote --dry-run`` plans the rendered stage's promotion and writes nothing."""
    tmp_path = temp
    root = git_init(_repo(tmp_path / "repo"))
    before = (root / "demo/prod/kustomization.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(
        cli_app, ["promote", "app", "dev", "prod", "--repo", str(root), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "1.0.0" in result.output
    assert "1.1.0" in result.output
    assert (root / "demo/prod/kustomization.yaml").read_text(encoding="utf-8") == before
