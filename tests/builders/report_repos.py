"""A generated GitOps repository for the report tests: hostile names (markup and script in
pipeline, stage, app names, commit subjects and authors), long versions (digests, long tags)
and a long history, on a GitHub remote whose URL carries a credential."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PIPELINE = "<svg onload=alert(1)>"
DEV = 'dev"><script>alert(2)</script>'
PROD = "prod'><img src=x onerror=alert(3)>"
APP = "<script>alert(4)</script>"
DIGEST = "sha256:" + "0123456789abcdef" * 4
LONG_TAG = "2026.11.30-build.123456789-" + "a1b2c3d4e5f6" * 3
SUBJECT = "Bump <img src=x onerror=alert(5)> & <script>alert(6)</script> (#{n})"
AUTHOR = "Mallory \"' onmouseover='alert(7)\" & Co"
SECRET = "s3cret-token-value"
REMOTE = f"https://x-access-token:{SECRET}@github.com/acme/gitops.git"
COMMITS = 40

_CONFIG = f"""\
pipelines:
  - name: '{PIPELINE}'
    soak: 1000h
    stages:
      - name: '{DEV}'
        path: env/dev
      - name: "{PROD}"
        path: env/prod
        freeze:
          - from: 2020-01-01T00:00
            to: 2100-01-01T00:00
            reason: "<b>forever</b>"
"""


def _apps(tag: str, digest: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{APP}"
spec:
  template:
    spec:
      containers:
        - name: main
          image: registry.example.com/platform/team-with-a-long-name/service:{tag}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pinned
spec:
  template:
    spec:
      containers:
        - name: pinned
          image: registry.example.com/platform/pinned@{digest}
"""


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, env={**os.environ, **(env or {})}
    )


def _write(root: Path, path: str, text: str) -> None:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def make_hostile_repo(root: Path) -> Path:
    """The repository at ``root`` (created): ``COMMITS`` commits after the first, each moving
    the dev tag, with hostile subjects and author names; the latest dev tag is ``LONG_TAG``."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "remote", "add", "origin", REMOTE)
    _write(root, "promoter.yaml", _CONFIG)
    for stage in ("dev", "prod"):
        _write(root, f"env/{stage}/kustomization.yaml", "resources:\n  - apps.yaml\n")
    _write(root, "env/prod/apps.yaml", _apps("1.0.0", "sha256:" + "f" * 64))
    for n in range(COMMITS + 1):
        tag = LONG_TAG if n == COMMITS else f"1.0.{n}"
        _write(root, "env/dev/apps.yaml", _apps(tag, DIGEST))
        when = f"2026-11-{1 + n // 2:02d}T{10 + n % 2:02d}:00:00+00:00"
        who = {
            "GIT_AUTHOR_NAME": AUTHOR,
            "GIT_AUTHOR_EMAIL": "mallory@example.com",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": "CI",
            "GIT_COMMITTER_EMAIL": "ci@example.com",
            "GIT_COMMITTER_DATE": when,
        }
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", SUBJECT.format(n=n + 1), env=who)
    return root
