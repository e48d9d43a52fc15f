"""``pipelines check``: validate a whole GitOps repository for CI.

Every problem is a ``Finding`` with a stable ``rule`` id and a ``severity``; the rules, their
default severities and the ``check: {rules: ...}`` settings of promoter.yaml are in
``promoter.checkrules``.  The checks, by the families of rules they report:

``no-pipelines``, ``config-invalid``, ``manifest-invalid``, ``label-invalid``,
``label-without-pipeline``, ``label-ignored``, ``label-order-conflict``,
``stage-path-invalid``, ``duplicate-stage``, ``name-invalid``
    discovery problems: a bad ``pipelines.weave.works/*`` label, two stages with one name,
    a stage path that does not exist, a broken promoter.yaml, labels that promoter.yaml
    contradicts, no pipelines at all.
``stage-unbuildable``
    a stage the native reader cannot build (missing file, a patch that matches nothing, ...).
``patch-targets-nothing``
    a patch with a ``target`` that selects no object: kustomize silently applies nothing.
``unsupported``
    a stage uses what the native reader cannot follow (status and promote render it instead).
``render-failed``, ``render-mismatch``, ``render-unavailable``
    with ``render=True``: kustomize cannot render a stage, or renders other versions than
    the native reader reads.
``shared-override``
    a version override (a patch, a JSON6902 op, an ``images:`` entry, an inline patch) in a
    file that several stages read: promoting one stage would move the others.  Versions
    inherited unchanged from a base (``resource``) are fine.
``marker-malformed``, ``marker-suffix-mismatch``, ``marker-in-later-stage``
    a malformed Flux ``$imagepolicy`` setter marker, one whose suffix does not fit its field,
    or a marker that sets a version of a stage after the first of its pipeline.
``version-floating``, ``version-unordered``
    no version pinned (no tag, ``latest``, a chart without a version), or a version without
    an order (a commit SHA, a branch name), and no digest.
``gate-invalid``, ``gate-unknown-target``
    ``promoter.gates`` (when installed) cannot load the repository's gates, or they name a
    pipeline or stage that does not exist.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from promoter._yaml import YMap, parse_bytes
from promoter.apps import SETTER, apps_of, invalid_name
from promoter.checkrules import RULES as _RULE_TABLE
from promoter.checkrules import RuleSettings, Severity, rule_for, rule_settings
from promoter.config import CONFIG_FILE, read_config, stage_directory
from promoter.discovery import NAME_LABEL, STAGE_LABEL
from promoter.errors import ManifestError, PromoterError, RenderError
from promoter.kustomize import (
    KUSTOMIZATION_FILES,
    Build,
    Resource,
    find_kustomization,
    matches_selector,
)
from promoter.kustomize import render as _render
from promoter.model import App, Pipeline, Stage, VersionSource
from promoter.problems import Problem
from promoter.repo import GitOpsRepo
from promoter.tree import DiskSource, FileSource, yaml_files
from promoter.versions import compare_versions

RULES = tuple(rule.id for rule in _RULE_TABLE)
"""Every rule id, in the order the checks run (``promoter.checkrules.RULES``)."""

_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?"
MARKER = re.compile(
    rf'#\s*\{{\s*"\$imagepolicy"\s*:\s*"({_LABEL}):({_SUBDOMAIN})(?::(tag|name|digest))?"\s*\}}\s*'
)
"""A well-formed setter comment (``_MARKER_HINT``); groups: namespace, policy, suffix."""

_MARKER_HINT = '# {"$imagepolicy": "<namespace>:<policy>[:tag|:name|:digest]"}'
_COMMENT = re.compile(r"(?:^|\s)(#.*)$")
_FIELD = re.compile(r"""^\s*(?:-\s+)?["']?([A-Za-z0-9_.-]+)["']?\s*:\s*(\S.*?)?\s*$""")
_MARKER_ATTEMPT = re.compile(r'\{\s*"?\$imagepolicy')
_SUFFIX_FOR_FIELD = {"newTag": "tag", "newName": "name", "digest": "digest"}
_SUFFIX_WRITES = {
    None: "the whole image reference",
    "tag": "only the tag",
    "name": "only the image name",
    "digest": "only the digest",
}
_OVERRIDE_NAMES = {
    "patch": "a patch",
    "json6902": "a JSON6902 patch",
    "images": "an images: entry",
    "inline-patch": "an inline patch",
}


@dataclass(frozen=True)
class Finding:
    """One problem found by a rule: ``problem.code`` is the rule id; ``problem.message``
    ends by naming the stages it was found in, when it concerns stages."""

    problem: Problem
    severity: Severity = "error"
    """``error``, ``warning`` or ``notice`` (``promoter.checkrules``)."""

    @property
    def rule(self) -> str:
        """The rule id (one of ``RULES``)."""
        return self.problem.code

    @property
    def file(self) -> str | None:
        """Repo-relative file, when known."""
        return self.problem.file

    @property
    def line(self) -> int | None:
        """1-based line, when known."""
        return self.problem.line

    @property
    def message(self) -> str:
        """What is wrong."""
        return self.problem.message

    @property
    def location(self) -> str:
        """``file:line``, ``file`` or ``""``."""
        return self.problem.location


@dataclass(frozen=True)
class CheckReport:
    """What ``pipelines check`` found, and in how many pipelines and stages."""

    findings: tuple[Finding, ...]
    pipelines: int | None
    """None when the pipelines could not be discovered at all (a finding says why)."""
    stages: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def count(self, severity: Severity) -> int:
        """How many findings have ``severity``."""
        return sum(1 for f in self.findings if f.severity == severity)

    def passed(self, strict: bool = False) -> bool:
        """True when no error remains (``strict``: no warning either); notices never fail."""
        failing = ("error", "warning") if strict else ("error",)
        return not any(f.severity in failing for f in self.findings)


def check(path: str | Path, *, render: bool = False) -> CheckReport:
    """``pipelines check``: open the repository at ``path`` and check it; a discovery
    failure is a finding.  ``render`` also compares kustomize renders (see ``check_repo``)."""
    root = Path(path)
    try:
        repo = GitOpsRepo.open(root)
    except ManifestError as exc:
        return CheckReport(discovery_failure(root, exc), None)
    stages = sum(len(p.stages) for p in repo.pipelines)
    return CheckReport(check_repo(repo, render=render), len(repo.pipelines), stages)


def check_path(path: str | Path, *, render: bool = False) -> tuple[Finding, ...]:
    """The findings of ``check``."""
    return check(path, render=render).findings


def discovery_failure(root: Path, error: ManifestError) -> tuple[Finding, ...]:
    """The findings of a repository whose pipelines cannot be discovered at all: the
    error, and every malformed setter marker (which needs no pipeline to be found)."""
    findings = _Findings()
    problem = error.problem
    context = "config-invalid" if problem.file == CONFIG_FILE else "manifest-invalid"
    findings.add_problem(problem, rule_for(problem.code, context))
    _marker_syntax(DiskSource(root), findings)
    return findings.result(_settings(DiskSource(root), findings))


def check_repo(repo: GitOpsRepo, *, render: bool = False) -> tuple[Finding, ...]:
    """Every finding of ``repo`` (sorted by file and line); ``render`` also renders every
    stage with kustomize and compares its versions with the native reader's."""
    findings = _Findings()
    stages = [stage for pipeline in repo.pipelines for stage in pipeline.stages]
    if not repo.pipelines:
        findings.add(
            None,
            None,
            "no-pipelines",
            "no pipelines found: label Flux Kustomizations with "
            f"{NAME_LABEL} and {STAGE_LABEL}, or declare them in {CONFIG_FILE}",
        )
    for pipeline in repo.pipelines:
        _pipeline_errors(pipeline, findings)
    _labels_against_config(repo, findings)
    builds = _build_stages(repo, stages, findings)
    apps = {i: apps_of(build.resources, repo.marker_line) for i, build in builds.items()}
    _patch_targets(repo, stages, builds, findings)
    _shared_overrides(stages, builds, apps, findings)
    _marker_syntax(repo.source, findings)
    _later_stage_markers(repo, stages, apps, findings)
    _versions(repo, stages, apps, findings)
    if render:
        _renders(repo, stages, builds, apps, findings)
    _gates(repo, findings)
    return findings.result(_settings(repo.source, findings))


def _settings(source: FileSource, findings: _Findings) -> RuleSettings:
    """promoter.yaml's ``check.rules``; a mistake in them is a ``config-invalid`` finding
    (and every rule keeps its default severity)."""
    try:
        config = read_config(source)
    except ManifestError:
        return RuleSettings()  # discovery reports it
    try:
        return rule_settings(config)
    except ManifestError as exc:
        findings.add_problem(exc.problem, "config-invalid")
        return RuleSettings()


# -- collecting ----------------------------------------------------------------------------


@dataclass
class _Findings:
    """Findings keyed by their ``Problem`` (code: the rule); the same problem in several
    stages is one finding that names them all."""

    items: dict[Problem, list[str]] = field(default_factory=dict)

    def add(
        self,
        file: str | None,
        line: int | None,
        rule: str,
        message: str,
        stage: Stage | None = None,
    ) -> None:
        self.add_problem(Problem(message, file, line), rule, stage=stage)

    def add_problem(
        self, problem: Problem, rule: str, fallback: str | None = None, stage: Stage | None = None
    ) -> None:
        """``problem`` under ``rule``; one without a file is placed at ``fallback``."""
        if problem.file is None:
            problem = replace(problem, file=fallback, line=None)
        key = replace(problem, file=problem.file or None, code=rule)
        stages = self.items.setdefault(key, [])
        if stage is not None and _label(stage) not in stages:
            stages.append(_label(stage))

    def result(self, settings: RuleSettings | None = None) -> tuple[Finding, ...]:
        """The findings, each with its rule's severity in ``settings``; a rule turned off
        is left out."""
        settings = settings or RuleSettings()
        out = []
        for problem, stages in self.items.items():
            severity = settings.severity(problem.code)
            if severity is None:
                continue
            if stages:
                noun = "stage" if len(stages) == 1 else "stages"
                problem = replace(
                    problem, message=f"{problem.message} ({noun} {', '.join(stages)})"
                )
            out.append(Finding(problem, severity))
        return tuple(
            sorted(
                out,
                key=lambda f: (f.file is None, f.file or "", f.line or 0, f.rule, f.message),
            )
        )


def _label(stage: Stage) -> str:
    return f"{stage.pipeline}/{stage.name}"


def _kustomization_of(repo: GitOpsRepo, stage: Stage) -> str:
    """The stage's kustomization file, or its directory when it has none (or several)."""
    try:
        return find_kustomization(repo.root, stage.path) or stage.path or "."
    except PromoterError:
        return stage.path or "."


# -- pipeline ------------------------------------------------------------------------------


def _pipeline_errors(pipeline: Pipeline, findings: _Findings) -> None:
    for problem in pipeline.problems:
        rule = rule_for(problem.code, _discovery_rule(problem.file or pipeline.declared_in))
        findings.add_problem(problem, rule, pipeline.declared_in or None)
    for stage in pipeline.stages:
        if stage.problem is not None:
            rule = rule_for(stage.problem.code, _discovery_rule(stage.declared_in))
            findings.add_problem(stage.problem, rule, stage.declared_in)


def _discovery_rule(file: str | None) -> str:
    """The rule of a generic discovery problem in ``file``."""
    return "config-invalid" if file == CONFIG_FILE else "manifest-invalid"


@dataclass(frozen=True)
class _FluxLabels:
    """The pipeline labels and spec.path of one Flux Kustomization, as written."""

    file: str
    line: int | None
    pipeline: str | None
    stage: str | None
    path: str
    path_line: int | None


def _flux_labels(source: FileSource) -> Iterator[_FluxLabels]:
    for rel in yaml_files(source):
        if rel == CONFIG_FILE:
            continue
        try:
            data = source.read_bytes(rel)
        except OSError:
            continue
        if b"pipelines.weave.works/" not in data:
            continue
        try:
            docs = parse_bytes(data, rel, "flux")
        except ManifestError:
            continue  # discovery reports it
        for doc in docs:
            if not isinstance(doc, YMap) or doc.get("kind") != "Kustomization":
                continue
            if not str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
                continue
            meta = doc.get("metadata")
            labels = meta.get("labels") if isinstance(meta, YMap) else None
            if not isinstance(labels, YMap):
                continue
            spec = doc.get("spec")
            spec = spec if isinstance(spec, YMap) else YMap()
            path = stage_directory(str(spec.get("path") or "."))
            yield _FluxLabels(
                rel,
                labels.line_of(STAGE_LABEL) or labels.line_of(NAME_LABEL),
                labels.raw(NAME_LABEL) if labels.get(NAME_LABEL) is not None else None,
                labels.raw(STAGE_LABEL) if labels.get(STAGE_LABEL) is not None else None,
                path,
                spec.line_of("path"),
            )


def _labels_against_config(repo: GitOpsRepo, findings: _Findings) -> None:
    """Labels that would silently do nothing: a stage label without a pipeline name, and
    labelled stages of a pipeline that promoter.yaml declares differently."""
    declared = {
        p.name: p for p in repo.pipelines if p.stages and p.stages[0].declared_in == CONFIG_FILE
    }
    matched: dict[str, list[tuple[_FluxLabels, int, int]]] = {}
    for flux in _flux_labels(repo.source):
        if flux.pipeline is None:
            if flux.stage is not None:
                findings.add(
                    flux.file,
                    flux.line,
                    "label-without-pipeline",
                    f"label {STAGE_LABEL} without {NAME_LABEL}: "
                    "this Flux Kustomization is not a stage of any pipeline",
                )
            continue
        pipeline = declared.get(flux.pipeline)
        if pipeline is None:
            continue
        twin = next((s for s in pipeline.stages if s.path == flux.path), None)
        if twin is None:
            findings.add(
                flux.file,
                flux.path_line or flux.line,
                "label-ignored",
                f"labelled as a stage of pipeline {flux.pipeline!r}, which {CONFIG_FILE} "
                f"declares without path {flux.path or '.'!r}; {CONFIG_FILE} wins, "
                "so this label is ignored",
            )
            continue
        label_order = _int(flux.stage)
        if label_order is not None:
            matched.setdefault(flux.pipeline, []).append((flux, label_order, twin.order))
    for name, pairs in matched.items():
        label_rank = _dense_ranks([label for _, label, _ in pairs])
        config_rank = _dense_ranks([order for _, _, order in pairs])
        for (flux, label, _), by_label, by_config in zip(
            pairs, label_rank, config_rank, strict=True
        ):
            if by_label != by_config:
                findings.add(
                    flux.file,
                    flux.line,
                    "label-order-conflict",
                    f"label {STAGE_LABEL} {label} orders {flux.path or '.'!r} differently "
                    f"from {CONFIG_FILE}, which declares pipeline {name!r} (and wins)",
                )


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _dense_ranks(values: list[int]) -> list[int]:
    ordered = sorted(set(values))
    return [ordered.index(v) for v in values]


# -- stage, unsupported, patch -------------------------------------------------------------


def _build_stages(repo: GitOpsRepo, stages: list[Stage], findings: _Findings) -> dict[int, Build]:
    builds: dict[int, Build] = {}
    for index, stage in enumerate(stages):
        if stage.problem is not None:
            continue
        try:
            build = repo.build(stage)
        except PromoterError as exc:
            if repo.stage_status(stage).rendered:  # kustomize renders it (issue 10)
                message = (
                    f"the native reader cannot build this stage ({exc.problem.message}); "
                    "status and promote render it with kustomize instead"
                )
                findings.add_problem(
                    replace(exc.problem, message=message),
                    "unsupported",
                    _kustomization_of(repo, stage),
                    stage,
                )
                continue
            rule = rule_for(exc.problem.code, "stage-unbuildable")
            findings.add_problem(exc.problem, rule, _kustomization_of(repo, stage), stage)
            continue
        builds[index] = build
        invalid = invalid_name(build.resources)  # issue 11: code name-invalid
        if invalid is not None:
            findings.add_problem(invalid, rule_for(invalid.code, "stage-unbuildable"), stage=stage)
        for entry in build.unsupported:
            message = (
                f"the native reader cannot follow {entry.message}; status and promote render "
                "this stage with kustomize instead"
            )
            findings.add_problem(
                replace(entry, message=message),
                "unsupported",
                _kustomization_of(repo, stage),
                stage,
            )
    return builds


def _patch_targets(
    repo: GitOpsRepo, stages: list[Stage], builds: dict[int, Build], findings: _Findings
) -> None:
    """A patch whose ``target`` selects nothing is silently skipped by kustomize."""
    readers: dict[str, list[int]] = {}
    for index, build in builds.items():
        for file in build.files:
            if posixpath.basename(file) in KUSTOMIZATION_FILES:
                readers.setdefault(file, []).append(index)
    for file in sorted(readers):
        k = _parse_map(repo, file)
        patches = _targeted_patches(repo, file, k) if k is not None else []
        if k is None or not patches:
            continue
        if k.get("kind") == "Component":
            # A component patches whatever the kustomization including it has gathered.
            for index in readers[file]:
                _unmatched(file, patches, builds[index].resources, [stages[index]], findings)
            continue
        resources = _directory_resources(repo, posixpath.dirname(file))
        if resources is not None:
            chosen = [stages[i] for i in readers[file]]
            _unmatched(file, patches, resources, chosen, findings)
    for index, build in builds.items():
        flux = repo.flux_layer(stages[index])
        if flux is not None:
            patches = _targeted_patches(repo, flux.file, flux.spec)
            _unmatched(flux.file, patches, build.resources, [stages[index]], findings)


def _directory_resources(repo: GitOpsRepo, directory: str) -> tuple[Resource, ...] | None:
    """What a kustomization directory builds to, through the repository's build cache
    (a probe stage without a Flux Kustomization builds just the directory)."""
    probe = Stage(pipeline="", name=directory, order=0, path=directory, declared_in="")
    try:
        return repo.build(probe).resources
    except PromoterError:
        return None


def _unmatched(
    file: str,
    patches: list[YMap],
    resources: tuple[Resource, ...],
    readers: list[Stage],
    findings: _Findings,
) -> None:
    for spec in patches:
        target = spec["target"]
        if any(matches_selector(r, target) for r in resources):
            continue
        line = spec.node.start_mark.line + 1 if spec.node is not None else None
        for stage in readers:
            findings.add(
                file,
                line,
                "patch-targets-nothing",
                f"patch target {_selector(target)} selects no object, so kustomize applies nothing",
                stage,
            )


def _parse_map(repo: GitOpsRepo, file: str) -> YMap | None:
    text = repo.read_text(file)
    if text is None:
        return None
    try:
        docs = parse_bytes(text.encode("utf-8"), file, "kustomization")
    except ManifestError:
        return None
    return docs[0] if len(docs) == 1 and isinstance(docs[0], YMap) else None


def _targeted_patches(repo: GitOpsRepo, file: str, k: YMap) -> list[YMap]:
    """The ``patches``/``patchesJson6902`` entries of a layer that carry a ``target``
    (a ``$patch: delete`` removes its target, so it is left out)."""
    found = []
    for key in ("patches", "patchesJson6902"):
        entries = k.get(key)
        if not isinstance(entries, list):
            continue
        for spec in entries:
            if not isinstance(spec, YMap) or not isinstance(spec.get("target"), dict):
                continue
            if not _deletes(repo, posixpath.dirname(file), spec):
                found.append(spec)
    return found


def _deletes(repo: GitOpsRepo, directory: str, spec: YMap) -> bool:
    """A ``$patch: delete`` removes its target, which then is not in the build any more."""
    text: str | None = spec.get("patch") if isinstance(spec.get("patch"), str) else None
    if text is None and spec.get("path") is not None:
        text = repo.read_text(posixpath.normpath(posixpath.join(directory, str(spec["path"]))))
    return text is not None and re.search(r"\$patch\s*:\s*['\"]?delete", text) is not None


def _selector(target: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in target.items()) + "}"


# -- versions: shared overrides, markers, order --------------------------------------------


def _sources(app: App) -> Iterator[tuple[str, VersionSource | None, str | None, bool]]:
    """(what, where it is set, version, pinned by digest) for every version of an app."""
    if app.kind == "HelmRelease":
        yield f"{app.key} chart version", app.source, app.version, False
        return
    for image in app.images:
        role = "init container" if image.init else "container"
        what = f"{app.key} {role} {image.container or '?'}"
        yield what, image.source, image.image.tag, image.image.digest is not None


def _shared_overrides(
    stages: list[Stage],
    builds: dict[int, Build],
    apps: dict[int, tuple[App, ...]],
    findings: _Findings,
) -> None:
    for stage_apps in apps.values():
        for app in stage_apps:
            for what, source, _, _ in _sources(app):
                if source is None or source.type == "resource":
                    continue
                readers = [stages[i] for i, b in builds.items() if source.file in b.files]
                if len(readers) < 2:
                    continue
                names = ", ".join(_label(s) for s in readers)
                findings.add(
                    source.file,
                    source.line,
                    "shared-override",
                    f"{_OVERRIDE_NAMES.get(source.type, source.type)} sets {what} in a file "
                    f"that {len(readers)} stages read ({names}): promoting one of them would "
                    "move the others; keep version overrides in each stage's own directory",
                )


def _later_stage_markers(
    repo: GitOpsRepo, stages: list[Stage], apps: dict[int, tuple[App, ...]], findings: _Findings
) -> None:
    """Flux image automation moves every version carrying a marker: beyond the first wave
    of a pipeline that skips promotion."""
    first_wave = {p.name: min((s.order for s in p.stages), default=0) for p in repo.pipelines}
    for index, stage_apps in apps.items():
        stage = stages[index]
        if stage.order <= first_wave.get(stage.pipeline, 0):
            continue
        for app in stage_apps:
            for what, source, _, _ in _sources(app):
                if source is None or not source.automated:
                    continue
                findings.add(
                    source.file,
                    source.line,
                    "marker-in-later-stage",
                    f"setter marker {source.policy} sets {what} in a stage after the first "
                    f"of pipeline {stage.pipeline}: Flux image automation would move it "
                    "without a promotion",
                    stage,
                )


def _versions(
    repo: GitOpsRepo, stages: list[Stage], apps: dict[int, tuple[App, ...]], findings: _Findings
) -> None:
    for index, stage_apps in apps.items():
        stage = stages[index]
        for app in stage_apps:
            for what, source, version, pinned in _sources(app):
                if pinned or (version and compare_versions(version, "0") is not None):
                    continue
                rule = "version-floating" if _floating(version) else "version-unordered"
                if version:
                    problem = f"{what} is {version!r}, which has no version order"
                elif app.kind == "HelmRelease":
                    problem = f"{what} is not set (Flux installs the newest chart)"
                else:
                    problem = f"{what} has no tag (it runs 'latest')"
                file, line = (
                    (source.file, source.line)
                    if source is not None
                    else (_kustomization_of(repo, stage), None)
                )
                findings.add(
                    file,
                    line,
                    rule,
                    f"{problem}: promotion cannot tell newer from older; pin a version or a digest",
                    stage,
                )


def _marker_syntax(source: FileSource, findings: _Findings) -> None:
    """Every line of every YAML file that mentions ``$imagepolicy``."""
    for rel in yaml_files(source):
        try:
            data = source.read_bytes(rel)
        except OSError:
            continue
        if b"$imagepolicy" not in data:
            continue
        text = data.decode("utf-8-sig", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if "$imagepolicy" in line:
                found = _marker_finding(line)
                if found is not None:
                    findings.add(rel, number, *found)


def marker_problem(line: str) -> str | None:
    """Why a YAML line mentioning ``$imagepolicy`` is not a marker Flux can use, or None."""
    found = _marker_finding(line)
    return found[1] if found is not None else None


def _marker_finding(line: str) -> tuple[str, str] | None:
    """(rule, message) of a YAML line mentioning ``$imagepolicy`` that is not a marker Flux
    can use (``marker-malformed`` or ``marker-suffix-mismatch``), or None."""
    comment_at = _COMMENT.search(line)
    start = comment_at.start(1) if comment_at is not None else len(line)
    content, comment = line[:start], line[start:].rstrip()
    if "$imagepolicy" not in comment:
        if _MARKER_ATTEMPT.search(content):
            return (
                "marker-malformed",
                f"setter marker is not in a YAML comment; write {_MARKER_HINT}",
            )
        return None  # prose in a value
    if not content.strip() and not re.match(r"#\s*\{", comment):
        return None  # a comment line that talks about markers
    found = MARKER.fullmatch(comment)
    if found is None:
        return "marker-malformed", _malformed(comment)
    suffix = found.group(3)
    wanted = _wanted_suffix(content)
    if wanted is not False and wanted != suffix:
        key = _FIELD.match(content)
        field_name = key.group(1) if key is not None else "this field"
        fix = f":{wanted}" if wanted else "no suffix"
        return "marker-suffix-mismatch", (
            f"setter marker {found.group(1)}:{found.group(2)}"
            f"{':' + suffix if suffix else ''} on {field_name} makes Flux write "
            f"{_SUFFIX_WRITES[suffix]} into it; use {fix}"
        )
    return None


def _malformed(comment: str) -> str:
    lenient = SETTER.fullmatch(comment.strip())
    if lenient is None:
        return f"malformed setter marker {comment.strip()!r}: Flux expects exactly {_MARKER_HINT}"
    value = lenient.group(1)
    parts = value.split(":")
    if len(parts) < 2:
        why = "names no namespace"
    elif len(parts) > 3:
        why = "has too many ':' parts"
    elif len(parts) == 3 and parts[2] not in ("tag", "name", "digest"):
        why = f"has the unknown suffix :{parts[2]} (Flux knows :tag, :name and :digest)"
    else:
        why = "is not <namespace>:<policy> with Kubernetes names"
    return f"setter marker {value!r} {why}; expected {_MARKER_HINT}"


def _wanted_suffix(content: str) -> str | bool | None:
    """The suffix a marker on this field needs; False when the field does not tell."""
    key = _FIELD.match(content)
    if key is None:
        return False
    name, value = key.group(1), (key.group(2) or "").strip("\"'")
    if name in _SUFFIX_FOR_FIELD:
        return _SUFFIX_FOR_FIELD[name]
    if name == "image" and re.search(r"[:@]", value.rsplit("/", 1)[-1]):
        return None  # a whole reference with a tag or digest
    return False


# -- render --------------------------------------------------------------------------------


def _renders(
    repo: GitOpsRepo,
    stages: list[Stage],
    builds: dict[int, Build],
    apps: dict[int, tuple[App, ...]],
    findings: _Findings,
) -> None:
    if _render.find_tool() is None:
        findings.add(
            None,
            None,
            "render-unavailable",
            "cannot render: neither kustomize nor kubectl is on PATH",
        )
        return
    chosen = sorted(builds)
    if not chosen:
        return

    def one(index: int) -> tuple[Resource, ...] | RenderError:
        try:
            return repo.render(stages[index])
        except RenderError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(8, len(chosen))) as pool:
        rendered = dict(zip(chosen, pool.map(one, chosen), strict=True))
    for index in chosen:
        stage, result = stages[index], rendered[index]
        if isinstance(result, RenderError):
            message = str(result).replace(f"{repo.root}/", "")
            findings.add(
                _kustomization_of(repo, stage),
                None,
                "render-failed",
                f"kustomize cannot render the stage: {message}",
                stage,
            )
            continue
        if builds[index].unsupported:
            continue  # the native reader is known to fall short there
        _compare(repo, stage, apps[index], apps_of(result, repo.marker_line), findings)


def _compare(
    repo: GitOpsRepo,
    stage: Stage,
    native: Iterable[App],
    rendered: Iterable[App],
    findings: _Findings,
) -> None:
    def key(app: App) -> tuple[str, str, str | None]:
        return (app.kind, app.rendered_name, app.namespace)

    mine = {key(a): a for a in native}
    theirs = {key(a): a for a in rendered}
    fallback = _kustomization_of(repo, stage)
    for k in sorted(set(mine) | set(theirs), key=lambda k: (k[0], k[1], k[2] or "")):
        a, b = mine.get(k), theirs.get(k)
        if a is None or b is None:
            who = "kustomize renders" if a is None else "the native reader finds"
            other = "the native reader does not" if a is None else "kustomize does not render it"
            findings.add(
                fallback, None, "render-mismatch", f"{who} {k[0]}/{k[1]} but {other}", stage
            )
            continue
        have, want = _versions_of(a), _versions_of(b)
        if have != want:
            source = a.source
            findings.add(
                source.file if source is not None else fallback,
                source.line if source is not None else None,
                "render-mismatch",
                f"{a.key}: the native reader reads {_fmt(have)}, kustomize renders {_fmt(want)}",
                stage,
            )


def _versions_of(app: App) -> dict[str, str]:
    if app.kind == "HelmRelease":
        return {"chart": app.version or ""}
    return {f"{'init ' if i.init else ''}{i.container}": str(i.image) for i in app.images}


def _fmt(versions: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(versions.items())) or "nothing"


# -- gates ---------------------------------------------------------------------------------


def _gates(repo: GitOpsRepo, findings: _Findings) -> None:
    """Gates load, and name pipelines and stages that exist."""
    from promoter.gates import load_gates

    try:
        gates = load_gates(repo.source)
    except PromoterError as exc:
        findings.add_problem(exc.problem, rule_for(exc.problem.code, "gate-invalid"), CONFIG_FILE)
        return
    stages = {p.name: {s.name for s in p.stages} for p in repo.pipelines}
    for name in gates.pipelines:
        if name not in stages:
            findings.add(
                CONFIG_FILE, None, "gate-unknown-target", f"gates name unknown pipeline {name!r}"
            )
    for pipeline, stage in gates.stages:
        if pipeline in stages and stage not in stages[pipeline]:
            findings.add(
                CONFIG_FILE,
                None,
                "gate-unknown-target",
                f"gates name unknown stage {stage!r} of pipeline {pipeline!r}",
            )


def _floating(version: str | None) -> bool:
    """No version pinned: none at all (an image without a tag, a chart without a version)
    or ``latest``."""
    return not version or version.strip().lower() == "latest"
