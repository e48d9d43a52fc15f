"""``pipelines report --cluster --registry``: the page's cells and stage headers carry what
the clusters run and what the registries offer, read through the same library calls as
``status --cluster --registry``."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import collect_report
from promoter.report import render_html
from tests.builders.git import isolate
from tests.cluster_repo import ClusterRepo, make_cluster_repo, run_stages
from tests.fakes.kube import FakeKube


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconfig: Path) -> ClusterRepo:
    """The demo repo (images on example.com, a registry no test can reach), with
    KUBECONFIG pointing at the fake API."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return make_cluster_repo(tmp_path)


def test_cluster_states_and_drift_reach_the_report(repo: ClusterRepo, kube: FakeKube) -> None:
    """prod running 0.9.0 where git says 1.0.0: prod's state is drift and its cell shows the
    live version; dev is in sync and shows none."""
    run_stages(kube, repo.first, prod="0.9.0")
    report = collect_report(repo.work, cluster=True)
    expected = {("demo", "dev"): "in-sync", ("demo", "prod"): "drift"}
    assert expected == report.states
    cells = {c.stage: c for c in report.matrices[0].rows[0].cells}
    assert (cells["dev"].live, cells["prod"].live) == (None, "0.9.0")
    page = render_html(report)
    assert "cluster: drift" in page
    assert "live (differs): " in page


def test_an_unreachable_registry_is_named_as_not_included(
    repo: ClusterRepo, kube: FakeKube
) -> None:
    """With --registry and a registry that cannot be reached, the report still renders and
    says what it could not ask."""
    run_stages(kube, repo.first)
    report = collect_report(repo.work, registry=True)
    assert any(line.startswith("registry: ") for line in report.not_included)
    assert all(c.available is None for row in report.matrices[0].rows for c in row.cells)
