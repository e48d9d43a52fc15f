"""Hostile repository content (issue 11): alias bombs, links to /dev/zero, FIFOs, dangling
links, oversized files and slow renders end in one clear line, in bounded time and memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promoter import _yaml
from promoter._yaml import parse_text
from promoter.errors import ManifestError
from promoter.repo import GitOpsRepo
from tests.builders.plans import example_copy
from tests.test_interrupt import environment

PIPELINES = "from cli.main import pipelines_main; pipelines_main()"
LIMIT_SECONDS = 60
LIMIT_RSS_KIB = 700 * 1024


def bomb(levels: int = 9) -> str:
    """A "billion laughs" document: each level refers nine times to the one before."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def pipelines(
    root: Path, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``pipelines ARGS --repo ROOT`` as a subprocess, bounded in time; memory checked."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PIPELINES, *args, "--repo", str(root)],
        cwd=root,
        env=environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer", **env),
        capture_output=True,
        text=True,
        timeout=LIMIT_SECONDS,
        check=False,
    )
    assert time.monotonic() - began < LIMIT_SECONDS
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < LIMIT_RSS_KIB
    return done


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the example GitOps repository."""
    return example_copy(tmp_path / "repo")


def test_alias_bomb_fails_fast_naming_the_file() -> None:
    """Parsing a billion-laughs document stops with "excessive aliasing" in milliseconds."""
    began = time.monotonic()
    with pytest.raises(ManifestError) as caught:
        parse_text(bomb(), "bomb.yaml")
    assert time.monotonic() - began < 2
    assert str(caught.value).startswith("bomb.yaml:")
    assert "excessive aliasing" in str(caught.value)


def test_ordinary_aliases_still_work() -> None:
    """Anchors and merge keys used normally are expanded as before."""
    text = "base: &b {a: 1}\nx: *b\ny:\n  <<: *b\n  c: 2\n"
    assert parse_text(text, "f") == [{"base": {"a": 1}, "x": {"a": 1}, "y": {"a": 1, "c": 2}}]


def test_alias_bomb_in_a_stage_is_that_stages_error(root: Path, tmp_path: Path) -> None:
    """An alias bomb in a stage's patch: status exits 1 naming the file, within bounds."""
    (root / "pipelines/web/staging/nginx-tag.yaml").write_text(bomb(), encoding="utf-8")
    done = pipelines(root, tmp_path, "status", "web")
    assert done.returncode == 1
    assert "pipelines/web/staging/nginx-tag.yaml" in done.stderr
    assert "excessive aliasing" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["status", "check"])
def test_link_to_dev_zero_and_fifo_are_skipped(root: Path, tmp_path: Path, command: str) -> None:
    """A ``*.yaml`` link to /dev/zero, a FIFO and a dangling link in the repository are
    skipped by discovery: status and check finish at once with the usual result."""
    expected = pipelines(root, tmp_path, command)
    (root / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(root / "pipe.yaml")
    (root / "dangling.yaml").symlink_to(root / "missing.yaml")
    done = pipelines(root, tmp_path, command)
    assert (expected.returncode, expected.stdout) == (done.returncode, done.stdout)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.symlink_to("/dev/zero"), "leaves the repository"),
        (os.mkfifo, "is not a regular file"),
        (lambda p: p.symlink_to(p.parent / "missing.yaml"), "does not exist"),
    ],
    ids=["dev-zero", "fifo", "dangling"],
)
def test_unreadable_stage_file_is_that_stages_error(
    root: Path, tmp_path: Path, make: object, reason: str
) -> None:
    """A stage's patch that is a link to /dev/zero, a FIFO or a dangling link: that stage
    reports one line naming the file, the others are read, exit 1."""
    patch = root / "pipelines/web/staging/nginx-tag.yaml"
    patch.unlink()
    make(patch)  # type: ignore[operator]
    done = pipelines(root, tmp_path, "status", "-o", "json")
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1
    assert "nginx-tag.yaml" in errors[0]
    assert reason in errors[0]
    assert '"name": "prod"' in done.stdout


def test_file_above_the_size_limit_is_refused(root: Path, tmp_path: Path) -> None:
    """A stage file above PROMOTER_MAX_FILE_BYTES: one line naming it and the variable."""
    patch = root / "pipelines/web/staging/nginx-tag.yaml"
    patch.write_text(patch.read_text(encoding="utf-8") + "#" * 5000 + "\n", encoding="utf-8")
    done = pipelines(root, tmp_path, "status", "web", PROMOTER_MAX_FILE_BYTES="4096")
    assert done.returncode == 1
    assert "pipelines/web/staging/nginx-tag.yaml" in done.stderr
    assert "PROMOTER_MAX_FILE_BYTES" in done.stderr


def big_manifest(count: int) -> str:
    """``count`` ConfigMaps in one file (a large, generated manifest)."""
    one = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{n}\ndata:\n  k: v{n}\n"
    return "".join(one.format(n=n) for n in range(count))


def status_seconds(root: Path, count: int) -> float:
    """Seconds a native status of stage web/staging takes with ``count`` extra objects."""
    extra = root / "pipelines/web/staging/big.yaml"
    extra.write_text(big_manifest(count), encoding="utf-8")
    kustomization = root / "pipelines/web/staging/kustomization.yaml"
    text = kustomization.read_text(encoding="utf-8")
    if "big.yaml" not in text:
        kustomization.write_text(text.replace("resources:\n", "resources:\n  - big.yaml\n", 1))
    _yaml.clear_cache()  # measure reading, not the parse cache of an earlier round
    began = time.monotonic()
    repo = GitOpsRepo.open(root)
    status = repo.status(["web"])
    assert status.ok
    return time.monotonic() - began


def test_large_manifest_costs_linear_time(root: Path) -> None:
    """Reading a stage with a manifest four times larger takes about four times as long,
    not sixteen (no per-line rereads)."""
    small = min(status_seconds(root, 5_000) for _ in range(2))
    large = min(status_seconds(root, 20_000) for _ in range(2))
    assert large < small * 8 + 1.0


def test_render_timeout_names_the_stage(root: Path, tmp_path: Path) -> None:
    """A render that does not finish in PROMOTER_RENDER_TIMEOUT seconds: the line names the
    stage and the variable, and the render is gone."""
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\nexec sleep 300\n", encoding="utf-8")
    tool.chmod(0o755)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PIPELINES, "status", "web", "--render", "--repo", str(root)],
        env=environment(tmp_path, PROMOTER_KUSTOMIZE=str(tool), PROMOTER_RENDER_TIMEOUT="1"),
        capture_output=True,
        text=True,
        timeout=LIMIT_SECONDS,
        check=False,
    )
    assert time.monotonic() - began < 30
    assert done.returncode == 1
    assert "pipelines/web/staging: kustomize build did not finish within 1 seconds" in done.stderr
    assert "PROMOTER_RENDER_TIMEOUT" in done.stderr
