"""``--pin-digest`` against a real registry: every source style, mirrors, the unpinning note,
and kubectl's render as the oracle."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from promoter.errors import PromotionError
from promoter.pinning import PinRequest
from promoter.planner import plan_promotion
from promoter.repo import GitOpsRepo
from tests.builders.repos import deployment, kustomization, write
from tests.fakes.registry import Pushed, Pusher, Registry, require_registry, start_registry

_names = itertools.count()
PROMOTER_YAML = (
    "pipelines:\n  - name: web\n    stages:\n"
    "      - {name: dev, path: envs/dev}\n      - {name: prod, path: envs/prod}\n"
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One anonymous registry for the module."""
    require_registry()
    with start_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture
def images(registry: Registry) -> tuple[str, Pushed, Pushed]:
    """A fresh repository with tags 1.0 and 1.1: (image name, pushed 1.0, pushed 1.1)."""
    pusher = Pusher(registry)
    repo = f"team/app{next(_names)}"
    old = pusher.image(repo, "1.0")
    new = pusher.image(repo, "1.1")
    return f"{registry.host}/{repo}", old, new


def _repo(root: Path, name: str, prod: dict[str, str], dev_tag: str = "1.1") -> Path:
    files = {
        "promoter.yaml": PROMOTER_YAML,
        "base/kustomization.yaml": kustomization("deploy.yaml"),
        "base/deploy.yaml": deployment("web", f"{name}:1.0", container="app"),
        "envs/dev/kustomization.yaml": kustomization(
            "../../base", extra=f'images:\n  - name: {name}\n    newTag: "{dev_tag}"\n'
        ),
    }
    files.update({f"envs/prod/{k}": v for k, v in prod.items()})
    return write(root, files)


def _render(kubectl: str, root: Path) -> str:
    done = subprocess.run(
        [kubectl, "kustomize", str(root / "envs/prod")], capture_output=True, text=True, check=True
    )
    return done.stdout


def _pin(root: Path, **kwargs: object) -> object:
    return plan_promotion(
        GitOpsRepo.open(root), "web", "dev", "prod", pin=PinRequest(True, **kwargs), render=True
    )


def test_pin_digest_in_an_images_entry(
    tmp_path: Path, images: tuple[str, Pushed, Pushed], kubectl: str
) -> None:
    """An images entry gets FROM's newTag and a digest line; kubectl renders tag@digest."""
    name, _, new = images
    prod = {
        "kustomization.yaml": kustomization(
            "../../base", extra=f'images:\n  - name: {name}\n    newTag: "1.0"  # pinned\n'
        )
    }
    root = _repo(tmp_path, name, prod)
    plan = _pin(root)
    plan.write()  # type: ignore[attr-defined]
    expected = kustomization(
        "../../base",
        extra=f'images:\n  - name: {name}\n    newTag: "1.1"  # pinned\n    digest: {new.digest}\n',
    )
    assert expected == (root / "envs/prod/kustomization.yaml").read_text()
    assert f"image: {name}:1.1@{new.digest}" in _render(kubectl, root)


def test_pin_digest_in_a_patch_image_string(
    tmp_path: Path, images: tuple[str, Pushed, Pushed], kubectl: str
) -> None:
    """An image string in TO's patch file becomes repo:tag@sha256:..., byte for byte else."""
    name, _, new = images
    patch = deployment("web", f"{name}:1.0", container="app")
    prod = {
        "kustomization.yaml": kustomization("../../base", extra="patches:\n  - path: patch.yaml\n"),
        "patch.yaml": patch,
    }
    root = _repo(tmp_path, name, prod)
    plan = _pin(root)
    plan.write()  # type: ignore[attr-defined]
    expected = patch.replace(f"{name}:1.0", f"{name}:1.1@{new.digest}")
    assert expected == (root / "envs/prod/patch.yaml").read_text()
    assert f"image: {name}:1.1@{new.digest}" in _render(kubectl, root)


def test_pin_digest_in_an_inline_patch(
    tmp_path: Path, images: tuple[str, Pushed, Pushed], kubectl: str
) -> None:
    """An inline patch's image string gets the tag and digest."""
    name, _, new = images
    inline = (
        "patches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n"
        "      metadata:\n        name: web\n      spec:\n        template:\n          spec:\n"
        f"            containers:\n              - name: app\n                image: {name}:1.0\n"
    )
    root = _repo(tmp_path, name, {"kustomization.yaml": kustomization("../../base", extra=inline)})
    plan = _pin(root)
    plan.write()  # type: ignore[attr-defined]
    text = (root / "envs/prod/kustomization.yaml").read_text()
    assert (
        kustomization("../../base", extra=inline.replace(f"{name}:1.0", f"{name}:1.1@{new.digest}"))
        == text
    )
    assert f"image: {name}:1.1@{new.digest}" in _render(kubectl, root)


def test_pin_digest_of_an_inherited_image_adds_an_override(
    tmp_path: Path, images: tuple[str, Pushed, Pushed], kubectl: str
) -> None:
    """An image TO inherits from base gets an override patch carrying tag and digest."""
    name, _, new = images
    root = _repo(tmp_path, name, {"kustomization.yaml": kustomization("../../base")})
    plan = _pin(root)
    plan.write()  # type: ignore[attr-defined]
    assert "deploy.yaml" in (root / "base/deploy.yaml").name
    assert f"{name}:1.0" in (root / "base/deploy.yaml").read_text()
    assert f"image: {name}:1.1@{new.digest}" in _render(kubectl, root)


