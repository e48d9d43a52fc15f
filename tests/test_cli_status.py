"""``pipelines status`` on the example repo: library, JSON/YAML/tree/table output, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from cli.main import app
from promoter import GitOpsRepo, RepoStatus
from promoter.serialize import status_dict
from tests.builders.repos import (
    PROJECT_ROOT,
    example_repo,
    flux_sync,
    git_init,
    kustomization,
    simple_pipeline,
    write,
)

# Rich must see a plain pipe, whatever the environment running the tests says.
PLAIN_ENV: dict[str, str | None] = {
    "COLUMNS": None,
    "LINES": None,
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "PROMOTER_DEBUG": None,
    "PROMOTER_KUSTOMIZE": None,
}


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """Run ``pipelines ARGS`` in-process with a plain (non-terminal) environment."""
    return CliRunner().invoke(app, list(args), env={**PLAIN_ENV, **(env or {})})


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the example repository."""
    return example_repo(tmp_path / "example")


# -- the example repo, written out by hand from base/ and pipelines/ ----------------------


def source(file: str, line: int, column: int, kind: str, policy: str | None = None) -> Any:
    """A ``source`` object; ``automated`` is true exactly when a setter marker names a policy."""
    return {
        "file": file,
        "line": line,
        "column": column,
        "type": kind,
        "automated": policy is not None,
        "policy": policy,
    }


def image(
    container: str,
    ref: str,
    registry: str,
    repository: str,
    tag: str,
    src: Any,
    *,
    init: bool = False,
) -> Any:
    """One container image entry."""
    return {
        "container": container,
        "init": init,
        "image": ref,
        "registry": registry,
        "repository": repository,
        "tag": tag,
        "digest": None,
        "source": src,
    }


def podinfo(namespace: str, version: str, src: Any) -> Any:
    """The podinfo HelmRelease (chart version, no images)."""
    return {
        "kind": "HelmRelease",
        "name": "podinfo",
        "namespace": namespace,
        "rendered_name": "podinfo",
        "version": version,
        "images": [],
        "source": src,
    }


def workload(kind: str, name: str, namespace: str, version: str, images: list[Any]) -> Any:
    """A workload whose version and source are those of its container named like it."""
    primary = next(i for i in images if i["container"] == name)
    return {
        "kind": kind,
        "name": name,
        "namespace": namespace,
        "rendered_name": name,
        "version": version,
        "images": images,
        "source": primary["source"],
    }


def report(namespace: str, tag: str, src: Any) -> Any:
    """The nightly report CronJob."""
    ref = f"registry.example.com/team/report:{tag}"
    return workload(
        "CronJob",
        "report",
        namespace,
        tag,
        [image("report", ref, "registry.example.com", "team/report", tag, src)],
    )


def nginx(namespace: str, tag: str, src: Any) -> Any:
    """The nginx Deployment (a Docker Hub official image)."""
    return workload(
        "Deployment",
        "nginx",
        namespace,
        tag,
        [image("nginx", f"nginx:{tag}", "docker.io", "library/nginx", tag, src)],
    )


def shop(namespace: str, tags: tuple[str, str, str], srcs: tuple[Any, Any, Any]) -> Any:
    """The shop Deployment: migrate (init), shop and the envoy sidecar."""
    migrate_tag, shop_tag, envoy_tag = tags
    migrate_src, shop_src, envoy_src = srcs
    return workload(
        "Deployment",
        "shop",
        namespace,
        shop_tag,
        [
            image(
                "migrate",
                f"ghcr.io/acme/shop-migrate:{migrate_tag}",
                "ghcr.io",
                "acme/shop-migrate",
                migrate_tag,
                migrate_src,
                init=True,
            ),
            image(
                "shop",
                f"ghcr.io/acme/shop:{shop_tag}",
                "ghcr.io",
                "acme/shop",
                shop_tag,
                shop_src,
            ),
            image(
                "envoy",
                f"envoyproxy/envoy:{envoy_tag}",
                "docker.io",
                "envoyproxy/envoy",
                envoy_tag,
                envoy_src,
            ),
        ],
    )


