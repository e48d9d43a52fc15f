"""Merge requests on GitLab: ``promoter.forge.provider.ChangeRequests`` over python-gitlab.

A merge request is known by its project-scoped ``iid`` (``!3``), reported as the number.
Draft is the ``Draft: `` title prefix, kept when a rerun updates the title. python-gitlab's
exceptions never leave this module: they become one ``GitLabError`` line naming the project
and the (redacted) API URL, never the token.

Retries: 5xx answers and connection errors are retried by the HTTP session
(``retries`` more attempts, waiting ``backoff`` * 2**n seconds), not by python-gitlab's
``retry_transient_errors``, whose wait is fixed (0.1 * 2**n s) and whose ``max_retries`` is
a per-call argument; rate limits (429) are still waited out by python-gitlab.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from promoter.errors import GitLabError, MergeRequestExists
from promoter.forge.gitlab_settings import PUBLIC_API, base_url
from promoter.forge.provider import ChangeRequestInfo
from promoter.redact import redact_url

if TYPE_CHECKING:
    from gitlab import Gitlab
    from gitlab.exceptions import GitlabError
    from gitlab.v4.objects import Project

DESCRIPTION_LIMIT = 1_048_576
"""GitLab refuses merge request descriptions longer than this many characters."""
TITLE_LIMIT = 255
"""GitLab refuses merge request titles longer than this many characters."""
DRAFT_PREFIX = "Draft: "
AUTO_MERGE_SINCE = (17, 11)
"""GitLab versions from 17.11 take ``auto_merge``; older ones ``merge_when_pipeline_succeeds``
(and ignore ``auto_merge``, which would merge at once)."""

_CUT_NOTE = "... (cut to fit GitLab's size limit)\n"
_DRAFT = re.compile(r"^\s*(?:\[draft\]|\(draft\)|draft:)\s*", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_STATUS_ONLY = re.compile(r"^\d{3}(?: [A-Za-z ]+)?$")
_T = TypeVar("_T")


__all__ = ["GitLabMergeRequests", "MergeRequestExists", "cut_description", "draft_title"]


class GitLabMergeRequests:
    """Merge requests of one GitLab project (``group/sub/name``), through python-gitlab."""

    def __init__(
        self,
        project: str,
        token: str,
        api_url: str = PUBLIC_API,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 30,
    ) -> None:
        self.project = project
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._retries = retries
        self._backoff = backoff
        self._timeout = timeout
        self._client: Gitlab | None = None
        self._project: Project | None = None
        self._user_ids: dict[str, int] = {}

    # -- connection --------------------------------------------------------------------

    def _gitlab(self) -> Gitlab:
        if self._client is None:
            import gitlab
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            from promoter.retrynotes import announcing

            retry = announcing(Retry, "GitLab")(
                total=self._retries,
                backoff_factor=self._backoff,
                status_forcelist=(500, 502, 503, 504),
                allowed_methods=None,  # POST too: a repeated create answers 409, handled
                raise_on_status=False,  # the last answer reaches python-gitlab, message and all
            )
            session = requests.Session()
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
            self._client = gitlab.Gitlab(
                base_url(self.api_url),
                private_token=self._token,
                timeout=self._timeout,
                session=session,
                retry_transient_errors=False,
                per_page=100,
            )
        return self._client

    def _repository(self) -> Project:
        if self._project is None:
            client = self._gitlab()
            self._project = self._call(
                "read the project", lambda: client.projects.get(self.project)
            )
        return self._project

    def close(self) -> None:
        """Close the HTTP connections (a later call opens new ones)."""
        client, self._client, self._project = self._client, None, None
        if client is not None:
            client.session.close()

    def __enter__(self) -> GitLabMergeRequests:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the operations ------------------------------------------------------------------

    def find_open(self, head: str, base: str) -> ChangeRequestInfo | None:
        """The open merge request from branch ``head`` of this project into ``base``."""
        project = self._repository()

        def find() -> ChangeRequestInfo | None:
            found = project.mergerequests.list(
                state="opened", source_branch=head, target_branch=base, iterator=True
            )
            for mr in found:
                # A fork's merge request into this project may use the same branch name.
                if mr.source_project_id == project.id and mr.source_branch == head:
                    return _info(mr.attributes, created=False)
            return None

        return self._call("list merge requests", find)

    def create(
        self, *, title: str, body: str, head: str, base: str, draft: bool
    ) -> ChangeRequestInfo:
        """Open a merge request (a draft by the ``Draft: `` title prefix)."""
        project = self._repository()
        data = {
            "source_branch": head,
            "target_branch": base,
            "title": draft_title(title, draft=draft),
            "description": cut_description(body),
        }
        mr = self._call("open a merge request", lambda: project.mergerequests.create(data))
        return _info(mr.attributes, created=True)

    def update(self, number: int, *, title: str, body: str) -> ChangeRequestInfo:
        """Change an open merge request's title and description; a draft stays a draft."""
        project = self._repository()

        def edit() -> ChangeRequestInfo:
            current = project.mergerequests.get(number)
            draft = bool(current.attributes.get("draft")) or bool(_DRAFT.match(current.title))
            data = {"title": draft_title(title, draft=draft), "description": cut_description(body)}
            return _info(project.mergerequests.update(number, data), created=False)

        return self._call(f"update merge request !{number}", edit)

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add labels (GitLab creates the project labels it does not know yet)."""
        if not labels:
            return
        project = self._repository()
        data = {"add_labels": ",".join(labels)}
        self._call(
            f"label merge request !{number}", lambda: project.mergerequests.update(number, data)
        )

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        """Add reviewers by username (``@name`` or ``name``) to those already asked."""
        if not reviewers:
            return
        groups = [r for r in reviewers if "/" in r]
        if groups:
            raise GitLabError(
                f"GitLab merge requests take reviewers by username, not group: {', '.join(groups)}"
            )
        wanted = [self._user_id(name) for name in reviewers]
        project = self._repository()

        def add() -> None:
            current = project.mergerequests.get(number)
            ids = [int(user["id"]) for user in current.attributes.get("reviewers") or []]
            merged = list(dict.fromkeys([*ids, *wanted]))
            if merged != ids:
                project.mergerequests.update(number, {"reviewer_ids": merged})

        self._call(f"request reviewers on merge request !{number}", add)

    def set_assignee(self, number: int, username: str) -> None:
        """Assign the merge request to the user ``username``."""
        user_id = self._user_id(username)
        project = self._repository()
        self._call(
            f"assign merge request !{number}",
            lambda: project.mergerequests.update(number, {"assignee_id": user_id}),
        )

    def enable_auto_merge(self, number: int) -> str | None:
        """Merge when the pipeline succeeds. None when set; otherwise a note saying why
        not (a GitLab without it, a merge request that cannot take it, merged at once)."""
        import gitlab.exceptions

        client = self._gitlab()
        project = self._repository()
        version = client.version()[0]
        new = _version(version) >= AUTO_MERGE_SINCE
        flag = "auto_merge" if new else "merge_when_pipeline_succeeds"
        path = f"/projects/{project.id}/merge_requests/{number}/merge"

        def put() -> dict[str, Any] | gitlab.exceptions.GitlabHttpError:
            try:
                answer = client.http_put(path, post_data={flag: True})
            except gitlab.exceptions.GitlabHttpError as exc:
                if exc.response_code in (405, 406):
                    return exc
                raise
            return answer if isinstance(answer, dict) else {}

        answer = self._call(f"set auto-merge on merge request !{number}", put)
        if isinstance(answer, gitlab.exceptions.GitlabHttpError):
            why = _message(answer.error_message)
            return (
                f"auto-merge was not set on !{number}: GitLab {version} answered "
                f"{answer.response_code}{f' ({why})' if why else ''}; it does not offer "
                "auto-merge, or the merge request cannot take it yet (draft, conflicts, "
                "no pipeline)"
            )
        if answer.get("state") == "merged":
            return f"!{number} was merged at once: GitLab had no pipeline left to wait for"
        if not answer.get("merge_when_pipeline_succeeds"):
            return f"auto-merge was not set on !{number}: GitLab {version} does not support it"
        return None

    def merged_commit(self, number: int) -> str | None:
        """The commit merge request ``number`` landed as (its merge commit, or the squash
        commit, or its head for a fast-forward merge); None while it is not merged."""
        project = self._repository()

        def read() -> str | None:
            mr = project.mergerequests.get(number).attributes
            if mr.get("state") != "merged":
                return None
            sha = mr.get("merge_commit_sha") or mr.get("squash_commit_sha") or mr.get("sha")
            return str(sha) if sha else None

        result: str | None = self._call(f"read merge request !{number}", read)
        return result

    # -- helpers -------------------------------------------------------------------------

    def _user_id(self, username: str) -> int:
        name = username.strip().lstrip("@")
        key = name.lower()
        if key not in self._user_ids:
            client = self._gitlab()
            users = self._call(
                f"look up user {name}", lambda: client.users.list(username=name, get_all=False)
            )
            ids = [u.id for u in users if str(u.username).lower() == key]
            if not ids:
                raise GitLabError(f"no GitLab user {name!r} at {redact_url(self.api_url)}")
            self._user_ids[key] = int(ids[0])
        return self._user_ids[key]

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        import gitlab.exceptions
        import requests

        api = redact_url(self.api_url)
        try:
            return action()
        except gitlab.exceptions.GitlabAuthenticationError as exc:
            raise GitLabError(
                f"GitLab rejected the token (401 Unauthorized) at {api}; check GITLAB_TOKEN"
            ) from exc
        except gitlab.exceptions.GitlabError as exc:
            raise self._translate(exc, what, api) from exc
        except requests.RequestException as exc:
            raise GitLabError(
                f"cannot reach the GitLab API at {api} (after {self._retries} retries): "
                f"{type(exc).__name__}"
            ) from exc

    def _translate(self, exc: GitlabError, what: str, api: str) -> GitLabError:
        code = exc.response_code
        why = _message(exc.error_message)
        detail = f": {why}" if why else ""
        if code == 403:
            return GitLabError(
                f"the GitLab token may not {what} in {self.project} (403 Forbidden) at {api}"
            )
        if code == 404 and what == "read the project":
            return GitLabError(
                f"GitLab project {self.project} not found at {api} (or the token cannot see it)"
            )
        if code is not None and code >= 500:
            return GitLabError(
                f"the GitLab API at {api} kept failing after {self._retries} retries "
                f"(HTTP {code}{detail}) trying to {what} in {self.project}"
            )
        if code == 409 and "already exists" in why:
            return MergeRequestExists(f"GitLab refused to {what} in {self.project}{detail}")
        if code is None:
            return GitLabError(f"unexpected answer from the GitLab API at {api} ({what}){detail}")
        return GitLabError(f"GitLab refused to {what} in {self.project} ({code}{detail})")


def draft_title(title: str, *, draft: bool) -> str:
    """``title`` with the ``Draft: `` prefix (when ``draft``), cut to GitLab's limit."""
    bare = _DRAFT.sub("", title, count=1) if draft else title
    full = f"{DRAFT_PREFIX}{bare}" if draft else bare
    return full if len(full) <= TITLE_LIMIT else full[: TITLE_LIMIT - 1].rstrip() + "…"


