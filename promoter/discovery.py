"""Find pipelines: Flux Kustomizations labelled ``pipelines.weave.works/*`` and promoter.yaml.

A Flux ``Kustomization`` (``kustomize.toolkit.fluxcd.io/*``) anywhere in the repository that
carries ``pipelines.weave.works/name`` is a stage of that pipeline; its ``spec.path`` is the
stage directory and the integer label ``pipelines.weave.works/stage`` its order.  An optional
``promoter.yaml`` at the root declares pipelines explicitly and wins for the names it lists.
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from promoter._yaml import YMap, parse_bytes
from promoter.errors import ManifestError, RepoError
from promoter.model import FluxRef, Pipeline, Stage

NAME_LABEL = "pipelines.weave.works/name"
STAGE_LABEL = "pipelines.weave.works/stage"
CONFIG_FILE = "promoter.yaml"
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})


@dataclass(frozen=True)
class Discovery:
    """The pipelines of a repository and the Flux spec of each labelled stage."""

    pipelines: tuple[Pipeline, ...]
    flux_specs: dict[tuple[str, str], YMap]


def yaml_files(root: Path) -> list[str]:
    """Every ``.yaml``/``.yml`` file under ``root`` (repo-relative), hidden dirs skipped."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                found.append(rel.replace(os.sep, "/"))
    return found


def discover(root: Path) -> Discovery:
    """Read the pipelines of the repository at ``root``."""
    labelled, flux_specs = _from_labels(root)
    declared = _from_config(root)
    merged = {p.name: p for p in labelled}
    merged.update({p.name: p for p in declared})
    pipelines = tuple(merged[name] for name in sorted(merged))
    return Discovery(pipelines, flux_specs)


# -- labels --------------------------------------------------------------------------------


