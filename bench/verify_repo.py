"""A GitOps repository of about 4,500 files whose stages need a real render to verify a
promotion (issue 10 §6): three cluster stages (``clusters/<env>``) of 30 apps each, every app
with a ``configMapGenerator`` reading a file and every stage a ``secretGenerator`` reading an
env file, the versions set by each stage's ``images:``; next to them, thousands of files the
renders never read (runbooks below each stage directory, docs, the apps no stage deploys).

``promote app-007 dev staging --dry-run`` verifies with kustomize: the measurement times it.
"""

from __future__ import annotations

from pathlib import Path

ENVS = ("dev", "staging", "prod")
APPS = 150
"""Apps in ``apps/``; each stage deploys the first ``DEPLOYED``."""
DEPLOYED = 30
NOTES = 1100
"""Unrelated files below each stage directory."""
DOCS = 594
APP = "app-007"
OLD, NEW = "1.0.0", "1.1.0"


def _app(name: str) -> dict[str, str]:
    return {
        f"apps/{name}/kustomization.yaml": (
            "resources:\n  - deploy.yaml\n  - service.yaml\nconfigMapGenerator:\n"
            f"  - name: {name}-config\n    files:\n      - config/app.properties\n"
        ),
        f"apps/{name}/deploy.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            f"  name: {name}\n  labels:\n    app: {name}\nspec:\n  selector:\n    matchLabels:\n"
            f"      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n"
            f"    spec:\n      containers:\n        - name: {name}\n"
            f"          image: registry.example.com/{name}:0.0.0\n"
        ),
        f"apps/{name}/service.yaml": (
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n"
            f"  selector:\n    app: {name}\n  ports:\n    - port: 80\n"
        ),
        f"apps/{name}/config/app.properties": f"name={name}\nlog.level=info\n",
    }


def _stage(env: str) -> dict[str, str]:
    apps = [f"app-{n:03d}" for n in range(DEPLOYED)]
    tags = {a: NEW if (a, env) == (APP, "dev") else OLD for a in apps}
    images = "".join(f"  - name: registry.example.com/{a}\n    newTag: {tags[a]}\n" for a in apps)
    files = {
        f"clusters/{env}/kustomization.yaml": (
            "resources:\n"
            + "".join(f"  - ../../apps/{a}\n" for a in apps)
            + "secretGenerator:\n  - name: cluster-secrets\n    envs:\n"
            + f"      - secrets/{env}.env\nimages:\n{images}"
        ),
        f"clusters/{env}/secrets/{env}.env": f"CLUSTER={env}\n",
    }
    for n in range(NOTES):
        files[f"clusters/{env}/runbooks/{n // 100:02d}/note-{n:04d}.md"] = f"# note {n}\n"
    return files


def build(root: Path) -> int:
    """Write the repository at ``root`` (an empty or absent directory); its file count."""
    files: dict[str, str] = {
        "promoter.yaml": "pipelines:\n  - name: fleet\n    stages:\n"
        + "".join(f"      - path: clusters/{env}\n" for env in ENVS),
    }
    for n in range(APPS):
        files.update(_app(f"app-{n:03d}"))
    for env in ENVS:
        files.update(_stage(env))
    for n in range(DOCS):
        files[f"docs/{n // 100:02d}/page-{n:04d}.md"] = f"# page {n}\n"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(files)
