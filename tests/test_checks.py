"""``pipelines check``: each rule on a small repo made to break it, the example repo, outputs."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.check import github_line
from cli.main import app
from promoter import GitOpsRepo, Stage
from promoter._yaml import YMap, parse_text
from promoter.checkrules import default_severity
from promoter.checks import Finding, check_path, check_repo
from promoter.kustomize import Resource
from promoter.problems import Problem

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HINT = '# {"$imagepolicy": "<namespace>:<policy>[:tag|:name|:digest]"}'
CLEAN_ENV: dict[str, str | None] = {
    "GITHUB_WORKSPACE": None,
    "PROMOTER_KUSTOMIZE": None,
    "PROMOTER_DEBUG": None,
}


def finding(file: str | None, line: int | None, rule: str, message: str) -> Finding:
    """The finding of ``rule`` at ``file``:``line``, with the rule's default severity."""
    return Finding(Problem(message, file, line, code=rule), default_severity(rule))


# -- a small repo: pipeline "demo", stages dev (0) and prod (1) ---------------------------

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
"""


def sync(stage: str, order: str = '"0"', path: str | None = None) -> str:
    """A Flux Kustomization for stage ``stage``; the stage label is on line 8, path on 11."""
    return f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: demo-{stage}
  namespace: flux-system
  labels:
    pipelines.weave.works/name: demo
    pipelines.weave.works/stage: {order}
spec:
  interval: 5m
  path: {path or f"./demo/{stage}"}
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def deployment(image: str, comment: str = "", name: str = "app") -> str:
    """A one-container Deployment; the image is on line 10."""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
        - name: app
          image: {image}{comment}
"""


def make_repo(root: Path, files: Mapping[str, str] | None = None) -> Path:
    """The clean two-stage repo at ``root``, with ``files`` written over it."""
    layout = {
        "clusters/dev.yaml": sync("dev", '"0"'),
        "clusters/prod.yaml": sync("prod", '"1"'),
        "demo/dev/kustomization.yaml": KUSTOMIZATION,
        "demo/dev/deployment.yaml": deployment("example.com/app:1.1.0"),
        "demo/prod/kustomization.yaml": KUSTOMIZATION,
        "demo/prod/deployment.yaml": deployment("example.com/app:1.0.0"),
        **(files or {}),
    }
    for rel, text in layout.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def example_copy(dest: Path) -> Path:
    """A private copy of the example repository (base/, pipelines/, image-automation/)."""
    for name in ("base", "pipelines", "image-automation"):
        shutil.copytree(PROJECT_ROOT / name, dest / name)
    return dest


def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """Run ``pipelines ARGS`` in-process."""
    return CliRunner().invoke(app, list(args), env={**CLEAN_ENV, **(env or {})})


# -- the example repo ----------------------------------------------------------------------


def test_example_repo_is_clean(tmp_path: Path) -> None:
    """The example repository has no findings and the command exits 0."""
    repo = example_copy(tmp_path / "example")
    assert check_path(repo) == ()
    result = invoke("check", "--repo", str(repo))
    assert (result.exit_code, result.stdout) == (
        0,
        "pipelines check: no findings (2 pipelines, 6 stages)\n",
    )


@pytest.mark.usefixtures("kubectl")
def test_example_repo_renders_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --render every example stage renders with kustomize to the native versions."""
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", "kubectl")
    assert check_path(example_copy(tmp_path / "example"), render=True) == ()


def test_small_repo_is_clean(tmp_path: Path) -> None:
    """The repo the other tests break has no findings of its own."""
    assert check_path(make_repo(tmp_path)) == ()


# -- pipeline ------------------------------------------------------------------------------


def test_non_integer_stage_label(tmp_path: Path) -> None:
    """A stage label that is not an integer is a pipeline finding on the label's line."""
    repo = make_repo(tmp_path, {"clusters/prod.yaml": sync("prod", "second")})
    assert check_path(repo) == (
        finding(
            "clusters/prod.yaml",
            8,
            "label-invalid",
            "label pipelines.weave.works/stage 'second' is not an integer",
        ),
    )