def _from_labels(root: Path) -> tuple[list[Pipeline], dict[tuple[str, str], YMap]]:
    found: dict[str, list[tuple[Stage, YMap]]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for rel in yaml_files(root):
        if rel == CONFIG_FILE:
            continue
        try:
            data = (root / rel).read_bytes()
        except OSError as exc:
            raise ManifestError(rel, f"cannot be read: {exc.strerror}") from None
        if NAME_LABEL.encode() not in data:
            continue
        for doc in parse_bytes(data, rel, "flux"):
            _collect(doc, rel, root, found, errors)
    pipelines: list[Pipeline] = []
    specs: dict[tuple[str, str], YMap] = {}
    for name in sorted(set(found) | set(errors)):
        stages = _name_stages(found.get(name, []))
        pipeline = _pipeline(name, [s for s, _ in stages], errors.get(name, []))
        pipelines.append(pipeline)
        for stage, spec in stages:
            specs[(name, stage.name)] = spec
    return pipelines, specs


def _collect(
    doc: Any,
    rel: str,
    root: Path,
    found: dict[str, list[tuple[Stage, YMap]]],
    errors: dict[str, list[str]],
) -> None:
    if not isinstance(doc, YMap) or doc.get("kind") != "Kustomization":
        return
    if not str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
        return
    meta = doc.get("metadata")
    labels = meta.get("labels") if isinstance(meta, YMap) else None
    if not isinstance(labels, YMap) or labels.get(NAME_LABEL) is None:
        return
    pipeline = str(labels[NAME_LABEL])
    line = labels.line_of(STAGE_LABEL) or labels.line_of(NAME_LABEL)
    raw_order = labels.raw(STAGE_LABEL)
    try:
        order = int(raw_order or "")
    except ValueError:
        what = "is missing" if raw_order is None else f"{raw_order!r} is not an integer"
        errors[pipeline].append(f"{rel}:{line}: label {STAGE_LABEL} {what}")
        return
    spec = doc.get("spec")
    spec = spec if isinstance(spec, YMap) else YMap()
    assert isinstance(meta, YMap)
    path_text = str(spec.get("path") or ".")
    flux = FluxRef(str(meta.get("name") or ""), str(meta.get("namespace") or "flux-system"), rel)
    path, error = _stage_path(root, path_text, rel, spec.line_of("path"))
    stage = Stage(pipeline, posixpath.basename(path) or path, order, path, rel, flux, error)
    found[pipeline].append((stage, spec))


def _stage_path(root: Path, text: str, rel: str, line: int | None) -> tuple[str, str | None]:
    where = f"{rel}:{line}" if line else rel
    path = posixpath.normpath(text.lstrip("/")) if text.strip() else "."
    path = "" if path == "." else path
    if path == ".." or path.startswith("../"):
        return path, f"{where}: spec.path {text!r} leaves the repository"
    real = (root / path).resolve()
    if real != root.resolve() and root.resolve() not in real.parents:
        return path, f"{where}: spec.path {text!r} leaves the repository"
    if not real.is_dir():
        return path, (
            f"{where}: spec.path {text!r} does not exist in this repository; "
            f"if the stage lives elsewhere, declare it in {CONFIG_FILE}"
        )
    return path, None


def _name_stages(stages: list[tuple[Stage, YMap]]) -> list[tuple[Stage, YMap]]:
    """Stages are named after their directory, or their Flux object when that clashes."""
    counts: dict[str, int] = defaultdict(int)
    for stage, _ in stages:
        counts[stage.name] += 1
    named = []
    for stage, spec in stages:
        if counts[stage.name] > 1 and stage.flux is not None and stage.flux.name:
            stage = replace(stage, name=stage.flux.name)
        named.append((stage, spec))
    return sorted(named, key=lambda item: (item[0].order, item[0].name))


def _pipeline(name: str, stages: list[Stage], problems: list[str]) -> Pipeline:
    problems = list(problems)
    by_name: dict[str, list[Stage]] = defaultdict(list)
    for stage in stages:
        by_name[stage.name].append(stage)
    for stage_name, same in by_name.items():
        if len(same) > 1:
            files = ", ".join(s.declared_in for s in same)
            problems.append(f"pipeline {name!r} has two stages named {stage_name!r} ({files})")
    declared_in = stages[0].declared_in if stages else ""
    error = "; ".join(problems) or None
    return Pipeline(name, tuple(stages), declared_in, error)


# -- promoter.yaml -------------------------------------------------------------------------


def _from_config(root: Path) -> list[Pipeline]:
    path = root / CONFIG_FILE
    if not path.is_file():
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RepoError(f"{CONFIG_FILE}: cannot be read: {exc.strerror}") from None
    docs = parse_bytes(data, CONFIG_FILE, "config")
    if not docs:
        return []
    config = docs[0]
    if len(docs) > 1 or not isinstance(config, YMap):
        raise ManifestError(CONFIG_FILE, "must be a single YAML mapping")
    entries = config.get("pipelines") or []
    if not isinstance(entries, list):
        raise ManifestError(CONFIG_FILE, "'pipelines' must be a list", config.line_of("pipelines"))
    pipelines = []
    for index, entry in enumerate(entries):
        pipelines.append(_config_pipeline(root, entry, index))
    names = [p.name for p in pipelines]
    for name in names:
        if names.count(name) > 1:
            raise ManifestError(CONFIG_FILE, f"pipeline {name!r} is declared twice")
    return pipelines


def _config_pipeline(root: Path, entry: Any, index: int) -> Pipeline:
    line = entry.node.start_mark.line + 1 if isinstance(entry, YMap) and entry.node else None
    if not isinstance(entry, YMap) or not isinstance(entry.get("name"), str):
        raise ManifestError(CONFIG_FILE, f"pipelines[{index}] needs a name", line)
    stages_raw = entry.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ManifestError(CONFIG_FILE, f"pipeline {entry['name']!r} needs a list of stages", line)
    stages = []
    for position, raw in enumerate(stages_raw):
        stages.append(_config_stage(root, entry["name"], raw, position))
    stages.sort(key=lambda s: s.order)
    return _pipeline(entry["name"], stages, [])


def _config_stage(root: Path, pipeline: str, raw: Any, position: int) -> Stage:
    line = raw.node.start_mark.line + 1 if isinstance(raw, YMap) and raw.node else None
    if not isinstance(raw, YMap) or not raw.get("path"):
        raise ManifestError(
            CONFIG_FILE, f"stage {position} of pipeline {pipeline!r} needs a path", line
        )
    order_raw = raw.get("order", position)
    if isinstance(order_raw, bool) or not isinstance(order_raw, int):
        raise ManifestError(CONFIG_FILE, f"order {order_raw!r} is not an integer", line)
    path, error = _stage_path(root, str(raw["path"]), CONFIG_FILE, raw.line_of("path"))
    name = str(raw.get("name") or posixpath.basename(path) or path)
    return Stage(pipeline, name, order_raw, path, CONFIG_FILE, None, error)
