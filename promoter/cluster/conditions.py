"""Status conditions (``metav1.Condition``), as Flux and the workload controllers report them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promoter.cluster._fields import dig, integer, text


@dataclass(frozen=True)
class Condition:
    """A ``metav1.Condition``: ``status`` True, False, or None for ``Unknown``."""

    type: str
    status: bool | None
    reason: str | None = None
    message: str | None = None
    observed_generation: int | None = None


def condition_of(obj: Mapping[str, Any], type_: str) -> Condition | None:
    """The object's ``status.conditions`` entry of ``type_``, if it reports one."""
    for raw in dig(obj, "status", "conditions") or ():
        if isinstance(raw, Mapping) and raw.get("type") == type_:
            status = raw.get("status")
            return Condition(
                type_,
                True if status == "True" else False if status == "False" else None,
                text(raw.get("reason")),
                text(raw.get("message")),
                integer(raw.get("observedGeneration")),
            )
    return None