def test_missing_stage_path(tmp_path: Path) -> None:
    """A spec.path that does not exist is a pipeline finding on the path's line."""
    repo = make_repo(tmp_path, {"clusters/prod.yaml": sync("prod", '"1"', "./demo/nowhere")})
    assert check_path(repo) == (
        finding(
            "clusters/prod.yaml",
            11,
            "stage-path-invalid",
            "spec.path './demo/nowhere' does not exist in this repository; "
            "if the stage lives elsewhere, declare it in promoter.yaml",
        ),
    )


def test_stage_label_without_pipeline_name(tmp_path: Path) -> None:
    """A stage label without a pipeline name label is a pipeline finding (it does nothing)."""
    orphan = sync("qa", '"2"').replace("    pipelines.weave.works/name: demo\n", "")
    repo = make_repo(tmp_path, {"clusters/qa.yaml": orphan})
    assert check_path(repo) == (
        finding(
            "clusters/qa.yaml",
            7,
            "label-without-pipeline",
            "label pipelines.weave.works/stage without pipelines.weave.works/name: "
            "this Flux Kustomization is not a stage of any pipeline",
        ),
    )


def test_duplicate_stage_names(tmp_path: Path) -> None:
    """Two stages with one name are a pipeline finding naming both declaring files."""
    twin = sync("prod", '"2"', "./other/prod")
    repo = make_repo(
        tmp_path,
        {
            "clusters/prod-2.yaml": twin,
            "other/prod/kustomization.yaml": KUSTOMIZATION,
            "other/prod/deployment.yaml": deployment("example.com/app:1.0.0"),
        },
    )
    assert check_path(repo) == (
        finding(
            "clusters/prod-2.yaml",
            None,
            "duplicate-stage",
            "pipeline 'demo' has two stages named 'demo-prod' "
            "(clusters/prod.yaml, clusters/prod-2.yaml)",
        ),
    )


def test_label_that_promoter_yaml_overrides(tmp_path: Path) -> None:
    """A labelled stage of a pipeline promoter.yaml declares without it is a finding."""
    config = "pipelines:\n  - name: demo\n    stages:\n      - path: demo/dev\n"
    repo = make_repo(tmp_path, {"promoter.yaml": config})
    assert check_path(repo) == (
        finding(
            "clusters/prod.yaml",
            11,
            "label-ignored",
            "labelled as a stage of pipeline 'demo', which promoter.yaml declares without "
            "path 'demo/prod'; promoter.yaml wins, so this label is ignored",
        ),
    )


def test_broken_promoter_yaml(tmp_path: Path) -> None:
    """A promoter.yaml discovery refuses is a pipeline finding at its line."""
    config = "pipelines:\n  - name: demo\n    stagez: []\n"
    repo = make_repo(tmp_path, {"promoter.yaml": config})
    assert check_path(repo) == (
        finding(
            "promoter.yaml",
            3,
            "config-invalid",
            "pipeline 'demo': unknown key 'stagez' (known: apps, context, flux, "
            "freeze, healthy, name, pin, soak, stages, tags)",
        ),
    )


def test_no_pipelines(tmp_path: Path) -> None:
    """A repository without any pipeline is one finding without a file."""
    (tmp_path / "empty.yaml").write_text("a: 1\n", encoding="utf-8")
    assert check_path(tmp_path) == (
        finding(
            None,
            None,
            "no-pipelines",
            "no pipelines found: label Flux Kustomizations with pipelines.weave.works/name "
            "and pipelines.weave.works/stage, or declare them in promoter.yaml",
        ),
    )


# -- stage, patch, unsupported -------------------------------------------------------------


def test_missing_patch_file(tmp_path: Path) -> None:
    """A patch file that does not exist is a stage finding on the patches entry."""
    kustomization = KUSTOMIZATION + "patches:\n  - path: tag.yaml\n"
    repo = make_repo(tmp_path, {"demo/prod/kustomization.yaml": kustomization})
    assert check_path(repo) == (
        finding(
            "demo/prod/kustomization.yaml",
            6,
            "stage-unbuildable",
            "demo/prod/tag.yaml does not exist (stage demo/prod)",
        ),
    )


