"""What promote must not do silently (issue 10 §3): write over a value Flux image
automation owns (refused unless ``--force``), move a chart range to a lower bound (a
downgrade), or move between versions that cannot be ordered (said in the plan and PR)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promoter import GitOpsRepo
from promoter.errors import PromotionError
from promoter.planner import plan_promotion
from promoter.pr import pull_request_body
from promoter.publish import ChangeResult
from promoter.serialize import change_dict
from tests.builders.layered import ENV_TEST, MARKER, layered
from tests.builders.promotions import d, make, plan
from tests.builders.repos import git_init

pytestmark = pytest.mark.usefixtures("temp")

AUTOMATED = (f"newTag: test {MARKER}",)


def test_automation_owned_value_is_refused_naming_policy_and_line(tmp_path: Path) -> None:
    """TO's tag sits on a line with a ``$imagepolicy`` marker: one line names the file:line
    and the policy, and says how to go ahead anyway."""
    repo = layered(tmp_path, env_test=AUTOMATED)
    with pytest.raises(PromotionError) as caught:
        plan_promotion(repo, "client", "dev", "test", pipeline="environments", render=False)
    message = str(caught.value)
    assert message.startswith(f"{ENV_TEST}:5: Deployment/client (container client) in test")
    assert "Flux image policy flux-system:client" in message and "--force" in message


def test_force_promotes_keeps_the_marker_and_marks_the_change(tmp_path: Path) -> None:
    """With ``force`` the value is edited (the marker stays), the change carries its policy
    in the plan JSON and a note says the automation may overwrite it."""
    repo = layered(tmp_path, env_test=AUTOMATED)
    result = plan_promotion(
        repo, "client", "dev", "test", pipeline="environments", render=False, force=True
    )
    (edit,) = result.edits
    assert f"newTag: 1.4.0 {MARKER}" in edit.after
    (change,) = change_dict(ChangeResult(result, "dry-run"))["changes"]
    assert (change["automated"], change["policy"]) == (True, "flux-system:client")
    assert any(n.startswith("--force: ") and "flux-system:client" in n for n in result.notes)


def test_cli_marks_automation_and_needs_force(tmp_path: Path) -> None:
    """``promote`` exits 1 on an automation-owned value; ``--force -o json`` promotes and
    marks the change ``automated``, the text output shows ⟳ and the policy."""
    git_init(layered(tmp_path, env_test=AUTOMATED).root)
    args = ["promote", "client", "dev", "test", "-p", "environments", "--repo", str(tmp_path)]
    refused = CliRunner().invoke(app, [*args, "--dry-run"])
    assert refused.exit_code == 1 and "flux-system:client" in refused.output
    forced = CliRunner().invoke(app, [*args, "--dry-run", "--force", "-o", "json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["changes"][0]["automated"] is True
    text = CliRunner().invoke(app, [*args, "--dry-run", "--force"])
    assert "⟳ flux-system:client" in text.output


def test_unordered_versions_go_ahead_and_are_said(tmp_path: Path) -> None:
    """``test`` -> ``1.4.0`` cannot be ordered: the promotion proceeds and its notes and pull
    request body say the downgrade guard could not check it."""
    repo = layered(tmp_path)
    result = plan_promotion(repo, "client", "dev", "test", pipeline="environments", render=False)
    assert result.notes == (
        "Deployment/client (container client): test and 1.4.0 cannot be ordered, so whether "
        "this is a downgrade was not checked",
    )
    assert "test and 1.4.0 cannot be ordered" in pull_request_body(result, "main", "0" * 40)


HELM = d(
    """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
    spec:
      chart:
        spec:
          chart: podinfo
          version: "{}"
    """
)


def charts(root: Path, staging: str, prod: str) -> GitOpsRepo:
    """The demo pipeline with a HelmRelease whose chart version each stage writes."""
    files = {}
    for stage, version in (("dev", staging), ("staging", staging), ("prod", prod)):
        files[f"envs/{stage}/kustomization.yaml"] = "resources:\n  - podinfo.yaml\n"
        files[f"envs/{stage}/podinfo.yaml"] = HELM.format(version)
    return make(root, files, base=False)


def test_chart_range_moving_to_a_lower_bound_is_a_downgrade(tmp_path: Path) -> None:
    """``>=1.0.0-alpha`` over ``>=1.0.0`` lowers the range's bound: refused as a downgrade
    unless allowed, like any other."""
    repo = charts(tmp_path, ">=1.0.0-alpha", ">=1.0.0")
    with pytest.raises(
        PromotionError, match=re.escape("would downgrade prod from >=1.0.0 to >=1.0.0-alpha")
    ):
        plan(repo, "podinfo")
    allowed = plan(repo, "podinfo", allow_downgrade=True)
    assert [(c.old, c.new) for c in allowed.changes] == [(">=1.0.0", ">=1.0.0-alpha")]


def test_chart_range_moving_up_is_no_downgrade(tmp_path: Path) -> None:
    """``^1.3.0`` over ``~1.2.5`` raises the bound: promoted without a note."""
    repo = charts(tmp_path, "^1.3.0", "~1.2.5")
    result = plan(repo, "podinfo")
    assert [(c.old, c.new) for c in result.changes] == [("~1.2.5", "^1.3.0")]
    assert result.notes == ()
