"""Short stretches of work that a signal must not cut in half (the renames that put a
multi-file promotion in place): SIGINT and SIGTERM arriving meanwhile are held back and
delivered once the stretch is done (issue 11)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block to its end; a SIGINT/SIGTERM received meanwhile is re-sent after it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change signal handlers (and receives signals)
        return
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in _HELD}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for number in dict.fromkeys(pending):
            os.kill(os.getpid(), number)
