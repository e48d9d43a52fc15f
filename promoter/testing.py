"""Test helpers for code built on promoter: an in-memory stand-in for a code host.

``FakePulls`` implements the ``promoter.forge.provider.ChangeRequests`` interface (GitHub
pull requests and GitLab merge requests alike); hand it to ``promote``/``publish_change``
as the change request client and assert on what it recorded::

    pulls = FakePulls()
    result = promoter.promote(path, request, pulls_factory=pulls.factory, env=env)
    assert pulls.opened[0].title.startswith("promote(")

Nothing here touches the network; pushes still go to whatever git remote the repository has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from promoter.errors import GitHubError, PullRequestExists
from promoter.forge.provider import ChangeRequestInfo, ChangeRequests


@dataclass
class FakePullRequest:
    """One pull request as ``FakePulls`` keeps it."""

    number: int
    title: str
    body: str
    head: str
    base: str
    draft: bool
    open: bool = True
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    assignee: str | None = None
    auto_merge: bool = False
    merged: str | None = None
    """The merge commit, once ``FakePulls.merge`` merged it."""


@dataclass
class FakePulls:
    """An in-memory ``PullRequests``: pull requests numbered from 1, kept in ``pulls``.

    ``slug`` (``owner/name``), ``token`` and ``api_url`` record what ``factory`` was
    called with.  Set ``fail`` to a message to make every call raise ``GitHubError``;
    set ``auto_merge_note`` to the note ``enable_auto_merge`` answers (a host without it)."""

    url: str = "https://github.example/owner/name/pull"
    pulls: dict[int, FakePullRequest] = field(default_factory=dict)
    slug: str | None = None
    token: str | None = None
    api_url: str | None = None
    fail: str | None = None
    auto_merge_note: str | None = None

    def factory(self, slug: str, token: str, api_url: str) -> ChangeRequests:
        """A ``ChangeRequestsFactory``: records its arguments and returns this fake."""
        self.slug, self.token, self.api_url = slug, token, api_url
        return self

    @property
    def opened(self) -> list[FakePullRequest]:
        """Every pull request, in the order they were opened."""
        return [self.pulls[number] for number in sorted(self.pulls)]

    def find_open(self, head: str, base: str) -> ChangeRequestInfo | None:
        """The open pull request from ``head`` into ``base``, if any."""
        self._check()
        for pr in self.opened:
            if pr.open and (pr.head, pr.base) == (head, base):
                return self._info(pr, created=False)
        return None

    def create(
        self, *, title: str, body: str, head: str, base: str, draft: bool
    ) -> ChangeRequestInfo:
        """Open a pull request; ``PullRequestExists`` when one is open for ``head``."""
        self._check()
        if self.find_open(head, base) is not None:
            raise PullRequestExists(f"A pull request already exists for {head}.")
        pr = FakePullRequest(len(self.pulls) + 1, title, body, head, base, draft)
        self.pulls[pr.number] = pr
        return self._info(pr, created=True)

    def update(self, number: int, *, title: str, body: str) -> ChangeRequestInfo:
        """Change the title and body of pull request ``number``."""
        pr = self._get(number)
        pr.title, pr.body = title, body
        return self._info(pr, created=False)

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add the labels not yet on pull request ``number``."""
        pr = self._get(number)
        pr.labels.extend(label for label in labels if label not in pr.labels)

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        """Ask the reviewers not yet asked on pull request ``number``."""
        pr = self._get(number)
        pr.reviewers.extend(r for r in reviewers if r not in pr.reviewers)

    def set_assignee(self, number: int, username: str) -> None:
        """Assign pull request ``number`` to ``username``."""
        self._get(number).assignee = username.lstrip("@")

    def enable_auto_merge(self, number: int) -> str | None:
        """Set auto-merge, unless ``auto_merge_note`` says why the host cannot."""
        pr = self._get(number)
        if self.auto_merge_note is None:
            pr.auto_merge = True
        return self.auto_merge_note

    def merged_commit(self, number: int) -> str | None:
        """The merge commit set by ``merge``, None before."""
        return self._get(number).merged

    def merge(self, number: int, commit: str) -> None:
        """Mark pull request ``number`` merged as ``commit`` (and closed)."""
        pr = self._get(number)
        pr.merged, pr.open = commit, False

    def _get(self, number: int) -> FakePullRequest:
        self._check()
        if number not in self.pulls:
            raise GitHubError(f"pull request #{number} does not exist")
        return self.pulls[number]

    def _check(self) -> None:
        if self.fail is not None:
            raise GitHubError(self.fail)

    def _info(self, pr: FakePullRequest, *, created: bool) -> ChangeRequestInfo:
        return ChangeRequestInfo(pr.number, f"{self.url}/{pr.number}", created)
