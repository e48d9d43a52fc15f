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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter._yaml import YMap, parse_bytes
from promoter.config import CONFIG_FILE, Config, read_config, stage_directory
from promoter.errors import ManifestError
from promoter.model import FluxRef, Pipeline, Stage
from promoter.names import NAME_INVALID, control_problem, escaped
from promoter.problems import DUPLICATE_STAGE, Problem
from promoter.tree import DiskSource, FileSource, yaml_files

if TYPE_CHECKING:
    from promoter.forked import Pair

NAME_LABEL = "pipelines.weave.works/name"
STAGE_LABEL = "pipelines.weave.works/stage"
_INTEGER = re.compile(r"-?[0-9]+")
_NAME_LABEL_BYTES = NAME_LABEL.encode()


@dataclass(frozen=True)
class Discovery:
    """The pipelines of a repository and the Flux spec of each labelled stage."""

    pipelines: tuple[Pipeline, ...]
    flux_specs: dict[tuple[str, str], YMap]
    config: Config = field(default_factory=Config)


def discover(root: Path | FileSource, *, pair: Pair | None = None) -> Discovery:
    """Read the pipelines of the repository at ``root`` (a directory or a snapshot).
    ``pair``: in a large repository a forked child takes turns with this process reading
    the YAML files (``promoter.forked.Pair.share_all``) and both go on with the same
    discovery."""
    source = DiskSource(root) if isinstance(root, Path) else root
    labelled, flux_specs = _from_labels(source, _labelled(source, pair))
    config = read_config(source)
    declared = _from_config(source, config)
    merged = {p.name: p for p in labelled}
    merged.update({p.name: p for p in declared})
    _add_name_problems(config, merged)
    # Declaration order: the order promoter.yaml names pipelines in (declared or given
    # settings), then the order their labels are found in.
    named = [p.name for p in config.pipelines if p.name in merged]
    order = dict.fromkeys([*named, *(p.name for p in labelled)])
    pipelines = tuple(merged[name] for name in order)
    # promoter.yaml wins for the pipelines it names: their labelled Flux specs do not apply.
    overridden = {p.name for p in declared}
    flux_specs = {key: spec for key, spec in flux_specs.items() if key[0] not in overridden}
    return Discovery(pipelines, flux_specs, config)


# -- labels --------------------------------------------------------------------------------


_SPLIT_MIN = 2000
"""From this many YAML files on, discovery reads them with a forked child (``pair``)."""
_CHUNK = 64
"""YAML files read in one turn when a child shares the reading."""


def _labelled(source: FileSource, pair: Pair | None) -> list[tuple[str, bytes]]:
    """Every YAML file (promoter.yaml aside) that names the pipeline label, and its bytes,
    in walk order."""
    files = [rel for rel in yaml_files(source) if rel != CONFIG_FILE]
    if pair is None or len(files) < _SPLIT_MIN:
        return _scan(source, files)
    # The child takes turns from the back: the stages it reads later are mostly there.
    chunks = [files[at : at + _CHUNK] for at in range(0, len(files), _CHUNK)]
    return [
        found
        for part in pair.share_all(len(chunks), lambda i: _scan(source, chunks[i]))
        for found in part
    ]


def _scan(source: FileSource, files: list[str]) -> list[tuple[str, bytes]]:
    found = []
    for rel in files:
        try:
            data = source.read_bytes(rel)
        except OSError as exc:
            raise ManifestError(rel, f"cannot be read: {exc.strerror}") from exc
        if _NAME_LABEL_BYTES in data:
            found.append((rel, data))
    return found


