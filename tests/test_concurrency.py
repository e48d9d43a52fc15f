"""Concurrent promotions (issue 11): parallel runs against one remote each build on their own
base, never collide on worktrees or refs, and a ref directory conflict is named."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders.git import GitOps, leftovers, make_gitops, push_change
from tests.test_interrupt import environment

PROMOTE = "from cli.main import promote_main; promote_main()"


def start(ops: GitOps, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """The ``promote`` CLI as a subprocess in the user's clone."""
    return subprocess.Popen(
        [sys.executable, "-c", PROMOTE, *args],
        cwd=ops.work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """A clone of the example GitOps repo with a bare remote."""
    return make_gitops(tmp_path)


def test_parallel_promotions_of_different_apps_all_succeed(ops: GitOps, tmp_path: Path) -> None:
    """Five promotions of different apps, pipelines and stages at once against one bare
    remote: every one pushes its branch, built on main, and nothing is left behind."""
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    requests = [
        ("nginx", "dev", "staging", "web"),
        ("shop", "dev", "staging", "web"),
        ("nginx", "staging", "prod", "web"),
        ("podinfo", "dev", "staging", "platform"),
        ("report", "dev", "staging", "platform"),
    ]
    began = time.monotonic()
    runs = [
        start(ops, env, app, src, dst, "-p", pipeline, "--no-pr", "-o", "json")
        for app, src, dst, pipeline in requests
    ]
    results = [run.communicate(timeout=300) for run in runs]
    assert [0] * len(runs) == [run.returncode for run in runs], [err for _, err in results]
    assert time.monotonic() - began < 300
    branches = [b for b in ops.remote_branches() if b != "main"]
    assert len(requests) == len(branches)
    main = ops.remote_sha("main")
    for branch in branches:
        assert main == ops.remote_git("rev-parse", f"refs/heads/{branch}^")
    assert leftovers(tmp_path / "tmp") == []
    assert [str(ops.work)] == ops.worktrees()
    assert ops.git("for-each-ref", "refs/promoter/") == ""


def test_parallel_bases_build_on_their_base(ops: GitOps, tmp_path: Path) -> None:
    """Two promotions onto different bases (main, release) at the same time: each pushed
    commit's parent is the tip of the base it names (no shared FETCH_HEAD)."""
    release = push_change(ops, "release", {"NOTES.md": "release\n"}, "release branch")
    main = ops.remote_sha("main")
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    runs = {
        base: start(ops, env, app, "dev", "staging", "-p", "web", "--no-pr", "--base", base)
        for base, app in (("main", "nginx"), ("release", "shop"))
    }
    for run in runs.values():
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    parents = {
        branch.split("/")[-1].split("-")[0]: ops.remote_git("rev-parse", f"refs/heads/{branch}^")
        for branch in ops.remote_branches()
        if branch.startswith("promote/")
    }
    assert {"nginx": main, "shop": release} == parents


def test_ref_directory_conflict_is_named(ops: GitOps, tmp_path: Path) -> None:
    """A remote branch ``promote/web`` makes ``promote/web/...`` impossible: the message
    says so (not "lost a race"), exit 1, one line."""
    push_change(ops, "promote/web", {"NOTES.md": "x\n"}, "blocks the namespace")
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    run = start(ops, env, "nginx", "dev", "staging", "-p", "web", "--no-pr")
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "ref directory conflict" in lines[0]
    assert "branch promote/web exists on the remote" in lines[0]
    assert "race" not in lines[0]
