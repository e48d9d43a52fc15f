"""The verifying render copies exactly the files the stage's render reads (issue 10 §6):
what the native build read, plus generator sources, patches and bases kustomize reads; never
an unrelated tree below the stage's directories.  ``kubectl kustomize`` is the oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.kustomize.references import stage_reads
from promoter.planner import plan_promotion
from promoter.repo import GitOpsRepo
from promoter.tree import DiskSource

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
          envFrom:
            - configMapRef:
                name: shop-config
"""


def overlay(tag: str) -> str:
    """A stage overlay: the base, a secret from an env file, a patch file, its tag."""
    return f"""\
resources:
  - ../../base/shop
secretGenerator:
  - name: shop-secret
    envs:
      - secrets/app.env
patches:
  - path: patches/replicas.yaml
images:
  - name: shop
    newTag: {tag}
"""


REPLICAS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 2
"""

NEEDED = {
    "base/shop/kustomization.yaml",
    "base/shop/deploy.yaml",
    "base/shop/config/app.properties",
    "envs/prod/kustomization.yaml",
    "envs/prod/secrets/app.env",
    "envs/prod/patches/replicas.yaml",
}


def write(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (repo-relative path -> text) under ``root``."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two stages over a base with a configMapGenerator reading a file in a subdirectory,
    each with a secret from an env file and a patch file; hundreds of unrelated files sit
    below the base and the stage directories."""
    root = tmp_path / "repo"
    files = {
        "promoter.yaml": "pipelines:\n  - name: shop\n    stages:\n"
        "      - path: envs/dev\n      - path: envs/prod\n",
        "base/shop/kustomization.yaml": "resources:\n  - deploy.yaml\nconfigMapGenerator:\n"
        "  - name: shop-config\n    files:\n      - app.properties=config/app.properties\n",
        "base/shop/deploy.yaml": DEPLOY,
        "base/shop/config/app.properties": "color=blue\n",
    }
    for env, tag in (("dev", "1.1.0"), ("prod", "1.0.0")):
        files[f"envs/{env}/kustomization.yaml"] = overlay(tag)
        files[f"envs/{env}/secrets/app.env"] = f"TOKEN={env}-not-a-secret\n"
        files[f"envs/{env}/patches/replicas.yaml"] = REPLICAS
    for n in range(150):
        files[f"base/shop/docs/page{n}.yaml"] = f"page: {n}\n"
        files[f"envs/prod/archive/old{n}/kustomization.yaml"] = "resources: []\n"
    write(root, files)
    return root


def test_stage_reads_are_what_kustomize_reads(root: Path) -> None:
    """The set starts from the native build and adds generator sources, env files, patches
    and bases, nothing else."""
    repo = GitOpsRepo.open(root)
    stage = repo.stage("shop", "prod")
    assert stage_reads(DiskSource(root), repo.stage_files(stage), stage.path) == NEEDED
    assert stage_reads(DiskSource(root), (), stage.path) == NEEDED


def test_verification_renders_a_minimal_copy(
    root: Path, tmp_path: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promote --dry-run's verifying render works on the first copy, which holds exactly
    the files kustomize reads (not the hundreds of unrelated ones)."""
    listing = tmp_path / "listing"
    renders = tmp_path / "renders"
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir()
    tool.write_text(
        "#!/bin/sh\n"
        'case "$2" in */promoter-verify-*/repo/*)\n'
        f"  echo render >> {renders}\n"
        '  (cd "${2%%/repo/*}/repo" && find . -type f) >> ' + str(listing) + "\n"
        "esac\n"
        f'exec {kubectl} kustomize "$2"\n',
        encoding="utf-8",
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", str(tool))
    repo = GitOpsRepo.open(root)
    plan = plan_promotion(repo, ["shop"], "dev", "prod", pipeline="shop", render=True)
    assert "-        image: shop:1.0.0" in plan.rendered_diff
    assert "+        image: shop:1.1.0" in plan.rendered_diff
    assert renders.read_text(encoding="utf-8").split() == ["render"]
    copied = {line.removeprefix("./") for line in listing.read_text(encoding="utf-8").split()}
    assert copied == NEEDED


def test_names_that_leave_the_repository_are_not_followed(root: Path, tmp_path: Path) -> None:
    """A generator source or resource named outside the repository, or through a link out,
    is not in the set (kustomize refuses it; nothing outside is ever copied)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text("TOKEN=outside\n", encoding="utf-8")
    (root / "envs/prod/linked").symlink_to(outside, target_is_directory=True)
    kustomization = root / "envs/prod/kustomization.yaml"
    text = kustomization.read_text(encoding="utf-8").replace(
        "      - secrets/app.env\n",
        "      - secrets/app.env\n      - ../../../outside/secret.env\n"
        "      - linked/secret.env\n      - /etc/passwd\n",
    )
    kustomization.write_text(text, encoding="utf-8")
    found = stage_reads(DiskSource(root), (), "envs/prod")
    assert found == NEEDED
