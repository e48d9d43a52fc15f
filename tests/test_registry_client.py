"""RegistryClient against a real registry: digests, labels, annotations, tags."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promoter.errors import PromoterError, RegistryError
from promoter.images import ImageRef
from promoter.registry import Backoff, ImageInfo, RegistryClient, SourceRevision
from tests.fakes.registry import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Pusher,
    Registry,
    require_registry,
    sha256_digest,
    start_registry,
)

SOURCE = "org.opencontainers.image.source"
REVISION = "org.opencontainers.image.revision"
_names = itertools.count()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One anonymous registry for the module (each test pushes to its own repository)."""
    require_registry()
    with start_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture
def pusher(registry: Registry) -> Pusher:
    """A pusher for the module's registry."""
    return Pusher(registry)


@pytest.fixture
def repo() -> str:
    """A repository name no other test uses."""
    return f"team/app{next(_names)}"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[RegistryClient]:
    """A client with an empty docker config and no waiting between retries."""
    with RegistryClient(
        docker_config=tmp_path / "no-docker-config.json", backoff=Backoff(sleep=lambda _: None)
    ) as made:
        yield made


@pytest.mark.parametrize("docker", [False, True], ids=["oci", "docker"])
def test_single_manifest_digest_is_the_pushed_bytes_digest(client, pusher, registry, repo, docker):
    """A tag on one manifest resolves to the sha256 of exactly the bytes pushed."""
    pushed = pusher.image(repo, "1.0.0", docker=docker)

    assert pushed.media_type == (DOCKER_MANIFEST if docker else OCI_MANIFEST)
    assert sha256_digest(pushed.body) == client.digest(f"{registry.host}/{repo}:1.0.0")


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-list"])
def test_multi_arch_tag_resolves_to_its_index_digest(client, pusher, registry, repo, docker):
    """A multi-arch tag resolves to the index's digest, not to one platform's manifest."""
    amd64 = pusher.image(repo, None, docker=docker)
    arm64 = pusher.image(repo, None, docker=docker, platform=("linux", "arm64"))
    index = pusher.index(
        repo, "2.0.0", [(arm64, ("linux", "arm64")), (amd64, ("linux", "amd64"))], docker=docker
    )

    digest = client.digest(f"{registry.host}/{repo}:2.0.0")

    assert index.media_type == (DOCKER_LIST if docker else OCI_INDEX)
    assert sha256_digest(index.body) == digest
    assert digest not in (amd64.digest, arm64.digest)


def test_labels_come_from_the_image_config(client, pusher, registry, repo):
    """Config labels are read through the manifest's config blob."""
    labels = {SOURCE: "https://github.com/acme/app", REVISION: "0123abc", "team": "web"}
    pusher.image(repo, "1.0.0", labels=labels)

    assert labels == client.labels(f"{registry.host}/{repo}:1.0.0")


def test_index_labels_are_the_linux_amd64_images(client, pusher, registry, repo):
    """In an index the linux/amd64 image speaks for the tag, wherever it is listed."""
    arm64 = pusher.image(repo, None, labels={"arch": "arm64"}, platform=("linux", "arm64"))
    amd64 = pusher.image(repo, None, labels={"arch": "amd64"})
    pusher.index(repo, "3.0.0", [(arm64, ("linux", "arm64")), (amd64, ("linux", "amd64"))])

    info = client.inspect(f"{registry.host}/{repo}:3.0.0")

    assert dict(info.labels) == {"arch": "amd64"}
    assert amd64.digest == info.platform_digest


def test_index_without_linux_amd64_uses_its_first_image(client, pusher, registry, repo):
    """An index with no linux/amd64 entry takes its labels from the first image listed."""
    arm64 = pusher.image(repo, None, labels={"arch": "arm64"}, platform=("linux", "arm64"))
    s390x = pusher.image(repo, None, labels={"arch": "s390x"}, platform=("linux", "s390x"))
    pusher.index(repo, "1.0.0", [(arm64, ("linux", "arm64")), (s390x, ("linux", "s390x"))])

    assert client.labels(f"{registry.host}/{repo}:1.0.0") == {"arch": "arm64"}


def test_annotations_of_manifest_and_index(client, pusher, registry, repo):
    """Annotations merge the index's with the chosen manifest's, the manifest's winning."""
    amd64 = pusher.image(repo, None, annotations={"a": "manifest", "m": "only-manifest"})
    pusher.index(
        repo, "1.0.0", [(amd64, ("linux", "amd64"))], annotations={"a": "index", "i": "index"}
    )

    annotations = client.annotations(f"{registry.host}/{repo}:1.0.0")

    assert annotations == {"a": "manifest", "i": "index", "m": "only-manifest"}


def test_inspect_reports_digest_media_type_and_platform(client, pusher, registry, repo):
    """inspect gathers what the registry says about a single manifest in one record."""
    pushed = pusher.image(repo, "1.0.0", labels={"x": "1"}, docker=True)

    info = client.inspect(ImageRef.parse(f"{registry.host}/{repo}:1.0.0"))

    assert (
        ImageInfo(
            image=f"{registry.host}/{repo}:1.0.0",
            digest=pushed.digest,
            media_type=DOCKER_MANIFEST,
            platform_digest=pushed.digest,
            labels={"x": "1"},
            annotations={},
        )
        == info
    )


def test_source_revision_from_labels(client, pusher, registry, repo):
    """Source and revision come from the config labels when the image has them."""
    pusher.image(repo, "1.0.0", labels={SOURCE: "https://github.com/acme/app", REVISION: "abc"})

    found = client.source_revision(f"{registry.host}/{repo}:1.0.0")

    assert SourceRevision("https://github.com/acme/app", "abc") == found


