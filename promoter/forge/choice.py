"""Which code host a promotion talks to, and where: provider, repository, API, token.

The provider is, in order: the one asked for (``--provider``); GitLab when a GitLab project
is named (``--gitlab-project``); the remote URL's host (gitlab.com, or the self-managed
host ``GITLAB_HOST``/``GL_HOST``/``CI_SERVER_HOST`` names, is GitLab; github.com, ``GH_HOST``
or ``GITHUB_SERVER_URL``'s host is GitHub); the CI system (``GITLAB_CI`` /
``GITHUB_ACTIONS``); else GitHub, the default before GitLab existed here (GitHub
Enterprise hosts are found by their remote URL as before).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from promoter.errors import PromoterError
from promoter.forge import gitlab_settings
from promoter.forge.provider import PROVIDERS, ChangeRequestsFactory, ProviderName

GIT_USERNAMES: dict[ProviderName, str] = {"github": "x-access-token", "gitlab": "oauth2"}
"""The user an HTTPS push presents with the token, per provider."""

BACKOFF_ENVS: dict[ProviderName, str] = {
    "github": "PROMOTER_GITHUB_BACKOFF",
    "gitlab": "PROMOTER_GITLAB_BACKOFF",
}
"""Seconds of the first wait between retries of a failed API call (default 0.5, doubling)."""

_GITHUB_HOSTS = frozenset({"github.com", "www.github.com", "ssh.github.com"})
_HOST = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://(?:[^@/]+@)?(?P<url_host>\[[^]]+\]|[^/:?#]+)"
    r"|(?:[^@/:]+@)?(?P<scp_host>[^/:]+):(?!//))",
    re.IGNORECASE,
)


class ForgeTarget(NamedTuple):
    """Where change requests go: the provider, its repository/project path, its API."""

    provider: ProviderName
    path: str
    api_url: str


def remote_host(remote_url: str) -> str | None:
    """The lower-case host of a remote URL (https, ssh://, scp forms); None for a path."""
    found = _HOST.match(remote_url.strip())
    if not found:
        return None
    host = (found.group("url_host") or found.group("scp_host") or "").strip("[]").lower()
    return host or None


def is_github_host(host: str, env: Mapping[str, str] | None = None) -> bool:
    """github.com, or the host ``GH_HOST`` or ``GITHUB_SERVER_URL`` names."""
    env = os.environ if env is None else env
    wanted = gitlab_settings.host_of(host)
    if wanted in _GITHUB_HOSTS:
        return True
    named = (env.get(name, "") for name in ("GH_HOST", "GITHUB_SERVER_URL"))
    return any(value.strip() and gitlab_settings.host_of(value) == wanted for value in named)


def choose_provider(
    explicit: str | None,
    remote_url: str,
    env: Mapping[str, str] | None = None,
    *,
    gitlab_project: str | None = None,
) -> ProviderName:
    """The provider of the change request (see the module docstring for the order)."""
    env = os.environ if env is None else env
    if explicit:
        name = explicit.strip().lower()
        for provider in PROVIDERS:
            if name == provider:
                return provider
        raise PromoterError(f"unknown provider {explicit!r}; use github or gitlab")
    if gitlab_project:
        return "gitlab"
    host = remote_host(remote_url)
    if host:
        if gitlab_settings.is_gitlab_host(host, env):
            return "gitlab"
        if is_github_host(host, env):
            return "github"
    if gitlab_settings.in_gitlab_ci(env):
        return "gitlab"
    return "github"


def find_target(
    provider: ProviderName,
    remote_url: str,
    env: Mapping[str, str] | None = None,
    *,
    github_repo: str | None = None,
    gitlab_project: str | None = None,
) -> ForgeTarget:
    """The repository (GitHub ``owner/name``) or project (GitLab ``group/sub/name``) and
    the API URL, by each provider's conventions."""
    env = os.environ if env is None else env
    if provider == "gitlab":
        project, api = gitlab_settings.find_project(gitlab_project, remote_url, env)
        return ForgeTarget(provider, project, api)
    from promoter.github import find_repository

    slug, api = find_repository(github_repo, remote_url, env)
    return ForgeTarget(provider, slug, api)


def find_token(provider: ProviderName, env: Mapping[str, str] | None = None) -> str:
    """The API token of ``provider`` (an error line naming the variables when missing)."""
    env = os.environ if env is None else env
    if provider == "gitlab":
        return gitlab_settings.find_token(env)
    from promoter.github import find_token as find_github_token

    return find_github_token(env)


def git_token(provider: ProviderName, env: Mapping[str, str] | None = None) -> str | None:
    """The token HTTPS pushes present, when there is one (pushes without a pull request
    need no API token, so a missing one is not an error here)."""
    env = os.environ if env is None else env
    if provider == "gitlab":
        return env.get("GITLAB_TOKEN") or env.get("GL_TOKEN") or None
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if token:
        return token
    from promoter.ghauth import gh_token

    return gh_token(env)


def default_factory(
    provider: ProviderName, env: Mapping[str, str] | None = None
) -> ChangeRequestsFactory:
    """The real client of ``provider``, its retry backoff from ``BACKOFF_ENVS``."""
    env = os.environ if env is None else env
    name = BACKOFF_ENVS[provider]
    try:
        backoff = max(float(env.get(name) or 0.5), 0.0)
    except ValueError as exc:
        raise PromoterError(f"{name} must be a number of seconds") from exc
    if provider == "gitlab":
        from promoter.forge.gitlab import GitLabMergeRequests

        def build_gitlab(path: str, token: str, api: str) -> GitLabMergeRequests:
            return GitLabMergeRequests(path, token, api, backoff=backoff)

        return build_gitlab
    from promoter.github import GitHubPulls

    def build_github(path: str, token: str, api: str) -> GitHubPulls:
        return GitHubPulls(path, token, api, backoff=backoff)

    return build_github
