"""Tag policies with Flux ImagePolicy semantics: filter, extract, order, newest and newer."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promoter.errors import RepoError
from promoter.registry import Available, TagPolicy
from promoter.registry.semver import Range, Version

SEMVER_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.2.0",
    "1.10.0",
    "2.0.0",
]
"""The precedence example of semver 2.0 §11, extended: each tag is newer than the last."""


def test_semver_orders_as_the_specification_says():
    """Semver ordering follows semver 2.0 precedence, pre-releases included."""
    shuffled = random.Random(7).sample(SEMVER_ORDER, len(SEMVER_ORDER))

    assert TagPolicy().sort(shuffled) == SEMVER_ORDER


@given(st.permutations(SEMVER_ORDER))
def test_semver_order_does_not_depend_on_input_order(tags):
    """Whatever order the registry lists tags in, the policy orders them the same."""
    assert TagPolicy().sort(tags) == SEMVER_ORDER


def test_semver_accepts_v_prefix_and_short_versions():
    """``v1.2`` is 1.2.0 and ``v2`` is 2.0.0; build metadata does not change the order."""
    tags = ["v2", "v1.2", "1.1.9", "1.2.1+build.5", "latest", "main-abc123"]

    assert TagPolicy().sort(tags) == ["1.1.9", "v1.2", "1.2.1+build.5", "v2"]


def test_semver_leaves_out_what_is_no_version():
    """Tags that are no semantic version (latest, commits, dates with letters) do not count."""
    policy = TagPolicy()

    assert [tag for tag in ["latest", "abc1234", "1.0", "01.2.3"] if policy.accepts(tag)] == ["1.0"]


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">=1.2.0 <2.0.0", ["1.2.0", "1.9.9"], ["1.1.9", "2.0.0", "1.5.0-rc.1"]),
        ("^1.2", ["1.2.0", "1.99.0"], ["2.0.0", "1.1.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("1.2.x", ["1.2.0", "1.2.7"], ["1.3.0", "1.1.0"]),
        ("*", ["0.0.1", "9.9.9"], ["1.0.0-rc.1"]),
        ("1.2 - 1.4", ["1.2.0", "1.4.9"], ["1.5.0", "1.1.0"]),
        ("<1.0 || >=3.0", ["0.9.0", "3.1.0"], ["1.0.0", "2.9.9"]),
        (">=1.0.0-0", ["1.0.0-rc.1", "2.0.0-alpha", "1.0.0"], ["0.9.0"]),
        ("!=1.2.3, >=1.2", ["1.2.4"], ["1.2.3", "1.1.0"]),
        ("> 1.2", ["1.3.0"], ["1.2.5"]),
        ("<= 1.2", ["1.2.9"], ["1.3.0"]),
    ],
)
def test_semver_ranges(text, inside, outside):
    """Ranges read as Masterminds semver does, pre-releases only where the range names one."""
    rng = Range.parse(text)

    def contains(tag: str) -> bool:
        version = Version.parse(tag)
        assert version is not None
        return rng.contains(version)

    assert ([contains(t) for t in inside], [contains(t) for t in outside]) == (
        [True] * len(inside),
        [False] * len(outside),
    )


def test_range_limits_newest():
    """With a range, newest is the highest tag inside it."""
    tags = ["1.4.0", "1.5.0", "2.0.0", "2.1.0-rc.1"]

    assert TagPolicy(range="<2.0.0").newest(tags) == "1.5.0"


def test_numerical_orders_numbers():
    """Numerical order compares values as numbers (10 after 9), leaving out what is none."""
    tags = ["9", "10", "1.5", "-1", "latest", "100"]

    assert TagPolicy(order="numerical").sort(tags) == ["-1", "1.5", "9", "10", "100"]


def test_alphabetical_orders_ascending():
    """Alphabetical order is plain ascending string order, so newest is the last."""
    tags = ["RELEASE.2024-01-02", "RELEASE.2023-12-31", "RELEASE.2024-01-10"]
    policy = TagPolicy(order="alphabetical")

    assert policy.newest(tags) == "RELEASE.2024-01-10"
    assert policy.sort(tags)[0] == "RELEASE.2023-12-31"


def test_pattern_filters_tags():
    """Only tags the pattern matches are considered (searched, as Flux does)."""
    tags = ["1.0.0", "1.1.0-debug", "1.2.0", "2.0.0-debug"]

    policy = TagPolicy(pattern=r"^\d+\.\d+\.\d+$")

    assert policy.sort(tags) == ["1.0.0", "1.2.0"]


def test_pattern_with_extract_orders_by_the_group():
    """Flux's classic main-<sha>-<timestamp> tags order by the extracted timestamp."""
    tags = ["main-abc1234-1700000300", "main-def5678-1700000100", "feature-0-1800000000"]
    policy = TagPolicy(pattern=r"^main-[a-f0-9]+-(?P<ts>\d+)$", extract="$ts", order="numerical")

    assert policy.sort(tags) == ["main-def5678-1700000100", "main-abc1234-1700000300"]
    assert policy.value("main-abc1234-1700000300") == "1700000300"


