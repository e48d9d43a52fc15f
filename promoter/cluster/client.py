"""The one door to the Kubernetes API: a client for a kubeconfig context; get, list, watch.

Configuration is found the way kubectl finds it: the file named by ``kubeconfig``, else
``KUBECONFIG`` (a path list), else ``~/.kube/config``; with no such file and no context
asked for, the in-cluster service account (``KUBERNETES_SERVICE_HOST``). Exec plugins and
OIDC work through the official client.

Every call has a timeout, and every failure (no kubeconfig, no such context, connection
refused, timeout, TLS, 401, 403, any other status) becomes a ClusterError whose one line
names the context and the object, and never a credential.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import yaml

from promoter.cluster import _kubernetes
from promoter.cluster.resources import Resource
from promoter.errors import ClusterError

DEFAULT_TIMEOUT = 10.0
"""Seconds to connect and to wait for an answer to one (non-watch) call."""

IN_CLUSTER = "in-cluster"
"""The context name reported for the in-cluster service-account configuration."""

_T = TypeVar("_T")
JSON = dict[str, Any]


@dataclass(frozen=True)
class ObjectList:
    """The objects a list call returned and the resourceVersion to watch from."""

    items: tuple[JSON, ...]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch: ``ADDED``, ``MODIFIED``, ``DELETED``, ``BOOKMARK``, or
    ``EXPIRED`` when the resourceVersion is too old (HTTP 410): list again, then watch."""

    type: str
    object: JSON

    @property
    def resource_version(self) -> str | None:
        """The resourceVersion the event carries, to resume a watch from."""
        metadata = self.object.get("metadata")
        version = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
        return str(version) if version is not None else None


