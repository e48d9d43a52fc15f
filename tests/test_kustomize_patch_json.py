"""Which patch files are checked as JSON: told from their first bytes, as the decoded text
would tell it (``text.lstrip().startswith("[")``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promoter.kustomize.patches import _may_be_json

_PIECES = st.sampled_from(
    [b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1f", b"\xc2\x85", b"\xc2\xa0",
     b"\xe3\x80\x80", b"\xef\xbb\xbf", b"\xff", b"[", b"{", b"a", b"-", b"#", b"\x00"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=6).map(b"".join))
def test_json_is_told_from_the_first_bytes(data: bytes) -> None:
    """A file that may start with "[" once decoded and stripped is never skipped."""
    starts = data.decode("utf-8-sig", errors="replace").lstrip().startswith("[")
    assert not starts or _may_be_json(data)


def test_a_yaml_patch_is_not_decoded() -> None:
    """The common patch (a YAML mapping, maybe indented or after blank lines) is no JSON."""
    found = [_may_be_json(d) for d in (b"apiVersion: v1\n", b"\n  kind: X\n", b"", b" \n[1]")]
    assert found == [False, False, False, True]
