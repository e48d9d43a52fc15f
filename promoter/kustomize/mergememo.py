"""Strategic merges remembered by what they merged, for ``history``.

Walking a long history rebuilds a stage whenever one of its files changes, and all but one
of its patches then merge the same patch document into the same base object as in the
build before (on the 1,001-commit benchmark, four merges in five).  Parsed documents and
builds are immutable and shared (``promoter._yaml``), so a merge is a function of the two
objects and its options: inside ``remembering``, ``smp.merge`` answers from here when it
merged the very same two objects before.  The memo holds both, so an ``id`` it keys on
cannot be reused by another object while the entry lives.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promoter._yaml import YMap

_LIMIT = 200_000
"""Entries kept at most; the memo starts again when full."""

Memo = dict[Hashable, tuple["YMap", "YMap", "YMap"]]
"""(id of the object, id of the patch, options) -> (object, patch, merged)."""

_MEMO: ContextVar[Memo | None] = ContextVar("merge_memo", default=None)


@contextmanager
def remembering() -> Iterator[None]:
    """Inside, strategic merges of objects merged before are not made again (a memo of
    its own, dropped on leaving; nested uses share the outer one)."""
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


def keep(memo: Memo, key: Hashable, dest: YMap, patch: YMap, merged: YMap) -> None:
    """Remember ``merged`` as the merge of ``patch`` into ``dest`` under ``key``."""
    if len(memo) >= _LIMIT:
        memo.clear()
    memo[key] = (dest, patch, merged)
