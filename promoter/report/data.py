"""Everything the release overview shows, collected once: the status of every stage, what
``promote --all FROM TO`` would carry between adjacent stages and what blocks it, and the
history of releases, with links into the forge when the remote is on GitHub or GitLab."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.errors import PromoterError
from promoter.history import HistoryEntry
from promoter.model import App, PipelineStatus, RepoStatus, Stage, StageStatus
from promoter.promotion import AppMove
from promoter.redact import redact_url
from promoter.report.forge import ForgeLinks, forge_links

if TYPE_CHECKING:
    from promoter.clusterstatus import ClusterReport
    from promoter.registry_status import RegistryStatus
    from promoter.repo import GitOpsRepo


@dataclass(frozen=True)
class Cell:
    """One app in one stage, as the matrix shows it."""

    stage: str
    app: App | None
    """None when the stage does not deploy the app (or could not be read)."""
    pending: bool = False
    """Its version differs from the stage before: the next promotion carries it."""
    link: str | None = None
    """The file that sets the version, at the commit, on the forge."""
    error: bool = False
    live: str | None = None
    """With ``--cluster``: what the cluster runs, when it differs from git (``drift``),
    or ``not in the cluster``."""
    available: str | None = None
    """With ``--registry``: the newest tag the registry offers above this version."""

    @property
    def version(self) -> str | None:
        """The app's version here."""
        return None if self.app is None else self.app.version

    @property
    def automated(self) -> bool:
        """Kept current by Flux image automation."""
        source = None if self.app is None else self.app.source
        return source is not None and source.automated

    @property
    def chart(self) -> bool:
        """The version is a Helm chart's (a HelmRelease)."""
        return self.app is not None and self.app.kind == "HelmRelease"

    @property
    def where(self) -> str | None:
        """``file:line`` of the version's source."""
        source = None if self.app is None else self.app.source
        return None if source is None else f"{source.file}:{source.line}"


@dataclass(frozen=True)
class Row:
    """One app across every stage of a pipeline."""

    key: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Matrix:
    """A pipeline as apps x stages (stages in promotion order)."""

    status: PipelineStatus
    rows: tuple[Row, ...]

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return self.status.pipeline.name

    @property
    def stages(self) -> tuple[StageStatus, ...]:
        """Its stages in order."""
        return self.status.stages


@dataclass(frozen=True)
class Block:
    """A gate that stops a promotion now: ``soak`` or ``freeze``, and until when."""

    gate: str
    message: str
    until: str | None


@dataclass(frozen=True)
class Pending:
    """What ``promote --all SOURCE TARGET`` would carry now, and what stops it."""

    pipeline: str
    source: str
    target: str
    moves: tuple[AppMove, ...] = ()
    blocks: tuple[Block, ...] = ()
    error: str | None = None
    """Why the promotion cannot be planned (an unreadable stage, ...)."""


@dataclass(frozen=True)
class Release:
    """One history entry with its links."""

    entry: HistoryEntry
    commit_url: str | None = None
    pull_request_url: str | None = None


@dataclass(frozen=True)
class Report:
    """The whole release overview of a repository."""

    generated: str
    commit: str | None
    dirty: bool
    remote: str | None
    """The remote URL, credentials masked."""
    forge: ForgeLinks | None
    status: RepoStatus
    matrices: tuple[Matrix, ...]
    pending: tuple[Pending, ...]
    history: tuple[Release, ...]
    since: str | None
    not_included: tuple[str, ...]
    """What the page leaves out, and why (one line each)."""
    states: dict[tuple[str, str], str] = field(default_factory=dict)
    """With ``--cluster``: each stage's cluster state by (pipeline, stage)."""

    @property
    def ok(self) -> bool:
        """False when a pipeline or stage could not be read."""
        return self.status.ok


