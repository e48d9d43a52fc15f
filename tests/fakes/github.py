"""A local, stateful fake of the slice of the GitHub REST API that kustomize-promoter uses.

The fake is a real HTTP server (standard library only) bound to 127.0.0.1 on an ephemeral
port, so the code under test talks to it through real PyGithub exactly as it would talk to
api.github.com::

    with FakeGitHub(bare_remote) as gh:
        client = github.Github(base_url=gh.url, auth=github.Auth.Token(gh.token), retry=None)
        ...
        assert gh.unhandled == []

It serves one repository (``owner/name``) whose branches live in a real *bare* git
repository (``remote``): creating a pull request checks that its head and base branches
really exist there, and head/base SHAs are read from it on every response.

Faithful on purpose (these are the behaviours of the real API that callers get wrong):

* Errors have GitHub's JSON shapes, so PyGithub raises the same exception classes:
  401 ``Bad credentials`` -> ``BadCredentialsException``, 404 ``Not Found`` ->
  ``UnknownObjectException``, 422 ``Validation Failed`` -> ``GithubException``.
* A duplicate pull request answers 422 with the top-level message ``Validation Failed``;
  the human text ``A pull request already exists for acme:<branch>.`` is in
  ``errors[0]["message"]`` (as on github.com), not in the top-level message.
* ``GET .../pulls?head=<branch>`` without the ``owner:`` prefix ignores the head filter
  (as github.com does), so a caller that forgets the prefix sees every pull request.
* Creating a pull request whose head is already contained in its base answers 422
  ``No commits between <base> and <head>``.
* Requesting a review from the pull request's author (the token's user) answers 422.
* An open pull request whose head branch has been deleted from the remote is closed.
* List items are GitHub's "simple" pull request shape (no ``merged``, ``mergeable``...),
  so reading such an attribute from a listed PR costs PyGithub one extra GET, as in reality.
* Lists are paginated with ``page``/``per_page`` and ``Link`` headers.

Fault injection: :meth:`FakeGitHub.fail_next` answers the next requests with a status (5xx
by default body ``{"message": "Server Error"}``); :meth:`FakeGitHub.stop` closes the port,
so further requests fail with "connection refused"; :meth:`FakeGitHub.start` brings it back
on the same port.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = ["BOT_LOGIN", "FakeGitHub", "FakePull", "LoggedRequest"]

BOT_LOGIN = "promoter-bot"
"""Login of the user that owns every token the fake accepts (the author of created PRs)."""

_DOCS = "https://docs.github.com/rest"
_DOCS_PULLS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
_WEB = "https://github.com"

JSON = Any
"""A decoded JSON value."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakePull:
    """Server-side state of one pull request (``FakeGitHub.pulls[number]``)."""

    number: int
    title: str
    body: str | None
    head: str
    """Head branch name, without the ``owner:`` prefix."""
    base: str
    head_sha: str
    base_sha: str
    draft: bool = False
    state: str = "open"
    maintainer_can_modify: bool = True
    labels: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    merge_commit_sha: str | None = None
    """Set by ``FakeGitHub.merge``: the pull request is merged (and closed)."""


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it, whatever the outcome (``FakeGitHub.log``)."""

    method: str
    path: str
    query: str
    status: int
    body: JSON = None


class _ApiError(Exception):
    """Raised by handlers to answer with a GitHub-shaped error."""

    def __init__(self, status: int, body: dict[str, JSON]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


@dataclass
class _Response:
    status: int
    body: JSON = None
    headers: dict[str, str] = field(default_factory=dict)


def _not_found() -> _ApiError:
    return _ApiError(404, {"message": "Not Found", "documentation_url": _DOCS})


def _validation_failed(*errors: dict[str, str]) -> _ApiError:
    return _ApiError(
        422,
        {"message": "Validation Failed", "errors": list(errors), "documentation_url": _DOCS_PULLS},
    )


def _invalid(field_name: str, code: str = "invalid") -> _ApiError:
    return _validation_failed({"resource": "PullRequest", "field": field_name, "code": code})


_Handler = Callable[["FakeGitHub", "_Request"], _Response]


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    body: JSON
    params: dict[str, str]


_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_PULL = _REPO + r"/pulls/(?P<number>\d+)"
_ISSUE = _REPO + r"/issues/(?P<number>\d+)"


class FakeGitHub:
    """Stateful fake GitHub REST API for one repository backed by a bare git ``remote``.

    Attributes inspectable from tests (read them; mutate only through the methods):

    * ``url``: base URL for ``github.Github(base_url=...)`` / ``GITHUB_API_URL``.
    * ``pulls``: ``dict[int, FakePull]``, every pull request by number.
    * ``requests``: ``(method, path)`` of every request routed to a known endpoint
      (whatever its answer, including 404 for another repository or 422).
    * ``unhandled``: ``(method, path)`` of requests for endpoints the fake does not
      implement (answered 404); assert it is empty at the end of a test.
    * ``log``: :class:`LoggedRequest` for every request received, including injected
      faults and 401s, with query string, status and decoded JSON body.
    * ``errors``: tracebacks of bugs in the fake itself (answered 500).
    """

    def __init__(
        self,
        remote: Path,
        *,
        owner: str = "acme",
        name: str = "gitops",
        token: str = "test-token",
        default_branch: str = "main",
    ) -> None:
        self.remote = Path(remote)
        self.owner = owner
        self.name = name
        self.token = token
        self.default_branch = default_branch
        self.login = BOT_LOGIN
        self.permissions: dict[str, bool] = {
            "admin": False,
            "maintain": False,
            "push": True,
            "triage": True,
            "pull": True,
        }
        self.pulls: dict[int, FakePull] = {}
        self.requests: list[tuple[str, str]] = []
        self.unhandled: list[tuple[str, str]] = []
        self.log: list[LoggedRequest] = []
        self.errors: list[str] = []

        self._lock = threading.RLock()
        self._faults: deque[tuple[int, str | None]] = deque()
        self._label_ids: dict[str, int] = {}
        self._user_ids: dict[str, int] = {owner.lower(): 1, BOT_LOGIN: 2}
        self._team_ids: dict[str, int] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._url: str | None = None

        probe = self._git("rev-parse", "--is-bare-repository")
        if probe.returncode != 0 or probe.stdout.strip() != "true":
            raise ValueError(f"{self.remote} is not a bare git repository: {probe.stderr.strip()}")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeGitHub:
        """Start serving (again, on the same port after :meth:`stop`); returns ``self``."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("FakeGitHub is already running")
            server = _Server(("127.0.0.1", self._port), _RequestHandler)
            server.fake = self
            self._port = server.server_address[1]
            self._url = f"http://127.0.0.1:{self._port}"
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeGitHub:{self._port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port; later requests get "connection refused".

        Idempotent. ``url`` keeps its value so clients can observe the outage.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()  # also joins the handler threads
        thread.join()

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. ``http://127.0.0.1:40123`` (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("FakeGitHub has not been started")
        return self._url

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    # ------------------------------------------------------------------ test controls

    def fail_next(self, status: int, count: int = 1, *, message: str | None = None) -> None:
        """Answer the next ``count`` requests (any endpoint) with ``status``.

        The body is ``{"message": message}``; by default ``"Server Error"`` for 5xx and the
        HTTP reason phrase otherwise. Faults are consumed before authentication.
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._faults.extend([(status, message)] * count)

    def set_permissions(
        self,
        *,
        admin: bool | None = None,
        maintain: bool | None = None,
        push: bool | None = None,
        triage: bool | None = None,
        pull: bool | None = None,
    ) -> None:
        """Change what ``GET /repos/{owner}/{name}`` reports in ``permissions`` (not enforced)."""
        given = {"admin": admin, "maintain": maintain, "push": push, "triage": triage, "pull": pull}
        with self._lock:
            self.permissions.update({k: v for k, v in given.items() if v is not None})

    def add_pull(
        self,
        head: str,
        base: str | None = None,
        *,
        title: str = "",
        body: str | None = None,
        draft: bool = False,
        labels: Iterable[str] = (),
        state: str = "open",
    ) -> FakePull:
        """Seed a pull request directly (no HTTP, no checks except that the branches exist)."""
        with self._lock:
            base = base or self.default_branch
            head_sha, base_sha = self._rev_parse(head), self._rev_parse(base)
            if head_sha is None or base_sha is None:
                raise ValueError(f"branch {head!r} or {base!r} missing in {self.remote}")
            pull = FakePull(
                number=len(self.pulls) + 1,
                title=title,
                body=body,
                head=head,
                base=base,
                head_sha=head_sha,
                base_sha=base_sha,
                draft=draft,
                state=state,
                closed_at=_now() if state == "closed" else None,
            )
            for label in labels:
                self._label_id(label)
                pull.labels.append(label)
            self.pulls[pull.number] = pull
            return pull

    def merge(self, number: int, commit: str) -> None:
        """Mark pull request ``number`` merged by ``commit`` (the test pushes that commit to
        the base branch itself), as GitHub shows a merged pull request."""
        with self._lock:
            pull = self.pulls[number]
            pull.state, pull.closed_at, pull.merge_commit_sha = "closed", _now(), commit

    def open_pulls(self) -> list[FakePull]:
        """The open pull requests, by number."""
        with self._lock:
            return [p for _, p in sorted(self.pulls.items()) if p.state == "open"]

    # ------------------------------------------------------------------ git

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "--git-dir", str(self.remote), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def _rev_parse(self, branch: str) -> str | None:
        """SHA of ``refs/heads/<branch>`` in the bare remote, or None when it does not exist."""
        if not branch:
            return None
        proc = self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
        sha = proc.stdout.strip()
        return sha if proc.returncode == 0 and sha else None

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._git("merge-base", "--is-ancestor", ancestor, descendant).returncode == 0

    def _refresh(self, pull: FakePull) -> None:
        """Re-read head/base SHAs from the remote; close an open PR whose head branch is gone."""
        head_sha = self._rev_parse(pull.head)
        if head_sha is None:
            if pull.state == "open":
                pull.state = "closed"
                pull.closed_at = pull.updated_at = _now()
        else:
            pull.head_sha = head_sha
        base_sha = self._rev_parse(pull.base)
        if base_sha is not None:
            pull.base_sha = base_sha

    # ------------------------------------------------------------------ JSON builders

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _repo_api(self, path: str = "") -> str:
        return self._api(f"/repos/{self.owner}/{self.name}{path}")

    def _user_id(self, login: str) -> int:
        key = login.lower()
        if key not in self._user_ids:
            self._user_ids[key] = 1000 + len(self._user_ids)
        return self._user_ids[key]

    def _label_id(self, name: str) -> int:
        if name not in self._label_ids:
            self._label_ids[name] = 5000 + len(self._label_ids)
        return self._label_ids[name]

    def _team_id(self, slug: str) -> int:
        if slug not in self._team_ids:
            self._team_ids[slug] = 7000 + len(self._team_ids)
        return self._team_ids[slug]

    def _user_json(self, login: str) -> dict[str, JSON]:
        uid = self._user_id(login)
        is_org = login.lower() == self.owner.lower()
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_fake{uid}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": self._api(f"/users/{quote(login)}"),
            "html_url": f"{_WEB}/{login}",
            "repos_url": self._api(f"/users/{quote(login)}/repos"),
            "type": "Organization" if is_org else "User",
            "site_admin": False,
        }

    def _repo_json(self, *, with_permissions: bool = True) -> dict[str, JSON]:
        repo: dict[str, JSON] = {
            "id": 4242,
            "node_id": "R_fake4242",
            "name": self.name,
            "full_name": self.full_name,
            "private": True,
            "visibility": "private",
            "owner": self._user_json(self.owner),
            "html_url": f"{_WEB}/{self.full_name}",
            "description": "fake repository served by tests.fakes.github",
            "fork": False,
            "url": self._repo_api(),
            "pulls_url": self._repo_api("/pulls{/number}"),
            "issues_url": self._repo_api("/issues{/number}"),
            "labels_url": self._repo_api("/labels{/name}"),
            "branches_url": self._repo_api("/branches{/branch}"),
            "git_url": f"git://github.com/{self.full_name}.git",
            "ssh_url": f"git@github.com:{self.full_name}.git",
            "clone_url": self.remote.resolve().as_uri(),
            "default_branch": self.default_branch,
            "archived": False,
            "disabled": False,
            "has_issues": True,
            "allow_merge_commit": True,
            "allow_squash_merge": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "pushed_at": "2024-01-01T00:00:00Z",
        }
        if with_permissions:
            repo["permissions"] = dict(self.permissions)
        return repo

    def _label_json(self, name: str) -> dict[str, JSON]:
        lid = self._label_id(name)
        return {
            "id": lid,
            "node_id": f"LA_fake{lid}",
            "url": self._repo_api(f"/labels/{quote(name, safe='')}"),
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def _team_json(self, slug: str) -> dict[str, JSON]:
        tid = self._team_id(slug)
        return {
            "id": tid,
            "node_id": f"T_fake{tid}",
            "url": self._api(f"/organizations/1/team/{tid}"),
            "html_url": f"{_WEB}/orgs/{self.owner}/teams/{slug}",
            "name": slug,
            "slug": slug,
            "description": None,
            "privacy": "closed",
            "permission": "pull",
            "parent": None,
        }

    def _part_json(self, ref: str, sha: str) -> dict[str, JSON]:
        return {
            "label": f"{self.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user_json(self.owner),
            "repo": self._repo_json(with_permissions=False),
        }

    def _pull_json(self, pull: FakePull, *, simple: bool = False) -> dict[str, JSON]:
        n = pull.number
        url = self._repo_api(f"/pulls/{n}")
        issue_url = self._repo_api(f"/issues/{n}")
        html_url = f"{_WEB}/{self.full_name}/pull/{n}"
        data: dict[str, JSON] = {
            "url": url,
            "id": 100000 + n,
            "node_id": f"PR_fake{n}",
            "html_url": html_url,
            "diff_url": f"{html_url}.diff",
            "patch_url": f"{html_url}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": self._repo_api("/pulls/comments{/number}"),
            "comments_url": f"{issue_url}/comments",
            "statuses_url": self._repo_api(f"/statuses/{pull.head_sha}"),
            "number": n,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user_json(self.login),
            "body": pull.body,
            "labels": [self._label_json(name) for name in pull.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.closed_at if pull.merge_commit_sha else None,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [self._user_json(u) for u in pull.requested_reviewers],
            "requested_teams": [self._team_json(t) for t in pull.requested_teams],
            "head": self._part_json(pull.head, pull.head_sha),
            "base": self._part_json(pull.base, pull.base_sha),
            "_links": {
                "self": {"href": url},
                "html": {"href": html_url},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "commits": {"href": f"{url}/commits"},
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "draft": pull.draft,
        }
        if not simple:
            data.update(
                {
                    "merged": pull.merge_commit_sha is not None,
                    "mergeable": pull.state == "open",
                    "rebaseable": pull.state == "open",
                    "mergeable_state": "clean" if pull.state == "open" else "unknown",
                    "merged_by": None,
                    "comments": 0,
                    "review_comments": 0,
                    "maintainer_can_modify": pull.maintainer_can_modify,
                    "commits": 1,
                    "additions": 1,
                    "deletions": 0,
                    "changed_files": 1,
                }
            )
        return data

    def _issue_json(self, pull: FakePull) -> dict[str, JSON]:
        n = pull.number
        issue_url = self._repo_api(f"/issues/{n}")
        html_url = f"{_WEB}/{self.full_name}/pull/{n}"
        return {
            "url": issue_url,
            "repository_url": self._repo_api(),
            "labels_url": f"{issue_url}/labels{{/name}}",
            "comments_url": f"{issue_url}/comments",
            "events_url": f"{issue_url}/events",
            "html_url": html_url,
            "id": 100000 + n,
            "node_id": f"PR_fake{n}",
            "number": n,
            "title": pull.title,
            "user": self._user_json(self.login),
            "labels": [self._label_json(name) for name in pull.labels],
            "state": pull.state,
            "state_reason": None,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 0,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "author_association": "MEMBER",
            "active_lock_reason": None,
            "draft": pull.draft,
            "body": pull.body,
            "pull_request": {
                "url": self._repo_api(f"/pulls/{n}"),
                "html_url": html_url,
                "diff_url": f"{html_url}.diff",
                "patch_url": f"{html_url}.patch",
                "merged_at": None,
            },
        }

    # ------------------------------------------------------------------ helpers

    def _paginate(self, req: _Request, items: list[JSON]) -> _Response:
        try:
            per_page = min(max(int(req.query.get("per_page", "30")), 1), 100)
        except ValueError:
            per_page = 30
        try:
            page = max(int(req.query.get("page", "1")), 1)
        except ValueError:
            page = 1
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(target: int, rel: str) -> str:
            query = {**req.query, "page": str(target), "per_page": str(per_page)}
            return f'<{self._api(req.path)}?{urlencode(query)}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(min(page - 1, last), "prev")]
        return _Response(200, chunk, {"Link": ", ".join(links)} if links else {})

    def _pull_or_404(self, req: _Request) -> FakePull:
        pull = self.pulls.get(int(req.params["number"]))
        if pull is None:
            raise _not_found()
        self._refresh(pull)
        return pull

    @staticmethod
    def _object_body(req: _Request) -> dict[str, JSON]:
        if req.body is None:
            return {}
        if not isinstance(req.body, dict):
            message = "Invalid request.\n\nBody must be a JSON object."
            raise _ApiError(400, {"message": message, "documentation_url": _DOCS})
        return req.body

    def _already_exists(self, head: str) -> _ApiError:
        message = f"A pull request already exists for {self.owner}:{head}."
        return _validation_failed({"resource": "PullRequest", "code": "custom", "message": message})

    def _parse_head(self, head: str) -> str | None:
        """Branch of ``owner:branch`` or ``branch`` in this repository, else None."""
        if ":" not in head:
            return head
        owner, _, branch = head.partition(":")
        return branch if owner.lower() == self.owner.lower() else None

    # ------------------------------------------------------------------ endpoints

    def _get_user(self, req: _Request) -> _Response:
        user = self._user_json(self.login)
        user.update({"name": "Promoter Bot", "email": None, "created_at": "2024-01-01T00:00:00Z"})
        return _Response(200, user)

    def _get_named_user(self, req: _Request) -> _Response:
        login = req.params["login"]
        if login.lower() not in self._user_ids:
            raise _not_found()
        return _Response(200, self._user_json(login))

    def _get_rate_limit(self, req: _Request) -> _Response:
        reset = int(datetime.now(timezone.utc).timestamp()) + 3600
        core = {"limit": 5000, "used": 1, "remaining": 4999, "reset": reset}
        resources = {
            "core": core,
            "search": {"limit": 30, "used": 0, "remaining": 30, "reset": reset},
            "graphql": {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset},
        }
        return _Response(200, {"resources": resources, "rate": core})

    def _get_repo(self, req: _Request) -> _Response:
        return _Response(200, self._repo_json())

    def _list_pulls(self, req: _Request) -> _Response:
        state = req.query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _invalid("state")
        pulls = list(self.pulls.values())
        for pull in pulls:
            self._refresh(pull)
        if state != "all":
            pulls = [p for p in pulls if p.state == state]
        head = req.query.get("head")
        # Like github.com: a head filter without the "owner:" prefix is silently ignored.
        if head and ":" in head:
            owner, _, branch = head.partition(":")
            pulls = [p for p in pulls if owner.lower() == self.owner.lower() and p.head == branch]
        base = req.query.get("base")
        if base:
            pulls = [p for p in pulls if p.base == base]
        sort = req.query.get("sort", "created")
        key = {"updated": "updated_at", "created": "created_at"}.get(sort, "created_at")
        default_direction = "desc" if sort == "created" else "asc"
        reverse = req.query.get("direction", default_direction) == "desc"
        pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=reverse)
        return self._paginate(req, [self._pull_json(p, simple=True) for p in pulls])

    def _create_pull(self, req: _Request) -> _Response:
        body = self._object_body(req)
        head_arg, base = body.get("head"), body.get("base")
        title = body.get("title")
        for name, value in (("head", head_arg), ("base", base), ("title", title)):
            if not isinstance(value, str) or not value:
                raise _invalid(name, "missing_field")
        assert isinstance(head_arg, str) and isinstance(base, str) and isinstance(title, str)
        base_sha = self._rev_parse(base)
        if base_sha is None:
            raise _invalid("base")
        head = self._parse_head(head_arg)
        head_sha = self._rev_parse(head) if head is not None else None
        if head is None or head_sha is None:
            raise _invalid("head")
        for other in self.pulls.values():
            self._refresh(other)
            if other.state == "open" and other.head == head and other.base == base:
                raise self._already_exists(head)
        if self._is_ancestor(head_sha, base_sha):
            raise _validation_failed(
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head}",
                }
            )
        text = body.get("body")
        pull = FakePull(
            number=len(self.pulls) + 1,
            title=title,
            body=text if isinstance(text, str) else None,
            head=head,
            base=base,
            head_sha=head_sha,
            base_sha=base_sha,
            draft=bool(body.get("draft", False)),
            maintainer_can_modify=bool(body.get("maintainer_can_modify", True)),
        )
        self.pulls[pull.number] = pull
        return _Response(
            201, self._pull_json(pull), {"Location": self._repo_api(f"/pulls/{pull.number}")}
        )

    def _get_pull(self, req: _Request) -> _Response:
        return _Response(200, self._pull_json(self._pull_or_404(req)))

    def _update_pull(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        body = self._object_body(req)
        if "state" in body and body["state"] not in ("open", "closed"):
            raise _invalid("state")
        new_base = body.get("base", pull.base)
        if "base" in body and (not isinstance(new_base, str) or not self._rev_parse(new_base)):
            raise _invalid("base")
        reopening = body.get("state") == "open" and pull.state == "closed"
        if reopening and self._rev_parse(pull.head) is None:
            raise _invalid("state")
        if reopening or (pull.state == "open" and new_base != pull.base):
            for other in self.pulls.values():
                same = (other.head, other.base) == (pull.head, new_base)
                if other is not pull and other.state == "open" and same:
                    raise self._already_exists(pull.head)
        if isinstance(body.get("title"), str):
            pull.title = body["title"]
        if "body" in body:
            pull.body = body["body"] if isinstance(body["body"], str) else None
        if isinstance(body.get("base"), str):
            pull.base = body["base"]
        if isinstance(body.get("maintainer_can_modify"), bool):
            pull.maintainer_can_modify = body["maintainer_can_modify"]
        if body.get("state") in ("open", "closed") and body["state"] != pull.state:
            pull.state = body["state"]
            pull.closed_at = _now() if pull.state == "closed" else None
        pull.updated_at = _now()
        self._refresh(pull)
        return _Response(200, self._pull_json(pull))

    def _get_review_requests(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        return _Response(
            200,
            {
                "users": [self._user_json(u) for u in pull.requested_reviewers],
                "teams": [self._team_json(t) for t in pull.requested_teams],
            },
        )

    def _request_reviewers(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        body = self._object_body(req)
        users, teams = body.get("reviewers", []), body.get("team_reviewers", [])
        if not isinstance(users, list) or not isinstance(teams, list):
            raise _validation_failed({"resource": "PullRequest", "code": "invalid"})
        if any(str(u).lower() == self.login.lower() for u in users):
            raise _ApiError(
                422,
                {
                    "message": "Review cannot be requested from pull request author.",
                    "documentation_url": _DOCS,
                },
            )
        for user in map(str, users):
            if user not in pull.requested_reviewers:
                pull.requested_reviewers.append(user)
                self._user_id(user)
        for team in map(str, teams):
            if team not in pull.requested_teams:
                pull.requested_teams.append(team)
        pull.updated_at = _now()
        return _Response(201, self._pull_json(pull, simple=True))

    def _get_issue(self, req: _Request) -> _Response:
        return _Response(200, self._issue_json(self._pull_or_404(req)))

    def _label_names(self, req: _Request) -> list[str]:
        raw = req.body
        if isinstance(raw, dict):
            raw = raw.get("labels", [])
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise _validation_failed({"resource": "Label", "field": "labels", "code": "invalid"})
        names: list[str] = []
        for item in raw:
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name.strip():
                raise _validation_failed({"resource": "Label", "field": "name", "code": "invalid"})
            names.append(name)
        return names

    def _labels_response(self, pull: FakePull) -> _Response:
        return _Response(200, [self._label_json(name) for name in pull.labels])

    def _get_labels(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        return self._paginate(req, [self._label_json(name) for name in pull.labels])

    def _add_labels(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        for name in self._label_names(req):
            if name not in pull.labels:
                pull.labels.append(name)
        pull.updated_at = _now()
        return self._labels_response(pull)

    def _set_labels(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        pull.labels = list(dict.fromkeys(self._label_names(req)))
        pull.updated_at = _now()
        return self._labels_response(pull)

    def _clear_labels(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        pull.labels = []
        pull.updated_at = _now()
        return _Response(204)

    def _remove_label(self, req: _Request) -> _Response:
        pull = self._pull_or_404(req)
        name = req.params["label"]
        if name not in pull.labels:
            raise _ApiError(404, {"message": "Label does not exist", "documentation_url": _DOCS})
        pull.labels.remove(name)
        pull.updated_at = _now()
        return self._labels_response(pull)

    def _compare(self, req: _Request) -> _Response:
        """``GET .../compare/BASE...HEAD``: the commits of the bare remote between them."""
        base, _, head = req.params["basehead"].partition("...")
        listed = self._git("rev-list", "--reverse", f"{base}..{head}")
        if listed.returncode != 0:
            raise _not_found()
        commits: list[JSON] = []
        for sha in listed.stdout.split():
            shown = self._git("log", "-1", "--format=%an%x00%ae%x00%aI%x00%B", sha).stdout
            name, email, date, message = shown.split("\x00", 3)
            person: dict[str, JSON] = {"name": name, "email": email, "date": date}
            commits.append(
                {
                    "sha": sha,
                    "url": self._repo_api(f"/commits/{sha}"),
                    "html_url": f"{_WEB}/{self.full_name}/commit/{sha}",
                    "commit": {"message": message.rstrip("\n"), "author": person},
                    "author": None,
                }
            )
        return _Response(
            200,
            {
                "url": self._repo_api(f"/compare/{base}...{head}"),
                "html_url": f"{_WEB}/{self.full_name}/compare/{base}...{head}",
                "status": "ahead",
                "ahead_by": len(commits),
                "behind_by": 0,
                "total_commits": len(commits),
                "commits": commits,
                "files": [],
            },
        )

    # ------------------------------------------------------------------ dispatch

    def _handle(self, method: str, target: str, raw_body: bytes, auth: str | None) -> _Response:
        """Answer one request; called by the HTTP handler threads."""
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body: JSON = None
        body_error = False
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body_error = True
        with self._lock:
            response = self._answer(method, path, query, body, body_error, auth)
            self.log.append(LoggedRequest(method, path, split.query, response.status, body))
            return response

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: JSON,
        body_error: bool,
        auth: str | None,
    ) -> _Response:
        if self._faults:
            status, message = self._faults.popleft()
            if message is None:
                message = "Server Error" if status >= 500 else HTTPStatus(status).phrase
            return _Response(status, {"message": message})
        scheme, _, credential = (auth or "").strip().partition(" ")
        if scheme.lower() not in ("token", "bearer") or credential.strip() != self.token:
            return _Response(401, {"message": "Bad credentials", "documentation_url": _DOCS})
        for route_method, pattern, handler, repo_scoped in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None or route_method != method:
                continue
            self.requests.append((method, path))
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                if body_error:
                    raise _ApiError(
                        400, {"message": "Problems parsing JSON", "documentation_url": _DOCS}
                    )
                if repo_scoped and (
                    params["owner"].lower() != self.owner.lower()
                    or params["repo"].lower() != self.name.lower()
                ):
                    raise _not_found()
                return handler(self, _Request(method, path, query, body, params))
            except _ApiError as err:
                return _Response(err.status, err.body)
            except Exception:
                self.errors.append(traceback.format_exc())
                return _Response(500, {"message": "FakeGitHub internal error (see gh.errors)"})
        self.unhandled.append((method, path))
        return _Response(404, {"message": "Not Found", "documentation_url": _DOCS})


_ROUTES: tuple[tuple[str, re.Pattern[str], _Handler, bool], ...] = tuple(
    (method, re.compile(pattern), handler, pattern.startswith("/repos/"))
    for method, pattern, handler in (
        ("GET", r"/user", FakeGitHub._get_user),
        ("GET", r"/users/(?P<login>[^/]+)", FakeGitHub._get_named_user),
        ("GET", r"/rate_limit", FakeGitHub._get_rate_limit),
        ("GET", _REPO, FakeGitHub._get_repo),
        ("GET", _REPO + r"/pulls", FakeGitHub._list_pulls),
        ("POST", _REPO + r"/pulls", FakeGitHub._create_pull),
        ("GET", _PULL, FakeGitHub._get_pull),
        ("PATCH", _PULL, FakeGitHub._update_pull),
        ("GET", _PULL + r"/requested_reviewers", FakeGitHub._get_review_requests),
        ("POST", _PULL + r"/requested_reviewers", FakeGitHub._request_reviewers),
        ("GET", _ISSUE, FakeGitHub._get_issue),
        ("GET", _ISSUE + r"/labels", FakeGitHub._get_labels),
        ("POST", _ISSUE + r"/labels", FakeGitHub._add_labels),
        ("PUT", _ISSUE + r"/labels", FakeGitHub._set_labels),
        ("DELETE", _ISSUE + r"/labels", FakeGitHub._clear_labels),
        ("DELETE", _ISSUE + r"/labels/(?P<label>[^/]+)", FakeGitHub._remove_label),
        ("GET", _REPO + r"/compare/(?P<basehead>[^/]+)", FakeGitHub._compare),
    )
)


class _Server(ThreadingHTTPServer):
    """Threading server whose handler threads are joined by ``server_close()``."""

    daemon_threads = False
    block_on_close = True
    fake: FakeGitHub


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so stop() leaves no kept-alive connection behind.
    protocol_version = "HTTP/1.0"
    server_version = "FakeGitHub/1.0"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging to stderr."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""  # always drain: avoids RSTs
        server = self.server
        assert isinstance(server, _Server)
        auth = self.headers.get("Authorization")
        response = server.fake._handle(self.command, self.path, raw, auth)
        payload = b"" if response.status == 204 else json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        reset = int(datetime.now(timezone.utc).timestamp()) + 3600
        self.send_header("X-RateLimit-Reset", str(reset))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve
