"""``pipelines status``: every app's version in every stage."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from cli.errors import EXIT_FAILED, fail, handled
from cli.options import RepoOption, repo_root


class Output(str, Enum):
    """Output formats of ``status``."""

    table = "table"
    json = "json"
    yaml = "yaml"
    tree = "tree"


def status(
    pipelines: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PIPELINE", help="Pipelines to show (default: all).", show_default=False
        ),
    ] = None,
    repo: RepoOption = None,
    output: Annotated[Output, typer.Option("--output", "-o", help="Output format.")] = Output.table,
    render: Annotated[
        bool,
        typer.Option(
            "--render", help="Render every stage with kustomize instead of reading it natively."
        ),
    ] = False,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry",
            help="Ask the registries: digests tags resolve to (tag moved), newer tags.",
        ),
    ] = False,
    insecure_registry: Annotated[
        list[str] | None,
        typer.Option(
            "--insecure-registry",
            help="Registry HOST[:PORT] to reach over plain HTTP (repeatable).",
            metavar="HOST",
        ),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option("--cluster", help="Also read what each stage's cluster runs (Flux, apps)."),
    ] = False,
    context: Annotated[
        str | None,
        typer.Option("--context", help="Kubeconfig context for every stage (with --cluster)."),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            metavar="STATES",
            help="Exit 1 when a stage is in one of these cluster states (drift,failing,pending).",
        ),
    ] = None,
) -> None:
    """Show every app's version in every stage of every pipeline."""
    if not cluster and (context is not None or fail_on is not None):
        raise typer.BadParameter("--context and --fail-on need --cluster")
    if cluster:
        from cli.clusterstatus import cluster_status

        cluster_status(repo, pipelines or (), output.value, render, context, fail_on)
        return
    with handled():
        import promoter
        from cli import views

        root = repo_root(repo)
        result = promoter.status(root, pipelines or (), render=render)
        if registry:
            from cli import registry_views
            from promoter.registry_status import registry_status

            seen = registry_status(root, result, insecure=insecure_registry or ())
            if output is Output.json:
                registry_views.print_json(result, seen)
            elif output is Output.yaml:
                registry_views.print_yaml(result, seen)
            elif output is Output.tree:
                views.print_tree(result)
            else:
                registry_views.print_tables(result, seen)
        elif output is Output.json:
            views.print_json(result)
        elif output is Output.yaml:
            views.print_yaml(result)
        elif output is Output.tree:
            views.print_tree(result)
        else:
            views.print_tables(result)
        sys.stdout.flush()
        problems = views.problem_lines(result)
    # The output above still shows every readable stage; each problem also gets one line here.
    for line in problems:
        fail(line)
    if problems or not result.ok:
        raise typer.Exit(EXIT_FAILED)
