"""``pipelines history``: who moved which version where, and when, from git."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import handled
from cli.options import RepoOption, repo_root

if TYPE_CHECKING:
    from promoter.history import HistoryEntry


class Declaration(str, Enum):
    """Which promoter.yaml declares the pipelines while history is replayed."""

    current = "current"
    as_of_commit = "as-of-commit"


class HistoryOutput(str, Enum):
    """Output formats of ``history``."""

    table = "table"
    json = "json"
    wide = "wide"


def history(
    app: Annotated[
        str | None, typer.Argument(help="App name or Kind/name (default: all).", show_default=False)
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only this pipeline.")
    ] = None,
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Only this stage.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only changes on or after this date (ISO 8601).")
    ] = None,
    max_count: Annotated[
        int | None, typer.Option("--max-count", "-n", min=1, help="At most this many entries.")
    ] = None,
    repo: RepoOption = None,
    output: Annotated[
        HistoryOutput, typer.Option("--output", "-o", help="Output format.")
    ] = HistoryOutput.table,
    declaration: Annotated[
        Declaration,
        typer.Option(
            "--declaration",
            help="Pipelines of promoter.yaml as it is now, for the whole history (current), "
            "or as each commit had it (as-of-commit).",
        ),
    ] = Declaration.current,
) -> None:
    """Every change of an app's version in a stage, newest first, from git history."""
    with handled():
        import promoter

        moment = _date(since) if since else None
        if since and moment is None:
            raise promoter.PromoterError(
                f"--since {since!r} is not a date like 2026-11-01 or 2026-11-01T12:00"
            )
        from promoter.truncation import history_truncation

        root = repo_root(repo)
        entries = promoter.list_history(
            root,
            app,
            pipeline=pipeline,
            stage=stage,
            since=moment,
            max_count=max_count,
            declaration=declaration.value,
        )
        truncated = history_truncation(root)
        if output is HistoryOutput.json:
            from cli.jsonout import json_text
            from promoter.serialize import history_dict

            sys.stdout.write(json_text(history_dict(entries, truncated)))
        else:
            _table(entries, wide=output is HistoryOutput.wide)
            if truncated is not None:
                from cli.views import console

                console().print(truncated.message, soft_wrap=True)


def _date(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _table(entries: tuple[HistoryEntry, ...], *, wide: bool = False) -> None:
    from cli.layout import console, history_view

    out = console(wide)
    for view in history_view(entries, out.width, wide=wide):
        out.print(view)
