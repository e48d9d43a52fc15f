"""``promote APP FROM TO`` once its command line is read: TO's early render, the plan, the
change and its output.  No Typer here: the ``promote`` script's fast path
(``cli.fastpath``) runs a dry run or a working-tree write without importing it (issue 15);
``cli.promote`` is the Typer command around it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cli.change import GitFlags, run_change
from cli.errors import handled
from cli.root import repo_root

if TYPE_CHECKING:
    from promoter.publish import ChangeResult

T = TypeVar("T")


def promote_apps(
    apps: Sequence[str] | None,
    source: str,
    target: str,
    *,
    pipeline: str | None,
    skip_stages: bool,
    allow_downgrade: bool,
    repo: Path | None,
    flags: GitFlags,
    then: Callable[[Path, ChangeResult], T | None] | None = None,
) -> T | None:
    """Promote ``apps`` (None: every app that differs) from ``source`` to ``target`` as
    ``flags`` ask, print the result, then (still handling errors as one line) ``then``."""
    with handled():
        root = repo_root(repo)
        early = early_render(root, source, target, pipeline, flags)
    with handled(), early:
        import promoter

        request = promoter.PromotionRequest(
            apps,
            source,
            target,
            pipeline,
            skip_stages,
            allow_downgrade,
            flags.pin(),
            also_affected=flags.also_affected,
            force=flags.force,
        )
        result = run_change(root, flags, request)
        return then(root, result) if then is not None else None


def early_render(
    root: Path, source: str, target: str, pipeline: str | None, flags: GitFlags
) -> AbstractContextManager[None]:
    """TO's render, to start before the promotion's modules are imported (a plan in the
    working tree: ``--dry-run`` or ``--write``; ``promoter.prerender``)."""
    if not (flags.dry_run or flags.write):
        return nullcontext()
    from promoter.prerender import prerendering

    return prerendering(root, source, target, pipeline)
