"""Interruption (issue 11): SIGTERM and SIGINT unwind a real promotion with one line and the
right exit code, its renders die with it, SIGKILL leaves nothing the next run keeps, and a
multi-file write is all-or-nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from promoter.planner import plan_promotion
from promoter.promotion import FileEdit
from promoter.repo import GitOpsRepo
from tests.builders.git import IDENTITY, GitOps, leftovers, make_gitops
from tests.builders.plans import example_copy

PROMOTE = "from cli.main import promote_main; promote_main()"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An isolated environment for a CLI subprocess (HOME, TMPDIR, identity, no tokens)."""
    home = tmp_path / "home"
    temp = tmp_path / "tmp"
    home.mkdir(exist_ok=True)
    temp.mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    return {
        **keep,
        **IDENTITY,
        "HOME": str(home),
        "TMPDIR": str(temp),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "PROMOTER_NO_FORK": "1",
        **extra,
    }


def slow_renderer(tmp_path: Path) -> tuple[Path, Path]:
    """A fake ``kustomize`` that records its pid in a marker file and then hangs."""
    marker = tmp_path / "render.pid"
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir(exist_ok=True)
    tool.write_text(f"#!/bin/sh\necho $$ > {marker}\nexec sleep 300\n", encoding="utf-8")
    tool.chmod(0o755)
    return tool, marker


def slow_push(ops: GitOps, tmp_path: Path) -> Path:
    """A pre-receive hook on the remote that records that a push arrived and then hangs."""
    marker = tmp_path / "push.started"
    hook = ops.remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nsleep 20\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    return marker


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 90.0) -> None:
    """Wait until ``path`` exists (the run reached the point to interrupt)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and (path.suffix != ".pid" or path.read_text(encoding="utf-8"))):
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the run ended before {path.name}: {out} {err}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").split(") ")[-1][:1]
    except OSError:
        return False
    return state != "Z"


def gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether ``pid`` ends within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start(ops: GitOps, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """The ``promote`` CLI as a subprocess in the user's clone."""
    return subprocess.Popen(
        [sys.executable, "-c", PROMOTE, "nginx", "dev", "staging", "-p", "web", *args],
        cwd=ops.work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def no_residue(ops: GitOps, temp: Path) -> None:
    """No temp directory, worktree or run ref is left behind."""
    assert leftovers(temp) == []
    assert [str(ops.work)] == ops.worktrees()
    assert ops.git("for-each-ref", "refs/promoter/") == ""


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """A clone of the example GitOps repo with a bare remote."""
    return make_gitops(tmp_path)


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [(signal.SIGTERM, 143, "error: terminated"), (signal.SIGINT, 130, "error: interrupted")],
)
def test_signal_during_render_cleans_up(
    ops: GitOps, tmp_path: Path, sig: signal.Signals, code: int, line: str
) -> None:
    """A signal during a slow render kills the render at once, prints one line, exits 128+n
    and leaves no worktree, temp directory or ref; the user's clone is untouched."""
    tool, marker = slow_renderer(tmp_path)
    env = environment(tmp_path, PROMOTER_KUSTOMIZE=str(tool))
    before = ops.snapshot()
    process = start(ops, env, "--no-pr")
    wait_for(marker, process)
    render = int(marker.read_text(encoding="utf-8"))
    began = time.monotonic()
    process.send_signal(sig)
    _out, err = process.communicate(timeout=60)
    assert code == process.returncode, err
    assert [line] == err.strip().splitlines()
    assert time.monotonic() - began < 30
    assert gone(render)
    no_residue(ops, tmp_path / "tmp")
    assert before == ops.snapshot()
    assert ops.remote_branches() == ["main"]


