"""The one door to OCI registries (the distribution API v2): digests, labels, tags.

>>> from promoter.registry import RegistryClient
>>> with RegistryClient(insecure=["registry.lan:5000"]) as registry:
...     registry.digest("ghcr.io/o/app:1.2")      # the index digest for a multi-arch tag
...     registry.source_revision("ghcr.io/o/app:1.2")
...     registry.tags("ghcr.io/o/app")

``TagPolicy`` filters and orders tags as Flux image policies do, for "what is available".

Why not the ORAS Python SDK (``oras``): it has no type hints (no ``py.typed``), writes
through its own logger to stderr (including token-server answers) where a library must stay
silent, exposes no response headers (so no ``Docker-Content-Digest`` by HEAD), allows plain
HTTP per client rather than per host, retries only HTTP 500 and any exception with a fixed
``2 + 3**n`` second sleep (no 429, no ``Retry-After``, not configurable), and would bring
``jsonschema`` along.  Docker config reading was the part it offered; the distribution API
calls needed are few, so this package speaks them with ``requests`` directly.

``requests`` is imported only when a ``RegistryClient`` is made (extra ``registry``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promoter.lazyexports import lazy_exports

if TYPE_CHECKING:
    from promoter.registry.auth import Credentials, DockerConfig
    from promoter.registry.backoff import Backoff
    from promoter.registry.client import ImageInfo, RegistryClient, SourceRevision
    from promoter.registry.insecure import allows_plain_http
    from promoter.registry.policy import Available, TagPolicy
    from promoter.registry.reference import RegistryRef

_EXPORTS = {
    "Credentials": "auth",
    "DockerConfig": "auth",
    "Backoff": "backoff",
    "ImageInfo": "client",
    "RegistryClient": "client",
    "SourceRevision": "client",
    "allows_plain_http": "insecure",
    "Available": "policy",
    "TagPolicy": "policy",
    "RegistryRef": "reference",
}


# Imported on first use: what only needs ``RegistryRef`` (pinning, the configuration)
# does not import the client, its auth and tag policies.
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = [
    "Available",
    "Backoff",
    "Credentials",
    "DockerConfig",
    "ImageInfo",
    "RegistryClient",
    "RegistryRef",
    "SourceRevision",
    "TagPolicy",
    "allows_plain_http",
]
