"""``pipelines status --cluster`` on a small real git repo against the fake Kubernetes API:
every state, the JSON shape, table cells, --fail-on, --context, promoter.yaml context/flux,
an unreachable context, a missing extra, and no ``kubernetes`` import without --cluster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter import cluster_status
from promoter.cluster import _kubernetes
from promoter.errors import ClusterError
from tests.builders.git import isolate
from tests.builders.repos import PROJECT_ROOT
from tests.cluster_repo import ClusterRepo, make_cluster_repo, run_stages
from tests.fakes import kube_objects as objects
from tests.fakes.kube import FakeKube, kube_fixture, kubeconfig_fixture  # noqa: F401

PLAIN_ENV: dict[str, str | None] = {
    "COLUMNS": None,
    "LINES": None,
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "PROMOTER_DEBUG": None,
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconfig: Path) -> ClusterRepo:
    """The demo repo, with KUBECONFIG pointing at the fake API (current context ``fake``)."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return make_cluster_repo(tmp_path)


def invoke(repo: ClusterRepo, *args: str) -> Result:
    """``pipelines status --repo WORK ARGS`` with a plain output."""
    return CliRunner().invoke(app, ["status", "--repo", str(repo.work), *args], env=PLAIN_ENV)


def stages_json(repo: ClusterRepo, *args: str) -> dict[str, dict]:
    """The stages of ``status --cluster -o json``, by name."""
    result = invoke(repo, "--cluster", "-o", "json", *args)
    data = json.loads(result.stdout)
    return {s["name"]: s for s in data["pipelines"][0]["stages"]}


def test_in_sync_json_shape(repo: ClusterRepo, kube: FakeKube) -> None:
    """Both stages in sync: the stage ``cluster`` object and the app ``live`` object."""
    run_stages(kube, repo.first)
    result = invoke(repo, "--cluster", "-o", "json")
    assert result.exit_code == 0, result.output
    stages = {s["name"]: s for s in json.loads(result.stdout)["pipelines"][0]["stages"]}
    assert {
        "context": "fake",
        "state": "in-sync",
        "pending_commits": 0,
        "kustomization": {
            "name": "demo-dev",
            "namespace": "flux-system",
            "ready": True,
            "reason": "ReconciliationSucceeded",
            "message": f"Applied revision: main@sha1:{repo.first}",
            "applied_revision": f"main@sha1:{repo.first}",
            "applied_commit": repo.first,
            "suspended": False,
        },
        "message": None,
    } == stages["dev"]["cluster"]
    assert stages["dev"]["apps"][0]["live"] == {
        "version": "1.1.0",
        "images": [{"container": "web", "image": "example.com/web:1.1.0"}],
        "ready": True,
        "drift": False,
    }
    assert stages["prod"]["cluster"]["state"] == "in-sync"


def test_json_without_cluster_has_no_cluster_keys(repo: ClusterRepo) -> None:
    """Without --cluster the document is today's: no ``cluster`` or ``live`` keys."""
    result = invoke(repo, "-o", "json")
    stage = json.loads(result.stdout)["pipelines"][0]["stages"][0]
    assert "cluster" not in stage
    assert "live" not in stage["apps"][0]


def test_pending_counts_commits_on_the_remote(repo: ClusterRepo, kube: FakeKube) -> None:
    """A pushed commit touching prod's files makes prod pending (1); dev stays in sync."""
    repo.commit_prod("1.2.0")
    run_stages(kube, repo.first)
    stages = stages_json(repo)
    assert (
        stages["dev"]["cluster"]["state"],
        stages["dev"]["cluster"]["pending_commits"],
    ) == ("in-sync", 0)
    assert (
        stages["prod"]["cluster"]["state"],
        stages["prod"]["cluster"]["pending_commits"],
    ) == ("pending", 1)


def test_unpushed_commit_is_not_pending(repo: ClusterRepo, kube: FakeKube) -> None:
    """Pending counts up to the remote branch's tip: a local commit not pushed is not
    pending (the working tree's version then differs from the live one: drift)."""
    repo.commit_prod("1.2.0", push=False)
    run_stages(kube, repo.first)
    cluster = stages_json(repo)["prod"]["cluster"]
    assert (cluster["pending_commits"], cluster["state"]) == (0, "drift")


def test_unknown_applied_commit_is_none(repo: ClusterRepo, kube: FakeKube) -> None:
    """An applied commit git does not know gives pending_commits null."""
    run_stages(kube, objects.SHA_OLD)
    cluster = stages_json(repo)["prod"]["cluster"]
    assert (cluster["state"], cluster["pending_commits"]) == ("pending", None)


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"ready": "False"}, "failing"),
        ({"suspend": True}, "suspended"),
    ],
)
def test_failing_and_suspended(repo: ClusterRepo, kube: FakeKube, fields, state) -> None:
    """A Kustomization not Ready is failing (with its reason); a suspended one suspended."""
    run_stages(kube, repo.first, **fields)
    cluster = stages_json(repo)["prod"]["cluster"]
    assert state == cluster["state"]
    if state == "failing":
        assert cluster["message"].startswith("BuildFailed: kustomize build failed")