def stage(pipeline: str, name: str, order: int, apps: list[Any]) -> Any:
    """A stage of the example repo, reconciled by pipelines/<pipeline>/<name>/sync.yaml."""
    return {
        "name": name,
        "order": order,
        "path": f"pipelines/{pipeline}/{name}",
        "flux": {
            "name": f"{pipeline}-{name}",
            "namespace": "flux-system",
            "file": f"pipelines/{pipeline}/{name}/sync.yaml",
        },
        "rendered": False,
        "unsupported": [],
        "unsupported_problems": [],
        "apps": apps,
        "problems": [],
        "error": None,
    }


def _example_expected() -> dict[str, Any]:
    p = "pipelines/platform"
    w = "pipelines/web"
    base_nginx = source("base/nginx/deployment.yaml", 20, 17, "resource")
    base_envoy = source("base/shop/deployment.yaml", 33, 17, "resource")
    platform = [
        stage(
            "platform",
            "dev",
            0,
            [
                podinfo(
                    "platform-dev",
                    "6.1.6",
                    source(f"{p}/dev/podinfo-version.yaml", 3, 9, "json6902"),
                ),
                report(
                    "platform-dev",
                    "2024.06.3",
                    source(
                        f"{p}/dev/kustomization.yaml", 17, 12, "images", "flux-system:report:tag"
                    ),
                ),
                nginx(
                    "platform-dev",
                    "1.23.1",
                    source(
                        f"{p}/dev/kustomization.yaml", 19, 12, "images", "flux-system:nginx:tag"
                    ),
                ),
            ],
        ),
        stage(
            "platform",
            "staging",
            1,
            [
                podinfo(
                    "platform-staging",
                    "6.0.0",
                    source(f"{p}/staging/podinfo-version.yaml", 3, 9, "json6902"),
                ),
                report(
                    "platform-staging",
                    "2024.06.1",
                    source(f"{p}/staging/kustomization.yaml", 28, 27, "inline-patch"),
                ),
                nginx(
                    "platform-staging",
                    "1.22.0",
                    source(f"{p}/staging/kustomization.yaml", 31, 12, "images"),
                ),
            ],
        ),
        stage(
            "platform",
            "prod",
            2,
            [
                podinfo(
                    "platform-prod",
                    "5.2.1",
                    source(f"{p}/prod/podinfo-version.yaml", 3, 9, "json6902"),
                ),
                report(
                    "platform-prod",
                    "2024.05.1",
                    source("base/report/cronjob.yaml", 22, 21, "resource"),
                ),
                nginx("platform-prod", "1.21.6", base_nginx),
            ],
        ),
    ]
    web = [
        stage(
            "web",
            "dev",
            0,
            [
                nginx(
                    "web-dev",
                    "1.23.1",
                    source(f"{w}/dev/nginx-tag.yaml", 10, 17, "patch", "flux-system:nginx"),
                ),
                shop(
                    "web-dev",
                    ("1.4.2", "1.4.2", "v1.28.0"),
                    (
                        source(
                            f"{w}/dev/kustomization.yaml", 16, 12, "images", "flux-system:shop:tag"
                        ),
                        source(
                            f"{w}/dev/kustomization.yaml", 13, 12, "images", "flux-system:shop:tag"
                        ),
                        source(f"{w}/dev/kustomization.yaml", 19, 12, "images"),
                    ),
                ),
            ],
        ),
        stage(
            "web",
            "staging",
            1,
            [
                nginx(
                    "web-staging", "1.22.0", source(f"{w}/staging/nginx-tag.yaml", 10, 17, "patch")
                ),
                shop(
                    "web-staging",
                    ("1.4.0", "1.4.0", "v1.27.0"),
                    (
                        source(f"{w}/staging/kustomization.yaml", 13, 12, "images"),
                        source(f"{w}/staging/kustomization.yaml", 11, 12, "images"),
                        base_envoy,
                    ),
                ),
            ],
        ),
        stage(
            "web",
            "prod",
            2,
            [
                nginx("web-prod", "1.21.6", source(f"{w}/prod/nginx-tag.yaml", 10, 17, "patch")),
                shop(
                    "web-prod",
                    ("1.3.0", "1.3.0", "v1.27.0"),
                    (
                        source(f"{w}/prod/kustomization.yaml", 14, 12, "images"),
                        source(f"{w}/prod/kustomization.yaml", 12, 12, "images"),
                        base_envoy,
                    ),
                ),
            ],
        ),
    ]
    return {
        "pipelines": [
            {
                "name": "platform",
                "declared_in": f"{p}/dev/sync.yaml",
                "stages": platform,
                "problems": [],
                "error": None,
            },
            {
                "name": "web",
                "declared_in": f"{w}/dev/sync.yaml",
                "stages": web,
                "problems": [],
                "error": None,
            },
        ]
    }


