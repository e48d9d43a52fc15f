"""A stateful fake Kubernetes API server on 127.0.0.1, for the real ``kubernetes`` client.

It speaks the part of the API that promoter.cluster uses, the way kube-apiserver does:

- discovery: ``/version``, ``/api``, ``/apis`` (APIGroupList), ``/apis/<group>`` (APIGroup),
  ``/api/v1`` and ``/apis/<group>/<version>`` (APIResourceList);
- get, list (``fieldSelector`` on ``metadata.name``/``metadata.namespace``,
  ``labelSelector`` ``k=v``) and watch (``watch=true``: chunked, newline-delimited
  ``{"type", "object"}`` events from ``resourceVersion``, or synthetic ADDED events without
  one; ``timeoutSeconds`` ends the stream; ``allowWatchBookmarks`` adds a closing BOOKMARK;
  a resourceVersion older than ``compact()`` gets the ERROR event with a 410 ``Expired``
  Status) for Flux Kustomizations and HelmReleases, ``apps/v1`` Deployments, StatefulSets,
  DaemonSets, ``batch/v1`` CronJobs and Jobs, and Pods;
- bearer-token auth (401 ``Unauthorized`` Status for another token), 403 ``Forbidden`` for
  the namespaces in ``forbidden_namespaces``, 404 ``NotFound`` Status objects for missing
  objects and ``404 page not found`` for paths it does not serve (a Flux version turned off).

Objects get ``uid``, ``resourceVersion`` (one counter for all, as etcd's revision),
``creationTimestamp`` and ``generation`` (bumped when ``spec`` changes) like the API server
does. Tests change objects with ``apply``/``set_status``/``delete`` while a watch is open.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SERVICE_ACCOUNT = "system:serviceaccount:ci:promoter"
CREATED = "2024-05-01T10:00:00Z"


@dataclass(frozen=True)
class _Kind:
    kind: str
    group: str
    plural: str
    short: tuple[str, ...] = ()


KINDS = (
    _Kind("Pod", "", "pods", ("po",)),
    _Kind("Deployment", "apps", "deployments", ("deploy",)),
    _Kind("StatefulSet", "apps", "statefulsets", ("sts",)),
    _Kind("DaemonSet", "apps", "daemonsets", ("ds",)),
    _Kind("CronJob", "batch", "cronjobs", ("cj",)),
    _Kind("Job", "batch", "jobs"),
    _Kind("Kustomization", KUSTOMIZE_GROUP, "kustomizations", ("ks",)),
    _Kind("HelmRelease", HELM_GROUP, "helmreleases", ("hr",)),
)
BY_KIND = {k.kind: k for k in KINDS}
BY_PLURAL = {(k.group, k.plural): k for k in KINDS}
DEFAULT_SERVED: dict[str, tuple[str, ...]] = {
    "": ("v1",),
    "apps": ("v1",),
    "batch": ("v1",),
    KUSTOMIZE_GROUP: ("v1", "v1beta2"),
    HELM_GROUP: ("v2", "v2beta2", "v2beta1"),
}


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None):
    """A ``v1 Status`` object as the API server writes it for a failed request."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


