"""Planning promotions (``GitOpsRepo.plan_promotion``): the exact edits, the guard rails,
verification, and atomic writes, on small repositories and on the example repository."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from promoter import GitOpsRepo
from promoter.errors import LookupFailed, PromotionError
from promoter.planner import plan_promotion
from promoter.promotion import AppMove, FileEdit, PromotionPlan
from tests.builders.plans import example_copy, read_tree, sync_yaml, write_files

PIPELINE = textwrap.dedent(
    """\
    pipelines:
      - name: demo
        stages:
          - name: dev
            path: envs/dev
          - name: staging
            path: envs/staging
          - name: prod
            path: envs/prod
    """
)
MARKER = '# {"$imagepolicy": "flux-system:web:tag"}'
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def d(text: str) -> str:
    """Dedented text (the way every file below is written)."""
    return textwrap.dedent(text)


def deployment(image: str, name: str = "web", *, indent: str = "  ") -> str:
    """A one-container Deployment whose container is named like it."""
    i = indent
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        f"{i}name: {name}\n"
        "spec:\n"
        f"{i}template:\n"
        f"{i}{i}spec:\n"
        f"{i}{i}{i}containers:\n"
        f"{i}{i}{i}- name: {name}\n"
        f"{i}{i}{i}  image: {image}\n"
    )


BASE = {
    "base/kustomization.yaml": "resources:\n  - web.yaml\n",
    "base/web.yaml": deployment("ghcr.io/acme/web:1.0.0"),
}


def stage_k(*extra: str, resources: tuple[str, ...] = ("../../base",)) -> str:
    """A stage kustomization: resources, then ``extra`` lines."""
    lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:"]
    lines += [f"  - {r}" for r in resources]
    return "\n".join([*lines, *extra]) + "\n"


def make(root: Path, files: dict[str, str], *, base: bool = True) -> GitOpsRepo:
    """Write a repository with the dev -> staging -> prod pipeline and open it."""
    write_files(root, {"promoter.yaml": PIPELINE, **(BASE if base else {}), **files})
    return GitOpsRepo.open(root)


def plan(
    repo: GitOpsRepo, app: str | list[str] | None = "web", src: str = "staging", dst: str = "prod",
    **options: object,
) -> PromotionPlan:  # fmt: skip
    return plan_promotion(repo, app, src, dst, render=False, **options)  # type: ignore[arg-type]


def edited(result: PromotionPlan) -> dict[str, tuple[str | None, str]]:
    """``{path: (before, after)}`` of every edit."""
    return {e.path: (e.before, e.after) for e in result.edits}


def only_after(result: PromotionPlan) -> dict[str, str]:
    return {e.path: e.after for e in result.edits}


# -- in place: every way a stage sets a version --------------------------------------------


def test_resource_file_owned_by_the_stage_is_edited_in_place(tmp_path: Path) -> None:
    """A stage defining the workload in its own file gets that one scalar changed."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(resources=("web.yaml",)),
            "envs/staging/web.yaml": deployment("ghcr.io/acme/web:1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(resources=("web.yaml",)),
            "envs/prod/web.yaml": deployment("ghcr.io/acme/web:1.1.0  # pinned"),
        },
        base=False,
    )
    result = plan(repo)
    assert edited(result) == {
        "envs/prod/web.yaml": (
            deployment("ghcr.io/acme/web:1.1.0  # pinned"),
            deployment("ghcr.io/acme/web:1.2.0  # pinned"),
        )
    }
    assert result.moves == (AppMove("Deployment", "web", "1.1.0", "1.2.0"),)
    assert [(c.app, c.container, c.old, c.new, c.file, c.line, c.how) for c in result.changes] == [
        ("Deployment/web", "web", "1.1.0", "1.2.0", "envs/prod/web.yaml", 10, "in-place")
    ]
    assert not result.is_noop


SMP = d(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:{}
    """
)


def test_strategic_merge_patch_file_is_edited_in_place(tmp_path: Path) -> None:
    """The stage's SMP patch file gets the new tag; FROM's setter marker is not copied."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format(f"1.2.0 {MARKER}"),
            "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/prod/web.yaml": SMP.format("1.1.0"),
        },
    )
    assert edited(plan(repo)) == {"envs/prod/web.yaml": (SMP.format("1.1.0"), SMP.format("1.2.0"))}


def test_images_entry_new_tag_is_edited_in_place_keeping_markers(tmp_path: Path) -> None:
    """An ``images:`` entry's newTag changes; TO's own setter marker, quoting and comments
    stay byte for byte."""
    prod = stage_k(
        "# promoted by hand",
        "images:",
        "  - name: ghcr.io/acme/web",
        f"    newTag: '1.1.0' {MARKER}",
        "  # trailing comment",
    )
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0 # from CI"
            ),
            "envs/prod/kustomization.yaml": prod,
        },
    )
    assert edited(plan(repo)) == {
        "envs/prod/kustomization.yaml": (prod, prod.replace("'1.1.0'", "'1.2.0'"))
    }


def test_images_entry_gains_a_digest(tmp_path: Path) -> None:
    """FROM pins tag and digest: TO's entry keeps its newTag line and gains a digest line."""
    prod = stage_k("images:", "  - name: ghcr.io/acme/web", "    newTag: 1.1.0", "replicas: []")
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:",
                "  - name: ghcr.io/acme/web",
                "    newTag: 1.2.0",
                f"    digest: {DIGEST_A}",
            ),
            "envs/prod/kustomization.yaml": prod,
        },
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:",
            "  - name: ghcr.io/acme/web",
            "    newTag: 1.2.0",
            f"    digest: {DIGEST_A}",
            "replicas: []",
        )
    }


