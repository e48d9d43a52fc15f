"""Turn planned changes into exact text edits of the target stage's files.

A value set in a file that belongs to the target stage alone is changed in place, one
scalar, keeping everything else byte for byte (its Flux setter comment included).  A value
the stage inherits from a shared file (``base/``, a component, another stage) gets an
override in the stage's own kustomization, in the style it already uses: an ``images:``
entry when it has that list, otherwise a strategic-merge patch file registered under
``patches:`` (a JSON6902 patch for custom resources, whose lists a strategic merge would
replace whole).  Edits of one file are applied bottom-up so positions stay valid.

Changes are collected first and decided together: a value written once but read by several
containers (an ``images:`` entry, a patch selecting several objects) is changed in place
only when every container reading it moves to the same version.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from promoter import textedit
from promoter._yaml import YMap, YSeq, parse_text
from promoter.errors import ManifestError, PromotionError
from promoter.images import ImageRef
from promoter.kustomize import BUILTIN_GROUPS, rendered_scalar
from promoter.model import App, ContainerImage, VersionSource
from promoter.names import escaped, file_name
from promoter.promotion import Change, ChangeHow, FileEdit
from promoter.workloads import CONTAINER_LISTS, pod_spec_path

_Span = tuple[str, int, int]
"""``(file, line, column)`` of a version's scalar."""


@dataclass(frozen=True)
class Original:
    """How the target's object is written in its source manifest (for a new patch)."""

    api_version: str
    namespace: str | None


@dataclass(frozen=True)
class _ImageWant:
    app: App
    container: ContainerImage
    new: ImageRef
    original: Original

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.app.key, self.container.container, self.container.init)


@dataclass(frozen=True)
class _ChartWant:
    app: App
    version: str
    original: Original


@dataclass(order=True)
class _Op:
    line: int
    column: int
    apply: Callable[[str], str] = field(compare=False)


def _span(source: VersionSource) -> _Span:
    return (source.file, source.line, source.column)


def _version(image: ImageRef) -> tuple[str | None, str | None]:
    return (image.tag, image.digest)


