"""Tests of ``cli.errors``: ``handled()`` turns every error into one stderr line and an exit
code (1 known, 130 Ctrl-C, 3 bug), and ``fail()`` prints one line."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
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


# -- cli.errors.run: the quick exit --------------------------------------------------------

_RUN_SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from cli.errors import run

marker = Path(sys.argv[1])
mode = sys.argv[2]

class Freed:  # freed by the interpreter's teardown, which the quick exit skips
    def __del__(self):
        marker.write_text(marker.read_text() + "teardown;")

kept = Freed()

def main():
    atexit.register(lambda: marker.write_text(marker.read_text() + "atexit;"))
    sys.stdout.write("x" * 200_000)  # more than a pipe holds: the flush must finish it
    if mode == "thread":  # a thread still running: the normal exit waits for it
        def late():
            time.sleep(0.3)
            marker.write_text(marker.read_text() + "thread;")
        threading.Thread(target=late).start()
    if mode == "fail":
        raise SystemExit(1)
    if mode == "text":
        raise SystemExit("told")
    raise SystemExit(0)

run(main, leave=True)
"""


@pytest.mark.parametrize(
    ("mode", "code", "marks"),
    [
        ("ok", 0, "atexit;"),
        ("fail", 1, "atexit;"),
        ("thread", 0, "thread;atexit;teardown;"),
        ("text", 1, "atexit;teardown;"),
    ],
)
def test_run_exits_with_the_code_after_output_and_exit_handlers(
    tmp_path: Path, mode: str, code: int, marks: str
) -> None:
    """``run`` ends the process without the interpreter's teardown, but only after stdout is
    flushed in full and the exit handlers ran; a thread still running, or an exit that is
    not a number, takes the normal exit."""

    marker = tmp_path / "marks"
    marker.write_text("")
    done = subprocess.run(
        [sys.executable, "-c", _RUN_SCRIPT, str(marker), mode],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, len(done.stdout), marker.read_text()) == (code, 200_000, marks)
    assert done.stderr == ("told\n" if mode == "text" else "")


@pytest.mark.parametrize(
    ("received", "exc", "reported"),
    [
        ([2], KeyboardInterrupt(), False),
        ([2], RuntimeError("cannot release un-acquired lock"), False),
        ([15], RuntimeError("cannot release un-acquired lock"), False),
        ([2], RuntimeError("something else"), True),
        ([], RuntimeError("cannot release un-acquired lock"), True),
        ([], KeyboardInterrupt(), True),
    ],
)
def test_unraisable_after_a_signal(
    monkeypatch: pytest.MonkeyPatch, received: list[int], exc: BaseException, reported: bool
) -> None:
    """Once a signal arrived, the interruption raised where it cannot propagate, and the
    lock release a fork's hook then fails (``logging``'s at-fork hooks: the interrupted
    "before" hook never took the lock its "after" hook releases), are not printed; the run
    still ends as interrupted.  Anything else, or before any signal, is reported."""
    from types import SimpleNamespace

    from cli import errors

    seen: list[Any] = []
    monkeypatch.setattr(errors, "_RECEIVED", received)
    monkeypatch.setattr(sys, "__unraisablehook__", seen.append)
    info = SimpleNamespace(exc_type=type(exc), exc_value=exc, exc_traceback=None, object=None)
    errors._unraisable(info)
    assert seen == ([info] if reported else [])
