"""Child processes (kustomize/kubectl renders, git) belong to the run: they are tracked,
killed when the run is interrupted, and never outlive it (issue 11).

On Linux every child asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), so even a run killed with SIGKILL leaves no render behind.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

_LIVE: set[subprocess.Popen[Any]] = set()
# Reentrant: the signal handler runs on the main thread, which may hold it at that moment.
_LOCK = threading.RLock()
_STOPPING = threading.Event()
_PR_SET_PDEATHSIG = 1


def _death_signal() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - no libc to ask
        return None

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return die_with_parent


_PREEXEC = _death_signal()


def die_with_parent() -> None:
    """Ask the kernel to kill this (forked) process when its parent dies (Linux only)."""
    if _PREEXEC is not None:
        _PREEXEC()


def spawn_options() -> dict[str, Any]:
    """Keyword arguments for ``subprocess.Popen`` so the child dies with this process."""
    return {"preexec_fn": _PREEXEC} if _PREEXEC is not None else {}


def popen(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a tracked child (``forget`` it when it is done); once the run is being
    interrupted, a child started by another thread is killed at once."""
    process: subprocess.Popen[Any] = subprocess.Popen(list(args), **spawn_options(), **kwargs)
    with _LOCK:
        _LIVE.add(process)
    if _STOPPING.is_set():
        with contextlib.suppress(OSError):
            process.kill()
    return process


def forget(process: subprocess.Popen[Any]) -> None:
    """Stop tracking a child that has ended."""
    with _LOCK:
        _LIVE.discard(process)


def run(
    args: Sequence[str], *, timeout: float | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` with capture, as a tracked child killed on any interruption."""
    process = popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        forget(process)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def kill_all() -> None:
    """Kill every tracked child, and every child started from now on (the run is being
    interrupted); safe in a signal handler."""
    _STOPPING.set()
    with _LOCK:
        live = list(_LIVE)
    for process in live:
        with contextlib.suppress(OSError):
            process.kill()
