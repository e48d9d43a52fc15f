"""Command-line conventions every command shares: usage errors as one ``error:`` line and a
usage hint (exit 2, no boxes), ``--version`` on both entry points, and help text without
Typer's ``<bool>``/``<str>`` type labels (flags show nothing, values their ``NAME``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from typing import Any, cast

import typer
from typer._click.types import StringParamType
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from cli.errors import EXIT_USAGE, fail
from cli.richhelp import LightHelp

# Since 0.26 Typer carries its own click, whose exceptions derive from typer.TyperException
# (usage errors: exit code 2, typer.BadParameter among them).  The help tidying below relies on
# how Typer 0.26-0.28 renders help (pinned in pyproject.toml: 0.29 coerces values through
# pydantic, whose import costs every command a few hundred ms, issue 15).
Command = TyperCommand | TyperGroup

DISTRIBUTION = "kustomize-promoter"


def version() -> str:
    """The installed version of kustomize-promoter."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown"


def usage_error(message: str) -> typer.BadParameter:
    """A usage error (exit 2) for a wrong combination of options or arguments."""
    return typer.BadParameter(message)


def _show_version(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    sys.stdout.write(f"{ctx.find_root().info_name} {version()}\n")
    ctx.exit(0)


def _version_option() -> TyperOption:
    """``--version``, built by Typer so that its help renders like every other option."""

    def _placeholder(
        shown: bool = typer.Option(
            False,
            "--version",
            is_eager=True,
            expose_value=False,
            callback=_show_version,
            help="Show the version and exit.",
        ),
    ) -> None:
        """Carries ``--version``."""

    holder = typer.Typer(add_completion=False)
    holder.command()(_placeholder)
    option = typer.main.get_command(holder).params[0]
    assert isinstance(option, TyperOption)
    return option


class _PlainArgument(TyperArgument):
    """An argument named in the usage line as ``APP`` (required) or ``[APP]`` (optional),
    without Typer's braces, and in the help without a ``<str>`` type label."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        """``APP``, ``APP...`` (several), ``[APP]`` in the usage line when optional."""
        name = self.metavar or (self.name or "").upper()
        if self.nargs != 1 and " " not in name:
            name = f"{name}..."
        if usage and not self.required and not name.startswith("["):
            name = f"[{name}]"
        return name


class _Unlabelled(StringParamType):
    """A string whose help shows no ``<str>`` label: the argument's name says what to give."""

    def get_metavar(self, param: Any, ctx: Any) -> str:
        """Nothing: Typer's help labels a type only when this is ``None``."""
        return ""


_METAVARS = {
    "repo": "PATH",
    "timeout": "DURATION",
    "since": "DATE",
    "max_count": "N",
    "base": "BRANCH",
    "remote": "NAME",
    "github_repo": "OWNER/NAME",
    "gitlab_project": "GROUP/NAME",
    "label": "LABEL",
    "reviewer": "LOGIN",
    "assignee": "USER",
    "to": "VERSION",
    "commit": "SHA",
    "pipeline": "P",
    "stage": "S",
    "context": "CONTEXT",
    "title": "TEXT",
    "body_file": "FILE",
}
"""Value names shown in help (the option's name in capitals otherwise)."""


def tidy(command: Command, help_names: Sequence[str] | None = None) -> None:
    """Give ``command`` (and its subcommands) plain metavars: nothing for a flag, ``NAME`` for
    a value, ``a|b`` for a choice, ``APP`` for an argument ``app``."""
    names = list(help_names or command.context_settings.get("help_option_names", ["--help"]))
    help_option = command.get_help_option(typer.Context(command, help_option_names=names))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = (param.name or "").upper()
            param.__class__ = _PlainArgument
            if type(param.type) is StringParamType:
                param.type = _Unlabelled()
        elif isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = _option_metavar(param)
    subs: Any = getattr(command, "commands", {})
    # Commands built on first use (cli.subcommands) are tidied as they are built.
    for sub in subs.built() if hasattr(subs, "built") else subs.values():
        if isinstance(sub, (TyperCommand, TyperGroup)):
            tidy(sub, names)


def _option_metavar(option: TyperOption) -> str:
    if option.is_flag or option.count:
        return ""
    choices = getattr(option.type, "choices", None)
    if choices:
        return "|".join(str(c.value) if isinstance(c, Enum) else str(c) for c in choices)
    if option.name in _METAVARS:
        return _METAVARS[option.name]
    longest = max(option.opts, key=len).lstrip("-")
    return longest.upper().replace("-", "_")


def _main(
    command: Command, base: Any, args: Sequence[str] | None, prog: str | None, extra: Any
) -> Any:
    """Run ``command`` (``base``: its Typer class's bound ``main``) as ``click`` does in
    standalone mode, but print a usage error as one ``error:`` line and a usage hint (exit 2),
    never as a box."""
    if not any(p.name == "version" for p in command.params):
        command.params.append(_version_option())
    tidy(command)
    extra.pop("standalone_mode", None)
    try:
        code = base(args, prog, standalone_mode=False, **extra)
    except typer.TyperException as exc:
        if exc.exit_code == EXIT_USAGE:
            _show_usage_error(exc)
        else:
            fail(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:
        fail("aborted")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _show_usage_error(exc: typer.TyperException) -> None:
    """``error: <message>`` and ``usage: <command line> (<prog> -h for help)``."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed instead
        return
    plain = isinstance(exc, typer.BadParameter) and exc.param is None and not exc.param_hint
    fail(_lower_first(exc.message if plain else exc.format_message()))
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return
    usage = ctx.get_usage().strip()
    usage = usage[len("Usage:") :].strip() if usage.startswith("Usage:") else usage
    sys.stderr.write(f"usage: {' '.join(usage.split())}  (see '{ctx.command_path} -h')\n")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class _Conventions:
    """Standalone runs get the shared conventions (see the module); others run as Typer's.
    Mixed in before Typer's group or command class, whose ``main`` it wraps."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Standalone runs get the conventions; others run as Typer's."""
        base = cast(Any, super()).main  # the Typer class mixed in after this one
        if not standalone_mode:
            return base(args, prog_name, complete_var, False, windows_expand_args, **extra)
        extra["complete_var"] = complete_var
        return _main(cast(Command, self), base, args, prog_name, extra)


class UsageGroup(_Conventions, LightHelp, TyperGroup):
    """The ``pipelines`` group with the shared conventions (see the module)."""


class UsageCommand(_Conventions, LightHelp, TyperCommand):
    """The ``promote`` command with the shared conventions (see the module)."""
