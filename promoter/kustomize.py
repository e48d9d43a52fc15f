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

import functools
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from promoter import _jsonpatch, _smp
from promoter._resource import CLUSTER_SCOPED, ResId, Resource, id_of, matches_selector
from promoter._yaml import Prov, YMap, YSeq, parse_bytes, parse_text
from promoter.errors import KustomizeError, ManifestError
from promoter.images import ImageRef
from promoter.tree import DiskSource, FileSource

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = re.compile(r"^(https?://|git::|git@|ssh://|github\.com/|gitlab\.com/|bitbucket\.org/)")
_IMAGE_FIELDS = re.compile(r"image|containers|chart|version", re.IGNORECASE)


@dataclass(frozen=True)
class FluxLayer:
    """What a Flux ``Kustomization`` adds on top of the build of its ``spec.path``."""

    file: str
    spec: YMap


@dataclass(frozen=True)
class Build:
    """The objects a directory renders to, and what the native reader could not follow."""

    resources: tuple[Resource, ...]
    unsupported: tuple[str, ...] = ()
    files: frozenset[str] = frozenset()
    """Every repo file the build read: what the stage depends on."""


@dataclass
class _Layer:
    """The kustomization being processed: its directory, file and parsed content."""

    dir: str
    file: str
    k: YMap
    text: str
    unsupported: list[str] = field(default_factory=list)


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
        self._dirs: dict[str, tuple[tuple[Resource, ...], tuple[str, ...], frozenset[str]]] = {}
        self._reading: list[set[str]] = []

    def invalidate(self, source: FileSource, changed: set[str]) -> None:
        """Switch to another snapshot of the repository where ``changed`` files differ;
        cached directory builds that read (or contain) a changed file are dropped."""
        self.source = source
        self._overrides = {}
        for rel_dir in list(self._dirs):
            prefix = f"{rel_dir}/" if rel_dir else ""
            files = self._dirs[rel_dir][2]
            if changed & files or any(path.startswith(prefix) for path in changed):
                del self._dirs[rel_dir]

    # -- files -------------------------------------------------------------------------

    def read(self, rel: str, *, referrer: str | None = None, line: int | None = None) -> bytes:
        """The bytes of a repo-relative file; errors name the file (or who referred to it)."""
        for files in self._reading:
            files.add(rel)
        if rel in self._overrides:
            return self._overrides[rel]
        try:
            return self.source.read_bytes(rel)
        except FileNotFoundError:
            if referrer is not None:
                raise KustomizeError(referrer, f"{rel} does not exist", line) from None
            raise ManifestError(rel, "does not exist") from None
        except IsADirectoryError:
            raise ManifestError(rel, "is a directory, expected a file") from None
        except OSError as exc:
            raise ManifestError(rel, f"cannot be read: {exc.strerror}") from None

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
    ) -> tuple[tuple[Resource, ...], tuple[str, ...]]:
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

    def _load_layer(self, rel_dir: str, kfile: str) -> _Layer:
        data = self.read(kfile)
        text = data.decode("utf-8-sig", errors="replace")
        docs = parse_bytes(data, kfile, "kustomization")
        if not docs:
            return _Layer(rel_dir, kfile, _empty_map(kfile), text)
        if len(docs) > 1 or not isinstance(docs[0], YMap):
            raise KustomizeError(kfile, "a kustomization must be a single YAML mapping")
        return _Layer(rel_dir, kfile, docs[0], text)

    def _build_uncached(
        self, rel_dir: str, stack: tuple[str, ...], flux: FluxLayer | None
    ) -> tuple[tuple[Resource, ...], tuple[str, ...]]:
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

    def _generated_layer(self, rel_dir: str) -> _Layer:
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
        k = _empty_map(posixpath.join(rel_dir, "kustomization.yaml"))
        k["resources"] = YSeq(entries)
        return _Layer(rel_dir, k.file, k, "")

    # -- accumulation ------------------------------------------------------------------

    def _accumulate(
        self, layer: _Layer, acc: list[Resource], stack: tuple[str, ...], flux: FluxLayer | None
    ) -> list[Resource]:
        k = layer.k
        seen = {r.id.key for r in acc}
        for entry, line in _entries(k, "resources") + _entries(k, "bases"):
            if is_remote(entry):
                layer.unsupported.append(f"{layer.file}:{line}: remote resource {entry}")
                continue
            target = self.resolve(layer.dir, entry, layer.file, line)
            if self.source.is_dir(target):
                sub_resources, sub_unsupported = self._build_dir(target, stack)
                layer.unsupported.extend(sub_unsupported)
                for resource in sub_resources:
                    _add(acc, seen, resource, layer.file, line)
            else:
                self._check_under(layer, target, entry, line)
                data = self.read(target, referrer=layer.file, line=line)
                for doc in _objects(parse_bytes(data, target, "resource"), target):
                    _add(acc, seen, Resource.from_doc(doc), layer.file, line)
        components = _entries(k, "components")
        if flux is not None:
            components += [
                (c, flux.spec.line_of("components") or 0) for c in _strings(flux.spec, "components")
            ]
        for entry, line in components:
            acc = self._component(layer, entry, line, acc, stack)
        self._generate(layer, acc)
        for name in ("helmCharts", "helmChartInflationGenerator", "generators", "transformers"):
            if k.get(name):
                layer.unsupported.append(f"{layer.file}:{k.line_of(name)}: {name}")
        return self._transform(layer, acc, flux)

    def _component(
        self, layer: _Layer, entry: str, line: int, acc: list[Resource], stack: tuple[str, ...]
    ) -> list[Resource]:
        if is_remote(entry):
            layer.unsupported.append(f"{layer.file}:{line}: remote component {entry}")
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

    def _check_under(self, layer: _Layer, target: str, entry: str, line: int) -> None:
        """kustomize only loads files inside the kustomization's own directory."""
        if layer.dir and not (target + "/").startswith(layer.dir.rstrip("/") + "/"):
            raise KustomizeError(
                layer.file,
                f"file {entry!r} is outside the kustomization directory {layer.dir} "
                "(kustomize refuses it)",
                line,
            )

    def _generate(self, layer: _Layer, acc: list[Resource]) -> None:
        for gen, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for spec in _maps(layer.k, gen):
                if spec.get("behavior", "create") != "create" or not spec.get("name"):
                    continue
                doc = _empty_map(layer.file)
                doc.update(apiVersion="v1", kind=kind)
                meta = _empty_map(layer.file)
                meta["name"] = str(spec["name"])
                if spec.get("namespace"):
                    meta["namespace"] = str(spec["namespace"])
                doc["metadata"] = meta
                acc.append(Resource.from_doc(doc))

    # -- transformers, in kustomize's order ----------------------------------------------

    def _transform(
        self, layer: _Layer, acc: list[Resource], flux: FluxLayer | None
    ) -> list[Resource]:
        k = layer.k
        for raw, line in _items(k, "patchesStrategicMerge"):
            if isinstance(raw, str) and "\n" not in raw.strip() and ":" not in raw:
                target = self.resolve(layer.dir, raw, layer.file, line)
                self._check_under(layer, target, raw, line)
                docs = parse_bytes(
                    self.read(target, referrer=layer.file, line=line), target, "patch"
                )
                where = target
            elif isinstance(raw, str):
                docs = self._inline(layer, k["patchesStrategicMerge"], raw, line)
                where = layer.file
            else:
                raise KustomizeError(layer.file, "patchesStrategicMerge entries are strings", line)
            for doc in docs:
                acc = _apply_smp(acc, doc, None, where, line)
        patches: list[tuple[YMap, _Layer, str]] = [(p, layer, "patch") for p in _maps(k, "patches")]
        if flux is not None:
            flux_layer = _Layer(layer.dir, flux.file, flux.spec, self._text(flux.file))
            patches += [(p, flux_layer, "patch") for p in _maps(flux.spec, "patches")]
        for spec, owner, _ in patches:
            acc = self._apply_patch(owner, spec, acc, json6902_only=False)
        namespace = _opt_str(k, "namespace")
        if flux is not None and _opt_str(flux.spec, "targetNamespace"):
            namespace = _opt_str(flux.spec, "targetNamespace")
        if namespace:
            acc = [_set_namespace(r, namespace) for r in acc]
        prefix, suffix = _opt_str(k, "namePrefix"), _opt_str(k, "nameSuffix")
        if flux is not None:
            prefix = (_opt_str(flux.spec, "namePrefix") or "") + (prefix or "")
            suffix = (suffix or "") + (_opt_str(flux.spec, "nameSuffix") or "")
        if prefix or suffix:
            acc = [_rename(r, prefix or "", suffix or "") for r in acc]
        labels = _labels(k)
        if labels:
            acc = [_add_meta(r, "labels", labels) for r in acc]
        annotations = k.get("commonAnnotations")
        if isinstance(annotations, dict) and annotations:
            acc = [_add_meta(r, "annotations", dict(annotations)) for r in acc]
        for spec in _maps(k, "patchesJson6902"):
            acc = self._apply_patch(layer, spec, acc, json6902_only=True)
        images = [(entry, layer.file) for entry in _maps(k, "images")]
        if flux is not None:
            images += [(entry, flux.file) for entry in _maps(flux.spec, "images")]
        if images:
            acc = _apply_images(acc, [entry for entry, _ in images])
        self._check_replacements(layer)
        return acc

    def _text(self, rel: str) -> str:
        return self.read(rel).decode("utf-8-sig", errors="replace")

    def _inline(self, layer: _Layer, owner: Any, raw: str, line: int) -> list[Any]:
        """Parse an inline patch string so its values keep their real file position."""
        node = _node_for(owner, raw)
        line_offset, col_offset = line - 1, 0
        columns: list[int] | None = None
        if node is not None and node.style in ("|", ">"):
            line_offset = node.start_mark.line + 1
            col_offset = _block_indent(layer.text, line_offset)
        elif node is not None and node.start_mark.line == node.end_mark.line:
            # A one-line (often quoted JSON) patch: map each character to its column.
            line_offset = node.start_mark.line
            columns = _flow_columns(layer.text, node, raw)
        mech = "inline-patch"
        docs = parse_text(raw, layer.file, mech, line_offset=line_offset, col_offset=col_offset)
        if columns is not None:
            for doc in docs:
                _move_marks(getattr(doc, "node", None), columns)
        return [doc for doc in docs if doc is not None]

    def _apply_patch(
        self, layer: _Layer, spec: YMap, acc: list[Resource], *, json6902_only: bool
    ) -> list[Resource]:
        line = spec.node.start_mark.line + 1 if spec.node is not None else 0
        target = spec.get("target")
        if target is not None and not isinstance(target, dict):
            raise KustomizeError(layer.file, "patch target must be a mapping", line)
        if spec.get("path") is not None:
            entry = str(spec["path"])
            rel = self.resolve(layer.dir, entry, layer.file, line)
            self._check_under(layer, rel, entry, line)
            data = self.read(rel, referrer=layer.file, line=line)
            _check_json(data.decode("utf-8-sig", errors="replace"), rel, None)
            docs = parse_bytes(data, rel, "patch")
            if len(docs) == 1 and isinstance(docs[0], list):
                docs = parse_bytes(data, rel, "json6902")
            where = rel
        elif isinstance(spec.get("patch"), str):
            patch_line = spec.line_of("patch") or line
            _check_json(spec["patch"], layer.file, patch_line)
            docs = self._inline(layer, spec, spec["patch"], patch_line)
            where = layer.file
        else:
            raise KustomizeError(layer.file, "a patch needs 'path' or 'patch'", line)
        if len(docs) == 1 and isinstance(docs[0], list):
            if target is None:
                raise KustomizeError(layer.file, "a JSON6902 patch needs a target", line)
            return self._apply_json6902(acc, docs[0], target, where)
        if json6902_only:
            raise KustomizeError(layer.file, "patchesJson6902 entries must be JSON patches", line)
        if target is not None and len(docs) > 1:
            raise KustomizeError(
                layer.file, "several strategic merge patches in one entry may not have a target",
                line,
            )  # fmt: skip
        for doc in docs:
            meta = doc.get("metadata") if isinstance(doc, YMap) else None
            if not (isinstance(meta, dict) and meta.get("name") and doc.get("kind")):
                raise KustomizeError(
                    where, "unable to parse SM or JSON patch: a strategic merge patch needs "
                    "kind and metadata.name", _doc_line(doc) or line,
                )  # fmt: skip
            acc = _apply_smp(acc, doc, target, where, line)
        return acc

    def _apply_json6902(
        self, acc: list[Resource], ops: list[Any], target: dict[str, Any], where: str
    ) -> list[Resource]:
        out = []
        for resource in acc:
            if matches_selector(resource, target):
                try:
                    doc = _json_restyle(_jsonpatch.apply_ops(resource.doc, ops))
                    resource = resource.with_doc(doc)
                except _jsonpatch.JsonPatchError as exc:
                    line = _first_line(ops)
                    raise KustomizeError(
                        where, f"JSON6902 patch on {resource.id}: {exc}", line
                    ) from None
            out.append(resource)
        return out

    def _check_replacements(self, layer: _Layer) -> None:
        for raw, line in _items(layer.k, "replacements"):
            if not isinstance(raw, dict) or "path" in raw or _touches_images(raw):
                layer.unsupported.append(f"{layer.file}:{line}: replacements")
        if layer.k.get("vars"):
            layer.unsupported.append(f"{layer.file}:{layer.k.line_of('vars')}: vars")


