"""Credentials as users have them (docker config, helpers) and the registry auth handshakes."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from promoter.errors import RegistryError
from promoter.registry import Backoff, Credentials, DockerConfig, RegistryClient
from promoter.registry.auth import Challenge, parse_challenge
from tests.fakes.registry import (
    Pushed,
    Pusher,
    Registry,
    TokenServer,
    require_registry,
    start_registry,
    write_credential_helper,
)

PASSWORD = "s3cret-Pa55"
WRONG = "wr0ng-Pa55"


def b64(text: str) -> str:
    """Base64 of ``text``, as docker writes ``auth`` values."""
    return base64.b64encode(text.encode()).decode()


def write_config(path: Path, document: dict[str, object]) -> Path:
    """Write a docker config file and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def quiet_client(config: Path) -> RegistryClient:
    """A client reading ``config``, retrying without waiting."""
    return RegistryClient(docker_config=config, backoff=Backoff(sleep=lambda _: None))


# --- the docker config file -----------------------------------------------------------------


def test_auths_entry_with_base64_auth(tmp_path):
    """An ``auths`` entry's base64 ``auth`` value is split into user and password."""
    config = write_config(
        tmp_path / "config.json", {"auths": {"reg.example": {"auth": b64("u:p:x")}}}
    )

    found = DockerConfig.load(config).credentials("reg.example")

    assert Credentials("docker config auths (reg.example)", "u", "p:x") == found


def test_auths_entry_with_username_and_password(tmp_path):
    """An ``auths`` entry may spell out username and password."""
    config = write_config(
        tmp_path / "config.json",
        {"auths": {"https://reg.example:5000/v2/": {"username": "u", "password": "p"}}},
    )

    found = DockerConfig.load(config).credentials("reg.example:5000")

    assert found is not None
    assert found.basic == ("u", "p")


def test_docker_hub_key_serves_docker_io(tmp_path):
    """Docker Hub's credentials are stored under its v1 URL and used for docker.io images."""
    config = write_config(
        tmp_path / "config.json", {"auths": {"https://index.docker.io/v1/": {"auth": b64("u:p")}}}
    )

    found = DockerConfig.load(config).credentials("docker.io")

    assert found is not None
    assert found.basic == ("u", "p")


def test_identity_token_entry(tmp_path):
    """An ``identitytoken`` is kept as such (it is exchanged at the token realm)."""
    config = write_config(
        tmp_path / "config.json", {"auths": {"reg.example": {"identitytoken": "id-tok"}}}
    )

    found = DockerConfig.load(config).credentials("reg.example")

    assert found is not None
    assert (found.identity_token, found.basic) == ("id-tok", None)


def test_other_hosts_get_no_credentials(tmp_path):
    """Credentials stored for one registry are not offered to another."""
    config = write_config(
        tmp_path / "config.json", {"auths": {"reg.example": {"auth": b64("u:p")}}}
    )

    assert DockerConfig.load(config).credentials("other.example") is None


def test_missing_config_is_anonymous(tmp_path):
    """With no docker config at all, every registry is asked anonymously."""
    assert DockerConfig.load(tmp_path / "absent.json").credentials("reg.example") is None


