"""Which other stages may read the files of a stage's directory: the candidates whose
builds then say whether an edit there changes them (issue 10 §2).

Building every stage of a large repository to learn that nobody else reads a stage's own
patch costs seconds (issue 15); the kustomization files are read instead.  A stage reads a
file under directory ``D`` only through a chain of kustomizations: its own (or the one Flux
generates for its directory, or its Flux ``components``) names a directory, whose
kustomization names another, ..., whose kustomization names a path into ``D``.  So the
directories whose kustomization names a path into ``D`` are found, then those naming a
path into them, and so on; the stages at (or above) any of them are the candidates, and
so is a stage whose Flux Kustomization is written in a file under ``D``.  Every
other stage is a candidate when a stage directory nests with ``D``, or when a
kustomization cannot be read or may name a directory that walks skip.

A kustomization's text is parsed only when it may name a path into the directory: a path
from directory ``B`` into ``D`` must spell every name of ``D`` below the directories ``B``
and ``D`` share, so a text without one of them names nothing there.
"""

from __future__ import annotations

import os
import posixpath
import re
import weakref
from collections.abc import Iterator, Sequence

from promoter._yaml import parse_bytes
from promoter.errors import PromoterError
from promoter.kustomize import KUSTOMIZATION_FILES
from promoter.kustomize.references import named_paths
from promoter.model import Stage
from promoter.repo import GitOpsRepo
from promoter.tree import SKIP_DIRS, DiskSource, skipped

_READERS: weakref.WeakKeyDictionary[GitOpsRepo, dict[tuple[str, str], list[Stage]]] = (
    weakref.WeakKeyDictionary()
)
_SUFFIXES = tuple(f"/{name}" for name in KUSTOMIZATION_FILES)
_HIDDEN = re.compile(rb"[\s/'\"\[,:]\.[^./\s]")
"""A path segment starting with a dot (a hidden directory, which walks skip)."""
_SKIPPED = tuple(name.encode() for name in SKIP_DIRS if not name.startswith("."))


class _Unknown(Exception):
    """A kustomization that cannot be read, or may lead where walks do not look."""


def possible_readers(repo: GitOpsRepo, stage: Stage) -> list[Stage]:
    """The other stages that might read files under ``stage``'s directory (memoised per
    repository): a superset of those whose build reads one."""
    known = _READERS.setdefault(repo, {})
    key = (stage.pipeline, stage.name)
    if key not in known:
        others = [s for p in repo.pipelines for s in p.stages if (s.pipeline, s.name) != key]
        known[key] = _readers(repo, stage, others)
    return known[key]


def _readers(repo: GitOpsRepo, stage: Stage, others: list[Stage]) -> list[Stage]:
    if not stage.path or any(_nests(other.path, stage.path) for other in others):
        return others
    try:
        reached = _reaching(repo, stage.path, others)
    except _Unknown:
        return others  # cannot tell: be careful
    # A stage's build reads its Flux Kustomization's file too, wherever that is.
    return [
        other
        for other in others
        if other.path in reached
        or (other.flux is not None and _inside(other.flux.file, stage.path))
    ]


def _nests(one: str, other: str) -> bool:
    return not one or _inside(one, other) or _inside(other, one)


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(f"{directory}/")


def _reaching(repo: GitOpsRepo, target: str, stages: Sequence[Stage]) -> set[str]:
    """Every directory whose build may read a file under ``target`` (``target`` aside)."""
    files, unusual = _kustomization_files(repo)
    sources: list[tuple[str, _Names | _Listed]] = [
        (posixpath.dirname(file), _Names(repo, file, careful=unusual)) for file in files
    ]
    sources += _flux_components(repo, stages)
    reached: set[str] = set()
    pending = [target]
    while pending:
        into = pending.pop()
        for base, names in sources:
            if base in reached or _inside(base, into):
                continue
            if any(_inside(path, into) for path in names(into)):
                reached.add(base)
                pending.append(base)
        # A stage without a kustomization file reads everything below its directory.
        for stage in stages:
            if stage.path not in reached and _inside(into, stage.path):
                reached.add(stage.path)
                pending.append(stage.path)
    return reached