def collect_report(
    path: str | Path,
    pipelines: Sequence[str] = (),
    *,
    since: datetime | None = None,
    cluster: bool = False,
    registry: bool = False,
    render: bool = False,
    now: datetime | None = None,
) -> Report:
    """Read the repository at ``path`` once for the release overview of ``pipelines`` (all
    by default): status, pending promotions with their gates, history since ``since``.

    ``cluster`` adds each stage's cluster state and the live versions that differ from git
    (``promoter.cluster_status``); ``registry`` the newer tags each app's registry offers
    (``promoter.registry_status``); what cannot be read is said in ``not_included``.
    """
    from promoter import git
    from promoter.history import list_history
    from promoter.repo import GitOpsRepo, status

    root = Path(path)
    moment = now or datetime.now(timezone.utc)
    not_included: list[str] = []
    overlay = _Overlay()
    if cluster:
        from promoter.clusterstatus import cluster_status

        clusters = cluster_status(root, pipelines, render=render)
        repo_status = clusters.status
        overlay = overlay.with_cluster(clusters, not_included)
    else:
        repo_status = status(root, pipelines, render=render)
    if registry:
        from promoter.registry_status import registry_status

        overlay = overlay.with_registry(registry_status(root, repo_status), not_included)
    names = {p.pipeline.name for p in repo_status.pipelines}

    top = git.toplevel_of(root)
    commit = dirty = remote = forge = None
    sub = ""
    if top is None:
        not_included.append("commit and forge links: the repository is not a git working tree")
    else:
        commit = git.head_commit(top)
        dirty = git.is_dirty(top) if commit else False
        url = git.remote_url(top)
        remote = None if url is None else redact_url(url)
        forge = forge_links(url)
        rel = root.resolve().relative_to(top.resolve()).as_posix()
        sub = "" if rel == "." else f"{rel}/"
        if forge is None:
            not_included.append(
                "links to files and commits: the remote is not on GitHub or GitLab"
                if url
                else "links to files and commits: the repository has no remote named origin"
            )
        elif dirty:
            not_included.append("uncommitted changes are shown, but links point at the last commit")

    entries: tuple[HistoryEntry, ...] = ()
    try:
        entries = tuple(e for e in list_history(root) if e.pipeline in names)
    except PromoterError as exc:
        not_included.append(f"history: {exc}")
    links = forge if commit else None
    matrices = tuple(_matrix(p, links, commit or "", sub, overlay) for p in repo_status.pipelines)
    gitops = GitOpsRepo.open(root)
    pending = tuple(_pending(gitops, m, entries, moment, not_included) for m in matrices)
    chosen = [e for e in entries if since is None or _when(e.date) >= _aware(since)]
    history = tuple(_release(e, forge) for e in chosen)
    return Report(
        generated=moment.isoformat(timespec="seconds"),
        commit=commit,
        dirty=bool(dirty),
        remote=remote,
        forge=forge,
        status=repo_status,
        matrices=matrices,
        pending=tuple(p for group in pending for p in group),
        history=history,
        since=None if since is None else _aware(since).isoformat(timespec="minutes"),
        not_included=tuple(dict.fromkeys(not_included)),
        states=overlay.states,
    )


@dataclass(frozen=True)
class _Overlay:
    """What the clusters and the registries answered, by (pipeline, stage, app key)."""

    states: dict[tuple[str, str], str] = field(default_factory=dict)
    live: dict[tuple[str, str, str], str] = field(default_factory=dict)
    available: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def with_cluster(self, clusters: ClusterReport, not_included: list[str]) -> _Overlay:
        states, live = dict(self.states), dict(self.live)
        for pipeline in clusters.status.pipelines:
            for stage in pipeline.stages:
                found = clusters.of(stage.stage)
                where = (stage.stage.pipeline, stage.stage.name)
                states[where] = found.state
                if found.state in ("unreachable", "not-found"):
                    not_included.append(
                        f"cluster of {where[0]}/{where[1]}: {found.state}"
                        + (f" ({found.message})" if found.message else "")
                    )
                    continue
                for app in stage.apps:
                    seen = found.live(app.key)
                    if seen is None:
                        live[(where[0], where[1], app.key)] = "not in the cluster"
                    elif seen.drift:
                        live[(where[0], where[1], app.key)] = seen.version or "(no version)"
        return _Overlay(states, live, self.available)

    def with_registry(self, seen: RegistryStatus, not_included: list[str]) -> _Overlay:
        available = dict(self.available)
        for (pipeline, stage, key), offer in seen.available.items():
            if offer is not None and offer.newer and offer.newest:
                available[(pipeline, stage, key)] = offer.newest
        not_included.extend(f"registry: {note}" for note in seen.notes)
        return _Overlay(self.states, self.live, available)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _when(date: str) -> datetime:
    return _aware(datetime.fromisoformat(date))


