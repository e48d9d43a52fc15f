"""``pipelines status --cluster --registry``: both answers in one document and one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders.git import isolate
from tests.cluster_repo import ClusterRepo, make_cluster_repo, run_stages
from tests.fakes.kube import FakeKube

PLAIN_ENV: dict[str, str | None] = {"COLUMNS": None, "NO_COLOR": None, "PROMOTER_DEBUG": None}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconfig: Path) -> ClusterRepo:
    """The demo repo (images on example.com, a registry no test can reach), with
    KUBECONFIG pointing at the fake API."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return make_cluster_repo(tmp_path)


def test_cluster_and_registry_answers_share_one_json_document(
    repo: ClusterRepo, kube: FakeKube
) -> None:
    """Each stage carries ``cluster``, each app ``live`` and ``available``, each image
    ``resolved``; the registry that cannot be reached is a note, not a failure."""
    run_stages(kube, repo.first)
    result = CliRunner().invoke(
        app,
        ["status", "--repo", str(repo.work), "--cluster", "--registry", "-o", "json"],
        env=PLAIN_ENV,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    stage = data["pipelines"][0]["stages"][0]
    web = stage["apps"][0]
    expected = ("in-sync", True, None, None)
    assert expected == (
        stage["cluster"]["state"],
        web["live"]["ready"],
        web["available"],
        web["images"][0]["resolved"],
    )
    assert any("example.com" in note for note in data["notes"])


def test_cluster_and_registry_tables_are_both_shown(repo: ClusterRepo, kube: FakeKube) -> None:
    """The table output shows the cluster state row and the registry's note."""
    run_stages(kube, repo.first)
    result = CliRunner().invoke(
        app, ["status", "--repo", str(repo.work), "--cluster", "--registry"], env=PLAIN_ENV
    )
    assert result.exit_code == 0, result.output
    assert "in-sync" in result.stdout
    assert "note: registry:" in result.stdout