# -- helpers -----------------------------------------------------------------------------


def _empty_map(file: str) -> YMap:
    m = YMap()
    m.file = file
    m.mech = "resource"
    return m


def _kfile_or_dir(root: FileSource, rel_dir: str) -> str:
    try:
        return find_kustomization(root, rel_dir) or rel_dir
    except KustomizeError:
        return rel_dir


def _items(k: YMap, key: str) -> list[tuple[Any, int]]:
    value = k.get(key)
    if value is None:
        return []
    if not isinstance(value, YSeq):
        raise KustomizeError(k.file, f"'{key}' must be a list", k.line_of(key))
    return [
        (item, node.start_mark.line + 1 + k.line_offset if node is not None else 0)
        for item, node in zip(value, _child_nodes(value), strict=False)
    ]


def _child_nodes(seq: YSeq) -> Iterator[Any]:
    if seq.node is not None:
        yield from seq.node.value
    else:
        while True:
            yield None


def _entries(k: YMap, key: str) -> list[tuple[str, int]]:
    out = []
    for item, line in _items(k, key):
        if not isinstance(item, str):
            raise KustomizeError(k.file, f"'{key}' entries must be strings", line)
        out.append((item, line))
    return out


def _strings(spec: YMap, key: str) -> list[str]:
    value = spec.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _maps(k: YMap, key: str) -> list[YMap]:
    out = []
    for item, line in _items(k, key):
        if not isinstance(item, YMap):
            raise KustomizeError(k.file, f"'{key}' entries must be mappings", line)
        out.append(item)
    return out


