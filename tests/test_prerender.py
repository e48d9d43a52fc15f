"""A promotion's target stage rendered from the cached discovery before the repository is
read (``promoter.prerender``, issue 15): adopted only when the real discovery agrees on the
directory and the Flux spec; otherwise killed unused, and the answer is the same."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

import promoter
from promoter import prerender, tempdirs
from promoter.errors import PromotionError
from promoter.kustomize import render
from promoter.publish import ChangeResult, PromotionRequest, PublishOptions, publish_change
from tests.builders.repos import flux_sync, simple_pipeline

pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The directories every render started in this test was asked to render, in order
    (the user cache in ``tmp_path``, so the status cache is the test's own)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    started: list[str] = []
    original = render.RenderJob.__init__

    def record(self: render.RenderJob, directory: Path, *args: object, **kwargs: object) -> None:
        started.append(str(directory))
        original(self, directory, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render.RenderJob, "__init__", record)
    return started


def dry_run(root: Path, pipeline: str | None = None) -> ChangeResult:
    request = PromotionRequest(["app"], "dev", "prod", pipeline)
    return publish_change(root, request, PublishOptions(changelog=False), "dry-run")


def leftovers() -> list[str]:
    return [p.name for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith("promoter-")]


def test_the_early_render_is_the_one_verification_uses(
    tmp_path: Path, kubectl: str, renders: list[str]
) -> None:
    """After a cached status, the dry run renders TO once as it is (started before the
    repository is read) and once edited: two renders, the same diff as without a cache."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    cold = dry_run(root)
    assert len(renders) == 2
    renders.clear()
    promoter.status(root, cache=True)
    warm = dry_run(root)
    assert renders[0] == str(root / "demo/prod")
    assert len(renders) == 2, renders
    assert warm.plan.rendered_diff == cold.plan.rendered_diff
    assert "+      - image: example.com/app:1.1.0" in (warm.plan.rendered_diff or "")
    assert leftovers() == []


def test_a_stage_moved_since_the_cache_is_rendered_where_it_is_now(
    tmp_path: Path, kubectl: str, renders: list[str]
) -> None:
    """The cached discovery has prod in demo/prod; it moved to live/prod since: the plan
    made from the cached discovery fails (its directory is gone), the check finds the
    change, and the plan is made again and verified by rendering live/prod."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    promoter.status(root, cache=True)
    (root / "live").mkdir()
    shutil.move(root / "demo/prod", root / "live/prod")
    (root / "live/prod/sync.yaml").write_text(
        flux_sync("demo-prod", "./live/prod", "demo", 1), encoding="utf-8"
    )
    result = dry_run(root)
    assert renders[0] == str(root / "demo/prod")  # the guess
    assert renders[-2] == str(root / "live/prod")
    assert renders[-1].endswith("/repo/live/prod") and "promoter-verify-" in renders[-1]
    diff = result.plan.rendered_diff or ""
    assert diff.startswith("--- live/prod (before)")
    assert "-      - image: example.com/app:1.0.0" in diff
    assert leftovers() == []


def test_a_changed_flux_spec_is_not_adopted(
    tmp_path: Path, kubectl: str, renders: list[str]
) -> None:
    """Same directory, but the Flux Kustomization now sets a target namespace: the plan
    made from the cached discovery (with the early render, without the namespace) is
    dropped with its two renders, and the plan made again renders twice with it.  Had the
    early render been used, verification would have compared objects without the
    namespace (before) with objects in it (after) and refused."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    promoter.status(root, cache=True)
    sync = root / "demo/prod/sync.yaml"
    text = sync.read_text(encoding="utf-8")
    sync.write_text(text.replace("  path:", "  targetNamespace: shop\n  path:", 1), "utf-8")
    result = dry_run(root)
    assert len(renders) == 4
    assert "+      - image: example.com/app:1.1.0" in (result.plan.rendered_diff or "")


def test_nothing_is_started_for_stages_several_pipelines_have(
    tmp_path: Path, kubectl: str, renders: list[str]
) -> None:
    """Without --pipeline, stage names two pipelines share are not guessed; with it, they
    are."""
    root = simple_pipeline(tmp_path / "repo")
    simple_pipeline(root, "other")
    promoter.status(root, cache=True)
    with prerender.prerendering(root, "dev", "prod", None):
        assert renders == []
    with prerender.prerendering(root, "dev", "prod", "other"):
        assert renders == [str(root.resolve() / "other/prod")]
    assert leftovers() == []


def test_nothing_is_started_without_a_cached_discovery(
    tmp_path: Path, kubectl: str, renders: list[str]
) -> None:
    root = simple_pipeline(tmp_path / "repo")
    with prerender.prerendering(root, "dev", "prod", "demo"):
        assert renders == []


def test_a_refused_plan_kills_the_early_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renders: list[str]
) -> None:
    """A render started early and never adopted (the plan is refused) is killed and its
    temporary files removed."""
    marker = tmp_path / "render.pid"
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir()
    tool.write_text(
        f"#!/bin/sh\necho $$ > {marker}.tmp\nmv {marker}.tmp {marker}\nexec sleep 300\n",
        encoding="utf-8",
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", str(tool))
    root = simple_pipeline(tmp_path / "repo", stages={"dev": (0, "1.0.0"), "prod": (1, "1.1.0")})
    promoter.status(root, cache=True)
    with pytest.raises(PromotionError, match="downgrade"):
        dry_run(root)
    assert renders[0] == str(root.resolve() / "demo/prod")
    assert leftovers() == []
    if marker.exists():  # the render got as far as starting: it is gone now
        assert not tempdirs.alive(int(marker.read_text(encoding="utf-8")))


def test_the_cli_starts_it_before_the_plan(
    tmp_path: Path, kubectl: str, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``promote --dry-run`` starts TO's render before publish_change runs, and prints the
    same plan as without a cached discovery."""
    from typer.testing import CliRunner

    from cli.main import promote_app
    from promoter import publish

    root = simple_pipeline(tmp_path / "repo").resolve()
    argv = ["app", "dev", "prod", "--repo", str(root), "--dry-run", "--no-changelog"]
    cold = CliRunner().invoke(promote_app, argv)
    assert cold.exit_code == 0, cold.output
    promoter.status(root, cache=True)
    renders.clear()
    seen: list[list[str]] = []
    original = publish.publish_change

    def spy(*args: object, **kwargs: object) -> ChangeResult:
        seen.append(list(renders))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "publish_change", spy)
    monkeypatch.setattr(promoter, "publish_change", spy, raising=False)
    warm = CliRunner().invoke(promote_app, argv)
    assert warm.exit_code == 0, warm.output
    assert seen == [[str(root / "demo/prod")]]
    assert len(renders) == 2
    assert warm.output == cold.output
