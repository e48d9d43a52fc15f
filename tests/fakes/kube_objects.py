"""Builders of API objects shaped as Flux v2 and Kubernetes return them.

Field names and nesting follow the published types: Flux's ``KustomizationStatus``
(kustomize-controller api/v1), ``HelmReleaseStatus`` and ``Snapshot`` (helm-controller
api/v2; ``lastAppliedRevision`` in v2beta1), ``metav1.Condition``, and ``apps/v1``,
``batch/v1``, ``core/v1`` specs and statuses. Like the API server, status counters that are
zero are left out (``omitempty``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHA_OLD = "1" * 40
SHA_NEW = "2" * 40
TIME = "2024-05-01T10:00:00Z"


def condition(
    type_: str,
    status: str,
    reason: str,
    message: str = "",
    observed_generation: int | None = None,
) -> dict[str, Any]:
    """A ``metav1.Condition`` (Flux) with its transition time."""
    found: dict[str, Any] = {
        "type": type_,
        "status": status,
        "lastTransitionTime": TIME,
        "reason": reason,
        "message": message,
    }
    if observed_generation is not None:
        found["observedGeneration"] = observed_generation
    return found


def _nonzero(status: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if v not in (0, None, "")}


def kustomization(
    name: str = "apps",
    namespace: str = "flux-system",
    *,
    revision: str | None = f"main@sha1:{SHA_OLD}",
    attempted: str | None = None,
    ready: str = "True",
    reason: str | None = None,
    message: str | None = None,
    suspend: bool = False,
    generation: int = 1,
    observed_generation: int | None = None,
    target_namespace: str | None = None,
    api_version: str = "kustomize.toolkit.fluxcd.io/v1",
) -> dict[str, Any]:
    """A Flux Kustomization; Ready ``True`` on ``revision`` unless told otherwise."""
    observed = generation if observed_generation is None else observed_generation
    attempted = attempted or revision
    if reason is None:
        reason = {"True": "ReconciliationSucceeded", "False": "BuildFailed"}.get(
            ready, "Progressing"
        )
    if message is None:
        message = {
            "True": f"Applied revision: {revision}",
            "False": "kustomize build failed: accumulating resources: missing file",
        }.get(ready, "Reconciliation in progress")
    spec: dict[str, Any] = {
        "interval": "10m0s",
        "path": f"./clusters/{name}",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    if suspend:
        spec["suspend"] = True
    if target_namespace:
        spec["targetNamespace"] = target_namespace
    conditions = [condition("Ready", ready, reason, message, observed)]
    if ready != "True":
        conditions.append(condition("Reconciling", "True", "ProgressingWithRetry", message))
    status = {
        "observedGeneration": observed,
        "conditions": conditions,
        "lastAppliedRevision": revision,
        "lastAttemptedRevision": attempted,
        "inventory": {"entries": [{"id": "apps_web_apps_Deployment", "v": "v1"}]},
    }
    return {
        "apiVersion": api_version,
        "kind": "Kustomization",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "generation": generation,
            "finalizers": ["finalizers.fluxcd.io"],
            "labels": {"kustomize.toolkit.fluxcd.io/name": "flux-system"},
        },
        "spec": spec,
        "status": _nonzero(status),
    }


def helm_release(
    name: str = "podinfo",
    namespace: str = "apps",
    *,
    chart_version: str = "6.5.0",
    released: str | None = None,
    ready: str = "True",
    reason: str | None = None,
    message: str | None = None,
    generation: int = 1,
    api_version: str = "helm.toolkit.fluxcd.io/v2",
) -> dict[str, Any]:
    """A Flux HelmRelease of ``chart_version`` (spec) that last released ``released``:
    ``status.history`` in v2/v2beta2, ``status.lastAppliedRevision`` in v2beta1."""
    released = released or chart_version
    if reason is None:
        reason = {"True": "UpgradeSucceeded", "False": "UpgradeFailed"}.get(ready, "Progressing")
    if message is None:
        message = {
            "True": f"Helm upgrade succeeded for release {namespace}/{name}.v2 with chart "
            f"{name}@{released}",
            "False": f"Helm upgrade failed for release {namespace}/{name} with chart "
            f"{name}@{chart_version}: context deadline exceeded",
        }.get(ready, "Fulfilling prerequisites")
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": [condition("Ready", ready, reason, message, generation)],
        "helmChart": f"flux-system/{namespace}-{name}",
        "lastAttemptedRevision": chart_version,
    }
    if api_version.endswith("/v2beta1"):
        status["lastAppliedRevision"] = released
        status["lastReleaseRevision"] = 2
        status["lastAttemptedValuesChecksum"] = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    else:
        status["storageNamespace"] = namespace
        status["lastAttemptedGeneration"] = generation
        status["lastAttemptedReleaseAction"] = "upgrade"
        status["lastAttemptedConfigDigest"] = "sha256:" + "c" * 64
        status["history"] = [
            _snapshot(name, namespace, 1, "6.4.0", "superseded"),
            _snapshot(name, namespace, 2, released, "deployed"),
        ]
    return {
        "apiVersion": api_version,
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace, "generation": generation},
        "spec": {
            "interval": "5m",
            "chart": {
                "spec": {
                    "chart": name,
                    "version": chart_version,
                    "sourceRef": {"kind": "HelmRepository", "name": name},
                }
            },
        },
        "status": status,
    }


def _snapshot(name: str, namespace: str, version: int, chart: str, state: str) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "digest": "sha256:" + "d" * 64,
        "name": name,
        "namespace": namespace,
        "version": version,
        "status": state,
        "chartName": name,
        "chartVersion": chart,
        "configDigest": "sha256:" + "c" * 64,
        "firstDeployed": TIME,
        "lastDeployed": TIME,
    }


def _container(name: str, image: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def pod_spec(images: Mapping[str, str], init: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A pod spec running ``images`` (container name to image), init containers first."""
    spec: dict[str, Any] = {
        "containers": [_container(n, i) for n, i in images.items()],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
    }
    if init:
        spec["initContainers"] = [_container(n, i) for n, i in init.items()]
    return spec


