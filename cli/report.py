"""``pipelines report``: the release overview as a static page (``--html DIR``) or JSON."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import EXIT_FAILED, fail, handled
from cli.options import RepoOption, repo_root


class ReportOutput(str, Enum):
    """Output formats of ``report`` (besides the page)."""

    text = "text"
    json = "json"


def report(
    pipelines: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PIPELINE", help="Pipelines to show (default: all).", show_default=False
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="DIR",
            help="Write the page to DIR/index.html and DIR/assets/ (replacing an earlier report).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="History only on or after this date (ISO 8601)."),
    ] = None,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="Include what runs in the cluster.")
    ] = False,
    registry: Annotated[
        bool, typer.Option("--registry", help="Include the versions registries offer.")
    ] = False,
    repo: RepoOption = None,
    output: Annotated[
        ReportOutput, typer.Option("--output", "-o", help="Print the report's data as json.")
    ] = ReportOutput.text,
) -> None:
    """A release overview: versions per stage, pending promotions and their gates, history."""
    if html is None and output is not ReportOutput.json:
        from cli.usage import usage_error

        raise usage_error("give --html DIR (the page), --output json (the data), or both")
    with handled():
        import promoter
        from cli.history import _date
        from promoter.report import collect_report, write_html

        moment = _date(since) if since else None
        if since and moment is None:
            raise promoter.PromoterError(
                f"--since {since!r} is not a date like 2026-11-01 or 2026-11-01T12:00"
            )
        result = collect_report(
            repo_root(repo), pipelines or (), since=moment, cluster=cluster, registry=registry
        )
        if html is not None:
            page = write_html(result, html)
            if output is ReportOutput.text:
                sys.stdout.write(f"wrote {page}\n")
        if output is ReportOutput.json:
            from cli.jsonout import write_json
            from promoter.serialize import report_dict

            write_json(report_dict(result))
        sys.stdout.flush()
        from cli import views

        problems = views.problem_lines(result.status)
    for line in problems:
        fail(line)
    if problems or not result.ok:
        raise typer.Exit(EXIT_FAILED)