def _opt_str(k: YMap, key: str) -> str | None:
    value = k.get(key)
    return None if value is None else str(value)


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
    if new.key in seen:
        raise KustomizeError(
            referrer, f"may not add resource with an already registered id: {new}", line
        )
    seen.add(new.key)
    acc.append(resource)


def _node_for(owner: Any, raw: str) -> Any:
    if isinstance(owner, YMap):
        node = owner.nodes.get("patch")
        return node if node is not None and node.value == raw else None
    if isinstance(owner, YSeq) and owner.node is not None:
        for child in owner.node.value:
            if getattr(child, "value", None) == raw:
                return child
    return None


def _flow_columns(text: str, node: Any, raw: str) -> list[int] | None:
    """Column of each character of one-line scalar ``node``'s value ``raw`` in ``text``."""
    lines = text.splitlines()
    if node.start_mark.line >= len(lines):
        return None
    line, start = lines[node.start_mark.line], node.start_mark.column
    columns: list[int] = []
    if not node.style:
        columns = list(range(start, start + len(raw)))
    elif node.style == "'":
        i = start + 1
        while i < len(line) and len(columns) < len(raw):
            columns.append(i)
            i += 2 if line.startswith("''", i) else 1
    elif node.style == '"':
        i = start + 1
        while i < len(line) and len(columns) < len(raw):
            columns.append(i)
            if line[i] == "\\":
                i += {"x": 4, "u": 6, "U": 10}.get(line[i + 1 : i + 2], 2)
            else:
                i += 1
    return (
        columns
        if len(columns) == len(raw) and raw == "".join(_unescaped(line, columns, node.style))
        else None
    )


