"""Run a command with its stderr (or its stdout) on a pseudo-terminal, to see what it shows a
person at a terminal; the other streams are pipes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PtyRun:
    """How the command ended, what it wrote to the pipes, and what the terminal received."""

    returncode: int
    stdout: str
    stderr: str
    tty: str


def run_in_pty(
    args: Sequence[str],
    *,
    stdout_tty: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
) -> PtyRun:
    """Run ``args`` with stderr on a pty (stdout instead with ``stdout_tty``)."""
    master, slave = pty.openpty()
    env = {**(env if env is not None else os.environ), "TERM": "xterm-256color"}
    with subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=subprocess.PIPE if stdout_tty else slave,
        env=env,
        cwd=cwd,
    ) as process:
        os.close(slave)
        received = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed its end
                    break
                if not chunk:
                    break
                received += chunk
            elif process.poll() is not None:
                break
        else:
            process.kill()
        pipe = process.stderr if stdout_tty else process.stdout
        assert pipe is not None
        piped = pipe.read().decode("utf-8", "replace")
        returncode = process.wait()
    os.close(master)
    return PtyRun(
        returncode,
        "" if stdout_tty else piped,
        piped if stdout_tty else "",
        received.decode("utf-8", "replace"),
    )