def test_strategic_merge_patch_targeting_nothing(tmp_path: Path) -> None:
    """An untargeted strategic merge patch naming no object is a stage finding in the patch."""
    repo = make_repo(
        tmp_path,
        {
            "demo/prod/kustomization.yaml": KUSTOMIZATION + "patches:\n  - path: tag.yaml\n",
            "demo/prod/tag.yaml": deployment("example.com/app:1.0.1", name="other"),
        },
    )
    assert check_path(repo) == (
        finding(
            "demo/prod/tag.yaml",
            1,
            "stage-unbuildable",
            "no resource matches strategic merge patch Deployment/other (stage demo/prod)",
        ),
    )


def test_patch_target_selecting_nothing(tmp_path: Path) -> None:
    """A patch whose target selects no object (kustomize skips it silently) is a finding."""
    kustomization = KUSTOMIZATION + textwrap.dedent(
        """\
        patches:
          - path: tag.yaml
            target:
              kind: Deployment
              name: other
        """
    )
    repo = make_repo(
        tmp_path,
        {
            "demo/prod/kustomization.yaml": kustomization,
            "demo/prod/tag.yaml": deployment("example.com/app:1.0.1"),
        },
    )
    assert check_path(repo) == (
        finding(
            "demo/prod/kustomization.yaml",
            6,
            "patch-targets-nothing",
            "patch target {kind: Deployment, name: other} selects no object, so kustomize "
            "applies nothing (stage demo/prod)",
        ),
    )


def test_delete_patch_is_not_a_dangling_target(tmp_path: Path) -> None:
    """A targeted ``$patch: delete`` removes its object and is not reported."""
    kustomization = textwrap.dedent(
        """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - deployment.yaml
          - extra.yaml
        patches:
          - target:
              kind: ConfigMap
              name: extra
            patch: |-
              $patch: delete
              apiVersion: v1
              kind: ConfigMap
              metadata:
                name: extra
        """
    )
    extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
    repo = make_repo(
        tmp_path,
        {"demo/prod/kustomization.yaml": kustomization, "demo/prod/extra.yaml": extra},
    )
    assert check_path(repo) == ()


def test_unsupported_feature(tmp_path: Path) -> None:
    """A remote base the native reader cannot follow is an unsupported finding."""
    kustomization = KUSTOMIZATION + "  - https://github.com/org/repo//deploy?ref=v1\n"
    repo = make_repo(tmp_path, {"demo/prod/kustomization.yaml": kustomization})
    assert check_path(repo) == (
        finding(
            "demo/prod/kustomization.yaml",
            5,
            "unsupported",
            "the native reader cannot follow remote resource "
            "https://github.com/org/repo//deploy?ref=v1; status and promote render this "
            "stage with kustomize instead (stage demo/prod)",
        ),
    )


# -- shared overrides ----------------------------------------------------------------------

COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
images:
  - name: example.com/app
    newTag: 1.2.0
