"""kustomize's own rules, kept by the native reader (issue 10 §5), with ``kubectl kustomize``
as the oracle: load restrictions through symlinks, duplicate mapping keys, empty patch files,
and the files generators read."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from promoter.errors import PromoterError
from promoter.kustomize import Builder
from promoter.repo import GitOpsRepo
from tests.builders.repos import deployment, kustomization, simple_pipeline, write


def _kubectl(kubectl: str, directory: Path) -> tuple[bool, str]:
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    return done.returncode == 0, done.stdout if done.returncode == 0 else done.stderr


def _native(root: Path, directory: str) -> tuple[bool, str]:
    try:
        resources = Builder(root).build(directory).resources
    except PromoterError as exc:
        return False, str(exc)
    return True, repr([r.doc for r in resources])


def _images(text: str) -> list[str]:
    return [line.split("image:", 1)[1].strip() for line in text.splitlines() if "image:" in line]


# -- symlinks ----------------------------------------------------------------------------------

VERSION_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: example.com/app:2.0.0
"""


def _shared_version_file(root: Path) -> Path:
    """Two stages; prod's version patch is a link to dev's."""
    simple_pipeline(root)
    patched = kustomization("deployment.yaml", extra="patches:\n  - path: version.yaml\n")
    write(
        root,
        {
            "demo/dev/kustomization.yaml": patched,
            "demo/prod/kustomization.yaml": patched,
            "demo/dev/version.yaml": VERSION_PATCH,
        },
    )
    (root / "demo/prod/version.yaml").symlink_to("../dev/version.yaml")
    return root


def test_file_linked_from_another_stage_is_refused_like_kubectl(
    kubectl: str, tmp_path: Path
) -> None:
    """A patch reached through a link out of the stage fails in kubectl and natively alike."""
    root = _shared_version_file(tmp_path)
    ok, output = _kubectl(kubectl, root / "demo/prod")
    assert not ok
    real = os.path.realpath(root)
    assert (
        f"security; file '{real}/demo/prod/version.yaml' is not in or below '{real}/demo/prod'"
        in output
    )
    native_ok, message = _native(root, "demo/prod")
    assert not native_ok
    assert message == (
        "demo/prod/kustomization.yaml:6: security; file 'demo/prod/version.yaml' "
        "is not in or below 'demo/prod'"
    )


def test_status_shows_the_linked_stage_as_an_error(kubectl: str, tmp_path: Path) -> None:
    """The stage kustomize refuses is an error in status; the stage owning the file is not."""
    repo = GitOpsRepo.open(_shared_version_file(tmp_path))
    dev = repo.stage_status(repo.stage("demo", "dev"))
    prod = repo.stage_status(repo.stage("demo", "prod"))
    assert dev.error is None
    assert dev.apps[0].version == "2.0.0"
    assert prod.error is not None
    assert "security; file 'demo/prod/version.yaml' is not in or below 'demo/prod'" in prod.error


def test_resource_linked_from_outside_is_refused_like_kubectl(kubectl: str, tmp_path: Path) -> None:
    """A resource file reached through a link out of the kustomization is refused too."""
    write(tmp_path, {"shared/app.yaml": deployment("app", "example.com/app:1.0.0")})
    write(tmp_path, {"stage/kustomization.yaml": kustomization("app.yaml")})
    (tmp_path / "stage/app.yaml").symlink_to("../shared/app.yaml")
    ok, output = _kubectl(kubectl, tmp_path / "stage")
    assert not ok
    assert "security; file" in output
    native_ok, message = _native(tmp_path, "stage")
    assert not native_ok
    assert "security; file 'stage/app.yaml' is not in or below 'stage'" in message


@pytest.mark.parametrize("layout", ["link-inside", "linked-base-directory"])
def test_links_kustomize_accepts_read_alike(kubectl: str, tmp_path: Path, layout: str) -> None:
    """A link inside the directory, or a base directory reached through a link, builds."""
    write(tmp_path, {"base/app.yaml": deployment("app", "example.com/app:1.2.3")})
    write(tmp_path, {"base/kustomization.yaml": kustomization("app.yaml")})
    if layout == "link-inside":
        write(tmp_path, {"stage/real.yaml": deployment("app", "example.com/app:1.2.3")})
        write(tmp_path, {"stage/kustomization.yaml": kustomization("link.yaml")})
        (tmp_path / "stage/link.yaml").symlink_to("real.yaml")
    else:
        write(tmp_path, {"stage/kustomization.yaml": kustomization("base-link")})
        (tmp_path / "stage/base-link").symlink_to("../base")
    ok, output = _kubectl(kubectl, tmp_path / "stage")
    assert ok, output
    assert _images(output) == ["example.com/app:1.2.3"]
    (resource,) = Builder(tmp_path).build("stage").resources
    assert resource.doc["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "example.com/app:1.2.3"
    )


# -- duplicate mapping keys --------------------------------------------------------------------

TWICE = deployment("app", "example.com/app:1.0.0") + "          image: example.com/app:9.9.9\n"


def test_duplicate_key_in_a_resource_fails_like_kubectl(kubectl: str, tmp_path: Path) -> None:
    """kustomize refuses an object with a key written twice; so does the reader, same words."""
    write(tmp_path, {"o/kustomization.yaml": kustomization("d.yaml"), "o/d.yaml": TWICE})
    ok, output = _kubectl(kubectl, tmp_path / "o")
    assert not ok
    assert 'mapping key "image" already defined at line 17' in output
    native_ok, message = _native(tmp_path, "o")
    assert not native_ok
    assert message == 'o/d.yaml:18: mapping key "image" already defined at line 17'


