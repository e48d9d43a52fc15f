"""``pipelines status``: every app's version in every stage."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import EXIT_FAILED, fail, handled
from cli.fastpath import missed
from cli.jsonout import write_bytes
from cli.options import RepoOption, repo_root

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
        if cache:
            with handled():
                if _print_cached_json(repo_root(repo), pipelines or ()):
                    return
        _print_json(repo, pipelines or (), render=render, cache=cache)
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


_KEPT: list[object] = []
"""What the last run read, kept until the process ends (``_print_json``)."""


def _print_json(repo: Path | None, pipelines: Sequence[str], *, render: bool, cache: bool) -> None:
    """The compact JSON, each stage's part made where it is read (``GitOpsRepo.status_json``)
    or taken from the cache (``cache``: ``promoter.statuscache.cached_status_json``), then a
    line per problem."""
    with handled():
        root = repo_root(repo)
        if cache:
            from promoter.statuscache import cached_status_json

            found = cached_status_json(root, pipelines)
        else:
            from promoter.forked import Pair, paired
            from promoter.repo import StatusJson, open_status_repo

            def read(pair: Pair) -> StatusJson:  # a forked child may share discovery and reading
                opened = open_status_repo(root, pair)
                # Not freed when this returns: the parsed repository is hundreds of thousands
                # of objects, and the console script ends (os._exit) without freeing them.
                _KEPT[:] = [opened]
                return opened.status_json(tuple(dict.fromkeys(pipelines)), render=render)

            found = paired(read)
        write_bytes(found.document)
        if found.problems.ok:  # no line to print: Rich (``cli.views``) is not even imported
            return
        from cli import views

        problems = views.problem_lines(found.problems)
    for line in problems:
        fail(line)
    raise typer.Exit(EXIT_FAILED)


def _print_cached_json(root: Path, pipelines: Sequence[str]) -> bool:
    """Print the compact JSON straight from the cache when nothing it depends on changed
    (``promoter.statuscache.cached_json``: no model object built, no reader imported)."""
    if missed(root, pipelines):  # just asked by the console script (``cli.fastpath``)
        return False
    from promoter.statuscache import cached_json

    data = cached_json(root, pipelines)
    if data is None:
        return False
    write_bytes(data)
    return True


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
