"""A local, stateful fake of the slice of the GitLab REST API v4 that kustomize-promoter uses.

Like ``tests/fakes/github.py``, it is a real HTTP server (standard library only) on
127.0.0.1 and an ephemeral port, so the code under test talks to it through real
python-gitlab, exactly as it would talk to a GitLab instance::

    with FakeGitLab(bare_remote, project="acme/platform/gitops") as gl:
        env = {"CI_API_V4_URL": gl.api_url, "GITLAB_TOKEN": gl.token}
        ...
        assert gl.unhandled == []

It serves one project, reachable by its URL-encoded path (``acme%2Fplatform%2Fgitops``,
matched case-insensitively) and by its numeric id, whose branches live in a real *bare*
git repository (``remote``): opening a merge request checks that its source and target
branches really exist there, and a merge request's ``sha`` is read from it.

Faithful on purpose (the behaviours of the real API that callers get wrong):

* Auth is ``PRIVATE-TOKEN: <token>`` or ``Authorization: Bearer <token>``; anything else
  answers 401 ``{"message": "401 Unauthorized"}`` (``/version`` too).
* Merge requests have an ``id`` (instance-wide) and an ``iid`` (per project, the ``!3``
  that URLs and every ``/merge_requests/:iid`` path use); the two differ.
* Draft is the title prefix (``Draft:``, ``[Draft]``, ``(Draft)``), reported as ``draft``.
* A second open merge request for the same source project, source and target branch answers
  409 with ``{"message": ["Another open merge request already exists for this source
  branch: !N"]}``; a source or target branch missing from the remote answers 422; a
  missing required parameter answers 400 ``{"error": "title is missing"}``.
* List filters ``state`` (``opened``/``closed``/``merged``/``locked``/``all``),
  ``source_branch`` and ``target_branch``; a merge request from a fork (another
  ``source_project_id``) with the same branch name shows up in the list, as on GitLab.
* ``reviewer_ids`` and ``assignee_id`` replace; ``labels`` replaces, ``add_labels`` adds;
  labels a merge request names are created in the project. Unknown user ids are dropped.
* ``PUT .../merge``: see ``auto_merge`` below. Without a flag it merges at once (a real
  fast-forward of the target branch in the remote, 406 when that is impossible).
* Lists are paginated with ``page``/``per_page``, ``X-*`` headers and ``Link``.
* Writes need Developer access (``access_level`` 30, the default): below it they answer
  403 ``{"message": "403 Forbidden"}``; below Guest (10) the project answers 404
  ``{"message": "404 Project Not Found"}``.

``auto_merge`` picks the GitLab being simulated:

* ``"auto_merge"`` (default; version 17.11.0): ``auto_merge`` and the deprecated
  ``merge_when_pipeline_succeeds`` both set auto-merge;
* ``"merge_when_pipeline_succeeds"`` (version 16.11.0): only that flag; ``auto_merge`` is
  an unknown parameter, ignored, so the merge request is merged at once;
* ``None`` (version 8.2.0): no auto-merge; ``PUT .../merge`` with a flag answers 405.

Every merge request is taken to have a running pipeline, so auto-merge stays pending.

Fault injection: :meth:`FakeGitLab.fail_next` answers the next requests with a status;
:meth:`FakeGitLab.stop` closes the port ("connection refused"), :meth:`FakeGitLab.start`
reopens it on the same port.
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
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

__all__ = ["BOT_USERNAME", "FakeGitLab", "FakeMergeRequest", "LoggedRequest"]

BOT_USERNAME = "promoter-bot"
"""Username of the user that owns every token the fake accepts (the author of its MRs)."""

API_PREFIX = "/api/v4"
DESCRIPTION_LIMIT = 1_048_576
TITLE_LIMIT = 255
DEVELOPER, GUEST = 30, 10
_DRAFT = re.compile(r"^\s*(?:\[draft\]|\(draft\)|draft:)", re.IGNORECASE)
_VERSIONS = {"auto_merge": "17.11.0", "merge_when_pipeline_succeeds": "16.11.0", None: "8.2.0"}

JSON = Any
"""A decoded JSON value."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class FakeMergeRequest:
    """Server-side state of one merge request (``FakeGitLab.merge_requests[iid]``)."""

    id: int
    iid: int
    title: str
    description: str
    source_branch: str
    target_branch: str
    source_project_id: int
    target_project_id: int
    author_id: int
    sha: str | None
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    reviewer_ids: list[int] = field(default_factory=list)
    assignee_id: int | None = None
    merge_when_pipeline_succeeds: bool = False
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    merged_at: str | None = None
    closed_at: str | None = None

    @property
    def draft(self) -> bool:
        """Whether the title marks the merge request as a draft."""
        return bool(_DRAFT.match(self.title))


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it, whatever the outcome (``FakeGitLab.log``)."""

    method: str
    path: str
    query: str
    status: int
    body: JSON = None
    headers: tuple[tuple[str, str], ...] = ()


class _ApiError(Exception):
    """Raised by handlers to answer with a GitLab-shaped error."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def _message(status: int, text: str | None = None) -> _ApiError:
    return _ApiError(status, {"message": text or f"{status} {HTTPStatus(status).phrase}"})