class FakeKube:
    """The fake API server; ``with FakeKube() as kube:`` runs it on a free local port."""

    def __init__(
        self,
        *,
        token: str = "fake-bearer-9f8e7d6c5b4a",
        served: Mapping[str, Sequence[str]] | None = None,
        forbidden_namespaces: Iterable[str] = (),
    ) -> None:
        self.token = token
        self.served = {g: tuple(v) for g, v in (served or DEFAULT_SERVED).items()}
        self.forbidden_namespaces = set(forbidden_namespaces)
        self.forbidden_detail = ""
        """Appended to 403 messages (a proxy that echoes a header, say)."""
        self.delay = 0.0
        self.requests: list[str] = []
        self._objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._events: list[tuple[int, tuple[str, str, str, str], str, dict[str, Any]]] = []
        self._revision = 1000
        self._compacted = 0
        self._stopping = False
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> FakeKube:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve on 127.0.0.1 at a free port, in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """End open watches and stop serving."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- state ----------------------------------------------------------------------------

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace an object (server-side fields filled in); returns it as stored."""
        new = copy.deepcopy(dict(obj))
        kind = BY_KIND[new["kind"]]
        meta = new.setdefault("metadata", {})
        key = (kind.group, kind.plural, meta.get("namespace", "default"), meta["name"])
        meta.setdefault("namespace", key[2])
        with self._cond:
            old = self._objects.get(key)
            if "generation" not in meta:
                if old is None:
                    meta["generation"] = 1
                else:
                    changed = old.get("spec") != new.get("spec")
                    meta["generation"] = old["metadata"]["generation"] + (1 if changed else 0)
            meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else CREATED
            self._record(key, "MODIFIED" if old else "ADDED", new)
            return copy.deepcopy(new)

    def set_status(self, kind: str, namespace: str, name: str, status: Mapping[str, Any]):
        """Replace an object's ``status`` (as a controller does: no generation bump)."""
        return self.update(kind, namespace, name, lambda o: o.__setitem__("status", dict(status)))

    def update(self, kind: str, namespace: str, name: str, change: Callable[[dict], object]):
        """Change a stored object in place with ``change`` (generation kept) and notify."""
        k = BY_KIND[kind]
        key = (k.group, k.plural, namespace, name)
        with self._cond:
            obj = copy.deepcopy(self._objects[key])
            change(obj)
            self._record(key, "MODIFIED", obj)
            return copy.deepcopy(obj)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete an object (a DELETED event for watchers)."""
        k = BY_KIND[kind]
        key = (k.group, k.plural, namespace, name)
        with self._cond:
            obj = self._objects.pop(key)
            self._revision += 1
            obj["metadata"]["resourceVersion"] = str(self._revision)
            self._events.append((self._revision, key, "DELETED", obj))
            self._cond.notify_all()

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """The stored object."""
        k = BY_KIND[kind]
        with self._cond:
            return copy.deepcopy(self._objects[(k.group, k.plural, namespace, name)])

    def compact(self) -> None:
        """Forget history: watches from an older resourceVersion get 410 Expired."""
        with self._cond:
            self._compacted = self._revision

    def watch_requests(self) -> list[str]:
        """The watch requests received so far."""
        return [
            r for r in self.requests if _flag(parse_qs(urlsplit(r).query).get("watch", [""])[-1])
        ]

    def wait_for_watches(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` watch requests have arrived (so that a test changes objects
        while a watch is open)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.watch_requests()) >= count, timeout):
                raise AssertionError(f"fewer than {count} watches after {timeout}s")

    def _record(self, key: tuple[str, str, str, str], type_: str, obj: dict[str, Any]) -> None:
        self._revision += 1
        obj["metadata"]["resourceVersion"] = str(self._revision)
        self._objects[key] = obj
        self._events.append((self._revision, key, type_, copy.deepcopy(obj)))
        self._cond.notify_all()

    # -- requests -------------------------------------------------------------------------

    def handle(self, request: _Handler) -> None:
        """Answer one GET request."""
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._cond:
            self.requests.append(request.path)
            self._cond.notify_all()
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            request.send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        segments = [s for s in parts.path.split("/") if s]
        if not _flag(query.get("watch")) and self.delay:
            time.sleep(self.delay)
        answer = self._discovery(segments)
        if answer is not None:
            request.send_json(200, answer)
            return
        self._resource(request, segments, query)

    def _discovery(self, segments: list[str]) -> dict[str, Any] | None:
        if segments == ["version"]:
            return {"major": "1", "minor": "30", "gitVersion": "v1.30.2", "platform": "linux/amd64"}
        if segments == ["api"]:
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
                ],
            }
        if segments == ["apis"]:
            groups = [self._group(g) for g in self.served if g]
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if len(segments) == 2 and segments[0] == "apis" and segments[1] in self.served:
            return {"kind": "APIGroup", "apiVersion": "v1", **self._group(segments[1])}
        if segments == ["api", "v1"]:
            return self._resource_list("", "v1")
        if len(segments) == 3 and segments[0] == "apis":
            group, version = segments[1], segments[2]
            if version in self.served.get(group, ()):
                return self._resource_list(group, version)
        return None

    def _group(self, group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.served[group]]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources = [
            {
                "name": k.plural,
                "singularName": k.kind.lower(),
                "namespaced": True,
                "kind": k.kind,
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                "shortNames": list(k.short),
            }
            for k in KINDS
            if k.group == group
        ]
        group_version = f"{group}/{version}" if group else version
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }

    def _resource(self, request: _Handler, segments: list[str], query: dict[str, str]) -> None:
        if segments[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", segments[2:]
        elif segments[:1] == ["apis"] and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            request.send_text(404, "404 page not found\n")
            return
        if len(rest) not in (3, 4) or rest[0] != "namespaces":
            request.send_text(404, "404 page not found\n")
            return
        namespace, plural = rest[1], rest[2]
        name = rest[3] if len(rest) == 4 else None
        kind = BY_PLURAL.get((group, plural))
        if kind is None or version not in self.served.get(group, ()):
            request.send_text(404, "404 page not found\n")
            return
        resource = f"{plural}.{group}" if group else plural
        watch = _flag(query.get("watch"))
        if namespace in self.forbidden_namespaces:
            verb = "get" if name else "watch" if watch else "list"
            subject = f'{resource} "{name}"' if name else resource
            message = (
                f'{subject} is forbidden: User "{SERVICE_ACCOUNT}" cannot {verb} resource '
                f'"{plural}" in API group "{group}" in the namespace "{namespace}"'
                f"{self.forbidden_detail}"
            )
            details = {"name": name, "group": group, "kind": plural} if name else None
            request.send_json(403, status_body(403, "Forbidden", message, details))
            return
        api_version = f"{group}/{version}" if group else version
        if name is not None:
            with self._cond:
                obj = self._objects.get((group, plural, namespace, name))
            if obj is None:
                message = f'{resource} "{name}" not found'
                details = {"name": name, "group": group, "kind": plural}
                request.send_json(404, status_body(404, "NotFound", message, details))
                return
            request.send_json(200, _served(obj, api_version))
            return
        selector = _selector(query)
        if watch:
            self._watch(request, (group, plural, namespace), api_version, selector, query)
            return
        with self._cond:
            items = [
                o
                for (g, p, ns, _), o in sorted(self._objects.items())
                if (g, p, ns) == (group, plural, namespace) and selector(o)
            ]
            revision = self._revision
        # Built-in kinds' list items carry no apiVersion/kind; custom resources' do.
        builtin = group in ("", "apps", "batch")
        body = {
            "apiVersion": api_version,
            "kind": f"{kind.kind}List",
            "metadata": {"resourceVersion": str(revision)},
            "items": [_served(o, api_version, typed=not builtin) for o in items],
        }
        request.send_json(200, body)

    def _watch(
        self,
        request: _Handler,
        where: tuple[str, str, str],
        api_version: str,
        selector: Callable[[Mapping[str, Any]], bool],
        query: dict[str, str],
    ) -> None:
        deadline = time.monotonic() + min(int(query.get("timeoutSeconds") or 30), 60)
        since_text = query.get("resourceVersion") or ""
        request.start_stream()
        try:
            with self._cond:
                if since_text in ("", "0"):
                    since = self._revision
                    first = [
                        ("ADDED", o)
                        for (g, p, ns, _), o in sorted(self._objects.items())
                        if (g, p, ns) == where and selector(o)
                    ]
                elif int(since_text) < self._compacted:
                    message = f"too old resource version: {since_text} ({self._compacted})"
                    request.send_chunk(
                        {"type": "ERROR", "object": status_body(410, "Expired", message)}
                    )
                    request.end_stream()
                    return
                else:
                    since, first = int(since_text), []
            for type_, obj in first:
                request.send_chunk({"type": type_, "object": _served(obj, api_version)})
            while True:
                with self._cond:
                    events = [
                        (rv, t, o)
                        for rv, (g, p, ns, _), t, o in self._events
                        if rv > since and (g, p, ns) == where and selector(o)
                    ]
                    if not events:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or self._stopping:
                            revision = self._revision
                            break
                        self._cond.wait(min(remaining, 0.2))
                        continue
                for rv, type_, obj in events:
                    request.send_chunk({"type": type_, "object": _served(obj, api_version)})
                    since = rv
            if _flag(query.get("allowWatchBookmarks")):
                kind = BY_PLURAL[where[:2]].kind
                bookmark = {
                    "apiVersion": api_version,
                    "kind": kind,
                    "metadata": {"resourceVersion": str(revision)},
                }
                request.send_chunk({"type": "BOOKMARK", "object": bookmark})
            request.end_stream()
        except (BrokenPipeError, ConnectionResetError):
            request.close_connection = True


def _flag(value: str | None) -> bool:
    """A boolean query parameter as the API server parses it (Go's strconv.ParseBool)."""
    return value in ("1", "t", "T", "TRUE", "true", "True")


def _served(obj: Mapping[str, Any], api_version: str, *, typed: bool = True) -> dict[str, Any]:
    served = copy.deepcopy(dict(obj))
    if typed:
        served["apiVersion"] = api_version
    else:
        served.pop("apiVersion", None)
        served.pop("kind", None)
    return served


def _selector(query: Mapping[str, str]) -> Callable[[Mapping[str, Any]], bool]:
    fields = dict(
        term.split("=", 1) for term in (query.get("fieldSelector") or "").split(",") if term
    )
    labels = dict(
        term.split("=", 1) for term in (query.get("labelSelector") or "").split(",") if term
    )

    def matches(obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        for field, value in fields.items():
            if meta.get(field.removeprefix("metadata.")) != value:
                return False
        have = meta.get("labels") or {}
        return all(have.get(k) == v for k, v in labels.items())

    return matches


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up (timeouts, TLS to plain HTTP) are part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_GET(self) -> None:
        self.server.fake.handle(self)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_json(self, code: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def send_chunk(self, event: Mapping[str, Any]) -> None:
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_kubeconfig(path: Path, kube: FakeKube, *, current: str | None = "fake") -> Path:
    """A kubeconfig with contexts ``fake`` (the server, its token), ``badtoken`` (the server,
    another token), ``down`` (a closed port: unreachable) and ``tls`` (https to the plain-HTTP
    server: the TLS handshake fails); ``current`` is the current context."""
    port = closed_port()
    https = kube.url.replace("http://", "https://")
    clusters = {"fake": kube.url, "down": f"http://127.0.0.1:{port}", "tls": https}
    users = {"promoter": kube.token, "intruder": "wrong-token-0123456789"}
    contexts = {
        "fake": ("fake", "promoter"),
        "badtoken": ("fake", "intruder"),
        "down": ("down", "promoter"),
        "tls": ("tls", "promoter"),
    }
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in clusters.items()],
        "users": [{"name": n, "user": {"token": t}} for n, t in users.items()],
        "contexts": [
            {"name": n, "context": {"cluster": c, "user": u, "namespace": "default"}}
            for n, (c, u) in contexts.items()
        ],
    }
    if current is not None:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(name="kube")
def kube_fixture():
    """A running FakeKube."""
    with FakeKube() as server:
        yield server


@pytest.fixture(name="kubeconfig")
def kubeconfig_fixture(tmp_path, kube):
    """A kubeconfig for ``kube`` (see write_kubeconfig), current context ``fake``."""
    return write_kubeconfig(tmp_path / "kubeconfig", kube)
