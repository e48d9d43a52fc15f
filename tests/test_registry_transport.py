"""How the registry door talks HTTP: plain-HTTP rules, retries with backoff, tag pages."""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from promoter.errors import RegistryError
from promoter.registry import Backoff, RegistryClient, allows_plain_http
from tests.fakes.registry import Answer, Seen, StubServer

DIGEST = "sha256:" + "ab" * 32


class Sleeps(list[float]):
    """A ``sleep`` for Backoff that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Unreachable(requests.Session):
    """A session that records each URL asked for and reaches nothing (no network at all)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(self, method, url, *args, **kwargs):
        self.urls.append(url)
        raise requests.ConnectionError("no network in this test")


def client_for(tmp_path: Path, sleeps: Sleeps, **kwargs) -> RegistryClient:
    """A client with no docker config whose retries record their waits."""
    return RegistryClient(
        docker_config=tmp_path / "none.json", backoff=Backoff(sleep=sleeps), **kwargs
    )


def manifest_answer(seen: Seen) -> Answer:
    """What a registry says to a HEAD for a manifest that exists."""
    return 200, {"Docker-Content-Digest": DIGEST, "Content-Type": "application/json"}, b""


# --- plain HTTP -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000"])
def test_loopback_registries_may_use_plain_http(host):
    """Loopback registries may be spoken to over plain HTTP without being listed."""
    assert allows_plain_http(host)


@pytest.mark.parametrize(
    "host", ["ghcr.io", "registry.lan:5000", "10.0.0.5:5000", "localhost.evil"]
)
def test_other_registries_need_https(host):
    """Any other registry is HTTPS only unless listed as insecure."""
    assert not allows_plain_http(host)


@pytest.mark.parametrize(
    ("host", "insecure"),
    [
        ("registry.lan:5000", ["registry.lan:5000"]),
        ("registry.lan:5000", ["registry.lan"]),
        ("10.0.0.5:5000", ["10.0.0.0/8"]),
    ],
)
def test_listed_registries_may_use_plain_http(host, insecure):
    """A registry listed as insecure, by name, name:port or CIDR range, may use plain HTTP."""
    assert allows_plain_http(host, insecure)


def test_listing_another_port_does_not_allow_this_one():
    """Listing ``name:5000`` does not let ``name:6000`` use plain HTTP."""
    assert not allows_plain_http("registry.lan:6000", ["registry.lan:5000"])


def test_unlisted_host_is_only_tried_over_https(tmp_path):
    """A registry not allowed plain HTTP is never asked over HTTP, even when HTTPS fails."""
    session = Unreachable()
    client = RegistryClient(
        docker_config=tmp_path / "none.json",
        backoff=Backoff(attempts=2, sleep=Sleeps()),
        session=session,
    )

    with pytest.raises(RegistryError) as raised:
        client.digest("registry.lan:5000/app:1.0")

    assert session.urls == ["https://registry.lan:5000/v2/app/manifests/1.0"] * 2
    assert "cannot reach registry registry.lan:5000 (ConnectionError, 2 attempts)" in str(
        raised.value
    )


def test_listed_host_falls_back_to_http(tmp_path):
    """A registry listed as insecure is tried over HTTPS first, then plain HTTP."""
    session = Unreachable()
    client = RegistryClient(
        docker_config=tmp_path / "none.json",
        insecure=["registry.lan:5000"],
        backoff=Backoff(attempts=1, sleep=Sleeps()),
        session=session,
    )

    with pytest.raises(RegistryError):
        client.digest("registry.lan:5000/app:1.0")

    assert session.urls == [
        "https://registry.lan:5000/v2/app/manifests/1.0",
        "http://registry.lan:5000/v2/app/manifests/1.0",
    ]


def test_docker_hub_images_go_to_its_api_host(tmp_path):
    """``nginx:1.27`` is asked of registry-1.docker.io as library/nginx, over HTTPS."""
    session = Unreachable()
    client = RegistryClient(
        docker_config=tmp_path / "none.json", backoff=Backoff(attempts=1), session=session
    )

    with pytest.raises(RegistryError) as raised:
        client.digest("nginx:1.27")

    assert session.urls == ["https://registry-1.docker.io/v2/library/nginx/manifests/1.27"]
    assert str(raised.value).startswith("resolve docker.io/library/nginx:1.27: cannot reach")


# --- retries --------------------------------------------------------------------------------


def test_backoff_grows_exponentially_up_to_its_maximum():
    """Waits double from ``initial`` and stop growing at ``maximum``."""
    backoff = Backoff(initial=0.5, factor=2, maximum=3)

    assert [backoff.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_honours_retry_after_seconds_and_dates():
    """``Retry-After`` in seconds or as an HTTP date sets the wait, capped by ``maximum``."""
    backoff = Backoff(maximum=30)
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)

    assert backoff.delay(0, "7") == 7
    assert 8 <= backoff.delay(0, in_ten) <= 10
    assert backoff.delay(0, "120") == 30


