"""Where an image lives: the registry's API host, the repository, and what to ask for."""

from __future__ import annotations

from dataclasses import dataclass

from promoter.images import DEFAULT_REGISTRY, ImageRef

DOCKER_HUB_API = "registry-1.docker.io"
"""Docker Hub's distribution API host; references name it ``docker.io``."""
DOCKER_HUB_ALIASES = frozenset({DEFAULT_REGISTRY, "index.docker.io", DOCKER_HUB_API})


@dataclass(frozen=True)
class RegistryRef:
    """An image reference as the distribution API needs it.

    ``registry`` is the host as references write it (``docker.io``, ``ghcr.io``,
    ``127.0.0.1:5000``); ``api_host`` is where its API answers (Docker Hub's is
    ``registry-1.docker.io``); ``repository`` is normalised (``library/nginx``).
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, image: str | ImageRef) -> RegistryRef:
        """Split ``image`` (``nginx:1.27``, ``ghcr.io/o/app@sha256:...``) into its parts."""
        ref = image if isinstance(image, ImageRef) else ImageRef.parse(image)
        registry = ref.registry
        if registry in DOCKER_HUB_ALIASES:
            registry = DEFAULT_REGISTRY
        return cls(registry=registry, repository=ref.repository, tag=ref.tag, digest=ref.digest)

    @property
    def api_host(self) -> str:
        """The host (and port) whose ``/v2/`` API serves this image."""
        return DOCKER_HUB_API if self.registry == DEFAULT_REGISTRY else self.registry

    @property
    def reference(self) -> str:
        """What to ask the manifests endpoint for: the tag, else the digest, else ``latest``."""
        return self.tag or self.digest or "latest"

    @property
    def scope(self) -> str:
        """The token scope that reading this repository needs."""
        return f"repository:{self.repository}:pull"

    def with_reference(self, *, tag: str | None = None, digest: str | None = None) -> RegistryRef:
        """The same repository at another tag or digest."""
        return RegistryRef(self.registry, self.repository, tag, digest)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text
