"""The kinds promoter reads from a cluster: API group, versions to try, plural, namespaced."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    """One kind of object the API serves, with the versions promoter reads, preferred first."""

    kind: str
    group: str
    versions: tuple[str, ...]
    plural: str

    @property
    def core(self) -> bool:
        """True for the legacy core group (``/api/v1``): Pods."""
        return self.group == ""

    @property
    def discovered(self) -> bool:
        """True when the served version is looked up (Flux's CRDs), not assumed."""
        return len(self.versions) > 1

    def api_version(self, version: str) -> str:
        """``group/version`` as written in ``apiVersion`` (``v1`` for the core group)."""
        return f"{self.group}/{version}" if self.group else version

    def __str__(self) -> str:
        return self.kind


KUSTOMIZATION = Resource(
    "Kustomization", "kustomize.toolkit.fluxcd.io", ("v1", "v1beta2"), "kustomizations"
)
HELM_RELEASE = Resource(
    "HelmRelease", "helm.toolkit.fluxcd.io", ("v2", "v2beta2", "v2beta1"), "helmreleases"
)
DEPLOYMENT = Resource("Deployment", "apps", ("v1",), "deployments")
STATEFUL_SET = Resource("StatefulSet", "apps", ("v1",), "statefulsets")
DAEMON_SET = Resource("DaemonSet", "apps", ("v1",), "daemonsets")
CRON_JOB = Resource("CronJob", "batch", ("v1",), "cronjobs")
JOB = Resource("Job", "batch", ("v1",), "jobs")
POD = Resource("Pod", "", ("v1",), "pods")

WORKLOADS: dict[str, Resource] = {
    r.kind: r for r in (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, CRON_JOB, JOB, POD)
}
"""The workload kinds whose live images and rollout promoter reads, by kind."""


def resource_of(kind: str) -> Resource | None:
    """The resource of an app's kind (a workload or a HelmRelease), None for others."""
    if kind == HELM_RELEASE.kind:
        return HELM_RELEASE
    return WORKLOADS.get(kind)