def _matrix(
    status: PipelineStatus, forge: ForgeLinks | None, commit: str, sub: str, overlay: _Overlay
) -> Matrix:
    rows = []
    for key in status.app_keys:
        cells = []
        previous: App | None = None
        for index, stage in enumerate(status.stages):
            app = stage.app(key)
            pending = (
                index > 0 and app is not None and previous is not None
            ) and previous.version != app.version
            link = None
            if forge is not None and app is not None and app.source is not None:
                link = forge.file(commit, sub + app.source.file, app.source.line)
            where = (stage.stage.pipeline, stage.stage.name, key)
            cells.append(
                Cell(
                    stage.stage.name,
                    app,
                    pending,
                    link,
                    stage.error is not None,
                    overlay.live.get(where),
                    overlay.available.get(where),
                )
            )
            previous = app
        rows.append(Row(key, tuple(cells)))
    return Matrix(status, tuple(rows))


def _pairs(status: PipelineStatus) -> list[tuple[Stage, Stage]]:
    """Adjacent stages: each stage of a wave with each stage of the next wave."""
    waves = status.pipeline.waves
    return [(s, t) for before, after in pairwise(waves) for s in before for t in after]


def _pending(
    gitops: GitOpsRepo,
    matrix: Matrix,
    entries: tuple[HistoryEntry, ...],
    now: datetime,
    not_included: list[str],
) -> list[Pending]:
    from promoter.gates import Gates, check_gates, load_gates
    from promoter.planner import plan_promotion

    try:
        gates = load_gates(gitops.source)
    except PromoterError as exc:
        not_included.append(f"gates: {exc}")
        gates = Gates()
    found = []
    name = matrix.name
    for source, target in _pairs(matrix.status):
        try:
            plan = plan_promotion(
                gitops, None, source.name, target.name, pipeline=name, render=False
            )
        except PromoterError as exc:
            found.append(Pending(name, source.name, target.name, error=str(exc)))
            continue
        arrivals = {m.key: _arrival(entries, name, source.name, m) for m in plan.moves}
        if not gates.for_stage(name, source.name).soak:
            arrivals = {}
        blocks = check_gates(gates, name, source.name, target.name, arrivals, now)
        found.append(
            Pending(
                name,
                source.name,
                target.name,
                plan.moves,
                tuple(
                    Block(
                        b.gate,
                        b.message,
                        None if b.until is None else b.until.isoformat(timespec="minutes"),
                    )
                    for b in blocks
                ),
            )
        )
    return found


def _arrival(
    entries: tuple[HistoryEntry, ...], pipeline: str, stage: str, move: AppMove
) -> datetime | None:
    """When the moving version arrived in the source stage: the newest entry that set it
    (``entries`` are newest first), as ``publish.arrival_times`` counts it."""
    for entry in entries:
        if (entry.pipeline, entry.stage, entry.key) == (pipeline, stage, move.key) and (
            entry.new_version == move.new_version
        ):
            return _when(entry.date)
    return None


def _release(entry: HistoryEntry, forge: ForgeLinks | None) -> Release:
    if forge is None:
        return Release(entry)
    number = entry.pull_request
    return Release(
        entry, forge.commit(entry.commit), None if number is None else forge.change_request(number)
    )
