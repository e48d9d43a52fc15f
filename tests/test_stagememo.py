"""The history walk's stage memo (promoter.stagememo) never answers with a stale read: every
history here is walked with and without it and must be the same, entry by entry; reverts
are answered from it.  Plain kustomize directories declared in promoter.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promoter import history
from promoter.history import HistoryEntry, read_history
from promoter.repo import GitOpsRepo
from tests.builders.git import git
from tests.builders.history import dated, environment

pytestmark = pytest.mark.usefixtures("temp")

DECLARATION = """\
pipelines:
  - name: shop
    stages:
      - name: dev
        path: apps/dev
      - name: prod
        path: apps/prod
"""
SWAPPED = (
    DECLARATION.replace("path: apps/dev", "path: apps/PROD")
    .replace("path: apps/prod", "path: apps/dev")
    .replace("apps/PROD", "apps/prod")
)


def deployment(name: str, tag: str) -> str:
    """A Deployment ``name`` running image ``name:tag``."""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: {name}\n          image: {name}:{tag}\n"
    )


def kustomization(tag: str, *resources: str) -> str:
    """A stage's kustomization: ``deploy.yaml`` and ``resources``, shop's tag by ``images:``."""
    listed = "".join(f"  - {r}\n" for r in ("deploy.yaml", *resources))
    return f"resources:\n{listed}images:\n  - name: shop\n    newTag: {tag}\n"


Change = dict[str, str | None]
"""Repo-relative path -> new text; None deletes; ``"-> target"`` makes a symlink."""


def save(root: Path, files: Change, day: int) -> str:
    """Apply and commit ``files`` on day ``day``; the commit's sha."""
    for rel, text in files.items():
        path = root / rel
        if path.is_symlink() or path.exists():
            path.unlink()
        if text is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("-> "):
            path.symlink_to(text[3:])
        else:
            path.write_text(text, encoding="utf-8")
    git("add", "-A", cwd=root)
    with environment(dated(f"2025-03-01T{day // 60:02}:{day % 60:02}:00+00:00")):
        git("commit", "-q", "--allow-empty", "-m", f"step {day}", cwd=root)
    return git("rev-parse", "HEAD", cwd=root)


def repository(root: Path, changes: list[Change]) -> list[str]:
    """A repository with two stages at 1.0.0, then ``changes``, one commit each."""
    root.mkdir()
    git("init", "-q", "--initial-branch=main", cwd=root)
    first: Change = {"promoter.yaml": DECLARATION}
    for stage in ("dev", "prod"):
        first[f"apps/{stage}/kustomization.yaml"] = kustomization("1.0.0")
        first[f"apps/{stage}/deploy.yaml"] = deployment("shop", "0.0.0")
    return [save(root, change, day) for day, change in enumerate([first, *changes])]


def walked(root: Path, monkeypatch: pytest.MonkeyPatch, *, memo: bool, **kw: Any) -> Any:
    """The history (entries with the app state and subject) and how many stage reads
    were built, with or without the memo."""
    builds: list[str] = []
    original = GitOpsRepo.stage_status

    def counting(self: GitOpsRepo, stage: Any, *, render: bool = False) -> Any:
        builds.append(stage.name)
        return original(self, stage, render=render)

    with monkeypatch.context() as patched:
        patched.setattr(GitOpsRepo, "stage_status", counting)
        patched.setattr(history, "_MEMO", memo)
        entries: list[HistoryEntry] = read_history(root, **kw)
    return [(e, e.state, e.subject) for e in entries], len(builds)


def rows(root: Path, shas: list[str], **kw: Any) -> list[tuple[Any, ...]]:
    """Entries as (commit number, stage, app, old, new)."""
    return [
        (shas.index(e.commit), e.stage, e.app, e.old_version, e.new_version)
        for e in read_history(root, **kw)
    ]


def test_a_revert_is_answered_from_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed back and forth: the same history with the memo as without, and the
    stage is not built again when it is back to a state read before."""
    root = tmp_path / "repo"
    shas = repository(
        root,
        [
            {"apps/dev/kustomization.yaml": kustomization("1.1.0")},
            {"apps/dev/kustomization.yaml": kustomization("1.0.0")},
            {"apps/dev/kustomization.yaml": kustomization("1.1.0")},
        ],
    )
    with_memo, built = walked(root, monkeypatch, memo=True)
    without, built_without = walked(root, monkeypatch, memo=False)
    assert (with_memo, built, built_without) == (without, 3, 5)
    assert rows(root, shas)[2:] == [
        (1, "dev", "shop", "1.0.0", "1.1.0"),
        (2, "dev", "shop", "1.1.0", "1.0.0"),
        (3, "dev", "shop", "1.0.0", "1.1.0"),
    ]


def test_files_read_or_lying_in_a_built_directory_come_and_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resource file removed and restored, a second kustomization file next to the first
    (not read, yet the build fails) while the stage goes back to an earlier state, a file
    made a symlink and back: the same history with the memo as without."""
    root = tmp_path / "repo"
    cart = "apps/dev/cart.yaml"
    second = "apps/dev/kustomization.yml"
    shas = repository(
        root,
        [
            {
                "apps/dev/kustomization.yaml": kustomization("1.0.0", "cart.yaml"),
                cart: deployment("cart", "1"),
            },
            {cart: None},  # read but missing: the stage fails
            {cart: deployment("cart", "1")},  # as two commits ago
            {cart: deployment("cart", "2")},
            {cart: deployment("cart", "1"), second: kustomization("9.9.9")},  # fails
            {second: None},  # as three commits ago: cart 2 -> 1 here
            {cart: "-> ../prod/deploy.yaml"},  # a symlink: its text is not a manifest
            {cart: deployment("cart", "1")},
            {cart: "../prod/deploy.yaml"},  # the same blob as the symlink, a plain file
            {cart: deployment("cart", "3")},
        ],
    )
    with_memo, built = walked(root, monkeypatch, memo=True)
    without, built_without = walked(root, monkeypatch, memo=False)
    assert with_memo == without
    assert built < built_without
    assert rows(root, shas)[2:] == [
        (1, "dev", "cart", None, "1"),
        (4, "dev", "cart", "1", "2"),
        (6, "dev", "cart", "2", "1"),
        (10, "dev", "cart", "1", "3"),
    ]


def test_a_stage_declared_elsewhere_is_not_answered_from_its_old_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promoter.yaml swapping the stages' directories (each commit's own declaration) and
    swapping them back: the same history with the memo as without."""
    root = tmp_path / "repo"
    shas = repository(
        root,
        [
            {"apps/prod/kustomization.yaml": kustomization("2.0.0")},
            {"promoter.yaml": SWAPPED},
            {"promoter.yaml": DECLARATION},
        ],
    )
    with_memo, _ = walked(root, monkeypatch, memo=True, declaration="as-of-commit")
    without, _ = walked(root, monkeypatch, memo=False, declaration="as-of-commit")
    assert with_memo == without
    assert rows(root, shas, declaration="as-of-commit")[2:] == [
        (1, "prod", "shop", "1.0.0", "2.0.0"),
        (2, "dev", "shop", "1.0.0", "2.0.0"),
        (2, "prod", "shop", "2.0.0", "1.0.0"),
        (3, "dev", "shop", "2.0.0", "1.0.0"),
        (3, "prod", "shop", "1.0.0", "2.0.0"),
    ]
