"""Build a kustomization natively, the way ``kustomize build`` does, keeping provenance.

Only what decides which objects exist and which images and chart versions they carry is
computed: resources (files and directories, recursively), components, generators' names,
``patchesStrategicMerge``, ``patches`` (SMP and JSON6902, path or inline, with targets),
``namespace``, ``namePrefix``/``nameSuffix``, labels and annotations (for later selectors),
``patchesJson6902`` and ``images``, in kustomize's order.  What it cannot follow (remote
bases, Helm charts, plugin generators/transformers, replacements touching images) is listed
in ``Build.unsupported`` so the caller can fall back to a real render.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promoter._yaml import YMap, YSeq, decode, parse_bytes
from promoter.errors import KustomizeError, ManifestError
from promoter.kustomize._layer import (
    FluxLayer,
    Layer,
    check_under,
    empty_map,
    entries,
    maps,
    strings,
)
from promoter.kustomize.loadrules import real_relative
from promoter.kustomize.resource import Resource
from promoter.kustomize.transformers import transform
from promoter.problems import Problem
from promoter.tree import DiskSource, FileSource

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = re.compile(r"^(https?://|git::|git@|ssh://|github\.com/|gitlab\.com/|bitbucket\.org/)")


@dataclass(frozen=True)
class Build:
    """The objects a directory renders to, and what the native reader could not follow."""

    resources: tuple[Resource, ...]
    unsupported: tuple[Problem, ...] = ()
    """What the native reader cannot follow, each at its place (code ``unsupported``)."""
    files: frozenset[str] = frozenset()
    """Every repo file the build read: what the stage depends on."""


def find_kustomization(root: Path | FileSource, rel_dir: str) -> str | None:
    """The repo-relative path of ``rel_dir``'s kustomization file, if it has one."""
    source = DiskSource(root) if isinstance(root, Path) else root
    found = [name for name in KUSTOMIZATION_FILES if source.is_file(posixpath.join(rel_dir, name))]
    if len(found) > 1:
        raise KustomizeError(
            rel_dir or ".", f"found multiple kustomization files: {', '.join(found)}"
        )
    return posixpath.join(rel_dir, found[0]) if found else None


def is_remote(entry: str) -> bool:
    """Whether a resources entry is a remote base (URL or git reference)."""
    return bool(_REMOTE.match(entry)) or "?ref=" in entry or entry.startswith("oci://")


