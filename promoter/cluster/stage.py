"""Read one stage from its cluster: the Kustomization, every app's live object, the state."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import TracebackType

from promoter.cluster import _kubernetes
from promoter.cluster.client import DEFAULT_TIMEOUT, Cluster, open_cluster
from promoter.cluster.flux import read_helm_release, read_kustomization
from promoter.cluster.resources import HELM_RELEASE, KUSTOMIZATION, WORKLOADS
from promoter.cluster.state import (
    ClusterStageStatus,
    Observed,
    not_found,
    stage_state,
    unreachable,
)
from promoter.cluster.workloads import read_workload
from promoter.errors import ClusterError
from promoter.model import App

PendingCommits = Callable[[str | None], int | None]
"""Given the applied commit (None: none applied), the number of commits touching the
stage's files that it does not contain; None when git cannot tell. A git query."""

DEFAULT_NAMESPACE = "default"


def read_stage(
    cluster: Cluster,
    *,
    name: str,
    namespace: str,
    apps: Sequence[App],
    pending_commits: PendingCommits,
    default_namespace: str = DEFAULT_NAMESPACE,
) -> ClusterStageStatus:
    """The stage whose Flux Kustomization is ``namespace/name``, as ``cluster`` runs it.

    ``apps`` are git's apps of the stage; each is looked up by its rendered name in its
    namespace (the Kustomization's ``targetNamespace`` wins, then the app's own, then
    ``default_namespace``). A cluster that cannot be read gives the ``unreachable`` state
    with the reason, not an exception, so the other stages can still be shown.
    """
    try:
        kustomization = read_kustomization(cluster, name, namespace)
        if kustomization is None:
            if cluster.served_version(KUSTOMIZATION) is None:
                return not_found(
                    cluster.context,
                    f"the cluster serves no Flux Kustomization API ({KUSTOMIZATION.group}): "
                    "is Flux installed?",
                )
            return not_found(cluster.context, f"Kustomization {namespace}/{name} not found")
        target = kustomization.target_namespace
        observed = {
            app.key: read_live(cluster, app, target or app.namespace or default_namespace)
            for app in apps
            if app.kind in WORKLOADS or app.kind == HELM_RELEASE.kind
        }
    except ClusterError as exc:
        return unreachable(cluster.context, str(exc))
    pending = pending_commits(kustomization.applied_commit)
    return stage_state(cluster.context, kustomization, apps, observed, pending)


def read_live(cluster: Cluster, app: App, namespace: str) -> Observed | None:
    """What the cluster holds for a git app: its live workload or HelmRelease, or None."""
    if app.kind == HELM_RELEASE.kind:
        return read_helm_release(cluster, app.rendered_name, namespace)
    return read_workload(cluster, app.kind, app.rendered_name, namespace)


class Clusters:
    """Clusters opened on demand, each context once, for a command that reads many stages.

    Creating it checks the ``cluster`` extra (a ClusterError when missing), so that a
    missing extra fails the command instead of marking every stage unreachable.
    """

    def __init__(
        self,
        *,
        kubeconfig: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        _kubernetes.require()
        self._kubeconfig = kubeconfig
        self._timeout = timeout
        self._opened: dict[str | None, Cluster | ClusterError] = {}

    def __enter__(self) -> Clusters:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self, context: str | None) -> Cluster:
        """The client for ``context`` (None: the current one); its ClusterError, remembered."""
        if context not in self._opened:
            try:
                self._opened[context] = open_cluster(
                    context, kubeconfig=self._kubeconfig, timeout=self._timeout
                )
            except ClusterError as exc:
                self._opened[context] = exc
        opened = self._opened[context]
        if isinstance(opened, ClusterError):
            raise opened
        return opened

    def read_stage(
        self,
        context: str | None,
        *,
        name: str,
        namespace: str,
        apps: Sequence[App],
        pending_commits: PendingCommits,
        default_namespace: str = DEFAULT_NAMESPACE,
    ) -> ClusterStageStatus:
        """``read_stage`` in the cluster of ``context``; ``unreachable`` if it cannot open."""
        try:
            cluster = self.open(context)
        except ClusterError as exc:
            return unreachable(context or "(current)", str(exc))
        return read_stage(
            cluster,
            name=name,
            namespace=namespace,
            apps=apps,
            pending_commits=pending_commits,
            default_namespace=default_namespace,
        )

    def close(self) -> None:
        """Close every client opened."""
        for opened in self._opened.values():
            if isinstance(opened, Cluster):
                opened.close()
        self._opened.clear()
