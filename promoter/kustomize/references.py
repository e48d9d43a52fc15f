"""Every file a ``kustomize build`` of a directory may read, found by following what its
kustomization files name: resources, bases and components, patches, generator sources
(``files``, ``envs``, ``env``), replacements, configurations, CRDs, OpenAPI schemas, plugin
configurations and Helm charts.

The verifying render of a promotion copies exactly these (with the stage's own build files)
to a temporary directory, so verification costs what the render costs, however large the
repository (issue 10 §6).  Only regular files inside the repository are listed: a path that
leaves it is left to kustomize to refuse.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from typing import Any

from promoter.kustomize.builder import KUSTOMIZATION_FILES, is_remote
from promoter.tree import FileSource

_LISTS = (
    "resources",
    "bases",
    "components",
    "patchesStrategicMerge",
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
)
_PATH_LISTS = ("patches", "patchesJson6902", "replacements")


def referenced_files(source: FileSource, files: Iterable[str]) -> set[str]:
    """``files`` and every file their kustomization files name, followed through the
    directories they name, as repo-relative paths."""
    found: set[str] = set()
    pending = list(files)
    seen_dirs: set[str] = set()
    while pending:
        rel = pending.pop()
        if rel in found:
            continue
        found.add(rel)
        if posixpath.basename(rel) not in KUSTOMIZATION_FILES:
            continue
        base = posixpath.dirname(rel)
        for entry in _named(_load(source, rel)):
            target = _join(source, base, entry)
            if target is None:
                continue
            if source.is_file(target):
                pending.append(target)
            elif source.is_dir(target) and target not in seen_dirs:
                seen_dirs.add(target)
                pending.extend(_directory(source, target))
    return found


def stage_reads(source: FileSource, files: Iterable[str], stage_dir: str) -> set[str]:
    """What a render of directory ``stage_dir`` may read: ``referenced_files`` from the
    files its native build read and its own kustomization files (all there is to start
    from when the native build failed)."""
    return referenced_files(source, [*files, *_directory_kustomization(source, stage_dir)])


def _directory_kustomization(source: FileSource, rel_dir: str) -> list[str]:
    return [
        k for k in (posixpath.join(rel_dir, n) for n in KUSTOMIZATION_FILES) if source.is_file(k)
    ]


def _directory(source: FileSource, rel_dir: str) -> list[str]:
    """What a named directory contributes: its kustomization file, or (a chart home, a
    plain directory) its files."""
    return _directory_kustomization(source, rel_dir) or source.files(rel_dir)


def _load(source: FileSource, rel: str) -> Any:
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(source.read_bytes(rel), Loader=loader)
    except (OSError, yaml.YAMLError):
        return None  # kustomize says what is wrong with it


def named_paths(k: Any) -> list[str]:
    """Every path the parsed kustomization ``k`` names, as written (relative to its
    directory): resources, patches, generator sources, charts, ... (remote ones aside)."""
    return list(_named(k))


def _named(k: Any) -> Iterator[str]:
    """Every path a kustomization names (relative to its directory)."""
    if not isinstance(k, dict):
        return
    for key in _LISTS:
        yield from _strings(k.get(key))
    for key in _PATH_LISTS:
        for item in _list(k.get(key)):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield item["path"]
    for key in ("configMapGenerator", "secretGenerator"):
        for gen in _list(k.get(key)):
            if not isinstance(gen, dict):
                continue
            for entry in _strings(gen.get("files")):
                yield entry.partition("=")[2] or entry
            yield from _strings(gen.get("envs"))
            yield from _strings([gen.get("env")])
    openapi = k.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield openapi["path"]
    charts = _list(k.get("helmCharts"))
    globals_ = k.get("helmGlobals")
    if charts or isinstance(globals_, dict):
        home = globals_.get("chartHome") if isinstance(globals_, dict) else None
        yield home if isinstance(home, str) else "charts"
        for chart in charts:
            if isinstance(chart, dict):
                yield from _strings([chart.get("valuesFile")])
                yield from _strings(chart.get("additionalValuesFiles"))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> Iterator[str]:
    for item in _list(value):
        if isinstance(item, str) and item and "\n" not in item and not is_remote(item):
            yield item


def _join(source: FileSource, base: str, entry: str) -> str | None:
    """``entry`` joined to ``base``; None when it leaves the repository."""
    if posixpath.isabs(entry):
        return None
    joined = posixpath.normpath(posixpath.join(base, entry))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../") or not source.inside(joined):
        return None
    return joined