def test_extract_builds_a_version_from_groups():
    """``extract`` may combine groups (``${1}.${2}``, ``$$`` for a dollar) into the value."""
    policy = TagPolicy(pattern=r"^r(\d+)-(\d+)$", extract="${1}.${2}.0")

    assert policy.sort(["r1-10", "r1-9", "r2-0"]) == ["r1-9", "r1-10", "r2-0"]
    assert TagPolicy(pattern=r"(?P<n>\d+)", extract="$$$n").value("v7") == "$7"


def test_available_newest_and_newer_than_current():
    """``newer`` lists accepted tags above the current one, ascending, up to the newest."""
    tags = ["1.0.0", "1.1.0", "1.2.0-rc.1", "1.2.0", "0.9.0", "latest"]

    available = TagPolicy().available(tags, "1.1.0")

    assert available == Available(newest="1.2.0", newer=("1.2.0-rc.1", "1.2.0"))
    assert available.to_json() == {"newest": "1.2.0", "newer": ["1.2.0-rc.1", "1.2.0"]}


def test_newer_keeps_the_newest_twenty():
    """More than 20 newer tags are cut to the newest 20, so the list ends at newest."""
    tags = [f"1.{minor}.0" for minor in range(30)]

    available = TagPolicy().available(tags, "1.2.0")

    assert available.newer == tuple(f"1.{minor}.0" for minor in range(10, 30))
    assert available.newer[-1] == available.newest


def test_nothing_is_newer_than_an_unordered_current():
    """When the current version cannot be ordered (``latest``), nothing is said to be newer."""
    assert TagPolicy().available(["1.0.0", "2.0.0"], "latest") == Available("2.0.0", ())


def test_current_outside_the_range_still_compares():
    """A current version outside the range still bounds ``newer``."""
    policy = TagPolicy(range=">=2.0.0")

    assert policy.available(["1.0.0", "2.0.0", "2.1.0"], "1.5.0").newer == ("2.0.0", "2.1.0")


def test_current_with_extract_compares_by_its_value():
    """The current tag is read through the same pattern and extract as the candidates."""
    policy = TagPolicy(pattern=r"-(?P<ts>\d+)$", extract="$ts", order="numerical")
    tags = ["main-a-100", "main-b-200", "main-c-300"]

    assert policy.available(tags, "main-b-200") == Available("main-c-300", ("main-c-300",))


def test_no_accepted_tag_means_no_newest():
    """A repository with no tag the policy accepts has no newest and nothing newer."""
    assert TagPolicy().available(["latest", "main"], "1.0.0") == Available(None, ())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pattern": "("}, "tag pattern '('"),
        ({"pattern": r"(?P<a>\d+)", "extract": "$b"}, "the pattern has no group 'b'"),
        ({"extract": "$a"}, "tag extract '$a' needs a pattern"),
        ({"order": "newest"}, "tag order 'newest': expected one of semver, numerical"),
        ({"order": "numerical", "range": ">1"}, "a semver range is given for order 'numerical'"),
        ({"range": ">=1.0 <<2"}, "semver range '>=1.0 <<2': cannot read '<<2'"),
    ],
)
def test_invalid_policies_are_refused(kwargs, message):
    """A policy that cannot work fails when made, with a line saying what is wrong."""
    with pytest.raises(RepoError) as raised:
        TagPolicy(**kwargs)

    assert message in str(raised.value)
