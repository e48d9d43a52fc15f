"""Turn planned changes into exact text edits of the target stage's files.

A value set in a file that belongs to the target stage alone is changed in place, one
scalar, keeping everything else byte for byte (its Flux setter comment included).  A value
the stage inherits from a shared file (``base/``, a component, another stage) gets an
override in the stage's own kustomization, in the style it already uses: an ``images:``
entry when it has that list, otherwise a strategic-merge patch file registered under
``patches:``.  Edits of one file are applied bottom-up so positions stay valid.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from promoter import textedit
from promoter._yaml import YMap, YSeq, parse_text
from promoter.errors import PromotionError
from promoter.images import ImageRef
from promoter.model import App, ContainerImage, VersionSource
from promoter.promotion import Change, FileEdit

_POD_SPEC_PATH = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_BUILTIN_WORKLOADS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)


@dataclass(frozen=True)
class Original:
    """How the target's object is written in its source manifest (for a new SMP patch)."""

    api_version: str
    namespace: str | None


@dataclass
class _PendingPatch:
    path: str
    app: App
    original: Original
    containers: list[tuple[ContainerImage, ImageRef]] = field(default_factory=list)


@dataclass(order=True)
class _Op:
    line: int
    column: int
    apply: Callable[[str], str] = field(compare=False)


