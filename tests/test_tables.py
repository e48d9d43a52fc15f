"""Tables that stay readable (issue 14.1): ``status`` and ``history`` at 60, 80 and 120
columns for the example repo and a generated repo of long versions (snapshots under
``tests/snapshots/``, see ``tests/builders/snapshots.py`` to update them), ``-o wide``, the
legend of used symbols, declaration order, ``diff``'s one direction and plans grouped by app."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from typer.testing import CliRunner, Result

from cli.layout import Grid, digits_for, fit, render_grid, shorten, wrap
from cli.main import app
from cli.views import status_table
from promoter import status
from tests.builders.git import git, isolate
from tests.builders.history import commit, replaced, seed
from tests.builders.long_versions import (
    APPS,
    STAGES,
    current,
    git_history,
    long_versions_repo,
    tag,
)
from tests.builders.repos import (
    PROJECT_ROOT,
    example_repo,
    flux_sync,
    git_init,
    kustomization,
    simple_pipeline,
    write,
)
from tests.builders.snapshots import snapshot
from tests.cluster_repo import make_cluster_repo, run_stages
from tests.fakes.kube import FakeKube

WIDTHS = (60, 80, 120)

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

EXAMPLE_APPS = (
    "HelmRelease/podinfo",
    "CronJob/report",
    "Deployment/nginx",
    "Deployment/shop",
)


def invoke(*args: str, columns: int | None = None) -> Result:
    """``pipelines ARGS`` in-process, stdout a plain pipe ``columns`` wide (no limit: None)."""
    env = {**PLAIN_ENV, "COLUMNS": str(columns) if columns else None}
    return CliRunner().invoke(app, list(args), env=env)


def widest(text: str) -> int:
    """Terminal cells of the longest line."""
    return max(cell_len(line) for line in text.splitlines())


def columns_text(text: str) -> list[str]:
    """Each table column's text, its cell lines joined without blanks (a wrapped app name or
    version reads whole again), one entry per column of every table in ``text``."""
    found: dict[tuple[int, int], str] = {}
    table = 0
    for line in text.splitlines():
        if line.startswith(("┏", "┌")):
            table += 1
        if not line.startswith(("│", "┃")):
            continue
        for index, cell in enumerate(re.split("[│┃]", line)[1:-1]):
            found[(table, index)] = found.get((table, index), "") + cell.replace(" ", "")
    return list(found.values())


def shown(text: str, value: str) -> bool:
    """Whether ``value`` (blanks ignored) reads whole in one column of ``text``."""
    return any(value.replace(" ", "") in column for column in columns_text(text))


@pytest.fixture(scope="module")
def long_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated repo of long versions with its dated history (read only)."""
    root = long_versions_repo(tmp_path_factory.mktemp("long") / "repo")
    git_history(root)
    return root