@dataclass
class _Response:
    status: int
    body: JSON = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None


@dataclass
class _Request:
    method: str
    path: str
    params: dict[str, JSON]
    match: dict[str, str]


_Handler = Callable[["FakeGitLab", "_Request"], _Response]

_PROJECT = r"/projects/(?P<project>[^/]+)"
_MR = _PROJECT + r"/merge_requests/(?P<iid>\d+)"


class FakeGitLab:
    """Stateful fake GitLab REST API v4 for one project backed by a bare git ``remote``.

    Inspectable from tests (read them; change state through the methods):

    * ``url`` (the server, for python-gitlab's ``Gitlab(url)``) and ``api_url``
      (``url + "/api/v4"``, for ``CI_API_V4_URL``);
    * ``merge_requests``: ``dict[int, FakeMergeRequest]`` by iid; ``labels``: project labels;
    * ``users``: ``dict[int, str]`` id -> username (the bot is id 1);
    * ``requests``: ``(method, path)`` of every request routed to a known endpoint;
    * ``unhandled``: requests for endpoints the fake lacks (answered 404): assert empty;
    * ``log``: a :class:`LoggedRequest` for every request, faults and 401s included;
    * ``errors``: tracebacks of bugs in the fake itself (answered 500).
    """

    def __init__(
        self,
        remote: Path,
        *,
        project: str = "acme/platform/gitops",
        project_id: int = 42,
        token: str = "test-token",
        default_branch: str = "main",
        auto_merge: str | None = "auto_merge",
        version: str | None = None,
        web_url: str = "https://gitlab.example.com",
    ) -> None:
        if auto_merge not in _VERSIONS:
            raise ValueError(f"auto_merge must be one of {sorted(map(str, _VERSIONS))}")
        self.remote = Path(remote)
        self.project = project
        self.project_id = project_id
        self.token = token
        self.default_branch = default_branch
        self.auto_merge = auto_merge
        self.version = version or _VERSIONS[auto_merge]
        self.web_url = web_url.rstrip("/")
        self.access_level = DEVELOPER
        self.merge_requests: dict[int, FakeMergeRequest] = {}
        self.labels: dict[str, int] = {}
        self.users: dict[int, str] = {1: BOT_USERNAME}
        self.requests: list[tuple[str, str]] = []
        self.unhandled: list[tuple[str, str]] = []
        self.log: list[LoggedRequest] = []
        self.errors: list[str] = []

        self._lock = threading.RLock()
        self._faults: deque[tuple[int, JSON, str | None]] = deque()
        self._next_id = 9000
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._url: str | None = None

        probe = self._git("rev-parse", "--is-bare-repository")
        if probe.returncode != 0 or probe.stdout.strip() != "true":
            raise ValueError(f"{self.remote} is not a bare git repository: {probe.stderr.strip()}")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeGitLab:
        """Start serving (again, on the same port after :meth:`stop`); returns ``self``."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("FakeGitLab is already running")
            server = _Server(("127.0.0.1", self._port), _RequestHandler)
            server.fake = self
            self._port = server.server_address[1]
            self._url = f"http://127.0.0.1:{self._port}"
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeGitLab:{self._port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port; later requests get "connection refused"."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def __enter__(self) -> FakeGitLab:
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
        """The server, e.g. ``http://127.0.0.1:40123`` (python-gitlab adds ``/api/v4``)."""
        if self._url is None:
            raise RuntimeError("FakeGitLab has not been started")
        return self._url

    @property
    def api_url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:40123/api/v4`` (``CI_API_V4_URL``)."""
        return self.url + API_PREFIX

    # ------------------------------------------------------------------ test controls

    def fail_next(
        self, status: int, count: int = 1, *, message: JSON = None, body: str | None = None
    ) -> None:
        """Answer the next ``count`` requests (any endpoint, before auth) with ``status``:
        ``{"message": message}`` (default ``"<status> <reason>"``), or the text ``body``
        as an HTML page (what a proxy in front of GitLab answers)."""
        if count < 1:
            raise ValueError("count must be >= 1")
        default = f"{status} {HTTPStatus(status).phrase}"
        with self._lock:
            self._faults.extend([(status, message or default, body)] * count)

    def set_access_level(self, level: int) -> None:
        """The token user's access level in the project (10 guest ... 30 developer ...)."""
        with self._lock:
            self.access_level = level

    def add_user(self, username: str) -> int:
        """A user the token can find by username; returns the user's id."""
        with self._lock:
            for uid, name in self.users.items():
                if name.lower() == username.lower():
                    return uid
            uid = 100 + len(self.users)
            self.users[uid] = username
            return uid

    def add_merge_request(
        self,
        source: str,
        target: str | None = None,
        *,
        title: str = "seeded",
        description: str = "",
        state: str = "opened",
        source_project_id: int | None = None,
        labels: Iterable[str] = (),
    ) -> FakeMergeRequest:
        """Seed a merge request directly (no HTTP, no checks; a fork's when
        ``source_project_id`` differs from the project's)."""
        with self._lock:
            mr = self._new_merge_request(
                source,
                target or self.default_branch,
                title,
                description,
                source_project_id or self.project_id,
            )
            mr.state = state
            for label in labels:
                self._label(label)
                mr.labels.append(label)
            return mr

    def open_merge_requests(self) -> list[FakeMergeRequest]:
        """The opened merge requests, by iid."""
        with self._lock:
            return [mr for _, mr in sorted(self.merge_requests.items()) if mr.state == "opened"]

    # ------------------------------------------------------------------ git

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "--git-dir", str(self.remote), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def _rev_parse(self, branch: str) -> str | None:
        if not branch:
            return None
        proc = self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
        sha = proc.stdout.strip()
        return sha if proc.returncode == 0 and sha else None

    # ------------------------------------------------------------------ state helpers

    def _new_merge_request(
        self, source: str, target: str, title: str, description: str, source_project_id: int
    ) -> FakeMergeRequest:
        self._next_id += 1
        mr = FakeMergeRequest(
            id=self._next_id,
            iid=len(self.merge_requests) + 1,
            title=title,
            description=description,
            source_branch=source,
            target_branch=target,
            source_project_id=source_project_id,
            target_project_id=self.project_id,
            author_id=1,
            sha=self._rev_parse(source),
        )
        self.merge_requests[mr.iid] = mr
        return mr

    def _label(self, name: str) -> int:
        if name not in self.labels:
            self.labels[name] = 700 + len(self.labels)
        return self.labels[name]

    # ------------------------------------------------------------------ JSON builders

    def _user_json(self, uid: int) -> dict[str, JSON]:
        name = self.users[uid]
        return {
            "id": uid,
            "username": name,
            "name": name.replace("-", " ").title(),
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{self.web_url}/{name}",
        }

    def _project_json(self) -> dict[str, JSON]:
        namespace, _, name = self.project.rpartition("/")
        return {
            "id": self.project_id,
            "description": None,
            "name": name,
            "name_with_namespace": " / ".join(self.project.split("/")),
            "path": name,
            "path_with_namespace": self.project,
            "created_at": "2024-01-01T00:00:00.000Z",
            "default_branch": self.default_branch,
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@{urlsplit(self.web_url).hostname}:{self.project}.git",
            "http_url_to_repo": f"{self.web_url}/{self.project}.git",
            "web_url": f"{self.web_url}/{self.project}",
            "visibility": "private",
            "merge_requests_enabled": True,
            "only_allow_merge_if_pipeline_succeeds": False,
            "merge_method": "merge",
            "namespace": {
                "id": 7,
                "name": namespace.rpartition("/")[2],
                "path": namespace.rpartition("/")[2],
                "kind": "group",
                "full_path": namespace,
                "parent_id": 6 if "/" in namespace else None,
                "avatar_url": None,
                "web_url": f"{self.web_url}/groups/{namespace}",
            },
            "permissions": {
                "project_access": {"access_level": self.access_level, "notification_level": 3},
                "group_access": None,
            },
        }

    def _mr_json(self, mr: FakeMergeRequest, *, single: bool = True) -> dict[str, JSON]:
        if mr.state == "opened" and (sha := self._rev_parse(mr.source_branch)):
            mr.sha = sha
        base_sha = self._rev_parse(mr.target_branch)
        assignees = [self._user_json(mr.assignee_id)] if mr.assignee_id in self.users else []
        body: dict[str, JSON] = {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.target_project_id,
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "created_at": mr.created_at,
            "updated_at": mr.updated_at,
            "merged_by": self._user_json(1) if mr.state == "merged" else None,
            "merge_user": self._user_json(1)
            if mr.state == "merged" or mr.merge_when_pipeline_succeeds
            else None,
            "merged_at": mr.merged_at,
            "closed_by": None,
            "closed_at": mr.closed_at,
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "user_notes_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "author": self._user_json(mr.author_id),
            "assignees": assignees,
            "assignee": assignees[0] if assignees else None,
            "reviewers": [self._user_json(uid) for uid in mr.reviewer_ids if uid in self.users],
            "source_project_id": mr.source_project_id,
            "target_project_id": mr.target_project_id,
            "labels": list(mr.labels),
            "draft": mr.draft,
            "work_in_progress": mr.draft,
            "milestone": None,
            "merge_when_pipeline_succeeds": mr.merge_when_pipeline_succeeds,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "draft_status" if mr.draft else "ci_still_running",
            "sha": mr.sha,
            "merge_commit_sha": None,
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": False,
            "prepared_at": mr.created_at,
            "reference": f"!{mr.iid}",
            "references": {
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{self.project}!{mr.iid}",
            },
            "web_url": f"{self.web_url}/{self.project}/-/merge_requests/{mr.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "squash": False,
            "squash_on_merge": False,
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_conflicts": False,
            "blocking_discussions_resolved": True,
        }
        if single:
            body |= {
                "subscribed": True,
                "changes_count": "1",
                "latest_build_started_at": None,
                "latest_build_finished_at": None,
                "first_deployed_to_production_at": None,
                "pipeline": None,
                "head_pipeline": {"id": 5000 + mr.iid, "status": "running"},
                "diff_refs": {"base_sha": base_sha, "head_sha": mr.sha, "start_sha": base_sha},
                "merge_error": None,
                "first_contribution": False,
                "user": {"can_merge": self.access_level >= DEVELOPER},
            }
        return body

    def _label_json(self, name: str) -> dict[str, JSON]:
        count = sum(1 for mr in self.open_merge_requests() if name in mr.labels)
        return {
            "id": self._label(name),
            "name": name,
            "color": "#6699cc",
            "text_color": "#FFFFFF",
            "description": None,
            "open_issues_count": 0,
            "closed_issues_count": 0,
            "open_merge_requests_count": count,
            "subscribed": False,
            "priority": None,
            "is_project_label": True,
        }

    # ------------------------------------------------------------------ parameter helpers

    @staticmethod
    def _require(req: _Request, *names: str) -> None:
        missing = [n for n in names if req.params.get(n) in (None, "")]
        if missing:
            raise _ApiError(400, {"error": ", ".join(f"{n} is missing" for n in missing)})

    @staticmethod
    def _flag(value: JSON) -> bool:
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes", "t")

    @staticmethod
    def _names(value: JSON) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])
        return [str(item).strip() for item in items if str(item).strip()]

    def _ids(self, value: JSON) -> list[int]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            items = [items]
        ids = []
        for item in items:
            try:
                ids.append(int(item))
            except (TypeError, ValueError):
                raise _ApiError(400, {"error": "reviewer_ids is invalid"}) from None
        return [uid for uid in ids if uid in self.users]  # unknown users are dropped

    def _write_access(self) -> None:
        if self.access_level < DEVELOPER:
            raise _message(403)

    def _mr_or_404(self, req: _Request) -> FakeMergeRequest:
        mr = self.merge_requests.get(int(req.match["iid"]))
        if mr is None:
            raise _message(404, "404 Not found")
        return mr

    def _check_text(self, title: JSON, description: JSON) -> None:
        errors: dict[str, list[str]] = {}
        if isinstance(title, str) and len(title) > TITLE_LIMIT:
            errors["title"] = [f"is too long (maximum is {TITLE_LIMIT} characters)"]
        if isinstance(description, str) and len(description) > DESCRIPTION_LIMIT:
            errors["description"] = [f"is too long (maximum is {DESCRIPTION_LIMIT} characters)"]
        if errors:
            raise _ApiError(400, {"message": errors})

    def _conflict(self, mr_source: str, mr_target: str, source_project: int, skip: int) -> None:
        for other in self.merge_requests.values():
            same = (other.source_branch, other.target_branch, other.source_project_id) == (
                mr_source,
                mr_target,
                source_project,
            )
            if same and other.state == "opened" and other.iid != skip:
                raise _ApiError(
                    409,
                    {
                        "message": [
                            "Another open merge request already exists for this source "
                            f"branch: !{other.iid}"
                        ]
                    },
                )

    def _paginate(self, req: _Request, items: list[JSON]) -> _Response:
        try:
            page = max(int(req.params.get("page") or 1), 1)
            per_page = min(max(int(req.params.get("per_page") or 20), 1), 100)
        except ValueError:
            raise _ApiError(400, {"error": "page is invalid"}) from None
        pages = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        query = {k: v for k, v in req.params.items() if k != "page" and v is not None}
        links = []
        if page < pages:
            links.append(f'<{self._link(req, query, page + 1)}>; rel="next"')
        if page > 1:
            links.append(f'<{self._link(req, query, page - 1)}>; rel="prev"')
        links.append(f'<{self._link(req, query, 1)}>; rel="first"')
        links.append(f'<{self._link(req, query, pages)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return _Response(200, chunk, headers)

    def _link(self, req: _Request, query: dict[str, JSON], page: int) -> str:
        return f"{self.api_url}{req.path}?{urlencode({**query, 'page': page})}"

    # ------------------------------------------------------------------ handlers

    def _get_version(self, req: _Request) -> _Response:
        return _Response(200, {"version": self.version, "revision": "fa4e0a1", "enterprise": False})

    def _get_user(self, req: _Request) -> _Response:
        return _Response(200, self._user_json(1))

    def _list_users(self, req: _Request) -> _Response:
        wanted = str(req.params.get("username") or "").lower()
        found = [
            self._user_json(uid)
            for uid, name in sorted(self.users.items())
            if not wanted or name.lower() == wanted
        ]
        return self._paginate(req, found)

    def _get_named_user(self, req: _Request) -> _Response:
        uid = int(req.match["user_id"])
        if uid not in self.users:
            raise _message(404, "404 User Not Found")
        return _Response(200, self._user_json(uid))

    def _get_project(self, req: _Request) -> _Response:
        return _Response(200, self._project_json())

    def _list_merge_requests(self, req: _Request) -> _Response:
        state = str(req.params.get("state") or "all")
        if state not in ("opened", "closed", "merged", "locked", "all"):
            raise _ApiError(400, {"error": "state does not have a valid value"})
        source, target = req.params.get("source_branch"), req.params.get("target_branch")
        found = [
            self._mr_json(mr, single=False)
            for _, mr in sorted(self.merge_requests.items(), reverse=True)
            if (state == "all" or mr.state == state)
            and (source is None or mr.source_branch == source)
            and (target is None or mr.target_branch == target)
        ]
        return self._paginate(req, found)

    def _create_merge_request(self, req: _Request) -> _Response:
        self._require(req, "source_branch", "target_branch", "title")
        self._write_access()
        p = req.params
        source, target, title = str(p["source_branch"]), str(p["target_branch"]), str(p["title"])
        description = p.get("description")
        self._check_text(title, description)
        if source == target:
            raise _ApiError(
                409, {"message": ["You can't use same project/branch for source and target"]}
            )
        for kind, branch in (("Source", source), ("Target", target)):
            if self._rev_parse(branch) is None:
                raise _ApiError(422, {"message": [f'{kind} branch "{branch}" does not exist']})
        self._conflict(source, target, self.project_id, skip=0)
        mr = self._new_merge_request(source, target, title, str(description or ""), self.project_id)
        self._apply(mr, p)
        return _Response(201, self._mr_json(mr))

    def _apply(self, mr: FakeMergeRequest, p: dict[str, JSON]) -> None:
        if "labels" in p:
            mr.labels = list(dict.fromkeys(self._names(p["labels"])))
        for name in self._names(p.get("add_labels")):
            if name not in mr.labels:
                mr.labels.append(name)
        for name in self._names(p.get("remove_labels")):
            if name in mr.labels:
                mr.labels.remove(name)
        for name in mr.labels:
            self._label(name)
        if "reviewer_ids" in p:
            ids = [] if p["reviewer_ids"] in (None, "", 0, "0") else self._ids(p["reviewer_ids"])
            mr.reviewer_ids = list(dict.fromkeys(ids))
        if "assignee_ids" in p:
            ids = [] if p["assignee_ids"] in (None, "", 0, "0") else self._ids(p["assignee_ids"])
            mr.assignee_id = ids[0] if ids else None
        if "assignee_id" in p:
            ids = [] if p["assignee_id"] in (None, "", 0, "0") else self._ids(p["assignee_id"])
            mr.assignee_id = ids[0] if ids else None

    def _get_merge_request(self, req: _Request) -> _Response:
        return _Response(200, self._mr_json(self._mr_or_404(req)))

    _UPDATABLE = (
        "title",
        "description",
        "target_branch",
        "state_event",
        "labels",
        "add_labels",
        "remove_labels",
        "reviewer_ids",
        "assignee_id",
        "assignee_ids",
        "milestone_id",
        "remove_source_branch",
        "squash",
        "discussion_locked",
        "allow_collaboration",
    )

    def _update_merge_request(self, req: _Request) -> _Response:
        mr = self._mr_or_404(req)
        p = req.params
        if not any(name in p for name in self._UPDATABLE):
            raise _ApiError(
                400,
                {
                    "error": f"{', '.join(self._UPDATABLE)} are missing, "
                    "at least one parameter must be provided"
                },
            )
        self._write_access()
        self._check_text(p.get("title"), p.get("description"))
        event = p.get("state_event")
        if event not in (None, "close", "reopen"):
            raise _ApiError(400, {"error": "state_event does not have a valid value"})
        target = str(p.get("target_branch") or mr.target_branch)
        if target != mr.target_branch and self._rev_parse(target) is None:
            raise _ApiError(422, {"message": [f'Target branch "{target}" does not exist']})
        if (event == "reopen" and mr.state == "closed") or (
            mr.state == "opened" and target != mr.target_branch
        ):
            self._conflict(mr.source_branch, target, mr.source_project_id, skip=mr.iid)
        if isinstance(p.get("title"), str):
            mr.title = p["title"]
        if "description" in p:
            mr.description = str(p["description"] or "")
        mr.target_branch = target
        self._apply(mr, p)
        if event == "close" and mr.state == "opened":
            mr.state, mr.closed_at = "closed", _now()
        elif event == "reopen" and mr.state == "closed":
            mr.state, mr.closed_at = "opened", None
        mr.updated_at = _now()
        return _Response(200, self._mr_json(mr))

    def _merge(self, req: _Request) -> _Response:
        mr = self._mr_or_404(req)
        self._write_access()
        if mr.state != "opened":
            raise _message(405)
        p = req.params
        wanted = self._flag(p.get("auto_merge")) or self._flag(
            p.get("merge_when_pipeline_succeeds")
        )
        honoured = {
            "auto_merge": ("auto_merge", "merge_when_pipeline_succeeds"),
            "merge_when_pipeline_succeeds": ("merge_when_pipeline_succeeds",),
            None: (),
        }[self.auto_merge]
        if self.auto_merge is None and wanted:
            raise _message(405)
        if any(self._flag(p.get(name)) for name in honoured):
            mr.merge_when_pipeline_succeeds = True
            mr.updated_at = _now()
            return _Response(200, self._mr_json(mr))
        if mr.draft:
            raise _message(405)
        source, target = self._rev_parse(mr.source_branch), self._rev_parse(mr.target_branch)
        if source is None or target is None:
            raise _message(405)
        if self._git("merge-base", "--is-ancestor", target, source).returncode != 0:
            raise _message(406, "Branch cannot be merged")
        self._git("update-ref", f"refs/heads/{mr.target_branch}", source, target)
        mr.state, mr.merged_at, mr.updated_at = "merged", _now(), _now()
        return _Response(200, self._mr_json(mr))

    def _list_labels(self, req: _Request) -> _Response:
        return self._paginate(req, [self._label_json(name) for name in sorted(self.labels)])

    def _create_label(self, req: _Request) -> _Response:
        self._require(req, "name", "color")
        self._write_access()
        name = str(req.params["name"])
        if name in self.labels:
            raise _message(409, "Label already exists")
        self._label(name)
        return _Response(201, self._label_json(name))

    # ------------------------------------------------------------------ dispatch

    def _project_matches(self, raw: str) -> bool:
        if raw.isdigit():
            return int(raw) == self.project_id
        return unquote(raw).lower() == self.project.lower()

    def _handle(
        self, method: str, target: str, raw_body: bytes, headers: dict[str, str]
    ) -> _Response:
        """Answer one request; called by the HTTP handler threads."""
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        params: dict[str, JSON] = {
            k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()
        }
        body: JSON = None
        body_error = False
        if raw_body:
            content_type = headers.get("content-type", "")
            try:
                if "json" in content_type:
                    body = json.loads(raw_body)
                else:
                    body = {k: v[-1] for k, v in parse_qs(raw_body.decode()).items()}
            except ValueError:
                body_error = True
        if isinstance(body, dict):
            params.update(body)
        with self._lock:
            response = self._answer(method, path, params, body_error, headers)
            seen = tuple((k, v) for k, v in sorted(headers.items()))
            self.log.append(LoggedRequest(method, path, split.query, response.status, body, seen))
            return response

    def _answer(
        self,
        method: str,
        path: str,
        params: dict[str, JSON],
        body_error: bool,
        headers: dict[str, str],
    ) -> _Response:
        if self._faults:
            status, message, page = self._faults.popleft()
            if page is not None:
                return _Response(status, raw=page)
            return _Response(status, {"message": message})
        bearer = headers.get("authorization", "")
        scheme, _, credential = bearer.strip().partition(" ")
        given = headers.get("private-token") or (
            credential.strip() if scheme.lower() == "bearer" else None
        )
        if given != self.token:
            return _Response(401, {"message": "401 Unauthorized"})
        if not path.startswith(API_PREFIX + "/"):
            self.unhandled.append((method, path))
            return _Response(404, {"error": "404 Not Found"})
        route = path[len(API_PREFIX) :]
        for route_method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(route)
            if match is None or route_method != method:
                continue
            self.requests.append((method, path))
            try:
                if body_error:
                    raise _ApiError(400, {"error": "The provided content-type is invalid"})
                groups = match.groupdict()
                if "project" in groups and (
                    self.access_level < GUEST or not self._project_matches(groups["project"])
                ):
                    raise _message(404, "404 Project Not Found")
                return handler(self, _Request(method, route, params, groups))
            except _ApiError as err:
                return _Response(err.status, err.body)
            except Exception:
                self.errors.append(traceback.format_exc())
                return _Response(500, {"message": "500 Internal Server Error (see gl.errors)"})
        self.unhandled.append((method, path))
        return _Response(404, {"error": "404 Not Found"})


_ROUTES: tuple[tuple[str, re.Pattern[str], _Handler], ...] = tuple(
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", r"/version", FakeGitLab._get_version),
        ("GET", r"/user", FakeGitLab._get_user),
        ("GET", r"/users", FakeGitLab._list_users),
        ("GET", r"/users/(?P<user_id>\d+)", FakeGitLab._get_named_user),
        ("GET", _PROJECT, FakeGitLab._get_project),
        ("GET", _PROJECT + r"/merge_requests", FakeGitLab._list_merge_requests),
        ("POST", _PROJECT + r"/merge_requests", FakeGitLab._create_merge_request),
        ("GET", _MR, FakeGitLab._get_merge_request),
        ("PUT", _MR, FakeGitLab._update_merge_request),
        ("PUT", _MR + r"/merge", FakeGitLab._merge),
        ("GET", _PROJECT + r"/labels", FakeGitLab._list_labels),
        ("POST", _PROJECT + r"/labels", FakeGitLab._create_label),
    )
)


class _Server(ThreadingHTTPServer):
    """Threading server whose handler threads are joined by ``server_close()``."""

    daemon_threads = False
    block_on_close = True
    fake: FakeGitLab


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so stop() leaves no kept-alive connection behind.
    protocol_version = "HTTP/1.0"
    server_version = "FakeGitLab/1.0"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging to stderr."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""  # always drain: avoids RSTs
        server = self.server
        assert isinstance(server, _Server)
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = server.fake._handle(self.command, self.path, raw, headers)
        if response.raw is not None:
            payload, kind = response.raw.encode(), "text/html; charset=utf-8"
        else:
            payload = b"" if response.status == 204 else json.dumps(response.body).encode()
            kind = "application/json"
        self.send_response(response.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve
