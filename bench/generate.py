"""Generate a large, realistic kustomize + Flux GitOps repository for benchmarks.

Layout (``pipelines=100, stages=4, apps=20`` gives roughly 9,700 small YAML files)::

    base/<app>/                  shared app definitions (Deployment, StatefulSet, CronJob or
                                 Flux HelmRelease, plus Service/ServiceAccount/ConfigMap)
    image-automation/<app>.yaml  Flux ImageRepository + ImagePolicy per image-built app
    pipelines/pNNN/<stage>/
        kustomization.yaml       namespace, labels, resources -> ../../../base/<app>,
                                 patches (files and inline), images
        sync.yaml                the Flux Kustomization labelled pipelines.weave.works/*
        namespace.yaml           the stage's Namespace
        <app>.yaml               one strategic-merge patch per app (replicas, resources,
                                 values; and the version when the app's form is ``smp``)
        <app>-version.yaml       a JSON6902 patch of a HelmRelease chart version

Every app of every stage sets its version in one of five forms: a strategic-merge patch
file (``smp``), a kustomization ``images:`` entry (``images``), a JSON6902 patch file of the
HelmRelease chart version (``json6902``), an inline patch in the kustomization (``inline``),
or nothing at all, inheriting the base version (``inherit``).  Sidecar images are sometimes
overridden stage-wide with an ``images:`` entry.

``plan()`` returns the full expected picture (versions, images and where each version is
written) so a benchmark can check a tool's output against it; ``generate()`` writes it.
Everything is derived from ``seed``: the same arguments give byte-identical repositories.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# The Flux sync files are the tests' own (tests/builders/repos.py): the project root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.builders.repos import flux_sync

FORMS = ("smp", "images", "json6902", "inline", "inherit")
SOURCE_TYPE = {
    "smp": "patch",
    "images": "images",
    "json6902": "json6902",
    "inline": "inline-patch",
    "inherit": "resource",
}
"""The ``source.type`` a native reader should report for each form."""

STAGE_NAMES = ("dev", "qa", "staging", "preprod", "canary")
WORKLOAD_API = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "CronJob": "batch/v1",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
}
_KIND_WEIGHTS = {"Deployment": 55, "StatefulSet": 10, "CronJob": 12, "HelmRelease": 23}
_SIDECARS = {
    "envoy": ("envoyproxy/envoy", ("v1.27.0", "v1.27.2", "v1.28.0", "v1.28.1", "v1.29.0")),
    "fluent-bit": ("cr.fluentbit.io/fluent/fluent-bit", ("2.1.10", "2.2.0", "2.2.2", "3.0.0")),
    "oauth2-proxy": (
        "quay.io/oauth2-proxy/oauth2-proxy",
        ("v7.5.0", "v7.5.1", "v7.6.0"),
    ),
}
_REGISTRIES = (
    "ghcr.io/acme",
    "registry.example.com/team",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
)
_CHART_REPOS = (
    ("bitnami", "https://charts.bitnami.com/bitnami"),
    ("bitnami-oci", "oci://registry-1.docker.io/bitnamicharts"),
    ("internal", "https://charts.example.com/stable"),
)
_WORDS = (
    "billing",
    "cart",
    "catalog",
    "checkout",
    "orders",
    "payments",
    "inventory",
    "shipping",
    "accounts",
    "ledger",
    "pricing",
    "reviews",
    "ratings",
    "promo",
    "loyalty",
    "identity",
    "session",
    "notify",
    "mailer",
    "reports",
    "audit",
    "export",
    "import",
    "media",
    "thumbs",
    "geo",
    "fraud",
    "quotes",
    "tax",
    "invoice",
    "refunds",
    "wishlist",
    "recommend",
    "feeds",
    "metrics",
    "tracing",
    "uploads",
    "ledgerd",
    "scheduler",
)


# -- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Container:
    """A container of a base workload."""

    name: str
    repo: str
    tag: str
    role: str  # "main", "init" or "sidecar"

    @property
    def image(self) -> str:
        return f"{self.repo}:{self.tag}"

    @property
    def init(self) -> bool:
        return self.role == "init"


@dataclass(frozen=True)
class BaseApp:
    """One app definition under ``base/``."""

    name: str
    kind: str
    version: str
    """Base version: the main container's tag, or the chart version of a HelmRelease."""
    containers: tuple[Container, ...] = ()
    chart: str = ""
    chart_repo: str = ""
    chart_url: str = ""
    service: bool = False
    service_account: bool = False
    config_map: bool = False

    @property
    def file(self) -> str:
        """The base file holding the app object."""
        return f"base/{self.name}/{self.kind.lower()}.yaml"

    @property
    def api_version(self) -> str:
        return WORKLOAD_API[self.kind]


