"""How long to wait before retrying a registry request."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """How often and how long to wait before retrying a 5xx/429 answer or a lost connection.

    ``attempts`` counts every try (so 4 means three retries); the n-th wait is
    ``initial * factor**n``, or what ``Retry-After`` asks, never more than ``maximum``.
    ``sleep`` is injectable so tests need not wait.
    """

    attempts: int = 4
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, retry: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        wait = self.initial * self.factor**retry
        asked = _retry_after_seconds(retry_after)
        if asked is not None:
            wait = asked
        return max(0.0, min(wait, self.maximum))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()
