"""Build steps remembered by the very objects they worked on, for ``history``.

Walking a long history rebuilds a stage whenever one of its files changes, and nearly every
object of it then goes through the same steps as in the build before: the same patch merged
into the same base object, the same namespace and labels added, the same ``images:``
entries, the same app read out (on the 1,001-commit benchmark, four merges in five and
seven objects in eight).  Parsed documents and builds are immutable and shared
(``promoter._yaml``), and a file that changed is parsed into new objects and invalidates the
builds that read it, so each step is a function of the objects it is given: inside
``remembering``, a step given the very same objects answers what it answered before.  An
entry holds the objects it is keyed on, so their ``id`` cannot be reused by other objects
while it lives.  Outside ``remembering`` (status, promote) nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_LIMIT = 200_000
"""Entries kept at most; the memo starts again when full."""

Memo = dict[Hashable, tuple[tuple[object, ...], Any]]
"""(step, ids of the objects..., options) -> (the objects, the answer)."""

_MEMO: ContextVar[Memo | None] = ContextVar("build_memo", default=None)


@contextmanager
def remembering() -> Iterator[None]:
    """Inside, build steps given objects they were given before answer from a memo of
    their own (dropped on leaving; nested uses share the outer one)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def current() -> Memo | None:
    """The memo in use, or None outside ``remembering``."""
    return _MEMO.get()


def recall(
    memo: Memo, step: str, objects: tuple[object, ...], options: Hashable, make: Callable[[], T]
) -> T:
    """What ``make()`` answered for ``step`` on the very same ``objects`` with equal
    ``options`` (everything else the answer depends on); made and kept when new."""
    key = (step, *map(id, objects), options)
    known = memo.get(key)
    if known is not None:
        answer: T = known[1]
        return answer
    made = make()
    if len(memo) >= _LIMIT:
        memo.clear()
    memo[key] = (objects, made)
    return made
