"""Plain scalars PyYAML resolves as numbers it then cannot convert (``0b_``) are quoted."""

from __future__ import annotations

import pytest
import yaml

from promoter import textedit


@pytest.mark.parametrize("value", ["0b_", "0x_", "+0b_", "0b__"])
def test_quote_like_quotes_number_lookalikes_pyyaml_cannot_read(value: str) -> None:
    """A tag PyYAML takes for an empty binary or hex number is written quoted, and reads back."""
    written = textedit.quote_like(value, "")
    assert written == f'"{value}"'
    assert yaml.safe_load(written) == value
