"""promoter.testing: the in-memory pull request fake that users' tests pass to promote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promoter.errors import GitHubError, PullRequestExists
from promoter.publish import PromotionRequest, PublishOptions, promote, publish_change
from promoter.rollback import rollback_planner
from promoter.testing import FakePulls
from tests.builders.git import GitOps, make_gitops

TOKEN = "ghp_testingSECRET0123456789"
NGINX = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


def env() -> dict[str, str]:
    """A token and a repository name, and no way to reach a real GitHub."""
    return {**os.environ, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/gitops"}


def test_promote_opens_then_updates_one_pull_request(ops: GitOps) -> None:
    """promote() with the fake opens one labelled pull request; promoting again updates it."""
    pulls = FakePulls()
    options = PublishOptions(reviewers=("alice",))
    first = promote(ops.work, NGINX, options, pulls_factory=pulls.factory, env=env())
    second = promote(ops.work, NGINX, options, pulls_factory=pulls.factory, env=env())
    assert (pulls.slug, pulls.token) == ("acme/gitops", TOKEN)
    (pr,) = pulls.opened
    expected = (
        1,
        "promote(web/prod): nginx 1.21.6 -> 1.22.0",
        "promote/web/prod/nginx-1.22.0",
        "main",
        ["promotion"],
        ["alice"],
    )
    assert expected == (pr.number, pr.title, pr.head, pr.base, pr.labels, pr.reviewers)
    assert first.pull_request is not None and first.pull_request.created
    assert second.pull_request is not None and not second.pull_request.created
    assert second.pull_request.url == "https://github.example/owner/name/pull/1"


def test_rollback_pull_request_gets_the_rollback_label(ops: GitOps) -> None:
    """A rollback published without labels is labelled ``rollback`` (the kind's default)."""
    pulls = FakePulls()
    promote(ops.work, NGINX, PublishOptions(pull_request=False), env=env())
    maker = rollback_planner("nginx", "prod", previous=True, pipeline="web")
    options = PublishOptions(base="promote/web/prod/nginx-1.22.0")
    result = publish_change(ops.work, maker, options, pulls_factory=pulls.factory, env=env())
    expected = ("rollback", ["rollback"])
    assert expected == (result.plan.kind, pulls.opened[0].labels)


def test_create_refuses_a_second_open_pull_request_for_a_branch() -> None:
    """Like GitHub, the fake refuses a second open pull request from the same branch."""
    pulls = FakePulls()
    pulls.create(title="t", body="b", head="feature", base="main", draft=True)
    with pytest.raises(PullRequestExists):
        pulls.create(title="t2", body="b2", head="feature", base="main", draft=False)
    found = pulls.find_open("feature", "main")
    assert found is not None and (found.number, found.created) == (1, False)
    assert pulls.find_open("feature", "other") is None


def test_fail_makes_every_call_a_github_error() -> None:
    """With ``fail`` set, each call raises GitHubError with that message."""
    pulls = FakePulls(fail="API down")
    with pytest.raises(GitHubError, match="API down"):
        pulls.find_open("feature", "main")
    with pytest.raises(GitHubError, match="API down"):
        pulls.add_labels(1, ["x"])
