"""The kustomization being read, and the readers of its fields (lists, strings, mappings)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

from promoter._yaml import YMap, YSeq
from promoter.errors import KustomizeError
from promoter.problems import Problem


@dataclass(frozen=True)
class FluxLayer:
    """What a Flux ``Kustomization`` adds on top of the build of its ``spec.path``."""

    file: str
    spec: YMap


class Files(Protocol):
    """How transformers read the files a kustomization names (the builder does it)."""

    def read(self, rel: str, *, referrer: str | None = None, line: int | None = None) -> bytes:
        """The bytes of a repo-relative file."""
        ...

    def resolve(self, base_dir: str, entry: str, referrer: str, line: int | None) -> str:
        """``entry`` joined to ``base_dir``, inside the repository."""
        ...

    def real_path(self, rel: str) -> str:
        """``rel`` with symlinks resolved (itself when they lead out or cannot be)."""
        ...


@dataclass
class Layer:
    """The kustomization being processed: its directory, file and parsed content."""

    dir: str
    file: str
    k: YMap
    text: str
    unsupported: list[Problem] = field(default_factory=list)

    def cannot_follow(self, what: str, line: int | None) -> None:
        """Note ``what`` (``remote resource <url>``, ``vars``, ...) at ``line`` of this
        kustomization as something the native reader cannot follow."""
        self.unsupported.append(Problem(what, self.file, line, code="unsupported"))


def empty_map(file: str) -> YMap:
    """A new mapping that belongs to ``file`` (a generated object or a missing field)."""
    m = YMap()
    m.file = file
    m.mech = "resource"
    return m


def check_under(files: Files, layer: Layer, target: str, line: int) -> None:
    """kustomize only loads files in or below the kustomization's own directory, symlinks
    resolved (its ``LoadRestrictionsRootOnly``), and says so in these words."""
    real = files.real_path(target)
    if not (_under(target, layer.dir) and _under(real, files.real_path(layer.dir))):
        raise KustomizeError(
            layer.file,
            f"security; file '{target}' is not in or below '{layer.dir or '.'}'",
            line,
        )


def _under(path: str, directory: str) -> bool:
    return not directory or path == directory or path.startswith(directory.rstrip("/") + "/")


def items(k: YMap, key: str) -> list[tuple[Any, int]]:
    """The elements of list field ``key``, each with its line."""
    value = k.get(key)
    if value is None:
        return []
    if not isinstance(value, YSeq):
        raise KustomizeError(k.file, f"'{key}' must be a list", k.line_of(key))
    offset = k.line_offset + 1
    nodes: Iterable[Any] = repeat(None) if value.node is None else value.node.value
    return [
        (item, node.start_mark.line + offset if node is not None else 0)
        for item, node in zip(value, nodes, strict=False)
    ]


def entries(k: YMap, key: str) -> list[tuple[str, int]]:
    """The string elements of list field ``key`` (resources, components), with lines."""
    out = []
    for item, line in items(k, key):
        if not isinstance(item, str):
            raise KustomizeError(k.file, f"'{key}' entries must be strings", line)
        out.append((item, line))
    return out


def strings(spec: YMap, key: str) -> list[str]:
    """List field ``key`` as strings (empty when it is not a list)."""
    value = spec.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def maps(k: YMap, key: str) -> list[YMap]:
    """The mapping elements of list field ``key`` (patches, images, generators)."""
    out = []
    for item, line in items(k, key):
        if not isinstance(item, YMap):
            raise KustomizeError(k.file, f"'{key}' entries must be mappings", line)
        out.append(item)
    return out


def opt_str(k: YMap, key: str) -> str | None:
    """String field ``key``, or None when absent."""
    value = k.get(key)
    return None if value is None else str(value)


def map_line(entry: YMap) -> int | None:
    """The line a mapping starts at in its file."""
    return entry.node.start_mark.line + 1 + entry.line_offset if entry.node is not None else None
