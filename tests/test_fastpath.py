"""The console script's fast path (``cli.fastpath``, issue 15): a warm ``status -o json`` is
answered without importing Typer, byte for byte as the Typer CLI answers it, and every
other command line falls back to the Typer CLI with the same output and exit code."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from cli.errors import EXIT_BUG
from cli.fastpath import StatusCommand, answered, history_query, status_command
from cli.historyquery import HistoryQuery
from tests.builders.history import Story, shared_story
from tests.builders.repos import example_repo, flux_sync, git_init, write
from tests.test_statuscache import age, cold_compact

SCRIPT = """
import atexit, json, os, sys
sys.argv[0] = "pipelines"
asked = []
def record():
    with open(os.environ["FASTPATH_RECORD"], "w") as out:
        json.dump({"typer": "typer" in sys.modules, "asked": len(asked)}, out)
atexit.register(record)
from promoter import statuscache
cached_json = statuscache.cached_json
def counted(*args, **kwargs):
    asked.append(args)
    return cached_json(*args, **kwargs)
statuscache.cached_json = counted
"""
"""Run in each subprocess before the entry point: records whether Typer was imported and how
often the cache was asked to answer alone (``cached_json``)."""

FAST = "from cli.main import pipelines_script; pipelines_script()"
"""The installed ``pipelines`` script: the fast path, then the Typer CLI."""
TYPER = "from cli.errors import run; from cli.pipelines import app; run(app, leave=True)"
"""The ``pipelines`` script as it was before the fast path: always the Typer CLI."""

PLAIN = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "PROMOTER_DEBUG", "PROMOTER_KUSTOMIZE")


class Run(NamedTuple):
    """What one run of the script gave."""

    code: int
    stdout: bytes
    stderr: bytes
    typer: bool
    asked: int


def pipelines(
    entry: str, args: list[str], cwd: Path, record: Path, env: dict[str, str] | None = None
) -> Run:
    """Run ``pipelines ARGS`` through ``entry`` in a subprocess, stdout and stderr piped."""
    environ = {k: v for k, v in os.environ.items() if k not in PLAIN}
    environ.update({"FASTPATH_RECORD": str(record), **(env or {})})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT + entry, *args],
        capture_output=True,
        cwd=cwd,
        env=environ,
        check=False,
    )
    seen = json.loads(record.read_text())
    return Run(done.returncode, done.stdout, done.stderr, seen["typer"], seen["asked"])


@pytest.fixture
def repo(temp: Path, tmp_path: Path) -> Path:
    """A git copy of the example repository, aged, its status cache warm."""
    root = git_init(example_repo(tmp_path / "repo"))
    age(root)
    warm = pipelines(TYPER, ["status", "-o", "json", "--repo", str(root)], root, tmp_path / "r")
    assert warm.code == 0
    return root


def both(
    args: list[str], cwd: Path, tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[Run, Run]:
    """``args`` run by the Typer CLI, then by the installed script."""
    typer_run = pipelines(TYPER, args, cwd, tmp_path / "typer.json", env)
    fast_run = pipelines(FAST, args, cwd, tmp_path / "fast.json", env)
    return typer_run, fast_run


ANSWERED = [
    ["status", "-o", "json", "--repo", "{repo}"],
    ["status", "--output", "json", "--repo={repo}"],
    ["status", "--repo", "{repo}", "--output=json"],
    ["status", "web", "-o", "json", "--repo", "{repo}", "platform"],
    ["status", "--repo", "{repo}", "-o", "json", "platform", "web", "platform"],
    ["status", "-o", "json"],
    ["status", "-o", "json", "--repo", "{repo}", "--no-cache"],
    ["status", "--no-cache", "web", "-o", "json", "--repo", "{repo}"],
    # Errors of the command itself: its own line and exit code.
    ["status", "-o", "json", "--repo", "{repo}", "nope"],
    ["status", "-o", "json", "--repo", "{repo}", "web", "nope"],
    ["status", "-o", "json", "--repo", "{repo}/missing"],
]
"""Simple command lines: answered by the fast path (run in the repository)."""

FALLEN_BACK = [
    ["status", "-ojson", "--repo", "{repo}"],
    ["status", "-o=json", "--repo", "{repo}"],
    ["status", "-o", "JSON", "--repo", "{repo}"],
    ["status", "-o", "json", "-o", "json", "--repo", "{repo}"],
    ["status", "-o", "json", "--repo", "{repo}", "--repo", "{repo}"],
    ["status", "-o", "yaml", "--repo", "{repo}"],
    ["status", "-o", "tree", "--repo", "{repo}"],
    ["status", "--repo", "{repo}"],
    ["status", "-o", "json", "--repo", "{repo}", "--no-cache", "--no-cache"],
    ["status", "-o", "json", "--repo", "{repo}", "--no-cache=1"],
    ["status", "-o", "json", "--repo", "{repo}", "--", "web"],
    ["status", "-o", "json", "--rep", "{repo}"],
    ["status", "-o", "json", "--repo", "{repo}", "--bogus"],
    ["status", "-o", "json", "--repo", "{repo}", "--context", "x"],
    ["status", "-o", "json", "--repo"],
    ["status", "--repo", "-o", "json"],
    ["status", "-o", "json", "--repo="],
    ["status", "-o", "json", "--repo", "{repo}", "-"],
    ["status", "-o", "json", "-h"],
    ["status", "--help"],
    ["status"],
    ["-o", "json", "status"],
    ["--version"],
    [],
]
"""Near misses and errors: the Typer CLI answers (run in the repository)."""


@pytest.mark.parametrize(
    ("args", "fast"),
    [(a, True) for a in ANSWERED] + [(a, False) for a in FALLEN_BACK],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_the_script_answers_as_the_typer_cli(
    repo: Path, tmp_path: Path, args: list[str], fast: bool
) -> None:
    """Stdout, stderr and exit code are the Typer CLI's, byte for byte; Typer is imported
    exactly when the command line is not a simple warm ``status -o json``."""
    argv = [a.replace("{repo}", str(repo)) for a in args]
    typer_run, fast_run = both(argv, repo, tmp_path)
    assert typer_run[:3] == fast_run[:3]
    assert (typer_run.typer, fast_run.typer) == (True, not fast)


def test_a_simple_command_line_in_a_subdirectory_is_answered(repo: Path, tmp_path: Path) -> None:
    """Without ``--repo``, the repository is the git top-level of the current directory,
    as the Typer CLI finds it."""
    typer_run, fast_run = both(["status", "-o", "json"], repo / "pipelines" / "web", tmp_path)
    expected = (0, cold_compact(repo).encode(), b"", False)
    assert expected == (*fast_run[:3], fast_run.typer)
    assert typer_run[:3] == fast_run[:3]


def test_the_answer_is_the_example_repositorys_status(repo: Path, tmp_path: Path) -> None:
    """The fast path prints the example repository's status exactly as read without the
    cache, chosen pipelines in the order given."""
    for chosen in ((), ("platform", "web"), ("web",)):
        args = ["status", "-o", "json", "--repo", str(repo), *chosen]
        run = pipelines(FAST, args, repo, tmp_path / "fast.json")
        expected = (0, cold_compact(repo, chosen).encode(), b"", False)
        assert expected == (*run[:3], run.typer)


def test_outside_a_git_repository_the_command_says_so(repo: Path, tmp_path: Path) -> None:
    """Outside a git work tree without ``--repo``: the command's one line and exit 1."""
    outside = tmp_path / "outside"
    outside.mkdir()
    typer_run, fast_run = both(["status", "-o", "json"], outside, tmp_path)
    expected = (1, b"", b"error: not inside a git repository; pass --repo PATH\n", False)
    assert expected == (*fast_run[:3], fast_run.typer)
    assert typer_run[:3] == fast_run[:3]