EXPECTED = _example_expected()


def only(*names: str) -> dict[str, Any]:
    """EXPECTED restricted to the named pipelines, in that order."""
    by_name = {p["name"]: p for p in EXPECTED["pipelines"]}
    return {"pipelines": [by_name[n] for n in names]}


# -- the library -------------------------------------------------------------------------


def test_library_status_of_the_example_repo(example: Path) -> None:
    """GitOpsRepo.open(...).status() reads every version and where it is set."""
    status = GitOpsRepo.open(example).status()
    assert isinstance(status, RepoStatus)
    expected = (True, EXPECTED)
    assert expected == (status.ok, status_dict(status))


def test_library_status_of_named_pipelines(example: Path) -> None:
    """status(["web"]) reads only that pipeline."""
    expected = only("web")
    assert expected == status_dict(GitOpsRepo.open(example).status(["web"]))


def test_library_status_of_the_checkout_itself() -> None:
    """The checkout's own example repo reads the same as a private copy of it."""
    status = GitOpsRepo.open(PROJECT_ROOT).status(["platform", "web"])
    expected = (True, EXPECTED)
    assert expected == (status.ok, status_dict(status))


# -- --output json / yaml -----------------------------------------------------------------


def test_json_output_is_exact(example: Path) -> None:
    """``status --output json`` prints exactly the documented JSON, exit 0, nothing on stderr."""
    result = invoke("status", "--repo", str(example), "--output", "json")
    expected = (0, "", EXPECTED)
    assert expected == (result.exit_code, result.stderr, json.loads(result.stdout))


def test_yaml_output_is_the_same_data(example: Path) -> None:
    """``-o yaml`` carries the same document as JSON."""
    result = invoke("status", "--repo", str(example), "-o", "yaml")
    expected = (0, "", EXPECTED)
    assert expected == (result.exit_code, result.stderr, yaml.safe_load(result.stdout))


@pytest.mark.parametrize(
    ("names", "shown"),
    [(["web"], ["web"]), (["web", "platform"], ["web", "platform"]), (["web", "web"], ["web"])],
)
def test_named_pipelines_in_the_order_given(
    example: Path, names: list[str], shown: list[str]
) -> None:
    """Positional PIPELINE arguments choose pipelines, in order, each once."""
    result = invoke("status", *names, "--repo", str(example), "-o", "json")
    expected = (0, "", only(*shown))
    assert expected == (result.exit_code, result.stderr, json.loads(result.stdout))


def test_unknown_pipeline_is_one_line_and_exit_1(example: Path) -> None:
    """A misspelt pipeline name fails with a suggestion on one stderr line."""
    result = invoke("status", "wbe", "--repo", str(example), "-o", "json")
    expected = (1, "", "error: unknown pipeline 'wbe'; did you mean web?\n")
    assert expected == (result.exit_code, result.stdout, result.stderr)


