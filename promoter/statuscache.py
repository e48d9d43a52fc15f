"""The content-keyed cache of ``pipelines status``: a stage is read again only when a file
its build read (or a directory it listed) changed since the last run.

Where: ``<git dir>/promoter/status-<hash>.cache`` when the repository has a plain ``.git``
directory of the current user, otherwise ``$XDG_CACHE_HOME/kustomize-promoter`` (default
``~/.cache/kustomize-promoter``); never in the working tree, and never at a path taken from
the repository's content (the file name is a hash of the repository's root path).

What a cached stage status is keyed on:

- the program (a format version, the Python version, the size and mtime of every source
  file of ``promoter``) and the file size limit (``PROMOTER_MAX_FILE_BYTES``);
- the stage exactly as discovery found it (``repr`` of ``Stage``: path, order, Flux ref);
- every file its native build read, and the stage's Flux Kustomization file: their
  ``stat`` (device, inode, mode, size, mtime and ctime in ns; where a link leads);
- every directory holding such a file (its mtime changes when an entry is added, removed
  or renamed: a second kustomization file, a new patch) and the identity of every
  directory above (a directory replaced by a link, or by another directory).

Discovery itself (every YAML file, for Flux labels; ``promoter.yaml``) is reused only when
no directory of the walk and no YAML file changed.  Statuses that were rendered by
kustomize, that the native reader could not fully follow, or that failed are never
stored (they depend on tools on PATH or on files that may not exist); neither are stages
of a directory without a kustomization file (Flux generates one from a listing).

Each entry also holds the stage's part of ``status -o json`` (compact): when the discovery
and every stage asked for are unchanged, ``cached_json`` joins those parts into the
document without building a model object or importing the reader (issue 15: a warm run
on 400 stages is then mostly the ``stat`` of every recorded path).  The checks are the same
as ``cached_status``'s.

A file written less than two seconds before a run started is "racy" (its next change may
keep the same mtime): it is recorded as changed, so the next run reads it again, as git
does with racily clean index entries.  The file is versioned, written atomically (a
temporary file renamed over it), read through an unpickler that only builds the model's
own classes, ignored when corrupt, foreign or larger than ``MAX_CACHE_BYTES``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import posixpath
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from promoter.errors import RepoError
from promoter.gcpause import paused_gc
from promoter.safefs import max_file_bytes
from promoter.tree import skipped

if TYPE_CHECKING:  # imported where used: a warm ``-o json`` run builds no model object
    from promoter._yaml import YMap
    from promoter.forked import Pair
    from promoter.model import Pipeline, RepoStatus, Stage, StageStatus
    from promoter.repo import GitOpsRepo, StatusJson

FORMAT = 3
Discovered = tuple["tuple[Pipeline, ...]", "Mapping[tuple[str, str], YMap]"]
"""A recorded discovery: the pipelines, and the Flux specs by (pipeline, stage)."""
MAGIC = b"kustomize-promoter status cache\n"
MAX_CACHE_BYTES = 256 * 1024 * 1024
"""A larger cache file is neither read nor written."""
RACY_NS = 2_000_000_000
"""Files changed this close (ns) before a run started are read again next time."""
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

Fingerprint = tuple[Any, ...] | None
Outline = tuple[str, bool, tuple[str, ...], bytes, bytes]
"""A pipeline as ``cached_json`` joins it: its name, whether its declaration is broken, its
stages (``repr``), and its JSON before and after the stages' parts."""
_RACY: Fingerprint = ("racy",)


@dataclass
class CacheStats:
    """What one run did with the cache (for tests and ``--verbose`` style reporting)."""

    path: Path | None = None
    loaded: bool = False
    discovery_reused: bool = False
    hits: list[tuple[str, str]] = field(default_factory=list)
    misses: list[tuple[str, str]] = field(default_factory=list)
    written: bool = False


# -- where ---------------------------------------------------------------------------------


def cache_path(root: Path) -> Path:
    """The cache file for the repository at ``root`` (resolved)."""
    digest = hashlib.sha256(os.fsencode(str(root))).hexdigest()[:24]
    name = f"status-{digest}.cache"
    git_dir = _git_dir(root)
    if git_dir is not None:
        return git_dir / "promoter" / name
    return _user_cache_dir() / name


