"""Credentials are never printed: the one place that masks them in URLs and messages.

Every URL the tool may show (a git remote, the GitHub API) goes through ``redact_url``;
every message git prints goes through ``scrub`` with the token the process was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The user-info of a URL (https://user:secret@host/...): what a user may write a password
# or token into.
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def redact_url(url: str) -> str:
    """``url`` without the password or token a user may have written into it."""
    return scrub(url)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and the user-info of every URL masked as ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _USERINFO.sub("***@", text) if "://" in text else text


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute ``http(s)://host...`` URL (an API base URL)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
