"""promoter.cluster.workloads: live images and rollout of every workload kind."""

from __future__ import annotations

import pytest

from promoter.cluster import LiveImage, open_cluster, read_workload
from tests.fakes import kube_objects as objects


def _read(kube, kubeconfig, obj):
    kube.apply(obj)
    meta = obj["metadata"]
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        found = read_workload(cluster, obj["kind"], meta["name"], meta["namespace"])
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (objects.deployment(), (True, False, None)),
        (objects.deployment(updated=1), (False, False, "1 of 2 replicas updated")),
        (objects.deployment(total=3), (False, False, "1 old replicas pending termination")),
        (objects.deployment(available=1), (False, False, "1 of 2 replicas available")),
        (
            objects.deployment(generation=2, observed_generation=1),
            (False, False, "generation 2 not observed yet (observed 1)"),
        ),
        (
            objects.deployment(deadline_exceeded=True, updated=1),
            (
                False,
                True,
                'ProgressDeadlineExceeded: ReplicaSet "web-5d4f8c7b9" has timed out progressing.',
            ),
        ),
        (objects.deployment(replicas=0, available=0, updated=0), (True, False, None)),
        (objects.stateful_set(), (True, False, None)),
        (objects.stateful_set(updated=2), (False, False, "2 of 3 replicas updated")),
        (objects.stateful_set(available=1), (False, False, "1 of 3 replicas available")),
        (
            objects.stateful_set(update_revision="db-84b7f9d6c"),
            (False, False, "rolling update to db-84b7f9d6c not complete"),
        ),
        (objects.daemon_set(), (True, False, None)),
        (objects.daemon_set(updated=1), (False, False, "1 of 3 pods updated")),
        (objects.daemon_set(ready=2), (False, False, "2 of 3 pods ready")),
        (objects.cron_job(), (True, False, None)),
        (objects.job(), (True, False, None)),
        (objects.job(outcome=None), (False, False, "running (1 active)")),
        (
            objects.job(outcome="Failed"),
            (False, True, "BackoffLimitExceeded: Job has reached the specified backoff limit"),
        ),
        (objects.pod(), (True, False, None)),
        (objects.pod(ready=False), (False, False, "Running, not ready")),
        (objects.pod(phase="Failed", ready=False), (False, True, "Failed")),
    ],
    ids=lambda v: v["kind"] if isinstance(v, dict) else None,
)
def test_rollout_of_every_kind(kube, kubeconfig, obj, expected):
    """Rollout is done, going, or failed the way kubectl rollout status judges it."""
    found = _read(kube, kubeconfig, obj)
    assert expected == (found.ready, found.failed, found.reason)


def test_images_of_containers_and_init_containers(kube, kubeconfig):
    """Live images list init containers first, then containers, with their names."""
    obj = objects.deployment(
        images={"web": "ghcr.io/acme/web:1.2.0", "proxy": "envoyproxy/envoy:v1.30.1"},
        init={"migrate": "ghcr.io/acme/web-migrate:1.2.0"},
    )
    found = _read(kube, kubeconfig, obj)
    expected = (
        LiveImage("migrate", "ghcr.io/acme/web-migrate:1.2.0", init=True),
        LiveImage("web", "ghcr.io/acme/web:1.2.0"),
        LiveImage("proxy", "envoyproxy/envoy:v1.30.1"),
    )
    assert expected == found.images


@pytest.mark.parametrize(
    "obj",
    [
        objects.cron_job(images={"report": "ghcr.io/acme/report:2.0.0"}),
        objects.job(images={"report": "ghcr.io/acme/report:2.0.0"}),
        objects.pod(images={"report": "ghcr.io/acme/report:2.0.0"}),
        objects.stateful_set(images={"report": "ghcr.io/acme/report:2.0.0"}),
        objects.daemon_set(images={"report": "ghcr.io/acme/report:2.0.0"}),
    ],
    ids=lambda v: v["kind"],
)
def test_images_of_every_pod_spec_location(kube, kubeconfig, obj):
    """A CronJob's job template, a Pod's own spec and pod templates all give their images."""
    found = _read(kube, kubeconfig, obj)
    assert (LiveImage("report", "ghcr.io/acme/report:2.0.0"),) == found.images


def test_cron_job_last_schedule(kube, kubeconfig):
    """A CronJob reports when it last ran, and has nothing to roll out."""
    found = _read(kube, kubeconfig, objects.cron_job(last_schedule="2024-06-01T03:00:00Z"))
    expected = ("2024-06-01T03:00:00Z", True)
    assert expected == (found.last_schedule, found.ready)


def test_missing_workload_is_none(kube, kubeconfig):
    """A workload the cluster does not have reads as None."""
    with open_cluster(kubeconfig=kubeconfig) as cluster:
        assert None is read_workload(cluster, "StatefulSet", "db", "apps")