def _git_dir(root: Path) -> Path | None:
    """The ``.git`` directory of ``root`` or of a directory above, when it is a real
    directory (not a link, not a ``gitdir:`` file) owned by the current user."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    for directory in (root, *root.parents):
        candidate = directory / ".git"
        try:
            info = os.lstat(candidate)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and (uid is None or info.st_uid == uid):
            return candidate
        return None  # a .git file (worktree, submodule) or link: use the user cache dir
    return None


def _user_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", ""))
    if not base.is_absolute():
        base = Path.home() / ".cache"
    return base / "kustomize-promoter"


# -- fingerprints --------------------------------------------------------------------------


class _Disk:
    """Fingerprints of repo paths, each taken once per run."""

    def __init__(self, root: Path, started_ns: int) -> None:
        self.prefix = str(root) + os.sep
        self.root = str(root)
        self.racy_after = started_ns - RACY_NS
        self._memo: dict[tuple[str, str], Fingerprint] = {}

    def fp(self, rel: str, kind: str) -> Fingerprint:
        """``kind`` "f": a file's content identity; "d": a directory's listing; "a": a
        directory's identity only."""
        key = (rel, kind)
        if key in self._memo:
            return self._memo[key]
        found = self._take(self.prefix + rel if rel else self.root, kind)
        self._memo[key] = found
        return found

    def stale(
        self, paths: Sequence[tuple[str, str, Fingerprint]], *, remember: bool = True
    ) -> set[int]:
        """The indices of the recorded ``paths`` that are racy or changed (one loop: a warm
        run checks thousands); ``remember``: keep what was taken for ``fp``."""
        take, memo, prefix, root = self._take, self._memo, self.prefix, self.root
        found: set[int] = set()
        for index, (rel, kind, fp) in enumerate(paths):
            now = take(prefix + rel if rel else root, kind)
            if remember:
                memo[rel, kind] = now
            if fp == _RACY or fp != now:
                found.add(index)
        return found

    def _take(self, path: str, kind: str) -> Fingerprint:
        try:
            info = os.lstat(path)
        except OSError:
            return None
        real = ""
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(path)
            if kind != "a":
                try:
                    info = os.stat(path)  # noqa: PTH116 - hot path, plain strings
                except OSError:
                    return ("dangling", real)
        if kind == "a":
            return (info.st_dev, info.st_ino, info.st_mode, real)
        if info.st_mtime_ns >= self.racy_after:
            return _RACY
        if kind == "d":
            return (info.st_dev, info.st_ino, info.st_mode, info.st_mtime_ns, real)
        return (
            info.st_dev,
            info.st_ino,
            info.st_mode,
            info.st_size,
            info.st_mtime_ns,
            info.st_ctime_ns,
            real,
        )


def _walk(root: Path) -> tuple[list[str], list[str]]:
    """The directories and YAML files the discovery walk sees (hidden and vendored
    directories skipped, directory links not entered), repo-relative."""
    dirs: list[str] = []
    files: list[str] = []
    pending = [""]
    base = str(root)
    while pending:
        here = pending.pop()
        dirs.append(here)
        prefix = f"{here}/" if here else ""
        try:
            entries = list(os.scandir(f"{base}/{here}" if here else base))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not skipped(entry.name):
                    pending.append(prefix + entry.name)
            elif entry.name.endswith((".yaml", ".yml")):
                files.append(prefix + entry.name)
    return sorted(dirs), sorted(files)


def _ancestors(rel: str) -> Iterable[str]:
    while rel:
        rel = posixpath.dirname(rel)
        yield rel


def _stage_deps(stage: Stage, files: frozenset[str]) -> list[tuple[str, str]] | None:
    """What a natively built stage depends on, or None when it must not be cached."""
    if not any(posixpath.join(stage.path, n) in files for n in _KUSTOMIZATION_FILES):
        return None  # a generated kustomization: the listing of a whole tree
    read = set(files)
    if stage.flux is not None:
        read.add(stage.flux.file)
    deps = {(f, "f") for f in read}
    listed = {posixpath.dirname(f) for f in read}
    deps |= {(d, "d") for d in listed}
    deps |= {(a, "a") for d in listed for a in _ancestors(d) if a not in listed}
    return sorted(deps)