def _unescaped(line: str, columns: list[int], style: str | None) -> Iterator[str]:
    """The value characters at ``columns`` (escapes decoded) to check the mapping."""
    for column in columns:
        char = line[column]
        if style == '"' and char == "\\":
            escape = line[column + 1 : column + 2]
            if escape in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[escape]
                yield chr(int(line[column + 2 : column + 2 + width], 16))
            else:
                yield _ESCAPES.get(escape, escape)
        else:
            yield char


_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
            "f": "\f", "r": "\r", "e": "\x1b", " ": " ", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}  # fmt: skip


def _move_marks(node: Any, columns: list[int]) -> None:
    """Point the marks of a patch parsed from a one-line scalar at the file's columns."""
    if node is None:
        return
    index = node.start_mark.index
    if 0 <= index < len(columns):
        mark = node.start_mark
        node.start_mark = yaml.Mark(mark.name, index, 0, columns[index], None, 0)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _move_marks(key, columns)
            _move_marks(value, columns)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _move_marks(item, columns)


def _block_indent(text: str, line_index: int) -> int:
    lines = text.splitlines()
    for candidate in lines[line_index:]:
        if candidate.strip():
            return len(candidate) - len(candidate.lstrip(" "))
    return 0


def _check_json(text: str, where: str, line: int | None) -> None:
    """kustomize reads a patch that starts with ``[`` as strict JSON, not as YAML."""
    if not text.lstrip().startswith("["):
        return
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise KustomizeError(
            where,
            f"unable to parse SM or JSON patch: starts with '[' but is not JSON: {exc.msg}",
            line if line is not None else exc.lineno,
        ) from None


