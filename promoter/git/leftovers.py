"""Worktrees left by runs that were killed (SIGKILL, a lost machine): removed by the next
run, and only those provably the tool's (issue 11).

A registered worktree is the tool's when git's record of it (``.git/worktrees/<name>``)
points into a ``promoter-*`` directory of the temp folder, where every run makes its
worktree.  It is a leftover when that directory is gone, or is a leftover itself
(``tempdirs.stale``: its owner no longer runs).  A worktree git is still adding, or that
someone locked (a ``locked`` file), is never touched.

This replaces ``git worktree prune``: that also drops the user's own worktrees whose folder
is missing, and raced with another run's ``git worktree add`` (it deleted the record git
was still writing: "could not open .../locked").

Git itself is not safe when a ``git worktree add`` runs beside another git command of the
same repository: another ``worktree add`` reads its half-written record ("failed to read
.../commondir"), and a ``fetch`` reads its placeholder HEAD ("bad object
worktrees/.../HEAD").  So runs take ``worktree_lock`` to add, remove and sweep worktrees
and to fetch: one at a time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from promoter import tempdirs

if TYPE_CHECKING:
    import git


@contextmanager
def worktree_lock(repo: git.Repo) -> Iterator[None]:
    """Hold the lock of ``repo``'s worktree records: an advisory ``flock`` on its git
    directory (no file is created; other git processes do not see it)."""
    fd = os.open(repo.common_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sweep_worktrees(repo: git.Repo) -> list[Path]:
    """Remove the worktrees of ended runs of the tool (their records and folders); the
    worktree paths removed."""
    records = Path(repo.common_dir) / "worktrees"
    try:
        entries = sorted(records.iterdir())
    except OSError:
        return []
    temp = Path(tempfile.gettempdir()).resolve()
    removed: list[Path] = []
    for record in entries:
        path = leftover(record, temp)
        if path is None:
            continue
        shutil.rmtree(path.parent, ignore_errors=True)
        shutil.rmtree(record, ignore_errors=True)
        removed.append(path)
    return removed


def leftover(record: Path, temp: Path) -> Path | None:
    """The worktree path of ``record`` (a ``.git/worktrees/<name>`` directory) when it is a
    worktree of the tool's in ``temp`` that no run uses any more, else None."""
    if record.is_symlink() or not record.is_dir() or (record / "locked").exists():
        return None
    try:
        gitdir = Path((record / "gitdir").read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return None  # being added, or not a record git would keep
    if not gitdir.is_absolute() or gitdir.name != ".git":
        return None
    path = gitdir.parent
    holder = path.parent
    if not holder.name.startswith(tempdirs.PREFIX) or _resolved(holder.parent) != temp:
        return None
    if not holder.exists() and not holder.is_symlink():
        return path  # its folder is gone: only git's record is left
    return path if tempdirs.stale(holder) else None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path
