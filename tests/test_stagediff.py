"""``pipelines diff``: the rendered difference between two stages, versions first."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter import GitOpsRepo, LookupFailed, RenderError
from promoter.stagediff import (
    ImageChange,
    Normalisation,
    ObjectDiff,
    VersionChange,
    diff_stages,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Neither colour nor a chosen renderer may leak in from the environment running the tests.
PLAIN_ENV: dict[str, str | None] = {
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "PROMOTER_DEBUG": None,
    "PROMOTER_KUSTOMIZE": None,
}

WEB_OBJECTS = ("Service/nginx", "Service/shop", "Deployment/nginx", "Deployment/shop")

WEB_DEV_TO_STAGING = (
    VersionChange(
        "Deployment",
        "nginx",
        "1.23.1",
        "1.22.0",
        (ImageChange("nginx", "nginx:1.23.1", "nginx:1.22.0"),),
    ),
    VersionChange(
        "Deployment",
        "shop",
        "1.4.2",
        "1.4.0",
        (
            ImageChange(
                "migrate",
                "ghcr.io/acme/shop-migrate:1.4.2",
                "ghcr.io/acme/shop-migrate:1.4.0",
                init=True,
            ),
            ImageChange("shop", "ghcr.io/acme/shop:1.4.2", "ghcr.io/acme/shop:1.4.0"),
            ImageChange("envoy", "envoyproxy/envoy:v1.28.0", "envoyproxy/envoy:v1.27.0"),
        ),
    ),
)


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test renders with whatever kustomize/kubectl PATH has, not a chosen one."""
    monkeypatch.delenv("PROMOTER_KUSTOMIZE", raising=False)


@pytest.fixture
def renderer() -> None:
    """kustomize or kubectl on PATH: a missing one fails in CI and skips elsewhere."""
    if shutil.which("kubectl") is None and shutil.which("kustomize") is None:
        message = "neither kubectl nor kustomize is on PATH: pipelines diff renders with it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def example() -> GitOpsRepo:
    """The example repository of the checkout (base/ and pipelines/), read only."""
    return GitOpsRepo.open(PROJECT_ROOT)


def invoke(*args: str) -> Result:
    """Run ``pipelines ARGS`` in-process, stdout a plain pipe."""
    return CliRunner().invoke(app, list(args), env=PLAIN_ENV)


def write(root: Path, files: dict[str, str]) -> Path:
    """Write dedented ``{path: text}`` under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: app
    spec:
      replicas: 1
      selector:
        matchLabels:
          app: app
      template:
        metadata:
          labels:
            app: app
        spec:
          containers:
            - name: app
              image: ghcr.io/acme/app:1.0.0
    """

PIPELINE = """
    pipelines:
      - name: app
        stages:
          - path: stages/dev
          - path: stages/prod
    """


@pytest.fixture
def replicas_repo(tmp_path: Path) -> Path:
    """dev runs app 1.1.0; prod runs 1.0.0 and also scales to 3 replicas."""
    return write(
        tmp_path / "repo",
        {
            "promoter.yaml": PIPELINE,
            "base/deployment.yaml": DEPLOYMENT,
            "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
            "stages/dev/kustomization.yaml": """
                namespace: app-dev
                resources:
                  - ../../base
                images:
                  - name: ghcr.io/acme/app
                    newTag: 1.1.0
                """,
            "stages/prod/kustomization.yaml": """
                namespace: app-prod
                resources:
                  - ../../base
                patches:
                  - patch: |-
                      - op: replace
                        path: /spec/replicas
                        value: 3
                    target:
                      kind: Deployment
                      name: app
                """,
        },
    )


@pytest.fixture
def renamed_repo(tmp_path: Path) -> Path:
    """dev: a name prefix, a merged generated ConfigMap, a Job only it has; prod: a mirror."""
    env_from = "envFrom:\n                - configMapRef:\n                    name: app-config\n"
    deployment = f"{DEPLOYMENT.rstrip()}\n              {env_from}"
    return write(
        tmp_path / "repo",
        {
            "promoter.yaml": PIPELINE,
            "base/deployment.yaml": deployment,
            "base/kustomization.yaml": """
                resources:
                  - deployment.yaml
                configMapGenerator:
                  - name: app-config
                    literals:
                      - LOG_LEVEL=info
                """,
            "stages/dev/kustomization.yaml": """
                namespace: app-dev
                namePrefix: dev-
                resources:
                  - ../../base
                  - seed.yaml
                images:
                  - name: ghcr.io/acme/app
                    newTag: 1.1.0
                configMapGenerator:
                  - name: app-config
                    behavior: merge
                    literals:
                      - LOG_LEVEL=debug
                """,
            "stages/dev/seed.yaml": """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: seed
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                        - name: seed
                          image: ghcr.io/acme/seed:0.1.0
                """,
            "stages/prod/kustomization.yaml": """
                namespace: app-prod
                resources:
                  - ../../base
                images:
                  - name: ghcr.io/acme/app
                    newName: mirror.example.com/acme/app
                """,
        },
    )


