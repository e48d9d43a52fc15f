"""Running git, and the translation of its failures into one-line ``GitError``s with
credentials masked.

Commands on a repository go through GitPython (imported lazily); the history reader runs
git as a plain process (its output is large, and bytes).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promoter import children
from promoter.errors import GitError
from promoter.git.credentials import secrets
from promoter.redact import scrub

if TYPE_CHECKING:
    import git


def run(repo: git.Repo, args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """``git ARGS`` in ``repo``; its stdout, ``GitError`` when it fails."""
    status, out, err = execute(repo, args, env)
    if status != 0:
        raise GitError(f"git {args[0]} failed: {summary(err or out, status, env)}")
    return out


def execute(
    repo: git.Repo, args: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[int, str, str]:
    """Run git; its exit status, stdout and stderr (never raises for a failing command)."""
    import git

    try:
        with repo.git.custom_environment(**(env or {})):
            status, out, err = repo.git.execute(
                ["git", *args],
                with_extended_output=True,
                with_exceptions=False,
                **children.spawn_options(),
            )
    except git.GitCommandNotFound as exc:
        raise GitError("git is not installed (or not on PATH)") from exc
    return int(status or 0), str(out), str(err)


def summary(text: str, status: int, env: Mapping[str, str] | None) -> str:
    """The last lines git printed, as one line, any token masked."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    found = "; ".join(lines[-3:]) if lines else f"exit code {status}"
    return masked(found, env)


def masked(text: str, env: Mapping[str, str] | None) -> str:
    """``text`` without the token of ``env`` or credentials written into a URL."""
    return scrub(text, secrets(env))


def output(
    cwd: Path, args: Sequence[str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` run in ``cwd`` as a plain process (never raises for a failing command)."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
            **children.spawn_options(),
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc


def spawn(args: Sequence[str]) -> subprocess.Popen[bytes]:
    """A long-running ``git ARGS`` reading requests on stdin, answering on stdout."""
    try:
        return subprocess.Popen(
            ["git", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            **children.spawn_options(),
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc


def last_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The last line a failed git process printed on stderr (its exit code if none)."""
    errors = done.stderr.decode(errors="replace").strip().splitlines()
    return scrub(errors[-1]) if errors else str(done.returncode)
