"""Small kustomize repositories for tests: YAML builders and hypothesis strategies.

A ``Repo`` is a set of files (repo-relative path -> text) plus the directories to build.
The builders write YAML the way people write it (block scalars for inline patches,
unquoted YAML floats where asked for with ``Raw``); ``repos()`` draws repositories that
combine every form the native reader follows: resources as files, multi-document files,
``List`` files and nested directories, components, ``patchesStrategicMerge`` (file and
inline), ``patches`` (path and inline, SMP and JSON6902, with and without targets),
``patchesJson6902``, ``images`` (newName/newTag/digest), ``namespace``,
``namePrefix``/``nameSuffix``, ``commonLabels`` and all three kustomization file names.

Generated repositories are meant to build, but need not: a test compares them with
``kubectl kustomize``, so a repository kustomize refuses must be refused natively too.
"""

from __future__ import annotations

import copy
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Pod": "v1",
    "Rollout": "argoproj.io/v1alpha1",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
    "Service": "v1",
    "ConfigMap": "v1",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
APP_KINDS = (*WORKLOAD_KINDS, "Rollout", "HelmRelease")

IMAGE_NAMES = (
    "app",
    "nginx",
    "docker.io/library/nginx",
    "ghcr.io/acme/shop",
    "localhost:5000/app",
    "registry.example.com/team/report",
)
TAGS = ("1.0", "1.10", "2.3.4", "v1.2.2.2022-01-15t161730814Z.9eabf5b", "2024.05.1", "1.0-alpine")
DIGESTS = tuple(f"sha256:{c * 64}" for c in "abc")
NAMES = ("web", "api", "worker", "cache")


# -- YAML writing ------------------------------------------------------------------------


class Raw(str):
    """A scalar written exactly as given, unquoted: ``Raw("1.10")`` is a YAML float."""

    __slots__ = ()


class Quoted(str):
    """A string written in double quotes."""

    __slots__ = ()


class Single(str):
    """A string written in single quotes."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: _Dumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style=style)


def _represent_raw(dumper: _Dumper, data: Raw) -> yaml.Node:
    tag = dumper.resolve(yaml.ScalarNode, str(data), (True, False))
    return dumper.represent_scalar(tag, str(data))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Raw, _represent_raw)
_Dumper.add_representer(
    Quoted, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style='"')
)
_Dumper.add_representer(
    Single, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style="'")
)


def dump(*docs: Any) -> str:
    """YAML text of ``docs`` (several documents are separated by ``---``)."""
    return "---\n".join(
        yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
        for doc in docs
    )


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def dump_json(doc: Any) -> str:
    """JSON text of ``doc``; ``Raw`` scalars that are JSON numbers are written bare."""
    raws: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, Raw) and _JSON_NUMBER.fullmatch(value):
            raws.append(str(value))
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(doc), indent=2)
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{index}@@"', raw)
    return text + "\n"


# -- documents ---------------------------------------------------------------------------


def pod_path(kind: str) -> tuple[str, ...]:
    """Keys from a workload document to its pod spec."""
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def pod_pointer(kind: str) -> str:
    """JSON pointer of a workload's pod spec."""
    return "/" + "/".join(pod_path(kind))


def nest(path: Sequence[str], leaf: Any) -> dict[str, Any]:
    """``{"a": {"b": leaf}}`` for path ``("a", "b")``."""
    out: Any = leaf
    for key in reversed(path):
        out = {key: out}
    assert isinstance(out, dict)
    return out


def container(name: str, image: str) -> dict[str, Any]:
    """A container mapping."""
    return {"name": name, "image": image}