class _Names:
    """The paths one kustomization names (normalised, repo-relative), parsed only when its
    text may name a path into the directory asked about."""

    def __init__(self, repo: GitOpsRepo, file: str, *, careful: bool) -> None:
        self._repo = repo
        self._careful = careful
        self._file = file
        self._base = posixpath.dirname(file)
        self._data: bytes | None = None
        self._paths: list[str] | None = None

    def __call__(self, into: str) -> list[str]:
        if self._paths is not None:
            return self._paths
        data = self._text()
        if not _may_name(data, self._base, into):
            return []
        try:
            docs = parse_bytes(data, self._file, "kustomization")
        except PromoterError as exc:
            raise _Unknown(self._file) from exc
        k = docs[0] if docs else None
        self._paths = [_join(self._base, entry) for entry in named_paths(k)]
        return self._paths

    def _text(self) -> bytes:
        if self._data is None:
            try:
                self._data = self._repo.source.read_bytes(self._file)
            except OSError as exc:
                raise _Unknown(self._file) from exc
            if self._careful and _may_name_skipped(self._data):
                raise _Unknown(self._file)
        return self._data


class _Listed:
    """Paths named outside any kustomization file (a Flux Kustomization's ``components``)."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = paths

    def __call__(self, into: str) -> list[str]:
        return self._paths


def _kustomization_files(repo: GitOpsRepo) -> tuple[list[str], bool]:
    """Every kustomization file a walk lists, and whether the walk skipped a directory (a
    hidden or vendored one, or a link) that may hold more."""
    source = repo.source
    if not isinstance(source, DiskSource):
        listed = source.files()
        return [f for f in listed if f.endswith(_SUFFIXES) or f in KUSTOMIZATION_FILES], True
    found: list[str] = []
    unusual = False
    pending = [""]
    while pending:
        here = pending.pop()
        prefix = f"{here}/" if here else ""
        try:
            entries = list(os.scandir(source.root / here))
        except OSError:
            unusual = True
            continue
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if not skipped(name):
                    pending.append(prefix + name)
                elif name != ".git":
                    unusual = True
            elif name in KUSTOMIZATION_FILES:
                found.append(prefix + name)
            elif entry.is_symlink() and entry.is_dir():
                unusual = True
    return found, unusual


def _may_name_skipped(data: bytes) -> bool:
    """Whether a kustomization's text may name a hidden or vendored directory."""
    hidden = data.startswith(b".") or _HIDDEN.search(data)
    return bool(hidden) or any(name in data for name in _SKIPPED)


def _flux_components(repo: GitOpsRepo, stages: Sequence[Stage]) -> Iterator[tuple[str, _Listed]]:
    for stage in stages:
        layer = repo.flux_layer(stage)
        components = layer.spec.get("components") if layer is not None else None
        if isinstance(components, list):
            named = [c for c in components if isinstance(c, str)]
            yield stage.path, _Listed([_join(stage.path, c) for c in named])


def _join(base: str, entry: str) -> str:
    return posixpath.normpath(posixpath.join(base, entry))


def _may_name(data: bytes, base: str, into: str) -> bool:
    """Whether the text of the kustomization in ``base`` may name a path into ``into``.

    The normalised path ``base/entry`` keeps a name of ``base`` only with every name
    before it, so below the names ``base`` and ``into`` share every name of ``into`` comes
    from the entry itself.  Escapes, quotes, spaces and other encodings could hide one:
    such texts are parsed."""
    if b"\\" in data or b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    wanted = into.split("/")
    have = base.split("/") if base else []
    shared = 0
    while shared < min(len(wanted), len(have)) and wanted[shared] == have[shared]:
        shared += 1
    for name in wanted[shared:]:
        if any(c in name for c in "'\" \t") or not name.isprintable():
            return True
        if name.encode() not in data:
            return False
    return True
