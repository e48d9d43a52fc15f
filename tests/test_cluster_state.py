"""promoter.cluster.state and read_stage: every stage state, pending commits, drift, JSON."""

from __future__ import annotations

import pytest

from promoter.cluster import (
    Clusters,
    KustomizationState,
    LiveImage,
    Workload,
    live_to_dict,
    open_cluster,
    read_stage,
    stage_state,
)
from promoter.images import ImageRef
from promoter.model import App, ContainerImage
from tests.fakes import kube_objects as objects
from tests.fakes.kube import FakeKube, write_kubeconfig

WEB_IMAGE = "ghcr.io/acme/web:1.0.0"
APPLIED = f"main@sha1:{objects.SHA_OLD}"


def app(kind="Deployment", name="web", namespace="apps", version="1.0.0", images=None):
    """A git app as promoter.apps builds it."""
    if images is None:
        images = {name: f"ghcr.io/acme/{name}:{version}"} if kind != "HelmRelease" else {}
    return App(
        kind=kind,
        name=name,
        api_version="helm.toolkit.fluxcd.io/v2" if kind == "HelmRelease" else "apps/v1",
        namespace=namespace,
        rendered_name=name,
        version=version,
        source=None,
        images=tuple(ContainerImage(c, ImageRef.parse(i)) for c, i in images.items()),
    )


WEB = app()
PODINFO = app("HelmRelease", "podinfo", version="6.5.0")


def _stage(kube, kubeconfig, apps=(WEB, PODINFO), pending=0, seen=None):
    def pending_commits(applied):
        if seen is not None:
            seen.append(applied)
        return pending

    with open_cluster(kubeconfig=kubeconfig) as cluster:
        return read_stage(
            cluster,
            name="apps",
            namespace="flux-system",
            apps=apps,
            pending_commits=pending_commits,
        )


def _healthy(kube):
    kube.apply(objects.kustomization(revision=APPLIED))
    kube.apply(objects.deployment(images={"web": WEB_IMAGE}))
    kube.apply(objects.helm_release(chart_version="6.5.0"))


def test_in_sync_stage_and_its_json(kube, kubeconfig):
    """Applied revision current, Ready, git's images live: in-sync, with issue 8's JSON."""
    _healthy(kube)
    seen: list[str | None] = []
    status = _stage(kube, kubeconfig, seen=seen)
    expected_stage = {
        "context": "fake",
        "state": "in-sync",
        "pending_commits": 0,
        "kustomization": {
            "name": "apps",
            "namespace": "flux-system",
            "ready": True,
            "reason": "ReconciliationSucceeded",
            "message": f"Applied revision: {APPLIED}",
            "applied_revision": APPLIED,
            "applied_commit": objects.SHA_OLD,
            "suspended": False,
        },
        "message": None,
    }
    expected_web = {
        "version": "1.0.0",
        "images": [{"container": "web", "image": WEB_IMAGE}],
        "ready": True,
        "drift": False,
    }
    expected_podinfo = {"version": "6.5.0", "images": [], "ready": True, "drift": False}
    actual = (
        status.to_dict(),
        live_to_dict(status.live("Deployment/web")),
        live_to_dict(status.live("HelmRelease/podinfo")),
        seen,
    )
    assert (expected_stage, expected_web, expected_podinfo, [objects.SHA_OLD]) == actual


def test_pending_commits_counted_by_the_caller(kube, kubeconfig):
    """Commits for the stage that the applied revision lacks make it pending, with the count."""
    _healthy(kube)
    status = _stage(kube, kubeconfig, pending=3)
    expected = ("pending", 3, "3 commits not applied yet")
    assert expected == (
        status.state,
        status.pending_commits,
        status.message,
    )


def test_failing_kustomization_shows_its_reason(kube, kubeconfig):
    """Ready False makes the stage failing, with Flux's reason and message."""
    _healthy(kube)
    kube.apply(objects.kustomization(revision=APPLIED, ready="False"))
    status = _stage(kube, kubeconfig, pending=1)
    expected = (
        "failing",
        "BuildFailed: kustomize build failed: accumulating resources: missing file",
        1,
    )
    assert expected == (status.state, status.message, status.pending_commits)


def test_suspended_kustomization(kube, kubeconfig):
    """spec.suspend makes the stage suspended, whatever else holds."""
    _healthy(kube)
    kube.apply(objects.kustomization(revision=APPLIED, suspend=True, ready="False"))
    status = _stage(kube, kubeconfig)
    expected = ("suspended", "Kustomization flux-system/apps is suspended", True)
    assert expected == (
        status.state,
        status.message,
        status.to_dict()["kustomization"]["suspended"],
    )


