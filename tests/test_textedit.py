"""Byte-preserving YAML text edits (``promoter.textedit``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from promoter import textedit

MARKER = '# {"$imagepolicy": "flux-system:nginx:tag"}'


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and 0-based column of the first ``needle`` in ``text``."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def replace(text: str, needle: str, value: str) -> str:
    return textedit.replace_scalar(text, *position(text, needle), value)


# -- replace_scalar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle", "value", "expected"),
    [
        ("image: nginx:1.22.0\n", "nginx", "nginx:1.23.1", "image: nginx:1.23.1\n"),
        ("newTag: '1.22.0'\n", "'", "1.23.1", "newTag: '1.23.1'\n"),
        ('newTag: "1.22.0"\n', '"', "1.23.1", 'newTag: "1.23.1"\n'),
        ("newTag: 'a'\n", "'", "it's", "newTag: 'it''s'\n"),
        ('newTag: "a"\n', '"', 'say "hi"', 'newTag: "say \\"hi\\""\n'),
        ("version: 5.2.1\n", "5", "1.10", 'version: "1.10"\n'),
        ("version: 5.2.1\n", "5", "7.0", 'version: "7.0"\n'),
        ("version: '5.2.1'\n", "'", "1.10", "version: '1.10'\n"),
        ("version: 1.10\n", "1", "1.10", 'version: "1.10"\n'),
        ("tag: x\n", "x", "true", 'tag: "true"\n'),
        ("tag: x\n", "x", "1e3", 'tag: "1e3"\n'),
    ],
    ids=[
        "plain",
        "single",
        "double",
        "single-escape",
        "double-escape",
        "plain-float",
        "plain-float-zero",
        "single-float",
        "plain-float-to-string",
        "plain-bool",
        "plain-yaml12-float",
    ],
)
def test_replace_scalar_keeps_quoting(text: str, needle: str, value: str, expected: str) -> None:
    """The new value is written in the old scalar's style, quoted when plain would change it."""
    assert replace(text, needle, value) == expected


def test_replace_scalar_keeps_trailing_comment_and_setter_marker() -> None:
    """A trailing comment (a Flux setter marker) stays exactly, spacing included."""
    text = f"images:\n  - name: nginx\n    newTag: 1.22.0   {MARKER}\n# end\n"
    expected = f"images:\n  - name: nginx\n    newTag: 1.23.1   {MARKER}\n# end\n"
    assert replace(text, "1.22.0", "1.23.1") == expected


def test_replace_scalar_keeps_comment_after_quoted_value() -> None:
    """A comment after a quoted value stays."""
    text = f'newTag: "1.22.0" {MARKER}\n'
    assert replace(text, '"', "1.23.1") == f'newTag: "1.23.1" {MARKER}\n'


def test_replace_scalar_keeps_crlf() -> None:
    """In a CRLF file only the value changes: every line still ends with CRLF."""
    text = f"a: 1\r\nimage: nginx:1.0 {MARKER}\r\nb: 'x'\r\n"
    expected = f"a: 1\r\nimage: nginx:1.1 {MARKER}\r\nb: 'x'\r\n"
    assert replace(text, "nginx", "nginx:1.1") == expected
    assert replace("image: nginx:1.0\r\n", "nginx", "nginx:1.1") == "image: nginx:1.1\r\n"


def test_replace_scalar_in_flow_mappings() -> None:
    """Scalars inside flow mappings and sequences end at the flow separators."""
    text = '- {name: x, image: "a:1"}\n- {name: y, image: b:1}\nargs: [a:1, "b"]\n'
    assert replace(text, '"a:1"', "a:2") == (
        '- {name: x, image: "a:2"}\n- {name: y, image: b:1}\nargs: [a:1, "b"]\n'
    )
    assert replace(text, "b:1", "b:2") == (
        '- {name: x, image: "a:1"}\n- {name: y, image: b:2}\nargs: [a:1, "b"]\n'
    )
    assert replace(text, "a:1,", "c") == (
        '- {name: x, image: "a:1"}\n- {name: y, image: b:1}\nargs: [c, "b"]\n'
    )
    assert replace("m: {image: a:1}\n", "a:1", "a, b") == 'm: {image: "a, b"}\n'


def test_replace_scalar_with_the_same_value_keeps_its_escapes() -> None:
    """Writing a scalar's own value back leaves even unusual escapes alone."""
    text = 'name: "caf\\u00e9"\n'
    assert replace(text, '"', "café") == text


