"""promoter.cluster.client: contexts, and every failure as one line without credentials."""

from __future__ import annotations

import sys
import time

import pytest

from promoter.cluster import Clusters, open_cluster, read_kustomization
from promoter.cluster._kubernetes import EXTRA_MISSING
from promoter.cluster.resources import DEPLOYMENT, KUSTOMIZATION
from promoter.errors import ClusterError, PromoterError
from tests.fakes import kube_objects as objects
from tests.fakes.kube import FakeKube, write_kubeconfig


def _error(kubeconfig, context, call=lambda c: read_kustomization(c, "apps", "flux-system")):
    with pytest.raises(ClusterError) as info, open_cluster(context, kubeconfig=kubeconfig) as c:
        call(c)
    return str(info.value)


def test_current_context_is_used_when_none_is_named(kube, kubeconfig):
    """Without a context, the kubeconfig's current context is opened and named."""
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        assert ("fake", kube.url) == (cluster.context, cluster.server)


def test_kubeconfig_environment_variable_is_read(kube, kubeconfig, monkeypatch):
    """KUBECONFIG names the file when no kubeconfig is passed, as for kubectl."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    kube.apply(objects.kustomization())
    with open_cluster("fake") as cluster:
        found = read_kustomization(cluster, "apps", "flux-system")
    expected = objects.SHA_OLD
    assert expected == found.applied_commit if found else None


def test_missing_context_is_one_line_with_the_known_ones(kubeconfig):
    """A context the kubeconfig lacks is named, with the contexts it has."""
    with pytest.raises(ClusterError) as info:
        open_cluster("prod", kubeconfig=kubeconfig)
    expected = f"kubeconfig {kubeconfig} has no context 'prod' (known: badtoken, down, fake, tls)"
    assert expected == str(info.value)


def test_no_current_context_asks_for_one(tmp_path, kube):
    """A kubeconfig without current-context, and no context asked for, says so."""
    path = write_kubeconfig(tmp_path / "kubeconfig", kube, current=None)
    with pytest.raises(ClusterError) as info:
        open_cluster(kubeconfig=path)
    assert f"kubeconfig {path} names no current context: pass a context" == str(info.value)


def test_missing_kubeconfig_file(tmp_path, monkeypatch):
    """No kubeconfig file and no in-cluster environment is one clear line."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    missing = tmp_path / "nope"
    with pytest.raises(ClusterError) as info:
        open_cluster("fake", kubeconfig=missing)
    expected = f"no kubeconfig for context 'fake': {missing} does not exist (set KUBECONFIG)"
    assert expected == str(info.value)


def test_in_cluster_configuration_without_a_kubeconfig(tmp_path, monkeypatch, kube):
    """With no kubeconfig, the service-account token and KUBERNETES_SERVICE_HOST are used."""
    import kubernetes.config.incluster_config as incluster

    token, cert = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text(kube.token)
    cert.write_text("not a certificate")
    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(cert))
    port = kube.url.rpartition(":")[2]
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with open_cluster() as cluster:
        assert ("in-cluster", f"https://127.0.0.1:{port}") == (cluster.context, cluster.server)


def test_in_cluster_without_a_service_account(tmp_path, monkeypatch):
    """KUBERNETES_SERVICE_HOST without a token file is one clear line."""
    import kubernetes.config.incluster_config as incluster

    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(ClusterError) as info:
        open_cluster()
    expected = "no kubeconfig and no in-cluster configuration: Service token file does not exist."
    assert expected == str(info.value)


def test_wrong_token_is_401_naming_context_and_object(kube, kubeconfig):
    """A refused token names the context, the object and the server, not the token."""
    message = _error(kubeconfig, "badtoken")
    expected = (
        "cluster context 'badtoken': cannot get Kustomization flux-system/apps: unauthorized "
        f"(401): {kube.url} refused the credentials of context 'badtoken'"
    )
    assert expected == message


def test_forbidden_namespace_is_403_with_the_servers_reason(kube, kubeconfig):
    """A namespace the credentials may not read gives the API server's reason."""
    kube.forbidden_namespaces.add("apps")
    message = _error(kubeconfig, "fake", lambda c: c.get(DEPLOYMENT, "apps", "web"))
    expected = (
        "cluster context 'fake': cannot get Deployment apps/web: forbidden (403): "
        'deployments.apps "web" is forbidden: User "system:serviceaccount:ci:promoter" '
        'cannot get resource "deployments" in API group "apps" in the namespace "apps"'
    )
    assert expected == message


def test_missing_object_is_none(kube, kubeconfig):
    """A 404 NotFound Status for an object reads as None, not an error."""
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        expected = (None, None)
        assert expected == (
            cluster.get(DEPLOYMENT, "apps", "web"),
            read_kustomization(cluster, "apps", "flux-system"),
        )