@pytest.fixture(scope="module")
def example_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repo seeded at a fixed date, then nginx 1.23.2 in web dev (read only)."""
    ops = seed(tmp_path_factory.mktemp("story"))
    files = replaced(ops, "pipelines/web/dev/nginx-tag.yaml", "1.23.1", "1.23.2")
    commit(ops, files, "nginx 1.23.2 in dev", "2026-11-03T10:00:00+00:00")
    return ops.work


# -- abbreviation -----------------------------------------------------------------------------


def test_shorten_digests_and_shas() -> None:
    """Digests keep algo + 12 hex + …, 40-hex SHAs keep 12 (inside a tag too), others stay."""
    sha = "64308f39" + "a" * 32
    digest = "0a1b2c3d4e5f" + "9" * 52
    assert shorten(f"sha256:{digest}") == "sha256:0a1b2c3d4e5f…"
    assert shorten(f"1.2.3@sha256:{digest}") == "1.2.3@sha256:0a1b2c3d4e5f…"
    assert shorten(f"main-{sha}-20261201") == "main-64308f39aaaa-20261201"
    assert shorten(sha) == sha[:12]
    assert shorten(digest) == "0a1b2c3d4e5f…"
    assert shorten("1.23.1") == "1.23.1"
    assert shorten("deadbeef") == "deadbeef"
    assert shorten("2026.12.01-build.4711") == "2026.12.01-build.4711"


def test_abbreviation_keeps_distinct_values_distinct() -> None:
    """Two SHAs alike in their first 12 hex get more digits, so they still read differently."""
    a, b = "0123456789ab" + "c" * 28, "0123456789ab" + "d" * 28
    digits = digits_for([a, b, "1.0.0"])
    assert digits == 16
    assert shorten(a, digits) != shorten(b, digits)
    assert digits_for([a, "1.0.0"]) == 12


def test_wrap_breaks_after_separators_and_drops_nothing() -> None:
    """A long version wraps after ``-``/``.``, every character kept, no line too wide."""
    text = Text("◆ 2026.12.01-build.4711-feature-quarterly-reports", style="bold")
    lines = wrap(text, 16).plain.split("\n")
    assert all(cell_len(line) <= 16 for line in lines)
    assert "".join(lines).replace(" ", "") == text.plain.replace(" ", "")
    assert lines[0] == "◆ 2026.12.01-"
    assert wrap(Text("x" * 30), 10).plain == "\n".join(["x" * 10] * 3)


def test_fit_squeezes_the_widest_columns_first() -> None:
    """Over the width, the widest columns shrink to a common width; fixed ones never."""
    assert fit([10, 10], 100) == [10, 10]
    widths = fit([35, 16, 49], 80)
    assert sum(widths) + 10 == 80
    assert widths[1] == 16 and widths[0] >= 26 and widths[2] >= 26
    assert fit([16, 40, 40], 60, fixed=[0])[0] == 16


# -- status: the example repo -------------------------------------------------------------------


@pytest.mark.parametrize("columns", WIDTHS)
def test_example_status_snapshot(columns: int) -> None:
    """The example's status fits every width, names every app and every version."""
    result = invoke("status", "--repo", str(PROJECT_ROOT), columns=columns)
    assert result.exit_code == 0, result.output
    assert widest(result.stdout) <= columns
    for name in EXAMPLE_APPS:
        assert shown(result.stdout, name), name
    for version in ("6.1.6", "2024.06.3", "2024.05.1", "1.23.1", "1.21.6", "1.4.2", "1.3.0"):
        assert shown(result.stdout, version), version
    assert result.stdout == snapshot(f"status-example-{columns}", result.stdout)


def test_example_status_legend_lists_used_symbols_only() -> None:
    """The example shows ◆ and ⟳ but no absent app: the legend omits ``— not deployed``."""
    result = invoke("status", "--repo", str(PROJECT_ROOT))
    legend = result.stdout.splitlines()[-1]
    assert "◆ differs" in legend and "⟳ kept current" in legend
    assert "not deployed" not in result.stdout


def test_legend_absent_and_nothing_to_say(tmp_path: Path) -> None:
    """An app missing in a stage brings ``— not deployed``; equal versions print no legend."""
    same = git_init(simple_pipeline(tmp_path / "same", stages={"a": (0, "1"), "b": (1, "1")}))
    result = invoke("status", "--repo", str(same))
    assert result.exit_code == 0, result.output
    assert "differs" not in result.stdout and "not deployed" not in result.stdout
    root = simple_pipeline(tmp_path / "absent", stages={"a": (0, "1"), "b": (1, "1")})
    write(root, {"demo/b/kustomization.yaml": kustomization()})
    result = invoke("status", "--repo", str(git_init(root)))
    assert "— not deployed" in result.stdout
    assert "◆" not in result.stdout


# -- status: long versions ----------------------------------------------------------------------


@pytest.mark.parametrize("columns", WIDTHS)
def test_long_status_snapshot(long_repo: Path, columns: int) -> None:
    """Seven stages of long versions: stages as rows, nothing cut, nothing too wide."""
    result = invoke("status", "--repo", str(long_repo), columns=columns)
    assert result.exit_code == 0, result.output
    assert widest(result.stdout) <= columns
    for name in APPS:
        assert shown(result.stdout, f"Deployment/{name}"), name
    for stage in STAGES:
        for name in APPS:
            assert shown(result.stdout, shorten(current(name, stage))), (stage, name)
    assert "…" in result.stdout  # digests abbreviated deliberately
    assert not re.search("[0-9a-f]{40}", result.stdout)
    assert result.stdout == snapshot(f"status-long-{columns}", result.stdout)


