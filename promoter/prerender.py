"""A promotion's target stage rendered before the repository is read (issue 15).

Verifying a promotion with kustomize renders the target stage as it is and with the edits.
The first render needs only the stage's directory and its Flux Kustomization, which the
last cached ``status`` recorded: ``prerendering`` starts it from that record before
anything else is imported or read, and ``Verification`` adopts it only when the real
discovery (checked against the disk) names the same directory with the same Flux spec.
A render reads the disk when it runs, so an adopted render is exactly the render
``Verification`` would have started; a guess that turns out wrong is killed unused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promoter.kustomize.render import RenderJob
    from promoter.model import Pipeline, Stage


@dataclass
class _Early:
    root: Path
    stage: Stage
    spec: Mapping[str, Any] | None
    job: RenderJob | None
    """None once adopted (one ``Verification`` owns it then)."""


_EARLY: ContextVar[tuple[_Early, ...]] = ContextVar("prerendered", default=())


@contextmanager
def prerendering(path: Path, source: str, target: str, pipeline: str | None) -> Iterator[None]:
    """Inside, the render of stage ``target`` (promoted to from ``source``, of
    ``pipeline`` or of the only pipeline having both) runs from the start, as the cached
    discovery of the repository at ``path`` has that stage; nothing is started when there
    is no cached discovery, no kustomize or kubectl, or the stages are ambiguous there.
    Leaving kills it unless a ``Verification`` adopted it; inside another ``prerendering``
    of the same repository, nothing more is started."""
    root = path.resolve()
    running = any(e.root == root for e in _EARLY.get())
    early = None if running else _start(root, source, target, pipeline)
    if early is None:
        yield
        return
    token = _EARLY.set((*_EARLY.get(), early))
    try:
        yield
    finally:
        _EARLY.reset(token)
        if early.job is not None:
            early.job.close()


def adopt(root: Path, stage: Stage, spec: Mapping[str, Any] | None) -> RenderJob | None:
    """The early render of ``stage`` (its directory under ``root``) with the Flux spec
    ``spec``, when one runs for exactly that; the caller then owns it."""
    for early in _EARLY.get():
        if (
            early.job is not None
            and early.root == root
            and early.stage.path == stage.path
            and (early.stage.flux is None) == (stage.flux is None)
            and early.spec == spec
        ):
            job, early.job = early.job, None
            return job
    return None


def _start(root: Path, source: str, target: str, pipeline: str | None) -> _Early | None:
    from promoter.kustomize import render
    from promoter.statuscache import peek_discovery

    if render.find_tool() is None:
        return None
    found = peek_discovery(root)
    if found is None:
        return None
    pipelines, flux = found
    stage = _target(pipelines, source, target, pipeline)
    if stage is None or stage.problem is not None:
        return None
    spec = flux.get((stage.pipeline, stage.name)) if stage.flux is not None else None
    job = render.RenderJob(root / stage.path, spec, shown=stage.path)
    return _Early(root, stage, spec, job)


def _target(
    pipelines: tuple[Pipeline, ...], source: str, target: str, pipeline: str | None
) -> Stage | None:
    """Stage ``target`` of ``pipeline``, or of the only pipeline with both stages: the
    rule of ``promoter.resolve.resolve_route`` without its use of the apps (that needs
    builds, and importing the reader here would delay the render this starts); a guess
    it rejects is not adopted."""
    chosen = [
        p
        for p in pipelines
        if (pipeline is None or p.name == pipeline)
        and {source, target} <= {s.name for s in p.stages}
    ]
    if len(chosen) != 1:
        return None
    return next((s for s in chosen[0].stages if s.name == target), None)
