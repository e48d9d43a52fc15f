"""The subcommands of ``pipelines``, each built (its module imported, its options made by
Typer) when first used: ``pipelines status`` builds one command instead of eight, and
``pipelines --help`` lists them from their names and help texts alone (issue 15)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping, Sequence

import typer
from typer.core import TyperCommand

from cli.richhelp import HelpCommand
from cli.usage import tidy


def build(name: str, target: str, help_names: Sequence[str]) -> TyperCommand:
    """The command ``name`` of the function ``target`` (``"module:function"``), as Typer
    builds a command registered with ``app.command(name)``, help tidied."""
    module, function = target.split(":")
    holder = typer.Typer(add_completion=False)
    holder.command(name, cls=HelpCommand)(getattr(importlib.import_module(module), function))
    command = typer.main.get_command(holder)
    assert isinstance(command, TyperCommand)
    tidy(command, help_names)
    return command


class LazyCommands(MutableMapping[str, TyperCommand]):
    """A group's commands by name, in the order given, each built on first access."""

    def __init__(self, targets: Mapping[str, str], help_names: Sequence[str]) -> None:
        self._targets = dict(targets)
        self._help_names = list(help_names)
        self._built: dict[str, TyperCommand] = {}

    def summary(self, name: str, help_text: str) -> TyperCommand:
        """The built command ``name``, or a stand-in holding only its name and help (what
        a group's help lists)."""
        found = self._built.get(name)
        return found if found is not None else HelpCommand(name=name, help=help_text)

    def built(self) -> list[TyperCommand]:
        """The commands built so far."""
        return list(self._built.values())

    def __getitem__(self, name: str) -> TyperCommand:
        found = self._built.get(name)
        if found is None:
            found = self._built[name] = build(name, self._targets[name], self._help_names)
        return found

    def __setitem__(self, name: str, command: TyperCommand) -> None:
        self._targets.setdefault(name, "")
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._targets[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)