def test_long_status_wide_prints_everything(long_repo: Path) -> None:
    """``-o wide`` prints stages side by side with every SHA and digest in full."""
    result = invoke("status", "--repo", str(long_repo), "-o", "wide", columns=80)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert [stage for stage in STAGES if f" {stage} (" in header] == list(STAGES)
    for stage in STAGES:
        for name in APPS:
            assert current(name, stage) in result.stdout
    assert "…" not in result.stdout
    assert result.stdout == snapshot("status-long-wide", result.stdout)


def test_status_table_stacks_extra_rows(long_repo: Path) -> None:
    """``status_table`` (the builder of the --cluster/--registry views) stacks a narrow
    grid with its extra ``cluster`` row, every line within the width."""
    pipeline = status(long_repo).pipelines[0]
    states = [Text("in-sync") for _ in pipeline.stages]
    table = status_table(pipeline, width=60, extra=[(Text("cluster"), states)])
    out = Console(width=60, record=True, file=io.StringIO())
    out.print(table)
    text = out.export_text()
    assert widest(text) <= 60
    assert shown(text, "cluster") and text.count("in-sync") == len(STAGES)
    assert shown(text, "Deployment/payments-gateway-service")


def test_render_grid_side_by_side_when_it_fits() -> None:
    """A grid that fits keeps stages as columns; one that does not puts them in rows."""
    grid = Grid("app", ["dev (0)", "prod (1)"], [(Text("Deployment/web"), [Text("1"), Text("2")])])
    out = Console(width=40, record=True, file=io.StringIO())
    out.print(render_grid(grid, 40))
    assert "┃ app            ┃ dev (0) ┃ prod (1) ┃" in out.export_text()
    out = Console(width=34, record=True, file=io.StringIO())
    out.print(render_grid(grid, 34))
    text = out.export_text()
    assert re.search(r"┃ app +┃ stage +┃ version ┃", text)
    assert widest(text) <= 34
    assert shown(text, "Deployment/web")


# -- history ---------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", WIDTHS)
def test_example_history_snapshot(example_history: Path, columns: int) -> None:
    """The example's history fits every width and names every app (blocks when narrow)."""
    result = invoke("history", "--repo", str(example_history), columns=columns)
    assert result.exit_code == 0, result.output
    assert widest(result.stdout) <= columns
    flat = result.stdout.replace(" ", "").replace("\n", "")
    for name in EXAMPLE_APPS:
        assert name in flat
    assert "1.23.1->1.23.2" in flat
    # The commits hash the example's files: named by their place, the snapshot outlives edits.
    out = result.stdout
    for number, sha in enumerate(git("rev-list", "HEAD", cwd=example_history).split()):
        assert sha[:12] in out
        out = out.replace(sha[:12], f"commit{number:06d}")
    assert out == snapshot(f"history-example-{columns}", out)


@pytest.mark.parametrize("columns", WIDTHS)
def test_long_history_snapshot(long_repo: Path, columns: int) -> None:
    """Long versions in the history: abbreviated, wrapped, never cut, nothing too wide."""
    result = invoke("history", "--repo", str(long_repo), columns=columns)
    assert result.exit_code == 0, result.output
    assert widest(result.stdout) <= columns
    flat = result.stdout.replace(" ", "").replace("\n", "")
    for name in APPS:
        assert f"Deployment/{name}" in flat
    old, new = shorten(tag("api", "qa")), shorten(current("api", "qa"))
    assert f"{old}->{new}" in flat
    assert not re.search("[0-9a-f]{40}", result.stdout)
    assert result.stdout == snapshot(f"history-long-{columns}", result.stdout)


def test_long_history_wide(long_repo: Path) -> None:
    """``history -o wide``: one table, full versions and full commit SHAs."""
    result = invoke("history", "--repo", str(long_repo), "-o", "wide", columns=60)
    assert result.exit_code == 0, result.output
    assert current("payments-gateway-service", "qa") in result.stdout
    assert re.search(r"│ [0-9a-f]{40} │", result.stdout)
    assert result.stdout.count("┏") == 1


# -- order -----------------------------------------------------------------------------------


