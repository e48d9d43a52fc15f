"""The rendered difference between two stages: what a promotion carries, what stays.

``diff_stages`` renders both stages with kustomize, matches their objects by kind and the
name written in the source manifest (so name prefixes/suffixes and per-stage namespaces do
not make every object look different), and splits the differences in two:

* ``versions``: every app whose version or container image tags differ; a promotion from
  FROM to TO carries exactly these (``Kind/name: <TO version> -> <FROM version>``);
* ``objects``: every other difference, per object, as a unified diff of the YAML with the
  version values taken out; these stay stage-specific.

What differs between stages by construction (``metadata.namespace``, name prefixes and
suffixes, the content hash of generated ConfigMap/Secret names, and references to renamed
objects) is normalised away before diffing and listed in ``normalised``.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from promoter.apps import apps_of, is_app
from promoter.errors import PromoterError, RenderError, RepoError
from promoter.images import ImageRef
from promoter.kustomize import ResId, Resource
from promoter.kustomize import render as _render
from promoter.model import App, ContainerImage, Stage
from promoter.repo import GitOpsRepo
from promoter.resolve import resolve_route
from promoter.workloads import containers

ObjectStatus = Literal["changed", "only-in-from", "only-in-to"]

NormalisedField = Literal["metadata.namespace", "name prefix", "name suffix", "name hash"]

_GENERATED_KINDS = frozenset({"ConfigMap", "Secret"})
_HASH_SUFFIX = re.compile(r"-([bcdfghkmt2-9]{10})$")
"""kustomize's content hash on generated ConfigMap/Secret names: ten characters of this set."""


@dataclass(frozen=True)
class ImageChange:
    """One container whose image tag or digest differs: ``to`` is TO's, ``from_`` FROM's."""

    container: str
    from_: str
    to: str
    init: bool = False


@dataclass(frozen=True)
class VersionChange:
    """An app whose version differs: a promotion from FROM moves TO from ``to_version`` to
    ``from_version``, container by container as ``images`` lists."""

    kind: str
    name: str
    from_version: str | None
    to_version: str | None
    images: tuple[ImageChange, ...] = ()

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class ObjectDiff:
    """A stage-specific difference of one object: a unified diff from TO (``-``) to FROM
    (``+``), version values excluded; a one-sided diff for an object only one stage has."""

    kind: str
    name: str
    status: ObjectStatus
    diff: str

    @property
    def key(self) -> str:
        """``Kind/name`` (the name as written in the source manifest)."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Normalisation:
    """A difference that exists by construction and was left out of every object diff."""

    field: NormalisedField
    from_value: str
    to_value: str
    objects: tuple[str, ...]
    """``Kind/name`` of every matched object it applied to, in FROM's render order."""


@dataclass(frozen=True)
class StageDiff:
    """Everything that differs between two rendered stages of one pipeline."""

    pipeline: str
    source: Stage
    target: Stage
    versions: tuple[VersionChange, ...]
    objects: tuple[ObjectDiff, ...]
    normalised: tuple[Normalisation, ...] = ()
    same: tuple[str, ...] = ()
    """Objects in both stages with no difference besides versions and normalisations."""

    @property
    def identical(self) -> bool:
        """True when the stages differ in nothing but what ``normalised`` lists."""
        return not self.versions and not self.objects


def diff(path: str | Path, source: str, target: str, pipeline: str | None = None) -> StageDiff:
    """``pipelines diff``: open the repository at ``path`` and compare two of its stages
    (see ``diff_stages``)."""
    return diff_stages(GitOpsRepo.open(path), source, target, pipeline)


