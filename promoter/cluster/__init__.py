"""The one door to the Kubernetes API: what Flux applied, what runs, and waiting for it.

Read-only: promoter needs ``get``, ``list`` and ``watch`` on Flux Kustomizations and
HelmReleases, ``apps/v1`` Deployments, StatefulSets, DaemonSets, ``batch/v1`` CronJobs and
Jobs, and Pods. The official ``kubernetes`` client comes with the ``cluster`` extra and is
imported only when a cluster is opened.

Entry points (issue 8):

``Clusters(kubeconfig=None, timeout=10.0)``
    Opens each kubeconfig context once, on demand; raises ClusterError at once when the
    extra is missing. ``Clusters.read_stage(context, name=, namespace=, apps=,
    pending_commits=)`` gives a stage's ClusterStageStatus (``unreachable`` when the
    context cannot be opened). ``Clusters.open(context)`` gives the Cluster for ``wait``.
``open_cluster(context=None, *, kubeconfig=None, timeout=10.0) -> Cluster``
    One client, as kubectl configures it (KUBECONFIG, ~/.kube/config, in-cluster).
``read_stage(cluster, *, name, namespace, apps, pending_commits) -> ClusterStageStatus``
    The stage whose Flux Kustomization is ``namespace/name``; ``apps`` are git's
    ``promoter.model.App`` of the stage; ``pending_commits(applied_sha)`` is the git query
    counting the stage's commits the applied revision lacks.
``stage_state(...)``, ``live_app(...)``
    The pure state computation, from records.
``wait_for_stage(cluster, *, name, namespace, commit, apps, timeout, progress=None,
contains=None) -> WaitResult``
    Watch until the Kustomization applied ``commit`` and is Ready and the apps are rolled
    out with their images; ``success``, ``failed`` (the cluster's reason) or ``timeout``.

Records map onto the JSON of issue 8: ``ClusterStageStatus.to_dict()`` is a stage's
``cluster`` object, ``live_to_dict(status.live(key))`` an app's ``live``.
"""

from __future__ import annotations

from promoter.cluster.client import DEFAULT_TIMEOUT, Cluster, open_cluster
from promoter.cluster.flux import (
    HelmReleaseState,
    KustomizationState,
    commit_of,
    read_helm_release,
    read_kustomization,
)
from promoter.cluster.stage import Clusters, PendingCommits, read_stage
from promoter.cluster.state import (
    STATES,
    AppLive,
    ClusterStageStatus,
    LiveApp,
    StateName,
    live_app,
    live_to_dict,
    stage_state,
)
from promoter.cluster.wait import WaitProgress, WaitResult, wait_for_stage
from promoter.cluster.workloads import LiveImage, Workload, read_workload

__all__ = [
    "DEFAULT_TIMEOUT",
    "STATES",
    "AppLive",
    "Cluster",
    "ClusterStageStatus",
    "Clusters",
    "HelmReleaseState",
    "KustomizationState",
    "LiveApp",
    "LiveImage",
    "PendingCommits",
    "StateName",
    "WaitProgress",
    "WaitResult",
    "Workload",
    "commit_of",
    "live_app",
    "live_to_dict",
    "open_cluster",
    "read_helm_release",
    "read_kustomization",
    "read_stage",
    "read_workload",
    "stage_state",
    "wait_for_stage",
]
