"""``pipelines diff FROM TO``: the rendered difference between two stages."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import handled
from cli.options import RepoOption, repo_root

if TYPE_CHECKING:
    from promoter.stagediff import StageDiff


class DiffOutput(str, Enum):
    """Output formats of ``diff``."""

    text = "text"
    json = "json"


def diff(
    source: Annotated[
        str, typer.Argument(metavar="FROM", help="The stage a promotion would come from.")
    ],
    target: Annotated[str, typer.Argument(metavar="TO", help="The stage a promotion would go to.")],
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", "-p", help="Pipeline, when stage names are ambiguous."),
    ] = None,
    repo: RepoOption = None,
    output: Annotated[
        DiffOutput, typer.Option("--output", "-o", help="Output format.")
    ] = DiffOutput.text,
) -> None:
    """Show the rendered difference between two stages (kustomize), object by object:
    version changes first (what a promotion carries), then what stays stage-specific."""
    with handled():
        import promoter
        from promoter.serialize import diff_dict

        result = promoter.diff(repo_root(repo), source, target, pipeline)
        if output is DiffOutput.json:
            from cli.jsonout import write_json

            write_json(diff_dict(result))
        else:
            _print_text(result)
        sys.stdout.flush()


_STYLES = {
    "header": "bold",
    "add": "green",
    "remove": "red",
    "hunk": "cyan",
    "dim": "dim",
}


def _print_text(result: StageDiff) -> None:
    """Plain text; coloured with Rich only when stdout is a terminal."""
    from promoter.stagediff import text_lines

    lines = list(text_lines(result))
    if not sys.stdout.isatty():
        sys.stdout.write("".join(f"{line}\n" for line, _ in lines))
        return
    from rich.text import Text

    from cli.views import console

    out = console(soft_wrap=True)
    for line, style in lines:
        out.print(Text(line, style=_STYLES.get(style, "")))