@dataclass
class Rewriter:
    """Collects the edits of one promotion into one target stage."""

    read_text: Callable[[str], str | None]
    stage_path: str
    kustomization: str | None
    owned: Callable[[str], bool]
    _ops: dict[str, list[_Op]] = field(default_factory=dict)
    _new_files: dict[str, str] = field(default_factory=dict)
    _images: list[tuple[str, ImageRef]] = field(default_factory=list)
    _pending: dict[str, _PendingPatch] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    # -- public ----------------------------------------------------------------------------

    def set_image(
        self, app: App, container: ContainerImage, new: ImageRef, original: Original
    ) -> None:
        """Give ``container`` of ``app`` the tag and digest of ``new``."""
        source = container.source
        old = container.image.version
        if source is not None and self.owned(source.file):
            if source.type == "images":
                self._edit_images_entry(source, new)
            else:
                self._edit_image_scalar(source, container.image, new)
            self.changes.append(
                Change(
                    app.key,
                    container.container,
                    old,
                    new.version,
                    source.file,
                    source.line,
                    "in-place",
                )
            )
            return
        entry_file = self._images_override(container.image.name)
        if entry_file is not None:
            self._images.append((container.image.name, new))
            self.changes.append(
                Change(
                    app.key, container.container, old, new.version, entry_file, 0, "images-entry"
                )
            )
            return
        pending = self._pending.get(app.key)
        if pending is None:
            pending = _PendingPatch(self._new_path(app), app, original)
            self._pending[app.key] = pending
        pending.containers.append((container, new))
        self.changes.append(
            Change(app.key, container.container, old, new.version, pending.path, 0, "new-patch")
        )

    def set_chart(self, app: App, version: str, original: Original) -> None:
        """Give HelmRelease ``app`` chart version ``version``."""
        source = app.source
        if source is not None and self.owned(source.file):
            self._add_op(
                source.file,
                source.line,
                source.column,
                lambda text: textedit.replace_scalar(text, source.line, source.column, version),
            )
            self.changes.append(
                Change(app.key, None, app.version, version, source.file, source.line, "in-place")
            )
            return
        path = self._new_path(app)
        lines = _patch_head(app, original)
        lines += [
            "spec:",
            "  chart:",
            "    spec:",
            f"      version: {textedit.quote_like(version, '')}",
        ]
        self._new_files[path] = "\n".join(lines) + "\n"
        self.changes.append(Change(app.key, None, app.version, version, path, 0, "new-patch"))

    def edits(self) -> list[FileEdit]:
        """Every file edit, the overrides' registrations included."""
        self._flush_patches()
        self._flush_images()
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
        return out

    # -- in place --------------------------------------------------------------------------

    def _text(self, path: str) -> str:
        text = self.read_text(path)
        if text is None:
            raise PromotionError(f"{path}: cannot be read")
        return text

    def _add_op(self, path: str, line: int, column: int, apply: Callable[[str], str]) -> None:
        self._ops.setdefault(path, []).append(_Op(line, column, apply))

    def _edit_image_scalar(self, source: VersionSource, current: ImageRef, new: ImageRef) -> None:
        text = self._text(source.file)
        try:
            span = textedit.scalar_at(text, source.line, source.column)
        except ValueError as exc:
            raise PromotionError(f"{source.file}:{source.line}: {exc}") from None
        written = ImageRef.parse(span.value(text))
        if (written.tag, written.digest) != (current.tag, current.digest):
            raise PromotionError(
                f"{source.file}:{source.line}: expected {current} here, found {written}; "
                "not editing"
            )
        value = str(written.with_version(new.tag, new.digest))
        self._add_op(
            source.file,
            source.line,
            source.column,
            lambda t: textedit.replace_scalar(t, source.line, source.column, value),
        )

    def _entry_at(self, file: str, line: int) -> YMap:
        k = parse_text(self._text(file), file, "kustomization")[0]
        for owner in (k, k.get("spec") if isinstance(k, YMap) else None):
            if not isinstance(owner, YMap):
                continue
            for entry in owner.get("images") or []:
                if isinstance(entry, YMap) and line in (
                    entry.line_of("newTag"),
                    entry.line_of("digest"),
                ):
                    return entry
        raise PromotionError(f"{file}:{line}: no images entry sets the version here")

    def _edit_images_entry(self, source: VersionSource, new: ImageRef) -> None:
        entry = self._entry_at(source.file, source.line)
        file = source.file
        self._set_entry_field(file, entry, "newTag", new.tag, after="name")
        self._set_entry_field(file, entry, "digest", new.digest, after="newTag")

    def _set_entry_field(
        self, file: str, entry: YMap, key: str, value: str | None, *, after: str
    ) -> None:
        line = entry.line_of(key)
        if line is not None:
            node = entry.nodes[key]
            column = node.start_mark.column
            if value is None:
                self._add_op(file, line, -1, lambda t: textedit.delete_line(t, line))
            elif entry.raw(key) != value:
                self._add_op(
                    file, line, column, lambda t: textedit.replace_scalar(t, line, column, value)
                )
            return
        if value is None:
            return
        anchor_key = after if after in entry.nodes else "name"
        anchor = entry.line_of(anchor_key) or entry.line_of("name")
        if anchor is None:
            raise PromotionError(f"{file}: images entry without a name")
        key_column = entry.node.start_mark.column if entry.node is not None else 0
        text = f"{' ' * key_column}{key}: {textedit.quote_like(value, '')}"
        self._add_op(file, anchor, 10_000, lambda t: textedit.insert_after_line(t, anchor, [text]))

    # -- overrides -------------------------------------------------------------------------

    def _kustomization(self) -> tuple[str, YMap]:
        if self.kustomization is None:
            raise PromotionError(
                f"{self.stage_path}: the stage has no kustomization.yaml, so an override cannot be "
                "added; set the version in a file of the stage first"
            )
        docs = parse_text(self._text(self.kustomization), self.kustomization, "kustomization")
        if not docs or not isinstance(docs[0], YMap):
            raise PromotionError(f"{self.kustomization}: not a kustomization")
        return self.kustomization, docs[0]

    def _images_override(self, name: str) -> str | None:
        """The kustomization to add an ``images:`` entry to, when the stage uses that style."""
        if self.kustomization is None:
            return None
        _, k = self._kustomization()
        return self.kustomization if isinstance(k.get("images"), YSeq) else None

    def _flush_images(self) -> None:
        if not self._images:
            return
        file, k = self._kustomization()
        images = k["images"]
        for name, new in self._images:
            existing = next(
                (
                    e
                    for e in images
                    if isinstance(e, YMap) and e.raw("name") == name and not e.get("newName")
                ),
                None,
            )
            if existing is not None:
                self._set_entry_field(file, existing, "newTag", new.tag, after="name")
                self._set_entry_field(file, existing, "digest", new.digest, after="newTag")
                continue
            item = [f"- name: {textedit.quote_like(name, '')}"]
            if new.tag:
                item.append(f"  newTag: {textedit.quote_like(new.tag, '')}")
            if new.digest:
                item.append(f"  digest: {textedit.quote_like(new.digest, '')}")
            self._append_item(file, k, "images", item)

    def _new_path(self, app: App) -> str:
        suffix = "chart" if app.kind == "HelmRelease" else "image"
        taken = set(self._new_files) | {p.path for p in self._pending.values()}
        number = 1
        while True:
            name = (
                f"{app.name}-{suffix}.yaml" if number == 1 else f"{app.name}-{suffix}-{number}.yaml"
            )
            candidate = posixpath.join(self.stage_path, name)
            if candidate not in taken and self.read_text(candidate) is None:
                return candidate
            number += 1

    def _flush_patches(self) -> None:
        for pending in self._pending.values():
            self._new_files[pending.path] = _workload_patch(pending)
        if not self._new_files:
            return
        file, k = self._kustomization()
        items = [
            f"- path: {posixpath.relpath(p, self.stage_path)}" for p in sorted(self._new_files)
        ]
        for item in items:
            self._append_item(file, k, "patches", [item])

    def _append_item(self, file: str, k: YMap, key: str, item: list[str]) -> None:
        seq = k.get(key)
        node = k.nodes.get(key)
        if isinstance(seq, YSeq) and seq and node is not None and _flow(node):
            flow = "{" + ", ".join(line.lstrip("- ").strip() for line in item) + "}"
            end = node.end_mark
            self._add_op(
                file,
                end.line + 1,
                end.column,
                lambda t: _insert_in_flow(t, end.line + 1, end.column - 1, flow),
            )
        elif isinstance(seq, YSeq) and seq and node is not None:
            first, last = node.value[0].start_mark.line + 1, node.value[-1].start_mark.line + 1
            self._add_op(
                file, last, 10_001, lambda t: textedit.append_block_item(t, first, last, item)
            )
        elif key in k:
            raise PromotionError(f"{file}: '{key}' is empty or not a list; cannot add an entry")
        else:
            dash = _dash_column(self._text(file), k)
            block = [f"{key}:", *(" " * dash + line for line in item)]
            self._add_op(file, 1 << 30, 0, lambda t: textedit.append_top_level(t, block))


