"""Where repository files come from: the disk, or a git commit (for history).

The native reader only needs five questions answered about repo-relative POSIX paths, so
the same code reads a working tree and any commit of its history without checking it out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Container, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from promoter.safefs import UnsafeFile, max_file_bytes, read_regular_stat, regular_inside

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


_MEMO_BYTES = 64 * 1024 * 1024
"""How much file content one ``DiskSource`` keeps for reading again."""
_RACY_NS = 2_000_000_000
"""A file changed this recently (nanoseconds) is not kept: a rewrite within the same
timestamp tick and of the same size would go unnoticed (git's "racy" files)."""

_Stamp = tuple[int, int, int, int, int]


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class DiskSource:
    """Files of a directory on disk.

    A file read once is kept (up to ``_MEMO_BYTES``) and read again only when it changed:
    discovery reads every YAML file, then the builds and the source lines read most of
    them again.  A file counts as unchanged while its inode, size, modification and
    status-change times are the ones it had when read (one ``lstat`` instead of an
    open, ``fstat``, read and close); a link is always read again.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._root = str(self.root)
        self._prefix = self._root + os.sep
        self._inside: dict[str, bool] = {}
        self._links: dict[str, frozenset[str]] = {}
        self._linkless: dict[str, bool] = {"": True}
        self._memo: dict[str, tuple[bytes, _Stamp]] = {}
        self._memo_left = _MEMO_BYTES
        self._limit = max_file_bytes()  # read once: a lookup per file read costs

    def _path(self, rel: str) -> str:
        return self._prefix + rel if rel else str(self.root)

    def read_bytes(self, rel: str) -> bytes:
        """A file's bytes."""
        # Plain string paths on purpose: Path objects cost too much on this hot path.
        parent = rel.rpartition("/")[0]
        if parent and not self.inside(parent):
            raise UnsafeFile("is inside a directory link leaving the repository", rel)
        path = self._prefix + rel
        known = self._memo.get(rel)
        if known is not None:
            data, stamp = known
            try:
                unchanged = _stamp(os.lstat(path)) == stamp
            except OSError:
                unchanged = False
            if unchanged:
                return data
            del self._memo[rel]
            self._memo_left += len(data)
        data, info = read_regular_stat(path, self._root, parent_inside=True, limit=self._limit)
        self._keep(rel, data, info)
        return data

    def _keep(self, rel: str, data: bytes, info: os.stat_result) -> None:
        if len(data) > self._memo_left or len(data) != info.st_size:
            return
        if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) < _RACY_NS:
            return
        # The status of the file opened: a link's own (``lstat``) never matches it, so a
        # link is read again each time, through all of ``read_regular``'s checks.
        self._memo[rel] = (data, _stamp(info))
        self._memo_left -= len(data)

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
            if ".." not in rel and self._no_link(rel):
                found = True  # no link and no ".." on the way: it is where it is written
            else:
                real = os.path.realpath(self._path(rel))
                found = real == self._root or real.startswith(self._prefix)
            self._inside[rel] = found
        return found

    def real_relative(self, rel: str) -> str:
        """``rel`` (normalized) with symlinks resolved, relative to the root; ``rel`` itself
        when a link leads out of the root."""
        if ".." not in rel and self._no_link(rel):
            return rel
        real = os.path.realpath(self._path(rel))
        if real == self._root:
            return ""
        if real.startswith(self._prefix):
            return real[len(self._prefix) :].replace(os.sep, "/")
        return rel

    def _no_link(self, rel: str) -> bool:
        """Whether no segment of ``rel`` is a symbolic link: one directory listing per
        directory (cached) instead of an ``lstat`` per segment of every path."""
        parent, _, name = rel.rpartition("/")
        linkless = self._linkless.get(parent)
        if linkless is None:
            linkless = self._linkless[parent] = self._no_link(parent)
        return linkless and name not in self._link_names(parent)

    def _link_names(self, rel: str) -> frozenset[str]:
        found = self._links.get(rel)
        if found is None:
            try:
                with os.scandir(self._path(rel)) as listing:
                    found = frozenset(e.name for e in listing if e.is_symlink())
            except OSError:
                found = frozenset()  # nothing listed: nothing there is a link
            self._links[rel] = found
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
