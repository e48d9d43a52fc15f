"""``RegistryClient``: digests, labels, annotations and tags of images, for any OCI registry."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from promoter.errors import RegistryError
from promoter.images import ImageRef
from promoter.registry import manifests
from promoter.registry.auth import Credentials, DockerConfig
from promoter.registry.reference import RegistryRef

if TYPE_CHECKING:
    import requests

    from promoter.registry.backoff import Backoff
    from promoter.registry.transport import Transport

SOURCE_LABEL = "org.opencontainers.image.source"
REVISION_LABEL = "org.opencontainers.image.revision"
MAX_TAG_PAGES = 1000


class SourceRevision(NamedTuple):
    """Where an image was built from: its source repository URL and the commit."""

    source: str
    revision: str


@dataclass(frozen=True)
class ImageInfo:
    """What the registry says about one image reference.

    ``digest`` is what the reference resolves to: for a multi-arch tag, the index digest.
    ``labels`` are the image config's labels and ``annotations`` the manifest's (over the
    index's), both of ``platform_digest``, the image an index's linux/amd64 entry (else its
    first) names; for a single manifest ``platform_digest`` is ``digest``.
    """

    image: str
    digest: str
    media_type: str
    platform_digest: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def source_revision(self) -> SourceRevision | None:
        """The OCI source/revision labels (config labels first, then annotations)."""
        source = self.labels.get(SOURCE_LABEL) or self.annotations.get(SOURCE_LABEL)
        revision = self.labels.get(REVISION_LABEL) or self.annotations.get(REVISION_LABEL)
        if source and revision:
            return SourceRevision(source, revision)
        return None


class RegistryClient:
    """The one door to OCI registries (distribution API v2).

    ``insecure`` lists hosts (``name``, ``name:port`` or CIDR) that may be spoken to over
    plain HTTP besides loopback ones; ``docker_config`` is the docker config file or
    directory to read credentials from (default: ``$DOCKER_CONFIG``, ``~/.docker``);
    ``backoff`` sets retries on 5xx/429; ``timeout`` is per request, in seconds.
    Images are image strings (``ghcr.io/o/app:1.2``) or ``ImageRef``s.

    >>> with RegistryClient() as registry:
    ...     registry.digest("ghcr.io/o/app:1.2")
    'sha256:...'

    Every failure is a ``RegistryError`` whose one line names the image and the registry.
    """

    def __init__(
        self,
        *,
        insecure: Iterable[str] = (),
        docker_config: Path | None = None,
        backoff: Backoff | None = None,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        try:
            from promoter.registry.transport import Transport
        except ImportError as exc:  # pragma: no cover - the extra is part of the test setup
            raise RegistryError(
                "registry access needs the 'registry' extra:"
                " pip install 'kustomize-promoter[registry]'"
            ) from exc
        self._docker_config = docker_config
        self._config: DockerConfig | None = None
        self._transport: Transport = Transport(
            credentials=self._credentials,
            insecure=insecure,
            backoff=backoff,
            timeout=timeout,
            session=session,
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self._transport.close()

    def _credentials(self, registry: str) -> Credentials | None:
        if self._config is None:
            self._config = DockerConfig.load(self._docker_config)
        return self._config.credentials(registry)

    # --- the API ------------------------------------------------------------------------

    def digest(self, image: str | ImageRef) -> str:
        """The digest ``image``'s tag resolves to now (an index digest for a multi-arch tag).

        A reference without a tag resolves its digest if it has one (checking it exists),
        else ``latest``.
        """
        ref = _ref(image)
        subject = f"resolve {ref}"
        response = self._transport.request(
            "HEAD",
            ref,
            f"/v2/{ref.repository}/manifests/{ref.reference}",
            subject=subject,
            headers={"Accept": manifests.ACCEPT},
        )
        if response.status_code == 200:
            announced = response.headers.get("Docker-Content-Digest", "")
            if manifests.is_digest(announced):
                return announced
        elif response.status_code not in (400, 405):  # HEAD unsupported: GET below
            raise _failed(subject, ref, response, _missing(ref, ref.reference))
        body, _ = self._manifest(ref, ref.reference, subject)
        return manifests.content_digest(body)

    def inspect(self, image: str | ImageRef) -> ImageInfo:
        """Digest, media type, config labels and annotations of ``image``."""
        ref = _ref(image)
        subject = f"inspect {ref}"
        body, media_type = self._manifest(ref, ref.reference, subject)
        digest = manifests.content_digest(body)
        document = _json(body, subject, ref)
        annotations: dict[str, str] = {}
        platform_digest = digest
        if manifests.is_index(document, media_type):
            annotations.update(manifests.string_map(document.get("annotations")))
            entry = manifests.pick_platform(document.get("manifests") or [])
            if entry is None:
                raise RegistryError(f"{subject}: the index lists no image{_at(ref)}")
            platform_digest = str(entry["digest"])
            body, _ = self._manifest(ref, platform_digest, subject)
            document = _json(body, subject, ref)
        annotations.update(manifests.string_map(document.get("annotations")))
        return ImageInfo(
            image=str(ref),
            digest=digest,
            media_type=media_type,
            platform_digest=platform_digest,
            labels=self._config_labels(ref, document, subject),
            annotations=annotations,
        )

    def labels(self, image: str | ImageRef) -> dict[str, str]:
        """The image config's labels (of the linux/amd64 image, else the first, in an index)."""
        return dict(self.inspect(image).labels)

    def annotations(self, image: str | ImageRef) -> dict[str, str]:
        """The manifest's annotations, over its index's for a multi-arch tag."""
        return dict(self.inspect(image).annotations)

    def source_revision(self, image: str | ImageRef) -> SourceRevision | None:
        """``org.opencontainers.image.source``/``revision`` from labels or annotations."""
        return self.inspect(image).source_revision

    def tags(self, image: str | ImageRef, *, page_size: int | None = None) -> list[str]:
        """Every tag of ``image``'s repository, in the registry's order, across all pages.

        ``page_size`` asks for pages of that many tags (``?n=``); ``Link`` headers are
        followed either way.
        """
        ref = _ref(image)
        subject = f"list tags of {ref.registry}/{ref.repository}"
        path: str | None = f"/v2/{ref.repository}/tags/list"
        params = {"n": str(page_size)} if page_size else None
        found: list[str] = []
        seen: set[str] = set()
        while path is not None and len(seen) < MAX_TAG_PAGES:
            seen.add(path)
            response = self._transport.request(
                "GET", ref, path, subject=subject, params=params, headers={"Accept": "*/*"}
            )
            if response.status_code != 200:
                raise _failed(subject, ref, response, f"no repository {ref.repository}")
            page = _json(response.content, subject, ref)
            found.extend(str(tag) for tag in page.get("tags") or [])
            path = _next_page(response, ref, subject)
            params = None  # the next link carries its own query
            if path in seen:
                break
        return found

    # --- helpers ------------------------------------------------------------------------

    def _manifest(self, ref: RegistryRef, reference: str, subject: str) -> tuple[bytes, str]:
        response = self._transport.request(
            "GET",
            ref,
            f"/v2/{ref.repository}/manifests/{reference}",
            subject=subject,
            headers={"Accept": manifests.ACCEPT},
        )
        if response.status_code != 200:
            raise _failed(subject, ref, response, _missing(ref, reference))
        body = response.content
        if manifests.is_digest(reference) and manifests.content_digest(body) != reference:
            raise RegistryError(
                f"{subject}: the manifest {reference} sent does not match its digest{_at(ref)}"
            )
        document = _json(body, subject, ref)
        return body, manifests.media_type_of(document, response.headers.get("Content-Type"))

    def _config_labels(
        self, ref: RegistryRef, document: Mapping[str, Any], subject: str
    ) -> dict[str, str]:
        config = document.get("config")
        if not isinstance(config, Mapping) or not isinstance(config.get("digest"), str):
            return {}  # an artifact or an old schema: no image config, so no labels
        digest = str(config["digest"])
        response = self._transport.request(
            "GET", ref, f"/v2/{ref.repository}/blobs/{digest}", subject=subject
        )
        if response.status_code != 200:
            raise _failed(subject, ref, response)
        blob = _json(response.content, subject, ref)
        inner = blob.get("config") or blob.get("container_config") or {}
        return manifests.string_map(inner.get("Labels") if isinstance(inner, Mapping) else None)


def _ref(image: str | ImageRef) -> RegistryRef:
    ref = RegistryRef.parse(image)
    if ref.digest is not None and not manifests.is_digest(ref.digest):
        raise RegistryError(f"{ref}: {ref.digest!r} is not a sha256 digest")
    return ref


def _missing(ref: RegistryRef, reference: str) -> str:
    what = "manifest" if manifests.is_digest(reference) else "tag"
    return f"no {what} {reference} in {ref.repository}"


def _at(ref: RegistryRef) -> str:
    return f" (registry {ref.api_host})"


def _failed(
    subject: str, ref: RegistryRef, response: requests.Response, missing: str | None = None
) -> RegistryError:
    from promoter.registry.transport import describe_failure

    if response.status_code == 404 and missing is not None:
        return RegistryError(f"{subject}: {missing} (HTTP 404){_at(ref)}")
    return RegistryError(f"{subject}: {describe_failure(response)}{_at(ref)}")


def _json(body: bytes, subject: str, ref: RegistryRef) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise RegistryError(f"{subject}: the registry sent no JSON{_at(ref)}") from exc
    if not isinstance(document, dict):
        raise RegistryError(f"{subject}: the registry sent no JSON object{_at(ref)}")
    return document


def _next_page(response: requests.Response, ref: RegistryRef, subject: str) -> str | None:
    """The path of the ``Link: <...>; rel="next"`` page, if any (same host only)."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    parts = urlsplit(link)
    if parts.netloc and parts.netloc != ref.api_host:
        raise RegistryError(f"{subject}: the next page is on another host{_at(ref)}")
    return parts.path + (f"?{parts.query}" if parts.query else "")