# -- the file ------------------------------------------------------------------------------


_ALLOWED = {
    "promoter.model": {
        "Stage",
        "Pipeline",
        "FluxRef",
        "StageStatus",
        "App",
        "ContainerImage",
        "VersionSource",
    },
    "promoter.problems": {"Problem"},
    "promoter.images": {"ImageRef"},
    "promoter._yaml": {"YMap", "YSeq", "Prov"},
    "yaml.nodes": {"ScalarNode", "MappingNode", "SequenceNode"},
    "yaml.error": {"Mark"},
    "yaml._yaml": {"Mark", "__pyx_unpickle_Mark"},
    "builtins": {"frozenset", "set"},
}


class _SafeUnpickler(pickle.Unpickler):
    """Builds only the model's classes: a foreign or tampered file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a status cache")


class _Damaged(Exception):
    """A part of the cache file cannot be read back."""


def _loads(data: bytes) -> Any:
    try:
        return _SafeUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # any damage: the cache is simply not used
        raise _Damaged(str(exc)) from exc


class _Specs(Mapping[tuple[str, str], "YMap"]):
    """Flux specs by stage key, each unpickled when first asked for."""

    def __init__(self, pickled: dict[tuple[str, str], bytes]) -> None:
        self._pickled = pickled
        self._loaded: dict[tuple[str, str], YMap] = {}

    def __getitem__(self, key: tuple[str, str]) -> YMap:
        found = self._loaded.get(key)
        if found is None:
            try:
                found = self._loaded[key] = _loads(self._pickled[key])
            except _Damaged as exc:
                raise RepoError(
                    f"the status cache is damaged ({exc}); run with --no-cache once"
                ) from exc
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pickled)

    def __len__(self) -> int:
        return len(self._pickled)


def _dump_specs(specs: Mapping[tuple[str, str], YMap]) -> bytes:
    """Flux specs for ``_Specs``: each pickled on its own."""
    each = {key: pickle.dumps(spec, pickle.HIGHEST_PROTOCOL) for key, spec in specs.items()}
    return pickle.dumps(each, pickle.HIGHEST_PROTOCOL)


def _program_key() -> tuple[Any, ...]:
    package = Path(__file__).resolve().parent
    sources = []
    for source in package.rglob("*.py"):
        info = source.stat()
        sources.append((str(source), info.st_size, info.st_mtime_ns))
    digest = hashlib.sha256(repr(sorted(sources)).encode()).hexdigest()
    return (FORMAT, sys.version, digest, max_file_bytes())


@dataclass
class _State:
    """What the cache file holds."""

    key: tuple[Any, ...]
    root: str
    paths: list[tuple[str, str, Fingerprint]]
    """Every (path, kind, fingerprint) some stage or discovery depends on."""
    discovery_deps: tuple[int, ...]
    discovery: tuple[bytes, bytes]
    """The pickled pipelines of the discovery, and its Flux specs: a pickled mapping of
    stage key -> that stage's pickled spec (unpickled when asked for: a promotion's early
    render needs one of them)."""
    stages: dict[str, tuple[int, ...]]
    """``repr(stage)`` -> its dependencies (indices into ``paths``)."""
    statuses: bytes
    """The pickled ``repr(stage)`` -> ``StageStatus`` of every entry (one load)."""
    fragments: dict[str, bytes]
    """``repr(stage)`` -> the stage's compact JSON (``stage_dict``, ASCII) of every entry."""
    outline: tuple[Outline, ...]
    """The discovered pipelines (valid with the discovery) as ``cached_json`` joins them."""
    _loaded: dict[str, StageStatus] | None = None
    _discovered: Discovered | None = None

    def discovered(self) -> Discovered:
        """The pipelines and Flux specs of the recorded discovery (``_Damaged`` when they
        cannot be read back); loaded once."""
        if self._discovered is None:
            self._discovered = (_loads(self.discovery[0]), _Specs(_loads(self.discovery[1])))
        return self._discovered

    def status(self, name: str) -> StageStatus:
        """The cached status of the stage ``repr`` named ``name``."""
        if self._loaded is None:
            self._loaded = _loads(self.statuses)
        return self._loaded[name]


