"""What the history walk needs besides the log: a file's blob id at a commit (the current
``promoter.yaml``), and whether the clone is shallow (history truncated) and where."""

from __future__ import annotations

from pathlib import Path

from promoter.git.process import output


def blob_id(top: Path, ref: str, path: str) -> str | None:
    """The blob id of file ``path`` (top-relative) at commit ``ref``; None when it has none."""
    done = output(top, ["rev-parse", "--verify", "--quiet", f"{ref}:{path}"])
    found = done.stdout.decode(errors="replace").strip()
    if done.returncode != 0 or not found:
        return None
    kind = output(top, ["cat-file", "-t", found])
    return found if kind.stdout.strip() == b"blob" else None


def is_shallow(top: Path) -> bool:
    """Whether the repository at ``top`` is a shallow clone (its history cut off)."""
    done = output(top, ["rev-parse", "--is-shallow-repository"])
    return done.returncode == 0 and done.stdout.strip() == b"true"


def oldest_commit(top: Path, ref: str = "HEAD") -> tuple[str, str] | None:
    """The oldest commit of ``ref``'s first-parent history that is present, and its
    committer date (ISO 8601); None without commits."""
    done = output(top, ["rev-list", "--first-parent", "--format=%H %cI", "--no-commit-header", ref])
    if done.returncode != 0:
        return None
    lines = done.stdout.decode(errors="replace").split()
    return (lines[-2], lines[-1]) if len(lines) >= 2 else None
