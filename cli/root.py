"""Which repository a command works on: ``--repo``, or the git top-level of the current
directory.  Free of Typer, so the console script's fast path (``cli.fastpath``) finds the
repository exactly as the commands do."""

from __future__ import annotations

from pathlib import Path


def repo_root(repo: Path | None) -> Path:
    """``--repo`` or the git top-level of the current directory; outside a git work tree,
    one line asking for ``--repo`` (never a scan of whatever directory the user is in)."""
    if repo is not None:
        return repo
    from promoter import git
    from promoter.errors import GitError, RepoError

    try:
        top = git.toplevel_of(Path.cwd())
    except GitError:  # git cannot run: the current directory is all there is
        return Path.cwd()
    if top is None:
        raise RepoError(NOT_A_REPOSITORY)
    return top


NOT_A_REPOSITORY = "not inside a git repository; pass --repo PATH"
"""What every command says when run outside a git work tree without ``--repo``."""
