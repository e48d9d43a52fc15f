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
    updaters = [_image_updater(entry) for entry in entries]

    def update(container: YMap) -> YMap | None:
        changed = None
        for updater in updaters:
            new = updater(changed if changed is not None else container)
            if new is not None:
                changed = new
        return changed

    return [_map_containers(r, update) for r in acc]


def _image_updater(entry: YMap) -> Callable[[YMap], YMap | None]:
    name = _string_field(entry, "name")
    if not name:
        raise KustomizeError(entry.file, "an images entry needs a name", map_line(entry))
    new_name, new_tag = _string_field(entry, "newName"), _string_field(entry, "newTag")
    digest = _string_field(entry, "digest")
    if (new_tag and digest) or new_tag:
        prov = entry.origin("newTag")
    elif digest:
        prov = entry.origin("digest")
    else:
        prov = None
    if prov is not None:
        prov = Prov(prov.file, prov.node, "images", prov.line_offset, prov.col_offset)

    def update(container: YMap) -> YMap | None:
        image = container.get("image")
        if not isinstance(image, str) or not image_matches(image, name):
            return None
        ref = ImageRef.parse(image)
        if new_name:
            ref = ImageRef(new_name, ref.tag, ref.digest)
        if new_tag or digest:
            ref = ref.with_version(new_tag or None, digest or None)
        out = container.evolve()
        out["image"] = str(ref)
        if prov is not None:
            out.prov["image"] = prov
        return out

    return update


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
        changed: dict[Any, Any] = {}
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                new_list = [update(c) if isinstance(c, YMap) else None for c in value]
                if any(item is not None for item in new_list):
                    seq = YSeq(
                        n if n is not None else o for n, o in zip(new_list, value, strict=True)
                    )
                    changed[key] = seq
            elif isinstance(value, (dict, list)):
                sub = _walk_containers(value, update)
                if sub is not None:
                    changed[key] = sub
        if not changed:
            return None
        out = node.evolve() if isinstance(node, YMap) else dict(node)
        out.update(changed)
        return out
    if isinstance(node, list):
        subs = [_walk_containers(item, update) for item in node]
        if all(s is None for s in subs):
            return None
        return YSeq(s if s is not None else o for s, o in zip(subs, node, strict=True))
    return None


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