class Builder:
    """Builds kustomization directories of one repository, caching shared bases."""

    def __init__(
        self, root: Path | FileSource, overrides: Mapping[str, bytes] | None = None
    ) -> None:
        self.source: FileSource = DiskSource(root) if isinstance(root, Path) else root
        self._overrides = dict(overrides or {})
        self._dirs: dict[str, tuple[tuple[Resource, ...], tuple[Problem, ...], frozenset[str]]] = {}
        self._reading: list[set[str]] = []
        self._real: dict[str, str] = {}

    def invalidate(self, source: FileSource, changed: set[str]) -> None:
        """Switch to another snapshot of the repository where ``changed`` files differ;
        cached directory builds that read (or contain) a changed file are dropped."""
        self.source = source
        self._overrides = {}
        self._real = {}
        for rel_dir in _affected(self._dirs, changed):
            del self._dirs[rel_dir]

    def with_overrides(self, overrides: Mapping[str, bytes]) -> Builder:
        """A builder of the same snapshot as if ``overrides`` (all of them, not only new
        ones) were its files' contents; it starts with this builder's cached directory
        builds that read and contain none of the overridden files (they are immutable)."""
        derived = Builder(self.source, overrides)
        changed = set(overrides) ^ set(self._overrides) | {
            rel for rel, data in overrides.items() if self._overrides.get(rel) != data
        }
        dropped = _affected(self._dirs, changed)
        derived._dirs = {rel: built for rel, built in self._dirs.items() if rel not in dropped}
        derived._real = dict(self._real)
        return derived

    # -- files -------------------------------------------------------------------------

    def read(self, rel: str, *, referrer: str | None = None, line: int | None = None) -> bytes:
        """The bytes of a repo-relative file; errors name the file (or who referred to it)."""
        for files in self._reading:
            files.add(rel)
        if rel in self._overrides:
            return self._overrides[rel]
        try:
            return self.source.read_bytes(rel)
        except FileNotFoundError as exc:
            if referrer is not None:
                raise KustomizeError(referrer, f"{rel} does not exist", line) from exc
            raise ManifestError(rel, "does not exist") from exc
        except IsADirectoryError as exc:
            raise ManifestError(rel, "is a directory, expected a file") from exc
        except OSError as exc:
            raise ManifestError(rel, f"cannot be read: {exc.strerror}") from exc

    def resolve(self, base_dir: str, entry: str, referrer: str, line: int | None) -> str:
        """Join ``entry`` to ``base_dir``; refuse anything that leaves the repository."""
        joined = posixpath.normpath(posixpath.join(base_dir, entry))
        if joined == ".":
            joined = ""
        outside = joined == ".." or joined.startswith("../") or posixpath.isabs(entry)
        if not outside:
            outside = not self.source.inside(joined)
        if outside:
            raise KustomizeError(referrer, f"path {entry!r} leaves the repository", line)
        return joined

    def real_path(self, rel: str) -> str:
        """``rel`` with symlinks resolved, repo-relative (itself when not on disk, or when
        a link leads out of the repository: reading it then fails on its own)."""
        found = self._real.get(rel)
        if found is None:
            found = self._real[rel] = real_relative(self.source, rel)
        return found

    # -- building ----------------------------------------------------------------------

    def build(self, rel_dir: str, flux: FluxLayer | None = None) -> Build:
        """Build ``rel_dir`` (repo-relative); ``flux`` adds a Flux Kustomization's spec."""
        self._reading.append(set())
        try:
            if flux is None:
                resources, unsupported = self._build_dir(rel_dir, ())
            else:
                resources, unsupported = self._build_uncached(rel_dir, (), flux)
        finally:
            files = self._reading.pop()
        if flux is not None:
            files.add(flux.file)
        return Build(resources, unsupported, frozenset(files))

    def _build_dir(
        self, rel_dir: str, stack: tuple[str, ...]
    ) -> tuple[tuple[Resource, ...], tuple[Problem, ...]]:
        found = self._dirs.get(rel_dir)
        if found is None:
            self._reading.append(set())
            try:
                resources, unsupported = self._build_uncached(rel_dir, stack, None)
            finally:
                files = self._reading.pop()
            found = (resources, unsupported, frozenset(files))
            self._dirs[rel_dir] = found
        for reading in self._reading:
            reading.update(found[2])
        return found[0], found[1]

    def _load_layer(self, rel_dir: str, kfile: str) -> Layer:
        data = self.read(kfile)
        text = decode(data, errors="replace")
        docs = parse_bytes(data, kfile, "kustomization")
        if not docs:
            return Layer(rel_dir, kfile, empty_map(kfile), text)
        if len(docs) > 1 or not isinstance(docs[0], YMap):
            raise KustomizeError(kfile, "a kustomization must be a single YAML mapping")
        return Layer(rel_dir, kfile, docs[0], text)

    def _build_uncached(
        self, rel_dir: str, stack: tuple[str, ...], flux: FluxLayer | None
    ) -> tuple[tuple[Resource, ...], tuple[Problem, ...]]:
        if rel_dir in stack:
            cycle = " -> ".join((*stack[stack.index(rel_dir) :], rel_dir))
            raise KustomizeError(_kfile_or_dir(self.source, rel_dir), f"resource cycle: {cycle}")
        kfile = find_kustomization(self.source, rel_dir)
        if kfile is None:
            if flux is None:
                raise KustomizeError(
                    rel_dir or ".", "is not a kustomization directory (no kustomization.yaml)"
                )
            layer = self._generated_layer(rel_dir)
        else:
            layer = self._load_layer(rel_dir, kfile)
            kind = layer.k.get("kind") or "Kustomization"
            if kind != "Kustomization":
                raise KustomizeError(kfile, f"expected kind Kustomization, found {kind!r}")
        acc = self._accumulate(layer, [], (*stack, rel_dir), flux)
        return tuple(acc), tuple(layer.unsupported)

    def _generated_layer(self, rel_dir: str) -> Layer:
        """Flux generates a kustomization for plain manifest directories; do the same."""
        if not self.source.is_dir(rel_dir):
            raise ManifestError(rel_dir or ".", "is not a directory")
        prefix = f"{rel_dir}/" if rel_dir else ""
        entries: list[str] = []
        for path in self.source.files(rel_dir):
            rel = path[len(prefix) :]
            parts = rel.split("/")
            nested = next(
                (
                    "/".join(parts[:depth])
                    for depth in range(1, len(parts))
                    if find_kustomization(self.source, prefix + "/".join(parts[:depth]))
                ),
                None,
            )
            if nested is not None:
                if nested not in entries:
                    entries.append(nested)
            elif rel.endswith((".yaml", ".yml")):
                entries.append(rel)
        k = empty_map(posixpath.join(rel_dir, "kustomization.yaml"))
        k["resources"] = YSeq(entries)
        return Layer(rel_dir, k.file, k, "")

    # -- accumulation ------------------------------------------------------------------

    def _accumulate(
        self, layer: Layer, acc: list[Resource], stack: tuple[str, ...], flux: FluxLayer | None
    ) -> list[Resource]:
        k = layer.k
        seen = {r.id.key for r in acc}
        for entry, line in entries(k, "resources") + entries(k, "bases"):
            if is_remote(entry):
                layer.cannot_follow(f"remote resource {entry}", line)
                continue
            target = self.resolve(layer.dir, entry, layer.file, line)
            # A directory built already is one in this snapshot (no ``stat`` again).
            if target in self._dirs or self.source.is_dir(target):
                sub_resources, sub_unsupported = self._build_dir(target, stack)
                layer.unsupported.extend(sub_unsupported)
                for resource in sub_resources:
                    _add(acc, seen, resource, layer.file, line)
            else:
                check_under(self, layer, target, line)
                data = self.read(target, referrer=layer.file, line=line)
                for doc in _objects(parse_bytes(data, target, "resource"), target):
                    _add(acc, seen, Resource.from_doc(doc), layer.file, line)
        components = entries(k, "components")
        if flux is not None:
            components += [
                (c, flux.spec.line_of("components") or 0) for c in strings(flux.spec, "components")
            ]
        for entry, line in components:
            acc = self._component(layer, entry, line, acc, stack)
        self._generate(layer, acc)
        for name in ("helmCharts", "helmChartInflationGenerator", "generators", "transformers"):
            if k.get(name):
                layer.cannot_follow(name, k.line_of(name))
        return transform(self, layer, acc, flux)

    def _component(
        self, layer: Layer, entry: str, line: int, acc: list[Resource], stack: tuple[str, ...]
    ) -> list[Resource]:
        if is_remote(entry):
            layer.cannot_follow(f"remote component {entry}", line)
            return acc
        target = self.resolve(layer.dir, entry, layer.file, line)
        if target in stack:
            cycle = " -> ".join((*stack[stack.index(target) :], target))
            raise KustomizeError(layer.file, f"resource cycle: {cycle}", line)
        kfile = find_kustomization(self.source, target)
        if kfile is None:
            raise KustomizeError(layer.file, f"component {entry!r} has no kustomization.yaml", line)
        sub = self._load_layer(target, kfile)
        if sub.k.get("kind") != "Component":
            raise KustomizeError(kfile, "expected kind Component for a path listed in components")
        acc = self._accumulate(sub, list(acc), (*stack, target), None)
        layer.unsupported.extend(sub.unsupported)
        return acc

    def _generate(self, layer: Layer, acc: list[Resource]) -> None:
        for gen, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for spec in maps(layer.k, gen):
                self._generator_files(layer, spec)
                if spec.get("behavior", "create") != "create" or not spec.get("name"):
                    continue
                doc = empty_map(layer.file)
                doc.update(apiVersion="v1", kind=kind)
                meta = empty_map(layer.file)
                meta["name"] = str(spec["name"])
                if spec.get("namespace"):
                    meta["namespace"] = str(spec["namespace"])
                doc["metadata"] = meta
                acc.append(Resource.from_doc(doc))

    def _generator_files(self, layer: Layer, spec: YMap) -> None:
        """The files a generator reads (``files:``, ``envs:``, ``env:``) are files the build
        depends on, loaded under kustomize's restrictions; their content is not modelled."""
        named = [f.rpartition("=")[2] for f in strings(spec, "files")] + strings(spec, "envs")
        if isinstance(spec.get("env"), str):
            named.append(str(spec["env"]))
        line = spec.node.start_mark.line + 1 + spec.line_offset if spec.node is not None else 0
        for entry in named:
            target = self.resolve(layer.dir, entry, layer.file, line)
            check_under(self, layer, target, line)
            for files in self._reading:
                files.add(target)


