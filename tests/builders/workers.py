"""Long-lived ``promote`` processes for the concurrency tests: each worker is a separate
process (its own pid, temp directories, worktrees and fetch refs, as a CI job is) that runs
the ``promote`` CLI once per request, so many rounds of parallel promotions do not pay
Python's start-up and imports each time."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_PROGRAM = """
import contextlib, io, json, sys
from cli.main import promote_main

for line in sys.stdin:
    sys.argv = ["promote", *json.loads(line)]
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            promote_main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    answer = {"code": code, "out": out.getvalue(), "err": err.getvalue()}
    sys.__stdout__.write(json.dumps(answer) + "\\n")
    sys.__stdout__.flush()
"""


@dataclass(frozen=True)
class Outcome:
    """What one ``promote`` run of a worker ended with."""

    code: int
    out: str
    err: str


class PromoteWorker:
    """A process running ``promote ARGS`` in ``cwd`` for every request it is sent."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROGRAM],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, *args: str) -> None:
        """Start ``promote ARGS`` (the answer is read by ``outcome``)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(list(args)) + "\n")
        self.process.stdin.flush()

    def outcome(self) -> Outcome:
        """How the run started by the last ``send`` ended (waits for it)."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            _, err = self.close()
            raise AssertionError(f"the worker died: {err}")
        answer = json.loads(line)
        return Outcome(answer["code"], answer["out"], answer["err"])

    def close(self) -> tuple[int, str]:
        """End the worker; its exit code and what it printed on stderr."""
        _, err = self.process.communicate(input="", timeout=60)
        return self.process.returncode, err


def run_round(workers: list[PromoteWorker], requests: list[tuple[str, ...]]) -> list[Outcome]:
    """One round: every worker starts its request at once; their outcomes, in order."""
    for worker, args in zip(workers, requests, strict=True):
        worker.send(*args)
    return [worker.outcome() for worker in workers]
