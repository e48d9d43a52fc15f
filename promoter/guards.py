"""What a promotion must not do silently (issue 10 §3): write over a value that Flux image
automation owns, or move between versions that cannot be ordered.

``Guards`` collects, for one plan, the refusals (a value on a line with a ``$imagepolicy``
marker, unless ``--force``) and the notes the plan and pull request body carry (forced
automation lines, versions the downgrade guard cannot order)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from promoter.errors import PromotionError
from promoter.model import Stage, VersionSource
from promoter.promotion import Change, PlanKind
from promoter.versions import is_unordered


def policy_name(policy: str | None) -> str:
    """``namespace:name`` of a setter's ``namespace:name[:field]``."""
    return ":".join((policy or "").split(":")[:2]) or "unknown"


@dataclass
class Guards:
    """The automation and ordering checks of one plan into ``stage``."""

    stage: Stage
    force: bool = False
    kind: PlanKind = "promote"
    """A rollback is never refused for automation (it is noted)."""
    notes: tuple[str, ...] = ()
    _policies: dict[str, str] = field(default_factory=dict)
    _pairs: set[tuple[str, str]] = field(default_factory=set)

    def automation(self, what: str, source: VersionSource | None) -> None:
        """Refuse (unless ``force``) a value set on a line Flux image automation owns."""
        if source is None or not source.automated:
            return
        policy = policy_name(source.policy)
        self._policies[what] = policy
        where = f"{source.file}:{source.line}"
        if not self.force and self.kind == "promote":
            raise PromotionError(
                f"{where}: {what} in {self.stage.name} is set by Flux image policy {policy}, "
                "whose next run would overwrite the promotion; pass --force to promote anyway"
            )
        forced = "--force: " if self.kind == "promote" else ""
        self.notes += (
            f"{forced}{what} in {self.stage.name} is set at {where} by Flux image policy "
            f"{policy}, whose next run may overwrite this {self.kind}",
        )

    def order(self, what: str, current: str | None, proposed: str | None) -> None:
        """Note a move between two versions that cannot be ordered (commits, ``latest``,
        different schemes): the downgrade guard could not check it."""
        if current is None or proposed is None or not is_unordered(current, proposed):
            return
        if (current, proposed) in self._pairs:
            return
        self._pairs.add((current, proposed))
        self.notes += (
            f"{what}: {current} and {proposed} cannot be ordered, so whether this is a "
            "downgrade was not checked",
        )

    def mark(self, changes: Iterable[Change]) -> tuple[Change, ...]:
        """``changes``, each written over an automation-owned value marked with its policy."""
        out = []
        for change in changes:
            what = (
                change.app
                if change.container is None
                else (f"{change.app} (container {change.container})")
            )
            policy = self._policies.get(what)
            out.append(change if policy is None else replace(change, policy=policy))
        return tuple(out)
