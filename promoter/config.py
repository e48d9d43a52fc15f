"""promoter.yaml, read once into typed records.

.. code-block:: yaml

    pipelines:                     # top level: one key per area
      - name: web                  # pipeline level
        soak: 24h                  #   gates area
        stages:
          - path: envs/prod        # stage level
            freeze: [...]          #   gates area

Every key belongs to an area.  ``_TOP_AREAS``, ``_PIPELINE_AREAS`` and ``_STAGE_AREAS``
list the keys of each level by area; a key no area knows is an error at its line.  The
``pipelines`` area declares pipelines and their stages (discovery reads it); every other
area reads its own settings record (``GateConfig`` for ``gates``), whose values it checks
itself when it uses them, so a mistake in a gate stops promotions, not ``status``.

A pipeline entry that names no stage path and sets only area keys adds settings to a
pipeline found by its labels (``PipelineConfig.declares`` is False).  Its unknown keys are
raised by ``check()`` when an area reads its settings, for the same reason.

A new area (cluster, registry, check, provider) adds its keys to the tables of the levels
it sets, a frozen settings record with a ``read`` classmethod (as ``GateConfig``), and a
field on the records of those levels (``Config`` for a top-level section) filled by that
``read``; no other area's code changes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promoter._yaml import YMap, parse_bytes
from promoter.errors import ManifestError
from promoter.names import control_problem
from promoter.problems import Problem
from promoter.tree import DiskSource, FileSource

CONFIG_FILE = "promoter.yaml"

# The keys of each level of promoter.yaml, by the area that reads them.
_GATE_KEYS = frozenset({"soak", "freeze", "healthy"})
_CLUSTER_KEYS = frozenset({"context", "flux"})
_TOP_AREAS: Mapping[str, frozenset[str]] = {
    "pipelines": frozenset({"pipelines"}),
    "registry": frozenset({"registry"}),
    "check": frozenset({"check"}),
}
_PIPELINE_AREAS: Mapping[str, frozenset[str]] = {
    "pipelines": frozenset({"name", "stages"}),
    "gates": _GATE_KEYS,
    "cluster": _CLUSTER_KEYS,
    "registry": frozenset({"pin", "tags", "apps"}),
}
_STAGE_AREAS: Mapping[str, frozenset[str]] = {
    "pipelines": frozenset({"name", "path", "order"}),
    "gates": _GATE_KEYS,
    "cluster": _CLUSTER_KEYS,
    "registry": frozenset({"pin"}),
}


def _keys(*levels: Mapping[str, frozenset[str]], but: str = "") -> frozenset[str]:
    return frozenset().union(*(k for level in levels for a, k in level.items() if a != but))


_TOP_KEYS = _keys(_TOP_AREAS)
_PIPELINE_KEYS = _keys(_PIPELINE_AREAS)
_STAGE_KEYS = _keys(_STAGE_AREAS)
_SETTING_KEYS = _keys(_PIPELINE_AREAS, _STAGE_AREAS, but="pipelines")


@dataclass(frozen=True)
class Setting:
    """One value of promoter.yaml: as parsed (located ``YMap``/``YSeq`` for structures),
    the scalar exactly as written (``1.10`` stays ``"1.10"``), and its 1-based line."""

    value: object
    text: str | None
    line: int | None


@dataclass(frozen=True)
class GateConfig:
    """The gate keys of a pipeline or a stage, as written (``promoter.gates`` reads them)."""

    soak: Setting | None = None
    freeze: Setting | None = None
    healthy: Setting | None = None

    @classmethod
    def read(cls, owner: YMap) -> GateConfig:
        """The gate settings of one pipeline or stage entry."""
        return cls(setting(owner, "soak"), setting(owner, "freeze"), setting(owner, "healthy"))


@dataclass(frozen=True)
class ClusterConfig:
    """The cluster keys of a pipeline or a stage, as written (``promoter.clusterstatus``
    reads them): ``context`` (a kubeconfig context) and ``flux`` (``{name, namespace}`` of
    the stage's Flux Kustomization)."""

    context: Setting | None = None
    flux: Setting | None = None

    @classmethod
    def read(cls, owner: YMap) -> ClusterConfig:
        """The cluster settings of one pipeline or stage entry."""
        return cls(setting(owner, "context"), setting(owner, "flux"))


@dataclass(frozen=True)
class RegistryConfig:
    """The registry keys of one level, as written (``promoter.registry_settings`` reads
    them): top-level ``registry`` (``{insecure: [...]}``), ``pin`` of a pipeline or stage,
    and a pipeline's ``tags`` policy and per-app ``apps: {NAME: {tags: ...}}``."""

    registry: Setting | None = None
    pin: Setting | None = None
    tags: Setting | None = None
    apps: Setting | None = None

    @classmethod
    def read(cls, owner: YMap) -> RegistryConfig:
        """The registry settings of the top level, one pipeline or one stage entry."""
        return cls(*(setting(owner, key) for key in ("registry", "pin", "tags", "apps")))


@dataclass(frozen=True)
class CheckConfig:
    """The top-level ``check`` section, as written (``promoter.checkrules`` reads it):
    ``check: {rules: {RULE: off|notice|warning|error}}``."""

    section: Setting | None = None

    @classmethod
    def read(cls, owner: YMap) -> CheckConfig:
        """The check settings of the top level."""
        return cls(setting(owner, "check"))


class _Entry:
    """What pipeline and stage entries share: a deferred unknown key."""

    unknown: Problem | None
    """A key of a settings-only entry that no area knows (raised when settings are read)."""

    def check(self) -> None:
        """Raise the unknown key of a settings-only entry (declared ones are checked when
        read)."""
        if self.unknown is not None:
            raise ManifestError(CONFIG_FILE, self.unknown.message, self.unknown.line)


@dataclass(frozen=True)
class StageConfig(_Entry):
    """One entry of a pipeline's ``stages``; list order is promotion order.

    ``path`` is the path as written and ``order`` the promotion order (the stage before's
    plus one unless given); both are None in an entry that only adds settings, whose
    ``name`` is None when it has none (such an entry is ignored).
    """

    name: str | None
    position: int
    line: int | None
    path: Setting | None = None
    order: int | None = None
    gates: GateConfig = GateConfig()
    unknown: Problem | None = None
    registry: RegistryConfig = RegistryConfig()
    cluster: ClusterConfig = ClusterConfig()


@dataclass(frozen=True)
class PipelineConfig(_Entry):
    """One entry of ``pipelines``: a declared pipeline, or (``declares`` False) settings for
    a pipeline found by its labels."""

    name: str
    line: int | None
    stages: tuple[StageConfig, ...]
    declares: bool = True
    gates: GateConfig = GateConfig()
    unknown: Problem | None = None
    registry: RegistryConfig = RegistryConfig()
    cluster: ClusterConfig = ClusterConfig()


@dataclass(frozen=True)
class Config:
    """The whole promoter.yaml (empty when there is none)."""

    pipelines: tuple[PipelineConfig, ...] = ()
    registry: RegistryConfig = RegistryConfig()
    check: CheckConfig = CheckConfig()

    @property
    def declared(self) -> tuple[PipelineConfig, ...]:
        """The pipelines promoter.yaml declares (with their stages' paths)."""
        return tuple(p for p in self.pipelines if p.declares)


def read_config(source: FileSource) -> Config:
    """Read and check the structure of ``promoter.yaml`` in ``source`` (empty without one)."""
    dangling = isinstance(source, DiskSource) and (source.root / CONFIG_FILE).is_symlink()
    if not source.is_file(CONFIG_FILE) and not source.is_dir(CONFIG_FILE) and not dangling:
        return Config()
    try:
        data = source.read_bytes(CONFIG_FILE)
    except IsADirectoryError as exc:
        raise ManifestError(CONFIG_FILE, "is a directory, expected a file") from exc
    except OSError as exc:
        raise ManifestError(CONFIG_FILE, f"cannot be read: {exc.strerror}") from exc
    docs = parse_bytes(data, CONFIG_FILE, "config")
    if not docs:
        return Config()
    top = docs[0]
    if len(docs) > 1 or not isinstance(top, YMap):
        raise ManifestError(CONFIG_FILE, "must be a single YAML mapping")
    check_keys(top, _TOP_KEYS)
    return Config(_pipelines(top), RegistryConfig.read(top), CheckConfig.read(top))


def check_keys(mapping: YMap, allowed: frozenset[str], where: str = "") -> None:
    """A key promoter.yaml does not know is a typo that would silently change the order or
    drop a gate: an error at its line.  ``where`` names the entry (``pipeline 'web'``)."""
    prefix = f"{where}: " if where else ""
    for key in mapping:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ManifestError(
                CONFIG_FILE, f"{prefix}unknown key {key!r} (known: {known})", mapping.line_of(key)
            )


def setting(owner: YMap, key: str) -> Setting | None:
    """The value under ``key`` with its text and line, None when unset (or null)."""
    if owner.get(key) is None:
        return None
    return Setting(owner[key], owner.raw(key), owner.line_of(key))


def item_line(seq: Any, index: int) -> int | None:
    """1-based line of item ``index`` of a parsed sequence (scalars carry no node)."""
    node = getattr(seq, "node", None)
    if node is None or index >= len(node.value):
        return None
    return int(node.value[index].start_mark.line) + 1


def stage_directory(text: str) -> str:
    """The repo-relative POSIX directory a stage path names (``""`` for the root)."""
    path = posixpath.normpath(text.lstrip("/")) if text.strip() else "."
    return "" if path == "." else path


# -- the pipelines area -------------------------------------------------------------------


def _pipelines(top: YMap) -> tuple[PipelineConfig, ...]:
    entries = top.get("pipelines")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ManifestError(CONFIG_FILE, "'pipelines' must be a list", top.line_of("pipelines"))
    pipelines: list[PipelineConfig] = []
    for index, entry in enumerate(entries):
        line = item_line(entries, index)
        if _settings_only(entry):
            pipelines.append(_settings_pipeline(entry, line))
            continue
        pipeline = _pipeline(entry, index, line)
        if any(p.declares and p.name == pipeline.name for p in pipelines):
            raise ManifestError(CONFIG_FILE, f"pipeline {pipeline.name!r} is declared twice", line)
        pipelines.append(pipeline)
    return tuple(pipelines)


# -- settings-only entries -----------------------------------------------------------------


def _settings_only(entry: Any) -> bool:
    """An entry that only adds settings to a labelled pipeline: no stage has a path or an
    order, and every stage entry sets a setting."""
    if not isinstance(entry, YMap) or not isinstance(entry.get("name"), str):
        return False
    stages = entry.get("stages")
    if stages is None:
        return bool(entry.keys() & _SETTING_KEYS)
    return (
        isinstance(stages, list)
        and bool(stages)
        and all(
            isinstance(stage, YMap)
            and not stage.keys() & {"path", "order"}
            and bool(stage.keys() & _SETTING_KEYS)
            for stage in stages
        )
    )


def _settings_pipeline(entry: YMap, line: int | None) -> PipelineConfig:
    name: str = entry["name"]
    check_name(name, entry.line_of("name") or line)
    listed = entry.get("stages")
    stages: list[StageConfig] = []
    for position, raw in enumerate(listed if isinstance(listed, list) else []):
        stage_name = str(raw["name"]) if raw.get("name") is not None else None
        if stage_name is not None:
            check_name(stage_name, raw.line_of("name"))
        where = f"stage {stage_name!r} of pipeline {name!r}"
        unknown = _unknown(raw, _STAGE_KEYS, where) if stage_name is not None else None
        stage_line = item_line(listed, position)
        stages.append(
            StageConfig(
                stage_name,
                position,
                stage_line,
                gates=GateConfig.read(raw),
                unknown=unknown,
                registry=RegistryConfig.read(raw),
                cluster=ClusterConfig.read(raw),
            )
        )
    unknown = _unknown(entry, _PIPELINE_KEYS, f"pipeline {name!r}")
    return PipelineConfig(
        name,
        line,
        tuple(stages),
        False,
        GateConfig.read(entry),
        unknown,
        registry=RegistryConfig.read(entry),
        cluster=ClusterConfig.read(entry),
    )


def _unknown(mapping: YMap, allowed: frozenset[str], where: str) -> Problem | None:
    try:
        check_keys(mapping, allowed, where)
    except ManifestError as exc:
        return exc.problem
    return None


# -- declared pipelines --------------------------------------------------------------------


def _pipeline(entry: Any, index: int, line: int | None) -> PipelineConfig:
    if not isinstance(entry, YMap):
        raise ManifestError(CONFIG_FILE, f"pipelines[{index}] must be a mapping", line)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ManifestError(CONFIG_FILE, f"pipelines[{index}] needs a name", line)
    check_name(name, entry.line_of("name") or line)
    check_keys(entry, _PIPELINE_KEYS, f"pipeline {name!r}")
    listed = entry.get("stages")
    if not isinstance(listed, list) or not listed:
        raise ManifestError(CONFIG_FILE, f"pipeline {name!r} needs a list of stages", line)
    stages: list[StageConfig] = []
    for position, raw in enumerate(listed):
        previous = stages[-1].order if stages else None
        stage = _stage(name, raw, position, previous, item_line(listed, position))
        if any(s.name == stage.name for s in stages):
            raise ManifestError(
                CONFIG_FILE, f"pipeline {name!r} has two stages named {stage.name!r}", stage.line
            )
        stages.append(stage)
    return PipelineConfig(
        name,
        line,
        tuple(stages),
        True,
        GateConfig.read(entry),
        registry=RegistryConfig.read(entry),
        cluster=ClusterConfig.read(entry),
    )


def _stage(
    pipeline: str, raw: Any, position: int, previous: int | None, line: int | None
) -> StageConfig:
    """Stage ``position`` of a declared pipeline.

    Without ``order:`` a stage comes right after the one before it; stages giving the same
    ``order`` form a wave.  An ``order`` lower than the stage before contradicts the list.
    """
    where = f"stage {position} of pipeline {pipeline!r}"
    if not isinstance(raw, YMap):
        raise ManifestError(CONFIG_FILE, f"{where} must be a mapping", line)
    check_keys(raw, _STAGE_KEYS, where)
    path = raw.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ManifestError(CONFIG_FILE, f"{where} needs a path", line)
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ManifestError(
            CONFIG_FILE, f"{where}: name must be a non-empty string", raw.line_of("name")
        )
    order = raw.get("order")
    if order is None:
        order = 0 if previous is None else previous + 1
    elif isinstance(order, bool) or not isinstance(order, int):
        raise ManifestError(
            CONFIG_FILE, f"{where}: order {order!r} is not an integer", raw.line_of("order")
        )
    if previous is not None and order < previous:
        raise ManifestError(
            CONFIG_FILE,
            f"{where}: order {order} is lower than the order of the stage before it "
            f"({previous}); list stages in promotion order",
            raw.line_of("order") or line,
        )
    name = name or posixpath.basename(stage_directory(path)) or "."
    check_name(name, raw.line_of("name") or raw.line_of("path") or line)
    return StageConfig(
        name,
        position,
        line,
        setting(raw, "path"),
        order,
        GateConfig.read(raw),
        registry=RegistryConfig.read(raw),
        cluster=ClusterConfig.read(raw),
    )


def check_name(name: str, line: int | None) -> None:
    """Refuse a pipeline or stage name with control characters (they would reach commit
    messages, branch names and pull requests)."""
    problem = control_problem(name)
    if problem is not None:
        raise ManifestError(CONFIG_FILE, problem, line)
