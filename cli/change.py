"""A change (``promote``, ``rollback``) as the command line asked for it: the choices of
how far it goes (``GitFlags``), ``promoter.publish.publish_change`` called with them and
its result printed.  No Typer here: the ``promote`` script's fast path (``cli.fastpath``)
runs a dry run without importing it (issue 15); ``cli.publishing`` turns the same choices
into Typer options."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promoter.pinning import PinRequest
    from promoter.publish import ChangeMode, ChangeResult, PlanMaker, PromotionRequest


class ChangeOutput(str, Enum):
    """Output formats of ``promote`` and ``rollback``."""

    text = "text"
    json = "json"


class Provider(str, Enum):
    """Code hosts that pull (merge) requests are opened on."""

    github = "github"
    gitlab = "gitlab"


@dataclass(frozen=True)
class GitFlags:
    """The command-line choices of how far a change goes and where it is published,
    shared by ``promote`` and ``rollback`` (see ``publishing_options``)."""

    dry_run: bool = False
    write: bool = False
    no_push: bool = False
    no_pr: bool = False
    base: str | None = None
    remote: str = "origin"
    github_repo: str | None = None
    label: list[str] | None = None
    reviewer: list[str] | None = None
    draft: bool = False
    ignore_gates: bool = False
    provider: Provider | None = None
    gitlab_project: str | None = None
    assignee: str | None = None
    auto_merge: bool = False
    pin_digest: bool = False
    force: bool = False
    insecure_registry: list[str] | None = None
    no_changelog: bool = False
    output: ChangeOutput = ChangeOutput.text
    also_affected: bool = False
    title: str | None = None
    body_file: Path | None = None

    @property
    def insecure_registries(self) -> tuple[str, ...]:
        """``--insecure-registry`` hosts."""
        return tuple(self.insecure_registry or ())

    def pin(self) -> PinRequest:
        """The digest pinning asked for (``--pin-digest``, ``--force``)."""
        from promoter.pinning import PinRequest

        return PinRequest(self.pin_digest, self.force, self.insecure_registries)


def read_body_file(path: Path | None) -> str | None:
    """The text of ``--body-file`` (``-``: standard input); one error line when unreadable."""
    if path is None:
        return None
    if str(path) == "-":
        return sys.stdin.read()
    import promoter

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise promoter.PromoterError(f"--body-file {path}: {reason}") from exc


def run_change(root: Path, flags: GitFlags, request: PromotionRequest | PlanMaker) -> ChangeResult:
    """Plan in the working tree (``--dry-run``/``--write``), or publish from a worktree."""
    import promoter

    if flags.dry_run and flags.write:
        raise promoter.PromoterError("--dry-run and --write exclude each other")
    mode: ChangeMode = "dry-run" if flags.dry_run else "write" if flags.write else "publish"
    options = promoter.PublishOptions(
        remote=flags.remote,
        base=flags.base,
        push=not flags.no_push,
        pull_request=not (flags.no_pr or flags.no_push),
        github_repo=flags.github_repo,
        labels=tuple(flags.label) if flags.label is not None else None,
        reviewers=tuple(flags.reviewer or ()),
        draft=flags.draft,
        ignore_gates=flags.ignore_gates,
        provider=flags.provider.value if flags.provider is not None else None,
        gitlab_project=flags.gitlab_project,
        assignee=flags.assignee,
        auto_merge=flags.auto_merge,
        changelog=not flags.no_changelog,
        insecure_registries=flags.insecure_registries,
        title=flags.title,
        body_extra=read_body_file(flags.body_file),
    )
    from promoter.planner import drafts

    # The output's modules are imported while kustomize verifies the plan (issue 15).
    output = "cli.jsonout" if flags.output is ChangeOutput.json else "cli.views"
    try:
        with drafts(lambda _: _import_in_background(output)):
            result = promoter.publish_change(root, request, options, mode)
    except promoter.ChangeRequestFailed as exc:
        command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
        raise promoter.PromoterError(f"{exc}; retry with: {command}") from exc
    if flags.output is ChangeOutput.json:
        from cli.jsonout import write_json
        from promoter.serialize import change_dict

        write_json(change_dict(result))
    else:
        from cli.views import print_change

        print_change(result)
    return result


def _import_in_background(module: str) -> None:
    """Import ``module`` on a daemon thread (once): a plan's drafts are made before
    kustomize renders them, and the main thread then waits on the render."""
    if module in sys.modules or module in _IMPORTING:
        return
    _IMPORTING.add(module)
    import importlib
    import threading

    threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


_IMPORTING: set[str] = set()
