"""Container image references: parse, normalise and rebuild ``registry/repo:tag@digest``."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    """An image reference as written (``name``) plus its normalised parts.

    ``name`` is the reference without tag and digest exactly as written, which is what
    kustomize's ``images:`` entries match on; ``registry`` and ``repository`` are the
    normalised parts (``nginx`` is ``docker.io`` / ``library/nginx``).
    """

    name: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Split an image string the way container runtimes and kustomize do."""
        if cls is ImageRef:  # the same few images in every stage: parsed once (immutable)
            found = _PARSED.get(text)
            if found is None:
                if len(_PARSED) >= _PARSED_LIMIT:
                    _PARSED.clear()
                found = _PARSED[text] = _split(cls, text)
            return found
        return _split(cls, text)

    @property
    def registry(self) -> str:
        """The registry host, ``docker.io`` when the reference names none."""
        first, sep, _ = self.name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            return first
        return DEFAULT_REGISTRY

    @property
    def repository(self) -> str:
        """The repository path within the registry (``library/`` added on Docker Hub)."""
        first, sep, rest = self.name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            return rest
        return self.name if sep else f"library/{self.name}"  # on Docker Hub

    @property
    def version(self) -> str:
        """What a person calls the version: the tag, else the digest, else ``latest``."""
        return self.tag or self.digest or "latest"

    def with_version(self, tag: str | None, digest: str | None) -> ImageRef:
        """The same image name with another tag and digest."""
        return type(self)(self.name, tag, digest)  # not dataclasses.replace: a hot path

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split(cls: type[ImageRef], text: str) -> ImageRef:
    rest, _, digest = text.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
    else:
        name, tag = rest, ""
    return cls(name=name, tag=tag or None, digest=digest or None)


_PARSED: dict[str, ImageRef] = {}
_PARSED_LIMIT = 10_000
