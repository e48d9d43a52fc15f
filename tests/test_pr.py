"""Tests of ``promoter.pr``: branch names (sanitised, capped, always valid refs), commit
messages with their trailers, and pull request bodies, on the example repo's plan."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoter import GitOpsRepo
from promoter.planner import plan_promotion
from promoter.pr import BODY_LIMIT, BRANCH_LIMIT, branch_name, commit_message, pull_request_body
from promoter.promotion import AppMove, PromotionPlan
from tests.builders.git import GitOps, make_gitops

BRANCH = "promote/web/prod/nginx-1.22.0"


# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


# -- pr.py: branch names, messages, body -------------------------------------------------


def example_plan(ops: GitOps) -> PromotionPlan:
    """The nginx staging -> prod plan of the example repo (not rendered)."""
    return plan_promotion(
        GitOpsRepo.open(ops.work), ["nginx"], "staging", "prod", pipeline="web", render=False
    )


def with_moves(plan: PromotionPlan, *versions: str, name: str = "nginx") -> PromotionPlan:
    """The plan with moves to the given versions (for branch name tests)."""
    moves = tuple(AppMove("Deployment", f"{name}{i}", "1.0", v) for i, v in enumerate(versions))
    return dataclasses.replace(plan, moves=moves)


def check_ref(name: str) -> bool:
    """Whether git accepts ``name`` as a branch name."""
    done = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True)
    return done.returncode == 0


def test_branch_name_sanitised(ops: GitOps) -> None:
    """Characters git refuses are replaced; the name stays readable and valid."""
    plan = example_plan(ops)
    assert branch_name(plan) == BRANCH
    weird = with_moves(plan, "1.0@{x}..y:z~^?*[\\ .lock")
    name = branch_name(weird)
    assert name.startswith("promote/web/prod/nginx0-1.0-x-.y-z-")
    assert check_ref(name)
    assert check_ref(branch_name(with_moves(plan, "2.0.lock")))
    assert branch_name(with_moves(plan, "sha256:abc")) == "promote/web/prod/nginx0-sha256-abc"


def test_branch_name_capped_and_unique(ops: GitOps) -> None:
    """Long names are cut to the limit and keep a hash, so two long names differ."""
    plan = example_plan(ops)
    one = branch_name(with_moves(plan, *["9.9.9"] * 30))
    two = branch_name(with_moves(plan, *["9.9.9"] * 31))
    assert len(one) <= BRANCH_LIMIT and len(two) <= BRANCH_LIMIT
    assert one != two
    assert check_ref(one) and check_ref(two)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    versions=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=4),
    pipeline=st.text(min_size=1, max_size=20),
)
def test_branch_name_always_valid(ops: GitOps, versions: list[str], pipeline: str) -> None:
    """Whatever the versions and pipeline name, the branch name is a valid, capped ref."""
    plan = dataclasses.replace(with_moves(example_plan_cache(ops), *versions), pipeline=pipeline)
    name = branch_name(plan)
    assert len(name) <= BRANCH_LIMIT
    assert name.startswith("promote/")
    assert check_ref(name), name


_PLANS: dict[Path, PromotionPlan] = {}


def example_plan_cache(ops: GitOps) -> PromotionPlan:
    """example_plan, computed once per repository."""
    if ops.work not in _PLANS:
        _PLANS[ops.work] = example_plan(ops)
    return _PLANS[ops.work]


def test_commit_message_multi_app_trailers(ops: GitOps) -> None:
    """Each app gets its own Promoted-App/Promoted-Version pair."""
    plan = with_moves(example_plan(ops), "2.0", "3.0")
    message = commit_message(plan)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert parsed == [
        "Promoted-Pipeline: web",
        "Promoted-From: staging",
        "Promoted-To: prod",
        "Promoted-App: Deployment/nginx0",
        "Promoted-Version: 2.0",
        "Promoted-App: Deployment/nginx1",
        "Promoted-Version: 3.0",
    ]


def test_body_diff_cut_to_limit(ops: GitOps) -> None:
    """A huge rendered diff is cut so the body fits GitHub's 65536 characters."""
    diff = "".join(f"+line {i} {'x' * 60}\n" for i in range(5000))
    plan = dataclasses.replace(example_plan(ops), rendered_diff=diff)
    body = pull_request_body(plan, "main", "a" * 40)
    assert len(body) <= BODY_LIMIT
    assert "<details>" in body and body.endswith("</details>\n")
    assert "diff cut to fit GitHub's size limit" in body
    assert "+line 0 " in body and "+line 4999 " not in body


def test_body_diff_with_backticks_stays_fenced(ops: GitOps) -> None:
    """A diff containing a ``` run cannot close the code fence early."""
    plan = dataclasses.replace(example_plan(ops), rendered_diff="+ note: ```\n+ ````x\n")
    body = pull_request_body(plan, "main", "a" * 40)
    assert "`````diff\n+ note: ```\n+ ````x\n`````\n</details>" in body


def test_body_without_render_has_no_details(ops: GitOps) -> None:
    """Without a rendered diff there is no collapsed section."""
    body = pull_request_body(example_plan(ops), "main", "b" * 40)
    assert "<details>" not in body and f"`main` at `{'b' * 40}`" in body
