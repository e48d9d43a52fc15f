"""Ordering of the versions real repositories write, for the downgrade guard.

Tags are compared by their leading dotted numbers (``v1.2.10`` > ``v1.2.9``); what follows
is compared naturally (digit runs as numbers), so build tags such as
``v1.2.2.2022-01-15t161730814Z.9eabf5b`` order by their timestamp.  A semver pre-release
(``1.0.0-rc.1``) sorts before its release; build metadata (``1.0.0+build.5``) is ignored.
Date tags (``2024-05-01``, ``20240501``) order by date, build numbers behind a common
prefix (``build-41`` < ``build-42``) by number.  A Helm chart range (``>=1.0.0``, ``^1.2``,
``~1.2.3``, ``1.2.x``, ``>=1.0 <2.0``, ``||`` alternatives) orders by its lower bound: a
move from ``>=1.0.0`` to ``>=1.0.0-alpha`` goes down.  Tags without a leading number
(``latest``, digests, branch names), whose number runs into letters (``1234abcd``, a
commit), or of different schemes (a date and a semver) have no order.
"""

from __future__ import annotations

import re

_CORE = re.compile(r"^[vV]?(\d+(?:\.\d+)*)(?!\.?\d)((?:[^0-9A-Za-z].*)?)$", re.DOTALL)
"""Leading dotted numbers, then nothing or a separator: ``1234abcd`` (a commit) is no
version."""
_RUNS = re.compile(r"\d+|\D+")
_DATE = re.compile(
    r"^[vV]?((?:19|20|21)\d\d)(-?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?![0-9A-Za-z])(.*)$",
    re.DOTALL,
)
"""``2024-05-01`` or ``20240501``, then nothing or a separator and more."""
_PREFIXED = re.compile(r"^([A-Za-z][A-Za-z_.-]*?[-_.]?)(\d.*)$", re.DOTALL)
"""A word, then a number: ``build-42``, ``r1234``, ``release-1.2``."""
_HASH_PREFIXES = frozenset({"sha", "sha-", "sha_", "git-", "g", "commit-", "rev-"})
"""Prefixes of commit hashes, whose digits are no number (``sha-1234567``)."""
_RANGE_CHARS = re.compile(r"[<>=^~*|,]|\s|(?:^|\.)[xX](?:\.|$)")
_CONSTRAINT = re.compile(r"(>=|=>|<=|=<|!=|>|<|=|\^|~>|~)?\s*([vV]?[0-9xX*][^\s,]*)")


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(run)) if run.isdigit() else (1, run) for run in _RUNS.findall(text))


def compare_versions(left: str, right: str) -> int | None:
    """-1, 0 or 1 as ``left`` is older, the same or newer than ``right``; None if unordered."""
    if left == right:
        return 0
    if _is_range(left) or _is_range(right):
        return _compare_ranges(left, right)
    return _compare_tags(left, right)


def _compare_tags(left: str, right: str) -> int | None:
    if left == right:
        return 0
    date_a, date_b = _DATE.match(left), _DATE.match(right)
    if date_a is not None or date_b is not None:
        if date_a is None or date_b is None:
            return None  # a date and something else: different schemes
        return _compare_dates(date_a, date_b)
    a, b = _CORE.match(left), _CORE.match(right)
    if a is None or b is None:
        if a is None and b is None:
            return _compare_prefixed(left, right)
        return None
    core_a = [int(x) for x in a.group(1).split(".")]
    core_b = [int(x) for x in b.group(1).split(".")]
    width = max(len(core_a), len(core_b))
    core_a += [0] * (width - len(core_a))
    core_b += [0] * (width - len(core_b))
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    rest_a, rest_b = _without_build(a.group(2)), _without_build(b.group(2))
    if rest_a == rest_b:
        return 0
    if not rest_a or not rest_b:
        # "1.0.0-rc.1" < "1.0.0" (pre-release); "1.0.0.20240101" > "1.0.0" (more detail)
        longer = rest_a or rest_b
        sign = -1 if longer.startswith("-") else 1
        return sign if rest_a else -sign
    nat_a, nat_b = _natural(rest_a), _natural(rest_b)
    try:
        return -1 if nat_a < nat_b else 1
    except TypeError:  # pragma: no cover - tuples of (kind, value) always compare
        return None


def _without_build(rest: str) -> str:
    """A tag's tail without semver build metadata (``+build.5``), which has no order."""
    return rest.partition("+")[0]


