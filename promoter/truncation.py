"""Whether the history git holds is all of it: a shallow clone cuts it off, and ``history``
says so, and where it starts (issue 10 §4)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promoter.git import toplevel_of
from promoter.git.shallow import is_shallow, oldest_commit


@dataclass(frozen=True)
class Truncation:
    """History is cut off: a shallow clone whose oldest commit present is ``oldest_commit``."""

    oldest_commit: str
    oldest_date: str
    shallow: bool = True

    @property
    def message(self) -> str:
        """One line for people."""
        return (
            f"history is truncated: shallow clone, it starts at {self.oldest_commit[:12]} "
            f"({self.oldest_date[:10]}); git fetch --unshallow reads the rest"
        )


def history_truncation(path: Path, ref: str = "HEAD") -> Truncation | None:
    """Where the history of the repository at ``path`` is cut off; None when it is whole
    (or there is no git repository: ``history`` says so itself)."""
    top = toplevel_of(path)
    if top is None or not is_shallow(top):
        return None
    found = oldest_commit(top, ref)
    return None if found is None else Truncation(*found)
