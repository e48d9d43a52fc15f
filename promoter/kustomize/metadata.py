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
        rid = resource.id
        namespace, name = rid.namespace, rid.name
        if self.namespace and rid.kind not in CLUSTER_SCOPED:
            namespace = self.namespace
        if (self.prefix or self.suffix) and rid.kind not in _NOT_RENAMED:
            name = f"{self.prefix}{rid.name}{self.suffix}"
        changes: dict[str, Any] = {}
        if namespace != rid.namespace:
            changes["namespace"] = namespace
        if name != rid.name:
            changes["name"] = name
        if not changes and not self.labels and not self.annotations:
            return resource
        doc = resource.doc.evolve()
        meta = doc.get("metadata")
        located = isinstance(meta, YMap)
        meta = meta.evolve() if isinstance(meta, YMap) else empty_map(doc.file)
        meta.update(changes)
        for field_name, values in (("labels", self.labels), ("annotations", self.annotations)):
            if values:
                current = meta.get(field_name)
                merged = current.evolve() if isinstance(current, YMap) else empty_map(meta.file)
                merged.update(values)
                meta[field_name] = merged
        doc["metadata"] = meta
        if not located:  # the object's id is read again from what is left
            return resource.with_doc(doc)
        return resource.with_doc(doc, ResId(rid.group, rid.version, rid.kind, name, namespace))


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
