"""Ordering of what real repositories write (issue 10 §3): Helm chart ranges by their lower
bound, pre-releases, build metadata, ``v`` prefixes, date and build-number tags; pairs of
different schemes have no order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promoter.versions import compare_versions, is_downgrade, is_unordered

# (older, newer)
ORDERED = [
    (">=1.0.0-alpha", ">=1.0.0"),  # a lower bound moves down
    (">=1.0.0", ">1.0.0"),
    ("~1.2.5", "^1.3.0"),
    ("1.2.x", "1.3.x"),
    ("*", ">=0.1.0"),
    (">=1.0 <2.0", ">=1.1"),
    ("1.0.0 - 2.0.0", ">=1.1.0"),
    ("1.x || >=2.1", "^1.5.0"),  # the lowest alternative counts
    ("1.2.3", ">=1.2.4"),  # an exact version is its own bound
    ("1.0.0-alpha", "1.0.0-alpha.1"),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
    ("1.0.0-beta.2", "1.0.0-beta.11"),
    ("1.0.0-rc.1", "1.0.0"),
    ("v1.0.0-rc.1", "1.0.0+build.7"),
    ("v1.9.0", "1.10.0"),
    ("2024-05-01", "2024-06-01"),
    ("20240501", "20240502"),
    ("2023-12-31", "2024-01-01"),
    ("2024-05-01.1", "2024-05-01.2"),
    ("41", "42"),
    ("build-41", "build-42"),
    ("r999", "r1000"),
    ("release-1.9", "release-1.10"),
]

SAME = [
    ("1.0.0+build.5", "1.0.0+build.7"),  # build metadata has no order
    ("1.0.0", "1.0.0+exp.sha.5114f85"),
    ("v2.0.0", "2.0.0"),
]

UNORDERED = [
    ("20240501", "1.2.3"),  # a date and a semver
    ("2024-05-01", "1.2.3"),
    ("2024-05-01", "41"),
    ("sha-1234567", "sha-2345678"),  # commit hashes behind a prefix
    ("2024-05-01-abc1234", "2024-05-01-def5678"),  # the same day, commits after it
    ("main-abc1234", "main-def5678"),
    ("build-41", "release-42"),  # different words
    (">=1.0.0", "1.0.0"),  # the same bound, another upper limit
    ("^1.2.0", "~1.2.0"),
    ("latest", ">=1.0.0"),
    ("1.0.0", "latest"),
]


@pytest.mark.parametrize(("older", "newer"), ORDERED)
def test_ordered_pairs_compare_both_ways(older: str, newer: str) -> None:
    """Each pair orders older before newer, and the reverse comparison agrees."""
    assert (compare_versions(older, newer), compare_versions(newer, older)) == (-1, 1)


@pytest.mark.parametrize(("left", "right"), SAME)
def test_build_metadata_and_prefix_do_not_order(left: str, right: str) -> None:
    """Build metadata and a ``v`` prefix leave two versions equal in order."""
    assert (compare_versions(left, right), compare_versions(right, left)) == (0, 0)


@pytest.mark.parametrize(("left", "right"), UNORDERED)
def test_pairs_of_different_schemes_have_no_order(left: str, right: str) -> None:
    """Commits, ``latest`` and versions of different schemes are unordered, both ways."""
    assert (compare_versions(left, right), compare_versions(right, left)) == (None, None)
    assert is_unordered(left, right) and not is_downgrade(left, right)


def test_a_lower_chart_bound_is_a_downgrade() -> None:
    """``>=1.0.0`` -> ``>=1.0.0-alpha`` is a downgrade; the way back is not."""
    assert is_downgrade(">=1.0.0", ">=1.0.0-alpha")
    assert not is_downgrade(">=1.0.0-alpha", ">=1.0.0")


versions = (
    st.builds(
        lambda prefix, core, pre, build: prefix + ".".join(map(str, core)) + pre + build,
        st.sampled_from(("", "v", ">=", "^", "~", ">")),
        st.lists(st.integers(0, 12), min_size=1, max_size=3),
        st.sampled_from(("", "-rc.1", "-alpha", "-alpha.1")),
        st.sampled_from(("", "+build.1", "+build.2")),
    )
    | st.builds(
        lambda y, m, day, sep: f"{y}{sep}{m:02d}{sep}{day:02d}",
        st.integers(2022, 2025),
        st.integers(1, 12),
        st.integers(1, 28),
        st.sampled_from(("", "-")),
    )
    | st.builds(lambda n: f"build-{n}", st.integers(0, 200))
    | st.sampled_from(("latest", "main", "1234abcd", "*", "1.x"))
)


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
