"""Planning promotions (``promoter.planner.plan_promotion``): several apps, the guard rails,
files shared with other stages, verification, on small repositories and on the example
repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter import GitOpsRepo
from promoter.errors import LookupFailed, PromotionError
from promoter.planner import plan_promotion
from promoter.promotion import AppMove
from tests.builders.plans import example_copy, read_tree, sync_yaml, write_files
from tests.builders.promotions import (
    BASE,
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
