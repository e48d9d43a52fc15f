"""Errors a user can cause, each carrying one line that says what and where.

The tree::

    PromoterError
    ├── RepoError           the repository cannot be used (not a directory, bad promoter.yaml)
    ├── ManifestError       a file is malformed, missing, outside the repo or unreadable
    │   └── KustomizeError  a kustomization cannot be built (cycle, patch targets nothing, ...)
    ├── LookupFailed        an unknown pipeline, stage or app name
    ├── RenderError         kustomize/kubectl is missing or failed
    ├── PromotionError      a promotion is refused or cannot be verified
    ├── GateClosed          a soak or freeze gate stops the promotion
    ├── GitError            a git operation failed (fetch, push, worktree)
    │   └── PushRejected    the remote refused the push (no rights, a hook, protection)
    │       └── PushRaced   the remote branch moved meanwhile: another writer won
    ├── ForgeError          a code host (GitHub, GitLab) refused or did not answer
    │   ├── ChangeRequestExists  a pull/merge request is already open for the branch
    │   ├── ChangeRequestFailed  the branch was pushed, its pull/merge request failed
    │   ├── GitHubError         the GitHub API refused or did not answer
    │   │   ├── PullRequestExists  (also a ChangeRequestExists)
    │   │   └── PullRequestFailed  (also a ChangeRequestFailed)
    │   └── GitLabError         the GitLab API refused or did not answer
    │       ├── MergeRequestExists  (also a ChangeRequestExists)
    │       └── MergeRequestFailed  (also a ChangeRequestFailed)
    ├── ClusterError        the Kubernetes API could not be used (context, reachability, rights)
    └── RegistryError       a container registry refused or did not answer

The library raises these and never prints or exits; ``cli`` turns them into one line on stderr.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import ClassVar

from promoter.problems import Problem


class PromoterError(Exception):
    """Base class of every error that ends in one clear line for the user."""

    @property
    def problem(self) -> Problem:
        """This error as data: its one line, at no particular place."""
        return Problem(str(self))


class RepoError(PromoterError):
    """The repository (or its promoter.yaml) cannot be used."""


class ManifestError(PromoterError):
    """A file is malformed, missing, unreadable or outside the repository."""

    code: ClassVar[str] = "manifest"

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")

    @property
    def problem(self) -> Problem:
        """This error as data: ``file``, ``line`` and ``message`` (``str(self)`` is
        ``str(self.problem)``)."""
        return Problem(self.message, self.file, self.line, code=self.code)


class KustomizeError(ManifestError):
    """A kustomization cannot be built the way kustomize would build it."""

    code: ClassVar[str] = "kustomize"


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


class GateClosed(PromoterError):
    """A soak or freeze gate stops the promotion."""


class GitError(PromoterError):
    """A git operation failed."""


class PushRejected(GitError):
    """The remote refused the push (a race with another writer, or no rights)."""


class PushRaced(PushRejected):
    """The remote branch moved since it was read: another writer won the race."""


class ForgeError(PromoterError):
    """A code host (GitHub, GitLab) refused a request or could not be reached."""


class ChangeRequestExists(ForgeError):
    """The code host refused to open a pull/merge request: one is open for the branch."""


class ChangeRequestFailed(ForgeError):
    """The branch was pushed but its pull/merge request could not be opened or updated."""

    def __init__(self, message: str, branch: str) -> None:
        super().__init__(message)
        self.branch = branch


class GitHubError(ForgeError):
    """The GitHub API refused a request or could not be reached."""


class PullRequestExists(GitHubError, ChangeRequestExists):
    """GitHub refused to open a pull request: one is already open for the branch."""


class PullRequestFailed(GitHubError, ChangeRequestFailed):
    """The branch was pushed but the pull request could not be opened or updated."""


class ClusterError(PromoterError):
    """The Kubernetes API could not be used: no context, not reachable, refused, no extra."""


class RegistryError(PromoterError):
    """A container registry refused a request, could not be reached or answered nonsense."""


class GitLabError(ForgeError):
    """The GitLab API refused a request or could not be reached."""


class MergeRequestExists(GitLabError, ChangeRequestExists):
    """GitLab refused to open a merge request: one is already open for the branch."""


class MergeRequestFailed(GitLabError, ChangeRequestFailed):
    """The branch was pushed but the merge request could not be opened or updated."""
