"""The first-parent history as records: one ``git log --raw`` for the commits and the files
they changed, and one more call for the messages of the tips merge commits merged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from promoter.errors import GitError
from promoter.git.process import last_line, output

_PR_PATTERNS = (re.compile(r"^Merge pull request #(\d+)"), re.compile(r"\(#(\d+)\)\s*$"))
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$")
_LOG = (
    "-c",
    "core.quotePath=false",
    "log",
    "--no-color",
    "--no-show-signature",
    "--first-parent",
    "--reverse",
    "--root",
    "--raw",
    "--no-renames",
    "--no-abbrev",
    "--format=%x1e%H%x1f%P%x1f%cI%x1f%an <%ae>%x1f%B%x1f",
)
_MESSAGES = (
    "log",
    "--no-color",
    "--no-show-signature",
    "--no-walk=unsorted",
    "--stdin",
    "--format=%x1e%H%x1f%B",
)


@dataclass(frozen=True)
class Commit:
    """A commit of the first-parent history and the files it changed (None: deleted)."""

    sha: str
    parents: tuple[str, ...]
    date: str
    author: str
    message: str
    changes: dict[str, str | None] = field(default_factory=dict)
    merged_message: str = ""
    """For a merge commit: the message of the tip it merged (a pull request's commit)."""

    @property
    def pull_request(self) -> int | None:
        """The pull request number its subject names (merge or squash commits)."""
        subject = self.message.split("\n", 1)[0]
        for pattern in _PR_PATTERNS:
            found = pattern.search(subject)
            if found:
                return int(found.group(1))
        return None

    @property
    def trailers(self) -> tuple[tuple[str, str], ...]:
        """``Key: value`` lines of the message's last paragraph; a merge commit without
        any (GitHub's "Merge pull request #N") has those of the commit it merged."""
        return _trailers(self.message) or _trailers(self.merged_message)


def _trailers(message: str) -> tuple[tuple[str, str], ...]:
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return ()
    found = [_TRAILER.match(line) for line in paragraphs[-1].splitlines()]
    if not all(found):
        return ()
    return tuple((m.group(1), m.group(2).strip()) for m in found if m)


def iter_commits(top: Path, ref: str = "HEAD") -> Iterator[Commit]:
    """First-parent commits of ``ref``, oldest first, with their raw changes."""
    resolved = output(top, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
    if resolved.returncode != 0:
        if ref == "HEAD":
            return  # a repository (or branch) without commits yet: no history
        raise GitError(f"{ref!r} is not a commit of this repository")
    done = output(top, [*_LOG, ref, "--"])
    if done.returncode != 0:
        raise GitError(f"git log failed: {last_line(done)}")
    chunks = [c.split("\x1f", 5) for c in done.stdout.decode("utf-8", "replace").split("\x1e")[1:]]
    merged = _merged_messages(top, [c[1].split()[1] for c in chunks if len(c[1].split()) > 1])
    for sha, parents, date, author, message, raw in chunks:
        changes: dict[str, str | None] = {}
        for line in raw.splitlines():
            if not line.startswith(":"):
                continue
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) < 5:
                continue
            changes[path] = None if fields[4].startswith("D") else fields[3]
        tips = parents.split()
        merged_message = merged.get(tips[1], "") if len(tips) > 1 else ""
        yield Commit(sha, tuple(tips), date, author, message.strip(), changes, merged_message)


def _merged_messages(top: Path, tips: list[str]) -> dict[str, str]:
    """The messages of the commits that merge commits merged (one git call for all)."""
    if not tips:
        return {}
    done = output(top, _MESSAGES, "\n".join(dict.fromkeys(tips)).encode() + b"\n")
    if done.returncode != 0:
        return {}
    found: dict[str, str] = {}
    for chunk in done.stdout.decode("utf-8", "replace").split("\x1e")[1:]:
        sha, _, message = chunk.partition("\x1f")
        found[sha] = message.strip()
    return found
