"""Concurrent promotions (issue 11): parallel runs against one remote each build on their own
base, never collide on worktrees or refs, and a ref directory conflict is named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders.git import GitOps, leftovers, make_gitops, push_change
from tests.builders.workers import PromoteWorker, run_round
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


ROUNDS = 10
"""Rounds of parallel promotions (issue 11: 5 apps x 10 rounds = 50 promotions, all must
succeed)."""

APPS = [
    ("nginx", "dev", "staging", "web"),
    ("shop", "dev", "staging", "web"),
    ("nginx", "staging", "prod", "web"),
    ("podinfo", "dev", "staging", "platform"),
    ("report", "dev", "staging", "platform"),
]


def test_parallel_promotions_of_different_apps_all_succeed(ops: GitOps, tmp_path: Path) -> None:
    """Fifty promotions, ten rounds of five different apps, pipelines and stages at once
    against one bare remote (main moving between rounds): every one pushes its branch,
    built on that round's main, and nothing is left behind."""
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    workers = [PromoteWorker(ops.work, env) for _ in APPS]
    requests = [
        (app, src, dst, "-p", pipeline, "--no-pr", "-o", "json") for app, src, dst, pipeline in APPS
    ]
    pushed = 0
    try:
        for number in range(ROUNDS):
            main = push_change(ops, "main", {"NOTES.md": f"round {number}\n"}, "main moves")
            outcomes = run_round(workers, requests)
            assert [0] * len(APPS) == [o.code for o in outcomes], [o.err for o in outcomes]
            for outcome in outcomes:
                published = json.loads(outcome.out)
                assert published["base_commit"] == main
                branch = published["branch"]
                assert main == ops.remote_git("rev-parse", f"refs/heads/{branch}^")
                assert ops.remote_git("rev-parse", f"refs/heads/{branch}") == published["commit"]
                pushed += 1
    finally:
        ends = [worker.close() for worker in workers]
    assert [0] * len(APPS) == [code for code, _ in ends], ends
    assert ROUNDS * len(APPS) == pushed
    assert len(APPS) == len([b for b in ops.remote_branches() if b.startswith("promote/")])
    assert leftovers(tmp_path / "tmp") == []
    assert [str(ops.work)] == ops.worktrees()
    assert ops.git("for-each-ref", "refs/promoter/") == ""


BASE_ROUNDS = 10
"""Rounds of two promotions onto different bases at once."""


def test_parallel_bases_build_on_their_base(ops: GitOps, tmp_path: Path) -> None:
    """Two promotions onto different bases (main, release) at the same time, over ten
    rounds with both bases moving: each pushed commit's parent is the tip of the base it
    names (no shared FETCH_HEAD, no shared remote-tracking ref)."""
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    bases = {"main": "nginx", "release": "shop"}
    workers = [PromoteWorker(ops.work, env) for _ in bases]
    requests = [
        (app, "dev", "staging", "-p", "web", "--no-pr", "--base", base, "-o", "json")
        for base, app in bases.items()
    ]
    try:
        for number in range(BASE_ROUNDS):
            tips = {
                base: push_change(ops, base, {"NOTES.md": f"{base} {number}\n"}, f"{base} moves")
                for base in bases
            }
            outcomes = run_round(workers, requests)
            assert [o.code for o in outcomes] == [0, 0], [o.err for o in outcomes]
            for base, outcome in zip(bases, outcomes, strict=True):
                published = json.loads(outcome.out)
                assert (published["base"], published["base_commit"]) == (base, tips[base])
                parent = ops.remote_git("rev-parse", f"refs/heads/{published['branch']}^")
                assert tips[base] == parent, f"round {number}: {base} built on {parent}"
    finally:
        ends = [worker.close() for worker in workers]
    assert [code for code, _ in ends] == [0, 0], ends
    assert ops.git("for-each-ref", "refs/promoter/") == ""


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
