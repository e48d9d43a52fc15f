"""``history``: every change of an app's effective version in a stage, read from git.

The walk goes once over the first-parent history, oldest first, keeping the tree as a
path -> blob map updated from each commit's raw diff (no checkouts).  A stage is re-read
only when a commit touches a file its build read (or adds one under its directory), and
pipelines are re-discovered only when ``promoter.yaml`` or a labelled Flux Kustomization
changes.  Parsed files are cached by content and unchanged bases by directory, so most
commits cost one small re-read; a stage back to inputs it was read with before (a revert, a
rollback) is answered from ``promoter.stagememo``.  The YAML files commits change are read
from git in batches, and on a long history two processes share the stages (issue 15).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.config import CONFIG_FILE
from promoter.discovery import NAME_LABEL
from promoter.errors import GitError, LookupFailed
from promoter.forked import can_fork, fork_work
from promoter.git import BlobReader, Commit, git_dir, iter_commits, toplevel_of
from promoter.git.shallow import blob_id
from promoter.model import App, Stage
from promoter.tree import CommitSource, TreeState

if TYPE_CHECKING:
    from promoter.repo import GitOpsRepo
    from promoter.stagememo import Read, StageMemo


@dataclass(frozen=True)
class HistoryEntry:
    """One change of an app's effective version in one stage."""

    pipeline: str
    stage: str
    kind: str
    app: str
    old_version: str | None
    new_version: str | None
    commit: str
    date: str
    author: str
    pull_request: int | None
    trailers: tuple[tuple[str, str], ...] = ()
    state: App | None = field(default=None, compare=False, repr=False)
    """The app as the stage deployed it after this commit (None when it was removed)."""
    subject: str = field(default="", compare=False, repr=False)
    """The first line of the commit's message (the pull request's title for a merge)."""

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return f"{self.kind}/{self.app}"


_Placed = tuple[int, int, "HistoryEntry"]
"""An entry with the index of its commit and its stage's place in the pipelines: the
order the entries of two walking processes are merged in."""

_MEMO = True
"""Whether stages whose every input is as at an earlier read reuse that read
(``promoter.stagememo``; the tests compare walks with and without)."""

_PREFETCH = 128
"""Commits whose changed YAML files are read from git together."""

_FORK_MIN_COMMITS = 64
"""Below this many commits after the first build, one process walks them all."""

DECLARATIONS = ("current", "as-of-commit")
"""Which ``promoter.yaml`` declares the pipelines while history is replayed: the ``current``
one (of the commit walked to) for every commit, or each commit's own (``as-of-commit``)."""