def _doc_line(doc: Any) -> int | None:
    node = getattr(doc, "node", None)
    return None if node is None else int(node.start_mark.line) + doc.line_offset + 1


def _first_line(ops: list[Any]) -> int | None:
    for op in ops:
        if isinstance(op, YMap) and op.node is not None:
            return int(op.node.start_mark.line) + op.line_offset + 1
    return None


def _apply_smp(
    acc: list[Resource], patch: Any, target: dict[str, Any] | None, where: str, line: int
) -> list[Resource]:
    if not isinstance(patch, YMap):
        raise KustomizeError(where, "a strategic merge patch must be a mapping", line)
    mech = patch.mech
    if target is not None:
        chosen = [matches_selector(r, target) for r in acc]
    else:
        wanted = id_of(patch)
        wanted_key = wanted.key
        chosen = [wanted_key in r.keys for r in acc]
        count = sum(chosen)
        if count != 1:
            patch_line = patch.node.start_mark.line + 1 + patch.line_offset if patch.node else line
            problem = "no resource matches" if count == 0 else "several resources match"
            raise KustomizeError(where, f"{problem} strategic merge patch {wanted}", patch_line)
    out = []
    for resource, hit in zip(acc, chosen, strict=True):
        if not hit:
            out.append(resource)
            continue
        if _smp.is_delete(patch):
            continue
        builtin = resource.id.group in _smp.BUILTIN_GROUPS
        merged = _smp.merge(
            resource.doc,
            _retarget(patch, resource.id),
            kind=resource.id.kind,
            builtin=builtin,
            mech=mech,
        )
        out.append(resource.with_doc(merged))
    return out


def _retarget(patch: YMap, rid: ResId) -> YMap:
    """A targeted SMP applies to each selected object whatever name the patch carries."""
    meta = patch.get("metadata")
    if not isinstance(meta, YMap):
        return patch
    new_meta = meta.evolve()
    new_meta.pop("name", None)
    new_meta.pop("namespace", None)
    out = patch.evolve()
    out["metadata"] = new_meta
    out.pop("kind", None)
    out.pop("apiVersion", None)
    return out


def _edit_meta(resource: Resource, change: Callable[[YMap], None]) -> Resource:
    doc = resource.doc.evolve()
    meta = doc.get("metadata")
    meta = meta.evolve() if isinstance(meta, YMap) else _empty_map(doc.file)
    change(meta)
    doc["metadata"] = meta
    return resource.with_doc(doc)


