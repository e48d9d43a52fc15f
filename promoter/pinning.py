"""Digest pinning: TO gets FROM's tag and the digest it resolves to (issue 9, point 2).

A tag is a name that can move; a digest is what ran.  With ``--pin-digest`` (or
``pin: digest`` in promoter.yaml) every container that moves gets FROM's tag and a digest,
written in the stage's own style by the rewriter (``images:`` entries get ``newTag`` and
``digest``, image strings become ``repo:tag@sha256:...``).

The digest is resolved in TO's own repository (a registry mirror set by ``newName`` is
asked there) and must be what FROM runs: FROM's pinned digest, or what FROM's tag resolves
to in FROM's repository.  A mirror that serves another digest is refused ("mirror out of
sync") unless ``force``.  Without pinning, a TO pinned by digest today moves to FROM's
reference as it is, and the plan says so in a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from promoter.config import read_config
from promoter.errors import PromotionError
from promoter.images import ImageRef
from promoter.model import App, ContainerImage, Stage
from promoter.promotion import container_changes
from promoter.registry.reference import RegistryRef
from promoter.registry_settings import insecure_hosts, pins_digest
from promoter.repo import GitOpsRepo

Pairs = list[tuple[App, App]]


@dataclass(frozen=True)
class PinRequest:
    """How a change pins: ``pin_digest`` (``--pin-digest``; promoter.yaml may also ask),
    ``force`` (pin a mirror's digest that differs from FROM's), ``insecure`` registries."""

    pin_digest: bool = False
    force: bool = False
    insecure: tuple[str, ...] = ()
    docker_config: Path | None = None


class DigestSource(Protocol):
    """What pinning needs from a registry: the digest a reference resolves to now."""

    def digest(self, image: str) -> str:
        """The manifest (or index) digest of ``image``."""


@dataclass
class DigestPinner:
    """Gives the source apps of a change the digests to pin, checked against mirrors."""

    registry: DigestSource
    stage: str
    force: bool = False
    notes: list[str] = field(default_factory=list)
    _digests: dict[str, str] = field(default_factory=dict)

    def _digest(self, image: str) -> str:
        if image not in self._digests:
            self._digests[image] = self.registry.digest(image)
        return self._digests[image]

    def pin(self, pairs: Sequence[tuple[App, App]]) -> Pairs:
        """Each (source, target) pair with the source's images carrying the digest to pin."""
        return [(self._pin_app(source, target), target) for source, target in pairs]

    def _pin_app(self, source: App, target: App) -> App:
        if source.kind == "HelmRelease":
            return source
        pinned: dict[tuple[str, bool], ImageRef] = {}
        for current in target.images:
            twin = _twin(source, current)
            if twin is None or not current.image.name or twin.image.tag is None:
                continue  # no tag (a digest only, or latest): nothing to resolve
            key = (twin.container, twin.init)
            if key not in pinned:
                digest = self._resolve(source.key, twin.image, current.image)
                pinned[key] = twin.image.with_version(twin.image.tag, digest)
        images = tuple(
            replace(i, image=pinned.get((i.container, i.init), i.image)) for i in source.images
        )
        return replace(source, images=images)

    def _resolve(self, app: str, source: ImageRef, target: ImageRef) -> str:
        tag = source.tag
        expected = source.digest or self._digest(f"{source.name}:{tag}")
        if _same_repository(source, target):
            return expected
        mirrored = self._digest(f"{target.name}:{tag}")
        if mirrored == expected:
            return expected
        verb = "runs" if source.digest else "resolves to"
        said = f"{source.name}:{tag} {verb} {expected}"
        message = f"mirror out of sync: {target.name}:{tag} resolves to {mirrored} but {said}"
        if not self.force:
            raise PromotionError(f"{message} ({app}); --force pins the mirror's digest")
        self.notes.append(f"{message} ({app}); pinned the mirror's digest (--force)")
        return mirrored


def _same_repository(one: ImageRef, other: ImageRef) -> bool:
    a, b = RegistryRef.parse(one), RegistryRef.parse(other)
    return (a.registry, a.repository) == (b.registry, b.repository)


def _twin(source: App, current: ContainerImage) -> ContainerImage | None:
    """The source container ``current`` takes its version from (as ``container_changes``)."""
    for image in source.images:
        if (image.container, image.init) == (current.container, current.init):
            return image
    return next((i for i in source.images if i.container == current.container), None)


def pin_pairs(
    repo: GitOpsRepo,
    pipeline: str,
    target: Stage,
    pairs: Sequence[tuple[App, App]],
    request: PinRequest | None,
    registry: DigestSource | None = None,
) -> tuple[Pairs, tuple[str, ...]]:
    """The pairs to plan (sources pinned to digests when asked) and the notes to add.

    Pinning is asked by ``request.pin_digest`` or ``pin: digest`` in promoter.yaml; without
    it, every container pinned by digest today that would lose its digest gets a note.
    """
    request = request or PinRequest()
    config = read_config(repo.source)
    if not (request.pin_digest or pins_digest(config, pipeline, target.name)):
        return list(pairs), unpinned_notes(pairs, target.name)
    if registry is not None:
        pinner = DigestPinner(registry, target.name, request.force)
        return pinner.pin(pairs), tuple(pinner.notes)
    from promoter.registry import RegistryClient

    insecure = insecure_hosts(config, request.insecure)
    with RegistryClient(insecure=insecure, docker_config=request.docker_config) as client:
        pinner = DigestPinner(client, target.name, request.force)
        return pinner.pin(pairs), tuple(pinner.notes)


def unpinned_notes(pairs: Sequence[tuple[App, App]], stage: str) -> tuple[str, ...]:
    """A note for every container pinned by digest in ``stage`` that the change unpins."""
    notes: list[str] = []
    for source, target in pairs:
        if source.kind == "HelmRelease":
            continue
        for container, wanted in container_changes(source, target):
            if container.image.digest and not wanted.digest:
                notes.append(
                    f"{target.key} (container {container.container}) in {stage} stops being "
                    f"pinned by digest ({container.image} -> {wanted}); --pin-digest would "
                    "keep it pinned"
                )
    return tuple(notes)
