"""RFC 6902 JSON patches on located documents, copying only the path they touch."""

from __future__ import annotations

from typing import Any

from promoter._yaml import Prov, YMap, YSeq
from promoter.kustomize.scalars import yaml11_op_value


class JsonPatchError(ValueError):
    """An operation cannot be applied (missing path, bad index, failed test)."""


def split_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer (``/a/b~1c`` -> ``["a", "b/c"]``)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f"path {pointer!r} must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def apply_ops(doc: YMap, ops: list[Any]) -> YMap:
    """Apply each operation of ``ops`` to ``doc`` in order and return the new document.

    kustomize keeps its own bookkeeping annotations on every object while it builds, so
    ``/metadata/annotations`` always exists for a JSON6902 patch (and is dropped again
    when nothing else is left in it): an ``add`` under it works on any object."""
    doc, added = _with_annotations(doc)
    for op in ops:
        if not isinstance(op, YMap):
            raise JsonPatchError("each operation must be a mapping")
        doc = _apply_one(doc, op)
    return _without_empty_annotations(doc) if added else doc


def _with_annotations(doc: YMap) -> tuple[YMap, bool]:
    meta = doc.get("metadata")
    if not isinstance(meta, YMap) or meta.get("annotations") is not None:
        return doc, False
    new_meta = meta.evolve()
    annotations = YMap()
    annotations.file, annotations.mech = meta.file, meta.mech
    new_meta["annotations"] = annotations
    root = doc.evolve()
    root["metadata"] = new_meta
    return root, True


def _without_empty_annotations(doc: YMap) -> YMap:
    meta = doc.get("metadata")
    if not isinstance(meta, YMap) or meta.get("annotations", None) != {}:
        return doc
    new_meta = meta.evolve()
    del new_meta["annotations"]
    new_meta.prov.pop("annotations", None)
    root = doc.evolve()
    root["metadata"] = new_meta
    return root


def _apply_one(doc: YMap, op: YMap) -> YMap:
    kind = op.get("op")
    pointer = op.get("path")
    try:
        return _apply_op(doc, op, kind)
    except JsonPatchError as exc:
        if kind in _OPS and isinstance(pointer, str):
            raise JsonPatchError(f"{kind} {pointer}: {exc}") from exc
        raise


_OPS = ("add", "replace", "remove", "move", "copy", "test")


def _apply_op(doc: YMap, op: YMap, kind: object) -> YMap:
    path = split_pointer(_text(op, "path"))
    if kind in ("add", "replace"):
        if "value" not in op:
            raise JsonPatchError(f"{kind} at {op.get('path')} needs a value")
        value, prov = yaml11_op_value(op["value"], op.origin("value"))
        return _set(doc, path, value, prov, insert=kind == "add")
    if kind == "remove":
        return _remove(doc, path)
    if kind in ("move", "copy"):
        source = split_pointer(_text(op, "from"))
        if kind == "copy" and _missing_key(doc, source):
            # evanphx/json-patch copies a missing key of an existing mapping as null.
            return _set(doc, path, None, None, insert=True)
        value = _get(doc, source)
        parent = _get(doc, source[:-1]) if source else None
        prov = parent.origin(source[-1]) if isinstance(parent, YMap) else None
        if kind == "move":
            _get(doc, path[:-1])  # kustomize checks the destination before moving
            doc = _remove(doc, source)
        return _set(doc, path, value, prov, insert=True)
    if kind == "test":
        # evanphx/json-patch reads a missing key of an existing mapping as null.
        found = None if _missing_key(doc, path) else _get(doc, path)
        if found != op.get("value"):
            raise JsonPatchError("test failed")
        return doc
    raise JsonPatchError(f"unknown op {kind!r}")


def _missing_key(doc: YMap, path: list[str]) -> bool:
    """Whether ``path`` names an absent key of a mapping that exists."""
    if not path:
        return False
    try:
        parent = _get(doc, path[:-1])
    except JsonPatchError:
        return False
    return isinstance(parent, dict) and path[-1] not in parent