def test_pipelines_in_declaration_order(tmp_path: Path) -> None:
    """promoter.yaml's pipelines first (in its order), then labelled ones in the order the
    walk finds them: text and JSON alike, never alphabetical."""
    root = tmp_path / "repo"
    for pipeline, folder in (("zulu", "a"), ("alpha", "b"), ("mike", "c")):
        for order, stage in enumerate(("dev", "prod")):
            base = f"{folder}/{pipeline}/{stage}"
            write(
                root,
                {
                    f"{base}/kustomization.yaml": kustomization(),
                    f"{base}/sync.yaml": flux_sync(f"{pipeline}-{stage}", base, pipeline, order),
                },
            )
    write(root, {"promoter.yaml": "pipelines:\n  - name: mike\n    soak: 1h\n"})
    git_init(root)
    result = invoke("status", "--repo", str(root))
    names = re.findall(r"^pipeline (\w+)$", result.stdout, flags=re.MULTILINE)
    assert names == ["mike", "zulu", "alpha"]
    data = json.loads(invoke("status", "--repo", str(root), "-o", "json").stdout)
    assert [p["name"] for p in data["pipelines"]] == ["mike", "zulu", "alpha"]


# -- diff ------------------------------------------------------------------------------------


def test_diff_states_one_direction(tmp_path: Path) -> None:
    """The heading names old -> new once; each text line and the JSON from/to agree."""
    if shutil.which("kubectl") is None and shutil.which("kustomize") is None:
        pytest.skip("pipelines diff renders with kustomize or kubectl")
    args = ("diff", "dev", "staging", "-p", "web", "--repo", str(PROJECT_ROOT))
    text = invoke(*args).stdout
    heading = text.splitlines()[0]
    assert heading == (
        "pipeline web: dev -> staging (every change reads old -> new: staging's value -> dev's)"
    )
    data = json.loads(invoke(*args, "-o", "json").stdout)
    assert (data["from"], data["to"]) == ("dev", "staging")
    for version in data["versions"]:
        key = f"{version['kind']}/{version['name']}"
        assert f"  {key}: {version['from_version']} -> {version['to_version']}" in text
        for image in version["images"]:
            label = f"{image['container']} (init)" if image["init"] else image["container"]
            assert f"    {label}: {image['from']} -> {image['to']}" in text
    nginx = next(v for v in data["versions"] if v["name"] == "nginx")
    assert (nginx["from_version"], nginx["to_version"]) == ("1.22.0", "1.23.1")  # old, new
    for item in data["normalised"]:
        assert f"{item['field']}: {item['from']} -> {item['to']}" in text


# -- plans -----------------------------------------------------------------------------------


def test_multi_app_plan_groups_containers_under_their_app(tmp_path: Path) -> None:
    """``promote --all``: each app's line is followed by its own containers' lines."""
    root = git_init(example_repo(tmp_path / "example"))
    result = invoke(
        "promote", "--all", "dev", "staging", "-p", "web", "--dry-run", "--repo", str(root)
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    nginx = lines.index("  Deployment/nginx: 1.22.0 -> 1.23.1")
    shop = lines.index("  Deployment/shop: 1.4.0 -> 1.4.2")
    assert lines[nginx + 1].startswith("    nginx: 1.22.0 -> 1.23.1")
    block = [line.split(":")[0].strip() for line in lines[shop + 1 : shop + 4]]
    assert sorted(block) == ["envoy", "migrate", "shop"]
    assert shop == nginx + 2


# -- status --cluster -------------------------------------------------------------------------


def test_cluster_view_stacks_when_narrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconfig: Path, kube: FakeKube
) -> None:
    """``status --cluster`` at 40 columns: stages as rows, the live version and the
    ``cluster`` state rows kept, legend of the used symbols, nothing too wide."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    repo = make_cluster_repo(tmp_path)
    run_stages(kube, repo.first, prod="0.9.0")
    result = invoke("status", "--repo", str(repo.work), "--cluster", columns=40)
    assert result.exit_code == 0, result.output
    assert widest(result.stdout) <= 40
    assert re.search(r"┃ app +┃ stage +┃ version +┃", result.stdout)
    assert shown(result.stdout, "Deployment/web") and shown(result.stdout, "cluster")
    assert shown(result.stdout, "◆ 1.0.0 ≠ 0.9.0")
    assert "in-sync" in result.stdout and "drift" in result.stdout
    assert "≠ the cluster runs another version" in result.stdout.replace("\n", " ")
    assert "✗" not in result.stdout
