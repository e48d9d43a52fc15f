"""``status --registry`` against a real registry: resolved digests, moved tags, available
tags per policy, an unreachable registry, and today's JSON without the flag."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from tests.builders.repos import deployment, kustomization, write
from tests.fakes.registry import Pusher, Registry, free_port, require_registry, start_registry

_names = itertools.count()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One anonymous registry for the module."""
    require_registry()
    with start_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


def _repo(root: Path, name: str, prod_digest: str, tags: str = "") -> Path:
    config = (
        "pipelines:\n  - name: web\n" + tags + "    stages:\n"
        "      - {name: dev, path: envs/dev}\n      - {name: prod, path: envs/prod}\n"
    )
    return write(
        root,
        {
            "promoter.yaml": config,
            "base/kustomization.yaml": kustomization("deploy.yaml"),
            "base/deploy.yaml": deployment("web", f"{name}:1.0", container="app"),
            "envs/dev/kustomization.yaml": kustomization(
                "../../base", extra=f'images:\n  - name: {name}\n    newTag: "1.1"\n'
            ),
            "envs/prod/kustomization.yaml": kustomization(
                "../../base",
                extra=f'images:\n  - name: {name}\n    newTag: "1.0"\n    digest: {prod_digest}\n',
            ),
        },
    )


def _status(root: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["status", "--repo", str(root), *extra])
    return result.exit_code, result.stdout


def test_status_registry_json_resolves_digests_marks_moved_tags_and_lists_newer(
    tmp_path: Path, registry: Registry
) -> None:
    """Each image gets "resolved" (prod's 1.0 moved since it was pinned), each app
    "available": the newest semver tag and the newer ones ascending."""
    pusher = Pusher(registry)
    repo = f"team/status{next(_names)}"
    first = pusher.image(repo, "1.0")
    moved = pusher.image(repo, "1.0")  # the tag moves to a new image
    newer = pusher.image(repo, "1.1")
    for tag in ("1.2", "2.0.0-rc.1", "latest", "nightly"):
        pusher.image(repo, tag)
    name = f"{registry.host}/{repo}"
    root = _repo(tmp_path, name, first.digest)
    code, out = _status(root, "--registry", "-o", "json")
    assert code == 0
    data = json.loads(out)
    dev, prod = data["pipelines"][0]["stages"]
    assert {"digest": newer.digest, "moved": False} == dev["apps"][0]["images"][0]["resolved"]
    assert {"digest": moved.digest, "moved": True} == prod["apps"][0]["images"][0]["resolved"]
    assert dev["apps"][0]["available"] == {"newest": "2.0.0-rc.1", "newer": ["1.2", "2.0.0-rc.1"]}
    expected = {"newest": "2.0.0-rc.1", "newer": ["1.1", "1.2", "2.0.0-rc.1"]}
    assert expected == prod["apps"][0]["available"]
    assert data["notes"] == []
    code, table = _status(root, "--registry")
    assert code == 0
    assert "1.0 (tag moved) ↑ 2.0.0-rc.1 (3 newer)" in table


def test_status_registry_follows_the_pipelines_tag_policy(
    tmp_path: Path, registry: Registry
) -> None:
    """``tags: {pattern, extract, order: numerical}`` filters and orders what is available."""
    pusher = Pusher(registry)
    repo = f"team/policy{next(_names)}"
    pinned = pusher.image(repo, "1.0")
    for tag in ("1.1", "build-9", "build-10", "build-100", "other-5"):
        pusher.image(repo, tag)
    tags = "    tags: {pattern: '^build-(?P<n>\\d+)$', extract: '$n', order: numerical}\n"
    root = _repo(tmp_path, f"{registry.host}/{repo}", pinned.digest, tags)
    code, out = _status(root, "--registry", "-o", "json")
    assert code == 0
    app = json.loads(out)["pipelines"][0]["stages"][1]["apps"][0]
    assert app["available"] == {"newest": "build-100", "newer": []}


def test_status_registry_unreachable_leaves_nulls_and_a_note(tmp_path: Path) -> None:
    """A registry nobody answers for: resolved/available null, one note, exit code as
    before; without --registry the JSON is exactly today's."""
    name = f"127.0.0.1:{free_port()}/team/app"
    root = _repo(tmp_path, name, "sha256:" + "a" * 64)
    code, plain = _status(root, "-o", "json")
    code_registry, out = _status(root, "--registry", "-o", "json")
    assert code == code_registry == 0
    data = json.loads(out)
    image = data["pipelines"][0]["stages"][0]["apps"][0]["images"][0]
    assert image["resolved"] is None
    assert data["pipelines"][0]["stages"][0]["apps"][0]["available"] is None
    assert len(data["notes"]) == 1 and "cannot reach registry" in data["notes"][0]
    for stage in data["pipelines"][0]["stages"]:
        for app in stage["apps"]:
            del app["available"]
            for each in app["images"]:
                del each["resolved"]
    del data["notes"]
    assert json.loads(plain) == data
    assert "resolved" not in plain and "available" not in plain
