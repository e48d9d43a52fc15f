"""A generated GitOps repository with the versions real teams use: commit-SHA build tags,
digest-pinned images, long build tags, long app names, and a pipeline of many stages.

Every value is derived from the stage name with a hash, so the repository (and its tables) is
the same on every run; ``commit_bumps`` adds a dated history (reproducible commit SHAs).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.builders.history import HAND, SEEDER, dated, environment
from tests.builders.repos import deployment, flux_sync, kustomization, write

PIPELINE = "delivery"
STAGES = ("dev", "integration", "qa", "staging", "canary", "prod-eu-west", "prod-us-east")
APPS = {
    "payments-gateway-service": "registry.example.com/payments/gateway",
    "api": "ghcr.io/acme/api",
    "nightly-report-worker": "quay.io/acme/report-worker",
}
"""Deployment name -> image repository; each app's tag style is set in ``tag``."""


def sha1(text: str) -> str:
    """40 hex digits derived from ``text`` (a commit SHA look-alike)."""
    return hashlib.sha1(text.encode()).hexdigest()


def sha256(text: str) -> str:
    """64 hex digits derived from ``text`` (an image digest look-alike)."""
    return hashlib.sha256(text.encode()).hexdigest()


def tag(app: str, stage: str, generation: int = 0) -> str:
    """The version ``app`` runs in ``stage``: a commit-SHA build tag, a digest (the image
    pinned by digest alone), or a long build tag."""
    seed = f"{app}/{stage}/{generation}"
    if app == "payments-gateway-service":
        return f"main-{sha1(seed)}-20261201093000"
    if app == "api":
        return f"sha256:{sha256(seed)}"
    return f"2026.12.01-build.{4700 + len(stage) + generation}-feature-quarterly-reports"


MOVED = {"dev": 1, "qa": 2}
"""The stages ``git_history`` moves on, and the generation of their new builds."""


def current(app: str, stage: str) -> str:
    """The version ``app`` runs in ``stage`` once ``git_history`` has run."""
    return tag(app, stage, MOVED.get(stage, 0))


def long_versions_repo(root: Path) -> Path:
    """Write the repository (one pipeline ``delivery`` of seven stages, three apps) at
    ``root``; return ``root``."""
    for order, stage in enumerate(STAGES):
        write(root, stage_files(stage, order))
    return root


def stage_files(stage: str, order: int, generation: int = 0) -> dict[str, str]:
    """The files of one stage: its kustomization, one Deployment per app, its Flux sync."""
    base = f"{PIPELINE}/{stage}"
    files = {
        f"{base}/kustomization.yaml": kustomization(*(f"{app}.yaml" for app in APPS)),
        f"{base}/sync.yaml": flux_sync(f"{PIPELINE}-{stage}", f"./{base}", PIPELINE, order),
    }
    for app, image in APPS.items():
        version = tag(app, stage, generation)
        separator = "@" if version.startswith("sha256:") else ":"
        files[f"{base}/{app}.yaml"] = deployment(app, f"{image}{separator}{version}")
    return files


def git_history(root: Path) -> None:
    """Make ``root`` a git repository: the repository as written, then two dated commits
    that move dev and qa to new builds (reproducible commit SHAs)."""
    from tests.builders.git import git

    git("init", "--quiet", "--initial-branch=main", cwd=root)
    with environment(dated("2026-12-01T09:00:00+00:00", SEEDER)):
        git("add", "-A", cwd=root)
        git("commit", "--quiet", "-m", "delivery pipeline", cwd=root)
    for number, (stage, generation) in enumerate(MOVED.items(), start=1):
        write(root, stage_files(stage, STAGES.index(stage), generation))
        with environment(dated(f"2026-12-0{1 + number}T10:00:00+00:00", HAND)):
            git("add", "-A", cwd=root)
            git("commit", "--quiet", "-m", f"new builds in {stage}", cwd=root)
