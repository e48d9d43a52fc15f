"""The native kustomize reader against ``kubectl kustomize``, the oracle.

Every comparison reads the apps both ways: natively (``Builder`` + ``apps_of``, what
``GitOpsRepo`` reports) and from what ``kubectl kustomize`` renders, parsed with
``yaml.safe_load_all``.  An app is compared as rows ``(kind, rendered name, namespace,
container, init?, position, image)`` (a HelmRelease as one row with its chart version),
plus its version; every version's source must point at the text of that version.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from promoter import GitOpsRepo
from promoter._yaml import YMap
from promoter.apps import apps_of
from promoter.errors import ManifestError, PromoterError
from promoter.kustomize import Builder, Resource, rendered_scalar
from promoter.model import App, VersionSource
from tests.builders.kustomize_gen import (
    DIGESTS,
    Quoted,
    Raw,
    Repo,
    Single,
    container,
    dump,
    dump_json,
    pod_pointer,
    pod_smp,
    repos,
    service,
    smp,
    workload,
)

EXAMPLE = Path(__file__).resolve().parent.parent
WORKLOADS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout"}
)
CHART = "<chart>"
Key = tuple[str, str, "str | None"]
Row = tuple[str, str, "str | None", str, bool, int, "str | None"]


# -- the two answers ------------------------------------------------------------------------


@dataclass
class Answer:
    """Apps as rows and versions, comparable between kubectl and the native reader."""

    rows: set[Row] = field(default_factory=set)
    versions: dict[Key, str | None] = field(default_factory=dict)

    def show(self) -> str:
        lines = [" ".join(str(part) for part in row) for row in sorted(self.rows, key=str)]
        lines += [f"version {k}: {v}" for k, v in sorted(self.versions.items(), key=str)]
        return "\n".join(lines) or "(no apps)"


def rendered_text(value: Any) -> str | None:
    """A scalar of kubectl's output as kubectl wrote it (``1.1``, ``6``, ``true``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def image_version(image: str) -> str:
    """The tag of ``name[:tag][@digest]``, else the digest, else ``latest``."""
    rest, _, digest = image.partition("@")
    colon = rest.rfind(":")
    tag = rest[colon + 1 :] if colon > rest.rfind("/") else ""
    return tag or digest or "latest"


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    kind = doc["kind"]
    node: Any = doc
    path = ["spec"] if kind == "Pod" else ["spec", "template", "spec"]
    if kind == "CronJob":
        path = ["spec", "jobTemplate", "spec", "template", "spec"]
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def kubectl_answer(text: str, app_names: dict[Key, str]) -> Answer:
    """The apps in ``kubectl kustomize`` output (``app_names``: rendered key -> app name)."""
    out = Answer()
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        kind, api = doc.get("kind"), str(doc.get("apiVersion") or "")
        meta = doc.get("metadata") or {}
        key: Key = (kind, meta.get("name"), meta.get("namespace"))
        if kind == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/"):
            chart = ((doc.get("spec") or {}).get("chart") or {}).get("spec") or {}
            version = rendered_text(chart.get("version"))
            out.rows.add((*key, CHART, False, 0, version))
            out.versions[key] = version
        elif kind in WORKLOADS:
            pod = pod_spec(doc)
            regular = []
            for init, field_name in ((True, "initContainers"), (False, "containers")):
                for index, item in enumerate(pod.get(field_name) or []):
                    image = str(item.get("image") or "")
                    out.rows.add((*key, str(item.get("name") or ""), init, index, image))
                    if not init:
                        regular.append((item.get("name"), image))
            named = [image for name, image in regular if name == app_names.get(key)]
            primary = named[0] if named else regular[0][1] if regular else None
            out.versions[key] = None if primary is None else image_version(primary)
    return out


def native_answer(apps: Iterable[App], resources: Iterable[Resource]) -> Answer:
    """The same rows and versions from the native reader's apps.

    Apps report a chart version as written (``1.10``); kustomize prints a plain ``1.10``
    as ``1.1``, so the chart rows compare the rendered reading of the same scalar."""
    rendered = {
        (r.id.kind, r.id.name, r.id.namespace or None): rendered_scalar(chart, "version")
        for r in resources
        if isinstance(chart := chart_spec(r.doc), YMap)
    }
    out = Answer()
    for app in apps:
        key = app_key(app)
        version = app.version
        if app.kind == "HelmRelease":
            version = rendered.get(key, app.version)
            out.rows.add((*key, CHART, False, 0, version))
        positions = {True: 0, False: 0}
        for item in app.images:
            out.rows.add((*key, item.container, item.init, positions[item.init], str(item.image)))
            positions[item.init] += 1
        out.versions[key] = version
    return out


