"""Turn the objects a stage renders to into apps with versions and their sources."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from promoter._yaml import Prov, YMap
from promoter.images import ImageRef
from promoter.kustomize import Resource, buildmemo
from promoter.model import App, ContainerImage, SourceType, VersionSource
from promoter.names import control_problem, name_problem
from promoter.problems import Problem
from promoter.workloads import WORKLOAD_KINDS, containers

HELM_RELEASE_GROUP = "helm.toolkit.fluxcd.io"
SETTER = re.compile(r'#\s*\{\s*"\$imagepolicy"\s*:\s*"([^"]+)"\s*\}')

LineReader = Callable[[str, int], str]
"""Returns line ``n`` (1-based) of a repo-relative file, or ``""``."""


def is_app(resource: Resource) -> bool:
    """Workloads and Flux HelmReleases are apps; everything else is not."""
    rid = resource.id
    if rid.kind == "HelmRelease":
        return rid.group == HELM_RELEASE_GROUP
    return rid.kind in WORKLOAD_KINDS


def apps_of(resources: Iterable[Resource], read_line: LineReader) -> tuple[App, ...]:
    """Every app among ``resources``, in render order.  Inside a history walk, an object
    met before is the app it was (``kustomize.buildmemo``: the same object was made of the
    same file contents, so the lines ``read_line`` gives for it are the same too)."""
    memo = buildmemo.current()
    if memo is None:
        return tuple(app_of(r, read_line) for r in resources if is_app(r))
    return tuple(
        buildmemo.recall(memo, "app", (r.doc,), r.ids, partial(app_of, r, read_line))
        for r in resources
        if is_app(r)
    )


def source_of(prov: Prov | None, read_line: LineReader) -> VersionSource | None:
    """A public ``VersionSource`` for a provenance, with its Flux setter marker."""
    if prov is None:
        return None
    line = prov.line
    marker = SETTER.search(read_line(prov.file, line))
    mech: SourceType = prov.mech if prov.mech in _TYPES else "resource"  # type: ignore[assignment]
    return VersionSource(
        prov.file, line, prov.column, mech, marker is not None, marker.group(1) if marker else None
    )


_TYPES = frozenset({"resource", "patch", "json6902", "images", "inline-patch"})


def app_of(resource: Resource, read_line: LineReader) -> App:
    """The app an object is, with its version and where that version is set."""
    doc = resource.doc
    rid, original = resource.id, resource.original
    version: str | None
    source: VersionSource | None
    images: list[ContainerImage] = []
    if rid.kind == "HelmRelease":
        chart_spec = _dig(doc, "spec", "chart", "spec")
        # As written: a range such as ">=1.0.0" stays text, and so does "1.10".
        version = chart_spec.raw("version") if isinstance(chart_spec, YMap) else None
        source = (
            source_of(chart_spec.origin("version"), read_line)
            if isinstance(chart_spec, YMap) and version is not None
            else None
        )
    else:
        for container, init in containers(doc):
            if not isinstance(container, YMap):
                continue
            image = container.get("image")
            images.append(
                ContainerImage(
                    str(container.get("name") or ""),
                    ImageRef.parse(str(image or "")),
                    init,
                    source_of(container.origin("image"), read_line) if image else None,
                )
            )
        primary = primary_container(images, original.name)
        version = primary.image.version if primary is not None else None
        source = primary.source if primary is not None else None
    return App(
        kind=rid.kind,
        name=original.name,
        api_version=f"{rid.group}/{rid.version}" if rid.group else rid.version,
        namespace=rid.namespace or None,
        rendered_name=rid.name,
        version=version,
        source=source,
        images=tuple(images),
    )


def primary_container(images: Iterable[ContainerImage], app: str) -> ContainerImage | None:
    """The container named like the app, else the first (non-init) container."""
    regular = [i for i in images if not i.init]
    return next((i for i in regular if i.container == app), regular[0] if regular else None)


def _dig(doc: Any, *keys: str) -> Any:
    node = doc
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def invalid_name(resources: Iterable[Resource]) -> Problem | None:
    """The first app among ``resources`` whose kind, name or namespace (as written, and
    as rendered) has a control character: such a name would reach commit messages, branch
    names and pull requests, so its stage cannot be read (code ``name-invalid``, at the
    line of its ``metadata.name``)."""
    apps = [r for r in resources if is_app(r)]
    names = [text for r in apps for rid in (r.original, r.id) for text in rid[2:]]
    if control_problem("".join(names)) is None:
        return None  # the common case: one search over every name, no origin to look up
    for resource in apps:
        ids = (resource.original, resource.id)
        if control_problem("".join(t for rid in ids for t in rid[2:])) is None:
            continue
        meta = resource.doc.get("metadata")
        origin = meta.origin("name") if isinstance(meta, YMap) else None
        file, line = (origin.file, origin.line) if origin is not None else (None, None)
        for rid in dict.fromkeys((resource.original, resource.id)):
            for text in (rid.kind, rid.name, rid.namespace or ""):
                problem = name_problem("app", text, file, line)
                if problem is not None:
                    return problem
    return None
