"""Where the GitLab merge request goes, following GitLab CI's and glab's conventions.

* token: ``GITLAB_TOKEN``, then ``GL_TOKEN``; ``CI_JOB_TOKEN`` alone is refused, because
  a job token cannot create merge requests;
* API: ``CI_API_V4_URL``, else ``https://<host of the remote>/api/v4``, else from
  ``GITLAB_HOST``, else gitlab.com;
* project: an explicit ``GROUP/SUB/NAME``, else ``CI_PROJECT_PATH``, else the remote URL.

Plus the host tests that let the provider choice tell a GitLab remote from a GitHub one.
Everything takes the environment as a mapping, so the precedence is testable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from promoter.errors import GitLabError
from promoter.redact import is_http_url, redact_url

PUBLIC_HOST = "gitlab.com"
PUBLIC_API = "https://gitlab.com/api/v4"
_PUBLIC_HOSTS = frozenset({"gitlab.com", "www.gitlab.com", "altssh.gitlab.com"})
_API_SUFFIX = "/api/v4"

# A project path: one or more groups, then the project; GitLab's path characters.
_SEGMENT = r"[\w.][\w.-]*"
_PROJECT_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})+")
_URL_FORM = re.compile(
    r"^(?P<scheme>https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::(?P<port>\d+))?"
    r"/(?P<path>[^?#]+?)(?:\.git)?/?$"
)
_SCP_FORM = re.compile(r"^(?:[^@/]+@)?(?P<host>[^/:]+):(?!//)(?P<path>[^?#]+?)(?:\.git)?/?$")


class GitLabRemote(NamedTuple):
    """What a GitLab remote URL says: the host, the project path, and where the API lives."""

    host: str
    project: str
    api_url: str


class ProjectLocation(NamedTuple):
    """The project a merge request is opened in, and the API that serves it."""

    project: str
    api_url: str


def parse_remote_url(url: str) -> GitLabRemote | None:
    """Host, ``group/sub/name`` and API URL of a GitLab remote (https, ssh://, scp forms).

    Nested groups, ports and a ``.git`` suffix are understood. The API of an http(s) remote
    is on the same scheme and port; that of an ssh remote on https and the default port.
    A GitLab installed under a sub-path (``https://host/gitlab/group/name``) cannot be told
    apart from a group: such setups pass the project explicitly and set ``CI_API_V4_URL``.
    """
    text = url.strip()
    found = _URL_FORM.match(text)
    if found:
        host, path = found.group("host").lower(), found.group("path")
        scheme, port = found.group("scheme"), found.group("port")
        if scheme in ("http", "https"):
            api = f"{scheme}://{host}{f':{port}' if port else ''}{_API_SUFFIX}"
        else:
            api = f"https://{host}{_API_SUFFIX}"
    else:
        found = _SCP_FORM.match(text)
        if not found or "://" in text:
            return None
        host, path = found.group("host").lower(), found.group("path")
        api = f"https://{host}{_API_SUFFIX}"
    path = path.strip("/")
    if path.startswith("~") or "/-/" in f"/{path}/" or not _PROJECT_PATH.fullmatch(path):
        return None
    return GitLabRemote(host, path, api)


def find_project(
    explicit: str | None, remote_url: str, env: Mapping[str, str] | None = None
) -> ProjectLocation:
    """The project path and API URL for the merge request.

    ``CI_API_V4_URL`` is used unless ``CI_SERVER_HOST`` shows that the CI server is not the
    remote's host (a job on one GitLab pushing to another must not send the other's token
    to its own server).
    """
    env = os.environ if env is None else env
    remote = parse_remote_url(remote_url)
    project = explicit or env.get("CI_PROJECT_PATH") or (remote.project if remote else "")
    project = project.strip().strip("/")
    if not project:
        raise GitLabError(
            f"cannot tell the GitLab project from remote URL {redact_url(remote_url)!r}; "
            "pass --gitlab-project GROUP/NAME or set CI_PROJECT_PATH"
        )
    if not _PROJECT_PATH.fullmatch(project):
        raise GitLabError(
            f"{project!r} is not a GitLab project path GROUP/[SUBGROUP/...]NAME; "
            "pass --gitlab-project GROUP/NAME or set CI_PROJECT_PATH"
        )
    return ProjectLocation(project, find_api_url(remote, env))


def find_api_url(remote: GitLabRemote | None, env: Mapping[str, str] | None = None) -> str:
    """``CI_API_V4_URL``, else the remote's API, else ``GITLAB_HOST``'s, else gitlab.com's."""
    env = os.environ if env is None else env
    ci_api = env.get("CI_API_V4_URL", "").strip()
    if ci_api and not is_http_url(ci_api):
        raise GitLabError(f"CI_API_V4_URL {redact_url(ci_api)!r} is not an http(s) URL")
    ci_host = env.get("CI_SERVER_HOST", "").strip().lower()
    if ci_api and not (remote and ci_host and host_of(ci_host) != remote.host):
        return ci_api.rstrip("/")
    if remote is not None:
        return remote.api_url
    configured = env.get("GITLAB_HOST", "").strip()
    if configured:
        base = configured if "://" in configured else f"https://{configured}"
        return base.rstrip("/") + _API_SUFFIX
    return PUBLIC_API


def find_token(env: Mapping[str, str] | None = None) -> str:
    """The token from ``GITLAB_TOKEN`` or ``GL_TOKEN`` (never ``CI_JOB_TOKEN``)."""
    env = os.environ if env is None else env
    token = env.get("GITLAB_TOKEN") or env.get("GL_TOKEN")
    if token:
        return token
    if env.get("CI_JOB_TOKEN"):
        raise GitLabError(
            "CI_JOB_TOKEN cannot create merge requests: set GITLAB_TOKEN to a project or "
            "personal access token with the api scope (or use --no-pr)"
        )
    raise GitLabError("no GitLab token: set GITLAB_TOKEN or GL_TOKEN (or use --no-pr)")


def base_url(api_url: str) -> str:
    """The server URL python-gitlab wants (it adds ``/api/v4`` itself)."""
    api = api_url.rstrip("/")
    if not api.endswith(_API_SUFFIX):
        raise GitLabError(f"GitLab API URL {redact_url(api)!r} does not end in {_API_SUFFIX}")
    return api[: -len(_API_SUFFIX)]


def host_of(value: str) -> str:
    """The lower-case host of a URL or of a bare ``host[:port]``."""
    text = value.strip()
    netloc = urlsplit(text if "://" in text else f"//{text}").hostname
    return (netloc or "").lower()


def is_gitlab_host(host: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether ``host`` is a GitLab: gitlab.com, or the host named by ``GITLAB_HOST``,
    ``GL_HOST`` or ``CI_SERVER_HOST`` (self-managed instances)."""
    env = os.environ if env is None else env
    wanted = host_of(host)
    if not wanted:
        return False
    if wanted in _PUBLIC_HOSTS:
        return True
    named = (env.get(name, "") for name in ("GITLAB_HOST", "GL_HOST", "CI_SERVER_HOST"))
    return any(value.strip() and host_of(value) == wanted for value in named)


def in_gitlab_ci(env: Mapping[str, str] | None = None) -> bool:
    """Whether this runs in a GitLab CI job (``GITLAB_CI=true``)."""
    env = os.environ if env is None else env
    return env.get("GITLAB_CI", "").lower() == "true"
