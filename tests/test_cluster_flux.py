"""promoter.cluster.flux: revisions, Kustomization and HelmRelease status as Flux writes them."""

from __future__ import annotations

import pytest

from promoter.cluster import open_cluster, read_helm_release, read_kustomization
from promoter.cluster.flux import chart_differs, commit_of
from tests.fakes import kube_objects as objects

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        (f"main@sha1:{SHA}", SHA),
        (f"refs/heads/main@sha1:{SHA}", SHA),
        (f"v1.2.0@sha1:{SHA}", SHA),
        (f"sha1:{SHA}", SHA),
        (f"main/{SHA}", SHA),
        (f"release/1.x/{SHA}", SHA),
        ("latest@sha256:" + "a" * 64, None),
        ("6.5.0", None),
        ("", None),
        (None, None),
    ],
)
def test_commit_of_every_revision_form(revision, expected):
    """Flux's git revision forms give their commit; OCI digests and chart versions none."""
    assert expected == commit_of(revision)


def test_kustomization_ready_and_revisions(kube, kubeconfig):
    """A Ready Kustomization gives its condition, both revisions, generations and suspend."""
    kube.apply(
        objects.kustomization(
            revision=f"main@sha1:{objects.SHA_OLD}",
            attempted=f"main@sha1:{objects.SHA_NEW}",
            generation=3,
            observed_generation=2,
        )
    )
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        found = read_kustomization(cluster, "apps", "flux-system")
    assert found is not None
    expected = (
        True,
        "ReconciliationSucceeded",
        objects.SHA_OLD,
        objects.SHA_NEW,
        3,
        2,
        False,
        False,
    )
    actual = (
        found.ready,
        found.reason,
        found.applied_commit,
        found.attempted_commit,
        found.generation,
        found.observed_generation,
        found.observed,
        found.suspended,
    )
    assert expected == actual


def test_kustomization_failing_and_suspended(kube, kubeconfig):
    """Ready False gives its reason and message; spec.suspend is read."""
    kube.apply(objects.kustomization(ready="False", suspend=True))
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        found = read_kustomization(cluster, "apps", "flux-system")
    expected = (
        False,
        "BuildFailed",
        "kustomize build failed: accumulating resources: missing file",
        True,
    )
    assert expected == (found and (found.ready, found.reason, found.message, found.suspended))


def test_kustomization_reconciling_is_unknown(kube, kubeconfig):
    """Ready Unknown (Progressing) reads as ready None."""
    kube.apply(objects.kustomization(ready="Unknown"))
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        found = read_kustomization(cluster, "apps", "flux-system")
    expected = (None, "Progressing")
    assert expected == (found and (found.ready, found.reason))


@pytest.mark.parametrize("api_version", ["v2", "v2beta2", "v2beta1"])
def test_helm_release_chart_version_in_every_api_version(tmp_path, api_version):
    """The released chart version comes from status.history (v2, v2beta2) or
    status.lastAppliedRevision (v2beta1), read through the version the cluster serves."""
    from tests.fakes.kube import FakeKube, write_kubeconfig

    served = {"": ("v1",), "helm.toolkit.fluxcd.io": (api_version,)}
    with FakeKube(served=served) as server:
        server.apply(
            objects.helm_release(
                chart_version="6.5.1",
                released="6.5.1",
                api_version=f"helm.toolkit.fluxcd.io/{api_version}",
            )
        )
        path = write_kubeconfig(tmp_path / "kubeconfig", server)
        with open_cluster(kubeconfig=path) as cluster:
            found = read_helm_release(cluster, "podinfo", "apps")
    expected = (f"helm.toolkit.fluxcd.io/{api_version}", "6.5.1", True, "UpgradeSucceeded")
    assert expected == (
        found and (found.api_version, found.chart_version, found.ready, found.reason)
    )


def test_helm_release_newest_snapshot_wins(kube, kubeconfig):
    """The snapshot with the highest release version is the one last released."""
    release = objects.helm_release(chart_version="6.5.1", released="6.5.1")
    release["status"]["history"].reverse()
    kube.apply(release)
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        found = read_helm_release(cluster, "podinfo", "apps")
    expected = "6.5.1"
    assert expected == (found and found.chart_version)


def test_helm_release_failed_upgrade(kube, kubeconfig):
    """A failed upgrade is Ready False with its reason, still on the previous chart."""
    kube.apply(objects.helm_release(chart_version="6.5.1", released="6.5.0", ready="False"))
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        found = read_helm_release(cluster, "podinfo", "apps")
    expected = (False, "UpgradeFailed", "6.5.0")
    assert expected == (found and (found.ready, found.reason, found.chart_version))


@pytest.mark.parametrize(
    ("git", "live", "expected"),
    [
        ("6.5.0", "6.5.0", False),
        ("6.5.0", "6.5.1", True),
        ("v6.5.0", "6.5.0", False),
        ("6.5.0", "6.5.0+0123456789ab", False),
        (">=6.0.0", "6.5.1", False),
        ("6.x", "6.5.1", False),
        (None, "6.5.1", False),
        ("6.5.0", None, False),
    ],
)
def test_chart_differs_only_for_pinned_versions(git, live, expected):
    """Only a pinned chart version can differ; ranges and OCI build metadata never do."""
    assert expected == chart_differs(git, live)
