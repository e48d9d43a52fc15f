"""The public API: ``promoter.__all__`` is pinned, sorted, and every name in it importable."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import promoter

PUBLIC = [
    "App",
    "AppMove",
    "Change",
    "ChangeRequestExists",
    "ChangeRequestFailed",
    "ChangeRequestInfo",
    "ChangeRequests",
    "ChangeResult",
    "CheckReport",
    "ClusterReport",
    "ContainerImage",
    "FileEdit",
    "Finding",
    "FluxRef",
    "ForgeError",
    "GateClosed",
    "GitError",
    "GitHubError",
    "GitLabError",
    "GitOpsRepo",
    "HistoryEntry",
    "ImageChange",
    "ImageRef",
    "KustomizeError",
    "LookupFailed",
    "ManifestError",
    "MergeRequestExists",
    "MergeRequestFailed",
    "Normalisation",
    "ObjectDiff",
    "Pipeline",
    "PipelineStatus",
    "PromoterError",
    "PromotionError",
    "PromotionPlan",
    "PromotionRequest",
    "PromotionResult",
    "PublishOptions",
    "PullRequestExists",
    "PullRequestFailed",
    "PullRequestInfo",
    "PullRequests",
    "PushRaced",
    "PushRejected",
    "RenderError",
    "RepoError",
    "RepoStatus",
    "Stage",
    "StageDiff",
    "StageStatus",
    "StageWait",
    "VersionChange",
    "VersionSource",
    "check",
    "cluster_status",
    "diff",
    "list_history",
    "plan_promotion",
    "promote",
    "publish_change",
    "rollback_planner",
    "status",
    "wait_for_commit",
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


def test_exported_names_are_documented_classes_or_functions() -> None:
    """Every export is a class or a function with a docstring of its own."""
    exported = {name: getattr(promoter, name) for name in promoter.__all__}
    undocumented = [
        name
        for name, value in exported.items()
        if not (inspect.isclass(value) or inspect.isfunction(value))
        or not (value.__doc__ or "").strip()
    ]
    nothing: list[str] = []
    assert nothing == undocumented


def test_submodules_are_attributes_after_a_plain_import() -> None:
    """``import promoter`` alone makes every submodule reachable as an attribute, in a
    fresh interpreter, without loading GitPython, PyGithub or Rich."""
    code = (
        "import sys, promoter\n"
        "print(promoter.publish.promote.__name__, promoter.history.read_history.__name__,\n"
        "      promoter.rollback.plan_rollback.__name__, promoter.testing.FakePulls.__name__)\n"
        "print(sorted(m for m in ('git', 'github', 'rich') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "promote read_history plan_rollback FakePulls\n[]\n"
    assert expected == done.stdout
