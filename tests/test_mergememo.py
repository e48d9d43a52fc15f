"""Strategic merges remembered within a ``history`` walk (``promoter.kustomize.mergememo``,
issue 15): the same two objects are merged once, the answer is the merge itself, and a
history read with the memo equals one read without it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from promoter._yaml import parse_text
from promoter.history import read_history
from promoter.kustomize import mergememo, smp
from tests.builders.history import Story, shared_story

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
    with mergememo.remembering():
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
    assert mergememo.current() is None


def test_a_full_memo_starts_again(monkeypatch: pytest.MonkeyPatch, made: list[int]) -> None:
    """At its limit the memo is emptied, not grown."""
    monkeypatch.setattr(mergememo, "_LIMIT", 1)
    with mergememo.remembering():
        merge_twice()
        memo = mergememo.current()
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
    current = mergememo.current

    def counted() -> mergememo.Memo | None:
        asked.append(1)
        return current()

    monkeypatch.setattr(mergememo, "current", counted)
    made.clear()  # building the story merged too
    remembered = read_history(story.ops.work)
    assert len(made) < len(asked)  # answered from the memo

    @contextlib.contextmanager
    def off() -> Iterator[None]:
        yield

    monkeypatch.setattr(mergememo, "remembering", off)
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
        seen.append(mergememo.current() is not None)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(smp, "_merge", watching)
    read_history(story.ops.work)
    assert seen and all(seen)