def test_images_entry_loses_its_digest(tmp_path: Path) -> None:
    """FROM runs a tag only: TO's digest line goes away."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "- name: ghcr.io/acme/web", "  newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", "- name: ghcr.io/acme/web", "  newTag: 1.1.0", f"  digest: {DIGEST_A}"
            ),
        },
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:", "- name: ghcr.io/acme/web", "  newTag: 1.2.0"
        )
    }


def test_images_entry_follows_a_digest_only_source(tmp_path: Path) -> None:
    """FROM runs a digest only: TO's newTag goes and the digest comes in its place."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", f"    digest: {DIGEST_B}"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.1.0  # old"
            ),
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:", "  - name: ghcr.io/acme/web", f"    digest: {DIGEST_B}"
        )
    }
    assert result.moves == (AppMove("Deployment", "web", "1.1.0", DIGEST_B),)


def test_flow_style_images_entry_is_edited_inside_its_braces(tmp_path: Path) -> None:
    """A flow mapping entry keeps its style: the tag changes, a digest joins, in place."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                f"images: [{{name: ghcr.io/acme/web, newTag: 1.2.0, digest: {DIGEST_A}}}]"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", '  - {name: ghcr.io/acme/web, newTag: "1.1.0"}  # pinned'
            ),
        },
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:",
            f'  - {{name: ghcr.io/acme/web, newTag: "1.2.0", digest: {DIGEST_A}}}  # pinned',
        )
    }


def test_json6902_value_is_edited_in_place(tmp_path: Path) -> None:
    """A JSON6902 patch file's ``value`` changes, in YAML and in JSON."""
    ops = d(
        """\
        - op: replace
          path: /spec/template/spec/containers/0/image
          value: ghcr.io/acme/web:{}
        """
    )
    json_ops = '[\n  {"op": "replace", "path": "/spec/template/spec/containers/0/image",\n'
    json_ops += '   "value": "ghcr.io/acme/web:TAG"}\n]\n'
    target = ["    target:", "      kind: Deployment", "      name: web"]
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: ops.yaml", *target),
            "envs/staging/ops.yaml": ops.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: ops.json", *target),
            "envs/prod/ops.json": json_ops.replace("TAG", "1.1.0"),
        },
    )
    assert only_after(plan(repo)) == {"envs/prod/ops.json": json_ops.replace("TAG", "1.2.0")}
    make(tmp_path, {"envs/prod/ops.yaml": ops.format("1.1.0"),
                    "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: ops.yaml",
                                                            *target)})  # fmt: skip
    assert only_after(plan(GitOpsRepo.open(tmp_path))) == {
        "envs/prod/ops.yaml": ops.format("1.2.0")
    }


def test_inline_patches_in_the_kustomization_are_edited_in_place(tmp_path: Path) -> None:
    """Inline SMP and JSON6902 patches (block scalars) change where the value is written."""
    inline = d(
        """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ../../base
        patches:
          - patch: |-
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: web
              spec:
                template:
                  spec:
                    containers:
                      - name: web
                        image: ghcr.io/acme/web:{}
          - target: {{kind: HelmRelease, name: chart}}
            patch: |
              - op: replace
                path: /spec/chart/spec/version
                value: {}
        """
    )
    chart = d(
        """\
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: chart
        spec:
          chart:
            spec:
              chart: chart
              version: 1.0.0
        """
    )
    base = {
        "base/kustomization.yaml": "resources:\n  - web.yaml\n  - chart.yaml\n",
        "base/chart.yaml": chart,
    }
    repo = make(
        tmp_path,
        {
            **base,
            "envs/staging/kustomization.yaml": inline.format("1.2.0", "2.1.0"),
            "envs/prod/kustomization.yaml": inline.format("1.1.0", '"2.0.0"'),
        },
    )
    result = plan(repo, None)
    assert only_after(result) == {"envs/prod/kustomization.yaml": inline.format("1.2.0", '"2.1.0"')}
    assert sorted(c.how for c in result.changes) == ["in-place", "in-place"]


# -- overrides for inherited versions ----------------------------------------------------


def test_inherited_image_gets_an_images_entry_where_the_stage_has_images(tmp_path: Path) -> None:
    """TO inherits from base and has ``images:``: one entry is added at the end, nothing
    else moves."""
    prod = stage_k("images:", "  - name: other", "    newTag: 9.9.9 # keep", "", "# the end")
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": prod,
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:",
            "  - name: other",
            "    newTag: 9.9.9 # keep",
            "  - name: ghcr.io/acme/web",
            "    newTag: 1.2.0",
            "",
            "# the end",
        )
    }
    assert [c.how for c in result.changes] == ["images-entry"]


def test_inherited_image_with_a_mirror_entry_gets_the_tag_on_that_entry(tmp_path: Path) -> None:
    """TO renames the image to a registry mirror (``newName``): the mirror stays and the
    version joins that entry; no second entry for the same image."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", f"    digest: {DIGEST_A}"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newName: mirror.example.com/web"
            ),
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:",
            "  - name: ghcr.io/acme/web",
            "    newName: mirror.example.com/web",
            f"    digest: {DIGEST_A}",
        )
    }
    assert result.moves == (AppMove("Deployment", "web", "1.0.0", DIGEST_A),)


def test_mirror_newname_is_kept_when_the_tag_is_edited(tmp_path: Path) -> None:
    """TO's ``newName`` (a registry mirror) stays: only TO's newTag changes."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:",
                "  - name: ghcr.io/acme/web",
                "    newName: mirror.example.com/web",
                "    newTag: 1.1.0",
            ),
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:",
            "  - name: ghcr.io/acme/web",
            "    newName: mirror.example.com/web",
            "    newTag: 1.2.0",
        )
    }


