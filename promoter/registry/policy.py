"""Which tags count as versions, and in what order: Flux image policy semantics.

A ``TagPolicy`` is Flux's ``filterTags`` (``pattern``, a regex searched in each tag, and
``extract``, the value to order by, built from its groups: ``$ts``, ``${1}``) plus
``policy`` (``order``): ``semver`` (semver 2.0 order, an optional ``range``),
``numerical`` (the extracted value as a number, ascending) or ``alphabetical`` (ascending).

Two choices differ from Flux, which picks one tag and stops: tags that the order cannot
read (``latest`` under semver, ``main`` under numerical) are left out instead of failing the
policy, and with no ``range`` every semantic version counts, pre-releases included (a range
admits pre-releases only where it names one, as in Flux).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from promoter.errors import RepoError
from promoter.registry.semver import Range, Version

Order = Literal["semver", "numerical", "alphabetical"]
ORDERS: tuple[Order, ...] = ("semver", "numerical", "alphabetical")
NEWER_LIMIT = 20
_GROUP_REFERENCE = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")


@dataclass(frozen=True)
class Available:
    """What a registry offers beyond a version: issue 9's ``"available"`` JSON.

    ``newest`` is the highest tag the policy accepts; ``newer`` the accepted tags above the
    current version, ascending, at most 20 (the newest 20: ``newer[-1] == newest``).
    """

    newest: str | None
    newer: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """``{"newest": str | null, "newer": [str, ...]}``."""
        return {"newest": self.newest, "newer": list(self.newer)}


@dataclass(frozen=True)
class TagPolicy:
    """Filter and order tags the way a Flux ``ImagePolicy`` does (default: semver).

    Invalid patterns, extracts, orders or ranges raise ``RepoError`` when the policy is made.
    """

    pattern: str | None = None
    extract: str | None = None
    order: Order = "semver"
    range: str | None = None
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _range: Range | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise RepoError(f"tag order {self.order!r}: expected one of {', '.join(ORDERS)}")
        if self.range is not None and self.order != "semver":
            raise RepoError(f"a semver range is given for order {self.order!r}")
        if self.extract is not None and self.pattern is None:
            raise RepoError(f"tag extract {self.extract!r} needs a pattern")
        if self.pattern is not None:
            try:
                regex = re.compile(self.pattern)
            except re.error as exc:
                raise RepoError(f"tag pattern {self.pattern!r}: {exc}") from exc
            object.__setattr__(self, "_regex", regex)
            if self.extract is not None:
                for name, bare, dollar in _GROUP_REFERENCE.findall(self.extract):
                    group = name or bare
                    if dollar or (group.isdigit() and int(group) <= regex.groups):
                        continue
                    if group not in regex.groupindex:
                        raise RepoError(
                            f"tag extract {self.extract!r}: the pattern has no group {group!r}"
                        )
        if self.range is not None:
            object.__setattr__(self, "_range", Range.parse(self.range))

    def value(self, tag: str) -> str | None:
        """What ``tag`` is ordered by (the extracted value), or None if the filter drops it."""
        if self._regex is None:
            return tag
        match = self._regex.search(tag)
        if match is None:
            return None
        if self.extract is None:
            return tag
        return _expand(self.extract, match)

    def _key(self, tag: str) -> tuple[object, ...] | None:
        value = self.value(tag)
        if value is None:
            return None
        if self.order == "alphabetical":
            return (value, tag)
        if self.order == "numerical":
            try:
                number = float(value)
            except ValueError:
                return None
            return None if math.isnan(number) else (number, tag)
        version = Version.parse(value)
        if version is None or (self._range is not None and not self._range.contains(version)):
            return None
        return (version.key, tag)

    def accepts(self, tag: str) -> bool:
        """Whether ``tag`` passes the filter and can be ordered (and is in the range)."""
        return self._key(tag) is not None

    def sort(self, tags: Iterable[str]) -> list[str]:
        """The accepted tags, oldest first (ties broken by the tag text, for a stable order)."""
        keyed = {tag: key for tag in set(tags) if (key := self._key(tag)) is not None}
        return sorted(keyed, key=keyed.__getitem__)

    def newest(self, tags: Iterable[str]) -> str | None:
        """The highest accepted tag, as the Flux policy would pick it."""
        ordered = self.sort(tags)
        return ordered[-1] if ordered else None

    def newer(self, tags: Iterable[str], current: str, limit: int = NEWER_LIMIT) -> list[str]:
        """Accepted tags above ``current``, ascending, the newest ``limit`` of them.

        Empty when ``current`` itself cannot be ordered by this policy (``latest``, a
        digest, a tag the pattern drops): nothing can be said to be newer than it.
        """
        mark = self._unbounded_key(current)
        if mark is None:
            return []
        above = [
            tag for tag in self.sort(tags) if (key := self._key(tag)) is not None and key > mark
        ]
        return above[-limit:] if limit > 0 else []

    def _unbounded_key(self, current: str) -> tuple[object, ...] | None:
        """``current``'s key, even when it lies outside the range (it is still a version)."""
        if self._range is None:
            return self._key(current)
        return TagPolicy(self.pattern, self.extract, self.order)._key(current)

    def available(
        self, tags: Iterable[str], current: str | None, limit: int = NEWER_LIMIT
    ) -> Available:
        """``newest`` and ``newer`` than ``current`` (None: nothing is newer) in one pass."""
        tags = list(tags)
        newer = self.newer(tags, current, limit) if current is not None else []
        return Available(newest=self.newest(tags), newer=tuple(newer))


def _expand(template: str, match: re.Match[str]) -> str:
    """Go's ``Regexp.ExpandString``: ``$name``, ``${name}``, ``$1``, ``$$``; unknown is empty."""

    def group(reference: re.Match[str]) -> str:
        name, bare, dollar = reference.groups()
        if dollar:
            return "$"
        key = name or bare
        try:
            found = match.group(int(key) if key.isdigit() else key)
        except IndexError:
            return ""
        return found or ""

    return _GROUP_REFERENCE.sub(group, template)
