"""What a promotion's edits do to the other stages that read the edited files.

A value is edited where it is set when every other stage that reads the file renders
exactly as before: each candidate stage is built natively before and after the edits and,
where the promotion verifies with kustomize, rendered before and after too.  The stages that
would change are named (a refusal, or with ``--also-affected`` a list in the plan and the
pull request body)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from promoter import tempdirs
from promoter.errors import PromoterError, PromotionError, RenderError
from promoter.model import App, Stage
from promoter.promotion import FileEdit, SideEffect
from promoter.repo import GitOpsRepo

_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def side_effects(
    repo: GitOpsRepo,
    target: Stage,
    edits: Sequence[FileEdit],
    candidates: Sequence[Stage],
    *,
    render: bool,
) -> tuple[SideEffect, ...]:
    """The stages among ``candidates`` (never ``target``) that read an edited file and
    would build (or, with ``render``, render) differently after ``edits``."""
    touched = {e.path for e in edits}
    view = repo.with_overrides({e.path: e.after.encode("utf-8") for e in edits})
    found: list[SideEffect] = []
    for other in candidates:
        if other == target:
            continue
        read = sorted(touched & repo.stage_files(other))
        if not read:
            continue
        changes = _native_changes(repo, view, other)
        if changes is None and render:
            changes = _render_changes(repo, other, edits)
        if changes is not None:
            found.append(SideEffect(other.pipeline, other.name, tuple(read), changes))
    return tuple(found)


def refusal(target: Stage, effects: Sequence[SideEffect]) -> PromotionError:
    """One line: which files other stages read, which stages would change, the way out."""
    files = sorted({f for effect in effects for f in effect.files})
    verb = "is" if len(files) == 1 else "are"
    return PromotionError(
        f"{', '.join(files)} {verb} also read by another stage: promoting into {target.name} "
        f"would also change {_and(effect.name for effect in effects)}; nothing written "
        "(--also-affected changes them too)"
    )


def _and(names: Iterable[str]) -> str:
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _native_changes(repo: GitOpsRepo, view: GitOpsRepo, stage: Stage) -> tuple[str, ...] | None:
    """What changes in ``stage``'s native build, or None when it builds the same."""
    try:
        before = repo.build(stage).resources
    except PromoterError:
        return None  # it cannot be read now: nothing to compare (the render may say)
    try:
        after = view.build(stage).resources
    except PromoterError as exc:
        return (f"would no longer build: {exc}",)
    if [(r.id, r.doc) for r in before] == [(r.id, r.doc) for r in after]:
        return None
    return _app_changes(repo.stage_status(stage).apps, view.stage_status(stage).apps)


def _app_changes(before: Sequence[App], after: Sequence[App]) -> tuple[str, ...]:
    lines: list[str] = []
    now = {app.key: app for app in after}
    for app in before:
        new = now.get(app.key)
        if new is None:
            lines.append(f"{app.key} would disappear")
        elif new.version != app.version:
            lines.append(f"{app.key}: {app.version or 'none'} -> {new.version or 'none'}")
        elif new.images != app.images:
            old = {(i.container, i.init): str(i.image) for i in app.images}
            for image in new.images:
                was = old.get((image.container, image.init))
                if was != str(image.image):
                    lines.append(f"{app.key} (container {image.container}): {was} -> {image.image}")
    return tuple(lines) or ("renders differently (no app version changes)",)


def _render_changes(
    repo: GitOpsRepo, stage: Stage, edits: Sequence[FileEdit]
) -> tuple[str, ...] | None:
    """What kustomize renders differently for ``stage`` after ``edits``, or None."""
    from promoter.verification import copy_files, copy_neighbourhood, write_edits

    # Both renders at once (issue 15).
    with repo.start_render(stage) as current, tempdirs.temporary("promoter-effects-") as tmp:
        copy = tmp / "repo"
        copy_files(repo, stage, copy, edits)
        with repo.start_render(stage, copy) as edited:
            try:
                before = current.result()
            except RenderError:
                return None
            try:
                after = edited.result()
            except RenderError:
                fallback = tmp / "wide"
                fallback.mkdir()
                copy_neighbourhood(repo, stage, fallback)
                write_edits(fallback, edits)
                try:
                    after = repo.render_text(stage, fallback)
                except RenderError as exc:
                    return (f"kustomize would no longer render it: {exc}",)
    docs_before = [d for d in yaml.load_all(before, Loader=_FAST_LOADER) if d]
    docs_after = [d for d in yaml.load_all(after, Loader=_FAST_LOADER) if d]
    if docs_before == docs_after:
        return None
    return ("kustomize renders it differently",)