NEW_PATCH = d(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:1.2.0
    """
)


REPLICAS = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n"


@pytest.mark.parametrize(
    ("prod", "expected"),
    [
        (stage_k(), stage_k("patches:", "  - path: web-image.yaml")),
        (
            stage_k("patches:", "  - path: other.yaml", "namePrefix: p-"),
            stage_k(
                "patches:", "  - path: other.yaml", "  - path: web-image.yaml", "namePrefix: p-"
            ),
        ),
        (
            stage_k("patches: [{path: other.yaml}]  # flow"),
            stage_k("patches: [{path: other.yaml}, {path: web-image.yaml}]  # flow"),
        ),
        (stage_k("patches: []"), stage_k("patches: [{path: web-image.yaml}]")),
        (
            stage_k("patches:", "namePrefix: p-"),
            stage_k("patches:", "  - path: web-image.yaml", "namePrefix: p-"),
        ),
    ],
    ids=["no-patches-key", "block", "flow", "empty-flow", "empty-key"],
)
def test_inherited_image_gets_a_new_patch_file(tmp_path: Path, prod: str, expected: str) -> None:
    """Without ``images:`` TO gets a strategic-merge patch file selecting the container by
    name, registered in its kustomization's ``patches:`` in the style the list has."""
    other = {"envs/prod/other.yaml": REPLICAS} if "other" in prod else {}
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": prod,
            **other,
        },
    )
    result = plan(repo)
    assert edited(result) == {
        "envs/prod/kustomization.yaml": (prod, expected),
        "envs/prod/web-image.yaml": (None, NEW_PATCH),
    }
    assert [(c.file, c.how) for c in result.changes] == [("envs/prod/web-image.yaml", "new-patch")]


def test_new_patch_file_name_does_not_overwrite(tmp_path: Path) -> None:
    """An existing ``web-image.yaml`` that is not the source is left alone."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(),
            "envs/prod/web-image.yaml": "# notes\n",
        },
    )
    assert sorted(edited(plan(repo))) == [
        "envs/prod/kustomization.yaml",
        "envs/prod/web-image-2.yaml",
    ]


def test_inherited_image_of_a_stage_using_patches_json6902(tmp_path: Path) -> None:
    """A stage that reshapes containers in ``patchesJson6902`` (applied after ``patches``)
    gets its override there, by final position and guarded by a test of the name."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "patchesJson6902:",
                "  - target: {group: apps, version: v1, kind: Deployment, name: web}",
                "    path: replicas.yaml",
            ),
            "envs/prod/replicas.yaml": "- {op: add, path: /spec/replicas, value: 3}\n",
        },
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": stage_k(
            "patchesJson6902:",
            "  - target: {group: apps, version: v1, kind: Deployment, name: web}",
            "    path: replicas.yaml",
            "  - path: web-image.yaml",
            "    target:",
            "      group: apps",
            "      version: v1",
            "      kind: Deployment",
            "      name: web",
        ),
        "envs/prod/web-image.yaml": d(
            """\
            - op: test
              path: /spec/template/spec/containers/0/name
              value: web
            - op: replace
              path: /spec/template/spec/containers/0/image
              value: ghcr.io/acme/web:1.2.0
            """
        ),
    }


CRONJOB = d(
    """\
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: report
      namespace: jobs
    spec:
      schedule: "0 2 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              initContainers:
                - name: migrate
                  image: ghcr.io/acme/migrate:{}
              containers:
                - name: proxy
                  image: envoyproxy/envoy:v1.27.0
                - name: report
                  image: ghcr.io/acme/report:{}
    """
)


def test_cronjob_with_init_container_gets_an_order_keeping_patch(tmp_path: Path) -> None:
    """A CronJob's init container and second container change through one new patch that
    lists the containers before the changed one, so their order stays."""
    repo = make(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - report.yaml\n",
            "base/report.yaml": CRONJOB.format("1.0.0", "1.0.0"),
            "envs/staging/kustomization.yaml": stage_k(resources=("report.yaml",)),
            "envs/staging/report.yaml": CRONJOB.format("1.1.0", "1.1.0"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
        base=False,
    )
    result = plan(repo, "report")
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: report-image.yaml"),
        "envs/prod/report-image.yaml": d(
            """\
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: report
              namespace: jobs
            spec:
              jobTemplate:
                spec:
                  template:
                    spec:
                      initContainers:
                        - name: migrate
                          image: ghcr.io/acme/migrate:1.1.0
                      containers:
                        - name: proxy
                        - name: report
                          image: ghcr.io/acme/report:1.1.0
            """
        ),
    }
    assert sorted((c.container, c.old, c.new) for c in result.changes) == [
        ("migrate", "1.0.0", "1.1.0"),
        ("report", "1.0.0", "1.1.0"),
    ]


def test_custom_resource_gets_a_json6902_override(tmp_path: Path) -> None:
    """A custom workload (an Argo Rollout), whose lists a strategic merge would replace,
    gets a JSON6902 patch by position, guarded by a test of the container's name."""
    rollout = SMP.replace("apps/v1", "argoproj.io/v1alpha1").replace("Deployment", "Rollout")
    rollout = rollout.replace("        - name: web", "        - name: side\n"
                              "          image: side:1\n        - name: web")  # fmt: skip
    repo = make(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - web.yaml\n",
            "base/web.yaml": rollout.format("1.0.0"),
            "envs/staging/kustomization.yaml": stage_k(resources=("web.yaml",)),
            "envs/staging/web.yaml": rollout.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
        base=False,
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": stage_k(
            "patches:",
            "  - path: web-image.yaml",
            "    target:",
            "      group: argoproj.io",
            "      version: v1alpha1",
            "      kind: Rollout",
            "      name: web",
        ),
        "envs/prod/web-image.yaml": d(
            """\
            - op: test
              path: /spec/template/spec/containers/1/name
              value: web
            - op: replace
              path: /spec/template/spec/containers/1/image
              value: ghcr.io/acme/web:1.2.0
            """
        ),
    }