def workload(
    kind: str,
    name: str,
    containers: Iterable[tuple[str, str]] = (),
    init: Iterable[tuple[str, str]] = (),
    *,
    labels: dict[str, str] | None = None,
    namespace: str | None = None,
    chart_version: str | None = None,
) -> dict[str, Any]:
    """A workload (or HelmRelease when ``chart_version`` is given) document."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = labels if labels is not None else {"app": name}
    meta["annotations"] = {"owner": name}
    doc: dict[str, Any] = {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": meta}
    if kind == "HelmRelease":
        doc["spec"] = {
            "interval": "10m",
            "chart": {
                "spec": {
                    "chart": name,
                    "version": chart_version,
                    "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                }
            },
        }
        return doc
    pod: dict[str, Any] = {}
    init = list(init)
    if init:
        pod["initContainers"] = [container(n, i) for n, i in init]
    pod["containers"] = [container(n, i) for n, i in containers]
    spec = nest(pod_path(kind)[1:], pod) if kind != "Pod" else pod
    if kind == "CronJob":
        spec = {"schedule": "0 * * * *", **spec}
    elif kind != "Pod":
        spec["template"]["metadata"] = {"labels": {"app": name}}
    doc["spec"] = spec
    return doc


def smp(kind: str, name: str, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    """A strategic merge patch of object ``kind/name`` with ``body`` under ``spec``."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": meta, **body}


def pod_smp(kind: str, name: str, pod: dict[str, Any], namespace: str | None = None) -> dict:
    """A strategic merge patch of a workload's pod spec."""
    return smp(kind, name, nest(pod_path(kind), pod), namespace)


def service(name: str) -> dict[str, Any]:
    """A Service named like a workload (patch targets must tell them apart by kind)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


def image(name: str, tag: str | None = None, digest: str | None = None) -> str:
    """``name[:tag][@digest]``."""
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


# -- repositories --------------------------------------------------------------------------


@dataclass
class Repo:
    """Files of a generated repository and the directories a test should build."""

    files: dict[str, str] = field(default_factory=dict)
    builds: list[str] = field(default_factory=list)

    def add(self, path: str, text: str) -> str:
        """Add (or replace) a file; returns its path."""
        self.files[path] = text
        return path

    def kustomization(self, directory: str, body: dict[str, Any], name: str | None = None) -> str:
        """Write ``directory``'s kustomization file (``kustomization.yaml`` by default)."""
        return self.add(posixpath.join(directory, name or KUSTOMIZATION_FILES[0]), dump(body))

    def write(self, root: Path) -> Path:
        """Write every file under ``root``."""
        for rel, text in self.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    def tree(self) -> str:
        """Every file with its content, for failure messages."""
        parts = [f"builds: {', '.join(self.builds)}"]
        for rel in sorted(self.files):
            body = self.files[rel]
            numbered = "\n".join(f"{n:3} | {line}" for n, line in enumerate(body.splitlines(), 1))
            parts.append(f"=== {rel}\n{numbered}")
        return "\n".join(parts)


# -- hypothesis strategies ------------------------------------------------------------------


@dataclass
class _Obj:
    """What the generator knows of an object while drawing later layers."""

    kind: str
    names: list[str]
    namespace: str | None = None
    containers: list[str] = field(default_factory=list)
    init: list[str] = field(default_factory=list)
    ids: list[tuple[str, str | None]] = field(default_factory=list)
    """Every (name, namespace) the object has had: what untargeted patches match."""

    def __post_init__(self) -> None:
        self.ids = self.ids or [(self.names[-1], self.namespace)]

    def moved(self, name: str, namespace: str | None) -> None:
        """Record a new name or namespace."""
        if name != self.name:
            self.names.append(name)
        self.namespace = namespace
        if (name, namespace) != self.ids[-1]:
            self.ids.append((name, namespace))

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def original(self) -> str:
        return self.names[0]


Draw = Callable[[st.SearchStrategy[Any]], Any]

images_refs = st.builds(
    image,
    st.sampled_from(IMAGE_NAMES),
    st.one_of(st.none(), st.sampled_from(TAGS)),
    st.one_of(st.none(), st.sampled_from(DIGESTS)),
)
"""Image references: names with registries and ports, tags, digests, tag + digest."""

chart_versions = st.sampled_from(
    (Raw("5.2.1"), Raw("1.10"), Quoted("1.10"), Raw("6.0"), Single("2.0"), Raw("7"),
     Raw("v1.2.2.2022-01-15t161730814Z.9eabf5b"))
)  # fmt: skip
"""Chart versions as written: YAML floats and ints, quoted strings, odd strings."""


