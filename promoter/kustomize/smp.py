"""Strategic merge patches as kustomize applies them, on located documents.

Lists of built-in Kubernetes kinds merge by their patch merge key (containers by name,
patch elements first, then the untouched ones, as kubectl/kustomize render them); lists of
custom resources are replaced whole.  Inputs are never mutated.
"""

from __future__ import annotations

from typing import Any

import yaml

from promoter._yaml import Prov, YMap, YSeq
from promoter.kustomize import buildmemo
from promoter.kustomize.scalars import merged_scalar

# Groups whose kinds kustomize knows the OpenAPI schema of (merge keys apply there).
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "extensions",
        "policy",
        "autoscaling",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "node.k8s.io",
        "discovery.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "certificates.k8s.io",
    }
)

# Field name -> patch merge key, within built-in kinds.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
    "ports": "containerPort",
}

_DIRECTIVE = "$patch"


def merge_key(field: str, kind: str, builtin: bool, depth: int) -> str | None:
    """The patch merge key of list ``field``, or None when the list is replaced whole."""
    if not builtin:
        return None
    if field == "ports" and kind == "Service" and depth == 1:
        return "port"
    return _MERGE_KEYS.get(field)


def is_delete(patch: Any) -> bool:
    """Whether a patch document or element says ``$patch: delete``."""
    return isinstance(patch, dict) and patch.get(_DIRECTIVE) == "delete"


def merge(
    dest: YMap, patch: YMap, *, kind: str, builtin: bool, mech: str, keep_id: bool = False
) -> YMap:
    """Return ``dest`` with strategic merge ``patch`` applied; values remember ``mech``.

    With ``keep_id`` the patch's ``kind``, ``apiVersion``, ``metadata.name`` and
    ``metadata.namespace`` are not merged: a patch applies to the object it selects,
    whatever name it carries.  Inside ``buildmemo.remembering``, the merge of the same two
    objects with the same options is made once."""
    memo = buildmemo.current()
    if memo is None:
        return _merge(dest, patch, kind, builtin, mech, keep_id)
    options = (kind, builtin, mech, keep_id)
    return buildmemo.recall(
        memo, "merge", (dest, patch), options,
        lambda: _merge(dest, patch, kind, builtin, mech, keep_id),
    )  # fmt: skip


def _merge(dest: YMap, patch: YMap, kind: str, builtin: bool, mech: str, keep_id: bool) -> YMap:
    if keep_id:
        if keeps_id(dest, patch):
            return _merge_map(dest, patch, kind, builtin, mech, 0, _ID_FIELDS)
        patch = retarget(patch)
    return _merge_map(dest, patch, kind, builtin, mech, 0, _NO_KEYS)


def keeps_id(dest: YMap, patch: YMap) -> bool:
    """Whether merging ``patch`` with ``keep_id`` surely leaves the object's id as it is
    (no ``$patch`` directive at the top or in ``metadata``, both sides with metadata)."""
    meta = patch.get("metadata")
    return (
        isinstance(meta, YMap)
        and _DIRECTIVE not in patch
        and _DIRECTIVE not in meta
        and isinstance(dest.get("metadata"), YMap)
    )


def retarget(patch: YMap) -> YMap:
    """``patch`` without the fields that name its object (what ``keep_id`` skips)."""
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


_NO_KEYS: frozenset[str] = frozenset()
_ID_FIELDS = frozenset({"kind", "apiVersion"})
_META_ID_FIELDS = frozenset({"name", "namespace"})


def _merge_map(
    dest: YMap,
    patch: YMap,
    kind: str,
    builtin: bool,
    mech: str,
    depth: int,
    skip: frozenset[str],
) -> YMap:
    if patch.get(_DIRECTIVE) == "replace":
        replaced: YMap = _stamp(_without_directives(patch), mech)
        return replaced
    out = dest.evolve()
    prov = out.prov
    # kustomize ignores $retainKeys (and other directives but $patch): so does this.
    for key, value in patch.items():
        if not isinstance(key, str) or key[:1] == "$" or key in skip:
            continue
        if value is None:
            out.pop(key, None)
            prov.pop(key, None)
            continue
        current = out.get(key)
        if isinstance(value, YMap) and isinstance(current, YMap):
            inner = _META_ID_FIELDS if skip and key == "metadata" else _NO_KEYS
            if not inner or any(k not in inner for k in value):  # else: nothing to merge
                out[key] = _merge_map(current, value, kind, builtin, mech, depth + 1, inner)
            prov.pop(key, None)
            continue
        if isinstance(value, list) and isinstance(current, list):
            mkey = merge_key(key, kind, builtin, depth)
            if mkey is None:
                out[key] = _stamp(value, mech)
            else:
                out[key] = _merge_list(current, value, mkey, kind, builtin, mech, depth + 1)
            continue
        origin = _kept_style(_origin(patch, key, mech), out, key)
        out[key] = _stamp(value, mech) if isinstance(value, (YMap, YSeq)) else value
        prov[key] = origin
    return out


