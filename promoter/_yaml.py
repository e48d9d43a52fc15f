"""Fast YAML reading that remembers where every mapping value was written.

Reading is the hot path (thousands of small files per status run), so it uses libyaml's
C parser through PyYAML when present.  Mappings and sequences come back as ``YMap`` and
``YSeq``: plain ``dict``/``list`` subclasses that also keep the parser node of each
value, so the reader can say which file, line and column set a version, and the
promotion can later rewrite exactly that span of text.

Parsed documents are cached by (path, role, content) and must be treated as immutable:
every transformation builds new containers and shares the untouched ones.
"""

from __future__ import annotations

import codecs
import hashlib
import operator
import re
from typing import Any, NamedTuple

import yaml

from promoter.errors import ManifestError

_Parser: type[Any]
try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = yaml.BaseLoader


class Prov(NamedTuple):
    """Where a scalar was written: the file, its parser node, and how it was applied.

    A named tuple rather than a frozen dataclass: builds make one for every value a
    patch sets, and a tuple is several times cheaper to make."""

    file: str
    node: yaml.Node
    mech: str
    line_offset: int = 0
    col_offset: int = 0

    @property
    def line(self) -> int:
        """1-based line of the value in ``file``."""
        return self.node.start_mark.line + self.line_offset + 1

    @property
    def column(self) -> int:
        """0-based column of the value in ``file``."""
        return self.node.start_mark.column + self.col_offset


class YMap(dict[Any, Any]):
    """A mapping that remembers the file, the node of each value and overridden origins."""

    __slots__ = ("col_offset", "file", "line_offset", "mech", "node", "nodes", "prov")

    def __init__(self) -> None:
        super().__init__()
        self.file = ""
        self.mech = ""
        self.line_offset = 0
        self.col_offset = 0
        self.nodes: dict[Any, yaml.Node] = {}
        self.node: yaml.Node | None = None
        self.prov: dict[Any, Prov] = {}

    def origin(self, key: Any) -> Prov | None:
        """Where the value under ``key`` was last written, or None when unknown."""
        found = self.prov.get(key)
        if found is not None:
            return found
        node = self.nodes.get(key)
        if node is None:
            return None
        return Prov(self.file, node, self.mech, self.line_offset, self.col_offset)

    def line_of(self, key: Any) -> int | None:
        """1-based line of the value under ``key`` in this map's own file."""
        node = self.nodes.get(key)
        return None if node is None else node.start_mark.line + self.line_offset + 1

    def raw(self, key: Any) -> str | None:
        """The scalar under ``key`` as written: ``1.10`` stays ``"1.10"``, not ``1.1``."""
        value = self.get(key)
        if value is None or isinstance(value, (dict, list)):
            return None
        if isinstance(value, str):
            return value
        origin = self.origin(key)
        if origin is not None and isinstance(origin.node, yaml.ScalarNode):
            return str(origin.node.value)
        return _scalar_text(value)

    def evolve(self) -> YMap:
        """A shallow copy that shares nodes with this map (copy-on-write)."""
        new: YMap = _new_dict(YMap)  # skips __init__: every attribute is set right here
        _update_dict(new, self)
        new.file = self.file
        new.mech = self.mech
        new.line_offset = self.line_offset
        new.col_offset = self.col_offset
        new.nodes = self.nodes
        new.node = self.node
        prov = self.prov
        new.prov = prov.copy() if prov else {}
        return new


_new_dict = dict.__new__
_update_dict = dict.update


class YSeq(list[Any]):
    """A sequence that remembers the file it was read from."""

    __slots__ = ("file", "mech", "node")

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self.file = ""
        self.mech = ""
        self.node: yaml.Node | None = None


BOM = codecs.BOM_UTF8


def decode(data: bytes, errors: str = "strict") -> str:
    """``data.decode("utf-8-sig", errors)``: UTF-8 without a leading byte order mark, the
    same text and errors, minus the pure-Python codec wrapper "utf-8-sig" goes through
    (files are decoded on the hot path)."""
    if data[:3] == BOM:
        data = data[3:]
    return data.decode("utf-8", errors)


