"""Plan a promotion: which values change, in which file and line, and the exact new text.

``plan_promotion`` reads both stages, decides every change (each container's tag and digest,
or a HelmRelease's chart version), turns them into byte-preserving file edits in files that
belong to the target stage alone (adding an override there when the version is inherited),
then verifies the result natively and, when kustomize is available, with a real render.
Nothing is written until ``PromotionPlan.write``.
"""

from __future__ import annotations

import codecs
import difflib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from promoter import interrupt
from promoter.errors import LookupFailed, PromotionError
from promoter.images import ImageRef
from promoter.model import App, ContainerImage, Pipeline, Stage, StageStatus
from promoter.safefs import read_regular
from promoter.tempdirs import alive

if TYPE_CHECKING:
    from promoter.changelog import Changelog

PlanKind = Literal["promote", "rollback"]
"""``promote`` (versions from another stage) or ``rollback`` (from the stage's history)."""

ChangeHow = Literal["in-place", "images-entry", "new-patch"]
"""Where a value is written: where TO sets it, or an override added in TO (a kustomization
``images`` entry or a new patch) because the version was inherited from a shared file."""


@dataclass(frozen=True)
class AppMove:
    """One app moving from one version to another."""

    kind: str
    name: str
    old_version: str | None
    new_version: str

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Change:
    """One value written: a container image (tag and digest) or a chart version."""

    app: str
    container: str | None
    old: str | None
    new: str
    file: str
    line: int
    how: ChangeHow
    """``in-place`` (the value where TO sets it), ``images-entry`` or ``new-patch`` (an
    override added in the TO stage because the version was inherited from a shared file)."""
    old_image: str | None = None
    """The whole image reference before (containers only), for ``promoter.changelog``."""
    new_image: str | None = None
    """The whole image reference after (containers only)."""
    policy: str | None = None
    """The Flux image policy (``namespace:name``) owning TO's value, set with ``--force``."""


@dataclass(frozen=True)
class FileEdit:
    """A whole file before (None when new) and after."""

    path: str
    before: str | None
    after: str

    def diff(self) -> str:
        """A unified diff of this file, git style paths."""
        before = [] if self.before is None else self.before.splitlines(keepends=True)
        after = self.after.splitlines(keepends=True)
        old = "/dev/null" if self.before is None else f"a/{self.path}"
        lines = difflib.unified_diff(before, after, old, f"b/{self.path}")
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass(frozen=True)
class SideEffect:
    """Another stage that reads a file the promotion edits and would render differently
    (``--also-affected``)."""

    pipeline: str
    stage: str
    files: tuple[str, ...]
    """The edited files the stage reads."""
    changes: tuple[str, ...]
    """What changes in it, one line each (``Deployment/web: 1.0 -> 1.1``)."""

    @property
    def name(self) -> str:
        """``pipeline/stage``."""
        return f"{self.pipeline}/{self.stage}"


@dataclass(frozen=True)
class PromotionPlan:
    """Everything a promotion will change, verified, not yet written."""

    root: Path
    pipeline: str
    source: Stage
    target: Stage
    moves: tuple[AppMove, ...]
    changes: tuple[Change, ...]
    edits: tuple[FileEdit, ...]
    unchanged: tuple[str, ...] = ()
    """Apps asked for that already run the source's version in the target."""
    rendered_diff: str | None = None
    """The diff of the target's kustomize render, when kustomize was available."""
    notes: tuple[str, ...] = field(default=())
    """Things the pull request must say (gates overridden, ...)."""
    kind: PlanKind = "promote"
    """``promote`` (from another stage) or ``rollback`` (to an earlier version of the same)."""
    origin_commit: str | None = None
    """For a rollback: the commit whose version is restored."""
    changelog: Changelog | None = None
    """What changed between the old and the new images (``promoter.changelog``)."""
    also_affected: tuple[SideEffect, ...] = ()
    """Other stages the edits change too, accepted with ``--also-affected``."""

    @property
    def is_noop(self) -> bool:
        """True when the target already has every version: nothing to write."""
        return not self.edits

    def diff(self) -> str:
        """The unified diff of every file the promotion writes."""
        return "".join(edit.diff() for edit in self.edits)

    def write(self, root: Path | None = None) -> tuple[str, ...]:
        """Write every edit atomically: all files are staged first, then renamed into place,
        and nothing is written when any file changed since the plan was made."""
        base = root or self.root
        boms: dict[str, bool] = {}
        for edit in self.edits:
            dest = base / edit.path
            current: str | None = None
            if dest.exists():
                try:
                    data = read_regular(str(dest), str(base.resolve()))
                except OSError as exc:
                    raise PromotionError(f"{edit.path} cannot be read: {exc.strerror}") from exc
                boms[edit.path] = data.startswith(codecs.BOM_UTF8)
                try:
                    current = data.decode("utf-8-sig")
                except UnicodeDecodeError:
                    current = None
            if dest.exists() if edit.before is None else current != edit.before:
                raise PromotionError(f"{edit.path} changed since the promotion was planned")
        # All temporary files first, then the renames with signals held back: an
        # interruption leaves either no file changed (and no temporary file) or all.
        staged: list[tuple[Path, Path]] = []
        try:
            for edit in self.edits:
                dest = base / edit.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                _drop_stale_temps(dest)
                fd, name = tempfile.mkstemp(prefix=_temp_prefix(dest, os.getpid()), dir=dest.parent)
                tmp = Path(name)
                staged.append((tmp, dest))
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    handle.write(("\ufeff" if boms.get(edit.path) else "") + edit.after)
                tmp.chmod(dest.stat().st_mode & 0o7777 if dest.exists() else 0o644)
            with interrupt.deferred():
                for tmp, dest in staged:
                    tmp.replace(dest)
        except BaseException:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        return tuple(edit.path for edit in self.edits)

    @property
    def title(self) -> str:
        """``promote(<pipeline>/<to>): <app> <old> -> <new>`` (``rollback(...)`` likewise)."""
        where = f"{self.kind}({self.pipeline}/{self.target.name})"
        if len(self.moves) == 1:
            move = self.moves[0]
            return f"{where}: {move.name} {move.old_version or 'none'} -> {move.new_version}"
        names = ", ".join(m.name for m in self.moves)
        return f"{where}: {names} from {self.source.name}"


