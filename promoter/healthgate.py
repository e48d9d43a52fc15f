"""The ``healthy`` gate (issue 8 §4): ``promote FROM TO`` needs FROM to be ``in-sync`` in
its cluster, running the versions being promoted.

.. code-block:: yaml

    pipelines:
      - name: web
        stages:
          - name: staging
            healthy: true          # promotions out of staging need staging healthy

A cluster that cannot be read (or a missing ``cluster`` extra) blocks too: the gate cannot
tell. ``--ignore-gates`` overrides it like the other gates, and the pull request says so.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from promoter.errors import ClusterError
from promoter.gates import GateBlock, Gates
from promoter.model import PipelineStatus, RepoStatus

if TYPE_CHECKING:
    from promoter.promotion import PromotionPlan
    from promoter.repo import GitOpsRepo


def health_blocks(
    gitops: GitOpsRepo,
    plan: PromotionPlan,
    gates: Gates,
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
) -> list[GateBlock]:
    """Why FROM's cluster does not vouch for the promotion (empty when it does, or when the
    gate is not set for FROM)."""
    if plan.kind != "promote" or not gates.for_stage(plan.pipeline, plan.source.name).healthy:
        return []
    from promoter.clusterstatus import read_cluster_status

    source = plan.source.name
    stage_status = gitops.stage_status(plan.source)
    pipeline = gitops.pipeline(plan.pipeline)
    status = RepoStatus((PipelineStatus(pipeline, (stage_status,)),))
    try:
        report = read_cluster_status(gitops, status, kubeconfig=kubeconfig)
    except ClusterError as exc:
        return [_block(f"stage {source} cannot be checked in its cluster: {exc}")]
    cluster = report.of(plan.source)
    blocks: list[GateBlock] = []
    if cluster.state != "in-sync":
        why = f": {cluster.message}" if cluster.message else ""
        blocks.append(
            _block(f"stage {source} is {cluster.state} in its cluster ({cluster.context}){why}")
        )
    for move in plan.moves:
        live = cluster.live(move.key)
        if cluster.state == "unreachable":
            break
        if live is None:
            blocks.append(_block(f"{move.key} is not running in {source}'s cluster"))
        elif live.version != move.new_version:
            blocks.append(
                _block(
                    f"{move.key} runs {live.version or 'no version'} in {source}'s cluster, "
                    f"not {move.new_version} (the version being promoted)"
                )
            )
    return blocks


def _block(message: str) -> GateBlock:
    return GateBlock("healthy", f"healthy gate: {message}", None)
