"""The run's temporary directories: each holds a marker naming the process that owns it,
and every run first removes those of earlier runs that were killed (issue 11), so even a
SIGKILL leaves nothing that lasts.

Only what is provably the tool's is removed: a real directory (not a symlink) of the temp
folder, owned by this user, and either marked by a process of this host that no longer
runs, or unmarked (left by a version before the marker), named exactly as the tool names
them (``promoter-`` or ``promoter-<kind>-``, then ``mkdtemp``'s eight random characters)
and untouched for ``STALE_AFTER`` seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "promoter-"
MARKER = ".promoter-owner"
"""File in each temporary directory holding the owning process id and host name."""
KINDS = ("askpass", "render", "verify")
"""The ``promoter-<kind>-`` prefixes of the tool's temporary directories."""
NAME = re.compile(rf"{PREFIX}(?:(?:{'|'.join(KINDS)})-)?[a-z0-9_]{{8}}")
"""The exact name of a temporary directory the tool makes (``tempfile.mkdtemp``'s suffix)."""
STALE_AFTER = 12 * 3600
"""Seconds after which an unmarked directory of the tool's is a leftover (no run lasts so
long)."""


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
    """Remove the ``promoter-*`` temporary directories left by ended runs (``stale``);
    those removed."""
    removed: list[Path] = []
    folder = base or Path(tempfile.gettempdir())
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return removed
    for candidate in candidates:
        if stale(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def stale(directory: Path) -> bool:
    """Whether ``directory`` (a ``promoter-*`` entry of the temp folder) is left by a run
    that ended without removing it: this user's real directory whose marker names a process
    of this host that no longer runs; or, unmarked (a version before the marker), named
    exactly as the tool names them and untouched for ``STALE_AFTER`` seconds."""
    try:
        info = directory.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    pid = owner(directory)
    if pid is not None:
        return not alive(pid)
    if (directory / MARKER).exists() or not NAME.fullmatch(directory.name):
        return False  # marked on another host (not ours to judge), or not provably ours
    return _untouched_since(directory) < time.time() - STALE_AFTER


def _untouched_since(directory: Path) -> float:
    """The latest modification time of ``directory`` and its direct entries."""
    latest = directory.lstat().st_mtime
    try:
        for entry in os.scandir(directory):
            latest = max(latest, entry.stat(follow_symlinks=False).st_mtime)
    except OSError:
        return time.time()  # cannot look inside: treat as fresh
    return latest


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
