"""Work shared with one forked child: ``status`` and ``history`` on large repositories read
half of the stages in a child process that shares what is already parsed (copy-on-write)."""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from typing import TypeVar

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
