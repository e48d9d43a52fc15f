"""Typer's Rich help, without importing what our help never shows (issue 15: ``--help`` in
0.2 s).

``typer.rich_utils`` imports ``rich.markdown`` (markdown-it) and ``rich.traceback`` (Pygments,
``rich.pretty``, attrs) at its top, for Markdown help (``rich_markup_mode="markdown"``, which
no command uses) and pretty tracebacks (disabled).  Those imports are about 40% of the CPU
time of ``pipelines --help``.  ``import_rich_utils`` imports it with stand-ins for those two
names that import the real class on first use: the help renders exactly as before, and
anything that does use them still gets Rich's own classes.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from typer.core import TyperCommand

_DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _Deferred(type):
    """A stand-in class: calling it, or reading an attribute, uses the real class."""

    _module: str

    def real(cls) -> Any:
        """The class this stands in for (its module imported now)."""
        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls.real(), name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.real()(*args, **kwargs)


def import_rich_utils() -> None:
    """Import ``typer.rich_utils`` (once) with deferred ``Markdown`` and ``Traceback``."""
    if "typer.rich_utils" in sys.modules:
        return
    placeholders: dict[str, types.ModuleType] = {}
    for name, attr in _DEFERRED.items():
        if name not in sys.modules:
            module = types.ModuleType(name)
            setattr(module, attr, _Deferred(attr, (), {"_module": name}))
            placeholders[name] = sys.modules[name] = module
    try:
        importlib.import_module("typer.rich_utils")
    finally:  # later imports of these modules get the real ones
        for name, module in placeholders.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


class LightHelp:
    """Mixed in before Typer's command or group class: its help imports less."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Typer's help, after ``import_rich_utils``."""
        import_rich_utils()
        super().format_help(ctx, formatter)  # type: ignore[misc]


class HelpCommand(LightHelp, TyperCommand):
    """A subcommand whose help imports less (see the module)."""
