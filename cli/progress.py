"""The spinner: while a command works, stderr shows the step the library announced
(``promoter.progress``: fetch, render, push, API calls), and every retry as a line of its
own, when stderr is a terminal; nothing at all when it is not (CI logs, pipes).

The spinner line is transient (erased when done) and stops before the command prints
anything on stdout, so results never mix with it."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.live import Live
    from rich.spinner import Spinner
    from rich.text import Text

    from promoter.progress import Event


def wanted() -> bool:
    """Whether to show a spinner: stderr is a terminal that can redraw a line."""
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
    return terminal and os.environ.get("TERM", "") != "dumb"


@contextmanager
def spinner() -> Iterator[None]:
    """Show the library's steps on stderr while inside (when ``wanted``)."""
    if not wanted():
        yield
        return
    from promoter import progress

    display = _Display()
    real_stdout = sys.stdout
    sys.stdout = _StopOnWrite(real_stdout, display)
    try:
        with progress.listening(display.show):
            yield
    finally:
        display.stop()
        if isinstance(sys.stdout, _StopOnWrite):
            sys.stdout = real_stdout


class _Display:
    """A Rich ``Live`` spinner on stderr, started by the first step."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._live: Live | None = None
        self._spinner: Spinner | None = None

    def show(self, event: Event) -> None:
        with self._lock:
            if event.kind == "retry":
                self._print(f"{event.message}")
                return
            if self._live is None:
                self._start(event.message)
            elif self._spinner is not None:
                self._spinner.update(text=_line(event.message))
                self._live.refresh()

    def _start(self, message: str) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        # The stream itself: Live replaces sys.stderr with a proxy that prints through it.
        console = Console(file=sys.stderr, highlight=False)
        self._spinner = Spinner("dots", text=_line(message))
        self._live = Live(
            self._spinner,
            console=console,
            transient=True,
            refresh_per_second=10,
            redirect_stdout=False,
            redirect_stderr=True,
        )
        self._live.start(refresh=True)

    def _print(self, line: str) -> None:
        from rich.text import Text

        if self._live is not None:
            self._live.console.print(Text(line))
        else:
            sys.stderr.write(f"{line}\n")

    def stop(self) -> None:
        with self._lock:
            live, self._live, self._spinner = self._live, None, None
        if live is not None:
            live.stop()


class _StopOnWrite:
    """stdout, stopping the spinner before anything is written to it."""

    def __init__(self, stream: IO[str], display: _Display) -> None:
        self._stream = stream
        self._display = display

    def write(self, text: str) -> int:
        if text:
            self._display.stop()
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        self._display.stop()
        self._stream.writelines(lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _line(message: str) -> Text:
    """The step as one line: a spinner that wraps leaves its extra lines on the screen."""
    from rich.text import Text

    return Text(f"{message} …", no_wrap=True, overflow="ellipsis")