@dataclass(frozen=True)
class StageApp:
    """An app as one stage deploys it, and how the stage sets its version."""

    app: BaseApp
    form: str
    version: str
    automated: bool
    images: tuple[tuple[str, bool, str], ...]
    """``(container, init, image)`` for every container, in pod-spec order (init first)."""

    @property
    def key(self) -> str:
        return f"{self.app.kind}/{self.app.name}"


@dataclass(frozen=True)
class StagePlan:
    """One stage directory of a pipeline."""

    pipeline: str
    name: str
    order: int
    apps: tuple[StageApp, ...]
    sidecar_tags: tuple[tuple[str, str], ...]
    """Stage-wide ``images:`` overrides of sidecar images: ``(repo, tag)``."""

    @property
    def path(self) -> str:
        return f"pipelines/{self.pipeline}/{self.name}"

    @property
    def namespace(self) -> str:
        return f"{self.pipeline}-{self.name}"

    def source_file(self, app: StageApp) -> str:
        """The file a native reader should name as the source of ``app``'s version."""
        if app.form == "smp":
            return f"{self.path}/{app.app.name}.yaml"
        if app.form == "json6902":
            return f"{self.path}/{app.app.name}-version.yaml"
        if app.form in ("images", "inline"):
            return f"{self.path}/kustomization.yaml"
        return app.app.file


@dataclass(frozen=True)
class PipelinePlan:
    name: str
    team: str
    stages: tuple[StagePlan, ...]


@dataclass(frozen=True)
class RepoPlan:
    apps: tuple[BaseApp, ...]
    pipelines: tuple[PipelinePlan, ...]

    @property
    def stages(self) -> Iterable[StagePlan]:
        for pipeline in self.pipelines:
            yield from pipeline.stages


@dataclass
class _Writer:
    root: Path
    count: int = 0
    made: set[Path] = field(default_factory=set)

    def __call__(self, rel: str, text: str) -> None:
        path = self.root / rel
        if path.parent not in self.made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(path.parent)
        path.write_text(text, encoding="utf-8")
        self.count += 1


def stage_names(stages: int) -> list[str]:
    """Realistic stage names in promotion order, ending in ``prod``."""
    if stages < 1:
        raise ValueError("stages must be >= 1")
    if stages - 1 > len(STAGE_NAMES):
        return [f"stage{i}" for i in range(stages)]
    return [*STAGE_NAMES[: stages - 1], "prod"]


def plan(pipelines: int = 100, stages: int = 4, apps: int = 20, seed: int = 0) -> RepoPlan:
    """The repository ``generate`` writes, as data."""
    if pipelines < 1 or apps < 1:
        raise ValueError("pipelines and apps must be >= 1")
    rng = random.Random(f"kustomize-promoter-bench:{seed}")
    pool = _base_apps(rng, max(apps * 2, 4))
    names = stage_names(stages)
    teams = [f"team-{w}" for w in ("red", "blue", "green", "amber", "violet", "teal")]
    out = []
    for index in range(pipelines):
        name = f"p{index:03d}"
        chosen = sorted(rng.sample(range(len(pool)), apps))
        chosen_apps = [pool[i] for i in chosen]
        out.append(PipelinePlan(name, rng.choice(teams), _stages(rng, name, names, chosen_apps)))
    return RepoPlan(tuple(pool), tuple(out))


_ROLES = {
    "Deployment": ("api", "web", "worker", "svc", "sync", "gateway"),
    "StatefulSet": ("store", "queue", "index"),
    "CronJob": ("report", "cleanup", "export", "backup"),
    "HelmRelease": ("cache", "db", "broker", "search"),
}
_CHARTS = {"cache": "redis", "db": "postgresql", "broker": "rabbitmq", "search": "opensearch"}


