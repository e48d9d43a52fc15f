"""The images transformer: ``images:`` entries set the name, tag or digest of containers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import yaml

from promoter._yaml import Prov, YMap, YSeq
from promoter.errors import KustomizeError
from promoter.images import ImageRef
from promoter.kustomize._layer import map_line
from promoter.kustomize.resource import Resource
from promoter.kustomize.scalars import is_non_string, text_of
from promoter.kustomize.smp import BUILTIN_GROUPS

_IMAGE_SUFFIX = "(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$"


def image_matches(image: str, name: str) -> bool:
    """Whether an ``images:`` entry named ``name`` applies to ``image``.

    kustomize matches ``^<name>(:tag)?(@sha256:digest)?$`` with ``name`` as a regular
    expression: ``name: web:1`` matches ``web:1`` and ``name: w.b`` matches ``web``.
    """
    try:
        pattern = _image_pattern(name)
    except re.error:
        return ImageRef.parse(image).name == name
    return pattern.search(image) is not None


@functools.lru_cache(maxsize=1024)
def _image_pattern(name: str) -> re.Pattern[str]:
    return re.compile(f"^{name}{_IMAGE_SUFFIX}")


def apply_images(acc: list[Resource], entries: list[YMap]) -> list[Resource]:
    """Every ``images:`` entry in order, in one walk over each object."""
    update = image_updater(entries)
    return [update(r) for r in acc]


def image_updater(entries: list[YMap]) -> Callable[[Resource], Resource]:
    """An object with every ``images:`` entry applied in order, in one walk over it."""
    edits = [_ImageEdit.of(entry) for entry in entries]

    def update(container: YMap) -> YMap | None:
        image = container.get("image")
        if not isinstance(image, str):
            return None
        changed = None
        for edit in edits:
            pattern = edit.pattern
            if pattern.search(image) if pattern is not None else edit.matches(image):
                changed = edit.apply(changed if changed is not None else container, image)
                image = changed["image"]
        return changed

    return functools.partial(_map_containers, update=update)


class _ImageEdit:
    """One ``images:`` entry: which images it matches and what it sets."""

    __slots__ = ("digest", "name", "new_name", "new_tag", "pattern", "prov")

    def __init__(
        self, name: str, new_name: str | None, new_tag: str | None, digest: str | None,
        prov: Prov | None,
    ) -> None:  # fmt: skip
        self.name, self.new_name, self.new_tag, self.digest = name, new_name, new_tag, digest
        self.prov = prov
        try:
            self.pattern: re.Pattern[str] | None = _image_pattern(name)
        except re.error:
            self.pattern = None

    @classmethod
    def of(cls, entry: YMap) -> _ImageEdit:
        name = _string_field(entry, "name")
        if not name:
            raise KustomizeError(entry.file, "an images entry needs a name", map_line(entry))
        new_name, new_tag = _string_field(entry, "newName"), _string_field(entry, "newTag")
        digest = _string_field(entry, "digest")
        if new_tag:
            prov = entry.origin("newTag")
        elif digest:
            prov = entry.origin("digest")
        else:
            prov = None
        if prov is not None:
            prov = Prov(prov.file, prov.node, "images", prov.line_offset, prov.col_offset)
        return cls(name, new_name, new_tag, digest, prov)

    def matches(self, image: str) -> bool:
        if self.pattern is None:
            return ImageRef.parse(image).name == self.name
        return self.pattern.search(image) is not None

    def apply(self, container: YMap, image: str) -> YMap:
        ref = ImageRef.parse(image)
        if self.new_name:
            ref = ImageRef(self.new_name, ref.tag, ref.digest)
        if self.new_tag or self.digest:
            ref = ref.with_version(self.new_tag or None, self.digest or None)
        out = container.evolve()
        out["image"] = str(ref)
        if self.prov is not None:
            out.prov["image"] = self.prov
        return out


# Built-in kinds that hold no containers: the images transformer has nothing to do there.
_NO_CONTAINERS = frozenset(
    {
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Namespace",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "Ingress",
        "IngressClass",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "StorageClass",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "PriorityClass",
        "ResourceQuota",
        "LimitRange",
        "Endpoints",
        "EndpointSlice",
        "CustomResourceDefinition",
    }
)


def _map_containers(resource: Resource, update: Callable[[YMap], YMap | None]) -> Resource:
    rid = resource.id
    if rid.kind in _NO_CONTAINERS and rid.group in BUILTIN_GROUPS:
        return resource
    new_doc = _walk_containers(resource.doc, update)
    return resource if new_doc is None else resource.with_doc(new_doc)


def _walk_containers(node: Any, update: Callable[[YMap], YMap | None]) -> Any:
    """Rewrite every element of any ``containers``/``initContainers`` list; None if none."""
    if isinstance(node, dict):
        return _walk_map(node, update)
    if isinstance(node, list):
        return _walk_list(node, update)
    return None


_CONTAINER_LISTS = frozenset({"containers", "initContainers"})


def _walk_map(node: dict[Any, Any], update: Callable[[YMap], YMap | None]) -> Any:
    changed: dict[Any, Any] | None = None
    for key, value in node.items():
        if isinstance(value, list):
            if key in _CONTAINER_LISTS:
                new = _update_list(value, update)
            else:
                new = _walk_list(value, update)
        elif isinstance(value, dict):
            new = _walk_map(value, update)
        else:
            continue
        if new is not None:
            if changed is None:
                changed = {}
            changed[key] = new
    if changed is None:
        return None
    out = node.evolve() if isinstance(node, YMap) else dict(node)
    out.update(changed)
    return out


def _update_list(containers: list[Any], update: Callable[[YMap], YMap | None]) -> YSeq | None:
    out = None
    for index, container in enumerate(containers):
        if isinstance(container, YMap):
            new = update(container)
            if new is not None:
                if out is None:
                    out = list(containers)
                out[index] = new
    return None if out is None else YSeq(out)


def _walk_list(node: list[Any], update: Callable[[YMap], YMap | None]) -> YSeq | None:
    subs = None
    for index, item in enumerate(node):
        if isinstance(item, dict):
            new = _walk_map(item, update)
        elif isinstance(item, list):
            new = _walk_list(item, update)
        else:
            continue
        if new is not None:
            if subs is None:
                subs = list(node)
            subs[index] = new
    return None if subs is None else YSeq(subs)


def _string_field(entry: YMap, key: str) -> str | None:
    """A kustomization string field; kustomize (YAML 1.1) refuses numbers and booleans."""
    value = entry.get(key)
    if value is None:
        return None
    node = entry.nodes.get(key)
    if isinstance(node, yaml.ScalarNode) and node.style and isinstance(value, str):
        return value
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else text_of(value)
    if not isinstance(value, (str, int, float)) or is_non_string(text):
        raise KustomizeError(
            entry.file,
            f"images entry: {key} {text!r} must be a string (quote it)",
            entry.line_of(key),
        )
    return text
