"""A kustomization's transformers, applied in kustomize's order: strategic merge patches,
``patches``, namespace, name prefix and suffix, labels, annotations, ``patchesJson6902``,
``images``; a Flux Kustomization's additions join the matching step."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from promoter._yaml import YMap, decode
from promoter.kustomize import buildmemo
from promoter.kustomize._layer import Files, FluxLayer, Layer, items, maps, opt_str
from promoter.kustomize.images import image_updater
from promoter.kustomize.metadata import MetadataEdit, labels_of
from promoter.kustomize.patches import apply_patch, apply_strategic_merges
from promoter.kustomize.resmap import ResMap
from promoter.kustomize.resource import Resource

_IMAGE_FIELDS = re.compile(r"image|containers|chart|version", re.IGNORECASE)


def transform(
    files: Files, layer: Layer, acc: list[Resource], flux: FluxLayer | None
) -> list[Resource]:
    """``acc`` through every transformer of ``layer`` (and of ``flux``, when given)."""
    k = layer.k
    working = ResMap(acc)
    apply_strategic_merges(files, layer, working)
    patches: list[tuple[YMap, Layer]] = [(p, layer) for p in maps(k, "patches")]
    if flux is not None:
        text = decode(files.read(flux.file), errors="replace")
        flux_layer = Layer(layer.dir, flux.file, flux.spec, text)
        patches += [(p, flux_layer) for p in maps(flux.spec, "patches")]
    for spec, owner in patches:
        apply_patch(files, owner, spec, working, json6902_only=False)
    acc = working.resources()
    namespace = opt_str(k, "namespace")
    if flux is not None and opt_str(flux.spec, "targetNamespace"):
        namespace = opt_str(flux.spec, "targetNamespace")
    prefix, suffix = opt_str(k, "namePrefix") or "", opt_str(k, "nameSuffix") or ""
    if flux is not None:
        prefix = (opt_str(flux.spec, "namePrefix") or "") + prefix
        suffix = suffix + (opt_str(flux.spec, "nameSuffix") or "")
    annotations = k.get("commonAnnotations")
    edit = MetadataEdit(
        namespace,
        prefix,
        suffix,
        labels_of(k),
        dict(annotations) if isinstance(annotations, dict) else None,
    )
    # Inside a history walk, objects met before answer from the memo (``buildmemo``): the
    # edits and images are functions of the kustomization and the Flux spec.
    memo = buildmemo.current()
    made_of = (k, flux.spec if flux is not None else None)
    if edit:
        if memo is None:
            acc = [edit.apply(r) for r in acc]
        else:
            acc = [
                buildmemo.recall(memo, "metadata", (r.doc, *made_of), r.ids, partial(edit.apply, r))
                for r in acc
            ]
    json_patches = maps(k, "patchesJson6902")
    if json_patches:
        working = ResMap(acc)
        for spec in json_patches:
            apply_patch(files, layer, spec, working, json6902_only=True)
        acc = working.resources()
    images = maps(k, "images")
    if flux is not None:
        images += maps(flux.spec, "images")
    if images:
        update = image_updater(images)
        if memo is None:
            acc = [update(r) for r in acc]
        else:
            acc = [
                buildmemo.recall(memo, "images", (r.doc, *made_of), r.ids, partial(update, r))
                for r in acc
            ]
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
