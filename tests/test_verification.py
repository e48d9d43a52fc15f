"""The kustomize verification of a promotion (``promoter.verification``): its renders run
in the background while the plan is made, and whatever happens to the plan none outlives
it (issue 15)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from promoter import changelog, tempdirs
from promoter.changelog import Changelog
from promoter.errors import PromotionError
from promoter.planner import plan_promotion
from promoter.promotion import PromotionPlan
from promoter.publish import PromotionRequest, PublishOptions, publish_change
from promoter.repo import GitOpsRepo
from tests.builders.repos import simple_pipeline

pytestmark = pytest.mark.usefixtures("temp")


def hanging_renderer(tmp_path: Path) -> tuple[Path, Path]:
    """A fake ``kustomize`` that records its pid in a marker file and then hangs."""
    marker = tmp_path / "render.pid"
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir(exist_ok=True)
    script = f"#!/bin/sh\necho $$ > {marker}.tmp\nmv {marker}.tmp {marker}\nexec sleep 300\n"
    tool.write_text(script, encoding="utf-8")
    tool.chmod(0o755)
    return tool, marker


def leftovers() -> list[str]:
    return [p.name for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith("promoter-")]


def test_a_refused_plan_kills_the_render_started_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TO's render starts with the planning; when the plan is refused (a downgrade) the
    render is killed and its temporary directory removed, nothing waits for it."""
    tool, marker = hanging_renderer(tmp_path)
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", str(tool))
    root = simple_pipeline(tmp_path / "repo", stages={"dev": (0, "1.0.0"), "prod": (1, "1.1.0")})
    with pytest.raises(PromotionError, match="downgrade"):
        plan_promotion(GitOpsRepo.open(root), "app", "dev", "prod", render=True)
    assert leftovers() == []
    if marker.exists():  # the render got as far as starting: it is gone now
        assert not tempdirs.alive(int(marker.read_text(encoding="utf-8")))


def test_without_render_nothing_is_started(
    tmp_path: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``render=False`` starts no render at all, even with kustomize at hand."""
    started: list[str] = []
    monkeypatch.setattr(
        GitOpsRepo, "start_render", lambda self, stage, root=None: started.append(stage.name)
    )
    root = simple_pipeline(tmp_path / "repo")
    plan = plan_promotion(GitOpsRepo.open(root), "app", "dev", "prod", render=False)
    assert plan.rendered_diff is None
    assert started == []
    assert leftovers() == []


def test_changelog_is_collected_while_kustomize_verifies(
    tmp_path: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The changelog is asked with the plan as soon as its edits are made (no rendered diff
    yet); the dry run's plan has both the changelog and kustomize's diff."""
    seen: list[str | None] = []

    def fake(plan: PromotionPlan, **_: object) -> PromotionPlan:
        seen.append(plan.rendered_diff)
        return replace(plan, changelog=Changelog(()))

    monkeypatch.setattr(changelog, "plan_with_changelog", fake)
    root = simple_pipeline(tmp_path / "repo")
    result = publish_change(root, PromotionRequest(["app"], "dev", "prod"), PublishOptions(),
                            "dry-run")  # fmt: skip
    assert seen == [None]
    assert result.plan.changelog == Changelog(())
    assert result.plan.rendered_diff is not None
    assert "+      - image: example.com/app:1.1.0" in result.plan.rendered_diff
    assert leftovers() == []
