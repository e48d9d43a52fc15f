"""Tests of promoter.redact: the one masking of credentials in URLs and messages."""

from __future__ import annotations

import pytest

from promoter.redact import redact_url, scrub


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://bot:s3cret@host/x", "https://***@host/x"),
        ("https://ghp_token@github.com/acme/gitops.git", "https://***@github.com/acme/gitops.git"),
        ("https://github.com/acme/gitops.git", "https://github.com/acme/gitops.git"),
        ("ssh://git@github.com/acme/gitops.git", "ssh://***@github.com/acme/gitops.git"),
        ("git@github.com:acme/gitops.git", "git@github.com:acme/gitops.git"),
        ("/srv/git/gitops.git", "/srv/git/gitops.git"),
    ],
)
def test_redact_url_masks_user_info(url: str, shown: str) -> None:
    """The user-info of a URL (where a password or token can hide) is masked, nothing else."""
    assert shown == redact_url(url)


def test_scrub_masks_secrets_and_every_url_in_text() -> None:
    """Each given secret and the credentials of each URL in a message are masked."""
    text = "fatal: tok-123 refused for http://bot:pw@h1/x and https://u@h2/y"
    expected = "fatal: *** refused for http://***@h1/x and https://***@h2/y"
    assert expected == scrub(text, ["tok-123", ""])


def test_scrub_without_secrets_or_urls_changes_nothing() -> None:
    """A message with no URL and no secret comes back as it was."""
    text = "git push failed: remote: Permission to acme/gitops denied"
    assert text == scrub(text)