def _scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class _Composer(_Parser):  # type: ignore[misc]
    """libyaml's parser and composer alone (no constructor or resolver state to set up per
    file), with the base resolver's answers: nodes only, no Python-side type resolution
    per scalar (that is what made plain loading slow)."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        """The base resolver's answer (it has no implicit resolvers: every node gets its
        kind's default tag), without its per-node lookups: it runs once per node."""
        return _DEFAULT_TAGS[kind]

    # No path resolvers: nothing to track.  The composer calls these two around every
    # node; builtins without side effects (they are not bound as methods) cost far less
    # than Python no-op methods: ``descend_resolver(parent, index)`` and
    # ``ascend_resolver()``.
    descend_resolver = operator.is_
    ascend_resolver = tuple


_STR_TAG = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
_DEFAULT_TAGS: dict[type[yaml.Node], str] = {
    yaml.ScalarNode: _STR_TAG,
    yaml.SequenceNode: yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    yaml.MappingNode: yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
}


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_MERGE = "<<"
_STRICT = frozenset({"resource"})
"""Roles whose duplicate mapping keys kustomize refuses."""
_FIRST_WINS = frozenset({"patch", "inline-patch"})
"""Roles whose duplicate mapping keys kustomize reads as the first value."""


def _scalar(node: yaml.ScalarNode) -> Any:
    """YAML 1.2 core schema for plain scalars (null, bool, int); everything else is text,
    so ``1.10`` stays ``"1.10"`` and timestamps stay strings, as kustomize reads them."""
    value: str = node.value
    if node.style:  # quoted or block: always text (plain is None or "")
        return value
    tag = node.tag
    if tag != "tag:yaml.org,2002:str" and not tag.startswith("tag:yaml.org,2002:"):
        return value
    if tag == "tag:yaml.org,2002:null" or value in _NULLS:
        return None
    first = value[:1]
    if first in "tTfF" and value in _BOOLS:
        return _BOOLS[value]
    if (first.isdigit() or first in "+-") and _INT.fullmatch(value):
        return int(value)
    return value


def _allowed_alias_ratio(decoded: int) -> float:
    """yaml.v3's bound: 99% of small documents may come from aliases, 10% of huge ones."""
    low, high = 400_000, 4_000_000
    if decoded <= low:
        return 0.99
    if decoded >= high:
        return 0.10
    return 0.99 - 0.89 * (decoded - low) / (high - low)


class _Converter:
    """Turns composed nodes into YMap/YSeq trees that remember their nodes."""

    def __init__(self, file: str, mech: str, line_offset: int, col_offset: int) -> None:
        self.file = file
        self.mech = mech
        self.line_offset = line_offset
        self.col_offset = col_offset
        self._active: set[int] = set()
        # Alias expansion is bounded as in yaml.v3 (what kustomize uses): a "billion laughs"
        # document fails fast with "excessive aliasing" instead of eating the memory.
        self._seen: set[int] = set()
        self._alias_depth = 0
        self._decoded = 0
        self._aliased = 0

    def convert(self, node: yaml.Node) -> Any:
        self._decoded += 1
        if self._alias_depth:
            self._aliased += 1
            if (
                self._aliased > 100
                and self._decoded > 1000
                and self._aliased / self._decoded > _allowed_alias_ratio(self._decoded)
            ):
                raise ManifestError(
                    self.file,
                    "excessive aliasing: the document expands YAML aliases too often",
                    node.start_mark.line + self.line_offset + 1,
                )
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        marker = id(node)
        if marker in self._active:
            raise ManifestError(self.file, "recursive YAML alias", node.start_mark.line + 1)
        again = marker in self._seen  # the node is reached again: an alias being expanded
        self._seen.add(marker)
        self._alias_depth += again
        self._active.add(marker)
        try:
            if isinstance(node, yaml.MappingNode):
                return self._map(node)
            seq = YSeq([self.convert(child) for child in node.value])
            seq.file = self.file
            seq.mech = self.mech
            seq.node = node
            return seq
        finally:
            self._active.discard(marker)
            self._alias_depth -= again

    def _map(self, node: yaml.MappingNode) -> YMap:
        data = YMap()
        data.file = self.file
        data.mech = self.mech
        data.line_offset = self.line_offset
        data.col_offset = self.col_offset
        data.node = node
        nodes = data.nodes
        merged: list[YMap] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = _scalar(key_node)
                if key == _MERGE and not key_node.style:
                    merged.extend(self._merge_sources(value_node))
                    continue
            else:
                raise ManifestError(
                    self.file,
                    "a mapping key must be a scalar",
                    key_node.start_mark.line + self.line_offset + 1,
                )
            if key in data and self._duplicate(key, node, key_node):
                continue
            data[key] = self.convert(value_node)
            nodes[key] = value_node
        for source in merged:  # YAML merge keys: explicit keys win, earlier sources win
            for key, value in source.items():
                if key not in data:
                    data[key] = value
                    nodes[key] = source.nodes[key]
        return data

    def _duplicate(self, key: Any, mapping: yaml.MappingNode, again: yaml.Node) -> bool:
        """A key written twice in one mapping, as kustomize reads it: an object fails
        (yaml.v3), a patch keeps the first value (kyaml), anything else the last one;
        True when the new value is to be skipped."""
        if self.mech in _FIRST_WINS:
            return True
        if self.mech not in _STRICT:
            return False
        first = next(k for k, _ in mapping.value if k is not again and _scalar(k) == key)
        first_line = first.start_mark.line + self.line_offset + 1
        raise ManifestError(
            self.file,
            f'mapping key "{_scalar_text(key)}" already defined at line {first_line}',
            again.start_mark.line + self.line_offset + 1,
        )

    def _merge_sources(self, node: yaml.Node) -> list[YMap]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = [self.convert(item) for item in items]
        if not all(isinstance(s, YMap) for s in sources):
            raise ManifestError(
                self.file, "merge key '<<' needs mappings", node.start_mark.line + 1
            )
        return sources


