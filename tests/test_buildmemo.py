"""Build steps remembered within a ``history`` walk (``promoter.kustomize.buildmemo``,
issue 15): the same objects go through a step once (merges, namespace and labels, images,
the app read out), the answer is the step's own, and a history read with the memo equals
one read without it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from promoter._yaml import parse_text
from promoter.history import read_history
from promoter.kustomize import Resource, buildmemo, smp
from promoter.model import App
from promoter.repo import GitOpsRepo
from promoter.tree import DiskSource
from tests.builders.history import Story, shared_story
from tests.builders.repos import deployment, flux_sync, kustomization, write

pytestmark = pytest.mark.usefixtures("temp")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25.0
        - name: sidecar
          image: envoy:1.0
"""
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.26.0
"""


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many merges were really made (not answered from a memo)."""
    count: list[int] = []
    original = smp._merge

    def counted(*args: object) -> object:
        count.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(smp, "_merge", counted)
    return count


def merge_twice() -> tuple[object, object]:
    dest = parse_text(DEPLOYMENT, "base/web.yaml")[0]
    patch = parse_text(PATCH, "dev/web.yaml", "patch")[0]
    first = smp.merge(dest, patch, kind="Deployment", builtin=True, mech="patch", keep_id=True)
    again = smp.merge(dest, patch, kind="Deployment", builtin=True, mech="patch", keep_id=True)
    return first, again


def test_inside_remembering_the_same_merge_is_made_once(made: list[int]) -> None:
    """The second merge of the very same objects is the first one's answer; other options
    or other objects are merged again."""
    with buildmemo.remembering():
        first, again = merge_twice()
        assert again is first
        assert len(made) == 1
        dest = parse_text(DEPLOYMENT, "base/web.yaml")[0]
        patch = parse_text(PATCH, "dev/web.yaml", "patch")[0]
        smp.merge(dest, patch, kind="Deployment", builtin=False, mech="patch", keep_id=True)
        assert len(made) == 2
    containers = first["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
    assert [c["image"] for c in containers] == ["nginx:1.26.0", "envoy:1.0"]
    assert containers[0].origin("image").file == "dev/web.yaml"


def test_outside_remembering_nothing_is_kept(made: list[int]) -> None:
    """Without ``remembering`` (status, promote), every merge is made: equal answers,
    separate objects, no memo holding them."""
    first, again = merge_twice()
    assert first == again and first is not again
    assert len(made) == 2
    assert buildmemo.current() is None


def test_a_full_memo_starts_again(monkeypatch: pytest.MonkeyPatch, made: list[int]) -> None:
    """At its limit the memo is emptied, not grown."""
    monkeypatch.setattr(buildmemo, "_LIMIT", 1)
    with buildmemo.remembering():
        merge_twice()
        memo = buildmemo.current()
        assert memo is not None and len(memo) == 1
        merge_twice()
        assert len(memo) == 1
    assert len(made) == 2


def test_history_with_the_memo_is_history_without_it(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, made: list[int]
) -> None:
    """The history story read with the memo (where some merges are answered from it) and
    with the memo switched off give the same entries."""
    story: Story = shared_story(tmp_path_factory)
    asked: list[int] = []
    current = buildmemo.current

    def counted() -> buildmemo.Memo | None:
        asked.append(1)
        return current()

    monkeypatch.setattr(buildmemo, "current", counted)
    made.clear()  # building the story merged too
    remembered = read_history(story.ops.work)
    assert len(made) < len(asked)  # answered from the memo

    @contextlib.contextmanager
    def off() -> Iterator[None]:
        yield

    monkeypatch.setattr(buildmemo, "remembering", off)
    assert read_history(story.ops.work) == remembered


def test_a_history_is_walked_with_the_memo(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HistoryWalker.walk`` walks inside ``remembering`` (seen from each merge made
    while it walks)."""
    story: Story = shared_story(tmp_path_factory)
    seen: list[bool] = []
    original = smp._merge

    def watching(*args: object) -> object:
        seen.append(buildmemo.current() is not None)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(smp, "_merge", watching)
    read_history(story.ops.work)
    assert seen and all(seen)


def stage_repo(root: Path) -> Path:
    """One stage of two Deployments, each with its own patch; the kustomization sets a
    namespace, labels and an image."""
    extra = """
        namespace: shop
        labels:
          - pairs:
              team: blue
        images:
          - name: example.com/app
            newTag: 2.0.0
        patches:
          - path: app-replicas.yaml
          - path: web-replicas.yaml
    """
    return write(
        root,
        {
            "demo/dev/kustomization.yaml": kustomization("app.yaml", "web.yaml", extra=extra),
            "demo/dev/app.yaml": deployment("app", "example.com/app:1.0.0"),
            "demo/dev/web.yaml": deployment("web", "example.com/web:1.0.0"),
            "demo/dev/app-replicas.yaml": replicas("app", 2),
            "demo/dev/web-replicas.yaml": replicas("web", 2),
            "demo/dev/sync.yaml": flux_sync("demo-dev", "./demo/dev", "demo", 0),
        },
    )


def replicas(name: str, count: int) -> str:
    head = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
    return f"{head}  name: {name}\nspec:\n  replicas: {count}\n"


def rebuilt(root: Path) -> tuple[list[Resource], list[Resource], list[App], list[App]]:
    """The stage's objects and apps, then again after web's patch changed (a new commit
    of a walk): app's objects went through the same steps again."""
    repo = GitOpsRepo.open(root)
    (stage,) = repo.pipelines[0].stages
    first, first_apps = list(repo.build(stage).resources), list(repo.stage_status(stage).apps)
    write(root, {"demo/dev/web-replicas.yaml": replicas("web", 3)})
    again = repo.with_source(DiskSource(root.resolve()), {"demo/dev/web-replicas.yaml"})
    second, second_apps = list(again.build(stage).resources), list(again.stage_status(stage).apps)
    write(root, {"demo/dev/web-replicas.yaml": replicas("web", 2)})
    return first, second, first_apps, second_apps


def test_a_stage_built_again_in_a_walk_is_made_of_the_same_objects(tmp_path: Path) -> None:
    """Inside ``remembering``, the object whose inputs did not change comes out of the
    rebuild as the very same document (and app); the changed one is made anew.  Outside,
    everything is made anew: equal documents, other objects."""
    root = stage_repo(tmp_path / "repo")
    with buildmemo.remembering():
        first, second, first_apps, second_apps = rebuilt(root)
    assert [r.id.name for r in first] == ["app", "web"]
    assert second[0].doc is first[0].doc and second_apps[0] is first_apps[0]
    assert second[1].doc is not first[1].doc and second[1].doc["spec"]["replicas"] == 3
    doc = first[0].doc
    assert doc["metadata"]["namespace"] == "shop" and doc["metadata"]["labels"]["team"] == "blue"
    assert doc["spec"]["replicas"] == 2 and first_apps[0].version == "2.0.0"
    plain = rebuilt(root)
    assert plain[1][0].doc == first[0].doc and plain[1][0].doc is not plain[0][0].doc
    assert plain[3] == second_apps
