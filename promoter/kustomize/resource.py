"""One Kubernetes object inside a kustomize build, with the ids kustomize matches on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from promoter._yaml import YMap

# Kinds the namespace transformer leaves alone.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "Node",
        "ClusterIssuer",
    }
)


class ResId(NamedTuple):
    """group, version, kind, name and namespace, as kustomize identifies an object."""

    group: str
    version: str
    kind: str
    name: str
    namespace: str

    def same_object(self, other: ResId) -> bool:
        """kustomize's ``ResId.Equals``: no namespace and ``default`` are the same."""
        return (
            self.kind == other.kind
            and self.group == other.group
            and self.version == other.version
            and self.name == other.name
            and (self.namespace or "default") == (other.namespace or "default")
        )

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What ``same_object`` compares, as a hashable value."""
        return (self.group, self.version, self.kind, self.name, self.namespace or "default")

    def __str__(self) -> str:
        """The object as a user writes it: ``Service/proxy``, with its namespace when set
        (``Service/proxy in namespace web``)."""
        where = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{self.kind}/{self.name}{where}"


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    group, sep, version = api_version.rpartition("/")
    return (group, version) if sep else ("", api_version)


def id_of(doc: YMap) -> ResId:
    """The current id of a document."""
    group, version = split_api_version(str(doc.get("apiVersion") or ""))
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return ResId(
        group,
        version,
        str(doc.get("kind") or ""),
        str(meta.get("name") or ""),
        str(meta.get("namespace") or ""),
    )


@dataclass(frozen=True)
class Resource:
    """An object in a build: its document and every id it has had (original first)."""

    doc: YMap
    ids: tuple[ResId, ...]

    @classmethod
    def from_doc(cls, doc: YMap) -> Resource:
        """A freshly loaded object, whose original id is its current one."""
        return cls(doc, (id_of(doc),))

    @property
    def id(self) -> ResId:
        """The id the object has now."""
        return self.ids[-1]

    @property
    def original(self) -> ResId:
        """The id as written in its source manifest."""
        return self.ids[0]

    @cached_property
    def keys(self) -> frozenset[tuple[str, str, str, str, str]]:
        """``ResId.key`` of every id the object has had (kustomize's "any id" match)."""
        return frozenset(rid.key for rid in self.ids)

    def with_doc(self, doc: YMap, new_id: ResId | None = None) -> Resource:
        """The same object with a new document; a changed name or namespace is recorded.
        ``new_id`` is the document's id when the caller knows it (it is not read again)."""
        if new_id is None:
            new_id = id_of(doc)
        ids = self.ids if new_id == self.ids[-1] else (*self.ids, new_id)
        return Resource(doc, ids)


def matches_selector(resource: Resource, target: dict[str, Any]) -> bool:
    """kustomize's patch target selection: original or current name and namespace."""
    return Selector(target).matches(resource)


class Selector:
    """A patch ``target`` read once: each field a matcher (kustomize reads them as regular
    expressions that must match the whole value; a plain word is an equality test)."""

    __slots__ = ("annotations", "group", "kind", "labels", "name", "namespace", "version")

    def __init__(self, target: dict[str, Any]) -> None:
        self.group = _matcher(target.get("group"))
        self.version = _matcher(target.get("version"))
        self.kind = _matcher(target.get("kind"))
        self.name = _matcher(target.get("name"))
        self.namespace = _matcher(target.get("namespace"))
        self.labels = _selector_text(target.get("labelSelector"))
        self.annotations = _selector_text(target.get("annotationSelector"))

    @property
    def literal_name(self) -> str | None:
        """The name an object must have (originally or now), when it is a plain word."""
        return self.name if isinstance(self.name, str) else None

    def matches(self, resource: Resource) -> bool:
        """Whether ``resource`` is one of the objects this target selects."""
        current = resource.ids[-1]
        if self.kind is not None and not _test(self.kind, current.kind):
            return False
        if self.group is not None and not _test(self.group, current.group):
            return False
        if self.version is not None and not _test(self.version, current.version):
            return False
        original = resource.ids[0]
        if self.name is not None and not (
            _test(self.name, original.name) or _test(self.name, current.name)
        ):
            return False
        if self.namespace is not None and not (
            _test(self.namespace, original.namespace or "default")
            or _test(self.namespace, current.namespace or "default")
        ):
            return False
        if self.labels is None and self.annotations is None:
            return True
        meta = resource.doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        for selector, field in ((self.labels, "labels"), (self.annotations, "annotations")):
            if selector is not None:
                values = meta.get(field)
                if not label_selector_matches(selector, values if isinstance(values, dict) else {}):
                    return False
        return True


Matcher = str | re.Pattern[str]
"""A plain word (an equality test) or a compiled regular expression (a full match)."""

# Characters with a meaning in a regular expression: without them, a pattern matches
# exactly the text it is.
_REGEX_SYNTAX = re.compile(r"[\\.^$*+?{}\[\]|()]")


def _matcher(wanted: Any) -> Matcher | None:
    if wanted in (None, ""):
        return None
    pattern = str(wanted)
    if _REGEX_SYNTAX.search(pattern) is None:
        return pattern
    try:
        return re.compile(pattern)
    except re.error:
        return pattern  # not a valid expression: kustomize compares it as text


def _test(matcher: Matcher, value: str) -> bool:
    if isinstance(matcher, str):
        return matcher == value
    return matcher.fullmatch(value) is not None


def _selector_text(selector: Any) -> str | None:
    return None if selector in (None, "") else str(selector)


_SET_EXPR = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def label_selector_matches(selector: str, labels: dict[str, Any]) -> bool:
    """Kubernetes label selector syntax: ``a=b``, ``a!=b``, ``a in (x,y)``, ``!a``, ``a``."""
    values = {str(k): str(v) for k, v in labels.items()}
    for term in _split_selector(selector):
        found = _SET_EXPR.match(term)
        if found:
            key, op, options = found.groups()
            choices = {o.strip() for o in options.split(",") if o.strip()}
            inside = key in values and values[key] in choices
            if (op == "in") != inside:
                return False
        elif "!=" in term:
            key, _, value = term.partition("!=")
            if values.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, _, value = term.replace("==", "=").partition("=")
            if values.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in values:
                return False
        elif term not in values:
            return False
    return True
