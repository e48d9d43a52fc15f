"""Which other stages may read a stage's files (``promoter.readers.possible_readers``): the
shortcut must find every stage whose native build reads a file of the directory, as
building every stage does, however the kustomizations lead there (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import planner
from promoter.errors import PromotionError
from promoter.planner import plan_promotion
from promoter.readers import possible_readers
from promoter.repo import GitOpsRepo, status
from tests.builders.repos import deployment, flux_sync, kustomization, simple_pipeline, write

pytestmark = pytest.mark.usefixtures("temp")

OTHER = "other/t"


def other_stage(root: Path, *resources: str, extra: str = "", sync_extra: str = "") -> None:
    """A one-stage pipeline ``other`` at ``other/t`` with its own kustomization."""
    write(
        root,
        {
            f"{OTHER}/kustomization.yaml": kustomization(*resources, extra=extra),
            f"{OTHER}/sync.yaml": flux_sync("other-t", f"./{OTHER}", "other", 0,
                                            spec_extra=sync_extra),
        },
    )  # fmt: skip


def by_building(repo: GitOpsRepo, pipeline: str, name: str) -> set[tuple[str, str]]:
    """The full computation: every other stage whose build reads a file of the directory."""
    stage = repo.stage(pipeline, name)
    prefix = f"{stage.path}/"
    return {
        (s.pipeline, s.name)
        for p in repo.pipelines
        for s in p.stages
        if s != stage and any(f.startswith(prefix) for f in repo.stage_files(s))
    }


def shortcut(repo: GitOpsRepo, pipeline: str, name: str) -> set[tuple[str, str]]:
    return {(s.pipeline, s.name) for s in possible_readers(repo, repo.stage(pipeline, name))}


def layouts(root: Path, layout: str) -> None:
    """``demo`` (dev 1.1.0 -> prod 1.0.0) and, per ``layout``, a stage reading prod's files."""
    simple_pipeline(root, "demo")
    shared = {
        "shared/app/kustomization.yaml": kustomization("deployment.yaml"),
        "shared/app/deployment.yaml": deployment("app", "example.com/app:0.9.0"),
    }
    write(root, shared)
    if layout == "none":
        other_stage(root, "../../shared/app")
    elif layout == "resources":
        other_stage(root, "../../demo/prod")
    elif layout == "unnormalised":
        other_stage(root, "../../demo/./dev/../prod")
    elif layout == "ancestor-patch":
        # demo/kustomization.yaml patches with prod's file; the other stage builds demo.
        write(root, {"demo/kustomization.yaml": kustomization(
            "../shared/app", extra="patches:\n  - path: prod/deployment.yaml\n")})  # fmt: skip
        other_stage(root, "../../demo")
    elif layout == "chain":
        write(root, {"middle/kustomization.yaml": kustomization("../demo/prod")})
        other_stage(root, "../../middle")
    elif layout == "flux-components":
        write(root, {"demo/prod/extra/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            "images:\n  - name: example.com/app\n    newTag: from-prod\n")})  # fmt: skip
        other_stage(root, "../../shared/app", sync_extra="components:\n  - ../../demo/prod/extra")
    elif layout == "flux-file":  # other/t's Flux Kustomization is written in prod's directory
        other_stage(root, "../../shared/app", sync_extra="targetNamespace: other")
        (root / OTHER / "sync.yaml").rename(root / "demo/prod/other-sync.yaml")
    else:
        raise AssertionError(layout)


LAYOUTS = [
    "none",
    "resources",
    "unnormalised",
    "ancestor-patch",
    "chain",
    "flux-components",
    "flux-file",
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_shortcut_finds_every_stage_that_building_finds(tmp_path: Path, layout: str) -> None:
    """Every stage whose build reads a file of prod's directory is a candidate."""
    layouts(tmp_path, layout)
    repo = GitOpsRepo.open(tmp_path)
    full = by_building(GitOpsRepo.open(tmp_path), "demo", "prod")
    assert (layout != "none") == (full == {("other", "t")})
    assert full <= shortcut(repo, "demo", "prod")
    if layout in {"none", "chain"}:  # and no more than the stages a chain leads from
        assert shortcut(repo, "demo", "prod") == full
    assert shortcut(repo, "demo", "dev") >= by_building(GitOpsRepo.open(tmp_path), "demo", "dev")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_promotion_refuses_as_with_every_stage_built(
    tmp_path: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The promotion into prod gives the same answer with the shortcut as with every other
    stage built: it goes ahead alone, or it is refused naming the other stage."""

    def outcome() -> str:
        try:
            plan = plan_promotion(GitOpsRepo.open(tmp_path), "app", "dev", "prod", render=False)
        except PromotionError as exc:
            return str(exc)
        return repr([(c.file, c.line, c.how) for c in plan.changes])

    layouts(tmp_path, layout)
    fast = outcome()
    monkeypatch.setattr(
        planner,
        "possible_readers",
        lambda repo, stage: [s for p in repo.pipelines for s in p.stages if s != stage],
    )
    assert fast == outcome()
    assert ("would also change other/t" in fast) == (
        layout in {"resources", "unnormalised", "chain"}
    )
    if layout == "ancestor-patch":  # the line in place would change other/t: an override
        assert fast == "[('demo/prod/app-image.yaml', 0, 'new-patch')]"


def test_a_stale_status_cache_changes_nothing(tmp_path: Path) -> None:
    """After a cached status, a kustomization added that reads prod is found: the shortcut
    reads the files as they are, never the cache."""
    layouts(tmp_path, "none")
    status(tmp_path, cache=True)
    assert shortcut(GitOpsRepo.open(tmp_path, cache=True), "demo", "prod") == set()
    write(tmp_path, {f"{OTHER}/kustomization.yaml": kustomization("../../demo/prod")})
    repo = GitOpsRepo.open(tmp_path, cache=True)
    assert shortcut(repo, "demo", "prod") == {("other", "t")} == by_building(repo, "demo", "prod")


@pytest.mark.parametrize(
    "entry",
    ["../../.hidden/prod-reader", "../../node_modules/prod-reader", '"../../demo/\\x70rod"'],
)
def test_what_a_walk_cannot_see_makes_every_stage_a_candidate(tmp_path: Path, entry: str) -> None:
    """A kustomization naming a hidden or vendored directory (walks skip them), or a path
    spelled with escapes, leaves every other stage a candidate."""
    layouts(tmp_path, "none")
    hidden = entry.strip('"').replace("../../", "")
    write(tmp_path, {f"{hidden}/kustomization.yaml": kustomization("../../demo/prod")})
    other_stage(tmp_path, entry)
    repo = GitOpsRepo.open(tmp_path)
    assert ("other", "t") in shortcut(repo, "demo", "prod")
    assert by_building(GitOpsRepo.open(tmp_path), "demo", "prod") <= shortcut(repo, "demo", "prod")