class _Unusual(Exception):
    """A mapping the plain conversion leaves to ``_Converter`` (duplicate or non-scalar keys)."""


_MAPPING = yaml.MappingNode
_SEQUENCE = yaml.SequenceNode
_SCALAR = yaml.ScalarNode
_SPECIAL: dict[str, Any] = {**dict.fromkeys(_NULLS), **_BOOLS}
_INT_START = frozenset("0123456789+-")
_MISSING = object()


def _plain_scalar(node: yaml.ScalarNode) -> Any:
    """``_scalar`` for the common case (default tag), without its checks."""
    if node.style:
        return node.value
    if node.tag is not _STR_TAG:
        return _scalar(node)
    value: str = node.value
    found = _SPECIAL.get(value, _MISSING)
    if found is not _MISSING:
        return found
    if value[:1] in _INT_START and _INT.fullmatch(value):
        return int(value)
    return value


def _convert_plain(root: yaml.Node, file: str, mech: str, line_offset: int, col_offset: int) -> Any:
    """``_Converter.convert`` for a document without aliases or merge keys: no alias
    bookkeeping per node.  Raises ``_Unusual`` for what only ``_Converter`` handles."""
    new_map = YMap.__new__
    new_seq = YSeq.__new__
    scalar = _plain_scalar

    def convert(node: yaml.Node) -> Any:
        kind = node.__class__
        if kind is _MAPPING:
            data = new_map(YMap)
            nodes: dict[Any, yaml.Node] = {}
            pairs = node.value
            for key_node, value_node in pairs:
                if key_node.__class__ is not _SCALAR:
                    raise _Unusual
                key = scalar(key_node)
                data[key] = (
                    scalar(value_node) if value_node.__class__ is _SCALAR else convert(value_node)
                )
                nodes[key] = value_node
            if len(nodes) != len(pairs):
                raise _Unusual
            data.file = file
            data.mech = mech
            data.line_offset = line_offset
            data.col_offset = col_offset
            data.nodes = nodes
            data.node = node
            data.prov = {}
            return data
        if kind is _SEQUENCE:
            seq = new_seq(YSeq)
            seq.extend([convert(child) for child in node.value])
            seq.file = file
            seq.mech = mech
            seq.node = node
            return seq
        return scalar(node)  # type: ignore[arg-type]

    return convert(root)


