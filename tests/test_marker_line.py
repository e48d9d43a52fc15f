"""``GitOpsRepo.marker_line`` (issue 15): the line a version was written on, read only in
files that hold a Flux image policy marker at all; the apps' sources say the same as when
every line is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.apps import apps_of
from promoter.repo import GitOpsRepo
from tests.builders.repos import example_repo

pytestmark = pytest.mark.usefixtures("temp")


def test_the_line_only_where_a_marker_may_be(tmp_path: Path) -> None:
    """A file with a marker gives its lines; one without gives ``""`` for every line (no
    line of it can hold one); a missing file gives ``""``."""
    root = tmp_path / "r"
    root.mkdir()
    (root / "marked.yaml").write_text(
        'a: 1\nimage: x:1 # {"$imagepolicy": "flux-system:x"}\n', encoding="utf-8"
    )
    (root / "plain.yaml").write_text("a: 1\nimage: x:1\n", encoding="utf-8")
    repo = GitOpsRepo(root, (), {})
    assert repo.marker_line("marked.yaml", 2) == repo.read_line("marked.yaml", 2)
    assert "$imagepolicy" in repo.marker_line("marked.yaml", 2)
    assert repo.marker_line("marked.yaml", 1) == "a: 1"
    assert (repo.read_line("plain.yaml", 2), repo.marker_line("plain.yaml", 2)) == (
        "image: x:1",
        "",
    )
    assert repo.marker_line("missing.yaml", 1) == ""


def test_the_example_apps_are_sourced_alike(tmp_path: Path) -> None:
    """Every app of the example repository (Flux automation markers included) has the same
    sources read through ``marker_line`` as through ``read_line``."""
    repo = GitOpsRepo.open(example_repo(tmp_path / "repo"))
    automated = 0
    for pipeline in repo.pipelines:
        for stage in pipeline.stages:
            resources = repo.build(stage).resources
            fast = apps_of(resources, repo.marker_line)
            assert fast == apps_of(resources, repo.read_line)
            automated += sum(1 for app in fast if app.source is not None and app.source.automated)
    assert automated > 0