def test_source_revision_from_index_annotations(client, pusher, registry, repo):
    """Without labels, the OCI annotations of the index name the source and revision."""
    amd64 = pusher.image(repo, None)
    annotations = {SOURCE: "https://github.com/acme/app", REVISION: "def"}
    pusher.index(repo, "1.0.0", [(amd64, ("linux", "amd64"))], annotations=annotations)

    found = client.source_revision(f"{registry.host}/{repo}:1.0.0")

    assert SourceRevision("https://github.com/acme/app", "def") == found


def test_source_revision_is_none_without_both(client, pusher, registry, repo):
    """An image naming its source but no revision has no source revision."""
    pusher.image(repo, "1.0.0", labels={SOURCE: "https://github.com/acme/app"})

    assert client.source_revision(f"{registry.host}/{repo}:1.0.0") is None


def test_moved_tag_resolves_to_its_new_digest(client, pusher, registry, repo):
    """After a tag moves, it resolves to the new digest; the old digest still resolves."""
    old = pusher.image(repo, "1.0.0")
    image = f"{registry.host}/{repo}:1.0.0"
    assert old.digest == client.digest(image)
    new = pusher.image(repo, "1.0.0")

    assert (new.digest, old.digest) == (
        client.digest(image),
        client.digest(f"{registry.host}/{repo}@{old.digest}"),
    )
    assert new.digest != old.digest


def test_tag_and_digest_reference_resolves_the_tag(client, pusher, registry, repo):
    """An image pinned as tag@digest resolves its tag: that is how a moved tag is seen."""
    old = pusher.image(repo, "1.0.0")
    new = pusher.image(repo, "1.0.0")

    assert new.digest == client.digest(f"{registry.host}/{repo}:1.0.0@{old.digest}")


def test_mirror_repository_holds_its_own_digest(client, pusher, registry, repo):
    """A mirror repository resolves to its own digest: the same when copied, else different."""
    source = pusher.image(repo, "1.0.0")
    pusher.copy(repo, f"{repo}-mirror", "1.0.0", source)
    pusher.image(f"{repo}-stale", "1.0.0")

    assert source.digest == client.digest(f"{registry.host}/{repo}-mirror:1.0.0")
    assert source.digest != client.digest(f"{registry.host}/{repo}-stale:1.0.0")


def test_copied_index_keeps_its_digest(client, pusher, registry, repo):
    """An index copied to a mirror repository resolves to the same index digest there."""
    amd64 = pusher.image(repo, None)
    index = pusher.index(repo, "1.0.0", [(amd64, ("linux", "amd64"))])
    pusher.copy(repo, f"{repo}-mirror", "1.0.0", index)

    assert index.digest == client.digest(f"{registry.host}/{repo}-mirror:1.0.0")


def test_tags_lists_every_tag(client, pusher, registry, repo):
    """tags lists every tag of the repository, including ones pointing at the same image."""
    image = pusher.image(repo, "1.0.0")
    for tag in ("1.1.0", "latest", "2.0.0-rc.1"):
        pusher.tag(repo, tag, image)

    assert sorted(client.tags(f"{registry.host}/{repo}")) == [
        "1.0.0",
        "1.1.0",
        "2.0.0-rc.1",
        "latest",
    ]


def test_unknown_tag_names_image_and_registry(client, pusher, registry, repo):
    """A tag the registry does not have fails with one line naming image and registry."""
    pusher.image(repo, "1.0.0")

    with pytest.raises(RegistryError) as raised:
        client.digest(f"{registry.host}/{repo}:9.9.9")

    assert (
        f"resolve {registry.host}/{repo}:9.9.9: no tag 9.9.9 in {repo} (HTTP 404)"
        f" (registry {registry.host})"
    ) == str(raised.value)
    assert isinstance(raised.value, PromoterError)


def test_unknown_repository_tags_fail_clearly(client, registry, repo):
    """Listing the tags of a repository that does not exist names it and the registry."""
    with pytest.raises(RegistryError) as raised:
        client.tags(f"{registry.host}/{repo}")

    assert str(raised.value).startswith(f"list tags of {registry.host}/{repo}: ")
    assert str(raised.value).endswith(f"(registry {registry.host})")


def test_malformed_digest_is_refused_before_any_request(client, registry, repo):
    """A reference whose digest is not sha256 hex is refused, naming it."""
    with pytest.raises(RegistryError) as raised:
        client.digest(f"{registry.host}/{repo}@sha256:nothex")

    assert "'sha256:nothex' is not a sha256 digest" in str(raised.value)


def test_unreachable_registry_names_it(tmp_path):
    """A registry nobody listens on fails after the retries with a line naming it."""
    from tests.fakes.registry import free_port

    host = f"127.0.0.1:{free_port()}"
    client = RegistryClient(
        docker_config=tmp_path / "none.json",
        backoff=Backoff(attempts=2, sleep=lambda _: None),
        timeout=2,
    )

    with pytest.raises(RegistryError) as raised:
        client.digest(f"{host}/app:1.0")

    assert f"resolve {host}/app:1.0: cannot reach registry {host}" in str(raised.value)


def test_importing_the_registry_door_does_not_load_requests():
    """``import promoter.registry`` stays cheap: requests loads only when a client is made."""
    probe = "import sys, promoter.registry; print('requests' in sys.modules)"

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "False"
