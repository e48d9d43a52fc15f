"""Small one-pipeline repositories (dev -> staging -> prod over one ``web`` Deployment) and
shorthands for planning on them: shared by test_planner, test_rewrite and test_promotion."""

from __future__ import annotations

import textwrap
from pathlib import Path

from promoter import GitOpsRepo
from promoter.planner import plan_promotion
from promoter.promotion import PromotionPlan
from tests.builders.plans import write_files

PIPELINE = textwrap.dedent(
    """\
    pipelines:
      - name: demo
        stages:
          - name: dev
            path: envs/dev
          - name: staging
            path: envs/staging
          - name: prod
            path: envs/prod
    """
)
MARKER = '# {"$imagepolicy": "flux-system:web:tag"}'
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def d(text: str) -> str:
    """Dedented text (the way every file below is written)."""
    return textwrap.dedent(text)


def deployment(image: str, name: str = "web", *, indent: str = "  ") -> str:
    """A one-container Deployment whose container is named like it."""
    i = indent
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        f"{i}name: {name}\n"
        "spec:\n"
        f"{i}template:\n"
        f"{i}{i}spec:\n"
        f"{i}{i}{i}containers:\n"
        f"{i}{i}{i}- name: {name}\n"
        f"{i}{i}{i}  image: {image}\n"
    )


BASE = {
    "base/kustomization.yaml": "resources:\n  - web.yaml\n",
    "base/web.yaml": deployment("ghcr.io/acme/web:1.0.0"),
}


def stage_k(*extra: str, resources: tuple[str, ...] = ("../../base",)) -> str:
    """A stage kustomization: resources, then ``extra`` lines."""
    lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:"]
    lines += [f"  - {r}" for r in resources]
    return "\n".join([*lines, *extra]) + "\n"


def make(root: Path, files: dict[str, str], *, base: bool = True) -> GitOpsRepo:
    """Write a repository with the dev -> staging -> prod pipeline and open it."""
    write_files(root, {"promoter.yaml": PIPELINE, **(BASE if base else {}), **files})
    return GitOpsRepo.open(root)


def plan(
    repo: GitOpsRepo, app: str | list[str] | None = "web", src: str = "staging", dst: str = "prod",
    **options: object,
) -> PromotionPlan:  # fmt: skip
    return plan_promotion(repo, app, src, dst, render=False, **options)  # type: ignore[arg-type]


def edited(result: PromotionPlan) -> dict[str, tuple[str | None, str]]:
    """``{path: (before, after)}`` of every edit."""
    return {e.path: (e.before, e.after) for e in result.edits}


def only_after(result: PromotionPlan) -> dict[str, str]:
    return {e.path: e.after for e in result.edits}


# A strategic merge patch setting web's tag (``SMP.format(tag)``).
SMP = d(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:{}
    """
)


# The override patch file a stage gets for an inherited image (web moved to 1.2.0).
NEW_PATCH = d(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:1.2.0
    """
)
