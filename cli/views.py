"""Rendering for people (Rich tables, the Flux-style tree, change reports) and scripts
(JSON/YAML through ``promoter.serialize``); the one Rich console set-up of every command."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from promoter.model import App, PipelineStatus, RepoStatus, StageStatus
from promoter.problems import DUPLICATE_STAGE, Problem
from promoter.serialize import status_dict, to_json, to_yaml

if TYPE_CHECKING:
    from cli.layout import Grid
    from promoter.publish import ChangeResult

DIFFERS = "◆"
AUTOMATED = "⟳"
ABSENT = "—"


PLAIN_WIDTH = 10_000
"""Width of plain output: tables are never squeezed or truncated when stdout is a pipe."""


def console(*, soft_wrap: bool = False) -> Console:
    """A console that is plain (no colour; no width limit unless ``COLUMNS`` sets one) when
    stdout is not a terminal; ``soft_wrap`` leaves long lines to the terminal (reports with
    URLs and paths)."""
    out = Console(highlight=False, soft_wrap=soft_wrap)
    if out.is_terminal:
        return out
    from cli.layout import columns_env

    # COLUMNS, when set, is the width a pipe gets too (tests, `COLUMNS=80 pipelines ... | less`).
    width = columns_env() or PLAIN_WIDTH
    return Console(highlight=False, soft_wrap=soft_wrap, width=width)


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
    sys.stdout.write(to_json(status_dict(status), indent=indent))


def print_yaml(status: RepoStatus) -> None:
    """The same data as JSON, as YAML."""
    sys.stdout.write(to_yaml(status_dict(status)))


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


def print_tables(status: RepoStatus, *, wide: bool = False) -> None:
    """One table per pipeline: apps as rows, stages as columns, promotable cells marked
    (stages as rows when they do not fit side by side; ``wide``: everything in full)."""
    from cli.layout import console as table_console
    from cli.layout import legend

    out = table_console(wide)
    cells: list[Text] = []
    for pipeline in status.pipelines:
        # The title is printed on its own: a table title is padded with blanks to its width.
        out.print(Text(f"pipeline {pipeline.pipeline.name}", style="bold"))
        grid = status_grid(pipeline)
        cells += grid.cells()
        out.print(render_status(grid, out.width, wide=wide))
        for line in _problems(pipeline):
            out.print(Text(line, style="yellow"))
    used = legend(LEGEND, cells, out.width)
    if used is not None:
        out.print(used)


LEGEND = {
    DIFFERS: f"{DIFFERS} differs from the stage before (the next promotion carries it)",
    AUTOMATED: f"{AUTOMATED} kept current by Flux image automation",
    ABSENT: f"{ABSENT} not deployed",
}
"""The legend of the status symbols, in the order it prints them."""


CellRenderer = Callable[[StageStatus, App | None, App | None, int], Text]
"""Renders one cell: (the stage, its app, the app in the stage before or None, column)."""


def status_table(
    pipeline: PipelineStatus,
    cell: CellRenderer | None = None,
    *,
    width: int = PLAIN_WIDTH,
    wide: bool = False,
    extra: Sequence[tuple[Text, Sequence[Text]]] = (),
) -> Table:
    """Apps as rows, stages as columns in order; ``cell`` renders each cell (default: the
    version, marked when it differs from the stage before or is automated); ``extra`` rows
    follow a rule.  Stages become rows when they do not fit ``width`` (see ``cli.layout``)."""
    grid = status_grid(pipeline, cell)
    grid.extra.extend(extra)
    return render_status(grid, width, wide=wide)


def status_grid(pipeline: PipelineStatus, cell: CellRenderer | None = None) -> Grid:
    """The cells of ``status_table``, before layout."""
    from cli.layout import Grid

    render = cell or _cell
    grid = Grid("app", [f"{s.stage.name} ({s.stage.order})" for s in pipeline.stages])
    for key in pipeline.app_keys:
        row: list[Text] = []
        previous: App | None = None
        for index, stage_status in enumerate(pipeline.stages):
            app = stage_status.app(key)
            row.append(render(stage_status, app, previous if index else None, index))
            previous = app
        grid.rows.append((Text(key), row))
    return grid


def render_status(grid: Grid, width: int, *, wide: bool = False) -> Table:
    """A status grid laid out for ``width`` (``cli.layout.render_grid``)."""
    from cli.layout import render_grid

    return render_grid(grid, width, wide=wide)


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
        if stage_status.error is None and stage_status.native_problem is not None:
            lines.append(
                f"note: stage {stage_status.stage.name} was rendered with kustomize: the native "
                f"reader cannot build it ({stage_status.native_problem.text})"
            )
    return lines


def print_change(result: ChangeResult) -> None:
    """A promotion or rollback: what moves, each value written, and what was done."""
    plan = result.plan
    out = console(soft_wrap=True)
    where = f"pipeline {plan.pipeline}: {plan.source.name} -> {plan.target.name}"
    if plan.kind == "rollback":
        origin = f" (version from commit {plan.origin_commit[:12]})" if plan.origin_commit else ""
        where = f"pipeline {plan.pipeline}: roll back {plan.target.name}{origin}"
    if plan.is_noop:
        apps = ", ".join(plan.unchanged) or "no app differs"
        out.print(Text(f"{where}: already up to date ({apps}); nothing to do"))
        return
    out.print(Text(where, style="bold"))
    from cli.layout import grouped_changes

    # Each value written is listed under its app (several apps: one block each).
    for key, move, changes in grouped_changes(plan):
        if move is not None:
            out.print(Text(f"  {key}: {move.old_version or 'none'} -> {move.new_version}"))
        else:
            out.print(Text(f"  {key}:"))
        for change in changes:
            at = f"{change.file}:{change.line}" if change.line else change.file
            what = change.container or "chart"
            line = f"    {what}: {change.old} -> {change.new}  {at} ({change.how})"
            if change.policy is not None:
                line += f" {AUTOMATED} {change.policy}"
            out.print(Text(line, style="dim"))
    for note in plan.notes:
        out.print(Text(f"  note: {note}", style="yellow"))
    for key in plan.unchanged:
        out.print(Text(f"  {key}: already at the same version", style="dim"))
    if plan.changelog is not None:
        for line in plan.changelog.lines():
            out.print(Text(f"  {line}" if line else ""))
    if result.dry_run:
        sys.stdout.write(plan.diff())
        out.print(Text("dry run: nothing was written", style="dim"))
    elif result.wrote:
        out.print(Text(f"wrote {', '.join(e.path for e in plan.edits)}"))
    published = result.published
    if published is None:
        return
    if published.commit:
        out.print(
            Text(
                f"committed {published.commit[:12]} on branch {published.branch} "
                f"(base {published.base})"
            )
        )
    if published.pushed:
        out.print(Text(f"pushed {published.branch}"))
    if published.pull_request is not None:
        pr = published.pull_request
        verb = "opened" if pr.created else "updated"
        if published.provider == "gitlab":
            out.print(Text(f"merge request !{pr.number} {verb}: {pr.url}"))
        else:
            out.print(Text(f"pull request #{pr.number} {verb}: {pr.url}"))
        if pr.auto_merge:
            out.print(Text("auto-merge set: it merges once its checks pass"))
        elif pr.note:
            out.print(Text(f"note: {pr.note}"))
