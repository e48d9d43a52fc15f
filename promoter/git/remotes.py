"""Reading the remote: its default branch, where a branch points, fetching a branch."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from promoter import progress, tempdirs
from promoter.errors import GitError
from promoter.git.leftovers import worktree_lock
from promoter.git.process import execute, run, summary

if TYPE_CHECKING:
    import git


def default_branch(repo: git.Repo, remote_name: str, env: Mapping[str, str] | None = None) -> str:
    """The remote's default branch (what its HEAD points at)."""
    out = run(repo, ["ls-remote", "--symref", remote_name, "HEAD"], env)
    found = re.search(r"^ref: refs/heads/(\S+)\s+HEAD", out, flags=re.MULTILINE)
    if found is None:
        raise GitError(f"cannot tell the default branch of remote {remote_name!r}; use --base")
    return found.group(1)


def remote_sha(
    repo: git.Repo,
    remote_name: str,
    branch: str,
    env: Mapping[str, str] | None = None,
    *,
    push: bool = False,
) -> str | None:
    """The commit ``branch`` points at on the remote, None when it does not exist;
    ``push``: on the remote pushes go to (its ``pushurl`` or ``pushInsteadOf`` rewrite,
    when it has one)."""
    where = push_url(repo, remote_name) if push else None
    out = run(repo, ["ls-remote", where or remote_name, f"refs/heads/{branch}"], env)
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def push_url(repo: git.Repo, remote_name: str) -> str | None:
    """Where ``git push REMOTE`` sends to, when that differs from the fetch URL (a
    ``pushurl``, a ``pushInsteadOf`` rewrite); None when it does not."""
    status, pushes, _ = execute(repo, ["remote", "get-url", "--push", remote_name])
    fetches = execute(repo, ["remote", "get-url", remote_name])[1]
    first = pushes.strip().splitlines()[0] if status == 0 and pushes.strip() else ""
    return first if first and first != fetches.strip() else None


def fetch(
    repo: git.Repo, remote_name: str, branch: str, env: Mapping[str, str] | None = None
) -> str:
    """Fetch ``branch`` from the remote; returns the fetched commit.

    The branch is fetched into a ref of this run alone (``refs/promoter/<pid>-<random>``),
    never through the shared ``FETCH_HEAD``: parallel runs with other bases cannot build
    on each other's fetch (issue 11).  The ref is deleted again right away.  ``--refmap=``
    keeps git from also updating the remote-tracking branch (``refs/remotes/<remote>/*``):
    that shared ref made parallel fetches fail with "cannot lock ref"."""
    progress.step(f"fetching {branch} from {remote_name}")
    _drop_stale_refs(repo)
    ref = f"refs/heads/{branch}"
    mine = f"{RUN_REFS}{os.getpid()}-{secrets.token_hex(6)}"
    args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--refmap="]
    args += [remote_name, f"+{ref}:{mine}"]
    with worktree_lock(repo):  # fetch reads every worktree's HEAD: none may be half-made
        status, out, err = execute(repo, args, env)
    if status != 0:
        if "couldn't find remote ref" in err:
            raise GitError(
                f"branch {branch!r} does not exist on remote {remote_name!r}; use --base"
            )
        raise GitError(f"git fetch failed: {summary(err or out, status, env)}")
    try:
        return run(repo, ["rev-parse", "--verify", "--quiet", f"{mine}^{{commit}}"]).strip()
    finally:
        execute(repo, ["update-ref", "-d", mine])


RUN_REFS = "refs/promoter/"
"""Where each run fetches its base: ``<pid>-<random>`` below it."""


def _drop_stale_refs(repo: git.Repo) -> None:
    """Delete the fetch refs of earlier runs that were killed before they could."""
    status, out, _ = execute(repo, ["for-each-ref", "--format=%(refname)", RUN_REFS])
    if status != 0:
        return
    for ref in out.split():
        pid = ref[len(RUN_REFS) :].partition("-")[0]
        if pid.isdigit() and not tempdirs.alive(int(pid)):
            execute(repo, ["update-ref", "-d", ref])