def _merge_list(
    dest: list[Any], patch: list[Any], mkey: str, kind: str, builtin: bool, mech: str, depth: int
) -> YSeq:
    deleted: set[Any] = set()
    for item in patch:
        if isinstance(item, dict):
            directive = item.get(_DIRECTIVE)
            if directive == "replace":
                return YSeq(
                    _stamp(i, mech) for i in patch if not (isinstance(i, dict) and _DIRECTIVE in i)
                )
            if directive == "delete":
                deleted.add(item.get(mkey))
    by_key = {}
    for item in dest:
        if isinstance(item, dict):
            by_key[item.get(mkey)] = item
    seen: set[Any] = set()
    merged: list[Any] = []
    for item in patch:
        if not isinstance(item, dict):
            merged.append(item)
            continue
        key = item.get(mkey)
        if key in deleted:
            continue
        seen.add(key)
        old = by_key.get(key)
        if isinstance(old, YMap) and isinstance(item, YMap):
            merged.append(_merge_map(old, item, kind, builtin, mech, depth, _NO_KEYS))
        else:
            merged.append(_stamp(item, mech))
    for item in dest:
        if isinstance(item, dict):
            key = item.get(mkey)
            if key in seen or key in deleted:
                continue
        merged.append(item)
    return YSeq(merged)


def _origin(patch: YMap, key: Any, mech: str) -> Prov:
    found = patch.prov.get(key)
    if found is None:
        node = patch.nodes.get(key)
        assert node is not None
        return Prov(patch.file, node, mech, patch.line_offset, patch.col_offset)
    if found.mech == mech:
        return found
    return Prov(found.file, found.node, mech, found.line_offset, found.col_offset)


def _kept_style(prov: Prov, dest: YMap, key: Any) -> Prov:
    """A patch scalar merged over ``dest[key]``: kustomize keeps the patch's value with the
    quoting *style* of the value it replaces (``merged_scalar``): a plain ``6.0`` merged
    over ``"1.10"`` stays the string ``6.0`` instead of becoming ``6``, and a quoted
    ``"1.10"`` merged over a plain value leaves that value's plain style."""
    node = prov.node
    if not isinstance(node, yaml.ScalarNode):
        return prov
    dest_node: yaml.Node | None = None
    if key in dest:
        found = dest.prov.get(key)
        dest_node = found.node if found is not None else dest.nodes.get(key)
        if dest_node is None:  # a value without a node (set by a transformer): plain
            dest_node = yaml.ScalarNode("tag:yaml.org,2002:str", "", node.start_mark, node.end_mark)
    merged = merged_scalar(node, dest_node)
    if merged is node:
        return prov
    return Prov(prov.file, merged, prov.mech, prov.line_offset, prov.col_offset)


def _stamp(value: Any, mech: str) -> Any:
    """Mark a subtree taken whole from a patch as applied by ``mech``."""
    if isinstance(value, (YMap, YSeq)) and value.mech == mech:
        return value
    if isinstance(value, YMap):
        out = value.evolve()
        out.mech = mech
        for key, child in value.items():
            if isinstance(child, (YMap, YSeq)):
                out[key] = _stamp(child, mech)
        return out
    if isinstance(value, YSeq):
        seq = YSeq(_stamp(child, mech) for child in value)
        seq.file = value.file
        seq.mech = mech
        seq.node = value.node
        return seq
    return value


def _without_directives(value: YMap) -> YMap:
    out = value.evolve()
    for key in [k for k in out if isinstance(k, str) and k.startswith("$")]:
        del out[key]
    return out
