"""Work shared with one forked child: ``status`` and ``history`` on large repositories read
part of the work in a child process that shares what is already parsed (copy-on-write).

``history`` hands its child one piece of work (``fork_work``).  ``status`` keeps the child
busy from the start (``Pair``): forked once the YAML files are listed, it takes turns with
the parent reading them for discovery, from either end, and they send each other what they
found (``Pair.share_all``); both go on with the same discovery, then take stages from either
end (``Pair.share_items``) and the child sends its share of the results.  Whatever the
child does not deliver is done by the parent, so a failing child changes nothing but the
time taken; a failing parent stops its child."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import threading
from collections.abc import Callable
from typing import Any, TypeVar

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
_LENGTH = struct.Struct("=q")


class Pair:
    """This process and, once ``start`` forked it, a child running the same code from there
    on: the two share items that both need (``share_all``), then items only this process
    needs (``share_items``): the child ends (``os._exit``) once it sent those.  A job that
    starts the pair before ``share_items`` runs inside ``paired``, which ends a child that
    fails first."""

    def __init__(self) -> None:
        self.child = False
        """True in the child."""
        self._pid = 0  # the child's, in the parent (0: none, or it failed)
        self._up = -1  # the pipe from the child to the parent (this process's end)
        self._down = -1  # the pipe from the parent to the child (this process's end)
        self._token = (-1, -1)

    def start(self) -> bool:
        """Fork the child when none runs yet and ``can_fork()``; True in both processes
        when they now share the job."""
        if self._pid or self.child or not can_fork():
            return False
        token, up, down = os.pipe(), os.pipe(), os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                children.die_with_parent()  # a killed parent takes its child with it
                self.child = True
                os.close(up[0])
                os.close(down[1])
                self._up, self._down = up[1], down[0]
            except BaseException:
                os._exit(1)
        else:
            self._pid = pid
            os.close(up[1])
            os.close(down[0])
            self._up, self._down = up[0], down[1]
        self._token = token
        return True

    def share_all(self, count: int, work: Callable[[int], T], *, fork: bool = True) -> list[T]:
        """``[work(0), ..., work(count - 1)]`` in both processes; with ``fork`` shared with
        the child (forked now when it does not run yet) as ``share_items`` shares them,
        then each sends the other what it did."""
        fork = fork and count >= 2
        if fork:
            self.start()
        if self.child:
            found = dict(self._child_turns(work if fork else None))
            theirs: list[tuple[int, T]] | None = _receive(self._down)
            if theirs is None:  # the parent failed: it has stopped waiting
                os._exit(1)
            found.update(theirs)
            return [found[i] for i in range(count)]
        mine = self._parent_turns(count, work) if fork and self._pid else {}
        found = dict(mine)
        if self._pid:
            theirs = _receive(self._up)
            if theirs is None:  # it failed, or died
                self.end()
            else:
                found.update(theirs)
                if fork:  # the token is back in its pipe: the next share starts afresh
                    os.read(self._token[0], _CURSORS.size)
                with contextlib.suppress(OSError):  # it died since: the next share finds out
                    _send(self._down, list(mine.items()))
        # What the child did not deliver (it failed) is done here.
        return [found[i] if i in found else work(i) for i in range(count)]

    def share_items(self, count: int, work: Callable[[int], T], *, fork: bool = True) -> list[T]:
        """``[work(0), ..., work(count - 1)]``; with ``fork`` shared with the child (forked
        now when it does not run yet): this process takes items from the front, the child
        from the back, one at a time, until they meet, so whichever runs faster does more
        and neither waits for the other at the end.  The child sends what it did and ends;
        whatever it did not deliver (it failed, or died) is done here."""
        fork = fork and count >= 2
        if fork:
            self.start()
        if self.child:
            code = 1
            try:
                self._child_turns(work if fork else None)
                code = 0
            finally:
                os._exit(code)
        found = self._parent_turns(count, work) if fork and self._pid else {}
        if self._pid:
            theirs: list[tuple[int, T]] | None = _receive(self._up)
            found.update(theirs or ())
        self.end()
        # What the child did not deliver (it failed) is done here.
        return [found[i] if i in found else work(i) for i in range(count)]

    def _parent_turns(self, count: int, work: Callable[[int], T]) -> dict[int, T]:
        """The items this process takes (from the front) while the child takes its own."""
        token_read, token_write = self._token
        os.write(token_write, _CURSORS.pack(0, count))  # the child waits for it
        found: dict[int, T] = {}
        try:
            while (index := _take(token_read, token_write, back=False, child=self._up)) is not None:
                found[index] = work(index)
        except BaseException:  # interrupted, or a bug: the child's work is not wanted
            self.end()
            raise
        return found

    def _child_turns(self, work: Callable[[int], T] | None) -> list[tuple[int, T]]:
        """The items the child takes (from the back), sent to the parent."""
        done: list[tuple[int, T]] = []
        while work is not None and (index := _take(*self._token, back=True)) is not None:
            done.append((index, work(index)))
        _send(self._up, done)
        return done

    def finish(self) -> None:
        """The shared part of the job is over: a child still running ends here."""
        if self.child:
            os._exit(0)
        self.end()

    def end(self) -> None:
        """The child is no longer needed: stop it (when it still runs) and reap it."""
        if self.child or not self._pid:
            return
        pid, self._pid = self._pid, 0
        with contextlib.suppress(OSError):  # already gone
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
        for fd in (self._up, self._down, *self._token):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._up = self._down = -1
        self._token = (-1, -1)


def paired(job: Callable[[Pair], T]) -> T:
    """``job(pair)`` with a ``Pair`` the job may start: the child never returns from here
    (it ends when it has sent its share of the items, or fails, or the job returns without
    sharing), and an error of this process stops it."""
    pair = Pair()
    try:
        return job(pair)
    finally:
        if pair.child:
            os._exit(1)
        pair.end()


def share_items(count: int, work: Callable[[int], T], *, fork: bool = True) -> list[T]:
    """``Pair().share_items``: the items shared with a child forked for them alone."""
    return Pair().share_items(count, work, fork=fork)


def _send(fd: int, value: object) -> None:
    """``value`` pickled, after its length."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    for part in (_LENGTH.pack(len(payload)), payload):
        data = memoryview(part)
        while data:
            data = data[os.write(fd, data) :]


def _receive(fd: int) -> Any:
    """The next value the other process sent; None when it ended first."""
    head = _read(fd, _LENGTH.size)
    if head is None:
        return None
    payload = _read(fd, _LENGTH.unpack(head)[0])
    return None if payload is None else pickle.loads(payload)


def _read(fd: int, size: int) -> bytearray | None:
    """Exactly ``size`` bytes (None at the end of the pipe)."""
    data = bytearray(size)
    view = memoryview(data)
    got = 0
    while got < size:
        step = os.readv(fd, [view[got:]])
        if not step:
            return None
        got += step
    return data


def _take(token_read: int, token_write: int, *, back: bool, child: int = -1) -> int | None:
    """The next item for this process (None when none is left): wait for the token, take
    an item from the front (or the back) and pass the token on.  ``child``: the parent's
    end of the child's result pipe; readable while the token is not means the child died
    holding the token (it sends its results only after passing it on): nothing is left to
    share then."""
    if child >= 0:
        ready, _, _ = select.select([token_read, child], [], [])
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
