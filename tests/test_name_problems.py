"""Invalid names are validated where they are read (issue 11): a pipeline, stage or app
name with a control character, from promoter.yaml, a Flux label or a manifest, is a
``name-invalid`` problem naming the file and line, shown as that pipeline's or stage's
error by status, reported by check, and refused by promote; it never reaches git."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from promoter.checks import check
from promoter.errors import PromoterError
from promoter.names import NAME_INVALID
from promoter.planner import plan_promotion
from promoter.repo import GitOpsRepo
from tests.builders.plans import example_copy
from tests.test_interrupt import environment

PIPELINES = "from cli.main import pipelines_main; pipelines_main()"

EVIL_APP = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: "evil\\nPromoted-To: prod"
spec:
  template:
    spec:
      containers:
        - name: evil
          image: ghcr.io/acme/evil:1.0.0
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the example GitOps repository."""
    return example_copy(tmp_path / "repo")


def status_json(root: Path, tmp_path: Path) -> tuple[int, dict[str, object], str]:
    """``pipelines status -o json``: exit code, document, stderr."""
    done = subprocess.run(
        [sys.executable, "-c", PIPELINES, "status", "--repo", str(root), "-o", "json"],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def stage_of(document: dict[str, object], pipeline: str, stage: str) -> dict[str, object]:
    """One stage of a status document."""
    pipelines = document["pipelines"]
    assert isinstance(pipelines, list)
    found = next(p for p in pipelines if p["name"] == pipeline)
    return next(s for s in found["stages"] if s["name"] == stage)  # type: ignore[no-any-return]


def test_stage_name_in_promoter_yaml_is_that_stages_error(root: Path, tmp_path: Path) -> None:
    """A newline in a stage name of promoter.yaml: status still shows every other stage,
    exits 1 with one line naming promoter.yaml:5, and the stage's problem has the code
    name-invalid; check reports it at the same place."""
    (root / "promoter.yaml").write_text(
        "pipelines:\n"
        "  - name: web\n"
        "    stages:\n"
        "      - path: pipelines/web/dev\n"
        '      - name: "staging\\nPromoted-To: prod"\n'
        "        path: pipelines/web/staging\n",
        encoding="utf-8",
    )
    code, document, err = status_json(root, tmp_path)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: promoter.yaml:5: stage name ")
    assert "control character '\\n'" in lines[0]
    bad = stage_of(document, "web", "staging\\nPromoted-To: prod")
    assert [(p["code"], p["line"]) for p in bad["problems"]] == [(NAME_INVALID, 5)]  # type: ignore[attr-defined]
    assert stage_of(document, "web", "dev")["apps"]
    assert stage_of(document, "platform", "prod")["apps"]
    findings = [f for f in check(root).findings if "control character" in f.message]
    assert [(f.file, f.line) for f in findings] == [("promoter.yaml", 5)]


def test_pipeline_name_in_promoter_yaml_is_that_pipelines_error(root: Path) -> None:
    """An escape character in a pipeline name of promoter.yaml: the pipeline is shown
    escaped with a name-invalid problem at its line, and cannot be promoted."""
    (root / "promoter.yaml").write_text(
        "pipelines:\n"
        '  - name: "w\\eb"\n'
        "    stages:\n"
        "      - path: pipelines/web/dev\n"
        "      - path: pipelines/web/staging\n",
        encoding="utf-8",
    )
    repo = GitOpsRepo.open(root)
    bad = repo.pipeline("w\\x1bb")
    assert [(p.code, p.file, p.line) for p in bad.problems] == [(NAME_INVALID, "promoter.yaml", 2)]
    assert all("\x1b" not in p.name for p in repo.pipelines)
    with pytest.raises(PromoterError, match="misdeclared"):
        plan_promotion(repo, ["nginx"], "dev", "staging", pipeline="w\\x1bb", render=False)


def test_settings_only_stage_name_is_a_problem_of_its_pipeline(root: Path) -> None:
    """A settings-only promoter.yaml entry (a soak for a labelled pipeline) naming a stage
    with a control character: a name-invalid problem of that pipeline."""
    (root / "promoter.yaml").write_text(
        'pipelines:\n  - name: web\n    stages:\n      - name: "prod\\t"\n        soak: 1h\n',
        encoding="utf-8",
    )
    web = GitOpsRepo.open(root).pipeline("web")
    assert [(p.code, p.line) for p in web.problems] == [(NAME_INVALID, 4)]
    assert "control character '\\t'" in web.problems[0].message


def test_pipeline_label_with_a_control_character(root: Path) -> None:
    """A Flux pipeline label with an escape character: a name-invalid problem at the
    label's line, the pipeline shown escaped."""
    sync = root / "pipelines/web/dev/sync.yaml"
    text = sync.read_text(encoding="utf-8")
    sync.write_text(
        text.replace("pipelines.weave.works/name: web", 'pipelines.weave.works/name: "w\\eb"'),
        encoding="utf-8",
    )
    bad = GitOpsRepo.open(root).pipeline("w\\x1bb")
    (problem,) = bad.problems
    assert (problem.code, problem.file) == (NAME_INVALID, "pipelines/web/dev/sync.yaml")
    line = text.splitlines().index(
        next(x for x in text.splitlines() if "pipelines.weave.works/name" in x)
    )
    assert problem.line == line + 1


def test_app_name_in_a_manifest_is_that_stages_error(root: Path, tmp_path: Path) -> None:
    """A Deployment named with a newline (a forged trailer) in a stage's manifest: that
    stage's error is name-invalid at the file and line of metadata.name, the other stages
    are read, promote refuses, and check reports it."""
    staging = root / "pipelines/web/staging"
    (staging / "evil.yaml").write_text(EVIL_APP, encoding="utf-8")
    kustomization = staging / "kustomization.yaml"
    text = kustomization.read_text(encoding="utf-8")
    kustomization.write_text(
        text.replace("  - ../../../base/shop\n", "  - ../../../base/shop\n  - evil.yaml\n"),
        encoding="utf-8",
    )
    code, document, err = status_json(root, tmp_path)
    assert code == 1
    (problem,) = stage_of(document, "web", "staging")["problems"]  # type: ignore[misc]
    assert (problem["code"], problem["file"], problem["line"]) == (
        NAME_INVALID,
        "pipelines/web/staging/evil.yaml",
        4,
    )
    assert "control character '\\n'" in problem["message"]
    assert [line for line in err.splitlines() if line] == [
        f"error: pipelines/web/staging/evil.yaml:4: {problem['message']} (stage web/staging)"
    ]
    assert stage_of(document, "web", "dev")["apps"]
    with pytest.raises(PromoterError, match="cannot be read"):
        plan_promotion(
            GitOpsRepo.open(root), ["nginx"], "dev", "staging", pipeline="web", render=False
        )
    assert any(
        f.file == "pipelines/web/staging/evil.yaml" and f.line == 4 for f in check(root).findings
    )
