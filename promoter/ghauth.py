"""The GitHub token of a logged-in ``gh`` CLI, when no ``GITHUB_TOKEN``/``GH_TOKEN`` is set,
as other tools of this ecosystem do (``gh auth token``).

The token is only returned: never printed, logged or put in an error message (gh's own
stderr is dropped, since it is not ours to show)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

GH_TIMEOUT = 10.0
"""Seconds ``gh auth token`` may take (it reads a file or the system keyring)."""


def gh_token(env: Mapping[str, str] | None = None, host: str | None = None) -> str | None:
    """The token ``gh auth token`` prints (for ``host``, else ``GH_HOST`` or gh's default
    host), or None when gh is not on ``PATH``, not logged in, or fails."""
    env = os.environ if env is None else env
    command = shutil.which("gh", path=env.get("PATH", os.defpath))
    if command is None:
        return None
    args = [command, "auth", "token"]
    host = host or env.get("GH_HOST")
    if host:
        args += ["--hostname", host]
    from promoter import children

    try:
        done = children.run(
            args,
            timeout=GH_TIMEOUT,
            env={**env, "GH_PROMPT_DISABLED": "1", "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    token: str = done.stdout.decode("utf-8", "replace").strip()
    # One line of printable characters, or nothing: never a prompt or a message.
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        return None
    return token
