"""Shared fixtures: the ``kubectl`` binary that tests use as the kustomize oracle."""

from __future__ import annotations

import os
import shutil

import pytest


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
