"""``status --cluster``: every stage as its cluster runs it, beside what git says (issue 8).

Which cluster and which Flux Kustomization a stage has: ``context:`` and ``flux: {name,
namespace}`` on the stage or its pipeline in promoter.yaml (the stage's own win), else the
current kubeconfig context and the Kustomization that labels the stage. A ``context``
given for a run overrides every stage's.

Pending commits are a git query (``promoter.git.count_missing``): the commits up to the
remote branch's tip (HEAD without a remote) that touch the files the stage's build reads
and that the applied revision lacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promoter import git
from promoter.config import CONFIG_FILE, Config, Setting, read_config
from promoter.errors import GitError, ManifestError
from promoter.model import RepoStatus, Stage

if TYPE_CHECKING:
    from promoter.cluster import ClusterStageStatus
    from promoter.repo import GitOpsRepo

DEFAULT_FLUX_NAMESPACE = "flux-system"
CURRENT = "(current)"
"""The context name reported when a stage uses the current context and it cannot open."""


@dataclass(frozen=True)
class StageLocation:
    """Where a stage runs: its kubeconfig context (None: the current one) and its Flux
    Kustomization (None when neither labels nor promoter.yaml name one)."""

    context: str | None
    name: str | None
    namespace: str | None


@dataclass(frozen=True)
class ClusterReport:
    """Git's status and, for each ``(pipeline, stage)``, what its cluster runs."""

    status: RepoStatus
    stages: Mapping[tuple[str, str], ClusterStageStatus]

    def of(self, stage: Stage) -> ClusterStageStatus:
        """The cluster status of ``stage``."""
        return self.stages[(stage.pipeline, stage.name)]

    @property
    def states(self) -> frozenset[str]:
        """Every state some stage is in."""
        return frozenset(s.state for s in self.stages.values())

    @property
    def read(self) -> bool:
        """True when every stage's cluster could be read (none ``unreachable``)."""
        return "unreachable" not in self.states


def locate(config: Config, stage: Stage, context: str | None = None) -> StageLocation:
    """Where ``stage`` runs, from promoter.yaml and its labels; ``context`` overrides."""
    own_context: Setting | None = None
    wide_context: Setting | None = None
    own_flux: Setting | None = None
    wide_flux: Setting | None = None
    for pipeline in config.pipelines:
        if pipeline.name != stage.pipeline:
            continue
        wide_context = pipeline.cluster.context or wide_context
        wide_flux = pipeline.cluster.flux or wide_flux
        for entry in pipeline.stages:
            if entry.name == stage.name:
                own_context = entry.cluster.context or own_context
                own_flux = entry.cluster.flux or own_flux
    chosen = own_context or wide_context
    if context is None and chosen is not None:
        if not isinstance(chosen.value, str) or not chosen.value.strip():
            raise ManifestError(CONFIG_FILE, "context must be a context name", chosen.line)
        context = chosen.value
    flux = own_flux or wide_flux
    if flux is not None:
        name, namespace = _flux_setting(flux)
        return StageLocation(context, name, namespace)
    if stage.flux is None:
        return StageLocation(context, None, None)
    return StageLocation(context, stage.flux.name, stage.flux.namespace)


def _flux_setting(flux: Setting) -> tuple[str, str]:
    value = flux.value
    name = value.get("name") if isinstance(value, Mapping) else None
    namespace = (
        value.get("namespace", DEFAULT_FLUX_NAMESPACE) if isinstance(value, Mapping) else None
    )
    if not isinstance(name, str) or not name or not isinstance(namespace, str) or not namespace:
        raise ManifestError(
            CONFIG_FILE, "flux must be a mapping {name, namespace} of a Kustomization", flux.line
        )
    return name, namespace


def tip_commit(root: Path, remote: str = "origin") -> str | None:
    """The commit git's side of the comparison is at: the remote's default branch, fetched;
    HEAD when there is no remote or it cannot be fetched; None outside a git repository."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    try:
        return git.branch_tip(root, remote, env)
    except GitError:
        return git.resolve(root, "HEAD") if git.toplevel_of(root) is not None else None


def cluster_status(
    path: str | Path,
    pipelines: Sequence[str] = (),
    *,
    context: str | None = None,
    kubeconfig: str | os.PathLike[str] | None = None,
    render: bool = False,
) -> ClusterReport:
    """``pipelines status --cluster``: ``promoter.status`` of the repository at ``path`` and
    every stage as its cluster runs it."""
    from promoter.repo import GitOpsRepo, status

    found = status(path, pipelines, render=render)
    return read_cluster_status(GitOpsRepo.open(path), found, context=context, kubeconfig=kubeconfig)


def read_cluster_status(
    gitops: GitOpsRepo,
    status: RepoStatus,
    *,
    context: str | None = None,
    kubeconfig: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    remote: str = "origin",
) -> ClusterReport:
    """Read every stage of ``status`` from its cluster (see the module docstring).

    A cluster that cannot be read makes its stages ``unreachable``; a missing ``cluster``
    extra raises ClusterError. ``context`` overrides every stage's context.
    """
    from promoter.cluster import DEFAULT_TIMEOUT, Clusters
    from promoter.cluster.state import not_found

    config = read_config(gitops.source)
    tip = tip_commit(gitops.root, remote)
    found: dict[tuple[str, str], ClusterStageStatus] = {}
    with Clusters(kubeconfig=kubeconfig, timeout=timeout or DEFAULT_TIMEOUT) as clusters:
        for pipeline in status.pipelines:
            for stage_status in pipeline.stages:
                stage = stage_status.stage
                where = locate(config, stage, context)
                if where.name is None or where.namespace is None:
                    found[(stage.pipeline, stage.name)] = not_found(
                        where.context or CURRENT,
                        f"no Flux Kustomization labels stage {stage.name}; "
                        "set flux: {name, namespace} in promoter.yaml",
                    )
                    continue
                paths = gitops.stage_files(stage) or {stage.path or "."}
                found[(stage.pipeline, stage.name)] = clusters.read_stage(
                    where.context,
                    name=where.name,
                    namespace=where.namespace,
                    apps=stage_status.apps,
                    pending_commits=_pending(gitops.root, tip, paths),
                )
    return ClusterReport(status, found)


def _pending(
    root: Path, tip: str | None, paths: Collection[str]
) -> Callable[[str | None], int | None]:
    def count(applied: str | None) -> int | None:
        if tip is None:
            return None
        return git.count_missing(root, applied, tip, paths)

    return count