"""


def test_images_entry_in_a_shared_component(tmp_path: Path) -> None:
    """An images: entry in a component two stages use is a shared-override finding."""
    with_component = KUSTOMIZATION + "components:\n  - ../../pinned\n"
    repo = make_repo(
        tmp_path,
        {
            "demo/dev/kustomization.yaml": with_component,
            "demo/prod/kustomization.yaml": with_component,
            "pinned/kustomization.yaml": COMPONENT,
        },
    )
    assert check_path(repo) == (
        finding(
            "pinned/kustomization.yaml",
            5,
            "shared-override",
            "an images: entry sets Deployment/app container app in a file that 2 stages read "
            "(demo/dev, demo/prod): promoting one of them would move the others; keep version "
            "overrides in each stage's own directory",
        ),
    )


def test_version_inherited_from_a_shared_base_is_fine(tmp_path: Path) -> None:
    """Two stages inheriting one base version unchanged is not a finding."""
    via_base = KUSTOMIZATION.replace("deployment.yaml", "../../base")
    repo = make_repo(
        tmp_path,
        {
            "base/kustomization.yaml": KUSTOMIZATION,
            "base/deployment.yaml": deployment("example.com/app:1.0.0"),
            "demo/dev/kustomization.yaml": via_base,
            "demo/prod/kustomization.yaml": via_base,
        },
    )
    assert check_path(repo) == ()


# -- markers -------------------------------------------------------------------------------


def test_malformed_marker(tmp_path: Path) -> None:
    """A setter marker without a namespace is a marker finding on its line."""
    dev = deployment("example.com/app:1.1.0", ' # {"$imagepolicy": "flux-system/app"}')
    repo = make_repo(tmp_path, {"demo/dev/deployment.yaml": dev})
    assert check_path(repo) == (
        finding(
            "demo/dev/deployment.yaml",
            10,
            "marker-malformed",
            f"setter marker 'flux-system/app' names no namespace; expected {HINT}",
        ),
    )


def test_marker_outside_any_stage_is_checked(tmp_path: Path) -> None:
    """Markers are checked in every YAML file, not only in files a stage reads."""
    loose = 'newTag: 1.0.0 # {"$imagepolicy": flux-system:app}\n'
    repo = make_repo(tmp_path, {"notes/loose.yaml": loose})
    assert check_path(repo) == (
        finding(
            "notes/loose.yaml",
            1,
            "marker-malformed",
            "malformed setter marker '# {\"$imagepolicy\": flux-system:app}': "
            f"Flux expects exactly {HINT}",
        ),
    )


def test_marker_suffix_that_does_not_fit_the_field(tmp_path: Path) -> None:
    """A marker without :tag on a newTag field is a marker finding."""
    kustomization = KUSTOMIZATION + textwrap.dedent(
        """\
        images:
          - name: example.com/app
            newTag: 1.1.0 # {"$imagepolicy": "flux-system:app"}
        """
    )
    repo = make_repo(tmp_path, {"demo/dev/kustomization.yaml": kustomization})
    assert check_path(repo) == (
        finding(
            "demo/dev/kustomization.yaml",
            7,
            "marker-suffix-mismatch",
            "setter marker flux-system:app on newTag makes Flux write the whole image "
            "reference into it; use :tag",
        ),
    )


def test_marker_in_a_later_stage(tmp_path: Path) -> None:
    """A well-formed marker on a version of stage 1 is a marker finding (Flux would move it)."""
    prod = deployment("example.com/app:1.0.0", ' # {"$imagepolicy": "flux-system:app"}')
    repo = make_repo(tmp_path, {"demo/prod/deployment.yaml": prod})
    assert check_path(repo) == (
        finding(
            "demo/prod/deployment.yaml",
            10,
            "marker-in-later-stage",
            "setter marker flux-system:app sets Deployment/app container app in a stage after "
            "the first of pipeline demo: Flux image automation would move it without a "
            "promotion (stage demo/prod)",
        ),
    )


# -- versions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("example.com/app:latest", "is 'latest', which has no version order"),
        ("example.com/app", "has no tag (it runs 'latest')"),
    ],
)
def test_unordered_version(tmp_path: Path, image: str, problem: str) -> None:
    """A tag without an order and without a digest is a version finding at the image."""
    repo = make_repo(tmp_path, {"demo/prod/deployment.yaml": deployment(image)})
    assert check_path(repo) == (
        finding(
            "demo/prod/deployment.yaml",
            10,
            "version-floating",
            f"Deployment/app container app {problem}: promotion cannot tell newer from older; "
            "pin a version or a digest (stage demo/prod)",
        ),
    )


def test_digest_pins_an_unordered_tag(tmp_path: Path) -> None:
    """``latest`` pinned by a digest is not a finding."""
    pinned = deployment("example.com/app:latest@sha256:" + "a" * 64)
    assert check_path(make_repo(tmp_path, {"demo/prod/deployment.yaml": pinned})) == ()


# -- render --------------------------------------------------------------------------------


@pytest.mark.usefixtures("kubectl")
def test_render_reports_a_stage_kustomize_cannot_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --render a stage kustomize refuses (an unknown field) is a render finding."""
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", "kubectl")
    kustomization = KUSTOMIZATION + "bogusField: 1\n"
    repo = make_repo(tmp_path, {"demo/prod/kustomization.yaml": kustomization})
    assert check_path(repo) == ()
    (finding,) = check_path(repo, render=True)
    prefix = (
        "kustomize cannot render the stage: demo/prod: kubectl kustomize failed: "
        'invalid Kustomization: json: unknown field "bogusField'
    )
    assert (finding.file, finding.line, finding.rule) == (
        "demo/prod/kustomization.yaml",
        None,
        "render-failed",
    )
    assert finding.message.startswith(prefix), finding.message
    assert finding.message.endswith(" (stage demo/prod)"), finding.message


