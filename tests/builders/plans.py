"""Builders for the promotion tests: exact-bytes repositories, kubectl renders, and a
hypothesis strategy drawing small pipelines in which every stage sets every version its
own way.

``pipelines()`` draws a base (workloads with init and sidecar containers, a HelmRelease)
and two or three sibling stages declared by ``promoter.yaml`` or labelled Flux
``sync.yaml`` files.  Each stage sets each container's image by inheriting it (from the
base or a component shared by stages), an ``images:`` entry (``newTag``, ``digest``,
both, a registry mirror's ``newName``), a strategic-merge patch file, a JSON6902 patch
file, an inline patch, or its own resource file; the chart version by inheriting it, a
JSON6902 or strategic-merge patch file, or an inline patch.  Files mix dash indentation,
quoting styles, comments, Flux setter markers and CRLF line endings.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIRS = ("base", "pipelines", "image-automation")

TAGS = ("1.0", "1.10", "2.3.4", "v1.2.2.2022-01-15t161730814Z.9eabf5b", "2024.05.1", "7.0", "true")
DIGESTS = tuple(f"sha256:{c * 64}" for c in "abc")
CHART_VERSIONS = ("5.2.1", "1.10", '"1.10"', "6.0", "'2.0'", "7", "v1.2.2.2022-01-15t161730814Z.9e")
HOSTS = ("", "ghcr.io/acme/", "localhost:5000/", "registry.example.com/team/")


# -- files on disk ---------------------------------------------------------------------------


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write every file exactly as given (text is encoded as UTF-8, never translated)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden directories skipped) by repo-relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def example_copy(dest: Path) -> Path:
    """A private copy of the example repository's GitOps directories at ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_DIRS:
        shutil.copytree(PROJECT_ROOT / name, dest / name)
    return dest


def promoter_yaml(pipeline: str, stages: Sequence[tuple[str, str]]) -> str:
    """A ``promoter.yaml`` declaring one pipeline of ``(name, path)`` stages in order."""
    lines = ["pipelines:", f"  - name: {pipeline}", "    stages:"]
    for name, path in stages:
        lines += [f"      - name: {name}", f"        path: {path}"]
    return "\n".join(lines) + "\n"


def sync_yaml(name: str, path: str, pipeline: str, order: int) -> str:
    """A Flux ``Kustomization`` labelled as stage ``order`` of ``pipeline``."""
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  namespace: flux-system\n"
        "  labels:\n"
        f"    pipelines.weave.works/name: {pipeline}\n"
        f'    pipelines.weave.works/stage: "{order}"\n'
        "spec:\n"
        "  interval: 5m\n"
        f"  path: ./{path}\n"
        "  prune: true\n"
        "  sourceRef:\n"
        "    kind: GitRepository\n"
        "    name: flux-system\n"
    )


# -- kubectl ---------------------------------------------------------------------------------


