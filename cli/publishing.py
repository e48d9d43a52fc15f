"""What ``promote`` and ``rollback`` share: the git/pull request options, and calling
``promoter.publish.publish_change`` (dry run, working tree, or branch and pull request)
and rendering its result."""

from __future__ import annotations

import functools
import inspect
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

if TYPE_CHECKING:
    from promoter.pinning import PinRequest
    from promoter.publish import ChangeMode, ChangeResult, PlanMaker, PromotionRequest


class ChangeOutput(str, Enum):
    """Output formats of ``promote`` and ``rollback``."""

    text = "text"
    json = "json"


DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the plan and the diff; change nothing.")
]
WriteOption = Annotated[
    bool, typer.Option("--write", help="Only edit the files of the working tree; no git.")
]
NoPushOption = Annotated[bool, typer.Option("--no-push", help="Commit on a local branch only.")]
NoPrOption = Annotated[
    bool, typer.Option("--no-pr", help="Push the branch but open no pull request.")
]
BaseOption = Annotated[
    str | None, typer.Option("--base", help="Base branch (default: the remote's default).")
]
RemoteOption = Annotated[
    str, typer.Option("--remote", help="Git remote to fetch from and push to.")
]
GithubRepoOption = Annotated[
    str | None,
    typer.Option(
        "--github-repo", help="OWNER/NAME (default: GITHUB_REPOSITORY or the remote URL)."
    ),
]
# The defaults named in these help texts are promoter.pr.DEFAULT_LABELS (a test checks).
LabelOption = Annotated[
    list[str] | None,
    typer.Option("--label", help="Pull request label (repeatable; default: promotion)."),
]
RollbackLabelOption = Annotated[
    list[str] | None,
    typer.Option("--label", help="Pull request label (repeatable; default: rollback)."),
]
ReviewerOption = Annotated[
    list[str] | None,
    typer.Option("--reviewer", help="Reviewer login or org/team (repeatable)."),
]
DraftOption = Annotated[bool, typer.Option("--draft", help="Open the pull request as a draft.")]
IgnoreGatesOption = Annotated[
    bool,
    typer.Option("--ignore-gates", help="Go ahead despite soak or freeze gates (said in the PR)."),
]
OutputOption = Annotated[ChangeOutput, typer.Option("--output", "-o", help="Output format.")]
PinDigestOption = Annotated[
    bool,
    typer.Option(
        "--pin-digest", help="Pin TO to the digest of FROM's tag (resolved in TO's repository)."
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Promote over a line Flux image automation owns; "
        "with --pin-digest: pin a mirror's digest that differs.",
    ),
]
InsecureRegistryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--insecure-registry",
        help="Registry HOST[:PORT] to reach over plain HTTP (repeatable).",
        metavar="HOST",
    ),
]
NoChangelogOption = Annotated[
    bool,
    typer.Option(
        "--no-changelog", help="Skip 'What changed' (no registry or GitHub compare calls)."
    ),
]


AlsoAffectedOption = Annotated[
    bool,
    typer.Option(
        "--also-affected",
        help="Go ahead when the edit also changes other stages that read the file (listed).",
    ),
]


class Provider(str, Enum):
    """Code hosts that pull (merge) requests are opened on."""

    github = "github"
    gitlab = "gitlab"


ProviderOption = Annotated[
    Provider | None,
    typer.Option(
        "--provider",
        help="github or gitlab (default: from the remote URL's host, then GITLAB_CI; github).",
    ),
]
GitlabProjectOption = Annotated[
    str | None,
    typer.Option(
        "--gitlab-project",
        help="GROUP/[SUB/...]NAME (default: CI_PROJECT_PATH or the remote URL).",
    ),
]
AssigneeOption = Annotated[
    str | None, typer.Option("--assignee", help="Assign the pull/merge request to USER.")
]
AutoMergeOption = Annotated[
    bool,
    typer.Option("--auto-merge", help="Merge once the checks (GitLab: the pipeline) pass."),
]
TitleOption = Annotated[
    str | None,
    typer.Option("--title", help="Pull (merge) request title (default: the generated one)."),
]
BodyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--body-file",
        help="Append this file's text to the generated pull request body ('-': stdin).",
    ),
]


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


_SHARED_OPTIONS: tuple[tuple[str, object], ...] = (
    ("dry_run", DryRunOption),
    ("write", WriteOption),
    ("no_push", NoPushOption),
    ("no_pr", NoPrOption),
    ("ignore_gates", IgnoreGatesOption),
    ("base", BaseOption),
    ("remote", RemoteOption),
    ("github_repo", GithubRepoOption),
    ("label", None),  # each command names its own default label in the help
    ("reviewer", ReviewerOption),
    ("draft", DraftOption),
    ("provider", ProviderOption),
    ("gitlab_project", GitlabProjectOption),
    ("assignee", AssigneeOption),
    ("auto_merge", AutoMergeOption),
    ("pin_digest", PinDigestOption),
    ("force", ForceOption),
    ("insecure_registry", InsecureRegistryOption),
    ("no_changelog", NoChangelogOption),
    ("output", OutputOption),
    ("also_affected", AlsoAffectedOption),
    ("title", TitleOption),
    ("body_file", BodyFileOption),
)
"""The options ``promote`` and ``rollback`` share, in help order; defaults are GitFlags'."""

_Command = TypeVar("_Command", bound=Callable[..., Any])


def publishing_options(label_option: object) -> Callable[[_Command], _Command]:
    """Give a command the shared publishing options: they are added to its signature
    (after its own parameters) and reach it as one ``flags: GitFlags`` argument."""

    def decorate(command: _Command) -> _Command:
        signature = inspect.signature(command, eval_str=True)
        own = [p for name, p in signature.parameters.items() if name != "flags"]
        defaults = GitFlags()
        annotations = {
            name: label_option if annotation is None else annotation
            for name, annotation in _SHARED_OPTIONS
        }
        shared = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=getattr(defaults, name),
                annotation=annotations[name],
            )
            for name, _ in _SHARED_OPTIONS
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            flags = GitFlags(**{name: kwargs.pop(name) for name, _ in _SHARED_OPTIONS})
            if flags.dry_run and flags.write:
                from cli.usage import usage_error

                raise usage_error("--dry-run and --write exclude each other")
            return command(**kwargs, flags=flags)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*own, *shared]
        )
        wrapper.__annotations__ = {
            **{k: v for k, v in command.__annotations__.items() if k != "flags"},
            **annotations,
        }
        return cast(_Command, wrapper)

    return decorate


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
