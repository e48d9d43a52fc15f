"""The edits a promotion makes (``promoter.rewrite``): a version edited in place wherever the
target stage sets it, an override where it inherits it (images entry, new patch file, JSON6902),
HelmRelease chart versions, and the bytes around every edit kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import GitOpsRepo
from promoter.errors import PromotionError
from promoter.promotion import AppMove
from tests.builders.plans import write_files
from tests.builders.promotions import (
    DIGEST_A,
    DIGEST_B,
    MARKER,
    NEW_PATCH,
    SMP,
    d,
    deployment,
    edited,
    make,
    only_after,
    plan,
    stage_k,
)

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
    # TO's value is automation's line: --force goes ahead (issue 10 §3)
    assert edited(plan(repo, force=True)) == {
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
    forced = plan(repo, force=True)  # TO's value is automation's line (issue 10 §3)
    assert only_after(forced) == {"envs/prod/web.yaml": prod_web.replace("1.1.0", "1.2.0")}


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
