"""Image references (``promoter.images``): parsing, and parsing the same text again."""

from __future__ import annotations

import pytest

from promoter.images import ImageRef


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", ImageRef("nginx")),
        ("nginx:1.25", ImageRef("nginx", "1.25")),
        ("localhost:5000/app", ImageRef("localhost:5000/app")),
        ("localhost:5000/app:v1@sha256:ab", ImageRef("localhost:5000/app", "v1", "sha256:ab")),
        ("ghcr.io/acme/app@sha256:cd", ImageRef("ghcr.io/acme/app", None, "sha256:cd")),
        ("app:", ImageRef("app")),
    ],
)
def test_parse_splits_name_tag_and_digest(text: str, expected: ImageRef) -> None:
    """A reference splits at the last ``:`` after the last ``/`` and at ``@``."""
    assert expected == ImageRef.parse(text)


def test_parsing_again_gives_an_equal_reference() -> None:
    """The same text parsed twice gives the same (immutable) reference, equal to a new one."""
    first = ImageRef.parse("ghcr.io/acme/app:1.2.3")
    again = ImageRef.parse("ghcr.io/acme/app:1.2.3")
    assert again is first
    assert ImageRef("ghcr.io/acme/app", "1.2.3") == again
    assert str(again) == "ghcr.io/acme/app:1.2.3"


@pytest.mark.parametrize(
    ("text", "registry", "repository"),
    [
        ("nginx:1", "docker.io", "library/nginx"),
        ("acme/app", "docker.io", "acme/app"),
        ("ghcr.io/acme/app:1", "ghcr.io", "acme/app"),
        ("localhost/app", "localhost", "app"),
        ("registry:5000/team/app", "registry:5000", "team/app"),
    ],
)
def test_registry_and_repository_are_normalised(text: str, registry: str, repository: str) -> None:
    """A reference without a registry host is on Docker Hub, a single name under ``library/``."""
    ref = ImageRef.parse(text)
    assert (registry, repository) == (ref.registry, ref.repository)
