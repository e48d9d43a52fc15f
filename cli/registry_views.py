"""``status --registry`` rendered: the status with each image's resolved digest ("tag
moved") and what the registry offers for each app (newer tags)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from cli.views import (
    LEGEND,
    CellRenderer,
    _cell,
    _problems,
    render_status,
    status_grid,
)
from promoter.model import App, PipelineStatus, RepoStatus, StageStatus

if TYPE_CHECKING:
    from promoter.registry_status import RegistryStatus

MOVED = "tag moved"
NEWER = "↑"


def print_tables(status: RepoStatus, registry: RegistryStatus, *, wide: bool = False) -> None:
    """The status tables; a cell whose pinned digest its tag no longer resolves to says
    "tag moved", one with newer tags available shows ``↑ NEWEST (N newer)``; the legend lists
    the marks the tables use (stages as rows when they do not fit side by side)."""
    from cli.layout import console as table_console
    from cli.layout import legend

    out = table_console(wide)
    cells: list[Text] = []
    for pipeline in status.pipelines:
        out.print(Text(f"pipeline {pipeline.pipeline.name}", style="bold"))
        grid = status_grid(pipeline, _renderer(pipeline, registry))
        cells += grid.cells()
        out.print(render_status(grid, out.width, wide=wide))
        for line in _problems(pipeline):
            out.print(Text(line, style="yellow"))
    for note in registry.notes:
        out.print(Text(f"note: registry: {note}", style="yellow"))
    used = legend(_LEGEND, cells, out.width)
    if used is not None:
        out.print(used)


_LEGEND = {
    **LEGEND,
    NEWER: f"{NEWER} newer tags in the registry",
    MOVED: f"{MOVED}: the pinned digest is no longer what the tag resolves to",
}


def _renderer(pipeline: PipelineStatus, registry: RegistryStatus) -> CellRenderer:
    def cell(stage: StageStatus, app: App | None, previous: App | None, index: int) -> Text:
        text = _cell(stage, app, previous, index)
        if app is not None and stage.error is None:
            text.append(_extra(pipeline.pipeline.name, stage, app, registry))
        return text

    return cell


def _extra(pipeline: str, stage: StageStatus, app: App, registry: RegistryStatus) -> Text:
    text = Text()
    name = stage.stage.name
    if any(
        (found := registry.resolved.get((pipeline, name, app.key, i.container, i.init))) is not None
        and found.moved
        for i in app.images
    ):
        text.append(f" ({MOVED})", style="red")
    available = registry.available.get((pipeline, name, app.key))
    if available is not None and available.newer:
        text.append(f" {NEWER} {available.newest} ({len(available.newer)} newer)", style="green")
    return text
