"""``pipelines history``: who moved which version where, and when, from git."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from cli import historyquery
from cli.errors import handled
from cli.historyquery import HistoryQuery, since_date
from cli.options import RepoOption

if TYPE_CHECKING:
    from datetime import datetime

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
    query = HistoryQuery(app, pipeline, stage, since, max_count, repo, declaration.value)
    with handled():
        answer = historyquery.history(query)
        if output is HistoryOutput.json:
            historyquery.write_json(answer)
        else:
            _table(answer.entries, wide=output is HistoryOutput.wide)
            if answer.truncated is not None:
                from cli.views import console

                console().print(answer.truncated.message, soft_wrap=True)


def _date(text: str) -> datetime | None:
    """``--since`` as ``cli.report`` reads it too (``cli.historyquery.since_date``)."""
    return since_date(text)


def _table(entries: tuple[HistoryEntry, ...], *, wide: bool = False) -> None:
    from cli.layout import console, history_view

    out = console(wide)
    for view in history_view(entries, out.width, wide=wide):
        out.print(view)
