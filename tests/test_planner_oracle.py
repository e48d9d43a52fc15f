"""Promotions checked against ``kubectl kustomize``, the oracle.

Each promotion is planned, written into a private copy of the repository, and every stage
of every pipeline is rendered before and after.  The target's render after must equal its
render before with exactly the expected substitution (each container of the promoted apps
runs its own image repository with the tag and digest the source renders, a HelmRelease the
chart version the status reader reports for the source, written as a string);
every other stage must render byte for byte as before.  Promoting again is
then a no-op.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings

from promoter import GitOpsRepo
from promoter.errors import PromotionError
from promoter.kustomize import rendered_scalar
from promoter.model import App, Stage
from promoter.planner import plan_promotion
from promoter.promotion import PromotionPlan
from tests.builders.plans import (
    PipelineRepo,
    example_copy,
    kubectl_ok,
    kubectl_renders,
    pipelines,
    promoter_yaml,
    read_tree,
)

WORKLOADS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout"}
)

# Refusals a promotion may answer with on a generated repository: each is a case where no
# edit of the target stage alone can give exactly the expected render.
JUSTIFIED = [
    re.compile(p)
    for p in (
        r"is also read by another stage",  # the target is included by another stage
        r"this images entry also sets the image of",  # one entry, containers moving apart
        r"read this one value but would get different versions",
        r"without a tag or digest, which an images entry cannot express",
        r"has no version in stage",  # the source HelmRelease has no chart version
        r"promotion cannot tell them apart",  # two objects share Kind/name in a stage
    )
]

TAGLESS = [p for p in JUSTIFIED if "tag or digest" in p.pattern or "no version" in p.pattern]
"""What a generated pipeline may be refused for: FROM runs an image without tag or digest
that TO sets with an images entry, or a HelmRelease without chart version."""


# -- the oracle -------------------------------------------------------------------------------


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``name[:tag][@digest]`` -> (name, tag, digest), the way container runtimes split."""
    rest, _, digest = image.partition("@")
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        return rest[:colon], rest[colon + 1 :] or None, digest or None
    return rest, None, digest or None


def join_image(name: str, tag: str | None, digest: str | None) -> str:
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    path = ["spec", "template", "spec"]
    if doc.get("kind") == "Pod":
        path = ["spec"]
    elif doc.get("kind") == "CronJob":
        path = ["spec", "jobTemplate", "spec", "template", "spec"]
    node: Any = doc
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def containers(doc: dict[str, Any]) -> list[tuple[str, bool, dict[str, Any]]]:
    """(name, init?, container mapping) of every container of a rendered workload."""
    pod = pod_spec(doc)
    out = []
    for key, init in (("initContainers", True), ("containers", False)):
        for item in pod.get(key) or []:
            out.append((str(item.get("name")), init, item))
    return out


def docs_of(text: str) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def identity(doc: dict[str, Any]) -> tuple[str, str, str | None]:
    meta = doc.get("metadata") or {}
    return (str(doc.get("kind")), str(meta.get("name")), meta.get("namespace"))


def app_identity(app: App) -> tuple[str, str, str | None]:
    return (app.kind, app.rendered_name, app.namespace)


def expected_target(
    before: list[Any],
    source_docs: list[Any],
    source_apps: Sequence[App],
    target_apps: Sequence[App],
    chosen: set[str] | None,
) -> list[Any]:
    """The target's render as it must be after promoting ``chosen`` (None: every app)."""
    by_identity = {identity(d): d for d in source_docs if isinstance(d, dict)}
    source_by_key = {a.key: a for a in source_apps}
    target_by_identity = {app_identity(a): a for a in target_apps}
    out = []
    for doc in before:
        app = target_by_identity.get(identity(doc)) if isinstance(doc, dict) else None
        twin = source_by_key.get(app.key) if app is not None else None
        if app is None or twin is None or (chosen is not None and app.key not in chosen):
            out.append(doc)
            continue
        source_doc = by_identity[app_identity(twin)]
        new = yaml.safe_load(yaml.safe_dump(doc))
        if app.kind == "HelmRelease":
            version = twin.version  # as the status reader reports it
            if version is None or version == app.version:  # nothing to promote
                out.append(doc)
                continue
            new["spec"]["chart"]["spec"]["version"] = version
        else:
            theirs = containers(source_doc)
            for name, init, item in containers(new):
                match = [c for n, i, c in theirs if (n, i) == (name, init)]
                match = match or [c for n, _, c in theirs if n == name]
                if match and "image" in item and "image" in match[0]:
                    _, tag, digest = split_image(str(match[0]["image"]))
                    own = split_image(str(item["image"]))[0]
                    item["image"] = join_image(own, tag, digest)
        out.append(new)
    return out


@dataclass
class Outcome:
    """What one checked promotion did, and the renders of every stage afterwards."""

    plan: PromotionPlan | None
    refusal: str | None = None
    renders: dict[Stage, str] | None = None