def chart_spec(doc: YMap) -> object:
    """``spec.chart.spec`` of a document, or None."""
    node: object = doc
    for key in ("spec", "chart", "spec"):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def app_key(app: App) -> Key:
    return (app.kind, app.rendered_name, app.namespace)


def app_names(apps: Iterable[App]) -> dict[Key, str]:
    return {app_key(a): a.name for a in apps}


# -- sources --------------------------------------------------------------------------------


def scalar_at(text: str) -> str:
    """The YAML scalar that starts ``text``: quoted, or plain up to a separator."""
    if text.startswith('\\"'):  # a JSON string inside a double-quoted YAML scalar
        end = text.find('\\"', 2)
        return text[2:end] if end > 0 else text[2:]
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else text[1:]
    found = re.match(r"[^\s,\]}]+", text)
    return found.group(0) if found else ""


_RENDERED: dict[str, str | None] = {}


def kubectl_scalar(kubectl: str, token: str) -> str | None:
    """How ``kubectl kustomize`` prints plain scalar ``token`` (``1.10`` -> ``1.1``)."""
    if token not in _RENDERED:
        with tempfile.TemporaryDirectory(prefix="oracle-scalar-") as tmp:
            doc = f"apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: x\nvalue: {token}\n"
            Path(tmp, "thing.yaml").write_text(doc, encoding="utf-8")
            Path(tmp, "kustomization.yaml").write_text("resources: [thing.yaml]\n", "utf-8")
            ((ok, output),) = kubectl_many(kubectl, [Path(tmp)])
            _RENDERED[token] = rendered_text(yaml.safe_load(output)["value"]) if ok else None
    return _RENDERED[token]


def source_problems(kubectl: str, root: Path, apps: Iterable[App]) -> list[str]:
    """Every version whose source does not point at text spelling that version."""
    problems = []
    for app in apps:
        checks: list[tuple[str, str | None, VersionSource | None]] = [
            (app.key, app.version, app.source)
        ]
        checks += [(f"{app.key}[{i.container}]", i.image.version, i.source) for i in app.images]
        for label, version, source in checks:
            if version is None or (source is None and version == "latest"):
                continue  # no image at all: nothing to point at
            if source is None:
                problems.append(f"{label}: version {version} has no source")
                continue
            path = root / source.file
            lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
            line = lines[source.line - 1] if 0 < source.line <= len(lines) else ""
            token = scalar_at(line[source.column :])
            if version not in (token, image_version(token)) and (
                line[source.column : source.column + 1] in ("'", '"')
                or kubectl_scalar(kubectl, token) != version
            ):
                problems.append(
                    f"{label}: version {version} but {source.file}:{source.line}:"
                    f"{source.column} ({source.type}) reads {token!r} in {line!r}"
                )
    return problems


# -- running both ---------------------------------------------------------------------------


