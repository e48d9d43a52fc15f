"""Pull requests on GitHub: a narrow interface, and its PyGithub implementation.

Conventions of GitHub Actions and the gh CLI: the repository comes from ``--github-repo``,
else ``GITHUB_REPOSITORY``, else the remote URL; the token from ``GITHUB_TOKEN`` or
``GH_TOKEN``; the API from ``GITHUB_API_URL`` (GitHub Enterprise: ``https://HOST/api/v3``).
PyGithub's exceptions never leave this module: they become ``GitHubError``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from promoter.errors import GitHubError, PullRequestExists
from promoter.forge.provider import ChangeRequestInfo, ChangeRequests
from promoter.redact import is_http_url, redact_url

if TYPE_CHECKING:
    from github import Github
    from github.PullRequest import PullRequest
    from github.Repository import Repository

PUBLIC_API = "https://api.github.com"
_PUBLIC_HOSTS = (None, "github.com", "www.github.com", "ssh.github.com")
_URL_FORMS = (
    re.compile(
        r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<slug>[^/]+/[^/]+?)(?:\.git)?/?$"
    ),
    re.compile(r"^(?:[^@/]+@)?(?P<host>[^/:]+):(?P<slug>[^/]+/[^/]+?)(?:\.git)?/?$"),
)


PullRequestInfo = ChangeRequestInfo
"""The former name of ``ChangeRequestInfo`` (kept for existing callers)."""

PullRequests = ChangeRequests
"""The former name of ``ChangeRequests`` (kept for existing callers)."""


def parse_remote_url(url: str) -> tuple[str, str] | None:
    """``(host, "owner/name")`` of a GitHub-style remote URL (https, ssh, scp forms)."""
    for form in _URL_FORMS:
        found = form.match(url.strip())
        if found:
            return found.group("host"), found.group("slug")
    return None


def find_repository(
    explicit: str | None, remote_url: str, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """``(owner/name, api_url)`` for the pull request."""
    env = os.environ if env is None else env
    host = None
    slug = explicit or env.get("GITHUB_REPOSITORY")
    parsed = parse_remote_url(remote_url)
    if parsed is not None:
        host = parsed[0].lower()
        slug = slug or parsed[1]
    if not slug or not re.fullmatch(r"[\w.-]+/[\w.-]+", slug):
        where = (
            f"{slug!r} is not OWNER/NAME"
            if slug
            else (f"cannot tell the GitHub repository from remote URL {redact_url(remote_url)!r}")
        )
        raise GitHubError(f"{where}; pass --github-repo OWNER/NAME or set GITHUB_REPOSITORY")
    api = env.get("GITHUB_API_URL")
    if api and not is_http_url(api):
        raise GitHubError(f"GITHUB_API_URL {redact_url(api)!r} is not an http(s) URL")
    if not api:
        api = PUBLIC_API if host in _PUBLIC_HOSTS else f"https://{host}/api/v3"
    return slug, api.rstrip("/")


def find_token(env: Mapping[str, str] | None = None) -> str:
    """The token from ``GITHUB_TOKEN`` or ``GH_TOKEN``, else a logged-in gh CLI's."""
    env = os.environ if env is None else env
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        from promoter.ghauth import gh_token

        token = gh_token(env)
    if not token:
        raise GitHubError("no GitHub token: set GITHUB_TOKEN or GH_TOKEN (or use --no-pr)")
    return token