def _base_apps(rng: random.Random, count: int) -> list[BaseApp]:
    kinds = list(_KIND_WEIGHTS)
    weights = list(_KIND_WEIGHTS.values())
    used: set[str] = set()
    apps = []
    for index in range(count):
        kind = rng.choices(kinds, weights)[0]
        role = rng.choice(_ROLES[kind])
        name = f"{rng.choice(_WORDS)}-{role}"
        if name in used:
            name = f"{name}{index}"
        used.add(name)
        if kind == "HelmRelease":
            repo_name, url = rng.choice(_CHART_REPOS)
            apps.append(
                BaseApp(
                    name,
                    kind,
                    _semver(rng),
                    chart=_CHARTS[role],
                    chart_repo=repo_name,
                    chart_url=url,
                )
            )
            continue
        version = _calver(rng) if kind == "CronJob" else _prefix(rng) + _semver(rng)
        repo = f"{rng.choice(_REGISTRIES)}/{name}"
        containers = []
        if kind == "Deployment" and rng.random() < 0.2:
            containers.append(Container("migrate", f"{repo}-migrate", version, "init"))
        containers.append(Container(name, repo, version, "main"))
        if kind == "Deployment" and rng.random() < 0.45:
            sidecar = rng.choice(sorted(_SIDECARS))
            sidecar_repo, tags = _SIDECARS[sidecar]
            containers.append(Container(sidecar, sidecar_repo, rng.choice(tags[:3]), "sidecar"))
        apps.append(
            BaseApp(
                name,
                kind,
                version,
                tuple(containers),
                service=kind != "CronJob",
                service_account=rng.random() < 0.5,
                config_map=rng.random() < 0.3,
            )
        )
    return apps


def _prefix(rng: random.Random) -> str:
    return "v" if rng.random() < 0.3 else ""


def _semver(rng: random.Random) -> str:
    return f"{rng.randint(0, 4)}.{rng.randint(0, 24)}.{rng.randint(0, 12)}"


def _calver(rng: random.Random) -> str:
    return f"2024.{rng.randint(1, 9):02d}.{rng.randint(1, 5)}"


def _bump(rng: random.Random, version: str) -> str:
    """A later version of the same shape (semver, v-semver or calver)."""
    prefix = "v" if version.startswith("v") else ""
    parts = [int(p) for p in version.removeprefix("v").split(".")]
    if parts[0] >= 2000:  # calver YYYY.MM.N
        if rng.random() < 0.6 or parts[1] >= 12:
            parts[2] += 1
        else:
            parts[1], parts[2] = parts[1] + 1, 1
        return f"{parts[0]}.{parts[1]:02d}.{parts[2]}"
    roll = rng.random()
    if roll < 0.6:
        parts[2] += 1
    elif roll < 0.95:
        parts[1], parts[2] = parts[1] + 1, 0
    else:
        parts = [parts[0] + 1, 0, 0]
    return prefix + ".".join(str(p) for p in parts)


def _stages(
    rng: random.Random, pipeline: str, names: list[str], apps: list[BaseApp]
) -> tuple[StagePlan, ...]:
    # Versions are chosen from prod (oldest) back to dev (newest): each stage runs the
    # version of the stage after it or a newer one, as promotions leave them.
    versions: dict[str, list[str]] = {}
    for app in apps:
        current = app.version if rng.random() < 0.5 else _bump(rng, app.version)
        chain = [current]
        for _ in names[1:]:
            if rng.random() < 0.45:
                current = _bump(rng, current)
            chain.append(current)
        versions[app.name] = chain[::-1]
    plans = []
    for order, stage in enumerate(names):
        sidecars: dict[str, str] = {}
        for repo, tags in sorted(_SIDECARS.values()):
            if rng.random() < 0.25:
                sidecars[repo] = rng.choice(tags)
        stage_apps = []
        for app in apps:
            version = versions[app.name][order]
            form = _form(rng, app, version)
            automated = order == 0 and form in ("smp", "images") and app.kind != "HelmRelease"
            images = tuple(
                (
                    c.name,
                    c.init,
                    f"{c.repo}:{sidecars.get(c.repo, c.tag) if c.role == 'sidecar' else version}",
                )
                for c in sorted(app.containers, key=lambda c: not c.init)
            )
            stage_apps.append(StageApp(app, form, version, automated, images))
        plans.append(
            StagePlan(pipeline, stage, order, tuple(stage_apps), tuple(sorted(sidecars.items())))
        )
    return tuple(plans)


def _form(rng: random.Random, app: BaseApp, version: str) -> str:
    if version == app.version and rng.random() < 0.6:
        return "inherit"
    if app.kind == "HelmRelease":
        return rng.choices(("json6902", "smp", "inline"), (50, 30, 20))[0]
    return rng.choices(("smp", "images", "inline"), (45, 40, 15))[0]


