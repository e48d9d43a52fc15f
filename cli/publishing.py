"""What ``promote`` and ``rollback`` share on the Typer side: the git/pull request options,
gathered into one ``GitFlags`` (``cli.change`` holds the choices and runs the change)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import typer

from cli.change import ChangeOutput, GitFlags, Provider

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
