"""RFC 6902 JSON patches on located documents, copying only the path they touch."""

from __future__ import annotations

from typing import Any

from promoter._yaml import Prov, YMap, YSeq


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
    """Apply each operation of ``ops`` to ``doc`` in order and return the new document."""
    for op in ops:
        if not isinstance(op, YMap):
            raise JsonPatchError("each operation must be a mapping")
        doc = _apply_one(doc, op)
    return doc


def _apply_one(doc: YMap, op: YMap) -> YMap:
    kind = op.get("op")
    path = split_pointer(_text(op, "path"))
    if kind in ("add", "replace"):
        if "value" not in op:
            raise JsonPatchError(f"{kind} at {op.get('path')} needs a value")
        return _set(doc, path, op["value"], op.origin("value"), insert=kind == "add")
    if kind == "remove":
        return _remove(doc, path)
    if kind in ("move", "copy"):
        source = split_pointer(_text(op, "from"))
        value = _get(doc, source)
        parent = _get(doc, source[:-1]) if source else None
        prov = parent.origin(source[-1]) if isinstance(parent, YMap) else None
        if kind == "move":
            doc = _remove(doc, source)
        return _set(doc, path, value, prov, insert=True)
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise JsonPatchError(f"test at {op.get('path')} failed")
        return doc
    raise JsonPatchError(f"unknown op {kind!r}")


def _text(op: YMap, key: str) -> str:
    value = op.get(key)
    if not isinstance(value, str):
        raise JsonPatchError(f"operation needs a string {key!r}")
    return value


def _get(doc: Any, path: list[str]) -> Any:
    node = doc
    for token in path:
        if isinstance(node, dict):
            if token not in node:
                raise JsonPatchError(f"path /{'/'.join(path)} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(token, len(node), path)]
        else:
            raise JsonPatchError(f"path /{'/'.join(path)} does not exist")
    return node


def _index(token: str, size: int, path: list[str], *, insert: bool = False) -> int:
    """A list index as kustomize's JSON patch library reads it (``-`` and ``-N`` too)."""
    if insert and token == "-":
        return size
    digits = token[1:] if token.startswith("-") else token
    if not digits.isdigit():
        raise JsonPatchError(f"path /{'/'.join(path)}: {token!r} is not a list index")
    index = int(token)
    bound = size + 1 if insert else size
    if index < 0:
        # evanphx/json-patch counts negative indices from the end.
        index += bound
    if not 0 <= index < bound:
        raise JsonPatchError(f"path /{'/'.join(path)}: index {token} is out of range")
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
        child = _get(parent, [token])
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
        raise JsonPatchError(f"path /{'/'.join(path)} does not exist")
    return root


def _remove(doc: YMap, path: list[str]) -> YMap:
    if not path:
        raise JsonPatchError("cannot remove the whole document")
    _get(doc, path)
    root = doc.evolve()
    parent: Any = root
    for token in path[:-1]:
        child = _copy(_get(parent, [token]))
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
