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


class HistoryOutput(str, Enum):
    """Output formats of ``history``."""

    table = "table"
    json = "json"


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
) -> None:
    """Every change of an app's version in a stage, newest first, from git history."""
    with handled():
        import promoter

        moment = _date(since) if since else None
        if since and moment is None:
            raise promoter.PromoterError(
                f"--since {since!r} is not a date like 2026-11-01 or 2026-11-01T12:00"
            )
        entries = promoter.list_history(
            repo_root(repo), app, pipeline=pipeline, stage=stage, since=moment, max_count=max_count
        )
        if output is HistoryOutput.json:
            from cli.jsonout import json_text
            from promoter.serialize import history_dict

            sys.stdout.write(json_text(history_dict(entries)))
        else:
            _table(entries)


def _date(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _table(entries: tuple[HistoryEntry, ...]) -> None:
    from rich.table import Table

    from cli.views import console

    table = Table(title="version history (newest first)", title_justify="left")
    for column in ("date", "pipeline/stage", "app", "change", "commit", "author", "PR"):
        table.add_column(column, no_wrap=True)
    for e in entries:
        table.add_row(
            e.date[:16].replace("T", " "),
            f"{e.pipeline}/{e.stage}",
            e.key,
            f"{e.old_version or '-'} -> {e.new_version or '-'}",
            e.commit[:10],
            e.author,
            f"#{e.pull_request}" if e.pull_request else "",
        )
    console().print(table)