_RENDERS: dict[str, list[str]] = {}
"""Renders of unchanged trees (every example case starts from the same one)."""


def render_stages(kubectl: str, root: Path, stages: Sequence[Stage]) -> dict[Stage, str]:
    """``kubectl kustomize`` of every stage, side by side; a tree seen before is not
    rendered again."""
    digest = hashlib.sha256(repr(sorted(read_tree(root).items())).encode())
    digest.update(repr([s.path for s in stages]).encode())
    key = digest.hexdigest()
    if key not in _RENDERS:
        _RENDERS[key] = kubectl_renders(kubectl, [root / s.path for s in stages])
    return dict(zip(stages, _RENDERS[key], strict=True))


def all_stages(repo: GitOpsRepo) -> list[Stage]:
    return [stage for pipeline in repo.pipelines for stage in pipeline.stages]


def check_promotion(
    kubectl: str,
    root: Path,
    apps: Sequence[str] | None,
    source: str,
    target: str,
    *,
    pipeline: str | None = None,
    render: bool = False,
    justified: Sequence[re.Pattern[str]] = (),
    tree: str = "",
    before: dict[Stage, str] | None = None,
) -> Outcome:
    """Plan, write and check one promotion in the repository at ``root``; ``before`` are
    the renders of every stage when already known."""
    repo = GitOpsRepo.open(root)
    stages = all_stages(repo)
    if before is None:
        before = render_stages(kubectl, root, stages)
    try:
        # force: values on image automation's lines are promoted too (issue 10 §3 refuses
        # them by default); the oracle checks the edits
        plan = plan_promotion(
            repo, apps, source, target, pipeline=pipeline, allow_downgrade=True, render=render,
            force=True,
        )  # fmt: skip
    except PromotionError as exc:
        assert any(p.search(str(exc)) for p in justified), f"refused: {exc}\n{tree}"
        return Outcome(None, str(exc), before)
    src, dst = plan.source, plan.target
    for edit in plan.edits:
        assert edit.path.startswith(f"{dst.path}/"), f"{edit.path} is not in {dst.path}\n{tree}"
    plan.write()
    after = render_stages(kubectl, root, stages)
    chosen = None
    if apps is not None:
        chosen = {a.key for a in repo.stage_status(src).apps if a.key in apps or a.name in apps}
    want = expected_target(
        docs_of(before[dst]),
        docs_of(before[src]),
        repo.stage_status(src).apps,
        repo.stage_status(dst).apps,
        chosen,
    )
    context = f"\n{plan.diff()}\n{tree}"
    assert docs_of(after[dst]) == want, f"{dst.name} renders unexpectedly{context}"
    for stage in stages:
        if stage != dst:
            assert after[stage] == before[stage], f"{stage.name} changed{context}"
    again = plan_promotion(
        GitOpsRepo.open(root), apps, source, target, pipeline=pipeline, allow_downgrade=True,
        render=False, force=True,
    )  # fmt: skip
    assert again.is_noop, f"promoting again is not a no-op:\n{again.diff()}{context}"
    return Outcome(plan, None, after)


# -- 1. the example repository -------------------------------------------------------------

EXAMPLE_CASES = [
    (pipeline, source, target, app)
    for pipeline, apps in (
        ("platform", ("podinfo", "report", "nginx")),
        ("web", ("nginx", "shop")),
    )
    for source, target in (("dev", "staging"), ("staging", "prod"))
    for app in (*apps, None)
]


@pytest.mark.parametrize(
    ("pipeline", "source", "target", "app"),
    EXAMPLE_CASES,
    ids=[f"{p}-{s}-{t}-{a or 'all'}" for p, s, t, a in EXAMPLE_CASES],
)
def test_example_promotion_renders_as_expected(
    kubectl: str, tmp_path: Path, pipeline: str, source: str, target: str, app: str | None
) -> None:
    """Each app (and all at once) promoted to the next stage of the example renders as FROM's
    versions in TO and changes nothing else."""
    root = example_copy(tmp_path / "repo")
    outcome = check_promotion(
        kubectl, root, None if app is None else [app], source, target, pipeline=pipeline
    )
    assert outcome.plan is not None


def test_example_promotions_chain_to_prod(kubectl: str, tmp_path: Path) -> None:
    """Promoting every app dev -> staging -> prod in both pipelines, one after the other,
    renders as expected at every step."""
    root = example_copy(tmp_path / "repo")
    renders = None
    for pipeline in ("platform", "web"):
        for source, target in (("dev", "staging"), ("staging", "prod")):
            outcome = check_promotion(
                kubectl, root, None, source, target, pipeline=pipeline, before=renders,
                render=True,
            )  # fmt: skip
            assert outcome.plan is not None and not outcome.plan.is_noop
            renders = outcome.renders


# -- 2. generated pipelines ------------------------------------------------------------------

