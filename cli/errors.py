"""The one place where errors become a line on stderr and an exit code.

Exit codes: 0 success, 1 a known problem (``PromoterError``, or a stage that could not be
read), 2 bad usage (Typer/Click), 3 an unexpected bug, 130 interrupted (Ctrl-C), 143
terminated (SIGTERM: ``timeout``, a cancelled CI job, ``kill``).  Both signals clean up
like an error does (temporary worktrees and directories removed, renders killed).
Every message is exactly one line; a traceback is shown only with ``PROMOTER_DEBUG=1``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM was received: unwinds like Ctrl-C, ends with exit code 143."""


def _interrupted(exc: KeyboardInterrupt) -> SystemExit:
    if isinstance(exc, Terminated):
        fail("terminated")
        return SystemExit(EXIT_TERMINATED)
    fail("interrupted")
    return SystemExit(EXIT_INTERRUPTED)


_RECEIVED: list[int] = []
"""The signals received by this run: the exception a handler raises can be swallowed (raised
inside an at-fork hook or a ``__del__``), and the run then fails on its killed children."""


def _signalled() -> KeyboardInterrupt | None:
    """The interruption to report instead of an error caused by killing the children."""
    if not _RECEIVED:
        return None
    return Terminated() if _RECEIVED[0] == signal.SIGTERM else KeyboardInterrupt()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Kill the run's children, ignore repeats while cleaning up, unwind the main thread."""
    from promoter import children

    _RECEIVED.append(signum)
    children.kill_all()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if signum == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


def _unraisable(info: Any) -> None:
    """Drop the interruption a signal handler raised where it could not propagate (the run
    still ends as interrupted through ``_signalled``), and what it leaves behind there: an
    interruption inside a fork's "before" hook (``logging`` takes its lock there) makes the
    paired "after" hook release a lock it never took.  Report anything else as usual."""
    if _RECEIVED and (
        isinstance(info.exc_value, KeyboardInterrupt) or _released_unacquired(info.exc_value)
    ):
        return
    sys.__unraisablehook__(info)


def _released_unacquired(exc: BaseException | None) -> bool:
    return isinstance(exc, RuntimeError) and str(exc) == "cannot release un-acquired lock"


def install_signal_handlers() -> None:
    """SIGINT and SIGTERM unwind the run (cleanup runs), its child processes killed."""
    if threading.current_thread() is threading.main_thread():
        sys.unraisablehook = _unraisable
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)


def fail(message: str) -> None:
    """Print ``message`` on stderr as one line (newlines and runs of blanks collapsed), the
    credentials of any URL in it masked (the last line of defence: every printed error)."""
    from promoter.redact import scrub

    print(f"error: {scrub(_one_line(message))}", file=sys.stderr)


@contextmanager
def handled() -> Iterator[None]:
    """Turn promoter errors, Ctrl-C and bugs into one line and an exit code; meanwhile a
    terminal's stderr shows the steps (``cli.progress``)."""
    from cli.progress import spinner
    from promoter.errors import PromoterError

    try:
        with spinner():
            yield
    except PromoterError as exc:
        if (interruption := _signalled()) is not None:
            raise _interrupted(interruption) from exc
        fail(str(exc))
        raise SystemExit(EXIT_FAILED) from exc
    except KeyboardInterrupt as exc:
        raise _interrupted(exc) from exc
    except _exits():
        # Typer's own exits and usage errors keep their exit codes (0, 1, 2).
        raise
    except BrokenPipeError as exc:
        # Whoever read stdout went away (`pipelines status -o json | head`): stop quietly.
        _silence_stdout()
        raise SystemExit(EXIT_FAILED) from exc
    except Exception as exc:
        if (interruption := _signalled()) is not None:
            raise _interrupted(interruption) from exc
        if os.environ.get("PROMOTER_DEBUG"):
            import traceback  # not imported up front: a bug's traceback is rare

            traceback.print_exc()
        fail(f"unexpected {type(exc).__name__}: {exc} (PROMOTER_DEBUG=1 shows the traceback)")
        raise SystemExit(EXIT_BUG) from exc


def _exits() -> tuple[type[BaseException], ...]:
    """The exits ``handled`` lets through: Typer's (exits and usage errors) only once Typer
    is loaded, as none can be raised before and the console script's fast path
    (``cli.fastpath``) never loads it."""
    typer = sys.modules.get("typer")
    if typer is None:
        return (SystemExit, GeneratorExit)
    return (SystemExit, GeneratorExit, typer.Exit, typer.Abort, typer.TyperException)


def _one_line(text: str) -> str:
    from promoter.names import one_line

    return one_line(text)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests) or already closed
        pass


def run(main: Callable[[], object], *, leave: bool = False) -> None:
    """Run a Typer app so that every error ends in one line; ``leave``: end the process
    right after (the console scripts), instead of raising ``SystemExit``."""
    # A short-lived process that builds large acyclic trees: the cycle collector's full
    # passes over them cost seconds on big repositories and would free nothing.
    gc.disable()
    install_signal_handlers()
    try:
        try:
            main()
        except KeyboardInterrupt as exc:
            raise _interrupted(exc) from exc
    except SystemExit as exc:
        if leave:
            _leave(exc.code)
        raise
    if leave:
        _leave(EXIT_OK)


def _leave(code: object) -> None:
    """End the process at once with ``code`` once the output is flushed and the exit
    handlers ran: the interpreter's teardown would free every object the run built, one by
    one (up to a second on a large repository), and the system takes the memory back anyway.
    Falls back to the normal exit (return) when another thread still runs or ``code`` is not
    a number."""
    if code is None:
        code = EXIT_OK
    if not isinstance(code, int) or any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        return
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or stdout is closed
        _silence_stdout()
        code = code or EXIT_FAILED
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
