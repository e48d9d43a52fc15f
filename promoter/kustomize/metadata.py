"""The metadata transformers: namespace, name prefix and suffix, labels and annotations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from promoter._yaml import YMap
from promoter.kustomize._layer import empty_map
from promoter.kustomize.resource import CLUSTER_SCOPED, Resource


def _edit_meta(resource: Resource, change: Callable[[YMap], None]) -> Resource:
    doc = resource.doc.evolve()
    meta = doc.get("metadata")
    meta = meta.evolve() if isinstance(meta, YMap) else empty_map(doc.file)
    change(meta)
    doc["metadata"] = meta
    return resource.with_doc(doc)


def set_namespace(resource: Resource, namespace: str) -> Resource:
    """``resource`` in ``namespace`` (cluster-scoped kinds stay as they are)."""
    if resource.id.kind in CLUSTER_SCOPED or resource.id.namespace == namespace:
        return resource
    return _edit_meta(resource, lambda meta: meta.__setitem__("namespace", namespace))


def rename(resource: Resource, prefix: str, suffix: str) -> Resource:
    """``resource`` with ``namePrefix`` and ``nameSuffix`` applied."""
    if resource.id.kind in ("CustomResourceDefinition", "Namespace"):
        return resource
    new_name = f"{prefix}{resource.id.name}{suffix}"
    return _edit_meta(resource, lambda meta: meta.__setitem__("name", new_name))


def labels_of(k: YMap) -> dict[str, Any]:
    """The labels a kustomization adds (``commonLabels`` and ``labels`` pairs)."""
    out: dict[str, Any] = {}
    common = k.get("commonLabels")
    if isinstance(common, dict):
        out.update(common)
    for entry in k.get("labels") or []:
        if isinstance(entry, dict) and isinstance(entry.get("pairs"), dict):
            out.update(entry["pairs"])
    return out


def add_meta(resource: Resource, field_name: str, values: dict[str, Any]) -> Resource:
    """``resource`` with ``values`` merged into ``metadata.<field_name>``."""

    def change(meta: YMap) -> None:
        current = meta.get(field_name)
        merged = current.evolve() if isinstance(current, YMap) else empty_map(meta.file)
        merged.update(values)
        meta[field_name] = merged

    return _edit_meta(resource, change)
