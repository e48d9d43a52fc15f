"""Layered overlays (issue 10 §2), written for the test suite: an ``environments`` pipeline
(dev -> test -> prod over ``environments/base``) and two cluster pipelines, ``local-home``
and ``rhpds``, whose ``clusters/<cluster>/overlays/<stage>`` each build on
``environments/overlays/<stage>`` and set their own ``images:`` on top."""

from __future__ import annotations

from pathlib import Path

from promoter import GitOpsRepo
from tests.builders.plans import write_files

IMAGE = "quay.io/acme/client"
CLUSTERS = ("local-home", "rhpds")
ENV_TEST = "environments/overlays/test/kustomization.yaml"
MARKER = '# {"$imagepolicy": "flux-system:client:tag"}'

_CLIENT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: client
spec:
  template:
    spec:
      containers:
        - name: client
          image: {IMAGE}:1.0.0
"""


def _pipelines() -> str:
    lines = ["pipelines:", "  - name: environments", "    stages:"]
    for stage in ("dev", "test", "prod"):
        lines += [f"      - name: {stage}", f"        path: environments/overlays/{stage}"]
    for cluster in CLUSTERS:
        lines += [f"  - name: {cluster}", "    stages:"]
        for stage in ("test", "prod"):
            lines += [
                f"      - name: {stage}",
                f"        path: clusters/{cluster}/overlays/{stage}",
            ]
    return "\n".join(lines) + "\n"


def overlay(resource: str, *image_lines: str) -> str:
    """A kustomization of one resource and, when given, one ``images:`` entry for the app."""
    text = f"resources:\n  - {resource}\n"
    if image_lines:
        text += f"images:\n  - name: {IMAGE}\n" + "".join(f"    {line}\n" for line in image_lines)
    return text


def layered(
    root: Path,
    *,
    env_test: tuple[str, ...] = ("newTag: test",),
    cluster_test: tuple[str, ...] = ("newTag: 1.3.0",),
) -> GitOpsRepo:
    """Write the layout (``env_test``: the images lines of environments' test overlay,
    ``cluster_test``: those of each cluster's test overlay) and open it."""
    up = "../../../../environments/overlays"
    files = {
        "promoter.yaml": _pipelines(),
        "environments/base/kustomization.yaml": "resources:\n  - client.yaml\n",
        "environments/base/client.yaml": _CLIENT,
        "environments/overlays/dev/kustomization.yaml": overlay("../../base", "newTag: 1.4.0"),
        ENV_TEST: overlay("../../base", *env_test),
        "environments/overlays/prod/kustomization.yaml": overlay("../../base", "newTag: 1.2.0"),
    }
    for cluster in CLUSTERS:
        files[f"clusters/{cluster}/overlays/test/kustomization.yaml"] = overlay(
            f"{up}/test", *cluster_test
        )
        files[f"clusters/{cluster}/overlays/prod/kustomization.yaml"] = overlay(
            f"{up}/prod", "newTag: 1.2.0"
        )
    write_files(root, files)
    return GitOpsRepo.open(root)


def stage_dirs(root: Path) -> list[Path]:
    """Every stage directory of the layout, environments first."""
    dirs = [root / "environments/overlays" / s for s in ("dev", "test", "prod")]
    return dirs + [
        root / "clusters" / c / "overlays" / s for c in CLUSTERS for s in ("test", "prod")
    ]