# -- writing --------------------------------------------------------------------------------


def generate(
    root: Path, pipelines: int = 100, stages: int = 4, apps: int = 20, seed: int = 0
) -> None:
    """Write the benchmark repository under ``root`` (created; must be empty or absent)."""
    write(Path(root), plan(pipelines, stages, apps, seed))


def write(root: Path, repo: RepoPlan) -> int:
    """Write ``repo`` under ``root``; returns the number of files written."""
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    w = _Writer(root)
    w(
        "README.md",
        "# Generated benchmark repository\n\nWritten by bench/generate.py; do not edit.\n",
    )
    for app in repo.apps:
        _write_base(w, app)
    for pipeline in repo.pipelines:
        for stage in pipeline.stages:
            _write_stage(w, pipeline, stage)
    return w.count


def _write_base(w: _Writer, app: BaseApp) -> None:
    d = f"base/{app.name}"
    resources = []
    if app.kind == "HelmRelease":
        w(f"{d}/helmrepository.yaml", _helm_repository(app))
        w(f"{d}/helmrelease.yaml", _helm_release(app))
        resources = ["helmrepository.yaml", "helmrelease.yaml"]
    else:
        if app.service_account:
            w(f"{d}/serviceaccount.yaml", _service_account(app))
            resources.append("serviceaccount.yaml")
        if app.config_map:
            w(f"{d}/configmap.yaml", _config_map(app))
            resources.append("configmap.yaml")
        w(app.file, _workload(app))
        resources.append(f"{app.kind.lower()}.yaml")
        if app.service:
            w(f"{d}/service.yaml", _service(app))
            resources.append("service.yaml")
        main = next(c for c in app.containers if c.role == "main")
        w(f"image-automation/{app.name}.yaml", _image_policy(app, main))
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"# {app.name}: shared definition; stages pin their own versions.",
        "resources:",
        *(f"  - {r}" for r in resources),
    ]
    w(f"{d}/kustomization.yaml", _text(lines))


def _text(lines: Iterable[str]) -> str:
    return "\n".join(lines) + "\n"


def _labels(name: str, indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}labels:", f"{pad}  app.kubernetes.io/name: {name}"]


def _workload(app: BaseApp) -> str:
    name = app.name
    lines = [f"apiVersion: {app.api_version}", f"kind: {app.kind}", "metadata:", f"  name: {name}"]
    lines += _labels(name, 2)
    if app.kind == "CronJob":
        lines += [
            "spec:",
            f'  schedule: "{len(name) % 60} {len(name) % 24} * * *"',
            "  concurrencyPolicy: Forbid",
            "  jobTemplate:",
            "    spec:",
            "      backoffLimit: 2",
            "      template:",
            "        metadata:",
            *_labels(name, 10),
            "        spec:",
            "          restartPolicy: OnFailure",
        ]
        lines += _pod_spec(app, 10)
        return _text(lines)
    lines += ["spec:", "  replicas: 1"]
    if app.kind == "StatefulSet":
        lines.append(f"  serviceName: {name}")
    lines += [
        "  selector:",
        "    matchLabels:",
        f"      app.kubernetes.io/name: {name}",
        "  template:",
        "    metadata:",
        *_labels(name, 6),
        "    spec:",
    ]
    lines += _pod_spec(app, 6)
    if app.kind == "StatefulSet":
        lines += [
            "  volumeClaimTemplates:",
            "    - metadata:",
            "        name: data",
            "      spec:",
            "        accessModes: [ReadWriteOnce]",
            "        resources:",
            "          requests:",
            "            storage: 10Gi",
        ]
    return _text(lines)


