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
