"""Shared fixtures: an isolated HOME/TMPDIR/git identity (``temp``), the ``kubectl`` binary that
tests use as the kustomize oracle, and a fake Kubernetes API (``kube``, ``kubeconfig``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from tests.builders.git import isolate
from tests.fakes.kube import kube_fixture, kubeconfig_fixture

__all__ = ["kube_fixture", "kubeconfig_fixture"]  # fixtures ``kube`` and ``kubeconfig``


def require_kubectl() -> str:
    """Path of ``kubectl``; without it the test fails in CI and is skipped elsewhere."""
    found = shutil.which("kubectl")
    if found is None:
        message = "kubectl is not on PATH: the kustomize oracle tests need it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def kubectl() -> str:
    """Path of ``kubectl`` (fails in CI, skips elsewhere, when it is missing)."""
    return require_kubectl()


@pytest.fixture
def temp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """HOME, TMPDIR and the git identity inside tmp_path; the temp dir promoter uses."""
    return isolate(monkeypatch, tmp_path)


# Property tests explore at random on a developer's machine; in CI they replay a fixed set
# of examples, so a run's verdict does not depend on the draw (settings given on a test
# still win over the profile).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
