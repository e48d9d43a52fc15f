"""Workloads and their pod specs: where each kind keeps its containers.

Works on any mapping (plain dicts from a real render, or located ``YMap`` documents).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout"}
)
"""Kinds that run containers from a pod spec (an app, with a HelmRelease)."""

_POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_TEMPLATE_SPEC = ("spec", "template", "spec")

CONTAINER_LISTS = (("initContainers", True), ("containers", False))
"""The container lists of a pod spec, with whether they hold init containers."""


def pod_spec_path(kind: object) -> tuple[str, ...]:
    """The keys leading from a workload of ``kind`` to its pod spec."""
    return _POD_SPEC_PATHS.get(str(kind), _TEMPLATE_SPEC)


def pod_spec(doc: Any) -> dict[Any, Any] | None:
    """The pod spec of a workload (Deployment, CronJob, Pod, Rollout, ...), if it has one."""
    node: Any = doc
    for key in pod_spec_path(doc.get("kind")):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def containers(doc: Any) -> Iterator[tuple[dict[Any, Any], bool]]:
    """Every container of a workload, init containers first, with whether it is one."""
    spec = pod_spec(doc)
    if spec is None:
        return
    for key, init in CONTAINER_LISTS:
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                yield container, init