def test_repo_defaults_to_the_git_top_level(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --repo, the git top-level of the current directory is read."""
    git_init(example)
    monkeypatch.chdir(example / "pipelines" / "web" / "dev")
    result = invoke("status", "-o", "json")
    expected = (0, "", EXPECTED)
    assert expected == (result.exit_code, result.stderr, json.loads(result.stdout))


def test_repo_defaults_to_the_current_directory_outside_git(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside any git repository, the current directory is not scanned: --repo is asked
    for (issue 10 §7)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(example.parent))
    monkeypatch.chdir(example)
    result = invoke("status", "-o", "json")
    expected = (1, "", "error: not inside a git repository; pass --repo PATH\n")
    assert expected == (result.exit_code, result.stdout, result.stderr)


def test_repo_that_is_not_a_directory(tmp_path: Path) -> None:
    """--repo naming a missing directory is one line and exit 1."""
    missing = tmp_path / "nope"
    result = invoke("status", "--repo", str(missing))
    expected = (1, "", f"error: {missing}: not a directory\n")
    assert expected == (result.exit_code, result.stdout, result.stderr)


# -- --render -----------------------------------------------------------------------------


def _by_app(data: dict[str, Any]) -> dict[tuple[str, str], list[Any]]:
    """``{(pipeline, stage): apps sorted by kind and name}`` of a JSON document."""
    return {
        (p["name"], s["name"]): sorted(s["apps"], key=lambda a: (a["kind"], a["name"]))
        for p in data["pipelines"]
        for s in p["stages"]
    }


def test_render_agrees_with_the_native_read(example: Path, kubectl: str) -> None:
    """``--render`` marks stages rendered and finds the same apps, versions and sources."""
    result = invoke("status", "--repo", str(example), "-o", "json", "--render")
    data = json.loads(result.stdout)
    expected = (0, "", [True] * 6, _by_app(EXPECTED))
    rendered = [s["rendered"] for p in data["pipelines"] for s in p["stages"]]
    assert expected == (result.exit_code, result.stderr, rendered, _by_app(data))


def test_render_without_a_tool_is_a_stage_error(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--render`` with neither kustomize nor kubectl on PATH reports it once, exit 1."""
    monkeypatch.setenv("PATH", str(example))  # nothing executable there
    result = invoke("status", "web", "--repo", str(example), "-o", "json", "--render")
    message = "cannot render: neither kustomize nor kubectl is on PATH"
    line = f"error: {message} (stages web/dev, web/staging, web/prod)\n"
    errors = [s["error"] for s in json.loads(result.stdout)["pipelines"][0]["stages"]]
    expected = (1, line, [message] * 3)
    assert expected == (result.exit_code, result.stderr, errors)


# -- --output tree / table ------------------------------------------------------------------

TREE = """\
platform:
\tflux-system/platform-dev
\t\tHelmRelease/platform-dev/podinfo: 6.1.6
\t\tCronJob/platform-dev/report: 2024.06.3
\t\tDeployment/platform-dev/nginx: 1.23.1
\tflux-system/platform-staging
\t\tHelmRelease/platform-staging/podinfo: 6.0.0
\t\tCronJob/platform-staging/report: 2024.06.1
\t\tDeployment/platform-staging/nginx: 1.22.0
\tflux-system/platform-prod
\t\tHelmRelease/platform-prod/podinfo: 5.2.1
\t\tCronJob/platform-prod/report: 2024.05.1
\t\tDeployment/platform-prod/nginx: 1.21.6
web:
\tflux-system/web-dev
\t\tDeployment/web-dev/nginx: 1.23.1
\t\tDeployment/web-dev/shop: 1.4.2
\tflux-system/web-staging
\t\tDeployment/web-staging/nginx: 1.22.0
\t\tDeployment/web-staging/shop: 1.4.0
\tflux-system/web-prod
\t\tDeployment/web-prod/nginx: 1.21.6
\t\tDeployment/web-prod/shop: 1.3.0
"""


def test_tree_output(example: Path) -> None:
    """``-o tree``: pipeline, ``namespace/name`` of each Flux Kustomization, ``Kind/ns/name``."""
    result = invoke("status", "--repo", str(example), "-o", "tree")
    expected = (0, "", TREE)
    assert expected == (result.exit_code, result.stderr, result.stdout)


def _table_rows(text: str) -> list[list[str]]:
    """The cells of every body and header row of the Rich tables in ``text``."""
    return [
        [cell.strip() for cell in line.strip("│┃").split("│" if "│" in line else "┃")]
        for line in text.splitlines()
        if line.startswith(("│", "┃"))
    ]


def test_table_output_is_plain_when_not_a_terminal(example: Path) -> None:
    """The default table has no colour codes, one table per pipeline, and marks changes."""
    result = invoke("status", "--repo", str(example))
    expected_run = (0, "")
    assert expected_run == (result.exit_code, result.stderr)
    assert "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    titles = ["pipeline platform", "pipeline web"]
    assert titles == [line for line in lines if line.startswith("pipeline ")]
    expected = [
        ["app", "dev (0)", "staging (1)", "prod (2)"],
        ["HelmRelease/podinfo", "6.1.6", "◆ 6.0.0", "◆ 5.2.1"],
        ["CronJob/report", "2024.06.3 ⟳", "◆ 2024.06.1", "◆ 2024.05.1"],
        ["Deployment/nginx", "1.23.1 ⟳", "◆ 1.22.0", "◆ 1.21.6"],
        ["app", "dev (0)", "staging (1)", "prod (2)"],
        ["Deployment/nginx", "1.23.1 ⟳", "◆ 1.22.0", "◆ 1.21.6"],
        ["Deployment/shop", "1.4.2 ⟳", "◆ 1.4.0", "◆ 1.3.0"],
    ]
    assert expected == _table_rows(result.stdout)
    no_lines: list[str] = []
    assert no_lines == [line for line in lines if line != line.rstrip()], "trailing blanks"


def test_wide_table_is_not_truncated_in_a_pipe(tmp_path: Path) -> None:
    """Piped output is never squeezed to 80 columns: long names and versions stay whole."""
    stages = {f"stage-number-{i}": (i, f"1.{i}.0-rc.1234567890") for i in range(6)}
    simple_pipeline(tmp_path, stages=stages, app="a-very-long-application-name")
    result = invoke("status", "--repo", str(tmp_path))
    assert "…" not in result.stdout
    row = ["Deployment/a-very-long-application-name", "1.0.0-rc.1234567890"] + [
        f"◆ 1.{i}.0-rc.1234567890" for i in range(1, 6)
    ]
    expected = (0, row)
    assert expected == (result.exit_code, _table_rows(result.stdout)[1])


def test_table_shows_a_broken_stage_as_error(example: Path) -> None:
    """A stage that cannot be read is an ``error`` cell; the others still show versions."""
    write(example, {"pipelines/web/staging/nginx-tag.yaml": "spec: [\n"})
    result = invoke("status", "web", "--repo", str(example))
    rows = [
        ["app", "dev (0)", "staging (1)", "prod (2)"],
        ["Deployment/nginx", "1.23.1 ⟳", "error", "1.21.6"],
        ["Deployment/shop", "1.4.2 ⟳", "error", "1.3.0"],
    ]
    line = (
        "error: pipelines/web/staging/nginx-tag.yaml:2: malformed YAML: "
        "did not find expected node content (stage web/staging)\n"
    )
    expected = (1, rows, line)
    assert expected == (result.exit_code, _table_rows(result.stdout), result.stderr)


# -- exit codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["status", "--output", "html"], ["status", "--bogus"], ["nope"]],
)
def test_usage_errors_exit_2(example: Path, args: list[str]) -> None:
    """Bad options, values and commands are usage errors: exit 2, no traceback."""
    result = invoke(*args, "--repo", str(example))
    expected = (2, "")
    assert expected == (result.exit_code, result.stdout)
    assert "Traceback" not in result.output