def _text(op: YMap, key: str) -> str:
    value = op.get(key)
    if not isinstance(value, str):
        raise JsonPatchError(f"operation needs a string {key!r}")
    return value


def _get(doc: Any, path: list[str], prefix: tuple[str, ...] = ()) -> Any:
    """The value at ``path``; errors name the whole path (``prefix`` is where ``doc`` is)."""
    node = doc
    for depth, token in enumerate(path):
        here = [*prefix, *path[: depth + 1]]
        if isinstance(node, dict):
            if token not in node:
                raise JsonPatchError(f"path {_pointer(here)} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(token, len(node), here)]
        else:
            raise JsonPatchError(f"path {_pointer(here)} does not exist")
    return node


def _pointer(path: list[str]) -> str:
    """A JSON pointer as written (``["a", "b/c"]`` -> ``/a/b~1c``)."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _index(token: str, size: int, path: list[str], *, insert: bool = False) -> int:
    """A list index as kustomize's JSON patch library reads it (``-`` and ``-N`` too)."""
    if insert and token == "-":
        return size
    digits = token[1:] if token.startswith("-") else token
    if not digits.isdigit():
        raise JsonPatchError(f"path {_pointer(path)}: {token!r} is not a list index")
    index = int(token)
    bound = size + 1 if insert else size
    if index < 0:
        # evanphx/json-patch counts negative indices from the end.
        index += bound
    if not 0 <= index < bound:
        raise JsonPatchError(f"path {_pointer(path)}: index {token} is out of range")
    return index


def _copy(node: Any) -> Any:
    if isinstance(node, YMap):
        return node.evolve()
    if isinstance(node, YSeq):
        seq = YSeq(node)
        seq.file, seq.mech, seq.node = node.file, node.mech, node.node
        return seq
    if isinstance(node, list):
        return YSeq(node)
    raise JsonPatchError("cannot descend into a scalar")


def _set(doc: YMap, path: list[str], value: Any, prov: Prov | None, *, insert: bool) -> YMap:
    if not path:
        if not isinstance(value, YMap):
            raise JsonPatchError("the whole document can only be replaced by a mapping")
        return value
    root = doc.evolve()
    parent: Any = root
    for depth, token in enumerate(path[:-1]):
        child = _get(parent, [token], tuple(path[:depth]))
        child = _copy(child)
        if isinstance(parent, dict):
            parent[token] = child
        else:
            parent[_index(token, len(parent), path[: depth + 1])] = child
        parent = child
    last = path[-1]
    if isinstance(parent, YMap):
        # kustomize's JSON patch library lets "replace" add a missing key of a mapping.
        parent[last] = value
        if prov is not None:
            parent.prov[last] = prov
        else:
            # The value's origin is unknown: forget the node of the value it replaced.
            parent.prov.pop(last, None)
            if last in parent.nodes:
                parent.nodes = {k: n for k, n in parent.nodes.items() if k != last}
    elif isinstance(parent, list):
        index = _index(last, len(parent), path, insert=insert)
        if insert:
            parent.insert(index, value)
        else:
            parent[index] = value
    else:
        raise JsonPatchError(f"path {_pointer(path)} does not exist")
    return root


def _remove(doc: YMap, path: list[str]) -> YMap:
    if not path:
        raise JsonPatchError("cannot remove the whole document")
    _get(doc, path)
    root = doc.evolve()
    parent: Any = root
    for depth, token in enumerate(path[:-1]):
        child = _copy(_get(parent, [token], tuple(path[:depth])))
        if isinstance(parent, dict):
            parent[token] = child
        else:
            parent[int(token)] = child
        parent = child
    if isinstance(parent, YMap):
        del parent[path[-1]]
        parent.prov.pop(path[-1], None)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        del parent[int(path[-1])]
    return root