# -- the example repository ----------------------------------------------------------------


@pytest.mark.usefixtures("renderer")
def test_web_dev_to_staging_differs_only_in_versions(example: GitOpsRepo) -> None:
    """web dev and staging differ in nginx, shop and envoy versions and, by construction, in
    their namespace: the manifests set nothing else per stage."""
    result = diff_stages(example, "dev", "staging", "web")
    assert (result.pipeline, result.source.name, result.target.name) == ("web", "dev", "staging")
    assert result.versions == WEB_DEV_TO_STAGING
    assert result.objects == ()
    assert result.normalised == (
        Normalisation("metadata.namespace", "web-dev", "web-staging", WEB_OBJECTS),
    )
    assert result.same == WEB_OBJECTS


@pytest.mark.usefixtures("renderer")
def test_platform_staging_to_prod_carries_three_versions(example: GitOpsRepo) -> None:
    """platform staging -> prod carries nginx, the report CronJob and the podinfo chart."""
    result = diff_stages(example, "staging", "prod", "platform")
    objects = (
        "Service/nginx",
        "Deployment/nginx",
        "CronJob/report",
        "HelmRelease/podinfo",
        "HelmRepository/podinfo",
    )
    assert result.versions == (
        VersionChange(
            "Deployment",
            "nginx",
            "1.22.0",
            "1.21.6",
            (ImageChange("nginx", "nginx:1.22.0", "nginx:1.21.6"),),
        ),
        VersionChange(
            "CronJob",
            "report",
            "2024.06.1",
            "2024.05.1",
            (
                ImageChange(
                    "report",
                    "registry.example.com/team/report:2024.06.1",
                    "registry.example.com/team/report:2024.05.1",
                ),
            ),
        ),
        VersionChange("HelmRelease", "podinfo", "6.0.0", "5.2.1"),
    )
    assert result.objects == ()
    assert result.normalised == (
        Normalisation("metadata.namespace", "platform-staging", "platform-prod", objects),
    )


def test_stages_in_several_pipelines_need_pipeline(example: GitOpsRepo) -> None:
    """dev and staging exist in both example pipelines, so --pipeline must choose one."""
    with pytest.raises(LookupFailed) as caught:
        diff_stages(example, "dev", "staging")
    assert str(caught.value) == (
        "stages 'dev' and 'staging' exist in several pipelines (platform, web); "
        "choose one with --pipeline"
    )


def test_unknown_stage_suggests_the_closest(example: GitOpsRepo) -> None:
    """A misspelt stage fails with the closest stage names, with or without --pipeline."""
    with pytest.raises(LookupFailed) as in_pipeline:
        diff_stages(example, "dev", "stagin", "web")
    with pytest.raises(LookupFailed) as anywhere:
        diff_stages(example, "dev", "stagin")
    assert (str(in_pipeline.value), str(anywhere.value)) == (
        "unknown stage of pipeline 'web' 'stagin'; did you mean staging?",
        "unknown stage 'stagin'; did you mean staging?",
    )