def _styled(draw: Draw, text: str) -> str:
    return str(draw(st.sampled_from((str, Quoted, Single)))(text))


# (what, form) of a transformation, and the phase kustomize applies each form in.
_FORMS = (
    ("images", "images"),
    *(("smp", f) for f in ("psm-file", "psm-inline", "psm-json", "path", "inline")),
    *(("smp", f) for f in ("path-t", "inline-t")),
    *(("json6902", f) for f in ("pj-file", "pj-inline", "j-path", "j-json-path", "j-inline")),
    ("json6902", "j-inline-json"),
)
_PHASES = {
    "psm-file": 0,
    "psm-inline": 0,
    "psm-json": 0,
    "j-inline-json": 1,
    "path": 1,
    "inline": 1,
    "path-t": 1,
    "inline-t": 1,
    "j-path": 1,
    "j-json-path": 1,
    "j-inline": 1,
    "pj-file": 2,
    "pj-inline": 2,
    "images": 3,
}


class _Gen:
    """Draws one repository; methods add files and return kustomization fields."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.repo = Repo()
        self.count = 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}-{self.count}"

    def kfile(self, directory: str, body: dict[str, Any]) -> None:
        name = self.draw(st.sampled_from(KUSTOMIZATION_FILES))
        self.repo.kustomization(directory, body, name)

    # -- base ----------------------------------------------------------------------------

    def new_obj(self, kind: str, name: str) -> tuple[_Obj, dict[str, Any]]:
        draw = self.draw
        namespace = "explicit" if draw(st.integers(0, 4)) == 0 else None
        if kind == "HelmRelease":
            doc = workload(kind, name, namespace=namespace, chart_version=draw(chart_versions))
            return _Obj(kind, [name], namespace), doc
        n = draw(st.integers(1, 3))
        names = [name if draw(st.booleans()) else "main", "sidecar", "proxy"][:n]
        if names[0] != name and draw(st.booleans()):
            names = [*names[1:], name] if n > 1 else names
        init_names = ["migrate"] if draw(st.booleans()) else []
        containers = [(c, _styled(draw, draw(images_refs))) for c in names]
        init = [(c, draw(images_refs)) for c in init_names]
        doc = workload(kind, name, containers, init, namespace=namespace)
        return _Obj(kind, [name], namespace, list(names), list(init_names)), doc

    def base(self, directory: str) -> list[_Obj]:
        draw = self.draw
        kinds = draw(st.lists(st.sampled_from(APP_KINDS), min_size=1, max_size=3))
        names = draw(st.lists(st.sampled_from(NAMES), min_size=len(kinds), max_size=len(kinds)))
        objs: list[_Obj] = []
        docs: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for kind, name in zip(kinds, names, strict=True):
            if (kind, name) in seen:
                continue
            seen.add((kind, name))
            obj, doc = self.new_obj(kind, name)
            objs.append(obj)
            docs.append(doc)
            if kind == "Deployment" and draw(st.booleans()):
                docs.append(service(name))
        layout = draw(st.sampled_from(("one-file", "files", "nested", "list")))
        body: dict[str, Any] = {}
        if draw(st.booleans()):
            body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
        resources: list[str] = []
        if layout == "one-file":
            resources.append(self.repo.add(f"{directory}/all.yaml", dump(*docs)))
        elif layout == "list":
            resources.append(
                self.repo.add(f"{directory}/list.yaml", dump({"apiVersion": "v1", "kind": "List",
                                                               "items": docs}))
            )  # fmt: skip
        elif layout == "files":
            for doc in docs:
                sub = draw(st.sampled_from(("", "manifests/")))
                resources.append(
                    self.repo.add(f"{directory}/{sub}{doc['kind'].lower()}-"
                                  f"{doc['metadata']['name']}.yaml", dump(doc))
                )  # fmt: skip
        else:
            split = draw(st.integers(0, len(docs)))
            inner = f"{directory}/apps"
            inner_body: dict[str, Any] = {"resources": []}
            for doc in docs[:split]:
                inner_body["resources"].append(
                    f"{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"
                )
                self.repo.add(f"{inner}/{inner_body['resources'][-1]}", dump(doc))
            inner_objs = [
                o
                for o in objs
                if any(
                    d["kind"] == o.kind and d["metadata"]["name"] == o.name for d in docs[:split]
                )
            ]
            inner_body.update(self.layer_options(inner_objs, inner, allow_namespace=False))
            self.kfile(inner, inner_body)
            resources.append(draw(st.sampled_from(("apps", "apps/", "./apps"))))
            if docs[split:]:
                resources.append(self.repo.add(f"{directory}/rest.yaml", dump(*docs[split:])))
            resources = [r.removeprefix(f"{directory}/") for r in resources]
        body["resources"] = [r.removeprefix(f"{directory}/") for r in resources]
        body.update(self.transforms(directory, objs, ops=draw(st.integers(0, 2))))
        body.update(self.layer_options(objs, directory))
        self.kfile(directory, body)
        return objs

    # -- layers ------------------------------------------------------------------------------

    def layer_options(
        self, objs: list[_Obj], directory: str, *, allow_namespace: bool = True
    ) -> dict[str, Any]:
        """namespace, namePrefix/nameSuffix and commonLabels; renames ``objs``."""
        draw = self.draw
        out: dict[str, Any] = {}
        if allow_namespace and draw(st.integers(0, 3)) == 0:
            out["namespace"] = draw(st.sampled_from(("team-a", "team-b")))
        prefix = draw(st.sampled_from(("", "", "p-", "eu-")))
        suffix = draw(st.sampled_from(("", "", "-s", "-v2")))
        if prefix:
            out["namePrefix"] = prefix
        if suffix:
            out["nameSuffix"] = suffix
        labels = draw(st.sampled_from(("", "", "commonLabels", "labels")))
        if labels == "commonLabels":
            out["commonLabels"] = {"tier": posixpath.basename(directory)}
        elif labels == "labels":
            out["labels"] = [{"pairs": {"tier": posixpath.basename(directory)},
                              "includeSelectors": draw(st.booleans())}]  # fmt: skip
        if draw(st.integers(0, 4)) == 0:
            out["commonAnnotations"] = {"owner": "team"}
        for obj in objs:
            obj.moved(f"{prefix}{obj.name}{suffix}", out.get("namespace", obj.namespace))
        return out

    def transforms(self, directory: str, objs: list[_Obj], ops: int) -> dict[str, Any]:
        """Draw ``ops`` patches / images entries; returns the kustomization fields."""
        body: dict[str, Any] = {}
        chosen = [self.draw(st.sampled_from(_FORMS)) for _ in range(ops)]
        # Draw contents in the order kustomize applies them, so that what the generator
        # believes about containers holds when a later patch is drawn.
        for what, form in sorted(chosen, key=lambda choice: _PHASES[choice[1]]):
            if what == "images":
                body.setdefault("images", []).append(self.images_entry(objs))
            elif objs:
                obj = self.draw(st.sampled_from(objs))
                if what == "smp":
                    self.add_smp(directory, body, obj, form)
                else:
                    self.add_json6902(directory, body, obj, form)
        return body

    def images_entry(self, objs: list[_Obj]) -> dict[str, Any]:
        draw = self.draw
        entry: dict[str, Any] = {"name": draw(st.sampled_from(IMAGE_NAMES))}
        fields = draw(st.sampled_from(("t", "n", "d", "nt", "td", "nd", "ntd")))
        if "n" in fields:
            entry["newName"] = draw(st.sampled_from(IMAGE_NAMES))
        if "t" in fields:
            entry["newTag"] = _styled(draw, draw(st.sampled_from(TAGS)))
        if "d" in fields:
            entry["digest"] = draw(st.sampled_from(DIGESTS))
        return entry

    def target(self, obj: _Obj) -> dict[str, Any]:
        draw = self.draw
        form = draw(
            st.sampled_from(
                ("kind-name", "gvk-name", "labels", "regex", "original", "annotations", "ns")
            )
        )
        group, _, version = API_VERSIONS[obj.kind].rpartition("/")
        if form == "annotations":
            return {"kind": obj.kind, "annotationSelector": f"owner={obj.original}"}
        if form == "ns":
            return {"kind": obj.kind, "name": obj.name, "namespace": obj.namespace or "default"}
        if form == "kind-name":
            return {"kind": obj.kind, "name": obj.name}
        if form == "original":
            return {"kind": obj.kind, "name": obj.original}
        if form == "gvk-name":
            return {"group": group, "version": version, "kind": obj.kind, "name": obj.name}
        if form == "labels":
            return {"kind": obj.kind, "labelSelector": f"app={obj.original}"}
        return {"kind": obj.kind, "name": f".*{obj.original}.*"}

    def patch_name(self, obj: _Obj) -> tuple[str, str | None]:
        """A name (and namespace) an untargeted SMP may use: any id the object has had."""
        name, namespace = self.draw(st.sampled_from(obj.ids))
        if namespace == "default" and self.draw(st.booleans()):
            namespace = None  # no namespace and "default" are the same to kustomize
        return name, namespace

    def add_smp(self, directory: str, body: dict[str, Any], obj: _Obj, form: str) -> None:
        draw = self.draw
        name, namespace = self.patch_name(obj)
        if obj.kind == "HelmRelease":
            version = draw(chart_versions)
            chart = {"spec": {"chart": {"spec": {"version": version}}}}
            doc = smp(obj.kind, name, chart, namespace)
        else:
            change = draw(st.sampled_from(("image", "init", "add", "delete")))
            pod: dict[str, Any]
            if change == "init":
                new = draw(st.sampled_from([*obj.init, "init2"]))
                pod = {"initContainers": [container(new, draw(images_refs))]}
                obj.init = [new, *[i for i in obj.init if i != new]]
            elif change == "add" or not obj.containers:
                new = self.fresh("extra")
                pod = {"containers": [container(new, draw(images_refs))]}
                obj.containers = [new] if obj.kind == "Rollout" else [new, *obj.containers]
            elif change == "delete":
                gone = draw(st.sampled_from(obj.containers))
                pod = {"containers": [{"name": gone, "$patch": "delete"}]}
                obj.containers.remove(gone)
            else:
                which = draw(st.sampled_from(obj.containers))
                pod = {"containers": [container(which, _styled(draw, draw(images_refs)))]}
                if obj.kind == "Rollout":
                    obj.containers = [which]
                else:
                    obj.containers = [which, *[c for c in obj.containers if c != which]]
            doc = pod_smp(obj.kind, name, pod, namespace)
        if form in ("psm-file", "path", "path-t"):
            path = self.repo.add(f"{directory}/{self.fresh('smp')}.yaml", dump(doc))
            rel = posixpath.relpath(path, directory)
            if form == "psm-file":
                body.setdefault("patchesStrategicMerge", []).append(rel)
                return
            entry: dict[str, Any] = {"path": rel}
        elif form == "psm-inline":
            body.setdefault("patchesStrategicMerge", []).append(dump(doc))
            return
        elif form == "psm-json":
            one_line = Single(json.dumps(doc, separators=(", ", ": ")))
            body.setdefault("patchesStrategicMerge", []).append(one_line)
            return
        else:
            entry = {"patch": dump(doc)}
        if form.endswith("-t"):
            entry["target"] = self.target(obj)
        body.setdefault("patches", []).append(entry)

    def add_json6902(self, directory: str, body: dict[str, Any], obj: _Obj, form: str) -> None:
        draw = self.draw
        if obj.kind == "HelmRelease":
            op = draw(st.sampled_from(("replace", "add")))
            ops = [{"op": op, "path": "/spec/chart/spec/version", "value": draw(chart_versions)}]
        else:
            pod = pod_pointer(obj.kind)
            change = draw(st.sampled_from(("image", "container", "add", "init")))
            size = len(obj.containers)
            index = draw(st.integers(0, max(size - 1, 0)))
            if change == "image":
                ops = [{"op": "replace", "path": f"{pod}/containers/{index}/image",
                        "value": draw(images_refs)}]  # fmt: skip
            elif change == "container" and size:
                new = self.fresh("whole")
                ops = [{"op": "replace", "path": f"{pod}/containers/{index}",
                        "value": container(new, draw(images_refs))}]  # fmt: skip
                obj.containers[index] = new
            elif change == "init" and obj.init:
                ops = [{"op": "replace", "path": f"{pod}/initContainers/0/image",
                        "value": draw(images_refs)}]  # fmt: skip
            else:
                new = self.fresh("extra")
                where = draw(st.sampled_from(("-", "0")))
                ops = [{"op": "add", "path": f"{pod}/containers/{where}",
                        "value": container(new, draw(images_refs))}]  # fmt: skip
                obj.containers.insert(len(obj.containers) if where == "-" else 0, new)
        if form in ("pj-file", "j-path"):
            path = self.repo.add(f"{directory}/{self.fresh('ops')}.yaml", dump(ops))
            entry: dict[str, Any] = {"path": posixpath.relpath(path, directory)}
        elif form == "j-json-path":
            path = self.repo.add(f"{directory}/{self.fresh('ops')}.json", dump_json(ops))
            entry = {"path": posixpath.relpath(path, directory)}
        elif form == "j-inline-json":
            style = self.draw(st.sampled_from((Single, Quoted)))
            entry = {"patch": style(dump_json(ops).replace("\n", " ").strip())}
        else:
            entry = {"patch": dump(ops)}
        if form.startswith("pj"):
            group, _, version = API_VERSIONS[obj.kind].rpartition("/")
            target = {"version": version, "kind": obj.kind, "name": obj.name}
            if group:
                target = {"group": group, **target}
            body.setdefault("patchesJson6902", []).append({"target": target, **entry})
        else:
            body.setdefault("patches", []).append({**entry, "target": self.target(obj)})

    def component(self, objs: list[_Obj]) -> str:
        directory = f"components/{self.fresh('c')}"
        body: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1alpha1",
                                "kind": "Component"}  # fmt: skip
        if self.draw(st.booleans()):
            obj, doc = self.new_obj(self.draw(st.sampled_from(APP_KINDS)), "extra")
            if not any(o.kind == obj.kind and o.name == "extra" for o in objs):
                body["resources"] = [posixpath.basename(self.repo.add(f"{directory}/extra.yaml",
                                                                      dump(doc)))]  # fmt: skip
                objs.append(obj)
        body.update(self.transforms(directory, objs, ops=self.draw(st.integers(1, 2))))
        self.kfile(directory, body)
        return directory

    def overlay(self, directory: str, parent: str, objs: list[_Obj]) -> None:
        draw = self.draw
        body: dict[str, Any] = {}
        key = "bases" if draw(st.integers(0, 7)) == 0 else "resources"
        body[key] = [posixpath.relpath(parent, directory)]
        if draw(st.integers(0, 2)) == 0:
            body["components"] = [posixpath.relpath(self.component(objs), directory)]
        body.update(self.transforms(directory, objs, ops=draw(st.integers(0, 4))))
        body.update(self.layer_options(objs, directory))
        self.kfile(directory, body)
        self.repo.builds.append(directory)


@st.composite
def repos(draw: Draw) -> Repo:
    """A repository: a base and one to three overlays (siblings or a chain)."""
    gen = _Gen(draw)
    objs = gen.base("base")
    gen.repo.builds.append("base")
    states = {"base": objs}
    for stage in ("dev", "staging", "prod")[: draw(st.integers(1, 3))]:
        parent = draw(st.sampled_from(sorted(states)))
        mine = copy.deepcopy(states[parent])
        directory = f"envs/{stage}"
        gen.overlay(directory, parent, mine)
        states[directory] = mine
    return gen.repo