class HistoryWalker:
    """Replays a repository's history and reports version changes per stage.

    With ``declaration="current"`` (the default) the ``promoter.yaml`` of the commit walked
    to declares the pipelines for the whole history: a repository that adopted the tool
    later has its earlier releases in history too (a stage directory that did not exist
    yet is empty then).  ``"as-of-commit"`` uses each commit's own ``promoter.yaml``."""

    def __init__(self, top: Path, sub: str = "", declaration: str = "current") -> None:
        if declaration not in DECLARATIONS:
            raise ValueError(f"declaration must be one of {DECLARATIONS}, not {declaration!r}")
        self.top = top
        self.sub = sub.strip("/")
        self.declaration = declaration
        self._config = f"{self.sub}/{CONFIG_FILE}" if self.sub else CONFIG_FILE
        self._pinned = False
        self._pin: str | None = None
        self._reader = BlobReader(git_dir(top))
        self._tree = TreeState(self.sub)
        self._deps: dict[tuple[str, str], frozenset[str]] = {}
        self._repo: GitOpsRepo | None = None
        self._labelled: set[str] = set()
        self._versions: dict[tuple[str, str], dict[str, App]] = {}
        self._share: _Share | None = None
        self._commits: list[Commit] = []
        self._fetched = 0
        self._memo: StageMemo | None = None
        if _MEMO:
            from promoter.stagememo import StageMemo

            self._memo = StageMemo(self._tree)

    def close(self) -> None:
        """Stop the git reader."""
        self._reader.close()

    def walk(self, ref: str = "HEAD") -> list[HistoryEntry]:
        """Every version change, oldest first."""
        from promoter.gcpause import paused_gc
        from promoter.kustomize.buildmemo import remembering

        if self.declaration == "current":
            self.pin_declaration(blob_id(self.top, ref, self._config))
        commits = list(iter_commits(self.top, ref))
        # A stage rebuilt after a commit puts mostly the same objects through the same
        # steps as before: those are remembered (promoter.kustomize.buildmemo).
        with paused_gc(), remembering():
            placed = self._walk(commits, fork=True)
            if placed is None:  # the forked child failed: walk everything again, alone
                again = HistoryWalker(self.top, self.sub, self.declaration)
                try:
                    if self._pinned:
                        again.pin_declaration(self._pin)
                    placed = again._walk(commits, fork=False)
                finally:
                    again.close()
        assert placed is not None
        return [entry for _, _, entry in placed]

    def _walk(self, commits: list[Commit], *, fork: bool) -> list[_Placed] | None:
        """One process walks until the pipelines are first discovered; a long history is
        then shared with a forked child, each process building its own stages (the first
        build of every stage included) over every commit: two cores, half the builds each.
        None when the child failed."""
        placed: list[_Placed] = []
        self._commits, self._fetched = commits, 0
        rest = list(enumerate(commits))
        while rest and self._repo is None:
            index, commit = rest.pop(0)
            self._prefetch(index)
            stages = self._advance(commit)
            if self._repo is not None and fork and len(rest) >= _FORK_MIN_COMMITS:
                share = self._shares(rest) if can_fork() else None
                if share is not None:
                    return self._walk_shared(placed, (index, commit, stages), rest, share)
            placed += self._read(index, commit, stages)
        for index, commit in rest:
            placed += self._step(index, commit)
        return placed

    def _walk_shared(
        self,
        placed: list[_Placed],
        first: tuple[int, Commit, list[tuple[int, Stage]]],
        rest: list[tuple[int, Commit]],
        share: tuple[_Share, _Share],
    ) -> list[_Placed] | None:
        def walk(mine: _Share) -> list[_Placed]:
            self._share = mine
            found = self._read(*first)
            for index, commit in rest:
                found += self._step(index, commit)
            return found

        def child() -> list[_Placed]:
            self._reader = self._reader.forked()  # the parent's git reader answers it only
            return walk(share[1])

        collect = fork_work(child)
        try:
            mine = walk(share[0])
        finally:
            theirs = collect()
        if theirs is None:
            return None
        return placed + sorted([*mine, *theirs], key=lambda p: (p[0], p[1]))

    def _shares(self, rest: list[tuple[int, Commit]]) -> tuple[_Share, _Share] | None:
        """The stages split in two of about the same work: one build each, and one more
        for every commit left that changes a file in its directory (what a base shared by
        many stages costs falls on both about evenly)."""
        stages = [s for p in (self._repo.pipelines if self._repo else ()) for s in p.stages]
        if len(stages) < 2:
            return None
        by_dir: dict[str, list[tuple[str, str]]] = {}
        for s in stages:
            by_dir.setdefault(s.path, []).append((s.pipeline, s.name))
        work = {(s.pipeline, s.name): 1 for s in stages}
        for _, commit in rest:
            touched: set[tuple[str, str]] = set()
            for path in commit.changes:
                parts = (self._tree.relative(path) or "").split("/")
                for depth in range(1, len(parts)):
                    touched.update(by_dir.get("/".join(parts[:depth]), ()))
            for key in touched:
                work[key] += 1
        halves: tuple[set[tuple[str, str]], set[tuple[str, str]]] = (set(), set())
        loads = [0, 0]
        for key in sorted(work, key=lambda k: -work[k]):
            lighter = 0 if loads[0] <= loads[1] else 1
            halves[lighter].add(key)
            loads[lighter] += work[key]
        first, second = frozenset(halves[0]), frozenset(halves[1])
        return _Share(first, second, 0), _Share(second, first, 1)

    def pin_declaration(self, blob: str | None) -> None:
        """Use the ``promoter.yaml`` of blob ``blob`` (None: none) for every commit stepped
        from now on, whatever the commits hold (``walk`` pins the current one)."""
        self._pinned = True
        self._pin = blob
        if blob is not None:
            self._tree.set(CONFIG_FILE, blob)

    def step(self, commit: Commit) -> list[HistoryEntry]:
        """Apply one commit; the version changes it made."""
        return [entry for _, _, entry in self._step(0, commit)]

    def _step(self, index: int, commit: Commit) -> list[_Placed]:
        self._prefetch(index)
        return self._read(index, commit, self._advance(commit))

    def _prefetch(self, index: int) -> None:
        """Read the YAML files the next commits change in one go (every one is read, if
        only to look for a pipeline label): no round trip to git per file."""
        if index < self._fetched:
            return
        self._fetched = index + _PREFETCH
        self._reader.prefetch(
            sha
            for commit in self._commits[index : self._fetched]
            for path, sha in commit.changes.items()
            if sha is not None
            and path.endswith((".yaml", ".yml"))
            and self._tree.relative(path) is not None
        )

    def _advance(self, commit: Commit) -> list[tuple[int, Stage]]:
        """Apply a commit's changes (re-discovering the pipelines when they may differ);
        the stages to read again, each with its place among all stages."""
        from promoter.repo import GitOpsRepo

        changed: set[str] = set()
        for path, sha in commit.changes.items():
            if self._pinned and path == self._config:
                continue  # the pinned declaration stands for every commit
            rel = self._tree.relative(path)
            if rel is not None:
                self._tree.set(rel, sha)
                changed.add(rel)
        if not changed:
            return []
        if self._memo is not None:
            self._memo.follow(changed)
        source = CommitSource.of_state(self._tree, self._reader)
        repo = self._repo
        if repo is None or self._needs_discovery(changed, source):
            repo = GitOpsRepo.from_source(source, self.top / self.sub)
            self._labelled = {s.declared_in for p in repo.pipelines for s in p.stages}
            known = {(s.pipeline, s.name) for p in repo.pipelines for s in p.stages}
            self._versions = {k: v for k, v in self._versions.items() if k in known}
            self._deps = {}
            self._repo = repo
            return list(enumerate(s for p in repo.pipelines for s in p.stages))
        self._repo = repo = repo.with_source(source, changed)
        folders = _folders(changed)
        every = enumerate(s for p in repo.pipelines for s in p.stages)
        return [(place, s) for place, s in every if self._affected(s, changed, folders)]

    def _read(self, index: int, commit: Commit, stages: list[tuple[int, Stage]]) -> list[_Placed]:
        """Read ``stages`` (those of this process) at ``commit``, the ``index``-th commit
        walked; the version changes they show."""
        repo = self._repo
        share = self._share
        if share is not None:
            stages = [(place, s) for place, s in stages if (s.pipeline, s.name) in share]
        entries: list[_Placed] = []
        for place, stage in stages:
            assert repo is not None
            status, files = self._read_stage(repo, stage)
            self._deps[(stage.pipeline, stage.name)] = files
            if status.error is not None:
                continue
            before = self._versions.get((stage.pipeline, stage.name), {})
            after = {app.key: app for app in status.apps}
            for key in [*after, *(k for k in before if k not in after)]:
                old, new = before.get(key), after.get(key)
                old_version = old.version if old else None
                new_version = new.version if new else None
                if old_version == new_version and (old is None) == (new is None):
                    continue
                kind, _, name = key.partition("/")
                entry = HistoryEntry(
                    stage.pipeline,
                    stage.name,
                    kind,
                    name,
                    old_version,
                    new_version,
                    commit.sha,
                    commit.date,
                    commit.author,
                    commit.pull_request,
                    _for_app(commit.trailers, key),
                    new,
                    subject=_subject(commit),
                )
                entries.append((index, place, entry))
            self._versions[(stage.pipeline, stage.name)] = after
        return entries

    def _read_stage(self, repo: GitOpsRepo, stage: Stage) -> Read:
        """A stage's status and the files it read: remembered when every one of its inputs
        is as it was at an earlier read, else read (and remembered when it was fine)."""
        memo = self._memo
        flux = repo.flux_layer(stage)
        found = memo.find(stage, flux) if memo is not None else None
        if found is not None:
            return found
        status = repo.stage_status(stage)
        files = repo.stage_files(stage)
        if memo is not None and status.problem is None and files:
            memo.keep(stage, flux, (status, files))
        return status, files

    def _needs_discovery(self, changed: set[str], source: CommitSource) -> bool:
        if CONFIG_FILE in changed or changed & self._labelled:
            return True
        if self._appears(changed):
            return True
        label = NAME_LABEL.encode()
        for path in changed:
            if path.endswith((".yaml", ".yml")) and source.is_file(path):
                try:
                    if label in source.read_bytes(path):
                        return True
                except OSError:
                    continue
        return False

    def _appears(self, changed: set[str]) -> bool:
        """Whether a commit creates the directory of a declared stage that did not exist."""
        repo = self._repo
        if repo is None:
            return False
        missing = [
            f"{s.path}/"
            for p in repo.pipelines
            for s in p.stages
            if s.problem is not None and s.problem.code == "stage-path"
        ]
        return bool(missing) and any(path.startswith(tuple(missing)) for path in changed)

    def _affected(self, stage: Stage, changed: set[str], folders: set[str]) -> bool:
        """A stage is re-read when a commit touches a file its last build read, adds one
        under its directory, or while it could not be built at all."""
        deps = self._deps.get((stage.pipeline, stage.name))
        if not deps:
            return True
        return stage.path in folders or not changed.isdisjoint(deps)


