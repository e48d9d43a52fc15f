"""``pipelines status --registry``: what each image's tag resolves to now, and what the
registry offers for every app (issue 9, point 3).

For every image, the digest its tag resolves to now (the index digest of a multi-arch
tag); an image pinned to a digest its tag no longer resolves to has ``moved``.  For every
app in every stage, the tags of its primary image (its first container's) that the tag
policy of promoter.yaml accepts (default semver): the newest, and those newer than the
stage's version.  Registry calls run on a small thread pool, each image and repository
once per run; a registry that cannot be answered leaves None and one note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

from promoter.config import Config
from promoter.errors import PromoterError
from promoter.images import ImageRef
from promoter.model import App, ContainerImage, RepoStatus
from promoter.registry.policy import Available
from promoter.registry_settings import tag_policy

WORKERS = 4
_T = TypeVar("_T")


@dataclass(frozen=True)
class Resolved:
    """What an image's tag resolves to now; ``moved``: it is pinned to another digest."""

    digest: str | None
    moved: bool = False

    def to_json(self) -> dict[str, object]:
        """``{"digest": str | null, "moved": bool}``."""
        return {"digest": self.digest, "moved": self.moved}


ImageKey = tuple[str, str, str, str, bool]
"""(pipeline, stage, app key, container, init)."""
AppKey = tuple[str, str, str]
"""(pipeline, stage, app key)."""


@dataclass(frozen=True)
class RegistryStatus:
    """The registry's view of a status: per image ``resolved``, per app ``available``
    (None where the registry could not answer, or for a chart), and notes."""

    resolved: dict[ImageKey, Resolved | None]
    available: dict[AppKey, Available | None]
    notes: tuple[str, ...] = ()


class RegistryReader(Protocol):
    """What the status needs from a registry (``promoter.registry.RegistryClient``)."""

    def digest(self, image: str) -> str:
        """The digest ``image``'s tag resolves to now."""

    def tags(self, image: str) -> list[str]:
        """Every tag of ``image``'s repository."""


class _Calls:
    """Each call once per run, on a shared pool; failures kept as notes."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._futures: dict[tuple[str, str], Future[object]] = {}
        self.notes: dict[str, None] = {}

    def submit(self, kind: str, key: str, call: Callable[[], object]) -> None:
        if (kind, key) not in self._futures:
            self._futures[(kind, key)] = self._pool.submit(call)

    def result(self, kind: str, key: str, cast: type[_T]) -> _T | None:
        future = self._futures.get((kind, key))
        if future is None:
            return None
        try:
            value = future.result()
        except PromoterError as exc:
            # "resolve IMAGE: cannot reach registry HOST": one note per registry, not per image
            message = str(exc)
            reason = message.partition(": ")[2]
            self.notes.setdefault(reason if reason.startswith("cannot reach") else message, None)
            return None
        return value if isinstance(value, cast) else None


def _tag_ref(image: ImageRef) -> str | None:
    if image.tag is None and image.digest is None:
        return f"{image.name}:latest"
    if image.tag is None:
        return None  # a digest alone: nothing can move
    return f"{image.name}:{image.tag}"


def _primary(app: App) -> ContainerImage | None:
    return next((i for i in app.images if not i.init), app.images[0] if app.images else None)


def read_registry_status(
    status: RepoStatus, config: Config, registry: RegistryReader, *, workers: int = WORKERS
) -> RegistryStatus:
    """Ask ``registry`` about every image and app of ``status``, concurrently."""
    resolved: dict[ImageKey, Resolved | None] = {}
    available: dict[AppKey, Available | None] = {}
    with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="registry") as pool:
        calls = _Calls(pool)
        for app, _pipeline, _stage in _apps(status):
            for container in app.images:
                ref = _tag_ref(container.image)
                if ref is not None:
                    calls.submit("digest", ref, partial(registry.digest, ref))
            primary = _primary(app)
            if app.kind != "HelmRelease" and primary is not None and primary.image.name:
                repository = primary.image.name
                calls.submit("tags", repository, partial(registry.tags, repository))
        for app, pipeline, stage in _apps(status):
            for container in app.images:
                key = (pipeline, stage, app.key, container.container, container.init)
                image = container.image
                ref = _tag_ref(image)
                if ref is None:
                    resolved[key] = Resolved(image.digest, False)
                    continue
                digest = calls.result("digest", ref, str)
                resolved[key] = (
                    None
                    if digest is None
                    else Resolved(digest, image.digest is not None and image.digest != digest)
                )
            primary = _primary(app)
            app_key = (pipeline, stage, app.key)
            if app.kind == "HelmRelease" or primary is None or not primary.image.name:
                available[app_key] = None
                continue
            tags = calls.result("tags", primary.image.name, list)
            if tags is None:
                available[app_key] = None
                continue
            try:
                policy = tag_policy(config, pipeline, app.key, app.name)
            except PromoterError as exc:
                calls.notes.setdefault(str(exc), None)
                available[app_key] = None
                continue
            available[app_key] = policy.available([str(t) for t in tags], primary.image.tag)
    return RegistryStatus(resolved, available, tuple(calls.notes))


def _apps(status: RepoStatus) -> Iterable[tuple[App, str, str]]:
    for pipeline in status.pipelines:
        for stage in pipeline.stages:
            for app in stage.apps:
                yield app, pipeline.pipeline.name, stage.stage.name


def registry_status(
    root: str | Path,
    status: RepoStatus,
    *,
    insecure: Iterable[str] = (),
    registry: RegistryReader | None = None,
) -> RegistryStatus:
    """``status --registry``: the registry's view of ``status`` of the repository at
    ``root`` (promoter.yaml gives tag policies and insecure registries)."""
    from promoter.config import read_config
    from promoter.registry_settings import insecure_hosts
    from promoter.tree import DiskSource

    config = read_config(DiskSource(Path(root)))
    if registry is not None:
        return read_registry_status(status, config, registry)
    from promoter.registry import Backoff, RegistryClient

    hosts = insecure_hosts(config, insecure)
    with RegistryClient(insecure=hosts, backoff=Backoff(attempts=2), timeout=15) as client:
        return read_registry_status(status, config, client)