def test_sigterm_during_push_pushes_nothing(ops: GitOps, tmp_path: Path) -> None:
    """SIGTERM while the push is under way: exit 143, one line, nothing left behind."""
    marker = slow_push(ops, tmp_path)
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    process = start(ops, env, "--no-pr")
    wait_for(marker, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err.strip().splitlines() == ["error: terminated"]
    no_residue(ops, tmp_path / "tmp")
    assert ops.remote_branches() == ["main"]


@pytest.mark.parametrize("point", ["render", "push"])
def test_sigkill_leaves_nothing_after_the_next_run(ops: GitOps, tmp_path: Path, point: str) -> None:
    """A run killed with SIGKILL (during a render, or a push) takes its render with it, and
    the next run removes its worktree, temp directories and refs, then succeeds."""
    if point == "render":
        tool, marker = slow_renderer(tmp_path)
        env = environment(tmp_path, PROMOTER_KUSTOMIZE=str(tool))
    else:
        marker = slow_push(ops, tmp_path)
        env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    process = start(ops, env, "--no-pr")
    wait_for(marker, process)
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    if point == "render":
        assert gone(int(marker.read_text(encoding="utf-8")))
    assert leftovers(tmp_path / "tmp"), "the killed run had temporary directories"
    (ops.remote / "hooks" / "pre-receive").unlink(missing_ok=True)
    env = environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer")
    again = start(ops, env, "--no-push")
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    no_residue(ops, tmp_path / "tmp")
    assert any(b.startswith("promote/web/staging/nginx-") for b in ops.local_branches())


def test_multi_file_write_is_not_cut_by_a_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between two renames of a write: both files are written, the interruption
    arrives after, and no temporary file is left beside them."""
    root = example_copy(tmp_path / "repo")
    plan = plan_promotion(
        GitOpsRepo.open(root), ["nginx"], "dev", "staging", pipeline="web", render=False
    )
    first, second = "pipelines/web/staging/nginx-tag.yaml", "pipelines/web/prod/nginx-tag.yaml"
    texts = {rel: (root / rel).read_text(encoding="utf-8") for rel in (first, second)}
    edits = tuple(FileEdit(rel, texts[rel], texts[rel] + "# changed\n") for rel in texts)
    plan = replace(plan, edits=edits)
    renamed: list[Path] = []
    original = Path.replace

    def replace_then_interrupt(self: Path, target: Path) -> Path:
        renamed.append(target)
        result = original(self, target)
        if len(renamed) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(Path, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        plan.write()
    assert len(renamed) == 2
    for rel in texts:
        assert texts[rel] + "# changed\n" == (root / rel).read_text(encoding="utf-8")
        assert [p.name for p in (root / rel).parent.iterdir() if ".promoter-" in p.name] == []


def test_write_removes_temporary_files_of_killed_runs(tmp_path: Path) -> None:
    """A temporary file a SIGKILLed run left beside a file is removed by the next write."""
    root = example_copy(tmp_path / "repo")
    plan = plan_promotion(
        GitOpsRepo.open(root), ["nginx"], "dev", "staging", pipeline="web", render=False
    )
    folder = root / plan.edits[0].path
    stale = folder.parent / f".{folder.name}.promoter-999999999-abc"
    stale.write_text("half", encoding="utf-8")
    plan.write()
    assert not stale.exists()


def test_sweep_removes_only_directories_of_dead_runs_on_this_host(tmp_path: Path) -> None:
    """A marked directory of a dead process is removed; a live owner's, one from another
    host and one without a marker are kept."""
    import socket

    from promoter import tempdirs

    host = socket.gethostname()
    owners = {
        "promoter-dead": f"999999999 {host}",
        "promoter-live": f"{os.getpid()} {host}",
        "promoter-elsewhere": "999999999 another-host",
    }
    for name, marker in owners.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / tempdirs.MARKER).write_text(marker, encoding="utf-8")
    (tmp_path / "promoter-unmarked").mkdir()
    removed = tempdirs.sweep(tmp_path)
    assert [tmp_path / "promoter-dead"] == removed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "promoter-elsewhere",
        "promoter-live",
        "promoter-unmarked",
    ]