def diff_stages(
    repo: GitOpsRepo, source: str, target: str, pipeline: str | None = None
) -> StageDiff:
    """Render stages ``source`` (FROM) and ``target`` (TO) with kustomize and compare them.

    ``pipeline`` is needed only when both stage names exist in several pipelines.
    Raises ``LookupFailed`` for unknown names, ``RenderError`` when kustomize/kubectl is
    missing or fails, ``RepoError`` when a stage is misdeclared.
    """
    route = resolve_route(repo, source, target, pipeline=pipeline)
    chosen, src, dst = route.pipeline, route.source, route.target
    for stage in (src, dst):
        if stage.error is not None:
            raise RepoError(f"stage {stage.name} of pipeline {chosen.name}: {stage.error}")
    if _render.find_tool() is None:
        raise RenderError(
            "pipelines diff renders both stages with kustomize, but neither kustomize nor "
            f"kubectl is on PATH (or ${_render.TOOL_ENV} names a missing command)"
        )
    with ThreadPoolExecutor(max_workers=2) as pool:  # two kustomize processes at once
        renders = list(pool.map(repo.render, (src, dst)))
    src_objects = _objects(repo, src, renders[0])
    dst_objects = _objects(repo, dst, renders[1])
    pairs, only_src, only_dst = _match(src_objects, dst_objects)

    versions: list[VersionChange] = []
    diffs: list[ObjectDiff] = []
    same: list[str] = []
    notes: dict[tuple[NormalisedField, str, str], list[str]] = {}
    for a, b in pairs:
        change = _version_change(a, b)
        if change is not None:
            versions.append(change)
        for field, from_value, to_value in _normalisations(a, b):
            notes.setdefault((field, from_value, to_value), []).append(a.key)
        before = _dump(_normalised(b, dst_objects.renames))
        after = _dump(_without_versions(_normalised(a, src_objects.renames), b))
        if before == after:
            same.append(a.key)
        else:
            text = _unified(before, after, _label(dst, b), _label(src, a))
            diffs.append(ObjectDiff(a.kind, a.name, "changed", text))
    for obj in only_src:
        text = _unified("", _dump(obj.doc), "/dev/null", _label(src, obj))
        diffs.append(ObjectDiff(obj.kind, obj.name, "only-in-from", text))
    for obj in only_dst:
        text = _unified(_dump(obj.doc), "", _label(dst, obj), "/dev/null")
        diffs.append(ObjectDiff(obj.kind, obj.name, "only-in-to", text))
    return StageDiff(
        pipeline=chosen.name,
        source=src,
        target=dst,
        versions=tuple(versions),
        objects=tuple(diffs),
        normalised=tuple(
            Normalisation(field, from_value, to_value, tuple(keys))
            for (field, from_value, to_value), keys in notes.items()
        ),
        same=tuple(same),
    )


# -- the objects of one stage ------------------------------------------------------------


@dataclass(frozen=True)
class _Object:
    """A rendered object with the name its source manifest gives it."""

    kind: str
    name: str
    """As written in the source manifest (the rendered name when that is unknown)."""
    rendered_name: str
    namespace: str
    original_namespace: str
    doc: dict[str, Any]
    """The rendered document as plain dicts and lists."""
    app: App | None

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class _Rendered:
    objects: tuple[_Object, ...]
    renames: dict[str, str]
    """Rendered name -> source name, for every object kustomize renamed."""


def _objects(repo: GitOpsRepo, stage: Stage, rendered: Sequence[Resource]) -> _Rendered:
    """The rendered objects of ``stage``, each named as its source manifest names it, via
    the native build's ids (the rendered name when the native build cannot tell)."""
    originals: dict[tuple[str, str, str], ResId] = {}
    try:
        for resource in repo.build(stage).resources:
            rid = resource.id
            originals.setdefault((rid.kind, rid.name, rid.namespace), resource.original)
    except PromoterError:
        pass  # the render is the truth; names then stay as rendered
    objects: list[_Object] = []
    renames: dict[str, str | None] = {}
    for resource in rendered:
        rid = resource.id
        original = _original(originals, rid)
        named = Resource(resource.doc, (original, rid))
        app = apps_of([named], _no_lines)[0] if is_app(named) else None
        objects.append(
            _Object(
                kind=rid.kind,
                name=original.name,
                rendered_name=rid.name,
                namespace=rid.namespace,
                original_namespace=original.namespace,
                doc=_plain(resource.doc),
                app=app,
            )
        )
        if rid.name != original.name:
            # Two objects renamed differently from one name: leave references alone.
            known = renames.setdefault(rid.name, original.name)
            if known != original.name:
                renames[rid.name] = None
    clean = {k: v for k, v in renames.items() if v is not None}
    return _Rendered(tuple(objects), clean)


def _original(originals: dict[tuple[str, str, str], ResId], rid: ResId) -> ResId:
    found = originals.get((rid.kind, rid.name, rid.namespace))
    if found is not None:
        return found
    hashed = _HASH_SUFFIX.search(rid.name) if rid.kind in _GENERATED_KINDS else None
    if hashed is not None:
        # The native reader does not add kustomize's content hash to generated names.
        found = originals.get((rid.kind, rid.name[: hashed.start()], rid.namespace))
        if found is not None:
            return found
    return rid


def _no_lines(_file: str, _line: int) -> str:
    """Sources of versions are not needed here: no file is read for them."""
    return ""


