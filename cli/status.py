"""``pipelines status``: every app's version in every stage."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import EXIT_FAILED, fail, handled
from cli.options import RepoOption, repo_root
from cli.statusjson import print_status_json

if TYPE_CHECKING:
    from promoter.clusterstatus import ClusterReport
    from promoter.model import RepoStatus
    from promoter.registry_status import RegistryStatus


class Output(str, Enum):
    """Output formats of ``status``."""

    table = "table"
    json = "json"
    yaml = "yaml"
    tree = "tree"
    wide = "wide"


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
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Read every stage again instead of reusing what the last run read of "
            "unchanged stages.",
        ),
    ] = False,
) -> None:
    """Show every app's version in every stage of every pipeline."""
    if not cluster and (context is not None or fail_on is not None):
        raise typer.BadParameter("--context and --fail-on need --cluster")
    if output is Output.json and not (cluster or registry or sys.stdout.isatty()):
        cache = not (render or no_cache)
        if print_status_json(repo, pipelines or (), render=render, cache=cache):
            raise typer.Exit(EXIT_FAILED)
        return
    from cli.clusterstatus import parse_fail_on, unreachable_lines

    failing = parse_fail_on(fail_on)
    with handled():
        import promoter
        from cli import views

        root = repo_root(repo)
        chosen = pipelines or ()
        report = (
            promoter.cluster_status(root, chosen, context=context, render=render)
            if cluster
            else None
        )
        if report is not None:
            result = report.status
        elif no_cache or render:
            result = promoter.status(root, chosen, render=render)
        else:  # straight to the cache: a warm run imports no reader
            from promoter.statuscache import cached_status

            result = cached_status(root, chosen)
        seen = None
        if registry:
            from promoter.registry_status import registry_status

            seen = registry_status(root, result, insecure=insecure_registry or ())
        from promoter.gcpause import paused_gc

        with paused_gc():  # the output is hundreds of thousands of short-lived objects
            _print(output, result, report, seen)
        sys.stdout.flush()
        problems = views.problem_lines(result)
    # The output above still shows every readable stage; each problem also gets one line here.
    unreadable = unreachable_lines(report) if report is not None else []
    for line in [*problems, *unreadable]:
        fail(line)
    blocked = report is not None and bool(failing & report.states)
    if problems or unreadable or blocked or not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _print(
    output: Output,
    result: RepoStatus,
    report: ClusterReport | None,
    seen: RegistryStatus | None,
) -> None:
    """Render the status with what the clusters (``--cluster``) and the registries
    (``--registry``) answered, when asked."""
    from cli import views

    if output in (Output.json, Output.yaml):
        from promoter.serialize import add_cluster, add_registry, status_dict, to_json, to_yaml

        data = status_dict(result)
        if report is not None:
            add_cluster(data, report)
        if seen is not None:
            add_registry(data, result, seen)
        if output is Output.yaml:
            sys.stdout.write(to_yaml(data))
        else:
            # Indented for people; compact (and several times faster) for pipes.
            sys.stdout.write(to_json(data, indent=2 if sys.stdout.isatty() else None))
    elif output is Output.tree:
        views.print_tree(result)
    else:
        wide = output is Output.wide  # the table with every value in full
        if report is not None:
            from cli.clusterviews import print_cluster_tables

            print_cluster_tables(report, wide=wide)
        elif seen is None:
            views.print_tables(result, wide=wide)
        if seen is not None:
            from cli import registry_views

            registry_views.print_tables(result, seen, wide=wide)
