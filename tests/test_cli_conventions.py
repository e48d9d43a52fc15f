"""The conventions every command shares (issue 14 §3): ``--version`` and shell completion on
both entry points, usage errors as one ``error:`` line and a usage hint (exit 2), help
without ``<bool>``-style type labels, ``-o`` everywhere, one JSON style."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner, Result

from cli.main import app, promote_app

pytestmark = pytest.mark.usefixtures("temp")

PLAIN_ENV: dict[str, str | None] = {"COLUMNS": "200", "NO_COLOR": None, "PROMOTER_DEBUG": None}
VERSION = version("kustomize-promoter")
COMMANDS = ("status", "promote", "check", "diff", "history", "rollback", "wait", "report")


def invoke(target: typer.Typer, *args: str) -> Result:
    """Run ``target`` with ``args`` through Typer's runner (stdout and stderr apart)."""
    return CliRunner().invoke(target, list(args), env=PLAIN_ENV)


def script(name: str) -> Path:
    """The installed console script ``name`` next to this Python."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.skip(f"the {name} console script is not installed next to this Python")
    return path


# -- --version and completion ----------------------------------------------------------------


@pytest.mark.parametrize(("target", "name"), [(app, "pipelines"), (promote_app, "promote")])
def test_version_on_both_entry_points(target: typer.Typer, name: str) -> None:
    """``pipelines --version`` and ``promote --version`` print the name and version, exit 0."""
    result = invoke(target, "--version")
    expected = (0, f"{name} {VERSION}\n", "")
    assert expected == (result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("name", ["pipelines", "promote"])
def test_version_of_the_installed_scripts(name: str) -> None:
    """The installed scripts answer ``--version`` the same way."""
    done = subprocess.run(
        [str(script(name)), "--version"], capture_output=True, text=True, check=False
    )
    expected = (0, f"{name} {VERSION}\n", "")
    assert expected == (done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize(("target", "name"), [(app, "pipelines"), (promote_app, "promote")])
def test_help_offers_completion(target: typer.Typer, name: str) -> None:
    """Both entry points list ``--install-completion``, ``--show-completion`` and ``--version``."""
    result = invoke(target, "--help")
    words = ("--install-completion", "--show-completion", "--version")
    expected = (0, list(words))
    assert expected == (result.exit_code, [w for w in words if w in result.stdout])


@pytest.mark.parametrize("name", ["pipelines", "promote"])
def test_completion_script_for_bash(name: str) -> None:
    """``--show-completion bash`` prints a bash completion function for the script."""
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [str(script(name)), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    expected = (0, True, True)
    assert expected == (
        done.returncode,
        f"_{name}_completion()" in done.stdout,
        f"_{name.upper()}_COMPLETE=complete_bash" in done.stdout,
    )


def test_completion_completes_commands_and_options() -> None:
    """The completion protocol answers command names and option names."""
    env = {**os.environ, "_PIPELINES_COMPLETE": "complete_bash"}
    answers = []
    for words, index in (("pipelines sta", "1"), ("pipelines status --out", "2")):
        done = subprocess.run(
            [str(script("pipelines"))],
            capture_output=True,
            text=True,
            check=False,
            env={**env, "COMP_WORDS": words, "COMP_CWORD": index},
        )
        answers.append(done.stdout.split())
    expected = [["status"], ["--output"]]
    assert expected == answers


# -- usage errors -------------------------------------------------------------------------------

USAGE_ERRORS: list[tuple[typer.Typer, tuple[str, ...], str, str]] = [
    (app, ("status", "--bogus"), "no such option: --bogus", "pipelines status"),
    (app, ("status", "-o", "xml"), "'xml' is not one of", "pipelines status"),
    (
        app,
        ("status", "--context", "c"),
        "--context and --fail-on need --cluster",
        "pipelines status",
    ),
    (
        app,
        ("promote", "--dry-run", "--write", "nginx", "staging", "prod"),
        "--dry-run and --write exclude each other",
        "pipelines promote",
    ),
    (app, ("promote", "nginx", "staging"), "give APP FROM TO", "pipelines promote"),
    (app, ("rollback", "nginx"), "missing argument 'STAGE'", "pipelines rollback"),
    (app, ("rollback", "nginx", "prod"), "give exactly one of --to", "pipelines rollback"),
    (app, ("history", "--max-count", "0"), "--max-count", "pipelines history"),
    (app, ("diff", "dev"), "missing argument 'TO'", "pipelines diff"),
    (app, ("check", "--bogus"), "no such option: --bogus", "pipelines check"),
    (app, ("wait",), "missing argument 'STAGE'", "pipelines wait"),
    (app, ("wait", "dev", "--timeout", "soon"), "--timeout", "pipelines wait"),
    (app, ("report",), "give --html DIR", "pipelines report"),
    (app, ("nope",), "no such command 'nope'", "pipelines"),
    (promote_app, (), "missing argument '[APP] FROM TO'", "promote"),
    (
        promote_app,
        ("--dry-run", "--write", "nginx", "staging", "prod"),
        "--dry-run and --write exclude each other",
        "promote",
    ),
]


@pytest.mark.parametrize(
    ("target", "args", "message", "command"),
    USAGE_ERRORS,
    ids=[" ".join(args) or "no-args" for _, args, _, _ in USAGE_ERRORS],
)
def test_usage_errors_are_one_error_line_and_a_hint(
    target: typer.Typer, args: tuple[str, ...], message: str, command: str
) -> None:
    """A usage error prints ``error: ...`` and ``usage: ... (see '... -h')``, exit 2, no box."""
    result = invoke(target, *args)
    lines = result.stderr.splitlines()
    expected = (2, "", 2, True, True, True, True)
    assert expected == (
        result.exit_code,
        result.stdout,
        len(lines),
        lines[0].startswith("error: ") and message in lines[0],
        lines[-1].startswith(f"usage: {command} "),
        lines[-1].endswith(f"(see '{command} -h')"),
        "╭" not in result.stderr and "Traceback" not in result.stderr,
    ), result.stderr


# -- help ---------------------------------------------------------------------------------------


def click_commands() -> list[tuple[str, Any]]:
    """Every command of both entry points, as (path, click command)."""
    group: Any = typer.main.get_command(app)
    found: list[tuple[str, Any]] = [("pipelines", group)]
    found += [(f"pipelines {name}", group.commands[name]) for name in COMMANDS]
    found.append(("promote", typer.main.get_command(promote_app)))
    return found


ARGUMENTS = {
    "status": "[PIPELINE...]",
    "promote": "[APP] FROM TO",
    "diff": "FROM TO",
    "history": "[APP]",
    "rollback": "APP STAGE",
    "wait": "STAGE",
    "report": "[PIPELINE...]",
}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_type_labels_and_capital_argument_names(command: str) -> None:
    """Help shows no ``<bool>``/``<str>`` labels and names arguments as the README does."""
    result = invoke(app, command, "--help")
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    expected = (0, [], True)
    assert expected == (
        result.exit_code,
        re.findall(r"<[a-z][a-z\[\]|, ]*>", result.stdout),
        usage.strip().endswith(f"[OPTIONS] {ARGUMENTS[command]}") if command in ARGUMENTS else True,
    ), result.stdout


def test_promote_script_help_has_no_type_labels() -> None:
    """The ``promote`` script's help is as plain as ``pipelines promote``'s."""
    result = invoke(promote_app, "--help")
    expected = (0, [], True)
    assert expected == (
        result.exit_code,
        re.findall(r"<[a-z][a-z\[\]|, ]*>", result.stdout),
        "Usage: promote [OPTIONS] [APP] FROM TO" in result.stdout,
    )


def test_every_shown_default_is_the_real_default() -> None:
    """Each ``[default: X]`` in help is the value the option takes when it is not given."""
    wrong = []
    for path, command in click_commands():
        args = path.split()[1:]
        target = promote_app if path == "promote" else app
        text = " ".join(invoke(target, *args, "--help").stdout.split())
        for param in command.params:
            if not isinstance(param, TyperOption) or param.default is None:
                continue
            if not param.show_default or param.is_flag:
                continue
            default = param.default.value if isinstance(param.default, Enum) else param.default
            if f"[default: {default}]" not in text:
                wrong.append(f"{path} {param.opts[0]} (real default {default!r})")
    nothing: list[str] = []
    assert nothing == wrong


def test_output_has_its_short_form_everywhere() -> None:
    """Every command with ``--output`` also takes ``-o``."""
    lacking = [
        path
        for path, command in click_commands()
        for param in command.params
        if "--output" in getattr(param, "opts", ()) and "-o" not in param.opts
    ]
    with_output = [
        path
        for path, command in click_commands()
        if any(p.name == "output" for p in command.params)
    ]
    expected = ([], 8)
    assert expected == (lacking, len(with_output))


# -- JSON ---------------------------------------------------------------------------------------


def snake_keys(value: Any, *, skip: frozenset[str] = frozenset({"trailers"})) -> list[str]:
    """Keys of ``value`` (recursively) that are not snake_case (data-keyed maps skipped)."""
    bad: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                bad.append(key)
            if key not in skip:
                bad += snake_keys(item, skip=skip)
    elif isinstance(value, list):
        for item in value:
            bad += snake_keys(item, skip=skip)
    return bad


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A git copy of the example repository."""
    from tests.builders.git import make_gitops

    return make_gitops(tmp_path).work


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("check",),
        ("history",),
        ("diff", "staging", "prod", "-p", "web"),
        ("report",),
        ("promote", "nginx", "staging", "prod", "-p", "web", "--dry-run"),
    ],
    ids=lambda args: args[0],
)
def test_json_is_one_compact_line_when_piped(example: Path, args: tuple[str, ...]) -> None:
    """Piped, every command's ``-o json`` is one JSON line with snake_case keys and a newline."""
    result = invoke(app, *args, "-o", "json", "--repo", str(example))
    document = json.loads(result.stdout)
    expected = (0, 1, True, [])
    assert expected == (
        result.exit_code,
        result.stdout.count("\n"),
        result.stdout.endswith("}\n"),
        snake_keys(document),
    ), result.stderr


def test_json_is_indented_on_a_terminal(example: Path) -> None:
    """On a terminal, ``-o json`` is indented by two spaces (the same document)."""
    from tests.ptyrun import run_in_pty

    done = run_in_pty(
        [str(script("pipelines")), "check", "-o", "json", "--repo", str(example)],
        stdout_tty=True,
    )
    text = done.tty.replace("\r\n", "\n")
    expected = (0, True, True)
    assert expected == (
        done.returncode,
        text.startswith('{\n  "findings": []'),
        json.loads(text)["ok"],
    )
