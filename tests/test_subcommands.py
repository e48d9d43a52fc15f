"""``pipelines``'s commands are built when first used (``cli.subcommands``, issue 15)."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import subprocess
import sys
import textwrap

import pytest
import typer

from cli.main import COMMANDS, SUMMARIES, app


def test_a_command_builds_and_imports_only_itself() -> None:
    """``pipelines status --help`` imports no other command's module and builds one
    command; the group still lists every command, in order."""
    code = """
        import contextlib, io, json, sys
        import typer
        from cli.main import app, pipelines_main
        sys.argv = ["pipelines", "status", "--help"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            pipelines_main()
        group = typer.main.get_command(app)
        print(json.dumps({
            "modules": sorted(m for m in sys.modules if m.startswith("cli.")),
            "listed": group.list_commands(None),
            "built": [c.name for c in group.commands.built()],
        }))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    commands = {f"cli.{target.split(':')[0].split('.')[1]}" for target in COMMANDS.values()}
    assert sorted(commands & set(found["modules"])) == ["cli.status"]
    assert (found["listed"], found["built"]) == (list(COMMANDS), [])


def test_every_command_is_built_as_typer_registers_it() -> None:
    """Each lazily built command has its function's name, docstring and options."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, target in COMMANDS.items():
        module, function = target.split(":")
        callback = getattr(__import__(module, fromlist=[function]), function)
        command = group.commands[name]
        assert (command.name, command.help) == (name, inspect.getdoc(callback))
        assert command.callback is not None
        assert SUMMARIES[name] == command.help


def group_help(group: typer.core.TyperGroup) -> str:
    """``pipelines --help`` as ``group`` prints it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        group.main(["--help"], prog_name="pipelines")
    return out.getvalue()


@pytest.mark.parametrize("columns", ["60", "100", "200"])
def test_the_group_help_lists_the_same_with_or_without_built_commands(
    columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pipelines --help`` lists each command from ``SUMMARIES`` exactly as it lists the
    built command, and builds none to do so."""
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("NO_COLOR", "1")
    fresh = typer.main.get_command(app)
    assert isinstance(fresh, typer.core.TyperGroup)
    listed = group_help(fresh)
    assert fresh.commands.built() == []
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name in COMMANDS:
        assert group.commands[name].name == name  # built
    assert listed == group_help(group)
    assert "status" in listed
