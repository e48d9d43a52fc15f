"""Packages whose exported names are imported on first use (PEP 562 ``__getattr__``).

A package ``__init__`` that re-exports its modules' names makes importing any one of its
modules import all of them; ``promoter.kustomize`` (a render does not need the native
builder) and ``promoter.registry`` (a reference does not need the HTTP client) export
lazily instead, their names listed for type checkers under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, where: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: name -> the submodule (``where``) that
    defines it, imported when first asked for and then kept in ``namespace``."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
