"""Tests of promoter.yaml reading (promoter.config): the records discovery and the gates
consume, settings-only entries, and the one file walker they share with ``check``."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.config import (
    Config,
    GateConfig,
    PipelineConfig,
    Setting,
    StageConfig,
    read_config,
    stage_directory,
)
from promoter.errors import ManifestError
from promoter.gates import gates_of
from promoter.tree import DiskSource, yaml_files


def write(root: Path, files: dict[str, str]) -> DiskSource:
    """Write ``files`` under ``root`` and return it as a file source."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return DiskSource(root)


def test_declared_and_settings_only_pipelines_are_records(tmp_path: Path) -> None:
    """A declared pipeline keeps its stages' paths, orders and lines; an entry without stage
    paths only adds settings to a labelled pipeline."""
    source = write(
        tmp_path,
        {
            "promoter.yaml": (
                "pipelines:\n"
                "  - name: app\n"
                "    stages:\n"
                "      - path: envs/dev\n"
                "      - {path: ./envs/prod/, soak: 2h}\n"
                "  - name: web\n"
                "    soak: 24h\n"
            )
        },
    )
    expected = Config(
        (
            PipelineConfig(
                "app",
                2,
                (
                    StageConfig("dev", 0, 4, Setting("envs/dev", "envs/dev", 4), 0),
                    StageConfig(
                        "prod",
                        1,
                        5,
                        Setting("./envs/prod/", "./envs/prod/", 5),
                        1,
                        GateConfig(soak=Setting("2h", "2h", 5)),
                    ),
                ),
            ),
            PipelineConfig("web", 6, (), False, GateConfig(soak=Setting("24h", "24h", 7))),
        )
    )
    assert expected == read_config(source)
    expected_names = ("app",)
    assert expected_names == tuple(p.name for p in read_config(source).declared)


def test_unknown_key_of_a_settings_only_entry_waits_for_its_area(tmp_path: Path) -> None:
    """A typo in an entry that only sets gates does not stop reading promoter.yaml (status
    works); reading the gates raises it at its line."""
    source = write(
        tmp_path, {"promoter.yaml": "pipelines:\n  - name: web\n    soak: 1h\n    sok: 2h\n"}
    )
    config = read_config(source)
    with pytest.raises(ManifestError) as caught:
        gates_of(config)
    expected = (
        "promoter.yaml:4: pipeline 'web': unknown key 'sok' (known: apps, context, flux, "
        "freeze, healthy, name, pin, soak, stages, tags)"
    )
    assert expected == str(caught.value)


def test_no_promoter_yaml_is_an_empty_config(tmp_path: Path) -> None:
    """Without promoter.yaml (or with only comments) there is nothing declared."""
    assert Config() == read_config(DiskSource(tmp_path))
    assert Config() == read_config(write(tmp_path, {"promoter.yaml": "# nothing yet\n"}))


@pytest.mark.parametrize(
    ("text", "directory"),
    [("envs/prod", "envs/prod"), ("./envs/prod/", "envs/prod"), ("/", ""), (".", ""), (" ", "")],
)
def test_stage_directory(text: str, directory: str) -> None:
    """A stage path is read relative to the repository root, normalised, root as ``""``."""
    assert directory == stage_directory(text)


def test_one_walk_skips_hidden_and_vendored_directories(tmp_path: Path) -> None:
    """The YAML files every reader walks leave out hidden, tool and vendored directories."""
    write(
        tmp_path,
        {
            "a.yaml": "",
            "b/c.yml": "",
            "b/d.txt": "",
            ".hidden/e.yaml": "",
            "node_modules/f.yaml": "",
            "venv/g.yaml": "",
            "b/__pycache__/h.yaml": "",
        },
    )
    expected = ["a.yaml", "b/c.yml"]
    assert expected == yaml_files(DiskSource(tmp_path))
