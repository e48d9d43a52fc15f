"""Plain data (JSON/YAML-ready) views of statuses: the stable ``--output json`` format."""

from __future__ import annotations

from typing import Any

from promoter.model import (
    App,
    ContainerImage,
    PipelineStatus,
    RepoStatus,
    StageStatus,
    VersionSource,
)


def source_dict(source: VersionSource | None) -> dict[str, Any] | None:
    """``{"file", "line", "column", "type", "automated", "policy"}`` or None."""
    if source is None:
        return None
    return {
        "file": source.file,
        "line": source.line,
        "column": source.column,
        "type": source.type,
        "automated": source.automated,
        "policy": source.policy,
    }


def image_dict(image: ContainerImage) -> dict[str, Any]:
    """One container's image, parsed, with where its version is set."""
    ref = image.image
    return {
        "container": image.container,
        "init": image.init,
        "image": str(ref),
        "registry": ref.registry,
        "repository": ref.repository,
        "tag": ref.tag,
        "digest": ref.digest,
        "source": source_dict(image.source),
    }


def app_dict(app: App) -> dict[str, Any]:
    """One app of one stage."""
    return {
        "kind": app.kind,
        "name": app.name,
        "namespace": app.namespace,
        "rendered_name": app.rendered_name,
        "version": app.version,
        "images": [image_dict(i) for i in app.images],
        "source": source_dict(app.source),
    }


def stage_dict(status: StageStatus) -> dict[str, Any]:
    """One stage; ``error`` is present only when the stage could not be read.

    ``unsupported`` and ``error`` are the text forms of ``unsupported_problems`` and
    ``problems`` (``{"file", "line", "column", "message", "code"}`` records).
    """
    stage = status.stage
    data: dict[str, Any] = {
        "name": stage.name,
        "order": stage.order,
        "path": stage.path or ".",
        "flux": None
        if stage.flux is None
        else {"name": stage.flux.name, "namespace": stage.flux.namespace, "file": stage.flux.file},
        "rendered": status.rendered,
        "unsupported": [p.text for p in status.unsupported],
        "unsupported_problems": [p.to_dict() for p in status.unsupported],
        "apps": [app_dict(a) for a in status.apps],
        "problems": [] if status.problem is None else [status.problem.to_dict()],
    }
    if status.error is not None:
        data["error"] = status.error
    return data


def pipeline_dict(status: PipelineStatus) -> dict[str, Any]:
    """One pipeline; ``error`` is present only when its declaration is broken, the text
    form of ``problems``."""
    data: dict[str, Any] = {
        "name": status.pipeline.name,
        "declared_in": status.pipeline.declared_in,
        "stages": [stage_dict(s) for s in status.stages],
        "problems": [p.to_dict() for p in status.pipeline.problems],
    }
    if status.pipeline.error is not None:
        data["error"] = status.pipeline.error
    return data


def status_dict(status: RepoStatus) -> dict[str, Any]:
    """``{"pipelines": [...]}``: the whole status."""
    return {"pipelines": [pipeline_dict(p) for p in status.pipelines]}
