"""Reading repository files safely: only regular files inside the repository, bounded in size.

A repository is untrusted input (``pipelines check`` runs on every pull request): a
committed symlink to ``/dev/zero``, a FIFO named ``pipe.yaml`` or a link to ``/etc/shadow``
must be refused without blocking, and no file may be larger than a limit (issue 11).
"""

from __future__ import annotations

import errno
import os
import stat

MAX_BYTES_ENV = "PROMOTER_MAX_FILE_BYTES"
"""Environment variable overriding the largest file the tool reads (bytes)."""
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class UnsafeFile(OSError):
    """A path that is not a regular file inside the repository, or is too large."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(errno.EPERM, reason, path)


def max_file_bytes() -> int:
    """The largest file read, ``PROMOTER_MAX_FILE_BYTES`` or 16 MiB."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        value = DEFAULT_MAX_BYTES
    return value if value > 0 else DEFAULT_MAX_BYTES


def check_size(size: int, path: str = "", limit: int | None = None) -> None:
    """Refuse ``size`` bytes when it is above ``limit`` (``max_file_bytes()``)."""
    if limit is None:
        limit = max_file_bytes()
    if size > limit:
        raise UnsafeFile(
            f"is larger than {limit} bytes (set {MAX_BYTES_ENV} to read larger files)", path
        )


def inside(real: str, root: str) -> bool:
    """Whether the resolved path ``real`` is ``root`` or below it (``root`` resolved)."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def read_regular(path: str, root: str, *, parent_inside: bool = False) -> bytes:
    """The bytes of ``path`` (see ``read_regular_stat``)."""
    return read_regular_stat(path, root, parent_inside=parent_inside)[0]


def read_regular_stat(
    path: str, root: str, *, parent_inside: bool = False, limit: int | None = None
) -> tuple[bytes, os.stat_result]:
    """The bytes of ``path`` and the status of the file they were read from: ``path``, a
    regular file that resolves inside ``root`` (a resolved directory), at most
    ``max_file_bytes()`` long; ``UnsafeFile`` (an ``OSError``) when it is a link out, a
    FIFO, a device or too large; ``FileNotFoundError`` when a link dangles.
    Never blocks: the file is opened non-blocking and without following a final link.
    ``parent_inside``: the caller knows the directory of ``path`` resolves inside ``root``;
    ``limit``: ``max_file_bytes()`` as the caller read it (it reads many files)."""
    flags = _OPEN_FLAGS
    target = path
    if not parent_inside:
        target = _resolved(path, root)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno != errno.ELOOP or target != path:
            raise
        target = _resolved(path, root)  # the file itself is a link: where does it lead?
        try:
            fd = os.open(target, flags)
        except OSError as again:
            if again.errno == errno.ELOOP:
                raise UnsafeFile("is a symlink that cannot be followed safely", path) from again
            raise
    try:
        info = os.fstat(fd)
        return _read_fd(fd, info, path, max_file_bytes() if limit is None else limit), info
    finally:
        os.close(fd)


def _resolved(path: str, root: str) -> str:
    real = os.path.realpath(path)
    if not inside(real, root):
        raise UnsafeFile("is a link leaving the repository", path)
    return real


def _read_fd(fd: int, info: os.stat_result, path: str, limit: int) -> bytes:
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", path)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFile("is not a regular file", path)
    check_size(info.st_size, path, limit)
    # One read asking for a byte more than the file holds: getting exactly its size is the
    # whole file (one syscall); anything else (it grew, shrank, or a short read) reads on.
    first = os.read(fd, min(info.st_size, limit) + 1)
    if len(first) == info.st_size:
        return first
    chunks = [first]
    left = limit + 1 - len(first)
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:  # it grew while being read
        check_size(limit + 1, path, limit)
    return b"".join(chunks)


def regular_inside(path: str, root: str) -> bool:
    """Whether ``path`` (an entry found by a walk) is a regular file whose link, if it is
    one, stays inside ``root``: what a walk lists (FIFOs, devices, dangling links and links
    out are left out)."""
    real = os.path.realpath(path)
    if not inside(real, root):
        return False
    try:
        return stat.S_ISREG(os.stat(real).st_mode)  # noqa: PTH116 - hot path, plain strings
    except OSError:
        return False
