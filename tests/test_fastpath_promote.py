"""The ``promote`` script's fast path (``cli.fastpath.promoted``, issue 15): a simple dry run
or working-tree write runs without importing Typer, with the same stdout, stderr, exit code
and files as the Typer CLI; every other command line is the Typer CLI's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from cli.change import ChangeOutput, GitFlags
from cli.fastpath import PromoteCommand, promote_command
from tests.builders.repos import example_repo, git_init

SCRIPT = """
import atexit, json, os, sys
sys.argv[0] = "promote"
def record():
    with open(os.environ["FASTPATH_RECORD"], "w") as out:
        json.dump({"typer": "typer" in sys.modules}, out)
atexit.register(record)
"""
"""Run in each subprocess before the entry point: records whether Typer was imported."""

FAST = "from cli.main import promote_script; promote_script()"
"""The installed ``promote`` script: the fast path, then the Typer CLI."""
TYPER = "from cli.errors import run; from cli.main import promote_app; run(promote_app, leave=True)"
"""The ``promote`` script as it was before the fast path: always the Typer CLI."""

PLAIN = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "PROMOTER_DEBUG")


class Run(NamedTuple):
    """What one run of the script gave, and the repository's files after it."""

    code: int
    stdout: bytes
    stderr: bytes
    typer: bool
    files: dict[str, bytes]


def promote(entry: str, args: list[str], root: Path, record: Path) -> Run:
    """Run ``promote ARGS`` through ``entry`` in a subprocess (in ``root``), stdout and
    stderr piped; the files of ``root`` afterwards."""
    environ = {k: v for k, v in os.environ.items() if k not in PLAIN}
    environ["FASTPATH_RECORD"] = str(record)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT + entry, *args],
        capture_output=True,
        cwd=root,
        env=environ,
        check=False,
    )
    seen = json.loads(record.read_text())
    return Run(done.returncode, done.stdout, done.stderr, seen["typer"], snapshot(root))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


@pytest.fixture
def repo(temp: Path, tmp_path: Path) -> Path:
    """A git copy of the example repository."""
    return git_init(example_repo(tmp_path / "repo"))


def both(args: list[str], root: Path, tmp_path: Path) -> tuple[Run, Run]:
    """``args`` run by the Typer CLI, then (files put back) by the installed script."""
    before = snapshot(root)
    typer_run = promote(TYPER, args, root, tmp_path / "typer.json")
    for rel, data in before.items():
        (root / rel).write_bytes(data)
    fast_run = promote(FAST, args, root, tmp_path / "fast.json")
    return typer_run, fast_run


TAKEN = [
    ["nginx", "staging", "prod", "-p", "web", "--dry-run"],
    ["shop", "staging", "prod", "--pipeline=web", "--dry-run", "-o", "json"],
    ["--dry-run", "nginx,shop", "staging", "prod", "--pipeline", "web", "--no-changelog"],
    ["nginx", "staging", "prod", "-p", "web", "--write", "--repo", "{repo}"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--output=text", "--skip-stages"],
    ["podinfo", "prod", "staging", "-p", "platform", "--dry-run", "--allow-downgrade"],
    # Errors of the promotion itself: the command's own line and exit code.
    ["podinfo", "prod", "staging", "-p", "platform", "--dry-run"],
    ["nosuch", "staging", "prod", "-p", "web", "--dry-run"],
    ["nginx", "staging", "prod", "--dry-run"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--repo", "{repo}/missing"],
]
"""Simple command lines: run without Typer (in the repository)."""

FALLEN_BACK = [
    ["nginx", "staging", "prod", "-p", "web"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--write"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--dry-run"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "-ojson"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "-o", "yaml"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--pin-digest"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--wait"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run", "--", "x"],
    ["nginx", "staging", "prod", "-p", "web", "--dry-run=1"],
    ["nginx", "staging", "-p", "web", "--dry-run"],
    ["--all", "staging", "prod", "-p", "web", "--dry-run"],
    [",", "staging", "prod", "-p", "web", "--dry-run"],
    ["nginx", "staging", "prod", "-p", "--dry-run"],
    ["nginx", "staging", "prod", "--pipe", "web", "--dry-run"],
    ["--help"],
    [],
]
"""Near misses: the Typer CLI runs (in the repository)."""


@pytest.mark.parametrize(
    ("args", "fast"),
    [(a, True) for a in TAKEN] + [(a, False) for a in FALLEN_BACK],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_the_same_as_the_typer_cli(
    repo: Path, tmp_path: Path, kubectl: str, args: list[str], fast: bool
) -> None:
    """Same stdout, stderr, exit code and files; Typer imported only when not taken."""
    argv = [a.replace("{repo}", str(repo)) for a in args]
    typer_run, fast_run = both(argv, repo, tmp_path)
    assert typer_run.typer
    assert fast_run.typer is not fast, fast_run
    assert fast_run.stdout == typer_run.stdout
    assert fast_run.stderr == typer_run.stderr
    assert fast_run.code == typer_run.code
    assert fast_run.files == typer_run.files


def test_a_dry_run_changes_nothing_and_a_write_edits_the_stage(
    repo: Path, tmp_path: Path, kubectl: str
) -> None:
    """The taken command lines do what they say: the dry run prints the diff and leaves
    the files; the write edits prod's patch."""
    before = snapshot(repo)
    dry = promote(
        FAST, ["nginx", "staging", "prod", "-p", "web", "--dry-run"], repo, tmp_path / "a"
    )
    assert dry.code == 0 and not dry.typer
    assert b"dry run: nothing was written" in dry.stdout and dry.files == before
    wrote = promote(
        FAST, ["nginx", "staging", "prod", "-p", "web", "--write"], repo, tmp_path / "b"
    )
    assert wrote.code == 0 and not wrote.typer
    changed = [rel for rel, data in wrote.files.items() if before.get(rel) != data]
    assert changed and all(rel.startswith("pipelines/web/prod/") for rel in changed)


def test_command_lines_read_as_typer_reads_them() -> None:
    """What a taken command line gives the command."""
    assert promote_command(
        ["a, b", "dev", "prod", "--repo=/x", "-o", "json", "--dry-run", "-p", "web"]
    ) == PromoteCommand(
        ("a", "b"),
        "dev",
        "prod",
        "web",
        Path("/x"),
        False,
        False,
        GitFlags(dry_run=True, output=ChangeOutput.json),
    )
    taken = promote_command(["a", "dev", "prod", "--write", "--no-changelog", "--skip-stages"])
    assert taken is not None
    assert taken.flags == GitFlags(write=True, no_changelog=True) and taken.skip_stages
    assert promote_command(["a", "dev", "prod", "--dry-run", "--title", "x"]) is None
