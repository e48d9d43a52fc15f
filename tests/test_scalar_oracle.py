"""Scalars that YAML reads as numbers or booleans, through every kind of patch: the native
reader against ``kubectl kustomize``.

kustomize prints a plain ``6.0`` as ``6`` and ``1.10`` as ``1.1`` (YAML 1.2, then JSON), a
quoted one as written; a strategic merge keeps the *style* of the value it replaces
(kyaml's ``FieldSetter``) and the *tag* of the patch's value, and a JSON6902 patch sends
the whole object through JSON (and its operations through YAML 1.1).  Each case builds a
HelmRelease chart version (or a container image) one way and compares the rendered text
and the line the native reader says set it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from promoter._yaml import YMap
from promoter.errors import PromoterError
from promoter.kustomize import Builder, rendered_scalar

VALUES = ("6.0", "1.10", "1.0e3", "0x10", "010", ".5", "+1", "6.", '"6.0"', "true", "yes")

HR = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n"


def release(version: str | None, extra: str = "") -> str:
    """A HelmRelease whose chart version is written ``version`` (absent when None)."""
    text = HR + extra + "spec:\n  chart:\n    spec:\n      chart: x\n"
    return text + (f"      version: {version}\n" if version is not None else "")


def smp(version: str) -> str:
    """A strategic merge patch of the chart version."""
    return HR + f"spec:\n  chart:\n    spec:\n      version: {version}\n"


def flow_smp(version: str) -> str:
    """The same patch on one line (as a ``patchesStrategicMerge`` entry is often written)."""
    return (
        '{"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": '
        f'{{"name": "x"}}, "spec": {{"chart": {{"spec": {{"version": {version}}}}}}}}}'
    )


def ops(op: str, version: str) -> str:
    return f"- op: {op}\n  path: /spec/chart/spec/version\n  value: {version}\n"


TOUCH = "- op: add\n  path: /metadata/labels\n  value: {touched: 'yes'}\n"
"""A JSON6902 patch elsewhere in the object: the object still goes through JSON."""

TARGET = "  target: {kind: HelmRelease, name: x}\n"

Files = dict[str, str]


def base(version: str | None, patches: str = "", extra: Files | None = None) -> Files:
    return {
        "base/hr.yaml": release(version),
        "base/kustomization.yaml": "resources: [hr.yaml]\n" + patches,
        **({} if extra is None else {f"base/{k}": v for k, v in extra.items()}),
    }


def overlay(kustomization: str, files: Files) -> Files:
    return {
        "env/kustomization.yaml": "resources: [../base]\n" + kustomization,
        **{f"env/{k}": v for k, v in files.items()},
    }


# Each shape: the value -> the repository's files; "env" is built when present, else "base".
SHAPES: dict[str, Callable[[str], Files]] = {
    "resource": lambda v: base(v),
    "smp-file-over-plain": lambda v: base("1.0", "patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    "smp-file-over-quoted": lambda v: base(
        '"1.0"', "patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}
    ),
    "smp-target-over-quoted": lambda v: base(
        '"1.0"', "patches:\n- path: p.yaml\n" + TARGET, {"p.yaml": smp(v)}
    ),
    "smp-inline-over-quoted": lambda v: base(
        '"1.0"', "patches:\n- patch: |-\n" + _indent(smp(v), 4)
    ),
    "smp-inline-over-plain": lambda v: base("1.0", "patches:\n- patch: |-\n" + _indent(smp(v), 4)),
    "psm-file-over-quoted": lambda v: base(
        '"1.0"', "patchesStrategicMerge: [p.yaml]\n", {"p.yaml": smp(v)}
    ),
    "psm-file-over-plain": lambda v: base(
        "1.0", "patchesStrategicMerge: [p.yaml]\n", {"p.yaml": smp(v)}
    ),
    "psm-inline-over-quoted": lambda v: base(
        '"1.0"', f"patchesStrategicMerge:\n- '{flow_smp(v)}'\n"
    ),
    "psm-inline-over-plain": lambda v: base("1.0", f"patchesStrategicMerge:\n- '{flow_smp(v)}'\n"),
    "smp-adds-the-field": lambda v: base(None, "patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    "json6902-replace": lambda v: base(
        '"1.0"', "patches:\n- path: o.yaml\n" + TARGET, {"o.yaml": ops("replace", v)}
    ),
    "json6902-add": lambda v: base(
        "1.0", "patches:\n- path: o.yaml\n" + TARGET, {"o.yaml": ops("add", v)}
    ),
    "json6902-inline-replace": lambda v: base(
        '"1.0"', "patches:\n- patch: |-\n" + _indent(ops("replace", v), 4) + TARGET
    ),
    "patchesJson6902-replace": lambda v: base(
        "1.0",
        "patchesJson6902:\n- path: o.yaml\n  target: {group: helm.toolkit.fluxcd.io, "
        "version: v2, kind: HelmRelease, name: x}\n",
        {"o.yaml": ops("replace", v)},
    ),
    # The bug's shape: a quoted patch value over a plain one keeps the plain *style*, so a
    # later plain patch value is read as YAML again (6.0 -> 6).
    "smp-over-patched-quoted": lambda v: {
        **base("1.0", "patches:\n- path: q.yaml\n" + TARGET, {"q.yaml": smp('"1.10"')}),
        **overlay("patchesStrategicMerge: [p.yaml]\n", {"p.yaml": smp(v)}),
    },
    "smp-over-patched-plain": lambda v: {
        **base('"1.0"', "patches:\n- path: q.yaml\n", {"q.yaml": smp("2.0")}),
        **overlay("patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    },
    "smp-over-added": lambda v: {
        **base(None, "patches:\n- path: q.yaml\n", {"q.yaml": smp("no")}),
        **overlay("patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    },
    # JSON6902 sends the object through JSON: the version's style is then what Go's YAML
    # encoder gives the value (quoted only when it would not read back as a string).
    "smp-after-json-quoted-number": lambda v: {
        **base('"1.0"', "patches:\n- path: t.yaml\n" + TARGET, {"t.yaml": TOUCH}),
        **overlay("patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    },
    "smp-after-json-quoted-word": lambda v: {
        **base('"v1"', "patches:\n- path: t.yaml\n" + TARGET, {"t.yaml": TOUCH}),
        **overlay("patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    },
    "smp-after-patched-quoted-and-json": lambda v: {
        **base(
            "1.0",
            "patches:\n- path: q.yaml\n- path: t.yaml\n" + TARGET,
            {"q.yaml": smp('"1.10"'), "t.yaml": TOUCH},
        ),
        **overlay("patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    },
    "smp-after-json-replaced-quoted": lambda v: {
        **base("1.0", "patches:\n- path: o.yaml\n" + TARGET, {"o.yaml": ops("replace", '"v2"')}),
        **overlay("patches:\n- path: p.yaml\n", {"p.yaml": smp(v)}),
    },
}

IMAGE_SHAPES: dict[str, Callable[[str], Files]] = {
    "image-in-resource": lambda v: {
        "base/d.yaml": _deployment(f"app:{v}"),
        "base/kustomization.yaml": "resources: [d.yaml]\n",
    },
    "image-in-smp": lambda v: {
        "base/d.yaml": _deployment("app:1.0"),
        "base/p.yaml": _deployment(f"app:{v}"),
        "base/kustomization.yaml": "resources: [d.yaml]\npatches:\n- path: p.yaml\n",
    },
    "images-newTag": lambda v: {
        "base/d.yaml": _deployment("app:1.0"),
        "base/kustomization.yaml": f"resources: [d.yaml]\nimages:\n- name: app\n  newTag: {v}\n",
    },
}


def _deployment(image: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
        f"    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )


def _indent(text: str, width: int) -> str:
    return "".join(" " * width + line + "\n" for line in text.splitlines())


@dataclass(frozen=True)
class Case:
    shape: str
    value: str

    @property
    def name(self) -> str:
        return f"{self.shape}[{self.value}]"

    @property
    def image(self) -> bool:
        return self.shape in IMAGE_SHAPES

    def files(self) -> Files:
        return (IMAGE_SHAPES if self.image else SHAPES)[self.shape](self.value)

    @property
    def build(self) -> str:
        return "env" if "env/kustomization.yaml" in self.files() else "base"


CASES = [Case(s, v) for s in SHAPES for v in VALUES] + [
    Case(s, v) for s in IMAGE_SHAPES for v in VALUES if s == "images-newTag" or v[0] != '"'
]


@pytest.fixture(scope="module")
def rendered(kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> dict[Case, Any]:
    """kubectl's render of every case, run a few at a time: (root, ok, output)."""
    top = tmp_path_factory.mktemp("scalars")
    roots = {}
    for index, case in enumerate(CASES):
        root = top / f"c{index}"
        for name, text in case.files().items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        roots[case] = root
    out: dict[Case, Any] = {}
    batch = 8
    for start in range(0, len(CASES), batch):
        chunk = CASES[start : start + batch]
        procs = [
            subprocess.Popen(
                [kubectl, "kustomize", str(roots[c] / c.build)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for c in chunk
        ]
        for case, proc in zip(chunk, procs, strict=True):
            stdout, _ = proc.communicate(timeout=60)
            out[case] = (roots[case], proc.returncode == 0, stdout)
    return out


_VERSION = re.compile(r"^ +version: (.*)$", re.MULTILINE)


def kubectl_version(output: str) -> str:
    """The chart version as kubectl printed it, unquoted."""
    (raw,) = _VERSION.findall(output)
    return str(yaml.safe_load(raw)) if raw[:1] in "'\"" else raw


def kubectl_image(output: str) -> str:
    (doc,) = yaml.safe_load_all(output)
    return str(doc["spec"]["template"]["spec"]["containers"][0]["image"])


def _chart(doc: YMap) -> YMap:
    node: Any = doc
    for key in ("spec", "chart", "spec"):
        node = node[key]
    assert isinstance(node, YMap)
    return node


def _line(root: Path, file: str, line: int) -> str:
    lines = (root / file).read_text(encoding="utf-8").splitlines()
    return lines[line - 1]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scalar_renders_as_kubectl(case: Case, rendered: dict[Case, Any]) -> None:
    """The native reader prints the value kubectl prints, and points at the line that set it."""
    root, ok, output = rendered[case]
    try:
        build = Builder(root).build(case.build)
    except PromoterError as exc:
        assert not ok, f"native failed, kubectl did not: {exc}\n{output}"
        return
    assert ok, "kubectl failed, native did not"
    (resource,) = build.resources
    if case.image:
        containers = resource.doc["spec"]["template"]["spec"]["containers"]
        assert str(containers[0]["image"]) == kubectl_image(output)
        return
    chart = _chart(resource.doc)
    assert rendered_scalar(chart, "version") == kubectl_version(output)
    origin = chart.origin("version")
    assert origin is not None
    line = int(origin.node.start_mark.line) + origin.line_offset + 1
    token = case.value.strip('"')
    assert token in _line(root, origin.file, line), (origin.file, line)


# The repository the generated-repository oracle found (ORACLE_EXAMPLES=400): a component's
# patch sets a quoted "1.10" over the resource's plain 6.0; the overlay's plain 6.0
# patches then render as 6, not "6.0".
FOUND: dict[str, str] = {
    "base/all.yaml": (
        "apiVersion: apps/v1\n"
        "kind: StatefulSet\n"
        "metadata:\n"
        "  name: web\n"
        "  namespace: explicit\n"
        "  labels:\n"
        "    app: web\n"
        "  annotations:\n"
        "    owner: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: main\n"
        "        image: app\n"
        "    metadata:\n"
        "      labels:\n"
        "        app: web\n"
    ),
    "base/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources:\n"
        "- all.yaml\n"
        "patchesJson6902:\n"
        "- target:\n"
        "    group: apps\n"
        "    version: v1\n"
        "    kind: StatefulSet\n"
        "    name: web\n"
        "  path: ops-1.yaml\n"
        "namespace: team-a\n"
        "commonAnnotations:\n"
        "  owner: team\n"
    ),
    "base/ops-1.yaml": (
        "- op: replace\n  path: /spec/template/spec/containers/0/image\n  value: app\n"
    ),
    "components/c-7/Kustomization": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
        "kind: Component\n"
        "resources:\n"
        "- extra.yaml\n"
        "patchesStrategicMerge:\n"
        '- \'{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "explicit"}, "spec": {"template": {"spec": {"initContainers": [{"name": "init2", "image": "localhost:5000/app:1.0-alpine"}]}}}}\'\n'  # noqa: E501
        "patches:\n"
        "- path: smp-8.yaml\n"
        "  target:\n"
        "    kind: HelmRelease\n"
        "    name: .*extra.*\n"
    ),
    "components/c-7/extra.yaml": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "kind: HelmRelease\n"
        "metadata:\n"
        "  name: extra\n"
        "  labels:\n"
        "    app: extra\n"
        "  annotations:\n"
        "    owner: extra\n"
        "spec:\n"
        "  interval: 10m\n"
        "  chart:\n"
        "    spec:\n"
        "      chart: extra\n"
        "      version: 6.0\n"
        "      sourceRef:\n"
        "        kind: HelmRepository\n"
        "        name: charts\n"
    ),
    "components/c-7/smp-8.yaml": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "kind: HelmRelease\n"
        "metadata:\n"
        "  name: extra\n"
        "spec:\n"
        "  chart:\n"
        "    spec:\n"
        '      version: "1.10"\n'
    ),
    "envs/dev/kustomization.yaml": (
        "bases:\n"
        "- ../../base\n"
        "patchesStrategicMerge:\n"
        "- smp-2.yaml\n"
        "namespace: team-a\n"
        "commonAnnotations:\n"
        "  owner: team\n"
    ),
    "envs/dev/smp-2.yaml": (
        "apiVersion: apps/v1\n"
        "kind: StatefulSet\n"
        "metadata:\n"
        "  name: web\n"
        "  namespace: explicit\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: main\n"
        "        $patch: delete\n"
    ),
    "envs/prod/kustomization.yaml": (
        "bases:\n"
        "- ../staging\n"
        "components:\n"
        "- ../../components/c-7\n"
        "patchesStrategicMerge:\n"
        "- smp-9.yaml\n"
        '- \'{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "explicit"}, "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "registry.example.com/team/report:1.0-alpine"}]}}}}\'\n'  # noqa: E501
        "patches:\n"
        "- path: smp-10.yaml\n"
        "- path: ops-12.yaml\n"
        "  target:\n"
        "    kind: StatefulSet\n"
        "    name: web\n"
        "nameSuffix: -v2\n"
        "commonAnnotations:\n"
        "  owner: team\n"
    ),
    "envs/prod/ops-12.yaml": (
        "- op: replace\n"
        "  path: /spec/template/spec/containers/0\n"
        "  value:\n"
        "    name: whole-11\n"
        "    image: registry.example.com/team/report@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n"  # noqa: E501
    ),
    "envs/prod/smp-10.yaml": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "kind: HelmRelease\n"
        "metadata:\n"
        "  name: extra\n"
        "spec:\n"
        "  chart:\n"
        "    spec:\n"
        "      version: 6.0\n"
    ),
    "envs/prod/smp-9.yaml": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "kind: HelmRelease\n"
        "metadata:\n"
        "  name: extra\n"
        "spec:\n"
        "  chart:\n"
        "    spec:\n"
        "      version: 6.0\n"
    ),
    "envs/staging/kustomization.yaml": (
        "bases:\n"
        "- ../../base\n"
        "patchesStrategicMerge:\n"
        "- smp-3.yaml\n"
        "patches:\n"
        "- path: smp-4.yaml\n"
        "  target:\n"
        "    kind: StatefulSet\n"
        "    name: web\n"
        "- path: ops-6.yaml\n"
        "  target:\n"
        "    kind: StatefulSet\n"
        "    name: web\n"
        "commonAnnotations:\n"
        "  owner: team\n"
    ),
    "envs/staging/ops-6.yaml": (
        "- op: add\n"
        "  path: /spec/template/spec/containers/-\n"
        "  value:\n"
        "    name: extra-5\n"
        "    image: app\n"
    ),
    "envs/staging/smp-3.yaml": (
        "apiVersion: apps/v1\n"
        "kind: StatefulSet\n"
        "metadata:\n"
        "  name: web\n"
        "  namespace: explicit\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: main\n"
        "        image: app\n"
    ),
    "envs/staging/smp-4.yaml": (
        "apiVersion: apps/v1\n"
        "kind: StatefulSet\n"
        "metadata:\n"
        "  name: web\n"
        "  namespace: explicit\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      initContainers:\n"
        "      - name: init2\n"
        "        image: app\n"
    ),
}


def test_found_repository_renders_as_kubectl(kubectl: str, tmp_path: Path) -> None:
    """The found repository's prod overlay: the chart version renders as kubectl's ``6``,
    set by the last patch's line."""
    for name, text in FOUND.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    output = subprocess.run(
        [kubectl, "kustomize", str(tmp_path / "envs/prod")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert kubectl_version(output) == "6"
    build = Builder(tmp_path).build("envs/prod")
    (chart,) = [_chart(r.doc) for r in build.resources if r.id.kind == "HelmRelease"]
    assert rendered_scalar(chart, "version") == "6"
    origin = chart.origin("version")
    assert origin is not None and (origin.file, origin.line) == ("envs/prod/smp-10.yaml", 8)