def test_no_renderer_is_a_render_error(
    example: GitOpsRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without kustomize or kubectl the diff refuses with one clear RenderError."""
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", "promoter-test-no-such-command")
    with pytest.raises(RenderError) as caught:
        diff_stages(example, "dev", "staging", "web")
    assert str(caught.value) == (
        "pipelines diff renders both stages with kustomize, but neither kustomize nor kubectl "
        "is on PATH (or $PROMOTER_KUSTOMIZE names a missing command)"
    )


# -- stage-specific differences ------------------------------------------------------------


@pytest.mark.usefixtures("renderer")
def test_replicas_stay_stage_specific(replicas_repo: Path) -> None:
    """A replica count prod sets is a stage-specific object difference, not a version."""
    result = diff_stages(GitOpsRepo.open(replicas_repo), "dev", "prod")
    assert result.versions == (
        VersionChange(
            "Deployment",
            "app",
            "1.1.0",
            "1.0.0",
            (ImageChange("app", "ghcr.io/acme/app:1.1.0", "ghcr.io/acme/app:1.0.0"),),
        ),
    )
    assert result.objects == (
        ObjectDiff(
            "Deployment",
            "app",
            "changed",
            "--- prod: Deployment/app-prod/app\n"
            "+++ dev: Deployment/app-dev/app\n"
            "@@ -3,7 +3,7 @@\n"
            " metadata:\n"
            "   name: app\n"
            " spec:\n"
            "-  replicas: 3\n"
            "+  replicas: 1\n"
            "   selector:\n"
            "     matchLabels:\n"
            "       app: app\n",
        ),
    )
    assert result.same == ()


@pytest.mark.usefixtures("renderer")
def test_prefix_hash_references_and_mirror(renamed_repo: Path) -> None:
    """Prefixes, generated-name hashes and references to renamed objects are normalised and
    listed; a mirrored image name stays stage-specific while its tag is a version; a Job
    only dev has is listed whole and is not a version."""
    result = diff_stages(GitOpsRepo.open(renamed_repo), "dev", "prod")
    assert result.versions == (
        VersionChange(
            "Deployment",
            "app",
            "1.1.0",
            "1.0.0",
            (ImageChange("app", "ghcr.io/acme/app:1.1.0", "mirror.example.com/acme/app:1.0.0"),),
        ),
    )
    dev_hash, prod_hash = "47668c6k28", "hf678c7m2b"
    assert result.objects == (
        ObjectDiff(
            "ConfigMap",
            "app-config",
            "changed",
            f"--- prod: ConfigMap/app-prod/app-config-{prod_hash}\n"
            f"+++ dev: ConfigMap/app-dev/dev-app-config-{dev_hash}\n"
            "@@ -1,6 +1,6 @@\n"
            " apiVersion: v1\n"
            " data:\n"
            "-  LOG_LEVEL: info\n"
            "+  LOG_LEVEL: debug\n"
            " kind: ConfigMap\n"
            " metadata:\n"
            "   name: app-config\n",
        ),
        ObjectDiff(
            "Deployment",
            "app",
            "changed",
            "--- prod: Deployment/app-prod/app\n"
            "+++ dev: Deployment/app-dev/dev-app\n"
            "@@ -16,5 +16,5 @@\n"
            "       - envFrom:\n"
            "         - configMapRef:\n"
            "             name: app-config\n"
            "-        image: mirror.example.com/acme/app:1.0.0\n"
            "+        image: ghcr.io/acme/app:1.0.0\n"
            "         name: app\n",
        ),
        ObjectDiff(
            "Job",
            "seed",
            "only-in-from",
            "--- /dev/null\n"
            "+++ dev: Job/app-dev/dev-seed\n"
            "@@ -0,0 +1,12 @@\n"
            "+apiVersion: batch/v1\n"
            "+kind: Job\n"
            "+metadata:\n"
            "+  name: dev-seed\n"
            "+  namespace: app-dev\n"
            "+spec:\n"
            "+  template:\n"
            "+    spec:\n"
            "+      containers:\n"
            "+      - image: ghcr.io/acme/seed:0.1.0\n"
            "+        name: seed\n"
            "+      restartPolicy: Never\n",
        ),
    )
    both = ("ConfigMap/app-config", "Deployment/app")
    assert result.normalised == (
        Normalisation("metadata.namespace", "app-dev", "app-prod", both),
        Normalisation("name prefix", "dev-", "", both),
        Normalisation("name hash", dev_hash, prod_hash, ("ConfigMap/app-config",)),
    )


@pytest.mark.usefixtures("renderer")
def test_object_only_in_to(replicas_repo: Path) -> None:
    """An object only TO renders is listed as only-in-to with a one-sided diff."""
    kustomization = replicas_repo / "stages/prod/kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("  - ../../base\n", "  - ../../base\n  - pdb.yaml\n")
    )
    write(
        replicas_repo,
        {
            "stages/prod/pdb.yaml": """
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata:
                  name: app
                spec:
                  minAvailable: 1
                """,
        },
    )
    result = diff_stages(GitOpsRepo.open(replicas_repo), "dev", "prod")
    assert [(o.key, o.status) for o in result.objects] == [
        ("Deployment/app", "changed"),
        ("PodDisruptionBudget/app", "only-in-to"),
    ]
    assert result.objects[1].diff == (
        "--- prod: PodDisruptionBudget/app-prod/app\n"
        "+++ /dev/null\n"
        "@@ -1,7 +0,0 @@\n"
        "-apiVersion: policy/v1\n"
        "-kind: PodDisruptionBudget\n"
        "-metadata:\n"
        "-  name: app\n"
        "-  namespace: app-prod\n"
        "-spec:\n"
        "-  minAvailable: 1\n"
    )


# -- the command ---------------------------------------------------------------------------


@pytest.mark.usefixtures("renderer")
def test_cli_text(replicas_repo: Path) -> None:
    """``pipelines diff`` prints versions first, then the stage-specific diffs, exit 0."""
    result = invoke("diff", "dev", "prod", "--repo", str(replicas_repo))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == textwrap.dedent(
        """\
        pipeline app: dev -> prod (every change reads old -> new: prod's value -> dev's)

        versions (the promotion carries these):
          Deployment/app: 1.0.0 -> 1.1.0
            app: ghcr.io/acme/app:1.0.0 -> ghcr.io/acme/app:1.1.0

        stays stage-specific (- prod, + dev; versions left out):

        changed Deployment/app
        --- prod: Deployment/app-prod/app
        +++ dev: Deployment/app-dev/app
        @@ -3,7 +3,7 @@
         metadata:
           name: app
         spec:
        -  replicas: 3
        +  replicas: 1
           selector:
             matchLabels:
               app: app

        normalised (stage-specific by construction, left out of the diffs):
          metadata.namespace: app-prod -> app-dev (Deployment/app)
        """
    )


@pytest.mark.usefixtures("renderer")
def test_cli_json() -> None:
    """``--output json`` prints the documented document for web dev -> staging, exit 0: the
    stages of the promotion, and every value pair old (staging's) -> new (dev's)."""
    result = invoke(
        "diff", "dev", "staging", "-p", "web", "--repo", str(PROJECT_ROOT), "-o", "json"
    )
    assert (result.exit_code, result.stderr) == (0, "")
    images = [
        ("migrate", True, "ghcr.io/acme/shop-migrate"),
        ("shop", False, "ghcr.io/acme/shop"),
    ]
    assert json.loads(result.stdout) == {
        "pipeline": "web",
        "from": "dev",
        "to": "staging",
        "versions": [
            {
                "kind": "Deployment",
                "name": "nginx",
                "from_version": "1.22.0",
                "to_version": "1.23.1",
                "images": [
                    {
                        "container": "nginx",
                        "init": False,
                        "from": "nginx:1.22.0",
                        "to": "nginx:1.23.1",
                    }
                ],
            },
            {
                "kind": "Deployment",
                "name": "shop",
                "from_version": "1.4.0",
                "to_version": "1.4.2",
                "images": [
                    *(
                        {"container": c, "init": init, "from": f"{i}:1.4.0", "to": f"{i}:1.4.2"}
                        for c, init, i in images
                    ),
                    {
                        "container": "envoy",
                        "init": False,
                        "from": "envoyproxy/envoy:v1.27.0",
                        "to": "envoyproxy/envoy:v1.28.0",
                    },
                ],
            },
        ],
        "objects": [],
        "normalised": [
            {
                "field": "metadata.namespace",
                "from": "web-staging",
                "to": "web-dev",
                "objects": list(WEB_OBJECTS),
            }
        ],
        "same": list(WEB_OBJECTS),
    }


def test_cli_errors_exit_1() -> None:
    """An unknown stage and ambiguous stage names each end in one stderr line and exit 1."""
    unknown = invoke("diff", "dev", "stagin", "-p", "web", "--repo", str(PROJECT_ROOT))
    ambiguous = invoke("diff", "dev", "staging", "--repo", str(PROJECT_ROOT))
    assert [(r.exit_code, r.stdout, r.stderr) for r in (unknown, ambiguous)] == [
        (1, "", "error: unknown stage of pipeline 'web' 'stagin'; did you mean staging?\n"),
        (
            1,
            "",
            "error: stages 'dev' and 'staging' exist in several pipelines (platform, web); "
            "choose one with --pipeline\n",
        ),
    ]


@pytest.mark.usefixtures("renderer")
def test_cli_render_failure_exits_1(replicas_repo: Path) -> None:
    """A stage kustomize cannot build ends in one stderr line naming it, exit 1."""
    write(replicas_repo, {"stages/prod/kustomization.yaml": "resources:\n  - missing.yaml\n"})
    result = invoke("diff", "dev", "prod", "--repo", str(replicas_repo))
    prod = replicas_repo / "stages" / "prod"
    assert (result.exit_code, result.stdout, result.stderr.count("\n")) == (1, "", 1)
    assert result.stderr.startswith(f"error: {prod}: ")
    assert "missing.yaml" in result.stderr
