"""Tokens reach git only through an askpass helper reading an environment variable of the
git process: never a URL, argv, log line or ``.git/config``."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from promoter import tempdirs

TOKEN_ENV = "PROMOTER_GIT_TOKEN"
"""The variable of the git process environment that carries the token to the helper."""
USERNAME_ENV = "PROMOTER_GIT_USERNAME"
"""The variable that carries the user name the helper answers (not a secret)."""
GITHUB_USERNAME = "x-access-token"
"""What GitHub wants as the user of a token over HTTPS (any name works; this one is usual)."""

_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$PROMOTER_GIT_USERNAME" ;;
  *) printf '%s\\n' "$PROMOTER_GIT_TOKEN" ;;
esac
"""

_CREDENTIAL_HELPER_RESET = "credential.helper"


@contextmanager
def credentials(
    token: str | None, remote_url: str, username: str = GITHUB_USERNAME
) -> Iterator[dict[str, str]]:
    """Environment for git commands that talk to the remote; for HTTPS remotes with a
    token, an askpass helper (a temporary script) that hands git ``username`` (GitHub:
    ``x-access-token``, GitLab: ``oauth2``) and the token from the environment, deleted
    on exit.  Credential helpers are switched off for those
    commands so that no helper stores (or shadows) the token."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if not token or not remote_url.startswith(("https://", "http://")):
        yield env
        return
    folder = tempdirs.make("promoter-askpass-")
    script = folder / "askpass.sh"
    try:
        script.write_text(_ASKPASS, encoding="utf-8")
        script.chmod(stat.S_IRWXU)
        yield {
            **env,
            **_extra_config(_CREDENTIAL_HELPER_RESET, ""),
            "GIT_ASKPASS": str(script),
            USERNAME_ENV: username,
            TOKEN_ENV: token,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def secrets(env: Mapping[str, str] | None) -> tuple[str, ...]:
    """The secrets a git environment carries (to be masked in what git prints)."""
    token = (env or {}).get(TOKEN_ENV)
    return (token,) if token else ()


def _extra_config(key: str, value: str) -> dict[str, str]:
    """``GIT_CONFIG_COUNT``/``KEY``/``VALUE`` variables adding one setting after the user's."""
    try:
        count = max(int(os.environ.get("GIT_CONFIG_COUNT", "0") or "0"), 0)
    except ValueError:
        count = 0
    return {
        "GIT_CONFIG_COUNT": str(count + 1),
        f"GIT_CONFIG_KEY_{count}": key,
        f"GIT_CONFIG_VALUE_{count}": value,
    }
