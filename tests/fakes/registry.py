"""A real OCI registry on 127.0.0.1 for tests, and a pusher that fills it without docker.

``start_registry`` runs Debian's ``docker-registry`` (the CNCF distribution registry) on a
free port with its storage in a temporary directory, optionally behind htpasswd basic auth
or the registry's own token auth (``TokenServer`` issues the JWTs, signed with a key made
here and trusted through the registry's ``rootcertbundle``).  ``Pusher`` speaks the
distribution API directly: blobs, image configs with labels, OCI and Docker manifests,
multi-arch indexes, and tags that move.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

REGISTRY_BINARY = "docker-registry"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

SERVICE = "test-registry"
ISSUER = "test-token-issuer"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sha256_digest(data: bytes) -> str:
    """The OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(document: Mapping[str, Any]) -> bytes:
    """JSON bytes as pushed: the digest is computed from exactly these."""
    return json.dumps(document, indent=3, sort_keys=True).encode()


# --- the registry process -------------------------------------------------------------------


def require_registry() -> str:
    """Path of ``docker-registry``; without it the test fails in CI and is skipped elsewhere."""
    found = shutil.which(REGISTRY_BINARY)
    if found is None:
        message = f"{REGISTRY_BINARY} is not on PATH: the registry tests run a real registry"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class Registry:
    """A running registry: ``host`` is what image references name (``127.0.0.1:PORT``)."""

    host: str
    root: Path

    @property
    def url(self) -> str:
        """Base URL of the registry's HTTP API."""
        return f"http://{self.host}"


def htpasswd_line(user: str, password: str) -> str:
    """One htpasswd entry, bcrypt-hashed as the registry's htpasswd auth requires."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    return f"{user}:{hashed}"


def _config(port: int, root: Path, auth: str) -> str:
    return (
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: not-a-secret-{port}\n"
        f"{auth}"
    )


@contextmanager
def start_registry(
    root: Path,
    *,
    users: Mapping[str, str] | None = None,
    token_server: TokenServer | None = None,
) -> Iterator[Registry]:
    """Run ``docker-registry serve`` on 127.0.0.1 until the block ends.

    ``users`` turns on htpasswd basic auth; ``token_server`` turns on token auth against it.
    Storage lives in ``root``, so a second registry started on the same ``root`` serves
    what the first one stored.
    """
    root.mkdir(parents=True, exist_ok=True)
    auth = ""
    if users is not None:
        htpasswd = root / "htpasswd"
        htpasswd.write_text("".join(htpasswd_line(u, p) + "\n" for u, p in users.items()))
        auth = f"auth:\n  htpasswd:\n    realm: test-basic\n    path: {htpasswd}\n"
    elif token_server is not None:
        auth = (
            "auth:\n  token:\n"
            f"    realm: {token_server.url}/token\n"
            f"    service: {SERVICE}\n    issuer: {ISSUER}\n"
            f"    rootcertbundle: {token_server.certificate}\n"
        )
    port = free_port()
    config = root / f"config-{port}.yml"
    config.write_text(_config(port, root, auth))
    log = (root / f"registry-{port}.log").open("wb")
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "none"},
    )
    registry = Registry(host=f"127.0.0.1:{port}", root=root)
    try:
        _wait_until_up(registry, process)
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung registry
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(registry: Registry, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = next(registry.root.glob(f"registry-{registry.host.rsplit(':', 1)[1]}.log"))
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        try:
            # 200 without auth, 401 with it: either way the API answers.
            requests.get(f"{registry.url}/v2/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not answer /v2/ within 20s")


# --- token auth -----------------------------------------------------------------------------


def _libtrust_key_id(public_key: rsa.RSAPublicKey) -> str:
    """The key ID the registry derives from a trusted key (libtrust's format)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


@dataclass
class TokenServer:
    """A docker token server on 127.0.0.1: GET with basic auth, POST with a refresh token.

    ``users`` maps user names to passwords; ``refresh_tokens`` maps identity tokens to users;
    ``anonymous_pull`` grants pull to anonymous requests.  ``requests`` records what each
    token request carried (the user, or ``None`` when anonymous, and the scope).
    """

    directory: Path
    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    anonymous_pull: bool = False
    requests: list[tuple[str | None, str]] = field(default_factory=list)
    url: str = ""
    certificate: Path = field(init=False)
    _key: rsa.RSAPrivateKey = field(init=False)
    _server: ThreadingHTTPServer | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test token issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.certificate = self.directory / "token-root.pem"
        self.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, user: str | None, scope: str, actions: Sequence[str]) -> str:
        """A JWT the registry accepts, granting ``actions`` on the scope's repository."""
        now = int(time.time())
        access = []
        if scope:
            kind, name, _wanted = scope.split(":", 2)
            access.append({"type": kind, "name": name, "actions": list(actions)})
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 10,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        headers = {"kid": _libtrust_key_id(self._key.public_key())}
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def _grant(self, user: str | None, scope: str) -> list[str]:
        if not scope:
            return []
        wanted = scope.split(":", 2)[2].split(",")
        if user is not None:
            return wanted
        return ["pull"] if self.anonymous_pull and "pull" in wanted else []

    def __enter__(self) -> TokenServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is for the tests."""

            def _answer(self, user: str | None, scope: str) -> None:
                server.requests.append((user, scope))
                token = server.issue(user, scope, server._grant(user, scope))
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _deny(self) -> None:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                scope = query.get("scope", [""])[0]
                header = self.headers.get("Authorization", "")
                user: str | None = None
                if header.startswith("Basic "):
                    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if server.users.get(name) != password:
                        self._deny()
                        return
                    user = name
                self._answer(user, scope)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                refresh = form.get("refresh_token", [""])[0]
                user = server.refresh_tokens.get(refresh)
                if form.get("grant_type") != ["refresh_token"] or user is None:
                    self._deny()
                    return
                self._answer(user, form.get("scope", [""])[0])

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


# --- pushing images -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    """A manifest or index as pushed: its exact bytes, their digest and media type."""

    digest: str
    media_type: str
    body: bytes

    def descriptor(self, platform: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The descriptor an index lists this manifest by."""
        entry: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.body),
        }
        if platform is not None:
            entry["platform"] = dict(platform)
        return entry