def test_unserved_flux_version_falls_back_to_an_older_one(tmp_path):
    """A cluster serving only kustomize.toolkit.fluxcd.io/v1beta2 is read through it."""
    served = {"": ("v1",), "apps": ("v1",), "kustomize.toolkit.fluxcd.io": ("v1beta2",)}
    with FakeKube(served=served) as kube:
        kube.apply(
            objects.kustomization(
                revision=f"main/{objects.SHA_OLD}",
                api_version="kustomize.toolkit.fluxcd.io/v1beta2",
            )
        )
        path = write_kubeconfig(tmp_path / "kubeconfig", kube)
        with open_cluster(kubeconfig=path) as cluster:
            found = read_kustomization(cluster, "apps", "flux-system")
        paths = [r for r in kube.requests if "kustomizations" in r]
    expected = (
        "kustomize.toolkit.fluxcd.io/v1beta2",
        objects.SHA_OLD,
        ["/apis/kustomize.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/kustomizations/apps"],
    )
    assert expected == (found.api_version if found else None, found and found.applied_commit, paths)


def test_listing_a_kind_the_cluster_does_not_serve(tmp_path):
    """Listing Kustomizations where Flux is not installed is one line saying so."""
    with FakeKube(served={"": ("v1",), "apps": ("v1",)}) as kube:
        path = write_kubeconfig(tmp_path / "kubeconfig", kube)
        message = _error(path, "fake", lambda c: c.list(KUSTOMIZATION, "flux-system"))
    expected = (
        "cluster context 'fake': cannot list Kustomization flux-system/*: the API serves no "
        "Kustomization (kustomize.toolkit.fluxcd.io v1, v1beta2)"
    )
    assert expected == message


def test_unreachable_api_server(kubeconfig):
    """A closed port is a refused connection naming the server."""
    message = _error(kubeconfig, "down")
    assert message.startswith(
        "cluster context 'down': cannot get Kustomization flux-system/apps: cannot connect to "
        "http://127.0.0.1:"
    ), message
    assert message.endswith("(Connection refused)"), message


def test_tls_failure(kube, kubeconfig):
    """A TLS handshake that fails is one line naming the https server."""
    message = _error(kubeconfig, "tls")
    https = kube.url.replace("http://", "https://")
    expected = f"cluster context 'tls': cannot get Kustomization flux-system/apps: TLS with {https}"
    assert message.startswith(expected + " failed: "), message


def test_slow_api_server_times_out(kube, kubeconfig):
    """A server slower than the timeout ends the call after about the timeout."""
    kube.delay = 3.0
    started = time.monotonic()
    with (
        pytest.raises(ClusterError) as info,
        open_cluster(kubeconfig=kubeconfig, timeout=0.5) as cluster,
    ):
        cluster.get(DEPLOYMENT, "apps", "web")
    elapsed = time.monotonic() - started
    expected = (
        "cluster context 'fake': cannot get Deployment apps/web: "
        f"no answer from {kube.url} within 0.5s"
    )
    assert (expected, True) == (str(info.value), elapsed < 2.5)


def test_no_message_carries_the_token(kube, kubeconfig):
    """Neither a token nor a Bearer header leaks into any error, even one a server echoes."""
    kube.forbidden_namespaces.add("apps")
    kube.forbidden_detail = f" (request had Authorization: Bearer {kube.token})"
    messages = [
        _error(kubeconfig, "fake", lambda c: c.get(DEPLOYMENT, "apps", "web")),
        _error(kubeconfig, "badtoken"),
        _error(kubeconfig, "down"),
        _error(kubeconfig, "tls"),
    ]
    leaked = [m for m in messages if kube.token in m or "wrong-token" in m]
    expected = ([], True)
    assert expected == (leaked, messages[0].endswith("(request had Authorization: ***)"))


def test_missing_extra_is_one_clear_line(monkeypatch, kubeconfig):
    """Without the kubernetes package, opening a cluster says which extra to install."""
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(ClusterError) as opened:
        open_cluster(kubeconfig=kubeconfig)
    with pytest.raises(PromoterError) as pooled:
        Clusters(kubeconfig=kubeconfig)
    expected = "cluster features need the extra: pip install 'kustomize-promoter[cluster]'"
    assert (expected, expected, expected) == (EXTRA_MISSING, str(opened.value), str(pooled.value))


def test_importing_the_package_does_not_import_kubernetes():
    """promoter.cluster imports the kubernetes client only when a cluster is opened."""
    import subprocess

    code = "import sys, promoter.cluster; print('kubernetes' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    expected = "False"
    assert expected == result.stdout.strip()
