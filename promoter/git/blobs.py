"""Reading file contents of any commit without a checkout: one long-lived
``git cat-file --batch``, blobs asked for by object id."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from promoter.errors import GitError
from promoter.git.process import output, spawn
from promoter.safefs import check_size, max_file_bytes


class BlobReader:
    """A long-lived ``git cat-file --batch`` reading blobs by object id (cached)."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._cache: dict[str, bytes] = {}

    def read(self, sha: str) -> bytes:
        """The content of blob ``sha``."""
        found = self._cache.get(sha)
        if found is not None:
            return found
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(sha.encode() + b"\n")
        process.stdin.flush()
        header = process.stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"git cat-file cannot read object {sha}")
        size = int(header[2])
        if size > max_file_bytes():  # keep the stream in step, but hold none of it
            while size:
                size -= len(process.stdout.read(min(size, 1 << 20)) or b"x" * size)
            process.stdout.read(1)
            check_size(max_file_bytes() + 1, sha)
        data = _read_exactly(process.stdout, size)
        process.stdout.read(1)
        self._cache[sha] = data
        return data

    def prefetch(self, shas: Iterable[str]) -> None:
        """Read many blobs in one go (one more git process, no round trip per blob): later
        reads of them come from the cache.  Whatever cannot be read here is left to
        ``read``, which says why."""
        wanted = [sha for sha in dict.fromkeys(shas) if sha not in self._cache]
        if not wanted:
            return
        request = "\n".join(wanted).encode() + b"\n"
        done = output(
            self.git_dir, ["--git-dir", str(self.git_dir), "cat-file", "--batch"], request
        )
        if done.returncode != 0:
            return
        data, at, limit = done.stdout, 0, max_file_bytes()
        while at < len(data):
            end = data.find(b"\n", at)
            header = data[at:end].split()
            if end < 0 or len(header) != 3:  # "<sha> missing", or a cut stream
                at = len(data) if end < 0 else end + 1
                continue
            size = int(header[2])
            if end + 1 + size >= len(data):  # cut short: leave the rest to read()
                return
            if header[1] == b"blob" and size <= limit:
                self._cache[header[0].decode()] = data[end + 1 : end + 1 + size]
            at = end + 1 + size + 1

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            self._process = spawn(["--git-dir", str(self.git_dir), "cat-file", "--batch"])
        return self._process

    def forked(self) -> BlobReader:
        """For a forked child: a reader of its own that keeps what was read.  This one's
        git process answers the parent, so the child only lets go of its ends of the pipes
        (holding the write end would keep git from ever seeing the parent close it)."""
        if self._process is not None:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.close()  # nothing is pending: every request was flushed
            self._process.stdout.close()
            self._process.wait()  # at once in a child: the process is not its own to wait for
            self._process = None
        reader = BlobReader(self.git_dir)
        reader._cache = self._cache
        return reader

    def close(self) -> None:
        """Stop the git process."""
        if self._process is not None:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.close()
            self._process.wait()
            self._process.stdout.close()
            self._process = None


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise GitError("git cat-file ended early")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
