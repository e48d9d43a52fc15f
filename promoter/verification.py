"""Verifying a promotion with kustomize: the target stage rendered as it is and with the
edits (in a temporary copy of what the render reads); the only differences must be the
planned versions.

Both renders run in the background from the moment their input is known: the current one
when the target stage is chosen, the edited one when the edits are (a guess that the
planner confirms or replaces).  The planning goes on meanwhile, so a promotion costs about
one render, not two renders after the planning (issue 15).
"""

from __future__ import annotations

import difflib
import posixpath
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from promoter import guess, prerender, tempdirs
from promoter.errors import PromotionError, RenderError
from promoter.images import ImageRef
from promoter.model import App, Stage
from promoter.promotion import FileEdit
from promoter.repo import GitOpsRepo
from promoter.workloads import containers

if TYPE_CHECKING:
    from promoter.kustomize.render import RenderJob

Expected = dict[str, dict[tuple[str, bool], ImageRef] | str]
"""App key -> its containers' planned images, or a HelmRelease's planned chart version."""

_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Verification:
    """The kustomize renders verifying one promotion into ``target`` (a context manager:
    leaving it kills the renders still running and removes their copies).

    ``early``: start rendering the target as it is now; otherwise ``diff`` starts it."""

    def __init__(self, repo: GitOpsRepo, target: Stage, *, early: bool) -> None:
        self._repo = repo
        self._target = target
        self._before: RenderJob | None = None
        self._after: tuple[tuple[FileEdit, ...], RenderJob] | None = None
        self._copies: list[Path] = []
        if early:
            # The render ``prerendering`` started before the repository was read, when the
            # discovery agrees on what to render.
            self._before = self._adopted() or self._start(None)

    def expect(self, edits: Sequence[FileEdit]) -> None:
        """Start rendering the target with ``edits`` (unless that render already runs)."""
        key = tuple(edits)
        if self._after is not None:
            if self._after[0] == key:
                return
            self._after[1].close()
        tmp = tempdirs.make("promoter-verify-")
        self._copies.append(tmp)
        copy = tmp / "repo"
        copy_files(self._repo, self._target, copy, edits)
        self._after = (key, self._start(copy))

    def diff(self, edits: Sequence[FileEdit], expected: Expected) -> str:
        """Check that kustomize renders the target after ``edits`` as before them with the
        ``expected`` versions; the unified diff of the two renders.  Raises
        ``PromotionError`` when it renders otherwise, ``RenderError`` when it cannot."""
        if self._before is None:
            self._before = self._start(None)
        self.expect(edits)
        assert self._after is not None
        target = self._target
        guess.check_meanwhile()  # instead of waiting for kustomize (a plan from the cache)
        before_text = self._before.result()
        # What needs only the first render is done while kustomize renders the edits.
        before_docs = [d for d in yaml.load_all(before_text, Loader=_FAST_LOADER) if d]
        apps = self._repo.stage_status(target).apps
        try:
            after_text = self._after[1].result()
        except RenderError:
            # A file kustomize reads that no kustomization names: the stage's neighbourhood.
            tmp = tempdirs.make("promoter-verify-")
            self._copies.append(tmp)
            wide = tmp / "repo"
            copy_neighbourhood(self._repo, target, wide)
            write_edits(wide, edits)
            after_text = self._repo.render_text(target, wide)
        after_docs = [d for d in yaml.load_all(after_text, Loader=_FAST_LOADER) if d]
        wanted = [_substitute(doc, expected, apps) for doc in before_docs]
        if wanted != after_docs:
            raise PromotionError(
                f"verification failed: kustomize renders {target.name} differently than "
                "planned after the edit; nothing written"
            )
        lines = difflib.unified_diff(
            before_text.splitlines(keepends=True),
            after_text.splitlines(keepends=True),
            f"{target.path} (before)",
            f"{target.path} (after)",
        )
        return "".join(lines)

    def close(self) -> None:
        """Kill the renders still running; remove the copies."""
        if self._before is not None:
            self._before.close()
        if self._after is not None:
            self._after[1].close()
        for tmp in self._copies:
            shutil.rmtree(tmp, ignore_errors=True)
        self._copies.clear()

    def __enter__(self) -> Verification:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _start(self, root: Path | None) -> RenderJob:
        return self._repo.start_render(self._target, root)

    def _adopted(self) -> RenderJob | None:
        """What ``_start(None)`` would start, already running (``promoter.prerender``)."""
        spec = self._repo.render_spec(self._target)
        return prerender.adopt(self._repo.root, self._target, spec)


# -- the copy kustomize renders --------------------------------------------------------


def copy_files(repo: GitOpsRepo, stage: Stage, copy: Path, edits: Sequence[FileEdit]) -> None:
    """Copy to ``copy`` the files a render of ``stage`` reads, with ``edits`` applied."""
    from promoter.kustomize.references import stage_reads

    # The files the native build read, and every file kustomize may read besides (generator
    # sources, charts, ...): the render costs what it costs, not a copy of the repository.
    _copy(repo, stage_reads(repo.source, repo.stage_files(stage), stage.path), copy)
    (copy / stage.path).mkdir(parents=True, exist_ok=True)
    write_edits(copy, edits)


def copy_neighbourhood(repo: GitOpsRepo, stage: Stage, copy: Path) -> None:
    """The stage's files, and every file directly in the directories they are in (kustomize
    may read a file nothing names): regular files inside the repository only, read through
    the repository's safe reader, links never followed out (issue 11), never a whole tree
    below a directory (issue 10 §6)."""
    from promoter.kustomize.references import stage_reads

    files = stage_reads(repo.source, repo.stage_files(stage), stage.path)
    folders = {posixpath.dirname(f) for f in files} | {stage.path}
    for folder in folders:
        files.update(f for f in repo.source.files(folder) if posixpath.dirname(f) == folder)
    _copy(repo, files, copy)


def write_edits(copy: Path, edits: Sequence[FileEdit]) -> None:
    """Write the edited files into ``copy``."""
    for edit in edits:
        dest = copy / edit.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", encoding="utf-8", newline="") as handle:
            handle.write(edit.after)


def _copy(repo: GitOpsRepo, files: Iterable[str], copy: Path) -> None:
    for rel in sorted(set(files)):
        try:
            data = repo.source.read_bytes(rel)
        except OSError:
            continue  # not a regular file inside the repository: kustomize will say so
        dest = copy / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


# -- what the render should be ---------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _substitute(doc: Any, expected: Expected, apps: Sequence[App]) -> Any:
    """A rendered object as it should look after the promotion."""
    if not isinstance(doc, dict):
        return doc
    kind = doc.get("kind")
    name = (doc.get("metadata") or {}).get("name")
    app = next((a for a in apps if a.kind == kind and a.rendered_name == name), None)
    if app is None or app.key not in expected:
        return doc
    planned = expected[app.key]
    out = _plain(doc)
    if isinstance(planned, str):
        out["spec"]["chart"]["spec"]["version"] = planned
        return out
    for container, init in containers(out):
        name = container.get("name")
        new = planned.get((name, init)) if isinstance(name, str) else None
        if new is not None:
            container["image"] = str(new)
    return out
