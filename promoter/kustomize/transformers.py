"""A kustomization's transformers, applied in kustomize's order: strategic merge patches,
``patches``, namespace, name prefix and suffix, labels, annotations, ``patchesJson6902``,
``images``; a Flux Kustomization's additions join the matching step."""

from __future__ import annotations

import re
from typing import Any

from promoter._yaml import YMap
from promoter.kustomize._layer import Files, FluxLayer, Layer, items, maps, opt_str
from promoter.kustomize.images import apply_images
from promoter.kustomize.metadata import add_meta, labels_of, rename, set_namespace
from promoter.kustomize.patches import apply_patch, apply_strategic_merges
from promoter.kustomize.resource import Resource

_IMAGE_FIELDS = re.compile(r"image|containers|chart|version", re.IGNORECASE)


def transform(
    files: Files, layer: Layer, acc: list[Resource], flux: FluxLayer | None
) -> list[Resource]:
    """``acc`` through every transformer of ``layer`` (and of ``flux``, when given)."""
    k = layer.k
    acc = apply_strategic_merges(files, layer, acc)
    patches: list[tuple[YMap, Layer]] = [(p, layer) for p in maps(k, "patches")]
    if flux is not None:
        text = files.read(flux.file).decode("utf-8-sig", errors="replace")
        flux_layer = Layer(layer.dir, flux.file, flux.spec, text)
        patches += [(p, flux_layer) for p in maps(flux.spec, "patches")]
    for spec, owner in patches:
        acc = apply_patch(files, owner, spec, acc, json6902_only=False)
    namespace = opt_str(k, "namespace")
    if flux is not None and opt_str(flux.spec, "targetNamespace"):
        namespace = opt_str(flux.spec, "targetNamespace")
    if namespace:
        acc = [set_namespace(r, namespace) for r in acc]
    prefix, suffix = opt_str(k, "namePrefix"), opt_str(k, "nameSuffix")
    if flux is not None:
        prefix = (opt_str(flux.spec, "namePrefix") or "") + (prefix or "")
        suffix = (suffix or "") + (opt_str(flux.spec, "nameSuffix") or "")
    if prefix or suffix:
        acc = [rename(r, prefix or "", suffix or "") for r in acc]
    labels = labels_of(k)
    if labels:
        acc = [add_meta(r, "labels", labels) for r in acc]
    annotations = k.get("commonAnnotations")
    if isinstance(annotations, dict) and annotations:
        acc = [add_meta(r, "annotations", dict(annotations)) for r in acc]
    for spec in maps(k, "patchesJson6902"):
        acc = apply_patch(files, layer, spec, acc, json6902_only=True)
    images = maps(k, "images")
    if flux is not None:
        images += maps(flux.spec, "images")
    if images:
        acc = apply_images(acc, images)
    _check_replacements(layer)
    return acc


def _check_replacements(layer: Layer) -> None:
    for raw, line in items(layer.k, "replacements"):
        if not isinstance(raw, dict) or "path" in raw or _touches_images(raw):
            layer.cannot_follow("replacements", line)
    if layer.k.get("vars"):
        layer.cannot_follow("vars", layer.k.line_of("vars"))


def _touches_images(replacement: dict[str, Any]) -> bool:
    for target in replacement.get("targets") or []:
        if not isinstance(target, dict):
            return True
        for path in target.get("fieldPaths") or []:
            if _IMAGE_FIELDS.search(str(path)):
                return True
    return False
