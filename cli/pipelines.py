"""The ``pipelines`` Typer app: its commands, built when first used (``cli.subcommands``),
and listed by ``pipelines --help`` from their names and help texts alone.  Kept out of
``cli.main`` so that the console script can answer a warm ``status -o json`` without
importing Typer (``cli.fastpath``, issue 15)."""

from __future__ import annotations

from typing import Any, cast

import typer

from cli.subcommands import LazyCommands
from cli.usage import UsageGroup

COMMANDS = {
    "status": "cli.status:status",
    "promote": "cli.promote:promote",
    "check": "cli.check:check",
    "diff": "cli.diff:diff",
    "history": "cli.history:history",
    "rollback": "cli.rollback:rollback",
    "wait": "cli.wait:wait",
    "report": "cli.report:report",
}
"""The commands of ``pipelines``, in the order its help lists them."""

SUMMARIES = {
    "status": "Show every app's version in every stage of every pipeline.",
    "promote": "Promote an app's version from one stage to the next, as a pull request.",
    "check": "Validate every pipeline and stage of the repository (for CI); exit 1 when an "
    "error\nremains (with --strict, a warning too).",
    "diff": "Show the rendered difference between two stages (kustomize), object by object:\n"
    "version changes first (what a promotion carries), then what stays stage-specific.",
    "history": "Every change of an app's version in a stage, newest first, from git history.",
    "rollback": "Roll a stage back to an earlier version of an app, as a pull request.",
    "wait": "Wait until STAGE's Flux Kustomization applied a commit, is Ready, and its apps "
    "are\nrolled out with git's images.",
    "report": "A release overview: versions per stage, pending promotions and their gates, "
    "history.",
}
"""Each command's help text (its function's docstring, which a test checks): what
``pipelines --help`` lists without importing and building every command."""


class PipelinesGroup(UsageGroup):
    """``pipelines``: each command is built when first used (``cli.subcommands``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        names = self.context_settings.get("help_option_names", ["--help"])
        self.commands = cast(Any, LazyCommands(COMMANDS, names))

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        """The names, without building the commands."""
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, or while the help lists them, its stand-in (``SUMMARIES``)."""
        if self._listing and cmd_name in SUMMARIES:
            return cast(LazyCommands, self.commands).summary(cmd_name, SUMMARIES[cmd_name])
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The help, listing the commands from ``SUMMARIES``."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="pipelines",
    help="See and promote app versions through kustomize + Flux GitOps pipelines.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    cls=PipelinesGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """See and promote app versions through kustomize + Flux GitOps pipelines."""