def kubectl_many(kubectl: str, dirs: Sequence[Path]) -> list[tuple[bool, str]]:
    """``kubectl kustomize`` of each directory, run side by side: (ok, stdout or stderr)."""
    procs = [
        subprocess.Popen(
            [kubectl, "kustomize", str(d)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in dirs
    ]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        errors = [line for line in stderr.splitlines() if not line.startswith("# Warning")]
        out.append((proc.returncode == 0, stdout if proc.returncode == 0 else "\n".join(errors)))
    return out


def compare_repo(kubectl: str, repo: Repo, root: Path) -> None:
    """Native == kubectl for every directory ``repo`` builds, sources included."""
    repo.write(root)
    rendered = kubectl_many(kubectl, [root / d for d in repo.builds])
    builder = Builder(root)
    for directory, (ok, output) in zip(repo.builds, rendered, strict=True):
        compare_dir(kubectl, builder, root, directory, ok, output, repo.tree())


def compare_dir(
    kubectl: str, builder: Builder, root: Path, directory: str, ok: bool, output: str, tree: str
) -> None:
    """Compare one directory; failures show the repository and both answers."""
    try:
        build = builder.build(directory)
    except PromoterError as exc:
        assert not ok, f"{directory}: native failed but kubectl did not: {exc}\n{tree}"
        return
    assert ok, f"{directory}: kubectl failed but native did not: {output}\n{tree}"
    assert build.unsupported == (), f"{directory}: {build.unsupported}\n{tree}"
    apps = apps_of(build.resources, _line_reader(root))
    expected = kubectl_answer(output, app_names(apps))
    actual = native_answer(apps, build.resources)
    assert expected == actual, (
        f"{directory}: native differs from kubectl\n--- kubectl\n{expected.show()}\n"
        f"--- native\n{actual.show()}\n--- only kubectl: {sorted(expected.rows - actual.rows)}"
        f"\n--- only native: {sorted(actual.rows - expected.rows)}\n{tree}"
    )
    problems = source_problems(kubectl, root, apps)
    assert problems == [], f"{directory}: wrong sources\n" + "\n".join(problems) + f"\n{tree}"


def _line_reader(root: Path) -> Any:
    cache: dict[str, list[str]] = {}

    def read_line(file: str, line: int) -> str:
        if file not in cache:
            path = root / file
            cache[file] = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        lines = cache[file]
        return lines[line - 1] if 0 < line <= len(lines) else ""

    return read_line


@pytest.fixture
def check(kubectl: str, tmp_path: Path) -> Any:
    """``check(repo)``: write ``repo`` to a temporary directory and compare every build."""

    def run(repo: Repo) -> None:
        compare_repo(kubectl, repo, tmp_path)

    return run


# -- 1. the example repository ----------------------------------------------------------


def example_stages() -> list[Any]:
    repo = GitOpsRepo.open(EXAMPLE)
    return [stage for pipeline in repo.pipelines for stage in pipeline.stages]


def test_example_repo_has_stages() -> None:
    """The example repository declares the stages the next test compares."""
    assert {(s.pipeline, s.name) for s in example_stages()} == {
        (p, s) for p in ("platform", "web") for s in ("dev", "staging", "prod")
    }


@pytest.mark.parametrize("stage", example_stages(), ids=lambda s: f"{s.pipeline}/{s.name}")
def test_example_stage_matches_kubectl(kubectl: str, stage: Any) -> None:
    """Each example stage's apps, images, chart versions and sources equal kubectl's render."""
    repo = GitOpsRepo.open(EXAMPLE)
    assert repo.flux_layer(stage) is None, "Flux additions are compared elsewhere"
    build = repo.build(stage)
    assert build.unsupported == ()
    apps = apps_of(build.resources, repo.read_line)
    ((ok, output),) = kubectl_many(kubectl, [EXAMPLE / stage.path])
    assert ok, output
    expected = kubectl_answer(output, app_names(apps))
    assert expected == native_answer(apps, build.resources)
    assert source_problems(kubectl, EXAMPLE, apps) == []


# -- 2. generated repositories ---------------------------------------------------------------

EXAMPLES = int(os.environ.get("ORACLE_EXAMPLES", "25"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(repo=repos())
def test_generated_repos_match_kubectl(kubectl: str, repo: Repo) -> None:
    """Every directory of a generated repository reads natively as kubectl renders it."""
    with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
        compare_repo(kubectl, repo, Path(tmp))


# Every form the native reader follows, each at least once, whatever hypothesis draws.

SHA_A, SHA_B, SHA_C = DIGESTS


def _web() -> dict[str, Any]:
    return workload(
        "Deployment",
        "web",
        [("web", "ghcr.io/acme/web:1.0"), ("sidecar", "envoy:1.27")],
        [("migrate", "ghcr.io/acme/web-migrate:1.0")],
    )


def scenario_resources() -> Repo:
    """Files, multi-document files, List files, nested bases, every kustomization name."""
    repo = Repo(builds=["base", "envs/a"])
    repo.add("base/common/all.yaml", dump(_web(), service("web")))
    repo.kustomization("base/common", {"resources": ["all.yaml", "sub"]}, "kustomization.yml")
    db = workload("StatefulSet", "db", [("db", "postgres:16")])
    repo.add("base/common/sub/db.yaml", dump(db))
    jobs = {"apiVersion": "v1", "kind": "List", "items": [
        workload("Job", "once", [("once", "registry.example.com/team/once:2024.05.1")]),
        workload("Pod", "solo", [("solo", "localhost:5000/solo:1.10")]),
    ]}  # fmt: skip
    repo.add("base/common/sub/jobs.yaml", dump(jobs))
    repo.kustomization("base/common/sub", {"resources": ["db.yaml", "jobs.yaml"]}, "Kustomization")
    repo.add("base/cron.yaml", dump(workload("CronJob", "report", [("report", "report:1.0")])))
    repo.kustomization("base", {"resources": ["common/", "./cron.yaml"], "nameSuffix": "-b"})
    repo.kustomization("envs/a", {
        "resources": ["../../base"], "namespace": "a", "namePrefix": "a-", "nameSuffix": "-x",
        "commonLabels": {"env": "a"}, "labels": [{"pairs": {"team": "x"}}],
    })  # fmt: skip
    return repo


def scenario_patch_forms() -> Repo:
    """patchesStrategicMerge, patches and patchesJson6902 in every form, on every kind."""
    repo = Repo(builds=["base", "envs/dev"])
    docs = [
        _web(),
        workload("StatefulSet", "db", [("db", "postgres:16.1")], [("migrate", "flyway:10")]),
        workload("CronJob", "report", [("report", "report:2024.05.1")]),
        workload("Job", "once", [("once", "once:1.0")]),
        workload("Pod", "solo", [("solo", "solo:1.0"), ("helper", "helper:1.0")]),
        workload("Rollout", "roll", [("roll", "roll:1.0"), ("side", "side:1.0")]),
        workload("HelmRelease", "chart", chart_version=Raw("1.10")),
    ]
    repo.add("base/all.yaml", dump(*docs))
    repo.kustomization("base", {"resources": ["all.yaml"]})
    d = "envs/dev"
    web = pod_smp("Deployment", "web", {"containers": [
        container("extra", "extra:1.0"), container("sidecar", Quoted("envoy:1.28"))]})  # fmt: skip
    repo.add(f"{d}/web.yaml", dump(web))
    cron = pod_smp("CronJob", "report", {"containers": [container("report", "report:2024.06.1")]})
    job = pod_smp("Job", "once", {"containers": [container("once", "once:2.0")]})
    db_init = pod_smp("StatefulSet", "db", {"initContainers": [container("migrate", "flyway:11")]})
    repo.add(f"{d}/db-init.yaml", dump(db_init))
    helper = pod_smp("Pod", "solo", {"containers": [{"name": "helper", "$patch": "delete"}]})
    repo.add(f"{d}/job.yaml", dump(pod_smp("Job", "ignored-name", {"containers": [
        container("once", "once:3.0")]})))  # fmt: skip
    roll = pod_smp("Rollout", "roll", {"containers": [container("side", "side:2.0")]})
    add_web = [{"op": "add", "path": f"{pod_pointer('Deployment')}/containers/1",
                "value": container("added", "added:1.0")}]  # fmt: skip
    repo.add(f"{d}/chart.json", dump_json([
        {"op": "replace", "path": "/spec/chart/spec/version", "value": Raw("6.0")}]))  # fmt: skip
    whole_db = [{"op": "replace", "path": "/spec/template/spec/containers/0",
                 "value": container("db", "postgres:17.0")}]  # fmt: skip
    repo.add(f"{d}/db-image.yaml", dump([{"op": "replace", "path":
        "/spec/template/spec/containers/0/image", "value": "postgres:17.1"}]))  # fmt: skip
    chart_add = [{"op": "add", "path": "/spec/chart/spec/version",
                  "value": Quoted("v1.2.2.2022-01-15t161730814Z.9eabf5b")}]  # fmt: skip
    repo.kustomization(d, {
        "resources": ["../../base"],
        "patchesStrategicMerge": ["web.yaml", dump(cron),
                                  Single(json.dumps(job, separators=(", ", ": ")))],
        "patches": [
            {"path": "db-init.yaml"},
            {"patch": dump(helper)},
            {"path": "job.yaml", "target": {"labelSelector": "app=once"}},
            {"patch": dump(roll), "target": {"kind": "Rollout", "name": "ro.*"}},
            {"patch": dump(add_web), "target": {"kind": "Deployment", "name": "web"}},
            {"path": "chart.json", "target": {"kind": "HelmRelease"}},
            {"patch": Single(json.dumps(whole_db)), "target": {"kind": "StatefulSet"}},
        ],
        "patchesJson6902": [
            {"target": {"group": "apps", "version": "v1", "kind": "StatefulSet", "name": "db"},
             "path": "db-image.yaml"},
            {"target": {"group": "helm.toolkit.fluxcd.io", "version": "v2",
                        "kind": "HelmRelease", "name": "chart"}, "patch": dump(chart_add)},
        ],
    })  # fmt: skip
    return repo


def scenario_images() -> Repo:
    """images entries with newName/newTag/digest over tags, digests, ports and registries."""
    repo = Repo(builds=["base", "envs/dev", "envs/prod"])
    images = [
        ("tagdigest", f"app:1.0@{SHA_A}"),
        ("port", "localhost:5000/app:1.0"),
        ("digest", f"nginx@{SHA_B}"),
        ("bare", "ghcr.io/acme/shop"),
        ("calver", "registry.example.com/team/report:2024.05.1"),
        ("hub", "docker.io/library/nginx:1.0"),
        ("tagged-name", "web:1"),
    ]
    repo.add("base/d.yaml", dump(workload("Deployment", "svc", images, [("init", "app:1.0")])))
    repo.kustomization("base", {"resources": ["d.yaml"]})
    repo.kustomization("envs/dev", {"resources": ["../../base"], "images": [
        {"name": "app", "newTag": "1.10"},
        {"name": "localhost:5000/app", "newName": "localhost:5000/other",
         "newTag": "v1.2.2.2022-01-15t161730814Z.9eabf5b"},
        {"name": "nginx", "digest": SHA_C},
        {"name": "ghcr.io/acme/shop", "newTag": Single("2"), "digest": SHA_A},
        {"name": "registry.example.com/team/report", "newName": "registry.example.com/x/report"},
        {"name": "docker.io/library/nginx", "newName": "mirror.io/nginx", "digest": SHA_B},
        {"name": "web:1", "newTag": "2"},
    ]})  # fmt: skip
    repo.kustomization("envs/prod", {"resources": ["../dev"], "images": [
        {"name": "localhost:5000/other", "newTag": "3.0"},
        {"name": "mirror.io/nginx", "newTag": "1.27"},
        {"name": "app", "newName": "app2"},
    ]})  # fmt: skip
    return repo


def scenario_names() -> Repo:
    """namePrefix/nameSuffix/namespace in base and overlays; patches by old and new names."""
    repo = Repo(builds=["base", "envs/dev", "envs/prod"])
    repo.add("base/all.yaml", dump(
        workload("Deployment", "web", [("web", "web:1.0")]),
        workload("Deployment", "api", [("api", "api:1.0")]),
        workload("StatefulSet", "db", [("db", "db:1.0")], namespace="data"),
    ))  # fmt: skip
    repo.kustomization("base", {"resources": ["all.yaml"], "namePrefix": "b-",
                                "nameSuffix": "-1", "namespace": "base-ns"})  # fmt: skip
    by_original = pod_smp("Deployment", "web", {"containers": [container("web", "web:2.0")]})
    by_current = pod_smp("Deployment", "b-api-1", {"containers": [container("api", "api:2.0")]},
                         "base-ns")  # fmt: skip
    db_ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
               "value": "db:2.0"}]  # fmt: skip
    repo.kustomization("envs/dev", {
        "resources": ["../../base"], "namePrefix": "d-", "namespace": "dev",
        "patches": [{"patch": dump(by_original)}, {"patch": dump(by_current)},
                    {"patch": dump(db_ops), "target": {"name": "db", "namespace": "data"}}],
    })  # fmt: skip
    again = pod_smp("Deployment", "d-b-web-1", {"containers": [container("web", "web:3.0")]},
                    "dev")  # fmt: skip
    api_ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                "value": "api:3.0"}]  # fmt: skip
    repo.kustomization("envs/prod", {
        "resources": ["../dev"], "nameSuffix": "-p",
        "patches": [{"patch": dump(again)},
                    {"patch": dump(api_ops), "target": {"kind": "Deployment", "name": "api"}}],
    })  # fmt: skip
    return repo


