"""Real renders with ``kustomize build`` or ``kubectl kustomize``: the ground truth, and
the fallback when the native builder cannot follow a kustomization."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promoter import children, progress, tempdirs
from promoter.errors import RenderError

TOOL_ENV = "PROMOTER_KUSTOMIZE"
"""Environment variable naming the command to render with (``kustomize`` or ``kubectl``)."""


def find_tool() -> list[str] | None:
    """The command that renders a directory, or None when neither tool is on PATH."""
    chosen = os.environ.get(TOOL_ENV)
    candidates = [chosen] if chosen else ["kustomize", "kubectl"]
    for name in candidates:
        found = shutil.which(name)
        if found is None:
            continue
        if Path(found).name.startswith("kubectl"):
            return [found, "kustomize"]
        return [found, "build"]
    return None


def render_text(
    directory: Path,
    timeout: float | None = None,
    label: str | None = None,
    shown: str | None = None,
) -> str:
    """The YAML kustomize renders for ``directory``; errors name ``label`` (the stage)
    when given, the progress step ``shown`` (the stage's repo-relative path) when given.
    The render is a tracked child: killed when the run is interrupted."""
    tool = find_tool()
    if tool is None:
        raise RenderError("cannot render: neither kustomize nor kubectl is on PATH")
    where = label or str(directory)
    limit = timeout if timeout is not None else render_timeout()
    name = f"{Path(tool[0]).name} {tool[1]}"
    progress.step(f"rendering {shown or where} with {name}")
    try:
        done = children.run([*tool, str(directory)], timeout=limit, text=True)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(
            f"{where}: {name} did not finish within {limit:g} seconds "
            f"(set {TIMEOUT_ENV} to wait longer)"
        ) from exc
    except OSError as exc:
        raise RenderError(f"{where}: {name} failed: {exc}") from exc
    if done.returncode != 0:
        message = _last_error_line(done.stderr) or f"exit code {done.returncode}"
        raise RenderError(f"{where}: {name} failed: {message}")
    return str(done.stdout)


TIMEOUT_ENV = "PROMOTER_RENDER_TIMEOUT"
"""Environment variable: seconds a render may take (default 120)."""


def render_timeout() -> float:
    """Seconds a render may take: ``PROMOTER_RENDER_TIMEOUT`` or 120."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV) or 120.0)
    except ValueError:
        return 120.0
    return value if value > 0 else 120.0


def render_stage(
    directory: Path,
    flux: Mapping[str, Any] | None = None,
    label: str | None = None,
    shown: str | None = None,
) -> str:
    """The YAML kustomize renders for ``directory`` with what a Flux Kustomization's
    ``flux`` spec adds on top (images, patches, target namespace, name prefix/suffix)."""
    extra = {
        f: flux[f]
        for f in ("images", "patches", "namePrefix", "nameSuffix")
        if flux is not None and flux.get(f)
    }
    if flux is not None and flux.get("targetNamespace"):
        extra["namespace"] = flux["targetNamespace"]
    if not extra:
        return render_text(directory, label=label, shown=shown)
    import yaml  # only here: wrapping a stage in a temporary overlay

    with tempdirs.temporary("promoter-render-") as tmp:
        # kustomize refuses absolute resource paths: point at the stage relatively.
        relative = os.path.relpath(directory, tmp)
        body = {"resources": [relative], **{k: _plain(v) for k, v in extra.items()}}
        (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
        return render_text(tmp, label=label, shown=shown)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    marker = 'err="'
    if marker in line:
        line = line.split(marker, 1)[1].rstrip('"')
    return line.replace('\\"', '"')
