"""``pipelines history``: who moved which version where, and when, from git."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

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
        from promoter.errors import PromoterError
        from promoter.history import history as read

        moment = _date(since) if since else None
        if since and moment is None:
            raise PromoterError(
                f"--since {since!r} is not a date like 2026-11-01 or 2026-11-01T12:00"
            )
        entries = read(
            repo_root(repo), app, pipeline=pipeline, stage=stage, since=moment, max_count=max_count
        )
        if output is HistoryOutput.json:
            sys.stdout.write(
                json.dumps({"entries": [entry_dict(e) for e in entries]}, indent=2) + "\n"
            )
        else:
            _table(entries)


def _date(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def entry_dict(entry: HistoryEntry) -> dict[str, Any]:
    """One history entry in the documented JSON shape."""
    return {
        "pipeline": entry.pipeline,
        "stage": entry.stage,
        "kind": entry.kind,
        "app": entry.app,
        "old_version": entry.old_version,
        "new_version": entry.new_version,
        "commit": entry.commit,
        "date": entry.date,
        "author": entry.author,
        "pull_request": entry.pull_request,
        "trailers": _trailer_dict(entry.trailers),
    }


def _trailer_dict(trailers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Trailers by name; the values of a name given several times joined by ", "."""
    found: dict[str, list[str]] = {}
    for name, value in trailers:
        found.setdefault(name, []).append(value)
    return {name: ", ".join(values) for name, values in found.items()}


def _table(entries: tuple[HistoryEntry, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

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
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 10_000)
    console.print(table)
