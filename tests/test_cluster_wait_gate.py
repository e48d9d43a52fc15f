"""``pipelines wait``, ``promote --wait`` (library, in-memory forge) and the ``healthy``
gate, on a small real git repo against the fake Kubernetes API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter import PromotionRequest, PublishOptions, promote
from promoter.testing import FakePulls
from promoter.waiting import wait_for_merge, wait_for_promotion
from tests.builders.git import isolate
from tests.cluster_repo import ClusterRepo, make_cluster_repo, run_git, run_stages
from tests.fakes import kube_objects as objects
from tests.fakes.kube import FakeKube, kube_fixture, kubeconfig_fixture  # noqa: F401

HEALTHY = """\
    pipelines:
      - name: demo
        stages:
          - name: dev
            healthy: true
    """


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconfig: Path) -> ClusterRepo:
    """The demo repo (dev gated by ``healthy: true``), KUBECONFIG at the fake API."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return make_cluster_repo(tmp_path, {"promoter.yaml": HEALTHY})


def invoke(repo: ClusterRepo, *args: str) -> Result:
    """``pipelines ARGS --repo WORK``."""
    return CliRunner().invoke(app, [*args, "--repo", str(repo.work)])


def test_wait_success(repo: ClusterRepo, kube: FakeKube) -> None:
    """prod applied the remote tip and runs git's image: exit 0 and what was applied."""
    run_stages(kube, repo.first)
    result = invoke(repo, "wait", "prod", "--timeout", "5s")
    assert result.exit_code == 0, result.output
    assert f"demo/prod (fake): Kustomization flux-system/demo-prod applied {repo.first[:12]}" in (
        result.stdout
    )


def test_wait_failure_prints_rollback(repo: ClusterRepo, kube: FakeKube) -> None:
    """prod not Ready on the commit: exit 1, the cluster's reason, the rollback command."""
    run_stages(kube, repo.first, ready="False")
    result = invoke(repo, "wait", "prod", "--commit", repo.first, "--timeout", "5s")
    assert result.exit_code == 1
    assert "failed: Kustomization flux-system/demo-prod: not Ready on" in result.stderr
    assert "BuildFailed" in result.stderr
    assert "to roll back: pipelines rollback web prod --previous --pipeline demo" in result.stderr


def test_wait_timeout(repo: ClusterRepo, kube: FakeKube) -> None:
    """prod still on an older commit when the time is up: exit 1, timed out, what it waits for."""
    run_stages(kube, objects.SHA_OLD)
    result = invoke(repo, "wait", "prod", "--timeout", "1s")
    assert result.exit_code == 1
    assert "timeout: Kustomization flux-system/demo-prod: timed out after 1s" in result.stderr
    assert f"waiting for {repo.first[:12]}" in result.stderr


def test_healthy_gate_blocks(repo: ClusterRepo, kube: FakeKube) -> None:
    """dev runs 1.0.0 where git says 1.1.0: promoting dev -> prod is refused, naming the app."""
    run_stages(kube, repo.first, dev="1.0.0")
    result = invoke(repo, "promote", "web", "dev", "prod", "--dry-run")
    assert result.exit_code == 1
    assert "healthy gate: stage dev is drift in its cluster (fake)" in result.stderr
    assert "Deployment/web runs 1.0.0 in dev's cluster, not 1.1.0" in result.stderr


def test_healthy_gate_passes(repo: ClusterRepo, kube: FakeKube) -> None:
    """dev in sync on 1.1.0: the promotion goes ahead."""
    run_stages(kube, repo.first)
    result = invoke(repo, "promote", "web", "dev", "prod", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Deployment/web: 1.0.0 -> 1.1.0" in result.stdout


def test_healthy_gate_unreachable_blocks(repo: ClusterRepo, monkeypatch, kube: FakeKube) -> None:
    """A cluster that cannot be read cannot vouch: blocked, with the reason."""
    monkeypatch.setenv("KUBECONFIG", str(repo.work / "missing-kubeconfig"))
    result = invoke(repo, "promote", "web", "dev", "prod", "--dry-run")
    assert result.exit_code == 1
    assert "healthy gate: stage dev is unreachable in its cluster" in result.stderr


def _publish(repo: ClusterRepo, fake: FakePulls, *, ignore_gates: bool):
    env = {**os.environ, "GITHUB_TOKEN": "token-123", "GITHUB_REPOSITORY": "acme/gitops"}
    return promote(
        repo.work,
        PromotionRequest(["web"], "dev", "prod"),
        PublishOptions(ignore_gates=ignore_gates),
        pulls_factory=fake.factory,
        env=env,
    )


def test_ignore_gates_is_said_in_the_pr(repo: ClusterRepo, kube: FakeKube) -> None:
    """--ignore-gates goes ahead and the pull request body names the overridden gate."""
    run_stages(kube, repo.first, dev="1.0.0")
    fake = FakePulls()
    _publish(repo, fake, ignore_gates=True)
    body = fake.opened[0].body
    assert "Gate overridden with --ignore-gates: healthy gate: stage dev is drift" in body


def test_promote_wait_merged_and_rolled_out(repo: ClusterRepo, kube: FakeKube) -> None:
    """After the merge, prod applying the merge commit and running 1.1.0 ends the wait."""
    run_stages(kube, repo.first)
    fake = FakePulls()
    published = _publish(repo, fake, ignore_gates=False)
    run_git(repo.work, "push", "-q", "origin", f"{published.commit}:refs/heads/main")
    fake.merge(published.pull_request.number, published.commit)
    kube.apply(
        objects.kustomization(
            "demo-prod", target_namespace="prod", revision=f"main@sha1:{published.commit}"
        )
    )
    kube.apply(objects.deployment("web", "prod", images={"web": "example.com/web:1.1.0"}))
    done = wait_for_promotion(repo.work, published, fake, timeout=10)
    assert done is not None
    assert (True, published.commit, ()) == (done.ok, done.commit, done.rollback)


def test_promote_wait_rollout_fails(repo: ClusterRepo, kube: FakeKube) -> None:
    """prod applied the merge but web's rollout exceeded its deadline: failed, roll web back."""
    run_stages(kube, repo.first)
    fake = FakePulls()
    published = _publish(repo, fake, ignore_gates=False)
    run_git(repo.work, "push", "-q", "origin", f"{published.commit}:refs/heads/main")
    fake.merge(published.pull_request.number, published.commit)
    kube.apply(
        objects.kustomization(
            "demo-prod", target_namespace="prod", revision=f"main@sha1:{published.commit}"
        )
    )
    kube.apply(
        objects.deployment(
            "web",
            "prod",
            images={"web": "example.com/web:1.1.0"},
            available=0,
            deadline_exceeded=True,
        )
    )
    done = wait_for_promotion(repo.work, published, fake, timeout=10)
    assert done is not None
    assert (done.result.outcome, done.rollback) == ("failed", ("Deployment/web",))


def test_wait_for_merge_times_out() -> None:
    """A pull request never merged: None once the time is up, polling in between."""
    fake = FakePulls()
    fake.create(title="t", body="b", head="h", base="main", draft=False)
    now = [0.0]
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    assert (
        wait_for_merge(fake, 1, timeout=25, interval=10, clock=lambda: now[0], sleep=sleep) is None
    )
    assert naps == [10, 10, 5]
