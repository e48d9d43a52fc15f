"""Plain data (JSON/YAML-ready) views of every command's result: the stable
``--output json`` documents of ``status``, ``promote``/``rollback``, ``history``, ``check``
and ``diff``, in one place."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from promoter.redact import redact_url

if TYPE_CHECKING:
    from promoter.checks import Finding
    from promoter.clusterstatus import ClusterReport
    from promoter.history import HistoryEntry
    from promoter.model import (
        App,
        ContainerImage,
        Pipeline,
        PipelineStatus,
        RepoStatus,
        StageStatus,
        VersionSource,
    )
    from promoter.publish import ChangeResult, PromotionResult
    from promoter.registry_status import RegistryStatus
    from promoter.report import Report
    from promoter.stagediff import StageDiff
    from promoter.truncation import Truncation


def to_json(data: object, *, indent: int | None = 2) -> str:
    """One JSON document and its newline, as every command prints it."""
    return json.dumps(data, indent=indent) + "\n"


def to_yaml(data: object) -> str:
    """The same data as YAML (``status -o yaml``)."""
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# -- status --------------------------------------------------------------------------------


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
    """One stage; ``error`` is the message when the stage could not be read, else null;
    ``native_problem`` is present only when kustomize rendered a stage the native reader
    cannot build.

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
    data["error"] = status.error  # null when the stage was read
    if status.native_problem is not None:  # rendered: why the native reader could not
        data["native_problem"] = status.native_problem.to_dict()
    return data


def pipeline_dict(status: PipelineStatus) -> dict[str, Any]:
    """One pipeline; ``error`` is the text form of ``problems`` when its declaration is
    broken, else null."""
    data: dict[str, Any] = {
        "name": status.pipeline.name,
        "declared_in": status.pipeline.declared_in,
        "stages": [stage_dict(s) for s in status.stages],
        "problems": [p.to_dict() for p in status.pipeline.problems],
    }
    data["error"] = status.pipeline.error  # null when the declaration is sound
    return data


def status_dict(status: RepoStatus) -> dict[str, Any]:
    """``{"pipelines": [...]}``: the whole status."""
    return {"pipelines": [pipeline_dict(p) for p in status.pipelines]}


# The compact ``status -o json`` document in parts: each stage's part can be made where the
# stage is read (a forked child, or the status cache) and the parts joined as bytes.  The
# parts are ``json.dumps`` output (ASCII: everything else is escaped), so the joined
# document is byte for byte ``to_json(status_dict(...), indent=None)``.


def stage_json(status: StageStatus) -> bytes:
    """A stage's part of the compact document: ``stage_dict`` as compact JSON."""
    return json.dumps(stage_dict(status)).encode()


def pipeline_json_ends(pipeline: Pipeline) -> tuple[bytes, bytes]:
    """A pipeline's part of the compact document before and after its stages' parts."""
    from promoter.model import PipelineStatus

    text = json.dumps(pipeline_dict(PipelineStatus(pipeline, ())))
    # The first '"stages": []' is the key: in a JSON string every '"' is escaped, so no
    # value before it (the name, declared_in) can hold that text.
    hole = '"stages": []'
    at = text.index(hole)
    return (text[:at] + '"stages": [').encode(), ("]" + text[at + len(hole) :]).encode()


def join_status_json(pipelines: Iterable[tuple[bytes, Iterable[bytes], bytes]]) -> bytes:
    """The compact document (``to_json(status_dict(...), indent=None)``) from each
    pipeline's ends (``pipeline_json_ends``) and its stages' parts (``stage_json``)."""
    pieces = [b'{"pipelines": [']
    for index, (head, stages, tail) in enumerate(pipelines):
        pieces += (b", ", head) if index else (head,)
        for number, stage in enumerate(stages):
            pieces += (b", ", stage) if number else (stage,)
        pieces.append(tail)
    pieces.append(b"]}\n")
    return b"".join(pieces)  # the document is copied once


def status_registry_dict(status: RepoStatus, registry: RegistryStatus) -> dict[str, Any]:
    """``status --registry``: the status, each image with ``"resolved"``, each app with
    ``"available"`` (null where the registry could not answer), and ``"notes"``."""
    return add_registry(status_dict(status), status, registry)