def test_scalar_at_refuses_what_is_not_a_scalar() -> None:
    """An unterminated quoted scalar or an empty position is an error, not a guess."""
    with pytest.raises(ValueError, match="unterminated"):
        textedit.scalar_at("a: 'b\n", 1, 3)
    with pytest.raises(ValueError, match="no scalar"):
        textedit.scalar_at("a: \n", 1, 3)
    with pytest.raises(ValueError, match="outside"):
        textedit.scalar_at("a: b\n", 3, 0)


# -- quote_like ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.2.3", "1.2.3"),
        ("nginx:1.23.1", "nginx:1.23.1"),
        ("ghcr.io/acme/shop@sha256:abc", "ghcr.io/acme/shop@sha256:abc"),
        ("v1.2.2.2022-01-15t161730814Z.9eabf5b", "v1.2.2.2022-01-15t161730814Z.9eabf5b"),
        ("1.10", '"1.10"'),
        ("7.0", '"7.0"'),
        ("7", '"7"'),
        ("true", '"true"'),
        ("no", '"no"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("2022-01-15", '"2022-01-15"'),
        ("1e3", '"1e3"'),
        ("08", '"08"'),
        ("1_000", '"1_000"'),
        ("_0", "_0"),
        ("0o17", '"0o17"'),
        (".inf", '".inf"'),
        ("0x1F", '"0x1F"'),
        ("@latest", '"@latest"'),
        ("a b", '"a b"'),
        ("a: b", '"a: b"'),
        ("", '""'),
        ("[x]", '"[x]"'),
    ],
)
def test_quote_like_plain_quotes_what_yaml_would_read_differently(
    value: str, expected: str
) -> None:
    """Plain style is kept only when YAML reads the text back as the same string."""
    assert textedit.quote_like(value, "") == expected


def test_quote_like_keeps_quoted_styles() -> None:
    """Single and double quotes stay; a line break cannot be single-quoted."""
    assert textedit.quote_like("1.10", "'") == "'1.10'"
    assert textedit.quote_like("it's", "'") == "'it''s'"
    assert textedit.quote_like("1.10", '"') == '"1.10"'
    assert textedit.quote_like("a\nb", "'") == '"a\\nb"'
    assert textedit.quote_like("é😀", '"') == '"é😀"'
    assert textedit.quote_like("\x07\u2028", '"') == '"\\u0007\\u2028"'


# -- appending to lists --------------------------------------------------------------------


def test_append_block_item_with_two_space_dashes() -> None:
    """A new item gets the first item's dash column, after the last item's last line."""
    text = (
        "images:\n"
        "  - name: a\n"
        "    newTag: 1.0 # keep\n"
        "  # a comment about the next key\n"
        "\n"
        "patches: []\n"
    )
    expected = (
        "images:\n"
        "  - name: a\n"
        "    newTag: 1.0 # keep\n"
        "  - name: b\n"
        "    newTag: 2.0\n"
        "  # a comment about the next key\n"
        "\n"
        "patches: []\n"
    )
    assert textedit.append_block_item(text, 2, 2, ["- name: b", "  newTag: 2.0"]) == expected


def test_append_block_item_with_dashes_at_column_zero() -> None:
    """Dashes at column 0 (an indentless sequence) stay at column 0."""
    text = (
        "patches:\n- path: a.yaml\n  target:\n    kind: Job\n- path: b.yaml\nimages:\n- name: x\n"
    )
    expected = (
        "patches:\n- path: a.yaml\n  target:\n    kind: Job\n- path: b.yaml\n- path: c.yaml\n"
        "images:\n- name: x\n"
    )
    assert textedit.append_block_item(text, 2, 5, ["- path: c.yaml"]) == expected


def test_append_block_item_aligns_with_a_wider_gap_after_the_dash() -> None:
    """Items written ``-   key`` (keys four columns in) get new items written alike."""
    text = "images:\n-   name: a\n    newTag: 1.0\n"
    expected = text + "-   name: b\n    newTag: 2.0\n"
    assert textedit.append_block_item(text, 2, 2, ["- name: b", "  newTag: 2.0"]) == expected


def test_append_block_item_at_end_of_file_with_trailing_blank_lines() -> None:
    """Trailing blank lines and comments after the list stay after the new item."""
    text = "resources:\n  - a.yaml\n\n# the end\n"
    expected = "resources:\n  - a.yaml\n  - b.yaml\n\n# the end\n"
    assert textedit.append_block_item(text, 2, 2, ["- b.yaml"]) == expected