_LAST_READ: dict[str, tuple[tuple[int, ...], _State]] = {}
"""The cache file this process read last, by path, with the identity it had: a run that
asks twice (a promotion's early render, then its discovery) reads and unpickles it once."""


def _read(path: Path, key: tuple[Any, ...], root: str) -> _State | None:
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CACHE_BYTES:
                return None
            identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
            known = _LAST_READ.get(str(path))
            if known is not None and known[0] == identity:
                state = known[1]
                return state if (state.key, state.root) == (key, root) else None
            if handle.read(len(MAGIC)) != MAGIC:
                return None
            raw = _SafeUnpickler(handle).load()  # read as it is unpickled: no second copy
        state = _State(
            key=raw["key"],
            root=raw["root"],
            paths=raw["paths"],
            discovery_deps=raw["discovery_deps"],
            discovery=raw["discovery"],
            stages=raw["stages"],
            statuses=raw["statuses"],
            fragments=raw["fragments"],
            outline=raw["outline"],
        )
    except Exception:  # any damage, or the file cannot be read: the cache is not used
        return None
    _LAST_READ.clear()
    _LAST_READ[str(path)] = (identity, state)
    if state.key != key or state.root != root:
        return None
    return state


def _write(path: Path, state: _State) -> bool:
    raw = {
        "key": state.key,
        "root": state.root,
        "paths": state.paths,
        "discovery_deps": state.discovery_deps,
        "discovery": state.discovery,
        "stages": state.stages,
        "statuses": state.statuses,
        "fragments": state.fragments,
        "outline": state.outline,
    }
    data = MAGIC + pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        if len(data) > MAX_CACHE_BYTES:
            path.unlink(missing_ok=True)
            return False
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        import tempfile  # only a run that read something writes

        fd, tmp = tempfile.mkstemp(prefix=".status-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
    except OSError:
        return False
    return True


# -- the cached status ---------------------------------------------------------------------


class _Table:
    """The path table of the file being written."""

    def __init__(self) -> None:
        self.paths: list[tuple[str, str, Fingerprint]] = []
        self._index: dict[tuple[str, str], int] = {}

    def add(self, rel: str, kind: str, fp: Fingerprint) -> int:
        key = (rel, kind)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.paths)
            self.paths.append((rel, kind, fp))
        return found


def cached_status(
    path: str | Path, pipelines: Sequence[str] = (), *, stats: CacheStats | None = None
) -> RepoStatus:
    """``promoter.status`` through the cache: stages whose inputs did not change since the
    last run come from the cache, the others are read (and the cache updated)."""
    found = _retried(path, pipelines, stats, json=False)
    assert not isinstance(found, tuple)
    return found


def cached_status_json(
    path: str | Path, pipelines: Sequence[str] = (), *, stats: CacheStats | None = None
) -> StatusJson:
    """``cached_status`` as the compact JSON document (``GitOpsRepo.status_json``): the
    cached stages' parts as the cache holds them, the others' made where they are read (and
    stored); nothing is serialized twice."""
    found = _retried(path, pipelines, stats, json=True)
    assert isinstance(found, tuple)
    return found


def _retried(
    path: str | Path, pipelines: Sequence[str], stats: CacheStats | None, *, json: bool
) -> RepoStatus | StatusJson:
    from promoter.forked import paired

    # A forked child may share the discovery and the reading; it never leaves ``paired``:
    # it ends there (or in ``read_stages``), so only this process writes the cache file.
    stats = stats if stats is not None else CacheStats()
    try:
        return paired(
            lambda pair: _cached_status(path, pipelines, stats, pair, use_old=True, json=json)
        )
    except _Damaged:
        damaged = CacheStats()
        result = paired(
            lambda pair: _cached_status(path, pipelines, damaged, pair, use_old=False, json=json)
        )
        stats.__dict__.update(damaged.__dict__)
        return result


def _stale(old: _State, disk: _Disk) -> set[int]:
    """Every recorded path is checked once; a stage is valid when none of its is stale."""
    return disk.stale(old.paths)


