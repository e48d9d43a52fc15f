"""Layered overlays (issue 10 §2): a value is edited where it is set when no other stage
that reads the file renders differently; otherwise the stages are named, and
``--also-affected`` goes ahead.  ``kubectl kustomize`` is the oracle of every stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promoter.errors import PromotionError
from promoter.planner import plan_promotion
from promoter.pr import pull_request_body
from promoter.promotion import PromotionPlan
from tests.builders.layered import ENV_TEST, IMAGE, layered, stage_dirs
from tests.builders.plans import kubectl_renders
from tests.builders.repos import git_init

KUBECTL = shutil.which("kubectl") or ""
needs_kubectl = pytest.mark.skipif(not KUBECTL, reason="kubectl is the oracle")
MIRROR = ("newName: mirror.local/acme/client",)

pytestmark = pytest.mark.usefixtures("temp")


def promote_client(
    root: Path, cluster_test: tuple[str, ...], *, render: bool, also_affected: bool = False
) -> PromotionPlan:
    """Plan ``client dev -> test`` of the environments pipeline on a fresh layout."""
    repo = layered(root, cluster_test=cluster_test)
    return plan_promotion(
        repo, "client", "dev", "test", pipeline="environments", render=render,
        also_affected=also_affected,
    )  # fmt: skip


@needs_kubectl
def test_only_to_changes_so_the_shared_overlay_is_edited_in_place(tmp_path: Path) -> None:
    """The cluster overlays set their own tag: the test overlay's line is edited in place,
    kustomize renders every other stage byte for byte as before."""
    repo = layered(tmp_path)
    renders = kubectl_renders(KUBECTL, stage_dirs(tmp_path))
    plan = plan_promotion(repo, "client", "dev", "test", pipeline="environments", render=True)
    assert [(c.file, c.line, c.how, c.new) for c in plan.changes] == [
        (ENV_TEST, 5, "in-place", "1.4.0")
    ]
    assert plan.also_affected == ()
    assert plan.rendered_diff is not None and f"{IMAGE}:1.4.0" in plan.rendered_diff
    plan.write()
    after = kubectl_renders(KUBECTL, stage_dirs(tmp_path))
    assert [a == b for a, b in zip(renders, after, strict=True)] == [
        True, False, True, True, True, True, True,
    ]  # fmt: skip
    assert f"image: {IMAGE}:1.4.0" in after[1]


def test_other_stages_that_would_change_are_named(tmp_path: Path) -> None:
    """The cluster overlays inherit the tag (they only rename the image): the promotion is
    refused naming both cluster stages and the way out."""
    with pytest.raises(PromotionError) as caught:
        promote_client(tmp_path, MIRROR, render=False)
    message = str(caught.value)
    assert "would also change local-home/test and rhpds/test" in message
    assert ENV_TEST in message and "--also-affected" in message and "\n" not in message


@needs_kubectl
def test_also_affected_goes_ahead_and_lists_the_other_stages(tmp_path: Path) -> None:
    """With ``also_affected`` the line is edited in place; the plan, its notes and the pull
    request body name each other stage and what changes in it, as kustomize confirms."""
    plan = promote_client(tmp_path, MIRROR, render=True, also_affected=True)
    assert [(c.file, c.how) for c in plan.changes] == [(ENV_TEST, "in-place")]
    assert [(e.name, e.files, e.changes) for e in plan.also_affected] == [
        (f"{c}/test", (ENV_TEST,), ("Deployment/client: test -> 1.4.0",))
        for c in ("local-home", "rhpds")
    ]
    body = pull_request_body(plan, "main", "0" * 40)
    assert "this also changes local-home/test (Deployment/client: test -> 1.4.0)" in body
    assert "this also changes rhpds/test" in body
    plan.write()
    after = kubectl_renders(KUBECTL, stage_dirs(tmp_path))
    assert "image: mirror.local/acme/client:1.4.0" in after[3]  # local-home/test
    assert "image: mirror.local/acme/client:1.4.0" in after[5]  # rhpds/test


@needs_kubectl
def test_value_inherited_from_base_gets_an_override_in_to(tmp_path: Path) -> None:
    """TO inherits the tag from the truly shared base: an override is added in TO (which
    the cluster overlays read, but override), and no other stage renders differently."""
    root = tmp_path
    repo = layered(root, env_test=())
    renders = kubectl_renders(KUBECTL, stage_dirs(root))
    plan = plan_promotion(repo, "client", "dev", "test", pipeline="environments", render=True)
    assert [(c.file, c.how) for c in plan.changes] == [
        ("environments/overlays/test/client-image.yaml", "new-patch")
    ]
    assert {e.path for e in plan.edits} == {
        ENV_TEST,
        "environments/overlays/test/client-image.yaml",
    }
    plan.write()
    after = kubectl_renders(KUBECTL, stage_dirs(root))
    assert [a == b for a, b in zip(renders, after, strict=True)] == [
        True, False, True, True, True, True, True,
    ]  # fmt: skip


def test_cli_refuses_then_also_affected_reports_them_in_json(tmp_path: Path) -> None:
    """``promote`` exits 1 with the one-line refusal; with ``--also-affected`` its JSON
    lists the other stages and their changes."""
    git_init(layered(tmp_path, cluster_test=MIRROR).root)
    args = ["promote", "client", "dev", "test", "-p", "environments", "--repo", str(tmp_path)]
    refused = CliRunner().invoke(app, [*args, "--dry-run"])
    assert refused.exit_code == 1
    assert "would also change local-home/test and rhpds/test" in refused.output
    done = CliRunner().invoke(app, [*args, "--dry-run", "--also-affected", "-o", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert [
        (e["pipeline"], e["stage"], e["files"], e["changes"]) for e in data["also_affected"]
    ] == [
        (c, "test", [ENV_TEST], ["Deployment/client: test -> 1.4.0"])
        for c in ("local-home", "rhpds")
    ]
