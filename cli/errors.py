"""The one place where errors become a line on stderr and an exit code.

Exit codes: 0 success, 1 a known problem (``PromoterError``, or a stage that could not be
read), 2 bad usage (Typer/Click), 3 an unexpected bug, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


def fail(message: str) -> None:
    """Print one line on stderr."""
    print(f"error: {message}", file=sys.stderr)


@contextmanager
def handled() -> Iterator[None]:
    """Turn promoter errors, Ctrl-C and bugs into one line and an exit code."""
    from promoter.errors import PromoterError

    try:
        yield
    except PromoterError as exc:
        fail(_one_line(str(exc)))
        raise SystemExit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        fail("interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except (SystemExit, GeneratorExit):
        raise
    except Exception as exc:
        if os.environ.get("PROMOTER_DEBUG"):
            traceback.print_exc()
        detail = _one_line(str(exc))
        fail(f"unexpected {type(exc).__name__}: {detail} (PROMOTER_DEBUG=1 shows the traceback)")
        raise SystemExit(EXIT_BUG) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run(main: Callable[[], object]) -> None:
    """Run a Typer app so that every error ends in one line."""
    try:
        main()
    except KeyboardInterrupt:
        fail("interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
