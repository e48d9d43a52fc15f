"""Semantic versions (semver 2.0 order) and ranges, as Flux's semver image policy reads them.

Versions parse leniently, like Masterminds' ``NewVersion`` that Flux uses: a ``v`` prefix,
and missing minor or patch numbers (``v1.2`` is 1.2.0).  Ranges are comparators (``=``,
``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~``, ``^``, wildcards ``1.2.x``/``*``) joined by
commas or spaces (all must hold) and ``||`` (either), plus hyphen ranges (``1.2 - 1.4``).
A partial version stands for all it covers: ``<=1.4`` and ``1.2 - 1.4`` admit 1.4.9.
As in Masterminds, a pre-release satisfies a comparator only if that comparator's own
version names a pre-release (``>=1.0.0-0`` lets them in).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from promoter.errors import RepoError

_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_WILD = ("x", "X", "*")
_COMPARATOR = re.compile(
    r"(\^|~>?|>=|<=|!=|==?|>|<)?\s*v?"
    r"(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?"
)


@dataclass(frozen=True, order=False)
class Version:
    """A semantic version; ``key`` orders it as semver 2.0 says (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """The version ``text`` names, or None when it is no semantic version."""
        match = _VERSION.match(text.strip())
        if match is None:
            return None
        major, minor, patch, pre, _build = match.groups()
        return cls(
            int(major), int(minor or 0), int(patch or 0), tuple(pre.split(".")) if pre else ()
        )

    @property
    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        """Sort key: a release after its pre-releases; numeric identifiers before others."""
        identifiers = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, identifiers)


_Check = Callable[[Version], bool]


def _release(numbers: list[int]) -> Version:
    padded = [*numbers, 0, 0, 0]
    return Version(padded[0], padded[1], padded[2])


def _bounds(parts: list[str | None]) -> tuple[Version, Version | None, int]:
    """The lowest version a (partly wild) version names, the first one above, and how many
    numbers were given."""
    numbers: list[int] = []
    for part in parts:
        if part is None or part in _WILD:
            break
        numbers.append(int(part))
    given = len(numbers)
    low = _release(numbers)
    if given == 0:
        return low, None, 0
    if given == 3:
        return low, None, 3
    bumped = numbers[:given]
    bumped[-1] += 1
    return low, _release(bumped), given


def _comparator(match: re.Match[str]) -> tuple[_Check, bool]:
    op, major, minor, patch, pre = match.groups()
    op = {"==": "=", "~>": "~"}.get(op or "=", op or "=")
    low, high, given = _bounds([major, minor, patch])
    if pre and given == 3:
        low = Version(low.major, low.minor, low.patch, tuple(pre.split(".")))
    lo = low.key

    def ge(v: Version) -> bool:
        return v.key >= lo

    if op == "=":
        if high is None and given == 3:
            return (lambda v: v.key == lo), bool(pre)
        if given == 0:
            return ge, bool(pre)
        assert high is not None
        return (lambda v: lo <= v.key < high.key), bool(pre)
    if op == "!=":
        if given == 3:
            return (lambda v: v.key != lo), bool(pre)
        if given == 0:
            return (lambda v: False), bool(pre)
        assert high is not None
        return (lambda v: not lo <= v.key < high.key), bool(pre)
    if op == ">":
        if given == 3:
            return (lambda v: v.key > lo), bool(pre)
        if high is None:
            return (lambda v: False), bool(pre)
        return (lambda v: v.key >= high.key), bool(pre)
    if op == ">=":
        return ge, bool(pre)
    if op == "<":
        return (lambda v: v.key < lo), bool(pre)
    if op == "<=":
        if given == 3:
            return (lambda v: v.key <= lo), bool(pre)
        if high is None:
            return (lambda v: True), bool(pre)
        return (lambda v: v.key < high.key), bool(pre)
    if op == "~":
        if given <= 1:
            top = Version(low.major + 1, 0, 0) if given == 1 else None
        else:
            top = Version(low.major, low.minor + 1, 0)
        if top is None:
            return ge, bool(pre)
        return (lambda v: lo <= v.key < top.key), bool(pre)
    # "^": up to the next change of the leftmost non-zero number given
    if given == 0:
        return ge, bool(pre)
    if low.major > 0 or given == 1:
        top = Version(low.major + 1, 0, 0)
    elif low.minor > 0 or given == 2:
        top = Version(0, low.minor + 1, 0)
    else:
        top = Version(0, 0, low.patch + 1)
    return (lambda v: lo <= v.key < top.key), bool(pre)


@dataclass(frozen=True)
class Range:
    """A parsed semver range; ``contains`` says whether a version is in it."""

    text: str
    groups: tuple[tuple[tuple[_Check, bool], ...], ...]

    @classmethod
    def parse(cls, text: str) -> Range:
        """Parse ``text`` (``>=1.2 <2``, ``^1.4 || ~2.0``, ``1.2 - 1.4``)."""
        groups = []
        for alternative in text.split("||"):
            alternative = alternative.strip()
            hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", alternative)
            if hyphen:
                alternative = f">={hyphen.group(1)} <={hyphen.group(2)}"
            checks = []
            position = 0
            alternative = alternative.replace(",", " ")
            while position < len(alternative):
                if alternative[position].isspace():
                    position += 1
                    continue
                match = _COMPARATOR.match(alternative, position)
                if match is None or match.end() == position:
                    raise RepoError(
                        f"semver range {text!r}: cannot read {alternative[position:]!r}"
                    )
                end = match.end()
                if end < len(alternative) and not alternative[end].isspace():
                    raise RepoError(
                        f"semver range {text!r}: cannot read {alternative[position:]!r}"
                    )
                checks.append(_comparator(match))
                position = end
            if not checks:
                raise RepoError(f"semver range {text!r}: an empty alternative")
            groups.append(tuple(checks))
        return cls(text, tuple(groups))

    def contains(self, version: Version) -> bool:
        """Whether ``version`` satisfies every comparator of one alternative."""
        return any(
            all(
                check(version) and (allows_pre or not version.prerelease)
                for check, allows_pre in group
            )
            for group in self.groups
        )