def _set_namespace(resource: Resource, namespace: str) -> Resource:
    if resource.id.kind in CLUSTER_SCOPED or resource.id.namespace == namespace:
        return resource
    return _edit_meta(resource, lambda meta: meta.__setitem__("namespace", namespace))


def _rename(resource: Resource, prefix: str, suffix: str) -> Resource:
    if resource.id.kind in ("CustomResourceDefinition", "Namespace"):
        return resource
    new_name = f"{prefix}{resource.id.name}{suffix}"
    return _edit_meta(resource, lambda meta: meta.__setitem__("name", new_name))


def _labels(k: YMap) -> dict[str, Any]:
    out: dict[str, Any] = {}
    common = k.get("commonLabels")
    if isinstance(common, dict):
        out.update(common)
    for entry in k.get("labels") or []:
        if isinstance(entry, dict) and isinstance(entry.get("pairs"), dict):
            out.update(entry["pairs"])
    return out


def _add_meta(resource: Resource, field_name: str, values: dict[str, Any]) -> Resource:
    def change(meta: YMap) -> None:
        current = meta.get(field_name)
        merged = current.evolve() if isinstance(current, YMap) else _empty_map(meta.file)
        merged.update(values)
        meta[field_name] = merged

    return _edit_meta(resource, change)


def _touches_images(replacement: dict[str, Any]) -> bool:
    for target in replacement.get("targets") or []:
        if not isinstance(target, dict):
            return True
        for path in target.get("fieldPaths") or []:
            if _IMAGE_FIELDS.search(str(path)):
                return True
    return False


# -- images: transformer --------------------------------------------------------------


_IMAGE_SUFFIX = "(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$"


def image_matches(image: str, name: str) -> bool:
    """Whether an ``images:`` entry named ``name`` applies to ``image``.

    kustomize matches ``^<name>(:tag)?(@sha256:digest)?$`` with ``name`` as a regular
    expression: ``name: web:1`` matches ``web:1`` and ``name: w.b`` matches ``web``.
    """
    try:
        pattern = _image_pattern(name)
    except re.error:
        return ImageRef.parse(image).name == name
    return pattern.search(image) is not None


@functools.lru_cache(maxsize=1024)
def _image_pattern(name: str) -> re.Pattern[str]:
    return re.compile(f"^{name}{_IMAGE_SUFFIX}")


def _apply_images(acc: list[Resource], entries: list[YMap]) -> list[Resource]:
    """Every ``images:`` entry in order, in one walk over each object."""
    updaters = [_image_updater(entry) for entry in entries]

    def update(container: YMap) -> YMap | None:
        changed = None
        for updater in updaters:
            new = updater(changed if changed is not None else container)
            if new is not None:
                changed = new
        return changed

    return [_map_containers(r, update) for r in acc]


def _image_updater(entry: YMap) -> Callable[[YMap], YMap | None]:
    name = _string_field(entry, "name")
    if not name:
        raise KustomizeError(entry.file, "an images entry needs a name", _map_line(entry))
    new_name, new_tag = _string_field(entry, "newName"), _string_field(entry, "newTag")
    digest = _string_field(entry, "digest")
    if (new_tag and digest) or new_tag:
        prov = entry.origin("newTag")
    elif digest:
        prov = entry.origin("digest")
    else:
        prov = None
    if prov is not None:
        prov = Prov(prov.file, prov.node, "images", prov.line_offset, prov.col_offset)

    def update(container: YMap) -> YMap | None:
        image = container.get("image")
        if not isinstance(image, str) or not image_matches(image, name):
            return None
        ref = ImageRef.parse(image)
        if new_name:
            ref = ImageRef(new_name, ref.tag, ref.digest)
        if new_tag or digest:
            ref = ref.with_version(new_tag or None, digest or None)
        out = container.evolve()
        out["image"] = str(ref)
        if prov is not None:
            out.prov["image"] = prov
        return out

    return update


def _map_line(entry: YMap) -> int | None:
    return entry.node.start_mark.line + 1 + entry.line_offset if entry.node is not None else None