def cut_description(body: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """``body`` cut at a line end to at most ``limit`` characters, with a note; an open code
    fence and open ``<details>`` blocks are closed, so the rest still renders."""
    if len(body) <= limit:
        return body
    keep = limit
    while keep > 0:
        head = body[:keep]
        head = head.rsplit("\n", 1)[0] + "\n" if "\n" in head else ""
        tail = _closing(head)
        overflow = len(head) + len(tail) - limit
        if overflow <= 0:
            return head + tail
        keep = min(keep - 1, len(head) - overflow)
    return _CUT_NOTE[:limit]


def _closing(head: str) -> str:
    fence: str | None = None
    depth = 0
    for line in head.splitlines():
        found = _FENCE.match(line)
        if fence is None:
            if found:
                fence = found.group(1)
                continue
            depth += len(re.findall(r"<details[\s>]", line, re.IGNORECASE))
            depth -= len(re.findall(r"</details\s*>", line, re.IGNORECASE))
            depth = max(depth, 0)
        elif found and line.strip() == found.group(1) and found.group(1).startswith(fence):
            fence = None
    closing = f"{fence}\n" if fence else ""
    return closing + _CUT_NOTE + "</details>\n" * depth


def _info(data: dict[str, Any], *, created: bool) -> ChangeRequestInfo:
    return ChangeRequestInfo(int(data["iid"]), str(data["web_url"]), created)


def _version(text: str) -> tuple[int, int]:
    found = re.match(r"(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _message(value: Any) -> str:
    """GitLab's error message (a string, a list, or a field -> messages mapping), one line."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, dict):
        parts = [f"{key} {_message(item)}" for key, item in value.items()]
        text = "; ".join(parts)
    elif isinstance(value, list):
        text = "; ".join(_message(item) for item in value)
    else:
        text = str(value or "")
    if "<" in text and ">" in text:  # an HTML error page from a proxy says nothing useful
        return ""
    text = " ".join(text.split())
    if _STATUS_ONLY.fullmatch(text):
        return ""
    return text if len(text) <= 300 else text[:299] + "…"