def add_registry(
    data: dict[str, Any], status: RepoStatus, registry: RegistryStatus
) -> dict[str, Any]:
    """``data`` (a status document of ``status``) with the registry's answers added."""
    for pipeline, pipeline_data in zip(status.pipelines, data["pipelines"], strict=True):
        name = pipeline.pipeline.name
        for stage, stage_data in zip(pipeline.stages, pipeline_data["stages"], strict=True):
            for app, app_data in zip(stage.apps, stage_data["apps"], strict=True):
                for image, image_data in zip(app.images, app_data["images"], strict=True):
                    key = (name, stage.stage.name, app.key, image.container, image.init)
                    resolved = registry.resolved.get(key)
                    image_data["resolved"] = None if resolved is None else resolved.to_json()
                available = registry.available.get((name, stage.stage.name, app.key))
                app_data["available"] = None if available is None else available.to_json()
    data["notes"] = list(registry.notes)
    return data


# -- promote and rollback ------------------------------------------------------------------


def change_dict(result: ChangeResult) -> dict[str, Any]:
    """A planned, written or published change; ``diff`` only for a dry run, the git and
    pull request fields only once published."""
    plan = result.plan
    data: dict[str, Any] = {
        "pipeline": plan.pipeline,
        "from": plan.source.name,
        "to": plan.target.name,
        "noop": plan.is_noop,
        "moves": [
            {
                "kind": m.kind,
                "name": m.name,
                "old_version": m.old_version,
                "new_version": m.new_version,
            }
            for m in plan.moves
        ],
        "unchanged": list(plan.unchanged),
        "changes": [
            {
                "app": c.app,
                "container": c.container,
                "old": c.old,
                "new": c.new,
                "file": c.file,
                "line": c.line or None,
                "how": c.how,
                "automated": c.policy is not None,
                "policy": c.policy,
            }
            for c in plan.changes
        ],
        "files": [e.path for e in plan.edits],
        "written": result.wrote,
        "kind": plan.kind,
        "origin_commit": plan.origin_commit,
        "notes": list(plan.notes),
        "also_affected": [
            {
                "pipeline": e.pipeline,
                "stage": e.stage,
                "files": list(e.files),
                "changes": list(e.changes),
            }
            for e in plan.also_affected
        ],
    }
    if plan.changelog is not None:
        data["changelog"] = plan.changelog.to_json()
    if result.dry_run:
        data["diff"] = plan.diff()
    published = result.published
    if published is not None:
        pr = published.pull_request
        data.update(
            base=published.base,
            base_commit=published.base_commit,
            branch=published.branch,
            commit=published.commit,
            pushed=published.pushed,
            pull_request=None
            if pr is None
            else {"number": pr.number, "url": redact_url(pr.url), "created": pr.created},
        )
        data.update(forge_dict(published))
    return data


def forge_dict(published: PromotionResult) -> dict[str, Any]:
    """``provider`` (``github``/``gitlab``, null without a pull request) and ``auto_merge``
    (null unless asked for, else ``{"enabled": bool, "note": text or null}``)."""
    pr = published.pull_request
    auto = None
    if pr is not None and pr.auto_merge is not None:
        auto = {"enabled": pr.auto_merge, "note": pr.note}
    return {"provider": published.provider, "auto_merge": auto}


# -- history -------------------------------------------------------------------------------


def history_dict(
    entries: tuple[HistoryEntry, ...], truncated: Truncation | None = None
) -> dict[str, Any]:
    """``{"entries": [...]}``, newest first as given; with ``"truncated"`` (where a shallow
    clone's history starts) when it is cut off."""
    found: dict[str, Any] = {"entries": [entry_dict(e) for e in entries]}
    if truncated is not None:
        found["truncated"] = {
            "shallow": truncated.shallow,
            "oldest_commit": truncated.oldest_commit,
            "oldest_date": truncated.oldest_date,
        }
    return found


def entry_dict(entry: HistoryEntry) -> dict[str, Any]:
    """One history entry in the documented JSON shape."""
    return {
        "pipeline": entry.pipeline,
        "stage": entry.stage,
        "kind": entry.kind,
        "app": entry.app,
        "old_version": entry.old_version,
        "new_version": entry.new_version,
        "commit": entry.commit,
        "date": entry.date,
        "author": entry.author,
        "pull_request": entry.pull_request,
        "trailers": _trailer_dict(entry.trailers),
    }