class GitHubPulls:
    """``ChangeRequests`` over PyGithub, with retries and backoff for 5xx answers and
    connection errors (``retries`` more attempts, waiting ``backoff`` * 2**n seconds)."""

    def __init__(
        self,
        slug: str,
        token: str,
        api_url: str = PUBLIC_API,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: int = 30,
    ) -> None:
        self.slug = slug
        self.api_url = api_url
        self._token = token
        self._retries = retries
        self._backoff = backoff
        self._timeout = timeout
        self._client: Github | None = None
        self._repo: Repository | None = None

    def _repository(self) -> Repository:
        if self._repo is None:
            from github import Auth, Github, GithubRetry

            from promoter.retrynotes import announcing

            if self._client is None:
                self._client = Github(
                    base_url=self.api_url,
                    auth=Auth.Token(self._token),
                    retry=announcing(GithubRetry, "GitHub")(
                        total=self._retries,
                        backoff_factor=self._backoff,
                        # a list: GithubRetry appends 403 (for rate limits) to it
                        status_forcelist=[500, 502, 503, 504],
                    ),
                    timeout=self._timeout,
                    seconds_between_requests=None,
                    seconds_between_writes=None,
                )
            client = self._client
            self._repo = self._call(lambda: client.get_repo(self.slug))
        return self._repo

    def close(self) -> None:
        """Close the HTTP connections (a later call opens new ones)."""
        client, self._client, self._repo = self._client, None, None
        if client is not None:
            client.close()

    def __enter__(self) -> GitHubPulls:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, action: Any) -> Any:
        from github import (
            BadCredentialsException,
            GithubException,
            RateLimitExceededException,
            UnknownObjectException,
        )
        from requests.exceptions import RetryError
        from urllib3.exceptions import MaxRetryError, ResponseError

        api = redact_url(self.api_url)
        try:
            return action()
        except BadCredentialsException as exc:
            raise GitHubError(f"GitHub rejected the token (401 Bad credentials) at {api}") from exc
        except UnknownObjectException as exc:
            raise GitHubError(
                f"GitHub repository {self.slug} not found at {api} (or the token cannot see it)"
            ) from exc
        except RateLimitExceededException as exc:
            raise GitHubError(f"GitHub API rate limit exceeded at {api}") from exc
        except GithubException as exc:
            message = f"GitHub API error {exc.status} for {self.slug}: {_message(exc.data)}"
            if exc.status == 422 and "already exists" in message:
                raise PullRequestExists(message) from exc
            raise GitHubError(message) from exc
        except (RetryError, MaxRetryError) as exc:
            reason = exc.args[0] if exc.args else exc
            reason = getattr(reason, "reason", reason)
            if isinstance(reason, ResponseError):
                raise GitHubError(
                    f"the GitHub API at {api} kept failing after "
                    f"{self._retries} retries ({_too_many(reason)})"
                ) from exc
            raise GitHubError(
                f"cannot reach the GitHub API at {api} (after {self._retries} retries)"
            ) from exc
        except (OSError, ValueError) as exc:
            # requests' and urllib3's connection errors are OSErrors; bad JSON a ValueError
            raise GitHubError(
                f"cannot reach the GitHub API at {api}: {type(exc).__name__}"
            ) from exc

    def find_open(self, head: str, base: str) -> PullRequestInfo | None:
        """The open pull request from ``head`` into ``base``."""
        repo = self._repository()
        owner = self.slug.split("/")[0]

        def find() -> PullRequestInfo | None:
            for pr in repo.get_pulls(state="open", head=f"{owner}:{head}", base=base):
                if pr.head.ref == head:
                    return _info(pr, created=False)
            return None

        result: PullRequestInfo | None = self._call(find)
        return result

    def create(
        self, *, title: str, body: str, head: str, base: str, draft: bool
    ) -> PullRequestInfo:
        """Open a pull request."""
        repo = self._repository()
        pr = self._call(
            lambda: repo.create_pull(base=base, head=head, title=title, body=body, draft=draft)
        )
        return _info(pr, created=True)

    def update(self, number: int, *, title: str, body: str) -> PullRequestInfo:
        """Edit an open pull request's title and body."""
        repo = self._repository()

        def edit() -> PullRequestInfo:
            pr = repo.get_pull(number)
            pr.edit(title=title, body=body)
            return _info(pr, created=False)

        result: PullRequestInfo = self._call(edit)
        return result

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add labels."""
        if labels:
            repo = self._repository()
            self._call(lambda: repo.get_pull(number).add_to_labels(*labels))

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        """Request reviews from users and ``org/team`` teams."""
        if not reviewers:
            return
        repo = self._repository()
        users = [r for r in reviewers if "/" not in r]
        teams = [r.split("/", 1)[1] for r in reviewers if "/" in r]
        self._call(
            lambda: repo.get_pull(number).create_review_request(
                reviewers=users, team_reviewers=teams
            )
        )

    def set_assignee(self, number: int, username: str) -> None:
        """Assign the pull request (its issue) to ``username``."""
        repo = self._repository()
        login = username.strip().lstrip("@")
        self._call(lambda: repo.get_pull(number).add_to_assignees(login))

    def enable_auto_merge(self, number: int) -> str | None:
        """Turn on auto-merge (GraphQL ``enablePullRequestAutoMerge``, the merge method
        GitHub defaults to). None when set; a note when GitHub refuses it (auto-merge not
        allowed in the repository, nothing left to wait for, a draft)."""
        from github import GithubException

        repo = self._repository()
        pr = self._call(lambda: repo.get_pull(number))

        def enable() -> str | None:
            try:
                pr.enable_automerge()
            except GithubException as exc:
                if exc.status in (401, 403) or exc.status >= 500:
                    raise
                return f"auto-merge was not set on #{number}: GitHub answered: {_message(exc.data)}"
            return None

        result: str | None = self._call(enable)
        return result

    def merged_commit(self, number: int) -> str | None:
        """The merge commit of pull request ``number``, None while it is not merged."""
        repo = self._repository()

        def read() -> str | None:
            pr = repo.get_pull(number)
            return str(pr.merge_commit_sha) if pr.merged and pr.merge_commit_sha else None

        result: str | None = self._call(read)
        return result

    def compare(self, base: str, head: str) -> tuple[list[tuple[str, str, str]], int]:
        """The commits from ``base`` to ``head`` (``GET .../compare/BASE...HEAD``), oldest
        first, as ``(sha, message, author)`` (the first page: up to 250), and their count."""
        repo = self._repository()

        def run() -> tuple[list[tuple[str, str, str]], int]:
            data: dict[str, Any] = repo.compare(base, head).raw_data
            listed = [_commit(item) for item in data.get("commits") or []]
            return listed, int(data.get("total_commits") or len(listed))

        result: tuple[list[tuple[str, str, str]], int] = self._call(run)
        return result


def _commit(item: dict[str, Any]) -> tuple[str, str, str]:
    commit = item.get("commit") or {}
    author = (item.get("author") or {}).get("login") or (commit.get("author") or {}).get("name")
    return str(item.get("sha") or ""), str(commit.get("message") or ""), str(author or "unknown")


def _info(pr: PullRequest, *, created: bool) -> PullRequestInfo:
    return PullRequestInfo(pr.number, pr.html_url, created)


def _message(data: Any) -> str:
    if isinstance(data, dict):
        details = [
            str(e.get("message") or e.get("code"))
            for e in data.get("errors") or []
            if isinstance(e, dict)
        ]
        base = str(data.get("message") or "")
        return "; ".join([base, *details]) if details else base or "no details"
    return str(data) if data else "no details"


def _too_many(reason: Exception) -> str:
    found = re.search(r"too many (\d+) error responses", str(reason))
    return f"HTTP {found.group(1)}" if found else str(reason)
