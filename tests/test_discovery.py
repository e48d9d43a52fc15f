"""Pipeline discovery: labelled Flux Kustomizations (``pipelines.weave.works/*``), promoter.yaml."""

from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promoter import FluxRef, GitOpsRepo, ManifestError, Pipeline, Stage
from promoter.discovery import discover
from promoter.serialize import status_dict
from promoter.tree import yaml_files
from tests.builders.repos import (
    deployment,
    example_repo,
    flux_sync,
    kustomization,
    simple_pipeline,
    write,
)


def _labelled_stage(pipeline: str, stage: str, order: int) -> Stage:
    """The Stage the example repo declares in pipelines/<pipeline>/<stage>/sync.yaml."""
    path = f"pipelines/{pipeline}/{stage}"
    sync = f"{path}/sync.yaml"
    return Stage(
        pipeline, stage, order, path, sync, FluxRef(f"{pipeline}-{stage}", "flux-system", sync)
    )


def _stage_names(pipeline: Pipeline) -> list[tuple[str, int]]:
    return [(s.name, s.order) for s in pipeline.stages]


def _versions(root: Path, pipeline: str) -> dict[str, dict[str, str | None]]:
    """``{stage: {app key: version}}`` of one pipeline, read natively."""
    status = GitOpsRepo.open(root).status([pipeline])
    return {s.stage.name: {a.key: a.version for a in s.apps} for s in status.pipelines[0].stages}


# -- labels ------------------------------------------------------------------------------


def test_example_repo_pipelines(tmp_path: Path) -> None:
    """The example repo has pipelines platform and web, each with dev, staging and prod."""
    root = example_repo(tmp_path)
    expected = tuple(
        Pipeline(
            name,
            (
                _labelled_stage(name, "dev", 0),
                _labelled_stage(name, "staging", 1),
                _labelled_stage(name, "prod", 2),
            ),
            f"pipelines/{name}/dev/sync.yaml",
        )
        for name in ("platform", "web")
    )
    assert expected == discover(root).pipelines
    assert expected == GitOpsRepo.open(root).pipelines


def test_labelled_kustomizations_are_found_anywhere(tmp_path: Path) -> None:
    """Flux syncs in any directory, .yml files and multi-document files all declare stages."""
    write(
        tmp_path,
        {
            "apps/dev/kustomization.yaml": kustomization("app.yaml"),
            "apps/dev/app.yaml": deployment("app", "example.com/app:2"),
            "apps/prod/kustomization.yaml": kustomization("app.yaml"),
            "apps/prod/app.yaml": deployment("app", "example.com/app:1"),
            "clusters/dev/syncs.yml": flux_sync("dev-sync", "./apps/dev", "shop", 0),
            "clusters/prod/all.yaml": "---\n".join(
                [
                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
                    flux_sync(
                        "prod-sync",
                        "apps/prod",
                        "shop",
                        1,
                        api_version="kustomize.toolkit.fluxcd.io/v1beta2",
                    ),
                ]
            ),
        },
    )
    (pipeline,) = discover(tmp_path).pipelines
    expected = [
        ("dev", 0, "apps/dev", "clusters/dev/syncs.yml"),
        ("prod", 1, "apps/prod", "clusters/prod/all.yaml"),
    ]
    assert expected == [(s.name, s.order, s.path, s.declared_in) for s in pipeline.stages]
    expected = "clusters/dev/syncs.yml"
    assert expected == pipeline.declared_in
    expected = {"dev": {"Deployment/app": "2"}, "prod": {"Deployment/app": "1"}}
    assert expected == _versions(tmp_path, "shop")


def test_only_labelled_flux_kustomizations_count(tmp_path: Path) -> None:
    """kustomize.config Kustomizations, other kinds and hidden directories declare nothing."""
    simple_pipeline(tmp_path)
    labels = (
        '  labels:\n    pipelines.weave.works/name: ghost\n    pipelines.weave.works/stage: "0"\n'
    )
    write(
        tmp_path,
        {
            "other/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                f"metadata:\n  name: x\n{labels}resources: []\n"
            ),
            "other/configmap.yaml": (
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n{labels}"
            ),
            ".hidden/sync.yaml": flux_sync("ghost", "./demo/dev", "ghost", 0),
            "unlabelled/sync.yaml": flux_sync("plain", "./demo/dev", None, None),
        },
    )
    expected = ["demo"]
    assert expected == [p.name for p in discover(tmp_path).pipelines]