GENERATED = settings(
    max_examples=int(os.environ.get("PROMOTE_ORACLE_EXAMPLES", "10")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("PROMOTE_ORACLE_NO_SHRINK")
    else [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


@GENERATED
@given(repo=pipelines())
def test_generated_pipeline_promotions(kubectl: str, repo: PipelineRepo) -> None:
    """Every stage of a generated pipeline promoted to the next, one after the other, renders
    as expected, whatever way each stage sets each version."""
    with tempfile.TemporaryDirectory(prefix="promote-oracle-") as tmp:
        root = repo.write(Path(tmp))
        assert kubectl_ok(kubectl, [root / path for _, path in repo.stages]), repo.tree()
        names = [name for name, _ in repo.stages]
        renders = None
        for source, target in itertools.pairwise(names):
            renders = check_promotion(
                kubectl, root, None, source, target, render=True,
                justified=TAGLESS, tree=repo.tree(), before=renders,
            ).renders  # fmt: skip


# -- 3. generated kustomize repositories --------------------------------------------------------


def _kustomize_repos() -> Any:
    from tests.builders.kustomize_gen import repos

    return repos().filter(lambda r: len([b for b in r.builds if b != "base"]) >= 2)


@GENERATED
@given(repo=_kustomize_repos())
def test_generated_kustomize_promotions(kubectl: str, repo: Any) -> None:
    """Stages of generated kustomize repositories (overlays of a base or of each other, with
    components, prefixes, namespaces and every patch form) promote as expected or are
    refused for a stated reason."""
    with tempfile.TemporaryDirectory(prefix="promote-oracle-") as tmp:
        root = repo.write(Path(tmp))
        stages = [b for b in repo.builds if b != "base"]
        if not kubectl_ok(kubectl, [root / s for s in stages]):
            return  # kustomize refuses the repository: nothing to promote
        named = [(s.rpartition("/")[2], s) for s in stages]
        (root / "promoter.yaml").write_text(promoter_yaml("gen", named), encoding="utf-8")
        renders = None
        for (source, _), (target, _) in itertools.pairwise(named):
            renders = check_promotion(
                kubectl, root, None, source, target, justified=JUSTIFIED, tree=repo.tree(),
                before=renders,
            ).renders  # fmt: skip


# -- 4. chart versions YAML reads as numbers -------------------------------------------------

_RELEASE = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: extra\n"
    "spec:\n  chart:\n    spec:\n      chart: extra\n      version: {}\n"
)
_CHART_PATCH = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: extra\n"
    "spec:\n  chart:\n    spec:\n      version: {}\n"
)
NUMERIC_CHARTS = [("6.1", "6.0"), ('"6.1"', "6.0"), ("1.10", "6.0"), ("6.1", '"6.0"')]


@pytest.mark.parametrize(
    ("dev", "prod"), NUMERIC_CHARTS, ids=[f"{d}-{p}" for d, p in NUMERIC_CHARTS]
)
@pytest.mark.parametrize("render", [False, True], ids=["native", "rendered"])
def test_numeric_chart_version_over_patched_quoted_value(
    kubectl: str, tmp_path: Path, dev: str, prod: str, render: bool
) -> None:
    """The chart version of each stage is a plain (or quoted) patch value over a base whose
    plain ``1.0`` a patch replaced with a quoted ``"1.10"``: kustomize keeps the *plain*
    style there, so a plain ``6.0`` renders as ``6`` (the reader must say so too).  The
    promotion writes dev's version into prod's patch and kubectl verifies the render."""
    root = tmp_path / "repo"
    files = {
        "base/hr.yaml": _RELEASE.format("1.0"),
        "base/q.yaml": _CHART_PATCH.format('"1.10"'),
        "base/kustomization.yaml": (
            "resources: [hr.yaml]\npatches:\n- path: q.yaml\n  target: {kind: HelmRelease}\n"
        ),
        "promoter.yaml": promoter_yaml("charts", [("dev", "envs/dev"), ("prod", "envs/prod")]),
    }
    for env, version in (("dev", dev), ("prod", prod)):
        files[f"envs/{env}/v.yaml"] = _CHART_PATCH.format(version)
        files[f"envs/{env}/kustomization.yaml"] = (
            "resources: [../../base]\npatchesStrategicMerge: [v.yaml]\n"
        )
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    repo = GitOpsRepo.open(root)
    stages = all_stages(repo)
    renders = kubectl_renders(kubectl, [root / s.path for s in stages])
    for stage, text in zip(stages, renders, strict=True):
        (resource,) = repo.build(stage).resources
        (doc,) = docs_of(text)
        native = rendered_scalar(resource.doc["spec"]["chart"]["spec"], "version")
        assert native == str(doc["spec"]["chart"]["spec"]["version"]), stage.name
    outcome = check_promotion(kubectl, root, None, "dev", "prod", render=render)
    assert outcome.plan is not None and not outcome.plan.is_noop
    assert outcome.renders is not None
    (prod_stage,) = [s for s in outcome.renders if s.name == "prod"]
    (doc,) = docs_of(outcome.renders[prod_stage])
    assert doc["spec"]["chart"]["spec"]["version"] == dev.strip('"')
