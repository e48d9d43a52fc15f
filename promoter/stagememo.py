"""Stage reads remembered by content, for ``history``.

A stage's status is a function of what its build asked the snapshot: the files it read
(their blob ids, or that they are absent or a directory), what lies under each directory
it built (the stage's own and every kustomization directory: a second kustomization file or
a new plain manifest changes a build without being read), the stage as discovered and the
Flux spec added to its build.  When all of those are as they were at an earlier build, the
earlier status is the answer, whatever happened in between: a revert or a rollback, a
re-discovery that left a stage alone.  Only stages that were read without error are kept.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from promoter.kustomize import KUSTOMIZATION_FILES, FluxLayer
from promoter.model import Stage, StageStatus
from promoter.tree import TreeState

Read = tuple[StageStatus, frozenset[str]]
"""A stage's status and the files its build read."""
_Shape = tuple[tuple[str, ...], tuple[str, ...]]
"""The files a build read and the directories it built, sorted."""

_SHAPES = 4
"""Shapes (sets of files read) remembered per stage, the most recent ones."""
_STATES = 256
"""Reads remembered per stage and shape, the most recent ones."""


class StageMemo:
    """Earlier reads of stages, found again by the content of what they depend on."""

    def __init__(self, tree: TreeState) -> None:
        self._tree = tree
        self._under: dict[str, dict[str, str]] = {}
        """For each directory a kept read depends on: its files (at any depth) -> blob."""
        self._frozen: dict[str, frozenset[tuple[str, str]]] = {}
        """``_under`` of a directory as it is now, made hashable (once per change)."""
        self._shapes: dict[tuple[str, frozenset[str]], _Shape] = {}
        self._reads: dict[Stage, dict[_Shape, dict[Hashable, Read]]] = {}

    def follow(self, changed: Iterable[str]) -> None:
        """Take a commit's changed paths (after the tree took them)."""
        blobs = self._tree.blobs
        for path in changed:
            sha = blobs.get(path)
            parts = path.split("/")
            for depth in range(len(parts)):
                folder = "/".join(parts[:depth])
                under = self._under.get(folder)
                if under is None:
                    continue
                self._frozen.pop(folder, None)
                if sha is None:
                    under.pop(path, None)
                else:
                    under[path] = sha

    def find(self, stage: Stage, flux: FluxLayer | None) -> Read | None:
        """An earlier read of ``stage`` whose every input is as it is now."""
        for shape, reads in reversed(self._reads.get(stage, {}).items()):
            found = reads.get(self._state(shape, flux))
            if found is not None:
                return found
        return None

    def keep(self, stage: Stage, flux: FluxLayer | None, read: Read) -> None:
        """Remember a read made at the tree as it is now."""
        shape = self._shape(stage, read[1])
        shapes = self._reads.setdefault(stage, {})
        reads = shapes.pop(shape, {})
        shapes[shape] = reads  # the most recent last
        if len(shapes) > _SHAPES:
            del shapes[next(iter(shapes))]
        reads[self._state(shape, flux)] = read
        if len(reads) > _STATES:
            del reads[next(iter(reads))]

    def _shape(self, stage: Stage, files: frozenset[str]) -> _Shape:
        shape = self._shapes.get((stage.path, files))
        if shape is None:
            built = {stage.path}
            for file in files:
                folder, _, name = file.rpartition("/")
                if name in KUSTOMIZATION_FILES:
                    built.add(folder)
            shape = (tuple(sorted(files)), tuple(sorted(built)))
            self._shapes[(stage.path, files)] = shape
        for folder in shape[1]:
            if folder not in self._under:
                prefix = f"{folder}/" if folder else ""
                blobs = self._tree.blobs
                self._under[folder] = {p: sha for p, sha in blobs.items() if p.startswith(prefix)}
        return shape

    def _listing(self, folder: str) -> frozenset[tuple[str, str]]:
        found = self._frozen.get(folder)
        if found is None:
            found = self._frozen[folder] = frozenset(self._under[folder].items())
        return found

    def _state(self, shape: _Shape, flux: FluxLayer | None) -> Hashable:
        files, built = shape
        blobs, folders = self._tree.blobs, self._tree.dirs
        return (
            tuple((blobs.get(f), f in folders) for f in files),
            tuple(self._listing(folder) for folder in built),
            None if flux is None else (flux.file, _line(flux), repr(flux.spec)),
        )


def _line(flux: FluxLayer) -> int | None:
    node = flux.spec.node
    return None if node is None else int(node.start_mark.line) + flux.spec.line_offset
