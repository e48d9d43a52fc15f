"""The native kustomize engine: builds kustomizations the way ``kustomize build`` does,
keeping where every value was set, and falls back to a real render when it must.

Modules, by what they hold:

- ``builder``: resources, components, generators, and the build of a directory;
- ``transformers``: the transformers of one kustomization, in kustomize's order, made of
  ``patches`` (strategic merge and JSON6902), ``metadata`` (namespace, prefix, suffix,
  labels, annotations) and ``images``;
- ``smp`` and ``jsonpatch``: the two patch algorithms on located documents;
- ``inline``: positions of values in patches written inline in a kustomization;
- ``scalars``: scalars as kustomize prints them;
- ``resource``: one object, its ids and selectors;
- ``render``: the real ``kustomize build`` / ``kubectl kustomize`` render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promoter.lazyexports import lazy_exports

if TYPE_CHECKING:
    from promoter.kustomize._layer import FluxLayer
    from promoter.kustomize.builder import (
        KUSTOMIZATION_FILES,
        Build,
        Builder,
        find_kustomization,
        is_remote,
    )
    from promoter.kustomize.images import image_matches
    from promoter.kustomize.resource import ResId, Resource, matches_selector
    from promoter.kustomize.scalars import rendered_scalar
    from promoter.kustomize.smp import BUILTIN_GROUPS

_EXPORTS = {
    "FluxLayer": "_layer",
    "KUSTOMIZATION_FILES": "builder",
    "Build": "builder",
    "Builder": "builder",
    "find_kustomization": "builder",
    "is_remote": "builder",
    "image_matches": "images",
    "ResId": "resource",
    "Resource": "resource",
    "matches_selector": "resource",
    "rendered_scalar": "scalars",
    "BUILTIN_GROUPS": "smp",
}


# Imported on first use: a render (``render``) does not import the native builder.
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = [
    "BUILTIN_GROUPS",
    "KUSTOMIZATION_FILES",
    "Build",
    "Builder",
    "FluxLayer",
    "ResId",
    "Resource",
    "find_kustomization",
    "image_matches",
    "is_remote",
    "matches_selector",
    "rendered_scalar",
]