class Cluster:
    """An open client for one kubeconfig context; use it as a context manager to close it."""

    def __init__(self, api_client: Any, context: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._api = api_client
        self.context = context
        self.server = _without_userinfo(str(api_client.configuration.host))
        self.timeout = timeout
        self._groups: dict[str, frozenset[str]] | None = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the client's connections."""
        self._api.close()

    def served_version(self, resource: Resource, what: str = "discover API groups") -> str | None:
        """The first of the resource's versions the API serves, None when it serves none;
        ``what`` names the call that needs it, for the error message."""
        if not resource.discovered:
            return resource.versions[0]
        if self._groups is None:
            k8s = _kubernetes.load()
            apis = k8s.client.ApisApi(self._api)
            body = self._call(
                what,
                lambda: _json(apis.get_api_versions(**self._options())),
            )
            self._groups = {
                str(group.get("name")): frozenset(
                    str(v.get("version")) for v in group.get("versions") or ()
                )
                for group in body.get("groups") or ()
            }
        served = self._groups.get(resource.group, frozenset())
        return next((v for v in resource.versions if v in served), None)

    def get(self, resource: Resource, namespace: str, name: str) -> JSON | None:
        """The object as the API returns it, None when it does not exist (404) or the API
        does not serve its kind."""
        what = f"get {resource} {namespace}/{name}"
        version = self.served_version(resource, what)
        if version is None:
            return None
        k8s = _kubernetes.load()

        def call() -> Any:
            if resource.core:
                core = k8s.client.CoreV1Api(self._api)
                return core.read_namespaced_pod(name, namespace, **self._options())
            custom = k8s.client.CustomObjectsApi(self._api)
            return custom.get_namespaced_custom_object(
                resource.group, version, namespace, resource.plural, name, **self._options()
            )

        try:
            return _json(call())
        except Exception as exc:
            if getattr(exc, "status", None) == 404 and _is_api_exception(k8s, exc):
                return None
            raise self._error(what, exc) from exc

    def list(self, resource: Resource, namespace: str, *, name: str | None = None) -> ObjectList:
        """The objects of a kind in a namespace (only the one named ``name``, if given)."""
        what = f"list {resource} {namespace}/{name or '*'}"
        function, args = self._list_function(resource, namespace, what)
        selector = {"field_selector": f"metadata.name={name}"} if name is not None else {}
        body = self._call(what, lambda: _json(function(*args, **selector, **self._options())))
        metadata = body.get("metadata") or {}
        items = tuple(_with_type(item, body, resource) for item in body.get("items") or ())
        return ObjectList(items, str(metadata.get("resourceVersion") or ""))

    def watch(
        self,
        resource: Resource,
        namespace: str,
        *,
        name: str,
        resource_version: str,
        timeout_seconds: int,
    ) -> Generator[WatchEvent, None, None]:
        """Events for the object named ``name`` after ``resource_version``, for at most
        ``timeout_seconds`` (the server ends the stream then); ``EXPIRED`` on HTTP 410."""
        k8s = _kubernetes.load()
        what = f"watch {resource} {namespace}/{name}"
        function, args = self._list_function(resource, namespace, what)
        watcher = k8s.watch.Watch()
        stream = watcher.stream(
            function,
            *args,
            field_selector=f"metadata.name={name}",
            resource_version=resource_version,
            timeout_seconds=max(1, int(timeout_seconds)),
            allow_watch_bookmarks=True,
            _request_timeout=(self.timeout, timeout_seconds + self.timeout),
        )
        try:
            while True:
                try:
                    event = next(stream)
                except StopIteration:
                    return
                except Exception as exc:
                    if getattr(exc, "status", None) == 410 and _is_api_exception(k8s, exc):
                        yield WatchEvent("EXPIRED", {})
                        return
                    raise self._error(what, exc) from exc
                if isinstance(event, dict) and isinstance(event.get("raw_object"), dict):
                    yield WatchEvent(str(event.get("type")), event["raw_object"])
        finally:
            watcher.stop()
            stream.close()

    def _list_function(
        self, resource: Resource, namespace: str, what: str
    ) -> tuple[Callable[..., Any], tuple[str, ...]]:
        version = self.served_version(resource, what)
        if version is None:
            versions = ", ".join(resource.versions)
            raise ClusterError(
                f"cluster context {self.context!r}: cannot {what}: the API serves no "
                f"{resource} ({resource.group} {versions})"
            )
        k8s = _kubernetes.load()
        if resource.core:
            return k8s.client.CoreV1Api(self._api).list_namespaced_pod, (namespace,)
        custom = k8s.client.CustomObjectsApi(self._api)
        args = (resource.group, version, namespace, resource.plural)
        return custom.list_namespaced_custom_object, args

    def _options(self) -> dict[str, Any]:
        return {"_preload_content": False, "_request_timeout": (self.timeout, self.timeout)}

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except Exception as exc:
            raise self._error(what, exc) from exc

    def _error(self, what: str, exc: Exception) -> ClusterError:
        """Translate anything the client raised into one line without credentials."""
        reason = _reason(_kubernetes.load(), exc, self.server, self.context, self.timeout)
        if reason is None:
            raise exc
        message = f"cluster context {self.context!r}: cannot {what}: {reason}"
        return ClusterError(_scrub(message, _secrets(self._api.configuration)))


def open_cluster(
    context: str | None = None,
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Cluster:
    """A client for ``context`` (None: the current context) as kubectl would configure it."""
    k8s = _kubernetes.load()
    config_file = _kubeconfig(kubeconfig)
    if not any(Path(p).expanduser().is_file() for p in config_file.split(os.pathsep) if p):
        if context is None and kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return _in_cluster(k8s, timeout)
        asked = f" for context {context!r}" if context else ""
        raise ClusterError(f"no kubeconfig{asked}: {config_file} does not exist (set KUBECONFIG)")
    configuration = k8s.client.Configuration()
    try:
        k8s.config.load_kube_config(
            config_file=config_file,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        name = context or str(k8s.config.list_kube_config_contexts(config_file)[1]["name"])
    except (k8s.config.ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
        raise ClusterError(_config_problem(k8s, config_file, context, exc)) from exc
    except yaml.YAMLError as exc:
        raise ClusterError(f"kubeconfig {config_file} is not valid YAML") from exc
    return _client(k8s, configuration, name, timeout)


def _in_cluster(k8s: ModuleType, timeout: float) -> Cluster:
    configuration = k8s.client.Configuration()
    try:
        k8s.config.load_incluster_config(client_configuration=configuration)
    except (k8s.config.ConfigException, OSError) as exc:
        raise ClusterError(f"no kubeconfig and no in-cluster configuration: {exc}") from exc
    return _client(k8s, configuration, IN_CLUSTER, timeout)


def _client(k8s: ModuleType, configuration: Any, name: str, timeout: float) -> Cluster:
    import urllib3

    # Retry refused or reset connections twice; never retry a read that timed out, so
    # that a call ends after about ``timeout`` seconds.
    configuration.retries = urllib3.Retry(total=2, read=0, redirect=0)
    return Cluster(k8s.client.ApiClient(configuration), name, timeout=timeout)


def _kubeconfig(explicit: str | os.PathLike[str] | None) -> str:
    if explicit is not None:
        return os.fspath(explicit)
    return os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def _config_problem(k8s: ModuleType, config_file: str, context: str | None, exc: Exception) -> str:
    text = str(exc)
    if context is not None and f"name {context} " in text + " ":
        try:
            known = sorted(c["name"] for c in k8s.config.list_kube_config_contexts(config_file)[0])
        except Exception:
            known = []
        hint = f" (known: {', '.join(known)})" if known else ""
        return f"kubeconfig {config_file} has no context {context!r}{hint}"
    if "current-context" in text:
        return f"kubeconfig {config_file} names no current context: pass a context"
    return f"kubeconfig {config_file}: cannot load context {context or '(current)'}: {text}"


def _is_api_exception(k8s: ModuleType, exc: Exception) -> bool:
    return isinstance(exc, k8s.client.exceptions.ApiException)


def _reason(
    k8s: ModuleType, exc: Exception, server: str, context: str, timeout: float
) -> str | None:
    """What went wrong, in a few words; None for an exception that is a bug, not a cluster."""
    import urllib3.exceptions as u3

    if _is_api_exception(k8s, exc):
        status = getattr(exc, "status", None)
        message = _status_message(getattr(exc, "body", None))
        if status == 401:
            return f"unauthorized (401): {server} refused the credentials of context {context!r}"
        if status == 403:
            return f"forbidden (403): {message or 'the credentials may not do this'}"
        if status == 404:
            return f"not found (404): {message or 'the API does not serve this path'}"
        return f"HTTP {status} {getattr(exc, 'reason', '') or ''}: {message}".rstrip(": ")
    if isinstance(exc, k8s.config.ConfigException):
        return f"credentials could not be loaded: {exc}"
    cause: BaseException = exc
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        cause = exc.reason
    if isinstance(cause, u3.SSLError):
        return f"TLS with {server} failed: {cause}"
    if isinstance(cause, u3.NewConnectionError):
        found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(cause))
        return f"cannot connect to {server}" + (f" ({found.group(1)})" if found else "")
    if isinstance(cause, u3.ConnectTimeoutError):
        return f"no connection to {server} within {timeout:g}s"
    if isinstance(cause, (u3.ReadTimeoutError, TimeoutError)):
        return f"no answer from {server} within {timeout:g}s"
    if isinstance(cause, (u3.HTTPError, OSError)):
        return f"connection to {server} failed: {type(cause).__name__}"
    if isinstance(cause, json.JSONDecodeError):
        return f"{server} did not answer with JSON"
    return None


def _status_message(body: object) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, else the body's first line."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return ""
    try:
        status = json.loads(body)
    except ValueError:
        return body.strip().splitlines()[0][:200]
    message = status.get("message") if isinstance(status, dict) else None
    return str(message) if message else ""


def _secrets(configuration: Any) -> tuple[str, ...]:
    """Every credential the configuration holds (tokens, passwords), to keep out of text."""
    found: list[str] = []
    for value in (getattr(configuration, "api_key", None) or {}).values():
        text = str(value)
        found += [text, text.split()[-1]] if text.strip() else []
    password = getattr(configuration, "password", None)
    if password:
        found.append(str(password))
    return tuple(s for s in found if len(s) >= 4)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _json(response: Any) -> JSON:
    data = response.data
    body = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    if not isinstance(body, dict):
        raise json.JSONDecodeError("not an object", str(data)[:40], 0)
    return body


def _with_type(item: Mapping[str, Any], body: Mapping[str, Any], resource: Resource) -> JSON:
    """A list item with the apiVersion and kind the API leaves out of list items."""
    version = str(body.get("apiVersion") or "")
    return {"apiVersion": version, "kind": resource.kind, **item}