def test_a_repository_with_problems_is_answered_as_the_command_does(
    repo: Path, tmp_path: Path
) -> None:
    """A repository with a problem (a broken declaration): the cache cannot answer alone,
    and the status command's own JSON path gives the JSON, a line per problem, exit 1; the
    cache is asked to answer alone once."""
    write(repo, {"clusters/odd/sync.yaml": flux_sync("x-odd", "./pipelines/web/dev", "x", "one")})
    age(repo)
    args = ["status", "-o", "json", "--repo", str(repo)]
    first = pipelines(TYPER, args, repo, tmp_path / "first.json")  # the cache is as full as can be
    typer_run, fast_run = both(args, repo, tmp_path)
    assert first[:3] == typer_run[:3] == fast_run[:3]
    assert (fast_run.code, fast_run.typer, fast_run.asked) == (1, False, 1)
    assert fast_run.stderr.startswith(b"error: ")


def test_a_changed_repository_asks_the_cache_once(repo: Path, tmp_path: Path) -> None:
    """After a change, the cache cannot answer alone (asked once); the changed stage is
    read again and the output is what a cold run prints, without Typer."""
    patch = repo / "pipelines/web/dev/nginx-tag.yaml"
    patch.write_text(patch.read_text().replace("nginx:1.23.1", "nginx:1.23.9"))
    age(repo)
    args = ["status", "-o", "json", "--repo", str(repo)]
    fast_run = pipelines(FAST, args, repo, tmp_path / "fast.json")
    expected = (0, cold_compact(repo).encode(), b"", False, 1)
    assert expected == fast_run
    assert (pipelines(FAST, args, repo, tmp_path / "again.json").typer) is False