@dataclass
class Rewriter:
    """Collects the edits of one promotion into one target stage."""

    read_text: Callable[[str], str | None]
    stage_path: str
    kustomization: str | None
    owned: Callable[[str], bool]
    stage_apps: Sequence[App] = ()
    """Every app the target stage deploys: who else reads a value that would change."""
    changes: list[Change] = field(default_factory=list)
    _images: list[_ImageWant] = field(default_factory=list)
    _charts: list[_ChartWant] = field(default_factory=list)
    _ops: dict[str, list[_Op]] = field(default_factory=dict)
    _new_files: dict[str, str] = field(default_factory=dict)
    _registrations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _result: list[FileEdit] | None = None

    # -- public ----------------------------------------------------------------------------

    def set_image(
        self, app: App, container: ContainerImage, new: ImageRef, original: Original
    ) -> None:
        """Give ``container`` of ``app`` the tag and digest of ``new``."""
        self._images.append(_ImageWant(app, container, new, original))

    def set_chart(self, app: App, version: str, original: Original) -> None:
        """Give HelmRelease ``app`` chart version ``version``."""
        self._charts.append(_ChartWant(app, version, original))

    def edits(self) -> list[FileEdit]:
        """Every file edit, the overrides' registrations included."""
        if self._result is not None:
            return list(self._result)
        self._resolve()
        out: list[FileEdit] = []
        for path in sorted(self._ops):
            before = self._text(path)
            after = before
            for op in sorted(self._ops[path], reverse=True):
                after = op.apply(after)
            if after != before:
                out.append(FileEdit(path, before, after))
        for path in sorted(self._new_files):
            out.append(FileEdit(path, None, self._new_files[path]))
        self._result = out
        return list(out)

    # -- deciding --------------------------------------------------------------------------

    def _resolve(self) -> None:
        planned = {want.key: _version(want.new) for want in self._images}
        readers: dict[_Span, list[tuple[App, ContainerImage]]] = {}
        for app in self.stage_apps:
            for container in app.images:
                if container.source is not None:
                    readers.setdefault(_span(container.source), []).append((app, container))
        in_place: dict[_Span, list[_ImageWant]] = {}
        overrides: list[_ImageWant] = []
        for want in self._images:
            source = want.container.source
            if source is None or not self.owned(source.file):
                overrides.append(want)
                continue
            if source.type != "images" and not self._image_editable(source, want.container.image):
                # e.g. inside a quoted inline patch: a later override is exact instead
                overrides.append(want)
                continue
            others = [
                (app, c)
                for app, c in readers.get(_span(source), [])
                if planned.get((app.key, c.container, c.init)) != _version(want.new)
            ]
            if others:
                app, other = others[0]
                if source.type == "images":
                    raise PromotionError(
                        f"{source.file}:{source.line}: this images entry also sets the image of "
                        f"{app.key} (container {other.container}), which would not get "
                        f"{want.new.version}; promote them together or split the entry"
                    )
                overrides.append(want)
                continue
            in_place.setdefault(_span(source), []).append(want)
        for wants in in_place.values():
            self._edit_in_place(wants)
        self._override_images(overrides)
        self._resolve_charts()
        self._register_patches()

    def _edit_in_place(self, wants: list[_ImageWant]) -> None:
        source = wants[0].container.source
        assert source is not None
        versions = {_version(w.new) for w in wants}
        if len(versions) > 1:
            names = ", ".join(f"{w.app.key}[{w.container.container}]" for w in wants)
            raise PromotionError(
                f"{source.file}:{source.line}: {names} read this one value but would get "
                "different versions; promote them separately"
            )
        new = wants[0].new
        if source.type == "images":
            if new.tag is None and new.digest is None:
                raise PromotionError(
                    f"{source.file}:{source.line}: the source runs {new} without a tag or "
                    "digest, which an images entry cannot express"
                )
            file, entry = self._entry_at(source)
            self._edit_entry(file, entry, new)
        else:
            self._edit_image_scalar(source, wants[0].container.image, new)
        for want in wants:
            self._change(want, source.file, source.line, "in-place")

    def _change(self, want: _ImageWant, file: str, line: int, how: ChangeHow) -> None:
        self.changes.append(
            Change(
                want.app.key,
                want.container.container,
                want.container.image.version,
                want.new.version,
                file,
                line,
                how,
                str(want.container.image),
                str(want.new),
            )
        )

    def _override_images(self, wants: list[_ImageWant]) -> None:
        """Overrides for inherited images: ``images:`` entries or one patch per app."""
        if not wants:
            return
        file, k = self._kustomization()
        images = k.get("images")
        planned = {want.key: _version(want.new) for want in self._images}
        by_name: dict[str, list[_ImageWant]] = {}
        for want in wants:
            by_name.setdefault(want.container.image.name, []).append(want)
        patches: dict[str, list[_ImageWant]] = {}
        added: list[dict[str, Any]] = []
        for name, group in by_name.items():
            versions = {_version(w.new) for w in group}
            readers = [
                (app, c) for app in self.stage_apps for c in app.images if c.image.name == name
            ]
            shared = any(
                planned.get((a.key, c.container, c.init)) not in versions for a, c in readers
            )
            new = group[0].new
            if (
                isinstance(images, YSeq)
                and len(versions) == 1
                and not shared
                and (new.tag is not None or new.digest is not None)
            ):
                line = self._images_entry(file, images, name, new, added)
                for want in group:
                    self._change(want, file, line, "images-entry")
                continue
            for want in group:
                patches.setdefault(want.app.key, []).append(want)
        if added:
            self._append_items(file, k, "images", added)
        # kustomize applies ``patchesJson6902`` after ``patches``: a stage that uses it may
        # reshape its containers there, so the override goes last, by final position.
        json_last = bool(k.get("patchesJson6902"))
        for group in patches.values():
            app = group[0].app
            path = self._new_path(app, "image")
            if _builtin(app) and not json_last:
                self._new_files[path] = self._lines(_workload_patch(app, group))
                self._register("patches", {"path": self._relative(path)})
            else:
                self._new_files[path] = self._lines(_json6902_patch(app, group))
                key = "patchesJson6902" if json_last else "patches"
                self._register(key, {"path": self._relative(path), "target": _target(app)})
            for want in group:
                self._change(want, path, 0, "new-patch")

    def _resolve_charts(self) -> None:
        planned = {want.app.key: want.version for want in self._charts}
        readers: dict[_Span, list[App]] = {}
        for app in self.stage_apps:
            if app.kind == "HelmRelease" and app.source is not None:
                readers.setdefault(_span(app.source), []).append(app)
        for want in self._charts:
            app, source = want.app, want.app.source
            shared = source is not None and any(
                planned.get(other.key) != want.version for other in readers.get(_span(source), [])
            )
            if (
                source is not None
                and self.owned(source.file)
                and not shared
                and self._chart_editable(source, app.version)
            ):
                self._edit_chart_scalar(source, want.version)
                self.changes.append(
                    Change(app.key, None, app.version, want.version, source.file, source.line,
                           "in-place")
                )  # fmt: skip
                continue
            path = self._new_path(app, "chart")
            lines = _patch_head(app, want.original)
            lines += [
                "spec:",
                "  chart:",
                "    spec:",
                f"      version: {textedit.quote_like(want.version, '')}",
            ]
            self._new_files[path] = self._lines(lines)
            self._register("patches", {"path": self._relative(path)})
            self.changes.append(Change(app.key, None, app.version, want.version, path, 0,
                                       "new-patch"))  # fmt: skip

    # -- in place --------------------------------------------------------------------------

    def _text(self, path: str) -> str:
        text = self.read_text(path)
        if text is None:
            raise PromotionError(f"{path}: cannot be read")
        return text

    def _add_op(self, path: str, line: int, column: int, apply: Callable[[str], str]) -> None:
        self._ops.setdefault(path, []).append(_Op(line, column, apply))

    def _replace(self, file: str, line: int, column: int, value: str) -> None:
        """Replace one scalar; in a JSON file a plain scalar becomes a JSON string."""

        def apply(text: str) -> str:
            span = textedit.scalar_at(text, line, column)
            style = '"' if span.style == "" and file.endswith(".json") else span.style
            return text[: span.start] + textedit.quote_like(value, style) + text[span.end :]

        self._add_op(file, line, column, apply)

    def _written(self, source: VersionSource) -> tuple[textedit.Span, str] | None:
        """The scalar at a source, or None when the text there is not one."""
        text = self.read_text(source.file)
        if text is None:
            return None
        try:
            if text[textedit.offset_of(text, source.line, source.column)] == "\\":
                return None  # an escaped string inside a quoted scalar: not one value to edit
            span = textedit.scalar_at(text, source.line, source.column)
        except (ValueError, IndexError):
            return None
        return span, span.value(text)

    def _image_editable(self, source: VersionSource, current: ImageRef) -> bool:
        """Whether the source's text spells the current image's tag and digest."""
        found = self._written(source)
        if found is None:
            return False
        written = ImageRef.parse(found[1])
        return (written.tag, written.digest) == (current.tag, current.digest)

    def _chart_editable(self, source: VersionSource, current: str | None) -> bool:
        """Whether the source's text spells the current chart version (as rendered)."""
        found = self._written(source)
        if found is None:
            return False
        span, value = found
        return value == current or (span.style == "" and _rendered(value) == current)

    def _edit_image_scalar(self, source: VersionSource, current: ImageRef, new: ImageRef) -> None:
        found = self._written(source)
        assert found is not None and self._image_editable(source, current)
        written = ImageRef.parse(found[1])
        self._replace(
            source.file, source.line, source.column, str(written.with_version(new.tag, new.digest))
        )

    def _edit_chart_scalar(self, source: VersionSource, new: str) -> None:
        self._replace(source.file, source.line, source.column, new)

    def _entry_at(self, source: VersionSource) -> tuple[str, YMap]:
        """The ``images:`` entry (of a kustomization or a Flux Kustomization's spec) whose
        ``newTag`` or ``digest`` value starts at the source's position."""
        file = source.file
        try:
            docs = parse_text(self._text(file), file, "kustomization")
        except ManifestError as exc:
            raise PromotionError(str(exc)) from exc
        for doc in docs:
            for owner in (doc, doc.get("spec") if isinstance(doc, YMap) else None):
                if not isinstance(owner, YMap) or not isinstance(owner.get("images"), list):
                    continue
                for entry in owner["images"]:
                    if not isinstance(entry, YMap):
                        continue
                    for key in ("newTag", "digest"):
                        node = entry.nodes.get(key)
                        if node is not None and (
                            entry.line_of(key),
                            node.start_mark.column,
                        ) == (source.line, source.column):
                            return file, entry
        raise PromotionError(f"{file}:{source.line}: no images entry sets the version here")

    def _edit_entry(self, file: str, entry: YMap, new: ImageRef) -> None:
        """Set an images entry's ``newTag`` and ``digest`` (removing the one not wanted)."""
        flow = _flow(entry.node)
        inserts: list[str] = []
        for key, value in (("newTag", new.tag), ("digest", new.digest)):
            node = entry.nodes.get(key)
            if node is not None:
                line, column = entry.line_of(key) or 0, node.start_mark.column
                if value is None:
                    self._remove_key(file, entry, key, flow)
                elif entry.raw(key) != value:
                    self._replace(file, line, column, value)
            elif value is not None:
                inserts.append(f"{key}: {textedit.quote_like(value, '')}")
        if not inserts:
            return
        if entry.node is None:
            raise PromotionError(f"{file}: cannot locate an images entry")
        if flow:
            end = entry.node.end_mark
            line, column = end.line + 1, end.column - 1
            item = ", ".join(inserts)
            self._add_op(
                file, line, column, lambda t: textedit.append_flow_item(t, line, column, item)
            )
            return
        # after newTag when it stays, else after the name (and newName) lines
        keys = ["newTag"] if "newTag" in entry.nodes else ["name", "newName"]
        lines_of = [_last_line(entry, key) for key in keys if key in entry.nodes]
        if not lines_of:
            raise PromotionError(f"{file}: images entry without a name")
        anchor = max(lines_of)
        indent = entry.node.start_mark.column
        lines = [" " * indent + text for text in inserts]
        self._add_op(file, anchor, 10_000, lambda t: textedit.insert_after_line(t, anchor, lines))

    def _remove_key(self, file: str, entry: YMap, key: str, flow: bool) -> None:
        assert entry.node is not None
        key_node, value_node = next(
            (kn, vn) for kn, vn in entry.node.value if getattr(kn, "value", None) == key
        )
        if flow:
            start = (key_node.start_mark.line + 1, key_node.start_mark.column)
            end = (value_node.end_mark.line + 1, value_node.end_mark.column)
            self._add_op(
                file, start[0], start[1], lambda t: textedit.remove_flow_entry(t, start, end)
            )
            return
        line = key_node.start_mark.line + 1
        if value_node.end_mark.line + 1 != line or key_node.start_mark.line == (
            entry.node.start_mark.line
        ):
            raise PromotionError(f"{file}:{line}: cannot remove {key} written like this")
        self._add_op(file, line, -1, lambda t: textedit.delete_line(t, line))

    # -- overrides -------------------------------------------------------------------------

    def _kustomization(self) -> tuple[str, YMap]:
        if self.kustomization is None:
            raise PromotionError(
                f"{self.stage_path}: the stage has no kustomization.yaml, so an override cannot be "
                "added; set the version in a file of the stage first"
            )
        if not self.owned(self.kustomization):
            raise PromotionError(
                f"{self.kustomization} is also read by another stage, so an override added there "
                "would change that stage too; nothing written"
            )
        try:
            docs = parse_text(self._text(self.kustomization), self.kustomization, "kustomization")
        except ManifestError as exc:
            raise PromotionError(str(exc)) from exc
        if len(docs) != 1 or not isinstance(docs[0], YMap):
            raise PromotionError(f"{self.kustomization}: not a kustomization")
        return self.kustomization, docs[0]

    def _images_entry(
        self, file: str, images: YSeq, name: str, new: ImageRef, added: list[dict[str, Any]]
    ) -> int:
        """Set ``name``'s version with an entry of ``images:``: the entry that already
        names or renames to it (a registry mirror's ``newName``), or a new one.  Returns
        the line of the entry (0 when new: it is added to ``added``)."""
        for entry in images:
            if not isinstance(entry, YMap):
                continue
            versionless = entry.get("newTag") is None and entry.get("digest") is None
            renames_to = entry.raw("newName") == name
            same = entry.raw("name") == name and entry.get("newName") is None
            if versionless and (renames_to or same):
                self._edit_entry(file, entry, new)
                return entry.line_of("name") or 0
        item: dict[str, Any] = {"name": name}
        if new.tag is not None:
            item["newTag"] = new.tag
        if new.digest is not None:
            item["digest"] = new.digest
        added.append(item)
        return 0

    def _new_path(self, app: App, suffix: str) -> str:
        number = 1
        while True:
            stem = f"{app.name}-{suffix}" if number == 1 else f"{app.name}-{suffix}-{number}"
            name = file_name(escaped(stem).replace("/", "-"))
            candidate = posixpath.join(self.stage_path, name)
            if candidate not in self._new_files and self.read_text(candidate) is None:
                return candidate
            number += 1

    def _relative(self, path: str) -> str:
        return posixpath.relpath(path, self.stage_path or ".")

    def _lines(self, lines: list[str]) -> str:
        """A new file's text, with the line endings of the stage's kustomization."""
        eol = "\n"
        if self.kustomization is not None:
            eol = textedit.newline_of(self.read_text(self.kustomization) or "")
        return eol.join(lines) + eol

    def _register(self, key: str, item: dict[str, Any]) -> None:
        self._registrations.setdefault(key, []).append(item)

    def _register_patches(self) -> None:
        if not self._registrations:
            return
        file, k = self._kustomization()
        for key, items in self._registrations.items():
            self._append_items(file, k, key, items)

    def _append_items(self, file: str, k: YMap, key: str, items: list[dict[str, Any]]) -> None:
        """Add ``items`` to the list under ``key`` (creating it), in the list's style."""
        seq = k.get(key)
        node = k.nodes.get(key)
        if isinstance(seq, YSeq) and node is not None and _flow(node):
            end = node.end_mark
            line, column = end.line + 1, end.column - 1
            flow = ", ".join(_flow_text(item) for item in items)
            self._add_op(
                file, line, column, lambda t: textedit.append_flow_item(t, line, column, flow)
            )
            return
        lines = [line for item in items for line in _block_lines(item)]
        if isinstance(seq, YSeq) and seq and node is not None:
            first, last = node.value[0].start_mark.line + 1, node.value[-1].start_mark.line + 1
            self._add_op(
                file, last, 10_001, lambda t: textedit.append_block_item(t, first, last, lines)
            )
            return
        dash = _dash_column(self._text(file), k)
        block = [" " * dash + line for line in lines]
        key_node = next((kn for kn, _ in k.node.value if kn.value == key), None) if k.node else None
        if key_node is not None and seq is None and node is not None and node.value == "":
            # ``patches:`` with nothing under it yet
            key_line = key_node.start_mark.line + 1
            self._add_op(
                file, key_line, 10_002, lambda t: textedit.insert_after_line(t, key_line, block)
            )
        elif key in k:
            raise PromotionError(f"{file}: '{key}' is not a list; cannot add an entry")
        else:
            whole = [f"{key}:", *block]
            self._add_op(file, 1 << 30, 0, lambda t: textedit.append_top_level(t, whole))


