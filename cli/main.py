"""Entry points: ``pipelines`` (status, promote, ...) and ``promote`` (a shortcut).

Importing this module imports no Typer: the ``pipelines`` script first offers its command
line to ``cli.fastpath``, which answers a warm ``status -o json`` and runs ``history -o json``
alone, and builds the Typer app (``cli.pipelines``) only for everything else (issue 15)."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

from cli.errors import run

if TYPE_CHECKING:
    import typer

_PIPELINES = frozenset({"app", "COMMANDS", "SUMMARIES", "PipelinesGroup"})
"""What ``cli.pipelines`` holds and this module has always offered (``cli.main.app``)."""


@functools.cache
def _promote_app() -> typer.Typer:
    import typer

    from cli import promote as _promote
    from cli.usage import UsageCommand

    promote_app = typer.Typer(
        name="promote",
        add_completion=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    promote_app.command(cls=UsageCommand)(_promote.promote)
    return promote_app


def __getattr__(name: str) -> Any:
    """``promote_app`` (the ``promote`` script's app), and the ``pipelines`` app and its
    parts (``cli.pipelines``), each imported when first asked for."""
    if name == "promote_app":
        return _promote_app()
    if name in _PIPELINES:
        from cli import pipelines

        return getattr(pipelines, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pipelines_main() -> None:
    """The ``pipelines`` console script (always through Typer)."""
    from cli.pipelines import app

    run(app)


def promote_main() -> None:
    """The ``promote`` console script (same as ``pipelines promote``)."""
    run(_promote_app())


def pipelines_script() -> None:
    """``pipelines_main`` as installed: a command line ``cli.fastpath`` recognises is answered
    without Typer when it can be; the process ends as soon as the output is out."""
    run(_pipelines, leave=True)


def promote_script() -> None:
    """``promote_main`` as installed: a simple dry run or working-tree write
    (``cli.fastpath.promoted``) runs without Typer; the process ends as soon as the output
    is out."""
    run(_promote, leave=True)


def _promote() -> None:
    from cli.fastpath import promoted

    if promoted(sys.argv[1:]):
        return
    _promote_app()()


def _pipelines() -> None:
    from cli.fastpath import answered

    if answered(sys.argv[1:]):
        return
    from cli.pipelines import app

    app()