# -- HelmRelease -----------------------------------------------------------------------------

HELM = d(
    """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
    spec:
      chart:
        spec:
          chart: podinfo
          version: 5.2.1
    """
)
CHART_OPS = "- op: replace\n  path: /spec/chart/spec/version\n  value: {}\n"
CHART_PATCH = ["patches:", "  - path: version.yaml", "    target:", "      kind: HelmRelease"]


def helm_repo(root: Path, prod: dict[str, str], staging_version: str = "6.1.6") -> GitOpsRepo:
    return make(
        root,
        {
            "base/kustomization.yaml": "resources:\n  - podinfo.yaml\n",
            "base/podinfo.yaml": HELM,
            "envs/staging/kustomization.yaml": stage_k(*CHART_PATCH),
            "envs/staging/version.yaml": CHART_OPS.format(staging_version),
            **prod,
        },
        base=False,
    )


def test_chart_version_in_a_json6902_patch_is_edited_in_place(tmp_path: Path) -> None:
    """The chart version changes where TO's JSON6902 patch sets it."""
    repo = helm_repo(
        tmp_path,
        {
            "envs/prod/kustomization.yaml": stage_k(*CHART_PATCH),
            "envs/prod/version.yaml": CHART_OPS.format("6.0.0 # approved"),
        },
    )
    result = plan(repo, "podinfo")
    assert only_after(result) == {"envs/prod/version.yaml": CHART_OPS.format("6.1.6 # approved")}
    assert result.moves == (AppMove("HelmRelease", "podinfo", "6.0.0", "6.1.6"),)


def test_inherited_chart_version_gets_a_new_patch_file(tmp_path: Path) -> None:
    """A chart version inherited from base gets a patch file setting spec.chart.spec.version,
    quoted where YAML would read the text as a number."""
    repo = helm_repo(tmp_path, {"envs/prod/kustomization.yaml": stage_k()}, "'6.10'")
    result = plan(repo, "podinfo")
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: podinfo-chart.yaml"),
        "envs/prod/podinfo-chart.yaml": d(
            """\
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: podinfo
            spec:
              chart:
                spec:
                  version: "6.10"
            """
        ),
    }
    assert [(c.old, c.new, c.how) for c in result.changes] == [("5.2.1", "6.10", "new-patch")]


def test_source_without_chart_version_is_refused(tmp_path: Path) -> None:
    """A HelmRelease without a chart version in FROM has nothing to promote."""
    repo = make(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - podinfo.yaml\n",
            "base/podinfo.yaml": HELM.replace("      version: 5.2.1\n", ""),
            "envs/staging/kustomization.yaml": stage_k(),
            "envs/prod/kustomization.yaml": stage_k(*CHART_PATCH),
            "envs/prod/version.yaml": CHART_OPS.format("6.0.0"),
        },
        base=False,
    )
    with pytest.raises(PromotionError, match="has no version in stage staging"):
        plan(repo, "podinfo")
    with pytest.raises(PromotionError, match="has no version in stage staging"):
        plan(repo, None)


# -- several apps ------------------------------------------------------------------------------


def two_apps(root: Path) -> GitOpsRepo:
    return make(
        root,
        {
            "base/kustomization.yaml": "resources:\n  - web.yaml\n  - api.yaml\n  - db.yaml\n",
            "base/api.yaml": deployment("ghcr.io/acme/api:1.0.0", "api"),
            "base/db.yaml": deployment("postgres:16", "db"),
            "envs/staging/kustomization.yaml": stage_k(
                "images:",
                "  - name: ghcr.io/acme/web",
                "    newTag: 1.2.0",
                "  - name: ghcr.io/acme/api",
                "    newTag: 2.0.0",
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.1.0"
            ),
        },
    )


def test_several_apps_by_name(tmp_path: Path) -> None:
    """Two named apps move in one plan; the one not named stays."""
    result = plan(two_apps(tmp_path), ["web", "Deployment/api"])
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(
            "images:",
            "  - name: ghcr.io/acme/web",
            "    newTag: 1.2.0",
            "  - name: ghcr.io/acme/api",
            "    newTag: 2.0.0",
        )
    }
    assert result.moves == (
        AppMove("Deployment", "web", "1.1.0", "1.2.0"),
        AppMove("Deployment", "api", "1.0.0", "2.0.0"),
    )
    assert result.title == "promote(demo/prod): web, api from staging"


def test_every_app_that_differs(tmp_path: Path) -> None:
    """``None`` moves exactly the apps whose versions differ."""
    by_name = plan(two_apps(tmp_path), ["web", "api"])
    every = plan(GitOpsRepo.open(tmp_path), None)
    assert edited(every) == edited(by_name)
    assert [m.name for m in every.moves] == ["web", "api"]


