"""Temporary worktrees: promotions never touch the user's working tree, index or branch."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from promoter import tempdirs
from promoter.errors import GitError
from promoter.git.process import run

if TYPE_CHECKING:
    import git


_ORIGINS: dict[str, Path] = {}
"""The working tree of the repository each open temporary worktree was made from."""


def origin_of(tree: git.Repo) -> Path | None:
    """The user's working tree that temporary worktree ``tree`` was made from (None: not
    one of ours); pushes run there, so that its remotes mean what they mean to the user."""
    top = tree.working_tree_dir
    return _ORIGINS.get(str(Path(top).resolve())) if top else None


@contextmanager
def worktree(repo: git.Repo, commit: str) -> Iterator[git.Repo]:
    """A temporary detached worktree at ``commit``; removed on exit, whatever happens."""
    import git

    parent = tempdirs.make()
    # A name unique to the run: git names the worktree's admin directory after it, and a
    # shared name made parallel runs collide (issue 11).
    path = parent / parent.name
    with suppress(GitError):
        run(repo, ["worktree", "prune"])  # worktrees of killed runs whose folder was swept
    try:
        run(repo, ["worktree", "add", "--detach", "--quiet", str(path), commit])
        tree = git.Repo(path)
        if repo.working_tree_dir is not None:
            _ORIGINS[str(Path(tree.working_tree_dir or path).resolve())] = Path(
                repo.working_tree_dir
            )
        try:
            yield tree
        finally:
            _ORIGINS.pop(str(Path(tree.working_tree_dir or path).resolve()), None)
            tree.close()
    finally:
        with suppress(GitError):
            run(repo, ["worktree", "remove", "--force", str(path)])
        shutil.rmtree(parent, ignore_errors=True)
        with suppress(GitError):
            run(repo, ["worktree", "prune"])
