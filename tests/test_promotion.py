"""The planned promotion as a value (``promoter.promotion``): ``PromotionPlan.write`` applies
every edit atomically, ``FileEdit.diff`` is git-style."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import GitOpsRepo
from promoter.errors import PromotionError
from promoter.promotion import FileEdit
from tests.builders.plans import read_tree
from tests.builders.promotions import (
    NEW_PATCH,
    SMP,
    make,
    plan,
    stage_k,
)

# -- writing -------------------------------------------------------------------------------------


def test_write_applies_every_edit(tmp_path: Path) -> None:
    """write() puts every edit on disk (new files included) and returns their paths."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    result = plan(repo)
    assert result.write() == ("envs/prod/kustomization.yaml", "envs/prod/web-image.yaml")
    assert {p: t.decode() for p, t in read_tree(tmp_path).items() if p.startswith("envs/prod")} == {
        "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: web-image.yaml"),
        "envs/prod/web-image.yaml": NEW_PATCH,
    }
    assert plan(GitOpsRepo.open(tmp_path)).is_noop


@pytest.mark.parametrize("change", ["edit", "delete", "create"])
def test_write_refuses_when_a_file_changed_since_planning(tmp_path: Path, change: str) -> None:
    """A file edited, deleted or created after planning: write() raises and writes nothing."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    result = plan(repo)
    kustomization = tmp_path / "envs/prod/kustomization.yaml"
    if change == "edit":
        kustomization.write_text(stage_k("namePrefix: x-"), encoding="utf-8")
    elif change == "delete":
        kustomization.unlink()
    else:
        (tmp_path / "envs/prod/web-image.yaml").write_text("# mine\n", encoding="utf-8")
    before = read_tree(tmp_path)
    with pytest.raises(PromotionError, match="changed since the promotion was planned"):
        result.write()
    assert read_tree(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_write_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    """A file starting with a UTF-8 BOM keeps it."""
    bom = "\ufeff" + SMP.format("1.1.0")
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/prod/web.yaml": bom,
        },
    )
    plan(repo).write()
    assert (tmp_path / "envs/prod/web.yaml").read_text(encoding="utf-8") == bom.replace(
        "1.1.0", "1.2.0"
    )


def test_file_edit_diff_is_git_style() -> None:
    """A FileEdit's diff names a/ and b/ paths, /dev/null for a new file."""
    assert FileEdit("a.yaml", "x: 1\n", "x: 2\n").diff() == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1 +1 @@\n-x: 1\n+x: 2\n"
    )
    assert FileEdit("n.yaml", None, "x: 1\n").diff() == (
        "--- /dev/null\n+++ b/n.yaml\n@@ -0,0 +1 @@\n+x: 1\n"
    )
