"""Reading the remote: its default branch, where a branch points, fetching a branch."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from promoter.errors import GitError
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
    repo: git.Repo, remote_name: str, branch: str, env: Mapping[str, str] | None = None
) -> str | None:
    """The commit ``branch`` points at on the remote, None when it does not exist."""
    out = run(repo, ["ls-remote", remote_name, f"refs/heads/{branch}"], env)
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def fetch(
    repo: git.Repo, remote_name: str, branch: str, env: Mapping[str, str] | None = None
) -> str:
    """Fetch ``branch`` from the remote; returns the fetched commit."""
    ref = f"refs/heads/{branch}"
    status, out, err = execute(repo, ["fetch", "--quiet", "--no-tags", remote_name, ref], env)
    if status != 0:
        if "couldn't find remote ref" in err:
            raise GitError(
                f"branch {branch!r} does not exist on remote {remote_name!r}; use --base"
            )
        raise GitError(f"git fetch failed: {summary(err or out, status, env)}")
    return run(repo, ["rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}"]).strip()
