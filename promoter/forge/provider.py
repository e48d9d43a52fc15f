"""The provider interface: what a promotion needs from a code host, whatever the host.

A *change request* is a GitHub pull request or a GitLab merge request. ``ChangeRequests``
is the small Protocol both adapters (``promoter.github.GitHubPulls``,
``promoter.forge.gitlab.GitLabMergeRequests``) and the in-memory fake
(``promoter.testing.FakePulls``) implement; a third forge implements the same methods.
Adapters raise only ``ForgeError`` subclasses (``ChangeRequestExists`` for a duplicate).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

ProviderName = Literal["github", "gitlab"]
"""The code hosts promoter speaks."""

PROVIDERS: tuple[ProviderName, ...] = ("github", "gitlab")


@dataclass(frozen=True)
class ChangeRequestInfo:
    """A pull or merge request as the tool reports it (GitLab's ``iid`` is the number).

    ``auto_merge`` is None when it was not asked for, else whether it is now set; ``note``
    says why it was not (a host or merge request that cannot take it)."""

    number: int
    url: str
    created: bool
    auto_merge: bool | None = None
    note: str | None = None


class ChangeRequests(Protocol):
    """Find, open and update the change requests of one repository or project."""

    def find_open(self, head: str, base: str) -> ChangeRequestInfo | None:
        """The open change request from branch ``head`` into ``base``, if any."""

    def create(
        self, *, title: str, body: str, head: str, base: str, draft: bool
    ) -> ChangeRequestInfo:
        """Open a change request; ``ChangeRequestExists`` when one is open for ``head``."""

    def update(self, number: int, *, title: str, body: str) -> ChangeRequestInfo:
        """Change an open change request's title and body (a draft stays a draft)."""

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add labels."""

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        """Ask people (usernames; on GitHub also ``org/team``) to review."""

    def set_assignee(self, number: int, username: str) -> None:
        """Assign the change request to ``username``."""

    def enable_auto_merge(self, number: int) -> str | None:
        """Merge once the checks pass: None when set, else a note saying why not."""

    def merged_commit(self, number: int) -> str | None:
        """The commit that merged change request ``number`` into its base, None until it
        is merged (``promote --wait``)."""


ChangeRequestsFactory = Callable[[str, str, str], ChangeRequests]
"""Builds the client of one provider from (repository or project path, token, API URL)."""