def test_completion_requests_fall_back(repo: Path, tmp_path: Path) -> None:
    """While a shell asks for completions, the Typer CLI answers them."""
    env = {"_PIPELINES_COMPLETE": "bash_complete", "COMP_WORDS": "pipelines st", "COMP_CWORD": "1"}
    args = ["status", "-o", "json", "--repo", str(repo)]
    typer_run, fast_run = both(args, repo, tmp_path, env)
    assert typer_run[:3] == fast_run[:3]
    assert (fast_run.typer, fast_run.asked) == (True, 0)


def test_a_closed_pipe_ends_as_with_the_typer_cli(repo: Path, tmp_path: Path) -> None:
    """A reader that went away before the output: exit 1, nothing on stderr, either way."""
    args = ["status", "-o", "json", "--repo", str(repo)]
    found = []
    for entry in (TYPER, FAST):
        record = tmp_path / "record.json"
        environ = {k: v for k, v in os.environ.items() if k not in PLAIN}
        environ["FASTPATH_RECORD"] = str(record)
        with subprocess.Popen(
            [sys.executable, "-c", SCRIPT + entry, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=repo,
            env=environ,
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            stderr = proc.stderr.read()
            found.append((proc.wait(), stderr, json.loads(record.read_text())["typer"]))
    expected = [(1, b"", True), (1, b"", False)]
    assert expected == found


# -- history -o json ---------------------------------------------------------------------------


@pytest.fixture
def story(temp: Path, tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The session's history story (read only)."""
    return shared_story(tmp_path_factory)


HISTORY_RUN = [
    ["history", "-o", "json", "--repo", "{repo}"],
    ["history", "nginx", "--output=json", "--repo={repo}", "-p", "web", "-s", "prod", "-n", "1"],
    ["history", "--since", "2026-11-05", "--max-count", "3", "--output", "json"],
    ["history", "-o", "json", "--declaration", "as-of-commit", "--pipeline=web"],
    ["history", "-o", "json", "--since", "yesterday"],
    ["history", "nope", "-o", "json"],
    ["history", "-o", "json", "-p", "nope"],
    ["history", "-o", "json", "--repo", "{repo}/pipelines"],
    ["history", "-o", "json", "--repo", "{repo}/missing"],
]
"""Simple command lines: run without Typer, errors included (run in the clone)."""

HISTORY_FALLEN_BACK = [
    ["history", "-o", "json", "-n", "0"],
    ["history", "-o", "json", "-n", "01"],
    ["history", "-o", "json", "-n", "1_0"],
    ["history", "-o", "json", "-n=1"],
    ["history", "-o", "json", "--max-count", "x"],
    ["history", "nginx", "podinfo", "-o", "json"],
    ["history", "-o", "json", "--declaration", "bogus"],
    ["history", "-o", "json", "-p", "web", "-p", "web"],
    ["history", "-o", "json", "--since", "-1"],
    ["history", "-o", "wide"],
    ["history", "--repo", "{repo}"],
    ["history", "-o", "json", "--", "nginx"],
    ["history", "-o", "json", "-h"],
]
"""Near misses: the Typer CLI answers (run in the clone)."""


@pytest.mark.parametrize(
    ("args", "fast"),
    [(a, True) for a in HISTORY_RUN] + [(a, False) for a in HISTORY_FALLEN_BACK],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_history_answers_as_the_typer_cli(
    story: Story, tmp_path: Path, args: list[str], fast: bool
) -> None:
    """``history``: stdout, stderr and exit code are the Typer CLI's, byte for byte; Typer is
    imported exactly when the command line is not a simple ``history -o json``."""
    work = story.ops.work
    argv = [a.replace("{repo}", str(work)) for a in args]
    typer_run, fast_run = both(argv, work, tmp_path)
    assert typer_run[:3] == fast_run[:3]
    assert (typer_run.typer, fast_run.typer) == (True, not fast)


def test_history_outside_git_says_so_without_typer(story: Story, tmp_path: Path) -> None:
    """Outside a git work tree, the fast path prints the ``history`` command's one line."""
    outside = tmp_path / "outside"
    outside.mkdir()
    typer_run, fast_run = both(["history", "-o", "json"], outside, tmp_path)
    expected = (1, b"", b"error: not inside a git repository; pass --repo PATH\n", False)
    assert expected == (*fast_run[:3], fast_run.typer)
    assert typer_run[:3] == fast_run[:3]


def test_history_json_is_the_story(story: Story, tmp_path: Path) -> None:
    """The fast path prints every entry of the story (one compact line), exit 0."""
    run = pipelines(FAST, ["history", "-o", "json"], story.ops.work, tmp_path / "fast.json")
    entries = json.loads(run.stdout)["entries"]
    expected = (0, b"", False, True, 1)
    assert expected == (run.code, run.stderr, run.typer, len(entries) > 10, run.stdout.count(b"\n"))


# -- the command lines taken, in process ------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status", "-o", "json"], StatusCommand(None, ())),
        (["status", "--output=json", "--repo=r", "a"], StatusCommand(Path("r"), ("a",))),
        (
            ["status", "b", "--output", "json", "a", "--repo", "r"],
            StatusCommand(Path("r"), ("b", "a")),
        ),
        (
            ["status", "-o", "json", "--repo", "json", "json"],
            StatusCommand(Path("json"), ("json",)),
        ),
        (["status", "-o", "json", "--repo", "-r"], None),
        (["status", "-o", "json", "--repo=-r"], None),
        (["status", "-o", "json", "--repo="], None),
        (["status", "-o", "json", "--repo"], None),
        (["status", "-o"], None),
        (["status", "-o", "json", "-o", "json"], None),
        (["status", "-o", "json", "--output=json"], None),
        (["status", "-ojson"], None),
        (["status", "-o=json"], None),
        (["status", "--output", "Json"], None),
        (["status", "--out", "json"], None),
        (["status", "-o", "json", "--"], None),
        (["status", "-o", "json", "-"], None),
        (["status", "-o", "json", ""], None),
        (["status", "-o", "json", "--no-cache"], StatusCommand(None, (), no_cache=True)),
        (["status", "-o", "json", "--no-cache", "--no-cache"], None),
        (["status", "-o", "json", "--render"], None),
        (["status", "-o", "json", "-h"], None),
        (["status"], None),
        (["Status", "-o", "json"], None),
        (["history", "-o", "json"], None),
        ([], None),
    ],
)
def test_status_command(argv: list[str], expected: StatusCommand | None) -> None:
    """Only ``status`` with ``-o json``, at most one ``--repo``, ``--no-cache`` and PIPELINE
    names is taken; each option once, no value or name starting with ``-``, nothing else."""
    assert expected == status_command(argv)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["history", "-o", "json"], HistoryQuery()),
        (
            ["history", "--since=2026-11-01", "app", "-o", "json", "-n", "12", "-p", "p"],
            HistoryQuery(app="app", pipeline="p", since="2026-11-01", max_count=12),
        ),
        (
            ["history", "--output=json", "--stage=s", "-s", "s"],
            None,
        ),
        (
            ["history", "-o", "json", "--declaration=as-of-commit", "--repo", "r", "--stage=s"],
            HistoryQuery(stage="s", repo=Path("r"), declaration="as-of-commit"),
        ),
        (["history", "-o", "json", "-n", "0"], None),
        (["history", "-o", "json", "-n", "007"], None),
        (["history", "-o", "json", "-n", "+7"], None),
        (["history", "-o", "json", "-n", "\u0667"], None),
        (["history", "-o", "json", "-n", "1" * 19], None),
        (["history", "-o", "json", "-n=7"], None),
        (["history", "-o", "json", "-p=web"], None),
        (["history", "-o", "json", "--declaration", "Current"], None),
        (["history", "a", "b", "-o", "json"], None),
        (["history", "", "-o", "json"], None),
        (["history", "-o", "json", "--since", "-1"], None),
        (["history", "-o", "table"], None),
        (["history"], None),
        (["status", "-o", "json"], None),
    ],
)
def test_history_query(argv: list[str], expected: HistoryQuery | None) -> None:
    """Only ``history -o json`` with at most one APP and its options, each once with a plain
    value (``--max-count`` a plain positive number), is taken."""
    assert expected == history_query(argv)


