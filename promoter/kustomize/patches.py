"""The patch transformers: strategic merge and JSON6902 patches, from files or inline."""

from __future__ import annotations

import json
from typing import Any

from promoter._yaml import BOM, YMap, decode, parse_bytes
from promoter.errors import KustomizeError
from promoter.kustomize._layer import Files, Layer, check_under, items
from promoter.kustomize.inline import parse_inline
from promoter.kustomize.jsonpatch import JsonPatchError, apply_ops
from promoter.kustomize.resmap import ResMap
from promoter.kustomize.resource import Selector, id_of
from promoter.kustomize.scalars import json_restyle
from promoter.kustomize.smp import BUILTIN_GROUPS, is_delete, keeps_id, merge


def apply_strategic_merges(files: Files, layer: Layer, acc: ResMap) -> None:
    """The layer's ``patchesStrategicMerge`` entries (file paths or inline patches)."""
    k = layer.k
    for raw, line in items(k, "patchesStrategicMerge"):
        if isinstance(raw, str) and "\n" not in raw.strip() and ":" not in raw:
            target = files.resolve(layer.dir, raw, layer.file, line)
            check_under(files, layer, target, line)
            docs = parse_bytes(files.read(target, referrer=layer.file, line=line), target, "patch")
            if not docs:
                raise KustomizeError(
                    layer.file, f"patch appears to be empty; files=[{raw}], Patch=", line
                )
            where = target
        elif isinstance(raw, str):
            docs = parse_inline(layer, k["patchesStrategicMerge"], raw, line)
            where = layer.file
        else:
            raise KustomizeError(layer.file, "patchesStrategicMerge entries are strings", line)
        for doc in docs:
            _apply_smp(acc, doc, None, where, line)


def apply_patch(
    files: Files, layer: Layer, spec: YMap, acc: ResMap, *, json6902_only: bool
) -> None:
    """One ``patches`` (or ``patchesJson6902``) entry: a strategic merge or JSON6902 patch,
    from ``path`` or inline ``patch``, on its ``target`` (or the object it names)."""
    line = spec.node.start_mark.line + 1 if spec.node is not None else 0
    target = spec.get("target")
    if target is not None and not isinstance(target, dict):
        raise KustomizeError(layer.file, "patch target must be a mapping", line)
    if spec.get("path") is not None:
        entry = str(spec["path"])
        rel = files.resolve(layer.dir, entry, layer.file, line)
        check_under(files, layer, rel, line)
        data = files.read(rel, referrer=layer.file, line=line)
        if _may_be_json(data):
            _check_json(decode(data, errors="replace"), rel, None)
        docs = parse_bytes(data, rel, "patch")
        if not docs and target is None:
            raise KustomizeError(layer.file, _empty_patch(data, entry), line)
        if len(docs) == 1 and isinstance(docs[0], list):
            docs = parse_bytes(data, rel, "json6902")
        where = rel
    elif isinstance(spec.get("patch"), str):
        patch_line = spec.line_of("patch") or line
        _check_json(spec["patch"], layer.file, patch_line)
        docs = parse_inline(layer, spec, spec["patch"], patch_line)
        where = layer.file
    else:
        raise KustomizeError(layer.file, "a patch needs 'path' or 'patch'", line)
    if len(docs) == 1 and isinstance(docs[0], list):
        if target is None:
            raise KustomizeError(layer.file, "a JSON6902 patch needs a target", line)
        _apply_json6902(acc, docs[0], Selector(target), where)
        return
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
        _apply_smp(acc, doc, target, where, line)


def _apply_json6902(acc: ResMap, ops: list[Any], target: Selector, where: str) -> None:
    for position in acc.selected(target):
        resource = acc[position]
        try:
            doc = json_restyle(apply_ops(resource.doc, ops))
        except JsonPatchError as exc:
            line = _first_line(ops)
            raise KustomizeError(where, f"JSON6902 patch on {resource.id}: {exc}", line) from exc
        acc.replace(position, resource.with_doc(doc))


def _empty_patch(data: bytes, entry: str) -> str:
    """kustomize's refusal of a patch file without a document (and without a target)."""
    if data.strip():  # comments or bare document markers
        return f'illegally qualifies as both an SM and JSON patch: [path: "{entry}"]'
    return f'must specify a target for JSON patch [path: "{entry}"]'


# Bytes ``str.lstrip`` strips that ``bytes.lstrip`` keeps (information separators).
_SEPARATORS = frozenset(b"\x1c\x1d\x1e\x1f")


def _may_be_json(data: bytes) -> bool:
    """Whether a patch file may start with ``[`` once decoded and stripped (what
    ``_check_json`` tests), told from its first bytes: most files need no decoding."""
    head = data[3:] if data[:3] == BOM else data
    first = head.lstrip()[:1]
    return bool(first) and (first == b"[" or first[0] >= 0x80 or first[0] in _SEPARATORS)


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
        ) from exc


def _doc_line(doc: Any) -> int | None:
    node = getattr(doc, "node", None)
    return None if node is None else int(node.start_mark.line) + doc.line_offset + 1


def _first_line(ops: list[Any]) -> int | None:
    for op in ops:
        if isinstance(op, YMap) and op.node is not None:
            return int(op.node.start_mark.line) + op.line_offset + 1
    return None


def _apply_smp(
    acc: ResMap, patch: Any, target: dict[str, Any] | None, where: str, line: int
) -> None:
    if not isinstance(patch, YMap):
        raise KustomizeError(where, "a strategic merge patch must be a mapping", line)
    if target is not None:
        chosen = acc.selected(Selector(target))
    else:
        wanted = id_of(patch)
        chosen = acc.with_key(wanted.key)
        if len(chosen) != 1:
            patch_line = patch.node.start_mark.line + 1 + patch.line_offset if patch.node else line
            problem = "no resource matches" if not chosen else "several resources match"
            raise KustomizeError(where, f"{problem} strategic merge patch {wanted}", patch_line)
    if not chosen:
        return
    if is_delete(patch):
        for position in chosen:
            acc.delete(position)
        return
    mech = patch.mech
    for position in chosen:
        resource = acc[position]
        rid = resource.id
        builtin = rid.group in BUILTIN_GROUPS
        doc = resource.doc
        same_id = keeps_id(doc, patch)
        merged = merge(doc, patch, kind=rid.kind, builtin=builtin, mech=mech, keep_id=True)
        acc.replace(position, resource.with_doc(merged, rid if same_id else None))