def _match(
    src: _Rendered, dst: _Rendered
) -> tuple[list[tuple[_Object, _Object]], list[_Object], list[_Object]]:
    """Pairs (FROM, TO) by kind and source name; several objects with one kind and name are
    paired by their namespace as written, then in render order."""
    by_key: dict[tuple[str, str], list[_Object]] = {}
    for obj in dst.objects:
        by_key.setdefault((obj.kind, obj.name), []).append(obj)
    pairs: list[tuple[_Object, _Object]] = []
    only_src: list[_Object] = []
    pending: list[_Object] = []
    for obj in src.objects:
        candidates = by_key.get((obj.kind, obj.name), [])
        twin = next((c for c in candidates if c.original_namespace == obj.original_namespace), None)
        if twin is None and len(candidates) == 1:
            twin = candidates[0]
        if twin is None:
            pending.append(obj)
            continue
        candidates.remove(twin)
        pairs.append((obj, twin))
    for obj in pending:
        candidates = by_key.get((obj.kind, obj.name), [])
        if candidates:
            pairs.append((obj, candidates.pop(0)))
        else:
            only_src.append(obj)
    paired = {id(b) for _, b in pairs}
    only_dst = [obj for obj in dst.objects if id(obj) not in paired]
    return pairs, only_src, only_dst


# -- versions ----------------------------------------------------------------------------


def _version_change(src: _Object, dst: _Object) -> VersionChange | None:
    """What a promotion from ``src``'s stage would change in ``dst``, or None."""
    a, b = src.app, dst.app
    if a is None or b is None:
        return None
    images = tuple(
        ImageChange(mine.container, str(mine.image), str(theirs.image), mine.init)
        for mine, theirs in _twins(a, b)
        if (mine.image.tag, mine.image.digest) != (theirs.image.tag, theirs.image.digest)
    )
    if not images and a.version == b.version:
        return None
    return VersionChange(a.kind, a.name, a.version, b.version, images)


def _twins(a: App, b: App) -> Iterator[tuple[ContainerImage, ContainerImage]]:
    """Containers both apps have (same name, same init-ness), in ``a``'s order."""
    theirs = {(i.container, i.init): i for i in b.images}
    for mine in a.images:
        twin = theirs.get((mine.container, mine.init))
        if twin is not None:
            yield mine, twin


def _without_versions(doc: dict[str, Any], dst: _Object) -> dict[str, Any]:
    """``doc`` (FROM's object) with TO's versions: image tags and digests, chart version.

    An image name that differs (a registry mirror) stays visible: only the version moves."""
    if dst.kind == "HelmRelease":
        theirs, mine = _dig(dst.doc, "spec", "chart", "spec"), _dig(doc, "spec", "chart", "spec")
        both = isinstance(theirs, dict) and isinstance(mine, dict)
        if both and "version" in theirs and "version" in mine:
            mine["version"] = theirs["version"]
        return doc
    theirs = {(c.get("name"), init): c for c, init in containers(dst.doc)}
    for container, init in containers(doc):
        twin = theirs.get((container.get("name"), init))
        image, other = container.get("image"), (twin or {}).get("image")
        if isinstance(image, str) and isinstance(other, str):
            ref, version = ImageRef.parse(image), ImageRef.parse(other)
            container["image"] = str(ref.with_version(version.tag, version.digest))
    return doc


# -- normalising what is stage-specific by construction ----------------------------------


def _split_name(obj: _Object) -> tuple[str, str, str]:
    """(prefix, suffix, content hash) around the source name in the rendered name."""
    rendered, hashed = obj.rendered_name, ""
    found = _HASH_SUFFIX.search(rendered) if obj.kind in _GENERATED_KINDS else None
    if found is not None and obj.name != rendered and not rendered.endswith(obj.name):
        rendered, hashed = rendered[: found.start()], found.group(1)
    at = rendered.find(obj.name) if obj.name else -1
    if at < 0:
        return "", "", hashed
    return rendered[:at], rendered[at + len(obj.name) :], hashed


def _normalisations(src: _Object, dst: _Object) -> Iterator[tuple[NormalisedField, str, str]]:
    if src.namespace != dst.namespace:
        yield "metadata.namespace", src.namespace, dst.namespace
    fields: tuple[NormalisedField, ...] = ("name prefix", "name suffix", "name hash")
    for field, a, b in zip(fields, _split_name(src), _split_name(dst), strict=True):
        if a != b:
            yield field, a, b


def _normalised(obj: _Object, renames: dict[str, str]) -> dict[str, Any]:
    """The document without what a stage sets by construction: no ``metadata.namespace``,
    the source name, and references to renamed objects by their source names."""
    doc = _rename_refs(copy.deepcopy(obj.doc), renames) if renames else copy.deepcopy(obj.doc)
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        meta.pop("namespace", None)
        meta["name"] = obj.name
    return doc