def test_same_version_is_a_noop_and_writes_nothing(tmp_path: Path) -> None:
    """Promoting an app TO already runs gives an empty plan; writing it changes nothing."""
    repo = two_apps(tmp_path)
    result = plan(repo, "db")
    assert (result.is_noop, result.edits, result.moves, result.unchanged) == (
        True,
        (),
        (),
        ("Deployment/db",),
    )
    before = read_tree(tmp_path)
    assert result.write() == ()
    assert read_tree(tmp_path) == before
    assert plan(repo, "web").unchanged == ()


# -- guard rails ---------------------------------------------------------------------------


def tagged(
    root: Path, dev: str = "1.3.0", staging: str = "1.2.0", prod: str = "1.1.0"
) -> GitOpsRepo:
    entry = ["images:", "  - name: ghcr.io/acme/web", "    newTag: {}"]
    files = {
        f"envs/{stage}/kustomization.yaml": stage_k(*entry[:2], entry[2].format(tag))
        for stage, tag in (("dev", dev), ("staging", staging), ("prod", prod))
    }
    return make(root, files)


def test_skipping_a_stage_needs_skip_stages(tmp_path: Path) -> None:
    """dev -> prod skips staging: refused unless skip_stages."""
    repo = tagged(tmp_path)
    with pytest.raises(PromotionError, match=r"would skip staging\); use --skip-stages"):
        plan(repo, "web", "dev", "prod")
    result = plan(repo, "web", "dev", "prod", skip_stages=True)
    assert result.moves == (AppMove("Deployment", "web", "1.1.0", "1.3.0"),)


def test_backwards_is_refused(tmp_path: Path) -> None:
    """prod -> staging goes backwards: refused, even with skip_stages."""
    repo = tagged(tmp_path)
    with pytest.raises(PromotionError, match="cannot promote backwards"):
        plan(repo, "web", "prod", "staging", skip_stages=True)
    with pytest.raises(PromotionError, match="cannot promote backwards"):
        plan(repo, "web", "staging", "staging")


def test_sideways_within_a_wave_is_refused(tmp_path: Path) -> None:
    """Two stages of the same wave cannot promote to each other."""
    write_files(
        tmp_path,
        {
            **BASE,
            **{f"envs/{name}/kustomization.yaml": stage_k() for name in ("dev", "eu", "us")},
            "envs/dev/sync.yaml": sync_yaml("dev", "envs/dev", "demo", 0),
            "envs/eu/sync.yaml": sync_yaml("eu", "envs/eu", "demo", 1),
            "envs/us/sync.yaml": sync_yaml("us", "envs/us", "demo", 1),
        },
    )
    repo = GitOpsRepo.open(tmp_path)
    with pytest.raises(PromotionError, match="backwards or sideways"):
        plan(repo, "web", "eu", "us")
    assert plan(repo, "web", "dev", "us").is_noop


def test_downgrade_needs_allow_downgrade(tmp_path: Path) -> None:
    """TO newer than FROM is a downgrade: refused unless allowed (timestamp build tags
    included)."""
    repo = tagged(tmp_path, staging="v1.2.2.2022-01-15t161730814Z.9eabf5b", prod="v1.2.3")
    with pytest.raises(
        PromotionError, match=r"would downgrade prod from v1\.2\.3 to v1\.2\.2\.2022"
    ):
        plan(repo)
    result = plan(repo, allow_downgrade=True)
    assert result.moves == (
        AppMove("Deployment", "web", "v1.2.3", "v1.2.2.2022-01-15t161730814Z.9eabf5b"),
    )


def test_downgrade_of_a_sidecar_is_refused(tmp_path: Path) -> None:
    """A downgrade of any container, not only the app's main one, needs allow_downgrade."""
    repo = make(
        tmp_path,
        {
            "base/web.yaml": deployment("ghcr.io/acme/web:1.0.0").replace(
                "        image: ghcr.io/acme/web:1.0.0\n",
                "        image: ghcr.io/acme/web:1.0.0\n      - name: proxy\n"
                "        image: envoy:v1.27.0\n",
            ),
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", "  - name: envoy", "    newTag: v1.28.0"
            ),
        },
    )
    with pytest.raises(PromotionError, match=r"container proxy\) would downgrade"):
        plan(repo)
    assert len(plan(repo, allow_downgrade=True).changes) == 2


@pytest.mark.parametrize(
    ("app", "src", "dst", "pipeline", "message"),
    [
        ("wbe", "staging", "prod", None, "unknown app 'wbe'; did you mean web"),
        ("web", "stagin", "prod", None, "unknown stage 'stagin'; did you mean staging"),
        ("web", "staging", "prod", "demoo", "unknown pipeline 'demoo'; did you mean demo"),
        ("web", "stagin", "prod", "demo", "unknown stage of pipeline 'demo' 'stagin'; did you"),
    ],
)
def test_unknown_names_suggest_close_ones(
    tmp_path: Path, app: str, src: str, dst: str, pipeline: str | None, message: str
) -> None:
    """A misspelt app, stage or pipeline fails with the closest known names."""
    repo = tagged(tmp_path)
    with pytest.raises(LookupFailed) as caught:
        plan(repo, app, src, dst, pipeline=pipeline)
    assert str(caught.value).startswith(message)


# -- files shared with other stages ------------------------------------------------------------


