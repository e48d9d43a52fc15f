"""Planning a promotion from what the last ``status`` discovered, checked meanwhile.

The cached discovery is valid when none of the thousands of directories and YAML files it
depends on changed since; checking that costs one ``stat`` of each.  A promotion in the
working tree (``--dry-run``, ``--write``) plans from the cached discovery at once, so the
kustomize render of its edits starts that much sooner, and runs the check while the main
thread would otherwise wait for kustomize (``check_meanwhile``, called by
``Verification``).  A plan made from a discovery that turns out stale is dropped and made
again from a fresh one (``promoter.publish.plan_in_tree``): nothing made from the guess
is shown or written before the check says it holds (issue 15).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CHECKS: ContextVar[tuple[Callable[[], bool], ...]] = ContextVar("unchecked", default=())


@contextmanager
def unchecked(check: Callable[[], bool]) -> Iterator[None]:
    """Inside, ``check`` (which answers once and remembers) is still to run:
    ``check_meanwhile`` runs it when there is time."""
    token = _CHECKS.set((*_CHECKS.get(), check))
    try:
        yield
    finally:
        _CHECKS.reset(token)


def check_meanwhile() -> None:
    """Run the checks still pending (the caller is about to wait for kustomize)."""
    for check in _CHECKS.get():
        check()
