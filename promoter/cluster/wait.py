"""Wait until a stage's Kustomization has applied a commit and is Ready, and its apps are
rolled out with git's images: by watching the API, not by polling.

Each object is listed once (``fieldSelector=metadata.name=...``), then watched from the
list's resourceVersion; a watch that ends (its ``timeoutSeconds``) resumes from the last
resourceVersion seen, and one that expired (HTTP 410) lists again. The library reports
progress through a callback and returns a WaitResult; it never prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Literal

from promoter.cluster.client import Cluster
from promoter.cluster.flux import (
    KustomizationState,
    chart_differs,
    helm_release_of,
    kustomization_of,
)
from promoter.cluster.resources import HELM_RELEASE, KUSTOMIZATION, WORKLOADS, Resource
from promoter.cluster.workloads import workload_of
from promoter.model import App

Outcome = Literal["success", "failed", "timeout"]
Step = Literal["waiting", "done", "failed"]


@dataclass(frozen=True)
class WaitProgress:
    """What one awaited object is doing now, e.g. ``Deployment apps/web``: waiting, ``2 of
    3 replicas updated``; sent to the progress callback whenever it changes."""

    target: str
    step: Step
    message: str


@dataclass(frozen=True)
class WaitResult:
    """How a wait ended: ``success``, ``failed`` (the cluster's reason), or ``timeout``
    (what was still missing); ``target`` names the object that failed or was awaited."""

    outcome: Outcome
    message: str
    target: str | None
    elapsed: float

    @property
    def ok(self) -> bool:
        """True on success."""
        return self.outcome == "success"


@dataclass(frozen=True)
class _Verdict:
    step: Step
    message: str


Judge = Callable[[Mapping[str, Any] | None], _Verdict]
Progress = Callable[[WaitProgress], None]


def wait_for_stage(
    cluster: Cluster,
    *,
    name: str,
    namespace: str,
    commit: str,
    apps: Sequence[App] = (),
    timeout: float,
    progress: Progress | None = None,
    contains: Callable[[str], bool] | None = None,
    default_namespace: str = "default",
    clock: Callable[[], float] = time.monotonic,
) -> WaitResult:
    """Wait until Kustomization ``namespace/name`` applied ``commit`` and is Ready, then until
    every app of ``apps`` (git's, with the images promoted) runs those images, rolled out.

    ``contains(applied_sha)`` says whether an applied commit contains ``commit`` (a git
    query, for when Flux applied a later commit); by default only ``commit`` itself (or a
    commit it abbreviates) counts. Failure is what the cluster reports: the Kustomization
    suspended, not Ready on (or after) ``commit``, or Stalled; a Deployment past its
    progress deadline, a failed Job or Pod, a HelmRelease not Ready. Raises ClusterError
    when the cluster cannot be read.
    """
    start = clock()
    deadline = start + timeout
    report = progress or (lambda _: None)
    applied: list[KustomizationState] = []

    def judge_kustomization(obj: Mapping[str, Any] | None) -> _Verdict:
        if obj is None:
            return _Verdict("failed", "not found")
        state = kustomization_of(obj)
        applied[:] = [state]
        return _kustomization_verdict(state, commit, contains)

    def finish(outcome: Outcome, message: str, target: str | None) -> WaitResult:
        return WaitResult(outcome, message, target, clock() - start)

    target = f"Kustomization {namespace}/{name}"
    verdict = _await(
        cluster,
        KUSTOMIZATION,
        namespace,
        name,
        judge_kustomization,
        deadline,
        clock,
        target,
        report,
    )
    if verdict.step != "done":
        return finish(_outcome(verdict), _explain(target, verdict, timeout), target)
    target_namespace = applied[0].target_namespace if applied else None
    awaited = [a for a in apps if a.kind in WORKLOADS or a.kind == HELM_RELEASE.kind]
    for app in awaited:
        app_namespace = target_namespace or app.namespace or default_namespace
        resource = HELM_RELEASE if app.kind == HELM_RELEASE.kind else WORKLOADS[app.kind]
        app_target = f"{app.kind} {app_namespace}/{app.rendered_name}"
        verdict = _await(
            cluster,
            resource,
            app_namespace,
            app.rendered_name,
            _app_judge(app),
            deadline,
            clock,
            app_target,
            report,
        )
        if verdict.step != "done":
            return finish(_outcome(verdict), _explain(app_target, verdict, timeout), app_target)
    rolled = f"; {len(awaited)} app{'s' if len(awaited) != 1 else ''} rolled out" if awaited else ""
    return finish("success", f"{target} applied {commit[:12]} and is Ready{rolled}", None)


def _outcome(verdict: _Verdict) -> Outcome:
    return "failed" if verdict.step == "failed" else "timeout"


def _explain(target: str, verdict: _Verdict, timeout: float) -> str:
    if verdict.step == "failed":
        return f"{target}: {verdict.message}"
    return f"{target}: timed out after {timeout:g}s: {verdict.message}"


def _kustomization_verdict(
    state: KustomizationState, commit: str, contains: Callable[[str], bool] | None
) -> _Verdict:
    def holds(sha: str | None) -> bool:
        if sha is None:
            return False
        return sha.startswith(commit) or (contains is not None and contains(sha))

    why = ": ".join(p for p in (state.reason, state.message) if p)
    if state.suspended:
        return _Verdict("failed", "suspended (spec.suspend: true)")
    if state.stalled:
        return _Verdict("failed", f"stalled: {why}")
    applied = state.applied_commit
    if holds(applied) and state.ready is True and state.observed:
        return _Verdict("done", f"applied {_short(applied)} and Ready")
    if state.ready is False and holds(state.attempted_commit) and state.observed:
        return _Verdict("failed", f"not Ready on {_short(state.attempted_commit)}: {why}")
    if holds(applied):
        return _Verdict(
            "waiting", f"applied {_short(applied)}, not Ready yet: {why or 'reconciling'}"
        )
    return _Verdict(
        "waiting",
        f"applied {_short(applied)}, waiting for {commit[:12]}"
        + (f" ({why})" if why and state.ready is not True else ""),
    )


def _app_judge(app: App) -> Judge:
    expected = {c.container: str(c.image) for c in app.images}

    def judge(obj: Mapping[str, Any] | None) -> _Verdict:
        if obj is None:
            return _Verdict("waiting", "not in the cluster yet")
        if app.kind == HELM_RELEASE.kind:
            release = helm_release_of(obj)
            why = ": ".join(p for p in (release.reason, release.message) if p)
            if release.suspended:
                return _Verdict("failed", "suspended (spec.suspend: true)")
            if not release.observed:
                return _Verdict("waiting", "new generation not reconciled yet")
            if release.stalled or release.ready is False:
                return _Verdict("failed", why or "not Ready")
            if release.ready and not chart_differs(app.version, release.chart_version):
                return _Verdict("done", f"released chart {release.chart_version}")
            return _Verdict("waiting", f"chart {release.chart_version}, {why or 'not Ready yet'}")
        workload = workload_of(obj, app.kind)
        live = {i.container: i.image for i in workload.images}
        for container, image in expected.items():
            if live.get(container) != image:
                return _Verdict(
                    "waiting", f"container {container} runs {live.get(container)}, not {image}"
                )
        if workload.failed:
            return _Verdict("failed", workload.reason or "failed")
        if workload.ready:
            return _Verdict("done", "rolled out")
        return _Verdict("waiting", workload.reason or "rolling out")

    return judge


def _await(
    cluster: Cluster,
    resource: Resource,
    namespace: str,
    name: str,
    judge: Judge,
    deadline: float,
    clock: Callable[[], float],
    target: str,
    report: Progress,
) -> _Verdict:
    """Watch one object until ``judge`` says done or failed, or the deadline passes (the
    verdict is then the last ``waiting`` one)."""
    last: list[_Verdict] = []

    def note(verdict: _Verdict) -> _Verdict:
        if not last or last[0] != verdict:
            last[:] = [verdict]
            report(WaitProgress(target, verdict.step, verdict.message))
        return verdict

    while True:
        listing = cluster.list(resource, namespace, name=name)
        verdict = note(judge(listing.items[0] if listing.items else None))
        if verdict.step != "waiting":
            return verdict
        version = listing.resource_version
        expired = False
        while not expired:
            remaining = deadline - clock()
            if remaining <= 0:
                return verdict
            events = cluster.watch(
                resource,
                namespace,
                name=name,
                resource_version=version,
                timeout_seconds=math.ceil(remaining),
            )
            with closing(events):
                for event in events:
                    if event.type == "EXPIRED":
                        expired = True
                        break
                    version = event.resource_version or version
                    if event.type not in ("ADDED", "MODIFIED", "DELETED"):
                        continue
                    verdict = note(judge(None if event.type == "DELETED" else event.object))
                    if verdict.step != "waiting":
                        return verdict
                    if clock() >= deadline:
                        break


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "nothing"