def _folders(paths: set[str]) -> set[str]:
    """Every directory holding one of ``paths`` (at any depth; ``""``, the root, too)."""
    found = {""}
    for path in paths:
        parts = path.split("/")
        found.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
    return found


@dataclass(frozen=True)
class _Share:
    """The stages one of two walking processes builds: its own, not the other's, and of
    those discovered later (unknown to both when they split) one half by name."""

    mine: frozenset[tuple[str, str]]
    theirs: frozenset[tuple[str, str]]
    parity: int

    def __contains__(self, key: object) -> bool:
        if key in self.mine:
            return True
        if key in self.theirs or not isinstance(key, tuple):
            return False
        return zlib.crc32("/".join(key).encode()) % 2 == self.parity


def _subject(commit: Commit) -> str:
    """A merge commit's subject says only "Merge pull request #N from ..."; the merged
    commit's first line is the change's title."""
    message = commit.merged_message if commit.merged_message.strip() else commit.message
    return message.strip().split("\n", 1)[0]


def _for_app(trailers: tuple[tuple[str, str], ...], key: str) -> tuple[tuple[str, str], ...]:
    """A commit's trailers as told for one app: when the commit promotes several apps, only
    this app's ``Promoted-App``/``Promoted-Version`` pair is kept."""
    if sum(1 for name, _ in trailers if name == "Promoted-App") < 2:
        return trailers
    kept: list[tuple[str, str]] = []
    app: str | None = None
    for name, value in trailers:
        if name == "Promoted-App":
            app = value
        if name in ("Promoted-App", "Promoted-Version") and app != key:
            continue
        kept.append((name, value))
    return tuple(kept)


