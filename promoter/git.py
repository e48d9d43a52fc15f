"""The one door to git: small functions over GitPython, errors turned into ``GitError``.

Promotions never touch the user's working tree, index or current branch: they are built in
a temporary worktree checked out at the fetched remote tip, which is removed even on error
or Ctrl-C.  Tokens reach git only through an askpass helper that reads an environment
variable of the git process: never a URL, argv, log line or ``.git/config``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.errors import GitError

if TYPE_CHECKING:
    import git

_TOKEN_ENV = "PROMOTER_GIT_TOKEN"
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "x-access-token" ;;
  *) printf '%s\\n' "$PROMOTER_GIT_TOKEN" ;;
esac
"""


class PushRejected(GitError):
    """The remote refused the push (a race with another writer, or no rights)."""


@dataclass(frozen=True)
class Remote:
    """A git remote: its name and fetch URL."""

    name: str
    url: str


def open_repo(path: Path) -> git.Repo:
    """The git repository containing ``path``."""
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(f"{path}: not inside a git repository") from None


def toplevel(repo: git.Repo) -> Path:
    """The top directory of the working tree."""
    if repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir}: a bare repository has no working tree")
    return Path(repo.working_tree_dir).resolve()


def remote(repo: git.Repo, name: str) -> Remote:
    """Remote ``name`` (``origin`` usually)."""
    for candidate in repo.remotes:
        if candidate.name == name:
            urls = list(candidate.urls)
            return Remote(name, urls[0] if urls else "")
    known = ", ".join(r.name for r in repo.remotes) or "none"
    raise GitError(f"no git remote named {name!r} (remotes: {known}); use --remote")


def _run(repo: git.Repo, args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    import git

    try:
        with repo.git.custom_environment(**(env or {})):
            return str(repo.git.execute(["git", *args]))
    except git.GitCommandError as exc:
        raise GitError(f"git {args[0]} failed: {_stderr(exc, env)}") from None


def _stderr(exc: git.GitCommandError, env: Mapping[str, str] | None) -> str:
    text = str(exc.stderr or exc.stdout or exc).strip()
    text = re.sub(r"^stderr: '?|'$", "", text, flags=re.MULTILINE).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = "; ".join(lines[-3:]) if lines else f"exit code {exc.status}"
    token = (env or {}).get(_TOKEN_ENV)
    return message.replace(token, "***") if token else message


def default_branch(repo: git.Repo, remote_name: str, env: Mapping[str, str] | None = None) -> str:
    """The remote's default branch (what its HEAD points at)."""
    out = _run(repo, ["ls-remote", "--symref", remote_name, "HEAD"], env)
    found = re.search(r"^ref: refs/heads/(\S+)\s+HEAD", out, flags=re.MULTILINE)
    if found is None:
        raise GitError(f"cannot tell the default branch of remote {remote_name!r}; use --base")
    return found.group(1)


def remote_sha(
    repo: git.Repo, remote_name: str, branch: str, env: Mapping[str, str] | None = None
) -> str | None:
    """The commit ``branch`` points at on the remote, None when it does not exist."""
    out = _run(repo, ["ls-remote", remote_name, f"refs/heads/{branch}"], env)
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def fetch(
    repo: git.Repo, remote_name: str, branch: str, env: Mapping[str, str] | None = None
) -> str:
    """Fetch ``branch`` from the remote; returns the fetched commit."""
    _run(repo, ["fetch", "--quiet", "--no-tags", remote_name, f"refs/heads/{branch}"], env)
    return _run(repo, ["rev-parse", "FETCH_HEAD^{commit}"]).strip()


@contextmanager
def worktree(repo: git.Repo, commit: str) -> Iterator[git.Repo]:
    """A temporary detached worktree at ``commit``; removed on exit, whatever happens."""
    import git

    parent = Path(tempfile.mkdtemp(prefix="promoter-"))
    path = parent / "worktree"
    try:
        _run(repo, ["worktree", "add", "--detach", "--quiet", str(path), commit])
        yield git.Repo(path)
    finally:
        with suppress(GitError):
            _run(repo, ["worktree", "remove", "--force", str(path)])
        shutil.rmtree(parent, ignore_errors=True)
        with suppress(GitError):
            _run(repo, ["worktree", "prune"])


def commit(tree: git.Repo, branch: str, message: str, paths: Sequence[str]) -> str:
    """Create (or reset) local ``branch`` at HEAD of ``tree``, commit ``paths``; the sha."""
    _run(tree, ["checkout", "--quiet", "-B", branch])
    _run(tree, ["add", "--", *paths])
    try:
        _run(tree, ["commit", "--quiet", "--no-verify", "-m", message])
    except GitError as exc:
        if "tell me who you are" in str(exc) or "user.email" in str(exc):
            raise GitError(
                "git has no author identity: set user.name and user.email "
                "(git config) or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL"
            ) from None
        raise
    return _run(tree, ["rev-parse", "HEAD"]).strip()


def push(
    tree: git.Repo,
    remote_name: str,
    branch: str,
    expected: str | None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Push HEAD to ``branch``, only if the remote branch is still at ``expected``."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    try:
        _run(
            tree,
            ["push", "--quiet", "--porcelain", lease, remote_name, f"HEAD:refs/heads/{branch}"],
            env,
        )
    except GitError as exc:
        text = str(exc)
        if any(
            word in text for word in ("rejected", "stale info", "non-fast-forward", "denied", "403")
        ):
            raise PushRejected(
                f"push of {branch} to {remote_name} was rejected: {text.split(': ', 1)[-1]}"
            ) from None
        raise


@contextmanager
def credentials(token: str | None, remote_url: str) -> Iterator[dict[str, str]]:
    """Environment for git commands that talk to the remote; for HTTPS remotes with a
    token, an askpass helper (a temporary script) that hands git the token from the
    environment, deleted on exit."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if not token or not remote_url.startswith(("https://", "http://")):
        yield env
        return
    folder = Path(tempfile.mkdtemp(prefix="promoter-askpass-"))
    script = folder / "askpass.sh"
    try:
        script.write_text(_ASKPASS, encoding="utf-8")
        script.chmod(stat.S_IRWXU)
        yield {**env, "GIT_ASKPASS": str(script), _TOKEN_ENV: token}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def author_env() -> dict[str, str]:
    """The GIT_* identity variables the user set (git itself honours them too)."""
    names = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    return {name: os.environ[name] for name in names if name in os.environ}
