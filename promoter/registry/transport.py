"""HTTP to registries: which scheme, retries with backoff, and the auth handshake.

``requests`` is imported here and only here; ``promoter.registry`` imports this module when
a ``RegistryClient`` is made, so commands that never touch a registry never load it.

Plain HTTP is used only where docker uses it: loopback hosts (``localhost``, ``127.0.0.1``,
``::1``) and the hosts (or CIDR ranges) a user lists as insecure; there HTTPS is tried
first and HTTP is the fallback.  Every other host is HTTPS only, and credentials are never
sent over plain HTTP to a host that is not allowed it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

import requests

from promoter.errors import RegistryError
from promoter.registry.auth import Challenge, Credentials, parse_challenge
from promoter.registry.backoff import Backoff
from promoter.registry.insecure import allows_plain_http
from promoter.registry.reference import RegistryRef

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "kustomize-promoter"


def describe_failure(response: requests.Response) -> str:
    """One line for an HTTP error: the registry's own error code and message when it sent one."""
    detail = ""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        detail = f"{first.get('code', '')}: {first.get('message', '')}".strip(": ")
    except (ValueError, AttributeError, IndexError, TypeError):
        detail = ""
    detail = " ".join(detail.split())[:200]
    reason = detail or response.reason or "error"
    return f"{reason} (HTTP {response.status_code})"


