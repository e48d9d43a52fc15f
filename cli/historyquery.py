"""What ``pipelines history`` asks git for and how it prints the answer as JSON, free of
Typer: the ``history`` command (``cli.history``) and the console script's fast path
(``cli.fastpath``) run the same code."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from promoter.history import HistoryEntry
    from promoter.truncation import Truncation


class HistoryQuery(NamedTuple):
    """The options of ``history``, as given (``declaration``: ``current`` or
    ``as-of-commit``)."""

    app: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    since: str | None = None
    max_count: int | None = None
    repo: Path | None = None
    declaration: str = "current"


class Answer(NamedTuple):
    """The entries, newest first, and where the history is cut off (a shallow clone)."""

    entries: tuple[HistoryEntry, ...]
    truncated: Truncation | None


def history(query: HistoryQuery) -> Answer:
    """The entries ``query`` asks for (``promoter.list_history``); a ``since`` that is no
    date is a ``PromoterError``."""
    import promoter

    moment = since_date(query.since) if query.since else None
    if query.since and moment is None:
        raise promoter.PromoterError(
            f"--since {query.since!r} is not a date like 2026-11-01 or 2026-11-01T12:00"
        )
    from cli.root import repo_root
    from promoter.truncation import history_truncation

    root = repo_root(query.repo)
    entries = promoter.list_history(
        root,
        query.app,
        pipeline=query.pipeline,
        stage=query.stage,
        since=moment,
        max_count=query.max_count,
        declaration=query.declaration,
    )
    return Answer(entries, history_truncation(root))


def write_json(answer: Answer) -> None:
    """Print the answer as ``history -o json`` does (``cli.jsonout``)."""
    from cli.jsonout import json_text
    from promoter.serialize import history_dict

    sys.stdout.write(json_text(history_dict(answer.entries, answer.truncated)))


def since_date(text: str) -> datetime | None:
    """``--since`` as a moment (UTC when it names no time zone); None when it is no date."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