def _pod_spec(app: BaseApp, indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    if app.service_account:
        lines.append(f"{pad}serviceAccountName: {app.name}")
    inits = [c for c in app.containers if c.init]
    if inits:
        lines.append(f"{pad}initContainers:")
        lines.append(f"{pad}  # Runs database migrations before the app starts.")
        for c in inits:
            lines += [
                f"{pad}  - name: {c.name}",
                f"{pad}    image: {c.image}",
                f'{pad}    args: ["migrate", "up"]',
            ]
    lines.append(f"{pad}containers:")
    for c in app.containers:
        if c.init:
            continue
        if c.role == "sidecar":
            lines.append(f"{pad}  # Sidecar; stages may pin it stage-wide with an images: entry.")
        lines += [f"{pad}  - name: {c.name}", f"{pad}    image: {c.image}"]
        if c.role == "main" and app.kind != "CronJob":
            lines += [
                f"{pad}    ports:",
                f"{pad}      - name: http",
                f"{pad}        containerPort: 8080",
            ]
        if c.role == "main" and app.config_map:
            lines += [
                f"{pad}    envFrom:",
                f"{pad}      - configMapRef:",
                f"{pad}          name: {app.name}",
            ]
        if c.role == "main":
            lines += [
                f"{pad}    env:",
                f"{pad}      - name: LOG_LEVEL",
                f"{pad}        value: info",
                f"{pad}    resources:",
                f"{pad}      requests:",
                f"{pad}        cpu: 100m",
                f"{pad}        memory: 128Mi",
            ]
    return lines


def _service(app: BaseApp) -> str:
    return _text(
        [
            "apiVersion: v1",
            "kind: Service",
            "metadata:",
            f"  name: {app.name}",
            *_labels(app.name, 2),
            "spec:",
            "  selector:",
            f"    app.kubernetes.io/name: {app.name}",
            "  ports:",
            "    - name: http",
            "      port: 80",
            "      targetPort: http",
        ]
    )


def _service_account(app: BaseApp) -> str:
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app.name}\n"


def _config_map(app: BaseApp) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app.name}\ndata:\n"
        f'  FEATURE_FLAGS: "search,checkout"\n  UPSTREAM_TIMEOUT: "5s"\n'
    )


def _helm_repository(app: BaseApp) -> str:
    return _text(
        [
            "apiVersion: source.toolkit.fluxcd.io/v1",
            "kind: HelmRepository",
            "metadata:",
            f"  name: {app.name}",
            "spec:",
            "  interval: 1h",
            f"  url: {app.chart_url}",
        ]
    )


def _helm_release(app: BaseApp) -> str:
    return _text(
        [
            "apiVersion: helm.toolkit.fluxcd.io/v2",
            "kind: HelmRelease",
            "metadata:",
            f"  name: {app.name}",
            "spec:",
            "  interval: 10m",
            "  chart:",
            "    spec:",
            f"      chart: {app.chart}",
            f"      # Chart from {app.chart_repo}; stages pin their own version.",
            f"      version: {app.version}",
            "      sourceRef:",
            "        kind: HelmRepository",
            f"        name: {app.name}",
            "  values:",
            "    replicaCount: 1",
            "    resources:",
            "      requests:",
            "        cpu: 100m",
        ]
    )


def _image_policy(app: BaseApp, main: Container) -> str:
    policy = (
        '    calver:\n      pattern: "^2024\\\\.[0-9]{2}\\\\.[0-9]+$"\n'
        if app.kind == "CronJob"
        else '    semver:\n      range: ">=0.0.0"\n'
    )
    return (
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\n"
        "kind: ImageRepository\n"
        "metadata:\n"
        f"  name: {app.name}\n"
        "  namespace: flux-system\n"
        "spec:\n"
        f"  image: {main.repo}\n"
        "  interval: 1h\n"
        "---\n"
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\n"
        "kind: ImagePolicy\n"
        "metadata:\n"
        f"  name: {app.name}\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  imageRepositoryRef:\n"
        f"    name: {app.name}\n"
        "  policy:\n"
        f"{policy}"
    )


def _write_stage(w: _Writer, pipeline: PipelinePlan, stage: StagePlan) -> None:
    d = stage.path
    w(f"{d}/sync.yaml", _sync(stage))
    w(
        f"{d}/namespace.yaml",
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {stage.namespace}\n",
    )
    patches: list[str] = []
    images: list[str] = []
    for app in stage.apps:
        w(f"{d}/{app.app.name}.yaml", _app_patch(stage, app))
        patches += [f"  - path: {app.app.name}.yaml"]
        if app.form == "json6902":
            w(f"{d}/{app.app.name}-version.yaml", _json6902(app.version, 0))
            patches += [
                f"  - path: {app.app.name}-version.yaml",
                "    target:",
                "      kind: HelmRelease",
                f"      name: {app.app.name}",
            ]
        elif app.form == "inline":
            patches += _inline_patch(app)
        elif app.form == "images":
            setter = (
                f'  # {{"$imagepolicy": "flux-system:{app.app.name}:tag"}}' if app.automated else ""
            )
            for c in app.app.containers:
                if c.role == "sidecar":
                    continue
                images += [f"  - name: {c.repo}", f"    newTag: {app.version}{setter}"]
    for repo, tag in stage.sidecar_tags:
        images += [f"  - name: {repo}", f"    newTag: {tag}"]
    previous = "" if stage.order == 0 else " Promoted from the stage before it."
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"# {pipeline.name} / {stage.name} ({pipeline.team}).{previous}",
        f"namespace: {stage.namespace}",
        "labels:",
        "  - pairs:",
        f"      example.com/pipeline: {pipeline.name}",
        f"      example.com/stage: {stage.name}",
        "resources:",
        "  - namespace.yaml",
        *(f"  - ../../../base/{a.app.name}" for a in stage.apps),
        "patches:",
        *patches,
    ]
    if images:
        if stage.order == 0:
            lines.append("# Kept current by Flux image automation (see image-automation/).")
        lines += ["images:", *images]
    w(f"{d}/kustomization.yaml", _text(lines))


