"""Rendering of ``status --cluster``: git's version in each cell and the live one beside it
when it differs, a state row per pipeline, each stage's reason, and a legend of the symbols
used."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cli.views import ABSENT, AUTOMATED, DIFFERS, status_table
from promoter.cluster import ClusterStageStatus
from promoter.clusterstatus import ClusterReport
from promoter.model import App, PipelineStatus, StageStatus

LIVE = "≠"
"""Between git's version and the live one, when they differ."""
MISSING = "✗"
"""The cluster does not run the app."""

STATE_STYLES = {
    "in-sync": "green",
    "pending": "yellow",
    "failing": "red",
    "suspended": "magenta",
    "drift": "red",
    "unreachable": "red",
    "not-found": "yellow",
}

_LEGEND = {
    DIFFERS: "differs from the stage before",
    AUTOMATED: "kept current by Flux image automation",
    ABSENT: "not deployed",
    LIVE: "the cluster runs another version (git's first, the live one after)",
    MISSING: "not in the cluster",
}


def print_cluster_tables(report: ClusterReport, *, wide: bool = False) -> None:
    """One table per pipeline (apps as rows, stages as columns, a last ``cluster`` row with
    each stage's state), each stage's reason under it, and the legend of symbols used
    (stages as rows when they do not fit side by side; ``wide``: everything in full)."""
    from cli.layout import console as table_console
    from cli.layout import legend_text

    out = table_console(wide)
    used: set[str] = set()
    for pipeline in report.status.pipelines:
        out.print(Text(f"pipeline {pipeline.pipeline.name}", style="bold"))
        out.print(_table(report, pipeline, used, out.width, wide))
        for stage_status in pipeline.stages:
            cluster = report.of(stage_status.stage)
            if cluster.message:
                line = f"{stage_status.stage.name} ({cluster.context}): {cluster.state}: "
                out.print(Text(line + cluster.message, style=STATE_STYLES[cluster.state]))
    legend = [f"{symbol} {_LEGEND[symbol]}" for symbol in _LEGEND if symbol in used]
    if legend:
        out.print(legend_text(legend, out.width))


def _table(
    report: ClusterReport, pipeline: PipelineStatus, used: set[str], width: int, wide: bool
) -> Table:
    def cell(stage: StageStatus, app: App | None, previous: App | None, index: int) -> Text:
        return _cell(stage, report.of(stage.stage), app, previous, index, used)

    states = [_state(report.of(s.stage)) for s in pipeline.stages]
    return status_table(
        pipeline, cell, width=width, wide=wide, extra=[(Text("cluster", style="bold"), states)]
    )


def _state(cluster: ClusterStageStatus) -> Text:
    label = str(cluster.state)
    if cluster.state == "pending" and cluster.pending_commits:
        label = f"pending ({cluster.pending_commits})"
    return Text(label, style=STATE_STYLES[cluster.state])


def _cell(
    stage: StageStatus,
    cluster: ClusterStageStatus,
    app: App | None,
    previous: App | None,
    index: int,
    used: set[str],
) -> Text:
    if stage.error is not None:
        return Text("error", style="red")
    if app is None:
        used.add(ABSENT)
        return Text(ABSENT, style="dim")
    text = Text(app.version or "(none)")
    if index and previous is not None and previous.version != app.version:
        used.add(DIFFERS)
        text = Text(f"{DIFFERS} {app.version or '(none)'}", style="bold yellow")
    if app.source is not None and app.source.automated:
        used.add(AUTOMATED)
        text.append(f" {AUTOMATED}", style="cyan")
    if cluster.state in ("unreachable", "not-found"):
        return text
    live = cluster.live(app.key)
    if live is None:
        if any(a.key == app.key for a in cluster.apps):
            used.add(MISSING)
            text.append(f" {MISSING}", style="red")
        return text
    if live.version != app.version or live.drift:
        used.add(LIVE)
        text.append(f" {LIVE} {live.version or '?'}", style="red")
    return text