def test_render_reports_versions_that_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render that disagrees with the native reader is a render finding at the source."""
    # Any program on PATH makes find_tool() succeed; the renders themselves are faked:
    # dev renders what the native reader reads, prod another tag.
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", sys.executable)
    repo = GitOpsRepo.open(make_repo(tmp_path))
    other = parse_text(deployment("example.com/app:9.9.9"), "fake", "render")
    prod = tuple(Resource.from_doc(d) for d in other if isinstance(d, YMap))

    def render(stage: Stage, root: Path | None = None) -> tuple[Resource, ...]:
        return prod if stage.name == "prod" else repo.build(stage).resources

    monkeypatch.setattr(repo, "render", render)
    assert check_repo(repo, render=True) == (
        finding(
            "demo/prod/deployment.yaml",
            10,
            "render-mismatch",
            "Deployment/app: the native reader reads app=example.com/app:1.0.0, kustomize "
            "renders app=example.com/app:9.9.9 (stage demo/prod)",
        ),
    )


def test_render_without_a_renderer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --render and no kustomize or kubectl, one render finding says so."""
    monkeypatch.setenv("PROMOTER_KUSTOMIZE", "no-such-kustomize-binary")
    assert check_path(make_repo(tmp_path), render=True) == (
        finding(
            None,
            None,
            "render-unavailable",
            "cannot render: neither kustomize nor kubectl is on PATH",
        ),
    )


# -- gates ---------------------------------------------------------------------------------


def test_gate_errors_become_findings(tmp_path: Path) -> None:
    """A gate promoter.gates refuses is a gates finding at its line."""
    config = "pipelines:\n  - name: demo\n    soak: soon\n"
    repo = make_repo(tmp_path, {"promoter.yaml": config})
    (finding,) = check_path(repo)
    assert (finding.file, finding.line, finding.rule) == ("promoter.yaml", 3, "gate-invalid")


def test_gates_naming_unknown_stages_are_findings(tmp_path: Path) -> None:
    """Gates for a pipeline or stage that does not exist would never apply: say so."""
    config = (
        "pipelines:\n"
        "  - name: demo\n"
        "    stages:\n"
        "      - {name: prdo, soak: 1h}\n"
        "  - name: nope\n"
        "    soak: 2h\n"
    )
    repo = make_repo(tmp_path, {"promoter.yaml": config})
    assert check_path(repo) == (
        finding("promoter.yaml", None, "gate-unknown-target", "gates name unknown pipeline 'nope'"),
        finding(
            "promoter.yaml",
            None,
            "gate-unknown-target",
            "gates name unknown stage 'prdo' of pipeline 'demo'",
        ),
    )


# -- outputs -------------------------------------------------------------------------------


def two_findings(root: Path) -> Path:
    """A repo with a malformed marker in dev and ``latest`` in prod."""
    dev = deployment("example.com/app:1.1.0", ' # {"$imagepolicy": "flux-system/app"}')
    prod = deployment("example.com/app:latest")
    return make_repo(root, {"demo/dev/deployment.yaml": dev, "demo/prod/deployment.yaml": prod})