def _sync(stage: StagePlan) -> str:
    return flux_sync(stage.namespace, f"./{stage.path}", stage.pipeline, stage.order)


def _json6902(version: str, indent: int) -> str:
    pad = " " * indent
    return f"{pad}- op: replace\n{pad}  path: /spec/chart/spec/version\n{pad}  value: {version}\n"


def _app_patch(stage: StagePlan, app: StageApp) -> str:
    """The per-app strategic-merge patch file; carries the version when the form is smp."""
    a = app.app
    head = [f"apiVersion: {a.api_version}", f"kind: {a.kind}", "metadata:", f"  name: {a.name}"]
    replicas = 1 if stage.order == 0 else 2 + (len(a.name) + stage.order) % 3
    if a.kind == "HelmRelease":
        lines = [*head, "spec:"]
        if app.form == "smp":
            lines += ["  chart:", "    spec:", f"      version: {app.version}"]
        lines += ["  values:", f"    replicaCount: {replicas}"]
        return _text(lines)
    smp = app.form == "smp"
    setter = f'  # {{"$imagepolicy": "flux-system:{a.name}"}}' if app.automated else ""
    if a.kind == "CronJob":
        lines = [*head, "spec:", f"  suspend: {'true' if stage.order == 0 else 'false'}"]
        if smp:
            lines += ["  jobTemplate:", "    spec:", "      template:", "        spec:"]
            lines += _container_lines(app, 10, setter, with_resources=False)
        return _text(lines)
    lines = [*head, "spec:", f"  replicas: {replicas}", "  template:", "    spec:"]
    lines += _container_lines(app, 6, setter if smp else "", with_resources=True, smp=smp)
    return _text(lines)


def _container_lines(
    app: StageApp, indent: int, setter: str, *, with_resources: bool, smp: bool = True
) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    tag = app.version
    inits = [c for c in app.app.containers if c.init]
    if smp and inits:
        lines.append(f"{pad}initContainers:")
        for c in inits:
            lines += [f"{pad}  - name: {c.name}", f"{pad}    image: {c.repo}:{tag}{setter}"]
    main = next(c for c in app.app.containers if c.role == "main")
    lines += [f"{pad}containers:", f"{pad}  - name: {main.name}"]
    if smp:
        lines.append(f"{pad}    image: {main.repo}:{tag}{setter}")
    if with_resources:
        cpu = 100 * (1 + app.version.count("1"))
        lines += [
            f"{pad}    resources:",
            f"{pad}      requests:",
            f"{pad}        cpu: {cpu}m",
            f"{pad}        memory: {128 * (1 + len(app.app.name) % 4)}Mi",
        ]
    return lines


def _inline_patch(app: StageApp) -> list[str]:
    a = app.app
    lines = ["  - target:", f"      kind: {a.kind}", f"      name: {a.name}", "    patch: |-"]
    if a.kind == "HelmRelease":
        return lines + _json6902(app.version, 6).rstrip("\n").split("\n")
    body = [f"apiVersion: {a.api_version}", f"kind: {a.kind}", "metadata:", f"  name: {a.name}"]
    if a.kind == "CronJob":
        body += ["spec:", "  jobTemplate:", "    spec:", "      template:", "        spec:"]
        body += _container_lines(app, 10, "", with_resources=False)
    else:
        body += ["spec:", "  template:", "    spec:"]
        body += _container_lines(app, 6, "", with_resources=False)
    return lines + [f"      {line}" for line in body]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--stages", type=int, default=4)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    count = write(args.out_dir, plan(args.pipelines, args.stages, args.apps, args.seed))
    print(f"wrote {count} files under {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
