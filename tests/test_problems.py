"""``Problem`` records: built by errors, discovery and builds; read by the CLI as data."""

from __future__ import annotations

from pathlib import Path

from cli.views import problem_lines
from promoter import GitOpsRepo, KustomizeError, ManifestError, RenderError
from promoter.model import Pipeline, PipelineStatus, RepoStatus, Stage, StageStatus
from promoter.problems import DUPLICATE_STAGE, Problem
from tests.builders.repos import kustomization, simple_pipeline, write


def test_manifest_error_problem_has_its_place_and_the_same_text() -> None:
    """A ``ManifestError``'s problem carries file, line and message; its text is ``str(exc)``."""
    exc = KustomizeError("app/kustomization.yaml", "resource cycle: a -> a", 4)
    expected = (
        Problem("resource cycle: a -> a", "app/kustomization.yaml", 4, code="kustomize"),
        str(exc),
    )
    assert expected == (exc.problem, str(exc.problem))


def test_manifest_error_without_a_line() -> None:
    """Without a line the problem is placed at the file alone, as ``str(exc)`` is."""
    exc = ManifestError("promoter.yaml", "must be a single YAML mapping")
    expected = ("promoter.yaml: must be a single YAML mapping", "manifest")
    assert expected == (str(exc.problem), exc.problem.code)


def test_error_without_a_place_is_a_bare_problem() -> None:
    """Any other error is a problem with its one line as message and no place."""
    assert Problem("kustomize failed") == RenderError("kustomize failed").problem


def test_duplicate_stage_text_is_its_message() -> None:
    """A duplicate stage name is placed at a file, but its line is the message alone."""
    twice = Problem("pipeline 'p' has two stages named 's' (a, b)", "b", code=DUPLICATE_STAGE)
    expected = ("pipeline 'p' has two stages named 's' (a, b)", "b")
    assert expected == (twice.text, twice.location)


def test_build_unsupported_entries_are_problems(tmp_path: Path) -> None:
    """What the native reader cannot follow is a located ``unsupported`` problem."""
    simple_pipeline(tmp_path)
    remote = "https://github.com/acme/cfg//base?ref=v1"
    write(tmp_path, {"demo/dev/kustomization.yaml": kustomization("deployment.yaml", remote)})
    repo = GitOpsRepo.open(tmp_path)
    build = repo.build(repo.stage("demo", "dev"))
    expected = (
        Problem(f"remote resource {remote}", "demo/dev/kustomization.yaml", 5, code="unsupported"),
    )
    assert expected == build.unsupported


def test_problem_lines_group_stages_by_problem_record() -> None:
    """One line per pipeline (named unless a duplicate-stage problem names it) and one line
    per distinct stage problem, naming every stage it breaks."""
    broken = Problem("file 'x.yaml' does not exist", "base/kustomization.yaml", 3, code="manifest")
    stages = tuple(
        Stage("web", name, order, f"web/{name}", f"web/{name}/sync.yaml")
        for order, name in enumerate(("dev", "prod"))
    )
    label = Problem("label pipelines.weave.works/stage is missing", "l.yaml", 7, code="label")
    twice = Problem("pipeline 'api' has two stages named 'dev' (a, b)", "b", code=DUPLICATE_STAGE)
    status = RepoStatus(
        (
            PipelineStatus(
                Pipeline("web", stages, "web/dev/sync.yaml", (label,)),
                tuple(StageStatus(s, problem=broken) for s in stages),
            ),
            PipelineStatus(Pipeline("api", (), "a", (twice,)), ()),
        )
    )
    expected = [
        "l.yaml:7: label pipelines.weave.works/stage is missing (pipeline web)",
        "pipeline 'api' has two stages named 'dev' (a, b)",
        "base/kustomization.yaml:3: file 'x.yaml' does not exist (stages web/dev, web/prod)",
    ]
    assert expected == problem_lines(status)