def test_component_shared_by_two_stages_is_never_edited(tmp_path: Path) -> None:
    """TO's version comes from a component another stage also uses: the component stays,
    TO gets its own override."""
    component = d(
        """\
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        images:
          - name: ghcr.io/acme/web
            newTag: 1.1.0
        """
    )
    uses = ("components:", "  - ../../components/pin")
    repo = make(
        tmp_path,
        {
            "components/pin/kustomization.yaml": component,
            "envs/dev/kustomization.yaml": stage_k(*uses),
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(*uses),
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(*uses, "patches:", "  - path: web-image.yaml"),
        "envs/prod/web-image.yaml": NEW_PATCH,
    }


def test_stage_directory_included_by_another_stage_is_never_edited(tmp_path: Path) -> None:
    """prod builds on staging's directory: promoting into prod overrides in prod and leaves
    staging's files (which staging owns) alone."""
    repo = make(
        tmp_path,
        {
            "envs/dev/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.3.0"
            ),
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(resources=("../staging",)),
        },
    )
    result = plan(repo, "web", "dev", "prod", skip_stages=True)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": stage_k(
            "patches:", "  - path: web-image.yaml", resources=("../staging",)
        ),
        "envs/prod/web-image.yaml": NEW_PATCH.replace("1.2.0", "1.3.0"),
    }
    # staging's own file is read by prod too: promoting into staging would change prod
    with pytest.raises(PromotionError, match="also read by another stage"):
        plan(repo, "web", "dev", "staging")


def test_images_entry_shared_by_containers_moving_apart_is_refused(tmp_path: Path) -> None:
    """One images entry of TO sets two containers that FROM runs at different versions."""
    two = deployment("ghcr.io/acme/web:1.0.0").replace(
        "        image: ghcr.io/acme/web:1.0.0\n",
        "        image: ghcr.io/acme/web:1.0.0\n      - name: worker\n"
        "        image: ghcr.io/acme/web:1.0.0\n",
    )
    repo = make(
        tmp_path,
        {
            "base/web.yaml": two,
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: worker.yaml"),
            "envs/staging/worker.yaml": SMP.format("1.2.0").replace(
                "- name: web", "- name: worker"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.1.0"
            ),
        },
    )
    with pytest.raises(PromotionError, match="this images entry also sets the image of"):
        plan(repo, allow_downgrade=True)


# -- bytes ---------------------------------------------------------------------------------------


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    """A CRLF stage stays CRLF: edited lines, the added registration and the new patch file."""
    prod_k = stage_k().replace("\n", "\r\n")
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": prod_k,
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": prod_k + "patches:\r\n  - path: web-image.yaml\r\n",
        "envs/prod/web-image.yaml": NEW_PATCH.replace("\n", "\r\n"),
    }
    crlf_patch = SMP.format("1.1.0").replace("\n", "\r\n")
    write_files(
        tmp_path,
        {
            "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: web.yaml").replace(
                "\n", "\r\n"
            ),
            "envs/prod/web.yaml": crlf_patch,
        },
    )
    result = plan(GitOpsRepo.open(tmp_path))
    assert only_after(result) == {"envs/prod/web.yaml": crlf_patch.replace("1.1.0", "1.2.0")}
    result.write()
    assert (tmp_path / "envs/prod/web.yaml").read_bytes() == (
        crlf_patch.replace("1.1.0", "1.2.0").encode()
    )


def test_odd_indentation_is_kept(tmp_path: Path) -> None:
    """Four-space indentation with dashes at column 0 stays so in edits and additions."""
    prod = "resources:\n- ../../base\nimages:\n-   name: other\n    newTag: 2.0.0\n"
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": prod,
            "envs/prod/web.yaml": deployment("x", indent="    "),
        },
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": prod + "-   name: ghcr.io/acme/web\n    newTag: 1.2.0\n"
    }
    deep = deployment("ghcr.io/acme/web:1.1.0", indent="    ")
    write_files(tmp_path, {"envs/prod/kustomization.yaml": "resources:\n- web.yaml\n",
                           "envs/prod/web.yaml": deep})  # fmt: skip
    assert only_after(plan(GitOpsRepo.open(tmp_path))) == {
        "envs/prod/web.yaml": deep.replace("1.1.0", "1.2.0")
    }


def test_document_separators_comments_and_markers_stay(tmp_path: Path) -> None:
    """In a multi-document stage file only the one value changes: separators, comments,
    blank lines and TO's setter marker stay byte for byte."""
    prod_web = (
        "# prod's web\n"
        "---\n" + deployment(f"ghcr.io/acme/web:1.1.0 {MARKER}") + "\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: web  # same name\n"
        "...\n"
    )
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(resources=("web.yaml",)),
            "envs/staging/web.yaml": deployment(
                '"ghcr.io/acme/web:1.2.0" # {"$imagepolicy": "x:y"}'
            ),
            "envs/prod/kustomization.yaml": stage_k(resources=("web.yaml",)),
            "envs/prod/web.yaml": prod_web,
        },
        base=False,
    )
    assert only_after(plan(repo)) == {"envs/prod/web.yaml": prod_web.replace("1.1.0", "1.2.0")}


# -- verification and writing -------------------------------------------------------------------


def test_verification_refuses_an_edit_that_does_not_take(tmp_path: Path) -> None:
    """A version set by a Flux Kustomization outside the stage wins over any override in the
    stage: the re-resolved stage would not run FROM's version, so nothing is planned."""
    flux = sync_yaml("prod", "envs/prod", "demo", 2)
    flux += "  images:\n    - name: ghcr.io/acme/web\n      newTag: 1.1.0\n"
    write_files(
        tmp_path,
        {
            **BASE,
            "clusters/dev.yaml": sync_yaml("dev", "envs/dev", "demo", 0),
            "clusters/staging.yaml": sync_yaml("staging", "envs/staging", "demo", 1),
            "clusters/prod.yaml": flux,
            "envs/dev/kustomization.yaml": stage_k(),
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k("images: []"),
        },
    )
    repo = GitOpsRepo.open(tmp_path)
    before = read_tree(tmp_path)
    with pytest.raises(PromotionError, match="verification failed: Deployment/web in prod"):
        plan(repo)
    assert read_tree(tmp_path) == before


