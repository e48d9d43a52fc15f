"""The metadata transformers: namespace, name prefix and suffix, labels and annotations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promoter._yaml import YMap
from promoter.kustomize._layer import empty_map
from promoter.kustomize.resource import CLUSTER_SCOPED, ResId, Resource

# Kinds whose name the prefix and suffix leave alone.
_NOT_RENAMED = frozenset({"CustomResourceDefinition", "Namespace"})


@dataclass(frozen=True)
class MetadataEdit:
    """What a kustomization's metadata transformers set on every object, in kustomize's
    order: namespace, name prefix and suffix, labels, annotations."""

    namespace: str | None = None
    prefix: str = ""
    suffix: str = ""
    labels: Mapping[str, Any] | None = None
    annotations: Mapping[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.namespace or self.prefix or self.suffix or self.labels or self.annotations)

    def apply(self, resource: Resource) -> Resource:
        """``resource`` with every edit made: one copy of its document and metadata."""
        rid = resource.ids[-1]
        namespace, name = rid.namespace, rid.name
        if self.namespace and rid.kind not in CLUSTER_SCOPED:
            namespace = self.namespace
        if (self.prefix or self.suffix) and rid.kind not in _NOT_RENAMED:
            name = f"{self.prefix}{rid.name}{self.suffix}"
        labels, annotations = self.labels, self.annotations
        moved, renamed = namespace != rid.namespace, name != rid.name
        if not (moved or renamed or labels or annotations):
            return resource
        doc = resource.doc.evolve()
        meta = doc.get("metadata")
        located = isinstance(meta, YMap)
        meta = meta.evolve() if isinstance(meta, YMap) else empty_map(doc.file)
        if moved:
            meta["namespace"] = namespace
        if renamed:
            meta["name"] = name
        if labels:
            meta["labels"] = _merged(meta, "labels", labels)
        if annotations:
            meta["annotations"] = _merged(meta, "annotations", annotations)
        doc["metadata"] = meta
        if not located:  # the object's id is read again from what is left
            return resource.with_doc(doc)
        if not (moved or renamed):
            return resource.with_doc(doc, rid)
        return resource.with_doc(doc, ResId(rid.group, rid.version, rid.kind, name, namespace))


def _merged(meta: YMap, field_name: str, values: Mapping[str, Any]) -> YMap:
    current = meta.get(field_name)
    merged = current.evolve() if isinstance(current, YMap) else empty_map(meta.file)
    merged.update(values)
    return merged


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
