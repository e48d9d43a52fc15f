"""``rollback``: put an earlier version back into a stage, found in git history.

The version (every container's image, or the chart version) is taken from the stage's own
history: ``--previous`` is the version it ran before the current one, ``--to VERSION`` the
most recent time it ran that version.  The change then goes through the same plan, verify,
branch and pull request machinery as a promotion, with downgrades allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from promoter.errors import LookupFailed, PromotionError
from promoter.history import HistoryEntry

if TYPE_CHECKING:
    from promoter.promotion import PromotionPlan
    from promoter.repo import GitOpsRepo


def plan_rollback(
    repo: GitOpsRepo,
    app: str,
    stage: str,
    entries: Sequence[HistoryEntry],
    *,
    to_version: str | None = None,
    previous: bool = False,
    pipeline: str | None = None,
    render: bool | None = None,
) -> PromotionPlan:
    """Plan restoring ``app`` in ``stage`` to ``to_version`` or to its previous version.

    ``entries`` is the repository's history, oldest first (``promoter.history.read_history``).
    """
    from promoter.planner import plan_moves
    from promoter.promotion import resolve_apps

    if (to_version is None) == (not previous):
        raise PromotionError("say which version: --to VERSION or --previous")
    chosen = _pipeline(repo, app, stage, pipeline)
    target = repo.stage(chosen, stage)
    status = repo.stage_status(target)
    if status.error is not None:
        raise PromotionError(f"stage {stage} cannot be read: {status.error}")
    (current,) = resolve_apps([app], status, status)
    mine = [e for e in entries if (e.pipeline, e.stage, e.key) == (chosen, stage, current.key)]
    origin = _find(mine, current.version, to_version, stage, current.key)
    if origin.state is None:
        raise PromotionError(f"{current.key} was not deployed in {stage} at {origin.commit[:12]}")
    return plan_moves(
        repo,
        repo.pipeline(chosen),
        target,
        target,
        status,
        [(origin.state, current)],
        allow_downgrade=True,
        render=render,
        kind="rollback",
        origin_commit=origin.commit,
    )


def _pipeline(repo: GitOpsRepo, app: str, stage: str, pipeline: str | None) -> str:
    """The pipeline named, or the one having ``stage`` (narrowed, as for a promotion, to
    the pipelines whose ``stage`` deploys ``app`` when several have it)."""
    if pipeline is not None:
        return repo.pipeline(pipeline).name
    having = [p.name for p in repo.pipelines if any(s.name == stage for s in p.stages)]
    if not having:
        stages = {s.name for p in repo.pipelines for s in p.stages}
        raise LookupFailed.from_choices("stage", stage, stages)
    if len(having) == 1:
        return having[0]
    deployed: dict[str, set[str]] = {}
    for name in having:
        apps = repo.stage_status(repo.stage(name, stage)).apps
        deployed[name] = {a.key for a in apps} | {a.name for a in apps}
    deploying = [name for name in having if app in deployed[name]]
    if not deploying:
        known = set().union(*deployed.values())
        raise LookupFailed.from_choices(f"app in stage {stage}", app, known)
    if len(deploying) > 1:
        raise LookupFailed(
            f"stage {stage!r} of several pipelines ({', '.join(deploying)}) deploys {app}; "
            "choose one with --pipeline"
        )
    return deploying[0]


def _find(
    mine: Sequence[HistoryEntry], current: str | None, wanted: str | None, stage: str, key: str
) -> HistoryEntry:
    """The history entry whose resulting state is the version to restore."""
    if wanted is not None:
        for entry in reversed(mine):
            if entry.new_version == wanted and entry.state is not None:
                return entry
        seen = sorted({e.new_version for e in mine if e.new_version})
        known = f" (it ran: {', '.join(seen)})" if seen else ""
        raise PromotionError(f"{key} never ran version {wanted} in stage {stage}{known}")
    # --previous: the last version before the current one arrived.
    arrival = next(
        (i for i in range(len(mine) - 1, -1, -1) if mine[i].new_version == current), None
    )
    for entry in reversed(mine[: arrival if arrival is not None else len(mine)]):
        if entry.new_version not in (None, current) and entry.state is not None:
            return entry
    raise PromotionError(f"{key} ran no other version in stage {stage} before {current}")
