"""Remotes as users configure them (issue 10 §8): a promotion pushes where the user's own
``git push`` would, whatever form the remote's URL takes; real bare remotes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from promoter.publish import PromotionRequest, PublishOptions, promote
from tests.builders.git import GitOps, git, make_gitops

NGINX = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")
BRANCH = "promote/web/prod/nginx-1.22.0"

pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


def push_only(ops: GitOps) -> str:
    """Promote nginx staging -> prod from the user's clone, push only (no pull request); the
    pushed commit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_"))}
    result = promote(ops.work, NGINX, PublishOptions(pull_request=False), env=env)
    assert result.pushed and result.commit
    return result.commit


def branch_in(bare: Path, branch: str = BRANCH) -> str | None:
    """The commit ``branch`` points at in the bare repository ``bare`` (None: absent)."""
    out = git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=bare, check=False)
    return out or None


def test_relative_remote_url(ops: GitOps) -> None:
    """``git remote add origin ../remote.git``: resolved against the repository, as git does."""
    ops.git("remote", "set-url", "origin", "../remote.git")
    sha = push_only(ops)
    assert branch_in(ops.remote) == sha


def test_relative_remote_url_run_from_elsewhere(
    ops: GitOps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the process's current directory, a relative URL means the same remote."""
    ops.git("remote", "set-url", "origin", "../remote.git")
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    sha = push_only(ops)
    assert branch_in(ops.remote) == sha


def test_file_url(ops: GitOps) -> None:
    """A ``file://`` URL."""
    ops.git("remote", "set-url", "origin", ops.remote.as_uri())
    sha = push_only(ops)
    assert branch_in(ops.remote) == sha


def test_absolute_local_path(ops: GitOps) -> None:
    """An absolute local path."""
    ops.git("remote", "set-url", "origin", str(ops.remote))
    sha = push_only(ops)
    assert branch_in(ops.remote) == sha


def test_insteadof_rewrite(ops: GitOps, tmp_path: Path) -> None:
    """``url.<base>.insteadOf``: the URL written in the remote is rewritten, by git's rules."""
    ops.git("config", f"url.{tmp_path}/.insteadOf", "gitops:")
    ops.git("remote", "set-url", "origin", "gitops:remote.git")
    sha = push_only(ops)
    assert branch_in(ops.remote) == sha


def test_relative_insteadof_rewrite(ops: GitOps) -> None:
    """An ``insteadOf`` rewrite to a relative path is resolved against the repository too."""
    ops.git("config", "url.../.insteadOf", "up:")
    ops.git("remote", "set-url", "origin", "up:remote.git")
    sha = push_only(ops)
    assert branch_in(ops.remote) == sha


def test_push_url_differs_from_fetch_url(ops: GitOps, tmp_path: Path) -> None:
    """A ``pushurl`` (here relative) receives the push; the fetch URL's remote is not
    written to."""
    mirror = tmp_path / "push.git"
    shutil.copytree(ops.remote, mirror, symlinks=True)
    ops.git("config", "remote.origin.pushurl", "../push.git")
    sha = push_only(ops)
    assert branch_in(mirror) == sha
    assert branch_in(ops.remote) is None


def test_pushinsteadof_rewrite(ops: GitOps, tmp_path: Path) -> None:
    """``url.<base>.pushInsteadOf`` sends pushes elsewhere than fetches, as for ``git push``."""
    mirror = tmp_path / "push.git"
    shutil.copytree(ops.remote, mirror, symlinks=True)
    ops.git("config", f"url.{mirror}.pushInsteadOf", str(ops.remote))
    sha = push_only(ops)
    assert branch_in(mirror) == sha
    assert branch_in(ops.remote) is None