def test_yaml_files_are_repo_relative_posix_and_skip_hidden_dirs(tmp_path: Path) -> None:
    """yaml_files lists .yaml/.yml files relative to the root, sorted, without hidden dirs."""
    write(
        tmp_path,
        {
            "a.yaml": "",
            "b/c.yml": "",
            "b/d.txt": "",
            ".git/config.yaml": "",
            ".github/workflows/ci.yaml": "",
            "node_modules/x/y.yaml": "",
        },
    )
    expected = ["a.yaml", "b/c.yml"]
    assert expected == yaml_files(tmp_path)


def test_stages_sharing_an_order_form_a_wave(tmp_path: Path) -> None:
    """Equal stage numbers make a wave; stages are sorted by order, then name."""
    simple_pipeline(
        tmp_path,
        stages={"prod": (5, "1.0"), "eu": (1, "1.2"), "us": (1, "1.2"), "dev": (0, "1.3")},
    )
    (pipeline,) = discover(tmp_path).pipelines
    expected = [("dev", 0), ("eu", 1), ("us", 1), ("prod", 5)]
    assert expected == _stage_names(pipeline)
    expected = [["dev"], ["eu", "us"], ["prod"]]
    assert expected == [[s.name for s in w] for w in pipeline.waves]


def test_stage_is_named_after_its_flux_object_when_directories_clash(tmp_path: Path) -> None:
    """Two stages whose paths end in the same directory take their Kustomization's name."""
    write(
        tmp_path,
        {
            "eu/prod/kustomization.yaml": kustomization("app.yaml"),
            "eu/prod/app.yaml": deployment("app", "example.com/app:1"),
            "us/prod/kustomization.yaml": kustomization("app.yaml"),
            "us/prod/app.yaml": deployment("app", "example.com/app:1"),
            "dev/kustomization.yaml": kustomization("app.yaml"),
            "dev/app.yaml": deployment("app", "example.com/app:2"),
            "syncs/dev.yaml": flux_sync("app-dev", "./dev", "app", 0),
            "syncs/eu.yaml": flux_sync("prod-eu", "./eu/prod", "app", 1),
            "syncs/us.yaml": flux_sync("prod-us", "./us/prod", "app", 1),
        },
    )
    (pipeline,) = discover(tmp_path).pipelines
    expected = [("dev", 0), ("prod-eu", 1), ("prod-us", 1)]
    assert expected == _stage_names(pipeline)
    assert None is pipeline.error


def test_stage_at_the_repo_root_is_named_after_its_flux_object(tmp_path: Path) -> None:
    """spec.path ``./`` (or none) is the root: path "" (``.`` in JSON), named by metadata.name."""
    write(
        tmp_path,
        {
            "kustomization.yaml": kustomization("app.yaml"),
            "app.yaml": deployment("app", "example.com/app:1"),
            "flux/root.yaml": flux_sync("everything", "./", "root", 0),
        },
    )
    (pipeline,) = discover(tmp_path).pipelines
    (stage,) = pipeline.stages
    (data,) = status_dict(GitOpsRepo.open(tmp_path).status())["pipelines"]
    json_stage = data["stages"][0]
    expected = ("everything", "", None, ".", "1")
    assert expected == (
        stage.name,
        stage.path,
        stage.error,
        json_stage["path"],
        json_stage["apps"][0]["version"],
    )