def _from_labels(
    source: FileSource, labelled: list[tuple[str, bytes]]
) -> tuple[list[Pipeline], dict[tuple[str, str], YMap]]:
    found: dict[str, list[tuple[Stage, YMap]]] = defaultdict(list)
    errors: dict[str, list[Problem]] = defaultdict(list)
    appeared: dict[str, None] = {}
    for rel, data in labelled:
        for doc in parse_bytes(data, rel, "flux"):
            _collect(doc, rel, source, found, errors)
            appeared.update(dict.fromkeys([*found, *errors]))
    pipelines: list[Pipeline] = []
    specs: dict[tuple[str, str], YMap] = {}
    for name in appeared:  # the order the walk (sorted paths) first meets each pipeline in
        stages = _name_stages(found.get(name, []))
        problems = errors.get(name, [])
        pipeline = _pipeline(
            name, [s for s, _ in stages], problems, (problems[0].file or "") if problems else ""
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
    errors: dict[str, list[Problem]],
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
        errors[pipeline].append(Problem(f"label {NAME_LABEL} is empty", rel, line, code="label"))
        return
    bad_name = control_problem(pipeline)
    if bad_name is not None:
        where = labels.line_of(NAME_LABEL)
        errors[escaped(pipeline)].append(
            Problem(f"label {NAME_LABEL}: pipeline {bad_name}", rel, where, code=NAME_INVALID)
        )
        return
    raw_order = labels.raw(STAGE_LABEL)
    if raw_order is None or not _INTEGER.fullmatch(raw_order.strip()):
        what = "is missing" if raw_order is None else f"{raw_order!r} is not an integer"
        errors[pipeline].append(Problem(f"label {STAGE_LABEL} {what}", rel, line, code="label"))
        return
    order = int(raw_order.strip())
    spec = doc.get("spec")
    spec = spec if isinstance(spec, YMap) else YMap()
    path_text = str(spec.get("path") or ".")
    flux = FluxRef(str(meta.get("name") or ""), str(meta.get("namespace") or "flux-system"), rel)
    path, problem = _stage_path(source, path_text, rel, spec.line_of("path"))
    name = posixpath.basename(path) or flux.name or "."
    bad_name = control_problem(name)
    if bad_name is not None:
        name = escaped(name)
        problem = Problem(f"stage {bad_name}", rel, spec.line_of("path"), code=NAME_INVALID)
    stage = Stage(pipeline, name, order, path, rel, flux, problem)
    found[pipeline].append((stage, spec))


def _stage_path(
    source: FileSource, text: str, rel: str, line: int | None
) -> tuple[str, Problem | None]:
    """The repo-relative POSIX stage directory for ``text``, and why it is unusable if it is.

    ``rel`` is the declaring file: a Flux Kustomization (its ``spec.path``) or promoter.yaml.
    """
    key = "path" if rel == CONFIG_FILE else "spec.path"
    path = stage_directory(text)
    why = None
    if path == ".." or path.startswith("../") or not source.inside(path):
        why = "leaves the repository"
    elif not source.is_dir(path):
        why = "is not a directory" if source.is_file(path) else "does not exist in this repository"
        if rel != CONFIG_FILE:
            why += f"; if the stage lives elsewhere, declare it in {CONFIG_FILE}"
    if why is None:
        return path, None
    return path, Problem(f"{key} {text!r} {why}", rel, line or None, code="stage-path")


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
    name: str, stages: list[Stage], problems: list[Problem], fallback_file: str = ""
) -> Pipeline:
    problems = list(problems)
    by_name: dict[str, list[Stage]] = defaultdict(list)
    for stage in stages:
        by_name[stage.name].append(stage)
    for stage_name, same in by_name.items():
        if len(same) > 1:
            files = ", ".join(s.declared_in for s in same)
            message = f"pipeline {name!r} has two stages named {stage_name!r} ({files})"
            problems.append(Problem(message, same[-1].declared_in, code=DUPLICATE_STAGE))
    declared_in = stages[0].declared_in if stages else fallback_file
    return Pipeline(name, tuple(stages), declared_in, tuple(problems))


# -- promoter.yaml -------------------------------------------------------------------------


def _from_config(source: FileSource, config: Config) -> list[Pipeline]:
    pipelines: list[Pipeline] = []
    for declared in config.declared:
        stages = []
        for entry in declared.stages:
            assert entry.path is not None and entry.order is not None and entry.name is not None
            text = str(entry.path.value)
            path, problem = _stage_path(source, text, CONFIG_FILE, entry.path.line)
            problem = entry.problem or problem
            stages.append(
                Stage(declared.name, entry.name, entry.order, path, CONFIG_FILE, None, problem)
            )
        problems = [declared.problem] if declared.problem is not None else []
        pipelines.append(_pipeline(declared.name, stages, problems, CONFIG_FILE))
    return pipelines


def _add_name_problems(config: Config, pipelines: dict[str, Pipeline]) -> None:
    """The invalid names of promoter.yaml entries that only add settings: problems of the
    pipeline they name (one of its own when no labelled pipeline has that name)."""
    for entry in config.pipelines:
        if entry.declares:
            continue
        found = [entry.problem, *(stage.problem for stage in entry.stages)]
        problems = tuple(p for p in found if p is not None)
        if not problems:
            continue
        known = pipelines.get(entry.name)
        if known is None:
            pipelines[entry.name] = Pipeline(entry.name, (), CONFIG_FILE, problems)
        else:
            pipelines[entry.name] = replace(known, problems=known.problems + problems)