def _cached_status(
    path: str | Path,
    pipelines: Sequence[str],
    stats: CacheStats,
    pair: Pair,
    *,
    use_old: bool,
    json: bool,
) -> RepoStatus | StatusJson:
    """The status (``json``: its compact document) through the cache."""
    from promoter.errors import RepoError
    from promoter.model import PipelineStatus, RepoStatus

    started = time.time_ns()
    given = Path(path)
    if not given.is_dir():
        raise RepoError(f"{path}: not a directory")
    root = given.resolve()
    file = cache_path(root)
    stats.path = file
    key = _program_key()
    disk = _Disk(root, started)
    with paused_gc():
        old = _read(file, key, str(root)) if use_old else None
        stats.loaded = old is not None
        stale = _stale(old, disk) if old is not None else set()
        reader = _Reader(root, disk)
        if old is not None and old.discovery[0] and stale.isdisjoint(old.discovery_deps):
            reader.reuse_discovery(old)
            stats.discovery_reused = True
        else:
            reader.discover(pair)
        if not reader.pipelines:
            from promoter.repo import no_pipelines

            raise no_pipelines(path)
        chosen = (
            [reader.repo().pipeline(n) for n in dict.fromkeys(pipelines)]
            if pipelines
            else list(reader.pipelines)
        )
        statuses: dict[tuple[str, str], StageStatus] = {}
        parts: dict[tuple[str, str], bytes] = {}  # with ``json``
        new: dict[str, _Entry] = {}
        todo: list[Stage] = []
        for pipeline in chosen:
            for stage in pipeline.stages:
                name = repr(stage)
                known = old.stages.get(name) if old is not None else None
                if old is not None and known is not None and stale.isdisjoint(known):
                    if json:  # a stored stage has no problem: its part is all it takes
                        parts[(stage.pipeline, stage.name)] = old.fragments[name]
                    else:
                        statuses[(stage.pipeline, stage.name)] = old.status(name)
                    stats.hits.append((stage.pipeline, stage.name))
                else:
                    todo.append(stage)
        if todo:
            reads = reader.repo().read_stages(todo, False, json=json)
            for stage, read in zip(todo, reads, strict=True):
                status = read.status
                assert status is not None  # asked for: the cache stores it
                statuses[(stage.pipeline, stage.name)] = status
                if read.json is not None:
                    parts[(stage.pipeline, stage.name)] = read.json
                stats.misses.append((stage.pipeline, stage.name))
                deps = _storable(status, read.files)
                if deps is not None:
                    new[repr(stage)] = _Entry(deps, status, read.json)
        pair.finish()  # a child that shared the discovery ends here, even with nothing to read
        if todo or old is None or not stats.discovery_reused:
            state = _next_state(key, root, old, stale, reader, new, disk)
            stats.written = _write(file, state)
    if not json:
        return RepoStatus(
            tuple(
                PipelineStatus(p, tuple(statuses[(p.name, s.name)] for s in p.stages))
                for p in chosen
            )
        )
    from promoter.repo import StatusJson
    from promoter.serialize import join_status_json, pipeline_json_ends

    ends = [pipeline_json_ends(p) for p in chosen]
    joined = join_status_json(
        (head, [parts[(p.name, s.name)] for s in p.stages], tail)
        for p, (head, tail) in zip(chosen, ends, strict=True)
    )
    # Only stages read in this run can have a problem (a stored one has none).
    problems = RepoStatus(
        tuple(
            PipelineStatus(p, tuple(_problem_only(s, statuses) for s in p.stages)) for p in chosen
        )
    )
    return StatusJson(joined, problems)


def _problem_only(stage: Stage, read: dict[tuple[str, str], StageStatus]) -> StageStatus:
    from promoter.model import StageStatus

    found = read.get((stage.pipeline, stage.name))
    return StageStatus(stage, problem=None if found is None else found.problem)


class _Entry(NamedTuple):
    """A stage read in this run that the cache stores."""

    deps: list[tuple[str, str]]
    status: StageStatus
    json: bytes | None
    """Its part of the compact document, when it was made where the stage was read."""


