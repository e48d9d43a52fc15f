"""Ordering of semver-like tags, for the downgrade guard.

Tags are compared by their leading dotted numbers (``v1.2.10`` > ``v1.2.9``); what follows
is compared naturally (digit runs as numbers), so build tags such as
``v1.2.2.2022-01-15t161730814Z.9eabf5b`` order by their timestamp.  A semver pre-release
(``1.0.0-rc.1``) sorts before its release.  Tags without a leading number (``latest``,
digests, branch names) or whose number runs into letters (``1234abcd``, a commit) have no
order.
"""

from __future__ import annotations

import re

_CORE = re.compile(r"^[vV]?(\d+(?:\.\d+)*)(?!\.?\d)((?:[^0-9A-Za-z].*)?)$", re.DOTALL)
"""Leading dotted numbers, then nothing or a separator: ``1234abcd`` (a commit) is no
version."""
_RUNS = re.compile(r"\d+|\D+")


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(run)) if run.isdigit() else (1, run) for run in _RUNS.findall(text))


def compare_versions(left: str, right: str) -> int | None:
    """-1, 0 or 1 as ``left`` is older, the same or newer than ``right``; None if unordered."""
    if left == right:
        return 0
    a, b = _CORE.match(left), _CORE.match(right)
    if a is None or b is None:
        return None
    core_a = [int(x) for x in a.group(1).split(".")]
    core_b = [int(x) for x in b.group(1).split(".")]
    width = max(len(core_a), len(core_b))
    core_a += [0] * (width - len(core_a))
    core_b += [0] * (width - len(core_b))
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    rest_a, rest_b = a.group(2), b.group(2)
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


def is_downgrade(current: str | None, proposed: str | None) -> bool:
    """Whether moving from ``current`` to ``proposed`` goes to an older version."""
    if current is None or proposed is None:
        return False
    order = compare_versions(current, proposed)
    return order is not None and order > 0