def test_render_verification_gives_the_rendered_diff(kubectl: str, tmp_path: Path) -> None:
    """With kustomize available the plan is also verified by a real render, whose diff is
    only the image line."""
    repo = tagged(tmp_path)
    result = plan_promotion(repo, "web", "staging", "prod", render=True)
    assert result.rendered_diff is not None
    changed = [
        line
        for line in result.rendered_diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "-      - image: ghcr.io/acme/web:1.1.0",
        "+      - image: ghcr.io/acme/web:1.2.0",
    ]


def test_write_applies_every_edit(tmp_path: Path) -> None:
    """write() puts every edit on disk (new files included) and returns their paths."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    result = plan(repo)
    assert result.write() == ("envs/prod/kustomization.yaml", "envs/prod/web-image.yaml")
    assert {p: t.decode() for p, t in read_tree(tmp_path).items() if p.startswith("envs/prod")} == {
        "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: web-image.yaml"),
        "envs/prod/web-image.yaml": NEW_PATCH,
    }
    assert plan(GitOpsRepo.open(tmp_path)).is_noop


@pytest.mark.parametrize("change", ["edit", "delete", "create"])
def test_write_refuses_when_a_file_changed_since_planning(tmp_path: Path, change: str) -> None:
    """A file edited, deleted or created after planning: write() raises and writes nothing."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    result = plan(repo)
    kustomization = tmp_path / "envs/prod/kustomization.yaml"
    if change == "edit":
        kustomization.write_text(stage_k("namePrefix: x-"), encoding="utf-8")
    elif change == "delete":
        kustomization.unlink()
    else:
        (tmp_path / "envs/prod/web-image.yaml").write_text("# mine\n", encoding="utf-8")
    before = read_tree(tmp_path)
    with pytest.raises(PromotionError, match="changed since the promotion was planned"):
        result.write()
    assert read_tree(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_write_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    """A file starting with a UTF-8 BOM keeps it."""
    bom = "\ufeff" + SMP.format("1.1.0")
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/staging/web.yaml": SMP.format("1.2.0"),
            "envs/prod/kustomization.yaml": stage_k("patches:", "  - path: web.yaml"),
            "envs/prod/web.yaml": bom,
        },
    )
    plan(repo).write()
    assert (tmp_path / "envs/prod/web.yaml").read_text(encoding="utf-8") == bom.replace(
        "1.1.0", "1.2.0"
    )


def test_file_edit_diff_is_git_style() -> None:
    """A FileEdit's diff names a/ and b/ paths, /dev/null for a new file."""
    assert FileEdit("a.yaml", "x: 1\n", "x: 2\n").diff() == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1 +1 @@\n-x: 1\n+x: 2\n"
    )
    assert FileEdit("n.yaml", None, "x: 1\n").diff() == (
        "--- /dev/null\n+++ b/n.yaml\n@@ -0,0 +1 @@\n+x: 1\n"
    )


# -- the example repository ---------------------------------------------------------------------


@pytest.fixture
def example(tmp_path: Path) -> GitOpsRepo:
    return GitOpsRepo.open(example_copy(tmp_path / "repo"))


def test_example_nginx_dev_to_staging(example: GitOpsRepo) -> None:
    """web: nginx's patch file in staging changes in place; dev's setter marker stays in dev."""
    result = plan_promotion(example, "nginx", "dev", "staging", pipeline="web", render=False)
    before = (example.root / "pipelines/web/staging/nginx-tag.yaml").read_text()
    assert edited(result) == {
        "pipelines/web/staging/nginx-tag.yaml": (before, before.replace("1.22.0", "1.23.1"))
    }


def test_example_shop_dev_to_staging(example: GitOpsRepo) -> None:
    """web: shop's two images entries change in place and envoy, inherited from base,
    gets a new entry; no setter marker is copied from dev."""
    result = plan_promotion(example, "shop", "dev", "staging", pipeline="web", render=False)
    path = "pipelines/web/staging/kustomization.yaml"
    before = (example.root / path).read_text()
    after = before.replace("1.4.0", "1.4.2") + "  - name: envoyproxy/envoy\n    newTag: v1.28.0\n"
    assert edited(result) == {path: (before, after)}
    assert "$imagepolicy" not in after
    assert sorted((c.container, c.how) for c in result.changes) == [
        ("envoy", "images-entry"),
        ("migrate", "in-place"),
        ("shop", "in-place"),
    ]


def test_example_platform_staging_to_prod(example: GitOpsRepo) -> None:
    """platform: podinfo's JSON6902 value changes in place; report and nginx, inherited
    from base in prod, get new patch files registered under patches."""
    result = plan_promotion(example, None, "staging", "prod", pipeline="platform", render=False)
    path = "pipelines/platform/prod/kustomization.yaml"
    before = (example.root / path).read_text()
    version = (example.root / "pipelines/platform/prod/podinfo-version.yaml").read_text()
    assert edited(result) == {
        path: (before, before + "  - path: report-image.yaml\n  - path: nginx-image.yaml\n"),
        "pipelines/platform/prod/podinfo-version.yaml": (
            version,
            version.replace("5.2.1", "6.0.0"),
        ),
        "pipelines/platform/prod/nginx-image.yaml": (
            None,
            NEW_PATCH.replace("web", "nginx").replace("ghcr.io/acme/nginx:1.2.0", "nginx:1.22.0"),
        ),
        "pipelines/platform/prod/report-image.yaml": (
            None,
            d(
                """\
                apiVersion: batch/v1
                kind: CronJob
                metadata:
                  name: report
                spec:
                  jobTemplate:
                    spec:
                      template:
                        spec:
                          containers:
                            - name: report
                              image: registry.example.com/team/report:2024.06.1
                """
            ),
        ),
    }
    assert result.title == "promote(platform/prod): podinfo, report, nginx from staging"


