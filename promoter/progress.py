"""What the library is doing right now, for whoever listens: long steps (fetch, render, push,
API calls) and their retries are announced here, and a front end (the CLI's spinner) shows
them.  Nobody listening (the default) costs one check per step.

>>> from promoter import progress
>>> with progress.listening(lambda event: print(event.kind, event.message)):
...     progress.step("fetching main from origin")
step fetching main from origin

Listeners are called on the thread that reports (a registry thread pool, for example) and
only in the process that installed them: a forked reader (``status`` on large repositories)
announces nothing.  A listener that raises is dropped, never breaking the work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["step", "retry"]


@dataclass(frozen=True)
class Event:
    """One announcement: a step that starts (``step``) or an attempt that is repeated
    after a failure (``retry``, its message says why and that it is retrying)."""

    kind: EventKind
    message: str


Listener = Callable[[Event], None]

_LOCK = threading.Lock()
_LISTENERS: list[tuple[int, Listener]] = []


def step(message: str) -> None:
    """Announce the step that starts now (``rendering pipelines/web/dev``)."""
    _announce(Event("step", message))


def retrying(message: str) -> None:
    """Announce that a failed attempt is being repeated (``GitHub: HTTP 502; retrying``)."""
    _announce(Event("retry", message))


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with every event announced in this process while inside."""
    entry = (os.getpid(), listener)
    with _LOCK:
        _LISTENERS.append(entry)
    try:
        yield
    finally:
        with _LOCK:
            if entry in _LISTENERS:
                _LISTENERS.remove(entry)


def _announce(event: Event) -> None:
    if not _LISTENERS:
        return
    pid = os.getpid()
    with _LOCK:
        listeners = [entry for entry in _LISTENERS if entry[0] == pid]
    for entry in listeners:
        try:
            entry[1](event)
        except Exception:  # a display that fails must not fail the work
            with _LOCK:
                if entry in _LISTENERS:
                    _LISTENERS.remove(entry)
