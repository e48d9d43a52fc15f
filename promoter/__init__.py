"""kustomize-promoter: see and promote app versions through kustomize + Flux pipelines.

>>> import promoter
>>> for pipeline in promoter.status(".").pipelines: ...
>>> promoter.publish_change(".", promoter.PromotionRequest(["web"], "staging", "prod"),
...                         mode="dry-run").plan.diff()

Each command of the ``pipelines`` CLI is a function here returning a record: ``status``,
``promote``/``publish_change`` (with ``PromotionRequest`` or ``rollback_planner``),
``list_history``, ``check`` and ``diff``.  Every submodule is an attribute here, imported
on first use, so ``promoter.publish.promote`` works after a plain ``import promoter``;
GitPython, PyGithub, python-gitlab and Rich are imported only when used. Pull requests
(GitHub) and merge requests (GitLab) go through one interface, ``ChangeRequests``
(``promoter.forge``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promoter import apps as apps
    from promoter import checkrules as checkrules
    from promoter import checks as checks
    from promoter import clusterstatus as clusterstatus
    from promoter import config as config
    from promoter import discovery as discovery
    from promoter import errors as errors
    from promoter import forge as forge
    from promoter import gates as gates
    from promoter import ghauth as ghauth
    from promoter import git as git
    from promoter import github as github
    from promoter import healthgate as healthgate
    from promoter import history as history
    from promoter import images as images
    from promoter import kustomize as kustomize
    from promoter import model as model
    from promoter import planner as planner
    from promoter import pr as pr
    from promoter import problems as problems
    from promoter import progress as progress
    from promoter import promotion as promotion
    from promoter import publish as publish
    from promoter import redact as redact
    from promoter import repo as repo
    from promoter import report as report
    from promoter import resolve as resolve
    from promoter import retrynotes as retrynotes
    from promoter import rewrite as rewrite
    from promoter import rollback as rollback
    from promoter import serialize as serialize
    from promoter import stagediff as stagediff
    from promoter import testing as testing
    from promoter import textedit as textedit
    from promoter import tree as tree
    from promoter import versions as versions
    from promoter import waiting as waiting
    from promoter import workloads as workloads
    from promoter.checks import CheckReport, Finding, check
    from promoter.clusterstatus import ClusterReport, cluster_status
    from promoter.errors import (
        ChangeRequestExists,
        ChangeRequestFailed,
        ForgeError,
        GateClosed,
        GitError,
        GitHubError,
        GitLabError,
        KustomizeError,
        LookupFailed,
        ManifestError,
        MergeRequestExists,
        MergeRequestFailed,
        PromoterError,
        PromotionError,
        PullRequestExists,
        PullRequestFailed,
        PushRaced,
        PushRejected,
        RenderError,
        RepoError,
    )
    from promoter.forge.provider import ChangeRequestInfo, ChangeRequests
    from promoter.github import PullRequestInfo, PullRequests
    from promoter.history import HistoryEntry, list_history
    from promoter.images import ImageRef
    from promoter.model import (
        App,
        ContainerImage,
        FluxRef,
        Pipeline,
        PipelineStatus,
        RepoStatus,
        Stage,
        StageStatus,
        VersionSource,
    )
    from promoter.planner import plan_promotion
    from promoter.promotion import AppMove, Change, FileEdit, PromotionPlan
    from promoter.publish import (
        ChangeResult,
        PromotionRequest,
        PromotionResult,
        PublishOptions,
        promote,
        publish_change,
    )
    from promoter.repo import GitOpsRepo, status
    from promoter.report import collect_report
    from promoter.rollback import rollback_planner
    from promoter.stagediff import (
        ImageChange,
        Normalisation,
        ObjectDiff,
        StageDiff,
        VersionChange,
        diff,
    )
    from promoter.waiting import StageWait, wait_for_commit

_SUBMODULES = frozenset(
    {
        "apps",
        "checkrules",
        "checks",
        "clusterstatus",
        "config",
        "discovery",
        "errors",
        "forge",
        "gates",
        "ghauth",
        "git",
        "github",
        "healthgate",
        "history",
        "images",
        "kustomize",
        "model",
        "planner",
        "pr",
        "problems",
        "progress",
        "promotion",
        "publish",
        "redact",
        "repo",
        "report",
        "resolve",
        "retrynotes",
        "rewrite",
        "rollback",
        "serialize",
        "stagediff",
        "testing",
        "textedit",
        "tree",
        "versions",
        "waiting",
        "workloads",
    }
)
_EXPORTS = {
    "CheckReport": "promoter.checks",
    "Finding": "promoter.checks",
    "check": "promoter.checks",
    "ClusterReport": "promoter.clusterstatus",
    "cluster_status": "promoter.clusterstatus",
    "ChangeRequestExists": "promoter.errors",
    "ChangeRequestFailed": "promoter.errors",
    "ForgeError": "promoter.errors",
    "GateClosed": "promoter.errors",
    "GitError": "promoter.errors",
    "GitHubError": "promoter.errors",
    "GitLabError": "promoter.errors",
    "KustomizeError": "promoter.errors",
    "LookupFailed": "promoter.errors",
    "ManifestError": "promoter.errors",
    "MergeRequestExists": "promoter.errors",
    "MergeRequestFailed": "promoter.errors",
    "PromoterError": "promoter.errors",
    "PromotionError": "promoter.errors",
    "PullRequestExists": "promoter.errors",
    "PullRequestFailed": "promoter.errors",
    "PushRaced": "promoter.errors",
    "PushRejected": "promoter.errors",
    "RenderError": "promoter.errors",
    "RepoError": "promoter.errors",
    "ChangeRequestInfo": "promoter.forge.provider",
    "ChangeRequests": "promoter.forge.provider",
    "PullRequestInfo": "promoter.github",
    "PullRequests": "promoter.github",
    "HistoryEntry": "promoter.history",
    "list_history": "promoter.history",
    "ImageRef": "promoter.images",
    "App": "promoter.model",
    "ContainerImage": "promoter.model",
    "FluxRef": "promoter.model",
    "Pipeline": "promoter.model",
    "PipelineStatus": "promoter.model",
    "RepoStatus": "promoter.model",
    "Stage": "promoter.model",
    "StageStatus": "promoter.model",
    "VersionSource": "promoter.model",
    "plan_promotion": "promoter.planner",
    "AppMove": "promoter.promotion",
    "Change": "promoter.promotion",
    "FileEdit": "promoter.promotion",
    "PromotionPlan": "promoter.promotion",
    "ChangeResult": "promoter.publish",
    "PromotionRequest": "promoter.publish",
    "PromotionResult": "promoter.publish",
    "PublishOptions": "promoter.publish",
    "promote": "promoter.publish",
    "publish_change": "promoter.publish",
    "GitOpsRepo": "promoter.repo",
    "status": "promoter.repo",
    "collect_report": "promoter.report",
    "rollback_planner": "promoter.rollback",
    "ImageChange": "promoter.stagediff",
    "Normalisation": "promoter.stagediff",
    "ObjectDiff": "promoter.stagediff",
    "StageDiff": "promoter.stagediff",
    "VersionChange": "promoter.stagediff",
    "diff": "promoter.stagediff",
    "StageWait": "promoter.waiting",
    "wait_for_commit": "promoter.waiting",
}


def __getattr__(name: str) -> Any:
    """Submodules and exported names are imported on first use (``pipelines --help`` and a
    cached ``status`` stay fast), yet reachable after a plain ``import promoter``."""
    if name in _SUBMODULES:
        module = importlib.import_module(f"promoter.{name}")
        globals()[name] = module
        return module
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'promoter' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_EXPORTS})


__all__ = [
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
    "collect_report",
    "diff",
    "list_history",
    "plan_promotion",
    "promote",
    "publish_change",
    "rollback_planner",
    "status",
    "wait_for_commit",
]
