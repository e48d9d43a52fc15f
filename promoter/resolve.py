"""Which pipeline, FROM stage and TO stage a command means: the one resolution that
``promote``, ``rollback`` and ``diff`` share.

Stage names may repeat across pipelines; the pipeline is then the one named, or the only
one that has both stages, narrowed (when apps are named) to the pipelines whose FROM stage
deploys every app.  A rollback's FROM and TO are the same stage: messages then speak of
that one stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from promoter.errors import LookupFailed, RepoError
from promoter.model import Pipeline, Stage
from promoter.repo import GitOpsRepo


@dataclass(frozen=True)
class Route:
    """A pipeline and two of its stages (the same one twice for a rollback)."""

    pipeline: Pipeline
    source: Stage
    target: Stage


def resolve_route(
    repo: GitOpsRepo,
    source: str,
    target: str,
    *,
    pipeline: str | None = None,
    apps: Sequence[str] | None = None,
) -> Route:
    """The pipeline (``pipeline``, or the one having both stages and deploying ``apps``)
    and its stages ``source`` and ``target``.

    Raises ``LookupFailed`` for unknown or ambiguous names, ``RepoError`` when the chosen
    pipeline is misdeclared."""
    if pipeline is not None:
        chosen = repo.pipeline(pipeline)
    else:
        chosen = _choose(repo, source, target, apps)
    if chosen.error is not None:
        raise RepoError(f"pipeline {chosen.name} is misdeclared: {chosen.error}")
    return Route(chosen, repo.stage(chosen.name, source), repo.stage(chosen.name, target))


def _choose(repo: GitOpsRepo, source: str, target: str, apps: Sequence[str] | None) -> Pipeline:
    stage_names = {s.name for p in repo.pipelines for s in p.stages}
    for name in dict.fromkeys((source, target)):
        if name not in stage_names:
            raise LookupFailed.from_choices("stage", name, stage_names)
    both = [p for p in repo.pipelines if {source, target} <= {s.name for s in p.stages}]
    if not both:
        raise LookupFailed(f"no pipeline has both stages {source!r} and {target!r}")
    if apps:
        both = _deploying(repo, both, source, target, apps)
    if not both:
        raise LookupFailed(f"no pipeline has both stages {source!r} and {target!r}")
    if len(both) > 1:
        names = ", ".join(p.name for p in both)
        if source != target:
            raise LookupFailed(
                f"stages {source!r} and {target!r} exist in several pipelines ({names}); "
                "choose one with --pipeline"
            )
        if not apps:
            raise LookupFailed(
                f"stage {source!r} exists in several pipelines ({names}); "
                "choose one with --pipeline"
            )
        raise LookupFailed(
            f"stage {source!r} of several pipelines ({names}) deploys {', '.join(apps)}; "
            "choose one with --pipeline"
        )
    return both[0]


def _deploying(
    repo: GitOpsRepo, pipelines: list[Pipeline], source: str, target: str, apps: Sequence[str]
) -> list[Pipeline]:
    """The pipelines whose ``source`` stage deploys every app; an app that none of them
    deploys is an unknown name.  A single candidate whose stage cannot be read is kept:
    reading it will say why."""
    statuses = [repo.stage_status(repo.stage(p.name, source)) for p in pipelines]
    if len(pipelines) == 1 and statuses[0].error is not None:
        return pipelines
    deployed = [{a.key for a in s.apps} | {a.name for a in s.apps} for s in statuses]
    known: set[str] = set().union(*deployed)
    what = f"app in stage {source}" if source == target else "app"
    for app in apps:
        if app not in known:
            raise LookupFailed.from_choices(what, app, known)
    return [p for p, keys in zip(pipelines, deployed, strict=True) if set(apps) <= keys]