# Built-in kinds that hold no containers: the images transformer has nothing to do there.
_NO_CONTAINERS = frozenset(
    {
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Namespace",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "Ingress",
        "IngressClass",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "StorageClass",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "PriorityClass",
        "ResourceQuota",
        "LimitRange",
        "Endpoints",
        "EndpointSlice",
        "CustomResourceDefinition",
    }
)


def _map_containers(resource: Resource, update: Callable[[YMap], YMap | None]) -> Resource:
    rid = resource.id
    if rid.kind in _NO_CONTAINERS and rid.group in _smp.BUILTIN_GROUPS:
        return resource
    new_doc = _walk_containers(resource.doc, update)
    return resource if new_doc is None else resource.with_doc(new_doc)


def _walk_containers(node: Any, update: Callable[[YMap], YMap | None]) -> Any:
    """Rewrite every element of any ``containers``/``initContainers`` list; None if none."""
    if isinstance(node, dict):
        changed: dict[Any, Any] = {}
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                new_list = [update(c) if isinstance(c, YMap) else None for c in value]
                if any(item is not None for item in new_list):
                    seq = YSeq(
                        n if n is not None else o for n, o in zip(new_list, value, strict=True)
                    )
                    changed[key] = seq
            elif isinstance(value, (dict, list)):
                sub = _walk_containers(value, update)
                if sub is not None:
                    changed[key] = sub
        if not changed:
            return None
        out = node.evolve() if isinstance(node, YMap) else dict(node)
        out.update(changed)
        return out
    if isinstance(node, list):
        subs = [_walk_containers(item, update) for item in node]
        if all(s is None for s in subs):
            return None
        return YSeq(s if s is not None else o for s, o in zip(subs, node, strict=True))
    return None


def iter_containers(doc: Any) -> Iterable[tuple[YMap, bool]]:
    """Every container of a workload document, with whether it is an init container."""
    spec = pod_spec(doc)
    if spec is None:
        return
    for key, init in (("initContainers", True), ("containers", False)):
        for container in spec.get(key) or []:
            if isinstance(container, YMap):
                yield container, init


def pod_spec(doc: Any) -> YMap | None:
    """The pod spec of a workload (Deployment, CronJob, Pod, Rollout, ...)."""
    kind = doc.get("kind")
    path: tuple[str, ...]
    if kind == "Pod":
        path = ("spec",)
    elif kind == "CronJob":
        path = ("spec", "jobTemplate", "spec", "template", "spec")
    else:
        path = ("spec", "template", "spec")
    node: Any = doc
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, YMap) else None


# -- scalars as kustomize prints them --------------------------------------------------------

_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[Tt ]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?"
)
_V2_NON_STRINGS = frozenset(
    (
        *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"),
        *("on", "On", "ON", "off", "Off", "OFF"),
        *("true", "True", "TRUE", "false", "False", "FALSE"),
        *(".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"),
        *(".nan", ".NaN", ".NAN"),
    )
)
_INT64 = range(-(2**63), 2**64)


def rendered_scalar(mapping: YMap, key: Any) -> str | None:
    """The scalar under ``key`` as ``kustomize build`` prints it (None when absent).

    kustomize prints plain scalars the way YAML 1.2 reads them, through Go's number
    formatting: an unquoted ``1.10`` renders as ``1.1``, ``6.0`` as ``6`` and
    ``2022-01-15`` as ``2022-01-15T00:00:00Z``; quoted and block scalars stay as written.
    """
    value = mapping.get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    origin = mapping.origin(key)
    node = origin.node if origin is not None else None
    if isinstance(node, yaml.ScalarNode):
        if node.style:  # quoted or block (or quoted by kustomize): a string as written
            return str(node.value)
        return _render_plain(str(node.value))
    return value if isinstance(value, str) else _render_plain(_text_of(value))


def quoted_like(node: yaml.ScalarNode, value: str | None = None) -> yaml.ScalarNode:
    """A copy of ``node`` (same place in its file) that kustomize holds as a quoted string."""
    text = str(node.value) if value is None else value
    return yaml.ScalarNode("tag:yaml.org,2002:str", text, node.start_mark, node.end_mark, '"')