def test_a_bug_is_one_line_and_exit_3(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception is one stderr line (no traceback) and exit 3."""

    def broken(self: GitOpsRepo, *args: Any, **kwargs: Any) -> RepoStatus:
        raise RuntimeError("boom\n  on two lines")

    monkeypatch.setattr(GitOpsRepo, "status", broken)
    monkeypatch.setattr(GitOpsRepo, "read_stages", broken)  # the status cache reads through it
    result = invoke("status", "--repo", str(example))
    expected = (
        3,
        "",
        "error: unexpected RuntimeError: boom on two lines "
        "(PROMOTER_DEBUG=1 shows the traceback)\n",
    )
    assert expected == (result.exit_code, result.stdout, result.stderr)


def test_promoter_debug_shows_the_traceback(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PROMOTER_DEBUG=1 prints the traceback of a bug before the one-line summary."""

    def broken(self: GitOpsRepo, *args: Any, **kwargs: Any) -> RepoStatus:
        raise RuntimeError("boom")

    monkeypatch.setattr(GitOpsRepo, "status", broken)
    monkeypatch.setattr(GitOpsRepo, "read_stages", broken)  # the status cache reads through it
    result = invoke("status", "--repo", str(example), env={"PROMOTER_DEBUG": "1"})
    assert result.stderr.startswith("Traceback (most recent call last):")
    last = "error: unexpected RuntimeError: boom (PROMOTER_DEBUG=1 shows the traceback)"
    expected = (3, last)
    assert expected == (result.exit_code, result.stderr.splitlines()[-1])


def test_ctrl_c_exits_130(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while reading is ``error: interrupted`` and exit 130."""

    def interrupted(self: GitOpsRepo, *args: Any, **kwargs: Any) -> RepoStatus:
        raise KeyboardInterrupt

    monkeypatch.setattr(GitOpsRepo, "status", interrupted)
    monkeypatch.setattr(GitOpsRepo, "read_stages", interrupted)  # the status cache reads through it
    result = invoke("status", "--repo", str(example))
    expected = (130, "", "error: interrupted\n")
    assert expected == (result.exit_code, result.stdout, result.stderr)


# -- help and start-up cost -------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_pipelines_help(flag: str) -> None:
    """``pipelines --help`` lists the status command and exits 0."""
    result = invoke(flag)
    expected = (0, "")
    assert expected == (result.exit_code, result.stderr)
    assert "status" in result.stdout
    assert "Usage:" in result.stdout


def test_status_help() -> None:
    """``pipelines status --help`` documents its arguments and options and exits 0."""
    result = invoke("status", "--help")
    words = {"[PIPELINE...]", "--repo", "--output", "--render"}
    expected = (0, words)
    assert expected == (result.exit_code, {word for word in words if word in result.stdout})


HEAVY = ("promoter", "yaml", "ruamel", "rich", "git", "github", "cli.views")


def test_importing_the_cli_stays_light() -> None:
    """``import cli.main`` loads neither promoter nor YAML, Rich or git, so --help is fast."""
    code = (
        "import sys, json, cli.main; "
        f"heavy = {HEAVY!r}; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m in heavy or m.startswith(tuple(h + '.' for h in heavy)))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    nothing_heavy: list[str] = []
    assert nothing_heavy == json.loads(done.stdout)


def test_console_script_help_runs() -> None:
    """The installed ``pipelines`` script answers --help with exit 0."""
    script = Path(sys.executable).with_name("pipelines")
    if not script.exists():
        pytest.skip("the pipelines console script is not installed next to this Python")
    done = subprocess.run(
        [str(script), "status", "--help"], capture_output=True, text=True, check=False
    )
    expected = (0, "")
    assert expected == (done.returncode, done.stderr)
    assert "--output" in done.stdout


def test_unsupported_entries_are_listed_when_nothing_can_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote base with no kustomize/kubectl: native versions, ``unsupported``, a note."""
    simple_pipeline(tmp_path)
    remote = "https://github.com/acme/cfg//base?ref=v1"
    write(tmp_path, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", remote)})
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing executable there
    entry = f"demo/dev/kustomization.yaml:5: remote resource {remote}"
    data = json.loads(invoke("status", "--repo", str(tmp_path), "-o", "json").stdout)
    dev = data["pipelines"][0]["stages"][0]
    expected = ([entry], False, ["1.1.0"])
    assert expected == (dev["unsupported"], dev["rendered"], [a["version"] for a in dev["apps"]])
    table = invoke("status", "--repo", str(tmp_path))
    note = (
        f"note: stage dev uses what the native reader cannot follow ({entry}) "
        "and no kustomize/kubectl is on PATH"
    )
    expected_table = (0, "", True)
    assert expected_table == (table.exit_code, table.stderr, note in table.stdout.splitlines())


# -- structured problems in JSON ----------------------------------------------------------


def problem(file: str | None, line: int | None, message: str, code: str) -> Any:
    """A ``problems`` entry."""
    return {"file": file, "line": line, "column": None, "message": message, "code": code}


def test_unsupported_problems_locate_each_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``unsupported_problems`` gives file, line and what of each ``unsupported`` entry."""
    simple_pipeline(tmp_path)
    remote = "https://github.com/acme/cfg//base?ref=v1"
    write(tmp_path, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", remote)})
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing executable there
    data = json.loads(invoke("status", "--repo", str(tmp_path), "-o", "json").stdout)
    dev, prod = data["pipelines"][0]["stages"]
    expected = (
        [problem("demo/dev/kustomization.yaml", 5, f"remote resource {remote}", "unsupported")],
        [],
        [],
    )
    assert expected == (dev["unsupported_problems"], dev["problems"], prod["unsupported_problems"])


def test_stage_problems_beside_the_error_string(tmp_path: Path) -> None:
    """A stage that cannot be read has its ``error`` line and the same problem as a record;
    a readable stage has an empty ``problems`` list and a null ``error``."""
    simple_pipeline(tmp_path)
    write(tmp_path, {"demo/dev/sync.yaml": flux_sync("demo-dev", "./clusters/dev", "demo", 0)})
    result = invoke("status", "--repo", str(tmp_path), "-o", "json")
    dev, prod = json.loads(result.stdout)["pipelines"][0]["stages"]
    message = (
        "spec.path './clusters/dev' does not exist in this repository; "
        "if the stage lives elsewhere, declare it in promoter.yaml"
    )
    expected = (
        1,
        f"demo/dev/sync.yaml:11: {message}",
        [problem("demo/dev/sync.yaml", 11, message, "stage-path")],
        [],
        False,
    )
    assert expected == (
        result.exit_code,
        dev["error"],
        dev["problems"],
        prod["problems"],
        prod["error"] is not None,
    )


def test_pipeline_problems_keep_each_problem_apart(tmp_path: Path) -> None:
    """A pipeline with a bad label and two stages of one name lists both as records, while
    ``error`` keeps the ``; ``-joined line."""
    simple_pipeline(tmp_path)
    write(
        tmp_path,
        {
            "other/dev/sync.yaml": flux_sync("demo-dev", "./demo/dev", "demo", 2),
            "odd/sync.yaml": flux_sync("demo-odd", "./demo/dev", "demo", "first"),
        },
    )
    data = json.loads(invoke("status", "--repo", str(tmp_path), "-o", "json").stdout)
    (pipeline,) = data["pipelines"]
    label = "label pipelines.weave.works/stage 'first' is not an integer"
    twice = (
        "pipeline 'demo' has two stages named 'demo-dev' (demo/dev/sync.yaml, other/dev/sync.yaml)"
    )
    expected = (
        f"odd/sync.yaml:8: {label}; {twice}",
        [
            problem("odd/sync.yaml", 8, label, "label"),
            problem("other/dev/sync.yaml", None, twice, "duplicate-stage"),
        ],
    )
    assert expected == (pipeline["error"], pipeline["problems"])
