"""Outside a git work tree and without ``--repo`` every command says so in one line and
exits 1, reading nothing of the current directory (issue 10 §7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders.plans import example_copy

PLAIN_ENV: dict[str, str | None] = {"COLUMNS": None, "NO_COLOR": None, "PROMOTER_DEBUG": None}
MESSAGE = "error: not inside a git repository; pass --repo PATH\n"

COMMANDS = [
    ("status",),
    ("status", "-o", "json"),
    ("check",),
    ("history",),
    ("diff", "dev", "staging"),
    ("promote", "nginx", "dev", "staging"),
    ("promote", "nginx", "dev", "staging", "--dry-run"),
    ("rollback", "nginx", "staging", "--previous"),
    ("report", "-o", "json"),
    ("wait", "staging"),
]


@pytest.fixture
def plain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory: a GitOps layout that is no git work tree (git may not look
    above ``tmp_path``)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = example_copy(tmp_path / "plain")
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_each_command_asks_for_repo(plain_dir: Path, args: tuple[str, ...]) -> None:
    """Run outside a git work tree without --repo: one line, exit 1, nothing on stdout."""
    result = CliRunner().invoke(app, list(args), env=PLAIN_ENV)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", MESSAGE)


def test_nothing_of_the_directory_is_read(plain_dir: Path) -> None:
    """A broken file in the current directory changes nothing: it is never scanned."""
    (plain_dir / "broken.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check"], env=PLAIN_ENV)
    assert (result.exit_code, result.stderr) == (1, MESSAGE)


def test_repo_option_still_reads_a_plain_directory(plain_dir: Path) -> None:
    """With --repo, a directory outside git is read as before."""
    result = CliRunner().invoke(app, ["status", "--repo", str(plain_dir), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"web"' in result.stdout
