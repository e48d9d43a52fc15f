"""A promotion in the working tree planned from the last status's discovery before that is
checked (``promoter.guess``, ``promoter.publish.plan_in_tree``, issue 15): the check runs
while kustomize renders the edits, and nothing made from a discovery that changed is
shown: the answer is always the one a plan from a fresh discovery gives."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import promoter
from promoter import guess, statuscache
from promoter.kustomize import render
from promoter.publish import ChangeResult, PromotionRequest, PublishOptions, publish_change
from tests.builders.repos import flux_sync, simple_pipeline

pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """What happened, in order: ``render DIR`` for each render started, ``check True`` or
    ``check False`` for each check of a cached discovery that ran, ``wait`` for each wait
    for a render (the status cache in ``tmp_path``)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    seen: list[str] = []
    start, result, check = (
        render.RenderJob.__init__,
        render.RenderJob.result,
        statuscache.Guess.check,
    )

    def started(self: render.RenderJob, directory: Path, *args: object, **kwargs: object) -> None:
        seen.append(f"render {directory}")
        start(self, directory, *args, **kwargs)  # type: ignore[arg-type]

    def waited(self: render.RenderJob) -> str:
        seen.append("wait")
        return result(self)

    def checked(self: statuscache.Guess) -> bool:
        answer = check(self)
        seen.append(f"check {answer}")
        return answer

    monkeypatch.setattr(render.RenderJob, "__init__", started)
    monkeypatch.setattr(render.RenderJob, "result", waited)
    monkeypatch.setattr(statuscache.Guess, "check", checked)
    return seen


def age(root: Path) -> None:
    """Date every file and directory of ``root`` a minute back, so that what the status
    cache records is not racy (written in the instant of the run)."""
    past = time.time() - 60
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.utime(Path(directory) / name, (past, past), follow_symlinks=False)
    os.utime(root, (past, past))


def dry_run(root: Path, app: str = "app") -> ChangeResult:
    request = PromotionRequest([app], "dev", "prod")
    return publish_change(root, request, PublishOptions(changelog=False), "dry-run")


def test_the_check_runs_after_the_edited_render_started(
    tmp_path: Path, kubectl: str, events: list[str]
) -> None:
    """Nothing changed since the status: both renders start before the check (which says
    True), the check runs before the first wait for kustomize, and the answer is the one
    of a plan without any cache."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    cold = dry_run(root)
    age(root)
    promoter.status(root, cache=True)
    events.clear()
    warm = dry_run(root)
    renders = [e for e in events if e.startswith("render")]
    assert len(renders) == 2, events
    assert events.index("check True") > events.index(renders[1])
    assert events.index("check True") < events.index("wait")
    assert warm.plan.edits == cold.plan.edits
    assert warm.plan.rendered_diff == cold.plan.rendered_diff


def test_an_edit_outside_the_discovery_keeps_the_plan(
    tmp_path: Path, kubectl: str, events: list[str]
) -> None:
    """A file changed since the status, but discovering again finds exactly what was
    recorded: the check fails, the plan made meanwhile (which read the file as it is now)
    is the answer, and it is not made twice."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    age(root)
    promoter.status(root, cache=True)
    deployment = root / "demo/prod/deployment.yaml"
    deployment.write_text(
        deployment.read_text(encoding="utf-8").replace("app:1.0.0", "app:0.9.0"), "utf-8"
    )
    events.clear()
    result = dry_run(root)
    assert "check False" in events
    assert len([e for e in events if e.startswith("render")]) == 2, events
    assert "-          image: example.com/app:0.9.0" in result.plan.edits[0].diff()
    assert "+          image: example.com/app:1.1.0" in result.plan.edits[0].diff()


def test_a_new_stage_since_the_status_is_planned_again(
    tmp_path: Path, kubectl: str, events: list[str]
) -> None:
    """A pipeline added since the status makes the stage names ambiguous: the plan from
    the recorded discovery would have gone ahead, the check fails, discovering again finds
    more, and the answer is the fresh plan's refusal."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    age(root)
    promoter.status(root, cache=True)
    simple_pipeline(root, "other")
    with pytest.raises(promoter.PromoterError, match=r"several pipelines \(demo, other\)"):
        dry_run(root)
    assert "check False" in events


def test_a_plan_from_a_changed_discovery_is_never_written(
    tmp_path: Path, kubectl: str, events: list[str]
) -> None:
    """prod's Flux Kustomization now reconciles shadow/prod (a copy at 0.9.0); demo/prod
    is still there, so the plan made from the recorded discovery goes through (it would
    edit demo/prod).  ``--write`` writes only the plan made again: shadow/prod."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    age(root)
    promoter.status(root, cache=True)
    shutil.copytree(root / "demo/prod", root / "shadow/prod")
    (root / "shadow/prod/sync.yaml").unlink()
    live = root / "shadow/prod/deployment.yaml"
    live.write_text(live.read_text(encoding="utf-8").replace("app:1.0.0", "app:0.9.0"), "utf-8")
    sync = root / "demo/prod/sync.yaml"
    sync.write_text(flux_sync("demo-prod", "./shadow/prod", "demo", 1), encoding="utf-8")
    prod_before = (root / "demo/prod/deployment.yaml").read_bytes()
    events.clear()
    request = PromotionRequest(["app"], "dev", "prod")
    result = publish_change(root, request, PublishOptions(changelog=False), "write")
    assert "check False" in events
    renders = [e.removeprefix("render ") for e in events if e.startswith("render")]
    assert [r.endswith("/demo/prod") for r in renders] == [True, True, False, False], renders
    assert [e.path for e in result.plan.edits] == ["shadow/prod/deployment.yaml"]
    assert "image: example.com/app:1.1.0" in live.read_text(encoding="utf-8")
    assert (root / "demo/prod/deployment.yaml").read_bytes() == prod_before


def test_an_error_from_a_checked_discovery_is_the_answer(
    tmp_path: Path, kubectl: str, events: list[str]
) -> None:
    """An app that does not exist, nothing changed: the error of the plan from the
    recorded discovery is raised once the check says it holds, without planning again."""
    root = simple_pipeline(tmp_path / "repo").resolve()
    age(root)
    promoter.status(root, cache=True)
    events.clear()
    with pytest.raises(promoter.PromoterError, match="nosuch"):
        dry_run(root, app="nosuch")
    assert events.count("check True") == 1


def test_check_meanwhile_runs_what_is_pending_once() -> None:
    """``check_meanwhile`` runs the checks registered by ``unchecked`` (each remembers its
    answer), and none outside."""
    calls: list[str] = []

    def check() -> bool:
        calls.append("check")
        return True

    guess.check_meanwhile()
    assert calls == []
    with guess.unchecked(check):
        guess.check_meanwhile()
    guess.check_meanwhile()
    assert calls == ["check"]
