"""The README's library examples run as written: every ``python`` block, in order, in a fresh
interpreter, in a copy of the example repository (issue 14 §4)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders.git import PROJECT_ROOT, make_gitops

pytestmark = pytest.mark.usefixtures("temp")

README = PROJECT_ROOT / "README.md"


def python_blocks(text: str) -> list[str]:
    """The code of every fenced ``python`` block of ``text``, in order."""
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_library_section_starts_from_the_documented_import() -> None:
    """The README has python blocks, and the first imports GitOpsRepo from promoter."""
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    expected = (True, "from promoter import GitOpsRepo")
    assert expected == (len(blocks) >= 3, blocks[0].splitlines()[0])


def test_readme_python_blocks_run_as_written(tmp_path: Path) -> None:
    """Status, a planned and written promotion, history and check print what the example
    repository holds, and the promotion lands in the working tree."""
    ops = make_gitops(tmp_path)
    code = "\n".join(python_blocks(README.read_text(encoding="utf-8")))
    done = subprocess.run(
        [sys.executable, "-I", "-c", code],
        cwd=ops.work,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    wanted = [
        "web prod Deployment/nginx 1.21.6 pipelines/web/prod/nginx-tag.yaml:10",
        "web staging Deployment/shop 1.4.0 pipelines/web/staging/kustomization.yaml:11",
        "Deployment/nginx: 1.21.6 -> 1.22.0",
        "+          image: nginx:1.22.0",
        "check passed",
    ]
    prod = (ops.work / "pipelines/web/prod/nginx-tag.yaml").read_text(encoding="utf-8")
    expected = (0, "", wanted, True, True)
    assert expected == (
        done.returncode,
        done.stderr,
        [line for line in wanted if line in lines],
        any(line.endswith("web/prod None -> 1.21.6") for line in lines),
        "image: nginx:1.22.0" in prod,
    )