def test_duplicate_key_in_a_patch_keeps_the_first_like_kubectl(
    kubectl: str, tmp_path: Path
) -> None:
    """In a strategic merge patch kustomize reads the first of two values; so does the reader."""
    patch = VERSION_PATCH + "          image: example.com/app:9.9.9\n"
    write(
        tmp_path,
        {
            "o/kustomization.yaml": kustomization("d.yaml", extra="patches:\n  - path: p.yaml\n"),
            "o/d.yaml": deployment("app", "example.com/app:1.0.0"),
            "o/p.yaml": patch,
        },
    )
    ok, output = _kubectl(kubectl, tmp_path / "o")
    assert ok, output
    assert _images(output) == ["example.com/app:2.0.0"]
    (resource,) = Builder(tmp_path).build("o").resources
    assert resource.doc["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "example.com/app:2.0.0"
    )


def test_duplicate_key_in_a_kustomization_keeps_the_last_like_kubectl(
    kubectl: str, tmp_path: Path
) -> None:
    """In kustomization.yaml kustomize reads the last of two values; so does the reader."""
    images = "images:\n  - name: example.com/app\n    newTag: '2.0'\n    newTag: '3.0'\n"
    write(
        tmp_path,
        {
            "o/kustomization.yaml": kustomization("d.yaml", extra=images),
            "o/d.yaml": deployment("app", "example.com/app:1.0.0"),
        },
    )
    ok, output = _kubectl(kubectl, tmp_path / "o")
    assert ok, output
    assert _images(output) == ["example.com/app:3.0"]
    (resource,) = Builder(tmp_path).build("o").resources
    assert resource.doc["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "example.com/app:3.0"
    )


# -- empty patch files -------------------------------------------------------------------------

EMPTY_PATCHES = {
    # name: (kustomization extra, patch file text, error kubectl and the reader give, or None)
    "empty file": (
        "patches:\n  - path: p.yaml\n", "", 'must specify a target for JSON patch [path: "p.yaml"]'
    ),
    "comment only": (
        "patches:\n  - path: p.yaml\n", "# nothing yet\n",
        'illegally qualifies as both an SM and JSON patch: [path: "p.yaml"]',
    ),
    "document marker only": (
        "patches:\n  - path: p.yaml\n", "---\n",
        'illegally qualifies as both an SM and JSON patch: [path: "p.yaml"]',
    ),
    "patchesStrategicMerge": (
        "patchesStrategicMerge:\n  - p.yaml\n", "",
        "patch appears to be empty; files=[p.yaml], Patch=",
    ),
    "empty file with a target": (
        "patches:\n  - path: p.yaml\n    target: {kind: Deployment}\n", "", None
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EMPTY_PATCHES))
def test_empty_patch_file_like_kubectl(kubectl: str, tmp_path: Path, case: str) -> None:
    """An empty patch file fails (or, with a target, applies nothing) as in kubectl."""
    extra, text, error = EMPTY_PATCHES[case]
    write(
        tmp_path,
        {
            "o/kustomization.yaml": kustomization("d.yaml", extra=extra),
            "o/d.yaml": deployment("app", "example.com/app:1.0.0"),
            "o/p.yaml": text,
        },
    )
    ok, output = _kubectl(kubectl, tmp_path / "o")
    native_ok, message = _native(tmp_path, "o")
    assert native_ok == ok, f"kubectl: {output}\nnative: {message}"
    if error is None:
        assert _images(output) == ["example.com/app:1.0.0"]
    else:
        assert error in output.replace('\\"', '"')
        assert message.endswith(error)
        assert message.startswith("o/kustomization.yaml:")


# -- generators --------------------------------------------------------------------------------


def test_generator_files_are_files_the_stage_reads(kubectl: str, tmp_path: Path) -> None:
    """A generator's files count among the stage's files (a verifying render copies them),
    and one linked from outside the kustomization is refused as kubectl refuses it."""
    generators = (
        "configMapGenerator:\n  - name: conf\n    files: [conf/app.properties, key=conf/b.txt]\n"
        "    envs: [conf/env.txt]\n"
    )
    write(
        tmp_path,
        {
            "base/kustomization.yaml": kustomization("d.yaml", extra=generators),
            "base/d.yaml": deployment("app", "example.com/app:1.0.0"),
            "base/conf/app.properties": "a=1\n",
            "base/conf/b.txt": "b\n",
            "base/conf/env.txt": "C=1\n",
            "stage/kustomization.yaml": kustomization("../base"),
        },
    )
    ok, output = _kubectl(kubectl, tmp_path / "stage")
    assert ok, output
    files = Builder(tmp_path).build("stage").files
    assert {"base/conf/app.properties", "base/conf/b.txt", "base/conf/env.txt"} <= files
    (tmp_path / "base/conf/env.txt").unlink()
    write(tmp_path, {"elsewhere/env.txt": "C=2\n"})
    (tmp_path / "base/conf/env.txt").symlink_to("../../elsewhere/env.txt")
    ok, output = _kubectl(kubectl, tmp_path / "stage")
    assert not ok
    assert "security; file" in output
    native_ok, message = _native(tmp_path, "stage")
    assert not native_ok
    assert "security; file 'base/conf/env.txt' is not in or below 'base'" in message