def scenario_components() -> Repo:
    """Components with their own resources, patches, images and nested components."""
    repo = Repo(builds=["base", "envs/dev"])
    component = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}
    repo.add("base/d.yaml", dump(_web()))
    repo.kustomization("base", {"resources": ["d.yaml"], "components": ["../components/tls"]})
    repo.add("components/tls/proxy.yaml", dump(pod_smp("Deployment", "web", {"containers": [
        container("tls", "ghostunnel:1.7")]})))  # fmt: skip
    repo.kustomization("components/tls", {**component, "patches": [{"path": "proxy.yaml"}]})
    repo.add("components/monitoring/agent.yaml", dump(
        workload("DaemonSet", "agent", [("agent", "datadog/agent:7.50")])))  # fmt: skip
    ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
            "value": "web:9.9"}]  # fmt: skip
    repo.kustomization("components/monitoring", {
        **component, "resources": ["agent.yaml"], "components": ["../versions"],
        "patches": [{"patch": dump(ops), "target": {"kind": "Deployment"}}],
        "images": [{"name": "datadog/agent", "newTag": "7.51"}],
    }, "Kustomization")  # fmt: skip
    repo.kustomization(
        "components/versions",
        {**component, "images": [{"name": "envoy", "newTag": "1.29"}]},
        "kustomization.yml",
    )
    repo.kustomization(
        "envs/dev", {"resources": ["../../base"], "components": ["../../components/monitoring"]}
    )
    return repo