def test_drift_when_live_image_differs(kube, kubeconfig):
    """A live image other than git's, on a current revision, is drift with the live version."""
    _healthy(kube)
    kube.apply(objects.deployment(images={"web": "ghcr.io/acme/web:1.0.1-hotfix"}))
    status = _stage(kube, kubeconfig)
    live = status.live("Deployment/web")
    expected = (
        "drift",
        "Deployment/web: container web runs ghcr.io/acme/web:1.0.1-hotfix, git has " + WEB_IMAGE,
        "1.0.1-hotfix",
        True,
    )
    assert expected == (status.state, status.message, live and live.version, live and live.drift)


def test_drift_when_chart_version_differs(kube, kubeconfig):
    """A HelmRelease that released another chart version than git pins is drift."""
    _healthy(kube)
    kube.apply(objects.helm_release(chart_version="6.5.0", released="6.4.2"))
    status = _stage(kube, kubeconfig)
    expected = ("drift", "HelmRelease/podinfo: live chart 6.4.2, git 6.5.0")
    assert expected == (
        status.state,
        status.message,
    )


def test_drift_when_app_is_not_in_the_cluster(kube, kubeconfig):
    """A git app missing from the cluster is drift, and its live JSON is null."""
    _healthy(kube)
    kube.delete("Deployment", "apps", "web")
    status = _stage(kube, kubeconfig)
    expected = ("drift", "Deployment/web: not in the cluster", None)
    assert expected == (
        status.state,
        status.message,
        live_to_dict(status.live("Deployment/web")),
    )


def test_rollout_in_progress_is_pending(kube, kubeconfig):
    """A current, Ready revision whose Deployment is still rolling out is pending, zero commits."""
    _healthy(kube)
    kube.apply(objects.deployment(images={"web": WEB_IMAGE}, updated=1))
    status = _stage(kube, kubeconfig)
    expected = ("pending", 0, "Deployment/web: 1 of 2 replicas updated")
    assert expected == (
        status.state,
        status.pending_commits,
        status.message,
    )


def test_failed_rollout_is_failing(kube, kubeconfig):
    """A Deployment past its progress deadline makes the stage failing, naming it."""
    _healthy(kube)
    kube.apply(objects.deployment(images={"web": WEB_IMAGE}, updated=1, deadline_exceeded=True))
    status = _stage(kube, kubeconfig)
    expected = (
        "failing",
        'Deployment/web: ProgressDeadlineExceeded: ReplicaSet "web-5d4f8c7b9" has timed out '
        "progressing.",
    )
    assert expected == (status.state, status.message)


def test_reconciling_kustomization_is_pending(kube, kubeconfig):
    """Ready Unknown on a current revision is pending (reconciling)."""
    _healthy(kube)
    kube.apply(objects.kustomization(revision=APPLIED, ready="Unknown"))
    status = _stage(kube, kubeconfig)
    expected = ("pending", "reconciling: Reconciliation in progress")
    assert expected == (status.state, status.message)


def test_not_found_kustomization(kube, kubeconfig):
    """A stage whose Kustomization is not in the cluster is not-found, kustomization null."""
    status = _stage(kube, kubeconfig)
    expected = {
        "context": "fake",
        "state": "not-found",
        "pending_commits": None,
        "kustomization": None,
        "message": "Kustomization flux-system/apps not found",
    }
    assert expected == status.to_dict()


def test_cluster_without_flux_is_not_found(tmp_path):
    """A cluster that serves no Flux API says so."""
    with FakeKube(served={"": ("v1",), "apps": ("v1",)}) as server:
        path = write_kubeconfig(tmp_path / "kubeconfig", server)
        status = _stage(server, path)
    expected = (
        "not-found",
        "the cluster serves no Flux Kustomization API (kustomize.toolkit.fluxcd.io): "
        "is Flux installed?",
    )
    assert expected == (status.state, status.message)


def test_forbidden_namespace_makes_the_stage_unreachable(kube, kubeconfig):
    """A 403 reading an app is the unreachable state with the server's reason."""
    _healthy(kube)
    kube.forbidden_namespaces.add("apps")
    status = _stage(kube, kubeconfig)
    expected = ("unreachable", None)
    assert expected == (status.state, status.kustomization)
    assert status.message is not None
    assert status.message.startswith(
        "cluster context 'fake': cannot get Deployment apps/web: forbidden (403): "
    ), status.message