class Transport:
    """Sends requests to registries, choosing the scheme, retrying and authenticating."""

    def __init__(
        self,
        *,
        credentials: Callable[[str], Credentials | None],
        insecure: Iterable[str] = (),
        backoff: Backoff | None = None,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self._credentials = credentials
        self._insecure = tuple(insecure)
        self._backoff = backoff or Backoff()
        self._timeout = timeout
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._schemes: dict[str, str] = {}
        self._authorization: dict[tuple[str, str], str] = {}
        self._basic: dict[str, str] = {}
        self._found: dict[str, Credentials | None] = {}

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def request(
        self,
        method: str,
        ref: RegistryRef,
        path: str,
        *,
        subject: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """``method`` ``path`` (``/v2/...``, with a query if need be) on ``ref``'s registry.

        Answers a 401 challenge once (basic or bearer), retries 5xx/429 and lost
        connections; returns the final response, whatever its status.  ``subject``
        names the request in error messages (``resolve ghcr.io/o/app:1.2``).
        """
        host = ref.api_host
        response = self._send(method, ref, path, subject, headers, params)
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if challenge is not None and self._authorize(ref, challenge, subject):
                response = self._send(method, ref, path, subject, headers, params)
        if response.status_code in (401, 403):
            found = self._found.get(ref.registry)
            how = f"with credentials from {found.source}" if found else "anonymously"
            raise RegistryError(
                f"{subject}: access denied {how}: {describe_failure(response)} (registry {host})"
            )
        return response

    # --- sending ------------------------------------------------------------------------

    def _url(self, scheme: str, host: str, path: str) -> str:
        return f"{scheme}://{host}{path}"

    def _send(
        self,
        method: str,
        ref: RegistryRef,
        path: str,
        subject: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
    ) -> requests.Response:
        host = ref.api_host
        sent = dict(headers or {})
        authorization = self._authorization.get((host, ref.scope)) or self._basic.get(host)
        if authorization:
            sent["Authorization"] = authorization

        def once() -> requests.Response:
            return self._with_scheme(
                host,
                lambda scheme: self._session.request(
                    method,
                    self._url(scheme, host, path),
                    headers=sent,
                    params=params,
                    timeout=self._timeout,
                ),
            )

        return self._retrying(once, subject, host)

    def _with_scheme(
        self, host: str, send: Callable[[str], requests.Response]
    ) -> requests.Response:
        if host in self._schemes:
            return send(self._schemes[host])
        if not allows_plain_http(host, self._insecure):
            self._schemes[host] = "https"
            return send("https")
        try:
            response = send("https")
        except requests.ConnectionError:  # TLS refused (SSLError) or nothing on HTTPS
            response = send("http")
            self._schemes[host] = "http"
            return response
        self._schemes[host] = "https"
        return response

    def _retrying(
        self, once: Callable[[], requests.Response], subject: str, host: str
    ) -> requests.Response:
        backoff = self._backoff
        for retry in range(max(1, backoff.attempts)):
            last = retry == max(1, backoff.attempts) - 1
            try:
                response = once()
            except requests.exceptions.InvalidURL as exc:
                raise RegistryError(f"{subject}: {host} is not a registry host") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise RegistryError(
                        f"{subject}: cannot reach registry {host}"
                        f" ({type(exc).__name__}, {backoff.attempts} attempts)"
                    ) from exc
                _say_retrying(host, type(exc).__name__, retry, backoff.attempts)
                backoff.sleep(backoff.delay(retry))
                continue
            except requests.RequestException as exc:
                raise RegistryError(
                    f"{subject}: {type(exc).__name__} talking to registry {host}"
                ) from exc
            if response.status_code not in RETRY_STATUSES or last:
                if response.status_code in RETRY_STATUSES:
                    raise RegistryError(
                        f"{subject}: {describe_failure(response)} after"
                        f" {backoff.attempts} attempts (registry {host})"
                    )
                return response
            _say_retrying(host, f"HTTP {response.status_code}", retry, backoff.attempts)
            backoff.sleep(backoff.delay(retry, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- auth ---------------------------------------------------------------------------

    def _credentials_for(self, registry: str) -> Credentials | None:
        if registry not in self._found:
            self._found[registry] = self._credentials(registry)
        return self._found[registry]

    def _authorize(self, ref: RegistryRef, challenge: Challenge, subject: str) -> bool:
        """Set up the Authorization a challenge asks for; False when there is nothing to try."""
        host = ref.api_host
        credentials = self._credentials_for(ref.registry)
        if challenge.scheme == "Basic":
            basic = credentials.basic if credentials else None
            if basic is None or host in self._basic:
                return False
            self._basic[host] = _basic_header(*basic)
            return True
        if challenge.scheme != "Bearer" or not challenge.realm:
            return False
        # A token that was refused (expired, or too narrow) is replaced by a fresh one.
        token = self._token(ref, challenge, credentials, subject)
        self._authorization[(host, ref.scope)] = f"Bearer {token}"
        return True

    def _token(
        self,
        ref: RegistryRef,
        challenge: Challenge,
        credentials: Credentials | None,
        subject: str,
    ) -> str:
        realm = challenge.realm or ""
        parts = urlsplit(realm)
        realm_host = parts.netloc
        if parts.scheme not in ("http", "https") or not realm_host:
            raise RegistryError(f"{subject}: the registry announced no usable token realm")
        if parts.scheme == "http" and not allows_plain_http(realm_host, self._insecure):
            raise RegistryError(
                f"{subject}: the registry's token server {realm_host} uses plain HTTP;"
                " list it as an insecure registry to allow that"
            )
        if credentials is not None and credentials.registry_token:
            return credentials.registry_token
        scope = challenge.params.get("scope") or ref.scope
        service = challenge.params.get("service", "")
        headers: dict[str, str] = {}

        def once() -> requests.Response:
            if credentials is not None and credentials.identity_token:
                return self._session.post(
                    realm,
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": credentials.identity_token,
                        "service": service,
                        "scope": scope,
                        "client_id": USER_AGENT,
                    },
                    timeout=self._timeout,
                )
            params = {"service": service, "scope": scope}
            basic = credentials.basic if credentials else None
            if basic is not None:
                params["account"] = basic[0]
                headers["Authorization"] = _basic_header(*basic)
            return self._session.get(realm, params=params, headers=headers, timeout=self._timeout)

        response = self._retrying(once, subject, realm_host)
        how = f"with credentials from {credentials.source}" if credentials else "anonymously"
        if response.status_code != 200:
            raise RegistryError(
                f"{subject}: token server {realm_host} refused a token {how}:"
                f" {describe_failure(response)}"
            )
        try:
            answer = response.json()
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError) as exc:
            raise RegistryError(f"{subject}: token server {realm_host} sent no JSON") from exc
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{subject}: token server {realm_host} sent no token")
        return token


def _basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _say_retrying(host: str, why: str, retry: int, attempts: int) -> None:
    """Announce a retry (``promoter.progress``): the CLI's spinner says it is retrying."""
    from promoter import progress

    progress.retrying(f"registry {host}: {why}; retrying ({retry + 1} of {attempts - 1})")