def _kfile_or_dir(root: FileSource, rel_dir: str) -> str:
    try:
        return find_kustomization(root, rel_dir) or rel_dir
    except KustomizeError:
        return rel_dir


def _objects(docs: list[Any], file: str) -> Iterator[YMap]:
    for doc in docs:
        if not isinstance(doc, YMap):
            raise ManifestError(file, "a resource must be a YAML mapping")
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            yield from (item for item in doc["items"] if isinstance(item, YMap))
            continue
        if not doc.get("kind") or not isinstance(doc.get("metadata"), dict):
            line = doc.node.start_mark.line + 1 if doc.node is not None else None
            raise ManifestError(file, "a resource needs kind and metadata.name", line)
        yield doc


def _add(
    acc: list[Resource],
    seen: set[tuple[str, str, str, str, str]],
    resource: Resource,
    referrer: str,
    line: int,
) -> None:
    new = resource.id
    key = new.key
    if key in seen:
        raise KustomizeError(
            referrer, f"may not add resource with an already registered id: {new}", line
        )
    seen.add(key)
    acc.append(resource)


def _affected(built: Mapping[str, tuple[Any, Any, frozenset[str]]], changed: set[str]) -> set[str]:
    """The cached directories a change of the ``changed`` files may alter: those that read
    one, and those that contain one at any depth (a new file may be listed or found)."""
    if not changed:
        return set()
    holding = {""}  # every directory a changed path is in, at any depth
    for path in changed:
        parts = path.split("/")
        holding.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
    return {
        rel for rel, (_, _, read) in built.items() if rel in holding or not changed.isdisjoint(read)
    }
