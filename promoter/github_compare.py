"""The commits between two revisions of a GitHub repository (``GET .../compare/A...B``).

Part of the GitHub adapter: PyGithub's ``Repository.compare``, its errors translated to
``GitHubError`` as for pull requests (``promoter.github.GitHubPulls``).
"""

from __future__ import annotations

from typing import Any

from promoter.changelog import CommitInfo
from promoter.github import PUBLIC_API, GitHubPulls


class GitHubCommits:
    """``promoter.changelog.CommitSource`` over PyGithub: one client per repository asked."""

    def __init__(self, token: str, api_url: str = PUBLIC_API, *, timeout: int = 15) -> None:
        self._token = token
        self._api_url = api_url
        self._timeout = timeout

    def compare(self, slug: str, base: str, head: str) -> tuple[list[CommitInfo], int]:
        """The commits from ``base`` to ``head``, oldest first (the first page: up to 250),
        and their total count."""
        with GitHubPulls(
            slug, self._token, self._api_url, retries=1, backoff=0, timeout=self._timeout
        ) as client:
            repo = client._repository()

            def run() -> tuple[list[CommitInfo], int]:
                comparison = repo.compare(base, head)
                data: dict[str, Any] = comparison.raw_data
                listed = [_commit(item) for item in data.get("commits") or []]
                return listed, int(data.get("total_commits") or len(listed))

            result: tuple[list[CommitInfo], int] = client._call(run)
            return result


def _commit(item: dict[str, Any]) -> CommitInfo:
    commit = item.get("commit") or {}
    author = (item.get("author") or {}).get("login") or (commit.get("author") or {}).get("name")
    return CommitInfo.from_message(
        str(item.get("sha") or ""), str(commit.get("message") or ""), str(author or "unknown")
    )
