"""What Flux reports: a Kustomization's applied revision and Ready condition, a HelmRelease's
released chart version.

Shapes follow Flux's published API types: ``kustomize.toolkit.fluxcd.io/v1`` (``v1beta2``
before Flux 2.0) and ``helm.toolkit.fluxcd.io/v2`` (``v2beta2``, ``v2beta1``); conditions are
``metav1.Condition`` (``type``, ``status`` "True"/"False"/"Unknown", ``reason``, ``message``,
``observedGeneration``, ``lastTransitionTime``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promoter.cluster._fields import dig, integer, text
from promoter.cluster.client import Cluster
from promoter.cluster.conditions import condition_of
from promoter.cluster.resources import HELM_RELEASE, KUSTOMIZATION

_SHA1 = re.compile(r"(?:^|@)sha1:([0-9a-f]{40})$")
_LEGACY = re.compile(r"(?:^|/)([0-9a-f]{40})$")
_CONCRETE_VERSION = re.compile(r"v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?")


def commit_of(revision: str | None) -> str | None:
    """The git commit a Flux revision names: ``main@sha1:<sha>``, ``sha1:<sha>``, or the
    older ``main/<sha>``; None for other sources (OCI digests, chart versions) or none."""
    if not revision:
        return None
    found = _SHA1.search(revision) or _LEGACY.search(revision)
    return found.group(1) if found else None


@dataclass(frozen=True)
class KustomizationState:
    """A Flux Kustomization as its controller last reported it."""

    name: str
    namespace: str
    api_version: str
    ready: bool | None
    reason: str | None
    message: str | None
    suspended: bool
    applied_revision: str | None
    attempted_revision: str | None
    generation: int | None
    observed_generation: int | None
    stalled: bool = False
    target_namespace: str | None = None

    @property
    def applied_commit(self) -> str | None:
        """The commit of the last applied revision."""
        return commit_of(self.applied_revision)

    @property
    def attempted_commit(self) -> str | None:
        """The commit of the last attempted revision (it may have failed)."""
        return commit_of(self.attempted_revision)

    @property
    def observed(self) -> bool:
        """True when the controller has seen the current spec (generation)."""
        return _observed(self.generation, self.observed_generation)

    def to_dict(self) -> dict[str, Any]:
        """The ``kustomization`` object of a stage's ``cluster`` JSON (issue 8)."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "ready": self.ready,
            "reason": self.reason,
            "message": self.message,
            "applied_revision": self.applied_revision,
            "applied_commit": self.applied_commit,
            "suspended": self.suspended,
        }


@dataclass(frozen=True)
class HelmReleaseState:
    """A Flux HelmRelease as its controller last reported it."""

    name: str
    namespace: str
    api_version: str
    ready: bool | None
    reason: str | None
    message: str | None
    suspended: bool
    chart_version: str | None
    generation: int | None
    observed_generation: int | None
    stalled: bool = False

    @property
    def observed(self) -> bool:
        """True when the controller has seen the current spec (generation)."""
        return _observed(self.generation, self.observed_generation)


def kustomization_of(obj: Mapping[str, Any]) -> KustomizationState:
    """Read a Kustomization object (any served version) into its state."""
    status = dig(obj, "status") or {}
    return KustomizationState(
        **_flux_fields(obj),
        applied_revision=text(status.get("lastAppliedRevision")),
        attempted_revision=text(status.get("lastAttemptedRevision")),
        target_namespace=text(dig(obj, "spec", "targetNamespace")),
    )


def _flux_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What every Flux object reports alike: identity, Ready, suspend, generations, Stalled."""
    ready = condition_of(obj, "Ready")
    stalled = condition_of(obj, "Stalled")
    return {
        "name": str(dig(obj, "metadata", "name") or ""),
        "namespace": str(dig(obj, "metadata", "namespace") or ""),
        "api_version": str(obj.get("apiVersion") or ""),
        "ready": ready.status if ready else None,
        "reason": ready.reason if ready else None,
        "message": ready.message if ready else None,
        "suspended": dig(obj, "spec", "suspend") is True,
        "generation": integer(dig(obj, "metadata", "generation")),
        "observed_generation": integer(dig(obj, "status", "observedGeneration")),
        "stalled": bool(stalled and stalled.status),
    }


def helm_release_of(obj: Mapping[str, Any]) -> HelmReleaseState:
    """Read a HelmRelease object (v2, v2beta2 or v2beta1) into its state.

    The released chart version is the newest ``status.history`` snapshot's ``chartVersion``
    (v2, v2beta2), else ``status.lastAppliedRevision`` (v2beta1 wrote the chart version there).
    """
    status = dig(obj, "status") or {}
    snapshots = [s for s in status.get("history") or () if isinstance(s, Mapping)]
    if snapshots:
        newest = max(snapshots, key=lambda s: integer(s.get("version")) or 0)
        chart_version = text(newest.get("chartVersion"))
    else:
        chart_version = text(status.get("lastAppliedRevision"))
    return HelmReleaseState(**_flux_fields(obj), chart_version=chart_version)


def chart_differs(git: str | None, live: str | None) -> bool:
    """True when git pins a chart version the release does not run (ranges never differ)."""
    if git is None or live is None or not _CONCRETE_VERSION.fullmatch(git):
        return False
    if "+" not in git:
        live = live.partition("+")[0]  # OCI charts carry "+<digest>" build metadata
    return git.removeprefix("v") != live.removeprefix("v")


def read_kustomization(cluster: Cluster, name: str, namespace: str) -> KustomizationState | None:
    """The Kustomization ``namespace/name``; None when it, or Flux's API, is not there."""
    obj = cluster.get(KUSTOMIZATION, namespace, name)
    return kustomization_of(obj) if obj is not None else None


def read_helm_release(cluster: Cluster, name: str, namespace: str) -> HelmReleaseState | None:
    """The HelmRelease ``namespace/name``; None when it, or Flux's API, is not there."""
    obj = cluster.get(HELM_RELEASE, namespace, name)
    return helm_release_of(obj) if obj is not None else None


def _observed(generation: int | None, observed: int | None) -> bool:
    return generation is None or (observed is not None and observed >= generation)
