"""Pausing Python's cycle collector during bulk reads (kept apart from the reader so a warm
``status`` can use it without importing the kustomize engine)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector during a bulk read: it allocates hundreds of thousands of
    small acyclic objects, and full collections over them cost a third of the time.  What
    was read is then frozen (``gc.freeze``): the first collections after the pause would
    otherwise walk all of it again (reference counting still frees it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