def parse_text(
    text: str,
    file: str,
    mech: str = "resource",
    *,
    line_offset: int = 0,
    col_offset: int = 0,
) -> list[Any]:
    """Parse every document of ``text``; errors name ``file`` and the line."""
    loader = _Composer(text)
    converter = _Converter(file, mech, line_offset, col_offset)
    # Without "*" there is no alias, so no alias bounds to keep; without "<<" no merge key.
    plain = "*" not in text and _MERGE not in text
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                docs.append(None)
                continue
            if plain:
                try:
                    docs.append(_convert_plain(node, file, mech, line_offset, col_offset))
                    continue
                except _Unusual:
                    pass
            docs.append(converter.convert(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + line_offset + 1 if mark is not None else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise ManifestError(file, f"malformed YAML: {problem}", line) from exc
    except yaml.YAMLError as exc:
        raise ManifestError(file, f"malformed YAML: {exc}") from exc
    finally:
        loader.dispose()
    return docs


def _relabel(value: Any, file: str, line_offset: int = 0, col_offset: int = 0) -> Any:
    """A copy of a parsed tree as if read from ``file`` at these offsets (same text, so
    the same nodes)."""
    new_map = _new_dict
    new_seq = YSeq.__new__

    def copy(value: Any) -> Any:
        if value.__class__ is YMap:
            new = new_map(YMap)
            for key, child in value.items():
                kind = child.__class__
                new[key] = copy(child) if kind is YMap or kind is YSeq else child
            new.file = file
            new.mech = value.mech
            new.line_offset = line_offset
            new.col_offset = col_offset
            new.nodes = value.nodes
            new.node = value.node
            new.prov = {}
            return new
        seq = new_seq(YSeq)
        seq.extend(
            [
                copy(child) if child.__class__ is YMap or child.__class__ is YSeq else child
                for child in value
            ]
        )
        seq.file = file
        seq.mech = value.mech
        seq.node = value.node
        return seq

    kind = value.__class__
    return copy(value) if kind is YMap or kind is YSeq else value


_SNIPPETS: dict[tuple[str, str], list[Any]] = {}


def parse_snippet(
    text: str, file: str, mech: str, *, line_offset: int = 0, col_offset: int = 0
) -> list[Any]:
    """``parse_text`` for a snippet of a file (an inline patch), cached by (text, role):
    the same snippet elsewhere is a relabelled copy.  The nodes are shared between the
    copies: a caller that moves their marks must call ``parse_text``."""
    same = _SNIPPETS.get((text, mech))
    if same is None:
        same = parse_text(text, file, mech, line_offset=line_offset, col_offset=col_offset)
        if len(_SNIPPETS) >= _CACHE_LIMIT:
            _SNIPPETS.clear()
        _SNIPPETS[(text, mech)] = same
        return same
    return [_relabel(doc, file, line_offset, col_offset) for doc in same]


_CACHE: dict[tuple[str, str, bytes], list[Any]] = {}
_SAME_TEXT: dict[tuple[str, bytes], list[Any]] = {}
"""The documents of each (role, content) parsed: another file with the same bytes (a
patch promoted unchanged from stage to stage) gets a relabelled copy instead of a parse."""
_CACHE_LIMIT = 50_000


def parse_bytes(data: bytes, file: str, mech: str = "resource") -> list[Any]:
    """Parse a file's bytes, cached by (file, role, content hash)."""
    digest = hashlib.blake2b(data, digest_size=16).digest()
    key = (file, mech, digest)
    found = _CACHE.get(key)
    if found is not None:
        return found
    same = _SAME_TEXT.get((mech, digest))
    if same is not None:
        docs = [_relabel(doc, file) for doc in same]  # parse_bytes parses at offset 0
    else:
        try:
            text = decode(data)
        except UnicodeDecodeError as exc:
            raise ManifestError(file, f"not UTF-8 text ({exc.reason})") from exc
        docs = [doc for doc in parse_text(text, file, mech) if doc is not None]
        if len(_SAME_TEXT) >= _CACHE_LIMIT:
            _SAME_TEXT.clear()
        _SAME_TEXT[(mech, digest)] = docs
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = docs
    return docs


def clear_cache() -> None:
    """Forget every parsed document (tests measuring parse time start from nothing)."""
    _CACHE.clear()
    _SAME_TEXT.clear()
    _SNIPPETS.clear()