# -- more edges ------------------------------------------------------------------------------


def test_owned_source_that_is_not_a_plain_scalar_gets_an_override(tmp_path: Path) -> None:
    """TO sets the image inside a double-quoted inline patch (escaped JSON), which cannot be
    edited as one scalar: an override patch, applied after it, is added instead."""
    quoted = (
        '  - patch: "[{\\"op\\": \\"replace\\", \\"path\\": '
        '\\"/spec/template/spec/containers/0/image\\", \\"value\\": '
        '\\"ghcr.io/acme/web:1.1.0\\"}]"'
    )
    prod = stage_k("patches:", quoted, "    target: {kind: Deployment}")
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": prod,
        },
    )
    result = plan(repo)
    assert only_after(result) == {
        "envs/prod/kustomization.yaml": prod.replace(
            "    target: {kind: Deployment}\n",
            "    target: {kind: Deployment}\n  - path: web-image.yaml\n",
        ),
        "envs/prod/web-image.yaml": NEW_PATCH,
    }


def test_flow_style_images_entry_loses_its_digest(tmp_path: Path) -> None:
    """Removing a key from a flow mapping entry takes its separating comma with it."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(
                f"images: [{{name: ghcr.io/acme/web, newTag: 1.1.0, digest: {DIGEST_A}}}]"
            ),
        },
    )
    assert only_after(plan(repo)) == {
        "envs/prod/kustomization.yaml": stage_k("images: [{name: ghcr.io/acme/web, newTag: 1.2.0}]")
    }


def test_patches_that_are_not_a_list_are_refused(tmp_path: Path) -> None:
    """A ``patches:`` that is not a list makes the stage unreadable: nothing is planned."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k("patches: none"),
        },
    )
    with pytest.raises(PromotionError, match=r"stage prod cannot be read: .*'patches' must be a"):
        plan(repo)


def test_target_container_without_an_image_is_left_alone(tmp_path: Path) -> None:
    """A container TO runs without any image has no repository to keep: it is not
    touched, the others are."""
    base = deployment("ghcr.io/acme/web:1.0.0").replace(
        "      - name: web\n", "      - name: bare\n      - name: web\n"
    )
    repo = make(
        tmp_path,
        {
            "base/web.yaml": base,
            "envs/staging/kustomization.yaml": stage_k("patches:", "  - path: bare.yaml"),
            "envs/staging/bare.yaml": SMP.format("1.2.0").replace("- name: web", "- name: bare"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    result = plan(repo, allow_downgrade=True)
    assert result.is_noop
    assert result.unchanged == ("Deployment/web",)


def test_app_missing_from_the_target_is_refused(tmp_path: Path) -> None:
    """Promotion changes versions of apps TO deploys; it does not add apps."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(resources=("../../base", "api.yaml")),
            "envs/staging/api.yaml": deployment("ghcr.io/acme/api:1.0.0", "api"),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    with pytest.raises(PromotionError, match="Deployment/api is not deployed in stage prod"):
        plan(repo, "api")


def test_ambiguous_app_name_asks_for_kind(tmp_path: Path) -> None:
    """Two apps of different kinds share a name: the bare name is refused, Kind/name works."""
    statefulset = deployment("ghcr.io/acme/web-db:1.0.0").replace("Deployment", "StatefulSet")
    repo = make(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - web.yaml\n  - db.yaml\n",
            "base/db.yaml": statefulset,
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(),
        },
    )
    with pytest.raises(LookupFailed, match=r"ambiguous \(Deployment/web, StatefulSet/web\)"):
        plan(repo, "web")
    result = plan(repo, "Deployment/web")
    assert result.title == "promote(demo/prod): web 1.0.0 -> 1.2.0"


def test_example_pipeline_is_inferred_or_must_be_named(example: GitOpsRepo) -> None:
    """Stage names shared by two pipelines: an app only one deploys picks it; an app both
    deploy needs the pipeline named."""
    result = plan_promotion(example, "podinfo", "dev", "staging", render=False)
    assert (result.pipeline, result.title) == (
        "platform",
        "promote(platform/staging): podinfo 6.0.0 -> 6.1.6",
    )
    with pytest.raises(LookupFailed, match=r"exist in several pipelines .*--pipeline"):
        plan_promotion(example, "nginx", "dev", "staging", render=False)
    with pytest.raises(LookupFailed, match="unknown app 'ngnix'; did you mean nginx"):
        plan_promotion(example, "ngnix", "dev", "staging", render=False)


def test_two_objects_with_one_key_are_refused(tmp_path: Path) -> None:
    """TO deploys the base twice (once renamed by a prefix): Deployment/web names two objects,
    so the promotion refuses to guess which one moves."""
    repo = make(
        tmp_path,
        {
            "envs/staging/kustomization.yaml": stage_k(
                "images:", "  - name: ghcr.io/acme/web", "    newTag: 1.2.0"
            ),
            "envs/prod/kustomization.yaml": stage_k(resources=("../../base", "copy")),
            "envs/prod/copy/kustomization.yaml": (
                "resources:\n  - ../../../base\nnamePrefix: copy-\n"
            ),
        },
    )
    with pytest.raises(PromotionError, match=r"2 objects in stage prod \(web, copy-web\)"):
        plan(repo)