def _toplevel(path: Path) -> tuple[Path, str]:
    found = toplevel_of(path)
    if found is None:
        raise GitError(f"{path}: not inside a git repository; history comes from git")
    top = found.resolve()
    rel = path.resolve().relative_to(top).as_posix()
    return top, "" if rel == "." else rel


def read_history(
    path: Path, ref: str = "HEAD", *, declaration: str = "current"
) -> list[HistoryEntry]:
    """Every version change in every stage of the repository at ``path``, oldest first;
    ``declaration``: one of ``DECLARATIONS``."""
    top, sub = _toplevel(path)
    walker = HistoryWalker(top, sub, declaration)
    try:
        return walker.walk(ref)
    finally:
        walker.close()


def list_history(
    path: Path,
    app: str | None = None,
    *,
    pipeline: str | None = None,
    stage: str | None = None,
    since: datetime | None = None,
    max_count: int | None = None,
    ref: str = "HEAD",
    declaration: str = "current",
) -> tuple[HistoryEntry, ...]:
    """Version changes, newest first, filtered; unknown names are errors.  ``since`` without
    a time zone is UTC."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    entries = read_history(path, ref, declaration=declaration)
    _check_names(entries, app, pipeline, stage)
    by_commit: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        by_commit.setdefault(entry.commit, []).append(entry)
    newest_first = [e for group in reversed(list(by_commit.values())) for e in group]
    chosen = [
        e
        for e in newest_first
        if (app is None or app in (e.app, e.key))
        and (pipeline is None or e.pipeline == pipeline)
        and (stage is None or e.stage == stage)
        and (since is None or datetime.fromisoformat(e.date) >= since)
    ]
    return tuple(chosen[:max_count] if max_count is not None else chosen)


def _check_names(
    entries: Sequence[HistoryEntry], app: str | None, pipeline: str | None, stage: str | None
) -> None:
    if pipeline is not None and pipeline not in {e.pipeline for e in entries}:
        raise LookupFailed.from_choices("pipeline", pipeline, {e.pipeline for e in entries})
    if stage is not None and stage not in {e.stage for e in entries}:
        raise LookupFailed.from_choices("stage", stage, {e.stage for e in entries})
    if app is not None and app not in {e.app for e in entries} | {e.key for e in entries}:
        raise LookupFailed.from_choices("app", app, {e.app for e in entries})