def test_drift_table_cell_and_legend(repo: ClusterRepo, kube: FakeKube) -> None:
    """prod running 0.9.0 where git says 1.0.0 is drift: the cell shows both, the legend
    names only the symbols used, and the state row says drift."""
    run_stages(kube, repo.first, prod="0.9.0")
    result = invoke(repo, "--cluster")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "Deployment/web" in line)
    assert "1.0.0 ≠ 0.9.0" in row
    state_row = next(
        line for line in result.stdout.splitlines() if "cluster" in line and "│" in line
    )
    assert [w for w in state_row.split() if w in ("in-sync", "drift")] == ["in-sync", "drift"]
    assert "≠ the cluster runs another version" in result.stdout
    assert "✗" not in result.stdout
    assert "prod (fake): drift: Deployment/web: container web runs example.com/web:0.9.0" in (
        result.stdout
    )


def test_not_found(repo: ClusterRepo, kube: FakeKube) -> None:
    """No Kustomization for prod in the cluster: not-found, still exit 0."""
    run_stages(kube, repo.first)
    kube.delete("Kustomization", "flux-system", "demo-prod")
    result = invoke(repo, "--cluster", "-o", "json")
    assert result.exit_code == 0
    prod = json.loads(result.stdout)["pipelines"][0]["stages"][1]
    assert prod["cluster"]["state"] == "not-found"
    assert prod["apps"][0]["live"] is None


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("drift", 1), ("failing,pending", 0), ("pending, drift", 1), (None, 0)],
)
def test_fail_on(repo: ClusterRepo, kube: FakeKube, fail_on, code) -> None:
    """--fail-on makes the listed states exit 1; other states exit 0."""
    run_stages(kube, repo.first, prod="0.9.0")
    args = ("--cluster",) + (("--fail-on", fail_on) if fail_on else ())
    assert code == invoke(repo, *args).exit_code


def test_fail_on_unknown_state_is_a_usage_error(repo: ClusterRepo) -> None:
    """A state that does not exist is refused before anything is read."""
    result = invoke(repo, "--cluster", "--fail-on", "broken")
    assert result.exit_code == 2
    assert "unknown state broken" in result.output


def test_context_override_unreachable_keeps_table(repo: ClusterRepo, kube: FakeKube) -> None:
    """--context down: every stage unreachable with the message, the table still shown,
    exit 1."""
    run_stages(kube, repo.first)
    result = invoke(repo, "--cluster", "--context", "down")
    assert result.exit_code == 1
    assert "Deployment/web" in result.stdout
    assert result.stdout.count("unreachable") >= 2
    assert "demo/prod: " in result.stderr


def test_promoter_yaml_context_and_flux(tmp_path: Path, monkeypatch, kubeconfig, kube) -> None:
    """promoter.yaml sets prod's context (badtoken: refused) and dev's Kustomization name."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    config = """\
        pipelines:
          - name: demo
            stages:
              - name: dev
                flux: {name: other, namespace: flux-system}
              - name: prod
                context: badtoken
        """
    repo = make_cluster_repo(tmp_path, {"promoter.yaml": config})
    run_stages(kube, repo.first)
    kube.apply(
        objects.kustomization("other", target_namespace="dev", revision=f"main@sha1:{repo.first}")
    )
    kube.delete("Kustomization", "flux-system", "demo-dev")
    stages = stages_json(repo)
    assert (
        stages["dev"]["cluster"]["context"],
        stages["dev"]["cluster"]["state"],
        stages["dev"]["cluster"]["kustomization"]["name"],
    ) == ("fake", "in-sync", "other")
    assert (
        stages["prod"]["cluster"]["context"],
        stages["prod"]["cluster"]["state"],
    ) == ("badtoken", "unreachable")
    # --context wins over promoter.yaml for the run
    assert stages_json(repo, "--context", "fake")["prod"]["cluster"]["state"] == "in-sync"


def test_library_record(repo: ClusterRepo, kube: FakeKube) -> None:
    """promoter.cluster_status returns a ClusterReport the CLI renders."""
    run_stages(kube, repo.first, prod="0.9.0")
    report = cluster_status(repo.work)
    prod = report.status.pipelines[0].stages[1].stage
    assert ({"in-sync", "drift"}, True) == (set(report.states), report.read)
    assert report.of(prod).live("Deployment/web").version == "0.9.0"


def test_missing_extra(repo: ClusterRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the kubernetes package: one line saying how to install the extra."""

    def missing():
        raise ClusterError(_kubernetes.EXTRA_MISSING)

    monkeypatch.setattr(_kubernetes, "load", missing)
    result = invoke(repo, "--cluster")
    assert result.exit_code == 1
    assert "pip install 'kustomize-promoter[cluster]'" in result.stderr


def test_status_without_cluster_does_not_import_kubernetes(tmp_path: Path) -> None:
    """``pipelines status`` (no --cluster) never imports the kubernetes client."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cli.main import app\n"
        f"r = CliRunner().invoke(app, ['status', '--repo', {str(PROJECT_ROOT)!r}, '-o', 'json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('kubernetes' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