# -- choosing what moves ---------------------------------------------------------------


def check_order(pipeline: Pipeline, source: Stage, target: Stage, *, skip_stages: bool) -> None:
    """TO must be the wave right after FROM (later waves with ``skip_stages``)."""
    orders = sorted({s.order for s in pipeline.stages})
    if target.order <= source.order:
        raise PromotionError(
            f"cannot promote backwards or sideways: {target.name} (stage {target.order}) does not "
            f"come after {source.name} (stage {source.order}) in pipeline {pipeline.name}"
        )
    following = orders[orders.index(source.order) + 1]
    if target.order != following and not skip_stages:
        skipped = [s.name for s in pipeline.stages if source.order < s.order < target.order]
        raise PromotionError(
            f"{target.name} is not the next stage after {source.name} in pipeline "
            f"{pipeline.name} (it would skip {', '.join(skipped)}); use --skip-stages to jump"
        )


def resolve_apps(
    requested: Sequence[str] | None, source: StageStatus, target: StageStatus
) -> list[App]:
    """The apps of ``source`` named by ``requested`` (``Kind/name`` or ``name``), or, for
    None, every app whose versions differ between the stages."""
    if requested is None:
        return [
            app
            for app in source.apps
            if (other := target.app(app.key)) is not None and _signature(app) != _signature(other)
        ]
    chosen: list[App] = []
    for token in requested:
        matches = [a for a in source.apps if token in (a.key, a.name)]
        if not matches:
            choices = [a.key for a in source.apps] + [a.name for a in source.apps]
            raise LookupFailed.from_choices(f"app in stage {source.stage.name}", token, choices)
        if len(matches) > 1:
            keys = ", ".join(a.key for a in matches)
            raise LookupFailed(f"app name {token!r} is ambiguous ({keys}); write Kind/name")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def _signature(app: App) -> tuple[object, ...]:
    if app.kind == "HelmRelease":
        return (app.version,)
    return tuple(
        sorted((i.container, i.init, i.image.tag or "", i.image.digest or "") for i in app.images)
    )


def container_changes(source: App, target: App) -> list[tuple[ContainerImage, ImageRef]]:
    """For each container of ``target`` also in ``source``: its new image, when it changes.

    The target keeps its own image name (a registry mirror set by ``images: newName`` stays);
    only the tag and digest come from the source."""
    out = []
    by_name = {(i.container, i.init): i for i in source.images}
    for current in target.images:
        if not current.image.name:
            continue  # no image in the target: there is no repository to keep
        twin = by_name.get((current.container, current.init))
        if twin is None:
            twin = next((i for i in source.images if i.container == current.container), None)
        if twin is None:
            continue
        wanted = current.image.with_version(twin.image.tag, twin.image.digest)
        if wanted != current.image:
            out.append((current, wanted))
    return out


def _temp_prefix(dest: Path, pid: int) -> str:
    return f".{dest.name}.promoter-{pid}-"


def _drop_stale_temps(dest: Path) -> None:
    """Remove the temporary files a killed run (SIGKILL) left beside ``dest``."""
    head = f".{dest.name}.promoter-"
    try:
        names = [p for p in dest.parent.iterdir() if p.name.startswith(head)]
    except OSError:
        return
    for path in names:
        pid = path.name[len(head) :].partition("-")[0]
        if pid.isdigit() and not alive(int(pid)):
            path.unlink(missing_ok=True)
