"""Find pipelines: Flux Kustomizations labelled ``pipelines.weave.works/*`` and promoter.yaml.

A Flux ``Kustomization`` (``kustomize.toolkit.fluxcd.io/*``) anywhere in the repository that
carries ``pipelines.weave.works/name`` is a stage of that pipeline; its ``spec.path`` is the
stage directory and the integer label ``pipelines.weave.works/stage`` its order.  An optional
``promoter.yaml`` at the root declares pipelines explicitly and wins for the names it lists.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from promoter._yaml import YMap, parse_bytes
from promoter.errors import ManifestError
from promoter.model import FluxRef, Pipeline, Stage
from promoter.tree import DiskSource, FileSource

NAME_LABEL = "pipelines.weave.works/name"
STAGE_LABEL = "pipelines.weave.works/stage"
CONFIG_FILE = "promoter.yaml"
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})
_INTEGER = re.compile(r"-?[0-9]+")
_CONFIG_KEYS = frozenset({"pipelines"})
_PIPELINE_KEYS = frozenset({"name", "stages", "soak", "freeze"})
_STAGE_KEYS = frozenset({"name", "path", "order", "soak", "freeze"})


@dataclass(frozen=True)
class Discovery:
    """The pipelines of a repository and the Flux spec of each labelled stage."""

    pipelines: tuple[Pipeline, ...]
    flux_specs: dict[tuple[str, str], YMap]


def yaml_files(root: Path | FileSource) -> list[str]:
    """Every ``.yaml``/``.yml`` file of the repository, hidden and vendored dirs skipped."""
    source = DiskSource(root) if isinstance(root, Path) else root
    return [path for path in source.files() if path.endswith((".yaml", ".yml"))]


def discover(root: Path | FileSource) -> Discovery:
    """Read the pipelines of the repository at ``root`` (a directory or a snapshot)."""
    source = DiskSource(root) if isinstance(root, Path) else root
    labelled, flux_specs = _from_labels(source)
    declared = _from_config(source)
    merged = {p.name: p for p in labelled}
    merged.update({p.name: p for p in declared})
    pipelines = tuple(merged[name] for name in sorted(merged))
    # promoter.yaml wins for the pipelines it names: their labelled Flux specs do not apply.
    overridden = {p.name for p in declared}
    flux_specs = {key: spec for key, spec in flux_specs.items() if key[0] not in overridden}
    return Discovery(pipelines, flux_specs)


# -- labels --------------------------------------------------------------------------------


def _from_labels(source: FileSource) -> tuple[list[Pipeline], dict[tuple[str, str], YMap]]:
    found: dict[str, list[tuple[Stage, YMap]]] = defaultdict(list)
    errors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rel in yaml_files(source):
        if rel == CONFIG_FILE:
            continue
        try:
            data = source.read_bytes(rel)
        except OSError as exc:
            raise ManifestError(rel, f"cannot be read: {exc.strerror}") from None
        if NAME_LABEL.encode() not in data:
            continue
        for doc in parse_bytes(data, rel, "flux"):
            _collect(doc, rel, source, found, errors)
    pipelines: list[Pipeline] = []
    specs: dict[tuple[str, str], YMap] = {}
    for name in sorted(set(found) | set(errors)):
        stages = _name_stages(found.get(name, []))
        problems = errors.get(name, [])
        pipeline = _pipeline(
            name,
            [s for s, _ in stages],
            [message for _, message in problems],
            problems[0][0] if problems else "",
        )
        pipelines.append(pipeline)
        for stage, spec in stages:
            specs[(name, stage.name)] = spec
    return pipelines, specs


def _collect(
    doc: Any,
    rel: str,
    source: FileSource,
    found: dict[str, list[tuple[Stage, YMap]]],
    errors: dict[str, list[tuple[str, str]]],
) -> None:
    if not isinstance(doc, YMap) or doc.get("kind") != "Kustomization":
        return
    if not str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
        return
    meta = doc.get("metadata")
    labels = meta.get("labels") if isinstance(meta, YMap) else None
    if not isinstance(meta, YMap) or not isinstance(labels, YMap):
        return
    if labels.get(NAME_LABEL) is None:
        return
    # As written: `name: true` is the pipeline "true", `stage: 1_0` is not the integer 10.
    pipeline = labels.raw(NAME_LABEL) or ""
    line = labels.line_of(STAGE_LABEL) or labels.line_of(NAME_LABEL)
    if not pipeline.strip():
        errors[pipeline].append((rel, f"{rel}:{line}: label {NAME_LABEL} is empty"))
        return
    raw_order = labels.raw(STAGE_LABEL)
    if raw_order is None or not _INTEGER.fullmatch(raw_order.strip()):
        what = "is missing" if raw_order is None else f"{raw_order!r} is not an integer"
        errors[pipeline].append((rel, f"{rel}:{line}: label {STAGE_LABEL} {what}"))
        return
    order = int(raw_order.strip())
    spec = doc.get("spec")
    spec = spec if isinstance(spec, YMap) else YMap()
    path_text = str(spec.get("path") or ".")
    flux = FluxRef(str(meta.get("name") or ""), str(meta.get("namespace") or "flux-system"), rel)
    path, error = _stage_path(source, path_text, rel, spec.line_of("path"))
    name = posixpath.basename(path) or flux.name or "."
    stage = Stage(pipeline, name, order, path, rel, flux, error)
    found[pipeline].append((stage, spec))


def _stage_path(
    source: FileSource, text: str, rel: str, line: int | None
) -> tuple[str, str | None]:
    """The repo-relative POSIX stage directory for ``text``, and why it is unusable if it is.

    ``rel`` is the declaring file: a Flux Kustomization (its ``spec.path``) or promoter.yaml.
    """
    where = f"{rel}:{line}" if line else rel
    key = "path" if rel == CONFIG_FILE else "spec.path"
    path = posixpath.normpath(text.lstrip("/")) if text.strip() else "."
    path = "" if path == "." else path
    if path == ".." or path.startswith("../"):
        return path, f"{where}: {key} {text!r} leaves the repository"
    if not source.inside(path):
        return path, f"{where}: {key} {text!r} leaves the repository"
    if not source.is_dir(path):
        problem = (
            "is not a directory" if source.is_file(path) else "does not exist in this repository"
        )
        hint = f"; if the stage lives elsewhere, declare it in {CONFIG_FILE}"
        hint = "" if rel == CONFIG_FILE else hint
        return path, f"{where}: {key} {text!r} {problem}{hint}"
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


def _pipeline(
    name: str, stages: list[Stage], problems: list[str], fallback_file: str = ""
) -> Pipeline:
    problems = list(problems)
    by_name: dict[str, list[Stage]] = defaultdict(list)
    for stage in stages:
        by_name[stage.name].append(stage)
    for stage_name, same in by_name.items():
        if len(same) > 1:
            files = ", ".join(s.declared_in for s in same)
            problems.append(f"pipeline {name!r} has two stages named {stage_name!r} ({files})")
    declared_in = stages[0].declared_in if stages else fallback_file
    error = "; ".join(problems) or None
    return Pipeline(name, tuple(stages), declared_in, error)


# -- promoter.yaml -------------------------------------------------------------------------


def _from_config(source: FileSource) -> list[Pipeline]:
    dangling = isinstance(source, DiskSource) and (source.root / CONFIG_FILE).is_symlink()
    if not source.is_file(CONFIG_FILE) and not source.is_dir(CONFIG_FILE) and not dangling:
        return []
    try:
        data = source.read_bytes(CONFIG_FILE)
    except IsADirectoryError:
        raise ManifestError(CONFIG_FILE, "is a directory, expected a file") from None
    except OSError as exc:
        raise ManifestError(CONFIG_FILE, f"cannot be read: {exc.strerror}") from None
    docs = parse_bytes(data, CONFIG_FILE, "config")
    if not docs:
        return []
    config = docs[0]
    if len(docs) > 1 or not isinstance(config, YMap):
        raise ManifestError(CONFIG_FILE, "must be a single YAML mapping")
    _check_keys(config, _CONFIG_KEYS, "")
    entries = config.get("pipelines")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ManifestError(CONFIG_FILE, "'pipelines' must be a list", config.line_of("pipelines"))
    pipelines: list[Pipeline] = []
    for index, entry in enumerate(entries):
        if _gates_only(entry):
            continue
        pipeline = _config_pipeline(source, entry, index, _item_line(entries, index))
        if any(p.name == pipeline.name for p in pipelines):
            raise ManifestError(
                CONFIG_FILE,
                f"pipeline {pipeline.name!r} is declared twice",
                _item_line(entries, index),
            )
        pipelines.append(pipeline)
    return pipelines


def _gates_only(entry: Any) -> bool:
    """An entry that only adds gates to a labelled pipeline: no stage has a path, and
    every stage entry sets a gate."""
    if not isinstance(entry, YMap) or not isinstance(entry.get("name"), str):
        return False
    stages = entry.get("stages")
    if stages is None:
        return bool(entry.keys() & {"soak", "freeze"})
    return (
        isinstance(stages, list)
        and bool(stages)
        and all(
            isinstance(stage, YMap)
            and not stage.keys() & {"path", "order"}
            and bool(stage.keys() & {"soak", "freeze"})
            for stage in stages
        )
    )


def _config_pipeline(source: FileSource, entry: Any, index: int, line: int | None) -> Pipeline:
    if not isinstance(entry, YMap):
        raise ManifestError(CONFIG_FILE, f"pipelines[{index}] must be a mapping", line)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ManifestError(CONFIG_FILE, f"pipelines[{index}] needs a name", line)
    _check_keys(entry, _PIPELINE_KEYS, f"pipeline {name!r}: ")
    stages_raw = entry.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ManifestError(CONFIG_FILE, f"pipeline {name!r} needs a list of stages", line)
    stages: list[Stage] = []
    for position, raw in enumerate(stages_raw):
        previous = stages[-1].order if stages else None
        line = _item_line(stages_raw, position)
        stage = _config_stage(source, name, raw, position, previous, line)
        if any(s.name == stage.name for s in stages):
            raise ManifestError(
                CONFIG_FILE, f"pipeline {name!r} has two stages named {stage.name!r}", line
            )
        stages.append(stage)
    return _pipeline(name, stages, [])


def _config_stage(
    source: FileSource,
    pipeline: str,
    raw: Any,
    position: int,
    previous: int | None,
    line: int | None,
) -> Stage:
    """Stage ``position`` of a declared pipeline; list order is promotion order.

    Without ``order:`` a stage comes right after the one before it; stages giving the same
    ``order`` form a wave.  An ``order`` lower than the stage before contradicts the list.
    """
    where = f"stage {position} of pipeline {pipeline!r}"
    if not isinstance(raw, YMap):
        raise ManifestError(CONFIG_FILE, f"{where} must be a mapping", line)
    _check_keys(raw, _STAGE_KEYS, f"{where}: ")
    path_text = raw.get("path")
    if not isinstance(path_text, str) or not path_text.strip():
        raise ManifestError(CONFIG_FILE, f"{where} needs a path", line)
    name_raw = raw.get("name")
    if name_raw is not None and (not isinstance(name_raw, str) or not name_raw.strip()):
        raise ManifestError(
            CONFIG_FILE, f"{where}: name must be a non-empty string", raw.line_of("name")
        )
    order_raw = raw.get("order")
    if order_raw is None:
        order = 0 if previous is None else previous + 1
    elif isinstance(order_raw, bool) or not isinstance(order_raw, int):
        raise ManifestError(
            CONFIG_FILE, f"{where}: order {order_raw!r} is not an integer", raw.line_of("order")
        )
    else:
        order = order_raw
    if previous is not None and order < previous:
        raise ManifestError(
            CONFIG_FILE,
            f"{where}: order {order} is lower than the order of the stage before it "
            f"({previous}); list stages in promotion order",
            raw.line_of("order") or line,
        )
    path, error = _stage_path(source, path_text, CONFIG_FILE, raw.line_of("path"))
    name = name_raw or posixpath.basename(path) or "."
    return Stage(pipeline, name, order, path, CONFIG_FILE, None, error)


def _check_keys(mapping: YMap, allowed: frozenset[str], where: str) -> None:
    """A key promoter.yaml does not know is a typo that would silently change the order."""
    for key in mapping:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ManifestError(
                CONFIG_FILE, f"{where}unknown key {key!r} (known: {known})", mapping.line_of(key)
            )


def _item_line(seq: Any, index: int) -> int | None:
    """1-based line of item ``index`` of a parsed sequence (scalars carry no node)."""
    node = getattr(seq, "node", None)
    if node is None or index >= len(node.value):
        return None
    return int(node.value[index].start_mark.line) + 1
