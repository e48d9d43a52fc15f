"""``pipelines status --cluster``: the ``--fail-on`` states and unreadable clusters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from promoter.clusterstatus import ClusterReport

FAIL_STATES = ("drift", "failing", "pending", "suspended", "not-found", "unreachable")


def parse_fail_on(text: str | None) -> frozenset[str]:
    """``drift,failing,pending`` -> the states; an unknown one is a usage error."""
    states = frozenset(s.strip() for s in (text or "").split(",") if s.strip())
    unknown = sorted(states - set(FAIL_STATES))
    if unknown:
        raise typer.BadParameter(
            f"unknown state {', '.join(unknown)} (choose from {', '.join(FAIL_STATES)})",
            param_hint="--fail-on",
        )
    return states


def unreachable_lines(report: ClusterReport) -> list[str]:
    """One line per stage whose cluster could not be read (the table still shows it)."""
    return [
        f"{stage.stage.pipeline}/{stage.stage.name}: {report.of(stage.stage).message}"
        for pipeline in report.status.pipelines
        for stage in pipeline.stages
        if report.of(stage.stage).state == "unreachable"
    ]