def scenario_versions() -> Repo:
    """YAML floats, ints, dates and odd strings as chart versions and tags, SMP on CRDs."""
    repo = Repo(builds=["base", "envs/dev"])
    charts = [("float", Raw("1.10")), ("whole", Raw("6.0")), ("quoted", Single("2.0")),
              ("int", Raw("7")), ("odd", Raw("v1.2.2.2022-01-15t161730814Z.9eabf5b")),
              ("date", Raw("2022-01-15")), ("exp", Raw("1e3")), ("yes", Raw("yes"))]  # fmt: skip
    docs = [workload("HelmRelease", n, chart_version=v) for n, v in charts]
    docs.append(workload("Deployment", "tags", [("tags", "app:1.10"), ("b", "app:1.2e3")]))
    repo.add("base/all.yaml", dump(*docs))
    repo.kustomization("base", {"resources": ["all.yaml"]})
    version = {"spec": {"chart": {"spec": {"version": Raw("1.20")}}}}
    repo.kustomization("envs/dev", {"resources": ["../../base"], "patches": [
        {"patch": dump(smp("HelmRelease", "float", version))},
        {"patch": dump([{"op": "add", "path": "/spec/chart/spec/version", "value": Raw("2.50")}]),
         "target": {"kind": "HelmRelease", "name": "int"}},
    ], "images": [{"name": "app", "newTag": "1.10"}]})  # fmt: skip
    return repo


