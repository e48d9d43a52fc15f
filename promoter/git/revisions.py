"""Questions about commits that the cluster features ask git (issue 8): whether a commit is
known, whether one contains another, how many commits touching some files one lacks, and
which commit the remote branch (or HEAD) points at."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from promoter.errors import GitError
from promoter.git.process import output


def is_commit(cwd: Path, sha: str) -> bool:
    """Whether the repository at ``cwd`` has commit ``sha``."""
    return output(cwd, ["cat-file", "-e", f"{sha}^{{commit}}"]).returncode == 0


def contains(cwd: Path, commit: str, ancestor: str) -> bool:
    """Whether ``commit`` contains ``ancestor`` (is it, or descends from it); False when
    either is unknown."""
    return output(cwd, ["merge-base", "--is-ancestor", ancestor, commit]).returncode == 0


def count_missing(cwd: Path, applied: str | None, tip: str, paths: Collection[str]) -> int | None:
    """``git rev-list --count APPLIED..TIP -- PATHS``: the commits up to ``tip`` touching
    ``paths`` (relative to ``cwd``) that ``applied`` does not contain; None when ``applied``
    is None or unknown to git. No paths: every commit counts."""
    if applied is None or not is_commit(cwd, applied):
        return None
    args = ["rev-list", "--count", f"{applied}..{tip}", "--", *sorted(paths)]
    done = output(cwd, args)
    if done.returncode != 0:
        return None
    return int(done.stdout.decode().strip() or 0)


def resolve(cwd: Path, ref: str) -> str | None:
    """The commit ``ref`` names, None when it names none."""
    done = output(cwd, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
    sha = done.stdout.decode().strip()
    return sha if done.returncode == 0 and sha else None


def branch_tip(cwd: Path, remote_name: str = "origin", env: Mapping[str, str] | None = None) -> str:
    """The tip of the remote's default branch, fetched (so its commits are here); HEAD when
    the repository has no such remote. A GitError when the remote cannot be fetched."""
    from promoter.git.remotes import default_branch, fetch
    from promoter.git.repository import open_repo

    repo = open_repo(cwd)
    try:
        if not any(r.name == remote_name for r in repo.remotes):
            head = resolve(cwd, "HEAD")
            if head is None:
                raise GitError(f"{cwd}: no commit checked out")
            return head
        return fetch(repo, remote_name, default_branch(repo, remote_name, env), env)
    finally:
        repo.close()
