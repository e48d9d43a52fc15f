"""Manifest media types, digests, and picking one image out of a multi-arch index."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
"""What promoter accepts from a manifests endpoint: indexes first, so a multi-arch tag
answers with its index (and its index digest, as ``docker buildx imagetools`` shows)."""

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_ATTESTATION = "vnd.docker.reference.type"


def content_digest(body: bytes) -> str:
    """The digest of exactly these bytes."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def is_digest(text: str) -> bool:
    """Whether ``text`` is a sha256 digest (the only algorithm registries use today)."""
    return _DIGEST.match(text) is not None


def media_type_of(document: Mapping[str, Any], content_type: str | None) -> str:
    """The manifest's media type: its own field, else the response's Content-Type."""
    declared = document.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    if content_type:
        return content_type.split(";", 1)[0].strip()
    return OCI_INDEX if "manifests" in document else OCI_MANIFEST


def is_index(document: Mapping[str, Any], media_type: str) -> bool:
    """Whether the manifest is a multi-arch index (OCI index or Docker manifest list)."""
    return media_type in INDEX_TYPES or "manifests" in document


def pick_platform(manifests: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The index entry whose labels speak for the tag: linux/amd64, else the first image.

    Attestation entries (``unknown/unknown``, as buildx adds) are not images.
    """
    images = [
        entry
        for entry in manifests
        if isinstance(entry, Mapping)
        and isinstance(entry.get("digest"), str)
        and (entry.get("annotations") or {}).get(_ATTESTATION) != "attestation-manifest"
    ]
    for entry in images:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return entry
    return images[0] if images else None


def string_map(value: object) -> dict[str, str]:
    """A JSON object of strings (labels, annotations) as a dict; anything else as empty."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
