"""Reading YAML (``promoter._yaml``): the plain conversion (no aliases, no merge keys) and
the relabelled copy of a file with the same content read the same as a full conversion."""

from __future__ import annotations

from typing import Any

import pytest

from promoter import _yaml
from promoter._yaml import YMap, YSeq, parse_bytes, parse_text
from promoter.errors import ManifestError

DOCUMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {a: "1", b: 2, c: null, d: ~, e: true, f: False, g: 1.10, h: 010, i: -0, j: +3}
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          image: 'example.com/app:1.0.0'
          args: [--x, "y", 7]
          env:
            - name: A
              value: |
                text
---
- 1
- [a, {b: c}]
---
"""


def span(node: Any) -> Any:
    """Where a parser node is: its kind and the line and column of both ends."""
    if node is None:
        return None
    start, end = node.start_mark, node.end_mark
    return (type(node).__name__, start.line, start.column, end.line, end.column)


def shape(value: Any) -> Any:
    """``value`` with the file, role, offsets and node of every container spelled out."""
    if isinstance(value, YMap):
        where = (value.file, value.mech, value.line_offset, value.col_offset, span(value.node))
        nodes = tuple((key, span(node)) for key, node in value.nodes.items())
        return ("map", where, nodes, {k: shape(v) for k, v in value.items()})
    if isinstance(value, YSeq):
        return ("seq", (value.file, value.mech, span(value.node)), [shape(v) for v in value])
    return (type(value).__name__, value)


def full(text: str, file: str, mech: str, **offsets: int) -> list[Any]:
    """``text`` converted by ``_Converter`` alone (the general path)."""
    loader = _yaml._Composer(text)
    converter = _yaml._Converter(file, mech, offsets.get("line", 0), offsets.get("col", 0))
    docs = []
    while loader.check_node():
        node = loader.get_node()
        docs.append(None if node is None else converter.convert(node))
    return docs


def test_plain_conversion_is_the_full_conversion() -> None:
    """Without aliases or merge keys, the fast path builds what ``_Converter`` builds."""
    loader = _yaml._Composer(DOCUMENT)
    nodes = []
    while loader.check_node():
        nodes.append(loader.get_node())
    plain = [
        None if n is None else _yaml._convert_plain(n, "f.yaml", "resource", 2, 4) for n in nodes
    ]
    converter = _yaml._Converter("f.yaml", "resource", 2, 4)
    general = [None if n is None else converter.convert(n) for n in nodes]
    assert [shape(d) for d in general] == [shape(d) for d in plain]
    assert plain[0]["metadata"]["labels"] == {
        "a": "1", "b": 2, "c": None, "d": None, "e": True, "f": False,
        "g": "1.10", "h": "010", "i": 0, "j": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("mech", "expected"),
    [("patch", {"a": 1, "b": 3}), ("kustomization", {"a": 2, "b": 3})],
)
def test_duplicate_keys_still_follow_the_role(mech: str, expected: dict[str, int]) -> None:
    """A duplicate key leaves the fast path: a patch keeps the first value, others the last."""
    assert [expected] == parse_text("a: 1\na: 2\nb: 3\n", "f", mech)


def test_duplicate_keys_in_a_resource_fail() -> None:
    """A resource with a duplicate key fails as kustomize does, naming both lines."""
    with pytest.raises(ManifestError, match='key "a" already defined at line 1'):
        parse_text("a: 1\nb: 2\na: 3\n", "f", "resource")


def test_merge_keys_and_aliases_take_the_general_path() -> None:
    """Merge keys and aliases read as before (the fast path never sees them)."""
    text = "base: &b {a: 1}\nx: *b\ny:\n  <<: *b\n  c: 2\nz: {<<: {d: 4}}\n"
    expected = [{"base": {"a": 1}, "x": {"a": 1}, "y": {"a": 1, "c": 2}, "z": {"d": 4}}]
    assert expected == parse_text(text, "f")


def test_a_non_scalar_key_is_refused() -> None:
    """A mapping key that is not a scalar fails with the general path's message."""
    with pytest.raises(ManifestError, match="a mapping key must be a scalar"):
        parse_text("? [a]\n: 1\n", "f")


def test_same_content_in_another_file_is_labelled_with_that_file() -> None:
    """Two files with the same bytes: the second is a copy naming its own file everywhere."""
    _yaml.clear_cache()
    data = DOCUMENT.encode()
    first = parse_bytes(data, "dev/patch.yaml", "patch")
    second = parse_bytes(data, "prod/patch.yaml", "patch")
    expected = [d for d in full(DOCUMENT, "prod/patch.yaml", "patch") if d is not None]
    assert [shape(d) for d in expected] == [shape(d) for d in second]
    assert [shape(d) for d in first] != [shape(d) for d in second]
    assert second is parse_bytes(data, "prod/patch.yaml", "patch")
    origin = second[0]["spec"]["template"]["spec"]["containers"][0].origin("image")
    assert origin is not None
    assert (origin.file, origin.line) == ("prod/patch.yaml", 12)


def test_a_snippet_again_is_labelled_with_its_own_file_and_offsets() -> None:
    """The same inline snippet in two kustomizations: each copy names its own place."""
    _yaml.clear_cache()
    snippet = "- op: replace\n  path: /spec/v\n  value: 1.2.3\n"
    first = _yaml.parse_snippet(snippet, "dev/k.yaml", "inline-patch", line_offset=10)
    second = _yaml.parse_snippet(
        snippet, "prod/k.yaml", "inline-patch", line_offset=20, col_offset=4
    )
    expected = full(snippet, "prod/k.yaml", "inline-patch", line=20, col=4)
    assert [shape(d) for d in second] == [shape(d) for d in expected]
    where = [
        (op.origin("value").file, op.origin("value").line) for op in (first[0][0], second[0][0])
    ]
    assert where == [("dev/k.yaml", 13), ("prod/k.yaml", 23)]


@pytest.mark.parametrize(
    "data",
    [b"", b"a: 1\n", b"\xef\xbb\xbfa: 1\n", b"\xef\xbb\xbf\xef\xbb\xbfa", b"\xef\xbb", b"x\xffy"],
)
@pytest.mark.parametrize("errors", ["strict", "replace"])
def test_decode_is_utf8_sig(data: bytes, errors: str) -> None:
    """``decode`` gives what the "utf-8-sig" codec gives: one leading mark dropped, the
    same replacement characters, the same refusal."""
    try:
        expected: str | None = data.decode("utf-8-sig", errors)
    except UnicodeDecodeError as exc:
        with pytest.raises(UnicodeDecodeError) as found:
            _yaml.decode(data, errors)
        assert exc.reason == found.value.reason
        return
    assert expected == _yaml.decode(data, errors)
