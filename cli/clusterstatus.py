"""``pipelines status --cluster``: git's versions beside what each stage's cluster runs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import typer

from cli.errors import EXIT_FAILED, fail, handled
from cli.options import repo_root

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


def cluster_status(
    repo: Path | None,
    pipelines: Sequence[str],
    output: str,
    render: bool,
    context: str | None,
    fail_on: str | None,
) -> None:
    """Read, render, and exit 1 when a stage could not be read or is in a ``--fail-on``
    state (0 otherwise, whatever the states)."""
    failing = parse_fail_on(fail_on)
    with handled():
        import promoter
        from cli import views
        from cli.clusterviews import print_cluster_tables
        from promoter.serialize import cluster_status_dict, to_json, to_yaml

        report = promoter.cluster_status(repo_root(repo), pipelines, context=context, render=render)
        if output == "json":
            indent = 2 if sys.stdout.isatty() else None
            sys.stdout.write(to_json(cluster_status_dict(report), indent=indent))
        elif output == "yaml":
            sys.stdout.write(to_yaml(cluster_status_dict(report)))
        elif output == "tree":
            views.print_tree(report.status)
        else:
            print_cluster_tables(report)
        sys.stdout.flush()
        problems = views.problem_lines(report.status)
    for line in problems:
        fail(line)
    unreadable = [
        f"{stage.stage.pipeline}/{stage.stage.name}: {report.of(stage.stage).message}"
        for pipeline in report.status.pipelines
        for stage in pipeline.stages
        if report.of(stage.stage).state == "unreachable"
    ]
    for line in unreadable:
        fail(line)
    blocked = failing & report.states
    if problems or unreadable or blocked or not report.status.ok:
        raise typer.Exit(EXIT_FAILED)
