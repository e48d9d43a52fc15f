"""Ordering of semver-like tags for the downgrade guard (``promoter.versions``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promoter.versions import compare_versions, is_downgrade

DIGEST = "sha256:" + "a" * 64
BUILD_15 = "v1.2.2.2022-01-15t161730814Z.9eabf5b"
BUILD_16 = "v1.2.2.2022-01-16t090000000Z.1c2d3e4"

# (older, newer): compare_versions(older, newer) == -1 and the reverse is 1.
ORDERED = [
    ("1.2.9", "1.2.10"),
    ("1.9", "1.10"),
    ("v1.2.3", "v1.2.4"),
    ("1.2.3", "v1.3.0"),
    ("0.9.9", "1.0.0"),
    ("1.2", "1.2.1"),
    ("2024.05.1", "2024.06.3"),
    ("2024.12.9", "2025.01.1"),
    ("1.0.0-rc.1", "1.0.0"),
    ("1.0.0-rc.1", "1.0.0-rc.2"),
    ("1.0.0-rc.9", "1.0.0-rc.10"),
    ("1.0.0-alpha", "1.0.0-beta"),
    ("1.0.0", "1.0.1-rc.1"),
    ("1.21.6-alpine", "1.22.0-alpine"),
    (BUILD_15, BUILD_16),
    ("v1.2.2", BUILD_15),
    (BUILD_15, "v1.2.3"),
    (BUILD_16, "v1.3.0"),
    ("v1.2.1.2023-06-01t000000000Z.ffffff1", BUILD_15),
]

SAME = [
    ("1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),
    ("1.0", "1.0.0"),
    ("latest", "latest"),
    (DIGEST, DIGEST),
    (BUILD_15, BUILD_15),
]

UNORDERED = [
    ("latest", "1.2.3"),
    ("1.2.3", "latest"),
    (DIGEST, "1.2.3"),
    ("sha256:" + "b" * 64, DIGEST),
    ("main", "develop"),
    ("1234abcd", "9f8e7d6"),  # commit hashes that start with digits
    ("1.0rc1", "1.0"),
    ("stable", BUILD_15),
]


@pytest.mark.parametrize(("older", "newer"), ORDERED)
def test_ordered_pairs_compare_both_ways(older: str, newer: str) -> None:
    """Each pair orders older before newer, and the reverse comparison agrees."""
    assert (compare_versions(older, newer), compare_versions(newer, older)) == (-1, 1)


@pytest.mark.parametrize(("left", "right"), SAME)
def test_equal_versions_compare_equal(left: str, right: str) -> None:
    """The same version written alike or with a ``v``/missing ``.0`` compares equal."""
    assert (compare_versions(left, right), compare_versions(right, left)) == (0, 0)


@pytest.mark.parametrize(("left", "right"), UNORDERED)
def test_tags_without_a_version_number_have_no_order(left: str, right: str) -> None:
    """``latest``, digests, branch names and commit hashes are not ordered."""
    assert compare_versions(left, right) is None


DOWNGRADES = [
    ("1.23.1", "1.22.0", True),
    ("1.22.0", "1.23.1", False),
    ("1.22.0", "1.22.0", False),
    ("1.0.0", "1.0.0-rc.1", True),
    (BUILD_16, BUILD_15, True),
    (BUILD_15, BUILD_16, False),
    ("v1.2.3", BUILD_15, True),
    ("latest", "1.0.0", False),
    ("1.0.0", "latest", False),
    (DIGEST, "1.0.0", False),
    ("1.0.0", DIGEST, False),
    (None, "1.0.0", False),
    ("1.0.0", None, False),
]


@pytest.mark.parametrize(("current", "proposed", "expected"), DOWNGRADES)
def test_is_downgrade(current: str | None, proposed: str | None, expected: bool) -> None:
    """A downgrade is an ordered move to an older version; unordered moves are not."""
    assert is_downgrade(current, proposed) is expected


versions = st.builds(
    lambda prefix, core, rest: prefix + ".".join(map(str, core)) + rest,
    st.sampled_from(("", "v")),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.sampled_from(("", "-rc.1", "-rc.10", "-alpha", ".2022-01-15t161730814Z.9eabf5b")),
) | st.sampled_from(("latest", DIGEST, "main", "1234abcd"))


@given(versions, versions)
def test_comparison_is_antisymmetric(left: str, right: str) -> None:
    """compare(a, b) is the negation of compare(b, a) (or both are None)."""
    forward, backward = compare_versions(left, right), compare_versions(right, left)
    assert (forward, backward) == (None, None) or forward == -(backward or 0)


@given(versions, versions, versions)
def test_comparison_is_transitive(a: str, b: str, c: str) -> None:
    """When a <= b and b <= c (all ordered), then a <= c."""
    ab, bc, ac = compare_versions(a, b), compare_versions(b, c), compare_versions(a, c)
    if ab is not None and bc is not None and ab <= 0 and bc <= 0:
        assert ac is not None and ac <= 0
