"""``GitOpsRepo``: open a repository, list its pipelines, read what every stage deploys."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from promoter._yaml import YMap, decode, parse_text
from promoter.apps import apps_of, invalid_name, is_app
from promoter.discovery import discover
from promoter.errors import LookupFailed, PromoterError, RenderError, RepoError
from promoter.forked import Pair, paired
from promoter.gcpause import paused_gc
from promoter.kustomize import Build, Builder, FluxLayer, Resource
from promoter.kustomize import render as _render
from promoter.model import App, Pipeline, PipelineStatus, RepoStatus, Stage, StageStatus
from promoter.problems import Problem
from promoter.tree import DiskSource, FileSource

if TYPE_CHECKING:
    from datetime import datetime

    from promoter.checks import CheckReport
    from promoter.cluster import WaitProgress
    from promoter.clusterstatus import ClusterReport
    from promoter.history import HistoryEntry
    from promoter.promotion import PromotionPlan
    from promoter.statuscache import Guess
    from promoter.waiting import StageWait

_FLUX_BUILD_FIELDS = (
    "images",
    "patches",
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "components",
)


class GitOpsRepo:
    """A GitOps repository of kustomize pipelines, read from a directory on disk."""

    def __init__(
        self,
        root: Path,
        pipelines: tuple[Pipeline, ...],
        flux: Mapping[tuple[str, str], YMap],
        overrides: Mapping[str, bytes] | None = None,
        *,
        source: FileSource | None = None,
        builder: Builder | None = None,
    ):
        self.root = root
        self.pipelines = pipelines
        self.source: FileSource = source or DiskSource(root)
        self._flux = flux
        self._overrides = dict(overrides or {})
        self._builder = builder or Builder(self.source, self._overrides)
        # Only a repository on disk can be rendered by kustomize (not a commit of history).
        self._renderable = isinstance(self.source, DiskSource)
        self._lines: dict[str, list[str]] = {}
        self._marked: dict[str, bool] = {}
        self._files: dict[tuple[str, str], frozenset[str]] = {}
        self._pair: Pair | None = None

    @classmethod
    def open(cls, path: str | Path, *, cache: bool = False, pair: Pair | None = None) -> GitOpsRepo:
        """Discover the pipelines of the repository at ``path``; ``cache``: reuse what the
        last cached ``status`` discovered when nothing it depends on changed; ``pair``: a
        forked child may share the discovery and then the reading (``read_stages``)."""
        root = Path(path)
        if not root.is_dir():
            raise RepoError(f"{path}: not a directory")
        if cache:
            from promoter.statuscache import cached_discovery

            known = cached_discovery(root.resolve())
            if known is not None:
                return cls(root.resolve(), known[0], known[1])
        # One source for discovery and the builds: what discovery read is not read again.
        source = DiskSource(root.resolve())
        found = discover(source, pair=pair)
        opened = cls(source.root, found.pipelines, found.flux_specs, source=source)
        opened.share_with(pair)
        return opened

    @classmethod
    def open_guessed(cls, path: str | Path) -> tuple[GitOpsRepo, Guess] | None:
        """The repository at ``path`` as the last cached ``status`` discovered it, not yet
        checked (nothing made from it may be shown or written before its ``Guess`` says it
        holds); None without a cached discovery."""
        root = Path(path)
        if not root.is_dir():
            return None
        from promoter.statuscache import guessed_discovery

        guess = guessed_discovery(root.resolve())
        if guess is None:
            return None
        pipelines, flux = guess.discovered
        return cls(root.resolve(), pipelines, flux), guess

    @property
    def flux_specs(self) -> Mapping[tuple[str, str], YMap]:
        """The spec of each labelled stage's Flux Kustomization, by (pipeline, stage)."""
        return self._flux

    def share_with(self, pair: Pair | None) -> None:
        """Read the next stages (``read_stages``) with ``pair``'s child, which shared the
        discovery of this repository."""
        self._pair = pair

    @classmethod
    def from_source(cls, source: FileSource, root: Path) -> GitOpsRepo:
        """Discover the pipelines of a repository snapshot (a commit, for history)."""
        found = discover(source)
        return cls(root, found.pipelines, found.flux_specs, source=source)

    def with_source(self, source: FileSource, changed: set[str]) -> GitOpsRepo:
        """The same pipelines over another snapshot where only ``changed`` files differ;
        builds of directories that did not change are reused."""
        self._builder.invalidate(source, changed)
        return GitOpsRepo(
            self.root, self.pipelines, self._flux, source=source, builder=self._builder
        )

    def with_overrides(self, overrides: Mapping[str, bytes]) -> GitOpsRepo:
        """The same repository as if some files had other contents (nothing is written)."""
        merged = {**self._overrides, **overrides}
        return GitOpsRepo(
            self.root,
            self.pipelines,
            self._flux,
            merged,
            source=self.source,
            builder=self._builder.with_overrides(merged),
        )

    def read_text(self, file: str) -> str | None:
        """A repo file's text (with overrides), or None when it does not exist."""
        data = self._overrides.get(file)
        if data is None:
            try:
                data = self.source.read_bytes(file)
            except OSError:
                return None
        return decode(data)

    def stage_files(self, stage: Stage) -> frozenset[str]:
        """Every file the stage's build reads (empty when it cannot be built)."""
        key = (stage.pipeline, stage.name)
        if key not in self._files:
            try:
                self._files[key] = self.build(stage).files if stage.error is None else frozenset()
            except PromoterError:
                self._files[key] = frozenset()
        return self._files[key]

    # -- lookups ---------------------------------------------------------------------------

    def pipeline(self, name: str) -> Pipeline:
        """The pipeline called ``name``."""
        for pipeline in self.pipelines:
            if pipeline.name == name:
                return pipeline
        raise LookupFailed.from_choices("pipeline", name, (p.name for p in self.pipelines))

    def stage(self, pipeline: str, name: str) -> Stage:
        """Stage ``name`` of ``pipeline``."""
        found = self.pipeline(pipeline)
        for stage in found.stages:
            if stage.name == name:
                return stage
        raise LookupFailed.from_choices(
            f"stage of pipeline {pipeline!r}", name, (s.name for s in found.stages)
        )

    # -- reading ---------------------------------------------------------------------------

    def status(self, pipelines: Sequence[str] = (), *, render: bool = False) -> RepoStatus:
        """Every app's version in every stage of the named pipelines (all by default)."""
        chosen = self._chosen(pipelines)
        stages = [s for p in chosen for s in p.stages]
        with paused_gc():
            reads = iter(self.read_stages(stages, render))
        return RepoStatus(
            tuple(PipelineStatus(p, tuple(_status(next(reads)) for _ in p.stages)) for p in chosen)
        )

    def status_json(self, pipelines: Sequence[str] = (), *, render: bool = False) -> StatusJson:
        """``status``'s compact JSON document, made where each stage is read (no status is
        sent between processes or kept: only its part of the document and its problem)."""
        from promoter.serialize import join_status_json, pipeline_json_ends

        chosen = self._chosen(pipelines)
        stages = [s for p in chosen for s in p.stages]
        with paused_gc():
            reads = self.read_stages(stages, render, status=False, json=True)
        parts: list[tuple[bytes, list[bytes], bytes]] = []
        problems: list[PipelineStatus] = []
        at = 0
        for pipeline in chosen:
            mine = reads[at : at + len(pipeline.stages)]
            at += len(pipeline.stages)
            head, tail = pipeline_json_ends(pipeline)
            parts.append((head, [r.json or b"" for r in mine], tail))
            found = zip(pipeline.stages, mine, strict=True)
            problems.append(
                PipelineStatus(pipeline, tuple(StageStatus(s, problem=r.problem) for s, r in found))
            )
        return StatusJson(join_status_json(parts), RepoStatus(tuple(problems)))

    def _chosen(self, pipelines: Sequence[str]) -> list[Pipeline]:
        return [self.pipeline(n) for n in pipelines] if pipelines else list(self.pipelines)

    def read_stages(
        self, stages: Sequence[Stage], render: bool, *, status: bool = True, json: bool = False
    ) -> Sequence[StageRead]:
        """What reading each stage gave, in order: its status (``status``), the files its
        native build read (what ``promoter.statuscache`` keys a cached status on) and its
        part of the compact JSON document (``json``).  Large repositories are read by two
        processes (a fork shares what is already parsed; the child that shared discovery,
        ``share_with``, when there is one): what the child reads is sent to this process,
        so only what is asked for is made."""
        pair, self._pair = self._pair or Pair(), None  # a pair shares one job
        return pair.share_items(
            len(stages),
            lambda index: self._read_stage(stages[index], render, status, json),
            fork=len(stages) >= _PARALLEL_MIN,
        )

    def _read_stage(self, stage: Stage, render: bool, status: bool, json: bool) -> StageRead:
        from promoter.serialize import stage_json

        read = self.stage_status(stage, render=render)
        return StageRead(
            read.problem,
            read if status else None,
            self._files.get((stage.pipeline, stage.name)),
            stage_json(read) if json else None,
        )

    def stage_status(self, stage: Stage, *, render: bool = False) -> StageStatus:
        """What ``stage`` deploys; natively, or rendered when asked or when needed."""
        if stage.problem is not None:
            return StageStatus(stage, problem=stage.problem)
        native: Build | None = None
        native_error: PromoterError | None = None
        try:
            native = self.build(stage)
        except PromoterError as exc:
            native_error = exc
        if native is not None:
            self._files[(stage.pipeline, stage.name)] = native.files
        unsupported = native.unsupported if native is not None else ()
        # A stage the native reader cannot build is rendered (issue 10): it is an error
        # only when kustomize fails on it too.  Not with overrides: a render reads the disk.
        fallback = native_error is not None and not self._overrides
        if (render or unsupported or fallback) and self._renderable:
            if _render.find_tool() is not None:
                try:
                    rendered = self.render(stage)
                except RenderError as exc:
                    return StageStatus(
                        stage, problem=(native_error or exc).problem, unsupported=unsupported
                    )
                bad = invalid_name(native.resources if native is not None else rendered)
                if bad is not None:
                    return StageStatus(stage, problem=bad, unsupported=unsupported)
                apps = self._merge_render(rendered, native)
                note = None if native_error is None else native_error.problem
                return StageStatus(
                    stage, apps, None, unsupported, rendered=True, native_problem=note
                )
            if render:
                return StageStatus(
                    stage,
                    problem=RenderError(
                        "cannot render: neither kustomize nor kubectl is on PATH"
                    ).problem,
                )
        if native is None:
            return StageStatus(
                stage, problem=None if native_error is None else native_error.problem
            )
        bad = invalid_name(native.resources)
        if bad is not None:
            return StageStatus(stage, problem=bad, unsupported=unsupported)
        return StageStatus(stage, apps_of(native.resources, self.marker_line), None, unsupported)

    def build(self, stage: Stage) -> Build:
        """The native build of a stage, Flux Kustomization additions included."""
        return self._builder.build(stage.path, self.flux_layer(stage))

    def flux_layer(self, stage: Stage) -> FluxLayer | None:
        """What the stage's Flux Kustomization adds to the build, if anything."""
        spec = self._flux.get((stage.pipeline, stage.name))
        if spec is None or stage.flux is None:
            return None
        if not any(spec.get(f) for f in _FLUX_BUILD_FIELDS):
            return None
        return FluxLayer(stage.flux.file, spec)

    def render(self, stage: Stage, root: Path | None = None) -> tuple[Resource, ...]:
        """The objects ``kustomize build`` renders for a stage (Flux additions on top);
        ``root`` renders the same stage in a copy of the repository."""
        docs = parse_text(self.render_text(stage, root), stage.path, "render")
        return tuple(Resource.from_doc(d) for d in docs if isinstance(d, YMap))

    def render_text(self, stage: Stage, root: Path | None = None) -> str:
        """The YAML ``kustomize build`` prints for a stage (Flux additions on top)."""
        with self.start_render(stage, root) as job:
            return job.result()

    def start_render(self, stage: Stage, root: Path | None = None) -> _render.RenderJob:
        """``render_text`` running in the background (a copy of the repository at ``root``)."""
        directory = (root or self.root) / stage.path
        spec = self.render_spec(stage)
        # A copy (verification) is named by the stage's real directory, not the temp dir.
        label = None if root is None else str(self.root / stage.path)
        return _render.RenderJob(directory, spec, label=label, shown=stage.path)

    def render_spec(self, stage: Stage) -> YMap | None:
        """The spec of the Flux Kustomization whose fields a render of ``stage`` adds on top
        (images, patches, target namespace, name prefix/suffix), if it has one."""
        if stage.flux is None:
            return None
        return self._flux.get((stage.pipeline, stage.name))

    def marker_line(self, file: str, line: int) -> str:
        """``read_line`` for what reads a line only for its Flux image policy marker
        (``apps.SETTER``): ``""`` for a file without ``$imagepolicy`` anywhere, whose bytes
        are then never decoded or split (most files of a stage)."""
        marked = self._marked.get(file)
        if marked is None:
            data = self._overrides.get(file)
            if data is None:
                try:
                    data = self.source.read_bytes(file)
                except OSError:
                    data = b""
            marked = self._marked[file] = b"$imagepolicy" in data
        return self.read_line(file, line) if marked else ""

    def read_line(self, file: str, line: int) -> str:
        """Line ``line`` (1-based) of a repo file, ``""`` when out of range or unreadable."""
        lines = self._lines.get(file)
        if lines is None:
            try:
                lines = (self.read_text(file) or "").splitlines()
            except UnicodeDecodeError:
                lines = []
            self._lines[file] = lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def cluster_status(
        self,
        pipelines: Sequence[str] = (),
        *,
        context: str | None = None,
        kubeconfig: str | os.PathLike[str] | None = None,
        render: bool = False,
    ) -> ClusterReport:
        """Every stage of the named pipelines (all by default) as git has it and as its
        cluster runs it (``promoter.clusterstatus``); ``context`` overrides every stage's."""
        from promoter.clusterstatus import read_cluster_status

        return read_cluster_status(
            self, self.status(pipelines, render=render), context=context, kubeconfig=kubeconfig
        )

    def wait(
        self,
        stage: str,
        *,
        pipeline: str | None = None,
        commit: str | None = None,
        timeout: float = 600.0,
        context: str | None = None,
        kubeconfig: str | os.PathLike[str] | None = None,
        progress: Callable[[WaitProgress], None] | None = None,
    ) -> StageWait:
        """Wait until ``stage``'s cluster applied ``commit`` (default: the remote branch's
        tip) and runs it, rolled out (``promoter.waiting``)."""
        from promoter.waiting import wait_for_commit

        return wait_for_commit(
            self.root,
            stage,
            pipeline=pipeline,
            commit=commit,
            timeout=timeout,
            context=context,
            kubeconfig=kubeconfig,
            progress=progress,
        )

    def plan_promotion(
        self,
        apps: str | Sequence[str] | None,
        source: str,
        target: str,
        *,
        pipeline: str | None = None,
        skip_stages: bool = False,
        allow_downgrade: bool = False,
    ) -> PromotionPlan:
        """Plan moving ``apps`` (a name, ``Kind/name``, a list, or None for every app that
        differs) from stage ``source`` to stage ``target`` (``promoter.plan_promotion``):
        ``plan.diff()`` shows it, ``plan.write()`` writes it to this working tree."""
        from promoter.planner import plan_promotion

        return plan_promotion(
            self,
            apps,
            source,
            target,
            pipeline=pipeline,
            skip_stages=skip_stages,
            allow_downgrade=allow_downgrade,
        )

    def history(
        self,
        app: str | None = None,
        *,
        pipeline: str | None = None,
        stage: str | None = None,
        since: datetime | None = None,
        max_count: int | None = None,
    ) -> tuple[HistoryEntry, ...]:
        """Every change of a version in a stage, newest first, from git history
        (``promoter.list_history``; ``pipelines history``)."""
        from promoter.history import list_history

        return list_history(
            self.root, app, pipeline=pipeline, stage=stage, since=since, max_count=max_count
        )

    def check(self, *, render: bool = False) -> CheckReport:
        """The findings of ``pipelines check`` for this repository (``promoter.check``)."""
        from promoter.checks import check

        return check(self.root, render=render)

    def _merge_render(self, rendered: Iterable[Resource], native: Build | None) -> tuple[App, ...]:
        """Apps of a real render, named and sourced from the native build where they agree,
        in the native build's order (kustomize sorts by kind)."""
        by_id = {}
        order: dict[tuple[str, str, str], int] = {}
        if native is not None:
            by_id = {(r.id.kind, r.id.name, r.id.namespace): r for r in native.resources}
            order = {key: index for index, key in enumerate(by_id)}
        apps: list[tuple[int, App]] = []
        for resource in rendered:
            if not is_app(resource):
                continue
            twin = by_id.get((resource.id.kind, resource.id.name, resource.id.namespace))
            if twin is not None:
                resource = Resource(resource.doc, (twin.original, resource.id))
            (app,) = apps_of([resource], self.marker_line)
            if twin is not None:
                app = _sourced(app, apps_of([twin], self.marker_line)[0])
            key = (resource.id.kind, resource.id.name, resource.id.namespace)
            apps.append((order.get(key, len(order) + len(apps)), app))
        return tuple(app for _, app in sorted(apps, key=lambda item: item[0]))


