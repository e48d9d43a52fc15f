"""Bad input ends in one clear line naming the file, exit 1, and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter import (
    GitOpsRepo,
    KustomizeError,
    LookupFailed,
    ManifestError,
    PromoterError,
    RepoError,
)
from tests.builders.repos import deployment, kustomization, simple_pipeline, write

PLAIN_ENV: dict[str, str | None] = {"COLUMNS": None, "FORCE_COLOR": None, "PROMOTER_DEBUG": None}


def invoke(*args: str) -> Result:
    """Run ``pipelines ARGS`` in-process."""
    return CliRunner().invoke(app, list(args), env=PLAIN_ENV)


def two_pipelines(tmp_path: Path) -> Path:
    """Pipelines demo and other (stages dev and prod each) in tmp_path/repo.

    Next to the repository: ``outside/`` (a kustomization) and ``outside.yaml`` (a Deployment),
    for entries that leave it.
    """
    root = tmp_path / "repo"
    simple_pipeline(root, "demo")
    simple_pipeline(root, "other")
    write(
        tmp_path,
        {"outside/kustomization.yaml": kustomization(), "outside.yaml": deployment("x", "x:1")},
    )
    return root


def make_unreadable(path: Path) -> str:
    """Make the file ``path`` unreadable; return how the reader will describe it.

    Tests may run as root, where ``chmod 000`` does not stop reads.  That is detected by
    trying to read; then the file is replaced by a directory, which cannot be read as a
    file by anyone.
    """
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return "cannot be read: Permission denied"
    path.chmod(0o644)
    path.unlink()
    path.mkdir()
    return "is a directory, expected a file"


def _malformed(tmp: Path, root: Path) -> str:
    write(root, {"demo/dev/deployment.yaml": "kind: Deployment\nmetadata: [\n"})
    return "demo/dev/deployment.yaml:3: malformed YAML: did not find expected node content"


def _cycle(tmp: Path, root: Path) -> str:
    write(
        root,
        {
            "demo/dev/kustomization.yaml": kustomization("deployment.yaml", "../../base/a"),
            "base/a/kustomization.yaml": kustomization("../b"),
            "base/b/kustomization.yaml": kustomization("../a"),
        },
    )
    return "base/a/kustomization.yaml: resource cycle: base/a -> base/b -> base/a"


def _resource_leaves(tmp: Path, root: Path) -> str:
    write(
        root,
        {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", "../../../outside")},
    )
    return "demo/dev/kustomization.yaml:5: path '../../../outside' leaves the repository"


def _symlink_leaves(tmp: Path, root: Path) -> str:
    write(root, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", "link.yaml")})
    (root / "demo/dev/link.yaml").symlink_to(tmp / "outside.yaml")
    return "demo/dev/kustomization.yaml:5: path 'link.yaml' leaves the repository"


def _patch_leaves(tmp: Path, root: Path) -> str:
    patches = "patches:\n  - path: ../../../outside.yaml\n"
    write(root, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", extra=patches)})
    return "demo/dev/kustomization.yaml:6: path '../../../outside.yaml' leaves the repository"


def _invalid_utf8(tmp: Path, root: Path) -> str:
    write(root, {"demo/dev/deployment.yaml": b"kind: Deployment # caf\xe9\n"})
    return "demo/dev/deployment.yaml: not UTF-8 text (invalid continuation byte)"


def _patch_is_a_directory(tmp: Path, root: Path) -> str:
    patches = "patches:\n  - path: patch.yaml\n"
    write(root, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", extra=patches)})
    (root / "demo/dev/patch.yaml").mkdir()
    return "demo/dev/patch.yaml: is a directory, expected a file"


def _patch_targets_nothing(tmp: Path, root: Path) -> str:
    patches = "patches:\n  - path: patch.yaml\n"
    write(
        root,
        {
            "demo/dev/kustomization.yaml": kustomization("deployment.yaml", extra=patches),
            "demo/dev/patch.yaml": deployment("ghost", "example.com/ghost:1"),
        },
    )
    return "demo/dev/patch.yaml:1: no resource matches strategic merge patch Deployment/ghost"


def _inline_patch_targets_nothing(tmp: Path, root: Path) -> str:
    patches = """
    patches:
      - patch: |
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: ghost
    """
    write(root, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", extra=patches)})
    return (
        "demo/dev/kustomization.yaml:7: no resource matches strategic merge patch Deployment/ghost"
    )


def _missing_resource(tmp: Path, root: Path) -> str:
    write(root, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", "missing.yaml")})
    return "demo/dev/kustomization.yaml:5: demo/dev/missing.yaml does not exist"


BAD_INPUTS: dict[str, Callable[[Path, Path], str]] = {
    "malformed-yaml": _malformed,
    "resource-cycle": _cycle,
    "resource-leaves-repo": _resource_leaves,
    "symlink-leaves-repo": _symlink_leaves,
    "patch-leaves-repo": _patch_leaves,
    "invalid-utf8": _invalid_utf8,
    "patch-is-a-directory": _patch_is_a_directory,
    "patch-targets-nothing": _patch_targets_nothing,
    "inline-patch-targets-nothing": _inline_patch_targets_nothing,
    "missing-resource": _missing_resource,
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_stage_in_the_library(tmp_path: Path, case: str) -> None:
    """The library reports a broken stage as its error and still reads everything else."""
    root = two_pipelines(tmp_path)
    message = BAD_INPUTS[case](tmp_path, root)
    status = GitOpsRepo.open(root).status()
    expected = (
        False,
        [
            ("demo", "dev", message, []),
            ("demo", "prod", None, ["1.0.0"]),
            ("other", "dev", None, ["1.1.0"]),
            ("other", "prod", None, ["1.0.0"]),
        ],
    )
    actual = [
        (p.pipeline.name, s.stage.name, s.error, [a.version for a in s.apps])
        for p in status.pipelines
        for s in p.stages
    ]
    assert expected == (status.ok, actual)


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_stage_in_the_cli(tmp_path: Path, case: str) -> None:
    """The CLI prints every readable stage, the error in JSON, one stderr line, exit 1."""
    root = two_pipelines(tmp_path)
    message = BAD_INPUTS[case](tmp_path, root)
    result = invoke("status", "--repo", str(root), "-o", "json")
    data = json.loads(result.stdout)
    stages = [
        (p["name"], s["name"], s.get("error"), [a["version"] for a in s["apps"]])
        for p in data["pipelines"]
        for s in p["stages"]
    ]
    expected = (
        1,
        f"error: {message} (stage demo/dev)\n",
        [
            ("demo", "dev", message, []),
            ("demo", "prod", None, ["1.0.0"]),
            ("other", "dev", None, ["1.1.0"]),
            ("other", "prod", None, ["1.0.0"]),
        ],
    )
    assert expected == (result.exit_code, result.stderr, stages)


@pytest.mark.parametrize("output", ["table", "tree", "yaml"])
def test_bad_stage_in_every_output_format(tmp_path: Path, output: str) -> None:
    """Whatever the format, a broken stage is one stderr line and exit 1, no traceback."""
    root = two_pipelines(tmp_path)
    message = _malformed(tmp_path, root)
    result = invoke("status", "--repo", str(root), "-o", output)
    expected = (1, f"error: {message} (stage demo/dev)\n")
    assert expected == (result.exit_code, result.stderr)
    assert "1.0.0" in result.stdout
    assert "Traceback" not in result.output


def test_tree_shows_the_stage_error(tmp_path: Path) -> None:
    """In the tree, a broken stage carries its error under its Flux Kustomization."""
    root = two_pipelines(tmp_path)
    message = _malformed(tmp_path, root)
    result = invoke("status", "demo", "--repo", str(root), "-o", "tree")
    expected = (
        "demo:\n"
        "\tflux-system/demo-dev\n"
        f"\t\terror: {message}\n"
        "\tflux-system/demo-prod\n"
        "\t\tDeployment/default/app: 1.0.0\n"
    )
    assert expected == result.stdout


def test_a_base_shared_by_stages_is_reported_once(tmp_path: Path) -> None:
    """One broken file behind several stages is one stderr line naming all of them."""
    root = two_pipelines(tmp_path)
    write(
        root,
        {
            "base/kustomization.yaml": kustomization("app.yaml"),
            "base/app.yaml": "kind: [\n",
            "demo/dev/kustomization.yaml": kustomization("../../base"),
            "demo/prod/kustomization.yaml": kustomization("../../base"),
        },
    )
    result = invoke("status", "--repo", str(root), "-o", "json")
    message = "base/app.yaml:2: malformed YAML: did not find expected node content"
    expected = (1, f"error: {message} (stages demo/dev, demo/prod)\n")
    assert expected == (result.exit_code, result.stderr)


def test_unreadable_file(tmp_path: Path) -> None:
    """An unreadable patch file is one line on stderr naming it, exit 1."""
    # As root (see make_unreadable) the file becomes a directory and only its stage breaks;
    # otherwise discovery, which reads every YAML file, stops at it with the same kind of line.
    root = two_pipelines(tmp_path)
    patches = "patches:\n  - path: patch.yaml\n"
    write(
        root,
        {
            "demo/dev/kustomization.yaml": kustomization("deployment.yaml", extra=patches),
            "demo/dev/patch.yaml": deployment("app", "example.com/app:9"),
        },
    )
    reason = make_unreadable(root / "demo/dev/patch.yaml")
    result = invoke("status", "--repo", str(root), "-o", "json")
    (line,) = result.stderr.splitlines()
    expected = (1, True)
    assert expected == (result.exit_code, line.startswith(f"error: demo/dev/patch.yaml: {reason}"))
    assert "Traceback" not in result.output


def test_promoter_yaml_mistake_is_one_line(tmp_path: Path) -> None:
    """A malformed promoter.yaml stops the command with one line naming it and the line."""
    root = two_pipelines(tmp_path)
    write(root, {"promoter.yaml": "pipelines:\n  - name: demo\n    stages: [{path: ''}]\n"})
    result = invoke("status", "--repo", str(root), "-o", "json")
    expected = (1, "", "error: promoter.yaml:3: stage 0 of pipeline 'demo' needs a path\n")
    assert expected == (result.exit_code, result.stdout, result.stderr)


def test_broken_pipeline_label_still_shows_the_rest(tmp_path: Path) -> None:
    """A stage label that is not an integer is one stderr line; the pipelines still print."""
    root = two_pipelines(tmp_path)
    sync = (root / "demo/dev/sync.yaml").read_text().replace('stage: "0"', "stage: first")
    write(root, {"demo/dev/sync.yaml": sync})
    result = invoke("status", "--repo", str(root), "-o", "json")
    message = "demo/dev/sync.yaml:8: label pipelines.weave.works/stage 'first' is not an integer"
    data = json.loads(result.stdout)
    shown = [
        (p["name"], p.get("error"), [s["name"] for s in p["stages"]]) for p in data["pipelines"]
    ]
    expected = (
        1,
        f"error: {message} (pipeline demo)\n",
        [("demo", message, ["prod"]), ("other", None, ["dev", "prod"])],
    )
    assert expected == (result.exit_code, result.stderr, shown)


# -- an empty repository ------------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [{}, {"README.md": "# nothing here\n", "app/kustomization.yaml": kustomization()}],
)
def test_empty_repo_is_one_line_and_exit_1(tmp_path: Path, files: dict[str, str]) -> None:
    """A repository without pipelines says so in one line naming it, exit 1."""
    write(tmp_path, files)
    result = invoke("status", "--repo", str(tmp_path), "-o", "json")
    expected = (
        1,
        "",
        f"error: {tmp_path}: no pipelines found; label Flux Kustomizations with "
        "pipelines.weave.works/name and pipelines.weave.works/stage, "
        "or declare them in promoter.yaml\n",
    )
    assert expected == (result.exit_code, result.stdout, result.stderr)


def test_empty_repo_in_the_library(tmp_path: Path) -> None:
    """The library reads an empty repository as no pipelines (the CLI turns that into an error)."""
    repo = GitOpsRepo.open(tmp_path)
    expected: tuple[Any, ...] = ((), (), True)
    assert expected == (repo.pipelines, repo.status().pipelines, repo.status().ok)


# -- the error types ---------------------------------------------------------------------


def test_error_hierarchy() -> None:
    """Every library error a user can cause is a PromoterError."""
    expected = [True] * 4
    assert expected == [
        issubclass(cls, PromoterError)
        for cls in (RepoError, ManifestError, KustomizeError, LookupFailed)
    ]
    assert issubclass(KustomizeError, ManifestError)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ManifestError("a/b.yaml", "broken", 3), "a/b.yaml:3: broken"),
        (ManifestError("a/b.yaml", "broken"), "a/b.yaml: broken"),
        (KustomizeError("k.yaml", "cycle", 1), "k.yaml:1: cycle"),
    ],
)
def test_manifest_error_names_file_and_line(error: ManifestError, text: str) -> None:
    """ManifestError reads ``file:line: message``, or ``file: message`` without a line."""
    assert text == str(error)


@pytest.mark.parametrize(
    ("name", "choices", "text"),
    [
        ("wbe", ["web", "platform"], "unknown pipeline 'wbe'; did you mean web?"),
        ("zzz", ["web", "platform"], "unknown pipeline 'zzz'; known: platform, web"),
        ("zzz", [], "unknown pipeline 'zzz'"),
    ],
)
def test_lookup_failed_suggests_names(name: str, choices: list[str], text: str) -> None:
    """LookupFailed suggests close names, else lists the known ones."""
    assert text == str(LookupFailed.from_choices("pipeline", name, choices))


def test_permission_denied_is_named_without_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a non-root user sees for an unreadable YAML file (simulated: tests may run as root)."""
    from promoter.tree import DiskSource

    root = two_pipelines(tmp_path)
    denied = "demo/dev/deployment.yaml"
    real_read_bytes = DiskSource.read_bytes

    def read_bytes(self: DiskSource, rel: str) -> bytes:
        if rel == denied:
            raise PermissionError(13, "Permission denied", rel)
        return real_read_bytes(self, rel)

    monkeypatch.setattr(DiskSource, "read_bytes", read_bytes)
    result = invoke("status", "--repo", str(root), "-o", "json")
    expected = (1, "", "error: demo/dev/deployment.yaml: cannot be read: Permission denied\n")
    assert expected == (result.exit_code, result.stdout, result.stderr)