def test_append_block_item_keeps_crlf() -> None:
    """New lines in a CRLF file end with CRLF."""
    text = "patches:\r\n  - path: a.yaml\r\nimages: []\r\n"
    expected = "patches:\r\n  - path: a.yaml\r\n  - path: b.yaml\r\nimages: []\r\n"
    assert textedit.append_block_item(text, 2, 2, ["- path: b.yaml"]) == expected


def test_append_block_item_after_a_block_scalar() -> None:
    """A last item holding a block scalar (an inline patch) ends after the scalar."""
    text = (
        "patches:\n  - patch: |-\n      - op: remove\n\n        path: /x\n"
        "    target:\n      kind: A\n"
    )
    expected = text + "  - path: b.yaml\n"
    assert textedit.append_block_item(text, 2, 2, ["- path: b.yaml"]) == expected


def test_append_top_level() -> None:
    """A new key is appended at the end, with a final line break added where missing."""
    assert textedit.append_top_level("a: 1\n", ["patches:", "- path: x"]) == (
        "a: 1\npatches:\n- path: x\n"
    )
    assert textedit.append_top_level("a: 1", ["b: 2"]) == "a: 1\nb: 2\n"
    assert textedit.append_top_level("a: 1\r\n", ["b: 2"]) == "a: 1\r\nb: 2\r\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("patches: [{path: a.yaml}]\n", "patches: [{path: a.yaml}, {path: b.yaml}]\n"),
        ("patches: []\n", "patches: [{path: b.yaml}]\n"),
        ("patches: [ ]\n", "patches: [{path: b.yaml} ]\n"),
        ("patches: [{path: a.yaml},]\n", "patches: [{path: a.yaml}, {path: b.yaml},]\n"),
        (
            "patches: [\n  {path: a.yaml},\n]\n",
            "patches: [\n  {path: a.yaml}, {path: b.yaml},\n]\n",
        ),
        (
            "patches: [\r\n  {path: a.yaml}\r\n]\r\n",
            "patches: [\r\n  {path: a.yaml}, {path: b.yaml}\r\n]\r\n",
        ),
    ],
    ids=["one", "empty", "empty-space", "trailing-comma", "multi-line", "crlf"],
)
def test_append_flow_item(text: str, expected: str) -> None:
    """An item joins a flow sequence in its style; the result parses to one more item."""
    close = text.rindex("]")
    line = text.count("\n", 0, close) + 1
    column = close - (text.rfind("\n", 0, close) + 1)
    result = textedit.append_flow_item(text, line, column, "{path: b.yaml}")
    assert result == expected
    assert yaml.safe_load(result)["patches"][-1] == {"path": "b.yaml"}


def test_append_flow_item_into_a_flow_mapping() -> None:
    """A key joins a flow mapping before its closing brace."""
    text = "- {name: nginx, newTag: 1.0}\n"
    assert textedit.append_flow_item(text, 1, 27, "digest: sha256:x") == (
        "- {name: nginx, newTag: 1.0, digest: sha256:x}\n"
    )


def test_append_flow_item_refuses_a_wrong_position() -> None:
    """The position must be the closing bracket."""
    with pytest.raises(ValueError, match="no closing bracket"):
        textedit.append_flow_item("a: [b]\n", 1, 3, "c")


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("- {name: a, newTag: 1, digest: x}\n", "digest", "- {name: a, newTag: 1}\n"),
        ("- {name: a, newTag: 1, digest: x}\n", "newTag", "- {name: a, digest: x}\n"),
        ("- {newTag: 1, name: a}\n", "newTag", "- {name: a}\n"),
    ],
)
def test_remove_flow_entry(text: str, key: str, expected: str) -> None:
    """An entry leaves a flow mapping with one separating comma."""
    start = position(text, key)
    value_start = text.index(": ", text.index(key)) + 2
    value_end = min(i for i in (text.find(",", value_start), text.find("}", value_start)) if i > 0)
    end = (1, value_end)
    assert textedit.remove_flow_entry(text, start, end) == expected


def test_delete_and_insert_lines_keep_line_endings() -> None:
    """Whole lines come and go; new lines take the file's CRLF."""
    text = "a: 1\r\nb: 2\r\nc: 3\r\n"
    assert textedit.delete_line(text, 2) == "a: 1\r\nc: 3\r\n"
    assert textedit.insert_after_line(text, 1, ["x: 9"]) == "a: 1\r\nx: 9\r\nb: 2\r\nc: 3\r\n"
    assert textedit.insert_after_line("a: 1\n", 1, ["x: 9"]) == "a: 1\nx: 9\n"
    assert textedit.newline_of(text) == "\r\n"
    assert textedit.newline_of("a\nb") == "\n"