def _rename_refs(node: Any, renames: dict[str, str], key: str = "") -> Any:
    """Values of ``name`` and ``*Name`` fields that name a renamed object get its source
    name (kustomize's name-reference transformer wrote the rendered one there)."""
    if isinstance(node, dict):
        return {k: _rename_refs(v, renames, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames, key) for v in node]
    if isinstance(node, str) and (key == "name" or key.endswith("Name")):
        return renames.get(node, node)
    return node


# -- text --------------------------------------------------------------------------------


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=True)


def _unified(before: str, after: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), old, new
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _label(stage: Stage, obj: _Object) -> str:
    where = f"{obj.namespace}/" if obj.namespace else ""
    return f"{stage.name}: {obj.kind}/{where}{obj.rendered_name}"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dig(doc: Any, *keys: str) -> Any:
    node = doc
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def version_lines(change: VersionChange) -> list[str]:
    """``Kind/name: <TO version> -> <FROM version>`` and one line per changed container."""
    if change.from_version == change.to_version:
        head = f"{change.key}: {change.to_version or '(none)'} (containers below change)"
    else:
        head = f"{change.key}: {change.to_version or '(none)'} -> {change.from_version or '(none)'}"
    lines = [head]
    for image in change.images:
        label = f"{image.container} (init)" if image.init else image.container
        lines.append(f"  {label}: {image.to} -> {image.from_}")
    return lines


def normalisation_line(item: Normalisation, source: str, target: str) -> str:
    """One listed normalisation: the field, TO's value -> FROM's (old -> new), the objects."""

    def shown(value: str) -> str:
        return repr(value) if item.field != "metadata.namespace" and value else value or "(none)"

    return (
        f"{item.field}: {shown(item.to_value)} -> {shown(item.from_value)} ({_count(item.objects)})"
    )


def _count(keys: Sequence[str]) -> str:
    if len(keys) <= 4:
        return ", ".join(keys)
    return f"{', '.join(keys[:4])} and {len(keys) - 4} more"


def direction_line(diff: StageDiff) -> str:
    """The heading that states the report's one direction: the promotion FROM -> TO, and
    every pair read as TO's value (old) -> FROM's value (new), as the JSON's ``from``/``to``."""
    src, dst = diff.source.name, diff.target.name
    return (
        f"pipeline {diff.pipeline}: {src} -> {dst} "
        f"(every change reads old -> new: {dst}'s value -> {src}'s)"
    )


def text_lines(diff: StageDiff) -> Iterator[tuple[str, str]]:
    """The human report, line by line, each with a style name (``""``, ``header``,
    ``add``, ``remove``, ``hunk``, ``dim``) for whoever wants colour."""
    src, dst = diff.source.name, diff.target.name
    # The direction, stated once: every pair below reads old -> new, TO's value -> FROM's.
    yield direction_line(diff), "header"
    yield "", ""
    yield "versions (the promotion carries these):", "header"
    if not diff.versions:
        yield "  none", "dim"
    for change in diff.versions:
        for line in version_lines(change):
            yield f"  {line}", ""
    yield "", ""
    yield f"stays stage-specific (- {dst}, + {src}; versions left out):", "header"
    if not diff.objects:
        yield "  none", "dim"
    for obj in diff.objects:
        yield "", ""
        yield f"{_STATUS_TEXT[obj.status].format(src=src, dst=dst)} {obj.key}", "header"
        yield from _diff_lines(obj.diff)
    if diff.normalised:
        yield "", ""
        yield "normalised (stage-specific by construction, left out of the diffs):", "header"
        for item in diff.normalised:
            yield f"  {normalisation_line(item, src, dst)}", ""
    if diff.same:
        yield "", ""
        yield f"same in both stages otherwise: {_count(diff.same)}", "dim"


_STATUS_TEXT = {
    "changed": "changed",
    "only-in-from": "only in {src}:",
    "only-in-to": "only in {dst}:",
}


def _diff_lines(text: str) -> Iterable[tuple[str, str]]:
    styles: list[tuple[Callable[[str], bool], str]] = [
        (lambda line: line.startswith(("---", "+++")), "dim"),
        (lambda line: line.startswith("@@"), "hunk"),
        (lambda line: line.startswith("+"), "add"),
        (lambda line: line.startswith("-"), "remove"),
    ]
    for line in text.splitlines():
        yield line, next((style for test, style in styles if test(line)), "")
