"""Rendering statuses for people (Rich tables, the Flux-style tree) and scripts (JSON/YAML)."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from promoter.model import App, PipelineStatus, RepoStatus, StageStatus
from promoter.problems import DUPLICATE_STAGE, Problem
from promoter.report import status_dict

DIFFERS = "◆"
AUTOMATED = "⟳"
ABSENT = "—"


PLAIN_WIDTH = 10_000
"""Width of plain output: tables are never squeezed or truncated when stdout is a pipe."""


def console() -> Console:
    """A console that is plain (no colour, no width limit) when stdout is not a terminal."""
    out = Console(highlight=False, soft_wrap=False)
    if out.is_terminal:
        return out
    return Console(highlight=False, soft_wrap=False, width=PLAIN_WIDTH)


def problem_lines(status: RepoStatus) -> list[str]:
    """One line per distinct problem (a broken pipeline, or a stage that cannot be read).

    A broken base shared by several stages (one ``Problem``) is reported once, naming every
    stage it breaks.  A pipeline's line names the pipeline unless one of its problems does
    (``DUPLICATE_STAGE``).
    """
    lines: list[str] = []
    stages: dict[Problem, list[str]] = {}
    for pipeline in status.pipelines:
        declared = pipeline.pipeline
        if declared.error is not None:
            named = any(p.code == DUPLICATE_STAGE for p in declared.problems)
            lines.append(
                declared.error if named else f"{declared.error} (pipeline {declared.name})"
            )
        for stage_status in pipeline.stages:
            if stage_status.problem is not None:
                label = f"{declared.name}/{stage_status.stage.name}"
                stages.setdefault(stage_status.problem, []).append(label)
    for problem, labels in stages.items():
        noun = "stage" if len(labels) == 1 else "stages"
        lines.append(f"{problem.text} ({noun} {', '.join(labels)})")
    return lines


def print_json(status: RepoStatus) -> None:
    """The stable JSON document described in the README."""
    # Indented for people; compact (and several times faster: the C encoder) for pipes.
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(status_dict(status), indent=indent) + "\n")


def print_yaml(status: RepoStatus) -> None:
    """The same data as JSON, as YAML."""
    import yaml

    sys.stdout.write(yaml.safe_dump(status_dict(status), sort_keys=False, allow_unicode=True))


def print_tree(status: RepoStatus) -> None:
    """The overview Flux pipeline users know: pipeline, stages, ``Kind/ns/name: version``."""
    lines: list[str] = []
    for pipeline in status.pipelines:
        lines.append(f"{pipeline.pipeline.name}:")
        if pipeline.pipeline.error:
            lines.append(f"\terror: {pipeline.pipeline.error}")
        for stage_status in pipeline.stages:
            stage = stage_status.stage
            flux = stage.flux
            lines.append(f"\t{flux.namespace}/{flux.name}" if flux else f"\t{stage.name}")
            if stage_status.error:
                lines.append(f"\t\terror: {stage_status.error}")
            for app in stage_status.apps:
                namespace = app.namespace or "default"
                lines.append(
                    f"\t\t{app.kind}/{namespace}/{app.rendered_name}: {app.version or '-'}"
                )
    sys.stdout.write("\n".join(lines) + "\n")


def print_tables(status: RepoStatus) -> None:
    """One table per pipeline: apps as rows, stages as columns, promotable cells marked."""
    out = console()
    for pipeline in status.pipelines:
        # The title is printed on its own: a table title is padded with blanks to its width.
        out.print(Text(f"pipeline {pipeline.pipeline.name}", style="bold"))
        out.print(_table(pipeline))
        for line in _problems(pipeline):
            out.print(Text(line, style="yellow"))
    out.print(
        Text(
            f"{DIFFERS} differs from the stage before (the next promotion carries it)   "
            f"{AUTOMATED} kept current by Flux image automation   {ABSENT} not deployed",
            style="dim",
        )
    )


def _table(pipeline: PipelineStatus) -> Table:
    table = Table()
    table.add_column("app", no_wrap=True)
    for stage_status in pipeline.stages:
        stage = stage_status.stage
        table.add_column(f"{stage.name} ({stage.order})", no_wrap=True)
    for key in pipeline.app_keys:
        row: list[Text | str] = [key]
        previous: App | None = None
        for index, stage_status in enumerate(pipeline.stages):
            app = stage_status.app(key)
            row.append(_cell(stage_status, app, previous if index else None, index))
            previous = app
        table.add_row(*row)
    return table


def _cell(stage: StageStatus, app: App | None, previous: App | None, index: int) -> Text:
    if stage.error is not None:
        return Text("error", style="red")
    if app is None:
        return Text(ABSENT, style="dim")
    text = Text(app.version or "(none)")
    if index and previous is not None and previous.version != app.version:
        text = Text(f"{DIFFERS} {app.version or '(none)'}", style="bold yellow")
    if app.source is not None and app.source.automated:
        text.append(f" {AUTOMATED}", style="cyan")
    return text


def _problems(pipeline: PipelineStatus) -> list[str]:
    """Notes under a table; errors go to stderr (see ``problem_lines``)."""
    lines = []
    for stage_status in pipeline.stages:
        if stage_status.error is None and stage_status.unsupported and not stage_status.rendered:
            lines.append(
                f"note: stage {stage_status.stage.name} uses what the native reader cannot follow "
                f"({'; '.join(p.text for p in stage_status.unsupported)}) "
                "and no kustomize/kubectl is on PATH"
            )
    return lines