def test_unreachable_and_missing_contexts_leave_other_stages_readable(kube, kubeconfig):
    """Clusters reads each stage; a down or missing context is unreachable, the rest still read."""
    _healthy(kube)
    with Clusters(kubeconfig=kubeconfig, timeout=2) as clusters:
        statuses = [
            clusters.read_stage(
                context,
                name="apps",
                namespace="flux-system",
                apps=(WEB,),
                pending_commits=lambda applied: 0,
            )
            for context in ("down", "prod", "fake", None)
        ]
    actual = [(s.context, s.state) for s in statuses]
    expected = [
        ("down", "unreachable"),
        ("prod", "unreachable"),
        ("fake", "in-sync"),
        ("fake", "in-sync"),
    ]
    assert expected == actual
    assert statuses[1].message == (
        f"kubeconfig {kubeconfig} has no context 'prod' (known: badtoken, down, fake, tls)"
    )


def test_older_revision_form_and_target_namespace(kube, kubeconfig):
    """``main/<sha>`` revisions are parsed, and targetNamespace decides where apps live."""
    kube.apply(objects.kustomization(revision=f"main/{objects.SHA_OLD}", target_namespace="prod"))
    kube.apply(objects.deployment(namespace="prod", images={"web": WEB_IMAGE}))
    status = _stage(kube, kubeconfig, apps=(WEB,))
    expected = ("in-sync", objects.SHA_OLD)
    assert expected == (
        status.state,
        status.to_dict()["kustomization"]["applied_commit"],
    )


# The pure computation, without a server.

KS = KustomizationState(
    name="apps",
    namespace="flux-system",
    api_version="kustomize.toolkit.fluxcd.io/v1",
    ready=True,
    reason="ReconciliationSucceeded",
    message="Applied revision: main@sha1:" + objects.SHA_OLD,
    suspended=False,
    applied_revision=APPLIED,
    attempted_revision=APPLIED,
    generation=1,
    observed_generation=1,
)
LIVE_WEB = Workload("Deployment", "web", "apps", (LiveImage("web", WEB_IMAGE),), ready=True)


@pytest.mark.parametrize(
    ("changes", "pending", "expected"),
    [
        ({}, 0, ("in-sync", None)),
        ({"applied_revision": None}, None, ("pending", "no git revision applied yet")),
        ({}, None, ("pending", "applied commit 111111111111 is unknown to git")),
        ({}, 1, ("pending", "1 commit not applied yet")),
        ({"observed_generation": 0}, 0, ("pending", "reconciling: " + KS.message)),
        (
            {"stalled": True, "ready": None, "reason": "BuildFailed"},
            0,
            ("failing", "BuildFailed: " + KS.message),
        ),
        (
            {"suspended": True, "ready": False},
            2,
            ("suspended", "Kustomization flux-system/apps is suspended"),
        ),
    ],
)
def test_state_precedence(changes, pending, expected):
    """Suspended beats failing beats pending beats drift beats in-sync."""
    from dataclasses import replace

    status = stage_state("ctx", replace(KS, **changes), (WEB,), {WEB.key: LIVE_WEB}, pending)
    assert expected == (status.state, status.message)


def test_apps_of_kinds_not_read_live_count_for_nothing():
    """An app whose kind promoter does not read live is left out, and the stage is in-sync."""
    rollout = app("Rollout", "canary")
    status = stage_state("ctx", KS, (WEB, rollout), {WEB.key: LIVE_WEB}, 0)
    expected = ("in-sync", ("Deployment/web",))
    assert expected == (status.state, tuple(a.key for a in status.apps))


def test_chart_range_never_drifts():
    """A HelmRelease whose git version is a range is not drift, whatever chart runs."""
    from promoter.cluster import HelmReleaseState

    ranged = app("HelmRelease", "podinfo", version=">=6.0.0")
    release = HelmReleaseState(
        "podinfo",
        "apps",
        "helm.toolkit.fluxcd.io/v2",
        True,
        "UpgradeSucceeded",
        None,
        False,
        "6.5.1",
        1,
        1,
    )
    status = stage_state("ctx", KS, (ranged,), {ranged.key: release}, 0)
    expected = ("in-sync", False)
    assert expected == (status.state, status.apps[0].live and status.apps[0].live.drift)
