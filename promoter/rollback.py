"""``rollback``: put an earlier version back into a stage, found in git history.

The version (every container's image, or the chart version) is taken from the stage's own
history: ``--previous`` is the version it ran before the current one, ``--to VERSION`` the
most recent time it ran that version.  The change then goes through the same plan, verify,
branch and pull request machinery as a promotion, with downgrades allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.errors import PromotionError
from promoter.history import HistoryEntry, read_history
from promoter.pinning import PinRequest
from promoter.planner import plan_moves
from promoter.promotion import PromotionPlan, resolve_apps
from promoter.repo import GitOpsRepo
from promoter.resolve import resolve_route

if TYPE_CHECKING:
    from promoter.publish import PlanMaker


def rollback_planner(
    app: str,
    stage: str,
    *,
    to: str | None = None,
    previous: bool = False,
    pipeline: str | None = None,
    pin: PinRequest | None = None,
    also_affected: bool = False,
    force: bool = False,
) -> PlanMaker:
    """Plans rolling ``app`` back in ``stage`` (to version ``to``, or to the ``previous``
    one) in the checkout it is given, from that checkout's history; for
    ``promoter.publish.publish_change``."""

    def make(gitops: GitOpsRepo, top: Path) -> PromotionPlan:
        entries = read_history(gitops.root)
        return plan_rollback(
            gitops,
            app,
            stage,
            entries,
            to_version=to,
            previous=previous,
            pipeline=pipeline,
            pin=pin,
            also_affected=also_affected,
            force=force,
        )

    return make


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
    pin: PinRequest | None = None,
    also_affected: bool = False,
    force: bool = False,
) -> PromotionPlan:
    """Plan restoring ``app`` in ``stage`` to ``to_version`` or to its previous version.

    ``entries`` is the repository's history, oldest first (``promoter.history.read_history``).
    """
    if (to_version is None) == (not previous):
        raise PromotionError("say which version: --to VERSION or --previous")
    route = resolve_route(repo, stage, stage, pipeline=pipeline, apps=[app])
    chosen, target = route.pipeline.name, route.target
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
        route.pipeline,
        target,
        target,
        status,
        [(origin.state, current)],
        allow_downgrade=True,
        render=render,
        kind="rollback",
        origin_commit=origin.commit,
        pin=pin,
        also_affected=also_affected,
        force=force,
    )


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
