"""The run's temporary directories: each holds a marker naming the process that owns it,
and every run first removes those of earlier runs that were killed (issue 11), so even a
SIGKILL leaves nothing that lasts."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "promoter-"
MARKER = ".promoter-owner"
"""File in each temporary directory holding the owning process id and host name."""


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner(directory: Path) -> int | None:
    """The process id written in ``directory``'s marker, None when it has none or when it
    was written on another host (a /tmp shared between containers: not ours to judge)."""
    try:
        pid, _, host = (directory / MARKER).read_text(encoding="utf-8").strip().partition(" ")
        return int(pid) if host == _host() else None
    except (OSError, ValueError):
        return None


def _host() -> str:
    return socket.gethostname()


def sweep(base: Path | None = None) -> list[Path]:
    """Remove the ``promoter-*`` temporary directories whose owner is dead; those removed."""
    removed: list[Path] = []
    folder = base or Path(tempfile.gettempdir())
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return removed
    for candidate in candidates:
        if candidate.is_symlink() or not candidate.is_dir():
            continue
        pid = owner(candidate)
        if pid is not None and not alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def make(prefix: str = PREFIX) -> Path:
    """A new temporary directory owned by this process (stale ones are swept first)."""
    sweep()
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    (folder / MARKER).write_text(f"{os.getpid()} {_host()}\n", encoding="utf-8")
    return folder


@contextmanager
def temporary(prefix: str = PREFIX) -> Iterator[Path]:
    """A temporary directory owned by this process, removed on exit."""
    folder = make(prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