def _mirror_repo(tmp_path: Path, name: str, mirror: str) -> Path:
    extra = f'images:\n  - name: {name}\n    newName: {mirror}\n    newTag: "1.0"\n'
    return _repo(tmp_path, name, {"kustomization.yaml": kustomization("../../base", extra=extra)})


def test_pin_digest_through_a_mirror_in_sync(
    tmp_path: Path, registry: Registry, images: tuple[str, Pushed, Pushed], kubectl: str
) -> None:
    """A mirror serving FROM's digest is pinned to it, in TO's own repository."""
    name, _, new = images
    source_repo = name.split("/", 1)[1]
    mirror_repo = source_repo.replace("team/", "mirror/")
    Pusher(registry).copy(source_repo, mirror_repo, "1.1", new)
    mirror = f"{registry.host}/{mirror_repo}"
    root = _mirror_repo(tmp_path, name, mirror)
    plan = _pin(root)
    plan.write()  # type: ignore[attr-defined]
    assert f"image: {mirror}:1.1@{new.digest}" in _render(kubectl, root)


def test_pin_digest_refuses_a_mirror_out_of_sync_unless_forced(
    tmp_path: Path, registry: Registry, images: tuple[str, Pushed, Pushed], kubectl: str
) -> None:
    """A mirror whose 1.1 is another image is refused in one line; --force pins its digest
    and says so in a note."""
    name, _, new = images
    mirror_repo = name.split("/", 1)[1].replace("team/", "mirror/")
    other = Pusher(registry).image(mirror_repo, "1.1")
    mirror = f"{registry.host}/{mirror_repo}"
    root = _mirror_repo(tmp_path, name, mirror)
    with pytest.raises(PromotionError) as caught:
        _pin(root)
    message = str(caught.value)
    assert message.startswith(f"mirror out of sync: {mirror}:1.1 resolves to {other.digest}")
    assert new.digest in message and "\n" not in message
    plan = _pin(root, force=True)
    assert any("pinned the mirror's digest (--force)" in n for n in plan.notes)  # type: ignore[attr-defined]
    plan.write()  # type: ignore[attr-defined]
    assert f"image: {mirror}:1.1@{other.digest}" in _render(kubectl, root)


def test_pin_digest_keeps_froms_pinned_digest(
    tmp_path: Path, registry: Registry, images: tuple[str, Pushed, Pushed]
) -> None:
    """When FROM pins a digest, TO gets exactly that digest (what ran), not a moved tag's."""
    name, old, _ = images
    root = _repo(
        tmp_path,
        name,
        {"kustomization.yaml": kustomization("../../base")},
        dev_tag=f'1.1"\n    digest: "{old.digest}',
    )
    plan = _pin(root)
    assert [f"{name}:1.1@{old.digest}"] == [c.new_image for c in plan.changes]  # type: ignore[attr-defined]


def test_pinned_target_without_pin_digest_is_unpinned_with_a_note(
    tmp_path: Path, images: tuple[str, Pushed, Pushed]
) -> None:
    """TO pinned by digest moves to FROM's tag; plan, JSON notes and PR body say it stops
    being pinned and that --pin-digest would keep it pinned."""
    name, old, _ = images
    extra = f'images:\n  - name: {name}\n    newTag: "1.0"\n    digest: {old.digest}\n'
    root = _repo(tmp_path, name, {"kustomization.yaml": kustomization("../../base", extra=extra)})
    result = CliRunner().invoke(
        cli_app,
        [
            "promote",
            "web",
            "dev",
            "prod",
            "--dry-run",
            "--repo",
            str(root),
            "-o",
            "json",
            "--no-changelog",
        ],
    )
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    expected = [
        f"Deployment/web (container app) in prod stops being pinned by digest "
        f"({name}:1.0@{old.digest} -> {name}:1.1); --pin-digest would keep it pinned"
    ]
    assert expected == notes
    from promoter.pr import pull_request_body

    plan = plan_promotion(GitOpsRepo.open(root), "web", "dev", "prod", render=False)
    assert f"> **Note:** {expected[0]}" in pull_request_body(plan, "main", "a" * 40)


def test_pin_digest_from_promoter_yaml_and_cli(
    tmp_path: Path, images: tuple[str, Pushed, Pushed]
) -> None:
    """``pin: digest`` on the stage pins without the flag; the CLI's --pin-digest also does."""
    name, _, new = images
    root = _repo(tmp_path, name, {"kustomization.yaml": kustomization("../../base")})
    (root / "promoter.yaml").write_text(
        PROMOTER_YAML.replace("path: envs/prod}", "path: envs/prod, pin: digest}")
    )
    plan = plan_promotion(GitOpsRepo.open(root), "web", "dev", "prod", render=False)
    assert [f"{name}:1.1@{new.digest}"] == [c.new_image for c in plan.changes]
    (root / "promoter.yaml").write_text(PROMOTER_YAML)
    result = CliRunner().invoke(
        cli_app,
        [
            "promote",
            "web",
            "dev",
            "prod",
            "--dry-run",
            "--pin-digest",
            "--repo",
            str(root),
            "-o",
            "json",
            "--no-changelog",
        ],
    )
    assert result.exit_code == 0, result.output
    assert [c["new"] for c in json.loads(result.stdout)["changes"]] == ["1.1"]
    assert new.digest in json.loads(result.stdout)["diff"]
