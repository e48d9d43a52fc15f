"""Temporary worktrees: promotions never touch the user's working tree, index or branch."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.errors import GitError
from promoter.git.process import run

if TYPE_CHECKING:
    import git


@contextmanager
def worktree(repo: git.Repo, commit: str) -> Iterator[git.Repo]:
    """A temporary detached worktree at ``commit``; removed on exit, whatever happens."""
    import git

    parent = Path(tempfile.mkdtemp(prefix="promoter-"))
    path = parent / "worktree"
    try:
        run(repo, ["worktree", "add", "--detach", "--quiet", str(path), commit])
        tree = git.Repo(path)
        try:
            yield tree
        finally:
            tree.close()
    finally:
        with suppress(GitError):
            run(repo, ["worktree", "remove", "--force", str(path)])
        shutil.rmtree(parent, ignore_errors=True)
        with suppress(GitError):
            run(repo, ["worktree", "prune"])