_PARALLEL_MIN = 48
"""Below this many stages one process is faster than forking."""


def _status(read: StageRead) -> StageStatus:
    assert read.status is not None  # asked for
    return read.status


class StatusJson(NamedTuple):
    """``status -o json`` as the compact document (``to_json(status_dict(status),
    indent=None)`` as bytes: ASCII) and the status as far as its problems go (each stage's
    ``problem``; no app): what ``cli.views.problem_lines`` and ``RepoStatus.ok`` read."""

    document: bytes
    problems: RepoStatus


class StageRead(NamedTuple):
    """What reading one stage gave (``GitOpsRepo.read_stages``)."""

    problem: Problem | None
    """Why the stage could not be read (``StageStatus.problem``)."""
    status: StageStatus | None
    """None when it was not asked for."""
    files: frozenset[str] | None
    """The files its native build read (None: not built natively)."""
    json: bytes | None
    """Its part of the compact JSON document (``promoter.serialize.stage_json``); None
    when it was not asked for."""


def _sourced(rendered: App, native: App) -> App:
    images = tuple(
        replace(image, source=twin.source)
        if (twin := next((n for n in native.images if n.container == image.container), None))
        and twin.image == image.image
        else image
        for image in rendered.images
    )
    source = native.source if native.version == rendered.version else None
    return replace(rendered, images=images, source=source)


