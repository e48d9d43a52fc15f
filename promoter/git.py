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

from promoter.errors import GitError, PushRaced, PushRejected

if TYPE_CHECKING:
    import git

_TOKEN_ENV = "PROMOTER_GIT_TOKEN"
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "x-access-token" ;;
  *) printf '%s\\n' "$PROMOTER_GIT_TOKEN" ;;
esac
"""


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
    status, out, err = _execute(repo, args, env)
    if status != 0:
        raise GitError(f"git {args[0]} failed: {_message(err or out, status, env)}")
    return out


def _execute(
    repo: git.Repo, args: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[int, str, str]:
    """Run git; its exit status, stdout and stderr (never raises for a failing command)."""
    import git

    try:
        with repo.git.custom_environment(**(env or {})):
            status, out, err = repo.git.execute(
                ["git", *args], with_extended_output=True, with_exceptions=False
            )
    except git.GitCommandNotFound:
        raise GitError("git is not installed (or not on PATH)") from None
    return int(status or 0), str(out), str(err)


def _message(text: str, status: int, env: Mapping[str, str] | None) -> str:
    """The last lines git printed, as one line, any token masked."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = "; ".join(lines[-3:]) if lines else f"exit code {status}"
    return _scrub(message, env)


def _scrub(text: str, env: Mapping[str, str] | None) -> str:
    token = (env or {}).get(_TOKEN_ENV)
    if token:
        text = text.replace(token, "***")
    # Credentials a user wrote into a remote URL (https://user:secret@host/...) are masked too.
    return re.sub(r"(?<=://)[^/@\s]*@", "***@", text)


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
    ref = f"refs/heads/{branch}"
    status, out, err = _execute(repo, ["fetch", "--quiet", "--no-tags", remote_name, ref], env)
    if status != 0:
        if "couldn't find remote ref" in err:
            raise GitError(
                f"branch {branch!r} does not exist on remote {remote_name!r}; use --base"
            )
        raise GitError(f"git fetch failed: {_message(err or out, status, env)}")
    return _run(repo, ["rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}"]).strip()


@contextmanager
def worktree(repo: git.Repo, commit: str) -> Iterator[git.Repo]:
    """A temporary detached worktree at ``commit``; removed on exit, whatever happens."""
    import git

    parent = Path(tempfile.mkdtemp(prefix="promoter-"))
    path = parent / "worktree"
    try:
        _run(repo, ["worktree", "add", "--detach", "--quiet", str(path), commit])
        tree = git.Repo(path)
        try:
            yield tree
        finally:
            tree.close()
    finally:
        with suppress(GitError):
            _run(repo, ["worktree", "remove", "--force", str(path)])
        shutil.rmtree(parent, ignore_errors=True)
        with suppress(GitError):
            _run(repo, ["worktree", "prune"])


def commit(tree: git.Repo, message: str, paths: Sequence[str]) -> str:
    """Commit ``paths`` on the (detached) HEAD of ``tree``; the new commit's sha.

    The author and committer are git's own: ``user.name``/``user.email`` from the
    configuration, overridden by ``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` when set."""
    _run(tree, ["add", "--", *paths])
    status, out, err = _execute(tree, ["commit", "--quiet", "--no-verify", "-m", message])
    if status != 0:
        if any(hint in err for hint in ("Please tell me who you are", "identity", "user.email")):
            raise GitError(
                "git has no author identity: set user.name and user.email "
                "(git config) or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL"
            )
        raise GitError(f"git commit failed: {_message(err or out, status, None)}")
    return _run(tree, ["rev-parse", "HEAD"]).strip()


def set_branch(repo: git.Repo, branch: str, sha: str) -> None:
    """Point local ``branch`` at ``sha`` (created, or moved when it exists)."""
    _run(repo, ["branch", "--force", "--no-track", branch, sha])


_RACED = ("stale info", "fetch first", "non-fast-forward", "cannot lock ref")


def push(
    tree: git.Repo,
    remote_name: str,
    branch: str,
    expected: str | None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Push HEAD to ``branch``, only if the remote branch is still at ``expected`` (None:
    only if it does not exist).  ``PushRaced`` when it moved meanwhile, ``PushRejected``
    when the remote refuses (no rights, a hook, protection rules)."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    args = ["push", "--porcelain", lease, remote_name, f"HEAD:refs/heads/{branch}"]
    status, out, err = _execute(tree, args, env)
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
    if refused:
        reason = "; ".join(refused + remote_says[-2:])
        if any(word in reason for word in _RACED):
            raise PushRaced(f"{where} lost a race with another writer: {_scrub(reason, env)}")
        raise PushRejected(f"{where} was rejected: {_scrub(reason, env)}")
    text = err or out
    if any(word in text for word in ("denied", "403", "Permission", "not allowed")):
        raise PushRejected(f"{where} was rejected: {_message(text, status, env)}")
    raise GitError(f"{where} failed: {_message(text, status, env)}")


_CREDENTIAL_HELPER_RESET = "credential.helper"


@contextmanager
def credentials(token: str | None, remote_url: str) -> Iterator[dict[str, str]]:
    """Environment for git commands that talk to the remote; for HTTPS remotes with a
    token, an askpass helper (a temporary script) that hands git the token from the
    environment, deleted on exit.  Credential helpers are switched off for those
    commands so that no helper stores (or shadows) the token."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if not token or not remote_url.startswith(("https://", "http://")):
        yield env
        return
    folder = Path(tempfile.mkdtemp(prefix="promoter-askpass-"))
    script = folder / "askpass.sh"
    try:
        script.write_text(_ASKPASS, encoding="utf-8")
        script.chmod(stat.S_IRWXU)
        yield {
            **env,
            **_extra_config(_CREDENTIAL_HELPER_RESET, ""),
            "GIT_ASKPASS": str(script),
            _TOKEN_ENV: token,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _extra_config(key: str, value: str) -> dict[str, str]:
    """``GIT_CONFIG_COUNT``/``KEY``/``VALUE`` variables adding one setting after the user's."""
    try:
        count = max(int(os.environ.get("GIT_CONFIG_COUNT", "0") or "0"), 0)
    except ValueError:
        count = 0
    return {
        "GIT_CONFIG_COUNT": str(count + 1),
        f"GIT_CONFIG_KEY_{count}": key,
        f"GIT_CONFIG_VALUE_{count}": value,
    }