TAKEN_STATUS = [
    ["status", "-o", "json"],
    ["status", "b", "--output", "json", "a", "--repo", "a//b/", "b", " "],
    ["status", "--repo=~/r=s", "--output=json", "\udcff", "é"],
]
TAKEN_HISTORY = [
    ["history", "-o", "json"],
    ["history", "-n", "30", "Deployment/nginx", "--output=json", "--since", "2026-11-01T12:00Z"],
    ["history", "-s", "prod", "--declaration=as-of-commit", "-o", "json", "--repo", "./r/."],
    ["history", "--stage=a", "--pipeline=b", "--max-count=999999999999999999", "-o", "json"],
]


@pytest.mark.parametrize("argv", TAKEN_STATUS)
def test_a_taken_status_command_line_means_what_typer_reads(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository and pipelines of a taken ``status`` command line are those the Typer
    command asks the cache for."""
    from typer.testing import CliRunner

    from cli.main import app

    asked: list[tuple[Path, tuple[str, ...]]] = []

    def cached(root: Path, pipelines: Any) -> bytes:
        asked.append((root, tuple(pipelines)))
        return b"{}"

    monkeypatch.setattr("cli.statusjson.repo_root", lambda repo: repo)
    monkeypatch.setattr("promoter.statuscache.cached_json", cached)
    result = CliRunner().invoke(app, argv)
    taken = status_command(argv)
    assert taken is not None and result.exit_code == 0
    assert [(taken.repo, taken.pipelines)] == asked


@pytest.mark.parametrize("argv", TAKEN_HISTORY)
def test_a_taken_history_command_line_means_what_typer_reads(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query of a taken ``history`` command line is the one the Typer command runs."""
    from typer.testing import CliRunner

    from cli import historyquery
    from cli.main import app

    asked: list[HistoryQuery] = []

    def history(query: HistoryQuery) -> historyquery.Answer:
        asked.append(query)
        return historyquery.Answer((), None)

    monkeypatch.setattr(historyquery, "history", history)
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0
    assert [history_query(argv)] == asked


def test_a_completion_request_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Click's completion variable set (whatever the program's name): not taken."""
    monkeypatch.setenv("_PROMOTER_COMPLETE", "zsh_complete")
    assert status_command(["status", "-o", "json"]) is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_is_left_to_the_typer_cli(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With stdout a terminal (indented JSON), nothing is printed and the cache not asked."""
    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    asked: list[Any] = []
    monkeypatch.setattr("promoter.statuscache.cached_json", lambda *a: asked.append(a))
    assert (answered(["status", "-o", "json", "--repo", str(repo)]), out.getvalue(), asked) == (
        False,
        "",
        [],
    )