class _Reader:
    """Discovery (from the cache or the disk) and, only when a stage must be read, the
    repository reader: a warm run imports neither."""

    def __init__(self, root: Path, disk: _Disk) -> None:
        self.root = root
        self.disk = disk
        self.pipelines: tuple[Pipeline, ...] = ()
        self.blob: tuple[bytes, bytes] = (b"", b"")
        self.deps: list[tuple[str, str, Fingerprint]] = []
        self._repo: GitOpsRepo | None = None

    def reuse_discovery(self, old: _State) -> None:
        self.pipelines = _loads(old.discovery[0])
        self.blob = old.discovery
        self.deps = [old.paths[i] for i in old.discovery_deps]

    def discover(self, pair: Pair) -> None:
        """Discover on the disk; ``pair``: see ``GitOpsRepo.open``."""
        from promoter.config import CONFIG_FILE
        from promoter.discovery import discover
        from promoter.repo import GitOpsRepo
        from promoter.tree import DiskSource

        dirs, yaml_files = _walk(self.root)
        # One source for discovery and the builds: what discovery read is not read again.
        source = DiskSource(self.root)
        found = discover(source, pair=pair)
        self._repo = GitOpsRepo(self.root, found.pipelines, found.flux_specs, source=source)
        self._repo.share_with(pair)
        self.pipelines = found.pipelines
        self.blob = (
            pickle.dumps(found.pipelines, pickle.HIGHEST_PROTOCOL),
            _dump_specs(found.flux_specs),
        )
        deps = {(d, "d") for d in dirs} | {(f, "f") for f in yaml_files}
        deps.add((CONFIG_FILE, "f"))
        for pipeline in found.pipelines:
            for stage in pipeline.stages:
                deps |= {(a, "a") for a in (stage.path, *_ancestors(stage.path))}
        self.deps = [(r, k, self.disk.fp(r, k)) for r, k in sorted(deps)]

    def repo(self) -> GitOpsRepo:
        if self._repo is None:
            from promoter.repo import GitOpsRepo

            specs = _Specs(_loads(self.blob[1]))
            self._repo = GitOpsRepo(self.root, self.pipelines, specs)
        return self._repo


def _next_state(
    key: tuple[Any, ...],
    root: Path,
    old: _State | None,
    stale: set[int],
    reader: _Reader,
    new: dict[str, _Entry],
    disk: _Disk,
) -> _State:
    """The file to write: valid old entries, new ones, and old entries of stages that were
    not asked for this time (checked when next used); stages that no longer exist go."""
    from promoter.serialize import stage_json

    table = _Table()
    discovery_deps = tuple(table.add(*dep) for dep in reader.deps)
    entries: dict[str, tuple[int, ...]] = {}
    statuses: dict[str, StageStatus] = {}
    fragments: dict[str, bytes] = {}
    current = {repr(s) for p in reader.pipelines for s in p.stages}
    if old is not None:
        for name, deps in old.stages.items():
            if name in current and name not in new and stale.isdisjoint(deps):
                entries[name] = tuple(table.add(*old.paths[i]) for i in deps)
                statuses[name] = old.status(name)
                fragments[name] = old.fragments[name]
    for name, (paths, status, part) in new.items():
        entries[name] = tuple(table.add(r, k, disk.fp(r, k)) for r, k in paths)
        statuses[name] = status
        fragments[name] = part if part is not None else stage_json(status)
    blob = pickle.dumps(statuses, pickle.HIGHEST_PROTOCOL)
    outline = tuple(_outline(p) for p in reader.pipelines)
    return _State(
        key, str(root), table.paths, discovery_deps, reader.blob, entries, blob, fragments, outline
    )


def cached_discovery(root: Path) -> Discovered | None:
    """The pipelines and Flux specs the last cached ``status`` discovered in the repository
    at ``root`` (resolved), when no directory, YAML file or stage path changed since; None
    otherwise (then discover as usual)."""
    guess = guessed_discovery(root)
    return guess.discovered if guess is not None and guess.check() else None