def test_server_errors_are_retried_with_backoff(tmp_path):
    """Two 503 answers are retried, waiting 0.5s then 1s, and the third answer is used."""
    answers: Iterator[Answer] = iter([(503, {}, b""), (503, {}, b"")])
    sleeps = Sleeps()

    with StubServer(lambda seen: next(answers, None) or manifest_answer(seen)) as stub:
        digest = client_for(tmp_path, sleeps).digest(f"{stub.host}/app:1.0")

    assert digest == DIGEST
    assert len(stub.manifest_requests) == 3
    assert sleeps == [0.5, 1.0]


def test_rate_limit_waits_as_retry_after_says(tmp_path):
    """A 429 answer is retried after the seconds its Retry-After header asks for."""
    answers: Iterator[Answer] = iter([(429, {"Retry-After": "7"}, b"")])
    sleeps = Sleeps()

    with StubServer(lambda seen: next(answers, None) or manifest_answer(seen)) as stub:
        digest = client_for(tmp_path, sleeps).digest(f"{stub.host}/app:1.0")

    assert digest == DIGEST
    assert sleeps == [7]


def test_persistent_server_errors_end_in_one_line(tmp_path):
    """A registry failing every attempt ends in a line naming image, registry and attempts."""
    body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "try later"}]}).encode()
    sleeps = Sleeps()

    with (
        StubServer(lambda seen: (503, {"Content-Type": "application/json"}, body)) as stub,
        pytest.raises(RegistryError) as raised,
    ):
        client_for(tmp_path, sleeps).labels(f"{stub.host}/app:1.0")

    assert str(raised.value) == (
        f"inspect {stub.host}/app:1.0: UNAVAILABLE: try later (HTTP 503) after 4 attempts"
        f" (registry {stub.host})"
    )
    assert len(sleeps) == 3


def test_client_errors_are_not_retried(tmp_path):
    """A 404 is an answer, not a hiccup: it is reported at once."""
    sleeps = Sleeps()

    with StubServer(lambda seen: (404, {}, b"")) as stub, pytest.raises(RegistryError) as raised:
        client_for(tmp_path, sleeps).digest(f"{stub.host}/app:1.0")

    assert "no tag 1.0 in app (HTTP 404)" in str(raised.value)
    assert (sleeps, len(stub.manifest_requests)) == ([], 1)


def test_digest_from_body_when_header_is_missing(tmp_path):
    """Without Docker-Content-Digest the digest is the sha256 of the manifest's bytes."""
    body = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'

    def answer(seen: Seen) -> Answer:
        return 200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body

    with StubServer(answer) as stub:
        digest = client_for(tmp_path, Sleeps()).digest(f"{stub.host}/app:1.0")

    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert [seen.method for seen in stub.manifest_requests] == ["HEAD", "GET"]


# --- tag pages ------------------------------------------------------------------------------


def paged_tags(tags: list[str], size: int):
    """A stub answer serving ``tags`` in pages of ``size`` linked by ``Link`` headers."""

    def answer(seen: Seen) -> Answer:
        query = dict(part.split("=", 1) for part in seen.path.partition("?")[2].split("&") if part)
        start = tags.index(query["last"]) + 1 if "last" in query else 0
        page = tags[start : start + size]
        headers = {"Content-Type": "application/json"}
        if start + size < len(tags):
            headers["Link"] = f'</v2/app/tags/list?last={page[-1]}&n={size}>; rel="next"'
        return 200, headers, json.dumps({"name": "app", "tags": page}).encode()

    return answer


def test_tags_follow_link_pages(tmp_path):
    """Tag pages linked by ``Link: <...>; rel="next"`` are all read, in order."""
    tags = [f"1.{n}.0" for n in range(5)]

    with StubServer(paged_tags(tags, 2)) as stub:
        found = client_for(tmp_path, Sleeps()).tags(f"{stub.host}/app", page_size=2)

    assert found == tags
    assert [seen.path for seen in stub.seen if "/tags/" in seen.path] == [
        "/v2/app/tags/list?n=2",
        "/v2/app/tags/list?last=1.1.0&n=2",
        "/v2/app/tags/list?last=1.3.0&n=2",
    ]


def test_next_page_on_another_host_is_refused(tmp_path):
    """A ``Link`` to another host is not followed (credentials would go with it)."""

    def answer(seen: Seen) -> Answer:
        link = '<https://elsewhere.example/v2/app/tags/list?last=a>; rel="next"'
        return 200, {"Link": link}, json.dumps({"tags": ["a"]}).encode()

    with StubServer(answer) as stub, pytest.raises(RegistryError) as raised:
        client_for(tmp_path, Sleeps()).tags(f"{stub.host}/app")

    assert str(raised.value) == (
        f"list tags of {stub.host}/app: the next page is on another host (registry {stub.host})"
    )