def test_spec_path_without_dot_slash_and_with_leading_slash(tmp_path: Path) -> None:
    """``demo/dev``, ``./demo/dev/`` and ``/demo/dev`` all name the same repo directory."""
    simple_pipeline(tmp_path, stages={"dev": (0, "1")})
    for text in ("demo/dev", "./demo/dev/", "/demo/dev"):
        write(tmp_path, {"demo/dev/sync.yaml": flux_sync("d", text, "demo", 0)})
        (pipeline,) = discover(tmp_path).pipelines
        expected = [("dev", "demo/dev", None)]
        assert expected == [(s.name, s.path, s.error) for s in pipeline.stages]


def test_label_values_are_read_as_written(tmp_path: Path) -> None:
    """An unquoted stage number is accepted, and a pipeline named ``true`` stays ``true``."""
    simple_pipeline(tmp_path, stages={"dev": (0, "1")})
    write(tmp_path, {"demo/dev/sync.yaml": flux_sync("d", "./demo/dev", "true", "-1")})
    (pipeline,) = discover(tmp_path).pipelines
    expected = ("true", [("dev", -1)])
    assert expected == (pipeline.name, _stage_names(pipeline))


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("one", "'one' is not an integer"),
        ('"1.5"', "'1.5' is not an integer"),
        ('"1_0"', "'1_0' is not an integer"),
        ('""', "'' is not an integer"),
        (None, "is missing"),
    ],
)
def test_stage_label_that_is_not_an_integer_is_an_error(
    tmp_path: Path, label: str | None, problem: str
) -> None:
    """A stage label that is not an integer breaks its pipeline, naming file and line."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"demo/dev/sync.yaml": flux_sync("demo-dev", "./demo/dev", "demo", label)})
    (pipeline,) = discover(tmp_path).pipelines
    line = 8 if label is not None else 7
    error = f"demo/dev/sync.yaml:{line}: label pipelines.weave.works/stage {problem}"
    expected = (error, [("prod", 1)], False)
    status = GitOpsRepo.open(tmp_path).status()
    assert expected == (pipeline.error, _stage_names(pipeline), status.ok)


def test_pipeline_with_only_broken_stages_names_its_file(tmp_path: Path) -> None:
    """A pipeline whose every stage label is broken is still declared in a named file."""
    simple_pipeline(tmp_path, stages={"dev": (0, "1")})
    write(tmp_path, {"demo/dev/sync.yaml": flux_sync("demo-dev", "./demo/dev", "demo", "x")})
    (pipeline,) = discover(tmp_path).pipelines
    expected = ("demo/dev/sync.yaml", ())
    assert expected == (pipeline.declared_in, pipeline.stages)


def test_two_stages_with_the_same_name_is_an_error(tmp_path: Path) -> None:
    """Stages whose directory and Kustomization names both clash break the pipeline."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"other/dev/sync.yaml": flux_sync("demo-dev", "./demo/dev", "demo", 2)})
    (pipeline,) = discover(tmp_path).pipelines
    expected = (
        "pipeline 'demo' has two stages named 'demo-dev' (demo/dev/sync.yaml, other/dev/sync.yaml)"
    )
    assert expected == pipeline.error


def test_other_pipelines_survive_a_broken_one(tmp_path: Path) -> None:
    """A mistake in one pipeline's labels leaves the other pipelines readable."""
    simple_pipeline(tmp_path, "good")
    simple_pipeline(tmp_path, "bad")
    write(tmp_path, {"bad/dev/sync.yaml": flux_sync("bad-dev", "./bad/dev", "bad", "first")})
    status = GitOpsRepo.open(tmp_path).status()
    expected = [("bad", True, [None]), ("good", False, [None, None])]
    assert expected == [
        (p.pipeline.name, p.pipeline.error is not None, [s.error for s in p.stages])
        for p in status.pipelines
    ]


