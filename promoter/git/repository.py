"""The local repository: opening it, its top directory, its git directory, its remotes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.errors import GitError
from promoter.git.process import output

if TYPE_CHECKING:
    import git


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
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise GitError(f"{path}: not inside a git repository") from exc


def toplevel(repo: git.Repo) -> Path:
    """The top directory of the working tree."""
    if repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir}: a bare repository has no working tree")
    return Path(repo.working_tree_dir).resolve()


def toplevel_of(path: Path) -> Path | None:
    """The top directory of the working tree containing directory ``path``, as git prints
    it; None outside a working tree (or when ``path`` is no directory)."""
    if not path.is_dir():
        return None
    done = output(path, ["rev-parse", "--show-toplevel"])
    top = done.stdout.decode(errors="surrogateescape").strip()
    return Path(top) if done.returncode == 0 and top else None


def git_dir(top: Path) -> Path:
    """The (absolute) git directory of the repository at ``top``."""
    done = output(top, ["rev-parse", "--absolute-git-dir"])
    if done.returncode != 0:
        raise GitError(f"{top}: not a git repository")
    return Path(done.stdout.decode(errors="surrogateescape").strip())


def remote(repo: git.Repo, name: str) -> Remote:
    """Remote ``name`` (``origin`` usually)."""
    for candidate in repo.remotes:
        if candidate.name == name:
            urls = list(candidate.urls)
            return Remote(name, urls[0] if urls else "")
    known = ", ".join(r.name for r in repo.remotes) or "none"
    raise GitError(f"no git remote named {name!r} (remotes: {known}); use --remote")


def head_commit(top: Path) -> str | None:
    """The commit checked out at ``top`` (None in a repository without commits)."""
    done = output(top, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
    sha = done.stdout.decode(errors="replace").strip()
    return sha if done.returncode == 0 and sha else None


def is_dirty(top: Path) -> bool:
    """Whether the working tree at ``top`` has uncommitted changes to tracked files."""
    done = output(top, ["status", "--porcelain", "--untracked-files=no"])
    return done.returncode == 0 and bool(done.stdout.strip())


def remote_url(top: Path, name: str = "origin") -> str | None:
    """The fetch URL of remote ``name`` as written in the configuration (None when there is
    no such remote); callers show it only through ``redact_url``."""
    done = output(top, ["config", "--get", f"remote.{name}.url"])
    url = done.stdout.decode(errors="replace").strip()
    return url if done.returncode == 0 and url else None
