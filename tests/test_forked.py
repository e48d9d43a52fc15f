"""Work shared with a forked child (``promoter.forked.share_items``) and the cold
``status -o json`` made of the parts each process reads (``GitOpsRepo.status_json``): the
same results and the same bytes as one process, whatever the child does."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.views import problem_lines
from promoter import children, discovery, forked, repo
from promoter.errors import PromoterError
from promoter.forked import paired
from promoter.repo import GitOpsRepo, status, status_json
from promoter.serialize import status_dict, to_json
from tests.builders.repos import example_repo, flux_sync, kustomization, simple_pipeline, write


@pytest.fixture
def fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Share the work with a child even on a few items, whatever threads pytest runs."""
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    monkeypatch.setattr(repo, "_PARALLEL_MIN", 2)


def _slow(index: int) -> tuple[int, int]:
    time.sleep(0.005)  # both processes get a share
    return index, os.getpid()


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.usefixtures("fork")
def test_the_child_takes_items_from_the_back() -> None:
    """The results come in order; this process did the front, the child the back."""
    found = forked.share_items(100, _slow)
    assert [i for i, _ in found] == list(range(100))
    pids = [pid for _, pid in found]
    assert pids[0] == os.getpid() and pids[-1] != os.getpid()
    ours = pids.count(os.getpid())
    assert pids == [os.getpid()] * ours + [pids[-1]] * (100 - ours)
    assert _no_children_left()


@pytest.mark.usefixtures("fork")
def test_a_failing_child_leaves_its_items_to_the_parent() -> None:
    """A child that fails on an item: every item is still done, here."""
    parent = os.getpid()

    def work(index: int) -> int:
        if os.getpid() != parent and index == 50:
            raise RuntimeError("child broke")
        time.sleep(0.001)
        return index * 2

    assert list(forked.share_items(60, work)) == [i * 2 for i in range(60)]
    assert _no_children_left()


