"""Leftovers of killed runs (issue 11): the next run removes the worktrees and temporary
directories that are provably the tool's (marked by a dead process, or unmarked, named as
the tool names them and untouched for hours), and nothing else: not the user's worktrees,
not a live run's, not a locked one, not a look-alike."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import git as gitpython
import pytest

from promoter import tempdirs
from promoter.git.leftovers import sweep_worktrees
from tests.builders.git import GitOps, leftovers, make_gitops
from tests.test_interrupt import environment

PROMOTE = "from cli.main import promote_main; promote_main()"
HOURS_AGO = time.time() - tempdirs.STALE_AFTER - 3600


def age(path: Path, when: float = HOURS_AGO) -> None:
    """Make ``path`` and every entry below it look untouched since ``when``."""
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.utime(Path(folder) / name, (when, when), follow_symlinks=False)
    os.utime(path, (when, when), follow_symlinks=False)


def add_worktree(ops: GitOps, path: Path) -> None:
    """Register a detached worktree of the user's clone at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ops.git("worktree", "add", "--detach", "--quiet", str(path), "HEAD")


@pytest.fixture
def ops(tmp_path: Path, temp: Path) -> GitOps:
    """A clone of the example GitOps repo with a bare remote (temp dir isolated)."""
    return make_gitops(tmp_path)


def test_old_unmarked_worktree_of_an_earlier_version_is_removed(ops: GitOps, temp: Path) -> None:
    """A worktree an earlier version left in ``promoter-XXXXXXXX/worktree`` (no marker),
    untouched for hours, is removed with its folder and git's record of it."""
    old = temp / "promoter-a1b2c3d4" / "worktree"
    add_worktree(ops, old)
    age(old.parent)
    with gitpython.Repo(ops.work) as repo:
        removed = sweep_worktrees(repo)
    assert [old.resolve()] == [p.resolve() for p in removed]
    assert not old.parent.exists()
    assert [str(ops.work)] == ops.worktrees()


def test_what_is_not_provably_ours_is_kept(ops: GitOps, temp: Path, tmp_path: Path) -> None:
    """Kept: a fresh unmarked worktree of ours, one whose owner still runs, a locked one,
    the user's own worktree (even with its folder deleted, which ``git worktree prune``
    would drop), and an old look-alike outside the temp folder."""
    fresh = temp / "promoter-fresh123" / "worktree"
    live = temp / "promoter-live1234" / "promoter-live1234"
    locked = temp / "promoter-lock1234" / "worktree"
    users = tmp_path / "feature"
    elsewhere = tmp_path / "elsewhere" / "promoter-else1234" / "worktree"
    for path in (fresh, live, locked, users, elsewhere):
        add_worktree(ops, path)
    (live.parent / tempdirs.MARKER).write_text(f"{os.getpid()} {tempdirs._host()}\n")
    ops.git("worktree", "lock", str(locked))
    for path in (live, locked, elsewhere):
        age(path.parent)
    subprocess.run(["rm", "-rf", str(users)], check=True)
    before = ops.worktrees()
    with gitpython.Repo(ops.work) as repo:
        assert sweep_worktrees(repo) == []
    assert before == ops.worktrees()
    for path in (fresh, live, locked, elsewhere):
        assert path.exists()


def test_worktree_whose_folder_is_gone_loses_its_record(ops: GitOps, temp: Path) -> None:
    """A run killed after its temp folder was swept leaves only git's record: removed."""
    path = temp / "promoter-gone1234" / "promoter-gone1234"
    add_worktree(ops, path)
    subprocess.run(["rm", "-rf", str(path.parent)], check=True)
    with gitpython.Repo(ops.work) as repo:
        sweep_worktrees(repo)
    assert [str(ops.work)] == ops.worktrees()


def test_unmarked_temp_directories(temp: Path) -> None:
    """Unmarked ``promoter-*`` directories: removed only when named exactly as the tool
    names them and untouched for hours; a look-alike name, a fresh one and a symlink are
    kept."""
    names = [
        "promoter-k3j_x9a0",
        "promoter-askpass-zz0011aa",
        "promoter-render-abcdefgh",
        "promoter-verify-12345678",
    ]
    kept = ["promoter-notes", "promoter-abcdefghi", "promoter-other-abcdefgh"]
    for name in [*names, *kept]:
        (temp / name).mkdir()
        (temp / name / "file").write_text("x", encoding="utf-8")
        age(temp / name)
    (temp / "promoter-fresh_00").mkdir()
    target = temp / "target"
    target.mkdir()
    age(target)
    (temp / "promoter-linkto00").symlink_to(target)
    removed = tempdirs.sweep(temp)
    assert sorted(p.name for p in removed) == sorted(names)
    assert sorted(p.name for p in temp.iterdir()) == sorted(
        [*kept, "promoter-fresh_00", "promoter-linkto00", "target"]
    )


def test_next_promotion_removes_leftovers_of_an_older_version(ops: GitOps, tmp_path: Path) -> None:
    """A real promotion starts by removing an old unmarked worktree and temp directory of
    the tool, then succeeds and leaves nothing behind."""
    temp = tmp_path / "tmp"
    old = temp / "promoter-0ld0ld00" / "worktree"
    add_worktree(ops, old)
    (temp / "promoter-askpass-0ld0ld00").mkdir()
    age(old.parent)
    age(temp / "promoter-askpass-0ld0ld00")
    done = subprocess.run(
        [sys.executable, "-c", PROMOTE, "nginx", "dev", "staging", "-p", "web", "--no-push"],
        cwd=ops.work,
        env=environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert leftovers(temp) == []
    assert [str(ops.work)] == ops.worktrees()