def test_docker_config_environment_directory(tmp_path, monkeypatch):
    """``DOCKER_CONFIG`` names the directory whose config.json is read."""
    write_config(tmp_path / "dc" / "config.json", {"auths": {"reg.example": {"auth": b64("u:p")}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))

    found = DockerConfig.load().credentials("reg.example")

    assert found is not None
    assert found.basic == ("u", "p")


def test_malformed_config_names_the_file(tmp_path):
    """A docker config that is not JSON fails with a line naming the file."""
    (tmp_path / "config.json").write_text("{not json")

    with pytest.raises(RegistryError) as raised:
        DockerConfig.load(tmp_path)

    assert f"{tmp_path / 'config.json'}: not a readable docker config file" == str(raised.value)


def test_cred_helper_for_the_host(tmp_path, monkeypatch):
    """``credHelpers[host]`` runs docker-credential-<name> get with the host on stdin."""
    bin_dir = tmp_path / "bin"
    write_credential_helper(bin_dir, "fake", {"reg.example": ("helper-user", "helper-pass")})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = write_config(
        tmp_path / "config.json",
        {
            "auths": {"reg.example": {"auth": b64("file-user:file-pass")}},
            "credHelpers": {"reg.example": "fake"},
        },
    )

    found = DockerConfig.load(config).credentials("reg.example")

    assert Credentials("docker-credential-fake", "helper-user", "helper-pass") == found
    assert (bin_dir / "fake.log").read_text() == "reg.example\n"


def test_creds_store_falls_back_to_auths(tmp_path, monkeypatch):
    """When the ``credsStore`` helper has nothing for a host, the ``auths`` entry is used."""
    bin_dir = tmp_path / "bin"
    write_credential_helper(bin_dir, "store", {})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = write_config(
        tmp_path / "config.json",
        {"auths": {"reg.example": {"auth": b64("u:p")}}, "credsStore": "store"},
    )

    found = DockerConfig.load(config).credentials("reg.example")

    assert found is not None
    assert (found.source, found.basic) == ("docker config auths (reg.example)", ("u", "p"))


def test_creds_store_asks_docker_hub_by_its_url(tmp_path, monkeypatch):
    """The helper is asked for Docker Hub by the v1 URL docker stores it under."""
    bin_dir = tmp_path / "bin"
    hub = "https://index.docker.io/v1/"
    write_credential_helper(bin_dir, "store", {hub: ("hub-user", "hub-pass")})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = write_config(tmp_path / "config.json", {"credsStore": "store"})

    found = DockerConfig.load(config).credentials("docker.io")

    assert found is not None
    assert found.basic == ("hub-user", "hub-pass")


def test_helper_token_user_is_an_identity_token(tmp_path, monkeypatch):
    """A helper answering the user ``<token>`` hands over an identity token."""
    bin_dir = tmp_path / "bin"
    write_credential_helper(bin_dir, "tok", {"reg.example": ("<token>", "refresh-me")})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = write_config(tmp_path / "config.json", {"credHelpers": {"reg.example": "tok"}})

    found = DockerConfig.load(config).credentials("reg.example")

    assert Credentials("docker-credential-tok", identity_token="refresh-me") == found


def test_missing_helper_names_it(tmp_path, monkeypatch):
    """A helper that is not on PATH fails with a line naming the program."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    config = write_config(tmp_path / "config.json", {"credsStore": "nowhere"})

    with pytest.raises(RegistryError) as raised:
        DockerConfig.load(config).credentials("reg.example")

    expected = (
        "credential helper docker-credential-nowhere (named in the docker config) is not on PATH"
    )
    assert expected == str(raised.value)


def test_credentials_repr_hides_secrets():
    """Printing credentials shows where they came from, never the secret parts."""
    text = repr(Credentials("x", "user", PASSWORD, identity_token="idt", registry_token="rt"))

    assert "user" in text
    assert all(secret not in text for secret in (PASSWORD, "idt", "'rt'"))


def test_bearer_challenge_is_parsed():
    """A bearer challenge yields its realm, service and scope (commas inside quotes kept)."""
    header = (
        'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'
    )

    assert Challenge(
        "Bearer",
        {
            "realm": "https://auth.example/token",
            "service": "reg",
            "scope": "repository:a/b:pull,push",
        },
    ) == parse_challenge(header)


def test_basic_challenge_is_parsed():
    """A basic challenge yields its scheme and realm."""
    assert Challenge("Basic", {"realm": "test"}) == parse_challenge('basic realm="test"')


# --- basic auth (htpasswd) against the real registry ----------------------------------------


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory) -> Iterator[tuple[Registry, Pushed]]:
    """A registry behind htpasswd basic auth, holding basic/app:1.0."""
    require_registry()
    with start_registry(tmp_path_factory.mktemp("basic"), users={"bob": PASSWORD}) as running:
        yield running, Pusher(running, ("bob", PASSWORD)).image("basic/app", "1.0")


def test_basic_auth_from_docker_config(tmp_path, basic_registry):
    """Credentials from the docker config's ``auths`` open a basic-auth registry."""
    registry, pushed = basic_registry
    config = write_config(
        tmp_path / "config.json", {"auths": {registry.host: {"auth": b64(f"bob:{PASSWORD}")}}}
    )

    assert pushed.digest == quiet_client(config).digest(f"{registry.host}/basic/app:1.0")


def test_basic_auth_without_credentials_is_denied(tmp_path, basic_registry):
    """Without credentials a basic-auth registry refuses, and the line says so."""
    registry, _ = basic_registry

    with pytest.raises(RegistryError) as raised:
        quiet_client(tmp_path / "none.json").digest(f"{registry.host}/basic/app:1.0")

    assert (
        f"resolve {registry.host}/basic/app:1.0: access denied anonymously:"
        f" Unauthorized (HTTP 401) (registry {registry.host})"
    ) == str(raised.value)


def test_wrong_password_message_names_source_not_secret(tmp_path, basic_registry):
    """A refused password is reported by where it came from; the password never appears."""
    registry, _ = basic_registry
    config = write_config(
        tmp_path / "config.json", {"auths": {registry.host: {"auth": b64(f"bob:{WRONG}")}}}
    )

    with pytest.raises(RegistryError) as raised:
        quiet_client(config).labels(f"{registry.host}/basic/app:1.0")

    message = str(raised.value)
    assert f"access denied with credentials from docker config auths ({registry.host})" in message
    assert WRONG not in message
    assert b64(f"bob:{WRONG}") not in message


# --- token auth against the real registry ---------------------------------------------------


@pytest.fixture(scope="module")
def token_setup(tmp_path_factory) -> Iterator[tuple[Registry, TokenServer, Pushed]]:
    """A registry with token auth, its token server (alice; identity token ``idt-alice``),
    holding private/app:1.0."""
    require_registry()
    root = tmp_path_factory.mktemp("token")
    server = TokenServer(
        root / "tokens", users={"alice": PASSWORD}, refresh_tokens={"idt-alice": "alice"}
    )
    with server, start_registry(root / "registry", token_server=server) as running:
        pushed = Pusher(running, ("alice", PASSWORD)).image("private/app", "1.0")
        yield running, server, pushed


@pytest.fixture
def tokens(token_setup) -> Iterator[TokenServer]:
    """The token server, its request log emptied and anonymous pull off for each test."""
    _, server, _ = token_setup
    server.requests.clear()
    server.anonymous_pull = False
    yield server
    server.anonymous_pull = False


def test_bearer_with_basic_credentials_at_the_realm(tmp_path, token_setup, tokens):
    """Docker config credentials are sent to the token realm; the token opens the registry."""
    registry, _, pushed = token_setup
    config = write_config(
        tmp_path / "config.json", {"auths": {registry.host: {"auth": b64(f"alice:{PASSWORD}")}}}
    )

    digest = quiet_client(config).digest(f"{registry.host}/private/app:1.0")

    assert pushed.digest == digest
    assert tokens.requests == [("alice", "repository:private/app:pull")]


def test_bearer_token_is_reused_within_a_client(tmp_path, token_setup, tokens):
    """One token serves every request a client makes to the same repository."""
    registry, _, _ = token_setup
    config = write_config(
        tmp_path / "config.json", {"auths": {registry.host: {"auth": b64(f"alice:{PASSWORD}")}}}
    )
    client = quiet_client(config)

    client.digest(f"{registry.host}/private/app:1.0")
    client.labels(f"{registry.host}/private/app:1.0")
    client.tags(f"{registry.host}/private/app")

    assert len(tokens.requests) == 1


def test_bearer_with_cred_helper(tmp_path, monkeypatch, token_setup, tokens):
    """Credentials from a ``credHelpers`` helper reach the token realm."""
    registry, _, pushed = token_setup
    bin_dir = tmp_path / "bin"
    write_credential_helper(bin_dir, "corp", {registry.host: ("alice", PASSWORD)})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = write_config(tmp_path / "config.json", {"credHelpers": {registry.host: "corp"}})

    assert pushed.digest == quiet_client(config).digest(f"{registry.host}/private/app:1.0")
    assert tokens.requests == [("alice", "repository:private/app:pull")]


def test_bearer_with_creds_store_identity_token(tmp_path, monkeypatch, token_setup, tokens):
    """An identity token from the ``credsStore`` helper is exchanged at the realm (POST)."""
    registry, _, pushed = token_setup
    bin_dir = tmp_path / "bin"
    write_credential_helper(bin_dir, "desktop", {registry.host: ("<token>", "idt-alice")})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = write_config(tmp_path / "config.json", {"credsStore": "desktop"})

    assert pushed.digest == quiet_client(config).digest(f"{registry.host}/private/app:1.0")
    assert tokens.requests == [("alice", "repository:private/app:pull")]


def test_bearer_anonymous_pull(tmp_path, token_setup, tokens):
    """With no credentials an anonymous token is asked for, and works where pull is public."""
    registry, _, pushed = token_setup
    tokens.anonymous_pull = True

    assert pushed.digest == quiet_client(tmp_path / "none.json").digest(
        f"{registry.host}/private/app:1.0"
    )
    assert tokens.requests == [(None, "repository:private/app:pull")]


def test_bearer_anonymous_denied(tmp_path, token_setup, tokens):
    """An anonymous token without pull rights ends in one line naming image and registry."""
    registry, _, _ = token_setup

    with pytest.raises(RegistryError) as raised:
        quiet_client(tmp_path / "none.json").digest(f"{registry.host}/private/app:1.0")

    message = str(raised.value)
    assert message.startswith(f"resolve {registry.host}/private/app:1.0: access denied anonymously")
    assert message.endswith(f"(registry {registry.host})")


def test_bearer_wrong_password_is_refused_by_the_realm(tmp_path, token_setup, tokens):
    """A token server refusing the password is named, with the credentials' source only."""
    registry, _, _ = token_setup
    config = write_config(
        tmp_path / "config.json", {"auths": {registry.host: {"auth": b64(f"alice:{WRONG}")}}}
    )

    with pytest.raises(RegistryError) as raised:
        quiet_client(config).digest(f"{registry.host}/private/app:1.0")

    realm_host = tokens.url.removeprefix("http://")
    assert (
        f"resolve {registry.host}/private/app:1.0: token server {realm_host} refused a token"
        f" with credentials from docker config auths ({registry.host}): Unauthorized (HTTP 401)"
    ) == str(raised.value)
    assert WRONG not in str(raised.value)
