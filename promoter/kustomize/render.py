"""Real renders with ``kustomize build`` or ``kubectl kustomize``: the ground truth, and
the fallback when the native builder cannot follow a kustomization."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
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
    with RenderJob(directory, timeout=timeout, label=label, shown=shown) as job:
        return job.result()


GOGC_ENV = "GOGC"
RENDER_GOGC = "200"
"""The Go garbage collector's target for a render, unless the environment sets one: a
render is a short process whose heap stays small, and Go's default (100) spends a fifth of
kubectl's CPU collecting it (issue 15); 200 costs about a sixth more memory."""


class RenderJob:
    """A render of ``directory`` running in the background, started at once: ``result()``
    waits for its YAML (or raises its ``RenderError``), ``close()`` (or leaving the
    ``with``) kills it if it still runs and removes its files.  Verification starts its
    renders as soon as their inputs are known and goes on planning meanwhile (issue 15).

    ``flux``: what a Flux Kustomization's spec adds on top (images, patches, target
    namespace, name prefix/suffix)."""

    def __init__(
        self,
        directory: Path,
        flux: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        label: str | None = None,
        shown: str | None = None,
    ) -> None:
        self._where = label or str(directory)
        self._limit = timeout if timeout is not None else render_timeout()
        self._process: subprocess.Popen[bytes] | None = None
        self._error: RenderError | None = None
        self._text: str | None = None
        self._tmp: Path | None = None
        tool = find_tool()
        if tool is None:
            self._error = RenderError("cannot render: neither kustomize nor kubectl is on PATH")
            return
        self._name = f"{Path(tool[0]).name} {tool[1]}"
        self._tmp = tempdirs.make("promoter-render-")
        try:
            target = _with_flux(directory, flux, self._tmp)
            progress.step(f"rendering {shown or self._where} with {self._name}")
            self._deadline = time.monotonic() + self._limit
            with (self._tmp / "out").open("wb") as out, (self._tmp / "err").open("wb") as err:
                self._process = children.popen(
                    [*tool, str(target)], stdout=out, stderr=err, env=_render_env()
                )
        except OSError as exc:
            self._error = RenderError(f"{self._where}: {self._name} failed: {exc}")
        except BaseException:
            self.close()
            raise

    def result(self) -> str:
        """The rendered YAML, once the render has ended."""
        if self._text is None and self._error is None:
            self._text = self._wait()
        if self._error is not None:
            raise self._error
        assert self._text is not None
        return self._text

    def _wait(self) -> str:
        process, tmp = self._process, self._tmp
        assert process is not None and tmp is not None
        try:
            _wait(process, max(self._deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            self.close()
            self._error = RenderError(
                f"{self._where}: {self._name} did not finish within {self._limit:g} seconds "
                f"(set {TIMEOUT_ENV} to wait longer)"
            )
            raise self._error from None
        children.forget(process)
        if process.returncode != 0:
            stderr = (tmp / "err").read_bytes().decode("utf-8", "replace")
            message = _last_error_line(stderr) or f"exit code {process.returncode}"
            self._error = RenderError(f"{self._where}: {self._name} failed: {message}")
            raise self._error
        return _text((tmp / "out").read_bytes())

    def close(self) -> None:
        """Kill the render if it still runs; remove its temporary files."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.kill()
                process.wait()
            children.forget(process)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> RenderJob:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _wait(process: subprocess.Popen[bytes], timeout: float) -> None:
    """``process.wait(timeout)``, woken by the exit itself where Linux gives a process file
    descriptor: ``Popen.wait`` with a timeout polls, up to 50 ms late."""
    try:
        handle = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux, or already reaped
        process.wait(timeout=timeout)
        return
    try:
        poller = select.poll()
        poller.register(handle, select.POLLIN)
        if not poller.poll(timeout * 1000):
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(handle)
    process.wait()


def _text(data: bytes) -> str:
    """The render's output as ``subprocess`` text mode reads it (universal newlines)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _render_env() -> dict[str, str] | None:
    if GOGC_ENV in os.environ:
        return None
    return {**os.environ, GOGC_ENV: RENDER_GOGC}


TIMEOUT_ENV = "PROMOTER_RENDER_TIMEOUT"
"""Environment variable: seconds a render may take (default 120)."""


def render_timeout() -> float:
    """Seconds a render may take: ``PROMOTER_RENDER_TIMEOUT`` or 120."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV) or 120.0)
    except ValueError:
        return 120.0
    return value if value > 0 else 120.0


def _with_flux(directory: Path, flux: Mapping[str, Any] | None, tmp: Path) -> Path:
    """What to render: ``directory``, or an overlay in ``tmp`` adding the Flux fields."""
    extra = {
        f: flux[f]
        for f in ("images", "patches", "namePrefix", "nameSuffix")
        if flux is not None and flux.get(f)
    }
    if flux is not None and flux.get("targetNamespace"):
        extra["namespace"] = flux["targetNamespace"]
    if not extra:
        return directory
    import yaml  # only here: wrapping a stage in a temporary overlay

    overlay = tmp / "overlay"
    overlay.mkdir()
    # kustomize refuses absolute resource paths: point at the stage relatively.
    relative = os.path.relpath(directory, overlay)
    body = {"resources": [relative], **{k: _plain(v) for k, v in extra.items()}}
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    return overlay


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
