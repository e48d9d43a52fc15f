"""Small helpers that write GitOps repositories (files, Flux syncs, workloads) into tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The checkout, whose base/, pipelines/ and image-automation/ form the example repo."""

EXAMPLE_DIRS = ("base", "pipelines", "image-automation")

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def write(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (text is dedented); return ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def example_repo(dest: Path) -> Path:
    """A private copy of the example repository (only its GitOps directories) at ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_DIRS:
        shutil.copytree(PROJECT_ROOT / name, dest / name)
    return dest


def git_init(root: Path) -> Path:
    """Make ``root`` a git repository with everything committed; return ``root``."""
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True)
    return root


def flux_sync(
    name: str,
    path: str,
    pipeline: str | None,
    stage: str | int | None,
    *,
    namespace: str | None = "flux-system",
    api_version: str = "kustomize.toolkit.fluxcd.io/v1",
    spec_extra: str = "",
) -> str:
    """A Flux ``Kustomization`` reconciling ``path``, labelled as a stage of ``pipeline``."""
    labels = []
    if pipeline is not None:
        labels.append(f"    pipelines.weave.works/name: {pipeline}")
    if stage is not None:
        value = f'"{stage}"' if isinstance(stage, int) else stage
        labels.append(f"    pipelines.weave.works/stage: {value}")
    lines = [
        f"apiVersion: {api_version}",
        "kind: Kustomization",
        "metadata:",
        f"  name: {name}",
    ]
    if namespace is not None:
        lines.append(f"  namespace: {namespace}")
    if labels:
        lines += ["  labels:", *labels]
    lines += [
        "spec:",
        "  interval: 5m",
        f"  path: {path}",
        "  prune: true",
        "  sourceRef:",
        "    kind: GitRepository",
        "    name: flux-system",
    ]
    text = "\n".join(lines) + "\n"
    if spec_extra:
        text += textwrap.indent(textwrap.dedent(spec_extra).strip("\n"), "  ") + "\n"
    return text


def deployment(name: str, image: str, *, container: str | None = None) -> str:
    """A one-container Deployment; the image is on line 17 at column 17."""
    return textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
        spec:
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              containers:
                - name: {container or name}
                  # the version
                  image: {image}
        """
    )


def kustomization(*resources: str, extra: str = "") -> str:
    """A kustomization.yaml listing ``resources`` (plus any extra YAML text)."""
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        *(f"  - {r}" for r in resources),
    ]
    text = "\n".join(lines) + "\n"
    if extra:
        text += textwrap.dedent(extra).strip("\n") + "\n"
    return text


def simple_pipeline(
    root: Path,
    pipeline: str = "demo",
    stages: Mapping[str, tuple[int, str]] | None = None,
    *,
    app: str = "app",
) -> Path:
    """A pipeline whose stages ``{name: (order, tag)}`` each deploy ``app`` from ``stages/<name>``.

    Every stage directory has ``kustomization.yaml`` (listing ``deployment.yaml``),
    ``deployment.yaml`` (image ``example.com/<app>:<tag>`` on line 17) and ``sync.yaml``
    (the Flux Kustomization named ``<pipeline>-<stage>``).
    """
    stages = stages if stages is not None else {"dev": (0, "1.1.0"), "prod": (1, "1.0.0")}
    for stage, (order, tag) in stages.items():
        base = f"{pipeline}/{stage}"
        write(
            root,
            {
                f"{base}/kustomization.yaml": kustomization("deployment.yaml"),
                f"{base}/deployment.yaml": deployment(app, f"example.com/{app}:{tag}"),
                f"{base}/sync.yaml": flux_sync(f"{pipeline}-{stage}", f"./{base}", pipeline, order),
            },
        )
    return root
