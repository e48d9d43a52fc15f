"""Where repository files come from: the disk, or a git commit (for history).

The native reader only needs five questions answered about repo-relative POSIX paths, so
the same code reads a working tree and any commit of its history without checking it out.
"""

from __future__ import annotations

import os
from collections.abc import Container, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from promoter.safefs import UnsafeFile, read_regular, regular_inside

if TYPE_CHECKING:
    from promoter.git import BlobReader

SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})
"""Vendored and tool directories no walk enters (hidden ones are skipped as well)."""


def skipped(directory: str) -> bool:
    """Whether a walk leaves out the directory named ``directory`` (one path segment)."""
    return directory in SKIP_DIRS or directory.startswith(".")


def yaml_files(root: Path | FileSource) -> list[str]:
    """Every ``.yaml``/``.yml`` file of a repository (a directory or a snapshot), sorted and
    repo-relative, hidden and vendored directories skipped: the one walk over its files."""
    source = DiskSource(root) if isinstance(root, Path) else root
    return [path for path in source.files() if path.endswith((".yaml", ".yml"))]


class FileSource(Protocol):
    """Read-only access to the files of one repository snapshot."""

    def read_bytes(self, rel: str) -> bytes:
        """A file's bytes; ``FileNotFoundError``/``IsADirectoryError``/``OSError`` otherwise."""

    def is_file(self, rel: str) -> bool:
        """Whether ``rel`` is a file."""

    def is_dir(self, rel: str) -> bool:
        """Whether ``rel`` is a directory (``""`` is the root)."""

    def files(self, rel: str = "") -> list[str]:
        """Every file under directory ``rel``, sorted, hidden and vendored dirs skipped."""

    def inside(self, rel: str) -> bool:
        """Whether ``rel`` really stays inside the repository (symlinks resolved)."""


class DiskSource:
    """Files of a directory on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._prefix = str(self.root) + os.sep
        self._inside: dict[str, bool] = {}

    def _path(self, rel: str) -> str:
        return self._prefix + rel if rel else str(self.root)

    def read_bytes(self, rel: str) -> bytes:
        """A file's bytes."""
        # Plain string paths on purpose: Path objects cost too much on this hot path.
        parent = rel.rpartition("/")[0]
        if parent and not self.inside(parent):
            raise UnsafeFile("is inside a directory link leaving the repository", rel)
        return read_regular(self._path(rel), str(self.root), parent_inside=True)

    def is_file(self, rel: str) -> bool:
        """Whether ``rel`` is a file."""
        return os.path.isfile(self._path(rel))  # noqa: PTH113

    def is_dir(self, rel: str) -> bool:
        """Whether ``rel`` is a directory."""
        return os.path.isdir(self._path(rel))  # noqa: PTH112

    def files(self, rel: str = "") -> list[str]:
        """Every file under ``rel``."""
        # Only regular files, and links to regular files inside the repository: FIFOs,
        # devices, dangling links and links out are not listed (issue 11).  Directory links
        # are not entered, so a link loop cannot trap the walk.
        found: list[str] = []
        if rel and not self.inside(rel):
            return found
        root = str(self.root)
        pending = [rel]
        while pending:
            here = pending.pop()
            prefix = f"{here}/" if here else ""
            try:
                entries = list(os.scandir(self._path(here)))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not skipped(entry.name):
                        pending.append(prefix + entry.name)
                elif entry.is_file(follow_symlinks=False) or (
                    entry.is_symlink() and regular_inside(entry.path, root)
                ):
                    found.append(prefix + entry.name)
        return sorted(found)

    def inside(self, rel: str) -> bool:
        """Whether ``rel`` resolves inside the root (symlinks followed; cached)."""
        found = self._inside.get(rel)
        if found is None:
            parent, _, _ = rel.rpartition("/")
            if parent != rel and not os.path.islink(self._path(rel)):  # noqa: PTH114
                found = self.inside(parent)  # a plain entry is where its directory is
            else:
                real = os.path.realpath(self._path(rel))
                found = real == str(self.root) or real.startswith(self._prefix)
            self._inside[rel] = found
        return found


class TreeState:
    """The files of a commit as history is replayed: path -> blob id, and how many files
    each directory holds, both kept up to date commit by commit (no per-commit rebuild)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.blobs: dict[str, str] = {}
        self.dirs: dict[str, int] = {"": 1}

    def relative(self, path: str) -> str | None:
        """``path`` (from the git top-level) relative to the prefix, None when outside."""
        if not self.prefix:
            return path
        return path[len(self.prefix) :] if path.startswith(self.prefix) else None

    def set(self, rel: str, sha: str | None) -> None:
        """Record ``rel`` (relative to the prefix) as blob ``sha``, or deleted for None."""
        known = rel in self.blobs
        if sha is None:
            if known:
                del self.blobs[rel]
                self._count(rel, -1)
            return
        self.blobs[rel] = sha
        if not known:
            self._count(rel, 1)

    def _count(self, rel: str, step: int) -> None:
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            left = self.dirs.get(folder, 0) + step
            if left > 0:
                self.dirs[folder] = left
            else:
                self.dirs.pop(folder, None)


class CommitSource:
    """Files of one commit: a path -> blob id map, contents read through ``BlobReader``."""

    def __init__(self, blobs: Mapping[str, str], reader: BlobReader, prefix: str = "") -> None:
        state = TreeState(prefix)
        for path, sha in blobs.items():
            rel = state.relative(path)
            if rel is not None:
                state.set(rel, sha)
        self._blobs: Mapping[str, str] = state.blobs
        self._dirs: Container[str] = state.dirs
        self._reader = reader

    @classmethod
    def of_state(cls, state: TreeState, reader: BlobReader) -> CommitSource:
        """A view of a replayed tree as it is now (valid until the next commit is applied)."""
        view = cls.__new__(cls)
        view._blobs = state.blobs
        view._dirs = state.dirs
        view._reader = reader
        return view

    def _all_dirs(self) -> Container[str]:
        return self._dirs

    def read_bytes(self, rel: str) -> bytes:
        """A file's bytes at this commit."""
        sha = self._blobs.get(rel)
        if sha is None:
            if self.is_dir(rel):
                raise IsADirectoryError(rel)
            raise FileNotFoundError(rel)
        return self._reader.read(sha)

    def is_file(self, rel: str) -> bool:
        """Whether ``rel`` is a file at this commit."""
        return rel in self._blobs

    def is_dir(self, rel: str) -> bool:
        """Whether ``rel`` is a directory at this commit."""
        return rel in self._all_dirs()

    def files(self, rel: str = "") -> list[str]:
        """Every file under ``rel`` at this commit."""
        prefix = f"{rel}/" if rel else ""
        return sorted(
            path
            for path in self._blobs
            if path.startswith(prefix) and not any(skipped(part) for part in path.split("/")[:-1])
        )

    def inside(self, rel: str) -> bool:
        """Paths in a commit are always inside it (symlinks are not followed)."""
        return not (rel == ".." or rel.startswith("../"))
