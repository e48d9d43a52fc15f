"""The public API: ``promoter.__all__`` is pinned, sorted, and every name in it importable."""

from __future__ import annotations

import importlib
import inspect

import promoter

PUBLIC = [
    "App",
    "ContainerImage",
    "FluxRef",
    "GitError",
    "GitHubError",
    "GitOpsRepo",
    "ImageRef",
    "KustomizeError",
    "LookupFailed",
    "ManifestError",
    "Pipeline",
    "PipelineStatus",
    "PromoterError",
    "PromotionError",
    "RenderError",
    "RepoError",
    "RepoStatus",
    "Stage",
    "StageStatus",
    "VersionSource",
]


def test_all_is_pinned() -> None:
    """promoter.__all__ is exactly the reviewed public API (update PUBLIC on purpose)."""
    expected = PUBLIC
    assert expected == list(promoter.__all__)


def test_all_is_sorted_without_duplicates() -> None:
    """__all__ is kept sorted and lists every name once."""
    expected = sorted(set(promoter.__all__))
    assert expected == list(promoter.__all__)


def test_every_exported_name_is_importable() -> None:
    """``from promoter import NAME`` works for every name in __all__."""
    module = importlib.import_module("promoter")
    missing = [name for name in promoter.__all__ if not hasattr(module, name)]
    nothing: list[str] = []
    assert nothing == missing
    namespace: dict[str, object] = {}
    exec(f"from promoter import {', '.join(promoter.__all__)}", namespace)
    expected = set(promoter.__all__)
    assert expected == set(namespace) - {"__builtins__"}


def test_star_import_gives_exactly_all() -> None:
    """``from promoter import *`` binds exactly the names of __all__."""
    namespace: dict[str, object] = {}
    exec("from promoter import *", namespace)
    expected = set(promoter.__all__)
    assert expected == set(namespace) - {"__builtins__"}


def test_exported_names_are_documented_classes() -> None:
    """Every export is a class with a docstring of its own."""
    undocumented = [
        name
        for name in promoter.__all__
        if not inspect.isclass(getattr(promoter, name))
        or not (getattr(promoter, name).__doc__ or "").strip()
    ]
    nothing: list[str] = []
    assert nothing == undocumented
