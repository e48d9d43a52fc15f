"""Errors a user can cause, each carrying one line that says what and where.

The tree::

    PromoterError
    ├── RepoError           the repository cannot be used (not a directory, bad promoter.yaml)
    ├── ManifestError       a file is malformed, missing, outside the repo or unreadable
    │   └── KustomizeError  a kustomization cannot be built (cycle, patch targets nothing, ...)
    ├── LookupFailed        an unknown pipeline, stage or app name
    ├── RenderError         kustomize/kubectl is missing or failed
    ├── PromotionError      a promotion is refused or cannot be verified
    ├── GitError            a git operation failed (fetch, push, worktree)
    └── GitHubError         the GitHub API refused or did not answer

The library raises these and never prints or exits; ``cli`` turns them into one line on stderr.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PromoterError(Exception):
    """Base class of every error that ends in one clear line for the user."""


class RepoError(PromoterError):
    """The repository (or its promoter.yaml) cannot be used."""


class ManifestError(PromoterError):
    """A file is malformed, missing, unreadable or outside the repository."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


class KustomizeError(ManifestError):
    """A kustomization cannot be built the way kustomize would build it."""


class LookupFailed(PromoterError):
    """A pipeline, stage or app name that does not exist."""

    @classmethod
    def from_choices(cls, what: str, name: str, choices: Iterable[str]) -> LookupFailed:
        """Build the message, suggesting the closest known names."""
        known = sorted(set(choices))
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        if close:
            hint = f"; did you mean {', '.join(close)}?"
        elif known:
            hint = f"; known: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''}"
        else:
            hint = ""
        return cls(f"unknown {what} {name!r}{hint}")


class RenderError(PromoterError):
    """kustomize (or kubectl) is not available or failed to render a directory."""


class PromotionError(PromoterError):
    """A promotion is refused, or its result could not be verified."""


class GitError(PromoterError):
    """A git operation failed."""


class GitHubError(PromoterError):
    """The GitHub API refused a request or could not be reached."""


class GitLabError(PromoterError):
    """The GitLab API refused a request or could not be reached."""
