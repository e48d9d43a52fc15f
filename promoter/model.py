"""The typed, immutable picture of a GitOps repository: pipelines, stages, apps, versions."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Literal

from promoter.images import ImageRef
from promoter.problems import Problem

SourceType = Literal["resource", "patch", "json6902", "images", "inline-patch"]
"""How a version is set: a base manifest, a strategic-merge patch file, a JSON6902 op,
a kustomization ``images:`` entry, or a patch written inline in a kustomization."""


@dataclass(frozen=True)
class VersionSource:
    """The exact place a version is written: promotion rewrites this span."""

    file: str
    line: int
    column: int
    type: SourceType
    automated: bool = False
    policy: str | None = None
    """The Flux ``$imagepolicy`` setter on that line (``ns:name[:tag]``), if any."""


@dataclass(frozen=True)
class ContainerImage:
    """One container (or init container) of a workload and the image it runs."""

    container: str
    image: ImageRef
    init: bool = False
    source: VersionSource | None = None


@dataclass(frozen=True)
class App:
    """A workload or Flux HelmRelease as one stage deploys it.

    ``name`` is the name written in its source manifest, before any prefix or suffix;
    ``rendered_name`` the name it gets in the cluster.
    """

    kind: str
    name: str
    api_version: str
    namespace: str | None
    rendered_name: str
    version: str | None
    source: VersionSource | None
    images: tuple[ContainerImage, ...] = ()

    @property
    def key(self) -> str:
        """``Kind/name``, the app's identity across stages."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class FluxRef:
    """The Flux ``Kustomization`` object that reconciles a stage."""

    name: str
    namespace: str
    file: str


@dataclass(frozen=True)
class Stage:
    """One environment of a pipeline: a kustomize directory and its place in the order."""

    pipeline: str
    name: str
    order: int
    path: str
    declared_in: str
    flux: FluxRef | None = None
    problem: Problem | None = None
    """Why the stage cannot be read (its directory is unusable), None when it can."""

    @property
    def error(self) -> str | None:
        """``problem`` as one line, None when the stage is fine."""
        return None if self.problem is None else self.problem.text


@dataclass(frozen=True)
class Pipeline:
    """Stages in promotion order; stages sharing an ``order`` form a wave."""

    name: str
    stages: tuple[Stage, ...]
    declared_in: str
    problems: tuple[Problem, ...] = ()
    """Everything wrong with the declaration (bad labels, stage names used twice)."""

    @property
    def error(self) -> str | None:
        """``problems`` as one line (``"; "``-joined), None when there are none."""
        return "; ".join(p.text for p in self.problems) or None

    @property
    def waves(self) -> tuple[tuple[Stage, ...], ...]:
        """Stages grouped by order, lowest first."""
        return tuple(tuple(g) for _, g in groupby(self.stages, key=lambda s: s.order))


@dataclass(frozen=True)
class StageStatus:
    """What a stage deploys, or why it could not be read."""

    stage: Stage
    apps: tuple[App, ...] = ()
    problem: Problem | None = None
    """Why the stage could not be read, None when it was."""
    unsupported: tuple[Problem, ...] = ()
    """What the native reader cannot follow (code ``unsupported``)."""
    rendered: bool = False
    native_problem: Problem | None = None
    """Why the native reader could not build the stage when kustomize rendered it instead
    (a note: the stage was read, ``rendered`` is True)."""

    @property
    def error(self) -> str | None:
        """``problem`` as one line, None when the stage was read."""
        return None if self.problem is None else self.problem.text

    def app(self, key: str) -> App | None:
        """The app with ``Kind/name`` key ``key``, if the stage deploys it."""
        return next((a for a in self.apps if a.key == key), None)


@dataclass(frozen=True)
class PipelineStatus:
    """Every stage's status of one pipeline."""

    pipeline: Pipeline
    stages: tuple[StageStatus, ...]

    @property
    def app_keys(self) -> tuple[str, ...]:
        """Every app deployed in any stage, in first-seen order."""
        seen: dict[str, None] = {}
        for status in self.stages:
            for app in status.apps:
                seen.setdefault(app.key, None)
        return tuple(seen)


@dataclass(frozen=True)
class RepoStatus:
    """The status of every pipeline asked for."""

    pipelines: tuple[PipelineStatus, ...]

    @property
    def ok(self) -> bool:
        """False when any pipeline or stage could not be read."""
        return all(
            not p.pipeline.problems and all(s.problem is None for s in p.stages)
            for p in self.pipelines
        )
