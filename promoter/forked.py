"""Work shared with one forked child: ``status`` and ``history`` on large repositories read
part of the work in a child process that shares what is already parsed (copy-on-write)."""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import threading
from collections.abc import Callable, Sequence
from typing import BinaryIO, TypeVar

from promoter import children

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a forked child may share the work: a POSIX system with more than one CPU, no
    other thread running (a fork would copy its locks) and ``PROMOTER_NO_FORK`` unset."""
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and not os.environ.get("PROMOTER_NO_FORK")
    )


def fork_work(work: Callable[[], T]) -> Callable[[], T | None]:
    """Run ``work`` in a forked child; the returned function collects its result (None
    when the child failed: the caller then does the work itself)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running any cleanup
        status = 1
        try:
            children.die_with_parent()  # a killed parent takes its child with it
            os.close(read_end)
            payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)

    def collect() -> T | None:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, code = os.waitpid(pid, 0)
        if code != 0 or not payload:
            return None
        result: T = pickle.loads(payload)
        return result

    return collect


_CURSORS = struct.Struct("=qq")
"""The token passed between the two processes: the next item from the front, and the end
(exclusive) of what is left from the back."""


def share_items(count: int, work: Callable[[int], T], *, fork: bool = True) -> Sequence[T]:
    """``[work(0), ..., work(count - 1)]``; with ``fork`` (and ``can_fork()``) shared with a
    forked child: this process takes items from the front, the child from the back, one at
    a time, until they meet, so whichever runs faster does more and neither waits for the
    other at the end (the machine may be busy; the items may differ in cost).  The child's
    results come back pickled at its end; whatever it did not deliver (it failed, or was
    killed) is done here, so the results are the same either way."""
    if count < 2 or not fork or not can_fork():
        return [work(index) for index in range(count)]
    # Who takes the next item: the one holding the token, a pipe's only message (sent
    # whole: it is shorter than PIPE_BUF).
    token_read, token_write = os.pipe()
    result_read, result_write = os.pipe()
    os.write(token_write, _CURSORS.pack(0, count))
    pid = os.fork()
    if pid == 0:  # the child: work from the back, send, and leave without any cleanup
        code = 1
        try:
            children.die_with_parent()  # a killed parent takes its child with it
            os.close(result_read)
            done: list[tuple[int, T]] = []
            while (index := _take(token_read, token_write, back=True)) is not None:
                done.append((index, work(index)))
            payload = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(result_write, "wb") as pipe:
                pipe.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(result_write)
    found: dict[int, T] = {}
    with os.fdopen(result_read, "rb") as results:
        try:
            while (index := _take(token_read, token_write, back=False, child=results)) is not None:
                found[index] = work(index)
            found.update(_collect(results, pid) or ())
        except BaseException:  # interrupted, or a bug: the child's work is not wanted
            _end(pid)
            raise
        finally:
            os.close(token_read)
            os.close(token_write)
    # What the child did not deliver (it failed) is done here.
    return [found[i] if i in found else work(i) for i in range(count)]


def _take(
    token_read: int, token_write: int, *, back: bool, child: BinaryIO | None = None
) -> int | None:
    """The next item for this process (None when none is left): wait for the token, take
    an item from the front (or the back) and pass the token on.  ``child``: the parent's
    end of the child's result pipe; readable while the token is not means the child died
    holding the token (it sends its results only after passing it on): nothing is left to
    share then."""
    if child is not None:
        ready, _, _ = select.select([token_read, child.fileno()], [], [])
        if token_read not in ready:
            return None
    front, end = _CURSORS.unpack(os.read(token_read, _CURSORS.size))
    index = None
    if front < end:
        if back:
            end -= 1
            index = end
        else:
            index = front
            front += 1
    os.write(token_write, _CURSORS.pack(front, end))
    return index


def _collect(results: BinaryIO, pid: int) -> list[tuple[int, T]] | None:
    """The child's results; None when it failed."""
    payload = results.read()
    _, code = os.waitpid(pid, 0)
    if code != 0 or not payload:
        return None
    done: list[tuple[int, T]] = pickle.loads(payload)
    return done


def _end(pid: int) -> None:
    """Stop the child and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:  # already gone
        pass