def status(
    path: str | Path,
    pipelines: Sequence[str] = (),
    *,
    render: bool = False,
    cache: bool = False,
) -> RepoStatus:
    """``pipelines status``: every app's version in every stage of the named pipelines (all
    by default) of the repository at ``path``; a repository without pipelines is an error.
    ``cache``: reuse what an earlier run read of unchanged stages (``promoter.statuscache``;
    not with ``render``)."""
    if cache and not render:
        from promoter.statuscache import cached_status

        return cached_status(path, pipelines)
    chosen = tuple(dict.fromkeys(pipelines))
    return paired(lambda pair: open_status_repo(path, pair).status(chosen, render=render))


def status_json(
    path: str | Path, pipelines: Sequence[str] = (), *, render: bool = False
) -> StatusJson:
    """``status`` (without the cache) as its compact JSON document (``GitOpsRepo.status_json``)."""
    chosen = tuple(dict.fromkeys(pipelines))
    return paired(lambda pair: open_status_repo(path, pair).status_json(chosen, render=render))


def open_status_repo(path: str | Path, pair: Pair | None = None) -> GitOpsRepo:
    """The repository at ``path`` as ``status`` reads it: one without pipelines is an error;
    ``pair``: see ``GitOpsRepo.open``."""
    with paused_gc():
        repo = GitOpsRepo.open(path, pair=pair)
    if not repo.pipelines:
        raise no_pipelines(path)
    return repo


def no_pipelines(path: str | Path) -> RepoError:
    """The error of a repository without pipelines."""
    return RepoError(
        f"{path}: no pipelines found; label Flux Kustomizations with "
        "pipelines.weave.works/name and pipelines.weave.works/stage, "
        "or declare them in promoter.yaml"
    )
