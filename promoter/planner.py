"""``plan_promotion``: decide, edit in memory, verify; the steps behind ``promote``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from promoter.errors import PromoterError, PromotionError
from promoter.guards import Guards
from promoter.kustomize import find_kustomization
from promoter.kustomize import render as _render
from promoter.model import App, Pipeline, Stage, StageStatus
from promoter.pinning import PinRequest, pin_pairs
from promoter.promotion import (
    AppMove,
    FileEdit,
    PlanKind,
    PromotionPlan,
    SideEffect,
    check_order,
    container_changes,
    resolve_apps,
)
from promoter.readers import possible_readers
from promoter.repo import GitOpsRepo
from promoter.resolve import resolve_route
from promoter.rewrite import Original, Rewriter
from promoter.verification import Expected, Verification
from promoter.versions import is_downgrade

DraftListener = Callable[[PromotionPlan], None]
"""Told each plan as soon as its edits are made, before they are verified (``drafts``)."""

_DRAFT_LISTENERS: ContextVar[tuple[DraftListener, ...]] = ContextVar("drafts", default=())


@contextmanager
def drafts(listener: DraftListener) -> Iterator[None]:
    """Inside, ``listener`` is given every plan with edits as soon as they are made and
    before they are verified: what only needs the plan (the changelog asks registries) can
    run while kustomize verifies it (issue 15).  Verification adds ``rendered_diff`` only;
    a plan that fails verification is never returned."""
    token = _DRAFT_LISTENERS.set((*_DRAFT_LISTENERS.get(), listener))
    try:
        yield
    finally:
        _DRAFT_LISTENERS.reset(token)


def plan_promotion(
    repo: GitOpsRepo,
    apps: str | Sequence[str] | None,
    source: str,
    target: str,
    *,
    pipeline: str | None = None,
    skip_stages: bool = False,
    allow_downgrade: bool = False,
    render: bool | None = None,
    pin: PinRequest | None = None,
    also_affected: bool = False,
    force: bool = False,
) -> PromotionPlan:
    """Plan moving ``apps`` (names, ``Kind/name``s, or None for every app that differs)
    from stage ``source`` to stage ``target``.

    ``render``: verify with a real kustomize render (True requires it, None uses it when
    kustomize or kubectl is on PATH, False skips it).  ``also_affected``: go ahead when the
    edits change other stages too (listed in the plan); ``force``: when TO's value is on a
    line Flux image automation owns.
    """
    names = [apps] if isinstance(apps, str) else apps
    route = resolve_route(repo, source, target, pipeline=pipeline, apps=names)
    chosen, src, dst = route.pipeline, route.source, route.target
    check_order(chosen, src, dst, skip_stages=skip_stages)
    # TO's current render starts now and runs while the plan is made.
    with Verification(repo, dst, early=_use_render(render)) as verification:
        return _plan_promotion(
            repo,
            names,
            chosen,
            src,
            dst,
            verification,
            allow_downgrade=allow_downgrade,
            render=render,
            pin=pin,
            also_affected=also_affected,
            force=force,
        )


def _plan_promotion(
    repo: GitOpsRepo,
    names: Sequence[str] | None,
    chosen: Pipeline,
    src: Stage,
    dst: Stage,
    verification: Verification,
    *,
    allow_downgrade: bool,
    render: bool | None,
    pin: PinRequest | None,
    also_affected: bool,
    force: bool,
) -> PromotionPlan:
    src_status, dst_status = _readable(repo, src), _readable(repo, dst)
    selected = resolve_apps(names, src_status, dst_status)
    pairs: list[tuple[App, App]] = []
    for app in selected:
        for stage, status in ((src, src_status), (dst, dst_status)):
            same = [a.rendered_name for a in status.apps if a.key == app.key]
            if len(same) > 1:
                raise PromotionError(
                    f"{app.key} names {len(same)} objects in stage {stage.name} "
                    f"({', '.join(same)}); promotion cannot tell them apart"
                )
        current = dst_status.app(app.key)
        if current is None:
            raise PromotionError(
                f"{app.key} is not deployed in stage {dst.name}; promotion changes versions of "
                "apps a stage already deploys"
            )
        pairs.append((app, current))
    return _plan_moves(
        repo,
        chosen,
        src,
        dst,
        dst_status,
        pairs,
        verification,
        allow_downgrade=allow_downgrade,
        render=render,
        kind="promote",
        origin_commit=None,
        pin=pin,
        also_affected=also_affected,
        force=force,
    )


def plan_moves(
    repo: GitOpsRepo,
    pipeline: Pipeline,
    src: Stage,
    dst: Stage,
    dst_status: StageStatus,
    pairs: Sequence[tuple[App, App]],
    *,
    allow_downgrade: bool = False,
    render: bool | None = None,
    kind: PlanKind = "promote",
    origin_commit: str | None = None,
    pin: PinRequest | None = None,
    also_affected: bool = False,
    force: bool = False,
) -> PromotionPlan:
    """Give each target app (second of a pair) the versions of its source app (first),
    edit, and verify.  Promotion takes the sources from another stage, rollback from the
    stage's own history.  ``pin`` asks for digests (see ``promoter.pinning``).

    A value is edited where TO sets it (a file in TO's directory) when no other stage that
    reads the file would render differently; otherwise as before (an override in TO), and
    when that changes other stages too, the plan is refused naming them unless
    ``also_affected``.  A value on a line Flux image automation owns is refused unless
    ``force``."""
    early = _use_render(render) or dst_status.native_problem is not None
    with Verification(repo, dst, early=early) as verification:
        return _plan_moves(
            repo,
            pipeline,
            src,
            dst,
            dst_status,
            pairs,
            verification,
            allow_downgrade=allow_downgrade,
            render=render,
            kind=kind,
            origin_commit=origin_commit,
            pin=pin,
            also_affected=also_affected,
            force=force,
        )


def _use_render(render: bool | None) -> bool:
    """Whether kustomize verifies: as asked, else when kustomize or kubectl is on PATH."""
    return render if render is not None else _render.find_tool() is not None


def _plan_moves(
    repo: GitOpsRepo,
    pipeline: Pipeline,
    src: Stage,
    dst: Stage,
    dst_status: StageStatus,
    pairs: Sequence[tuple[App, App]],
    verification: Verification,
    *,
    allow_downgrade: bool,
    render: bool | None,
    kind: PlanKind,
    origin_commit: str | None,
    pin: PinRequest | None,
    also_affected: bool,
    force: bool,
) -> PromotionPlan:
    pairs, pin_notes = pin_pairs(repo, pipeline.name, dst, pairs, pin)
    calls: list[Callable[[Rewriter], None]] = []
    guard = Guards(dst, force, kind)
    moves: list[AppMove] = []
    unchanged: list[str] = []
    expected: Expected = {}
    originals = _originals(repo, dst)
    where = "in its history" if kind == "rollback" else f"in stage {src.name}"
    for app, current in pairs:
        if app.version is None:
            what = "no spec.chart.spec.version" if app.kind == "HelmRelease" else "no containers"
            raise PromotionError(
                f"{app.key} has no version {where} ({what}); there is nothing to promote"
            )
        original = originals.get(app.key, Original(current.api_version, None))
        if app.kind == "HelmRelease":
            _check_downgrade(app.key, dst, current.version, app.version, allow_downgrade)
            if current.version == app.version:
                unchanged.append(app.key)
                continue
            guard.automation(app.key, current.source)
            guard.order(app.key, current.version, app.version)
            calls.append(
                functools.partial(
                    Rewriter.set_chart, app=current, version=app.version, original=original
                )
            )
            expected[app.key] = app.version
        else:
            _check_downgrade(app.key, dst, current.version, app.version, allow_downgrade)
            planned = container_changes(app, current)
            for container, new in planned:
                label = f"{app.key} (container {container.container})"
                _check_downgrade(label, dst, container.image.version, new.version, allow_downgrade)
            if not planned:
                unchanged.append(app.key)
                continue
            for container, new in planned:
                label = f"{app.key} (container {container.container})"
                guard.automation(label, container.source)
                guard.order(label, container.image.version, new.version)
                calls.append(
                    functools.partial(
                        Rewriter.set_image,
                        app=current,
                        container=container,
                        new=new,
                        original=original,
                    )
                )
            expected[app.key] = {(c.container, c.init): new for c, new in planned}
        moves.append(AppMove(app.kind, app.name, current.version, app.version))
    # A stage only kustomize can read is verified by kustomize alone.
    use_render = _use_render(render) or dst_status.native_problem is not None
    rewriter, effects = choose_edits(
        repo,
        dst,
        dst_status,
        calls,
        render=bool(calls) and _use_render(render),
        also_affected=also_affected,
        # The edits first tried are usually the ones: kustomize renders them meanwhile.
        on_edits=verification.expect if use_render else None,
    )
    edits = tuple(rewriter.edits())
    plan = PromotionPlan(
        root=repo.root,
        pipeline=pipeline.name,
        source=src,
        target=dst,
        moves=tuple(moves),
        changes=guard.mark(rewriter.changes),
        edits=edits,
        unchanged=tuple(unchanged),
        kind=kind,
        origin_commit=origin_commit,
        notes=pin_notes + guard.notes + effect_notes(effects),
        also_affected=effects,
    )
    if not edits:
        return plan
    if use_render:
        verification.expect(edits)
    for listener in _DRAFT_LISTENERS.get():
        listener(plan)
    verify_native(repo, dst, dst_status, edits, expected, others=False)
    if use_render:
        return _with_render(plan, verification.diff(edits, expected))
    return plan


def _check_downgrade(
    what: str, stage: Stage, current: str | None, proposed: str | None, allowed: bool
) -> None:
    if not allowed and is_downgrade(current, proposed):
        raise PromotionError(
            f"promoting {what} would downgrade {stage.name} from {current} to "
            f"{proposed}; pass --allow-downgrade to do it anyway"
        )


def _with_render(plan: PromotionPlan, rendered_diff: str) -> PromotionPlan:
    from dataclasses import replace

    return replace(plan, rendered_diff=rendered_diff)


def _readable(repo: GitOpsRepo, stage: Stage) -> StageStatus:
    status = repo.stage_status(stage)
    if status.error is not None:
        raise PromotionError(f"stage {stage.name} cannot be read: {status.error}")
    return status


def choose_edits(
    repo: GitOpsRepo,
    dst: Stage,
    dst_status: StageStatus,
    calls: Sequence[Callable[[Rewriter], None]],
    *,
    render: bool,
    also_affected: bool,
    on_edits: Callable[[Sequence[FileEdit]], None] | None = None,
) -> tuple[Rewriter, tuple[SideEffect, ...]]:
    """The rewriter whose edits to use, and the other stages they change (issue 10 §2).

    First every value is edited where TO sets it when that is in TO's directory (even a
    file other stages read too); when another stage would render differently, the edits
    that keep to files TO alone reads (overrides in TO) are tried; when those change others
    too (or cannot be made), the first edits go ahead with ``also_affected``, else the
    stages are named in a refusal.  ``on_edits`` is told the first edits as soon as they
    are made, before their effects on other stages are known."""
    from promoter.effects import refusal, side_effects

    def rewrite(owned: Callable[[str], bool]) -> Rewriter:
        rewriter = Rewriter(
            read_text=repo.read_text,
            stage_path=dst.path,
            kustomization=find_kustomization(repo.source, dst.path),
            owned=owned,
            stage_apps=dst_status.apps,
        )
        for call in calls:
            call(rewriter)
        rewriter.edits()
        return rewriter

    def effects_of(rewriter: Rewriter) -> tuple[SideEffect, ...]:
        edits = rewriter.edits()
        if not edits:
            return ()
        outside = any(not _inside(dst, e.path) for e in edits)
        candidates = (
            [s for p in repo.pipelines for s in p.stages if s != dst]
            if outside
            else possible_readers(repo, dst)
        )
        return side_effects(repo, dst, edits, candidates, render=render)

    sole = functools.partial(_owned, repo, dst)
    first: Rewriter | None = None
    failure: PromotionError | None = None
    try:
        first = rewrite(functools.partial(_inside, dst))
        if on_edits is not None and first.edits():
            on_edits(first.edits())
        effects = effects_of(first)
        if not effects:
            return first, ()
    except PromotionError as exc:
        failure, effects = exc, ()
    try:
        second = rewrite(sole)
        differs = first is None or second.edits() != first.edits()
        if differs and not effects_of(second):
            return second, ()
    except PromotionError as exc:
        failure = exc
    if first is None:
        assert failure is not None
        raise failure
    if also_affected:
        return first, effects
    raise refusal(dst, effects)


def effect_notes(effects: Sequence[SideEffect]) -> tuple[str, ...]:
    """The plan notes of ``--also-affected``: each other stage that changes, and how."""
    return tuple(
        f"--also-affected: this also changes {e.name} ({'; '.join(e.changes)})" for e in effects
    )


def _inside(stage: Stage, file: str) -> bool:
    """A file of ``stage``'s directory (other stages may read it too)."""
    return not stage.path or file.startswith(f"{stage.path}/")