def test_an_error_asking_the_cache_is_the_commands(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error while asking the cache: the one line and exit code ``handled`` gives it, as
    in the Typer command (which asks inside the same ``handled``); nothing on stdout."""

    def broken(*args: object) -> bytes:
        raise PermissionError("cache unreadable")

    monkeypatch.setattr("promoter.statuscache.cached_json", broken)
    with pytest.raises(SystemExit) as ended:
        answered(["status", "-o", "json", "--repo", str(repo)])
    out, err = capsys.readouterr()
    assert (ended.value.code, out) == (EXIT_BUG, "")
    assert err.startswith("error: unexpected PermissionError: cache unreadable")


def test_a_miss_reads_as_the_command_does(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that cannot answer alone: the command's JSON path reads what changed
    (``cache``); with ``--no-cache`` the cache is not asked and every stage is read."""
    asked: list[object] = []
    printed: list[tuple[object, ...]] = []

    def miss(*args: object) -> None:
        asked.append(args)

    def print_json(repo: Path | None, pipelines: Any, *, render: bool, cache: bool) -> bool:
        printed.append((repo, tuple(pipelines), render, cache))
        return False

    monkeypatch.setattr("promoter.statuscache.cached_json", miss)
    monkeypatch.setattr("cli.statusjson.print_json", print_json)
    assert answered(["status", "-o", "json", "--repo", str(repo), "web"]) is True
    assert answered(["status", "-o", "json", "--no-cache", "--repo", str(repo)]) is True
    assert len(asked) == 1
    assert printed == [(repo, ("web",), False, True), (repo, (), False, False)]