# -- text of new entries and files ----------------------------------------------------------


def _rendered(plain: str) -> str | None:
    """A plain scalar as kustomize renders it (``1.10`` -> ``1.1``), as the reader reports."""
    try:
        docs = parse_text(f"v: {plain}\n", "<scalar>")
    except ManifestError:
        return None
    doc = docs[0] if docs else None
    return rendered_scalar(doc, "v") if isinstance(doc, YMap) else None


def _scalar_text(value: str) -> str:
    return textedit.quote_like(value, "")


def _block_lines(item: dict[str, Any]) -> list[str]:
    """``- key: value`` lines of a sequence item (nested mappings indented)."""

    def body(mapping: dict[str, Any], indent: int) -> list[str]:
        out = []
        for key, value in mapping.items():
            if isinstance(value, dict):
                out.append(" " * indent + f"{key}:")
                out.extend(body(value, indent + 2))
            else:
                out.append(" " * indent + f"{key}: {_scalar_text(str(value))}")
        return out

    lines = body(item, 2)
    return ["- " + lines[0][2:], *lines[1:]]


def _flow_text(item: dict[str, Any]) -> str:
    parts = [
        f"{key}: {_flow_text(value) if isinstance(value, dict) else _scalar_text(str(value))}"
        for key, value in item.items()
    ]
    return "{" + ", ".join(parts) + "}"