def _template(name: str, images: Mapping[str, str], init: Mapping[str, str] | None):
    return {"metadata": {"labels": {"app": name}}, "spec": pod_spec(images, init)}


def _meta(name: str, namespace: str, generation: int) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "generation": generation, "labels": {"app": name}}


def deployment(
    name: str = "web",
    namespace: str = "apps",
    *,
    images: Mapping[str, str] | None = None,
    init: Mapping[str, str] | None = None,
    replicas: int = 2,
    updated: int | None = None,
    available: int | None = None,
    total: int | None = None,
    generation: int = 1,
    observed_generation: int | None = None,
    deadline_exceeded: bool = False,
) -> dict[str, Any]:
    """An ``apps/v1`` Deployment, rolled out unless the counters say otherwise."""
    images = images or {name: f"ghcr.io/acme/{name}:1.0.0"}
    updated = replicas if updated is None else updated
    available = replicas if available is None else available
    progressing = (
        condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{name}-5d4f8c7b9" has timed out progressing.',
        )
        if deadline_exceeded
        else condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{name}-5d4f8c7b9" has successfully progressed.',
        )
    )
    available_condition = condition(
        "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
    )
    for found in (progressing, available_condition):
        found["lastUpdateTime"] = TIME
    status = {
        "observedGeneration": generation if observed_generation is None else observed_generation,
        "replicas": total if total is not None else replicas,
        "updatedReplicas": updated,
        "readyReplicas": available,
        "availableReplicas": available,
        "unavailableReplicas": replicas - available,
        "conditions": [available_condition, progressing],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            **_meta(name, namespace, generation),
            "annotations": {"deployment.kubernetes.io/revision": str(generation)},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": _template(name, images, init),
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": _nonzero(status),
    }


