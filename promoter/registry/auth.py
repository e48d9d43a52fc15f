"""Credentials as users already have them: the docker config file and its helpers.

Where docker looks, promoter looks: ``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``.  For a registry host, ``credHelpers[host]`` names a helper, else
``credsStore`` does; a helper is the program ``docker-credential-<name>``, asked with
``get`` and the host on stdin, answering JSON (``Username``, ``Secret``; the user name
``<token>`` marks an identity token).  Without a helper answer, an ``auths`` entry is used
(``auth`` base64 ``user:password``, or ``username``/``password``, ``identitytoken``,
``registrytoken``).  Without any, requests are anonymous.

Secrets never reach a message, a log or an exception: ``Credentials`` hides them from
``repr`` and carries ``source``, a description of where they came from, for messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.errors import RegistryError
from promoter.registry.reference import DOCKER_HUB_ALIASES

DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
"""The key docker writes Docker Hub's credentials under (in ``auths`` and for helpers)."""
HELPER_TIMEOUT = 30.0
_TOKEN_USER = "<token>"


@dataclass(frozen=True)
class Credentials:
    """What to log in with: a user and password, an identity token, or a registry token.

    ``source`` says where they came from (``docker config auths``,
    ``docker-credential-pass``); it is safe to print, the rest is not.
    """

    source: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    registry_token: str | None = field(default=None, repr=False)

    @property
    def basic(self) -> tuple[str, str] | None:
        """(user, password) for basic auth, when there is a password."""
        if self.username is not None and self.password is not None:
            return self.username, self.password
        return None


@dataclass(frozen=True)
class Challenge:
    """A ``WWW-Authenticate`` challenge: ``Bearer`` with realm/service/scope, or ``Basic``."""

    scheme: str
    params: Mapping[str, str]

    @property
    def realm(self) -> str | None:
        """The token endpoint (Bearer) or the protection space's name (Basic)."""
        return self.params.get("realm")


_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``Bearer realm="...",service="...",scope="..."`` (or ``Basic realm=...``)."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        key.lower(): quoted.replace('\\"', '"') if quoted else bare
        for key, quoted, bare in _PARAM.findall(rest)
    }
    return Challenge(scheme=scheme.capitalize(), params=params)


def docker_config_path(location: Path | None = None) -> Path:
    """The docker config file: ``location`` (a file or a directory), else where docker looks."""
    if location is not None:
        return location / "config.json" if location.is_dir() else location
    directory = os.environ.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path.home() / ".docker" / "config.json"


def _host_of(key: str) -> str:
    """``https://host:port/v1/`` (as older docker wrote keys) -> ``host:port``."""
    host = re.sub(r"^[a-z]+://", "", key.strip(), flags=re.IGNORECASE)
    return host.split("/", 1)[0].lower()


def _same_registry(a: str, b: str) -> bool:
    return a == b or (a in DOCKER_HUB_ALIASES and b in DOCKER_HUB_ALIASES)


@dataclass(frozen=True)
class DockerConfig:
    """The credential part of a docker config file (empty when there is none)."""

    path: Path | None = None
    auths: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    creds_store: str | None = None
    cred_helpers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, location: Path | None = None) -> DockerConfig:
        """Read the docker config at ``location`` or where docker looks; empty if absent."""
        path = docker_config_path(location)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{path}: not a readable docker config file") from exc
        if not isinstance(document, dict):
            raise RegistryError(f"{path}: not a docker config file (a JSON object)")
        auths = document.get("auths") or {}
        helpers = document.get("credHelpers") or {}
        store = document.get("credsStore") or None
        return cls(
            path=path,
            auths={str(k): v for k, v in auths.items() if isinstance(v, dict)},
            creds_store=str(store) if store else None,
            cred_helpers={str(k): str(v) for k, v in helpers.items()},
        )

    def helper_for(self, registry: str) -> str | None:
        """The credential helper name docker would ask for ``registry``."""
        for key, name in self.cred_helpers.items():
            if _same_registry(_host_of(key), registry):
                return name
        return self.creds_store

    def credentials(self, registry: str) -> Credentials | None:
        """The credentials docker would use for ``registry`` (as references name it)."""
        helper = self.helper_for(registry)
        if helper:
            found = run_credential_helper(helper, _server_url(registry))
            if found is not None:
                return found
        for key, entry in self.auths.items():
            if _same_registry(_host_of(key), registry):
                credentials = _from_auths_entry(entry, f"docker config auths ({key})")
                if credentials is not None:
                    return credentials
        return None


def _server_url(registry: str) -> str:
    return DOCKER_HUB_CONFIG_KEY if registry in DOCKER_HUB_ALIASES else registry


def _from_auths_entry(entry: Mapping[str, Any], source: str) -> Credentials | None:
    username = entry.get("username")
    password = entry.get("password")
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"]), validate=False).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise RegistryError(f"{source}: the 'auth' value is not base64 user:password") from exc
        username, sep, password = decoded.partition(":")
        if not sep:
            raise RegistryError(f"{source}: the 'auth' value is not base64 user:password")
    identity = entry.get("identitytoken") or None
    registry_token = entry.get("registrytoken") or None
    if not (password or identity or registry_token):
        return None
    return Credentials(
        source=source,
        username=str(username) if username else None,
        password=str(password) if password else None,
        identity_token=str(identity) if identity else None,
        registry_token=str(registry_token) if registry_token else None,
    )


def run_credential_helper(name: str, server: str) -> Credentials | None:
    """Ask ``docker-credential-<name>`` for ``server``'s credentials; None if it has none."""
    program = f"docker-credential-{name}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise RegistryError(
            f"credential helper {program} (named in the docker config) is not on PATH"
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RegistryError(f"credential helper {program} could not be run for {server}") from exc
    if done.returncode != 0:
        # The protocol's "no credentials" answer; any other output may hold anything, so
        # it is not repeated.
        if "credentials not found" in (done.stdout + done.stderr).lower():
            return None
        raise RegistryError(
            f"credential helper {program} failed for {server} (exit {done.returncode})"
        )
    try:
        answer = json.loads(done.stdout)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"credential helper {program} answered no credentials JSON") from exc
    if not secret:
        return None
    if username == _TOKEN_USER:
        return Credentials(source=program, identity_token=secret)
    return Credentials(source=program, username=username, password=secret)