def test_missing_stage_directory_suggests_promoter_yaml(tmp_path: Path) -> None:
    """A spec.path that does not exist makes that stage an error; the others still read."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"demo/dev/sync.yaml": flux_sync("demo-dev", "./clusters/dev", "demo", 0)})
    status = GitOpsRepo.open(tmp_path).status()
    dev, prod = status.pipelines[0].stages
    error = (
        "demo/dev/sync.yaml:11: spec.path './clusters/dev' does not exist in this repository; "
        "if the stage lives elsewhere, declare it in promoter.yaml"
    )
    expected = (error, (), None, "1.0.0")
    assert expected == (dev.error, dev.apps, prod.error, prod.apps[0].version)


@pytest.mark.parametrize("path", ["../elsewhere", "./demo/../../elsewhere", "link"])
def test_stage_path_leaving_the_repo_is_an_error(tmp_path: Path, path: str) -> None:
    """A spec.path outside the repository (also through a symlink) is a stage error."""
    root = tmp_path / "repo"
    simple_pipeline(root)
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    write(root, {"demo/dev/sync.yaml": flux_sync("demo-dev", path, "demo", 0)})
    dev = discover(root).pipelines[0].stages[0]
    expected = f"demo/dev/sync.yaml:11: spec.path {path!r} leaves the repository"
    assert expected == dev.error


def test_malformed_yaml_in_a_labelled_file_names_file_and_line(tmp_path: Path) -> None:
    """A file carrying the pipeline label that is not valid YAML stops discovery, named."""
    simple_pipeline(tmp_path)
    bad = flux_sync("demo-dev", "./demo/dev", "demo", 0) + "  oops: [\n"
    write(tmp_path, {"demo/dev/sync.yaml": bad})
    with pytest.raises(ManifestError) as caught:
        discover(tmp_path)
    expected = ("demo/dev/sync.yaml", 17)
    assert expected == (caught.value.file, caught.value.line)
    assert str(caught.value).startswith("demo/dev/sync.yaml:17: malformed YAML: ")


def test_unrelated_broken_files_do_not_stop_discovery(tmp_path: Path) -> None:
    """Files without the pipeline label are not parsed: bad YAML or bytes there is harmless."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"notes/broken.yaml": "a: [\n", "notes/binary.yaml": b"\xff\xfe\x00"})
    expected = ["demo"]
    assert expected == [p.name for p in discover(tmp_path).pipelines]


# -- Flux Kustomization additions --------------------------------------------------------

FLUX_ADDITIONS = """
targetNamespace: shop-prod
images:
  - name: example.com/app
    newTag: 2.0.0
"""


def test_flux_images_and_target_namespace_count(tmp_path: Path) -> None:
    """spec.images and spec.targetNamespace of the stage's Flux Kustomization are deployed."""
    simple_pipeline(tmp_path)
    write(
        tmp_path,
        {
            "demo/prod/sync.yaml": flux_sync(
                "demo-prod", "./demo/prod", "demo", 1, spec_extra=FLUX_ADDITIONS
            )
        },
    )
    prod = GitOpsRepo.open(tmp_path).status().pipelines[0].stages[1]
    (app,) = prod.apps
    expected = ("shop-prod", "2.0.0")
    assert expected == (app.namespace, app.version)
    assert app.source is not None
    expected = ("demo/prod/sync.yaml", 19, 14, "images")
    assert expected == (
        app.source.file,
        app.source.line,
        app.source.column,
        app.source.type,
    )


def test_flux_inline_patch_counts(tmp_path: Path) -> None:
    """An inline patch in spec.patches sets the version, sourced to the sync file."""
    simple_pipeline(tmp_path)
    patch = """
    patches:
      - target:
          kind: Deployment
        patch: |
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: ignored
          spec:
            template:
              spec:
                containers:
                  - name: app
                    image: example.com/app:3.0.0
    """
    write(
        tmp_path,
        {"demo/prod/sync.yaml": flux_sync("demo-prod", "./demo/prod", "demo", 1, spec_extra=patch)},
    )
    (app,) = GitOpsRepo.open(tmp_path).status().pipelines[0].stages[1].apps
    assert app.source is not None
    expected = ("3.0.0", "demo/prod/sync.yaml", 29, "inline-patch")
    assert expected == (
        app.version,
        app.source.file,
        app.source.line,
        app.source.type,
    )


def test_flux_additions_also_apply_to_real_renders(tmp_path: Path, kubectl: str) -> None:
    """--render gives the same namespace and version as the native read with Flux additions."""
    simple_pipeline(tmp_path)
    write(
        tmp_path,
        {
            "demo/prod/sync.yaml": flux_sync(
                "demo-prod", "./demo/prod", "demo", 1, spec_extra=FLUX_ADDITIONS
            )
        },
    )
    prod = GitOpsRepo.open(tmp_path).status(render=True).pipelines[0].stages[1]
    expected = (None, True)
    assert expected == (prod.error, prod.rendered)
    expected = [("shop-prod", "2.0.0")]
    assert expected == [(a.namespace, a.version) for a in prod.apps]


def test_one_directory_deployed_twice_with_different_flux_images(tmp_path: Path) -> None:
    """Two Flux Kustomizations of one directory are two stages, each with its own additions."""
    write(
        tmp_path,
        {
            "app/kustomization.yaml": kustomization("app.yaml"),
            "app/app.yaml": deployment("app", "example.com/app:1.0.0"),
            "clusters/dev.yaml": flux_sync(
                "app-dev",
                "./app",
                "app",
                0,
                spec_extra="images:\n  - name: example.com/app\n    newTag: 1.1.0\n",
            ),
            "clusters/prod.yaml": flux_sync("app-prod", "./app", "app", 1),
        },
    )
    expected = {"app-dev": {"Deployment/app": "1.1.0"}, "app-prod": {"Deployment/app": "1.0.0"}}
    assert expected == _versions(tmp_path, "app")


# -- promoter.yaml -----------------------------------------------------------------------


def _two_dirs(root: Path) -> None:
    """Unlabelled stage directories dev (app 2), qa (app 2), prod (app 1) under envs/."""
    for name, tag in (("dev", "2"), ("qa", "2"), ("prod", "1")):
        write(
            root,
            {
                f"envs/{name}/kustomization.yaml": kustomization("app.yaml"),
                f"envs/{name}/app.yaml": deployment("app", f"example.com/app:{tag}"),
            },
        )


def test_promoter_yaml_list_order_is_promotion_order(tmp_path: Path) -> None:
    """Stages of a declared pipeline follow the list; names default to the directory."""
    _two_dirs(tmp_path)
    write(
        tmp_path,
        {
            "promoter.yaml": """
            pipelines:
              - name: app
                stages:
                  - path: envs/prod
                    name: production
                  - path: ./envs/dev
            """
        },
    )
    (pipeline,) = discover(tmp_path).pipelines
    expected = Pipeline(
        "app",
        (
            Stage("app", "production", 0, "envs/prod", "promoter.yaml"),
            Stage("app", "dev", 1, "envs/dev", "promoter.yaml"),
        ),
        "promoter.yaml",
    )
    assert expected == pipeline


def test_promoter_yaml_order_makes_waves(tmp_path: Path) -> None:
    """``order:`` puts stages in one wave; a stage without it comes after the one before."""
    _two_dirs(tmp_path)
    write(
        tmp_path,
        {
            "promoter.yaml": """
            pipelines:
              - name: app
                stages:
                  - path: envs/dev
                  - path: envs/qa
                    order: 5
                  - path: envs/prod
                    order: 5
                  - path: envs/dev
                    name: dev-again
            """
        },
    )
    (pipeline,) = discover(tmp_path).pipelines
    expected = [("dev", 0), ("qa", 5), ("prod", 5), ("dev-again", 6)]
    assert expected == _stage_names(pipeline)
    expected = [["dev"], ["qa", "prod"], ["dev-again"]]
    assert expected == [[s.name for s in w] for w in pipeline.waves]


def test_promoter_yaml_wins_over_labels_for_the_pipelines_it_names(tmp_path: Path) -> None:
    """A declared pipeline replaces the labelled one (Flux additions too); others stay."""
    simple_pipeline(tmp_path, "demo")
    simple_pipeline(tmp_path, "other")
    write(
        tmp_path,
        {
            "demo/prod/sync.yaml": flux_sync(
                "demo-prod", "./demo/prod", "demo", 1, spec_extra=FLUX_ADDITIONS
            ),
            "promoter.yaml": """
            pipelines:
              - name: demo
                stages:
                  - path: demo/prod
                  - path: demo/dev
            """,
        },
    )
    repo = GitOpsRepo.open(tmp_path)
    expected = [("demo", "promoter.yaml"), ("other", "other/dev/sync.yaml")]
    assert expected == [(p.name, p.declared_in) for p in repo.pipelines]
    expected = [("prod", 0), ("dev", 1)]
    assert expected == _stage_names(repo.pipeline("demo"))
    expected = {"prod": {"Deployment/app": "1.0.0"}, "dev": {"Deployment/app": "1.1.0"}}
    assert expected == _versions(tmp_path, "demo")
    expected = [None, None]
    assert expected == [s.flux for s in repo.pipeline("demo").stages]


def test_promoter_yaml_stage_path_errors_are_stage_errors(tmp_path: Path) -> None:
    """A declared path that is missing or leaves the repo breaks only that stage."""
    _two_dirs(tmp_path)
    write(
        tmp_path,
        {
            "promoter.yaml": """
            pipelines:
              - name: app
                stages:
                  - path: envs/dev
                  - path: envs/nope
                  - path: ../outside
            """
        },
    )
    stages = GitOpsRepo.open(tmp_path).status().pipelines[0].stages
    expected = [
        None,
        "promoter.yaml:5: path 'envs/nope' does not exist in this repository",
        "promoter.yaml:6: path '../outside' leaves the repository",
    ]
    assert expected == [s.error for s in stages]
    expected = ["2"]
    assert expected == [a.version for a in stages[0].apps]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pipelines: [\n", "promoter.yaml:2: malformed YAML: did not find expected node content"),
        ("- a\n- b\n", "promoter.yaml: must be a single YAML mapping"),
        ("a: 1\n---\nb: 2\n", "promoter.yaml: must be a single YAML mapping"),
        ("pipelines: 3\n", "promoter.yaml:1: 'pipelines' must be a list"),
        ("pipelines: {}\n", "promoter.yaml:1: 'pipelines' must be a list"),
        (
            "pipeline:\n  - name: app\n",
            "promoter.yaml:2: unknown key 'pipeline' (known: check, pipelines, registry)",
        ),
        ("pipelines:\n  - app\n", "promoter.yaml:2: pipelines[0] must be a mapping"),
        ("pipelines:\n  - stages: []\n", "promoter.yaml:2: pipelines[0] needs a name"),
        ("pipelines:\n  - name: ''\n", "promoter.yaml:2: pipelines[0] needs a name"),
        ("pipelines:\n  - name: app\n", "promoter.yaml:2: pipeline 'app' needs a list of stages"),
        (
            "pipelines:\n  - name: app\n    stage:\n      - path: envs/dev\n",
            "promoter.yaml:4: pipeline 'app': unknown key 'stage' "
            "(known: apps, context, flux, "
            "freeze, healthy, name, pin, soak, stages, tags)",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n      - name: dev\n",
            "promoter.yaml:4: stage 0 of pipeline 'app' needs a path",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n      - envs/dev\n",
            "promoter.yaml:4: stage 0 of pipeline 'app' must be a mapping",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n      - path: envs/dev\n        oder: 1\n",
            "promoter.yaml:5: stage 0 of pipeline 'app': unknown key 'oder' "
            "(known: context, flux, "
            "freeze, healthy, name, order, path, pin, soak)",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n      - path: envs/dev\n        order: '1'\n",
            "promoter.yaml:5: stage 0 of pipeline 'app': order '1' is not an integer",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n      - path: envs/dev\n        order: true\n",
            "promoter.yaml:5: stage 0 of pipeline 'app': order True is not an integer",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n      - path: envs/dev\n        name: 3\n",
            "promoter.yaml:5: stage 0 of pipeline 'app': name must be a non-empty string",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n"
            "      - path: envs/dev\n        order: 2\n      - path: envs/prod\n        order: 1\n",
            "promoter.yaml:7: stage 1 of pipeline 'app': order 1 is lower than the order of "
            "the stage before it (2); list stages in promotion order",
        ),
        (
            "pipelines:\n  - name: app\n    stages:\n"
            "      - path: envs/dev\n      - path: envs/qa\n        name: dev\n",
            "promoter.yaml:5: pipeline 'app' has two stages named 'dev'",
        ),
        (
            "pipelines:\n  - name: app\n    stages: [{path: envs/dev}]\n"
            "  - name: app\n    stages: [{path: envs/qa}]\n",
            "promoter.yaml:4: pipeline 'app' is declared twice",
        ),
    ],
)
def test_malformed_promoter_yaml_names_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    """Every mistake in promoter.yaml is one ManifestError naming promoter.yaml (and line)."""
    _two_dirs(tmp_path)
    write(tmp_path, {"promoter.yaml": text})
    with pytest.raises(ManifestError) as caught:
        GitOpsRepo.open(tmp_path)
    assert message == str(caught.value)
    expected = "promoter.yaml"
    assert expected == caught.value.file