SCENARIOS = {
    f.__name__.removeprefix("scenario_"): f
    for f in (
        scenario_resources,
        scenario_patch_forms,
        scenario_images,
        scenario_names,
        scenario_components,
        scenario_versions,
    )
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_kubectl(check: Any, name: str) -> None:
    """A hand-written repository using every form of one feature reads as kubectl renders it."""
    check(SCENARIOS[name]())


# -- 3. which layer wins -------------------------------------------------------------------


def _layering_repo(base: dict[str, Any], dev: dict[str, Any], files: dict[str, Any]) -> Repo:
    repo = Repo(builds=["envs/dev"])
    repo.add("base/d.yaml", dump(workload("Deployment", "app", [("app", "app:1.0")])))
    repo.kustomization("base", {"resources": ["d.yaml"], **base})
    for path, doc in files.items():
        repo.add(path, dump(doc))
    repo.kustomization("envs/dev", {"resources": ["../../base"], **dev})
    return repo


def _app_patch(tag: str) -> dict[str, Any]:
    return pod_smp("Deployment", "app", {"containers": [container("app", f"app:{tag}")]})


def _app_ops(tag: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
             "value": f"app:{tag}"}]  # fmt: skip


_TARGET = {"kind": "Deployment", "name": "app"}
LAYERING = {
    "images beat a patch of the same layer": (
        _layering_repo({}, {"patches": [{"path": "p.yaml"}],
                            "images": [{"name": "app", "newTag": "3.0"}]},
                       {"envs/dev/p.yaml": _app_patch("2.0")}),
        ("images", "envs/dev/kustomization.yaml"),
    ),
    "images beat patchesJson6902 of the same layer": (
        _layering_repo({}, {"patchesJson6902": [{"target": {"group": "apps", "version": "v1",
                                                            **_TARGET}, "path": "ops.yaml"}],
                            "images": [{"name": "app", "newTag": "3.1"}]},
                       {"envs/dev/ops.yaml": _app_ops("2.1")}),
        ("images", "envs/dev/kustomization.yaml"),
    ),
    "an overlay's patch beats its base's images": (
        _layering_repo({"images": [{"name": "app", "newTag": "2.0"}]},
                       {"patches": [{"path": "p.yaml"}]},
                       {"envs/dev/p.yaml": _app_patch("5.0")}),
        ("patch", "envs/dev/p.yaml"),
    ),
    "an overlay's images beat its base's patch": (
        _layering_repo({"patches": [{"path": "p.yaml"}]},
                       {"images": [{"name": "app", "newTag": "6.0"}]},
                       {"base/p.yaml": _app_patch("5.0")}),
        ("images", "envs/dev/kustomization.yaml"),
    ),
    "patches beat patchesStrategicMerge of the same layer": (
        _layering_repo({}, {"patchesStrategicMerge": ["p.yaml"],
                            "patches": [{"path": "ops.yaml", "target": _TARGET}]},
                       {"envs/dev/p.yaml": _app_patch("7.0"),
                        "envs/dev/ops.yaml": _app_ops("7.1")}),
        ("json6902", "envs/dev/ops.yaml"),
    ),
    "patchesJson6902 beat patches of the same layer": (
        _layering_repo({}, {"patches": [{"path": "p.yaml"}],
                            "patchesJson6902": [{"target": {"group": "apps", "version": "v1",
                                                            **_TARGET}, "path": "ops.yaml"}]},
                       {"envs/dev/p.yaml": _app_patch("8.0"),
                        "envs/dev/ops.yaml": _app_ops("8.1")}),
        ("json6902", "envs/dev/ops.yaml"),
    ),
    "the later of two patches wins": (
        _layering_repo({}, {"patches": [{"path": "p.yaml"}, {"path": "q.yaml"}]},
                       {"envs/dev/p.yaml": _app_patch("9.0"),
                        "envs/dev/q.yaml": _app_patch("9.1")}),
        ("patch", "envs/dev/q.yaml"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("rule", sorted(LAYERING))
def test_layering_matches_kubectl(kubectl: str, tmp_path: Path, rule: str) -> None:
    """The version kubectl renders comes from the layer and mechanism the reader names."""
    repo, (mechanism, file) = LAYERING[rule]
    compare_repo(kubectl, repo, tmp_path)
    ((ok, output),) = kubectl_many(kubectl, [tmp_path / "envs/dev"])
    assert ok, output
    build = Builder(tmp_path).build("envs/dev")
    (app,) = apps_of(build.resources, _line_reader(tmp_path))
    assert kubectl_answer(output, app_names([app])).versions == {app_key(app): app.version}
    assert app.source is not None
    assert (mechanism, file) == (app.source.type, app.source.file)


# -- 4. what kustomize refuses ----------------------------------------------------------------

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
DEPLOY = dump(workload("Deployment", "app", [("app", "app:1.0")]))
SMP_NOBODY = dump(pod_smp("Deployment", "nobody", {"containers": [container("a", "a:1")]}))
REFUSED: dict[str, tuple[dict[str, str], str, str, int | None]] = {
    # name: (files, directory to build, file the error must name, line it must name)
    "patch file matching nothing": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- path: p.yaml\n",
         "o/d.yaml": DEPLOY, "o/p.yaml": SMP_NOBODY}, "o", "o/p.yaml", None),
    "inline patch matching nothing": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- patch: |\n"
         + "".join(f"    {line}\n" for line in SMP_NOBODY.splitlines()),
         "o/d.yaml": DEPLOY}, "o", "o/kustomization.yaml", None),
    "patchesStrategicMerge matching nothing": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatchesStrategicMerge: [p.yaml]\n",
         "o/d.yaml": DEPLOY, "o/p.yaml": SMP_NOBODY}, "o", "o/p.yaml", None),
    "resource cycle": (
        {"a/kustomization.yaml": "resources: [../b]\n",
         "b/kustomization.yaml": "resources:\n- ../a\n"}, "a", "a/kustomization.yaml", None),
    "component cycle": (
        {"o/kustomization.yaml": "resources: [x.yaml]\ncomponents: [../c]\n", "o/x.yaml": CONFIG,
         "c/kustomization.yaml": "kind: Component\nresources: [../o]\n"},
        "o", "o/kustomization.yaml", None),
    "resource file outside the kustomization directory": (
        {"o/kustomization.yaml": "resources:\n- ../x.yaml\n", "x.yaml": CONFIG},
        "o", "o/kustomization.yaml", 2),
    "patch file outside the kustomization directory": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- path: ../p.yaml\n",
         "o/d.yaml": DEPLOY, "p.yaml": SMP_NOBODY}, "o", "o/kustomization.yaml", 3),
    "missing resource file": (
        {"o/kustomization.yaml": "resources:\n- x.yaml\n- nothere.yaml\n", "o/x.yaml": CONFIG},
        "o", "o/kustomization.yaml", 3),
    "missing resource directory": (
        {"o/kustomization.yaml": "resources:\n- ../nothere\n"}, "o", "o/kustomization.yaml", 2),
    "directory without a kustomization": (
        {"o/kustomization.yaml": "resources:\n- ../plain\n", "plain/x.yaml": CONFIG},
        "o", "plain", None),
    "malformed resource YAML": (
        {"o/kustomization.yaml": "resources: [x.yaml]\n",
         "o/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n"},
        "o", "o/x.yaml", 5),
    "malformed kustomization YAML": (
        {"o/kustomization.yaml": "resources:\n- x.yaml\npatches: [\n", "o/x.yaml": CONFIG},
        "o", "o/kustomization.yaml", 4),
    "duplicate resource ids": (
        {"o/kustomization.yaml": "resources:\n- x.yaml\n- y.yaml\n", "o/x.yaml": CONFIG,
         "o/y.yaml": CONFIG}, "o", "o/kustomization.yaml", 3),
    "duplicate ids from two bases": (
        {"o/kustomization.yaml": "resources:\n- ../a\n- ../b\n",
         "a/kustomization.yaml": "resources: [x.yaml]\n", "a/x.yaml": CONFIG,
         "b/kustomization.yaml": "resources: [x.yaml]\n", "b/x.yaml": CONFIG},
        "o", "o/kustomization.yaml", 3),
    "two kustomization files": (
        {"o/kustomization.yaml": "resources: [x.yaml]\n", "o/Kustomization": "resources: []\n",
         "o/x.yaml": CONFIG}, "o", "o", None),
    "newTag written as a YAML float": (
        {"o/kustomization.yaml": "resources: [d.yaml]\nimages:\n- name: app\n  newTag: 1.10\n",
         "o/d.yaml": DEPLOY}, "o", "o/kustomization.yaml", 4),
    "newTag written as a YAML boolean": (
        {"o/kustomization.yaml": "resources: [d.yaml]\nimages:\n- name: app\n  newTag: yes\n",
         "o/d.yaml": DEPLOY}, "o", "o/kustomization.yaml", 4),
    "patch starting with [ that is not JSON": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- path: ops.json\n"
         "  target: {kind: Deployment}\n", "o/d.yaml": DEPLOY,
         "o/ops.json": "[{op: replace, path: /spec/replicas, value: 2}]\n"}, "o", "o/ops.json", 1),
    "JSON6902 path that does not exist": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- path: ops.yaml\n"
         "  target: {kind: Deployment}\n", "o/d.yaml": DEPLOY,
         "o/ops.yaml": "- op: replace\n  path: /spec/nothere/image\n  value: x\n"},
        "o", "o/ops.yaml", 1),
    "JSON6902 remove of a missing key": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- target: {kind: Deployment}\n"
         "  patch: |\n    - op: remove\n      path: /metadata/nothere\n", "o/d.yaml": DEPLOY},
        "o", "o/kustomization.yaml", None),
    "targeted patch without metadata.name": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- target: {kind: Deployment}\n"
         "  patch: |\n    kind: Deployment\n    spec: {replicas: 2}\n", "o/d.yaml": DEPLOY},
        "o", "o/kustomization.yaml", 5),
    "several targeted patches in one entry": (
        {"o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- target: {kind: Deployment}\n"
         "  path: p.yaml\n", "o/d.yaml": DEPLOY, "o/p.yaml": f"{SMP_NOBODY}---\n{SMP_NOBODY}"},
        "o", "o/kustomization.yaml", 3),
    "component that is a Kustomization": (
        {"o/kustomization.yaml": "resources: [x.yaml]\ncomponents: [../c]\n", "o/x.yaml": CONFIG,
         "c/kustomization.yaml": "namePrefix: p-\n"}, "o", "c/kustomization.yaml", None),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_like_kubectl(kubectl: str, tmp_path: Path, case: str) -> None:
    """What kustomize refuses, the reader refuses too, naming the file (and line) to fix."""
    files, directory, file, line = REFUSED[case]
    repo = Repo(dict(files), [directory])
    repo.write(tmp_path)
    ((ok, output),) = kubectl_many(kubectl, [tmp_path / directory])
    assert not ok, f"kubectl accepted it:\n{output}\n{repo.tree()}"
    with pytest.raises(ManifestError) as caught:
        Builder(tmp_path).build(directory)
    assert file in str(caught.value)
    assert file == caught.value.file
    if line is not None:
        assert line == caught.value.line