def _compare_dates(a: re.Match[str], b: re.Match[str]) -> int | None:
    day_a = (int(a.group(1)), int(a.group(3)), int(a.group(4)))
    day_b = (int(b.group(1)), int(b.group(3)), int(b.group(4)))
    if day_a != day_b:
        return -1 if day_a < day_b else 1
    rest_a, rest_b = a.group(5), b.group(5)
    if rest_a == rest_b:
        return 0
    # the same day: a build counter orders ("2024-05-01.2"), anything else (a commit) not
    number_a = re.fullmatch(r"(?:[-._]?(\d+))?", rest_a)
    number_b = re.fullmatch(r"(?:[-._]?(\d+))?", rest_b)
    if number_a is None or number_b is None:
        return None
    count_a, count_b = int(number_a.group(1) or -1), int(number_b.group(1) or -1)
    return (count_a > count_b) - (count_a < count_b)


def _compare_prefixed(left: str, right: str) -> int | None:
    """``build-41`` < ``build-42``: the same word, then versions that order."""
    a, b = _PREFIXED.match(left), _PREFIXED.match(right)
    if a is None or b is None or a.group(1).lower() != b.group(1).lower():
        return None
    if a.group(1).lower() in _HASH_PREFIXES:
        return None
    rest_a, rest_b = a.group(2), b.group(2)
    if _CORE.match(rest_a) is None or _CORE.match(rest_b) is None:
        return None
    return _compare_tags(rest_a, rest_b)


# -- Helm chart ranges ----------------------------------------------------------------------

_Bound = tuple[str, bool] | None
"""A range's lower bound: (version, exclusive), or None for no bound at all."""


def _is_range(text: str) -> bool:
    """Whether a chart version is a constraint (``>=1.0``, ``^1.2``, ``1.x``, ``*``)."""
    return bool(_RANGE_CHARS.search(text.strip())) and _lower_bound(text) is not _INVALID


_INVALID: tuple[str, bool] = ("", False)


def _lower_bound(text: str) -> _Bound:
    """The lowest version a range allows (Masterminds semver, as Helm reads it)."""
    lowest: _Bound = _INVALID
    for alternative in text.split("||"):
        bound = _alternative_bound(alternative.strip())
        if bound is _INVALID:
            return _INVALID
        if lowest is _INVALID or _bound_order(bound, lowest) == -1:
            lowest = bound
    return lowest


def _alternative_bound(text: str) -> _Bound:
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen is not None:
        text = f">={hyphen.group(1)}"
    if not text:
        return _INVALID
    highest: _Bound = None
    position = 0
    for match in _CONSTRAINT.finditer(text):
        if text[position : match.start()].strip(" ,"):
            return _INVALID  # something that is no constraint between constraints
        position = match.end()
        op, version = match.group(1) or "=", match.group(2)
        wild = re.split(r"\.(?=[xX*])|^(?=[xX*])", version, maxsplit=1)[0] if version else ""
        if op in ("<", "<=", "=<", "!="):
            continue  # no lower bound
        if not wild or wild in ("*", "x", "X"):
            continue  # any version
        if _CORE.match(wild) is None:
            return _INVALID
        bound = (wild, op == ">")
        if highest is None or _bound_order(bound, highest) == 1:
            highest = bound
    if text[position:].strip(" ,"):
        return _INVALID
    return highest


def _bound_order(a: _Bound, b: _Bound) -> int | None:
    if a is None or b is None:
        return 0 if a is b else (-1 if a is None else 1)
    order = _compare_tags(a[0], b[0])
    if order is None or order != 0:
        return order
    return int(a[1]) - int(b[1])  # ">1.0" starts above ">=1.0"


def _compare_ranges(left: str, right: str) -> int | None:
    a, b = _lower_bound(left), _lower_bound(right)
    if a is _INVALID or b is _INVALID:
        return None
    order = _bound_order(a, b)
    if order == 0:
        return None  # the same lowest version, other upper limits: no order
    return order


def is_downgrade(current: str | None, proposed: str | None) -> bool:
    """Whether moving from ``current`` to ``proposed`` goes to an older version."""
    if current is None or proposed is None:
        return False
    order = compare_versions(current, proposed)
    return order is not None and order > 0


def is_unordered(current: str | None, proposed: str | None) -> bool:
    """Whether two different versions cannot be ordered (commits, ``latest``, schemes)."""
    if current is None or proposed is None or current == proposed:
        return False
    return compare_versions(current, proposed) is None