def test_promoter_yaml_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    """A promoter.yaml that cannot be read as a file is an error, not silently ignored."""
    simple_pipeline(tmp_path)
    (tmp_path / "promoter.yaml").mkdir()
    with pytest.raises(ManifestError) as caught:
        discover(tmp_path)
    expected = "promoter.yaml: is a directory, expected a file"
    assert expected == str(caught.value)


def test_promoter_yaml_with_invalid_utf8_is_an_error(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 in promoter.yaml are reported naming the file."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"promoter.yaml": b"pipelines: \xff\n"})
    with pytest.raises(ManifestError) as caught:
        discover(tmp_path)
    expected = "promoter.yaml: not UTF-8 text (invalid start byte)"
    assert expected == str(caught.value)


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "pipelines:\n", "pipelines: []\n"])
def test_empty_promoter_yaml_declares_nothing(tmp_path: Path, text: str) -> None:
    """An empty promoter.yaml (or an empty list) leaves the labelled pipelines alone."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"promoter.yaml": text})
    expected = [("demo", "demo/dev/sync.yaml")]
    assert expected == [(p.name, p.declared_in) for p in discover(tmp_path).pipelines]


# -- properties ----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["dev", "qa", "staging", "eu", "us", "prod"]),
        st.integers(min_value=-3, max_value=3),
        min_size=1,
    )
)
def test_stages_are_sorted_by_order_then_name(orders: dict[str, int]) -> None:
    """Any labelled stage numbers give stages sorted by (order, name) and waves of equal order."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        simple_pipeline(root, stages={name: (order, "1") for name, order in orders.items()})
        (pipeline,) = discover(root).pipelines
    expected = sorted((order, name) for name, order in orders.items())
    assert expected == [(s.order, s.name) for s in pipeline.stages]
    waves = [
        sorted(n for n, o in orders.items() if o == order) for order in sorted(set(orders.values()))
    ]
    assert waves == [[s.name for s in wave] for wave in pipeline.waves]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["demo", "dev", "..", ".", "", "x"]), min_size=1, max_size=5))
def test_stage_paths_are_normalised_or_refused(parts: list[str]) -> None:
    """Every spec.path is repo-relative POSIX without ``./``, or an error when it leaves."""
    text = "./" + "/".join(parts)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        simple_pipeline(root, stages={"dev": (0, "1")})
        write(root, {"sync.yaml": flux_sync("s", text, "p", 0)})
        (stage,) = next(p for p in discover(root).pipelines if p.name == "p").stages
        normal = posixpath.normpath(text)
        leaves = normal == ".." or normal.startswith("../")
        exists = not leaves and (root / normal).is_dir()
    if leaves:
        expected_error: str | None = f"sync.yaml:11: spec.path {text!r} leaves the repository"
    elif exists:
        expected_error = None
    else:
        expected_error = (
            f"sync.yaml:11: spec.path {text!r} does not exist in this repository; "
            "if the stage lives elsewhere, declare it in promoter.yaml"
        )
    expected = (expected_error, "" if normal == "." else normal)
    assert expected == (stage.error, stage.path)
    assert not stage.path.startswith("./")