@pytest.mark.usefixtures("fork")
def test_a_child_killed_holding_the_token_does_not_hang_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child dies between taking the token and passing it on: the parent notices (the
    child's pipe closes) and does the rest."""
    parent = os.getpid()
    taken = []
    real_take = forked._take

    def take(token_read: int, token_write: int, **kwargs: object) -> int | None:
        if os.getpid() != parent:
            taken.append(1)
            if len(taken) == 5:
                os.read(token_read, forked._CURSORS.size)
                os._exit(9)
        return real_take(token_read, token_write, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(forked, "_take", take)
    assert [i for i, _ in forked.share_items(40, _slow)] == list(range(40))
    assert _no_children_left()


@pytest.mark.usefixtures("fork")
def test_both_get_everything_shared_then_the_parent_the_items() -> None:
    """``share_all`` gives both processes every result (the child's view is sent back
    here through ``share_items``); the items shared next start afresh, both taking some."""

    def job(pair: forked.Pair) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        first = pair.share_all(100, _slow)
        seen = {i for i, _ in first}
        complete = [(len(seen), os.getpid())] if seen == set(range(100)) else []
        then = pair.share_items(100, lambda i: complete[0] if i == 99 else _slow(i))
        return first, then

    first, then = paired(job)
    assert [i for i, _ in first] == list(range(100))
    assert {pid for _, pid in first} == {os.getpid(), then[-1][1]}
    assert then[-1][0] == 100 and then[-1][1] != os.getpid()  # the child saw everything
    assert then[0] == (0, os.getpid())
    assert _no_children_left()


@pytest.mark.usefixtures("fork")
def test_an_error_in_the_parent_ends_the_child() -> None:
    """The parent's exception goes up; the child is stopped and reaped, not left behind."""
    parent = os.getpid()

    def work(index: int) -> int:
        if os.getpid() == parent and index == 3:
            raise KeyboardInterrupt
        time.sleep(0.01)
        return index

    with pytest.raises(KeyboardInterrupt):
        forked.share_items(200, work)
    assert _no_children_left()


def test_no_fork_while_another_thread_runs() -> None:
    """A fork would copy the other thread's locks: one process does everything."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forked.can_fork()
        assert {pid for _, pid in forked.share_items(60, _slow)} == {os.getpid()}
    finally:
        stop.set()
        other.join()


# -- the compact status document ----------------------------------------------------------


def _mixed(root: Path) -> Path:
    """The example pipelines, plus a stage that cannot be read, a broken declaration and a
    remote base the native reader cannot follow."""
    example_repo(root)
    simple_pipeline(root, "demo", {"dev": (0, "1.1.0"), "qa": (1, "1.0.5"), "prod": (2, "1.0")})
    remote = "https://github.com/acme/cfg//base?ref=v1"
    write(
        root,
        {
            "demo/qa/kustomization.yaml": kustomization("deployment.yaml", "missing.yaml"),
            "demo/dev/kustomization.yaml": kustomization("deployment.yaml", remote),
            "clusters/odd/sync.yaml": flux_sync("x-odd", "./pipelines/web/dev", "x", "one"),
        },
    )
    return root


def _expected(root: Path, chosen: tuple[str, ...] = ()) -> tuple[str, list[str], bool]:
    read = status(root, chosen)
    return to_json(status_dict(read), indent=None), problem_lines(read), read.ok


def _joined(root: Path, chosen: tuple[str, ...] = ()) -> tuple[str, list[str], bool]:
    found = status_json(root, chosen)
    return found.document.decode("ascii"), problem_lines(found.problems), found.problems.ok


@pytest.mark.usefixtures("fork")
@pytest.mark.parametrize("chosen", [(), ("demo",), ("web", "demo"), ("x", "demo", "x")], ids=str)
def test_the_joined_document_is_the_serializers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chosen: tuple[str, ...]
) -> None:
    """Joined from the parts both processes made: byte for byte the serializer's document
    of the same status, with the same problem lines (problems, a broken pipeline, notes of
    what the reader cannot follow; subsets in the order given)."""
    root = _mixed(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no kustomize: the remote base is a note
    expected = _expected(root, chosen)
    assert '"unsupported": ["demo/dev' in expected[0] or "demo" not in (chosen or ("demo",))
    assert not expected[2]
    assert _joined(root, chosen) == expected


@pytest.mark.usefixtures("fork")
def test_the_joined_document_of_rendered_stages(kubectl: str, tmp_path: Path) -> None:
    """Stages kustomize rendered (``--render``, and a remote base) join the same way."""
    root = _mixed(tmp_path)
    opened = GitOpsRepo.open(root)
    for render in (False, True):
        read = opened.status(render=render)
        found = opened.status_json(render=render)
        assert found.document.decode() == to_json(status_dict(read), indent=None)
        assert problem_lines(found.problems) == problem_lines(read)


@pytest.mark.usefixtures("fork")
def test_a_failed_child_prints_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``status -o json --no-cache`` prints the same bytes, problem lines and exit code when
    the child that shares the reading fails at once."""
    root = _mixed(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    args = ["status", "--repo", str(root), "-o", "json", "--no-cache"]
    runner = CliRunner()
    shared = runner.invoke(app, args)

    def broken() -> None:
        raise RuntimeError("the child cannot start")

    monkeypatch.setattr(children, "die_with_parent", broken)
    alone = runner.invoke(app, args)
    assert shared.exit_code == alone.exit_code == 1
    assert (shared.stdout, shared.stderr) == (alone.stdout, alone.stderr)
    assert shared.stdout == _expected(root)[0]
    assert _no_children_left()


def test_a_clean_cold_json_run_imports_no_rich(tmp_path: Path) -> None:
    """Without a problem to print, the cold ``status -o json`` imports no Rich (the tables'
    module): its import is a serial part of every cold run."""
    root = example_repo(tmp_path / "repo")
    code = (
        "import contextlib, io, sys\n"
        "from cli.main import pipelines_main\n"
        f"sys.argv = ['pipelines', 'status', '--repo', {str(root)!r}, '-o', 'json', '--no-cache']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    pipelines_main()\n"
        "assert out.getvalue().startswith('{\"pipelines\": [')\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout == "[]\n"


def test_joining_no_pipeline_and_a_pipeline_without_stages() -> None:
    """The edges of the join: no pipeline at all, a pipeline without a stage."""
    from promoter.model import Pipeline, PipelineStatus, RepoStatus
    from promoter.serialize import join_status_json, pipeline_json_ends

    assert join_status_json([]).decode() == to_json(status_dict(RepoStatus(())), indent=None)
    empty = Pipeline("empty", (), "promoter.yaml")
    head, tail = pipeline_json_ends(empty)
    expected = to_json(status_dict(RepoStatus((PipelineStatus(empty, ()),) * 2)), indent=None)
    assert join_status_json([(head, [], tail)] * 2).decode() == expected


# -- discovery shared with the child --------------------------------------------------------


@pytest.fixture
def split(fork: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery shares the YAML files with a child whatever their number, one a turn."""
    monkeypatch.setattr(discovery, "_SPLIT_MIN", 1)
    monkeypatch.setattr(discovery, "_CHUNK", 1)


@pytest.mark.usefixtures("split")
def test_a_shared_discovery_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovered with a child reading half of the files: the same pipelines, Flux specs,
    document and problem lines, whether the child works or fails at once."""
    root = _mixed(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    alone = discovery.discover(root)
    assert paired(lambda pair: discovery.discover(root, pair=pair)) == alone
    expected = _expected(root)
    assert _joined(root) == expected
    monkeypatch.setattr(children, "die_with_parent", _broken)
    assert paired(lambda pair: discovery.discover(root, pair=pair)) == alone
    assert _joined(root) == expected
    assert _no_children_left()


def _broken() -> None:
    raise RuntimeError("the child cannot start")


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("where", ["aaa", "zzz"], ids=["parent-half", "child-half"])
def test_a_file_that_cannot_be_read_is_the_same_error(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A YAML file that cannot be read (too large) fails the shared discovery as it fails
    alone, in whichever half it is; no child is left behind."""
    root = _mixed(tmp_path)
    monkeypatch.setenv("PROMOTER_MAX_FILE_BYTES", "100000")
    write(root, {f"{where}/large.yaml": "# " + "x" * 200_000 + "\n"})
    with pytest.raises(PromoterError) as alone:
        discovery.discover(root)
    with pytest.raises(PromoterError) as shared:
        status_json(root)
    assert str(shared.value) == str(alone.value)
    assert _no_children_left()


@pytest.mark.usefixtures("split")
def test_an_unknown_pipeline_ends_the_child(tmp_path: Path) -> None:
    """An error after the shared discovery (an unknown pipeline) ends the child as well."""
    root = _mixed(tmp_path)
    with pytest.raises(PromoterError, match="nope"):
        status_json(root, ("nope",))
    assert _no_children_left()