def kubectl_renders(kubectl: str, dirs: Sequence[Path]) -> list[str]:
    """``kubectl kustomize`` of each directory, run side by side; a failure raises."""
    procs = [
        subprocess.Popen(
            [kubectl, "kustomize", str(d)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in dirs
    ]
    done = [proc.communicate(timeout=120) for proc in procs]
    for directory, proc, (_, stderr) in zip(dirs, procs, done, strict=True):
        if proc.returncode != 0:
            raise AssertionError(f"kubectl kustomize {directory} failed: {stderr.strip()}")
    return [stdout for stdout, _ in done]


def kubectl_ok(kubectl: str, dirs: Iterable[Path]) -> bool:
    """Whether kubectl renders every directory."""
    try:
        kubectl_renders(kubectl, list(dirs))
    except AssertionError:
        return False
    return True


# -- the pipeline strategy -------------------------------------------------------------------


@dataclass
class Container:
    """A container of a generated app; ``image`` is its base repository name."""

    name: str
    image: str
    init: bool = False


@dataclass
class GenApp:
    """An app of a generated pipeline."""

    kind: str
    name: str
    containers: list[Container] = field(default_factory=list)
    local: bool = False
    """Defined by each stage's own resource file instead of the base."""


@dataclass
class PipelineRepo:
    """A generated pipeline repository: files and the stages in promotion order."""

    files: dict[str, str] = field(default_factory=dict)
    stages: list[tuple[str, str]] = field(default_factory=list)
    apps: list[GenApp] = field(default_factory=list)

    def write(self, root: Path) -> Path:
        """Write every file under ``root``."""
        return write_files(root, self.files)

    def tree(self) -> str:
        """Every file numbered, for failure messages."""
        parts = [f"stages: {self.stages}"]
        for rel in sorted(self.files):
            body = self.files[rel].replace("\r", "\\r")
            numbered = "\n".join(f"{n:3} | {line}" for n, line in enumerate(body.split("\n"), 1))
            parts.append(f"=== {rel}\n{numbered}")
        return "\n".join(parts)


API = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "CronJob": "batch/v1",
    "Rollout": "argoproj.io/v1alpha1",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
}
POD = {
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pod_path(kind: str) -> tuple[str, ...]:
    """Keys from a workload to its pod spec."""
    return POD.get(kind, ("spec", "template", "spec"))


def image_text(name: str, tag: str | None, digest: str | None) -> str:
    """``name[:tag][@digest]``."""
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _styles(value: str) -> tuple[str, ...]:
    """Quoting styles that keep ``value`` a string: plain only when YAML reads it back."""
    plain = isinstance(yaml.safe_load(value), str) and ": " not in value
    return ("", '"', "'") if plain else ('"', "'")


def _q(value: str, style: str) -> str:
    if style == '"':
        return f'"{value}"'
    if style == "'":
        return f"'{value}'"
    return value


class _Lines:
    """YAML text written line by line with a chosen dash indentation."""

    def __init__(self, dash: int) -> None:
        self.dash = dash
        self.lines: list[str] = []

    def add(self, *lines: str) -> _Lines:
        self.lines.extend(lines)
        return self

    def seq(self, indent: int, items: Sequence[Sequence[str]]) -> _Lines:
        """Items of a block sequence under a key at ``indent``; each item's lines are
        relative to the item (the first gets the dash)."""
        pad = " " * (indent + self.dash)
        for item in items:
            self.lines.append(f"{pad}- {item[0]}")
            self.lines.extend(f"{pad}  {line}" for line in item[1:])
        return self

    def text(self, eol: str = "\n") -> str:
        return eol.join(self.lines) + eol


def _nest(path: Sequence[str], indent: int = 0) -> tuple[list[str], int]:
    lines = []
    for key in path:
        lines.append(" " * indent + f"{key}:")
        indent += 2
    return lines, indent


def _workload_text(
    app: GenApp, versions: Mapping[str, tuple[str | None, str | None]], draw: Any
) -> str:
    dash = draw(st.sampled_from((0, 2)))
    out = _Lines(dash).add(
        f"apiVersion: {API[app.kind]}",
        f"kind: {app.kind}",
        "metadata:",
        f"  name: {app.name}",
        "  labels:",
        f"    app: {app.name}",
    )
    head, indent = _nest(pod_path(app.kind))
    if app.kind == "CronJob":
        head.insert(1, '  schedule: "0 * * * *"')
    out.add(*head)
    for key, init in (("initContainers", True), ("containers", False)):
        chosen = [c for c in app.containers if c.init == init]
        if not chosen:
            continue
        out.add(" " * indent + f"{key}:")
        items = []
        for c in chosen:
            tag, digest = versions[c.name]
            style = draw(st.sampled_from(_styles(image_text(c.image, tag, digest))))
            items.append(
                [f"name: {c.name}", f"image: {_q(image_text(c.image, tag, digest), style)}"]
            )
        out.seq(indent, items)
    return out.text()


def _helmrelease_text(app: GenApp, version: str | None) -> str:
    lines = [
        f"apiVersion: {API['HelmRelease']}",
        "kind: HelmRelease",
        "metadata:",
        f"  name: {app.name}",
        "spec:",
        "  interval: 10m",
        "  chart:",
        "    spec:",
        f"      chart: {app.name}",
    ]
    if version is not None:
        lines.append(f"      version: {version}")
    lines += ["      sourceRef:", "        kind: HelmRepository", "        name: charts"]
    return "\n".join(lines) + "\n"


versions_st = st.tuples(
    st.one_of(st.none(), st.sampled_from(TAGS), st.sampled_from(TAGS)),
    st.one_of(st.none(), st.none(), st.sampled_from(DIGESTS)),
)
"""(tag, digest): tag only, digest only, both, or neither."""

IMAGE_FORMS = (
    "inherit", "inherit", "images", "images-digest", "mirror", "mirror-only", "smp", "json",
    "inline-smp", "inline-json",
)  # fmt: skip
CHART_FORMS = ("inherit", "json", "smp", "inline-json", "inline-smp")


@st.composite
def pipelines(draw: Any) -> PipelineRepo:
    """A pipeline of two or three sibling stages over one base (see the module doc)."""
    repo = PipelineRepo()
    count = draw(st.integers(2, 3))
    names = ("dev", "staging", "prod")[:count]
    layout = draw(st.sampled_from(("envs/{}", "pipelines/shop/{}")))
    repo.stages = [(n, layout.format(n)) for n in names]
    if draw(st.booleans()):
        repo.files["promoter.yaml"] = promoter_yaml("shop", repo.stages)
    else:
        for order, (name, path) in enumerate(repo.stages):
            repo.files[f"{path}/sync.yaml"] = sync_yaml(f"shop-{name}", path, "shop", order)

    # -- apps
    kinds = draw(
        st.lists(
            st.sampled_from(("Deployment", "StatefulSet", "CronJob", "Rollout", "HelmRelease")),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    for index, kind in enumerate(kinds):
        app = GenApp(kind, ("web", "api", "chart")[index])
        if kind != "HelmRelease":
            host = draw(st.sampled_from(HOSTS))
            app.containers.append(Container(app.name, f"{host}{app.name}"))
            if draw(st.booleans()):
                app.containers.append(Container("sidecar", f"{host}{app.name}-sidecar"))
            if draw(st.booleans()):
                app.containers.insert(0, Container("migrate", f"{host}{app.name}-migrate", True))
        repo.apps.append(app)
    if draw(st.integers(0, 2)) == 0:
        local = GenApp("Deployment", "local", [Container("local", "ghcr.io/acme/local")], True)
        repo.apps.append(local)

    # -- base
    base_resources = []
    for app in repo.apps:
        if app.local:
            continue
        file = f"base/{app.name}.yaml"
        base_resources.append(f"{app.name}.yaml")
        if app.kind == "HelmRelease":
            version = draw(st.one_of(st.none(), st.sampled_from(CHART_VERSIONS)))
            repo.files[file] = _helmrelease_text(app, version)
        else:
            versions = {c.name: draw(versions_st) for c in app.containers}
            repo.files[file] = _workload_text(app, versions, draw)
    repo.files["base/kustomization.yaml"] = (
        _Lines(0).add("resources:").seq(0, [[r] for r in base_resources]).text()
    )

    # -- a component shared by the first two stages: an images entry for one container
    shared: list[str] = []
    images = [(a, c) for a in repo.apps if not a.local for c in a.containers]
    if images and draw(st.booleans()):
        app, c = draw(st.sampled_from(images))
        tag, digest = draw(versions_st.filter(lambda v: v != (None, None)))
        entry = [f"name: {c.image}"]
        entry += [f'newTag: "{tag}"'] if tag else []
        entry += [f"digest: {digest}"] if digest else []
        repo.files["components/pin/kustomization.yaml"] = (
            _Lines(2)
            .add("apiVersion: kustomize.config.k8s.io/v1alpha1", "kind: Component", "images:")
            .seq(0, [entry])
            .text()
        )
        shared = [n for n, _ in repo.stages[:2]]

    # -- stages
    for name, path in repo.stages:
        _stage(draw, repo, name, path, name in shared)
    return repo


def _stage(draw: Any, repo: PipelineRepo, stage: str, path: str, component: bool) -> None:
    eol = draw(st.sampled_from(("\n", "\n", "\r\n")))
    dash = draw(st.sampled_from((0, 2)))
    up = "../" * path.count("/") + "../"
    resources = [f"{up}base"]
    patches: list[list[str]] = []
    json_patches: list[list[str]] = []
    images: list[list[str]] = []
    files: dict[str, str] = {}
    for app in repo.apps:
        if app.local:
            versions = {c.name: draw(versions_st) for c in app.containers}
            files["local.yaml"] = _workload_text(app, versions, draw)
            resources.append("local.yaml")
            continue
        target = [
            "target:",
            f"  group: {API[app.kind].rpartition('/')[0]}",
            f"  version: {API[app.kind].rpartition('/')[2]}",
            f"  kind: {app.kind}",
            f"  name: {app.name}",
        ]
        if app.kind == "HelmRelease":
            form = draw(st.sampled_from(CHART_FORMS))
            version = draw(st.sampled_from(CHART_VERSIONS))
            ops = ["- op: replace", "  path: /spec/chart/spec/version", f"  value: {version}"]
            smp_doc = [
                f"apiVersion: {API[app.kind]}",
                f"kind: {app.kind}",
                "metadata:",
                f"  name: {app.name}",
                "spec:",
                "  chart:",
                "    spec:",
                f"      version: {version}",
            ]
            _add_patch(form, app, ops, smp_doc, target, files, patches, json_patches, eol)
            continue
        for index, c in enumerate(app.containers):
            form = draw(st.sampled_from(IMAGE_FORMS))
            tag, digest = draw(versions_st)
            image = image_text(c.image, tag, digest)
            if form == "inherit":
                continue
            if form in ("images", "images-digest", "mirror", "mirror-only"):
                entry = [f"name: {c.image}"]
                if form.startswith("mirror"):
                    entry.append(f"newName: mirror.example.com/{c.image.rpartition('/')[2]}")
                if form != "mirror-only":
                    if tag is None and digest is None:
                        tag = "1.0"
                    if tag:
                        style = draw(st.sampled_from(_styles(tag)))
                        marker = draw(st.sampled_from(("", "", ' # {"$imagepolicy": "flux:x"}')))
                        entry.append(f"newTag: {_q(tag, style)}{marker}")
                    if digest:
                        entry.append(f"digest: {digest}")
                images.append(entry)
                continue
            listed = [x for x in app.containers if x.init == c.init]
            position = listed.index(c)
            list_key = "initContainers" if c.init else "containers"
            pointer = "/" + "/".join(pod_path(app.kind)) + f"/{list_key}/{position}/image"
            ops = ["- op: replace", f"  path: {pointer}", f'  value: "{image}"']
            head, indent = _nest(pod_path(app.kind))
            smp_doc = [
                f"apiVersion: {API[app.kind]}",
                f"kind: {app.kind}",
                "metadata:",
                f"  name: {app.name}",
                *head,
                " " * indent + f"{list_key}:",
                " " * indent + f"- name: {c.name}",
                " " * indent + f"  image: {image}  # set by {stage}",
            ]
            if app.kind == "Rollout" and form in ("smp", "inline-smp"):
                form = form.replace("smp", "json")  # an SMP replaces a custom resource's lists
            _add_patch(
                form, app, ops, smp_doc, target, files, patches, json_patches, eol, suffix=index
            )
    k = _Lines(dash).add("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization")
    k.add("# the stage's own versions", "resources:").seq(0, [[r] for r in resources])
    if component:
        k.add("components:").seq(0, [[f"{up}components/pin"]])
    all_patches = json_patches + patches
    if all_patches:
        if draw(st.integers(0, 3)) == 0 and all(len(p) == 1 for p in all_patches):
            k.add("patches: [" + ", ".join("{" + p[0] + "}" for p in all_patches) + "]")
        else:
            k.add("patches:").seq(0, all_patches)
    if images:
        k.add("images:").seq(0, images)
    elif draw(st.integers(0, 2)) == 0:
        k.add("images: []")
    repo.files[f"{path}/kustomization.yaml"] = k.text(eol)
    for rel, text in files.items():
        repo.files[f"{path}/{rel}"] = text.replace("\n", eol)


def _add_patch(
    form: str,
    app: GenApp,
    ops: list[str],
    smp_doc: list[str],
    target: list[str],
    files: dict[str, str],
    patches: list[list[str]],
    json_patches: list[list[str]],
    eol: str,
    suffix: int = 0,
) -> None:
    if form == "json":
        rel = f"{app.name}-ops-{suffix}.yaml"
        files[rel] = "\n".join(ops) + "\n"
        json_patches.append([f"path: {rel}", *target])
    elif form == "smp":
        rel = f"{app.name}-patch-{suffix}.yaml"
        files[rel] = "\n".join(smp_doc) + "\n"
        patches.append([f"path: {rel}"])
    elif form == "inline-json":
        json_patches.append(["patch: |-", *(f"  {line}" for line in ops), *target])
    elif form == "inline-smp":
        patches.append(["patch: |", *(f"  {line}" for line in smp_doc)])