def _owned(repo: GitOpsRepo, stage: Stage, file: str) -> bool:
    """A file belongs to ``stage`` alone: inside its directory and read by no other stage."""
    prefix = f"{stage.path}/" if stage.path else ""
    if not file.startswith(prefix):
        return False
    return not any(file in repo.stage_files(other) for other in possible_readers(repo, stage))


def _originals(repo: GitOpsRepo, stage: Stage) -> dict[str, Original]:
    out: dict[str, Original] = {}
    try:
        resources = repo.build(stage).resources
    except PromoterError:
        return out  # rendered instead (issue 10): the render names the objects
    for resource in resources:
        original = resource.original
        api_version = f"{original.group}/{original.version}" if original.group else original.version
        out[f"{original.kind}/{original.name}"] = Original(api_version, original.namespace or None)
    return out


# -- verification ----------------------------------------------------------------------


def verify_native(
    repo: GitOpsRepo,
    target: Stage,
    before: StageStatus,
    edits: Sequence[FileEdit],
    expected: Expected,
    *,
    others: bool = True,
) -> None:
    """Re-read every affected stage with the edits applied: the target has exactly the
    planned versions, nothing else changed anywhere (``others=False``: the target only;
    ``promoter.effects`` judges the others)."""
    view = repo.with_overrides({e.path: e.after.encode("utf-8") for e in edits})
    if before.native_problem is not None:
        # The native reader cannot build the target: kustomize verifies it (verify_render).
        if others:
            _verify_others(repo, view, target, edits)
        return
    after = view.stage_status(target)
    if after.error is not None:
        raise PromotionError(f"after the edit stage {target.name} would not build: {after.error}")
    for app in before.apps:
        new = after.app(app.key)
        if new is None:
            raise PromotionError(f"after the edit {app.key} would disappear from {target.name}")
        want = _expected_images(app, expected.get(app.key))
        have = {(i.container, i.init): str(i.image) for i in new.images}
        if app.kind == "HelmRelease":
            wanted_version = expected.get(app.key, app.version)
            if new.version != wanted_version:
                raise PromotionError(
                    f"verification failed: {app.key} in {target.name} would have chart version "
                    f"{new.version} instead of {wanted_version}; nothing written"
                )
        elif want != have:
            raise PromotionError(
                f"verification failed: {app.key} in {target.name} would run {_fmt(have)} instead "
                f"of {_fmt(want)}; nothing written"
            )
    if {a.key for a in after.apps} != {a.key for a in before.apps}:
        raise PromotionError(f"verification failed: the apps of {target.name} would change")
    if others:
        _verify_others(repo, view, target, edits)


def _verify_others(
    repo: GitOpsRepo, view: GitOpsRepo, target: Stage, edits: Sequence[FileEdit]
) -> None:
    """No other stage reading an edited file renders differently after the edits."""
    touched = {e.path for e in edits}
    outside = [e.path for e in edits if not e.path.startswith(f"{target.path}/")]
    candidates = (
        [s for p in repo.pipelines for s in p.stages if s != target]
        if outside
        else possible_readers(repo, target)
    )
    for other in candidates:
        if not touched & repo.stage_files(other):
            continue
        if repo.stage_status(other).apps != view.stage_status(other).apps:
            raise PromotionError(
                f"verification failed: the edit would also change stage {other.name} of "
                f"pipeline {other.pipeline}; nothing written"
            )


def _expected_images(app: App, planned: Any) -> dict[tuple[str, bool], str]:
    out = {(i.container, i.init): str(i.image) for i in app.images}
    if isinstance(planned, dict):
        out.update({key: str(new) for key, new in planned.items()})
    return out


def _fmt(images: dict[tuple[str, bool], str]) -> str:
    return ", ".join(f"{name}={image}" for (name, _), image in sorted(images.items()))