def _insert_in_flow(text: str, line: int, column: int, flow: str) -> str:
    offset = textedit.offset_of(text, line, column)
    close = text.rfind("]", 0, offset + 1)
    return text[:close].rstrip() + ", " + flow + text[close:]


def _flow(node: object) -> bool:
    return bool(getattr(node, "flow_style", False))


def _dash_column(text: str, k: YMap) -> int:
    for key, node in k.nodes.items():
        if isinstance(k.get(key), YSeq) and k[key] and not _flow(node):
            line = text.split("\n")[node.value[0].start_mark.line]
            return textedit.indent_of(line)
    return 0


def _patch_head(app: App, original: Original) -> list[str]:
    head = [f"apiVersion: {original.api_version}", f"kind: {app.kind}", "metadata:"]
    head.append(f"  name: {app.name}")
    if original.namespace:
        head.append(f"  namespace: {original.namespace}")
    return head


def _workload_patch(pending: _PendingPatch) -> str:
    app = pending.app
    if app.kind not in _BUILTIN_WORKLOADS:
        raise PromotionError(
            f"{app.key} inherits its image from a shared file and is a custom resource, whose "
            "lists a strategic-merge patch would replace; set its image in the stage first"
        )
    lines = _patch_head(app, pending.original)
    indent = 0
    for key in _POD_SPEC_PATH.get(app.kind, ("spec", "template", "spec")):
        lines.append(" " * indent + f"{key}:")
        indent += 2
    for list_key, init in (("initContainers", True), ("containers", False)):
        chosen = [(c, n) for c, n in pending.containers if c.init == init]
        if not chosen:
            continue
        lines.append(" " * indent + f"{list_key}:")
        for container, new in chosen:
            lines.append(" " * indent + f"  - name: {container.container}")
            lines.append(" " * indent + f"    image: {textedit.quote_like(str(new), '')}")
    return "\n".join(lines) + "\n"