ACCEPTED = {
    "JSON6902 patch whose target selects nothing": (
        "patches:\n- target: {kind: StatefulSet}\n  patch: |\n"
        "    - {op: replace, path: /spec/template/spec/containers/0/image, value: x:9}\n"),
    "patchesJson6902 whose target selects nothing": (
        "patchesJson6902:\n"
        "- target: {group: apps, version: v1, kind: Deployment, name: nobody}\n"
        "  patch: |\n"
        "    - {op: replace, path: /spec/template/spec/containers/0/image, value: x}\n"),
    "targeted SMP selecting nothing": (
        "patches:\n- target: {labelSelector: app=nobody}\n  patch: |\n"
        + "".join(f"    {line}\n" for line in SMP_NOBODY.splitlines())),
    "images entry matching nothing": "images:\n- name: nothing\n  newTag: '2'\n",
    "JSON6902 replace of a missing key adds it": (
        "patches:\n- target: {kind: Deployment}\n  patch: |\n"
        "    - {op: replace, path: /spec/template/spec/containers/0/imagePullPolicy, value: A}\n"
        "    - {op: replace, path: /spec/template/spec/containers/-1/image, value: 'app:2'}\n"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_like_kubectl(check: Any, case: str) -> None:
    """What kustomize builds without complaint (patches selecting nothing) builds natively."""
    check(Repo({"o/kustomization.yaml": "resources: [d.yaml]\n" + ACCEPTED[case],
                "o/d.yaml": DEPLOY}, ["o"]))  # fmt: skip
