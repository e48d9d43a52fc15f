"""promoter.cluster.wait: success, failure and timeout, driven by watch events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from promoter.cluster import WaitProgress, open_cluster, wait_for_stage
from promoter.cluster.resources import DEPLOYMENT
from promoter.images import ImageRef
from promoter.model import App, ContainerImage
from tests.fakes import kube_objects as objects

OLD_IMAGE = "ghcr.io/acme/web:1.0.0"
NEW_IMAGE = "ghcr.io/acme/web:1.1.0"
NEW = f"main@sha1:{objects.SHA_NEW}"
OLD = f"main@sha1:{objects.SHA_OLD}"

WEB = App(
    kind="Deployment",
    name="web",
    api_version="apps/v1",
    namespace="apps",
    rendered_name="web",
    version="1.1.0",
    source=None,
    images=(ContainerImage("web", ImageRef.parse(NEW_IMAGE)),),
)
PODINFO = App(
    kind="HelmRelease",
    name="podinfo",
    api_version="helm.toolkit.fluxcd.io/v2",
    namespace="apps",
    rendered_name="podinfo",
    version="6.5.1",
    source=None,
)


@pytest.fixture
def later(kube):
    """Run steps (seconds after the ``watches``-th watch request, action) in a thread, as
    controllers would, while the wait watches; joined after the test."""
    threads: list[threading.Thread] = []

    def schedule(*steps: tuple[float, Callable[[], object]], watches: int = 1) -> None:
        def run() -> None:
            kube.wait_for_watches(watches)
            start = time.monotonic()
            for at, action in steps:
                time.sleep(max(0.0, start + at - time.monotonic()))
                action()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)

    yield schedule
    for thread in threads:
        thread.join(10)


def _wait(kubeconfig, *, apps=(WEB,), timeout=8.0, commit=objects.SHA_NEW, **options):
    progress: list[WaitProgress] = []
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        result = wait_for_stage(
            cluster,
            name="apps",
            namespace="flux-system",
            commit=commit,
            apps=apps,
            timeout=timeout,
            progress=progress.append,
            **options,
        )
    return result, progress


def test_success_after_flux_applies_and_the_deployment_rolls_out(kube, kubeconfig, later):
    """The wait follows the Kustomization to the commit, then the Deployment's rollout."""
    kube.apply(objects.kustomization(revision=OLD))
    kube.apply(objects.deployment(images={"web": OLD_IMAGE}))
    later(
        (0.1, lambda: kube.apply(objects.kustomization(revision=NEW, ready="Unknown"))),
        (0.2, lambda: kube.apply(objects.kustomization(revision=NEW))),
    )
    later(
        (
            0.1,
            lambda: kube.apply(
                objects.deployment(images={"web": NEW_IMAGE}, generation=2, updated=1)
            ),
        ),
        (0.2, lambda: kube.apply(objects.deployment(images={"web": NEW_IMAGE}, generation=2))),
        watches=2,
    )
    result, progress = _wait(kubeconfig)
    expected_progress = [
        (
            "Kustomization flux-system/apps",
            "waiting",
            f"applied {objects.SHA_OLD[:12]}, waiting for {objects.SHA_NEW[:12]}",
        ),
        (
            "Kustomization flux-system/apps",
            "waiting",
            f"applied {objects.SHA_NEW[:12]}, not Ready yet: "
            "Progressing: Reconciliation in progress",
        ),
        ("Kustomization flux-system/apps", "done", f"applied {objects.SHA_NEW[:12]} and Ready"),
        ("Deployment apps/web", "waiting", f"container web runs {OLD_IMAGE}, not {NEW_IMAGE}"),
        ("Deployment apps/web", "waiting", "1 of 2 replicas updated"),
        ("Deployment apps/web", "done", "rolled out"),
    ]
    expected = (
        "success",
        f"Kustomization flux-system/apps applied {objects.SHA_NEW[:12]} and is Ready; "
        "1 app rolled out",
        None,
    )
    assert expected == (result.outcome, result.message, result.target)
    assert expected_progress == [(p.target, p.step, p.message) for p in progress]


def test_waiting_watches_instead_of_polling(kube, kubeconfig, later):
    """Each object is listed once and then watched from the list's resourceVersion."""
    kube.apply(objects.kustomization(revision=OLD))
    kube.apply(objects.deployment(images={"web": NEW_IMAGE}))
    later((0.1, lambda: kube.apply(objects.kustomization(revision=NEW))))
    result, _ = _wait(kubeconfig)
    watches = kube.watch_requests()
    lists = [r for r in kube.requests if "?" in r and r not in watches]
    expected = (True, 2, 1)
    assert expected == (result.ok, len(lists), len(watches))
    assert "resourceVersion=" in watches[0] and "fieldSelector=metadata.name%3Dapps" in watches[0]


def test_kustomization_failing_on_the_commit_fails_with_its_reason(kube, kubeconfig, later):
    """Ready False after attempting the commit ends the wait with Flux's reason."""
    kube.apply(objects.kustomization(revision=OLD))
    later(
        (
            0.1,
            lambda: kube.apply(
                objects.kustomization(
                    revision=OLD,
                    attempted=NEW,
                    ready="False",
                    reason="HealthCheckFailed",
                    message="timeout waiting for: [Deployment/apps/web status: 'InProgress']",
                )
            ),
        ),
    )
    result, _ = _wait(kubeconfig)
    expected = (
        "failed",
        f"Kustomization flux-system/apps: not Ready on {objects.SHA_NEW[:12]}: HealthCheckFailed: "
        "timeout waiting for: [Deployment/apps/web status: 'InProgress']",
        "Kustomization flux-system/apps",
    )
    assert expected == (result.outcome, result.message, result.target)