class Pusher:
    """Pushes blobs, images and indexes over the distribution API, with no docker daemon.

    ``login`` is a (user, password) pair used for basic auth or, when the registry answers
    with a bearer challenge, to get a token from its realm.
    """

    def __init__(self, registry: Registry, login: tuple[str, str] | None = None) -> None:
        self.registry = registry
        self.login = login
        self.session = requests.Session()
        self._tokens: dict[str, str] = {}

    def _request(
        self,
        method: str,
        repo: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        sent = dict(headers or {})
        if repo in self._tokens:
            sent["Authorization"] = f"Bearer {self._tokens[repo]}"
        elif self.login is not None:
            sent["Authorization"] = (
                "Basic " + base64.b64encode(":".join(self.login).encode()).decode()
            )
        response = self.session.request(method, url, headers=sent, timeout=10, **kwargs)
        challenge = response.headers.get("WWW-Authenticate", "")
        if (
            response.status_code == 401
            and challenge.startswith("Bearer ")
            and repo not in self._tokens
        ):
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            token = self.session.get(
                params["realm"],
                params={"service": params["service"], "scope": f"repository:{repo}:pull,push"},
                auth=self.login,
                timeout=10,
            )
            token.raise_for_status()
            self._tokens[repo] = token.json()["token"]
            return self._request(method, repo, url, headers, **kwargs)
        return response

    def _absolute(self, location: str) -> str:
        return location if location.startswith("http") else self.registry.url + location

    def blob(self, repo: str, data: bytes) -> str:
        """Upload ``data`` as a blob of ``repo`` (POST, then PUT ?digest=); its digest."""
        digest = sha256_digest(data)
        started = self._request("POST", repo, f"{self.registry.url}/v2/{repo}/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = self._absolute(started.headers["Location"])
        done = self._request(
            "PUT",
            repo,
            location,
            params={"digest": digest},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        return digest

    def manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> Pushed:
        """PUT ``body`` as the manifest ``repo:reference`` (a tag or a digest)."""
        response = self._request(
            "PUT",
            repo,
            f"{self.registry.url}/v2/{repo}/manifests/{reference}",
            data=body,
            headers={"Content-Type": media_type},
        )
        assert response.status_code == 201, response.text
        pushed = Pushed(sha256_digest(body), media_type, body)
        assert response.headers["Docker-Content-Digest"] == pushed.digest
        return pushed

    def image(
        self,
        repo: str,
        tag: str | None,
        *,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        docker: bool = False,
        platform: tuple[str, str] = ("linux", "amd64"),
        content: bytes | None = None,
    ) -> Pushed:
        """Push a one-layer image whose config carries ``labels``; tag it when ``tag`` is set.

        ``docker`` picks the Docker v2 media types, else OCI; ``content`` is the layer's
        bytes (random by default, so every image is new).
        """
        layer = content if content is not None else secrets.token_bytes(64)
        layer_digest = self.blob(repo, layer)
        config = {
            "architecture": platform[1],
            "os": platform[0],
            "config": {"Labels": dict(labels or {})},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
        config_bytes = canonical(config)
        config_digest = self.blob(repo, config_bytes)
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {
                    "mediaType": DOCKER_LAYER if docker else OCI_LAYER,
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        }
        if annotations:
            manifest["annotations"] = dict(annotations)
        body = canonical(manifest)
        return self.manifest(repo, tag or sha256_digest(body), body, media_type)

    def index(
        self,
        repo: str,
        tag: str,
        manifests: Sequence[tuple[Pushed, tuple[str, str]]],
        *,
        annotations: Mapping[str, str] | None = None,
        docker: bool = False,
    ) -> Pushed:
        """Push a multi-arch index (OCI, or a Docker manifest list) listing ``manifests``.

        Each entry is a pushed manifest with its (os, architecture).
        """
        media_type = DOCKER_LIST if docker else OCI_INDEX
        index: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                pushed.descriptor({"os": os_, "architecture": arch})
                for pushed, (os_, arch) in manifests
            ],
        }
        if annotations:
            index["annotations"] = dict(annotations)
        return self.manifest(repo, tag, canonical(index), media_type)

    def tag(self, repo: str, tag: str, pushed: Pushed) -> Pushed:
        """Point ``repo:tag`` at an already pushed manifest (moving the tag if it exists)."""
        return self.manifest(repo, tag, pushed.body, pushed.media_type)

    def copy(self, source: str, target: str, tag: str, pushed: Pushed) -> Pushed:
        """Copy ``pushed`` (with its blobs, and its manifests for an index) from ``source``
        into ``target`` under ``tag``: the same digest in another repository, as a mirror has.
        """
        document = json.loads(pushed.body)
        for entry in document.get("manifests", []):
            manifest = self._request(
                "GET",
                source,
                f"{self.registry.url}/v2/{source}/manifests/{entry['digest']}",
                headers={"Accept": entry["mediaType"]},
            )
            assert manifest.status_code == 200, manifest.text
            inner = Pushed(entry["digest"], entry["mediaType"], manifest.content)
            self.copy(source, target, entry["digest"], inner)
        for blob in [document.get("config"), *document.get("layers", [])]:
            if blob is None:
                continue
            data = self._request(
                "GET", source, f"{self.registry.url}/v2/{source}/blobs/{blob['digest']}"
            )
            assert data.status_code == 200, data.text
            self.blob(target, data.content)
        return self.manifest(target, tag, pushed.body, pushed.media_type)


# --- scripted HTTP servers and credential helpers --------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request a ``StubServer`` received."""

    method: str
    path: str
    headers: Mapping[str, str]


Answer = tuple[int, Mapping[str, str], bytes]


class StubServer:
    """An HTTP server on 127.0.0.1 answering every request with ``answer(seen)``.

    For what a real registry will not do on demand: fail with 5xx/429, paginate tags.
    ``seen`` records every request in order.
    """

    def __init__(self, answer: Callable[[Seen], Answer]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is for the tests."""

            def _serve(self) -> None:
                seen = Seen(self.command, self.path, dict(self.headers.items()))
                stub.seen.append(seen)
                status, headers, body = stub.answer(seen)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StubServer:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def manifest_requests(self) -> list[Seen]:
        """The requests that reached ``/v2/.../manifests/...`` (not TLS probes or others)."""
        return [seen for seen in self.seen if "/manifests/" in seen.path]


def write_credential_helper(
    directory: Path, name: str, secrets_by_host: Mapping[str, tuple[str, str]]
) -> Path:
    """Write ``docker-credential-<name>`` into ``directory`` (put it on PATH).

    It follows the helper protocol: ``get`` reads a server name on stdin and prints
    ``{"ServerURL", "Username", "Secret"}``, or says "credentials not found" and exits 1.
    Each call appends the server name it was asked for to ``<name>.log`` beside it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"docker-credential-{name}"
    known = json.dumps({host: list(pair) for host, pair in secrets_by_host.items()})
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"known = json.loads({known!r})\n"
        "server = sys.stdin.read().strip()\n"
        f"with open({str(directory / (name + '.log'))!r}, 'a') as log:\n"
        "    log.write(server + '\\n')\n"
        "if sys.argv[1:] != ['get'] or server not in known:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "user, secret = known[server]\n"
        "print(json.dumps({'ServerURL': server, 'Username': user, 'Secret': secret}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script