MARKER_MESSAGE = f"setter marker 'flux-system/app' names no namespace; expected {HINT}"
VERSION_MESSAGE = (
    "Deployment/app container app is 'latest', which has no version order: promotion "
    "cannot tell newer from older; pin a version or a digest (stage demo/prod)"
)


def test_text_output(tmp_path: Path) -> None:
    """Text output is one ``file:line: severity [rule] message`` line per finding, then a
    summary; an error remains, so it exits 1."""
    result = invoke("check", "--repo", str(two_findings(tmp_path)))
    assert (result.exit_code, result.stdout) == (
        1,
        f"demo/dev/deployment.yaml:10: error [marker-malformed] {MARKER_MESSAGE}\n"
        f"demo/prod/deployment.yaml:10: warning [version-floating] {VERSION_MESSAGE}\n"
        "pipelines check: 2 findings: 1 error, 1 warning (1 marker-malformed, "
        "1 version-floating) in 1 pipeline, 2 stages\n",
    )


def test_json_output(tmp_path: Path) -> None:
    """JSON output lists every finding's file, line, rule and message, and ``ok``."""
    result = invoke("check", "--repo", str(two_findings(tmp_path)), "--output", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "findings": [
            {
                "file": "demo/dev/deployment.yaml",
                "line": 10,
                "rule": "marker-malformed",
                "message": MARKER_MESSAGE,
                "id": "marker-malformed",
                "severity": "error",
            },
            {
                "file": "demo/prod/deployment.yaml",
                "line": 10,
                "rule": "version-floating",
                "message": VERSION_MESSAGE,
                "id": "version-floating",
                "severity": "warning",
            },
        ],
        "ok": False,
        "counts": {"error": 1, "warning": 1, "notice": 0},
        "strict": False,
    }


def test_json_output_when_clean(tmp_path: Path) -> None:
    """A clean repo gives an empty JSON list, ``ok: true`` and exit 0."""
    result = invoke("check", "--repo", str(make_repo(tmp_path)), "-o", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (
        0,
        {
            "findings": [],
            "ok": True,
            "counts": {"error": 0, "warning": 0, "notice": 0},
            "strict": False,
        },
    )


def test_github_output(tmp_path: Path) -> None:
    """GitHub output is ``::error``/``::warning file=,line=::`` annotations (by severity)
    relative to the workspace."""
    repo = two_findings(tmp_path / "gitops")
    result = invoke(
        "check", "--repo", str(repo), "--output", "github", env={"GITHUB_WORKSPACE": str(tmp_path)}
    )
    assert (result.exit_code, result.stdout.splitlines()) == (
        1,
        [
            "::error file=gitops/demo/dev/deployment.yaml,line=10::"
            f"[marker-malformed] {MARKER_MESSAGE}",
            "::warning file=gitops/demo/prod/deployment.yaml,line=10::"
            f"[version-floating] {VERSION_MESSAGE}",
            "pipelines check: 2 findings: 1 error, 1 warning (1 marker-malformed, "
            "1 version-floating) in 1 pipeline, 2 stages",
        ],
    )


def test_github_line_without_file_and_escaping(tmp_path: Path) -> None:
    """A finding without a file is a bare ``::error::``; ``%``, newlines, ``:`` and ``,`` in
    properties are escaped the way workflow commands need."""
    bare = finding(None, None, "render-failed", "100% broken\nreally")
    expected = "::error::[render-failed] 100%25 broken%0Areally"
    assert github_line(bare, tmp_path, tmp_path) == expected
    odd = finding("a,b:c.yaml", None, "marker-malformed", "m")
    expected = "::error file=a%2Cb%3Ac.yaml::[marker-malformed] m"
    assert github_line(odd, tmp_path, tmp_path) == expected


def test_github_output_of_a_fatal_error(tmp_path: Path) -> None:
    """A repository that cannot be opened still leaves an annotation, and exits 1."""
    result = invoke("check", "--repo", str(tmp_path / "missing"), "-o", "github")
    assert (result.exit_code, result.stdout) == (
        1,
        f"::error::{tmp_path / 'missing'}: not a directory\n",
    )
