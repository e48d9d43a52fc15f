"""kustomize-promoter: see and promote app versions through kustomize + Flux pipelines.

>>> from promoter import GitOpsRepo
>>> repo = GitOpsRepo.open(".")
>>> for pipeline in repo.status().pipelines: ...
"""

from promoter.errors import (
    GitError,
    GitHubError,
    KustomizeError,
    LookupFailed,
    ManifestError,
    PromoterError,
    PromotionError,
    RenderError,
    RepoError,
)
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
from promoter.repo import GitOpsRepo

__all__ = [
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