def _trailer_dict(trailers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Trailers by name; the values of a name given several times joined by ", "."""
    found: dict[str, list[str]] = {}
    for name, value in trailers:
        found.setdefault(name, []).append(value)
    return {name: ", ".join(values) for name, values in found.items()}


# -- check ---------------------------------------------------------------------------------


def check_dict(findings: tuple[Finding, ...], strict: bool = False) -> dict[str, Any]:
    """``{"findings": [{"file", "line", "rule", "message", "id", "severity"}], "ok": bool,
    "counts": {"error", "warning", "notice"}, "strict": bool}``: ``id`` is the rule id
    (``rule`` too), ``ok`` is True when the check passes (no error; with ``strict`` no
    warning either), as its exit code 0 does."""
    failing = ("error", "warning") if strict else ("error",)
    return {
        "findings": [
            {
                "file": f.file,
                "line": f.line,
                "rule": f.rule,
                "message": f.message,
                "id": f.rule,
                "severity": f.severity,
            }
            for f in findings
        ],
        "ok": not any(f.severity in failing for f in findings),
        "counts": {s: sum(1 for f in findings if f.severity == s) for s in _SEVERITIES},
        "strict": strict,
    }


_SEVERITIES = ("error", "warning", "notice")


# -- diff ----------------------------------------------------------------------------------


def diff_dict(diff: StageDiff) -> dict[str, Any]:
    """The difference between two stages: versions, object diffs, normalisations.

    ``from``/``to`` name the stages of the promotion (FROM -> TO); every pair of values
    below reads as the text report's ``old -> new``: ``from`` is TO's value now, ``to`` the
    value FROM has (what the promotion writes).
    """
    return {
        "pipeline": diff.pipeline,
        "from": diff.source.name,
        "to": diff.target.name,
        "versions": [
            {
                "kind": v.kind,
                "name": v.name,
                "from_version": v.to_version,
                "to_version": v.from_version,
                "images": [
                    {"container": i.container, "init": i.init, "from": i.to, "to": i.from_}
                    for i in v.images
                ],
            }
            for v in diff.versions
        ],
        "objects": [
            {"kind": o.kind, "name": o.name, "status": o.status, "diff": o.diff}
            for o in diff.objects
        ],
        "normalised": [
            {
                "field": n.field,
                "from": n.to_value,
                "to": n.from_value,
                "objects": list(n.objects),
            }
            for n in diff.normalised
        ],
        "same": list(diff.same),
    }


# -- status --cluster ----------------------------------------------------------------------


def cluster_status_dict(report: ClusterReport) -> dict[str, Any]:
    """The status document with each stage's ``cluster`` object and each app's ``live``
    (``null`` when the cluster does not run it, or could not be read)."""
    return add_cluster(status_dict(report.status), report)


def add_cluster(data: dict[str, Any], report: ClusterReport) -> dict[str, Any]:
    """``data`` (the status document of ``report.status``) with what the clusters run."""
    from promoter.cluster import live_to_dict

    for pipeline, pipeline_data in zip(report.status.pipelines, data["pipelines"], strict=True):
        for stage, stage_data in zip(pipeline.stages, pipeline_data["stages"], strict=True):
            cluster = report.of(stage.stage)
            stage_data["cluster"] = cluster.to_dict()
            for app, app_data in zip(stage.apps, stage_data["apps"], strict=True):
                app_data["live"] = live_to_dict(cluster.live(app.key))
    return data


# -- report --------------------------------------------------------------------------------


def report_dict(report: Report) -> dict[str, Any]:
    """``pipelines report -o json``: the status (``pipelines``, as ``status``), the pending
    promotions (``pending``) and the history (``entries``, as ``history``), with where
    they come from (``generated``, ``commit``, ``dirty``, ``remote``, ``forge``, ``since``)
    and what was left out (``not_included``)."""
    forge = report.forge
    return {
        "generated": report.generated,
        "commit": report.commit,
        "dirty": report.dirty,
        "remote": report.remote,
        "forge": None if forge is None else {"provider": forge.kind, "url": forge.url},
        "since": report.since,
        "not_included": list(report.not_included),
        **status_dict(report.status),
        "pending": [
            {
                "pipeline": p.pipeline,
                "from": p.source,
                "to": p.target,
                "moves": [
                    {
                        "kind": m.kind,
                        "name": m.name,
                        "old_version": m.old_version,
                        "new_version": m.new_version,
                    }
                    for m in p.moves
                ],
                "blocked_by": [
                    {"gate": b.gate, "message": b.message, "until": b.until} for b in p.blocks
                ],
                "error": p.error,
            }
            for p in report.pending
        ],
        "entries": [
            {
                **entry_dict(r.entry),
                "subject": r.entry.subject,
                "commit_url": r.commit_url,
                "pull_request_url": r.pull_request_url,
            }
            for r in report.history
        ],
    }
