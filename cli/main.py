"""Entry points: ``pipelines`` (status, promote, ...) and ``promote`` (a shortcut)."""

from __future__ import annotations

import typer

from cli import check as _check
from cli import diff as _diff
from cli import history as _history
from cli import promote as _promote
from cli import report as _report
from cli import rollback as _rollback
from cli import status as _status
from cli import wait as _wait
from cli.errors import run
from cli.richhelp import HelpCommand
from cli.usage import UsageCommand, UsageGroup

app = typer.Typer(
    name="pipelines",
    help="See and promote app versions through kustomize + Flux GitOps pipelines.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    cls=UsageGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("status", cls=HelpCommand)(_status.status)
app.command("promote", cls=HelpCommand)(_promote.promote)
app.command("check", cls=HelpCommand)(_check.check)
app.command("diff", cls=HelpCommand)(_diff.diff)
app.command("history", cls=HelpCommand)(_history.history)
app.command("rollback", cls=HelpCommand)(_rollback.rollback)
app.command("wait", cls=HelpCommand)(_wait.wait)
app.command("report", cls=HelpCommand)(_report.report)


@app.callback()
def _root() -> None:
    """See and promote app versions through kustomize + Flux GitOps pipelines."""


promote_app = typer.Typer(
    name="promote",
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
promote_app.command(cls=UsageCommand)(_promote.promote)


def pipelines_main() -> None:
    """The ``pipelines`` console script."""
    run(app)


def promote_main() -> None:
    """The ``promote`` console script (same as ``pipelines promote``)."""
    run(promote_app)