def _flow(node: object) -> bool:
    return bool(getattr(node, "flow_style", False))


def _last_line(entry: YMap, key: str) -> int:
    node = entry.nodes[key]
    end = node.end_mark
    # a block value ends at the start of the next line
    line = end.line + (1 if end.column > 0 else 0)
    return max(line, node.start_mark.line + 1)


def _dash_column(text: str, k: YMap) -> int:
    for key, node in k.nodes.items():
        if isinstance(k.get(key), YSeq) and k[key] and not _flow(node):
            line = text.split("\n")[node.value[0].start_mark.line]
            return textedit.indent_of(line)
    return 0


def _builtin(app: App) -> bool:
    group = app.api_version.rpartition("/")[0]
    return group in BUILTIN_GROUPS


def _target(app: App) -> dict[str, str]:
    group, _, version = app.api_version.rpartition("/")
    target = {"group": group} if group else {}
    target.update({"version": version, "kind": app.kind, "name": app.name})
    return target


def _patch_head(app: App, original: Original) -> list[str]:
    head = [f"apiVersion: {original.api_version}", f"kind: {app.kind}", "metadata:"]
    head.append(f"  name: {app.name}")
    if original.namespace:
        head.append(f"  namespace: {original.namespace}")
    return head


def _workload_patch(app: App, wants: list[_ImageWant]) -> list[str]:
    """A strategic-merge patch setting the images of some containers of a built-in workload.

    A strategic merge puts the patch's list elements first, so the containers before the
    last one changed are listed by name too: the order of the containers stays."""
    lines = _patch_head(app, wants[0].original)
    indent = 0
    for key in pod_spec_path(app.kind):
        lines.append(" " * indent + f"{key}:")
        indent += 2
    new = {(w.container.container, w.container.init): w.new for w in wants}
    for list_key, init in CONTAINER_LISTS:
        listed = [c for c in app.images if c.init == init]
        last = max((i for i, c in enumerate(listed) if (c.container, init) in new), default=-1)
        if last < 0:
            continue
        lines.append(" " * indent + f"{list_key}:")
        for container in listed[: last + 1]:
            lines.append(" " * indent + f"  - name: {_scalar_text(container.container)}")
            image = new.get((container.container, init))
            if image is not None:
                lines.append(" " * indent + f"    image: {_scalar_text(str(image))}")
    return lines


def _json6902_patch(app: App, wants: list[_ImageWant]) -> list[str]:
    """JSON6902 operations setting images by position, each guarded by a ``test`` of the
    container's name (a strategic merge would replace a custom resource's lists whole)."""
    pointer = "/" + "/".join(pod_spec_path(app.kind))
    lines: list[str] = []
    for want in wants:
        init = want.container.init
        listed = [c for c in app.images if c.init == init]
        index = next(i for i, c in enumerate(listed) if c.container == want.container.container)
        where = f"{pointer}/{'initContainers' if init else 'containers'}/{index}"
        lines += [
            "- op: test",
            f"  path: {where}/name",
            f"  value: {_scalar_text(want.container.container)}",
            "- op: replace",
            f"  path: {where}/image",
            f"  value: {_scalar_text(str(want.new))}",
        ]
    return lines
