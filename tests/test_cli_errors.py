"""Tests of ``cli.errors``: ``handled()`` turns every error into one stderr line and an exit
code (1 known, 130 Ctrl-C, 3 bug), and ``fail()`` prints one line."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
import typer

from cli.errors import EXIT_BUG, EXIT_FAILED, EXIT_INTERRUPTED, fail, handled
from promoter import ManifestError

# -- cli.errors.handled --------------------------------------------------------------------


def _exit_code(raise_: BaseException, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """Run ``handled()`` around a raise; return the exit code and what reached stderr."""
    with pytest.raises(SystemExit) as caught, handled():
        raise raise_
    return caught.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (ManifestError("x.yaml", "bad\nthing", 2), EXIT_FAILED, "error: x.yaml:2: bad thing\n"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "error: interrupted\n"),
        (
            ValueError("oops"),
            EXIT_BUG,
            "error: unexpected ValueError: oops (PROMOTER_DEBUG=1 shows the traceback)\n",
        ),
    ],
)
def test_handled_turns_errors_into_one_line_and_a_code(
    error: BaseException,
    code: int,
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Known errors exit 1, Ctrl-C 130 and bugs 3, each with exactly one stderr line."""
    monkeypatch.delenv("PROMOTER_DEBUG", raising=False)
    expected = (code, line)
    assert expected == _exit_code(error, capsys)


@pytest.mark.parametrize("error", [typer.Exit(0), typer.Exit(4), typer.BadParameter("no")])
def test_handled_lets_typer_exits_through(error: Exception) -> None:
    """Typer's own exits and usage errors keep their meaning (not turned into exit 3)."""
    with pytest.raises(type(error)), handled():
        raise error


def test_handled_is_quiet_when_the_reader_goes_away(capsys: pytest.CaptureFixture[str]) -> None:
    """A closed pipe (``| head``) ends with exit 1 and no message."""
    expected = (EXIT_FAILED, "")
    assert expected == _exit_code(BrokenPipeError(32, "Broken pipe"), capsys)


def test_fail_collapses_to_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """fail() never prints more than one line, whatever the message holds."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    fail("first\n\n  second\tthird\n")
    expected = "error: first second third\n"
    assert expected == err.getvalue()