def stateful_set(
    name: str = "db",
    namespace: str = "apps",
    *,
    images: Mapping[str, str] | None = None,
    replicas: int = 3,
    updated: int | None = None,
    available: int | None = None,
    update_revision: str | None = None,
    generation: int = 1,
) -> dict[str, Any]:
    """An ``apps/v1`` StatefulSet, rolled out unless the counters say otherwise."""
    images = images or {name: f"ghcr.io/acme/{name}:1.0.0"}
    updated = replicas if updated is None else updated
    available = replicas if available is None else available
    status = {
        "observedGeneration": generation,
        "replicas": replicas,
        "readyReplicas": available,
        "currentReplicas": updated,
        "updatedReplicas": updated,
        "availableReplicas": available,
        "currentRevision": f"{name}-7c9d8b6f5",
        "updateRevision": update_revision or f"{name}-7c9d8b6f5",
        "collisionCount": 0,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(name, namespace, generation),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "serviceName": name,
            "template": _template(name, images, None),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "podManagementPolicy": "OrderedReady",
        },
        "status": _nonzero(status),
    }


def daemon_set(
    name: str = "agent",
    namespace: str = "apps",
    *,
    images: Mapping[str, str] | None = None,
    desired: int = 3,
    updated: int | None = None,
    ready: int | None = None,
    generation: int = 1,
) -> dict[str, Any]:
    """An ``apps/v1`` DaemonSet, rolled out unless the counters say otherwise."""
    images = images or {name: f"ghcr.io/acme/{name}:1.0.0"}
    updated = desired if updated is None else updated
    ready = desired if ready is None else ready
    status = {
        "currentNumberScheduled": desired,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": desired,
        "numberReady": ready,
        "observedGeneration": generation,
        "updatedNumberScheduled": updated,
        "numberAvailable": ready,
        "numberUnavailable": desired - ready,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(name, namespace, generation),
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": _template(name, images, None),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
        "status": _nonzero(status),
    }


def cron_job(
    name: str = "report",
    namespace: str = "apps",
    *,
    images: Mapping[str, str] | None = None,
    last_schedule: str | None = TIME,
) -> dict[str, Any]:
    """A ``batch/v1`` CronJob that last ran at ``last_schedule``."""
    images = images or {name: f"ghcr.io/acme/{name}:1.0.0"}
    spec = pod_spec(images)
    spec["restartPolicy"] = "OnFailure"
    status = {"lastScheduleTime": last_schedule, "lastSuccessfulTime": last_schedule}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(name, namespace, 1),
        "spec": {
            "schedule": "0 3 * * *",
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "jobTemplate": {"spec": {"template": {"spec": spec}}},
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        },
        "status": _nonzero(status),
    }


def job(
    name: str = "migrate",
    namespace: str = "apps",
    *,
    images: Mapping[str, str] | None = None,
    outcome: str | None = "Complete",
) -> dict[str, Any]:
    """A ``batch/v1`` Job: ``Complete``, ``Failed`` (backoff limit), or None (running)."""
    images = images or {name: f"ghcr.io/acme/{name}:1.0.0"}
    spec = pod_spec(images)
    spec["restartPolicy"] = "Never"
    status: dict[str, Any] = {"startTime": TIME}
    if outcome == "Complete":
        status.update(
            succeeded=1,
            completionTime=TIME,
            conditions=[
                {
                    "type": "Complete",
                    "status": "True",
                    "lastProbeTime": TIME,
                    "lastTransitionTime": TIME,
                }
            ],
        )
    elif outcome == "Failed":
        status.update(
            failed=1,
            conditions=[
                {
                    "type": "Failed",
                    "status": "True",
                    "lastProbeTime": TIME,
                    "lastTransitionTime": TIME,
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                }
            ],
        )
    else:
        status["active"] = 1
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, namespace, 1),
        "spec": {"backoffLimit": 6, "completions": 1, "parallelism": 1, "template": {"spec": spec}},
        "status": status,
    }


def pod(
    name: str = "debug",
    namespace: str = "apps",
    *,
    images: Mapping[str, str] | None = None,
    phase: str = "Running",
    ready: bool = True,
) -> dict[str, Any]:
    """A ``v1`` Pod in ``phase``, Ready or not."""
    images = images or {name: f"ghcr.io/acme/{name}:1.0.0"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": pod_spec(images),
        "status": {
            "phase": phase,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": TIME,
                },
            ],
            "startTime": TIME,
        },
    }