# -- properties ----------------------------------------------------------------------------

PLAIN_CHARS = st.sampled_from("abcxyz0123456789.-_/:@+")
ANY_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff")


plain_values = st.text(PLAIN_CHARS, min_size=1, max_size=12).filter(
    lambda v: textedit.quote_like(v, "") == v and not v.startswith(("-", ":")) and v[-1] != ":"
)
"""Plain scalars that YAML 1.1 and 1.2 both read as strings (see the quote_like cases)."""
quoted_values = st.text(ANY_CHARS, max_size=12)


@st.composite
def scalars(draw: Any) -> tuple[str, str]:
    """(value, style) of a string scalar as someone may have written it."""
    style = draw(st.sampled_from(("", "'", '"')))
    if style == "":
        return draw(plain_values), ""
    value = draw(quoted_values)
    if style == "'" and not value.isprintable():
        style = '"'
    return value, style


def written(value: str, style: str) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return json.dumps(value)
    return value


@st.composite
def documents(draw: Any) -> str:
    """A YAML text mixing block mappings, sequences of mappings, flow mappings and
    sequences, comments, blank lines, document separators and CRLF or LF endings."""
    eol = draw(st.sampled_from(("\n", "\r\n")))
    lines: list[str] = []
    for index in range(draw(st.integers(1, 5))):
        form = draw(st.sampled_from(("key", "item", "flow-map", "flow-seq", "comment", "doc")))
        value, style = draw(scalars())
        scalar = written(value, style)
        comment = draw(st.sampled_from(("", f" {MARKER}", "  # note")))
        if form == "key":
            lines.append(f"k{index}: {scalar}{comment}")
        elif form == "item":
            dash = " " * draw(st.sampled_from((0, 2, 4)))
            other, other_style = draw(scalars())
            lines += [f"k{index}:", f"{dash}- name: {written(other, other_style)}",
                      f"{dash}  image: {scalar}{comment}"]  # fmt: skip
        elif form == "flow-map":
            lines.append(f"k{index}: {{name: n, image: {scalar}}}{comment}")
        elif form == "flow-seq":
            other, other_style = draw(scalars())
            lines.append(f"k{index}: [{scalar}, {written(other, other_style)}]{comment}")
        elif form == "comment":
            lines += [f"k{index}: {scalar}", "", "# a comment line"]
        elif lines:
            lines += ["---", f"k{index}: {scalar}"]
        else:
            lines.append(f"k{index}: {scalar}")
    return eol.join(lines) + eol


def scalar_positions(text: str) -> list[tuple[int, int, tuple[Any, ...]]]:
    """Where every scalar value (not key) of every document starts, with its path
    ``(document, key or index, ...)``."""
    found: list[tuple[int, int, tuple[Any, ...]]] = []

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))
        elif isinstance(node, yaml.ScalarNode):
            found.append((node.start_mark.line + 1, node.start_mark.column, path))

    for number, doc in enumerate(yaml.compose_all(text)):
        if doc is not None:
            walk(doc, (number,))
    return found


@settings(max_examples=200)
@given(documents())
def test_replacing_a_scalar_with_its_own_value_changes_nothing(text: str) -> None:
    """Every scalar written back with its own value gives the identical text."""
    for line, column, _ in scalar_positions(text):
        own = textedit.scalar_at(text, line, column).value(text)
        assert textedit.replace_scalar(text, line, column, own) == text


@settings(max_examples=200)
@given(documents(), st.data())
def test_replacing_a_scalar_changes_only_that_value(text: str, data: st.DataObject) -> None:
    """After replacing one scalar, parsing gives the new value there and every other value
    as before; the line endings stay."""
    positions = scalar_positions(text)
    line, column, path = data.draw(st.sampled_from(positions))
    new = data.draw(st.one_of(quoted_values, plain_values, st.sampled_from(("1.10", "true"))))
    result = textedit.replace_scalar(text, line, column, new)
    expected = list(yaml.safe_load_all(text))
    node: Any = expected
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    assert list(yaml.safe_load_all(result)) == expected
    assert result.count("\r\n") == text.count("\r\n")
    assert result.count("\n") == text.count("\n")
