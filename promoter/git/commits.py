"""Recording a promotion: commit in the worktree, then a local branch or a leased push."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from promoter import progress
from promoter.errors import GitError, PushRaced, PushRejected
from promoter.git.process import execute, masked, run, summary
from promoter.git.worktrees import origin_of

if TYPE_CHECKING:
    import git


_REF_CONFLICT = re.compile(
    r"'refs/heads/(?P<other>[^']+)' exists; cannot create|"
    r"there are still refs under 'refs/heads/(?P<below>[^']+)'"
)
_RACED = ("stale info", "fetch first", "non-fast-forward", "cannot lock ref")


def commit(tree: git.Repo, message: str, paths: Sequence[str]) -> str:
    """Commit ``paths`` on the (detached) HEAD of ``tree``; the new commit's sha.

    The author and committer are git's own: ``user.name``/``user.email`` from the
    configuration, overridden by ``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` when set."""
    run(tree, ["add", "--", *paths])
    status, out, err = execute(tree, ["commit", "--quiet", "--no-verify", "-m", message])
    if status != 0:
        if any(hint in err for hint in ("Please tell me who you are", "identity", "user.email")):
            raise GitError(
                "git has no author identity: set user.name and user.email "
                "(git config) or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL"
            )
        raise GitError(f"git commit failed: {summary(err or out, status, None)}")
    return run(tree, ["rev-parse", "HEAD"]).strip()


def set_branch(repo: git.Repo, branch: str, sha: str) -> None:
    """Point local ``branch`` at ``sha`` (created, or moved when it exists)."""
    run(repo, ["branch", "--force", "--no-track", branch, sha])


def push(
    tree: git.Repo,
    remote_name: str,
    branch: str,
    expected: str | None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Push HEAD to ``branch``, only if the remote branch is still at ``expected`` (None:
    only if it does not exist).  ``PushRaced`` when it moved meanwhile, ``PushRejected``
    when the remote refuses (no rights, a hook, protection rules).

    A temporary worktree's commit is pushed from the user's repository it was made from
    (the objects are shared): git then finds the remote as for the user's own ``git push``:
    relative paths resolved against that repository, ``insteadOf`` and ``pushInsteadOf``
    rewrites, a ``pushurl`` (issue 10 §8)."""
    progress.step(f"pushing {branch} to {remote_name}")
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    origin = origin_of(tree)
    source = "HEAD" if origin is None else run(tree, ["rev-parse", "HEAD"]).strip()
    there = [] if origin is None else ["-C", str(origin)]
    args = [*there, "push", "--porcelain", lease, remote_name, f"{source}:refs/heads/{branch}"]
    status, out, err = execute(tree, args, env)
    if status == 0:
        return
    # --porcelain reports each ref on stdout: "!<TAB>src:dst<TAB>[rejected] (reason)".
    refused = [line.split("\t")[-1].strip() for line in out.splitlines() if line.startswith("!\t")]
    remote_says = [
        line.strip()[len("remote:") :].strip()
        for line in err.splitlines()
        if line.strip().startswith("remote:") and line.strip() != "remote:"
    ]
    where = f"push of {branch} to {remote_name}"
    conflict = _REF_CONFLICT.search(err)
    if conflict is not None:
        other = conflict.group("other") or f"{conflict.group('below')}/..."
        raise PushRejected(
            f"{where} is impossible: branch {other} exists on the remote, and git cannot "
            "hold both a branch and branches below it (ref directory conflict); "
            f"delete or rename {other}"
        )
    if refused:
        reason = "; ".join(refused + remote_says[-2:])
        if any(word in reason for word in _RACED):
            raise PushRaced(f"{where} lost a race with another writer: {masked(reason, env)}")
        raise PushRejected(f"{where} was rejected: {masked(reason, env)}")
    text = err or out
    if any(word in text for word in ("denied", "403", "Permission", "not allowed")):
        raise PushRejected(f"{where} was rejected: {summary(text, status, env)}")
    raise GitError(f"{where} failed: {summary(text, status, env)}")