class Guess:
    """What the last cached ``status`` discovered, to use before it is checked: whatever
    is made from it must wait for ``check()`` (or, when that fails, ``same()`` of a fresh
    discovery) to say True before it is shown or written."""

    def __init__(self, state: _State, root: Path, started: int) -> None:
        self.discovered = state.discovered()
        self._state = state
        self._disk = _Disk(root, started)
        self._answer: bool | None = None

    def check(self) -> bool:
        """True when no directory, YAML file or stage path it depends on changed since it
        was recorded, or since the guess was taken (racy ones count as changed).  One
        ``stat`` of each of thousands of paths, made once: a promotion makes it while
        kustomize renders."""
        if self._answer is None:
            state = self._state
            deps = [state.paths[i] for i in state.discovery_deps]  # not for a mere peek
            with paused_gc():
                self._answer = not self._disk.stale(deps, remember=False)
        return self._answer

    def same(self, pipelines: Sequence[Pipeline], flux_specs: Mapping[Any, YMap]) -> bool:
        """Whether a fresh discovery found exactly what was recorded (the same pickles,
        so the same values where they were written): a failed ``check`` that was only
        unsure (a file written moments before the last status) is then no change."""
        pickled = pickle.dumps(tuple(pipelines), pickle.HIGHEST_PROTOCOL)
        return (pickled, _dump_specs(flux_specs)) == self._state.discovery


def guessed_discovery(root: Path) -> Guess | None:
    """What the last cached ``status`` discovered in the repository at ``root`` (resolved),
    unchecked (``Guess``); None when there is no usable record."""
    started = time.time_ns()
    with paused_gc():
        old = _read(cache_path(root), _program_key(), str(root))
        if old is None or not old.discovery[0]:
            return None
        try:
            return Guess(old, root, started)
        except _Damaged:
            return None


def peek_discovery(root: Path) -> Discovered | None:
    """What the last cached ``status`` discovered in the repository at ``root`` (resolved),
    WITHOUT checking that nothing changed since: a guess, only for work that is checked
    against the real discovery before it is used (a promotion's early render)."""
    guess = guessed_discovery(root)
    return None if guess is None else guess.discovered


def _storable(status: StageStatus, files: frozenset[str] | None) -> list[tuple[str, str]] | None:
    if files is None or status.problem is not None or status.unsupported or status.rendered:
        return None
    return _stage_deps(status.stage, files)


def cached_json(path: str | Path, pipelines: Sequence[str] = ()) -> bytes | None:
    """``status -o json``'s compact document (``to_json(status_dict(...), indent=None)``),
    joined from the cache's parts when the discovery and every stage of the chosen pipelines
    are unchanged (as ``cached_status`` checks them) and no pipeline declaration is broken;
    None otherwise (then ask ``cached_status``).  Reads nothing but the cache file and the
    ``stat`` of what it recorded, builds no model object, and writes nothing.  The document
    is ASCII (``json.dumps`` escapes the rest), as bytes: it goes to stdout as they are."""
    started = time.time_ns()
    root = Path(path).resolve()
    with paused_gc():
        old = _read(cache_path(root), _program_key(), str(root))
        if old is None or not old.discovery[0]:
            return None
        stale = _Disk(root, started).stale(old.paths, remember=False)
        if not stale.isdisjoint(old.discovery_deps):
            return None
        by_name = {o[0]: o for o in old.outline}
        if not all(name in by_name for name in pipelines):
            return None  # cached_status says which is unknown
        chosen = [by_name[n] for n in dict.fromkeys(pipelines)] if pipelines else old.outline
        for _, broken, stages, _, _ in chosen:
            if broken:
                return None
            for name in stages:
                deps = old.stages.get(name)
                if deps is None or name not in old.fragments or not stale.isdisjoint(deps):
                    return None
        fragments = old.fragments
    from promoter.serialize import join_status_json

    return join_status_json((h, [fragments[n] for n in stages], t) for _, _, stages, h, t in chosen)


def _outline(pipeline: Pipeline) -> Outline:
    """The pipeline as ``cached_json`` joins it (``promoter.serialize.pipeline_json_ends``)."""
    from promoter.serialize import pipeline_json_ends

    head, tail = pipeline_json_ends(pipeline)
    return (
        pipeline.name,
        bool(pipeline.problems),
        tuple(repr(s) for s in pipeline.stages),
        head,
        tail,
    )
