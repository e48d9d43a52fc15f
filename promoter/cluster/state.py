"""A stage's state in its cluster, computed from plain records (no I/O, unit-testable).

States (issue 8 §2), the first that holds wins:

``unreachable``  the context is missing, the API is down or refuses (the message says which)
``not-found``    the stage's Flux Kustomization (or Flux's API) is not in the cluster
``suspended``    the Kustomization has ``spec.suspend: true``
``failing``      the Kustomization is not Ready (or Stalled), or an app failed its rollout
``pending``      git has commits for the stage that are not applied yet (``pending_commits``),
                 the Kustomization is reconciling, or an app's rollout is still going
``drift``        the applied revision is current, but an app's live images (or a HelmRelease's
                 chart version) differ from git, or the app is not in the cluster
``in-sync``      the applied revision holds git's newest commit for the stage, the
                 Kustomization is Ready and every app runs git's images, rolled out
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from promoter.cluster.flux import HelmReleaseState, KustomizationState, chart_differs
from promoter.cluster.workloads import LiveImage, Workload
from promoter.images import ImageRef
from promoter.model import App

StateName = Literal[
    "in-sync", "pending", "failing", "suspended", "drift", "unreachable", "not-found"
]
STATES: tuple[StateName, ...] = (
    "in-sync",
    "pending",
    "failing",
    "suspended",
    "drift",
    "unreachable",
    "not-found",
)

Observed = Workload | HelmReleaseState
"""What the cluster holds for an app: a live workload, or a HelmRelease."""


@dataclass(frozen=True)
class LiveApp:
    """An app as the cluster runs it, compared with git.

    ``version`` is the live primary container's tag (or digest), or the HelmRelease's last
    released chart version; ``drift`` is True when that, or any container's image, differs
    from git; ``ready`` is the rollout (a HelmRelease's Ready condition, None if Unknown).
    """

    version: str | None
    images: tuple[LiveImage, ...]
    ready: bool | None
    drift: bool
    failed: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The app's ``live`` JSON object (issue 8)."""
        return {
            "version": self.version,
            "images": [image.to_dict() for image in self.images],
            "ready": self.ready,
            "drift": self.drift,
        }


@dataclass(frozen=True)
class AppLive:
    """One git app (``Kind/name`` key) and what runs in the cluster: None when nothing does."""

    key: str
    live: LiveApp | None


@dataclass(frozen=True)
class ClusterStageStatus:
    """A stage as its cluster runs it: state, pending commits, Kustomization, live apps.

    ``message`` is one line explaining the state (the error when unreachable, the reason
    when failing, what is pending or drifted), None when in sync.
    """

    context: str
    state: StateName
    pending_commits: int | None
    kustomization: KustomizationState | None
    message: str | None = None
    apps: tuple[AppLive, ...] = ()

    def live(self, key: str) -> LiveApp | None:
        """The live app of the git app with ``Kind/name`` key ``key``, if the cluster runs it."""
        return next((a.live for a in self.apps if a.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """The stage's ``cluster`` JSON object (issue 8; ``message`` explains the state)."""
        return {
            "context": self.context,
            "state": self.state,
            "pending_commits": self.pending_commits,
            "kustomization": self.kustomization.to_dict() if self.kustomization else None,
            "message": self.message,
        }


def live_to_dict(live: LiveApp | None) -> dict[str, Any] | None:
    """An app's ``live`` JSON: the object, or None (``null``) when it is not in the cluster."""
    return live.to_dict() if live is not None else None


def unreachable(context: str, message: str) -> ClusterStageStatus:
    """The status of a stage whose cluster could not be read, with the reason."""
    return ClusterStageStatus(context, "unreachable", None, None, message)


def not_found(context: str, message: str) -> ClusterStageStatus:
    """The status of a stage whose Flux Kustomization is not in the cluster."""
    return ClusterStageStatus(context, "not-found", None, None, message)


def live_app(app: App, observed: Observed | None) -> LiveApp | None:
    """Compare git's ``app`` with what the cluster holds for it (None: nothing)."""
    if observed is None:
        return None
    if isinstance(observed, HelmReleaseState):
        return LiveApp(
            version=observed.chart_version,
            images=(),
            ready=observed.ready,
            drift=chart_differs(app.version, observed.chart_version),
            failed=observed.stalled or (observed.ready is False and observed.observed),
            reason=_join(observed.reason, observed.message),
        )
    git_images = {c.container: str(c.image) for c in app.images}
    live_images = {i.container: i.image for i in observed.images}
    return LiveApp(
        version=_primary_version(observed.images, app.name),
        images=observed.images,
        ready=observed.ready,
        drift=bool(git_images) and git_images != live_images,
        failed=observed.failed,
        reason=observed.reason,
    )


def stage_state(
    context: str,
    kustomization: KustomizationState,
    apps: Sequence[App],
    observed: Mapping[str, Observed | None],
    pending_commits: int | None,
) -> ClusterStageStatus:
    """The state of a stage whose Kustomization was read.

    ``observed`` maps git app keys to what the cluster holds (None: nothing); apps whose key
    it lacks (kinds promoter does not read live) count for nothing. ``pending_commits`` is
    the number of commits touching the stage's files that the applied revision does not
    contain, None when git cannot tell (no applied commit, or one git does not know).
    """
    lives = tuple(
        AppLive(app.key, live_app(app, observed[app.key])) for app in apps if app.key in observed
    )
    state, message = _state(kustomization, lives, pending_commits, {a.key: a for a in apps})
    return ClusterStageStatus(context, state, pending_commits, kustomization, message, lives)


def _state(
    ks: KustomizationState,
    lives: Sequence[AppLive],
    pending: int | None,
    apps: Mapping[str, App],
) -> tuple[StateName, str | None]:
    if ks.suspended:
        return "suspended", f"Kustomization {ks.namespace}/{ks.name} is suspended"
    if ks.ready is False or ks.stalled:
        return "failing", _join(ks.reason, ks.message) or "Kustomization is not Ready"
    failed = next((a for a in lives if a.live is not None and a.live.failed), None)
    if failed is not None and failed.live is not None:
        return "failing", f"{failed.key}: {failed.live.reason or 'failed'}"
    if pending is None:
        if ks.applied_commit is None:
            return "pending", "no git revision applied yet"
        return "pending", f"applied commit {ks.applied_commit[:12]} is unknown to git"
    if pending > 0:
        return "pending", f"{pending} commit{'s' if pending != 1 else ''} not applied yet"
    if ks.ready is None or not ks.observed:
        return "pending", _join("reconciling", ks.message)
    for app in lives:
        if app.live is None:
            return "drift", f"{app.key}: not in the cluster"
        if app.live.drift:
            return "drift", f"{app.key}: {_drift(apps[app.key], app.live)}"
    rolling = next((a for a in lives if a.live is not None and a.live.ready is not True), None)
    if rolling is not None and rolling.live is not None:
        return "pending", f"{rolling.key}: {rolling.live.reason or 'not ready'}"
    return "in-sync", None


def _drift(app: App, live: LiveApp) -> str:
    if not live.images:
        return f"live chart {live.version}, git {app.version}"
    live_images = {i.container: i.image for i in live.images}
    for container in app.images:
        running = live_images.get(container.container)
        if running != str(container.image):
            return f"container {container.container} runs {running}, git has {container.image}"
    extra = sorted(set(live_images) - {c.container for c in app.images})
    return f"live containers not in git: {', '.join(extra)}"


def _primary_version(images: Sequence[LiveImage], app_name: str) -> str | None:
    # The same choice as promoter.apps.primary_container: named like the app, else the first.
    regular = [i for i in images if not i.init]
    primary = next((i for i in regular if i.container == app_name), regular[0] if regular else None)
    return ImageRef.parse(primary.image).version if primary is not None else None


def _join(reason: str | None, message: str | None) -> str | None:
    if reason and message:
        return f"{reason}: {message}"
    return reason or message