_OLD_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off")
) | {"OFF"}
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def _json_restyle(resource_doc: YMap) -> YMap:
    """kustomize sends an object through JSON to apply a JSON6902 patch; plain scalars that
    come back as strings which look like something else (a date, ``yes``) are quoted from
    then on, and a later strategic merge keeps that quoting.  Only the HelmRelease chart
    version is rendered, so only it is restyled (copying just the path to it)."""
    chart = resource_doc.get("spec")
    path: list[YMap] = [resource_doc]
    for key in ("chart", "spec"):
        if not isinstance(chart, YMap):
            return resource_doc
        path.append(chart)
        chart = chart.get(key)
    if not isinstance(chart, YMap) or not isinstance(chart.get("version"), (str, int, float)):
        return resource_doc
    origin = chart.origin("version")
    node = origin.node if origin is not None else None
    if origin is None or not isinstance(node, yaml.ScalarNode) or node.style:
        return resource_doc
    text = str(node.value)
    rendered = _render_plain(text)
    stamp = _TIMESTAMP.fullmatch(text) is not None
    if rendered is None or not (stamp or text in _OLD_BOOLS or _BASE60.fullmatch(text)):
        return resource_doc
    out = chart.evolve()
    out.prov["version"] = Prov(
        origin.file, quoted_like(node, rendered), origin.mech, origin.line_offset,
        origin.col_offset,
    )  # fmt: skip
    for parent, key in zip(reversed(path), ("spec", "chart", "spec"), strict=True):
        new_parent = parent.evolve()
        new_parent[key] = out
        out = new_parent
    return out


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render_plain(text: str) -> str | None:
    """A plain scalar through kustomize: YAML 1.2 resolution, then a JSON round trip."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return text.lower()
    if not text or text[0] not in "0123456789+-.":
        return text
    stamp = _TIMESTAMP.fullmatch(text)
    if stamp is not None:
        return _rfc3339(stamp)
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        number = _go_int(plain)
        if number in _INT64:
            return str(number)
        return _go_float(float(number))
    if _YAML_FLOAT.fullmatch(plain):
        return _go_float(float(plain))
    return text


def _go_int(text: str) -> int:
    """Go's ``strconv.ParseInt(text, 0, 64)`` value (``0x``, ``0o``, ``0b``, ``017``)."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").lower()
    if body.startswith(("0x", "0o", "0b")):
        return sign * int(body[2:], {"x": 16, "o": 8, "b": 2}[body[1]])
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body, 8)
    return sign * int(body)


def _go_float(number: float) -> str:
    """A float through Go's JSON encoder and back through YAML, as kustomize prints it."""
    if number != number or number in (float("inf"), float("-inf")):
        return str(number)
    if number.is_integer() and abs(number) < 1e21 and int(number) in _INT64:
        return str(int(number))
    return _format_g(number)


def _format_g(number: float) -> str:
    """Go's ``strconv.FormatFloat(number, 'g', -1, 64)``."""
    sign = "-" if number < 0 else ""
    parts = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    exp = len(digits) + int(parts.exponent) - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return sign + format(Decimal(repr(abs(number))).normalize(), "f")


def _rfc3339(stamp: re.Match[str]) -> str:
    year, month, day, hour, minute, second, fraction, zone = stamp.groups()
    text = f"{int(year):04d}-{int(month):02d}-{int(day):02d}T"
    text += f"{int(hour or 0):02d}:{int(minute or 0):02d}:{int(second or 0):02d}"
    if fraction and fraction.rstrip("0") != ".":
        text += fraction.rstrip("0")
    return text + ("Z" if zone in (None, "Z", "+00:00") else zone)


def _string_field(entry: YMap, key: str) -> str | None:
    """A kustomization string field; kustomize (YAML 1.1) refuses numbers and booleans."""
    value = entry.get(key)
    if value is None:
        return None
    node = entry.nodes.get(key)
    if isinstance(node, yaml.ScalarNode) and node.style and isinstance(value, str):
        return value
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else _text_of(value)
    plain = text.replace("_", "")
    if (
        not isinstance(value, (str, int, float))
        or text in _V2_NON_STRINGS
        or _GO_INT.fullmatch(plain)
        or _YAML_FLOAT.fullmatch(plain)
    ):
        raise KustomizeError(
            entry.file,
            f"images entry: {key} {text!r} must be a string (quote it)",
            entry.line_of(key),
        )
    return text