def test_deployment_past_its_deadline_fails(kube, kubeconfig, later):
    """A Deployment whose rollout exceeds its progress deadline ends the wait as failed."""
    kube.apply(objects.kustomization(revision=NEW))
    kube.apply(objects.deployment(images={"web": NEW_IMAGE}, updated=1))
    later(
        (
            0.1,
            lambda: kube.apply(
                objects.deployment(images={"web": NEW_IMAGE}, updated=1, deadline_exceeded=True)
            ),
        )
    )
    result, _ = _wait(kubeconfig)
    expected = (
        "failed",
        'Deployment apps/web: ProgressDeadlineExceeded: ReplicaSet "web-5d4f8c7b9" has timed '
        "out progressing.",
        "Deployment apps/web",
    )
    assert expected == (result.outcome, result.message, result.target)


def test_suspended_kustomization_fails_at_once(kube, kubeconfig):
    """A suspended Kustomization will not apply anything: the wait fails without waiting."""
    kube.apply(objects.kustomization(revision=OLD, suspend=True))
    result, _ = _wait(kubeconfig)
    expected = ("failed", "Kustomization flux-system/apps: suspended (spec.suspend: true)")
    assert expected == (
        result.outcome,
        result.message,
    )


def test_timeout_says_what_was_missing(kube, kubeconfig):
    """Nothing changing ends the wait after the timeout, saying what it waited for."""
    kube.apply(objects.kustomization(revision=OLD))
    started = time.monotonic()
    result, _ = _wait(kubeconfig, timeout=1.5)
    elapsed = time.monotonic() - started
    expected = (
        "timeout",
        f"Kustomization flux-system/apps: timed out after 1.5s: applied {objects.SHA_OLD[:12]}, "
        f"waiting for {objects.SHA_NEW[:12]}",
    )
    assert expected == (result.outcome, result.message)
    assert 1.4 <= elapsed < 5, elapsed


def test_timeout_on_an_image_that_never_arrives(kube, kubeconfig):
    """A Deployment still running the old image when time is up is the timeout's reason."""
    kube.apply(objects.kustomization(revision=NEW))
    kube.apply(objects.deployment(images={"web": OLD_IMAGE}))
    result, _ = _wait(kubeconfig, timeout=1.2)
    expected = (
        "timeout",
        f"Deployment apps/web: timed out after 1.2s: container web runs {OLD_IMAGE}, "
        f"not {NEW_IMAGE}",
        "Deployment apps/web",
    )
    assert expected == (result.outcome, result.message, result.target)


def test_later_commit_counts_when_git_says_it_contains_the_awaited_one(kube, kubeconfig):
    """Flux having applied a descendant of the commit is success, through ``contains``."""
    later_sha = "3" * 40
    kube.apply(objects.kustomization(revision=f"main@sha1:{later_sha}"))
    kube.apply(objects.deployment(images={"web": NEW_IMAGE}))
    result, _ = _wait(kubeconfig, contains=lambda applied: applied == later_sha)
    expected = "success"
    assert expected == result.outcome


def test_helm_release_waits_for_the_chart_version(kube, kubeconfig, later):
    """A HelmRelease is done when Ready on the promoted chart version, failed when not Ready."""
    kube.apply(objects.kustomization(revision=NEW))
    kube.apply(objects.helm_release(chart_version="6.5.1", released="6.5.0", ready="Unknown"))
    later((0.1, lambda: kube.apply(objects.helm_release(chart_version="6.5.1"))))
    success, _ = _wait(kubeconfig, apps=(PODINFO,))
    kube.apply(objects.helm_release(chart_version="6.5.1", released="6.5.0", ready="False"))
    failure, _ = _wait(kubeconfig, apps=(PODINFO,))
    expected = (
        "success",
        "failed",
        "HelmRelease apps/podinfo: UpgradeFailed: Helm upgrade failed for release "
        "apps/podinfo with chart podinfo@6.5.1: context deadline exceeded",
    )
    assert expected == (success.outcome, failure.outcome, failure.message)


def test_deleted_during_watch_and_expired_resource_version(kube, kubeconfig):
    """A watch reports DELETED objects, and EXPIRED (410) for a compacted resourceVersion."""
    kube.apply(objects.deployment())
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        listing = cluster.list(DEPLOYMENT, "apps", name="web")
        kube.delete("Deployment", "apps", "web")
        deleted = [
            e.type
            for e in cluster.watch(
                DEPLOYMENT,
                "apps",
                name="web",
                resource_version=listing.resource_version,
                timeout_seconds=1,
            )
        ]
        kube.compact()
        expired = [
            e.type
            for e in cluster.watch(
                DEPLOYMENT,
                "apps",
                name="web",
                resource_version=listing.resource_version,
                timeout_seconds=1,
            )
        ]
    expected = (["DELETED", "BOOKMARK"], ["EXPIRED"])
    assert expected == (deleted, expired)
