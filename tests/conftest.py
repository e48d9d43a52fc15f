"""Shared fixtures: the ``kubectl`` binary that tests use as the kustomize oracle."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings


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


# Property tests explore at random on a developer's machine; in CI they replay a fixed set
# of examples, so a run's verdict does not depend on the draw (settings given on a test
# still win over the profile).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
