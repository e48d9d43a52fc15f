"""Nothing outside the repository is read or copied (issue 11): links out are skipped by
discovery and refused by builds, and the verification copy takes only the stage's files."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promoter.planner import plan_promotion
from promoter.repo import GitOpsRepo, status
from promoter.tree import DiskSource
from tests.builders.plans import example_copy

SECRET = "s3cr3t-value-outside-the-repository"
FLUX = f"""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: leak
  labels:
    pipelines.weave.works/name: {SECRET}
    pipelines.weave.works/stage: "1"
spec:
  path: ./pipelines/web/dev
"""

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Every path opened by this process while the test runs (a Python audit hook)."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the repository holding a secret Flux Kustomization."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.yaml").write_text(FLUX, encoding="utf-8")
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the example GitOps repository."""
    return example_copy(tmp_path / "repo")


def test_discovery_skips_links_out(root: Path, outside: Path, opened: list[str]) -> None:
    """A ``*.yaml`` link to a file outside the repository, and a directory link out, are
    not read: the secret appears nowhere and no outside file is opened."""
    (root / "leak.yaml").symlink_to(outside / "secret.yaml")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    result = status(root)
    assert SECRET not in repr(result)
    assert [p for p in opened if p.startswith(str(outside))] == []
    assert "leak.yaml" not in DiskSource(root).files()


def test_link_inside_the_repository_is_followed(root: Path) -> None:
    """A link to another file inside the repository is read like that file."""
    (root / "copy.yaml").symlink_to(root / "pipelines/web/dev/sync.yaml")
    source = DiskSource(root)
    assert "copy.yaml" in source.files()
    assert (root / "pipelines/web/dev/sync.yaml").read_bytes() == source.read_bytes("copy.yaml")


def test_stage_file_linked_out_is_refused(root: Path, outside: Path, opened: list[str]) -> None:
    """A stage's patch that is a link out of the repository: that stage's error, unread."""
    patch = root / "pipelines/web/staging/nginx-tag.yaml"
    patch.unlink()
    patch.symlink_to(outside / "secret.yaml")
    repo = GitOpsRepo.open(root)
    found = repo.stage_status(repo.stage("web", "staging"))
    assert found.error is not None
    assert "leaves the repository" in found.error
    assert [p for p in opened if p.startswith(str(outside))] == []


def test_verification_copies_only_the_stage_files(
    root: Path, outside: Path, tmp_path: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the copy of the stage's files cannot be rendered, the fallback copies the
    regular files of the directories the stage reads: never a link out, never through a
    link loop, never a large unrelated tree (the secret is not copied)."""
    (root / "pipelines/web/staging/loop").symlink_to(".", target_is_directory=True)
    (root / "pipelines/web/staging/outside").symlink_to(outside, target_is_directory=True)
    (root / "pipelines/web/staging/zero.yaml").symlink_to("/dev/zero")
    listing = tmp_path / "listing"
    flag = tmp_path / "failed-once"
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir()
    tool.write_text(
        "#!/bin/sh\n"
        'case "$2" in */promoter-verify-*/repo/*)\n'
        '  find "${2%%/repo/*}/repo" >> ' + str(listing) + "\n"
        "  if [ ! -e " + str(flag) + " ]; then touch " + str(flag) + "; exit 1; fi;;\n"
        "esac\n"
        f'exec {kubectl} kustomize "$2"\n',
        encoding="utf-8",
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", str(tool))
    repo = GitOpsRepo.open(root)
    plan = plan_promotion(repo, ["nginx"], "dev", "staging", pipeline="web", render=True)
    assert plan.rendered_diff
    copied = listing.read_text(encoding="utf-8").splitlines()
    assert flag.exists()
    assert not [p for p in copied if "secret" in p or "/loop/" in p or "zero.yaml" in p]
    assert len(copied) < 40
