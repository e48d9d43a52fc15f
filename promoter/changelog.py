"""What changed: the commits between the image a stage runs and the one it gets (issue 9, 4).

For every image that moves, the ``org.opencontainers.image.source`` and ``.revision``
labels (config labels or manifest annotations) of the old and the new image are read.
When both name the same GitHub repository the section gets a compare link
(``<source>/compare/<old>...<new>``) and, with a token that can read that repository, the
commits (subject, author, pull request number), capped with an "and N more" line.

Missing labels, sources that differ, private sources or API failures leave a one-line
note; nothing here ever fails a promotion.  When no registry answered at all (offline, or
every image is private) there is no section: promotions work the same without a registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from promoter.errors import PromoterError

if TYPE_CHECKING:
    from promoter.promotion import PromotionPlan
    from promoter.registry import SourceRevision

MAX_COMMITS = 20
"""Commits listed per image; the rest are counted in an "and N more" line."""

_GITHUB_SOURCE = re.compile(
    r"^(?:https?://|git@)?(?:www\.)?github\.com[/:](?P<slug>[^/\s]+/[^/\s]+?)(?:\.git)?/?$"
)
_PULL_NUMBER = re.compile(r"(?:\(#(\d+)\)\s*$|^Merge pull request #(\d+))")


@dataclass(frozen=True)
class CommitInfo:
    """One commit of a compare: short sha, subject, author, and the pull request number
    the subject names (``... (#12)`` or ``Merge pull request #12``), if any."""

    sha: str
    subject: str
    author: str
    pull_request: int | None = None

    @classmethod
    def from_message(cls, sha: str, message: str, author: str) -> CommitInfo:
        """A commit from its full message (the first line is the subject)."""
        subject = message.strip().splitlines()[0] if message.strip() else ""
        found = _PULL_NUMBER.search(subject)
        number = int(found.group(1) or found.group(2)) if found else None
        return cls(sha[:12], subject, author, number)


@dataclass(frozen=True)
class ImageChanges:
    """What changed between the old and the new image of one container."""

    app: str
    container: str
    old: str
    new: str
    compare_url: str | None = None
    commits: tuple[CommitInfo, ...] = ()
    more: int = 0
    note: str | None = None


@dataclass(frozen=True)
class Changelog:
    """Every moving image's changes, for the pull request body and ``--dry-run``."""

    images: tuple[ImageChanges, ...]

    def lines(self) -> list[str]:
        """Markdown lines of the "What changed" section."""
        out = ["### What changed", ""]
        for item in self.images:
            head = f"- `{item.app}` (container `{item.container}`): `{item.old}` → `{item.new}`"
            if item.compare_url:
                head += f": [compare]({item.compare_url})"
            out.append(head)
            for commit in item.commits:
                pr = f", #{commit.pull_request}" if commit.pull_request else ""
                out.append(f"  - {commit.subject} ({commit.author}{pr}) `{commit.sha[:7]}`")
            if item.more:
                out.append(f"  - and {item.more} more")
            if item.note:
                out.append(f"  - note: {item.note}")
        return out

    def to_json(self) -> list[dict[str, object]]:
        """Plain data of every image's changes."""
        return [
            {
                "app": i.app,
                "container": i.container,
                "old": i.old,
                "new": i.new,
                "compare_url": i.compare_url,
                "commits": [
                    {
                        "sha": c.sha,
                        "subject": c.subject,
                        "author": c.author,
                        "pull_request": c.pull_request,
                    }
                    for c in i.commits
                ],
                "more": i.more,
                "note": i.note,
            }
            for i in self.images
        ]


class LabelSource(Protocol):
    """What the changelog needs from a registry (``promoter.registry.RegistryClient``)."""

    def source_revision(self, image: str) -> SourceRevision | None:
        """The source/revision labels of ``image``, None without them."""


class CommitSource(Protocol):
    """What the changelog needs from GitHub: the commits between two revisions."""

    def compare(self, slug: str, base: str, head: str) -> tuple[list[CommitInfo], int]:
        """The commits from ``base`` to ``head`` (oldest first) and how many there are."""


def github_slug(source: str) -> str | None:
    """``owner/name`` of a GitHub source URL (``https://github.com/o/app``), else None."""
    found = _GITHUB_SOURCE.match(source.strip())
    return found.group("slug") if found else None


def compare_url(source: str, old: str, new: str) -> str:
    """``<source>/compare/<old>...<new>`` (any credentials in ``source`` masked)."""
    from promoter.redact import redact_url

    base = source.strip().removesuffix("/").removesuffix(".git")
    return redact_url(f"{base}/compare/{old}...{new}")


def collect_changelog(
    plan: PromotionPlan, labels: LabelSource, commits: CommitSource | None
) -> Changelog | None:
    """The changes of every image ``plan`` moves; None when no registry answered."""
    seen: dict[tuple[str, str], None] = {}
    moving = []
    for change in plan.changes:
        old, new = change.old_image, change.new_image
        if change.container is None or old is None or new is None or (old, new) in seen:
            continue
        seen[(old, new)] = None
        moving.append((change.app, change.container, old, new))
    if not moving:
        return None
    answers: dict[str, SourceRevision | PromoterError | None] = {}

    def read(image: str) -> SourceRevision | PromoterError | None:
        if image not in answers:
            try:
                answers[image] = labels.source_revision(image)
            except PromoterError as exc:
                answers[image] = exc
        return answers[image]

    items = [_image_changes(app, c, old, new, read, commits) for app, c, old, new in moving]
    if all(isinstance(answer, PromoterError) for answer in answers.values()):
        return None
    return Changelog(tuple(items))


def _image_changes(
    app: str,
    container: str,
    old: str,
    new: str,
    read: Callable[[str], SourceRevision | PromoterError | None],
    commits: CommitSource | None,
) -> ImageChanges:
    item = ImageChanges(app, container, old, new)
    found: dict[str, SourceRevision] = {}
    for image in (old, new):
        answer = read(image)
        if isinstance(answer, PromoterError):
            return replace(item, note=f"cannot read the labels: {answer}")
        if answer is None:
            return replace(
                item,
                note=f"{image} has no org.opencontainers.image.source/revision labels",
            )
        found[image] = answer
    before, after = found[old], found[new]
    old_slug, new_slug = github_slug(before.source), github_slug(after.source)
    if old_slug is None or new_slug is None or old_slug.lower() != new_slug.lower():
        if old_slug is None or new_slug is None:
            return replace(item, note=f"the source {after.source} is not a GitHub repository")
        return replace(
            item, note=f"the images come from different sources ({before.source}, {after.source})"
        )
    if before.revision == after.revision:
        return replace(item, note=f"both images were built from {after.revision}")
    item = replace(item, compare_url=compare_url(after.source, before.revision, after.revision))
    if commits is None:
        return replace(item, note="no GitHub token: commits not listed")
    try:
        listed, total = commits.compare(new_slug, before.revision, after.revision)
    except PromoterError as exc:
        return replace(item, note=f"commits not listed: {exc}")
    shown = list(reversed(listed))[:MAX_COMMITS]  # newest first
    return replace(item, commits=tuple(shown), more=max(total - len(shown), 0))


def plan_with_changelog(
    plan: PromotionPlan,
    *,
    insecure: Sequence[str] = (),
    env: Mapping[str, str],
    labels: LabelSource | None = None,
    commits: CommitSource | None = None,
) -> PromotionPlan:
    """``plan`` with its ``changelog`` (registry and GitHub as ``env`` configures them);
    nothing is raised: a failure is a note, no registry at all is no section."""
    if plan.is_noop:
        return plan
    from promoter.config import read_config
    from promoter.registry_settings import insecure_hosts
    from promoter.tree import DiskSource

    try:
        hosts = insecure_hosts(read_config(DiskSource(plan.root)), insecure)
    except PromoterError:
        hosts = tuple(insecure)
    commits = commits or _github_commits(env)
    if labels is not None:
        return replace(plan, changelog=collect_changelog(plan, labels, commits))
    from promoter.registry import Backoff, RegistryClient

    # One try per request, short timeouts: the changelog is best effort, never a wait.
    with RegistryClient(insecure=hosts, backoff=Backoff(attempts=1), timeout=10) as client:
        return replace(plan, changelog=collect_changelog(plan, client, commits))


def _github_commits(env: Mapping[str, str]) -> CommitSource | None:
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        return None
    from promoter.github import PUBLIC_API

    return _GitHubCommits(token, env.get("GITHUB_API_URL") or PUBLIC_API)


class _GitHubCommits:
    """``CommitSource`` through the GitHub adapter: one client per repository asked."""

    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        self._api_url = api_url

    def compare(self, slug: str, base: str, head: str) -> tuple[list[CommitInfo], int]:
        """The commits from ``base`` to ``head``, oldest first, and their total count."""
        from promoter.github import GitHubPulls

        with GitHubPulls(slug, self._token, self._api_url, retries=1, backoff=0, timeout=15) as gh:
            listed, total = gh.compare(base, head)
        return [CommitInfo.from_message(*commit) for commit in listed], total
