"""Live workloads: the images their pod template runs and whether their rollout is done.

Rollout is judged the way ``kubectl rollout status`` judges it, from ``apps/v1`` and
``batch/v1`` status fields: the controller observed the current generation, and
Deployment/StatefulSet ``updatedReplicas`` and ``availableReplicas`` reach ``spec.replicas``;
DaemonSet ``updatedNumberScheduled`` and ``numberReady`` reach ``desiredNumberScheduled``;
a Job completes; a Pod is Ready. A CronJob has nothing to roll out (its
``lastScheduleTime`` is reported).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from promoter.cluster._fields import dig, integer, text
from promoter.cluster.client import Cluster
from promoter.cluster.conditions import condition_of
from promoter.cluster.resources import WORKLOADS


@dataclass(frozen=True)
class LiveImage:
    """One container (or init container) of a live object and the image it runs."""

    container: str
    image: str
    init: bool = False

    def to_dict(self) -> dict[str, str]:
        """``{"container", "image"}`` as in the ``live.images`` JSON (issue 8)."""
        return {"container": self.container, "image": self.image}


@dataclass(frozen=True)
class Workload:
    """A live workload: its images and rollout.

    ``ready`` is True when the rollout is done; ``failed`` when the cluster says it cannot
    finish (a Deployment past its progress deadline, a failed Job or Pod); ``reason`` says
    why it is not ready, or what failed.
    """

    kind: str
    name: str
    namespace: str
    images: tuple[LiveImage, ...]
    ready: bool
    failed: bool = False
    reason: str | None = None
    generation: int | None = None
    observed_generation: int | None = None
    last_schedule: str | None = None


def workload_of(obj: Mapping[str, Any], kind: str | None = None) -> Workload:
    """Read a workload object (any kind of ``WORKLOADS``) into its images and rollout;
    ``kind`` for objects that do not say (list items of built-in kinds)."""
    kind = kind or str(obj.get("kind") or "")
    ready, failed, reason = _rollout(kind, obj)
    return Workload(
        kind=kind,
        name=str(dig(obj, "metadata", "name") or ""),
        namespace=str(dig(obj, "metadata", "namespace") or ""),
        images=tuple(_images(kind, obj)),
        ready=ready,
        failed=failed,
        reason=reason,
        generation=integer(dig(obj, "metadata", "generation")),
        observed_generation=integer(dig(obj, "status", "observedGeneration")),
        last_schedule=text(dig(obj, "status", "lastScheduleTime")),
    )


def read_workload(cluster: Cluster, kind: str, name: str, namespace: str) -> Workload | None:
    """The live ``kind`` ``namespace/name``; None when it does not exist."""
    obj = cluster.get(WORKLOADS[kind], namespace, name)
    return workload_of(obj) if obj is not None else None


def pod_spec_of(kind: str, obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a workload object: a Pod's own, a CronJob's job template's, or the
    pod template's of the others."""
    if kind == "Pod":
        spec = dig(obj, "spec")
    elif kind == "CronJob":
        spec = dig(obj, "spec", "jobTemplate", "spec", "template", "spec")
    else:
        spec = dig(obj, "spec", "template", "spec")
    return spec if isinstance(spec, Mapping) else None


def _images(kind: str, obj: Mapping[str, Any]) -> Iterator[LiveImage]:
    spec = pod_spec_of(kind, obj) or {}
    # Init containers first, as promoter.apps lists git's images.
    for key, init in (("initContainers", True), ("containers", False)):
        for container in spec.get(key) or ():
            if isinstance(container, Mapping):
                yield LiveImage(
                    str(container.get("name") or ""), str(container.get("image") or ""), init
                )


def _rollout(kind: str, obj: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
    """(ready, failed, reason) for a workload object."""
    generation = integer(dig(obj, "metadata", "generation"))
    observed = integer(dig(obj, "status", "observedGeneration"))
    controlled = kind in ("Deployment", "StatefulSet", "DaemonSet")
    if controlled and generation is not None and (observed is None or observed < generation):
        return False, False, f"generation {generation} not observed yet (observed {observed})"
    if kind == "Deployment":
        return _deployment(obj)
    if kind == "StatefulSet":
        return _stateful_set(obj)
    if kind == "DaemonSet":
        return _daemon_set(obj)
    if kind == "Job":
        return _job(obj)
    if kind == "Pod":
        return _pod(obj)
    if kind == "CronJob":
        return True, False, "suspended" if dig(obj, "spec", "suspend") is True else None
    return False, False, f"rollout of a {kind} is not read"


def _status(obj: Mapping[str, Any], field: str) -> int:
    return integer(dig(obj, "status", field)) or 0


def _replicas(obj: Mapping[str, Any]) -> int:
    replicas = integer(dig(obj, "spec", "replicas"))
    return 1 if replicas is None else replicas


def _deployment(obj: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
    progressing = condition_of(obj, "Progressing")
    if progressing and progressing.reason == "ProgressDeadlineExceeded":
        return False, True, f"ProgressDeadlineExceeded: {progressing.message or ''}".rstrip(": ")
    replicas = _replicas(obj)
    updated = _status(obj, "updatedReplicas")
    if updated < replicas:
        return False, False, f"{updated} of {replicas} replicas updated"
    old = _status(obj, "replicas") - updated
    if old > 0:
        return False, False, f"{old} old replicas pending termination"
    available = _status(obj, "availableReplicas")
    if available < replicas:
        return False, False, f"{available} of {replicas} replicas available"
    return True, False, None


def _stateful_set(obj: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
    replicas = _replicas(obj)
    updated = _status(obj, "updatedReplicas")
    if updated < replicas:
        return False, False, f"{updated} of {replicas} replicas updated"
    available = _status(obj, "availableReplicas")
    if available < replicas:
        return False, False, f"{available} of {replicas} replicas available"
    current, update = dig(obj, "status", "currentRevision"), dig(obj, "status", "updateRevision")
    if current and update and current != update:
        return False, False, f"rolling update to {update} not complete"
    return True, False, None


def _daemon_set(obj: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
    desired = _status(obj, "desiredNumberScheduled")
    updated = _status(obj, "updatedNumberScheduled")
    if updated < desired:
        return False, False, f"{updated} of {desired} pods updated"
    ready = _status(obj, "numberReady")
    if ready < desired:
        return False, False, f"{ready} of {desired} pods ready"
    return True, False, None


def _job(obj: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
    complete, failed = condition_of(obj, "Complete"), condition_of(obj, "Failed")
    if failed and failed.status:
        return False, True, f"{failed.reason or 'Failed'}: {failed.message or ''}".rstrip(": ")
    if complete and complete.status:
        return True, False, None
    return False, False, f"running ({_status(obj, 'active')} active)"


def _pod(obj: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
    phase = text(dig(obj, "status", "phase")) or "Pending"
    if phase == "Failed":
        reason = text(dig(obj, "status", "reason")) or "Failed"
        return False, True, f"{reason}: {text(dig(obj, 'status', 'message')) or ''}".rstrip(": ")
    if phase == "Succeeded":
        return True, False, None
    ready = condition_of(obj, "Ready")
    if ready and ready.status:
        return True, False, None
    return False, False, f"{phase}, not ready"
